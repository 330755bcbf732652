/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BOOT_MEMO_H
#define DKMS_BOOT_BOOT_MEMO_H

#include "lib/util.h"

/*
 * The memory of futile work: outcomes that cannot change while the
 * inputs stay the same (a build that failed, an install that dkms's
 * version check declines, a package excluded for this kernel).  Each is
 * kept per package/version/kernel/arch with the identity of its inputs,
 * so later boots report it at no cost until an input changes or the
 * user asks for a retry (memo_forget).
 *
 * The file (MEMO_PATH in the root, MEMO_RUN_PATH during the boot) is
 * "dkms-boot-memo 1" and then one line per record, fields separated by
 * one tab:
 *   package version kernel arch inputs outcome time log reason
 * inputs is 64 lowercase hex digits (memo_inputs), outcome one of
 * failed/declined/excluded, time decimal unix seconds, log an absolute
 * path or "-", reason free text with '\\' written "\\\\" and control bytes
 * (tab, newline, ...) as "\\xHH" with lowercase hex.  Every name is
 * 1..MEMO_NAME_MAX printable non-blank ASCII bytes.  There is one
 * spelling per memo: parse(format(m)) == m and format(parse(text)) ==
 * text; anything else is refused whole, with the reason.
 */
#define MEMO_PATH	 "/var/lib/dkms-boot/memo"
#define MEMO_RUN_PATH	 "/run/dkms-boot/memo"
#define MEMO_MAGIC	 "dkms-boot-memo 1"
#define MEMO_SIZE_MAX	 (1024 * 1024)
#define MEMO_RECORDS_MAX 4096
#define MEMO_NAME_MAX	 255
#define MEMO_LOG_MAX	 4095
#define MEMO_REASON_MAX	 1024 /* bytes before escaping */

enum memo_outcome {
	MEMO_FAILED,   /* the build failed */
	MEMO_DECLINED, /* dkms's version check keeps the in-tree module */
	MEMO_EXCLUDED, /* BUILD_EXCLUSIVE_* rules this kernel out */
};

struct memo_record {
	char *package, *version, *kernel, *arch;
	char inputs[65];
	enum memo_outcome outcome;
	unsigned long long time;
	char *log; /* NULL: none */
	char *reason;
};

struct memo {
	struct memo_record *recs;
	size_t n;
};

const char *memo_outcome_name(enum memo_outcome o);

void memo_free(struct memo *m);
static inline void memo_freep(struct memo *m)
{
	memo_free(m);
}

/*
 * The identity of a piece of work's inputs, as hex SHA-256 in out: each
 * of paths (in-root, lstat'd inside root: size, mtime and ctime to the
 * nanosecond, inode, mode; not st_dev, which differs between the
 * initramfs and the booted system; a missing path counts as "absent",
 * so its later appearance changes the identity), then each of strings
 * (the settings that matter, the kernel release).  Either list may be
 * NULL.  Returns 0 or the negative errno of an lstat that failed
 * otherwise than ENOENT/ENOTDIR (then there is no identity to trust).
 */
int memo_inputs(const char *root, char *const *paths, char *const *strings,
		char out[65]);

/* Returns 0, -EINVAL (why says which line and what), -EFBIG or -ENOMEM. */
int memo_parse(const char *buf, size_t len, struct memo *m, char *why,
	       size_t why_len);
/* Returns 0, -EINVAL when a record cannot be written, or -ENOMEM. */
int memo_format(const struct memo *m, char **out, size_t *len);

/* Read path: an absent file is an empty memo.  Returns as memo_parse,
 * or the negative errno of the read. */
int memo_load(const char *path, struct memo *m, char *why, size_t why_len);
/* Write atomically (temp, fsync, rename, fsync of the directory),
 * creating the directory.  Returns 0 or a negative errno. */
int memo_save(const char *path, const struct memo *m);

/*
 * The record for this package/version/kernel/arch when its inputs are
 * still inputs; NULL when there is none or it is stale (inputs differ).
 */
const struct memo_record *memo_lookup(const struct memo *m, const char *package,
				      const char *version, const char *kernel,
				      const char *arch, const char *inputs);
/* Add a copy of r, replacing the record of the same key.  Returns 0,
 * -EINVAL for a record the file cannot hold, -E2BIG when full, -ENOMEM. */
int memo_put(struct memo *m, const struct memo_record *r);
/* Drop the records of package (every package when NULL: the retry).
 * Returns how many were dropped. */
size_t memo_forget(struct memo *m, const char *package);
/* Drop the records whose "package/version" is not in registered.
 * Returns how many were dropped. */
size_t memo_prune(struct memo *m, char *const *registered);

#endif
