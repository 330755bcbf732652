/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CACHE_H
#define DKMS_BOOT_CACHE_H

#include "dkms/context.h"
#include "cache/manifest.h"

/*
 * The module cache (docs/cache-format.md): one directory per entry,
 *   <cache>/<package>/<version>/<kernel>/<arch>/MANIFEST
 *                                              /<dest>.ko.zst ...
 *                                              /dkms.conf (when known)
 * written in a hidden sibling directory and renamed (swapped) into
 * place, read through descriptors opened up front, trusted only after
 * every check in cache_entry_open() and cache_unpack().
 */
#define CACHE_DIR	 "/var/cache/dkms-boot/modules"
#define CACHE_MAX_MODULE (256ULL << 20) /* decompressed */
#define CACHE_MAX_RATIO	 64		/* decompressed / compressed */

struct cache_opts {
	const char *dir;       /* in-root; NULL: CACHE_DIR */
	bool allow_kabi_reuse; /* unpack: accept another kernel's build */
	bool no_trust_check;   /* tests on non-root-owned trees only */
};

struct cache_entry {
	char *path; /* in-root */
	struct manifest m;
	int dirfd;
	int *fds; /* one per module file, opened with the manifest */
	bool has_conf;
};

void cache_entry_close(struct cache_entry *e);

/* Open an entry: trust checks on the directory chain, manifest parsed,
 * every module file opened (so a concurrent replace cannot mix two
 * versions).  -EBADMSG/-EPERM with why. */
int cache_entry_open(const struct dkb_ctx *c, const struct cache_opts *o,
		     const char *m, const char *v, const char *k, const char *a,
		     struct cache_entry *e, char *why, size_t why_len);

/* Decompress and verify one module of an open entry: size limits,
 * ratio, sha256.  *buf is malloc'd. */
int cache_entry_module(const struct cache_entry *e, size_t i, char **buf,
		       size_t *len, char *why, size_t why_len);

struct cache_add_src {
	const char *origin;    /* manifest origin */
	const char *conf_host; /* a dkms.conf to keep with the entry, or NULL */
	size_t n;
	const char *const *names;     /* dest names */
	const char *const *locations; /* install locations */
	const void *const *data;      /* uncompressed module bytes */
	const size_t *lens;
};

/* Write an entry atomically (replacing any). */
int cache_add(const struct dkb_ctx *c, const struct cache_opts *o,
	      const char *m, const char *v, const char *k, const char *a,
	      const struct cache_add_src *src, char *why, size_t why_len);

/* An entry's place, <cache>/<m>/<v>/<k>/<a>; m owns the one block. */
struct cache_id {
	char *m, *v, *k, *a;
};

/* Every entry directory, in bash glob order; hidden (temporary) ones
 * are never listed. */
int cache_list(const struct dkb_ctx *c, const struct cache_opts *o,
	       struct cache_id **ids, size_t *n);
void cache_ids_free(struct cache_id *ids, size_t n);

/* The cache directory in the root: o->dir or CACHE_DIR. */
const char *cache_dir(const struct cache_opts *o);

/* Full verification of an open entry: every module decompressed within
 * its limits, hashed, and built for the entry's kernel. */
int cache_entry_verify(const struct cache_entry *e, char *why, size_t wl);

/* Add module/version's build for k/a from the dkms tree (origin
 * "dkms-tree"), with the tree's dkms.conf.  The reason is logged. */
int cache_add_tree(struct dkb_ctx *c, const struct cache_opts *o, const char *m,
		   const char *v, const char *k, const char *a);

/* Add every kernel's build in a dkms mktarball archive (only kernel's
 * when not NULL).  Reasons are logged. */
int cache_import(struct dkb_ctx *c, const struct cache_opts *o,
		 const char *file, const char *kernel);

/* Write an entry as an archive `dkms ldtarball` loads, to file or, when
 * NULL, to dkms's own name in the working directory; *path: where. */
int cache_export(const struct dkb_ctx *c, const struct cache_opts *o,
		 const char *m, const char *v, const char *k, const char *a,
		 const char *file, char **path);

struct cache_unpack_req {
	const char *kernel, *arch;
	const char *module; /* only this package; NULL: all */
	const char *into;   /* host path: DIR/<location>/<name>.ko */
};

/* One package's outcome; k is the kernel the entry was built for. */
struct cache_unpacked {
	char *m, *v, *k;
	bool reuse; /* another kernel's build, kABI-checked */
	size_t n_mods;
	int r; /* 0, or why it failed (logged) */
};

struct cache_unpack_result {
	struct cache_unpacked *p;
	size_t n;
};

void cache_unpack_result_free(struct cache_unpack_result *res);

/* For each package, the newest verified entry for the kernel (or, with
 * allow_kabi_reuse, another kernel's that passes the kABI check), into
 * req->into: each entry all or nothing.  Returns 0 when the cache could
 * be read; each package's own outcome is in res. */
int cache_unpack(struct dkb_ctx *c, const struct cache_opts *o,
		 const struct cache_unpack_req *req,
		 struct cache_unpack_result *res);

struct cache_prune_result {
	char **unfinished; /* in-root paths of killed adds, removed */
	struct cache_id *removed;
	size_t n_removed;
	size_t failed; /* entries that could not be removed (logged) */
};

void cache_prune_result_free(struct cache_prune_result *res);

/* Drop the entries of kernels not in keep (n_keep 0: not installed in
 * the root) and what killed adds left behind. */
int cache_prune(struct dkb_ctx *c, const struct cache_opts *o,
		const char *const *keep, size_t n_keep,
		struct cache_prune_result *res);

#endif
