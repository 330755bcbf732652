// SPDX-License-Identifier: GPL-2.0-or-later
/* Read the dkms tree exactly as dkms 3.0.10's status functions do. */
#include <fnmatch.h>

#include "module/modinfo.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "lib/why.h"

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

struct glob_hit {
	char *full; /* the whole path, what bash sorts by */
	char *rel;  /* below base */
};

static int cmp_glob_hit(const void *x, const void *y)
{
	return strcoll(((const struct glob_hit *)x)->full,
		       ((const struct glob_hit *)y)->full);
}

/* Expand pats[depth..] below base/rel, appending matches to *hits. */
static int glob_walk(const struct dkb_ctx *c, const char *base, const char *rel,
		     const char *const *pats, size_t npats,
		     struct glob_hit **hits, size_t *n)
{
	_cleanup_(strv_freep) char **names = NULL;
	_cleanup_(freep) char *dir =
		rel ? xasprintf("%s/%s", base, rel) : strdup(base);
	int r;

	if (!dir)
		return -ENOMEM;
	r = list_dir(c, dir, pats[0], &names);
	for (char **nm = names; r == 0 && nm && *nm; nm++) {
		_cleanup_(freep) char *sub =
			rel ? xasprintf("%s/%s", rel, *nm) : strdup(*nm);
		struct glob_hit *nh;

		if (!sub)
			return -ENOMEM;
		if (npats > 1) {
			r = glob_walk(c, base, sub, pats + 1, npats - 1, hits,
				      n);
			continue;
		}
		nh = realloc(*hits, (*n + 1) * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		*hits = nh;
		nh[*n] = (struct glob_hit){xasprintf("%s/%s", base, sub),
					   TAKE_PTR(sub)};
		if (!nh[(*n)++].full)
			return -ENOMEM;
	}
	return r;
}

int reg_glob(const struct dkb_ctx *c, const char *base, const char *const *pats,
	     size_t npats, char ***rel)
{
	struct glob_hit *hits = NULL;
	size_t n = 0;
	int r = glob_walk(c, base, NULL, pats, npats, &hits, &n);

	if (r == 0 && n > 1)
		qsort(hits, n, sizeof(*hits), cmp_glob_hit);
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = strv_push(rel, hits[i].rel);
		free(hits[i].full);
		free(hits[i].rel);
	}
	free(hits);
	return r;
}

/* Two-level glob base/pa/pb: pairs (a, b), sorted as bash sorts. */
int reg_glob2(const struct dkb_ctx *c, const char *base, const char *pa,
	      const char *pb, struct reg_list *out)
{
	_cleanup_(strv_freep) char **rel = NULL;
	const char *pats[2] = {pa, pb};
	int r = reg_glob(c, base, pats, 2, &rel);

	for (char **p = rel; r == 0 && p && *p; p++) {
		char *slash = strchr(*p, '/');

		*slash = '\0';
		r = reg_list_push(out, *p, slash + 1);
	}
	return r;
}

bool reg_is_added(const struct dkb_ctx *c, const char *m, const char *v)
{
	_cleanup_(freep) char *d = xasprintf("%s/%s/%s", c->dkms_tree, m, v);
	_cleanup_(freep) char *s =
		xasprintf("%s/%s/%s/source", c->dkms_tree, m, v);

	if (!d || !s || !root_is_dir(c->root, d))
		return false;
	return root_is_link(c->root, s) || root_is_dir(c->root, s);
}

int reg_list_added(const struct dkb_ctx *c, const char *mpat, const char *vpat,
		   struct reg_list *out)
{
	_cleanup_(reg_list_freep) struct reg_list all = {0};
	int r = reg_glob2(c, c->dkms_tree, mpat, vpat, &all);

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
	return reg_glob2(c, base, kpat ? kpat : "+([0-9]).*", apat, out);
}

int reg_module_suffix(struct dkb_ctx *c, const char *kver, char *compressed,
		      size_t len)
{
	_cleanup_(freep) char *dep =
		xasprintf("/lib/modules/%s/modules.dep", kver);
	_cleanup_(freep) char *buf = NULL;
	size_t n = 0;
	const char *s = "";

	if (!dep)
		return -ENOMEM;
	/* modules.dep is large; status asks once per package and kernel. */
	if (c->suffix_kver && streq(c->suffix_kver, kver)) {
		snprintf(compressed, len, "%s", c->suffix);
		return 0;
	}
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
	free(c->suffix_kver);
	c->suffix_kver = strdup(kver);
	snprintf(c->suffix, sizeof(c->suffix), "%s", s);
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
	_cleanup_(freep) char *mod =
		xasprintf("%s/%s/%s/%s/%s/module", c->dkms_tree, m, v, k, a);

	if (!mod)
		return -ENOMEM;
	if (!root_is_dir(c->root, mod))
		return 0;
	for (size_t i = 0; i < conf->n_mods; i++) {
		_cleanup_(freep) char *f = reg_find_module(
			c, mod, conf->mods[i].dest_name, compressed);

		if (!f)
			return 0;
	}
	return 1;
}

bool reg_is_installed(const struct dkb_ctx *c, const char *m, const char *v,
		      const char *k, const char *a)
{
	_cleanup_(freep) char *link =
		xasprintf("%s/%s/kernel-%s-%s", c->dkms_tree, m, k, a);
	_cleanup_(freep) char *want =
		xasprintf("%s/%s/%s/%s/%s", c->dkms_tree, m, v, k, a);
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
	_cleanup_(freep) char *link =
		xasprintf("%s/%s/kernel-%s-%s", c->dkms_tree, m, k, a);
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

/* get_module_verinfo()'s version: "" when unreadable or absent. */
char *reg_module_version_host(const char *host)
{
	_cleanup_(modinfo_freep) struct modinfo mi = {0};

	if (host && modinfo_read(host, &mi) == 0 && mi.version)
		return strdup(mi.version);
	return strdup("");
}

char *reg_module_version(const struct dkb_ctx *c, const char *path)
{
	_cleanup_(freep) char *host = NULL;

	if (!path || root_path(c->root, path, &host) < 0)
		return strdup("");
	return reg_module_version_host(host);
}

/* find_actual_dest_module_location(): the location whose installed copy
 * has the same version as the one the dkms tree owns. */
char *reg_actual_dest(const struct dkb_ctx *c, const char *m, const char *k,
		      const char *a, const struct dkms_module_entry *e,
		      const char *suffix)
{
	_cleanup_(freep) char *owned_dir =
		xasprintf("%s/%s/kernel-%s-%s/module", c->dkms_tree, m, k, a);
	_cleanup_(freep) char *owned = NULL, *owned_ver = NULL;
	const char *locs[2] = {e->dest_location, NULL};

	if (!owned_dir)
		return NULL;
	owned = reg_find_module(c, owned_dir, e->dest_name, suffix);
	owned_ver = reg_module_version(c, owned);
	if (!streq(e->dest_location_raw, e->dest_location))
		locs[1] = e->dest_location_raw;
	for (size_t i = 0; i < 2 && locs[i] && owned_ver; i++) {
		_cleanup_(freep) char *dir = NULL, *inst = NULL, *ver = NULL;

		if (!locs[i][0])
			continue;
		dir = xasprintf("%s/%s%s", c->install_tree, k, locs[i]);
		inst = dir ? reg_find_module(c, dir, e->dest_name, suffix)
			   : NULL;
		if (!inst)
			continue;
		ver = reg_module_version(c, inst);
		if (ver && streq(ver, owned_ver))
			return strdup(locs[i]);
	}
	return strdup("");
}

void reg_conf_problem(const struct dkb_ctx *c, const char *m, const char *v,
		      int err, char *buf, size_t len)
{
	_cleanup_(freep) char *src =
		xasprintf("%s/%s/%s/source", c->dkms_tree, m, v);
	_cleanup_(freep) char *canon = NULL, *host = NULL;
	char target[1024];
	ssize_t n = -1;
	int r;

	if (!src) {
		why_set(buf, len, err, "%m");
		return;
	}
	if (root_path_nofollow(c->root, src, &host) == 0)
		n = readlink(host, target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	r = root_canon(c->root, src, 0, &canon);
	if (r == -ELOOP)
		why_set(buf, len, r, "%s: symbolic link loop", src);
	else if (r < 0 && n >= 0)
		why_set(buf, len, r, "%s -> %s: %m", src, target);
	else if (r < 0)
		why_set(buf, len, r, "%s: %m", src);
	else if (err == -ENOENT)
		why_set(buf, len, err, "%s/dkms.conf: no such file", src);
	else
		why_set(buf, len, err, "%s/dkms.conf: %m", src);
}
