// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The memory of futile work (memo.h).  The file is small and read on
 * every boot before any work, so the parser is strict and bounded: a
 * damaged memo is refused whole and the boot simply does the work again.
 */
#include <sha2.h>
#include <sys/stat.h>

#include "boot/memo.h"
#include "lib/log.h"
#include "lib/rootfs.h"

static const char *const outcome_names[] = {
	[MEMO_FAILED] = "failed",
	[MEMO_DECLINED] = "declined",
	[MEMO_EXCLUDED] = "excluded",
};

const char *memo_outcome_name(enum memo_outcome o)
{
	return (size_t)o < ARRAY_SIZE(outcome_names) ? outcome_names[o] : "?";
}

static void record_free(struct memo_record *r)
{
	free(r->package);
	free(r->version);
	free(r->kernel);
	free(r->arch);
	free(r->log);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

void memo_free(struct memo *m)
{
	for (size_t i = 0; i < m->n; i++)
		record_free(&m->recs[i]);
	free(m->recs);
	m->recs = NULL;
	m->n = 0;
}

/* Inputs. */

static void hash_field(SHA2_CTX *c, const char *s)
{
	/* The NUL keeps "ab","c" apart from "a","bc". */
	SHA256Update(c, (const uint8_t *)s, strlen(s) + 1);
}

int memo_inputs(const char *root, char *const *paths, char *const *strings,
		char out[65])
{
	SHA2_CTX c;
	char buf[160];

	SHA256Init(&c);
	hash_field(&c, "dkms-boot-memo-inputs 1");
	for (size_t i = 0; paths && paths[i]; i++) {
		struct stat st;
		int r = root_lstat(root, paths[i], &st);

		hash_field(&c, "path");
		hash_field(&c, paths[i]);
		if (r == -ENOENT || r == -ENOTDIR) {
			hash_field(&c, "absent");
			continue;
		}
		if (r < 0)
			return r;
		snprintf(buf, sizeof(buf), "%llu %lld.%09ld %lld.%09ld %llu %o",
			 (unsigned long long)st.st_size,
			 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
			 (unsigned long long)st.st_ino, (unsigned)st.st_mode);
		hash_field(&c, buf);
	}
	for (size_t i = 0; strings && strings[i]; i++) {
		hash_field(&c, "string");
		hash_field(&c, strings[i]);
	}
	SHA256End(&c, out);
	return 0;
}

/* Field checks shared by the parser and the writer. */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MEMO_NAME_MAX)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

/* An absolute path without blanks or control bytes (others, UTF-8
 * included, are kept as they are). */
static bool log_ok(const char *s)
{
	if (!s)
		return true;
	if (s[0] != '/' || strlen(s) > MEMO_LOG_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool hex64_ok(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static bool must_escape(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}

static bool record_ok(const struct memo_record *r)
{
	return r->package && r->version && r->kernel && r->arch && r->reason &&
	       name_ok(r->package) && name_ok(r->version) &&
	       name_ok(r->kernel) && name_ok(r->arch) && hex64_ok(r->inputs) &&
	       (size_t)r->outcome < ARRAY_SIZE(outcome_names) &&
	       r->time <= (unsigned long long)INT64_MAX && log_ok(r->log) &&
	       strlen(r->reason) <= MEMO_REASON_MAX;
}

static bool same_key(const struct memo_record *a, const char *package,
		     const char *version, const char *kernel, const char *arch)
{
	return streq(a->package, package) && streq(a->version, version) &&
	       streq(a->kernel, kernel) && streq(a->arch, arch);
}

/* Writer. */

static void put_reason(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (must_escape(*p))
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

int memo_format(const struct memo *m, char **out, size_t *len)
{
	_cleanup_(fclosep) FILE *f = NULL;
	char *buf = NULL;
	size_t n = 0;

	if (m->n > MEMO_RECORDS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < m->n; i++)
		if (!record_ok(&m->recs[i]))
			return -EINVAL;
	f = open_memstream(&buf, &n);
	if (!f)
		return -ENOMEM;
	fputs(MEMO_MAGIC "\n", f);
	for (size_t i = 0; i < m->n; i++) {
		const struct memo_record *r = &m->recs[i];

		fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%llu\t%s\t", r->package,
			r->version, r->kernel, r->arch, r->inputs,
			outcome_names[r->outcome], r->time,
			r->log ? r->log : "-");
		put_reason(f, r->reason);
		fputc('\n', f);
	}
	if (fclose(TAKE_PTR(f)) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Parser. */

struct mp {
	unsigned line;
	char *why;
	size_t why_len;
};

static int mp_fail(struct mp *p, const char *fmt, ...) _printf_(2, 3);
static int mp_fail(struct mp *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->why || p->why_len == 0)
		return -EINVAL;
	n = snprintf(p->why, p->why_len, "line %u: ", p->line);
	if (n >= 0 && (size_t)n < p->why_len) {
		va_start(ap, fmt);
		vsnprintf(p->why + n, p->why_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Undo put_reason; only its own spelling is taken. */
static int parse_reason(struct mp *p, const char *s, char **out)
{
	_cleanup_(freep) char *o = malloc(strlen(s) + 1);
	size_t w = 0;

	if (!o)
		return -ENOMEM;
	for (; *s; s++) {
		int hi, lo;

		if (must_escape((unsigned char)*s) && *s != '\\')
			return mp_fail(p, "control byte 0x%02x in the reason",
				       (unsigned char)*s);
		if (*s != '\\') {
			o[w++] = *s;
			continue;
		}
		if (s[1] == '\\') {
			o[w++] = '\\';
			s++;
			continue;
		}
		if (s[1] != 'x' || (hi = hexval(s[2])) < 0 ||
		    (lo = hexval(s[3])) < 0)
			return mp_fail(p, "bad escape in the reason");
		if (!must_escape((unsigned char)(hi << 4 | lo)) ||
		    (hi << 4 | lo) == '\\' || (hi << 4 | lo) == 0)
			return mp_fail(p,
				       "needless escape \\x%x%x in the reason",
				       hi, lo);
		o[w++] = (char)(hi << 4 | lo);
		s += 3;
	}
	o[w] = '\0';
	if (w > MEMO_REASON_MAX)
		return mp_fail(p, "reason longer than %d bytes",
			       MEMO_REASON_MAX);
	*out = TAKE_PTR(o);
	return 0;
}

static int parse_time(struct mp *p, const char *s, unsigned long long *t)
{
	unsigned long long x = 0;

	if (!s[0] || (s[0] == '0' && s[1]))
		return mp_fail(p, "bad time \"%.32s\"", s);
	for (; *s; s++) {
		if (*s < '0' || *s > '9' ||
		    __builtin_mul_overflow(x, 10ULL, &x) ||
		    __builtin_add_overflow(x, (unsigned long long)(*s - '0'),
					   &x) ||
		    x > (unsigned long long)INT64_MAX)
			return mp_fail(p, "bad time");
	}
	*t = x;
	return 0;
}

static int parse_outcome(struct mp *p, const char *s, enum memo_outcome *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(outcome_names); i++)
		if (streq(s, outcome_names[i])) {
			*o = (enum memo_outcome)i;
			return 0;
		}
	return mp_fail(p, "unknown outcome \"%.32s\"", s);
}

#define N_FIELDS 9

static int parse_record(struct mp *p, char *line, struct memo_record *r)
{
	static const char *const what[] = {"package", "version", "kernel",
					   "arch"};
	char *f[N_FIELDS];
	char **names[] = {&r->package, &r->version, &r->kernel, &r->arch};
	int n = 0, e;

	for (char *s = line;; s++) {
		if (n == N_FIELDS)
			return mp_fail(p, "more than %d fields", N_FIELDS);
		f[n++] = s;
		s = strchr(s, '\t');
		if (!s)
			break;
		*s = '\0';
	}
	if (n != N_FIELDS)
		return mp_fail(p, "%d fields, not %d", n, N_FIELDS);
	for (int i = 0; i < 4; i++) {
		if (!name_ok(f[i]))
			return mp_fail(p, "bad %s \"%.64s\"", what[i], f[i]);
		*names[i] = strdup(f[i]);
		if (!*names[i])
			return -ENOMEM;
	}
	if (strlen(f[4]) != 64 || !hex64_ok(f[4]))
		return mp_fail(p, "inputs is not 64 lowercase hex digits");
	memcpy(r->inputs, f[4], 65);
	e = parse_outcome(p, f[5], &r->outcome);
	if (e >= 0)
		e = parse_time(p, f[6], &r->time);
	if (e < 0)
		return e;
	if (!streq(f[7], "-")) {
		if (!log_ok(f[7]))
			return mp_fail(p, "bad log path");
		r->log = strdup(f[7]);
		if (!r->log)
			return -ENOMEM;
	}
	return parse_reason(p, f[8], &r->reason);
}

int memo_parse(const char *buf, size_t len, struct memo *m, char *why,
	       size_t why_len)
{
	_cleanup_(memo_freep) struct memo out = {0};
	_cleanup_(freep) char *copy = NULL;
	struct mp p = {.line = 1, .why = why, .why_len = why_len};
	char *s, *nl;
	int r;

	if (why && why_len)
		why[0] = '\0';
	if (len > MEMO_SIZE_MAX) {
		if (why && why_len)
			snprintf(why, why_len, "larger than %d bytes",
				 MEMO_SIZE_MAX);
		return -EFBIG;
	}
	if (memchr(buf, '\0', len))
		return mp_fail(&p, "NUL byte");
	if (len == 0 || buf[len - 1] != '\n')
		return mp_fail(&p, "missing final newline");
	copy = strndup(buf, len);
	if (!copy)
		return -ENOMEM;
	nl = strchr(copy, '\n');
	*nl = '\0';
	if (!streq(copy, MEMO_MAGIC))
		return mp_fail(&p, "not \"" MEMO_MAGIC "\"");
	for (s = nl + 1; *s; s = nl + 1) {
		struct memo_record *rec;

		p.line++;
		nl = strchr(s, '\n');
		*nl = '\0';
		if (out.n == MEMO_RECORDS_MAX)
			return mp_fail(&p, "more than %d records",
				       MEMO_RECORDS_MAX);
		rec = reallocarray(out.recs, out.n + 1, sizeof(*rec));
		if (!rec)
			return -ENOMEM;
		out.recs = rec;
		rec = &out.recs[out.n++];
		memset(rec, 0, sizeof(*rec));
		r = parse_record(&p, s, rec);
		if (r < 0)
			return r;
		for (size_t i = 0; i + 1 < out.n; i++)
			if (same_key(&out.recs[i], rec->package, rec->version,
				     rec->kernel, rec->arch))
				return mp_fail(&p, "%s/%s/%s/%s twice",
					       rec->package, rec->version,
					       rec->kernel, rec->arch);
	}
	*m = out;
	memset(&out, 0, sizeof(out));
	return 0;
}

int memo_load(const char *path, struct memo *m, char *why, size_t why_len)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	int r;

	memset(m, 0, sizeof(*m));
	if (why && why_len)
		why[0] = '\0';
	r = read_file(path, MEMO_SIZE_MAX, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r == -EFBIG && why && why_len)
		snprintf(why, why_len, "larger than %d bytes", MEMO_SIZE_MAX);
	if (r < 0)
		return r;
	return memo_parse(buf, len, m, why, why_len);
}

int memo_save(const char *path, const struct memo *m)
{
	_cleanup_(freep) char *buf = NULL, *dir = strdup(path);
	size_t len = 0;
	char *slash;
	int r;

	if (!dir)
		return -ENOMEM;
	r = memo_format(m, &buf, &len);
	if (r < 0)
		return r;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		r = make_dirs(dir, 0755);
		if (r < 0)
			return r;
	}
	return write_file_atomic(path, buf, len, 0644);
}

/* Queries and changes. */

const struct memo_record *memo_lookup(const struct memo *m, const char *package,
				      const char *version, const char *kernel,
				      const char *arch, const char *inputs)
{
	for (size_t i = 0; i < m->n; i++)
		if (same_key(&m->recs[i], package, version, kernel, arch))
			return streq(m->recs[i].inputs, inputs) ? &m->recs[i]
								: NULL;
	return NULL;
}

static int dup_record(const struct memo_record *r, struct memo_record *c)
{
	*c = *r;
	c->package = strdup(r->package);
	c->version = strdup(r->version);
	c->kernel = strdup(r->kernel);
	c->arch = strdup(r->arch);
	c->reason = strdup(r->reason);
	c->log = r->log ? strdup(r->log) : NULL;
	if (!c->package || !c->version || !c->kernel || !c->arch ||
	    !c->reason || (r->log && !c->log)) {
		record_free(c);
		return -ENOMEM;
	}
	return 0;
}

int memo_put(struct memo *m, const struct memo_record *r)
{
	struct memo_record copy, *recs;
	int e;

	if (!record_ok(r))
		return -EINVAL;
	e = dup_record(r, &copy);
	if (e < 0)
		return e;
	for (size_t i = 0; i < m->n; i++)
		if (same_key(&m->recs[i], r->package, r->version, r->kernel,
			     r->arch)) {
			record_free(&m->recs[i]);
			m->recs[i] = copy;
			return 0;
		}
	if (m->n >= MEMO_RECORDS_MAX) {
		record_free(&copy);
		return -E2BIG;
	}
	recs = reallocarray(m->recs, m->n + 1, sizeof(*recs));
	if (!recs) {
		record_free(&copy);
		return -ENOMEM;
	}
	m->recs = recs;
	m->recs[m->n++] = copy;
	return 0;
}

/* Keep the records keep() says yes to, in order. */
static size_t filter(struct memo *m,
		     bool (*keep)(const struct memo_record *, const void *),
		     const void *arg)
{
	size_t w = 0, dropped = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (keep(&m->recs[i], arg)) {
			m->recs[w++] = m->recs[i];
			continue;
		}
		record_free(&m->recs[i]);
		dropped++;
	}
	m->n = w;
	return dropped;
}

static bool other_package(const struct memo_record *r, const void *arg)
{
	return arg && !streq(r->package, arg);
}

size_t memo_forget(struct memo *m, const char *package)
{
	return filter(m, other_package, package);
}

static bool registered(const struct memo_record *r, const void *arg)
{
	char *const *reg = arg;
	size_t lp = strlen(r->package);

	for (size_t i = 0; reg && reg[i]; i++)
		if (strncmp(reg[i], r->package, lp) == 0 && reg[i][lp] == '/' &&
		    streq(reg[i] + lp + 1, r->version))
			return true;
	return false;
}

size_t memo_prune(struct memo *m, char *const *reg)
{
	return filter(m, registered, reg);
}
