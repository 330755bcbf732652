/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_JSON_H
#define DKMS_BOOT_JSON_H

#include "lib/util.h"

/* Write s as a JSON string literal (escaping control characters; bytes
 * that are not valid UTF-8 are written as \u00XX of the byte, so such a
 * string reads back as a different one: see json_utf8_valid). */
void json_str(FILE *f, const char *s);
/* s is strict UTF-8 (what json_str writes back unchanged). */
bool json_utf8_valid(const char *s);
/* "key": "value" (value NULL gives null), with a leading comma unless
 * first. */
void json_kv(FILE *f, bool *first, const char *key, const char *value);
void json_kb(FILE *f, bool *first, const char *key, bool value);
void json_key(FILE *f, bool *first, const char *key);
/* "key": 123 */
void json_ku(FILE *f, bool *first, const char *key, unsigned long long value);

/*
 * A strict reader.  RFC 8259 JSON only: objects, arrays, strings (with
 * every escape, \uXXXX and surrogate pairs), numbers, true, false, null.
 * Refused, with the reason in why: more than JSON_DEPTH_MAX nesting, more
 * than JSON_SIZE_MAX bytes, trailing garbage, a key twice in one object,
 * invalid UTF-8 (overlong, surrogates, beyond U+10FFFF), a lone
 * surrogate escape, raw control bytes and \u0000 (strings are C strings
 * here, so a NUL inside one could not be given back as written).
 */
#define JSON_DEPTH_MAX 32
#define JSON_SIZE_MAX  (1024 * 1024)

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value {
	enum json_type type;
	/* JSON_STRING: the decoded string; JSON_NUMBER: its text as
	 * written (the reader does not round it). */
	char *str;
	/* JSON_ARRAY and JSON_OBJECT: n items; keys[] for objects only,
	 * in the order written. */
	size_t n;
	struct json_value *items;
	char **keys;
};

/* Returns 0, -EINVAL (why says where and what), -EFBIG or -ENOMEM. */
int json_parse(const char *text, size_t len, struct json_value *out, char *why,
	       size_t why_len);
void json_value_free(struct json_value *v);
static inline void json_value_freep(struct json_value *v)
{
	json_value_free(v);
}
/* The member key of an object, NULL when absent or v is no object. */
const struct json_value *json_get(const struct json_value *v, const char *key);
/* A JSON_NUMBER that is a non-negative integer of at most 64 bits:
 * 0, else -EINVAL. */
int json_u64(const struct json_value *v, unsigned long long *out);
/* Write v compactly; a parse of the output gives v again. */
void json_write_value(FILE *f, const struct json_value *v);
/* Deep equality (numbers compared as written). */
bool json_equal(const struct json_value *a, const struct json_value *b);

#endif
