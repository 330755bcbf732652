/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_COMPRESS_H
#define DKMS_BOOT_COMPRESS_H

#include "lib/util.h"

/*
 * Module compression as the kernel's own modules are compressed (dkms
 * picks ".zst", ".xz" or ".gz" from modules.dep), done in-process with
 * libzstd, liblzma and zlib.  xz streams use CRC32 checks, the only
 * check the kernel's decompressor accepts.
 */
enum compress_kind { COMPRESS_NONE, COMPRESS_GZ, COMPRESS_XZ, COMPRESS_ZST };

/* From a suffix: "", ".gz", ".xz", ".zst"; -EINVAL otherwise. */
int compress_kind_from_suffix(const char *suffix, enum compress_kind *k);
const char *compress_suffix(enum compress_kind k);

/*
 * Compress src into dst (host paths; dst written atomically, with src's
 * permission bits).  For COMPRESS_NONE, a copy.  zstd: level 19 with a
 * content checksum; xz: preset 6, 1 MiB dictionary, CRC32 (as Kbuild);
 * gzip: level 9, no name or time stamp in the header.
 */
int compress_file(enum compress_kind k, const char *src, const char *dst);

/* The format of a buffer by its magic bytes; COMPRESS_NONE if none. */
enum compress_kind compress_detect(const void *buf, size_t len);

/* Compress a buffer (not COMPRESS_NONE); *out is malloc'd. */
int compress_buffer(enum compress_kind k, const void *in, size_t n, void **out,
		    size_t *outlen);

/*
 * Decompress one complete in-memory stream of kind k (concatenated
 * streams/members allowed, as the CLI tools accept them).  Returns 0 and
 * a malloc'd, NUL-terminated buffer of *outlen bytes; -EFBIG as soon as
 * the output would pass max bytes (or the stream asks for more memory
 * than decoding a module needs); -EBADMSG for a corrupt or truncated
 * stream or bytes after its end; -ENOMEM.  COMPRESS_NONE copies.
 */
int decompress_buffer(enum compress_kind k, const void *in, size_t inlen,
		      size_t max, char **out, size_t *outlen);

/*
 * Decompress a whole file into memory (at most max bytes of output;
 * -EFBIG past it).  The format is found by magic bytes, not by suffix;
 * a file with no known magic is returned as it is (so an uncompressed
 * .ko reads as itself).  Errors as decompress_buffer(), or from open/read.
 */
int decompress_file(const char *path, size_t max, char **out, size_t *len);

#endif
