// SPDX-License-Identifier: GPL-2.0-or-later
/* The one "why" formatter: what every refusal's reason looks like. */
#include "unit.h"
#include "lib/why.h"

static void test_set_returns_err_and_formats(void **state)
{
	char why[64];

	assert_int_equal(
		why_set(why, sizeof(why), -EBADMSG, "line %u: %s", 3, "bad"),
		-EBADMSG);
	assert_string_equal(why, "line 3: bad");
	/* No buffer: nothing written, the error still returned. */
	assert_int_equal(why_set(NULL, 0, -EPERM, "x"), -EPERM);
	why[0] = 'Q';
	assert_int_equal(why_set(why, 0, -EPERM, "x"), -EPERM);
	assert_int_equal(why[0], 'Q');
}

/* %m names err, not whatever errno is when the reason is written. */
static void test_percent_m_is_err(void **state)
{
	char why[128];

	errno = EEXIST;
	why_set(why, sizeof(why), -ENOENT, "/x: %m");
	assert_string_equal(why, "/x: No such file or directory");
	assert_int_equal(errno, EEXIST); /* and errno is left alone */
	/* err 0 or positive: %m is errno as it was */
	errno = EACCES;
	why_set(why, sizeof(why), 0, "%m");
	assert_string_equal(why, strerror(EACCES));
}

static void test_one_line(void **state)
{
	char why[64];

	why_set(why, sizeof(why), -EINVAL, "a\nb\tc\x7f%s", "\r");
	assert_string_equal(why, "a?b?c??");
}

/* Too long: cut, and the cut shows. */
static void test_cut_shows(void **state)
{
	char why[16];

	why_set(why, sizeof(why), -EINVAL, "%s", "0123456789abcdefghij");
	assert_string_equal(why, "0123456789ab...");
	for (size_t len = 1; len < 6; len++) {
		memset(why, 'X', sizeof(why));
		why_set(why, len, -EINVAL, "%s", "0123456789");
		assert_int_equal(strnlen(why, len), len - 1);
	}
}

static void test_about_fits(void **state)
{
	char why[64], name[300];

	why_about(why, sizeof(why), -EBADMSG, "a/b", 3, "%s refused", "link");
	assert_string_equal(why, "a/b: link refused");
	/* A long subject is shortened; the reason is whole. */
	memset(name, 'n', sizeof(name));
	assert_int_equal(why_about(why, sizeof(why), -EBADMSG, name,
				   sizeof(name), "symbolic link refused"),
			 -EBADMSG);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_true(endswith(why, "...: symbolic link refused"));
	assert_true(startswith(why, "nnnnnnnnnnnnnnnn"));
	/* Subjects are bytes: control bytes and NULs become '?'. */
	why_about(why, sizeof(why), -EBADMSG, "a\0b\nc", 5, "%s", "no");
	assert_string_equal(why, "a?b?c: no");
	/* Whatever the buffer size, it is filled and terminated. */
	for (size_t len = 1; len <= sizeof(why); len++) {
		memset(why, 'X', sizeof(why));
		why_about(why, len, -EBADMSG, name, sizeof(name), "%s",
			  "symbolic link refused");
		assert_int_equal(strnlen(why, len), len - 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_err_and_formats),
		cmocka_unit_test(test_percent_m_is_err),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_cut_shows),
		cmocka_unit_test(test_about_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
