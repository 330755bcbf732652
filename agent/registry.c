// SPDX-License-Identifier: GPL-2.0-or-later
/* Read the dkms tree exactly as dkms 3.0.10's status functions do. */
#include <fnmatch.h>

#include "registry.h"
#include "rootfs.h"

void reg_list_free(struct reg_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->p[i].a);
		free(l->p[i].b);
	}
	free(l->p);
	*l = (struct reg_list){0};
}

static int reg_list_push(struct reg_list *l, const char *a, const char *b)
{
	struct reg_pair *np = realloc(l->p, (l->n + 1) * sizeof(*np));

	if (!np)
		return -ENOMEM;
	l->p = np;
	np[l->n].a = strdup(a);
	np[l->n].b = strdup(b);
	if (!np[l->n].a || !np[l->n].b) {
		free(np[l->n].a);
		free(np[l->n].b);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

/* A glob component as bash matches it with extglob on: a leading dot
 * must be matched explicitly, "." and ".." never match. */
static bool glob_match(const char *pat, const char *name)
{
	if (streq(name, ".") || streq(name, ".."))
		return false;
	return fnmatch(pat ? pat : "*", name, FNM_EXTMATCH | FNM_PERIOD) == 0;
}

/* Entries of an in-root directory matching pat. */
static int list_dir(const struct dkb_ctx *c, const char *dir, const char *pat,
		    char ***names)
{
	_cleanup_(freep) char *host = NULL;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *e;
	int r = root_path(c->root, dir, &host);

	if (r < 0)
		return r == -ENOENT || r == -ENOTDIR ? 0 : r;
	d = opendir(host);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!glob_match(pat, e->d_name))
			continue;
		r = strv_push(names, e->d_name);
		if (r < 0)
			return r;
	}
	return 0;
}

struct glob2 {
	char *path; /* the whole path, what bash sorts by */
	const char *a, *b;
};

static int cmp_glob2(const void *x, const void *y)
{
	return strcoll(((const struct glob2 *)x)->path,
		       ((const struct glob2 *)y)->path);
}

/* Two-level glob base/pa/pb: pairs (a, b), sorted as bash sorts. */
static int glob_two(const struct dkb_ctx *c, const char *base, const char *pa,
		    const char *pb, struct reg_list *out)
{
	_cleanup_(strv_freep) char **first = NULL;
	struct glob2 *g = NULL;
	char ***second = NULL;
	size_t n = 0, na;
	int r = list_dir(c, base, pa, &first);

	na = strv_length(first);
	second = calloc(na + 1, sizeof(*second));
	if (r < 0 || !second) {
		free(second);
		return r < 0 ? r : -ENOMEM;
	}
	for (size_t i = 0; i < na && r == 0; i++) {
		_cleanup_(freep) char *dir = xasprintf("%s/%s", base, first[i]);

		r = dir ? list_dir(c, dir, pb, &second[i]) : -ENOMEM;
		n += strv_length(second[i]);
	}
	if (r == 0 && n) {
		size_t k = 0;

		g = calloc(n, sizeof(*g));
		for (size_t i = 0; g && i < na; i++)
			for (char **s = second[i]; s && *s; s++, k++)
				g[k] = (struct glob2){
					xasprintf("%s/%s/%s", base, first[i], *s),
					first[i], *s};
		if (!g)
			r = -ENOMEM;
		for (size_t i = 0; g && i < n; i++)
			if (!g[i].path)
				r = -ENOMEM;
		if (r == 0)
			qsort(g, n, sizeof(*g), cmp_glob2);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = reg_list_push(out, g[i].a, g[i].b);
		for (size_t i = 0; g && i < n; i++)
			free(g[i].path);
	}
	free(g);
	for (size_t i = 0; i < na; i++)
		strv_free(second[i]);
	free(second);
	return r;
}

bool reg_is_added(const struct dkb_ctx *c, const char *m, const char *v)
{
	_cleanup_(freep) char *d = xasprintf("%s/%s/%s", c->dkms_tree, m, v);
	_cleanup_(freep) char *s = xasprintf("%s/%s/%s/source", c->dkms_tree, m, v);

	if (!d || !s || !root_is_dir(c->root, d))
		return false;
	return root_is_link(c->root, s) || root_is_dir(c->root, s);
}

int reg_list_added(const struct dkb_ctx *c, const char *mpat,
		   const char *vpat, struct reg_list *out)
{
	_cleanup_(reg_list_freep) struct reg_list all = {0};
	int r = glob_two(c, c->dkms_tree, mpat, vpat, &all);

	for (size_t i = 0; r == 0 && i < all.n; i++)
		if (reg_is_added(c, all.p[i].a, all.p[i].b))
			r = reg_list_push(out, all.p[i].a, all.p[i].b);
	return r;
}

int reg_list_kernels(const struct dkb_ctx *c, const char *m, const char *v,
		     const char *kpat, const char *apat, struct reg_list *out)
{
	_cleanup_(freep) char *base = xasprintf("%s/%s/%s", c->dkms_tree, m, v);

	if (!base)
		return -ENOMEM;
	return glob_two(c, base, kpat ? kpat : "+([0-9]).*", apat, out);
}

int reg_module_suffix(const struct dkb_ctx *c, const char *kver,
		      char *compressed, size_t len)
{
	_cleanup_(freep) char *dep = xasprintf("/lib/modules/%s/modules.dep", kver);
	_cleanup_(freep) char *buf = NULL;
	size_t n = 0;
	const char *s = "";

	if (!dep)
		return -ENOMEM;
	if (root_read_file(c->root, dep, 64u << 20, &buf, &n) == 0) {
		/* dkms greps for each in turn; the last hit wins. */
		if (memmem(buf, n, ".gz:", 4))
			s = ".gz";
		if (memmem(buf, n, ".xz:", 4))
			s = ".xz";
		if (memmem(buf, n, ".zst:", 5))
			s = ".zst";
	}
	snprintf(compressed, len, "%s", s);
	return 0;
}

char *reg_find_module(const struct dkb_ctx *c, const char *dir,
		      const char *name, const char *compressed)
{
	char *p = xasprintf("%s/%s.ko", dir, name);

	if (!p || root_exists(c->root, p))
		return p;
	free(p);
	p = xasprintf("%s/%s.ko%s", dir, name, compressed);
	if (p && root_exists(c->root, p))
		return p;
	free(p);
	return NULL;
}

int reg_is_built(const struct dkb_ctx *c, const char *m, const char *v,
		 const char *k, const char *a, const struct dkms_conf *conf,
		 const char *compressed)
{
	_cleanup_(freep) char *mod = xasprintf("%s/%s/%s/%s/%s/module",
					       c->dkms_tree, m, v, k, a);

	if (!mod)
		return -ENOMEM;
	if (!root_is_dir(c->root, mod))
		return 0;
	for (size_t i = 0; i < conf->n_mods; i++) {
		_cleanup_(freep) char *f =
			reg_find_module(c, mod, conf->mods[i].dest_name, compressed);

		if (!f)
			return 0;
	}
	return 1;
}

bool reg_is_installed(const struct dkb_ctx *c, const char *m, const char *v,
		      const char *k, const char *a)
{
	_cleanup_(freep) char *link = xasprintf("%s/%s/kernel-%s-%s",
						c->dkms_tree, m, k, a);
	_cleanup_(freep) char *want = xasprintf("%s/%s/%s/%s/%s", c->dkms_tree,
						m, v, k, a);
	_cleanup_(freep) char *canon = NULL;

	if (!link || !want || !root_is_link(c->root, link))
		return false;
	/* dkms: [[ $(readlink -f $k) = $d ]] — a textual comparison with
	 * the tree path as configured. */
	if (root_canon(c->root, link, ROOT_ALLOW_MISSING, &canon) < 0)
		return false;
	return streq(canon, want);
}

char *reg_installed_version(const struct dkb_ctx *c, const char *m,
			    const char *k, const char *a)
{
	_cleanup_(freep) char *link = xasprintf("%s/%s/kernel-%s-%s",
						c->dkms_tree, m, k, a);
	_cleanup_(freep) char *canon = NULL;
	_cleanup_(freep) char *prefix = xasprintf("%s/%s/", c->dkms_tree, m);
	_cleanup_(freep) char *suffix = xasprintf("/%s/%s", k, a);
	size_t pl, sl, cl;

	if (!link || !prefix || !suffix || !root_is_link(c->root, link))
		return NULL;
	if (root_canon(c->root, link, 0, &canon) < 0)
		return NULL;
	pl = strlen(prefix);
	sl = strlen(suffix);
	cl = strlen(canon);
	if (cl <= pl + sl || strncmp(canon, prefix, pl) != 0 ||
	    !endswith(canon, suffix))
		return NULL;
	return strndup(canon + pl, cl - pl - sl);
}
