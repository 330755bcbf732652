/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_MANIFEST_H
#define DKMS_BOOT_MANIFEST_H

#include "lib/util.h"

/*
 * A cache entry's MANIFEST (docs/cache-format.md): plain text, one
 * "key value" per line, values percent-encoded where needed so that any
 * byte string round-trips and the file stays one record per line.
 *
 *   dkms-boot-cache 1
 *   package <name>
 *   version <version>
 *   kernel <kernel release>
 *   arch <arch>
 *   origin <where it came from: dkms-tree, tarball:<file>, build>
 *   created <seconds since the epoch>
 *   module <dest name>              starts a module record; then:
 *   file <file in the entry dir>    <dest>.ko.zst
 *   size <bytes, decompressed>
 *   sha256 <hex of the decompressed module>
 *   location <install location, e.g. /updates/dkms>
 *   vermagic <...>
 *   srcversion <...>               (optional ones may be absent)
 *   modversion <MODULE_VERSION>
 *   depends <comma list>
 *   signer <...>
 *   sig_key <...>
 *   sig_hashalgo <...>
 *   end                            last line: a manifest without it is
 * truncated
 */
struct manifest_module {
	char *name, *file, *sha256, *location;
	unsigned long long size;
	char *vermagic, *srcversion, *modversion, *depends;
	char *signer, *sig_key, *sig_hashalgo;
};

struct manifest {
	char *package, *version, *kernel, *arch, *origin;
	long long created;
	struct manifest_module *mods;
	size_t n_mods;
};

#define MANIFEST_MAX_SIZE    (1u << 20)
#define MANIFEST_MAX_MODULES 256

void manifest_free(struct manifest *m);
static inline void manifest_freep(struct manifest *m)
{
	manifest_free(m);
}

/*
 * Strict parser: every required key present exactly once (module keys
 * once per module), no unknown keys, names safe (no '/', "..", NUL,
 * control characters), sha256 64 lowercase hex digits, sizes decimal,
 * the "end" line last.  -EBADMSG with a one-line reason (naming the
 * line) in why.
 */
int manifest_parse(const char *buf, size_t len, struct manifest *m, char *why,
		   size_t why_len);
int manifest_format(const struct manifest *m, char **buf, size_t *len);

#endif
