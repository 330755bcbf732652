/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_STATECACHE_H
#define DKMS_BOOT_STATECACHE_H

#include <sys/stat.h>

#include "lib/util.h"

/*
 * What `check` learnt from module bodies, keyed by the files' identity
 * (device, inode, size, mtime and ctime in ns: ctime cannot be set back
 * by a user, so an edited file always misses).  Lets the every-boot path
 * answer "same bytes?" and "which vermagic?" with stat() alone.
 *
 * File format (text, one record per line, fields separated by a tab):
 *   dkms-boot-state 1
 *   E <id-a> <id-b> <0|1> <path-a> <path-b>    files a and b are equal?
 *   V <id> <path> <vermagic>                  a module's vermagic
 * An id is dev:ino:size:mtime_ns:ctime_ns in decimal.
 */
struct state_rec {
	char kind; /* 'E' or 'V' */
	char *id_a, *id_b, *path_a, *path_b, *value;
	bool equal;
	bool used;
};

struct state_cache {
	struct state_rec *r;
	size_t n;
	bool dirty;
};

#define STATE_CACHE_MAX (4u << 20)
#define STATE_CACHE_DIR "/var/cache/dkms-boot/state"

void state_cache_free(struct state_cache *sc);
static inline void state_cache_freep(struct state_cache *sc)
{
	state_cache_free(sc);
}
/* Strict parser: -EPROTO on anything malformed (the caller then starts
 * from an empty cache). */
int state_cache_parse(const char *buf, size_t len, struct state_cache *sc);
/* Load from a host path; refuses files not owned by root or writable by
 * others (-EPERM). */
int state_cache_load(const char *path, struct state_cache *sc);
/* Write records that were used this run (atomically) when anything
 * changed. */
int state_cache_save(struct state_cache *sc, const char *path);

/* File identity string for st (buf of at least 128 bytes). */
void state_id(const struct stat *st, char *buf, size_t len);

int state_get_equal(struct state_cache *sc, const char *pa, const char *ida,
		    const char *pb, const char *idb, bool *equal);
int state_put_equal(struct state_cache *sc, const char *pa, const char *ida,
		    const char *pb, const char *idb, bool equal);
int state_get_vermagic(struct state_cache *sc, const char *path, const char *id,
		       const char **vermagic);
int state_put_vermagic(struct state_cache *sc, const char *path, const char *id,
		       const char *vermagic);

#endif
