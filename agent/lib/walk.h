/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_WALK_H
#define DKMS_BOOT_WALK_H

#include <sys/stat.h>

#include "lib/util.h"

/*
 * The one directory walker.  It works by file descriptor (openat,
 * fdopendir, *at() calls), never follows a symbolic link below the top,
 * and keeps its stack on the heap: no recursion and no depth limit, so
 * that a tree built to be deeper than any limit (a build that makes a
 * 10000-deep directory, paths far beyond PATH_MAX) is still removed,
 * chowned or copied whole.  It holds a bounded number of descriptors
 * whatever the depth: deep ancestors are closed and reopened through
 * "..", checked to be the same directory (else -ESTALE).
 */

enum walk_flags {
	/* Follow the top if it is a symbolic link (never below it). */
	WALK_FOLLOW_TOP = 1 << 0,
	/* Entries on another file system than the top are reported as
	 * WALK_OTHER_FS and never entered. */
	WALK_SAME_FS = 1 << 1,
};

enum walk_event {
	WALK_FILE,     /* anything but a directory (links included) */
	WALK_DIR_PRE,  /* a directory, before its entries */
	WALK_DIR_POST, /* the same directory, after its entries */
	WALK_OTHER_FS, /* with WALK_SAME_FS: on another file system */
};

struct walk_entry {
	enum walk_event event;
	int dirfd;	  /* the parent directory: act with *at(dirfd, name) */
	const char *name; /* the name in dirfd (the top: as given) */
	const char *path; /* top/a/b/name, for messages (any length) */
	const struct stat *st; /* lstat (the top: stat with WALK_FOLLOW_TOP) */
	int fd;		       /* WALK_DIR_*: the directory itself, open */
	size_t depth;	       /* 0 for the top */
};

/* Returned by a WALK_DIR_PRE callback: do not enter, no WALK_DIR_POST. */
#define WALK_SKIP 1
/* Returned by any callback: found what was looked for, stop the walk
 * (which returns WALK_STOP). */
#define WALK_STOP 2

/*
 * Return 0 to go on, WALK_SKIP (WALK_DIR_PRE only), WALK_STOP, or a
 * negative errno to stop the walk, which returns it.
 */
typedef int (*walk_fn)(const struct walk_entry *e, void *userdata);

/*
 * Walk path (relative to dirfd, or absolute) depth first, calling fn for
 * the top and every entry below it.  Entries are visited in directory
 * order.  An entry that vanishes while being walked is skipped.
 * Returns 0, WALK_STOP or the first negative value fn returned, -ENOENT
 * when the top does not exist, or another negative errno.
 */
int walk_tree(int dirfd, const char *path, unsigned flags, walk_fn fn,
	      void *userdata);

#endif
