/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_VARS_H
#define DKMS_BOOT_VARS_H

#include "lib/util.h"

/*
 * A table of shell variables as bash holds them: every variable is an
 * indexed array, a scalar being element 0.  Elements may be unset
 * (sparse arrays), which matters because dkms loops over
 * ${#NAME[@]} (the count of set elements) but indexes from 0.
 */
struct var {
	char *name;
	char **vals; /* vals[i] == NULL: element i unset */
	size_t n;    /* slots allocated: highest set index + 1 */
};

struct vars {
	struct var *v;
	size_t n, cap;
};

#define VARS_INIT                                                              \
	{                                                                      \
		NULL, 0, 0                                                     \
	}
/* Bash caps nothing; we cap indexes so a hostile "A[99999999]=" cannot
 * make us allocate gigabytes. */
#define VARS_MAX_INDEX 4095

void vars_free(struct vars *vs);
static inline void vars_freep(struct vars *vs)
{
	vars_free(vs);
}
int vars_copy(struct vars *dst, const struct vars *src);

struct var *vars_find(const struct vars *vs, const char *name);
/* Element i of NAME, NULL when unset. */
const char *vars_get(const struct vars *vs, const char *name, size_t i);
/* Element 0, or "" when unset: what "$NAME" gives in bash. */
const char *vars_str(const struct vars *vs, const char *name);
/* ${#NAME[@]}: number of set elements. */
size_t vars_count(const struct vars *vs, const char *name);

/* NAME[i]=val.  -EINVAL for a bad name, -ERANGE past VARS_MAX_INDEX. */
int vars_set(struct vars *vs, const char *name, size_t i, const char *val);
/* unset NAME (the whole array). */
void vars_unset(struct vars *vs, const char *name);

/* A valid shell variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool vars_name_valid(const char *name, size_t len);

/*
 * Serialise as NUL-separated "name\0index\0value\0" triples and parse that
 * back.  The parser is strict: it refuses anything malformed.
 */
int vars_serialize(const struct vars *vs, char **buf, size_t *len);
int vars_parse_triples(const char *buf, size_t len, struct vars *out);

#endif
