/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_TAR_H
#define DKMS_BOOT_TAR_H

#include "lib/buffer.h"

/*
 * Tar archives as dkms mktarball writes them (GNU tar, gzip): a reader
 * over an in-memory archive that refuses what it does not trust, and a
 * writer of plain ustar archives that real tar (and dkms ldtarball)
 * reads.
 */

enum tar_type { TAR_FILE, TAR_DIR };

struct tar_entry {
	const char *name; /* normalised: no leading "./", no trailing "/" */
	enum tar_type type;
	unsigned mode;	  /* permission bits */
	const void *data; /* TAR_FILE: the bytes (inside the archive buffer) */
	size_t size;
	long long mtime;
};

struct tar_limits {
	size_t max_entries;   /* 0: 100000 */
	size_t max_file_size; /* 0: 256 MiB */
	size_t max_name;      /* 0: 4096 */
};

/*
 * Called for each entry; return 0 to go on, >0 to stop early (returned
 * by tar_read), <0 to fail with that error.
 */
typedef int (*tar_cb)(const struct tar_entry *e, void *userdata);

/*
 * Walk an uncompressed archive.  Understood: ustar, GNU ('L' long names,
 * 'K' long link names are refused), pax extended headers ('x', 'g':
 * path and size honoured).  Refused with -EBADMSG (and *why filled):
 * bad checksums, truncated data, sizes beyond the limits, absolute names,
 * ".." components, NUL or newline in names, and every entry type other
 * than regular files and directories (symlinks, hard links, devices,
 * FIFOs).  why is a one-line reason naming the entry.
 */
int tar_read(const void *buf, size_t len, const struct tar_limits *lim,
	     tar_cb cb, void *userdata, char *why, size_t why_len);

/* An in-memory ustar writer.  The archive is out; buf and len name
 * out.data and out.len for the callers that read it. */
struct tar_writer {
	union {
		struct buffer out;
		struct {
			char *buf;
			size_t len;
		};
	};
	long long mtime; /* for every entry */
};

int tar_add_dir(struct tar_writer *w, const char *name, unsigned mode);
int tar_add_file(struct tar_writer *w, const char *name, unsigned mode,
		 const void *data, size_t size);
/* The two zero blocks at the end; the archive is then w->buf/w->len. */
int tar_finish(struct tar_writer *w);
void tar_writer_free(struct tar_writer *w);

#endif
