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

/* CLI: dkms-boot cache SUBCOMMAND ... */
struct cache_cli {
	const char *sub;
	const char *module, *version, *kernel, *arch;
	const char *file;	 /* import: tarball; export: output path */
	const char *into;	 /* unpack */
	const char *const *keep; /* prune --keep */
	size_t n_keep;
	bool json;
	struct cache_opts o;
};

int cmd_cache(struct dkb_ctx *c, const struct cache_cli *cl, FILE *out);

#endif
