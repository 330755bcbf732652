// SPDX-License-Identifier: GPL-2.0-or-later
/* `dkms-boot build|install|uninstall`: the engine's results, one line
 * (or JSON record) per package, and the documented exit codes. */
#include "cmd/commands.h"
#include "lib/json.h"
#include "lib/log.h"

static const char *const state_names[] = {
	[ENGINE_WAITING] = "waiting",
	[ENGINE_RUNNING] = "running",
	[ENGINE_OK] = "ok",
	[ENGINE_FAILED] = "failed",
	[ENGINE_EXCLUDED] = "excluded",
};

static void print_results(const struct engine_opts *o,
			  const struct engine_result *res, FILE *out)
{
	bool first = true;

	if (o->json)
		fputs("{\"packages\":[", out);
	for (size_t i = 0; i < res->n; i++) {
		const struct engine_pkg *j = &res->p[i];
		bool f2 = true;

		if (j->state == ENGINE_FAILED)
			log_lines(LOG_LEVEL_ERR,
				  j->message ? j->message : j->module);
		if (!o->json) {
			fprintf(out, "%s: %s\n", state_names[j->state],
				j->message ? j->message : j->module);
			continue;
		}
		fputs(first ? "{" : ",{", out);
		first = false;
		json_kv(out, &f2, "module", j->module);
		json_kv(out, &f2, "version", j->version);
		json_kv(out, &f2, "result", state_names[j->state]);
		json_kb(out, &f2, "timed_out", j->timed_out);
		json_kv(out, &f2, "message", j->message);
		fputc('}', out);
	}
	if (o->json)
		fputs("]}\n", out);
}

static int exit_code(const struct engine_opts *o,
		     const struct engine_result *res)
{
	bool failed = false, timeout = false;

	for (size_t i = 0; i < res->n; i++) {
		failed |= res->p[i].state == ENGINE_FAILED;
		timeout |= res->p[i].timed_out;
	}
	/* A failed depmod fails the run even when a build timed out:
	 * installed modules that modprobe cannot find come first (and a
	 * depmod stopped by the time limit is that limit's exit code). */
	if (res->depmod_failed)
		return res->depmod_timed_out ? EXIT_TIMEOUT : EXIT_FAILED;
	if (timeout)
		return EXIT_TIMEOUT;
	if (failed)
		return EXIT_FAILED;
	if (o->module && res->n == 1 && res->p[0].state == ENGINE_EXCLUDED)
		return EXIT_EXCLUDED;
	return EXIT_OK;
}

int cmd_engine(struct dkb_ctx *c, const struct engine_opts *o, FILE *out)
{
	struct engine_result res = {0};
	int r = engine_run(c, o, &res), rc;

	if (r < 0)
		return EXIT_TROUBLE;
	print_results(o, &res, out);
	rc = exit_code(o, &res);
	engine_result_free(&res);
	return rc;
}
