// SPDX-License-Identifier: GPL-2.0-or-later
/* `dkms-boot cache SUBCOMMAND`: the module cache's command line. */
#include "cmd/commands.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/rootfs.h"

/* /etc/dkms-boot/dkms-boot.conf: "key=value" lines, '#' comments. */
static int read_config(const char *root, bool *kabi)
{
	_cleanup_(freep) char *buf = NULL;
	char *line, *save = NULL;
	unsigned n = 0;

	if (root_read_file(root, "/etc/dkms-boot/dkms-boot.conf", 65536, &buf,
			   NULL) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		n++;
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		if (streq(line, "allow_kabi_reuse=yes"))
			*kabi = true;
		else if (!streq(line, "allow_kabi_reuse=no")) {
			log_err("/etc/dkms-boot/dkms-boot.conf: line %u: not "
				"understood: %s",
				n, line);
			return -EINVAL;
		}
	}
	return 0;
}

static void print_entry_json(FILE *out, bool *first, const struct cache_id *id,
			     const struct cache_entry *e, const char *err)
{
	bool f = true;

	fputs(*first ? "{" : ",{", out);
	*first = false;
	json_kv(out, &f, "package", id->m);
	json_kv(out, &f, "version", id->v);
	json_kv(out, &f, "kernel", id->k);
	json_kv(out, &f, "arch", id->a);
	json_kb(out, &f, "ok", !err);
	json_kv(out, &f, "error", err);
	if (!err) {
		json_kv(out, &f, "origin", e->m.origin);
		json_key(out, &f, "modules");
		fputc('[', out);
		for (size_t i = 0; i < e->m.n_mods; i++) {
			bool g = true;
			char size[32];

			snprintf(size, sizeof(size), "%llu", e->m.mods[i].size);
			fputs(i ? ",{" : "{", out);
			json_kv(out, &g, "name", e->m.mods[i].name);
			json_kv(out, &g, "location", e->m.mods[i].location);
			json_key(out, &g, "size");
			fputs(size, out);
			json_kv(out, &g, "sha256", e->m.mods[i].sha256);
			json_kv(out, &g, "vermagic", e->m.mods[i].vermagic);
			json_kv(out, &g, "signer", e->m.mods[i].signer);
			fputc('}', out);
		}
		fputc(']', out);
	}
	fputc('}', out);
}

/* list (full=false) and verify (full=true). */
static int walk(struct dkb_ctx *c, const struct cache_cli *cl, bool full,
		FILE *out)
{
	struct cache_id *ids = NULL;
	size_t n = 0, bad = 0;
	bool first = true;
	int r = cache_list(c, &cl->o, &ids, &n);

	if (r < 0) {
		log_err("cache: %s: %s", cache_dir(&cl->o), strerror(-r));
		return EXIT_TROUBLE;
	}
	if (cl->json)
		fputs("{\"entries\":[", out);
	for (size_t i = 0; i < n; i++) {
		struct cache_entry e = {.dirfd = -1};
		char why[512] = "";

		r = cache_entry_open(c, &cl->o, ids[i].m, ids[i].v, ids[i].k,
				     ids[i].a, &e, why, sizeof(why));
		if (r == 0 && full)
			r = cache_entry_verify(&e, why, sizeof(why));
		if (r < 0) {
			bad++;
			if (full)
				log_err("%s/%s/%s/%s/%s: %s", cache_dir(&cl->o),
					ids[i].m, ids[i].v, ids[i].k, ids[i].a,
					why);
		}
		if (cl->json)
			print_entry_json(out, &first, &ids[i], &e,
					 r < 0 ? why : NULL);
		else if (r < 0)
			fprintf(out, "%s/%s, %s, %s: BAD: %s\n", ids[i].m,
				ids[i].v, ids[i].k, ids[i].a, why);
		else
			fprintf(out, "%s/%s, %s, %s: %s%zu module%s (%s)\n",
				ids[i].m, ids[i].v, ids[i].k, ids[i].a,
				full ? "verified, " : "", e.m.n_mods,
				e.m.n_mods == 1 ? "" : "s", e.m.origin);
		cache_entry_close(&e);
	}
	if (cl->json)
		fputs("]}\n", out);
	cache_ids_free(ids, n);
	return bad ? EXIT_TROUBLE : EXIT_OK;
}

static bool need(const struct cache_cli *cl, bool m, bool v, bool k, bool f)
{
	if ((m && !cl->module) || (v && !cl->version) || (k && !cl->kernel) ||
	    (f && !cl->file)) {
		log_err("cache %s: needs%s%s%s%s", cl->sub, m ? " -m NAME" : "",
			v ? " -v VER" : "", k ? " -k KVER" : "",
			f ? " FILE" : "");
		return false;
	}
	return true;
}

static int add(struct dkb_ctx *c, const struct cache_cli *cl)
{
	int r = cache_add_tree(c, &cl->o, cl->module, cl->version, cl->kernel,
			       cl->arch);

	return r < 0 ? EXIT_TROUBLE : EXIT_OK;
}

static int import(struct dkb_ctx *c, const struct cache_cli *cl)
{
	int r = cache_import(c, &cl->o, cl->file, cl->kernel);

	return r < 0 ? EXIT_TROUBLE : EXIT_OK;
}

static int export(struct dkb_ctx *c, const struct cache_cli *cl, FILE *out)
{
	_cleanup_(freep) char *path = NULL;
	int r = cache_export(c, &cl->o, cl->module, cl->version, cl->kernel,
			     cl->arch, cl->file, &path);

	if (r < 0)
		return EXIT_TROUBLE;
	fprintf(out, "%s\n", path);
	return EXIT_OK;
}

static int prune(struct dkb_ctx *c, const struct cache_cli *cl, FILE *out)
{
	struct cache_prune_result res = {0};
	int r = cache_prune(c, &cl->o, cl->keep, cl->n_keep, &res);

	if (r < 0)
		return EXIT_TROUBLE;
	for (char **u = res.unfinished; u && *u; u++)
		fprintf(out, "removed the unfinished %s\n", *u);
	for (size_t i = 0; i < res.n_removed; i++)
		fprintf(out, "removed %s/%s, %s, %s\n", res.removed[i].m,
			res.removed[i].v, res.removed[i].k, res.removed[i].a);
	r = res.failed ? EXIT_TROUBLE : EXIT_OK;
	cache_prune_result_free(&res);
	return r;
}

static int unpack(struct dkb_ctx *c, const struct cache_cli *cl, FILE *out)
{
	struct cache_unpack_req q = {cl->kernel, cl->arch, cl->module,
				     cl->into};
	struct cache_unpack_result res = {0};
	size_t failed = 0;
	int r = cache_unpack(c, &cl->o, &q, &res);

	if (r < 0)
		return EXIT_TROUBLE;
	for (size_t i = 0; i < res.n; i++) {
		const struct cache_unpacked *u = &res.p[i];

		if (u->r < 0) {
			failed++;
			continue;
		}
		fprintf(out, "unpacked %s/%s%s%s%s into %s (%zu module%s)\n",
			u->m, u->v, u->reuse ? " (built for " : "",
			u->reuse ? u->k : "", u->reuse ? ", kABI-checked)" : "",
			cl->into, u->n_mods, u->n_mods == 1 ? "" : "s");
	}
	r = failed ? EXIT_TROUBLE : res.n ? EXIT_OK : EXIT_WORK;
	cache_unpack_result_free(&res);
	return r;
}

int cmd_cache(struct dkb_ctx *c, const struct cache_cli *cli, FILE *out)
{
	struct cache_cli cl = *cli;
	const char *s = cl.sub;
	bool kabi = false;

	if (read_config(c->root, &kabi) < 0)
		return EXIT_USAGE;
	cl.o.allow_kabi_reuse |= kabi;
	if (streq(s, "add"))
		return need(&cl, true, true, true, false) ? add(c, &cl)
							  : EXIT_USAGE;
	if (streq(s, "import"))
		return need(&cl, false, false, false, true) ? import(c, &cl)
							    : EXIT_USAGE;
	if (streq(s, "export"))
		return need(&cl, true, true, true, false) ? export(c, &cl, out)
							  : EXIT_USAGE;
	if (streq(s, "list"))
		return walk(c, &cl, false, out);
	if (streq(s, "verify"))
		return walk(c, &cl, true, out);
	if (streq(s, "prune"))
		return prune(c, &cl, out);
	if (streq(s, "unpack")) {
		if (!need(&cl, false, false, true, false))
			return EXIT_USAGE;
		if (!cl.into) {
			log_err("cache unpack: needs --into DIR");
			return EXIT_USAGE;
		}
		return unpack(c, &cl, out);
	}
	log_err("cache: unknown subcommand %s (add, import, export, list, "
		"verify, prune, unpack)",
		s);
	return EXIT_USAGE;
}
