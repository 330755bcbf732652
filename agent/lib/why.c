// SPDX-License-Identifier: GPL-2.0-or-later
/* The one formatter of refusal reasons; see why.h for the rules. */
#include "lib/buffer.h"
#include "lib/why.h"

/* The shortest subject kept when even the reason alone barely fits. */
#define SUBJECT_MIN 16

static const char ellipsis[] = "...";

static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Copy s into why (of size len), marking a cut with "...". */
static void put(char *why, size_t len, const char *s, size_t n)
{
	if (n < len) {
		memcpy(why, s, n);
		why[n] = '\0';
		return;
	}
	memcpy(why, s, len - 1);
	why[len - 1] = '\0';
	if (len > sizeof(ellipsis))
		memcpy(why + len - sizeof(ellipsis), ellipsis,
		       sizeof(ellipsis) - 1);
}

/* fmt with %m naming err; NULL on -ENOMEM. */
static char *reason(int err, const char *fmt, va_list ap, size_t *n)
{
	_cleanup_(buffer_freep) struct buffer b = {0};
	int saved = errno;

	errno = err < 0 ? -err : saved;
	if (buffer_vappendf(&b, fmt, ap) < 0) {
		errno = saved;
		return NULL;
	}
	errno = saved;
	return buffer_take(&b, n);
}

int why_vset(char *why, size_t len, int err, const char *fmt, va_list ap)
{
	_cleanup_(freep) char *s = NULL;
	size_t n = 0;

	if (!why || len == 0)
		return err;
	s = reason(err, fmt, ap, &n);
	if (!s)
		put(why, len, "out of memory", strlen("out of memory"));
	else
		put(why, len, s, n);
	one_line(why);
	return err;
}

int why_set(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	why_vset(why, len, err, fmt, ap);
	va_end(ap);
	return err;
}

int why_vabout(char *why, size_t len, int err, const char *subject,
	       size_t subject_len, const char *fmt, va_list ap)
{
	_cleanup_(buffer_freep) struct buffer b = {0};
	_cleanup_(freep) char *s = NULL;
	size_t n = 0, room, keep;
	int r;

	if (!why || len == 0)
		return err;
	s = reason(err, fmt, ap, &n);
	/* What the subject may take: all but ": reason" and the NUL. */
	room = s && len > n + 3 + SUBJECT_MIN ? len - n - 3 : SUBJECT_MIN;
	keep = subject_len > room ? room - (sizeof(ellipsis) - 1) : subject_len;
	r = buffer_reserve(&b, room + 2 + n);
	if (r == 0) {
		for (size_t i = 0; i < keep; i++) {
			unsigned char c = (unsigned char)subject[i];

			/* NULs too: the subject is bytes, not a string. */
			b.data[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
		}
		buffer_advance(&b, keep);
	}
	if (r == 0 && keep < subject_len)
		r = buffer_append_str(&b, ellipsis);
	if (r == 0)
		r = buffer_appendf(&b, ": %s", s ? s : "out of memory");
	if (r < 0)
		put(why, len, "out of memory", strlen("out of memory"));
	else
		put(why, len, b.data, b.len);
	one_line(why);
	return err;
}

int why_about(char *why, size_t len, int err, const char *subject,
	      size_t subject_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	why_vabout(why, len, err, subject, subject_len, fmt, ap);
	va_end(ap);
	return err;
}
