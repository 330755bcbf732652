// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dkms_conf_resolve() and friends against hand-written expectations and,
 * where the real thing is installed, against dkms 3.0.10 itself: its
 * read_conf() and VER() run in bash on the same variables, and GNU
 * `sort -V` on the same strings.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"
#include "conf/readconf.h"
#include "conf/vars.h"

#define DKMS_SCRIPT "/usr/sbin/dkms"

struct kv {
	const char *name;
	size_t idx;
	const char *val;
};

static void build_vars(struct vars *vs, const struct kv *kv)
{
	for (; kv && kv->name; kv++)
		assert_int_equal(vars_set(vs, kv->name, kv->idx, kv->val), 0);
}

static struct dkms_conf_ctx debian_ctx(void)
{
	return (struct dkms_conf_ctx){
		.kernelver = "6.1.0-56-amd64",
		.arch = "x86_64",
		.kernel_source_dir = "/lib/modules/6.1.0-56-amd64/build",
		.dkms_tree = "/var/lib/dkms",
		.module = "i40evf",
		.module_version = "3.4.2",
		.dest_override = "/updates/dkms",
		.kconfig = NULL,
	};
}

static void resolve_kv(const struct kv *kv, const struct dkms_conf_ctx *ctx,
		       struct dkms_conf *conf)
{
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;

	build_vars(&vs, kv);
	assert_int_equal(dkms_conf_resolve(&vs, ctx, conf), 0);
}

static void assert_strv(char **got, const char *const *want)
{
	size_t n = 0;

	assert_non_null(got);
	for (; want[n]; n++) {
		assert_non_null(got[n]);
		assert_string_equal(got[n], want[n]);
	}
	assert_null(got[n]);
}

static const char *const none[] = {NULL};

/* ---- the seed scenario and the module arrays -------------------------- */

static void test_seed(void **state)
{
	static const struct kv kv[] = {
		{"PACKAGE_NAME", 0, "i40evf"},
		{"PACKAGE_VERSION", 0, "3.4.2"},
		{"BUILT_MODULE_NAME", 0, "i40evf"},
		{"DEST_MODULE_LOCATION", 0, "/updates"},
		{"AUTOINSTALL", 0, "yes"},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};
	char reason[256];

	resolve_kv(kv, &ctx, &c);
	assert_strv(c.errors, none);
	assert_string_equal(c.package_name, "i40evf");
	assert_string_equal(c.package_version, "3.4.2");
	assert_int_equal(c.n_mods, 1);
	assert_string_equal(c.mods[0].built_name, "i40evf");
	assert_string_equal(c.mods[0].dest_name, "i40evf");
	assert_string_equal(c.mods[0].built_location, "");
	assert_string_equal(c.mods[0].dest_location, "/updates/dkms");
	assert_string_equal(c.mods[0].dest_location_raw, "/updates");
	assert_true(c.mods[0].strip);
	assert_string_equal(c.make_command,
			    "make -C /lib/modules/6.1.0-56-amd64/build "
			    "M=/var/lib/dkms/i40evf/3.4.2/build");
	assert_string_equal(c.clean,
			    "make -C /lib/modules/6.1.0-56-amd64/build "
			    "M=/var/lib/dkms/i40evf/3.4.2/build clean");
	assert_true(c.autoinstall);
	assert_false(c.no_weak_modules);
	assert_false(c.build_exclude);
	assert_null(c.exclude_reason);
	assert_strv(c.patches, none);
	assert_strv(c.build_depends, none);
	assert_string_equal(c.pre_build, "");
	assert_string_equal(c.obsolete_by, "");
	assert_int_equal(dkms_conf_validate_names(&c, reason, sizeof(reason)),
			 0);
}

static void test_multi_module(void **state)
{
	static const struct kv kv[] = {
		{"PACKAGE_NAME", 0, "pkg"},
		{"PACKAGE_VERSION", 0, "1.0"},
		{"BUILT_MODULE_NAME", 0, "a"},
		{"BUILT_MODULE_NAME", 1, "b"},
		{"BUILT_MODULE_LOCATION", 0, "src"},
		{"BUILT_MODULE_LOCATION", 1, "src/b/"},
		{"DEST_MODULE_NAME", 1, "b_renamed"},
		{"DEST_MODULE_LOCATION", 0, "/kernel/drivers/net"},
		{"DEST_MODULE_LOCATION", 1, "/extra"},
		{"BUILD_DEPENDS", 0, "dep1 dep2"},
		{"BUILD_DEPENDS", 3, "\tdep3\n"},
		{"NO_WEAK_MODULES", 0, "yes"},
		{"AUTOINSTALL", 0, "no"},
		{"PRE_BUILD", 0, "configure.sh"},
		{NULL, 0, NULL},
	};
	static const char *const deps[] = {"dep1", "dep2", "dep3", NULL};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

	resolve_kv(kv, &ctx, &c);
	assert_strv(c.errors, none);
	assert_int_equal(c.n_mods, 2);
	assert_string_equal(c.mods[0].built_location, "src/");
	assert_string_equal(c.mods[1].built_location, "src/b/");
	assert_string_equal(c.mods[0].dest_name, "a");
	assert_string_equal(c.mods[1].dest_name, "b_renamed");
	assert_string_equal(c.mods[0].dest_location, "/updates/dkms");
	assert_string_equal(c.mods[1].dest_location_raw, "/extra");
	assert_strv(c.build_depends, deps);
	assert_true(c.no_weak_modules);
	/* 3.0.10 only asks whether AUTOINSTALL is non-empty. */
	assert_true(c.autoinstall);
	assert_string_equal(c.pre_build, "configure.sh");
}

static void test_sparse_arrays(void **state)
{
	/* Two set elements each: the loop runs over indexes 0 and 1, so
	 * record 1 is empty and the entries at index 2 are never seen. */
	static const struct kv kv[] = {
		{"PACKAGE_NAME", 0, "pkg"},
		{"PACKAGE_VERSION", 0, "1.0"},
		{"BUILT_MODULE_NAME", 0, "a"},
		{"BUILT_MODULE_NAME", 2, "c"},
		{"DEST_MODULE_LOCATION", 0, "/updates"},
		{"DEST_MODULE_LOCATION", 2, "/updates"},
		{NULL, 0, NULL},
	};
	static const char *const errs[] = {
		"dkms.conf: Error! No 'BUILT_MODULE_NAME' directive specified "
		"for record #1.",
		"dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive "
		"specified for record #1.",
		"dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not "
		"begin with",
		"'/kernel', '/updates', or '/extra' in record #1.",
		NULL,
	};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

	resolve_kv(kv, &ctx, &c);
	assert_int_equal(c.n_mods, 2);
	assert_string_equal(c.mods[0].built_name, "a");
	assert_string_equal(c.mods[1].built_name, "");
	assert_strv(c.errors, errs);
}

static void test_defaults(void **state)
{
	/* One DEST_MODULE_LOCATION: the package name fills in. */
	static const struct kv one[] = {
		{"PACKAGE_NAME", 0, "foo"},
		{"PACKAGE_VERSION", 0, "2"},
		{"DEST_MODULE_LOCATION", 0, "/extra"},
		{"BUILT_MODULE_LOCATION", 0, "x"},
		{"BUILT_MODULE_LOCATION", 1, "y"},
		{NULL, 0, NULL},
	};
	static const char *const errs[] = {
		"dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive "
		"specified for record #1.",
		"dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not "
		"begin with",
		"'/kernel', '/updates', or '/extra' in record #1.",
		NULL,
	};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

	resolve_kv(one, &ctx, &c);
	/* Two records (BUILT_MODULE_LOCATION has two), but a single
	 * DEST_MODULE_LOCATION: both take the package name. */
	assert_int_equal(c.n_mods, 2);
	assert_string_equal(c.mods[0].built_name, "foo");
	assert_string_equal(c.mods[1].built_name, "foo");
	assert_string_equal(c.mods[1].dest_name, "foo");
	assert_string_equal(c.mods[1].built_location, "y/");
	assert_strv(c.errors, errs);
}

static void test_strip(void **state)
{
	static const struct kv kv[] = {
		{"PACKAGE_NAME", 0, "p"},
		{"PACKAGE_VERSION", 0, "1"},
		{"BUILT_MODULE_NAME", 0, "m0"},
		{"BUILT_MODULE_NAME", 1, "m1"},
		{"BUILT_MODULE_NAME", 2, "m2"},
		{"BUILT_MODULE_NAME", 3, "m3"},
		{"BUILT_MODULE_NAME", 4, "m4"},
		{"DEST_MODULE_LOCATION", 0, "/updates"},
		{"DEST_MODULE_LOCATION", 1, "/updates"},
		{"DEST_MODULE_LOCATION", 2, "/updates"},
		{"DEST_MODULE_LOCATION", 3, "/updates"},
		{"DEST_MODULE_LOCATION", 4, "/updates"},
		{"STRIP", 0, "No"},
		{"STRIP", 2, "yes"},
		{"STRIP", 3, "1"},
		{"STRIP", 4, ""},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

	resolve_kv(kv, &ctx, &c);
	assert_int_equal(c.n_mods, 5);
	assert_false(c.mods[0].strip); /* [nN]* */
	assert_false(c.mods[1].strip); /* unset: inherits strip[0] */
	assert_true(c.mods[2].strip);
	assert_true(c.mods[3].strip); /* "1": untouched, unset: strips */
	assert_false(c.mods[4].strip);
}

static void test_strip_lowercase_from_conf(void **state)
{
	/* strip[] is whitelisted: a conf may set it, and then STRIP's ''
	 * branch (${strip[0]:-yes}) and "other" branch see it. */
	static const struct kv kv[] = {
		{"PACKAGE_NAME", 0, "p"},
		{"PACKAGE_VERSION", 0, "1"},
		{"BUILT_MODULE_NAME", 0, "m0"},
		{"BUILT_MODULE_NAME", 1, "m1"},
		{"BUILT_MODULE_NAME", 2, "m2"},
		{"DEST_MODULE_LOCATION", 0, "/updates"},
		{"DEST_MODULE_LOCATION", 1, "/updates"},
		{"DEST_MODULE_LOCATION", 2, "/updates"},
		{"strip", 0, "no"},
		{"strip", 2, "no"},
		{"STRIP", 2, "true"},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

	resolve_kv(kv, &ctx, &c);
	assert_false(c.mods[0].strip);
	assert_false(c.mods[1].strip);
	assert_false(c.mods[2].strip);
}

static void test_lowercase_module_arrays(void **state)
{
	/* An element of built_module_name past the loop adds a record to
	 * dkms's build/install loops, read as the conf wrote it. */
	static const struct kv kv[] = {
		{"PACKAGE_NAME", 0, "p"},
		{"PACKAGE_VERSION", 0, "1"},
		{"BUILT_MODULE_NAME", 0, "m0"},
		{"DEST_MODULE_LOCATION", 0, "/updates"},
		{"built_module_name", 0, "ignored"},
		{"built_module_name", 1, "extra"},
		{"dest_module_location", 1, "/kernel/x"},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};
	char reason[256];

	resolve_kv(kv, &ctx, &c);
	assert_strv(c.errors, none);
	assert_int_equal(c.n_mods, 2);
	assert_string_equal(c.mods[0].built_name, "m0");
	assert_string_equal(c.mods[1].built_name, "extra");
	assert_string_equal(c.mods[1].dest_name, "");
	assert_string_equal(c.mods[1].dest_location, "/kernel/x");
	assert_true(c.mods[1].strip);
	assert_int_equal(dkms_conf_validate_names(&c, reason, sizeof(reason)),
			 -EINVAL);
	assert_string_equal(reason,
			    "record #1: DEST_MODULE_NAME \"\" is empty");
}

static void test_no_override(void **state)
{
	static const struct kv kv[] = {
		{"PACKAGE_NAME", 0, "p"},
		{"PACKAGE_VERSION", 0, "1"},
		{"BUILT_MODULE_NAME", 0, "a"},
		{"BUILT_MODULE_NAME", 1, "b"},
		{"BUILT_MODULE_NAME", 2, "c"},
		{"DEST_MODULE_LOCATION", 0, "/kernel/net extra words"},
		{"DEST_MODULE_LOCATION", 1, "  /extra/x"},
		{"DEST_MODULE_LOCATION", 2, "-n"},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

	ctx.dest_override = NULL;
	resolve_kv(kv, &ctx, &c);
	/* override_dest_module_location ${raw}: first word only. */
	assert_string_equal(c.mods[0].dest_location, "/kernel/net");
	assert_string_equal(c.mods[0].dest_location_raw,
			    "/kernel/net extra words");
	assert_string_equal(c.mods[1].dest_location, "/extra/x");
	/* echo "-n" prints nothing. */
	assert_string_equal(c.mods[2].dest_location, "");
	/* Both "  /extra/x" and "-n" fail the /kernel, /updates, /extra
	 * check, which looks at the raw value. */
	assert_int_equal(strv_length(c.errors), 4);
}

/* ---- MAKE, CLEAN, clang ------------------------------------------------ */

static const struct kv base_kv[] = {
	{"PACKAGE_NAME", 0, "p"},
	{"PACKAGE_VERSION", 0, "1"},
	{"BUILT_MODULE_NAME", 0, "m"},
	{"DEST_MODULE_LOCATION", 0, "/updates"},
	{NULL, 0, NULL},
};

static void resolve_with(const struct kv *extra,
			 const struct dkms_conf_ctx *ctx, struct dkms_conf *c)
{
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;

	build_vars(&vs, base_kv);
	build_vars(&vs, extra);
	assert_int_equal(dkms_conf_resolve(&vs, ctx, c), 0);
	assert_strv(c->errors, none);
}

static void test_make_match(void **state)
{
	static const struct kv plain[] = {
		{"MAKE", 0, "make all"},
		{"CLEAN", 0, "make distclean"},
		{NULL, 0, NULL},
	};
	static const struct kv match[] = {
		{"MAKE", 0, "make zero"},	{"MAKE", 1, "make five"},
		{"MAKE", 2, "make six"},	{"MAKE", 3, "make six-one"},
		{"MAKE_MATCH", 1, "^5\\."},	{"MAKE_MATCH", 2, "^6\\."},
		{"MAKE_MATCH", 3, "^6\\.1\\."}, {NULL, 0, NULL},
	};
	/* MAKE_MATCH[0] set and unmatched: MAKE[0] is no fallback. */
	static const struct kv unmatched[] = {
		{"MAKE", 0, "make zero"}, {"MAKE_MATCH", 0, "^4\\."},
		{"MAKE", 1, "make bad"},  {"MAKE_MATCH", 1, "(("},
		{NULL, 0, NULL},
	};
	/* ${#MAKE[@]} counts set elements: MAKE[5] is beyond the loop. */
	static const struct kv sparse[] = {
		{"MAKE", 0, "make zero"},
		{"MAKE", 5, "make five"},
		{"MAKE_MATCH", 5, "."},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();

	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		resolve_with(plain, &ctx, &c);
		assert_string_equal(c.make_command, "make all");
		assert_string_equal(c.clean, "make distclean");
	}
	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		resolve_with(match, &ctx, &c);
		assert_string_equal(c.make_command, "make six-one");
	}
	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		resolve_with(unmatched, &ctx, &c);
		assert_string_equal(c.make_command,
				    "make -C /lib/modules/6.1.0-56-amd64/build "
				    "M=/var/lib/dkms/i40evf/3.4.2/build");
	}
	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		resolve_with(sparse, &ctx, &c);
		assert_string_equal(c.make_command, "make zero");
	}
}

static void test_clang(void **state)
{
	static const struct kv mk[] = {
		{"MAKE", 0, "make KDIR=x"},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();

	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		ctx.kconfig = "CONFIG_X=y\nCONFIG_CC_IS_CLANG=y\n"
			      "CONFIG_LD_IS_LLD=y\n";
		resolve_with(mk, &ctx, &c);
		assert_string_equal(c.make_command,
				    "make KDIR=x CC=clang LD=ld.lld");
	}
	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		/* grep -q without anchors: a substring anywhere. */
		ctx.kconfig = "# XCONFIG_CC_IS_CLANG=yes\nCONFIG_CC_IS_GCC=y";
		resolve_with(mk, &ctx, &c);
		assert_string_equal(c.make_command, "make KDIR=x CC=clang");
	}
	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		ctx.kconfig = "# CONFIG_CC_IS_CLANG is not set\n";
		resolve_with(mk, &ctx, &c);
		assert_string_equal(c.make_command, "make KDIR=x");
	}
}

/* ---- PATCH ------------------------------------------------------------- */

static void test_patch_match(void **state)
{
	static const struct kv kv[] = {
		{"PATCH", 0, "always.patch"},
		{"PATCH", 1, "five.patch"},
		{"PATCH_MATCH", 1, "^5\\."},
		{"PATCH", 2, "six.patch"},
		{"PATCH_MATCH", 2, "^6\\.1"},
		{"PATCH", 3, ""},
		{"PATCH", 4, "broken.patch"},
		{"PATCH_MATCH", 4, "[z-a]"},
		{"patch_array", 0, "overwritten.patch"},
		{"patch_array", 7, "kept.patch"},
		{NULL, 0, NULL},
	};
	static const char *const want[] = {"always.patch", "six.patch",
					   "kept.patch", NULL};
	struct dkms_conf_ctx ctx = debian_ctx();
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

	resolve_with(kv, &ctx, &c);
	assert_strv(c.patches, want);
}

/* ---- BUILD_EXCLUSIVE_* ------------------------------------------------- */

struct excl_case {
	struct kv kv[3];
	const char *kconfig;
	bool excluded;
	const char *reason;
};

static void test_build_exclusive(void **state)
{
	static const char kconf[] = "CONFIG_PCI=y\nCONFIG_USB=m\n"
				    "# CONFIG_PREEMPT_RT is not set\n"
				    "CONFIG_NET=n\nCONFIG_RT=y";
	static const struct excl_case cases[] = {
		{{{"BUILD_EXCLUSIVE_KERNEL", 0, "^6\\.1\\."}},
		 NULL,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_KERNEL", 0, "^5\\."}},
		 NULL,
		 true,
		 "BUILD_EXCLUSIVE_KERNEL=\"^5\\.\" does not match "
		 "6.1.0-56-amd64"},
		{{{"BUILD_EXCLUSIVE_KERNEL", 0, "(("}},
		 NULL,
		 true,
		 "BUILD_EXCLUSIVE_KERNEL=\"((\" does not match 6.1.0-56-amd64 "
		 "(invalid regular expression)"},
		{{{"BUILD_EXCLUSIVE_ARCH", 0, "x86_64|i.86"}},
		 NULL,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_ARCH", 0, "^arm"}},
		 NULL,
		 true,
		 "BUILD_EXCLUSIVE_ARCH=\"^arm\" does not match x86_64"},
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "CONFIG_PCI CONFIG_USB"}},
		 kconf,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "CONFIG_NET"}},
		 kconf,
		 true,
		 "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_NET\": CONFIG_NET is not "
		 "set to y or m in the kernel's .config"},
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "!CONFIG_PREEMPT_RT"}},
		 kconf,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "CONFIG_PCI\t!CONFIG_RT"}},
		 kconf,
		 true,
		 "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_PCI\t!CONFIG_RT\": "
		 "CONFIG_RT is set in the kernel's .config"},
		/* The word is a regex fragment. */
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "CONFIG_(PCI|ISA)"}},
		 kconf,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "!CONFIG_U.B"}},
		 kconf,
		 true,
		 "BUILD_EXCLUSIVE_CONFIG=\"!CONFIG_U.B\": CONFIG_U.B is set "
		 "in the kernel's .config"},
		/* Uncompilable: grep fails, "X" excludes, "!X" does not. */
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "!CONFIG_(("}},
		 kconf,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "CONFIG_(("}},
		 kconf,
		 true,
		 "BUILD_EXCLUSIVE_CONFIG=\"CONFIG_((\": CONFIG_(( is not set "
		 "to y or m in the kernel's .config"},
		/* No .config: not checked at all. */
		{{{"BUILD_EXCLUSIVE_CONFIG", 0, "CONFIG_NOPE"}},
		 NULL,
		 false,
		 NULL},
		{{{"build_exclude", 0, "yes"}},
		 NULL,
		 true,
		 "dkms.conf sets build_exclude=\"yes\""},
		{{{"BUILD_EXCLUSIVE_KERNEL_MIN", 0, "6.1"}}, NULL, false, NULL},
		{{{"BUILD_EXCLUSIVE_KERNEL_MIN", 0, "6.1.0-56-amd64"}},
		 NULL,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_KERNEL_MIN", 0, "6.2"}},
		 NULL,
		 true,
		 "kernel 6.1.0-56-amd64 is older than "
		 "BUILD_EXCLUSIVE_KERNEL_MIN=\"6.2\""},
		{{{"BUILD_EXCLUSIVE_KERNEL_MAX", 0, "6.1.0-56-amd64"}},
		 NULL,
		 false,
		 NULL},
		{{{"BUILD_EXCLUSIVE_KERNEL_MAX", 0, "6.1.0-9"}},
		 NULL,
		 true,
		 "kernel 6.1.0-56-amd64 is newer than "
		 "BUILD_EXCLUSIVE_KERNEL_MAX=\"6.1.0-9\""},
		{{{"BUILD_EXCLUSIVE_KERNEL_MAX", 0, "6.10"},
		  {"BUILD_EXCLUSIVE_KERNEL_MIN", 0, "5.10"}},
		 NULL,
		 false,
		 NULL},
		/* Several reasons: the first in dkms's order is reported. */
		{{{"BUILD_EXCLUSIVE_ARCH", 0, "arm"},
		  {"BUILD_EXCLUSIVE_KERNEL", 0, "^4"}},
		 NULL,
		 true,
		 "BUILD_EXCLUSIVE_KERNEL=\"^4\" does not match "
		 "6.1.0-56-amd64"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct dkms_conf_ctx ctx = debian_ctx();
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		ctx.kconfig = cases[i].kconfig;
		resolve_with(cases[i].kv, &ctx, &c);
		if (c.build_exclude != cases[i].excluded)
			fail_msg("case %zu: excluded=%d", i, c.build_exclude);
		if (!cases[i].reason) {
			assert_null(c.exclude_reason);
			continue;
		}
		assert_non_null(c.exclude_reason);
		assert_string_equal(c.exclude_reason, cases[i].reason);
	}
}

/* ---- dkms's error messages --------------------------------------------- */

static void test_errors(void **state)
{
	static const struct kv kv[] = {
		{"BUILT_MODULE_NAME", 0, "a.ko"},
		{"DEST_MODULE_NAME", 0, "b.o"},
		{"DEST_MODULE_LOCATION", 0, "/lib/modules"},
		{"BUILT_MODULE_NAME", 1, "ok"},
		{"DEST_MODULE_LOCATION", 1, ""},
		{NULL, 0, NULL},
	};
	static const char *const errs[] = {
		"dkms.conf: Error! 'BUILT_MODULE_NAME' directive ends in '.o' "
		"or '.ko' in record #0.",
		"dkms.conf: Error! 'DEST_MODULE_NAME' directive ends in '.o' "
		"or '.ko' in record #0.",
		"dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not "
		"begin with",
		"'/kernel', '/updates', or '/extra' in record #0.",
		"dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive "
		"specified for record #1.",
		"dkms.conf: Error! Directive 'DEST_MODULE_LOCATION' does not "
		"begin with",
		"'/kernel', '/updates', or '/extra' in record #1.",
		"dkms.conf: Error! No 'PACKAGE_NAME' directive specified.",
		"dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.",
		NULL,
	};
	static const char *const empty_errs[] = {
		"dkms.conf: Error! No 'DEST_MODULE_LOCATION' directive "
		"specified.",
		"dkms.conf: Error! No 'PACKAGE_NAME' directive specified.",
		"dkms.conf: Error! No 'PACKAGE_VERSION' directive specified.",
		NULL,
	};
	static const struct kv lower_only[] = {
		{"PACKAGE_NAME", 0, "p"},
		{"PACKAGE_VERSION", 0, "1"},
		{"dest_module_location", 3, "/x"},
		{NULL, 0, NULL},
	};
	struct dkms_conf_ctx ctx = debian_ctx();

	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		resolve_kv(kv, &ctx, &c);
		assert_strv(c.errors, errs);
	}
	{
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};
		_cleanup_(vars_freep) struct vars vs = VARS_INIT;

		assert_int_equal(dkms_conf_resolve(&vs, &ctx, &c), 0);
		assert_strv(c.errors, empty_errs);
		assert_int_equal(c.n_mods, 0);
		assert_string_equal(c.package_name, "");
	}
	{
		/* A conf that set dest_module_location itself escapes the
		 * "no DEST_MODULE_LOCATION at all" check. */
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};

		resolve_kv(lower_only, &ctx, &c);
		assert_strv(c.errors, none);
		assert_int_equal(c.n_mods, 0);
	}
}

/* ---- dkms-boot's refusals ---------------------------------------------- */

static void test_validate_names(void **state)
{
	static const struct {
		const char *name, *val, *reason;
	} cases[] = {
		{"BUILT_MODULE_NAME", "../evil",
		 "record #0: BUILT_MODULE_NAME \"../evil\" contains '/'"},
		{"BUILT_MODULE_NAME", "..",
		 "record #0: BUILT_MODULE_NAME \"..\" is a directory name"},
		{"DEST_MODULE_NAME", ".",
		 "record #0: DEST_MODULE_NAME \".\" is a directory name"},
		/* The reason is one line (lib/why): the newline shows as ?. */
		{"DEST_MODULE_NAME", "a\nb",
		 "record #0: DEST_MODULE_NAME \"a?b\" contains a newline"},
		{"BUILT_MODULE_LOCATION", "src/../../x",
		 "record #0: BUILT_MODULE_LOCATION \"src/../../x/\" has a '..' "
		 "component"},
		{"DEST_MODULE_LOCATION", "/updates/../../../etc",
		 "record #0: DEST_MODULE_LOCATION \"/updates/../../../etc\" "
		 "has "
		 "a '..' component"},
		{"PACKAGE_NAME", "a/b", "PACKAGE_NAME \"a/b\" contains '/'"},
		{"PACKAGE_VERSION", "..",
		 "PACKAGE_VERSION \"..\" contains '..'"},
		{"PACKAGE_VERSION", "1.0/..",
		 "PACKAGE_VERSION \"1.0/..\" contains '/'"},
	};
	char reason[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(vars_freep) struct vars vs = VARS_INIT;
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};
		struct dkms_conf_ctx ctx = debian_ctx();

		build_vars(&vs, base_kv);
		assert_int_equal(vars_set(&vs, cases[i].name, 0, cases[i].val),
				 0);
		assert_int_equal(dkms_conf_resolve(&vs, &ctx, &c), 0);
		reason[0] = '\0';
		assert_int_equal(
			dkms_conf_validate_names(&c, reason, sizeof(reason)),
			-EINVAL);
		assert_string_equal(reason, cases[i].reason);
	}
	{
		/* Names dkms-boot accepts: dots inside, ".." not a
		 * component, no reason buffer at all. */
		_cleanup_(vars_freep) struct vars vs = VARS_INIT;
		_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};
		struct dkms_conf_ctx ctx = debian_ctx();

		build_vars(&vs, base_kv);
		assert_int_equal(vars_set(&vs, "BUILT_MODULE_NAME", 0, "a.b"),
				 0);
		assert_int_equal(
			vars_set(&vs, "BUILT_MODULE_LOCATION", 0, "x..y/.z"),
			0);
		assert_int_equal(dkms_conf_resolve(&vs, &ctx, &c), 0);
		assert_int_equal(dkms_conf_validate_names(&c, NULL, 0), 0);
	}
}

static void test_free_edge_cases(void **state)
{
	struct dkms_conf z = {0};
	struct dkms_conf partial = {0};

	dkms_conf_free(&z);
	dkms_conf_free(&z);
	/* As left half-way: some fields, a module array with holes. */
	partial.package_name = strdup("p");
	partial.mods = calloc(3, sizeof(*partial.mods));
	assert_non_null(partial.mods);
	partial.n_mods = 3;
	partial.mods[1].built_name = strdup("x");
	assert_int_equal(strv_push(&partial.errors, "e"), 0);
	dkms_conf_free(&partial);
	assert_null(partial.mods);
	assert_null(partial.package_name);
}

static void test_whitelists(void **state)
{
	size_t n = 0;
	bool min = false, max = false;

	for (const char *const *w = dkms_conf_whitelist; *w; w++, n++) {
		min |= streq(*w, "BUILD_EXCLUSIVE_KERNEL_MIN");
		max |= streq(*w, "BUILD_EXCLUSIVE_KERNEL_MAX");
	}
	assert_int_equal(n, 42);
	assert_true(min && max);
	n = 0;
	for (const char *const *w = dkms_framework_whitelist; *w; w++)
		n++;
	assert_int_equal(n, 11);
}

/* ---- VER and sort -V tables -------------------------------------------- */

static void test_ver_table(void **state)
{
	/* Expected values are what dkms 3.0.10's VER prints under bash
	 * 5.2 with LC_ALL=C. */
	static const struct {
		const char *in, *key;
	} t[] = {
		{"2.6.9-1cvs200409091247", "002.006.009-001cvs200409091247"},
		{"1.0", "001.000"},
		{"v10", "v010"},
		{"", ""},
		{"3.4.2", "003.004.002"},
		{"1.2.3a", "001.002.003a"},
		{"0001", "0001"},
		{" spaces  here ", "spaceshere"},
		{"-n", ""},
		{"-e 1", "001"},
		{"-n 5", "005"},
		{"1 2 3", "001002003"},
		{"-x 1", "-x001"},
		{"1234", "1234"},
		{"12", "012"},
		{"99.9", "099.009"},
		{"-e a\\tb", "a\tb"},
		{"-e x\\cy", "x"},
		{"-e a\\nb2", "a\nb002"},
		{"-E a\\tb", "a\\tb"},
		/* \u00e4 cannot be converted in C: bash prints it back,
		 * and sed pads its digits. */
		{"-e \\0101\\x41\\u0042\\u00e4", "AAB\\u000E004"},
		{"-e 1\\0002", "001\002"},
		{"6.1.0-56-amd64", "006.001.000-056-amd064"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		_cleanup_(freep) char *k = dkms_ver_key(t[i].in);

		assert_non_null(k);
		if (!streq(k, t[i].key))
			fail_msg("VER [%s] = [%s], want [%s]", t[i].in, k,
				 t[i].key);
	}
	assert_true(dkms_ver_cmp("3.4.10", "3.4.9") > 0);
	assert_true(dkms_ver_cmp("1.0", "1.0") == 0);
	/* Four digits are not padded: 1000 sorts before 999. */
	assert_true(dkms_ver_cmp("1000", "999") < 0);
	assert_true(dkms_ver_cmp("2.0-rc1", "2.0") > 0);
}

static const char *const kernel_order[] = {
	"1.0~rc1",
	"1.0",
	"4.19.0-25-amd64",
	"5.10.0-28-amd64",
	"5.15",
	"5.15.0",
	"6.01",
	"6.1",
	"6.1-rc1",
	"6.1.0",
	"6.1.0-9-amd64",
	"6.1.0-10-amd64",
	"6.1.0-56-amd64",
	"6.1.0-56-cloud-amd64",
	"6.1.0-56-rt-amd64",
	"6.1.0-rc7",
	"6.2",
	"6.5.0-0.deb12.4-amd64",
	"6.10",
	NULL,
};

static void test_sort_v_table(void **state)
{
	for (size_t i = 0; kernel_order[i]; i++)
		for (size_t j = 0; kernel_order[j]; j++) {
			int r = version_sort_cmp(kernel_order[i],
						 kernel_order[j]);

			if ((i < j && r >= 0) || (i > j && r <= 0) ||
			    (i == j && r != 0))
				fail_msg("sort -V: %s vs %s gave %d",
					 kernel_order[i], kernel_order[j], r);
		}
}

/* ---- oracles: the real programs ---------------------------------------- */

static bool have_prog(const char *p)
{
	return access(p, X_OK) == 0;
}

static const char *nz_str(const char *s)
{
	return s ? s : "(none)";
}

/* A scratch directory per oracle test, removed even when it fails. */
static int tmpdir_setup(void **state)
{
	*state = unit_tmpdir();
	return *state ? 0 : -1;
}

static int tmpdir_teardown(void **state)
{
	_cleanup_(freep) char *cmd = xasprintf("rm -rf '%s'", (char *)*state);
	int r = cmd ? system(cmd) : -1;

	free(*state);
	return r == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Run sh -c cmd, return its stdout (NUL-terminated, length in *len). */
static char *run_capture(const char *cmd, size_t *len)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	char chunk[4096];
	size_t got;

	assert_non_null(p);
	assert_non_null(m);
	while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, got, m);
	assert_int_equal(pclose(p), 0);
	assert_int_equal(fclose(m), 0);
	if (len)
		*len = n;
	return buf;
}

static int cmp_sortv(const void *a, const void *b)
{
	return version_sort_cmp(*(const char *const *)a,
				*(const char *const *)b);
}

static void test_sort_v_oracle(void **state)
{
	/* Mixed names, then number-heavy ones (leading zeros, long runs). */
	static const char *const alphabets[] = {"0123456789..--~~aZz_+ ",
						"00012399.-~a"};
	const char *dir = *state;
	_cleanup_(freep) char *in = NULL, *cmd = NULL, *out = NULL;
	char *lines[6000 + ARRAY_SIZE(kernel_order)];
	size_t n = 0;
	unsigned seed = 12345;
	FILE *f;
	char *tok;

	if (!have_prog("/usr/bin/sort"))
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	in = xasprintf("%s/in", dir);
	f = fopen(in, "w");
	assert_non_null(f);
	for (size_t i = 0; kernel_order[i]; i++)
		fprintf(f, "%s\n", kernel_order[i]);
	for (int i = 0; i < 6000; i++) {
		int len;

		seed = seed * 1103515245u + 12345u;
		len = (int)((seed >> 16) % (i < 3000 ? 9 : 16));
		for (int k = 0; k < len; k++) {
			const char *a = alphabets[i >= 3000];

			seed = seed * 1103515245u + 12345u;
			fputc(a[(seed >> 16) % strlen(a)], f);
		}
		fputc('\n', f);
	}
	assert_int_equal(fclose(f), 0);
	cmd = xasprintf("LC_ALL=C sort -V '%s'", in);
	out = run_capture(cmd, NULL);
	/* Our order of the same lines must equal sort's. */
	{
		_cleanup_(freep) char *copy = NULL;
		size_t len = 0;

		assert_int_equal(read_file(in, 1 << 20, &copy, &len), 0);
		for (char *p = copy; *p;) {
			char *nl = strchr(p, '\n');

			*nl = '\0';
			lines[n++] = p;
			p = nl + 1;
		}
		qsort(lines, n, sizeof(char *), cmp_sortv);
		tok = out;
		for (size_t i = 0; i < n; i++) {
			char *nl = strchr(tok, '\n');

			assert_non_null(nl);
			*nl = '\0';
			if (!streq(tok, lines[i]))
				fail_msg(
					"sort -V line %zu: sort [%s] ours [%s]",
					i, tok, lines[i]);
			tok = nl + 1;
		}
	}
}

/* The function definitions of /usr/sbin/dkms, without its main program. */
static char *extract_dkms_defs(const char *dir)
{
	char *defs = xasprintf("%s/defs.sh", dir);
	_cleanup_(freep) char *cmd = xasprintf(
		"sed '/^#### Program Starts Here/,$d' " DKMS_SCRIPT " > '%s'",
		defs);

	assert_int_equal(system(cmd), 0);
	return defs;
}

static void test_ver_oracle(void **state)
{
	static const char *const inputs[] = {
		"2.6.9-1cvs200409091247",
		"1.0",
		"v10",
		"",
		"3.4.2",
		"1.2.3a",
		"0001",
		" spaces  here ",
		"-n",
		"-e 1",
		"-n 5",
		"1 2 3",
		"-x 1",
		"1234",
		"12",
		"99.9",
		"-e a\\tb",
		"-e x\\cy",
		"-e a\\nb2",
		"-E a\\tb",
		"-e \\0101\\x41\\u0042\\u00e4",
		"-e 1\\0002",
		"6.1.0-56-amd64",
		"a*",
		"1.0~rc1",
		"-",
		"--",
		"-neE 7",
		"-en",
		"10.20.30.40.50",
		"a1b22c333d4444",
		"1..2",
		"0.0.0",
		"\t1\t2\t",
		"-e \\x4g\\u\\U110000\\u12345",
		"-e \\e\\E\\a\\b\\f\\v\\r\\\\q",
		"-e 1\\",
		"-e \\0777x",
		"x-e 1",
		"5.10.0-28-amd64",
		"2023.01.05",
		"1:2.3-4ubuntu5",
	};
	const char *dir = *state;
	_cleanup_(freep) char *defs = NULL, *in = NULL, *cmd = NULL;
	_cleanup_(freep) char *out = NULL, *empty = NULL;
	size_t len = 0, pos = 0;
	FILE *f;

	if (!have_prog(DKMS_SCRIPT) || !have_prog("/bin/bash"))
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	defs = extract_dkms_defs(dir);
	in = xasprintf("%s/in", dir);
	f = fopen(in, "w");
	assert_non_null(f);
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++)
		fwrite(inputs[i], 1, strlen(inputs[i]) + 1, f);
	assert_int_equal(fclose(f), 0);
	/* From an empty directory, so that no glob in an input matches. */
	empty = xasprintf("%s/empty", dir);
	assert_int_equal(mkdir(empty, 0700), 0);
	cmd = xasprintf("cd '%s' && LC_ALL=C bash -c '. ../defs.sh; "
			"while IFS= read -r -d \"\" v; do "
			"printf \"%%s\\0\" \"$(VER \"$v\" 2>/dev/null)\"; "
			"done < ../in'",
			empty);
	out = run_capture(cmd, &len);
	for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
		_cleanup_(freep) char *k = dkms_ver_key(inputs[i]);

		assert_true(pos < len);
		assert_non_null(k);
		if (!streq(k, out + pos))
			fail_msg("VER [%s]: bash [%s] ours [%s]", inputs[i],
				 out + pos, k);
		pos += strlen(out + pos) + 1;
	}
	assert_int_equal(pos, len);
	/* The whitelist is dkms's own, plus upstream's MIN/MAX. */
	{
		_cleanup_(freep) char *wl = NULL;
		_cleanup_(freep) char *wcmd =
			xasprintf("cd '%s' && bash -c '. ../defs.sh; "
				  "printf \"%%s\\n\" $dkms_conf_variables "
				  "BUILD_EXCLUSIVE_KERNEL_MIN "
				  "BUILD_EXCLUSIVE_KERNEL_MAX; "
				  "echo --; printf \"%%s\\n\" "
				  "$dkms_framework_nonsigning_variables "
				  "$dkms_framework_signing_variables'",
				  empty);
		char *p;

		wl = run_capture(wcmd, NULL);
		p = wl;
		for (const char *const *w = dkms_conf_whitelist; *w; w++) {
			size_t l = strlen(*w);

			assert_memory_equal(p, *w, l);
			assert_int_equal(p[l], '\n');
			p += l + 1;
		}
		assert_memory_equal(p, "--\n", 3);
		p += 3;
		for (const char *const *w = dkms_framework_whitelist; *w; w++) {
			size_t l = strlen(*w);

			assert_memory_equal(p, *w, l);
			assert_int_equal(p[l], '\n');
			p += l + 1;
		}
		assert_int_equal(*p, '\0');
	}
}

/*
 * read_conf() of dkms 3.0.10, run in bash on a dkms.conf written from the
 * same variables, against dkms_conf_resolve().  Values must survive
 * safe_source's `eval echo NAME=\"value\"` round trip unchanged: no
 * quotes, $, backquotes, tabs, newlines or runs of blanks.
 */
struct oracle_case {
	const char *what;
	const char *kernelver, *arch;
	const char *kconfig;
	struct kv kv[24];
	/* running_distribution and what dkb_dest_override() gives for it;
	 * NULL: debian, "/updates/dkms". */
	const char *distro, *override;
};

static const struct oracle_case oracle_cases[] = {
	{"seed",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "i40evf"},
	  {"PACKAGE_VERSION", 0, "3.4.2"},
	  {"BUILT_MODULE_NAME", 0, "i40evf"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"AUTOINSTALL", 0, "yes"}},
	 NULL,
	 NULL},
	{"multi",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "pkg"},
	  {"PACKAGE_VERSION", 0, "1.0"},
	  {"BUILT_MODULE_NAME", 0, "a"},
	  {"BUILT_MODULE_NAME", 1, "b"},
	  {"BUILT_MODULE_NAME", 2, "c"},
	  {"BUILT_MODULE_LOCATION", 0, "src"},
	  {"BUILT_MODULE_LOCATION", 1, "src/b/"},
	  {"DEST_MODULE_NAME", 1, "b_renamed"},
	  {"DEST_MODULE_LOCATION", 0, "/kernel/drivers/net"},
	  {"DEST_MODULE_LOCATION", 1, "/extra"},
	  {"DEST_MODULE_LOCATION", 2, "/updates/x"},
	  {"STRIP", 0, "no"},
	  {"STRIP", 2, "Yes"}},
	 NULL,
	 NULL},
	{"sparse",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "pkg"},
	  {"PACKAGE_VERSION", 0, "1.0"},
	  {"BUILT_MODULE_NAME", 0, "a"},
	  {"BUILT_MODULE_NAME", 2, "c"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"DEST_MODULE_LOCATION", 2, "/updates"},
	  {"DEST_MODULE_NAME", 7, "z"}},
	 NULL,
	 NULL},
	{"defaults",
	 "5.10.0-28-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "foo"},
	  {"PACKAGE_VERSION", 0, "2"},
	  {"DEST_MODULE_LOCATION", 0, "/extra"},
	  {"BUILT_MODULE_LOCATION", 0, "x"},
	  {"BUILT_MODULE_LOCATION", 1, "y"}},
	 NULL,
	 NULL},
	{"two-dest-no-name",
	 "5.10.0-28-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "foo"},
	  {"PACKAGE_VERSION", 0, "2"},
	  {"DEST_MODULE_LOCATION", 0, "/extra"},
	  {"DEST_MODULE_LOCATION", 1, "/extra"}},
	 NULL,
	 NULL},
	{"strip",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m0"},
	  {"BUILT_MODULE_NAME", 1, "m1"},
	  {"BUILT_MODULE_NAME", 2, "m2"},
	  {"BUILT_MODULE_NAME", 3, "m3"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"DEST_MODULE_LOCATION", 1, "/updates"},
	  {"DEST_MODULE_LOCATION", 2, "/updates"},
	  {"DEST_MODULE_LOCATION", 3, "/updates"},
	  {"STRIP", 0, "1"},
	  {"STRIP", 2, "nope"},
	  {"STRIP", 3, "true"},
	  {"strip", 0, "no"},
	  {"strip", 3, "no"}},
	 NULL,
	 NULL},
	{"make-match",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"MAKE", 0, "make zero"},
	  {"MAKE", 1, "make five"},
	  {"MAKE", 2, "make six"},
	  {"MAKE", 3, "make bad"},
	  {"MAKE_MATCH", 1, "^5\\."},
	  {"MAKE_MATCH", 2, "^6\\.[0-9]+\\.0-"},
	  {"MAKE_MATCH", 3, "(("},
	  {"CLEAN", 0, "make mrproper"}},
	 NULL,
	 NULL},
	{"make-match-unmatched",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"MAKE", 0, "make zero"},
	  {"MAKE_MATCH", 0, "^4"},
	  {"MAKE", 4, "make four"},
	  {"MAKE_MATCH", 4, "."}},
	 NULL,
	 NULL},
	{"patches",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"PATCH", 0, "always.patch"},
	  {"PATCH", 1, "five.patch"},
	  {"PATCH_MATCH", 1, "^5\\."},
	  {"PATCH", 2, "six.patch"},
	  {"PATCH_MATCH", 2, "^6\\.1"},
	  {"PATCH", 3, "broken.patch"},
	  {"PATCH_MATCH", 3, "[z-a]"},
	  {"PATCH", 4, "sparse.patch"},
	  {"PATCH", 9, "late.patch"},
	  {"patch_array", 0, "overwritten.patch"},
	  {"patch_array", 7, "kept.patch"}},
	 NULL,
	 NULL},
	{"exclusive-kernel-arch",
	 "6.1.0-56-amd64",
	 "aarch64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"BUILD_EXCLUSIVE_KERNEL", 0, "^6\\."},
	  {"BUILD_EXCLUSIVE_ARCH", 0, "x86_64|i.86"}},
	 NULL,
	 NULL},
	{"exclusive-invalid",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"BUILD_EXCLUSIVE_KERNEL", 0, "(("}},
	 NULL,
	 NULL},
	{"exclusive-config",
	 "6.1.0-56-amd64",
	 "x86_64",
	 "CONFIG_PCI=y\nCONFIG_USB=m\n# CONFIG_PREEMPT_RT is not set\n"
	 "CONFIG_CC_IS_CLANG=y\nCONFIG_LD_IS_LLD=y\n",
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"BUILD_EXCLUSIVE_CONFIG", 0,
	   "CONFIG_PCI CONFIG_U.B !CONFIG_PREEMPT_RT !CONFIG_((ISA)"}},
	 NULL,
	 NULL},
	{"exclusive-config-miss",
	 "6.1.0-56-amd64",
	 "x86_64",
	 "CONFIG_PCI=y\nCONFIG_RT=y",
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"BUILD_EXCLUSIVE_CONFIG", 0, "!CONFIG_RT"}},
	 NULL,
	 NULL},
	{"errors",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"BUILT_MODULE_NAME", 0, "a.ko"},
	  {"DEST_MODULE_NAME", 0, "b.o"},
	  {"DEST_MODULE_LOCATION", 0, "/lib/modules"},
	  {"BUILT_MODULE_NAME", 1, "ok"},
	  {"DEST_MODULE_LOCATION", 1, ""}},
	 NULL,
	 NULL},
	{"nothing",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{NULL, 0, NULL}},
	 NULL,
	 NULL},
	{"lowercase-arrays",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "m0"},
	  {"DEST_MODULE_LOCATION", 0, "/updates"},
	  {"built_module_name", 0, "ignored"},
	  {"built_module_name", 1, "extra"},
	  {"built_module_location", 1, "sub"},
	  {"dest_module_location", 1, "/kernel/x"},
	  {"dest_module_name", 1, "extra_dest"},
	  {"strip", 1, "no"},
	  {"build_exclude", 0, "yes"}},
	 NULL,
	 NULL},
	{"no-override",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "a"},
	  {"BUILT_MODULE_NAME", 1, "b"},
	  {"BUILT_MODULE_NAME", 2, "c"},
	  {"BUILT_MODULE_NAME", 3, "d"},
	  {"DEST_MODULE_LOCATION", 0, "/kernel/net extra words"},
	  {"DEST_MODULE_LOCATION", 1, "/extra/x"},
	  {"DEST_MODULE_LOCATION", 2, "-n"},
	  {"DEST_MODULE_LOCATION", 3, "/updates/a\\tb"}},
	 "unknown",
	 NULL},
	{"fedora",
	 "6.5.6-300.fc39.x86_64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"BUILT_MODULE_NAME", 0, "a"},
	  {"DEST_MODULE_LOCATION", 0, "/kernel/drivers"}},
	 "fedora",
	 "/extra"},
	{"lowercase-dest-only",
	 "6.1.0-56-amd64",
	 "x86_64",
	 NULL,
	 {{"PACKAGE_NAME", 0, "p"},
	  {"PACKAGE_VERSION", 0, "1"},
	  {"dest_module_location", 3, "/x"}},
	 NULL,
	 NULL},
};

static void shell_quote_into(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void parse_triples(char *out, struct vars *o)
{
	for (char *line = out; *line;) {
		char *nl = strchr(line, '\n');
		char *t1, *t2;

		assert_non_null(nl);
		*nl = '\0';
		t1 = strchr(line, '\t');
		assert_non_null(t1);
		*t1 = '\0';
		t2 = strchr(t1 + 1, '\t');
		assert_non_null(t2);
		*t2 = '\0';
		assert_int_equal(
			vars_set(o, line, strtoul(t1 + 1, NULL, 10), t2 + 1),
			0);
		line = nl + 1;
	}
}

static void compare_with_oracle(const struct oracle_case *oc,
				const struct vars *o, char *err,
				const struct dkms_conf *c)
{
	size_t n = vars_count(o, "built_module_name"), e = 0;
	const struct var *pa = vars_find(o, "patch_array");
	size_t p = 0;

	if (c->n_mods != n)
		fail_msg("%s: %zu records, dkms %zu", oc->what, c->n_mods, n);
	for (size_t i = 0; i < n; i++) {
		const struct dkms_module_entry *m = &c->mods[i];
		const char *st = vars_get(o, "strip", i);
		const struct {
			const char *arr, *ours;
		} f[] = {
			{"built_module_name", m->built_name},
			{"built_module_location", m->built_location},
			{"dest_module_name", m->dest_name},
			{"dest_module_location", m->dest_location},
		};

		for (size_t k = 0; k < ARRAY_SIZE(f); k++) {
			const char *d = vars_get(o, f[k].arr, i);

			if (!streq(d ? d : "", f[k].ours))
				fail_msg("%s: %s[%zu] dkms [%s] ours [%s]",
					 oc->what, f[k].arr, i, d ? d : "",
					 f[k].ours);
		}
		if (m->strip != !(st && streq(st, "no")))
			fail_msg("%s: strip[%zu] dkms [%s] ours %d", oc->what,
				 i, st ? st : "(unset)", m->strip);
	}
	for (size_t i = 0; pa && i < pa->n; i++) {
		if (!pa->vals[i])
			continue;
		if (!c->patches[p] || !streq(c->patches[p], pa->vals[i]))
			fail_msg("%s: patch %zu dkms [%s] ours [%s]", oc->what,
				 p, pa->vals[i], nz_str(c->patches[p]));
		p++;
	}
	if (c->patches[p])
		fail_msg("%s: extra patch [%s]", oc->what, c->patches[p]);
	if (!streq(vars_str(o, "make_command"), c->make_command))
		fail_msg("%s: make dkms [%s] ours [%s]", oc->what,
			 vars_str(o, "make_command"), c->make_command);
	if (!streq(vars_str(o, "clean"), c->clean))
		fail_msg("%s: clean dkms [%s] ours [%s]", oc->what,
			 vars_str(o, "clean"), c->clean);
	if (c->build_exclude != (*vars_str(o, "build_exclude") != '\0'))
		fail_msg("%s: build_exclude dkms [%s] ours %d", oc->what,
			 vars_str(o, "build_exclude"), c->build_exclude);
	for (char *line = err; *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		/* grep's own complaint about a pattern it cannot compile. */
		if (startswith(line, "grep: ")) {
			if (!nl)
				break;
			line = nl + 1;
			continue;
		}
		if (!c->errors[e] || !streq(c->errors[e], line))
			fail_msg("%s: error %zu dkms [%s] ours [%s]", oc->what,
				 e, line, nz_str(c->errors[e]));
		e++;
		if (!nl)
			break;
		line = nl + 1;
	}
	if (c->errors[e])
		fail_msg("%s: extra error [%s]", oc->what, c->errors[e]);
	if (!streq(vars_str(o, "rc"), e ? "1" : "0"))
		fail_msg("%s: read_conf returned %s", oc->what,
			 vars_str(o, "rc"));
}

static const char oracle_driver[] =
	". \"$1\"\n"
	"current_os=Linux\n"
	"running_distribution=$7\n"
	"dkms_tree=/var/lib/dkms\n"
	"module=dkbtest-oracle\n"
	"module_version=3.4.2\n"
	"ksourcedir_fromcli=1\n"
	"kernel_source_dir=$2\n"
	"read_conf \"$3\" \"$4\" \"$5\" 2>\"$6\"\n"
	"rc=$?\n"
	"for a in built_module_name built_module_location dest_module_name "
	"dest_module_location strip patch_array; do\n"
	"  eval 'for i in \"${!'$a'[@]}\"; do "
	"printf \"%s\\t%s\\t%s\\n\" '$a' \"$i\" \"${'$a'[$i]}\"; done'\n"
	"done\n"
	"printf 'make_command\\t0\\t%s\\n' \"$make_command\"\n"
	"printf 'clean\\t0\\t%s\\n' \"$clean\"\n"
	"printf 'build_exclude\\t0\\t%s\\n' \"$build_exclude\"\n"
	"printf 'rc\\t0\\t%s\\n' \"$rc\"\n";

static void run_oracle_case(const char *dir, const char *defs,
			    const struct oracle_case *oc)
{
	_cleanup_(freep) char *ksd = xasprintf("%s/ksd-%s", dir, oc->what);
	_cleanup_(freep) char *conf = xasprintf("%s/%s.conf", dir, oc->what);
	_cleanup_(freep) char *errf = xasprintf("%s/%s.err", dir, oc->what);
	_cleanup_(freep) char *cmd = NULL, *out = NULL, *err = NULL;
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;
	_cleanup_(vars_freep) struct vars o = VARS_INIT;
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};
	struct dkms_conf_ctx ctx = {
		.kernelver = oc->kernelver,
		.arch = oc->arch,
		.kernel_source_dir = ksd,
		.dkms_tree = "/var/lib/dkms",
		.module = "dkbtest-oracle",
		.module_version = "3.4.2",
		.dest_override = oc->distro ? oc->override : "/updates/dkms",
		.kconfig = oc->kconfig,
	};
	FILE *f;

	assert_int_equal(mkdir(ksd, 0700), 0);
	if (oc->kconfig) {
		_cleanup_(freep) char *kc = xasprintf("%s/.config", ksd);

		write_text(kc, oc->kconfig);
	}
	f = fopen(conf, "w");
	assert_non_null(f);
	for (const struct kv *kv = oc->kv; kv->name; kv++) {
		fprintf(f, "%s[%zu]=", kv->name, kv->idx);
		shell_quote_into(f, kv->val);
		fputc('\n', f);
	}
	assert_int_equal(fclose(f), 0);

	cmd = xasprintf("cd '%s/empty' && LC_ALL=C bash ../driver.sh '%s' "
			"'%s' '%s' '%s' '%s' '%s' '%s'",
			dir, defs, ksd, oc->kernelver, oc->arch, conf, errf,
			oc->distro ? oc->distro : "debian");
	out = run_capture(cmd, NULL);
	assert_int_equal(read_file(errf, 1 << 20, &err, NULL), 0);
	parse_triples(out, &o);

	build_vars(&vs, oc->kv);
	assert_int_equal(dkms_conf_resolve(&vs, &ctx, &c), 0);
	compare_with_oracle(oc, &o, err, &c);
}

static void test_read_conf_oracle(void **state)
{
	const char *dir = *state;
	_cleanup_(freep) char *defs = NULL, *drv = NULL, *empty = NULL;

	if (!have_prog(DKMS_SCRIPT) || !have_prog("/bin/bash"))
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	defs = extract_dkms_defs(dir);
	drv = xasprintf("%s/driver.sh", dir);
	write_text(drv, oracle_driver);
	empty = xasprintf("%s/empty", dir);
	assert_int_equal(mkdir(empty, 0700), 0);
	for (size_t i = 0; i < ARRAY_SIZE(oracle_cases); i++)
		run_oracle_case(dir, defs, &oracle_cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_multi_module),
		cmocka_unit_test(test_sparse_arrays),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_strip_lowercase_from_conf),
		cmocka_unit_test(test_lowercase_module_arrays),
		cmocka_unit_test(test_no_override),
		cmocka_unit_test(test_make_match),
		cmocka_unit_test(test_clang),
		cmocka_unit_test(test_patch_match),
		cmocka_unit_test(test_build_exclusive),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_validate_names),
		cmocka_unit_test(test_free_edge_cases),
		cmocka_unit_test(test_whitelists),
		cmocka_unit_test(test_ver_table),
		cmocka_unit_test(test_sort_v_table),
		cmocka_unit_test_setup_teardown(test_sort_v_oracle,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_ver_oracle, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_read_conf_oracle,
						tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
