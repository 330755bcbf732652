/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_DKMSCONF_H
#define DKMS_BOOT_DKMSCONF_H

#include "conf/vars.h"

/* The variables dkms 3.0.10 copies back from dkms.conf (and override
 * files), plus upstream's BUILD_EXCLUSIVE_KERNEL_MIN/_MAX.  NULL-ended. */
extern const char *const dkms_conf_whitelist[];
/* The variables dkms reads from framework.conf(.d). NULL-ended. */
extern const char *const dkms_framework_whitelist[];

/* What read_conf() knows besides the file: the target and the tree. */
struct dkms_conf_ctx {
	/* The conf file (in-root path) that messages name; NULL: "dkms.conf".
	 */
	const char *conf_file;
	const char *kernelver;
	const char *arch;
	const char *kernel_source_dir; /* as seen inside root */
	const char *dkms_tree;	       /* as seen inside root */
	const char *module;	       /* directory name in the dkms tree */
	const char *module_version;
	/* The distribution location override: "/updates/dkms" on Debian,
	 * NULL to keep DEST_MODULE_LOCATION (unknown distribution). */
	const char *dest_override;
	/* Contents of the kernel's .config, NULL when absent. */
	const char *kconfig;
	/* Whether CONFIG_CC_IS_CLANG=y / CONFIG_LD_IS_LLD=y appear in
	 * kconfig, when the caller already knows; KCONFIG_SCAN (0) to look. */
	enum kconfig_fact {
		KCONFIG_SCAN,
		KCONFIG_NO,
		KCONFIG_YES
	} cc_is_clang,
		ld_is_lld;
};

struct dkms_module_entry {
	char *built_name;     /* BUILT_MODULE_NAME[i] after defaults */
	char *built_location; /* relative to the build dir, "" or ends in / */
	char *dest_name;      /* DEST_MODULE_NAME[i] after defaults */
	char *dest_location;  /* after the distribution override */
	char *dest_location_raw; /* DEST_MODULE_LOCATION[i] as written */
	bool strip;
};

struct dkms_conf {
	char *package_name, *package_version;
	char *make_command; /* selected MAKE or the default, + CC=clang etc. */
	char *clean;
	char *pre_build, *post_build, *pre_install, *post_install;
	char *post_add, *post_remove, *obsolete_by;
	struct dkms_module_entry *mods;
	size_t n_mods;
	char **patches;	      /* PATCH entries selected by PATCH_MATCH */
	char **build_depends; /* words of BUILD_DEPENDS */
	bool autoinstall;     /* 3.0.10: any non-empty AUTOINSTALL */
	bool no_weak_modules;
	bool build_exclude;
	char *exclude_reason; /* why build_exclude is set, for messages */
	/* dkms's "dkms.conf: Error! ..." messages; non-empty means read_conf
	 * would have failed (dkms: "Bad conf file"). */
	char **errors;
};

/*
 * Apply dkms's read_conf() post-processing to the evaluated variables:
 * module arrays and their defaults, STRIP inheritance, the location
 * override and checks, MAKE_MATCH, PATCH_MATCH, BUILD_EXCLUSIVE_*.
 * Returns 0 (check conf->errors for dkms's own refusals), or -ENOMEM.
 */
int dkms_conf_resolve(const struct vars *vs, const struct dkms_conf_ctx *ctx,
		      struct dkms_conf *conf);
void dkms_conf_free(struct dkms_conf *conf);
static inline void dkms_conf_freep(struct dkms_conf *conf)
{
	dkms_conf_free(conf);
}

/*
 * Names dkms-boot refuses even though dkms would take them, because they
 * would write outside the tree: a module name with '/' or "..", a
 * location with "..".  Returns 0 or -EINVAL with reason filled.
 */
int dkms_conf_validate_names(const struct dkms_conf *conf, char *reason,
			     size_t reason_len);

/* dkms's VER(): pad every number to three digits so that versions compare
 * as strings.  Returns a malloc'd string or NULL. */
char *dkms_ver_key(const char *version);
/* strcmp of dkms_ver_key()s, which is how dkms orders module versions. */
int dkms_ver_cmp(const char *a, const char *b);
/* GNU sort -V ordering (filevercmp), for callers that need it.  Note:
 * upstream's BUILD_EXCLUSIVE_KERNEL_MIN/_MAX compare in VER() order. */
int version_sort_cmp(const char *a, const char *b);

#endif
