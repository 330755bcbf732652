// SPDX-License-Identifier: GPL-2.0-or-later
/* The boot report: round trip, refusals, atomic write, text. */
#include <sys/stat.h>

#include "unit.h"
#include "boot/report.h"
#include "cmd/commands.h"

/* A filled report on the stack (strings not owned: never freed). */
static struct report_phase phases[] = {
	{"early", 0, 1200, 30000, false},
	{"late", 1200, 60000, 60000, true},
	{"pivot", 61200, 40, 5000, false},
};
static struct report_setting settings[] = {
	{"timeout", "300"},
	{"compile", "1"},
};
static char *refused_lines[] = {"rd.dkms_boot.timeout=x: not a number", NULL};
static struct report_module mods[] = {
	{"nvidia", "A1B2", "C3D4"},
	{"nvidia_drm", NULL, "E5F6"},
};
static struct report_package pkgs[] = {
	{
		.name = "nvidia",
		.version = "550.1",
		.kernel = "6.8.0-1-amd64",
		.arch = "x86_64",
		.decision = REPORT_NEEDS_WORK,
		.decision_reason = "no module for 6.8.0-1-amd64",
		.source = "kabi-reuse:6.8.0-0-amd64",
		.outcome = REPORT_INSERTED,
		.mods = mods,
		.n_mods = 2,
		.unpack_ms = 120,
		.depmod_ms = 300,
		.insert_ms = 80,
	},
	{
		.name = "zfs",
		.version = "2.2",
		.kernel = "6.8.0-1-amd64",
		.arch = "x86_64",
		.decision = REPORT_NEEDS_WORK,
		.decision_reason = "built module missing",
		.source = "none",
		.outcome = REPORT_FAILED_EARLIER,
		.reason = "make exited 2\n\"quoted\" \\ é 😀",
		.log = "/var/lib/dkms/zfs/2.2/build/make.log",
	},
	{
		.name = "v4l2loopback",
		.version = "0.13",
		.kernel = "6.8.0-1-amd64",
		.arch = "x86_64",
		.decision = REPORT_CURRENT,
		.source = "none",
		.outcome = REPORT_OUTCOME_NONE,
	},
};

static struct boot_report sample(void)
{
	struct boot_report r = {
		.kernel = "6.8.0-1-amd64",
		.boot_id = "0d3c4a1e-6c1f-4b53-9b43-1b2a7a4f1c11",
		.start_time = 1764583200,
		.total_ms = 61240,
		.phases = phases,
		.n_phases = ARRAY_SIZE(phases),
		.settings = settings,
		.n_settings = ARRAY_SIZE(settings),
		.refused = refused_lines,
		.root = {.spec = "UUID=1234",
			 .device = "/dev/vda2",
			 .type = "ext4",
			 .read_only = true},
		.pkgs = pkgs,
		.n_pkgs = ARRAY_SIZE(pkgs),
	};

	return r;
}

static void test_round_trip(void **state)
{
	struct boot_report r = sample();
	_cleanup_(boot_report_freep) struct boot_report back = {0}, again = {0};
	_cleanup_(freep) char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	char why[256];

	assert_int_equal(report_format(&r, &out, &len), 0);
	assert_int_equal(report_parse(out, len, &back, why, sizeof(why)), 0);
	assert_true(report_equal(&r, &back));
	assert_null(back.pkgs[1].mods);
	assert_string_equal(back.pkgs[1].reason, pkgs[1].reason);
	assert_null(back.pkgs[0].mods[1].before);
	assert_true(back.phases[1].budget_exhausted);
	assert_int_equal(report_format(&back, &out2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	/* An empty report too. */
	{
		struct boot_report e = {0};

		free(out);
		out = NULL;
		assert_int_equal(report_format(&e, &out, &len), 0);
		assert_int_equal(
			report_parse(out, len, &again, why, sizeof(why)), 0);
		assert_true(report_equal(&e, &again));
	}
	/* A difference is seen. */
	r.pkgs = NULL;
	r.n_pkgs = 0;
	assert_false(report_equal(&r, &back));
}

/* Formats sample, replaces one piece, parses: refused with reason. */
static void refused_edit(const char *from, const char *to, int err,
			 const char *reason)
{
	struct boot_report r = sample();
	struct boot_report back = {0};
	_cleanup_(freep) char *out = NULL, *edited = NULL;
	char *at;
	size_t len = 0;
	char why[256];

	assert_int_equal(report_format(&r, &out, &len), 0);
	at = strstr(out, from);
	if (!at)
		fail_msg("\"%s\" not in the report", from);
	edited = xasprintf("%.*s%s%s", (int)(at - out), out, to,
			   at + strlen(from));
	assert_int_equal(
		report_parse(edited, strlen(edited), &back, why, sizeof(why)),
		err);
	if (!strstr(why, reason))
		fail_msg("why \"%s\", expected \"%s\"", why, reason);
	assert_null(back.pkgs);
}

static void test_parse_refusals(void **state)
{
	refused_edit("\"version\":1", "\"version\":2", -EINVAL,
		     "report.version: not 1");
	refused_edit("\"version\":1,", "", -EINVAL, "report: unknown keys");
	refused_edit("\"version\":1", "\"version\":1,\"version\":1", -EINVAL,
		     "duplicate key \"version\"");
	refused_edit("\"version\":1", "\"versio\":1", -EINVAL,
		     "report.version: missing");
	refused_edit("\"total_ms\":61240", "\"total_ms\":-1", -EINVAL,
		     "report.total_ms: not a 64-bit unsigned integer");
	refused_edit("\"total_ms\":61240", "\"total_ms\":18446744073709551616",
		     -EINVAL, "not a 64-bit unsigned");
	refused_edit("\"total_ms\":61240", "\"total_ms\":1.5", -EINVAL,
		     "not a 64-bit unsigned");
	refused_edit("\"kernel\":\"6.8.0-1-amd64\",\"boot_id\"",
		     "\"kernel\":7,\"boot_id\"", -EINVAL,
		     "report.kernel: wrong type");
	refused_edit("\"outcome\":\"inserted\"", "\"outcome\":\"exploded\"",
		     -EINVAL, "packages[].outcome: unknown value");
	refused_edit("\"decision\":\"current\"", "\"decision\":null", -EINVAL,
		     "packages[].decision: wrong type");
	refused_edit("\"source\":\"kabi-reuse:6.8.0-0-amd64\"",
		     "\"source\":\"the-internet\"", -EINVAL,
		     "packages[].source: unknown source");
	refused_edit("\"unpack\":120", "\"unpack\":120,\"x\":1", -EINVAL,
		     "unknown keys");
	refused_edit("\"read_only\":true", "\"read_only\":1", -EINVAL,
		     "root.read_only: wrong type");
	refused_edit("\"compile\":\"1\"", "\"compile\":1", -EINVAL,
		     "settings.compile: not a string");
	refused_edit("\"refused\":[\"", "\"refused\":[1,\"", -EINVAL,
		     "not a list of strings");
	refused_edit("\"phases\":[{", "\"phases\":[1,{", -EINVAL,
		     "phases[]: not an object");
	refused_edit("}\n", "}x\n", -EINVAL, "trailing garbage");
	refused_edit("\"zfs\"", "\"zf\xc0\xafs\"", -EINVAL, "invalid UTF-8");
}

static void test_format_refusals(void **state)
{
	struct boot_report r = sample();
	struct report_setting twice[] = {{"a", "1"}, {"a", "2"}};
	struct report_package p = pkgs[0];
	char *out = NULL;
	size_t len = 0;

	r.kernel = "6.8\xff";
	assert_int_equal(report_format(&r, &out, &len), -EILSEQ);
	r = sample();
	r.settings = twice;
	assert_int_equal(report_format(&r, &out, &len), -EINVAL);
	r = sample();
	r.pkgs = &p;
	r.n_pkgs = 1;
	p.source = "somewhere";
	assert_int_equal(report_format(&r, &out, &len), -EINVAL);
	p = pkgs[0];
	p.outcome = (enum report_outcome)99;
	assert_int_equal(report_format(&r, &out, &len), -EINVAL);
	p = pkgs[0];
	p.name = NULL;
	assert_int_equal(report_format(&r, &out, &len), -EINVAL);
	assert_null(out);
}

static void test_write_read_atomic(void **state)
{
	_cleanup_(freep) char *root = unit_tmpdir();
	_cleanup_(freep) char *path = NULL;
	_cleanup_(boot_report_freep) struct boot_report back = {0};
	struct boot_report r = sample();
	struct stat st;
	char why[256];

	assert_non_null(root);
	path = xasprintf("%s/run/dkms-boot/report.json", root);
	assert_int_equal(report_write(path, &r), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(
		unit_sh("test $(ls -A %s/run/dkms-boot | wc -l) = 1", root), 0);
	assert_int_equal(report_read(path, &back, why, sizeof(why)), 0);
	assert_true(report_equal(&r, &back));
	/* A report that cannot be written leaves the old one whole. */
	r.boot_id = "\xff";
	assert_int_equal(report_write(path, &r), -EILSEQ);
	boot_report_free(&back);
	assert_int_equal(report_read(path, &back, why, sizeof(why)), 0);
	assert_string_equal(back.boot_id, sample().boot_id);
	/* Too large is refused before parsing. */
	assert_int_equal(unit_sh("truncate -s 1048577 %s", path), 0);
	boot_report_free(&back);
	assert_int_equal(report_read(path, &back, why, sizeof(why)), -EFBIG);
	assert_non_null(strstr(why, "larger than"));
	unit_sh("rm -rf %s", root);
}

static void test_print_text(void **state)
{
	struct boot_report r = sample();
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	report_print_text(&r, f);
	fclose(f);
	assert_string_equal(
		out,
		"nvidia/550.1 6.8.0-1-amd64: inserted from "
		"kabi-reuse:6.8.0-0-amd64 in 500ms: no module for "
		"6.8.0-1-amd64\n"
		"zfs/2.2 6.8.0-1-amd64: failed-earlier: make exited "
		"2?\"quoted\" "
		"\\ é 😀 (log /var/lib/dkms/zfs/2.2/build/make.log)\n"
		"v4l2loopback/0.13 6.8.0-1-amd64: current\n"
		"kernel 6.8.0-1-amd64: 3 packages, 1 done, 1 failed, in 61.2s; "
		"late ran out of time; 1 setting refused\n");
}

/* `dkms-boot report --root R [--json]` over a written report. */
static void test_report_command(void **state)
{
	_cleanup_(freep) char *dir = unit_tmpdir();
	_cleanup_(freep) char *path = NULL, *text = NULL, *json = NULL;
	_cleanup_(freep) char *want = NULL;
	struct boot_report r = sample();
	size_t tl = 0, jl = 0, wl = 0;
	FILE *f;

	assert_non_null(dir);
	/* No report yet: a clear failure, not an empty success. */
	f = open_memstream(&text, &tl);
	assert_int_equal(cmd_report(dir, false, f), EXIT_TROUBLE);
	fclose(f);
	assert_int_equal(tl, 0);
	free(text);
	text = NULL;
	path = xasprintf("%s%s", dir, REPORT_PATH);
	assert_int_equal(report_write(path, &r), 0);
	f = open_memstream(&text, &tl);
	assert_int_equal(cmd_report(dir, false, f), EXIT_OK);
	fclose(f);
	f = open_memstream(&want, &wl);
	report_print_text(&r, f);
	fclose(f);
	assert_string_equal(text, want);
	/* --json: the report as written, parsing back to the same. */
	f = open_memstream(&json, &jl);
	assert_int_equal(cmd_report(dir, true, f), EXIT_OK);
	fclose(f);
	{
		_cleanup_(boot_report_freep) struct boot_report back = {0};
		char why[256] = "";

		assert_int_equal(
			report_parse(json, jl, &back, why, sizeof(why)), 0);
		assert_true(report_equal(&r, &back));
	}
	/* A damaged report is refused with the reason. */
	assert_int_equal(write_file_atomic(path, "{\"version\":1", 12, 0644),
			 0);
	free(text);
	text = NULL;
	f = open_memstream(&text, &tl);
	assert_int_equal(cmd_report(dir, false, f), EXIT_TROUBLE);
	fclose(f);
	unit_sh("rm -rf '%s'", dir);
}

static void test_boot_id(void **state)
{
	_cleanup_(freep) char *dir = unit_tmpdir();
	_cleanup_(freep) char *path = NULL, *id = NULL;

	assert_non_null(dir);
	path = xasprintf("%s/boot_id", dir);
	assert_int_equal(
		unit_sh("echo 0d3c4a1e-6c1f-4b53-9b43-1b2a7a4f1c11 > %s", path),
		0);
	assert_int_equal(report_boot_id(path, &id), 0);
	assert_string_equal(id, "0d3c4a1e-6c1f-4b53-9b43-1b2a7a4f1c11");
	assert_int_equal(unit_sh("printf 'a b\\n' > %s", path), 0);
	assert_int_equal(report_boot_id(path, &id), -EINVAL);
	assert_int_equal(unit_sh(": > %s", path), 0);
	assert_int_equal(report_boot_id(path, &id), -EINVAL);
	assert_int_equal(
		unit_sh("head -c 200 /dev/zero | tr '\\0' x > %s", path), 0);
	assert_int_equal(report_boot_id(path, &id), -EFBIG);
	unit_sh("rm -rf %s", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_format_refusals),
		cmocka_unit_test(test_write_read_atomic),
		cmocka_unit_test(test_print_text),
		cmocka_unit_test(test_boot_id),
		cmocka_unit_test(test_report_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
