/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CACHE_INTERNAL_H
#define DKMS_BOOT_CACHE_INTERNAL_H

/* What the cache's own files share; nothing outside cache/ includes it. */
#include "cache/cache.h"
#include "lib/why.h"

/* A path component we create or open: never "/", "..", "." or empty. */
bool cache_safe_component(const char *s);

void cache_sha256_hex(const void *buf, size_t len, char out[65]);

/* Module i of an open entry, decompressed, must be built for kernel. */
int cache_check_vermagic(const struct cache_entry *e, size_t i, const void *buf,
			 size_t len, const char *kernel, char *why, size_t wl);

/* Payloads are the cache's own: root's and 0644, whatever the build or
 * the archive gave them, so a mode bit or owner never travels from a
 * build tree or a tarball into /lib/modules.  Applied before a file is
 * renamed into place. */
int cache_own_payload(const char *host);

/* Uncompressed modules on their way into an entry. */
struct mod_set {
	char **names, **locations;
	char **data;
	size_t *lens;
	size_t n;
};

void mod_set_free(struct mod_set *s);
int mod_set_push(struct mod_set *s, const char *name, const char *loc,
		 char *data, size_t len);
/* cache_add() of a set, the outcome logged. */
int cache_add_set(const struct dkb_ctx *c, const struct cache_opts *o,
		  const char *m, const char *v, const char *k, const char *a,
		  const struct mod_set *s, const char *origin,
		  const char *conf_host);

#endif
