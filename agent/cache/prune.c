// SPDX-License-Identifier: GPL-2.0-or-later
/* Pruning the cache: kernels no longer installed, and what a killed add
 * left behind. */
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/internal.h"
#include "dkms/registry.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/rootfs.h"

static bool kept(const struct dkb_ctx *c, const char *const *keep,
		 size_t n_keep, const char *k)
{
	_cleanup_(freep) char *d = NULL;

	if (n_keep) {
		for (size_t i = 0; i < n_keep; i++)
			if (streq(keep[i], k))
				return true;
		return false;
	}
	d = xasprintf("%s/%s", c->install_tree, k);
	return d && root_is_dir(c->root, d);
}

/* Temporary entries of an add that was killed: hidden directories in the
 * kernel directories, older than anything a live add would take. */
#define STALE_TMP_SECONDS 600

static int prune_stale_tmp(struct dkb_ctx *c, const struct cache_opts *o,
			   char ***removed)
{
	static const char *const pats[] = {"*", "*", "*"};
	_cleanup_(strv_freep) char **kdirs = NULL;
	time_t now = time(NULL);

	if (reg_glob(c, cache_dir(o), pats, 3, &kdirs) < 0)
		return 0;
	for (char **k = kdirs; k && *k; k++) {
		_cleanup_(freep) char *in =
			xasprintf("%s/%s", cache_dir(o), *k);
		_cleanup_(freep) char *host = NULL;
		_cleanup_(closedirp) DIR *d = NULL;
		struct dirent *de;

		if (!in || root_path(c->root, in, &host) < 0 ||
		    !(d = opendir(host)))
			continue;
		while ((de = readdir(d))) {
			_cleanup_(freep) char *p = NULL;
			struct stat st;

			if (de->d_name[0] != '.' ||
			    !strstr(de->d_name, ".tmp."))
				continue;
			p = path_join(host, de->d_name);
			if (!p || lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) ||
			    now - st.st_mtime < STALE_TMP_SECONDS)
				continue;
			if (remove_tree(p) == 0) {
				_cleanup_(freep) char *done =
					path_join(in, de->d_name);

				if (!done || strv_push(removed, done) < 0)
					return -ENOMEM;
			}
		}
	}
	return 0;
}

void cache_prune_result_free(struct cache_prune_result *res)
{
	strv_free(res->unfinished);
	cache_ids_free(res->removed, res->n_removed);
	*res = (struct cache_prune_result){0};
}

/* Empty parents of a removed entry go too (rmdir fails harmlessly
 * otherwise). */
static void remove_empty_parents(char *host)
{
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(host, '/');

		if (!slash)
			break;
		*slash = '\0';
		if (rmdir(host) < 0)
			break;
	}
}

int cache_prune(struct dkb_ctx *c, const struct cache_opts *o,
		const char *const *keep, size_t n_keep,
		struct cache_prune_result *res)
{
	struct cache_id *ids = NULL;
	size_t n = 0;
	int r = cache_list(c, o, &ids, &n);

	*res = (struct cache_prune_result){0};
	if (r < 0)
		return r;
	r = prune_stale_tmp(c, o, &res->unfinished);
	/* The removed ids are handed over one by one; ids keeps the rest. */
	res->removed = calloc(n ? n : 1, sizeof(*res->removed));
	if (r == 0 && !res->removed)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_(freep) char *in = NULL, *host = NULL;

		if (kept(c, keep, n_keep, ids[i].k))
			continue;
		in = xasprintf("%s/%s/%s/%s/%s", cache_dir(o), ids[i].m,
			       ids[i].v, ids[i].k, ids[i].a);
		if (!in || root_path(c->root, in, &host) < 0 ||
		    remove_tree(host) < 0) {
			log_err("cache prune: cannot remove %s",
				in ? in : ids[i].m);
			res->failed++;
			continue;
		}
		res->removed[res->n_removed++] = ids[i];
		ids[i] = (struct cache_id){0};
		remove_empty_parents(host);
	}
	cache_ids_free(ids, n);
	if (r < 0)
		cache_prune_result_free(res);
	return r;
}
