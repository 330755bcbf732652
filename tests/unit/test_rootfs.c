// SPDX-License-Identifier: GPL-2.0-or-later
/* Paths inside --root: symlinks resolve in the root, never on the host. */
#include <sys/stat.h>

#include "unit.h"
#include "lib/rootfs.h"

static char *root;

static void mk(const char *rel)
{
	_cleanup_(freep) char *p = path_join(root, rel);

	assert_int_equal(make_dirs(p, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
	_cleanup_(freep) char *p = path_join(root, rel);

	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	root = unit_tmpdir();
	mk("usr/src/m-1");
	mk("var/lib/dkms/m/1");
	mk("var/lib/dkms/m/1/6.1/x86_64/module");
	ln("/usr/src/m-1", "var/lib/dkms/m/1/source");
	ln("1/6.1/x86_64", "var/lib/dkms/m/kernel-6.1-x86_64");
	ln("loop", "var/lib/dkms/m/loop");
	ln("../../../../../../../..", "var/lib/dkms/m/up");
	ln("/nowhere", "var/lib/dkms/m/dangling");
	return root ? 0 : -1;
}

static int teardown(void **state)
{
	_cleanup_(freep) char *cmd = xasprintf("rm -rf '%s'", root);

	assert_int_equal(system(cmd), 0);
	free(root);
	return 0;
}

static void expect_canon(const char *path, unsigned flags, int err,
			 const char *want)
{
	_cleanup_(freep) char *canon = NULL;
	int r = root_canon(root, path, flags, &canon);

	assert_int_equal(r, err);
	if (want)
		assert_string_equal(canon, want);
}

static void test_absolute_link_stays_in_root(void **state)
{
	expect_canon("/var/lib/dkms/m/1/source", 0, 0, "/usr/src/m-1");
	expect_canon("/var/lib/dkms/m/1/source/", 0, 0, "/usr/src/m-1");
	expect_canon("/var/lib/dkms/m/1/source", ROOT_NOFOLLOW, 0,
		     "/var/lib/dkms/m/1/source");
}

static void test_relative_link(void **state)
{
	expect_canon("/var/lib/dkms/m/kernel-6.1-x86_64", 0, 0,
		     "/var/lib/dkms/m/1/6.1/x86_64");
	expect_canon("/var/lib/dkms/m/kernel-6.1-x86_64/module/../module", 0, 0,
		     "/var/lib/dkms/m/1/6.1/x86_64/module");
}

static void test_dotdot_clamped_at_root(void **state)
{
	expect_canon("/var/lib/dkms/m/up", 0, 0, "/");
	expect_canon("/../../..//usr/./src", 0, 0, "/usr/src");
}

static void test_loop_and_missing(void **state)
{
	expect_canon("/var/lib/dkms/m/loop", 0, -ELOOP, NULL);
	expect_canon("/var/lib/dkms/m/dangling", 0, -ENOENT, NULL);
	expect_canon("/var/lib/dkms/m/dangling", ROOT_ALLOW_MISSING, 0,
		     "/nowhere");
	expect_canon("/var/lib/dkms/m/1/source/x/y", 0, -ENOENT, NULL);
	expect_canon("/var/lib/dkms/m/1/source/x/../y/./z", ROOT_ALLOW_MISSING,
		     0, "/usr/src/m-1/y/z");
}

static void test_predicates(void **state)
{
	assert_true(root_is_link(root, "/var/lib/dkms/m/1/source"));
	assert_true(root_is_dir(root, "/var/lib/dkms/m/1/source"));
	assert_true(root_is_link(root, "/var/lib/dkms/m/dangling"));
	assert_false(root_exists(root, "/var/lib/dkms/m/dangling"));
	assert_false(root_exists(root, "/var/lib/dkms/m/loop"));
	assert_true(root_is_slash("/"));
	assert_true(root_is_slash(NULL));
	assert_false(root_is_slash(root));
}

static void test_host_path(void **state)
{
	_cleanup_(freep) char *h = NULL;
	_cleanup_(freep) char *want = path_join(root, "usr/src/m-1/dkms.conf");

	assert_int_equal(
		root_path(root, "/var/lib/dkms/m/1/source/dkms.conf", &h), 0);
	assert_string_equal(h, want);
}

/* The kernel's walk (openat2) and ours agree on every case above. */
static void test_fast_equals_walk(void **state)
{
	static const char *const paths[] = {
		"/var/lib/dkms/m/1/source",
		"/var/lib/dkms/m/1/source/",
		"/var/lib/dkms/m/kernel-6.1-x86_64",
		"/var/lib/dkms/m/kernel-6.1-x86_64/module/../module",
		"/var/lib/dkms/m/up",
		"/../../..//usr/./src",
		"/var/lib/dkms/m/loop",
		"/var/lib/dkms/m/dangling",
		"/var/lib/dkms/m/1/source/x/y",
		"/",
		"",
	};
	static const unsigned flags[] = {0, ROOT_NOFOLLOW, ROOT_ALLOW_MISSING};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		for (size_t j = 0; j < ARRAY_SIZE(flags); j++) {
			_cleanup_(freep) char *a = NULL, *b = NULL;
			int ra = root_canon(root, paths[i], flags[j], &a);
			int rb = root_canon_walk(root, paths[i], flags[j], &b);

			if (ra != rb || (ra == 0 && strcmp(a, b) != 0))
				fail_msg("%s (flags %u): %d %s vs walk %d %s",
					 paths[i], flags[j], ra, a ? a : "-",
					 rb, b ? b : "-");
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absolute_link_stays_in_root),
		cmocka_unit_test(test_relative_link),
		cmocka_unit_test(test_dotdot_clamped_at_root),
		cmocka_unit_test(test_loop_and_missing),
		cmocka_unit_test(test_predicates),
		cmocka_unit_test(test_host_path),
		cmocka_unit_test(test_fast_equals_walk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
