/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BUFFER_H
#define DKMS_BOOT_BUFFER_H

#include "lib/util.h"

/*
 * The one growable byte buffer.  data is always NUL-terminated once
 * anything was reserved, so a buffer of text is a C string as it grows;
 * it may also hold NULs (len tells).  max, when not 0, caps len: growing
 * past it is -EFBIG, which is how a reader proves "too big" without
 * holding more than max + 1 bytes.  A zeroed struct is an empty buffer.
 */
struct buffer {
	char *data;
	size_t len; /* bytes in use, not counting the NUL */
	size_t cap; /* bytes allocated for data, not counting the NUL */
	size_t max; /* 0: no limit */
};

/* Make room for more bytes after len: 0, -EFBIG past max, -ENOMEM. */
int buffer_reserve(struct buffer *b, size_t more) _must_check_;
int buffer_append(struct buffer *b, const void *p, size_t n) _must_check_;
int buffer_append_str(struct buffer *b, const char *s) _must_check_;
int buffer_appendf(struct buffer *b, const char *fmt, ...)
	_printf_(2, 3) _must_check_;
int buffer_vappendf(struct buffer *b, const char *fmt, va_list ap)
	_printf_(2, 0) _must_check_;
/* Append n zero bytes (padding). */
int buffer_append_zeros(struct buffer *b, size_t n) _must_check_;
/* Count n bytes written straight into data + len after a reserve. */
void buffer_advance(struct buffer *b, size_t n);
/* Drop everything after the first len bytes (len <= b->len). */
void buffer_truncate(struct buffer *b, size_t len);

/*
 * Hand the contents on: a malloc'd, NUL-terminated string (an empty
 * buffer gives ""), *len its length when len is not NULL; the buffer is
 * left empty.  NULL on -ENOMEM (the buffer is then unchanged).
 */
char *buffer_take(struct buffer *b, size_t *len);
void buffer_free(struct buffer *b);
static inline void buffer_freep(struct buffer *b)
{
	buffer_free(b);
}

#endif
