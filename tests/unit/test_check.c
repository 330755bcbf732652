// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The boot-time decision on hand-made trees under a temporary --root.
 * (Vermagic checks need real modules: tests/integration/check-vs-dkms.sh.)
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "unit.h"
#include "cmd/commands.h"
#include "dkms/check.h"
#include "lib/log.h"

#define K "6.1.0-56-amd64"
#define T "/var/lib/dkms"

static char *root;

static void put(const char *rel, const char *content)
{
	_cleanup_(freep) char *p = path_join(root, rel);
	_cleanup_(freep) char *dir = strdup(p);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(make_dirs(dir, 0755), 0);
	assert_int_equal(write_file_atomic(p, content, strlen(content), 0644),
			 0);
}

static void ln(const char *target, const char *rel)
{
	_cleanup_(freep) char *p = path_join(root, rel);
	_cleanup_(freep) char *dir = strdup(p);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(make_dirs(dir, 0755), 0);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void rm(const char *rel)
{
	_cleanup_(freep) char *p = path_join(root, rel);

	assert_int_equal(unlink(p), 0);
}

/* A package m/v whose dkms.conf installs one module named m. */
static void add_pkg(const char *m, const char *v, const char *extra)
{
	_cleanup_(freep) char *conf = xasprintf(
		"PACKAGE_NAME=%s\nPACKAGE_VERSION=%s\nBUILT_MODULE_NAME[0]=%s\n"
		"DEST_MODULE_LOCATION[0]=/updates\n%s",
		m, v, m, extra);
	_cleanup_(freep) char *src =
		xasprintf("/usr/src/%s-%s/dkms.conf", m, v);
	_cleanup_(freep) char *link = xasprintf(T "/%s/%s/source", m, v);
	_cleanup_(freep) char *dir = xasprintf("%s" T "/%s/%s", root, m, v);

	put(src, conf);
	assert_int_equal(make_dirs(dir, 0755), 0);
	*strrchr(src, '/') = '\0';
	ln(src, link);
}

static void build_pkg(const char *m, const char *v, const char *body)
{
	_cleanup_(freep) char *ko =
		xasprintf(T "/%s/%s/" K "/x86_64/module/%s.ko", m, v, m);

	put(ko, body);
}

static void install_pkg(const char *m, const char *v, const char *body)
{
	_cleanup_(freep) char *ko =
		xasprintf("/lib/modules/" K "/updates/dkms/%s.ko", m);
	_cleanup_(freep) char *link = xasprintf(T "/%s/kernel-" K "-x86_64", m);
	_cleanup_(freep) char *target = xasprintf("%s/" K "/x86_64", v);

	put(ko, body);
	ln(target, link);
}

/* Run check and return its output; *rc gets the exit code. */
static char *check(int *rc, bool json)
{
	struct conf_eval_opts eo = {.method = CONF_METHOD_AUTO};
	struct check_opts o = {.kernel = K,
			       .arch = "x86_64",
			       .json = json,
			       .no_state_cache = true};
	struct dkb_ctx c = {0};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_int_equal(dkb_ctx_init(&c, root, &eo), 0);
	*rc = cmd_check(&c, &o, f);
	fclose(f);
	dkb_ctx_free(&c);
	return out;
}

static int setup(void **state)
{
	root = unit_tmpdir();
	put("/etc/os-release", "ID=debian\n");
	put("/lib/modules/" K "/modules.dep", "kernel/x.ko:\n");
	log_set_threshold(LOG_LEVEL_ERR);
	return root ? 0 : -1;
}

static int teardown(void **state)
{
	_cleanup_(freep) char *cmd = xasprintf("rm -rf '%s'", root);

	assert_int_equal(system(cmd), 0);
	free(root);
	return 0;
}

static void expect(const char *want_line, int want_rc)
{
	int rc;
	_cleanup_(freep) char *out = check(&rc, false);

	if (!strstr(out, want_line))
		fail_msg("check printed:\n%s\nexpected a line containing:\n%s",
			 out, want_line);
	assert_int_equal(rc, want_rc);
}

static void test_lifecycle(void **state)
{
	add_pkg("alpha", "1.0", "AUTOINSTALL=yes\n");
	expect("alpha/1.0, " K ", x86_64: needs-work: not built for " K
	       "/x86_64",
	       EXIT_WORK);
	build_pkg("alpha", "1.0", "module body");
	expect("alpha/1.0, " K ", x86_64: needs-work: built for " K
	       "/x86_64 but not installed",
	       EXIT_WORK);
	install_pkg("alpha", "1.0", "module body");
	/* Same bytes, but not a module: its vermagic cannot be read. */
	expect("not a readable module", EXIT_WORK);
	install_pkg("alpha", "1.0", "other body");
	expect("differs from the built", EXIT_WORK);
	rm("/lib/modules/" K "/updates/dkms/alpha.ko");
	expect("alpha.ko is missing", EXIT_WORK);
}

static void test_newest_autoinstall_version_wins(void **state)
{
	add_pkg("beta", "1.9", "AUTOINSTALL=yes\n");
	add_pkg("beta", "1.10", "AUTOINSTALL=yes\n");
	add_pkg("beta", "2.0", ""); /* newest, but not AUTOINSTALL */
	build_pkg("beta", "1.9", "b");
	install_pkg("beta", "1.9", "b");
	expect("beta/1.10, " K ", x86_64: needs-work: version 1.9 is installed",
	       EXIT_WORK);
}

static void test_skips_and_exclusions(void **state)
{
	add_pkg("gamma", "1", "");
	expect("gamma, " K
	       ", x86_64: skipped: no registered version sets AUTOINSTALL",
	       EXIT_WORK);
	add_pkg("delta", "1",
		"AUTOINSTALL=yes\nBUILD_EXCLUSIVE_KERNEL=\"^5\\.\"\n");
	expect("delta/1, " K ", x86_64: excluded: ", EXIT_WORK);
	/* AUTOINSTALL="no" is yes in 3.0.10. */
	add_pkg("eps", "1", "AUTOINSTALL=no\n");
	expect("eps/1, " K ", x86_64: needs-work: not built", EXIT_WORK);
}

static void test_broken_and_unsafe(void **state)
{
	_cleanup_(freep) char *out = NULL;
	int rc;

	add_pkg("zeta", "1", "AUTOINSTALL=yes\nDEST_MODULE_LOCATION[0]=/opt\n");
	expect("zeta, " K
	       ", x86_64: broken: zeta/1: dkms.conf: Error! Directive "
	       "'DEST_MODULE_LOCATION' does not begin with",
	       EXIT_WORK);
	add_pkg("eta", "1",
		"AUTOINSTALL=yes\nBUILT_MODULE_NAME[0]=../../evil\n");
	expect("eta/1, " K ", x86_64: broken: ", EXIT_WORK);
	ln("/nonexistent", T "/theta/1/source");
	out = check(&rc, true);
	assert_non_null(strstr(out, "\"module\":\"theta\",\"version\":null,"
				    "\"state\":\"broken\""));
	assert_non_null(strstr(out, "/var/lib/dkms/theta/1/source -> "
				    "/nonexistent: No such file or directory"));
}

/* The library fills records and prints nothing: stdout stays empty. */
static void test_records_without_output(void **state)
{
	struct conf_eval_opts eo = {.method = CONF_METHOD_AUTO};
	struct check_query q = {.kernel = K,
				.arch = "x86_64",
				.module = "iota",
				.no_state_cache = true};
	_cleanup_(freep) char *cap = path_join(root, "stdout");
	_cleanup_(freep) char *printed = NULL;
	struct check_result res = {0};
	struct dkb_ctx c = {0};
	size_t len = 0;
	int saved, fd, r;

	add_pkg("iota", "1", "AUTOINSTALL=yes\n");
	assert_int_equal(dkb_ctx_init(&c, root, &eo), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	r = check_run(&c, &q, &res);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	dkb_ctx_free(&c);
	assert_int_equal(r, 0);
	assert_int_equal(read_file(cap, 4096, &printed, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(res.n, 1);
	assert_string_equal(res.p[0].module, "iota");
	assert_string_equal(res.p[0].version, "1");
	assert_int_equal(res.p[0].state, CHECK_WORK);
	assert_string_equal(check_state_name(res.p[0].state), "needs-work");
	assert_string_equal(res.p[0].codes[0], "not-built");
	assert_non_null(strstr(res.p[0].reasons[0], "not built for " K));
	check_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_newest_autoinstall_version_wins),
		cmocka_unit_test(test_skips_and_exclusions),
		cmocka_unit_test(test_broken_and_unsafe),
		cmocka_unit_test(test_records_without_output),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
