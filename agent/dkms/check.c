// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dkms-boot check`: the boot-time decision.  For each registered
 * package that dkms would autoinstall, is the booting kernel's copy
 * current?  Reads only; with the state cache warm it costs a handful of
 * stat() calls per module and never forks.
 */
#include <stdarg.h>
#include <sys/stat.h>

#include "cmd/commands.h"
#include "lib/json.h"
#include "lib/log.h"
#include "module/modinfo.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "dkms/statecache.h"

enum pkg_state { PKG_CURRENT, PKG_WORK, PKG_EXCLUDED, PKG_SKIPPED, PKG_BROKEN };

static const char *const state_names[] = {
	[PKG_CURRENT] = "current",   [PKG_WORK] = "needs-work",
	[PKG_EXCLUDED] = "excluded", [PKG_SKIPPED] = "skipped",
	[PKG_BROKEN] = "broken",
};

struct pkg_result {
	char *module, *version; /* version: the one that should be installed */
	enum pkg_state state;
	char **codes;	/* machine-readable reasons */
	char **reasons; /* one sentence each */
};

struct check_run {
	struct dkb_ctx *c;
	const struct check_opts *o;
	struct state_cache sc;
	char suffix[8];
	struct pkg_result *res;
	size_t n;
};

static int add_reason(struct pkg_result *p, const char *code, const char *fmt,
		      ...) _printf_(3, 4);
static int add_reason(struct pkg_result *p, const char *code, const char *fmt,
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
static int check_installed_file(struct check_run *run, struct pkg_result *p,
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
static int check_version(struct check_run *run, struct pkg_result *p,
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
	if (strv_length(p->reasons) && p->state == PKG_CURRENT)
		p->state = PKG_WORK;
	return 0;
}

struct candidate {
	char *version;
	struct dkms_conf conf;
};

/* Pick dkms autoinstall's version: the newest registered one (dkms's
 * VER order) whose conf sets AUTOINSTALL. */
static int pick_version(struct check_run *run, const char *m,
			const struct reg_list *all, struct pkg_result *p,
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
			 const struct reg_list *all, struct pkg_result *p)
{
	struct candidate best = {0};
	char reason[256];
	int r;

	p->module = strdup(m);
	if (!p->module)
		return -ENOMEM;
	r = pick_version(run, m, all, p, &best);
	if (r == 0 && !best.version) {
		p->state = strv_length(p->reasons) ? PKG_BROKEN : PKG_SKIPPED;
		if (p->state == PKG_SKIPPED)
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
			p->state = PKG_EXCLUDED;
			r = add_reason(p, "build-exclusive", "%s",
				       best.conf.exclude_reason
					       ?: "BUILD_EXCLUSIVE");
		} else if (dkms_conf_validate_names(&best.conf, reason,
						    sizeof(reason)) < 0) {
			p->state = PKG_BROKEN;
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

static void print_text(const struct check_run *run, FILE *out)
{
	for (size_t i = 0; i < run->n; i++) {
		const struct pkg_result *p = &run->res[i];

		fprintf(out, "%s%s%s, %s, %s: %s", p->module,
			p->version ? "/" : "", p->version ? p->version : "",
			run->o->kernel, run->o->arch, state_names[p->state]);
		for (size_t j = 0; p->reasons && p->reasons[j]; j++)
			fprintf(out, "%s%s", j ? "; " : ": ", p->reasons[j]);
		fputc('\n', out);
	}
}

static void print_strv(FILE *out, char **v)
{
	fputc('[', out);
	for (size_t j = 0; v && v[j]; j++) {
		if (j)
			fputc(',', out);
		json_str(out, v[j]);
	}
	fputc(']', out);
}

static void print_json(const struct check_run *run, int rc, FILE *out)
{
	bool first = true;

	fputc('{', out);
	json_kv(out, &first, "kernel", run->o->kernel);
	json_kv(out, &first, "arch", run->o->arch);
	json_kb(out, &first, "needs_work", rc == EXIT_WORK);
	json_key(out, &first, "packages");
	fputc('[', out);
	for (size_t i = 0; i < run->n; i++) {
		const struct pkg_result *p = &run->res[i];
		bool f2 = true;

		fputs(i ? ",{" : "{", out);
		json_kv(out, &f2, "module", p->module);
		json_kv(out, &f2, "version", p->version);
		json_kv(out, &f2, "state", state_names[p->state]);
		json_key(out, &f2, "codes");
		print_strv(out, p->codes);
		json_key(out, &f2, "reasons");
		print_strv(out, p->reasons);
		fputc('}', out);
	}
	fputs("]}\n", out);
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

static void run_free(struct check_run *run)
{
	for (size_t i = 0; i < run->n; i++) {
		free(run->res[i].module);
		free(run->res[i].version);
		strv_free(run->res[i].codes);
		strv_free(run->res[i].reasons);
	}
	free(run->res);
	state_cache_free(&run->sc);
}

static int check_all(struct check_run *run, const struct reg_list *all)
{
	for (size_t i = 0; i < all->n; i++) {
		const char *m = all->p[i].a;
		struct pkg_result *nr;
		int r;

		if (i > 0 && streq(all->p[i - 1].a, m))
			continue; /* one result per package */
		nr = realloc(run->res, (run->n + 1) * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		run->res = nr;
		nr[run->n] = (struct pkg_result){0};
		r = check_package(run, m, all, &nr[run->n++]);
		if (r < 0)
			return r;
	}
	return 0;
}

int cmd_check(struct dkb_ctx *c, const struct check_opts *o, FILE *out)
{
	_cleanup_(reg_list_freep) struct reg_list all = {0};
	_cleanup_(freep) char *sp = NULL;
	struct check_run run = {.c = c, .o = o};
	int r, rc = EXIT_OK;

	r = reg_module_suffix(c, o->kernel, run.suffix, sizeof(run.suffix));
	if (r == 0)
		r = reg_list_added(c, o->module, NULL, &all);
	sp = state_path(&run);
	if (r == 0 && sp && !o->no_state_cache)
		(void)state_cache_load(sp, &run.sc);
	if (r == 0)
		r = check_all(&run, &all);
	if (r < 0) {
		log_err("check %s: %s", o->kernel, strerror(-r));
		run_free(&run);
		return EXIT_TROUBLE;
	}
	for (size_t i = 0; i < run.n; i++) {
		if (run.res[i].state == PKG_WORK)
			rc = EXIT_WORK;
		else if (run.res[i].state == PKG_BROKEN && rc == EXIT_OK)
			rc = EXIT_TROUBLE;
	}
	if (o->json)
		print_json(&run, rc, out);
	else
		print_text(&run, out);
	if (sp && !o->no_state_cache && run.sc.dirty) {
		_cleanup_(freep) char *dir = NULL;

		if (root_path(c->root, STATE_CACHE_DIR, &dir) == 0 &&
		    make_dirs(dir, 0755) == 0)
			(void)state_cache_save(&run.sc, sp);
	}
	run_free(&run);
	return rc;
}
