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

/* Copy one file to dst atomically (temp + fsync + rename), mode kept. */
int copy_file_atomic(const char *src, const char *dst);

/* Create or replace a symlink atomically (temp name + rename). */
int symlink_atomic(const char *target, const char *linkpath);

/* fsync a file or directory by path. */
int fsync_path(const char *path);

/* Is path on a tmpfs? */
bool on_tmpfs(const char *path);

#endif
