/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_ROOTFS_H
#define DKMS_BOOT_ROOTFS_H

#include <sys/stat.h>

#include "lib/util.h"

/*
 * Paths "as seen inside a root": every command takes --root DIR so that
 * it works on a mounted sysroot (the initramfs) and in tests.  Symlinks
 * there (dkms writes source -> /usr/src/m-v) must resolve inside DIR, not
 * on the host, so resolution is done here component by component, with
 * ".." clamped at the root and at most ROOT_MAX_SYMLINKS links followed.
 */
#define ROOT_MAX_SYMLINKS 40

enum {
	ROOT_NOFOLLOW =
		1 << 0, /* do not follow a symlink in the last component */
	ROOT_ALLOW_MISSING =
		1 << 1, /* like realpath -m: missing parts taken as written */
};

/* Canonical path inside root (absolute, no symlinks, no "." or "..").
 * Returns 0, -ENOENT, -ELOOP, -ENOTDIR, -ENAMETOOLONG or -ENOMEM. */
int root_canon(const char *root, const char *path, unsigned flags,
	       char **canon);
/* The same, always walked in user space (tests compare the two). */
int root_canon_walk(const char *root, const char *path, unsigned flags,
		    char **canon);

/*
 * Host path for an in-root path, symlinks resolved inside root.  When
 * root is "/" this is the path itself (the kernel resolves it), which
 * keeps the boot-time fast path free of extra system calls.
 */
int root_path(const char *root, const char *path, char **host);
/* Same, with the last symlink not followed (for lstat and readlink). */
int root_path_nofollow(const char *root, const char *path, char **host);

bool root_is_slash(const char *root);

/* stat/lstat/access on an in-root path; return 0 or -errno. */
int root_stat(const char *root, const char *path, struct stat *st);
int root_lstat(const char *root, const char *path, struct stat *st);
bool root_exists(const char *root, const char *path);  /* test -e */
bool root_is_dir(const char *root, const char *path);  /* test -d */
bool root_is_link(const char *root, const char *path); /* test -L */
int root_read_file(const char *root, const char *path, size_t max, char **buf,
		   size_t *len);

#endif
