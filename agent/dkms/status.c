// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dkms status listing: what Debian's dkms 3.0.10 `dkms status` prints for
 * the same tree, line for line and suffix for suffix, without a shell.
 */
#include "lib/log.h"
#include "module/modinfo.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "dkms/status.h"
#include "dkms/status_weak.h"

void status_list_free(struct status_list *s)
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
	*l = (struct status_line){strdup(m),
				  strdup(v),
				  k ? strdup(k) : NULL,
				  a ? strdup(a) : NULL,
				  strdup(state),
				  NULL};
	s->n++;
	return l;
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
	_cleanup_(freep) char *orig =
		xasprintf("%s/%s/original_module/%s/%s", c->dkms_tree, m, k, a);
	_cleanup_(freep) char *mdir =
		xasprintf("%s/%s/%s/%s/%s/module", c->dkms_tree, m, v, k, a);
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
			r = strv_push(w,
				      "WARNING! Missing some built modules!");
			continue;
		}
		if (!installed)
			continue;
		dest = reg_actual_dest(c, m, k, a, e, suffix);
		dir = dest ? xasprintf("%s/%s%s", c->install_tree, k, dest)
			   : NULL;
		if (!dir)
			return -ENOMEM;
		inst = reg_find_module(c, dir, e->dest_name, suffix);
		if (differs(c, tree, inst))
			r = strv_push(w, "WARNING! Diff between built and "
					 "installed module!");
	}
	return r;
}

/* module_status_built() for one module/version; *any set when a built
 * kernel was found, *stop when dkms would have died on the conf. */
static int status_built(struct dkb_ctx *c, const char *m, const char *v,
			const struct status_query *o, struct status_list *s,
			bool *any)
{
	_cleanup_(reg_list_freep) struct reg_list ks = {0};
	int r = reg_list_kernels(c, m, v, o->kernel, o->arch, &ks);

	for (size_t i = 0; r == 0 && i < ks.n; i++) {
		const char *k = ks.p[i].a, *a = ks.p[i].b;
		_cleanup_(dkms_conf_freep) struct dkms_conf conf = {0};
		_cleanup_(freep) char *mdir = xasprintf(
			"%s/%s/%s/%s/%s/module", c->dkms_tree, m, v, k, a);
		struct status_line *l;
		char suffix[8];
		bool inst;

		if (!mdir)
			return -ENOMEM;
		if (!root_is_dir(c->root, mdir))
			continue;
		r = dkb_read_conf(c, m, v, k, a, NULL, &conf, NULL);
		if (r < 0 || strv_length(conf.errors)) {
			char why[512];

			if (r < 0)
				reg_conf_problem(c, m, v, r, why, sizeof(why));
			log_err("%s/%s: bad dkms.conf for %s/%s (%s); the "
				"listing stops here, as dkms's does",
				m, v, k, a, r < 0 ? why : conf.errors[0]);
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

/* One pass of do_status + do_status_weak, as dkms runs per kernel. */
int status_pass(struct dkb_ctx *c, const struct status_query *o,
		struct status_list *s, char ***weak)
{
	_cleanup_(reg_list_freep) struct reg_list mv = {0};
	int r = reg_list_added(c, o->module, o->version, &mv);

	for (size_t i = 0; r == 0 && i < mv.n && !s->stopped; i++) {
		bool any = false;

		r = status_built(c, mv.p[i].a, mv.p[i].b, o, s, &any);
		if (r == 0 && !any && !s->stopped &&
		    !status_add(s, mv.p[i].a, mv.p[i].b, NULL, NULL, "added"))
			r = -ENOMEM;
	}
	/* dkms's listing subshell dies on a bad conf; the weak pass and
	 * the next kernel's pass still run. */
	s->stopped_any |= s->stopped;
	s->stopped = false;
	if (r == 0)
		r = status_weak(c, o, weak);
	return r;
}
