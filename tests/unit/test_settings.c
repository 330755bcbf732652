// SPDX-License-Identifier: GPL-2.0-or-later
/* Boot settings: the settings file, the kernel command line, refusals. */
#include "unit.h"
#include "boot/settings.h"

static void cmdline(struct boot_settings *s, const char *line)
{
	assert_int_equal(boot_settings_apply_cmdline(s, line, strlen(line)), 0);
}

static void file(struct boot_settings *s, const char *text)
{
	assert_int_equal(
		boot_settings_apply_file(s, text, strlen(text), "test.conf"),
		0);
}

static void test_defaults(void **state)
{
	struct boot_settings s;

	boot_settings_init(&s);
	assert_true(s.enabled);
	assert_true(s.compile);
	assert_true(s.kabi_reuse);
	assert_false(s.run_scripts);
	assert_false(s.debug);
	assert_int_equal(s.timeout_s, BOOT_TIMEOUT_DEFAULT_S);
	assert_null(s.load);
	assert_null(s.refused);
	boot_settings_free(&s);
}

static void test_cmdline_values(void **state)
{
	struct boot_settings s;

	boot_settings_init(&s);
	cmdline(&s,
		"BOOT_IMAGE=/vmlinuz root=UUID=x ro rd.dkms_boot.timeout=45 "
		"rd.dkms_boot.compile=0 rd.dkms_boot.load=e1000,i40evf "
		"rd.dkms_boot.kabi_reuse=no rd.dkms_boot.debug quiet\n");
	assert_int_equal(s.timeout_s, 45);
	assert_false(s.compile);
	assert_false(s.kabi_reuse);
	assert_true(s.debug);
	assert_int_equal(strv_length(s.load), 2);
	assert_string_equal(s.load[0], "e1000");
	assert_string_equal(s.load[1], "i40evf");
	assert_null(s.refused);
	/* The last one wins, as for every kernel parameter. */
	cmdline(&s, "rd.dkms_boot=0 rd.dkms_boot.timeout=9 rd.dkms_boot=1 "
		    "rd.dkms_boot.timeout=10");
	assert_true(s.enabled);
	assert_int_equal(s.timeout_s, 10);
	cmdline(&s, "rd.dkms_boot=0");
	assert_false(s.enabled);
	boot_settings_free(&s);
}

static void test_cmdline_quoting_and_init_args(void **state)
{
	struct boot_settings s;

	boot_settings_init(&s);
	/* Quotes group blanks and are dropped; after "--" all is init's. */
	cmdline(&s, "a=\"x y\" \"rd.dkms_boot.load=e1000,igb\" "
		    "rd.dkms_boot.timeout=\"20\" -- rd.dkms_boot=0 "
		    "rd.dkms_boot.timeout=30");
	assert_true(s.enabled);
	assert_int_equal(s.timeout_s, 20);
	assert_int_equal(strv_length(s.load), 2);
	assert_null(s.refused);
	/* Names that only start like ours are someone else's. */
	cmdline(&s, "rd.dkms_bootx=0 rd.dkms_boot_timeout=1");
	assert_true(s.enabled);
	assert_null(s.refused);
	boot_settings_free(&s);
}

static void test_hostile_values_refused(void **state)
{
	static const char *const bad[] = {
		"rd.dkms_boot.timeout=abc",
		"rd.dkms_boot.timeout=0",
		"rd.dkms_boot.timeout=-5",
		"rd.dkms_boot.timeout=+5",
		"rd.dkms_boot.timeout=0x10",
		"rd.dkms_boot.timeout=99999999999999999999",
		"rd.dkms_boot.timeout=3601",
		"rd.dkms_boot.timeout=",
		"rd.dkms_boot.timeout",
		"rd.dkms_boot.compile=2",
		"rd.dkms_boot.compile=",
		"rd.dkms_boot=maybe",
		"rd.dkms_boot.load=../../etc/shadow",
		"rd.dkms_boot.load=e1000,,igb",
		"rd.dkms_boot.load=e1000,",
		"rd.dkms_boot.load=,e1000",
		"rd.dkms_boot.load=a/b",
		"rd.dkms_boot.load="
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"rd.dkms_boot.load=\"e1000 igb\"",
		"rd.dkms_boot.frobnicate=1",
		"rd.dkms_boot.load=e1000\x01",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct boot_settings s;

		boot_settings_init(&s);
		cmdline(&s, bad[i]);
		if (strv_length(s.refused) != 1)
			fprintf(stderr, "case %zu: %s\n", i, bad[i]);
		/* Refused with a reason, nothing changed. */
		assert_int_equal(strv_length(s.refused), 1);
		assert_non_null(strstr(s.refused[0], "refused: "));
		assert_true(s.enabled);
		assert_true(s.compile);
		assert_int_equal(s.timeout_s, BOOT_TIMEOUT_DEFAULT_S);
		assert_null(s.load);
		boot_settings_free(&s);
	}
}

static void test_too_many_modules(void **state)
{
	struct boot_settings s;
	char line[1024] = "rd.dkms_boot.load=";

	for (int i = 0; i <= BOOT_LOAD_MAX; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 "%sm%d", i ? "," : "", i);
	boot_settings_init(&s);
	cmdline(&s, line);
	assert_int_equal(strv_length(s.refused), 1);
	assert_non_null(strstr(s.refused[0], "more than 32"));
	assert_null(s.load);
	/* Duplicates count once. */
	cmdline(&s, "rd.dkms_boot.load=a,a,b,a");
	assert_int_equal(strv_length(s.load), 2);
	/* An empty list clears what the settings file asked for. */
	cmdline(&s, "rd.dkms_boot.load=");
	assert_null(s.load);
	assert_int_equal(strv_length(s.refused), 1);
	boot_settings_free(&s);
}

static void test_long_value_is_cut_in_the_reason(void **state)
{
	struct boot_settings s;
	char line[8192];
	int n = snprintf(line, sizeof(line), "rd.dkms_boot.timeout=");

	memset(line + n, '9', sizeof(line) - (size_t)n - 1);
	line[sizeof(line) - 1] = '\0';
	boot_settings_init(&s);
	cmdline(&s, line);
	assert_int_equal(strv_length(s.refused), 1);
	assert_true(strlen(s.refused[0]) < 200);
	assert_non_null(strstr(s.refused[0], "..."));
	boot_settings_free(&s);
}

static void test_file_then_cmdline(void **state)
{
	struct boot_settings s;

	boot_settings_init(&s);
	file(&s, "# dkms-boot settings\n"
		 "  timeout = 5\n" /* blanks around '=' are not the grammar */
		 "timeout=60\r\n"
		 "compile=0\n"
		 "load=\"e1000\"\n"
		 "\n"
		 "run_scripts=yes\n"
		 "nonsense\n");
	assert_int_equal(s.timeout_s, 60);
	assert_false(s.compile);
	assert_true(s.run_scripts);
	assert_string_equal(s.load[0], "e1000");
	assert_int_equal(strv_length(s.refused), 2);
	assert_non_null(strstr(s.refused[0], "test.conf: timeout = 5"));
	assert_non_null(strstr(s.refused[1], "not key=value"));
	/* The command line wins over the file. */
	cmdline(&s, "rd.dkms_boot.compile=1 rd.dkms_boot.timeout=x");
	assert_true(s.compile);
	assert_int_equal(s.timeout_s, 60);
	boot_settings_free(&s);
}

static void test_file_refused_whole(void **state)
{
	struct boot_settings s;
	static const char nul[] = "timeout=5\0compile=0\n";

	boot_settings_init(&s);
	assert_int_equal(
		boot_settings_apply_file(&s, nul, sizeof(nul) - 1, "f"), 0);
	assert_int_equal(s.timeout_s, BOOT_TIMEOUT_DEFAULT_S);
	assert_true(s.compile);
	assert_non_null(strstr(s.refused[0], "NUL"));
	boot_settings_free(&s);
}

static void test_load_from_files(void **state)
{
	_cleanup_(freep) char *dir = unit_tmpdir();
	_cleanup_(freep) char *conf = xasprintf("%s/dkms-boot.conf", dir);
	_cleanup_(freep) char *cl = xasprintf("%s/cmdline", dir);
	_cleanup_(freep) char *missing = xasprintf("%s/none", dir);
	struct boot_settings s;

	assert_int_equal(
		write_file_atomic(conf, "compile=0\ntimeout=7\n", 20, 0644), 0);
	assert_int_equal(
		write_file_atomic(cl, "ro rd.dkms_boot.timeout=8\n", 26, 0644),
		0);
	assert_int_equal(boot_settings_load(&s, conf, cl), 0);
	assert_false(s.compile);
	assert_int_equal(s.timeout_s, 8);
	assert_null(s.refused);
	boot_settings_free(&s);
	/* No settings file is normal; an unreadable command line is not. */
	assert_int_equal(boot_settings_load(&s, missing, missing), 0);
	assert_true(s.compile);
	assert_int_equal(strv_length(s.refused), 1);
	boot_settings_free(&s);
	unit_sh("rm -rf '%s'", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_cmdline_values),
		cmocka_unit_test(test_cmdline_quoting_and_init_args),
		cmocka_unit_test(test_hostile_values_refused),
		cmocka_unit_test(test_too_many_modules),
		cmocka_unit_test(test_long_value_is_cut_in_the_reason),
		cmocka_unit_test(test_file_then_cmdline),
		cmocka_unit_test(test_file_refused_whole),
		cmocka_unit_test(test_load_from_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
