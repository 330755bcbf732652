// SPDX-License-Identifier: GPL-2.0-or-later
/* Shell variables as bash holds them: sparse indexed arrays. */
#include <limits.h>

#include "conf/vars.h"

static void var_clear(struct var *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->vals[i]);
	free(v->vals);
	free(v->name);
}

void vars_free(struct vars *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		var_clear(&vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = vs->cap = 0;
}

int vars_copy(struct vars *dst, const struct vars *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct var *v = &src->v[i];

		for (size_t j = 0; j < v->n; j++) {
			int r;

			if (!v->vals[j])
				continue;
			r = vars_set(dst, v->name, j, v->vals[j]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

bool vars_name_valid(const char *name, size_t len)
{
	if (len == 0 ||
	    !(name[0] == '_' || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= 'a' && name[0] <= 'z')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

struct var *vars_find(const struct vars *vs, const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (streq(vs->v[i].name, name))
			return &vs->v[i];
	return NULL;
}

const char *vars_get(const struct vars *vs, const char *name, size_t i)
{
	const struct var *v = vars_find(vs, name);

	if (!v || i >= v->n)
		return NULL;
	return v->vals[i];
}

const char *vars_str(const struct vars *vs, const char *name)
{
	const char *s = vars_get(vs, name, 0);

	return s ? s : "";
}

size_t vars_count(const struct vars *vs, const char *name)
{
	const struct var *v = vars_find(vs, name);
	size_t n = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < v->n; i++)
		if (v->vals[i])
			n++;
	return n;
}

int vars_set(struct vars *vs, const char *name, size_t i, const char *val)
{
	struct var *v;
	char *copy;

	if (!vars_name_valid(name, strlen(name)))
		return -EINVAL;
	if (i > VARS_MAX_INDEX)
		return -ERANGE;
	v = vars_find(vs, name);
	if (!v) {
		if (vs->n == vs->cap) {
			size_t cap = vs->cap ? vs->cap * 2 : 16;
			struct var *nv = realloc(vs->v, cap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			vs->v = nv;
			vs->cap = cap;
		}
		v = &vs->v[vs->n];
		*v = (struct var){.name = strdup(name)};
		if (!v->name)
			return -ENOMEM;
		vs->n++;
	}
	if (i >= v->n) {
		char **nv = realloc(v->vals, (i + 1) * sizeof(char *));

		if (!nv)
			return -ENOMEM;
		for (size_t j = v->n; j <= i; j++)
			nv[j] = NULL;
		v->vals = nv;
		v->n = i + 1;
	}
	copy = strdup(val);
	if (!copy)
		return -ENOMEM;
	free(v->vals[i]);
	v->vals[i] = copy;
	return 0;
}

void vars_unset(struct vars *vs, const char *name)
{
	struct var *v = vars_find(vs, name);

	if (!v)
		return;
	var_clear(v);
	*v = vs->v[--vs->n];
}

int vars_serialize(const struct vars *vs, char **buf, size_t *len)
{
	_cleanup_(freep) char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < vs->n; i++) {
		const struct var *v = &vs->v[i];

		for (size_t j = 0; j < v->n; j++)
			if (v->vals[j])
				fprintf(f, "%s%c%zu%c%s%c", v->name, 0, j, 0,
					v->vals[j], 0);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*buf = TAKE_PTR(out);
	*len = n;
	return 0;
}

/* Take one NUL-terminated field; -EPROTO when the buffer ends first. */
static int take_field(const char **p, const char *end, const char **field,
		      size_t *flen)
{
	const char *nul = memchr(*p, '\0', (size_t)(end - *p));

	if (!nul)
		return -EPROTO;
	*field = *p;
	*flen = (size_t)(nul - *p);
	*p = nul + 1;
	return 0;
}

int vars_parse_triples(const char *buf, size_t len, struct vars *out)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *name, *idx, *val;
		size_t nl, il, vl, index = 0;
		int r;

		r = take_field(&p, end, &name, &nl);
		if (r == 0)
			r = take_field(&p, end, &idx, &il);
		if (r == 0)
			r = take_field(&p, end, &val, &vl);
		if (r < 0)
			return r;
		if (!vars_name_valid(name, nl) || il == 0 || il > 5)
			return -EPROTO;
		for (size_t k = 0; k < il; k++) {
			if (idx[k] < '0' || idx[k] > '9')
				return -EPROTO;
			index = index * 10 + (size_t)(idx[k] - '0');
		}
		r = vars_set(out, name, index, val);
		if (r < 0)
			return r == -ENOMEM ? r : -EPROTO;
	}
	return 0;
}
