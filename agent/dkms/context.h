/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CONTEXT_H
#define DKMS_BOOT_CONTEXT_H

#include "conf/eval.h"
#include "conf/readconf.h"
#include "conf/vars.h"

/*
 * What one run knows about the system it looks at: the root, dkms's
 * framework settings read from that root, and how to evaluate confs.
 * All paths except root are as seen inside root.
 */
struct dkb_ctx {
	const char *root;
	char *dkms_tree, *source_tree, *install_tree;
	char *distribution;  /* dkms's running_distribution */
	char *dest_override; /* location override, NULL for none */
	struct vars framework;
	struct conf_eval_opts eval;
	/* The last kernel's module suffix (from its modules.dep). */
	char *suffix_kver, suffix[8];
	/* Names in /etc/dkms, read once: most packages have no override
	 * file, and four lookups per package add up at boot. */
	char **etc_dkms;
	/* The last kernel .config read (one kernel per run, usually). */
	char *kconfig_kver, *kconfig;
	/* Facts about kconfig, scanned once per kernel. */
	enum kconfig_fact kconfig_clang, kconfig_lld;
};

int dkb_ctx_init(struct dkb_ctx *c, const char *root,
		 const struct conf_eval_opts *eval);
void dkb_ctx_free(struct dkb_ctx *c);

/* dkms's distro_version() from the root's /etc/os-release. */
char *dkb_distribution(const char *root);
/* The same from the text of an os-release file. */
char *dkb_distribution_parse(const char *os_release);
/* override_dest_module_location() without the argument fallback:
 * the location for a distribution, or NULL to keep the conf's own. */
const char *dkb_dest_override(const char *distribution);

/*
 * Evaluate and resolve the dkms.conf of module/version for a kernel, as
 * read_conf() does: the conf (conf_path, or the tree's source/dkms.conf)
 * and the /etc/dkms/<m>[-<v>[-<k>[-<a>]]].conf override files.
 * Returns 0 (conf->errors may be non-empty), -ENOENT when the dkms.conf
 * cannot be read, or an evaluation error.  *how, when given, receives the
 * method used.
 */
int dkb_read_conf(struct dkb_ctx *c, const char *module, const char *version,
		  const char *kernelver, const char *arch,
		  const char *conf_path, struct dkms_conf *conf,
		  struct conf_eval_result *how);

/* "m/v for k (a): <message>", the form of every per-package line. */
char *dkb_pkg_vmsg(const char *m, const char *v, const char *k, const char *a,
		   const char *fmt, va_list ap) _printf_(5, 0);

#endif
