// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dkms status`'s installed-weak lines (RHEL/SUSE weak-modules): a
 * module built for one kernel and linked into another kernel's
 * weak-updates/.  dkms 3.0.10 prints them only when a weak-modules
 * program exists, and in the order of a bash associative array, which
 * this file reproduces (bash's FNV-1 string hash over 1024 buckets,
 * newest entry first within a bucket).
 */
#include <fnmatch.h>

#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "dkms/status_weak.h"

#define BASH_ASSOC_BUCKETS 1024

/* bash's hash_string(): FNV-1 with the (signed) char of each byte. */
static unsigned bash_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++) {
		h *= 16777619u;
		h ^= (unsigned)(int)*s;
	}
	return h;
}

struct weak_hit {
	char *key; /* m/v/kern/a/k, as dkms builds it */
	unsigned bucket;
	size_t order; /* insertion order */
};

static bool pat_match(const char *pat, const char *s)
{
	return !pat || fnmatch(pat, s, FNM_EXTMATCH) == 0;
}

bool weak_modules_present(const struct dkb_ctx *c)
{
	struct stat st;

	return (root_stat(c->root, "/sbin/weak-modules", &st) == 0 &&
		(st.st_mode & 0111)) ||
	       (root_stat(c->root, "/usr/lib/module-init-tools/weak-modules",
			  &st) == 0 &&
		(st.st_mode & 0111));
}

/* find_module_from_ko(): which dkms kernel link holds the same bytes.
 * Returns "module/<raw link target>" or NULL. */
static char *module_from_ko(const struct dkb_ctx *c, const char *ko)
{
	_cleanup_(reg_list_freep) struct reg_list links = {0};
	const char *base = strrchr(ko, '/') + 1;

	if (reg_glob2(c, c->dkms_tree, NULL, "kernel-*", &links) < 0)
		return NULL;
	for (size_t i = 0; i < links.n; i++) {
		_cleanup_(freep) char *l = xasprintf(
			"%s/%s/%s", c->dkms_tree, links.p[i].a, links.p[i].b);
		_cleanup_(freep) char *cand = NULL, *h1 = NULL, *h2 = NULL;
		_cleanup_(freep) char *hl = NULL;
		char target[4096];
		ssize_t n;

		if (!l || !root_is_link(c->root, l))
			continue;
		cand = xasprintf("%s/module/%s", l, base);
		if (!cand || root_path(c->root, cand, &h1) < 0 ||
		    root_path(c->root, ko, &h2) < 0 || files_equal(h1, h2) != 1)
			continue;
		if (root_path_nofollow(c->root, l, &hl) < 0)
			continue;
		n = readlink(hl, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		return xasprintf("%s/%s", links.p[i].a, target);
	}
	return NULL;
}

/* Split at '/' like `IFS=/ read a b c d`: the last field takes the rest. */
static void split4(char *s, char *f[4])
{
	for (int i = 0; i < 4; i++) {
		char *slash = i < 3 ? strchr(s, '/') : NULL;

		f[i] = s;
		if (!slash) {
			for (int j = i + 1; j < 4; j++)
				f[j] = s + strlen(s);
			return;
		}
		*slash = '\0';
		s = slash + 1;
	}
}

/* Any regular file below dir?  dkms's `find ... -type f` check compares
 * full paths against base names, so any file at all skips the entry. */
static bool has_regular_file(const char *host)
{
	_cleanup_(closedirp) DIR *d = opendir(host);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		_cleanup_(freep) char *p = NULL;
		struct stat st;

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		p = path_join(host, e->d_name);
		if (!p || lstat(p, &st) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			return true;
		if (S_ISDIR(st.st_mode) && has_regular_file(p))
			return true;
	}
	return false;
}

static int cmp_hits(const void *x, const void *y)
{
	const struct weak_hit *a = x, *b = y;

	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	return a->order > b->order ? -1 : 1; /* newest first */
}

static int add_hit(struct weak_hit **hits, size_t *n, const char *key)
{
	struct weak_hit *nh;

	for (size_t i = 0; i < *n; i++)
		if (streq((*hits)[i].key, key))
			return 0; /* `+=` on an existing key */
	nh = realloc(*hits, (*n + 1) * sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	*hits = nh;
	nh[*n] = (struct weak_hit){
		strdup(key), bash_hash(key) & (BASH_ASSOC_BUCKETS - 1), *n};
	if (!nh[*n].key)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int collect(const struct dkb_ctx *c, const struct status_query *o,
		   struct weak_hit **hits, size_t *n)
{
	static const char *const pats[] = {"*", "weak-updates", "*"};
	_cleanup_(strv_freep) char **kos = NULL;
	int r = reg_glob(c, c->install_tree, pats, 3, &kos);

	for (char **rel = kos; r == 0 && rel && *rel; rel++) {
		_cleanup_(freep) char *ko =
			xasprintf("%s/%s", c->install_tree, *rel);
		_cleanup_(freep) char *mvka = NULL, *key = NULL;
		_cleanup_(freep) char *kern = strndup(*rel, strcspn(*rel, "/"));
		char *f[4];

		if (!ko || !kern)
			return -ENOMEM;
		if (!root_exists(c->root, ko) || !root_is_link(c->root, ko))
			continue;
		mvka = module_from_ko(c, ko);
		if (!mvka)
			continue;
		split4(mvka, f);
		if (!pat_match(o->module, f[0]) ||
		    !pat_match(o->version, f[1]) || !pat_match(o->arch, f[3]) ||
		    !pat_match(o->kernel, kern))
			continue;
		key = xasprintf("%s/%s/%s/%s/%s", f[0], f[1], kern, f[3], f[2]);
		r = key ? add_hit(hits, n, key) : -ENOMEM;
	}
	return r;
}

int status_weak(const struct dkb_ctx *c, const struct status_query *o,
		char ***lines)
{
	struct weak_hit *hits = NULL;
	size_t n = 0;
	int r;

	if (!weak_modules_present(c))
		return 0;
	r = collect(c, o, &hits, &n);
	if (r == 0 && n > 1)
		qsort(hits, n, sizeof(*hits), cmp_hits);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_(freep) char *copy = strdup(hits[i].key);
		_cleanup_(freep) char *dir = NULL, *host = NULL, *line = NULL;
		char *f[4], *m, *kern;

		if (!copy)
			return -ENOMEM;
		/* key m/v/kern/a/k (kern: weak kernel, k: built for).  dkms
		 * then reads it back as m v k a kern, so its file check
		 * looks in the build's own directory, m/v/<built>/a. */
		m = copy;
		split4(m, f);
		kern = strrchr(f[3], '/');
		if (!kern)
			continue;
		*kern++ = '\0';
		dir = xasprintf("%s/%s/%s/%s/%s/module", c->dkms_tree, f[0],
				f[1], kern, f[3]);
		if (!dir || root_path(c->root, dir, &host) < 0)
			continue;
		if (has_regular_file(host))
			continue;
		line = xasprintf("%s, %s, %s, %s: installed-weak from %s", f[0],
				 f[1], f[2], f[3], kern);
		r = line ? strv_push(lines, line) : -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		free(hits[i].key);
	free(hits);
	return r;
}
