// SPDX-License-Identifier: GPL-2.0-or-later
/* The memory of futile work: inputs, file format, refusals, atomic save. */
#include <sys/stat.h>

#include "unit.h"
#include "boot/memo.h"

#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static struct memo_record rec(const char *pkg, const char *inputs)
{
	struct memo_record r = {
		.package = (char *)pkg,
		.version = "1.0",
		.kernel = "6.8.0-1-amd64",
		.arch = "x86_64",
		.outcome = MEMO_FAILED,
		.time = 1764583200,
		.log = "/var/lib/dkms/x/1.0/build/make.log",
		.reason = "make exited 2",
	};

	memcpy(r.inputs, inputs, 65);
	return r;
}

static void test_inputs_identity(void **state)
{
	_cleanup_(freep) char *root = unit_tmpdir();
	char *paths[] = {"/src/dkms.conf", "/src/later", NULL};
	char *kver[] = {"6.8.0-1-amd64", NULL}, *kver2[] = {"6.9", NULL};
	char a[65], b[65], c[65];

	assert_non_null(root);
	assert_int_equal(unit_sh("mkdir -p %s/src && echo x > %s/src/dkms.conf",
				 root, root),
			 0);
	assert_int_equal(memo_inputs(root, paths, kver, a), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(memo_inputs(root, paths, kver, b), 0);
	assert_string_equal(a, b);
	/* Another string, a file appearing, a file touched: new identity. */
	assert_int_equal(memo_inputs(root, paths, kver2, c), 0);
	assert_string_not_equal(a, c);
	assert_int_equal(unit_sh("touch %s/src/later", root), 0);
	assert_int_equal(memo_inputs(root, paths, kver, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(
		unit_sh("touch -d '2001-01-01 00:00:00.5' %s/src/dkms.conf",
			root),
		0);
	assert_int_equal(memo_inputs(root, paths, kver, c), 0);
	assert_string_not_equal(b, c);
	/* A path that leads through a file: absent, not an error. */
	paths[1] = "/src/dkms.conf/x";
	assert_int_equal(memo_inputs(root, paths, NULL, c), 0);
	unit_sh("rm -rf %s", root);
}

static void test_put_lookup_forget_prune(void **state)
{
	_cleanup_(memo_freep) struct memo m = {0};
	struct memo_record r = rec("a", H1);
	const struct memo_record *hit;
	char *reg[] = {"b/1.0", "c/2.0", NULL};

	assert_int_equal(memo_put(&m, &r), 0);
	r.package = "b";
	assert_int_equal(memo_put(&m, &r), 0);
	r.package = "c";
	assert_int_equal(memo_put(&m, &r), 0);
	hit = memo_lookup(&m, "a", "1.0", "6.8.0-1-amd64", "x86_64", H1);
	assert_non_null(hit);
	assert_string_equal(hit->reason, "make exited 2");
	/* Stale: the inputs changed. */
	assert_null(memo_lookup(&m, "a", "1.0", "6.8.0-1-amd64", "x86_64", H2));
	assert_null(memo_lookup(&m, "a", "1.0", "6.9", "x86_64", H1));
	/* Same key replaces. */
	r = rec("a", H2);
	r.outcome = MEMO_DECLINED;
	r.log = NULL;
	assert_int_equal(memo_put(&m, &r), 0);
	assert_int_equal(m.n, 3);
	hit = memo_lookup(&m, "a", "1.0", "6.8.0-1-amd64", "x86_64", H2);
	assert_non_null(hit);
	assert_int_equal(hit->outcome, MEMO_DECLINED);
	assert_null(hit->log);
	/* a is not registered, c only in another version. */
	assert_int_equal(memo_prune(&m, reg), 2);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.recs[0].package, "b");
	assert_int_equal(memo_forget(&m, "zz"), 0);
	assert_int_equal(memo_forget(&m, "b"), 1);
	r = rec("a", H1);
	assert_int_equal(memo_put(&m, &r), 0);
	r.package = "b";
	assert_int_equal(memo_put(&m, &r), 0);
	assert_int_equal(memo_forget(&m, NULL), 2);
	assert_int_equal(m.n, 0);
}

static void test_put_refusals(void **state)
{
	_cleanup_(memo_freep) struct memo m = {0};
	struct memo_record r;
	char big[MEMO_REASON_MAX + 2];

	r = rec("a b", H1);
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r = rec("a\tb", H1);
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r = rec("", H1);
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r = rec("a", "0123");
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r = rec("a", H1);
	r.inputs[0] = 'A';
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r = rec("a", H1);
	r.log = "relative/make.log";
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r.log = "/a b";
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r = rec("a", H1);
	r.outcome = (enum memo_outcome)7;
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	r = rec("a", H1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r.reason = big;
	assert_int_equal(memo_put(&m, &r), -EINVAL);
	assert_int_equal(m.n, 0);
}

static void test_full(void **state)
{
	_cleanup_(memo_freep) struct memo m = {0};
	struct memo_record r = rec("a", H1);
	char name[16];

	for (int i = 0; i < MEMO_RECORDS_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		r.package = name;
		assert_int_equal(memo_put(&m, &r), 0);
	}
	r.package = "one-more";
	assert_int_equal(memo_put(&m, &r), -E2BIG);
	/* Replacing still works when full. */
	r.package = "p7";
	assert_int_equal(memo_put(&m, &r), 0);
}

static void test_format_parse_round_trip(void **state)
{
	_cleanup_(memo_freep) struct memo m = {0}, back = {0};
	_cleanup_(freep) char *out = NULL, *out2 = NULL;
	struct memo_record r = rec("a", H1);
	size_t len = 0, len2 = 0;
	char why[256];

	r.reason = "tab\there\nnl \\ back\x01\x7f é";
	assert_int_equal(memo_put(&m, &r), 0);
	r = rec("b", H2);
	r.log = NULL;
	r.outcome = MEMO_EXCLUDED;
	r.time = 0;
	r.reason = "BUILD_EXCLUSIVE_KERNEL";
	assert_int_equal(memo_put(&m, &r), 0);
	assert_int_equal(memo_format(&m, &out, &len), 0);
	assert_string_equal(
		out,
		"dkms-boot-memo 1\n"
		"a\t1.0\t6.8.0-1-amd64\tx86_64\t" H1
		"\tfailed\t1764583200\t/var/lib/dkms/x/1.0/build/make.log\t"
		"tab\\x09here\\x0anl \\\\ back\\x01\\x7f é\n"
		"b\t1.0\t6.8.0-1-amd64\tx86_64\t" H2
		"\texcluded\t0\t-\tBUILD_EXCLUSIVE_KERNEL\n");
	assert_int_equal(memo_parse(out, len, &back, why, sizeof(why)), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.recs[0].reason, m.recs[0].reason);
	assert_null(back.recs[1].log);
	assert_int_equal(memo_format(&back, &out2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
}

static void refused(const char *text, size_t len, const char *reason)
{
	struct memo m = {0};
	char why[256];

	assert_int_equal(memo_parse(text, len, &m, why, sizeof(why)), -EINVAL);
	if (!strstr(why, reason))
		fail_msg("why \"%s\", expected \"%s\"", why, reason);
	assert_int_equal(m.n, 0);
}

#define MAGIC		      "dkms-boot-memo 1\n"
#define LINE(p, rest)	      p "\t1\tk\ta\t" H1 rest "\n"
#define REFUSED(text, reason) refused(text, sizeof(text) - 1, reason)

static void test_parse_refusals(void **state)
{
	REFUSED("", "missing final newline");
	REFUSED("dkms-boot-memo 2\n", "line 1: not \"dkms-boot-memo 1\"");
	REFUSED(MAGIC "x", "missing final newline");
	REFUSED(MAGIC "a\0\n", "NUL byte");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\t-"), "line 2: 8 fields, not 9");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\t-\tr\tx"), "more than 9 fields");
	REFUSED(MAGIC LINE("a b", "\tfailed\t1\t-\tr"), "bad package");
	REFUSED(MAGIC "a\t1\tk\ta\t" H1 "x\tfailed\t1\t-\tr\n",
		"inputs is not 64");
	REFUSED(MAGIC LINE("a", "\tbroken\t1\t-\tr"), "unknown outcome");
	REFUSED(MAGIC LINE("a", "\tfailed\t01\t-\tr"), "bad time");
	REFUSED(MAGIC LINE("a", "\tfailed\t99999999999999999999\t-\tr"),
		"bad time");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\tlog\tr"), "bad log path");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\t-\tr\r"), "control byte 0x0d");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\t-\t\\q"), "bad escape");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\t-\t\\x41"), "needless escape");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\t-\t\\x0A"), "bad escape");
	REFUSED(MAGIC LINE("a", "\tfailed\t1\t-\tr")
			LINE("a", "\tdeclined\t2\t-\tr"),
		"line 3: a/1/k/a twice");
}

static void test_parse_limits(void **state)
{
	struct memo m = {0};
	_cleanup_(freep) char *big = malloc(MEMO_SIZE_MAX + 1);
	FILE *f;
	char *text = NULL;
	size_t len = 0;
	char why[256];

	assert_non_null(big);
	memset(big, 'x', MEMO_SIZE_MAX + 1);
	assert_int_equal(
		memo_parse(big, MEMO_SIZE_MAX + 1, &m, why, sizeof(why)),
		-EFBIG);
	assert_non_null(strstr(why, "larger than"));
	f = open_memstream(&text, &len);
	fputs(MAGIC, f);
	for (int i = 0; i <= MEMO_RECORDS_MAX; i++)
		fprintf(f, "p%d\t1\tk\ta\t" H1 "\tfailed\t1\t-\tr\n", i);
	fclose(f);
	assert_int_equal(memo_parse(text, len, &m, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "more than 4096 records"));
	free(text);
}

static void test_save_load_atomic(void **state)
{
	_cleanup_(freep) char *root = unit_tmpdir();
	_cleanup_(freep) char *path = NULL;
	_cleanup_(memo_freep) struct memo m = {0}, back = {0}, none = {0};
	struct memo_record r = rec("a", H1);
	struct stat st;
	char why[256];

	assert_non_null(root);
	path = xasprintf("%s/var/lib/dkms-boot/memo", root);
	/* Absent: an empty memo. */
	assert_int_equal(memo_load(path, &none, why, sizeof(why)), 0);
	assert_int_equal(none.n, 0);
	assert_int_equal(memo_put(&m, &r), 0);
	assert_int_equal(memo_save(path, &m), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* No temp file left next to it. */
	assert_int_equal(
		unit_sh("test $(ls -A %s/var/lib/dkms-boot | wc -l) = 1", root),
		0);
	assert_int_equal(memo_load(path, &back, why, sizeof(why)), 0);
	assert_int_equal(back.n, 1);
	/* A save that cannot be written leaves the old file whole. */
	r.package = "bad name";
	m.recs[0].package[0] = ' ';
	assert_int_equal(memo_save(path, &m), -EINVAL);
	memo_free(&back);
	assert_int_equal(memo_load(path, &back, why, sizeof(why)), 0);
	assert_string_equal(back.recs[0].package, "a");
	/* A damaged file is refused with the reason. */
	assert_int_equal(unit_sh("echo junk > %s", path), 0);
	memo_free(&back);
	assert_int_equal(memo_load(path, &back, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 1"));
	unit_sh("rm -rf %s", root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inputs_identity),
		cmocka_unit_test(test_put_lookup_forget_prune),
		cmocka_unit_test(test_put_refusals),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_save_load_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
