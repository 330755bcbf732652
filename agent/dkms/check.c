// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The boot-time decision (check.h).  For each registered
 * package that dkms would autoinstall, is the booting kernel's copy
 * current?  Reads only; with the state cache warm it costs a handful of
 * stat() calls per module and never forks.
 */
#include <stdarg.h>
#include <sys/stat.h>

#include "dkms/check.h"
#include "lib/log.h"
#include "module/modinfo.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "dkms/statecache.h"

static const char *const state_names[] = {
	[CHECK_CURRENT] = "current",   [CHECK_WORK] = "needs-work",
	[CHECK_EXCLUDED] = "excluded", [CHECK_SKIPPED] = "skipped",
	[CHECK_BROKEN] = "broken",
};

const char *check_state_name(enum check_state s)
{
	return s < ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

struct check_run {
	struct dkb_ctx *c;
	const struct check_query *o;
	struct state_cache sc;
	char suffix[8];
	struct check_result res;
};

static int add_reason(struct check_pkg *p, const char *code, const char *fmt,
		      ...) _printf_(3, 4);
static int add_reason(struct check_pkg *p, const char *code, const char *fmt,
		      ...)
{
	_cleanup_(freep) char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	r = s ? strv_push(&p->codes, code) : -ENOMEM;
	return r < 0 ? r : strv_push(&p->reasons, s);
}

/* Are two in-root files byte-identical?  Answered from the cache when
 * neither file changed since it was last compared. */
static int same_bytes(struct check_run *run, const char *a, const char *b)
{
	_cleanup_(freep) char *ha = NULL, *hb = NULL;
	struct stat sa, sb;
	char ida[128], idb[128];
	bool eq;
	int r;

	if (root_path(run->c->root, a, &ha) < 0 ||
	    root_path(run->c->root, b, &hb) < 0)
		return -ENOMEM;
	if (stat(ha, &sa) < 0 || stat(hb, &sb) < 0)
		return -errno;
	state_id(&sa, ida, sizeof(ida));
	state_id(&sb, idb, sizeof(idb));
	if (state_get_equal(&run->sc, a, ida, b, idb, &eq) == 0)
		return eq;
	r = files_equal(ha, hb);
	if (r >= 0)
		state_put_equal(&run->sc, a, ida, b, idb, r == 1);
	return r;
}

/* The vermagic of an in-root module file, cached like same_bytes(). */
static int vermagic_of(struct check_run *run, const char *path, char **vm)
{
	_cleanup_(freep) char *host = NULL;
	_cleanup_(modinfo_freep) struct modinfo mi = {0};
	const char *cached;
	struct stat st;
	char id[128];
	int r;

	if (root_path(run->c->root, path, &host) < 0)
		return -ENOMEM;
	if (stat(host, &st) < 0)
		return -errno;
	state_id(&st, id, sizeof(id));
	if (state_get_vermagic(&run->sc, path, id, &cached) == 0) {
		*vm = strdup(cached);
		return *vm ? 0 : -ENOMEM;
	}
	r = modinfo_read(host, &mi);
	if (r < 0)
		return r;
	*vm = strdup(mi.vermagic ? mi.vermagic : "");
	if (!*vm)
		return -ENOMEM;
	state_put_vermagic(&run->sc, path, id, *vm);
	return 0;
}

/* Check one installed module file against the tree's copy. */
static int check_installed_file(struct check_run *run, struct check_pkg *p,
				const char *tree_mod,
				const struct dkms_module_entry *e)
{
	const char *k = run->o->kernel;
	_cleanup_(freep) char *dir =
		xasprintf("%s/%s%s", run->c->install_tree, k, e->dest_location);
	_cleanup_(freep) char *inst = NULL, *vm = NULL;
	char rel[256];
	int r;

	if (!dir)
		return -ENOMEM;
	inst = reg_find_module(run->c, dir, e->dest_name, run->suffix);
	if (!inst)
		return add_reason(p, "installed-missing",
				  "%s/%s.ko%s is missing", dir, e->dest_name,
				  run->suffix);
	r = same_bytes(run, tree_mod, inst);
	if (r == 0)
		return add_reason(p, "installed-differs",
				  "%s differs from the built %s", inst,
				  tree_mod);
	if (r < 0)
		return add_reason(p, "installed-unreadable", "%s: %s", inst,
				  strerror(-r));
	r = vermagic_of(run, inst, &vm);
	if (r < 0)
		return add_reason(p, "installed-unreadable",
				  "%s: not a readable module (%s)", inst,
				  strerror(-r));
	if (!vermagic_release(vm, rel, sizeof(rel)) || !streq(rel, k))
		return add_reason(p, "vermagic-mismatch",
				  "%s has vermagic \"%s\", not for %s", inst,
				  vm, k);
	return 0;
}

/* Built, installed, and every file current? */
static int check_version(struct check_run *run, struct check_pkg *p,
			 const struct dkms_conf *conf)
{
	const char *m = p->module, *v = p->version;
	const char *k = run->o->kernel, *a = run->o->arch;
	_cleanup_(freep) char *iv = reg_installed_version(run->c, m, k, a);
	_cleanup_(freep) char *mdir = xasprintf("%s/%s/%s/%s/%s/module",
						run->c->dkms_tree, m, v, k, a);
	int r = reg_is_built(run->c, m, v, k, a, conf, run->suffix);

	if (r < 0 || !mdir)
		return r < 0 ? r : -ENOMEM;
	if (iv && !streq(iv, v))
		r = add_reason(p, "other-version-installed",
			       "version %s is installed for %s, %s is the "
			       "newest registered",
			       iv, k, v);
	else if (r == 0)
		r = add_reason(p, "not-built", "not built for %s/%s", k, a);
	else if (!iv)
		r = add_reason(p, "not-installed",
			       "built for %s/%s but not installed", k, a);
	else
		for (size_t i = 0; r >= 0 && i < conf->n_mods; i++) {
			_cleanup_(freep) char *tm = reg_find_module(
				run->c, mdir, conf->mods[i].dest_name,
				run->suffix);

			r = tm ? check_installed_file(run, p, tm,
						      &conf->mods[i])
			       : -ENOENT;
		}
	if (r < 0)
		return r;
	if (strv_length(p->reasons) && p->state == CHECK_CURRENT)
		p->state = CHECK_WORK;
	return 0;
}

struct candidate {
	char *version;
	struct dkms_conf conf;
};

/* Pick dkms autoinstall's version: the newest registered one (dkms's
 * VER order) whose conf sets AUTOINSTALL. */
static int pick_version(struct check_run *run, const char *m,
			const struct reg_list *all, struct check_pkg *p,
			struct candidate *best)
{
	for (size_t i = 0; i < all->n; i++) {
		struct dkms_conf conf = {0};
		int r;

		if (!streq(all->p[i].a, m))
			continue;
		r = dkb_read_conf(run->c, m, all->p[i].b, run->o->kernel,
				  run->o->arch, NULL, &conf, NULL);
		if (r < 0 || strv_length(conf.errors)) {
			char why[512];

			if (r < 0)
				reg_conf_problem(run->c, m, all->p[i].b, r, why,
						 sizeof(why));
			add_reason(p, "bad-conf", "%s/%s: %s", m, all->p[i].b,
				   r < 0 ? why : conf.errors[0]);
			dkms_conf_free(&conf);
			continue;
		}
		if (!conf.autoinstall ||
		    (best->version &&
		     dkms_ver_cmp(all->p[i].b, best->version) <= 0)) {
			dkms_conf_free(&conf);
			continue;
		}
		free(best->version);
		dkms_conf_free(&best->conf);
		best->version = strdup(all->p[i].b);
		best->conf = conf;
		if (!best->version)
			return -ENOMEM;
	}
	return 0;
}

static int check_package(struct check_run *run, const char *m,
			 const struct reg_list *all, struct check_pkg *p)
{
	struct candidate best = {0};
	char reason[256];
	int r;

	p->module = strdup(m);
	if (!p->module)
		return -ENOMEM;
	r = pick_version(run, m, all, p, &best);
	if (r == 0 && !best.version) {
		p->state =
			strv_length(p->reasons) ? CHECK_BROKEN : CHECK_SKIPPED;
		if (p->state == CHECK_SKIPPED)
			r = add_reason(
				p, "no-autoinstall",
				"no registered version sets AUTOINSTALL");
	} else if (r == 0) {
		/* Broken older versions do not matter once a good one wins. */
		strv_free(p->codes);
		strv_free(p->reasons);
		p->codes = p->reasons = NULL;
		p->version = strdup(best.version);
		if (best.conf.build_exclude) {
			p->state = CHECK_EXCLUDED;
			r = add_reason(p, "build-exclusive", "%s",
				       best.conf.exclude_reason
					       ?: "BUILD_EXCLUSIVE");
		} else if (dkms_conf_validate_names(&best.conf, reason,
						    sizeof(reason)) < 0) {
			p->state = CHECK_BROKEN;
			r = add_reason(p, "unsafe-name", "%s", reason);
		} else {
			r = p->version ? check_version(run, p, &best.conf)
				       : -ENOMEM;
		}
	}
	free(best.version);
	dkms_conf_free(&best.conf);
	return r;
}

static char *state_path(const struct check_run *run)
{
	_cleanup_(freep) char *p = xasprintf("%s/%s-%s", STATE_CACHE_DIR,
					     run->o->kernel, run->o->arch);
	char *host = NULL;

	if (!p || root_path(run->c->root, p, &host) < 0)
		return NULL;
	return host;
}

void check_result_free(struct check_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->p[i].module);
		free(res->p[i].version);
		strv_free(res->p[i].codes);
		strv_free(res->p[i].reasons);
	}
	free(res->p);
	*res = (struct check_result){0};
}

static int check_all(struct check_run *run, const struct reg_list *all)
{
	for (size_t i = 0; i < all->n; i++) {
		const char *m = all->p[i].a;
		struct check_pkg *nr;
		int r;

		if (i > 0 && streq(all->p[i - 1].a, m))
			continue; /* one result per package */
		nr = realloc(run->res.p, (run->res.n + 1) * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		run->res.p = nr;
		nr[run->res.n] = (struct check_pkg){0};
		r = check_package(run, m, all, &nr[run->res.n++]);
		if (r < 0)
			return r;
	}
	return 0;
}

int check_run(struct dkb_ctx *c, const struct check_query *q,
	      struct check_result *res)
{
	_cleanup_(reg_list_freep) struct reg_list all = {0};
	_cleanup_(freep) char *sp = NULL;
	struct check_run run = {.c = c, .o = q};
	int r;

	*res = (struct check_result){0};
	r = reg_module_suffix(c, q->kernel, run.suffix, sizeof(run.suffix));
	if (r == 0)
		r = reg_list_added(c, q->module, NULL, &all);
	sp = state_path(&run);
	if (r == 0 && sp && !q->no_state_cache)
		(void)state_cache_load(sp, &run.sc);
	if (r == 0)
		r = check_all(&run, &all);
	if (r == 0 && sp && !q->no_state_cache && run.sc.dirty) {
		_cleanup_(freep) char *dir = NULL;

		if (root_path(c->root, STATE_CACHE_DIR, &dir) == 0 &&
		    make_dirs(dir, 0755) == 0)
			(void)state_cache_save(&run.sc, sp);
	}
	state_cache_free(&run.sc);
	if (r < 0) {
		check_result_free(&run.res);
		return r;
	}
	*res = run.res;
	return 0;
}
