// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A cache entry's MANIFEST: the strict parser and the canonical writer.
 *
 * The grammar admits exactly one spelling of each manifest: keys in one
 * fixed order, "key value" for a non-empty value and a bare "key" for an
 * empty one, and only the percent-encoding value_encode() produces.  So
 * format(parse(x)) == x for every x that parses, and a file that was
 * edited, truncated or written by something else is refused with the line
 * and the reason instead of being half-understood.
 *
 * Values: '%', bytes below 0x20, DEL, a space at the start or the end of
 * the value and any byte >= 0x80 that is not part of valid UTF-8 (or is a
 * C1 control, U+0080..U+009F) are written %XX, uppercase hex.  Inner
 * spaces and valid UTF-8 stay raw, so vermagic and signer read as text.
 * NUL cannot be written: the fields are C strings.
 *
 * Names (package, version, kernel, arch, module): one path component of at
 * most NAME_MAX bytes, not "." or "..", no '/', no control byte, and no
 * leading '-' (it would read as an option to depmod, modprobe and tar).
 * file is exactly <module>.ko.zst; location is absolute with no empty, "."
 * or ".." component; sha256 is 64 lowercase hex digits; size and created
 * are decimal without sign or leading zero; origin is dkms-tree, build or
 * tarball:<file>.  At least one module, each name once; values at most
 * 4096 bytes decoded; the writer refuses what the parser would.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>

#include "cache/manifest.h"
#include "lib/why.h"

#define MAGIC	  "dkms-boot-cache 1"
#define MAX_VALUE 4096 /* decoded bytes */
#define KO_SUFFIX ".ko.zst"

enum kind {
	K_NAME,	    /* a safe path component */
	K_TEXT,	    /* free text; may be empty only when optional */
	K_ORIGIN,   /* dkms-tree, build or tarball:<file> */
	K_FILE,	    /* <module name>.ko.zst */
	K_SHA256,   /* 64 lowercase hex digits */
	K_LOCATION, /* absolute, no empty, "." or ".." component */
	K_SIZE,	    /* unsigned long long */
	K_TIME,	    /* long long, >= 0 */
};

struct field {
	const char *key;
	enum kind kind;
	bool required;
	size_t off;
};

/* clang-format off */
#define HF(k, kind) {#k, kind, true, offsetof(struct manifest, k)}
#define MF(k, kind, req) {#k, kind, req, offsetof(struct manifest_module, k)}

/* Both tables are in the order the lines must appear. */
static const struct field header_fields[] = {
	HF(package, K_NAME),
	HF(version, K_NAME),
	HF(kernel, K_NAME),
	HF(arch, K_NAME),
	HF(origin, K_ORIGIN),
	HF(created, K_TIME),
};

static const struct field module_fields[] = {
	MF(file, K_FILE, true),
	MF(size, K_SIZE, true),
	MF(sha256, K_SHA256, true),
	MF(location, K_LOCATION, true),
	MF(vermagic, K_TEXT, true),
	MF(srcversion, K_TEXT, false),
	MF(modversion, K_TEXT, false),
	MF(depends, K_TEXT, false),
	MF(signer, K_TEXT, false),
	MF(sig_key, K_TEXT, false),
	MF(sig_hashalgo, K_TEXT, false),
};
/* clang-format on */

#define MAX_FIELDS ARRAY_SIZE(module_fields)

static char **str_at(const void *base, const struct field *f)
{
	return (char **)((char *)base + f->off);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(header_fields); i++)
		if (header_fields[i].kind != K_TIME)
			free(*str_at(m, &header_fields[i]));
	for (size_t i = 0; i < m->n_mods; i++) {
		free(m->mods[i].name);
		for (size_t j = 0; j < ARRAY_SIZE(module_fields); j++)
			if (module_fields[j].kind != K_SIZE)
				free(*str_at(&m->mods[i], &module_fields[j]));
	}
	free(m->mods);
	memset(m, 0, sizeof(*m));
}

/* ---- values ---------------------------------------------------------- */

/*
 * Length of the UTF-8 sequence at s that may stay raw, 0 when the byte
 * must be encoded: overlong forms, surrogates, code points past U+10FFFF,
 * truncated sequences and the C1 controls are not text.
 */
static size_t utf8_raw_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (s[0] == 0xc2 || s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

/* Encode n bytes into out (room for 3 * n bytes); returns the length. */
static size_t value_encode(const char *src, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k = c >= 0x80 ? utf8_raw_len(s + i, n - i) : 0;

		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (c == '%' || c < 0x20 || c >= 0x7f ||
		    (c == ' ' && (i == 0 || i == n - 1))) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
		i++;
	}
	return o;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lowercase too: one spelling only */
}

/* ---- checks shared by the parser and the writer ---------------------- */

static const char *check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "empty name";
	if (n > NAME_MAX)
		return "name longer than NAME_MAX";
	if (streq(s, ".") || streq(s, ".."))
		return "name \".\" or \"..\"";
	if (s[0] == '-')
		return "name starts with '-'";
	for (const char *p = s; *p; p++) {
		if (*p == '/')
			return "'/' in a name";
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "control character in a name";
	}
	return NULL;
}

static const char *check_location(const char *s)
{
	const char *p = s;

	if (s[0] != '/')
		return "location does not start with '/'";
	while (*p == '/') {
		size_t n = strcspn(++p, "/");

		if (n == 0)
			return "empty component in location";
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return "\".\" or \"..\" in location";
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
				return "control character in location";
		p += n;
	}
	return NULL;
}

static const char *check_sha256(const char *s)
{
	if (strlen(s) != 64 || strspn(s, "0123456789abcdef") != 64)
		return "sha256 is not 64 lowercase hex digits";
	return NULL;
}

static const char *check_origin(const char *s)
{
	if (streq(s, "dkms-tree") || streq(s, "build"))
		return NULL;
	if (startswith(s, "tarball:") && s[8])
		return NULL;
	return "origin is not dkms-tree, build or tarball:<file>";
}

static const char *check_file(const char *name, const char *file)
{
	size_t n = strlen(name);

	if (strncmp(file, name, n) != 0 || !streq(file + n, KO_SUFFIX))
		return "file is not <module>" KO_SUFFIX;
	return NULL;
}

/* A string field's value; K_FILE is checked against the name elsewhere. */
static const char *check_string(const struct field *f, const char *s)
{
	if (strlen(s) > MAX_VALUE)
		return "value longer than 4096 bytes";
	switch (f->kind) {
	case K_NAME:
		return check_name(s);
	case K_ORIGIN:
		return check_origin(s);
	case K_SHA256:
		return check_sha256(s);
	case K_LOCATION:
		return check_location(s);
	case K_TEXT:
	case K_FILE:
		return f->required && !*s ? "empty value" : NULL;
	default:
		return NULL;
	}
}

/* Decimal, no sign, no leading zero, no overflow. */
static const char *parse_number(const char *s, unsigned long long max,
				unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return "not a decimal number without leading zeros";
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return "not a decimal number without leading zeros";
		if (v > (max - (unsigned)(*s - '0')) / 10)
			return "number out of range";
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return NULL;
}

/* ---- parser ---------------------------------------------------------- */

struct parser {
	const char *buf;
	size_t len, pos;
	unsigned line;
	char *why;
	size_t why_len;
	struct manifest *m;
	const struct field *fields; /* the current record's table */
	size_t n_fields, next;	    /* next: first index still allowed */
	bool seen[MAX_FIELDS];
	unsigned mod_line; /* the current module's "module" line */
};

static int refuse(struct parser *p, const char *fmt, ...) _printf_(2, 3);
static int refuse(struct parser *p, const char *fmt, ...)
{
	char line[32];
	va_list ap;

	va_start(ap, fmt);
	if (p->line) {
		snprintf(line, sizeof(line), "line %u", p->line);
		why_vabout(p->why, p->why_len, -EBADMSG, line, strlen(line),
			   fmt, ap);
	} else {
		why_vset(p->why, p->why_len, -EBADMSG, fmt, ap);
	}
	va_end(ap);
	return -EBADMSG;
}

/* Next line without its '\n': 1, 0 at the end of the buffer, or <0. */
static int next_line(struct parser *p, const char **line, size_t *n)
{
	const char *s = p->buf + p->pos, *nl;

	if (p->pos == p->len)
		return 0;
	p->line++;
	nl = memchr(s, '\n', p->len - p->pos);
	if (!nl)
		return refuse(p, "no newline at the end (truncated?)");
	*line = s;
	*n = (size_t)(nl - s);
	p->pos += *n + 1;
	return 1;
}

/* Decode a raw value into a new string; refuse all but the one spelling. */
static int value_decode(struct parser *p, const char *raw, size_t n, char **out)
{
	_cleanup_(freep) char *d = NULL;
	char enc[3 * MAX_VALUE];
	size_t dn = 0;

	if (n > 3 * MAX_VALUE)
		return refuse(p, "value longer than 4096 bytes");
	d = malloc(n + 1);
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];
		int hi, lo;

		if (c < 0x20 || c == 0x7f)
			return refuse(p, "raw control byte 0x%02x in a value",
				      c);
		if (c != '%') {
			d[dn++] = (char)c;
			continue;
		}
		if (n - i < 3 || (hi = unhex(raw[i + 1])) < 0 ||
		    (lo = unhex(raw[i + 2])) < 0)
			return refuse(p,
				      "bad %%-escape (want %%XX, uppercase)");
		if (hi == 0 && lo == 0)
			return refuse(p, "%%00 in a value");
		d[dn++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[dn] = '\0';
	if (dn > MAX_VALUE)
		return refuse(p, "value longer than 4096 bytes");
	if (value_encode(d, dn, enc) != n || memcmp(enc, raw, n) != 0)
		return refuse(p, "value not in canonical form (a needless "
				 "%%-escape, or a raw byte that needs one)");
	*out = TAKE_PTR(d);
	return 0;
}

static const struct field *find_field(const struct field *t, size_t n,
				      const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(t[i].key) == klen &&
		    memcmp(t[i].key, key, klen) == 0)
			return &t[i];
	return NULL;
}

static void begin_record(struct parser *p, const struct field *t, size_t n)
{
	p->fields = t;
	p->n_fields = n;
	p->next = 0;
	memset(p->seen, 0, sizeof(p->seen));
}

/* At a "module" or "end" line: every required key of the record seen? */
static int end_record(struct parser *p)
{
	for (size_t i = 0; i < p->n_fields; i++) {
		const struct field *f = &p->fields[i];

		if (!f->required || p->seen[i])
			continue;
		if (p->fields == header_fields)
			return refuse(p, "no \"%s\" line before the modules",
				      f->key);
		return refuse(p, "module \"%s\" (line %u) has no \"%s\" line",
			      p->m->mods[p->m->n_mods - 1].name, p->mod_line,
			      f->key);
	}
	return 0;
}

/* Where the key may go: not twice, not back, not past a required one. */
static int check_order(struct parser *p, size_t i)
{
	const char *key = p->fields[i].key;

	if (p->seen[i])
		return refuse(p, "duplicate \"%s\" line", key);
	if (i < p->next)
		return refuse(p, "\"%s\" out of order: it goes before \"%s\"",
			      key, p->fields[p->next - 1].key);
	for (size_t j = p->next; j < i; j++)
		if (p->fields[j].required)
			return refuse(p, "no \"%s\" line before \"%s\"",
				      p->fields[j].key, key);
	p->seen[i] = true;
	p->next = i + 1;
	return 0;
}

static int store_field(struct parser *p, const struct field *f, char *value)
{
	void *base = p->fields == header_fields
			     ? (void *)p->m
			     : (void *)&p->m->mods[p->m->n_mods - 1];
	unsigned long long v = 0;
	const char *bad;

	if (f->kind == K_SIZE || f->kind == K_TIME) {
		bad = parse_number(
			value, f->kind == K_SIZE ? ULLONG_MAX : LLONG_MAX, &v);
		free(value);
		if (bad)
			return refuse(p, "%s: %s", f->key, bad);
		if (f->kind == K_SIZE)
			*(unsigned long long *)((char *)base + f->off) = v;
		else
			*(long long *)((char *)base + f->off) = (long long)v;
		return 0;
	}
	*str_at(base, f) = value;
	bad = check_string(f, value);
	if (!bad && f->kind == K_FILE)
		bad = check_file(((struct manifest_module *)base)->name, value);
	return bad ? refuse(p, "%s: %s", f->key, bad) : 0;
}

static int begin_module(struct parser *p, char *name)
{
	struct manifest *m = p->m;
	struct manifest_module *mods;
	const char *bad;
	int r;

	r = end_record(p);
	if (r < 0) {
		free(name);
		return r;
	}
	if (m->n_mods == MANIFEST_MAX_MODULES) {
		free(name);
		return refuse(p, "more than %u modules", MANIFEST_MAX_MODULES);
	}
	mods = reallocarray(m->mods, m->n_mods + 1, sizeof(*mods));
	if (!mods) {
		free(name);
		return -ENOMEM;
	}
	m->mods = mods;
	memset(&mods[m->n_mods], 0, sizeof(*mods));
	mods[m->n_mods++].name = name;
	p->mod_line = p->line;
	begin_record(p, module_fields, ARRAY_SIZE(module_fields));
	bad = check_name(name);
	if (bad)
		return refuse(p, "module: %s", bad);
	for (size_t i = 0; i + 1 < m->n_mods; i++)
		if (streq(mods[i].name, name))
			return refuse(p, "module \"%s\" listed twice", name);
	return 0;
}

/* A key for a message: printable and short, or nothing. */
static const char *key_for_msg(const char *key, size_t n, char *buf,
			       size_t size)
{
	if (n == 0 || n >= size)
		return "?";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] <= 0x20 ||
		    (unsigned char)key[i] >= 0x7f)
			return "?";
	memcpy(buf, key, n);
	buf[n] = '\0';
	return buf;
}

static int unknown_key(struct parser *p, const char *key, size_t klen)
{
	char buf[33];
	const char *k = key_for_msg(key, klen, buf, sizeof(buf));

	if (p->fields == header_fields &&
	    find_field(module_fields, MAX_FIELDS, key, klen))
		return refuse(p, "\"%s\" before the first \"module\" line", k);
	if (p->fields == module_fields &&
	    find_field(header_fields, ARRAY_SIZE(header_fields), key, klen))
		return refuse(p, "header key \"%s\" inside a module record", k);
	return refuse(p, "unknown key \"%s\"", k);
}

/* One "key[ value]" line; 1 after the "end" line. */
static int parse_line(struct parser *p, const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	size_t klen = sp ? (size_t)(sp - line) : n;
	const struct field *f;
	char *value = NULL;
	int r;

	if (n == 0)
		return refuse(p, "empty line");
	if (klen == 0)
		return refuse(p, "line starts with a space");
	if (sp && sp + 1 == line + n)
		return refuse(p, "space after the key but no value");
	if (klen == 3 && memcmp(line, "end", 3) == 0) {
		if (sp)
			return refuse(p, "\"end\" takes no value");
		if (p->pos != p->len)
			return refuse(p, "data after the \"end\" line");
		r = end_record(p);
		if (r == 0 && p->m->n_mods == 0)
			r = refuse(p, "no module records");
		return r < 0 ? r : 1;
	}
	f = find_field(p->fields, p->n_fields, line, klen);
	if (!f && !(klen == 6 && memcmp(line, "module", 6) == 0))
		return unknown_key(p, line, klen);
	if (sp) {
		r = value_decode(p, sp + 1, n - klen - 1, &value);
		if (r < 0)
			return r;
	} else {
		value = strdup("");
		if (!value)
			return -ENOMEM;
	}
	if (!f)
		return begin_module(p, value);
	r = check_order(p, (size_t)(f - p->fields));
	if (r < 0) {
		free(value);
		return r;
	}
	return store_field(p, f, value);
}

static int parse(struct parser *p)
{
	const char *line;
	size_t n;
	int r;

	if (p->len > MANIFEST_MAX_SIZE)
		return refuse(p, "manifest of %zu bytes, more than %u", p->len,
			      MANIFEST_MAX_SIZE);
	r = next_line(p, &line, &n);
	if (r < 0)
		return r;
	if (r == 0) {
		p->line = 1;
		return refuse(p, "empty manifest");
	}
	if (n != strlen(MAGIC) || memcmp(line, MAGIC, n) != 0)
		return refuse(p, "not a \"" MAGIC "\" manifest");
	begin_record(p, header_fields, ARRAY_SIZE(header_fields));
	for (;;) {
		r = next_line(p, &line, &n);
		if (r < 0)
			return r;
		if (r == 0) {
			p->line++;
			return refuse(p, "no \"end\" line (truncated?)");
		}
		r = parse_line(p, line, n);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}

int manifest_parse(const char *buf, size_t len, struct manifest *m, char *why,
		   size_t why_len)
{
	struct parser p = {
		.buf = buf,
		.len = len,
		.why = why,
		.why_len = why_len,
		.m = m,
	};
	int r;

	memset(m, 0, sizeof(*m));
	if (why && why_len)
		why[0] = '\0';
	r = parse(&p);
	if (r < 0)
		manifest_free(m);
	return r;
}

/* ---- writer ---------------------------------------------------------- */

/* The parser's rules, for a manifest built in memory. */
static int validate_record(const void *base, const struct field *t, size_t n,
			   const char *name)
{
	for (size_t i = 0; i < n; i++) {
		const char *s;

		if (t[i].kind == K_SIZE)
			continue;
		if (t[i].kind == K_TIME) {
			if (*(const long long *)((const char *)base +
						 t[i].off) < 0)
				return -EINVAL;
			continue;
		}
		s = *str_at(base, &t[i]);
		if (!s) {
			if (t[i].required)
				return -EINVAL;
			continue;
		}
		if (check_string(&t[i], s) ||
		    (t[i].kind == K_FILE && check_file(name, s)))
			return -EINVAL;
	}
	return 0;
}

static int validate(const struct manifest *m)
{
	int r;

	r = validate_record(m, header_fields, ARRAY_SIZE(header_fields), NULL);
	if (r < 0)
		return r;
	if (m->n_mods == 0 || m->n_mods > MANIFEST_MAX_MODULES || !m->mods)
		return -EINVAL;
	for (size_t i = 0; i < m->n_mods; i++) {
		const struct manifest_module *mod = &m->mods[i];

		if (!mod->name || check_name(mod->name))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (streq(m->mods[j].name, mod->name))
				return -EINVAL;
		r = validate_record(mod, module_fields, MAX_FIELDS, mod->name);
		if (r < 0)
			return r;
	}
	return 0;
}

static void put_value(FILE *f, const char *key, const char *value)
{
	char enc[3 * MAX_VALUE];
	size_t n = strlen(value);

	fputs(key, f);
	if (n) {
		fputc(' ', f);
		fwrite(enc, 1, value_encode(value, n, enc), f);
	}
	fputc('\n', f);
}

static void put_record(FILE *f, const void *base, const struct field *t,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *s;

		if (t[i].kind == K_SIZE)
			fprintf(f, "%s %llu\n", t[i].key,
				*(const unsigned long long *)((const char *)
								      base +
							      t[i].off));
		else if (t[i].kind == K_TIME)
			fprintf(f, "%s %lld\n", t[i].key,
				*(const long long *)((const char *)base +
						     t[i].off));
		else if ((s = *str_at(base, &t[i])))
			put_value(f, t[i].key, s);
	}
}

int manifest_format(const struct manifest *m, char **buf, size_t *len)
{
	_cleanup_(freep) char *out = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	r = validate(m);
	if (r < 0)
		return r;
	f = open_memstream(&out, &n);
	if (!f)
		return -ENOMEM;
	fputs(MAGIC "\n", f);
	put_record(f, m, header_fields, ARRAY_SIZE(header_fields));
	for (size_t i = 0; i < m->n_mods; i++) {
		put_value(f, "module", m->mods[i].name);
		put_record(f, &m->mods[i], module_fields, MAX_FIELDS);
	}
	fputs("end\n", f);
	r = ferror(f) ? -ENOMEM : 0;
	if (fclose(f) != 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	/* The parser refuses what is bigger: never write it. */
	if (n > MANIFEST_MAX_SIZE)
		return -EFBIG;
	*buf = TAKE_PTR(out);
	*len = n;
	return 0;
}
