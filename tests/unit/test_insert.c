// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Insertion through libkmod against real modules built with Kbuild, a
 * real modules.dep from kmod's depmod, and the LD_PRELOAD shim
 * (tests/shim/kmod_shim.c) standing in for the kernel: this program
 * re-executes itself with the shim preloaded.
 */
#include <libkmod.h>
#include <sys/stat.h>

#include "unit.h"
#include "boot/insert.h"

#define K	"6.1.0-56-amd64"
#define KBUILD	"/lib/modules/" K "/build"
#define SHIM_SO "kmod_shim.so"

static char *top, *tree, *sys, *shimlog;
static char core_new[64], core_old[64];

/* One Kbuild directory with dkbcore (exports a symbol) and dkbuser. */
static int build_pair(const char *dir, const char *version, bool with_user)
{
	return unit_sh("mkdir -p '%s' && cd '%s' && "
		       "printf '%%s\\n' '#include <linux/module.h>' "
		       "'int dkbcore_value(void) { return 1; }' "
		       "'EXPORT_SYMBOL_GPL(dkbcore_value);' "
		       "'static int __init c_init(void) { return 0; }' "
		       "'static void __exit c_exit(void) { }' "
		       "'module_init(c_init); module_exit(c_exit);' "
		       "'MODULE_LICENSE(\"GPL\"); MODULE_VERSION(\"%s\");' > "
		       "dkbcore.c && "
		       "printf '%%s\\n' '#include <linux/module.h>' "
		       "'int dkbcore_value(void);' "
		       "'static int __init u_init(void) { return "
		       "dkbcore_value() - 1; }' "
		       "'static void __exit u_exit(void) { }' "
		       "'module_init(u_init); module_exit(u_exit);' "
		       "'MODULE_LICENSE(\"GPL\"); MODULE_VERSION(\"1\");' > "
		       "dkbuser.c && "
		       "echo 'obj-m := dkbcore.o %s' > Kbuild && "
		       "make -s -C " KBUILD
		       " M=\"$PWD\" modules > build.log 2>&1",
		       dir, dir, version, with_user ? "dkbuser.o" : "");
}

static void srcversion_of(const char *ko, char *out, size_t len)
{
	_cleanup_(freep) char *cmd =
		xasprintf("modinfo -F srcversion '%s'", ko);
	FILE *p = popen(cmd, "r");

	out[0] = '\0';
	if (p && fgets(out, (int)len, p))
		out[strcspn(out, "\n")] = '\0';
	if (p)
		pclose(p);
}

static int setup(void **state)
{
	_cleanup_(freep) char *ko_old = NULL, *src_new = NULL, *src_old = NULL;

	top = unit_tmpdir();
	tree = xasprintf("%s/lib/modules/%s", top, K);
	sys = xasprintf("%s/sys-module", top);
	shimlog = xasprintf("%s/shim.log", top);
	setenv("DKB_SHIM_SYS", sys, 1);
	setenv("DKB_SHIM_LOG", shimlog, 1);
	src_new = xasprintf("%s/src-new", top);
	src_old = xasprintf("%s/src-old", top);
	if (build_pair(src_new, "2.0", true) ||
	    build_pair(src_old, "1.0", false)) {
		fail_msg("Kbuild of the test modules failed (headers for " K
			 " installed? see %s/src-*/build.log)",
			 top);
		return -1;
	}
	/* The in-tree copy is the old build; updates/dkms the new pair. */
	if (unit_sh("cd '%s' && mkdir -p %s/kernel/drivers %s/updates/dkms && "
		    "cp src-old/dkbcore.ko %s/kernel/drivers/ && "
		    "cp src-new/dkbcore.ko src-new/dkbuser.ko "
		    "%s/updates/dkms/ && depmod -b '%s' " K,
		    top, tree, tree, tree, tree, top)) {
		fail_msg("depmod over the test tree failed");
		return -1;
	}
	ko_old = xasprintf("%s/src-old/dkbcore.ko", top);
	srcversion_of(ko_old, core_old, sizeof(core_old));
	free(ko_old);
	ko_old = xasprintf("%s/src-new/dkbcore.ko", top);
	srcversion_of(ko_old, core_new, sizeof(core_new));
	assert_true(core_old[0] && core_new[0]);
	assert_string_not_equal(core_old, core_new);
	return 0;
}

static int teardown(void **state)
{
	unit_sh("rm -rf '%s'", top);
	free(top), free(tree), free(sys), free(shimlog);
	return 0;
}

/* A fresh fake /sys/module and shim log for each case. */
static int fresh(void **state)
{
	unsetenv("DKB_SHIM_REJECT");
	return unit_sh("rm -rf '%s' '%s' && mkdir -p '%s'", sys, shimlog, sys);
}

static char *shim_calls(void)
{
	char *buf = NULL;
	size_t len = 0;

	if (read_file(shimlog, 1 << 16, &buf, &len) < 0)
		return strdup("");
	return buf;
}

/* Pretend the kernel has `srcversion` of dkbcore loaded, used `users` times. */
static void preload_core(const char *srcversion, int users)
{
	assert_int_equal(unit_sh("d='%s/dkbcore' && mkdir -p $d/holders && "
				 "echo live > $d/initstate && echo %d > "
				 "$d/refcnt && echo %s > $d/srcversion && "
				 ": > $d/depends",
				 sys, users, srcversion),
			 0);
}

static struct kmod_ctx *ctx_new(void)
{
	const char *no_config[] = {NULL};
	struct kmod_ctx *ctx = kmod_new(tree, no_config);

	assert_non_null(ctx);
	return ctx;
}

static void test_dependencies_first(void **state)
{
	struct kmod_ctx *ctx = ctx_new();
	struct insert_result res;
	_cleanup_(freep) char *calls = NULL;
	char got[64] = "";
	_cleanup_(freep) char *path = xasprintf("%s/dkbcore/srcversion", sys);
	FILE *f;

	assert_int_equal(insert_module(ctx, sys, "dkbuser", &res), 0);
	assert_int_equal(res.outcome, INSERT_LOADED);
	calls = shim_calls();
	assert_string_equal(calls, "insert dkbcore\ninsert dkbuser\n");
	/* The updates/dkms build was loaded, not the in-tree one. */
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(got, sizeof(got), f));
	fclose(f);
	got[strcspn(got, "\n")] = '\0';
	assert_string_equal(got, core_new);
	/* Again: nothing to do, no call reaches the kernel. */
	assert_int_equal(insert_module(ctx, sys, "dkbuser", &res), 0);
	assert_int_equal(res.outcome, INSERT_CURRENT);
	free(calls);
	calls = shim_calls();
	assert_string_equal(calls, "insert dkbcore\ninsert dkbuser\n");
	kmod_unref(ctx);
}

static void test_stale_copy_replaced(void **state)
{
	struct kmod_ctx *ctx = ctx_new();
	struct insert_result res;
	_cleanup_(freep) char *calls = NULL;

	preload_core(core_old, 0);
	assert_int_equal(insert_module(ctx, sys, "dkbcore", &res), 0);
	assert_int_equal(res.outcome, INSERT_REPLACED);
	calls = shim_calls();
	assert_string_equal(calls, "remove dkbcore\ninsert dkbcore\n");
	kmod_unref(ctx);
}

static void test_stale_copy_in_use_left_alone(void **state)
{
	struct kmod_ctx *ctx = ctx_new();
	struct insert_result res;
	_cleanup_(freep) char *calls = NULL;

	preload_core(core_old, 1);
	assert_int_equal(insert_module(ctx, sys, "dkbcore", &res), 0);
	assert_int_equal(res.outcome, INSERT_IN_USE);
	assert_non_null(strstr(res.why, core_old));
	assert_non_null(strstr(res.why, core_new));
	calls = shim_calls();
	assert_string_equal(calls, "");
	/* And a user of it fails with the dependency named. */
	assert_int_equal(insert_module(ctx, sys, "dkbuser", &res), 0);
	assert_int_equal(res.outcome, INSERT_FAILED);
	assert_non_null(strstr(res.why, "dependency dkbcore in use"));
	kmod_unref(ctx);
}

static void test_kernel_refusal_named(void **state)
{
	struct kmod_ctx *ctx = ctx_new();
	struct insert_result res;
	_cleanup_(freep) char *calls = NULL;
	_cleanup_(freep) char *env = xasprintf("dkbcore:%d", EKEYREJECTED);

	setenv("DKB_SHIM_REJECT", env, 1);
	assert_int_equal(insert_module(ctx, sys, "dkbuser", &res), 0);
	assert_int_equal(res.outcome, INSERT_FAILED);
	assert_non_null(strstr(res.why, "signature not trusted"));
	calls = shim_calls();
	/* dkbuser is never tried without its dependency. */
	assert_null(strstr(calls, "dkbuser"));
	unsetenv("DKB_SHIM_REJECT");
	kmod_unref(ctx);
}

static void test_unknown_module(void **state)
{
	struct kmod_ctx *ctx = ctx_new();
	struct insert_result res;

	assert_int_equal(insert_module(ctx, sys, "no_such_module", &res),
			 -ENOENT);
	kmod_unref(ctx);
}

/* The shim must be preloaded; re-execute with it when it is not. */
static void ensure_shim(char **argv)
{
	char self[4096], so[4096 + 32];
	ssize_t n;
	const char *asan = getenv("ASAN_OPTIONS");
	_cleanup_(freep) char *asan2 = NULL;

	if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), SHIM_SO))
		return;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		exit(2);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(so, sizeof(so), "%s/../shim/" SHIM_SO, self);
	if (access(so, R_OK) != 0) {
		fprintf(stderr, "test_insert: %s missing (make test-build)\n",
			so);
		exit(2);
	}
	setenv("LD_PRELOAD", so, 1);
	/* ASan wants to come first; the shim only wraps syscalls. */
	asan2 = xasprintf("%s%sverify_asan_link_order=0", asan ? asan : "",
			  asan ? ":" : "");
	setenv("ASAN_OPTIONS", asan2, 1);
	execv("/proc/self/exe", argv);
	exit(2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_dependencies_first, fresh),
		cmocka_unit_test_setup(test_stale_copy_replaced, fresh),
		cmocka_unit_test_setup(test_stale_copy_in_use_left_alone,
				       fresh),
		cmocka_unit_test_setup(test_kernel_refusal_named, fresh),
		cmocka_unit_test_setup(test_unknown_module, fresh),
	};

	ensure_shim(argv);
	return cmocka_run_group_tests(tests, setup, teardown);
}
