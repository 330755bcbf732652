// SPDX-License-Identifier: GPL-2.0-or-later
/* The one growable buffer: every "read it all" and "build it up" uses it. */
#include <stdint.h>

#include "lib/buffer.h"

#define BUFFER_MIN 64

int buffer_reserve(struct buffer *b, size_t more)
{
	size_t need, cap;
	char *p;

	if (more > SIZE_MAX - 1 - b->len)
		return -ENOMEM;
	need = b->len + more;
	if (b->max && need > b->max)
		return -EFBIG;
	if (b->data && need <= b->cap)
		return 0;
	cap = b->cap > BUFFER_MIN ? b->cap : BUFFER_MIN;
	while (cap < need)
		cap = cap > (SIZE_MAX - 1) / 2 ? need : cap * 2;
	/* Doubling past max would only allocate what can never be used. */
	if (b->max && cap > b->max)
		cap = b->max;
	p = realloc(b->data, cap + 1); /* + 1: the terminating NUL */
	if (!p)
		return -ENOMEM;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

void buffer_advance(struct buffer *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

void buffer_truncate(struct buffer *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

int buffer_append(struct buffer *b, const void *p, size_t n)
{
	int r = buffer_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	buffer_advance(b, n);
	return 0;
}

int buffer_append_str(struct buffer *b, const char *s)
{
	return buffer_append(b, s, strlen(s));
}

int buffer_append_zeros(struct buffer *b, size_t n)
{
	int r = buffer_reserve(b, n);

	if (r < 0)
		return r;
	memset(b->data + b->len, 0, n);
	buffer_advance(b, n);
	return 0;
}

int buffer_vappendf(struct buffer *b, const char *fmt, va_list ap)
{
	int saved = errno; /* for %m: growing may change errno */
	va_list aq;
	int n, r;

	/* Try in the room there is; format again once it has grown. */
	r = buffer_reserve(b, 0);
	if (r < 0)
		return r;
	errno = saved;
	va_copy(aq, ap);
	n = vsnprintf(b->data + b->len, b->cap - b->len + 1, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n > b->cap - b->len) {
		r = buffer_reserve(b, (size_t)n);
		if (r < 0) {
			b->data[b->len] = '\0';
			return r;
		}
		errno = saved;
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	buffer_advance(b, (size_t)n);
	return 0;
}

int buffer_appendf(struct buffer *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buffer_vappendf(b, fmt, ap);
	va_end(ap);
	return r;
}

char *buffer_take(struct buffer *b, size_t *len)
{
	char *p;

	if (!b->data && buffer_reserve(b, 0) < 0)
		return NULL;
	/* Give back what doubling over-allocated; keep it if that fails. */
	p = realloc(b->data, b->len + 1);
	if (!p)
		p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void buffer_free(struct buffer *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
