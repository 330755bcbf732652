// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dkms-boot eval`: show how one dkms.conf evaluates, so that people (and
 * the differential tests) can compare the native reader, bash and dkms.
 *
 * Output, one item per line, values escaped (\\ \n \t):
 *   method=native|bash
 *   var NAME[i]=VALUE               every whitelisted variable set
 *   package_name=  package_version=  make_command=  clean=
 *   module[i].built_name= .built_location= .dest_name= .dest_location=
 *   module[i].strip=yes|no
 *   patch[i]=  build_depends=  autoinstall=yes|no  build_exclude=yes|no
 *   error[i]=                       dkms's own refusals
 */
#include "cmd/commands.h"
#include "lib/log.h"
#include "dkms/registry.h"

static void put_escaped(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else
			fputc(*s, out);
	}
}

static void kv(FILE *out, const char *k, const char *v)
{
	fprintf(out, "%s=", k);
	put_escaped(out, v);
	fputc('\n', out);
}

static int cmp_var(const void *a, const void *b)
{
	return strcmp(((const struct var *)a)->name,
		      ((const struct var *)b)->name);
}

static void print_vars(FILE *out, struct vars *vs)
{
	if (vs->n > 1)
		qsort(vs->v, vs->n, sizeof(*vs->v), cmp_var);
	for (size_t i = 0; i < vs->n; i++)
		for (size_t j = 0; j < vs->v[i].n; j++) {
			if (!vs->v[i].vals[j])
				continue;
			fprintf(out, "var %s[%zu]=", vs->v[i].name, j);
			put_escaped(out, vs->v[i].vals[j]);
			fputc('\n', out);
		}
}

static void print_conf(FILE *out, const struct dkms_conf *c)
{
	char key[64];

	kv(out, "package_name", c->package_name);
	kv(out, "package_version", c->package_version);
	kv(out, "make_command", c->make_command);
	kv(out, "clean", c->clean);
	for (size_t i = 0; i < c->n_mods; i++) {
		const struct dkms_module_entry *e = &c->mods[i];

		snprintf(key, sizeof(key), "module[%zu].built_name", i);
		kv(out, key, e->built_name);
		snprintf(key, sizeof(key), "module[%zu].built_location", i);
		kv(out, key, e->built_location);
		snprintf(key, sizeof(key), "module[%zu].dest_name", i);
		kv(out, key, e->dest_name);
		snprintf(key, sizeof(key), "module[%zu].dest_location", i);
		kv(out, key, e->dest_location);
		snprintf(key, sizeof(key), "module[%zu].strip", i);
		kv(out, key, e->strip ? "yes" : "no");
	}
	for (size_t i = 0; c->patches && c->patches[i]; i++) {
		snprintf(key, sizeof(key), "patch[%zu]", i);
		kv(out, key, c->patches[i]);
	}
	fputs("build_depends=", out);
	for (size_t i = 0; c->build_depends && c->build_depends[i]; i++)
		fprintf(out, "%s%s", i ? " " : "", c->build_depends[i]);
	fputc('\n', out);
	kv(out, "autoinstall", c->autoinstall ? "yes" : "no");
	kv(out, "build_exclude", c->build_exclude ? "yes" : "no");
	for (size_t i = 0; c->errors && c->errors[i]; i++) {
		snprintf(key, sizeof(key), "error[%zu]", i);
		kv(out, key, c->errors[i]);
	}
}

int cmd_eval(struct dkb_ctx *c, const struct eval_opts *o, FILE *out)
{
	_cleanup_(dkms_conf_freep) struct dkms_conf conf = {0};
	_cleanup_(conf_eval_result_freep) struct conf_eval_result how = {0};
	int r = dkb_read_conf(c, o->module, o->version, o->kernel, o->arch,
			      o->conf, &conf, &how);

	if (r == -ENOTSUP) {
		log_err("%s: %s",
			how.refused_file[0] ? how.refused_file : "dkms.conf",
			how.refusal.reason);
		return EXIT_TROUBLE;
	}
	if (r < 0) {
		char why[512];

		if (o->conf)
			snprintf(why, sizeof(why), "%s: %s", o->conf,
				 strerror(-r));
		else
			reg_conf_problem(c, o->module, o->version, r, why,
					 sizeof(why));
		log_err("%s/%s: cannot evaluate: %s", o->module, o->version,
			why);
		return EXIT_TROUBLE;
	}
	if (how.bash_diag)
		log_warn("bash said: %s", how.bash_diag);
	for (size_t i = 0; conf.errors && conf.errors[i]; i++) {
		if (o->conf)
			log_err("%s: %s", o->conf, conf.errors[i]);
		else
			log_err("%s/%s/%s/source/dkms.conf: %s", c->dkms_tree,
				o->module, o->version, conf.errors[i]);
	}
	kv(out, "method", conf_method_name(how.used));
	print_vars(out, &how.vars);
	print_conf(out, &conf);
	return strv_length(conf.errors) ? EXIT_TROUBLE : EXIT_OK;
}
