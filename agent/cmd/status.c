// SPDX-License-Identifier: GPL-2.0-or-later
/* `dkms-boot status`: dkms status's output, byte for byte, or --json. */
#include "cmd/commands.h"
#include "dkms/status.h"
#include "lib/json.h"
#include "lib/log.h"

static void print_text(const struct status_list *s, size_t from, FILE *out)
{
	for (size_t i = from; i < s->n; i++) {
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
	fprintf(out, "],\"complete\":%s}\n", s->stopped_any ? "false" : "true");
}

int cmd_status(struct dkb_ctx *c, const struct status_opts *o, FILE *out)
{
	_cleanup_(strv_freep) char **weak = NULL;
	struct status_list s = {0};
	size_t passes = o->n_kernels ? o->n_kernels : 1;
	int r = 0, rc;

	for (size_t i = 0; r == 0 && i < passes; i++) {
		struct status_query q = {
			.module = o->module,
			.version = o->version,
			.kernel = o->n_kernels ? o->kernels[i] : NULL,
			.arch = o->n_kernels ? o->arches[i] : o->arch,
		};
		size_t mark = s.n, wmark = strv_length(weak);

		r = status_pass(c, &q, &s, &weak);
		/* dkms prints each pass as it goes: its lines, then the
		 * weak lines found so far. */
		if (r == 0 && !o->json)
			print_text(&s, mark, out);
		for (char **w = weak + wmark; r == 0 && !o->json && w && *w;
		     w++)
			fprintf(out, "%s\n", *w);
	}
	if (r < 0) {
		log_err("status: %s", strerror(-r));
		status_list_free(&s);
		return EXIT_TROUBLE;
	}
	if (o->json)
		print_json(&s, weak, out);
	rc = s.stopped_any ? EXIT_TROUBLE : EXIT_OK;
	status_list_free(&s);
	return rc;
}
