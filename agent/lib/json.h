/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_JSON_H
#define DKMS_BOOT_JSON_H

#include "lib/util.h"

/* Write s as a JSON string literal (escaping control characters; bytes
 * that are not valid UTF-8 are written as \u00XX of the byte). */
void json_str(FILE *f, const char *s);
/* "key": "value" (value NULL gives null), with a leading comma unless
 * first. */
void json_kv(FILE *f, bool *first, const char *key, const char *value);
void json_kb(FILE *f, bool *first, const char *key, bool value);
void json_key(FILE *f, bool *first, const char *key);

#endif
