/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_REGISTRY_H
#define DKMS_BOOT_REGISTRY_H

#include "dkms/context.h"

/*
 * The dkms tree, read the way dkms 3.0.10's status functions read it:
 *   <tree>/<m>/<v>/source              added
 *   <tree>/<m>/<v>/<kver>/<arch>/module  built
 *   <tree>/<m>/kernel-<kver>-<arch>    installed (link to <v>/<kver>/<arch>)
 * Globs (module, version, kernel patterns) are matched with bash's
 * extglob rules and results sorted as bash sorts a glob (strcoll on the
 * whole path).
 */

struct reg_pair {
	char *a, *b; /* module/version, or kernel/arch */
};

struct reg_list {
	struct reg_pair *p;
	size_t n;
};

void reg_list_free(struct reg_list *l);
static inline void reg_list_freep(struct reg_list *l)
{
	reg_list_free(l);
}

/*
 * A glob base/pats[0]/pats[1]/... (NULL pattern = "*"), matched like
 * bash with extglob and sorted as bash sorts a glob.  *rel gets the
 * matches relative to base.
 */
int reg_glob(const struct dkb_ctx *c, const char *base, const char *const *pats,
	     size_t npats, char ***rel);
/* Two levels: pairs (a, b). */
int reg_glob2(const struct dkb_ctx *c, const char *base, const char *pa,
	      const char *pb, struct reg_list *out);

/* module_status's loop: added module/version pairs matching the patterns
 * (NULL means "*"). */
int reg_list_added(const struct dkb_ctx *c, const char *mpat, const char *vpat,
		   struct reg_list *out);
/* Every directory name under <tree>/<m> and <tree>/<m>/<v> alike, with
 * the reasons for entries that are registered but broken. */
bool reg_is_added(const struct dkb_ctx *c, const char *m, const char *v);

/* module_status_built's glob: <tree>/<m>/<v>/<kpat>/<apat>, kpat
 * defaulting to dkms's "+([0-9]).*" and apat to "*". */
int reg_list_kernels(const struct dkb_ctx *c, const char *m, const char *v,
		     const char *kpat, const char *apat, struct reg_list *out);

/* set_module_suffix(): ".ko" plus the compression the kernel's
 * modules.dep uses (".zst" beats ".xz" beats ".gz"). */
int reg_module_suffix(struct dkb_ctx *c, const char *kver, char *compressed,
		      size_t len);

/* compressed_or_uncompressed(): in-root path of dir/name.ko or
 * dir/name.ko<compressed>, or NULL when neither exists. */
char *reg_find_module(const struct dkb_ctx *c, const char *dir,
		      const char *name, const char *compressed);

/* is_module_built(): needs conf (read for k/a) and the suffix.
 * Returns 1 built, 0 not, <0 error. */
int reg_is_built(const struct dkb_ctx *c, const char *m, const char *v,
		 const char *k, const char *a, const struct dkms_conf *conf,
		 const char *compressed);
/* _is_module_installed(): the kernel-<k>-<a> link resolves to m/v/k/a. */
bool reg_is_installed(const struct dkb_ctx *c, const char *m, const char *v,
		      const char *k, const char *a);
/* The version the kernel-<k>-<a> link points to, NULL if none. */
char *reg_installed_version(const struct dkb_ctx *c, const char *m,
			    const char *k, const char *a);

/* get_module_verinfo()'s version of an in-root module: "" when
 * unreadable or absent (dkms compares such empties as equal). */
char *reg_module_version(const struct dkb_ctx *c, const char *path);
char *reg_module_version_host(const char *host);
/* find_actual_dest_module_location(): the location (dest_location or
 * the conf's raw one) whose installed copy has the version of the copy
 * the dkms tree owns; "" when none. */
char *reg_actual_dest(const struct dkb_ctx *c, const char *m, const char *k,
		      const char *a, const struct dkms_module_entry *e,
		      const char *suffix);

/* Why dkb_read_conf() failed with err for m/v, in words that name the
 * file or link at fault (a loop, a dangling source link...). */
void reg_conf_problem(const struct dkb_ctx *c, const char *m, const char *v,
		      int err, char *buf, size_t len);

#endif
