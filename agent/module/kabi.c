// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kABI reuse: decide, without loading it, whether a module built for one
 * kernel would pass the target kernel's own load-time checks.  Those are
 * (kernel/module/version.c and main.c):
 *
 *  - same_magic(): with symbol versions (the module has __versions) the
 *    vermagic strings are compared from the first space on, so the
 *    release may differ but "SMP preempt mod_unload modversions " may not;
 *  - check_version(): each symbol the module resolves must carry the CRC
 *    the exporting kernel has, module_layout included
 *    (check_modstruct_version()).
 *
 * We are stricter than the loader in two ways, both on purpose: every
 * __versions entry must be exported by the target (the kernel only checks
 * the symbols it resolves, and refuses the unresolved ones later), and a
 * module without __versions is refused, because then nothing vouches for
 * its ABI (the kernel would only load it forced).
 *
 * The module is parsed by hand, bounds-checked at every step: it comes
 * from disk at boot and must not be trusted.  Only ELF64 little-endian
 * x86_64 relocatable objects are accepted, the only modules this agent
 * handles; anything else is refused as "not an x86_64 module".
 */
#include <elf.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>

#include "module/compress.h"
#include "module/kabi.h"
#include "lib/log.h"
#include "module/modinfo.h"
#include "lib/rootfs.h"
#include "lib/walk.h"
#include "lib/why.h"

#define SYMVERS_MAX	(64u << 20) /* the largest seen are about 2 MiB */
#define CONFIG_MAX	(4u << 20)
#define HEADER_MAX	(64u << 10)
#define MODULE_FILE_MAX (16u << 20) /* in-tree module read for vermagic */
#define MODULE_MAX	(64u << 20) /* ... and decompressed */
#define TREE_MAX_DEPTH	16
#define TREE_MAX_TRIES	8  /* modules tried before falling back */
#define MODVERSION_SIZE 64 /* struct modversion_info on 64-bit */
#define MODVERSION_NAME (MODVERSION_SIZE - 8)
#define SYMVERS_MAX_CRC 16 /* hex digits: a 64-bit CRC */

struct symvers_entry {
	const char *name;
	unsigned long long crc;
};

struct symvers {
	char *text;		    /* copy of the input: names point into it */
	struct symvers_entry *syms; /* sorted by name for bsearch */
	size_t n;
};

/* A release is used as a path component: no separators, no dot names. */
static bool kver_valid(const char *kver)
{
	if (!kver || !*kver || streq(kver, ".") || streq(kver, "..") ||
	    strlen(kver) > 255)
		return false;
	for (const char *p = kver; *p; p++)
		if (*p == '/' || (unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Module.symvers */

static bool field_ok(const char *s, bool may_be_empty)
{
	if (!*s)
		return may_be_empty;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/* "0x" and 1 to 16 hex digits: modpost writes "0x%08x". */
static int parse_crc(const char *s, unsigned long long *crc)
{
	unsigned long long v = 0;
	size_t n = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EBADMSG;
	for (s += 2; *s; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EBADMSG;
		if (n == SYMVERS_MAX_CRC)
			return -EBADMSG;
		v = v << 4 | d;
	}
	if (n == 0)
		return -EBADMSG;
	*crc = v;
	return 0;
}

/*
 * One line, split in place: "0xCRC\tsymbol\tmodule\tEXPORT_SYMBOL[_GPL]"
 * and, since Linux 5.4, "\tnamespace" (often empty).
 */
static int parse_line(char *line, struct symvers_entry *e, char *why,
		      size_t why_len, size_t lineno)
{
	char *f[6];
	size_t nf = 0;

	for (char *p = line;; p++) {
		if (nf == ARRAY_SIZE(f))
			return why_set(why, why_len, -EBADMSG,
				       "line %zu: more than 5 fields", lineno);
		f[nf++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p = '\0';
	}
	if (nf < 4 || nf > 5)
		return why_set(why, why_len, -EBADMSG,
			       "line %zu: %zu fields, expected 4 or 5", lineno,
			       nf);
	if (parse_crc(f[0], &e->crc) < 0)
		return why_set(why, why_len, -EBADMSG,
			       "line %zu: bad CRC '%.20s'", lineno, f[0]);
	if (!field_ok(f[1], false) || !field_ok(f[2], false) ||
	    !startswith(f[3], "EXPORT_") || !field_ok(f[3], false) ||
	    (nf == 5 && !field_ok(f[4], true)))
		return why_set(why, why_len, -EBADMSG,
			       "line %zu: malformed symbol, module, export or "
			       "namespace field",
			       lineno);
	e->name = f[1];
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct symvers_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Sort, then fold repeats; the same name with two CRCs is ambiguous. */
static int sort_unique(struct symvers *s, char *why, size_t why_len)
{
	size_t out = 0;

	if (s->n)
		qsort(s->syms, s->n, sizeof(*s->syms), entry_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (out && streq(s->syms[out - 1].name, s->syms[i].name)) {
			if (s->syms[out - 1].crc != s->syms[i].crc)
				return why_set(
					why, why_len, -EBADMSG,
					"symbol '%s' is listed twice with "
					"different CRCs",
					s->syms[i].name);
			continue;
		}
		s->syms[out++] = s->syms[i];
	}
	s->n = out;
	return 0;
}

static int push_entry(struct symvers *s, size_t *cap,
		      const struct symvers_entry *e)
{
	if (s->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		struct symvers_entry *t =
			reallocarray(s->syms, ncap, sizeof(*t));

		if (!t)
			return -ENOMEM;
		s->syms = t;
		*cap = ncap;
	}
	s->syms[s->n++] = *e;
	return 0;
}

static void symvers_freep(struct symvers **s)
{
	symvers_free(*s);
}

int symvers_parse(const char *buf, size_t len, struct symvers **out, char *why,
		  size_t why_len)
{
	_cleanup_(symvers_freep) struct symvers *s = NULL;
	const char *nul = len ? memchr(buf, '\0', len) : NULL;
	size_t cap = 0, lineno = 0;
	char *p, *end, *next;
	int r;

	*out = NULL;
	if (nul)
		return why_set(why, why_len, -EBADMSG, "NUL byte at offset %zu",
			       (size_t)(nul - buf));
	s = calloc(1, sizeof(*s));
	if (!s || !(s->text = malloc(len + 1)))
		return -ENOMEM;
	if (len)
		memcpy(s->text, buf, len);
	s->text[len] = '\0';
	for (p = s->text, end = p + len; p < end; p = next) {
		char *nl = strchr(p, '\n');
		struct symvers_entry e;

		next = nl ? nl + 1 : end;
		if (nl)
			*nl = '\0';
		lineno++;
		if (!*p)
			continue;
		r = parse_line(p, &e, why, why_len, lineno);
		if (r < 0)
			return r;
		r = push_entry(s, &cap, &e);
		if (r < 0)
			return r;
	}
	r = sort_unique(s, why, why_len);
	if (r < 0)
		return r;
	*out = TAKE_PTR(s);
	return 0;
}

void symvers_free(struct symvers *s)
{
	if (!s)
		return;
	free(s->text);
	free(s->syms);
	free(s);
}

int symvers_crc(const struct symvers *s, const char *symbol,
		unsigned long long *crc)
{
	struct symvers_entry key = {.name = symbol};
	const struct symvers_entry *e;

	if (!s->n)
		return -ENOENT;
	e = bsearch(&key, s->syms, s->n, sizeof(*s->syms), entry_cmp);
	if (!e)
		return -ENOENT;
	*crc = e->crc;
	return 0;
}

static int parse_file(const char *path, const char *buf, size_t len,
		      struct symvers **out, char *why, size_t why_len)
{
	char msg[256] = "";
	int r = symvers_parse(buf, len, out, msg, sizeof(msg));

	if (r < 0)
		return why_set(why, why_len, r, "%s: %s", path,
			       *msg ? msg : strerror(-r));
	return 0;
}

/* RHEL's weak-modules reads /boot/symvers-<kver>.gz: kernels there ship
 * no headers by default. */
static int load_boot_symvers(const char *root, const char *kver,
			     const char *build_path, struct symvers **out,
			     char *why, size_t why_len)
{
	_cleanup_(freep) char *path = xasprintf("/boot/symvers-%s.gz", kver);
	_cleanup_(freep) char *gz = NULL;
	_cleanup_(freep) char *text = NULL;
	size_t gzlen = 0, len = 0;
	int r;

	if (!path)
		return -ENOMEM;
	r = root_read_file(root, path, SYMVERS_MAX, &gz, &gzlen);
	if (r == -ENOENT)
		return why_set(why, why_len, r,
			       "no symbol versions for %s: neither %s nor %s "
			       "exists",
			       kver, build_path, path);
	if (r < 0)
		return why_set(why, why_len, r, "%s: %s", path, strerror(-r));
	r = decompress_buffer(COMPRESS_GZ, gz, gzlen, SYMVERS_MAX, &text, &len);
	if (r < 0)
		return why_set(why, why_len, r, "%s: %s", path,
			       r == -EFBIG ? "larger than 64 MiB uncompressed"
					   : strerror(-r));
	return parse_file(path, text, len, out, why, why_len);
}

int symvers_load(const char *root, const char *kver, struct symvers **out,
		 char *why, size_t why_len)
{
	_cleanup_(freep) char *path = NULL;
	_cleanup_(freep) char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (!kver_valid(kver))
		return why_set(why, why_len, -EINVAL,
			       "invalid kernel release '%s'", kver ? kver : "");
	path = xasprintf("/lib/modules/%s/build/Module.symvers", kver);
	if (!path)
		return -ENOMEM;
	r = root_read_file(root, path, SYMVERS_MAX, &text, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return load_boot_symvers(root, kver, path, out, why, why_len);
	if (r < 0)
		return why_set(why, why_len, r, "%s: %s", path,
			       r == -EFBIG ? "larger than 64 MiB"
					   : strerror(-r));
	return parse_file(path, text, len, out, why, why_len);
}

/* ------------------------------------------------------------------ */
/* ELF */

struct elf {
	const unsigned char *p;
	size_t len;
	uint64_t shoff;
	unsigned shnum;
	const char *names; /* section name table, NUL-terminated at its end */
	size_t names_len;
};

struct elf_section {
	const unsigned char *data;
	size_t size;
};

/* Byte by byte: the buffer may be unaligned (and the host big-endian). */
static uint64_t le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

#define FIELD(base, type, member)                                              \
	le((base) + offsetof(type, member), sizeof(((type *)0)->member))

static const unsigned char *shdr(const struct elf *e, unsigned i)
{
	return e->p + e->shoff + (uint64_t)i * sizeof(Elf64_Shdr);
}

/* Where a section's bytes are; SHT_NOBITS has none in the file. */
static int section_bytes(const struct elf *e, unsigned i,
			 struct elf_section *sec)
{
	const unsigned char *sh = shdr(e, i);
	uint64_t off = FIELD(sh, Elf64_Shdr, sh_offset);
	uint64_t size = FIELD(sh, Elf64_Shdr, sh_size);

	if (FIELD(sh, Elf64_Shdr, sh_type) == SHT_NOBITS)
		return -ENODATA;
	if (off > e->len || size > e->len - off)
		return -EBADMSG;
	sec->data = e->p + off;
	sec->size = size;
	return 0;
}

static int elf_header(struct elf *e, char *why, size_t why_len)
{
	const unsigned char *h = e->p;
	uint64_t shentsize;

	if (e->len < SELFMAG || memcmp(h, ELFMAG, SELFMAG) != 0)
		return why_set(why, why_len, -EBADMSG, "not an ELF file");
	if (e->len < sizeof(Elf64_Ehdr) || h[EI_CLASS] != ELFCLASS64 ||
	    h[EI_DATA] != ELFDATA2LSB ||
	    FIELD(h, Elf64_Ehdr, e_machine) != EM_X86_64)
		return why_set(why, why_len, -EBADMSG, "not an x86_64 module");
	if (FIELD(h, Elf64_Ehdr, e_type) != ET_REL)
		return why_set(why, why_len, -EBADMSG,
			       "not a module: not a relocatable object");
	shentsize = FIELD(h, Elf64_Ehdr, e_shentsize);
	e->shoff = FIELD(h, Elf64_Ehdr, e_shoff);
	e->shnum = FIELD(h, Elf64_Ehdr, e_shnum);
	/* No extended numbering (e_shnum 0): the kernel has none either. */
	if (shentsize != sizeof(Elf64_Shdr) || e->shnum == 0 ||
	    e->shoff > e->len ||
	    (uint64_t)e->shnum * sizeof(Elf64_Shdr) > e->len - e->shoff)
		return why_set(why, why_len, -EBADMSG,
			       "section headers out of bounds");
	return 0;
}

/* The checks the kernel's elf_validity_check() makes before it trusts
 * any section: contents inside the file, names inside a terminated
 * section name table. */
static int elf_open(struct elf *e, const void *buf, size_t len, char *why,
		    size_t why_len)
{
	struct elf_section sec;
	unsigned shstrndx;
	int r;

	*e = (struct elf){.p = buf, .len = len};
	r = elf_header(e, why, why_len);
	if (r < 0)
		return r;
	shstrndx = FIELD(e->p, Elf64_Ehdr, e_shstrndx);
	if (shstrndx == SHN_UNDEF || shstrndx >= e->shnum ||
	    section_bytes(e, shstrndx, &sec) < 0 || sec.size == 0 ||
	    sec.data[sec.size - 1] != '\0')
		return why_set(why, why_len, -EBADMSG,
			       "bad section name table");
	e->names = (const char *)sec.data;
	e->names_len = sec.size;
	for (unsigned i = 1; i < e->shnum; i++) {
		const unsigned char *sh = shdr(e, i);

		if (FIELD(sh, Elf64_Shdr, sh_name) >= e->names_len)
			return why_set(why, why_len, -EBADMSG,
				       "section %u has a bad name", i);
		if (FIELD(sh, Elf64_Shdr, sh_type) == SHT_NULL)
			continue;
		r = section_bytes(e, i, &sec);
		if (r == -EBADMSG)
			return why_set(why, why_len, r,
				       "section %u is out of bounds", i);
	}
	return 0;
}

/* As the kernel's find_sec(): the first allocated section of that name. */
static int elf_find(const struct elf *e, const char *name,
		    struct elf_section *sec)
{
	for (unsigned i = 1; i < e->shnum; i++) {
		const unsigned char *sh = shdr(e, i);

		if (!(FIELD(sh, Elf64_Shdr, sh_flags) & SHF_ALLOC) ||
		    !streq(e->names + FIELD(sh, Elf64_Shdr, sh_name), name))
			continue;
		return section_bytes(e, i, sec) < 0 ? -EBADMSG : 0;
	}
	return -ENOENT;
}

/* The first "key=value\0" record, as the kernel's get_modinfo(). */
static int modinfo_value(const struct elf_section *sec, const char *key,
			 const char **value)
{
	const char *p = (const char *)sec->data, *end = p + sec->size;
	size_t klen = strlen(key);

	while (p < end) {
		const char *nul = memchr(p, '\0', end - p);
		size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);

		if (n > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			if (!nul)
				return -EBADMSG;
			*value = p + klen + 1;
			return 0;
		}
		if (!nul)
			break;
		p = nul + 1;
	}
	return -ENOENT;
}

static int module_vermagic(const struct elf *e, const char **vermagic,
			   char *why, size_t why_len)
{
	struct elf_section info;
	int r = elf_find(e, ".modinfo", &info);

	if (r == -ENOENT)
		return why_set(why, why_len, -EBADMSG,
			       "not a module: no .modinfo section");
	if (r < 0)
		return why_set(why, why_len, r, "bad .modinfo section");
	r = modinfo_value(&info, "vermagic", vermagic);
	if (r == -ENOENT)
		return why_set(why, why_len, -EPERM,
			       "the module has no vermagic");
	if (r < 0)
		return why_set(why, why_len, r, "unterminated vermagic");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The decision */

/* Entries are {unsigned long crc; char name[56];}, names terminated. */
static int versions_valid(const struct elf_section *v, char *why,
			  size_t why_len)
{
	if (v->size % MODVERSION_SIZE)
		return why_set(why, why_len, -EBADMSG,
			       "__versions is %zu bytes, not a multiple of %u",
			       v->size, MODVERSION_SIZE);
	for (size_t off = 0; off < v->size; off += MODVERSION_SIZE) {
		const unsigned char *name = v->data + off + 8;

		if (!memchr(name, '\0', MODVERSION_NAME) || !*name)
			return why_set(why, why_len, -EBADMSG,
				       "__versions entry %zu has a bad name",
				       off / MODVERSION_SIZE);
	}
	return 0;
}

/* same_magic() with CRCs: everything from the first space on. */
static int vermagic_flags_match(const char *module, const char *target,
				const char *kver, char *why, size_t why_len)
{
	if (streq(module + strcspn(module, " "), target + strcspn(target, " ")))
		return 0;
	return why_set(why, why_len, -EPERM,
		       "vermagic flags differ: '%s' in the module, '%s' in %s",
		       module, target, kver);
}

static bool in_strv(char *const *v, const char *name)
{
	for (; v && *v; v++)
		if (streq(*v, name))
			return true;
	return false;
}

static int versions_match(const struct elf_section *v, const struct symvers *s,
			  char *const *own, const char *kver, char *why,
			  size_t why_len)
{
	for (size_t off = 0; off < v->size; off += MODVERSION_SIZE) {
		const char *name = (const char *)v->data + off + 8;
		unsigned long long crc = le(v->data + off, 8), want;

		/* Exported by a module of the same build: its CRC came from
		 * the same compile, and the kernel checks it against that
		 * module, not against its own symvers. */
		if (in_strv(own, name))
			continue;
		if (symvers_crc(s, name, &want) < 0)
			return why_set(why, why_len, -EPERM,
				       "'%s' is not exported by %s", name,
				       kver);
		if (crc != want)
			return why_set(
				why, why_len, -EPERM,
				"symbol '%s': CRC 0x%08llx in the module, "
				"0x%08llx in %s's Module.symvers",
				name, crc, want, kver);
	}
	return 0;
}

int kabi_check(const void *module, size_t len, const struct symvers *s,
	       const char *target_vermagic, char *why, size_t why_len)
{
	return kabi_check_with(module, len, s, NULL, target_vermagic, why,
			       why_len);
}

int kabi_module_exports(const void *module, size_t len, char ***names)
{
	struct elf_section sec;
	struct elf e;
	char why[128];
	int r = elf_open(&e, module, len, why, sizeof(why));

	if (r < 0)
		return r;
	r = elf_find(&e, "__ksymtab_strings", &sec);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (size_t off = 0; off < sec.size;) {
		const char *p = (const char *)sec.data + off;
		size_t n = strnlen(p, sec.size - off);

		if (n == sec.size - off)
			return -EBADMSG; /* unterminated */
		if (n && (r = strv_push(names, p)) < 0)
			return r;
		off += n + 1;
	}
	return 0;
}

int kabi_check_with(const void *module, size_t len, const struct symvers *s,
		    char *const *own_exports, const char *target_vermagic,
		    char *why, size_t why_len)
{
	struct elf_section vers;
	const char *vermagic;
	char kver[256];
	struct elf e;
	int r;

	if (!module || !s || !target_vermagic)
		return why_set(why, why_len, -EINVAL, "invalid argument");
	if (!vermagic_release(target_vermagic, kver, sizeof(kver)))
		snprintf(kver, sizeof(kver), "the target kernel");
	r = elf_open(&e, module, len, why, why_len);
	if (r < 0)
		return r;
	r = module_vermagic(&e, &vermagic, why, why_len);
	if (r < 0)
		return r;
	r = elf_find(&e, "__versions", &vers);
	if (r == -ENOENT)
		return why_set(why, why_len, -EPERM,
			       "no symbol versions: reuse needs modversions");
	if (r < 0)
		return why_set(why, why_len, r, "bad __versions section");
	r = versions_valid(&vers, why, why_len);
	if (r < 0)
		return r;
	r = vermagic_flags_match(vermagic, target_vermagic, kver, why, why_len);
	if (r < 0)
		return r;
	return versions_match(&vers, s, own_exports, kver, why, why_len);
}

/* ------------------------------------------------------------------ */
/* A kernel's vermagic */

char *kabi_module_vermagic(const void *buf, size_t len)
{
	const char *vermagic;
	struct elf e;

	if (elf_open(&e, buf, len, NULL, 0) < 0 ||
	    module_vermagic(&e, &vermagic, NULL, 0) < 0)
		return NULL;
	return strdup(vermagic);
}

static bool is_module_name(const char *name)
{
	return endswith(name, ".ko") || endswith(name, ".ko.xz") ||
	       endswith(name, ".ko.zst") || endswith(name, ".ko.gz");
}

/* O_NOFOLLOW everywhere below: the walk must stay inside the root. */
static char *file_vermagic(int dfd, const char *name)
{
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *raw = NULL;
	_cleanup_(freep) char *mod = NULL;
	size_t rawlen = 0, len = 0;
	enum compress_kind k;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || read_fd(fd, MODULE_FILE_MAX, &raw, &rawlen) < 0)
		return NULL;
	k = compress_detect(raw, rawlen);
	if (k == COMPRESS_NONE)
		return kabi_module_vermagic(raw, rawlen);
	if (decompress_buffer(k, raw, rawlen, MODULE_MAX, &mod, &len) < 0)
		return NULL;
	return kabi_module_vermagic(mod, len);
}

struct tree_search {
	unsigned tries;
	char *vermagic;
};

/* Any module will do (they all carry the same vermagic); a few that
 * fail to parse are skipped before giving up on the tree. */
static int tree_vermagic(const struct walk_entry *e, void *userdata)
{
	struct tree_search *ts = userdata;

	if (e->event == WALK_DIR_PRE && e->depth > TREE_MAX_DEPTH)
		return WALK_SKIP;
	if (e->event != WALK_FILE || !S_ISREG(e->st->st_mode) ||
	    !is_module_name(e->name))
		return 0;
	ts->vermagic = file_vermagic(e->dirfd, e->name);
	if (ts->vermagic || --ts->tries == 0)
		return WALK_STOP;
	return 0;
}

static char *intree_vermagic(const char *root, const char *kver)
{
	_cleanup_(freep) char *path = xasprintf("/lib/modules/%s/kernel", kver);
	_cleanup_(freep) char *host = NULL;
	struct tree_search ts = {.tries = TREE_MAX_TRIES};

	if (!path || root_path(root, path, &host) < 0)
		return NULL;
	walk_tree(AT_FDCWD, host, WALK_FOLLOW_TOP, tree_vermagic, &ts);
	return ts.vermagic;
}

/* The options include/linux/vermagic.h looks at. */
enum {
	CF_SMP,
	CF_PREEMPT_BUILD,
	CF_PREEMPT, /* before 5.16 there was no PREEMPT_BUILD */
	CF_PREEMPT_RT,
	CF_MODULE_UNLOAD,
	CF_MODVERSIONS,
	CF_RANDSTRUCT,
	CF_GCC_PLUGIN_RANDSTRUCT, /* its name before 5.19 */
	CF_X86_64,
	CF_COUNT
};

static const char *const config_names[CF_COUNT] = {
	[CF_SMP] = "CONFIG_SMP",
	[CF_PREEMPT_BUILD] = "CONFIG_PREEMPT_BUILD",
	[CF_PREEMPT] = "CONFIG_PREEMPT",
	[CF_PREEMPT_RT] = "CONFIG_PREEMPT_RT",
	[CF_MODULE_UNLOAD] = "CONFIG_MODULE_UNLOAD",
	[CF_MODVERSIONS] = "CONFIG_MODVERSIONS",
	[CF_RANDSTRUCT] = "CONFIG_RANDSTRUCT",
	[CF_GCC_PLUGIN_RANDSTRUCT] = "CONFIG_GCC_PLUGIN_RANDSTRUCT",
	[CF_X86_64] = "CONFIG_X86_64",
};

/* Which of the options are "=y"; the last assignment wins, as in make. */
static void config_scan(const char *cfg, size_t len, bool set[CF_COUNT])
{
	const char *p = cfg, *end = cfg + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		for (unsigned i = 0; i < CF_COUNT; i++) {
			size_t k = strlen(config_names[i]);

			if (n > k && memcmp(p, config_names[i], k) == 0 &&
			    p[k] == '=')
				set[i] = n == k + 2 && p[k + 1] == 'y';
		}
		p += n + 1;
	}
}

/* The string of `#define MACRO "value"` in a generated header. */
static char *header_define(const char *root, const char *path,
			   const char *macro)
{
	_cleanup_(freep) char *buf = NULL;
	_cleanup_(freep) char *pat = xasprintf("#define %s \"", macro);
	size_t len = 0, n;
	char *p;

	if (!pat || root_read_file(root, path, HEADER_MAX, &buf, &len) < 0)
		return NULL;
	for (p = buf; (p = strstr(p, pat)); p++)
		if (p == buf || p[-1] == '\n')
			break;
	if (!p)
		return NULL;
	p += strlen(pat);
	n = strcspn(p, "\"\n");
	if (p[n] != '"' || n == 0)
		return NULL;
	return strndup(p, n);
}

static char *build_header(const char *root, const char *kver, const char *name,
			  const char *macro)
{
	_cleanup_(freep) char *path = xasprintf(
		"/lib/modules/%s/build/include/generated/%s", kver, name);

	return path ? header_define(root, path, macro) : NULL;
}

/*
 * VERMAGIC_STRING of include/linux/vermagic.h, which Kbuild puts into
 * every module's .mod.c: UTS_RELEASE " " and the flag words;
 * MODULE_ARCH_VERMAGIC is empty on x86_64, other architectures are not
 * guessed at.
 */
static char *config_vermagic(const char *root, const char *kver)
{
	_cleanup_(freep) char *path =
		xasprintf("/lib/modules/%s/build/.config", kver);
	_cleanup_(freep) char *cfg = NULL;
	_cleanup_(freep) char *release = NULL;
	_cleanup_(freep) char *seed = NULL;
	bool set[CF_COUNT] = {false};
	size_t len = 0;

	if (!path || root_read_file(root, path, CONFIG_MAX, &cfg, &len) < 0)
		return NULL;
	config_scan(cfg, len, set);
	if (!set[CF_X86_64]) {
		log_debug("%s: not an x86_64 kernel", path);
		return NULL;
	}
	if (set[CF_RANDSTRUCT] || set[CF_GCC_PLUGIN_RANDSTRUCT]) {
		seed = build_header(root, kver, "randstruct_hash.h",
				    "RANDSTRUCT_HASHED_SEED");
		if (!seed)
			return NULL;
	}
	release = build_header(root, kver, "utsrelease.h", "UTS_RELEASE");
	return xasprintf("%s %s%s%s%s%s%s", release ? release : kver,
			 set[CF_SMP] ? "SMP " : "",
			 set[CF_PREEMPT_BUILD] || set[CF_PREEMPT] ? "preempt "
			 : set[CF_PREEMPT_RT] ? "preempt_rt "
					      : "",
			 set[CF_MODULE_UNLOAD] ? "mod_unload " : "",
			 set[CF_MODVERSIONS] ? "modversions " : "",
			 seed ? "RANDSTRUCT_" : "", seed ? seed : "");
}

char *kabi_kernel_vermagic(const char *root, const char *kver)
{
	char *v;

	if (!kver_valid(kver))
		return NULL;
	v = intree_vermagic(root, kver);
	if (v)
		return v;
	log_debug("no in-tree module of %s to read: vermagic from .config",
		  kver);
	return config_vermagic(root, kver);
}
