/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_UTIL_H
#define DKMS_BOOT_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _must_check_   __attribute__((warn_unused_result))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Hand ownership of a _cleanup_ variable on: returns it and clears it. */
#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _p_ = (p);                                       \
		(p) = NULL;                                                    \
		_p_;                                                           \
	})
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _fd_ = (fd);                                               \
		(fd) = -1;                                                     \
		_fd_;                                                          \
	})

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool endswith(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* NULL-terminated string vectors. */
void strv_free(char **v);
static inline void strv_freep(char ***v)
{
	strv_free(*v);
}
size_t strv_length(char *const *v);
/* Append a copy of s; returns 0 or -ENOMEM. */
int strv_push(char ***v, const char *s);
/* Sort with strcoll(), the order bash gives a glob's matches. */
void strv_sort_glob(char **v);

/* Allocation helpers that return NULL on overflow or ENOMEM. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);
/* Append a formatted string; 0 or -ENOMEM. */
int strv_pushf(char ***v, const char *fmt, ...) _printf_(2, 3);
char *path_join(const char *a, const char *b);

/*
 * Read a whole file of at most max_size bytes.  Returns 0 and a
 * NUL-terminated buffer (the file may itself contain NULs: *len tells),
 * -EFBIG when the file is larger, or another negative errno.
 */
int read_file(const char *path, size_t max_size, char **buf, size_t *len);
int read_fd(int fd, size_t max_size, char **buf, size_t *len);

/*
 * Write a file atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory.  A crash leaves the old or the new file.
 */
int write_file_atomic(const char *path, const void *data, size_t len,
		      mode_t mode);

/* fsync the directory that holds path. */
int fsync_parent_dir(const char *path);

/* mkdir -p; mode for the directories created. */
int make_dirs(const char *path, mode_t mode);

/* Compare two files byte for byte: 1 same, 0 different, <0 error. */
int files_equal(const char *a, const char *b);

/* Monotonic clock in nanoseconds. */
unsigned long long now_ns(void);

#endif
