/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_FSUTIL_H
#define DKMS_BOOT_FSUTIL_H

#include <sys/types.h>

#include "lib/util.h"

/*
 * Copy a directory tree like `cp -a`: regular files, directories and
 * symbolic links, with modes and modification times.  Devices, FIFOs and
 * sockets are refused (-EPERM, logged): a module source has none.
 * dst must not exist.  At most max_bytes are copied in all (-EFBIG).
 */
int copy_tree(const char *src, const char *dst, unsigned long long max_bytes);

/* rm -rf, staying on one file system and never following links. */
int remove_tree(const char *path);

/*
 * Durable publishing: every rename, link replacement, unlink and new
 * directory below is followed by an fsync of the directory that holds
 * it, and a failed fsync is an error, so that what a caller was told is
 * done survives a power cut.
 */

/* Copy one file to dst atomically (temp + fsync + rename), mode kept. */
int copy_file_atomic(const char *src, const char *dst);
/* The same with the given mode, whatever src's is. */
int copy_file_atomic_mode(const char *src, const char *dst, mode_t mode);

/* Create or replace a symlink atomically (temp name + rename). */
int symlink_atomic(const char *target, const char *linkpath);

/* rename(), then fsync of both directories. */
int rename_durable(const char *from, const char *to);

/* rename_durable(), or where that fails with EXDEV (another file
 * system), an atomic copy then the unlink of from. */
int move_file_durable(const char *from, const char *to);

/* unlink(), then fsync of the directory. */
int unlink_durable(const char *path);

/* mkdir -p, each new directory fsynced into its parent. */
int make_dirs_durable(const char *path, mode_t mode);

/*
 * Open rel beneath dirfd without following any symbolic link and
 * without leaving dirfd's tree: openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), or where the kernel has no openat2, a walk with
 * O_NOFOLLOW on every component.  For what a build left behind, which
 * the build controls.  Returns an fd or a negative errno: -ELOOP for a
 * link on the way, -EXDEV for a way out.
 */
int open_beneath(int dirfd, const char *rel, int flags);
/* The reason for open_beneath()'s error, for a message. */
const char *open_beneath_strerror(int r);

/* fsync a file or directory by path. */
int fsync_path(const char *path);

/* Is path on a tmpfs? */
bool on_tmpfs(const char *path);

#endif
