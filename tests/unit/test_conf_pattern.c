// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The screen that decides where a package's regular expression may be
 * matched, and the bounded matcher: patterns that crash glibc's regexec
 * in process (back-references recurse without limit) must come back as
 * an error, never take the caller down.
 */
#include "unit.h"
#include "conf/pattern.h"
#include "conf/readconf.h"

/* Exhausts any stack in glibc's regexec (sift_states_backward). */
#define STACK_BOMB "(|)(\\1\\1)*"

static void test_screen_safe(void **state)
{
	const char *safe[] = {
		"^6\\.1\\.",
		"^(5\\.(1[0-9]|[4-9])|6\\.)",
		"x86_64|aarch64",
		"^[[:digit:]]+\\.[0-9]{1,2}\\.",
		"[\\1]", /* a bracket: backslash and 1 are literals */
		"a{255}",
		"^CONFIG_FOO=[ym]",
		"{",
		"",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(safe); i++)
		assert_int_equal(pattern_screen(safe[i], NULL, 0),
				 PATTERN_SAFE);
}

static void test_screen_unsafe(void **state)
{
	char why[128];
	char *deep, *long_pat, *huge;

	(void)state;
	assert_int_equal(pattern_screen(STACK_BOMB, why, sizeof(why)),
			 PATTERN_CONFINED);
	assert_non_null(strstr(why, "back-reference"));
	assert_int_equal(pattern_screen("(a)\\1", NULL, 0), PATTERN_CONFINED);
	/* glibc builds a copy of the atom per count, and counts multiply. */
	assert_int_equal(pattern_screen("a{1000}", NULL, 0), PATTERN_CONFINED);
	assert_int_equal(pattern_screen("(a{20}){20}", NULL, 0),
			 PATTERN_CONFINED);
	assert_int_equal(pattern_screen("a{99999999999999999999}", NULL, 0),
			 PATTERN_CONFINED);
	deep = calloc(1, 64);
	assert_non_null(deep);
	memset(deep, '(', 9);
	memset(deep + 9, ')', 9);
	assert_int_equal(pattern_screen(deep, why, sizeof(why)),
			 PATTERN_CONFINED);
	long_pat = calloc(1, PATTERN_SAFE_LEN + 2);
	assert_non_null(long_pat);
	memset(long_pat, 'a', PATTERN_SAFE_LEN + 1);
	assert_int_equal(pattern_screen(long_pat, NULL, 0), PATTERN_CONFINED);
	huge = calloc(1, PATTERN_MAX_LEN + 2);
	assert_non_null(huge);
	memset(huge, 'a', PATTERN_MAX_LEN + 1);
	assert_int_equal(pattern_screen(huge, NULL, 0), PATTERN_REFUSED);
	assert_int_equal(pattern_match("a", huge, false, why, sizeof(why)),
			 -E2BIG);
	free(deep);
	free(long_pat);
	free(huge);
}

static void test_match_results(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(pattern_match("6.1.0-9-amd64", "^6\\.1", false, why,
				       sizeof(why)),
			 0);
	assert_int_equal(
		pattern_match("5.10.0", "^6\\.", false, why, sizeof(why)), 1);
	assert_int_equal(pattern_match("x", "(", false, why, sizeof(why)), 2);
	/* Confined, but harmless: the child's answer is the same. */
	assert_int_equal(
		pattern_match("abab", "(ab)\\1", false, why, sizeof(why)), 0);
	assert_int_equal(
		pattern_match("abba", "^(ab)\\1$", false, why, sizeof(why)), 1);
	assert_int_equal(pattern_match("A=1\nCONFIG_X=m\n", "^CONFIG_X=[ym]",
				       true, why, sizeof(why)),
			 0);
	assert_int_equal(pattern_match("A=1\nCONFIG_X=m\n", "^CONFIG_X=[ym]$",
				       false, why, sizeof(why)),
			 1);
}

static void test_match_stack_bomb(void **state)
{
	char why[160] = "";
	int r;

	(void)state;
	r = pattern_match("6.1.0-9-amd64", STACK_BOMB, false, why, sizeof(why));
	assert_true(r == -EFAULT || r == -ETIME);
	assert_true(*why);
	/* The line "=y" is the one that blows the stack. */
	r = pattern_match("CONFIG_A=y\n=y\n", "^(|)(\\1\\1)*=[ym]", true, why,
			  sizeof(why));
	assert_true(r < 0);
}

/* read_conf's post-processing: the bad package is a bad conf naming the
 * file and directive; nothing crashes. */
static void test_resolve_bad_patterns(void **state)
{
	static const char *const directives[] = {
		"BUILD_EXCLUSIVE_KERNEL",
		"MAKE_MATCH",
		"PATCH_MATCH",
		"BUILD_EXCLUSIVE_ARCH",
	};
	(void)state;
	for (size_t d = 0; d < ARRAY_SIZE(directives); d++) {
		struct vars vs = VARS_INIT;
		struct dkms_conf c = {0};
		struct dkms_conf_ctx ctx = {
			.conf_file = "/usr/src/bad-1.0/dkms.conf",
			.kernelver = "6.1.0-9-amd64",
			.arch = "x86_64",
		};

		assert_int_equal(vars_set(&vs, "PACKAGE_NAME", 0, "bad"), 0);
		assert_int_equal(vars_set(&vs, "PACKAGE_VERSION", 0, "1.0"), 0);
		assert_int_equal(vars_set(&vs, "BUILT_MODULE_NAME", 0, "bad"),
				 0);
		assert_int_equal(
			vars_set(&vs, "DEST_MODULE_LOCATION", 0, "/updates"),
			0);
		assert_int_equal(vars_set(&vs, "MAKE", 0, "make"), 0);
		assert_int_equal(vars_set(&vs, "PATCH", 0, "a.patch"), 0);
		assert_int_equal(vars_set(&vs, directives[d], 0, STACK_BOMB),
				 0);
		assert_int_equal(dkms_conf_resolve(&vs, &ctx, &c), 0);
		assert_non_null(c.errors[0]);
		assert_non_null(strstr(c.errors[0], ctx.conf_file));
		assert_non_null(strstr(c.errors[0], directives[d]));
		dkms_conf_free(&c);
		vars_free(&vs);
	}
}

static void test_resolve_bad_config_pattern(void **state)
{
	struct vars vs = VARS_INIT;
	struct dkms_conf c = {0};
	struct dkms_conf_ctx ctx = {
		.kernelver = "6.1.0-9-amd64",
		.arch = "x86_64",
		.kconfig = "CONFIG_A=y\n=y\n",
	};

	(void)state;
	assert_int_equal(vars_set(&vs, "PACKAGE_NAME", 0, "bad"), 0);
	assert_int_equal(vars_set(&vs, "PACKAGE_VERSION", 0, "1.0"), 0);
	assert_int_equal(vars_set(&vs, "BUILT_MODULE_NAME", 0, "bad"), 0);
	assert_int_equal(vars_set(&vs, "DEST_MODULE_LOCATION", 0, "/updates"),
			 0);
	assert_int_equal(
		vars_set(&vs, "BUILD_EXCLUSIVE_CONFIG", 0, "(|)(\\1\\1)*"), 0);
	assert_int_equal(dkms_conf_resolve(&vs, &ctx, &c), 0);
	assert_non_null(c.errors[0]);
	assert_non_null(strstr(c.errors[0], "BUILD_EXCLUSIVE_CONFIG"));
	dkms_conf_free(&c);
	vars_free(&vs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_screen_safe),
		cmocka_unit_test(test_screen_unsafe),
		cmocka_unit_test(test_match_results),
		cmocka_unit_test(test_match_stack_bomb),
		cmocka_unit_test(test_resolve_bad_patterns),
		cmocka_unit_test(test_resolve_bad_config_pattern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
