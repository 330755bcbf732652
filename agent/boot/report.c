// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The boot report (report.h).  Written with lib/json's writer, read with
 * its strict reader, then checked against the one layout the writer
 * produces: a report that was damaged or edited is refused with the
 * reason rather than shown half right.
 */
#include "boot/report.h"
#include "lib/json.h"

static const char *const outcome_names[] = {
	[REPORT_OUTCOME_NONE] = "none",
	[REPORT_INSTALLED] = "installed-to-overlay",
	[REPORT_INSERTED] = "inserted",
	[REPORT_REPLACED] = "replaced",
	[REPORT_IN_USE] = "in-use",
	[REPORT_FAILED] = "failed",
	[REPORT_DECLINED] = "declined",
	[REPORT_FAILED_EARLIER] = "failed-earlier",
	[REPORT_EXCLUDED] = "excluded",
	[REPORT_SKIPPED] = "skipped",
};

static const char *const decision_names[] = {
	[REPORT_CURRENT] = "current",
	[REPORT_NEEDS_WORK] = "needs-work",
};

const char *report_outcome_name(enum report_outcome o)
{
	return (size_t)o < ARRAY_SIZE(outcome_names) ? outcome_names[o] : "?";
}

const char *report_decision_name(enum report_decision d)
{
	return (size_t)d < ARRAY_SIZE(decision_names) ? decision_names[d] : "?";
}

static void package_free(struct report_package *p)
{
	free(p->name);
	free(p->version);
	free(p->kernel);
	free(p->arch);
	free(p->decision_reason);
	free(p->source);
	free(p->reason);
	free(p->log);
	for (size_t i = 0; i < p->n_mods; i++) {
		free(p->mods[i].name);
		free(p->mods[i].before);
		free(p->mods[i].after);
	}
	free(p->mods);
}

void boot_report_free(struct boot_report *r)
{
	free(r->kernel);
	free(r->boot_id);
	for (size_t i = 0; i < r->n_phases; i++)
		free(r->phases[i].name);
	free(r->phases);
	for (size_t i = 0; i < r->n_settings; i++) {
		free(r->settings[i].key);
		free(r->settings[i].value);
	}
	free(r->settings);
	strv_free(r->refused);
	free(r->root.spec);
	free(r->root.device);
	free(r->root.type);
	free(r->root.error);
	for (size_t i = 0; i < r->n_pkgs; i++)
		package_free(&r->pkgs[i]);
	free(r->pkgs);
	memset(r, 0, sizeof(*r));
}

static bool source_ok(const char *s)
{
	return streq(s, "initramfs-cache") || streq(s, "root-cache") ||
	       streq(s, "compiled") || streq(s, "none") ||
	       (startswith(s, "kabi-reuse:") && s[strlen("kabi-reuse:")]);
}

/* Checks before writing, so that what is written always reads back. */

static int check_str(const char *s, bool nullable)
{
	if (!s)
		return nullable ? 0 : -EINVAL;
	return json_utf8_valid(s) ? 0 : -EILSEQ;
}

static int check_package(const struct report_package *p)
{
	const char *must[] = {p->name, p->version, p->kernel, p->arch,
			      p->source};
	const char *may[] = {p->decision_reason, p->reason, p->log};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(must); i++)
		if ((r = check_str(must[i], false)) < 0)
			return r;
	for (size_t i = 0; i < ARRAY_SIZE(may); i++)
		if ((r = check_str(may[i], true)) < 0)
			return r;
	if ((size_t)p->decision >= ARRAY_SIZE(decision_names) ||
	    (size_t)p->outcome >= ARRAY_SIZE(outcome_names) ||
	    !source_ok(p->source))
		return -EINVAL;
	for (size_t i = 0; i < p->n_mods; i++)
		if ((r = check_str(p->mods[i].name, false)) < 0 ||
		    (r = check_str(p->mods[i].before, true)) < 0 ||
		    (r = check_str(p->mods[i].after, true)) < 0)
			return r;
	return 0;
}

static int check_report(const struct boot_report *b)
{
	const char *may[] = {b->kernel,	     b->boot_id,   b->root.spec,
			     b->root.device, b->root.type, b->root.error};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(may); i++)
		if ((r = check_str(may[i], true)) < 0)
			return r;
	for (size_t i = 0; i < b->n_phases; i++)
		if ((r = check_str(b->phases[i].name, false)) < 0)
			return r;
	for (size_t i = 0; i < b->n_settings; i++) {
		if ((r = check_str(b->settings[i].key, false)) < 0 ||
		    (r = check_str(b->settings[i].value, false)) < 0)
			return r;
		/* The reader refuses a key twice in one object. */
		for (size_t j = 0; j < i; j++)
			if (streq(b->settings[i].key, b->settings[j].key))
				return -EINVAL;
	}
	for (size_t i = 0; b->refused && b->refused[i]; i++)
		if ((r = check_str(b->refused[i], false)) < 0)
			return r;
	for (size_t i = 0; i < b->n_pkgs; i++)
		if ((r = check_package(&b->pkgs[i])) < 0)
			return r;
	return 0;
}

/* Writer. */

static void put_package(FILE *f, const struct report_package *p)
{
	bool first = true, t = true;

	fputc('{', f);
	json_kv(f, &first, "name", p->name);
	json_kv(f, &first, "version", p->version);
	json_kv(f, &first, "kernel", p->kernel);
	json_kv(f, &first, "arch", p->arch);
	json_kv(f, &first, "decision", decision_names[p->decision]);
	json_kv(f, &first, "decision_reason", p->decision_reason);
	json_kv(f, &first, "source", p->source);
	json_kv(f, &first, "outcome", outcome_names[p->outcome]);
	json_kv(f, &first, "reason", p->reason);
	json_kv(f, &first, "log", p->log);
	json_key(f, &first, "modules");
	fputc('[', f);
	for (size_t i = 0; i < p->n_mods; i++) {
		bool mf = true;

		fputs(i ? ",{" : "{", f);
		json_kv(f, &mf, "name", p->mods[i].name);
		json_kv(f, &mf, "before", p->mods[i].before);
		json_kv(f, &mf, "after", p->mods[i].after);
		fputc('}', f);
	}
	fputc(']', f);
	json_key(f, &first, "timings_ms");
	fputc('{', f);
	json_ku(f, &t, "unpack", p->unpack_ms);
	json_ku(f, &t, "compile", p->compile_ms);
	json_ku(f, &t, "depmod", p->depmod_ms);
	json_ku(f, &t, "insert", p->insert_ms);
	fputs("}}", f);
}

static void put_report(FILE *f, const struct boot_report *b)
{
	bool first = true, sf = true, rf = true;

	fputc('{', f);
	json_ku(f, &first, "version", REPORT_VERSION);
	json_kv(f, &first, "kernel", b->kernel);
	json_kv(f, &first, "boot_id", b->boot_id);
	json_ku(f, &first, "start_time", b->start_time);
	json_ku(f, &first, "total_ms", b->total_ms);
	json_key(f, &first, "phases");
	fputc('[', f);
	for (size_t i = 0; i < b->n_phases; i++) {
		const struct report_phase *ph = &b->phases[i];
		bool pf = true;

		fputs(i ? ",{" : "{", f);
		json_kv(f, &pf, "name", ph->name);
		json_ku(f, &pf, "start_ms", ph->start_ms);
		json_ku(f, &pf, "duration_ms", ph->duration_ms);
		json_ku(f, &pf, "budget_ms", ph->budget_ms);
		json_kb(f, &pf, "budget_exhausted", ph->budget_exhausted);
		fputc('}', f);
	}
	fputc(']', f);
	json_key(f, &first, "settings");
	fputc('{', f);
	for (size_t i = 0; i < b->n_settings; i++)
		json_kv(f, &sf, b->settings[i].key, b->settings[i].value);
	fputc('}', f);
	json_key(f, &first, "refused");
	fputc('[', f);
	for (size_t i = 0; b->refused && b->refused[i]; i++) {
		if (!rf)
			fputc(',', f);
		rf = false;
		json_str(f, b->refused[i]);
	}
	fputc(']', f);
	json_key(f, &first, "root");
	sf = true;
	fputc('{', f);
	json_kv(f, &sf, "spec", b->root.spec);
	json_kv(f, &sf, "device", b->root.device);
	json_kv(f, &sf, "type", b->root.type);
	json_kb(f, &sf, "read_only", b->root.read_only);
	json_kv(f, &sf, "error", b->root.error);
	fputc('}', f);
	json_key(f, &first, "packages");
	fputc('[', f);
	for (size_t i = 0; i < b->n_pkgs; i++) {
		if (i)
			fputc(',', f);
		put_package(f, &b->pkgs[i]);
	}
	fputs("]}\n", f);
}

int report_format(const struct boot_report *r, char **out, size_t *len)
{
	FILE *f;
	int e = check_report(r);

	if (e < 0)
		return e;
	*out = NULL;
	*len = 0;
	f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	put_report(f, r);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Reader: the JSON tree against the writer's layout. */

struct rp {
	char *why;
	size_t why_len;
	const char *where; /* the object being read, for the reasons */
};

static int rp_fail(struct rp *p, const char *key, const char *what)
{
	if (p->why && p->why_len)
		snprintf(p->why, p->why_len, "%s%s%s: %s", p->where,
			 key ? "." : "", key ? key : "", what);
	return -EINVAL;
}

static const struct json_value *member(struct rp *p, const struct json_value *o,
				       const char *key, enum json_type type,
				       bool nullable, int *r)
{
	const struct json_value *v = json_get(o, key);

	*r = 0;
	if (!v) {
		*r = rp_fail(p, key, "missing");
		return NULL;
	}
	if (nullable && v->type == JSON_NULL)
		return NULL;
	if (v->type != type && !(type == JSON_TRUE && v->type == JSON_FALSE)) {
		*r = rp_fail(p, key, "wrong type");
		return NULL;
	}
	return v;
}

static int get_str(struct rp *p, const struct json_value *o, const char *key,
		   bool nullable, char **out)
{
	int r;
	const struct json_value *v =
		member(p, o, key, JSON_STRING, nullable, &r);

	if (!v)
		return r;
	*out = strdup(v->str);
	return *out ? 0 : -ENOMEM;
}

static int get_u64(struct rp *p, const struct json_value *o, const char *key,
		   unsigned long long *out)
{
	int r;
	const struct json_value *v = member(p, o, key, JSON_NUMBER, false, &r);

	if (!v)
		return r;
	if (json_u64(v, out) < 0)
		return rp_fail(p, key, "not a 64-bit unsigned integer");
	return 0;
}

static int get_bool(struct rp *p, const struct json_value *o, const char *key,
		    bool *out)
{
	int r;
	const struct json_value *v = member(p, o, key, JSON_TRUE, false, &r);

	if (!v)
		return r;
	*out = v->type == JSON_TRUE;
	return 0;
}

static int get_enum(struct rp *p, const struct json_value *o, const char *key,
		    const char *const *names, size_t n, int *out)
{
	int r;
	const struct json_value *v = member(p, o, key, JSON_STRING, false, &r);

	if (!v)
		return r;
	for (size_t i = 0; i < n; i++)
		if (names[i] && streq(v->str, names[i])) {
			*out = (int)i;
			return 0;
		}
	return rp_fail(p, key, "unknown value");
}

/* Every key read and no other: the object has exactly n members (the
 * JSON reader has refused duplicates). */
static int exact(struct rp *p, const struct json_value *o, size_t n)
{
	if (!o || o->type != JSON_OBJECT)
		return rp_fail(p, NULL, "not an object");
	if (o->n != n)
		return rp_fail(p, NULL, "unknown keys");
	return 0;
}

static int read_module(struct rp *p, const struct json_value *o,
		       struct report_module *m)
{
	int r;

	if ((r = exact(p, o, 3)) < 0 ||
	    (r = get_str(p, o, "name", false, &m->name)) < 0 ||
	    (r = get_str(p, o, "before", true, &m->before)) < 0 ||
	    (r = get_str(p, o, "after", true, &m->after)) < 0)
		return r;
	return 0;
}

static int read_package(struct rp *p, const struct json_value *o,
			struct report_package *k)
{
	const struct json_value *mods, *t;
	int r, d = 0, oc = 0;

	if ((r = exact(p, o, 12)) < 0 ||
	    (r = get_str(p, o, "name", false, &k->name)) < 0 ||
	    (r = get_str(p, o, "version", false, &k->version)) < 0 ||
	    (r = get_str(p, o, "kernel", false, &k->kernel)) < 0 ||
	    (r = get_str(p, o, "arch", false, &k->arch)) < 0 ||
	    (r = get_enum(p, o, "decision", decision_names,
			  ARRAY_SIZE(decision_names), &d)) < 0 ||
	    (r = get_str(p, o, "decision_reason", true, &k->decision_reason)) <
		    0 ||
	    (r = get_str(p, o, "source", false, &k->source)) < 0 ||
	    (r = get_enum(p, o, "outcome", outcome_names,
			  ARRAY_SIZE(outcome_names), &oc)) < 0 ||
	    (r = get_str(p, o, "reason", true, &k->reason)) < 0 ||
	    (r = get_str(p, o, "log", true, &k->log)) < 0)
		return r;
	k->decision = (enum report_decision)d;
	k->outcome = (enum report_outcome)oc;
	if (!source_ok(k->source))
		return rp_fail(p, "source", "unknown source");
	mods = member(p, o, "modules", JSON_ARRAY, false, &r);
	if (!mods)
		return r;
	k->mods = mods->n ? calloc(mods->n, sizeof(*k->mods)) : NULL;
	if (mods->n && !k->mods)
		return -ENOMEM;
	k->n_mods = mods->n;
	for (size_t i = 0; i < mods->n; i++)
		if ((r = read_module(p, &mods->items[i], &k->mods[i])) < 0)
			return r;
	t = member(p, o, "timings_ms", JSON_OBJECT, false, &r);
	if (!t)
		return r;
	if ((r = exact(p, t, 4)) < 0 ||
	    (r = get_u64(p, t, "unpack", &k->unpack_ms)) < 0 ||
	    (r = get_u64(p, t, "compile", &k->compile_ms)) < 0 ||
	    (r = get_u64(p, t, "depmod", &k->depmod_ms)) < 0 ||
	    (r = get_u64(p, t, "insert", &k->insert_ms)) < 0)
		return r;
	return 0;
}

static int read_phase(struct rp *p, const struct json_value *o,
		      struct report_phase *ph)
{
	int r;

	if ((r = exact(p, o, 5)) < 0 ||
	    (r = get_str(p, o, "name", false, &ph->name)) < 0 ||
	    (r = get_u64(p, o, "start_ms", &ph->start_ms)) < 0 ||
	    (r = get_u64(p, o, "duration_ms", &ph->duration_ms)) < 0 ||
	    (r = get_u64(p, o, "budget_ms", &ph->budget_ms)) < 0 ||
	    (r = get_bool(p, o, "budget_exhausted", &ph->budget_exhausted)) < 0)
		return r;
	return 0;
}

static int read_lists(struct rp *p, const struct json_value *o,
		      struct boot_report *b)
{
	const struct json_value *ph, *st, *rf;
	int r;

	ph = member(p, o, "phases", JSON_ARRAY, false, &r);
	if (!ph)
		return r;
	b->phases = ph->n ? calloc(ph->n, sizeof(*b->phases)) : NULL;
	if (ph->n && !b->phases)
		return -ENOMEM;
	b->n_phases = ph->n;
	p->where = "phases[]";
	for (size_t i = 0; i < ph->n; i++)
		if ((r = read_phase(p, &ph->items[i], &b->phases[i])) < 0)
			return r;
	p->where = "report";
	st = member(p, o, "settings", JSON_OBJECT, false, &r);
	if (!st)
		return r;
	b->settings = st->n ? calloc(st->n, sizeof(*b->settings)) : NULL;
	if (st->n && !b->settings)
		return -ENOMEM;
	b->n_settings = st->n;
	p->where = "settings";
	for (size_t i = 0; i < st->n; i++) {
		if (st->items[i].type != JSON_STRING)
			return rp_fail(p, st->keys[i], "not a string");
		b->settings[i].key = strdup(st->keys[i]);
		b->settings[i].value = strdup(st->items[i].str);
		if (!b->settings[i].key || !b->settings[i].value)
			return -ENOMEM;
	}
	p->where = "report";
	rf = member(p, o, "refused", JSON_ARRAY, false, &r);
	if (!rf)
		return r;
	for (size_t i = 0; i < rf->n; i++) {
		if (rf->items[i].type != JSON_STRING)
			return rp_fail(p, "refused", "not a list of strings");
		if (strv_push(&b->refused, rf->items[i].str) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int read_root(struct rp *p, const struct json_value *o,
		     struct report_root *root)
{
	int r;

	p->where = "root";
	if ((r = exact(p, o, 5)) < 0 ||
	    (r = get_str(p, o, "spec", true, &root->spec)) < 0 ||
	    (r = get_str(p, o, "device", true, &root->device)) < 0 ||
	    (r = get_str(p, o, "type", true, &root->type)) < 0 ||
	    (r = get_bool(p, o, "read_only", &root->read_only)) < 0 ||
	    (r = get_str(p, o, "error", true, &root->error)) < 0)
		return r;
	p->where = "report";
	return 0;
}

static int read_report(struct rp *p, const struct json_value *o,
		       struct boot_report *b)
{
	const struct json_value *root, *pk;
	unsigned long long version = 0;
	int r;

	if ((r = exact(p, o, 10)) < 0 ||
	    (r = get_u64(p, o, "version", &version)) < 0)
		return r;
	if (version != REPORT_VERSION)
		return rp_fail(p, "version", "not 1");
	if ((r = get_str(p, o, "kernel", true, &b->kernel)) < 0 ||
	    (r = get_str(p, o, "boot_id", true, &b->boot_id)) < 0 ||
	    (r = get_u64(p, o, "start_time", &b->start_time)) < 0 ||
	    (r = get_u64(p, o, "total_ms", &b->total_ms)) < 0 ||
	    (r = read_lists(p, o, b)) < 0)
		return r;
	root = member(p, o, "root", JSON_OBJECT, false, &r);
	if (!root)
		return r;
	if ((r = read_root(p, root, &b->root)) < 0)
		return r;
	pk = member(p, o, "packages", JSON_ARRAY, false, &r);
	if (!pk)
		return r;
	b->pkgs = pk->n ? calloc(pk->n, sizeof(*b->pkgs)) : NULL;
	if (pk->n && !b->pkgs)
		return -ENOMEM;
	b->n_pkgs = pk->n;
	p->where = "packages[]";
	for (size_t i = 0; i < pk->n; i++)
		if ((r = read_package(p, &pk->items[i], &b->pkgs[i])) < 0)
			return r;
	return 0;
}

int report_parse(const char *text, size_t len, struct boot_report *r, char *why,
		 size_t why_len)
{
	_cleanup_(json_value_freep) struct json_value v = {0};
	_cleanup_(boot_report_freep) struct boot_report b = {0};
	struct rp p = {.why = why, .why_len = why_len, .where = "report"};
	int e;

	memset(r, 0, sizeof(*r));
	e = json_parse(text, len, &v, why, why_len);
	if (e < 0)
		return e;
	e = read_report(&p, &v, &b);
	if (e == -ENOMEM && why && why_len)
		snprintf(why, why_len, "out of memory");
	if (e < 0)
		return e;
	*r = b;
	memset(&b, 0, sizeof(b));
	return 0;
}

int report_write(const char *path, const struct boot_report *r)
{
	_cleanup_(freep) char *buf = NULL, *dir = strdup(path);
	size_t len = 0;
	char *slash;
	int e;

	if (!dir)
		return -ENOMEM;
	e = report_format(r, &buf, &len);
	if (e < 0)
		return e;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		e = make_dirs(dir, 0755);
		if (e < 0)
			return e;
	}
	return write_file_atomic(path, buf, len, 0644);
}

int report_read(const char *path, struct boot_report *r, char *why,
		size_t why_len)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	int e;

	memset(r, 0, sizeof(*r));
	if (why && why_len)
		why[0] = '\0';
	e = read_file(path, JSON_SIZE_MAX, &buf, &len);
	if (e == -EFBIG && why && why_len)
		snprintf(why, why_len, "larger than %d bytes", JSON_SIZE_MAX);
	if (e < 0)
		return e;
	return report_parse(buf, len, r, why, why_len);
}

int report_boot_id(const char *path, char **out)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	int r = read_file(path, 128, &buf, &len);

	if (r < 0)
		return r;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len == 0 || len > 64)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] <= 0x20 ||
		    (unsigned char)buf[i] >= 0x7f)
			return -EINVAL;
	*out = TAKE_PTR(buf);
	return 0;
}

/* Equality. */

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

static bool same_package(const struct report_package *a,
			 const struct report_package *b)
{
	if (!same_str(a->name, b->name) || !same_str(a->version, b->version) ||
	    !same_str(a->kernel, b->kernel) || !same_str(a->arch, b->arch) ||
	    a->decision != b->decision ||
	    !same_str(a->decision_reason, b->decision_reason) ||
	    !same_str(a->source, b->source) || a->outcome != b->outcome ||
	    !same_str(a->reason, b->reason) || !same_str(a->log, b->log) ||
	    a->n_mods != b->n_mods || a->unpack_ms != b->unpack_ms ||
	    a->compile_ms != b->compile_ms || a->depmod_ms != b->depmod_ms ||
	    a->insert_ms != b->insert_ms)
		return false;
	for (size_t i = 0; i < a->n_mods; i++)
		if (!same_str(a->mods[i].name, b->mods[i].name) ||
		    !same_str(a->mods[i].before, b->mods[i].before) ||
		    !same_str(a->mods[i].after, b->mods[i].after))
			return false;
	return true;
}

bool report_equal(const struct boot_report *a, const struct boot_report *b)
{
	size_t nr = strv_length(a->refused);

	if (!same_str(a->kernel, b->kernel) ||
	    !same_str(a->boot_id, b->boot_id) ||
	    a->start_time != b->start_time || a->total_ms != b->total_ms ||
	    a->n_phases != b->n_phases || a->n_settings != b->n_settings ||
	    nr != strv_length(b->refused) || a->n_pkgs != b->n_pkgs ||
	    !same_str(a->root.spec, b->root.spec) ||
	    !same_str(a->root.device, b->root.device) ||
	    !same_str(a->root.type, b->root.type) ||
	    a->root.read_only != b->root.read_only ||
	    !same_str(a->root.error, b->root.error))
		return false;
	for (size_t i = 0; i < a->n_phases; i++) {
		const struct report_phase *x = &a->phases[i],
					  *y = &b->phases[i];

		if (!same_str(x->name, y->name) || x->start_ms != y->start_ms ||
		    x->duration_ms != y->duration_ms ||
		    x->budget_ms != y->budget_ms ||
		    x->budget_exhausted != y->budget_exhausted)
			return false;
	}
	for (size_t i = 0; i < a->n_settings; i++)
		if (!same_str(a->settings[i].key, b->settings[i].key) ||
		    !same_str(a->settings[i].value, b->settings[i].value))
			return false;
	for (size_t i = 0; i < nr; i++)
		if (!streq(a->refused[i], b->refused[i]))
			return false;
	for (size_t i = 0; i < a->n_pkgs; i++)
		if (!same_package(&a->pkgs[i], &b->pkgs[i]))
			return false;
	return true;
}

/* Text. */

static void print_ms(FILE *f, unsigned long long ms)
{
	if (ms < 1000)
		fprintf(f, "%llums", ms);
	else
		fprintf(f, "%llu.%llus", ms / 1000, ms % 1000 / 100);
}

/* Reasons come from build logs and the command line: a control byte
 * must not break the one line per package. */
static void print_clean(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void print_package(FILE *f, const struct report_package *p)
{
	unsigned long long ms =
		p->unpack_ms + p->compile_ms + p->depmod_ms + p->insert_ms;

	print_clean(f, p->name);
	fputc('/', f);
	print_clean(f, p->version);
	fputc(' ', f);
	print_clean(f, p->kernel);
	fputs(": ", f);
	if (p->decision == REPORT_CURRENT && p->outcome == REPORT_OUTCOME_NONE)
		fputs("current", f);
	else
		fputs(report_outcome_name(p->outcome), f);
	if (!streq(p->source, "none")) {
		fputs(" from ", f);
		print_clean(f, p->source);
	}
	if (ms) {
		fputs(" in ", f);
		print_ms(f, ms);
	}
	if (p->reason || p->decision_reason) {
		fputs(": ", f);
		print_clean(f, p->reason ? p->reason : p->decision_reason);
	}
	if (p->log) {
		fputs(" (log ", f);
		print_clean(f, p->log);
		fputc(')', f);
	}
	fputc('\n', f);
}

void report_print_text(const struct boot_report *r, FILE *f)
{
	size_t failed = 0, done = 0;

	for (size_t i = 0; i < r->n_pkgs; i++) {
		enum report_outcome o = r->pkgs[i].outcome;

		print_package(f, &r->pkgs[i]);
		if (o == REPORT_FAILED || o == REPORT_FAILED_EARLIER)
			failed++;
		else if (o == REPORT_INSTALLED || o == REPORT_INSERTED ||
			 o == REPORT_REPLACED)
			done++;
	}
	fputs("kernel ", f);
	print_clean(f, r->kernel ? r->kernel : "?");
	fprintf(f, ": %zu package%s, %zu done, %zu failed, in ", r->n_pkgs,
		r->n_pkgs == 1 ? "" : "s", done, failed);
	print_ms(f, r->total_ms);
	for (size_t i = 0; i < r->n_phases; i++)
		if (r->phases[i].budget_exhausted) {
			fputs("; ", f);
			print_clean(f, r->phases[i].name);
			fputs(" ran out of time", f);
		}
	if (r->root.error) {
		fputs("; root not mounted: ", f);
		print_clean(f, r->root.error);
	}
	if (r->refused && r->refused[0])
		fprintf(f, "; %zu setting%s refused", strv_length(r->refused),
			strv_length(r->refused) == 1 ? "" : "s");
	fputc('\n', f);
}
