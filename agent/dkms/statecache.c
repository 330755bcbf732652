// SPDX-License-Identifier: GPL-2.0-or-later
/* The module state cache behind check's stat-only fast path. */
#include <fcntl.h>

#include "dkms/statecache.h"

#define STATE_MAGIC "dkms-boot-state 1\n"

static void rec_free(struct state_rec *r)
{
	free(r->id_a);
	free(r->id_b);
	free(r->path_a);
	free(r->path_b);
	free(r->value);
}

void state_cache_free(struct state_cache *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		rec_free(&sc->r[i]);
	free(sc->r);
	*sc = (struct state_cache){0};
}

void state_id(const struct stat *st, char *buf, size_t len)
{
	snprintf(buf, len, "%llu:%llu:%lld:%lld%09ld:%lld%09ld",
		 (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		 (long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
		 st->st_ctim.tv_nsec);
}

/* A field may not hold a tab, a newline or a NUL (the format's
 * separators), nor be empty. */
static bool field_ok(const char *s)
{
	return s && *s && !strpbrk(s, "\t\n");
}

static int push(struct state_cache *sc, struct state_rec *rec)
{
	struct state_rec *nr = realloc(sc->r, (sc->n + 1) * sizeof(*nr));

	if (!nr)
		return -ENOMEM;
	sc->r = nr;
	nr[sc->n++] = *rec;
	return 0;
}

/* Split line (NUL-terminated, no newline) at tabs into at most max
 * fields; returns the count, or -EPROTO when there are more. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;

	for (char *p = line;; p++) {
		if (n == max)
			return -EPROTO;
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			return n;
		*p = '\0';
	}
}

static int parse_line(char *line, struct state_cache *sc)
{
	struct state_rec rec = {0};
	char *f[7];
	int n = split_tabs(line, f, 7), r;

	if (n == 6 && streq(f[0], "E") &&
	    (streq(f[3], "0") || streq(f[3], "1"))) {
		rec = (struct state_rec){.kind = 'E',
					 .id_a = strdup(f[1]),
					 .id_b = strdup(f[2]),
					 .equal = f[3][0] == '1',
					 .path_a = strdup(f[4]),
					 .path_b = strdup(f[5])};
	} else if (n == 4 && streq(f[0], "V")) {
		rec = (struct state_rec){.kind = 'V',
					 .id_a = strdup(f[1]),
					 .path_a = strdup(f[2]),
					 .value = strdup(f[3])};
	} else {
		return -EPROTO;
	}
	if (!field_ok(rec.id_a) || !field_ok(rec.path_a) ||
	    (rec.kind == 'E' &&
	     (!field_ok(rec.id_b) || !field_ok(rec.path_b))) ||
	    (rec.kind == 'V' && !field_ok(rec.value))) {
		rec_free(&rec);
		return -EPROTO;
	}
	r = push(sc, &rec);
	if (r < 0)
		rec_free(&rec);
	return r;
}

int state_cache_parse(const char *buf, size_t len, struct state_cache *sc)
{
	size_t ml = strlen(STATE_MAGIC);
	const char *p, *end = buf + len;
	int r = 0;

	if (len < ml || memcmp(buf, STATE_MAGIC, ml) != 0)
		return -EPROTO;
	for (p = buf + ml; r == 0 && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		_cleanup_(freep) char *line = NULL;

		if (!nl || memchr(p, '\0', (size_t)(nl - p)))
			r = -EPROTO;
		else if (!(line = strndup(p, (size_t)(nl - p))))
			r = -ENOMEM;
		else
			r = parse_line(line, sc);
		p = nl ? nl + 1 : end;
	}
	if (r < 0)
		state_cache_free(sc);
	return r;
}

int state_cache_load(const char *path, struct state_cache *sc)
{
	_cleanup_(closep) int fd =
		open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_(freep) char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	r = read_fd(fd, STATE_CACHE_MAX, &buf, &len);
	if (r < 0)
		return r;
	return state_cache_parse(buf, len, sc);
}

int state_cache_save(struct state_cache *sc, const char *path)
{
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!sc->dirty)
		return 0;
	f = open_memstream(&out, &len);
	if (!f)
		return -ENOMEM;
	fputs(STATE_MAGIC, f);
	for (size_t i = 0; i < sc->n; i++) {
		const struct state_rec *rec = &sc->r[i];

		if (!rec->used)
			continue;
		if (rec->kind == 'E')
			fprintf(f, "E\t%s\t%s\t%d\t%s\t%s\n", rec->id_a,
				rec->id_b, rec->equal, rec->path_a,
				rec->path_b);
		else
			fprintf(f, "V\t%s\t%s\t%s\n", rec->id_a, rec->path_a,
				rec->value);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	r = write_file_atomic(path, out, len, 0644);
	if (r == 0)
		sc->dirty = false;
	return r;
}

static struct state_rec *find(struct state_cache *sc, char kind, const char *pa,
			      const char *pb)
{
	for (size_t i = 0; i < sc->n; i++) {
		struct state_rec *rec = &sc->r[i];

		if (rec->kind == kind && streq(rec->path_a, pa) &&
		    (!pb || streq(rec->path_b, pb)))
			return rec;
	}
	return NULL;
}

int state_get_equal(struct state_cache *sc, const char *pa, const char *ida,
		    const char *pb, const char *idb, bool *equal)
{
	struct state_rec *rec = find(sc, 'E', pa, pb);

	if (!rec || !streq(rec->id_a, ida) || !streq(rec->id_b, idb))
		return -ENOENT;
	rec->used = true;
	*equal = rec->equal;
	return 0;
}

int state_get_vermagic(struct state_cache *sc, const char *path, const char *id,
		       const char **vermagic)
{
	struct state_rec *rec = find(sc, 'V', path, NULL);

	if (!rec || !streq(rec->id_a, id))
		return -ENOENT;
	rec->used = true;
	*vermagic = rec->value;
	return 0;
}

static int put(struct state_cache *sc, struct state_rec *n)
{
	struct state_rec *old = find(sc, n->kind, n->path_a, n->path_b);
	int r;

	if (!field_ok(n->id_a) || !field_ok(n->path_a) ||
	    (n->kind == 'E' && (!field_ok(n->id_b) || !field_ok(n->path_b))) ||
	    (n->kind == 'V' && !field_ok(n->value)))
		return -EINVAL; /* not representable: simply not cached */
	n->id_a = strdup(n->id_a);
	n->path_a = strdup(n->path_a);
	n->id_b = n->id_b ? strdup(n->id_b) : NULL;
	n->path_b = n->path_b ? strdup(n->path_b) : NULL;
	n->value = n->value ? strdup(n->value) : NULL;
	n->used = true;
	if (!n->id_a || !n->path_a ||
	    (n->kind == 'E' && (!n->id_b || !n->path_b)) ||
	    (n->kind == 'V' && !n->value)) {
		rec_free(n);
		return -ENOMEM;
	}
	sc->dirty = true;
	if (old) {
		rec_free(old);
		*old = *n;
		return 0;
	}
	r = push(sc, n);
	if (r < 0)
		rec_free(n);
	return r;
}

int state_put_equal(struct state_cache *sc, const char *pa, const char *ida,
		    const char *pb, const char *idb, bool equal)
{
	struct state_rec n = {.kind = 'E',
			      .id_a = (char *)ida,
			      .id_b = (char *)idb,
			      .path_a = (char *)pa,
			      .path_b = (char *)pb,
			      .equal = equal};

	return put(sc, &n);
}

int state_put_vermagic(struct state_cache *sc, const char *path, const char *id,
		       const char *vermagic)
{
	struct state_rec n = {.kind = 'V',
			      .id_a = (char *)id,
			      .path_a = (char *)path,
			      .value = (char *)vermagic};

	return put(sc, &n);
}
