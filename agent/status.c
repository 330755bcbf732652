// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dkms-boot status`: what Debian's dkms 3.0.10 `dkms status` prints for
 * the same tree, line for line and suffix for suffix, without a shell.
 */
#include "commands.h"
#include "json.h"
#include "log.h"
#include "modinfo.h"
#include "registry.h"
#include "rootfs.h"
#include "status_weak.h"

struct status_line {
	char *module, *version, *kernel, *arch, *state;
	char **warnings;
};

struct status_list {
	struct status_line *l;
	size_t n;
	bool stopped; /* a bad dkms.conf ended the listing, as in dkms */
};

static void status_list_free(struct status_list *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->l[i].module);
		free(s->l[i].version);
		free(s->l[i].kernel);
		free(s->l[i].arch);
		free(s->l[i].state);
		strv_free(s->l[i].warnings);
	}
	free(s->l);
}

static struct status_line *status_add(struct status_list *s, const char *m,
				      const char *v, const char *k,
				      const char *a, const char *state)
{
	struct status_line *nl = realloc(s->l, (s->n + 1) * sizeof(*nl));
	struct status_line *l;

	if (!nl)
		return NULL;
	s->l = nl;
	l = &nl[s->n];
	*l = (struct status_line){strdup(m), strdup(v), k ? strdup(k) : NULL,
				  a ? strdup(a) : NULL, strdup(state), NULL};
	s->n++;
	return l;
}

/* get_module_verinfo()'s version: "" when unreadable or absent. */
static char *module_version_of(const struct dkb_ctx *c, const char *path)
{
	_cleanup_(modinfo_freep) struct modinfo mi = {0};
	_cleanup_(freep) char *host = NULL;

	if (path && root_path(c->root, path, &host) == 0 &&
	    modinfo_read(host, &mi) == 0 && mi.version)
		return strdup(mi.version);
	return strdup("");
}

/* find_actual_dest_module_location(): the location whose installed copy
 * has the same version as the one the dkms tree owns. */
static char *actual_dest(const struct dkb_ctx *c, const char *m, const char *k,
			 const char *a, const struct dkms_module_entry *e,
			 const char *suffix)
{
	_cleanup_(freep) char *owned_dir = xasprintf("%s/%s/kernel-%s-%s/module",
						     c->dkms_tree, m, k, a);
	_cleanup_(freep) char *owned = NULL, *owned_ver = NULL;
	const char *locs[2] = {e->dest_location, NULL};

	if (!owned_dir)
		return NULL;
	owned = reg_find_module(c, owned_dir, e->dest_name, suffix);
	owned_ver = module_version_of(c, owned);
	if (!streq(e->dest_location_raw, e->dest_location))
		locs[1] = e->dest_location_raw;
	for (size_t i = 0; i < 2 && locs[i] && owned_ver; i++) {
		_cleanup_(freep) char *dir = NULL, *inst = NULL, *ver = NULL;

		if (!locs[i][0])
			continue;
		dir = xasprintf("%s/%s%s", c->install_tree, k, locs[i]);
		inst = dir ? reg_find_module(c, dir, e->dest_name, suffix) : NULL;
		if (!inst)
			continue;
		ver = module_version_of(c, inst);
		if (ver && streq(ver, owned_ver))
			return strdup(locs[i]);
	}
	return strdup("");
}

static bool differs(const struct dkb_ctx *c, const char *tree_mod,
		    const char *inst)
{
	_cleanup_(freep) char *h1 = NULL, *h2 = NULL;

	if (!inst || root_path(c->root, tree_mod, &h1) < 0 ||
	    root_path(c->root, inst, &h2) < 0)
		return true;
	return files_equal(h1, h2) != 1;
}

/* module_status_built_extra(). */
static int built_extras(const struct dkb_ctx *c, const char *m, const char *v,
			const char *k, const char *a,
			const struct dkms_conf *conf, const char *suffix,
			bool installed, char ***w)
{
	_cleanup_(freep) char *orig = xasprintf("%s/%s/original_module/%s/%s",
						c->dkms_tree, m, k, a);
	_cleanup_(freep) char *mdir = xasprintf("%s/%s/%s/%s/%s/module",
						c->dkms_tree, m, v, k, a);
	int r = 0;

	if (!orig || !mdir)
		return -ENOMEM;
	if (root_is_dir(c->root, orig))
		r = strv_push(w, "original_module exists");
	for (size_t i = 0; r == 0 && i < conf->n_mods; i++) {
		const struct dkms_module_entry *e = &conf->mods[i];
		_cleanup_(freep) char *tree = NULL, *dest = NULL;
		_cleanup_(freep) char *dir = NULL, *inst = NULL;

		tree = reg_find_module(c, mdir, e->dest_name, suffix);
		if (!tree) {
			r = strv_push(w, "WARNING! Missing some built modules!");
			continue;
		}
		if (!installed)
			continue;
		dest = actual_dest(c, m, k, a, e, suffix);
		dir = dest ? xasprintf("%s/%s%s", c->install_tree, k, dest) : NULL;
		if (!dir)
			return -ENOMEM;
		inst = reg_find_module(c, dir, e->dest_name, suffix);
		if (differs(c, tree, inst))
			r = strv_push(w, "WARNING! Diff between built and installed module!");
	}
	return r;
}

/* module_status_built() for one module/version; *any set when a built
 * kernel was found, *stop when dkms would have died on the conf. */
static int status_built(struct dkb_ctx *c, const char *m, const char *v,
			const struct status_opts *o, struct status_list *s,
			bool *any)
{
	_cleanup_(reg_list_freep) struct reg_list ks = {0};
	int r = reg_list_kernels(c, m, v, o->kernel, o->arch, &ks);

	for (size_t i = 0; r == 0 && i < ks.n; i++) {
		const char *k = ks.p[i].a, *a = ks.p[i].b;
		_cleanup_(dkms_conf_freep) struct dkms_conf conf = {0};
		_cleanup_(freep) char *mdir = xasprintf("%s/%s/%s/%s/%s/module",
							c->dkms_tree, m, v, k, a);
		struct status_line *l;
		char suffix[8];
		bool inst;

		if (!mdir)
			return -ENOMEM;
		if (!root_is_dir(c->root, mdir))
			continue;
		r = dkb_read_conf(c, m, v, k, a, NULL, &conf, NULL);
		if (r < 0 || strv_length(conf.errors)) {
			log_err("%s/%s: bad dkms.conf for %s/%s (%s); the listing stops here, as dkms's does",
				m, v, k, a,
				r < 0 ? strerror(-r) : conf.errors[0]);
			s->stopped = true;
			return 0;
		}
		reg_module_suffix(c, k, suffix, sizeof(suffix));
		r = reg_is_built(c, m, v, k, a, &conf, suffix);
		if (r <= 0)
			continue;
		*any = true;
		inst = reg_is_installed(c, m, v, k, a);
		l = status_add(s, m, v, k, a, inst ? "installed" : "built");
		r = l ? built_extras(c, m, v, k, a, &conf, suffix, inst,
				     &l->warnings)
		      : -ENOMEM;
	}
	return r;
}

static void print_text(const struct status_list *s, FILE *out)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct status_line *l = &s->l[i];

		if (!l->kernel) {
			fprintf(out, "%s/%s: %s\n", l->module, l->version,
				l->state);
			continue;
		}
		fprintf(out, "%s/%s, %s, %s: %s", l->module, l->version,
			l->kernel, l->arch, l->state);
		for (char **w = l->warnings; w && *w; w++)
			fprintf(out, " (%s)", *w);
		fputc('\n', out);
	}
}

static void print_json(const struct status_list *s, char **weak, FILE *out)
{
	fputs("{\"modules\":[", out);
	for (size_t i = 0; i < s->n; i++) {
		const struct status_line *l = &s->l[i];
		bool first = true, wf = true;

		fputs(i ? ",{" : "{", out);
		json_kv(out, &first, "module", l->module);
		json_kv(out, &first, "version", l->version);
		json_kv(out, &first, "kernel", l->kernel);
		json_kv(out, &first, "arch", l->arch);
		json_kv(out, &first, "state", l->state);
		json_key(out, &first, "warnings");
		fputc('[', out);
		for (char **w = l->warnings; w && *w; w++) {
			if (!wf)
				fputc(',', out);
			wf = false;
			json_str(out, *w);
		}
		fputs("]}", out);
	}
	fputs("],\"weak\":[", out);
	for (char **w = weak; w && *w; w++) {
		if (w != weak)
			fputc(',', out);
		json_str(out, *w);
	}
	fprintf(out, "],\"complete\":%s}\n", s->stopped ? "false" : "true");
}

int cmd_status(struct dkb_ctx *c, const struct status_opts *o, FILE *out)
{
	_cleanup_(reg_list_freep) struct reg_list mv = {0};
	_cleanup_(strv_freep) char **weak = NULL;
	struct status_list s = {0};
	int r = reg_list_added(c, o->module, o->version, &mv);

	for (size_t i = 0; r == 0 && i < mv.n && !s.stopped; i++) {
		bool any = false;

		r = status_built(c, mv.p[i].a, mv.p[i].b, o, &s, &any);
		if (r == 0 && !any && !s.stopped &&
		    !status_add(&s, mv.p[i].a, mv.p[i].b, NULL, NULL, "added"))
			r = -ENOMEM;
	}
	if (r == 0)
		r = status_weak(c, o, &weak);
	if (r < 0) {
		log_err("status: %s", strerror(-r));
		status_list_free(&s);
		return EXIT_TROUBLE;
	}
	if (o->json) {
		print_json(&s, weak, out);
	} else {
		print_text(&s, out);
		for (char **w = weak; w && *w; w++)
			fprintf(out, "%s\n", *w);
	}
	status_list_free(&s);
	return s.stopped ? EXIT_TROUBLE : EXIT_OK;
}
