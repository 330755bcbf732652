// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * JSON: a minimal writer, and a strict reader for what the agent wrote
 * itself (the boot report), which may have been edited or damaged since.
 */
#include "lib/json.h"

/* Length of the UTF-8 sequence at s (of at most end - s bytes), 0 if
 * its shape is invalid.  Overlong 3/4-byte forms pass here: the writer
 * copies them as they are; the reader checks them (utf8_strict). */
static size_t utf8_len_bounded(const unsigned char *s, const unsigned char *end)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past
 * U+10FFFF.  Length of the sequence at p, 0 if invalid.  The writer
 * uses it too, so that it never emits what the reader refuses. */
static size_t utf8_strict(const unsigned char *p, const unsigned char *end)
{
	size_t n = utf8_len_bounded(p, end);
	unsigned cp;

	if (n <= 1)
		return n;
	if (n == 2)
		return 2;
	if (n == 3) {
		cp = (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 |
		     (p[2] & 0x3fu);
		return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) ? 3 : 0;
	}
	cp = (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 |
	     (p[3] & 0x3fu);
	return cp >= 0x10000 && cp <= 0x10ffff ? 4 : 0;
}

void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	const unsigned char *end = p + strlen(s);

	fputc('"', f);
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
			continue;
		}
		if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p++);
			continue;
		}
		n = utf8_strict(p, end);
		if (n == 0) {
			fprintf(f, "\\u%04x", *p++);
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

void json_key(FILE *f, bool *first, const char *key)
{
	if (!*first)
		fputc(',', f);
	*first = false;
	json_str(f, key);
	fputc(':', f);
}

void json_kv(FILE *f, bool *first, const char *key, const char *value)
{
	json_key(f, first, key);
	if (value)
		json_str(f, value);
	else
		fputs("null", f);
}

void json_kb(FILE *f, bool *first, const char *key, bool value)
{
	json_key(f, first, key);
	fputs(value ? "true" : "false", f);
}

bool json_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);

	while (p < end) {
		size_t n = utf8_strict(p, end);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

void json_ku(FILE *f, bool *first, const char *key, unsigned long long value)
{
	json_key(f, first, key);
	fprintf(f, "%llu", value);
}

/* The reader. */
struct jp {
	const unsigned char *p, *end, *start;
	unsigned depth;
	char *why;
	size_t why_len;
};

static int jp_fail(struct jp *j, const char *fmt, ...) _printf_(2, 3);
static int jp_fail(struct jp *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!j->why || j->why_len == 0)
		return -EINVAL;
	n = snprintf(j->why, j->why_len,
		     "offset %zu: ", (size_t)(j->p - j->start));
	if (n >= 0 && (size_t)n < j->why_len) {
		va_start(ap, fmt);
		vsnprintf(j->why + n, j->why_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jp_hex4(struct jp *j, unsigned *cp)
{
	*cp = 0;
	if (j->end - j->p < 4)
		return jp_fail(j, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = *j->p++;

		*cp <<= 4;
		if (c >= '0' && c <= '9')
			*cp |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*cp |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*cp |= c - 'A' + 10;
		else
			return jp_fail(j, "bad hex digit in \\u escape");
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int jp_escape(struct jp *j, char *o, size_t *w)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	unsigned cp, lo;
	int r;

	if (j->p >= j->end)
		return jp_fail(j, "unterminated string");
	if (*j->p != 'u') {
		e = memchr(from, *j->p, sizeof(from) - 1);
		if (!e)
			return jp_fail(j, "bad escape \\%c", *j->p);
		o[(*w)++] = to[e - from];
		j->p++;
		return 0;
	}
	j->p++;
	r = jp_hex4(j, &cp);
	if (r < 0)
		return r;
	if (cp == 0)
		return jp_fail(j, "\\u0000 in a string");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jp_fail(j, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
			return jp_fail(j, "lone high surrogate");
		j->p += 2;
		r = jp_hex4(j, &lo);
		if (r < 0)
			return r;
		if (lo < 0xdc00 || lo > 0xdfff)
			return jp_fail(j, "high surrogate without low one");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*w += put_utf8(o + *w, cp);
	return 0;
}

/* After the opening quote.  Decoded text is never longer than its
 * spelling, so one allocation of the remaining size bounds it. */
static int jp_string(struct jp *j, char **out)
{
	const unsigned char *q = j->p;
	_cleanup_(freep) char *o = NULL;
	size_t w = 0;
	int r;

	while (q < j->end && *q != '"')
		q += (*q == '\\' && q + 1 < j->end) ? 2 : 1;
	o = malloc((size_t)(q - j->p) + 1);
	if (!o)
		return -ENOMEM;
	for (;;) {
		size_t n;

		if (j->p >= j->end)
			return jp_fail(j, "unterminated string");
		if (*j->p == '"')
			break;
		if (*j->p == '\\') {
			j->p++;
			r = jp_escape(j, o, &w);
			if (r < 0)
				return r;
			continue;
		}
		if (*j->p < 0x20)
			return jp_fail(j, "control byte 0x%02x in a string",
				       *j->p);
		n = utf8_strict(j->p, j->end);
		if (n == 0)
			return jp_fail(j, "invalid UTF-8");
		memcpy(o + w, j->p, n);
		w += n;
		j->p += n;
	}
	j->p++;
	o[w] = '\0';
	*out = TAKE_PTR(o);
	return 0;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static int jp_number(struct jp *j, struct json_value *v)
{
	const unsigned char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (!is_digit(j->p, j->end))
		return jp_fail(j, "bad number");
	if (*j->p == '0')
		j->p++;
	else
		while (is_digit(j->p, j->end))
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!is_digit(j->p, j->end))
			return jp_fail(j, "bad fraction");
		while (is_digit(j->p, j->end))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!is_digit(j->p, j->end))
			return jp_fail(j, "bad exponent");
		while (is_digit(j->p, j->end))
			j->p++;
	}
	v->type = JSON_NUMBER;
	v->str = strndup((const char *)s, (size_t)(j->p - s));
	return v->str ? 0 : -ENOMEM;
}

static int jp_value(struct jp *j, struct json_value *v);

/* Append one zeroed item (and key) to a container. */
static int jp_grow(struct json_value *v, size_t *cap, bool keys)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct json_value *ni = reallocarray(v->items, nc, sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		v->items = ni;
		if (keys) {
			char **nk = reallocarray(v->keys, nc, sizeof(*nk));

			if (!nk)
				return -ENOMEM;
			v->keys = nk;
		}
		*cap = nc;
	}
	memset(&v->items[v->n], 0, sizeof(v->items[0]));
	if (keys)
		v->keys[v->n] = NULL;
	v->n++;
	return 0;
}

static int jp_member(struct jp *j, struct json_value *v, size_t *cap)
{
	size_t i;
	int r;

	jp_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return jp_fail(j, "expected a key");
	r = jp_grow(v, cap, true);
	if (r < 0)
		return r;
	i = v->n - 1;
	j->p++;
	r = jp_string(j, &v->keys[i]);
	if (r < 0)
		return r;
	/* Duplicates are refused: which one counts differs between
	 * readers, and the report has one meaning per key. */
	for (size_t k = 0; k < i; k++)
		if (streq(v->keys[k], v->keys[i]))
			return jp_fail(j, "duplicate key \"%.64s\"",
				       v->keys[i]);
	jp_ws(j);
	if (j->p >= j->end || *j->p != ':')
		return jp_fail(j, "expected ':'");
	j->p++;
	return jp_value(j, &v->items[i]);
}

static int jp_container(struct jp *j, struct json_value *v, bool object)
{
	char close = object ? '}' : ']';
	size_t cap = 0;
	int r;

	if (++j->depth > JSON_DEPTH_MAX)
		return jp_fail(j, "nested deeper than %d", JSON_DEPTH_MAX);
	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (object) {
			r = jp_member(j, v, &cap);
		} else {
			r = jp_grow(v, &cap, false);
			if (r >= 0)
				r = jp_value(j, &v->items[v->n - 1]);
		}
		if (r < 0)
			return r;
		jp_ws(j);
		if (j->p >= j->end)
			return jp_fail(j, "unterminated %s",
				       object ? "object" : "array");
		if (*j->p == close)
			break;
		if (*j->p != ',')
			return jp_fail(j, "expected ',' or '%c'", close);
		j->p++;
	}
	j->p++;
	j->depth--;
	return 0;
}

static int jp_word(struct jp *j, const char *w, enum json_type t,
		   struct json_value *v)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return jp_fail(j, "unexpected character");
	j->p += n;
	v->type = t;
	return 0;
}

static int jp_value(struct jp *j, struct json_value *v)
{
	jp_ws(j);
	if (j->p >= j->end)
		return jp_fail(j, "expected a value");
	switch (*j->p) {
	case '{':
	case '[':
		return jp_container(j, v, *j->p++ == '{');
	case '"':
		j->p++;
		v->type = JSON_STRING;
		return jp_string(j, &v->str);
	case 't':
		return jp_word(j, "true", JSON_TRUE, v);
	case 'f':
		return jp_word(j, "false", JSON_FALSE, v);
	case 'n':
		return jp_word(j, "null", JSON_NULL, v);
	default:
		return jp_number(j, v);
	}
}

int json_parse(const char *text, size_t len, struct json_value *out, char *why,
	       size_t why_len)
{
	struct jp j = {
		.p = (const unsigned char *)text,
		.start = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.why = why,
		.why_len = why_len,
	};
	int r;

	if (why && why_len)
		why[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (len > JSON_SIZE_MAX) {
		if (why && why_len)
			snprintf(why, why_len, "larger than %d bytes",
				 JSON_SIZE_MAX);
		return -EFBIG;
	}
	r = jp_value(&j, out);
	if (r >= 0) {
		jp_ws(&j);
		if (j.p != j.end)
			r = jp_fail(&j, "trailing garbage");
	}
	if (r < 0) {
		if (r == -ENOMEM && why && why_len)
			snprintf(why, why_len, "out of memory");
		json_value_free(out);
		memset(out, 0, sizeof(*out));
	}
	return r;
}

void json_value_free(struct json_value *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		json_value_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

const struct json_value *json_get(const struct json_value *v, const char *key)
{
	if (!v || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (streq(v->keys[i], key))
			return &v->items[i];
	return NULL;
}

int json_u64(const struct json_value *v, unsigned long long *out)
{
	unsigned long long x = 0;

	if (!v || v->type != JSON_NUMBER || !v->str[0])
		return -EINVAL;
	for (const char *p = v->str; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (__builtin_mul_overflow(x, 10ULL, &x) ||
		    __builtin_add_overflow(x, (unsigned long long)(*p - '0'),
					   &x))
			return -EINVAL;
	}
	*out = x;
	return 0;
}

void json_write_value(FILE *f, const struct json_value *v)
{
	bool first = true;

	switch (v->type) {
	case JSON_NULL:
		fputs("null", f);
		return;
	case JSON_FALSE:
		fputs("false", f);
		return;
	case JSON_TRUE:
		fputs("true", f);
		return;
	case JSON_NUMBER:
		fputs(v->str, f);
		return;
	case JSON_STRING:
		json_str(f, v->str);
		return;
	case JSON_ARRAY:
		fputc('[', f);
		for (size_t i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			json_write_value(f, &v->items[i]);
		}
		fputc(']', f);
		return;
	case JSON_OBJECT:
		fputc('{', f);
		for (size_t i = 0; i < v->n; i++) {
			json_key(f, &first, v->keys[i]);
			json_write_value(f, &v->items[i]);
		}
		fputc('}', f);
		return;
	}
}

bool json_equal(const struct json_value *a, const struct json_value *b)
{
	if (a->type != b->type || a->n != b->n)
		return false;
	if ((a->str || b->str) &&
	    (!a->str || !b->str || !streq(a->str, b->str)))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (a->keys && !streq(a->keys[i], b->keys[i]))
			return false;
		if (!json_equal(&a->items[i], &b->items[i]))
			return false;
	}
	return true;
}
