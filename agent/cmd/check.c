// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `dkms-boot check`: one line (or one JSON record) per package, and the
 * exit code the boot path acts on: 1 when anything needs work, 3 when
 * something could not be read.
 */
#include "cmd/commands.h"
#include "dkms/check.h"
#include "lib/json.h"
#include "lib/log.h"

static void print_text(const struct check_opts *o,
		       const struct check_result *res, FILE *out)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct check_pkg *p = &res->p[i];

		fprintf(out, "%s%s%s, %s, %s: %s", p->module,
			p->version ? "/" : "", p->version ? p->version : "",
			o->kernel, o->arch, check_state_name(p->state));
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

static void print_json(const struct check_opts *o,
		       const struct check_result *res, int rc, FILE *out)
{
	bool first = true;

	fputc('{', out);
	json_kv(out, &first, "kernel", o->kernel);
	json_kv(out, &first, "arch", o->arch);
	json_kb(out, &first, "needs_work", rc == EXIT_WORK);
	json_key(out, &first, "packages");
	fputc('[', out);
	for (size_t i = 0; i < res->n; i++) {
		const struct check_pkg *p = &res->p[i];
		bool f2 = true;

		fputs(i ? ",{" : "{", out);
		json_kv(out, &f2, "module", p->module);
		json_kv(out, &f2, "version", p->version);
		json_kv(out, &f2, "state", check_state_name(p->state));
		json_key(out, &f2, "codes");
		print_strv(out, p->codes);
		json_key(out, &f2, "reasons");
		print_strv(out, p->reasons);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

int cmd_check(struct dkb_ctx *c, const struct check_opts *o, FILE *out)
{
	struct check_query q = {o->kernel, o->arch, o->module,
				o->no_state_cache};
	struct check_result res = {0};
	int r = check_run(c, &q, &res), rc = EXIT_OK;

	if (r < 0) {
		log_err("check %s: %s", o->kernel, strerror(-r));
		return EXIT_TROUBLE;
	}
	for (size_t i = 0; i < res.n; i++) {
		if (res.p[i].state == CHECK_WORK)
			rc = EXIT_WORK;
		else if (res.p[i].state == CHECK_BROKEN && rc == EXIT_OK)
			rc = EXIT_TROUBLE;
	}
	if (o->json)
		print_json(o, &res, rc, out);
	else
		print_text(o, &res, out);
	check_result_free(&res);
	return rc;
}
