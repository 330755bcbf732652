// SPDX-License-Identifier: GPL-2.0-or-later
/* The module state cache: parse, look up, save, trust rules. */
#include <sys/stat.h>

#include "unit.h"
#include "dkms/statecache.h"

static const char good[] =
	"dkms-boot-state 1\n"
	"E\t1:2:3:4:5\t6:7:8:9:10\t1\t/t/a.ko\t/i/a.ko\n"
	"V\t6:7:8:9:10\t/i/a.ko\t6.1.0-56-amd64 SMP mod_unload\n";

static void test_parse_and_lookup(void **state)
{
	struct state_cache sc = {0};
	const char *vm = NULL;
	bool eq = false;

	assert_int_equal(state_cache_parse(good, strlen(good), &sc), 0);
	assert_int_equal(sc.n, 2);
	assert_int_equal(state_get_equal(&sc, "/t/a.ko", "1:2:3:4:5", "/i/a.ko",
					 "6:7:8:9:10", &eq),
			 0);
	assert_true(eq);
	/* A changed identity on either side misses. */
	assert_int_equal(state_get_equal(&sc, "/t/a.ko", "1:2:3:4:6", "/i/a.ko",
					 "6:7:8:9:10", &eq),
			 -ENOENT);
	assert_int_equal(state_get_vermagic(&sc, "/i/a.ko", "6:7:8:9:10", &vm),
			 0);
	assert_string_equal(vm, "6.1.0-56-amd64 SMP mod_unload");
	assert_int_equal(state_get_vermagic(&sc, "/i/b.ko", "6:7:8:9:10", &vm),
			 -ENOENT);
	state_cache_free(&sc);
}

static void test_refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"dkms-boot-state 2\n",
		"dkms-boot-state 1\nE\t1\t2\t3\ta\tb\n",
		"dkms-boot-state 1\nV\t1\t\tv\n",
		"dkms-boot-state 1\nV\t1\tp\tv", /* no final newline */
		"dkms-boot-state 1\nV\t1\tp\tv\tx\n",
		"dkms-boot-state 1\nQ\t1\tp\tv\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct state_cache sc = {0};

		assert_int_equal(state_cache_parse(bad[i], strlen(bad[i]), &sc),
				 -EPROTO);
		assert_int_equal(sc.n, 0);
	}
}

static void test_save_roundtrip_keeps_used_only(void **state)
{
	_cleanup_(freep) char *dir = unit_tmpdir();
	_cleanup_(freep) char *path = path_join(dir, "k-x86_64");
	struct state_cache sc = {0}, back = {0};
	const char *vm;
	bool eq;

	assert_int_equal(state_cache_parse(good, strlen(good), &sc), 0);
	/* Only the vermagic record is used this run, plus a new one. */
	assert_int_equal(state_get_vermagic(&sc, "/i/a.ko", "6:7:8:9:10", &vm),
			 0);
	assert_int_equal(
		state_put_equal(&sc, "/t/b.ko", "1", "/i/b.ko", "2", false), 0);
	/* Unrepresentable paths are not cached (and say so). */
	assert_int_equal(state_put_vermagic(&sc, "/i/tab\there.ko", "3", "v"),
			 -EINVAL);
	assert_int_equal(state_cache_save(&sc, path), 0);
	assert_int_equal(state_cache_load(path, &back), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(
		state_get_equal(&back, "/t/b.ko", "1", "/i/b.ko", "2", &eq), 0);
	assert_false(eq);
	assert_int_equal(state_get_equal(&back, "/t/a.ko", "1:2:3:4:5",
					 "/i/a.ko", "6:7:8:9:10", &eq),
			 -ENOENT);
	state_cache_free(&sc);
	state_cache_free(&back);
	unlink(path);
	rmdir(dir);
}

static void test_untrusted_file_refused(void **state)
{
	_cleanup_(freep) char *dir = unit_tmpdir();
	_cleanup_(freep) char *path = path_join(dir, "c");
	struct state_cache sc = {0};

	assert_int_equal(write_file_atomic(path, good, strlen(good), 0666), 0);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(state_cache_load(path, &sc), -EPERM);
	assert_int_equal(chmod(path, 0644), 0);
	if (getuid() == 0)
		assert_int_equal(state_cache_load(path, &sc), 0);
	state_cache_free(&sc);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_refuses_malformed),
		cmocka_unit_test(test_save_roundtrip_keeps_used_only),
		cmocka_unit_test(test_untrusted_file_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
