// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tar reader and writer, checked against real GNU tar in both
 * directions (every format it writes, and the way dkms mktarball calls
 * it), against python's tarfile for the entry types we refuse, and
 * against hand-made hostile headers.
 */
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"
#include "module/compress.h"
#include "cache/tar.h"

#define MiB (1u << 20)
#define BLK 512u

static char *tmp;

/* ---- helpers ---- */

static char *tpath(const char *name)
{
	char *p = path_join(tmp, name);

	assert_non_null(p);
	return p;
}

/* Write a file under tmp, making its directories. */
static void put(const char *rel, const void *buf, size_t n)
{
	_cleanup_(freep) char *p = tpath(rel);
	char *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(make_dirs(p, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(p, buf, n, 0644), 0);
}

static void slurp(const char *rel, char **buf, size_t *len)
{
	_cleanup_(freep) char *p = tpath(rel);

	assert_int_equal(read_file(p, 64 * MiB, buf, len), 0);
}

/* Bytes that differ per file and cross block boundaries. */
static char *pattern(size_t n, unsigned seed)
{
	char *p = malloc(n + 1);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 131 + seed * 7 + (i >> 9));
	return p;
}

static char *repeat(char c, size_t n)
{
	char *p = malloc(n + 1);

	assert_non_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

/* What the reader handed out, copied. */
struct ent {
	char *name;
	enum tar_type type;
	unsigned mode;
	char *data;
	size_t size;
	long long mtime;
};

struct coll {
	struct ent *v;
	size_t n, cap;
};

static int collect(const struct tar_entry *e, void *userdata)
{
	struct coll *c = userdata;
	struct ent *x;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	x = &c->v[c->n++];
	x->name = strdup(e->name);
	assert_non_null(x->name);
	x->type = e->type;
	x->mode = e->mode;
	x->size = e->size;
	x->mtime = e->mtime;
	x->data = malloc(e->size + 1);
	assert_non_null(x->data);
	if (e->type == TAR_FILE)
		memcpy(x->data, e->data, e->size);
	else
		assert_null(e->data);
	return 0;
}

static void coll_free(struct coll *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].data);
	}
	free(c->v);
	*c = (struct coll){0};
}

static const struct ent *find(const struct coll *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->v[i].name, name))
			return &c->v[i];
	return NULL;
}

static void assert_file(const struct coll *c, const char *name,
			const void *data, size_t n)
{
	const struct ent *e = find(c, name);

	if (!e)
		fail_msg("%s: not in the archive", name);
	assert_int_equal(e->type, TAR_FILE);
	assert_int_equal(e->size, n);
	assert_memory_equal(e->data, data, n);
}

static void assert_dir(const struct coll *c, const char *name)
{
	const struct ent *e = find(c, name);

	if (!e)
		fail_msg("%s: not in the archive", name);
	assert_int_equal(e->type, TAR_DIR);
}

/* Names as the reader promises them: clean and relative. */
static void assert_clean_names(const struct coll *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const char *s = c->v[i].name;

		assert_true(s[0] != '\0' && s[0] != '/');
		assert_false(startswith(s, "./"));
		assert_false(endswith(s, "/"));
		assert_null(strstr(s, "//"));
	}
}

static int read_into(const void *buf, size_t len, struct coll *c, char *why,
		     size_t why_len)
{
	return tar_read(buf, len, NULL, collect, c, why, why_len);
}

/* Read an archive that must be refused: the reason names what and why. */
static void assert_refused_lim(const void *buf, size_t len,
			       const struct tar_limits *lim, const char *name,
			       const char *reason)
{
	struct coll c = {0};
	char why[512];
	int r = tar_read(buf, len, lim, collect, &c, why, sizeof(why));

	coll_free(&c);
	if (r != -EBADMSG)
		fail_msg("%s: expected -EBADMSG, got %d (%s)", name, r, why);
	if (!strstr(why, name) || !strstr(why, reason))
		fail_msg("reason \"%s\" should name \"%s\" and say \"%s\"", why,
			 name, reason);
}

static void assert_refused(const void *buf, size_t len, const char *name,
			   const char *reason)
{
	assert_refused_lim(buf, len, NULL, name, reason);
}

/* ---- hand-made archives ---- */

struct raw {
	char *p;
	size_t n;
};

static char *raw_grow(struct raw *a, size_t more)
{
	char *at;

	a->p = realloc(a->p, a->n + more + 1);
	assert_non_null(a->p);
	at = a->p + a->n;
	memset(at, 0, more);
	a->n += more;
	return at;
}

static void fix_checksum(char *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < BLK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
}

/* A ustar header; returns its offset so that tests can spoil it. */
static size_t raw_header(struct raw *a, const char *name, char type,
			 unsigned long long size)
{
	char *h = raw_grow(a, BLK);

	memcpy(h, name, strnlen(name, 100));
	snprintf(h + 100, 8, "%07o", 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011llo", size);
	snprintf(h + 136, 12, "%011o", 1700000000);
	h[156] = type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	fix_checksum(h);
	return (size_t)(h - a->p);
}

static void raw_data(struct raw *a, const void *d, size_t n)
{
	memcpy(raw_grow(a, (n + BLK - 1) / BLK * BLK), d, n);
}

static void raw_end(struct raw *a)
{
	raw_grow(a, 2 * BLK);
}

static void raw_file(struct raw *a, const char *name, const char *data)
{
	raw_header(a, name, '0', strlen(data));
	raw_data(a, data, strlen(data));
}

/* Overwrite a header field and make the checksum right again. */
static void raw_patch(struct raw *a, size_t hdr, size_t off, const void *v,
		      size_t n)
{
	memcpy(a->p + hdr + off, v, n);
	fix_checksum(a->p + hdr);
}

/* One pax record: the length counts itself. */
static void pax_add(struct raw *x, const char *key, const char *val,
		    size_t vlen)
{
	size_t base = strlen(key) + vlen + 3, len = base + 1;
	char num[24];

	while (len != base + (size_t)snprintf(num, sizeof(num), "%zu", len))
		len = base + strlen(num);
	snprintf(num, sizeof(num), "%zu", len);
	memcpy(raw_grow(x, strlen(num)), num, strlen(num));
	*raw_grow(x, 1) = ' ';
	memcpy(raw_grow(x, strlen(key)), key, strlen(key));
	*raw_grow(x, 1) = '=';
	memcpy(raw_grow(x, vlen), val, vlen);
	*raw_grow(x, 1) = '\n';
}

static void raw_pax(struct raw *a, char type, const struct raw *x)
{
	raw_header(a, "././@PaxHeader", type, x->n);
	raw_data(a, x->p, x->n);
}

/* ---- the writer, and real tar reading it ---- */

struct wfile {
	const char *name;
	size_t size;
	unsigned mode;
};

static void build_ours(struct tar_writer *w, char **longname)
{
	static const struct wfile files[] = {
		{"empty", 0, 0644},    {"m/x86_64/log/make.log", 4000, 0444},
		{"m/one", 1, 0600},    {"m/b511", 511, 0644},
		{"m/b512", 512, 0755}, {"m/big.ko", 70000, 0644},
		{"m/b513", 513, 0644},
	};
	_cleanup_(freep) char *d1 = repeat('d', 90);
	_cleanup_(freep) char *d2 = repeat('e', 60);

	/* In tree order, as tar extracts best (directory times last). */
	assert_int_equal(tar_add_file(w, files[0].name, files[0].mode, "", 0),
			 0);
	assert_int_equal(tar_add_dir(w, "m", 0755), 0);
	assert_int_equal(tar_add_dir(w, "m/x86_64", 0700), 0);
	assert_int_equal(tar_add_dir(w, "m/x86_64/log", 0755), 0);
	for (size_t i = 1; i < ARRAY_SIZE(files); i++) {
		_cleanup_(freep) char *d = pattern(files[i].size, (unsigned)i);

		assert_int_equal(tar_add_file(w, files[i].name, files[i].mode,
					      d, files[i].size),
				 0);
	}
	/* A 240-byte name, which needs the ustar prefix field. */
	*longname = xasprintf("m/%s/%s/%s.ko", d1, d2, d1 + 7);
	assert_non_null(*longname);
	assert_int_equal(strlen(*longname), 240);
	{
		_cleanup_(freep) char *dir = xasprintf("m/%s", d1);
		_cleanup_(freep) char *dir2 = xasprintf("m/%s/%s", d1, d2);

		assert_int_equal(tar_add_dir(w, dir, 0755), 0);
		assert_int_equal(tar_add_dir(w, dir2, 0755), 0);
	}
	assert_int_equal(tar_add_file(w, *longname, 0644, "long\n", 5), 0);
	assert_int_equal(tar_finish(w), 0);
}

static void test_round_trip(void **state)
{
	struct tar_writer w = {.mtime = 1700000123};
	_cleanup_(freep) char *longname = NULL;
	struct coll c = {0};
	char why[256];

	build_ours(&w, &longname);
	assert_int_equal(w.len % BLK, 0);
	assert_int_equal(read_into(w.buf, w.len, &c, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(c.n, 13);
	assert_clean_names(&c);
	assert_string_equal(c.v[1].name, "m");
	assert_int_equal(c.v[1].type, TAR_DIR);
	assert_int_equal(c.v[1].mode, 0755);
	assert_int_equal(find(&c, "m/x86_64")->mode, 0700);
	assert_int_equal(find(&c, "m/b512")->mode, 0755);
	assert_int_equal(find(&c, "m/x86_64/log/make.log")->mode, 0444);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.v[i].mtime, 1700000123);
	{
		_cleanup_(freep) char *d = pattern(70000, 5);

		assert_file(&c, "m/big.ko", d, 70000);
	}
	assert_file(&c, "empty", "", 0);
	assert_file(&c, longname, "long\n", 5);
	coll_free(&c);
	tar_writer_free(&w);
	assert_null(w.buf);
	assert_int_equal(w.len, 0);
}

static void test_writer_refuses(void **state)
{
	struct tar_writer w = {.mtime = 1};
	_cleanup_(freep) char *n101 = repeat('a', 101);
	_cleanup_(freep) char *n300 = repeat('a', 300);
	_cleanup_(freep) char *p156 = repeat('p', 156);
	_cleanup_(freep) char *n100 = repeat('n', 100);
	_cleanup_(freep) char *p155 = repeat('p', 155);
	_cleanup_(freep) char *pre = NULL, *tail = NULL, *max = NULL;
	static const char *const bad[] = {
		"",	 "/abs", "../x", "a/../b", "a/..", "a//b", "./a",
		"a/./b", "a/",	 "a\nb", "a\x7f",  ".",	   "..",
	};
	struct coll c = {0};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(tar_add_file(&w, bad[i], 0644, "x", 1),
				 -EINVAL);
		assert_int_equal(tar_add_dir(&w, bad[i], 0755), -EINVAL);
	}
	assert_int_equal(w.len, 0);

	/* No slash to split at, or parts that do not fit either field. */
	assert_int_equal(tar_add_file(&w, n101, 0644, "", 0), -ENAMETOOLONG);
	assert_int_equal(tar_add_file(&w, n300, 0644, "", 0), -ENAMETOOLONG);
	pre = xasprintf("%s/x", p156);
	assert_int_equal(tar_add_file(&w, pre, 0644, "", 0), -ENAMETOOLONG);
	tail = xasprintf("a/%s", n101);
	assert_int_equal(tar_add_file(&w, tail, 0644, "", 0), -ENAMETOOLONG);
	assert_int_equal(w.len, 0);

	/* The longest ustar name: 155 + '/' + 100, and a 100-byte file name. */
	max = xasprintf("%s/%s", p155, n100);
	assert_int_equal(tar_add_file(&w, max, 0644, "m", 1), 0);
	assert_int_equal(tar_add_file(&w, n100, 0644, "n", 1), 0);
	max[254] = '\0'; /* 255 bytes as a directory gets its '/' */
	assert_int_equal(tar_add_dir(&w, max, 0755), 0);
	assert_int_equal(tar_finish(&w), 0);
	assert_int_equal(read_into(w.buf, w.len, &c, NULL, 0), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(strlen(c.v[0].name), 256);
	assert_file(&c, n100, "n", 1);
	assert_dir(&c, max);
	coll_free(&c);

	w.mtime = -1;
	assert_int_equal(tar_add_dir(&w, "d", 0755), -ERANGE);
	tar_writer_free(&w);
}

/* Real tar lists and extracts what we write, byte for byte. */
static void test_real_tar_reads_ours(void **state)
{
	struct tar_writer w = {.mtime = 1700000123};
	_cleanup_(freep) char *longname = NULL;
	_cleanup_(freep) char *out = tpath("ours/x");
	_cleanup_(freep) char *arch = tpath("ours.tar");
	_cleanup_(freep) char *list = tpath("ours.list");
	_cleanup_(freep) char *listing = NULL;
	struct coll c = {0};
	size_t n = 0;

	build_ours(&w, &longname);
	assert_int_equal(make_dirs(out, 0755), 0);
	assert_int_equal(write_file_atomic(arch, w.buf, w.len, 0644), 0);
	assert_int_equal(unit_sh("tar -tvf '%s' > '%s'", arch, list), 0);
	assert_int_equal(read_file(list, MiB, &listing, &n), 0);
	assert_non_null(strstr(listing, "root/root"));
	assert_non_null(strstr(listing, longname));
	/* Quietly: no warning of any kind. */
	assert_int_equal(
		unit_sh("e=$(tar --warning=all -xf '%s' -C '%s' 2>&1) && "
			"[ -z \"$e\" ]",
			arch, out),
		0);

	assert_int_equal(read_into(w.buf, w.len, &c, NULL, 0), 0);
	for (size_t i = 0; i < c.n; i++) {
		_cleanup_(freep) char *p = path_join(out, c.v[i].name);
		_cleanup_(freep) char *got = NULL;
		struct stat st;
		size_t len = 0;

		assert_int_equal(lstat(p, &st), 0);
		if (st.st_mtime != 1700000123)
			fail_msg("%s: mtime %lld", c.v[i].name,
				 (long long)st.st_mtime);
		if (c.v[i].type == TAR_DIR) {
			assert_true(S_ISDIR(st.st_mode));
			continue;
		}
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 0777, c.v[i].mode & ~022u);
		assert_int_equal(read_file(p, MiB, &got, &len), 0);
		assert_int_equal(len, c.v[i].size);
		assert_memory_equal(got, c.v[i].data, len);
	}
	coll_free(&c);
	tar_writer_free(&w);
}

/* ---- real GNU tar archives ---- */

/* A tree of files and the names they must come back under. */
struct tree {
	char *names[8];
	char *data[8];
	size_t sizes[8];
	size_t n;
	char *long150; /* one component of 150 bytes: not for ustar/v7 */
};

static void tree_add(struct tree *t, const char *root, char *rel, size_t size)
{
	_cleanup_(freep) char *p = xasprintf("%s/%s", root, rel);

	t->names[t->n] = rel;
	t->data[t->n] = pattern(size, (unsigned)t->n + 1);
	t->sizes[t->n] = size;
	put(p, t->data[t->n], size);
	t->n++;
}

static void tree_make(struct tree *t, const char *root)
{
	_cleanup_(freep) char *a = repeat('a', 60);
	_cleanup_(freep) char *b = repeat('b', 70);
	_cleanup_(freep) char *l = repeat('l', 147);

	*t = (struct tree){0};
	tree_add(t, root, strdup("dkms.conf"), 120);
	tree_add(t, root, strdup("empty"), 0);
	tree_add(t, root, strdup("src/mod.c"), 1000);
	tree_add(t, root, strdup("src/Kbuild"), 512);
	tree_add(t, root, xasprintf("deep/%s/%s/mod.ko", a, b), 30000);
	t->long150 = xasprintf("long/%s.ko", l);
	tree_add(t, root, xasprintf("%s", t->long150), 700);
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->names[i]);
		free(t->data[i]);
	}
	free(t->long150);
}

static void assert_tree(const struct coll *c, const struct tree *t,
			bool with_long)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!with_long && streq(t->names[i], t->long150)) {
			assert_null(find(c, t->names[i]));
			continue;
		}
		assert_file(c, t->names[i], t->data[i], t->sizes[i]);
	}
	assert_dir(c, "src");
	assert_dir(c, "deep");
	assert_clean_names(c);
	assert_null(find(c, "."));
	assert_null(find(c, ""));
}

static void read_tar_file(const char *rel, struct coll *c)
{
	_cleanup_(freep) char *buf = NULL;
	_cleanup_(freep) char *plain = NULL;
	size_t len = 0, plen = 0;
	char why[256];
	int r;

	slurp(rel, &buf, &len);
	if (compress_detect(buf, len) == COMPRESS_GZ) {
		assert_int_equal(decompress_buffer(COMPRESS_GZ, buf, len,
						   64 * MiB, &plain, &plen),
				 0);
		r = read_into(plain, plen, c, why, sizeof(why));
	} else {
		r = read_into(buf, len, c, why, sizeof(why));
	}
	if (r != 0)
		fail_msg("%s: %d: %s", rel, r, why);
}

static bool archive_has(const char *rel, const char *s)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;

	slurp(rel, &buf, &len);
	return memmem(buf, len, s, strlen(s)) != NULL;
}

static void test_reads_gnu_tar(void **state)
{
	static const struct {
		const char *opts, *out;
		bool with_long;
	} forms[] = {
		{"-czf", "default.tar.gz", true},
		{"--format=gnu -cf", "gnu.tar", true},
		{"--format=oldgnu -cf", "oldgnu.tar", true},
		{"--format=pax -cf", "pax.tar", true},
		{"--format=ustar --exclude=long -cf", "ustar.tar", false},
		{"--format=v7 --exclude=long --exclude=deep -cf", "v7.tar",
		 false},
	};
	_cleanup_(freep) char *src = tpath("gnu-src");
	struct tree t;

	tree_make(&t, "gnu-src");
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		_cleanup_(freep) char *out = tpath(forms[i].out);
		struct coll c = {0};

		assert_int_equal(unit_sh("tar -C '%s' %s '%s' .", src,
					 forms[i].opts, out),
				 0);
		read_tar_file(forms[i].out, &c);
		if (strstr(forms[i].out, "v7")) {
			/* v7 has no directory type: a trailing slash says it.
			 */
			assert_file(&c, "dkms.conf", t.data[0], t.sizes[0]);
			assert_file(&c, "src/mod.c", t.data[2], t.sizes[2]);
			assert_dir(&c, "src");
		} else {
			assert_tree(&c, &t, forms[i].with_long);
		}
		coll_free(&c);
	}
	/* The long forms were really used. */
	assert_true(archive_has("gnu.tar", "././@LongLink"));
	assert_true(archive_has("pax.tar", " path=./long/lll"));
	assert_true(archive_has("ustar.tar", "./deep/aaaa"));
	tree_free(&t);
}

/* Exactly as dkms mktarball --binaries-only calls tar. */
static void test_dkms_mktarball(void **state)
{
	static const char *const want[] = {
		"dkms_binaries_only",
		"dkms_binaries_only/PACKAGE_NAME",
		"dkms_binaries_only/PACKAGE_VERSION",
		"dkms_binaries_only/dkms.conf",
		"dkms_main_tree",
		"dkms_main_tree/6.1.0-13-amd64",
		"dkms_main_tree/6.1.0-13-amd64/x86_64",
		"dkms_main_tree/6.1.0-13-amd64/x86_64/module",
		"dkms_main_tree/6.1.0-13-amd64/x86_64/module/dkb.ko",
	};
	_cleanup_(freep) char *ko = pattern(40000, 9);
	_cleanup_(freep) char *dk = tpath("dk");
	_cleanup_(freep) char *out =
		tpath("dkb-1.0-kernel6.1.0-13-amd64-x86_64."
		      "dkms.tar.gz");
	static const char conf[] = "PACKAGE_NAME=dkb\nPACKAGE_VERSION=1.0\n"
				   "BUILT_MODULE_NAME[0]=dkb\n";
	struct coll c = {0};
	size_t found = 0;

	put("dk/dkms_main_tree/6.1.0-13-amd64/x86_64/module/dkb.ko", ko, 40000);
	put("dk/dkms_binaries_only/PACKAGE_NAME", "dkb\n", 4);
	put("dk/dkms_binaries_only/PACKAGE_VERSION", "1.0\n", 4);
	put("dk/dkms_binaries_only/dkms.conf", conf, sizeof(conf) - 1);
	assert_int_equal(unit_sh("tar -C '%s' -caf '%s' .", dk, out), 0);
	/* The archive really is dkms's shape: "./" first, then "./dkms_...". */
	assert_int_equal(
		unit_sh("tar -tzf '%s' | head -1 | grep -qx './'", out), 0);

	read_tar_file("dkb-1.0-kernel6.1.0-13-amd64-x86_64.dkms.tar.gz", &c);
	assert_int_equal(c.n, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		found += find(&c, want[i]) != NULL;
	assert_int_equal(found, ARRAY_SIZE(want));
	assert_file(&c, "dkms_main_tree/6.1.0-13-amd64/x86_64/module/dkb.ko",
		    ko, 40000);
	assert_file(&c, "dkms_binaries_only/PACKAGE_NAME", "dkb\n", 4);
	assert_file(&c, "dkms_binaries_only/PACKAGE_VERSION", "1.0\n", 4);
	assert_file(&c, "dkms_binaries_only/dkms.conf", conf, sizeof(conf) - 1);
	assert_dir(&c, "dkms_main_tree/6.1.0-13-amd64/x86_64/module");
	coll_free(&c);
}

/* ---- python's tarfile: the entry types we refuse ---- */

static const char pymaker[] =
	"import io, sys, tarfile\n"
	"kind, out = sys.argv[1], sys.argv[2]\n"
	"fmt = tarfile.PAX_FORMAT if kind.startswith('pax') "
	"else tarfile.GNU_FORMAT\n"
	"t = tarfile.open(out, 'w', format=fmt)\n"
	"def add(name, type=tarfile.REGTYPE, data=b'', **kw):\n"
	"    ti = tarfile.TarInfo(name)\n"
	"    ti.type = type\n"
	"    ti.size = len(data)\n"
	"    for k, v in kw.items(): setattr(ti, k, v)\n"
	"    t.addfile(ti, io.BytesIO(data) if data else None)\n"
	"add('x', tarfile.DIRTYPE)\n"
	"add('x/ok', data=b'fine\\n')\n"
	"if kind == 'symlink': add('x/y', tarfile.SYMTYPE, linkname='/etc')\n"
	"if kind == 'hardlink': add('x/h', tarfile.LNKTYPE, linkname='x/ok')\n"
	"if kind == 'chardev': add('x/null', tarfile.CHRTYPE, devmajor=1, "
	"devminor=3)\n"
	"if kind == 'blockdev': add('x/sda', tarfile.BLKTYPE, devmajor=8)\n"
	"if kind == 'fifo': add('x/fifo', tarfile.FIFOTYPE)\n"
	"if kind == 'dotdot': add('../evil', data=b'x')\n"
	"if kind == 'abs': add('/abs', data=b'x')\n"
	"if kind == 'longlink': add('x/l', tarfile.SYMTYPE, linkname='t' * "
	"200)\n"
	"if kind == 'paxlink': add('x/pl', tarfile.SYMTYPE, linkname='t' * "
	"200)\n"
	"if kind.endswith('long'): add('x/' + 'n' * 300, data=b'long\\n')\n"
	"t.close()\n";

static void python_tar(const char *kind, char **buf, size_t *len)
{
	_cleanup_(freep) char *script = tpath("maker.py");
	_cleanup_(freep) char *out = xasprintf("%s/py-%s.tar", tmp, kind);

	assert_int_equal(
		write_file_atomic(script, pymaker, strlen(pymaker), 0644), 0);
	assert_int_equal(unit_sh("python3 '%s' %s '%s'", script, kind, out), 0);
	assert_int_equal(read_file(out, MiB, buf, len), 0);
}

static void test_python_refused(void **state)
{
	static const struct {
		const char *kind, *name, *reason;
	} cases[] = {
		{"symlink", "x/y", "symbolic link refused"},
		{"hardlink", "x/h", "hard link refused"},
		{"chardev", "x/null", "character device refused"},
		{"blockdev", "x/sda", "block device refused"},
		{"fifo", "x/fifo", "FIFO refused"},
		{"dotdot", "../evil", "'..' component refused"},
		{"abs", "/abs", "absolute name refused"},
		{"longlink", "x/l", "refused"},
		{"paxlink", "x/pl", "symbolic link refused"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(freep) char *buf = NULL;
		size_t len = 0;

		python_tar(cases[i].kind, &buf, &len);
		assert_refused(buf, len, cases[i].name, cases[i].reason);
	}
}

static void test_python_long_names(void **state)
{
	static const char *const kinds[] = {"gnulong", "paxlong"};
	_cleanup_(freep) char *n = repeat('n', 300);
	_cleanup_(freep) char *name = xasprintf("x/%s", n);

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		_cleanup_(freep) char *buf = NULL;
		struct coll c = {0};
		char why[256];
		size_t len = 0;

		python_tar(kinds[i], &buf, &len);
		assert_int_equal(read_into(buf, len, &c, why, sizeof(why)), 0);
		assert_int_equal(c.n, 3);
		assert_file(&c, "x/ok", "fine\n", 5);
		assert_file(&c, name, "long\n", 5);
		coll_free(&c);
	}
}

/* ---- hand-made hostile archives ---- */

static void test_bad_names(void **state)
{
	static const struct {
		const char *name, *shown, *reason;
	} cases[] = {
		{"../evil", "../evil", "'..' component refused"},
		{"a/../../evil", "a/../../evil", "'..' component"},
		{"./..", "./..", "'..' component"},
		{"a/..", "a/..", "'..' component"},
		{"/abs", "/abs", "absolute name refused"},
		{"//abs", "//abs", "absolute name refused"},
		{"a//b", "a//b", "empty path component"},
		{"a/./b", "a/./b", "'.' component"},
		{"new\nline", "new?line", "control character"},
		{"tab\there", "tab?here", "control character"},
		{"del\x7f", "del?", "control character"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct raw a = {0};

		raw_file(&a, "ok", "fine");
		raw_file(&a, cases[i].name, "bad");
		raw_end(&a);
		assert_refused(a.p, a.n, cases[i].shown, cases[i].reason);
		free(a.p);
	}
	{
		struct raw a = {0};

		raw_file(&a, "", "nameless");
		raw_end(&a);
		assert_refused(a.p, a.n, "offset", "empty name");
		free(a.p);
	}
	{
		/* The archive root must be a directory. */
		struct raw a = {0};

		raw_file(&a, "./", "x");
		raw_end(&a);
		assert_refused(a.p, a.n, "./", "not a directory");
		free(a.p);
	}
}

static void test_bad_types(void **state)
{
	static const struct {
		char type;
		const char *reason;
	} cases[] = {
		{'1', "hard link refused"},
		{'2', "symbolic link refused"},
		{'3', "character device refused"},
		{'4', "block device refused"},
		{'6', "FIFO refused"},
		{'7', "contiguous file refused"},
		{'S', "sparse file refused"},
		{'V', "volume label refused"},
		{'D', "dump directory refused"},
		{'Z', "entry type 'Z' refused"},
		{'\x01', "entry type 0x01 refused"},
		{'\xff', "entry type 0xff refused"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct raw a = {0};

		raw_header(&a, "./x/y", cases[i].type, 0);
		raw_end(&a);
		assert_refused(a.p, a.n, "x/y", cases[i].reason);
		free(a.p);
	}
}

/* However long the name, the reason fits in the caller's buffer. */
static void test_reason_fits(void **state)
{
	_cleanup_(freep) char *n = repeat('n', 150);
	struct raw a = {0};
	char why[100];

	raw_header(&a, "././@LongLink", 'L', 151);
	raw_data(&a, n, 151);
	raw_header(&a, "x", '2', 0);
	raw_end(&a);
	for (size_t len = 1; len <= sizeof(why); len++) {
		memset(why, 'X', sizeof(why));
		assert_int_equal(tar_read(a.p, a.n, NULL, NULL, NULL, why, len),
				 -EBADMSG);
		assert_int_equal(strnlen(why, len), len - 1);
		if (len >= 64)
			assert_true(
				endswith(why, "...: symbolic link refused"));
	}
	free(a.p);
}

static void test_checksum(void **state)
{
	struct raw a = {0};
	size_t h;
	unsigned sum = 0;
	char field[8];
	struct coll c = {0};

	raw_file(&a, "ok", "fine");
	h = raw_header(&a, "mod/caf\xc3\xa9.ko", '0', 3);
	raw_data(&a, "abc", 3);
	raw_end(&a);
	assert_int_equal(read_into(a.p, a.n, &c, NULL, 0), 0);
	coll_free(&c);

	/* The signed sum, as old tars wrote it, is accepted too. */
	memset(a.p + h + 148, ' ', 8);
	for (size_t i = 0; i < BLK; i++)
		sum += (unsigned)(int)(signed char)a.p[h + i];
	snprintf(field, sizeof(field), "%06o", sum);
	memcpy(a.p + h + 148, field, 7);
	assert_int_equal(read_into(a.p, a.n, &c, NULL, 0), 0);
	assert_file(&c, "mod/caf\xc3\xa9.ko", "abc", 3);
	coll_free(&c);

	/* Any other sum is not. */
	a.p[h + 148 + 5] ^= 1;
	assert_refused(a.p, a.n, "mod/caf", "bad header checksum");
	fix_checksum(a.p + h);
	a.p[h + 3] = 'X';
	assert_refused(a.p, a.n, "modX", "bad header checksum");
	memcpy(a.p + h + 148, "        ", 8);
	assert_refused(a.p, a.n, "modX", "bad header checksum");
	free(a.p);
}

static void test_truncated(void **state)
{
	struct tar_writer w = {.mtime = 5};
	_cleanup_(freep) char *d = pattern(2000, 3);
	struct coll c = {0};
	char why[256];

	assert_int_equal(tar_add_dir(&w, "d", 0755), 0);
	assert_int_equal(tar_add_file(&w, "d/f.ko", 0644, d, 2000), 0);
	assert_int_equal(tar_finish(&w), 0);
	assert_int_equal(w.len, 8 * BLK);

	/* Every cut before the first end block is refused... */
	for (size_t n = 0; n < 6 * BLK; n++) {
		int r = read_into(w.buf, n, &c, why, sizeof(why));

		coll_free(&c);
		if (r != -EBADMSG)
			fail_msg("cut at %zu: %d", n, r);
	}
	/* ...inside the data, naming the file. */
	assert_refused(w.buf, 2 * BLK + 100, "d/f.ko", "truncated");
	assert_refused(w.buf, 2 * BLK + 2000, "d/f.ko", "not padded");
	assert_refused(w.buf, 6 * BLK, "archive", "no end-of-archive");
	assert_refused(w.buf, 6 * BLK + 100, "archive", "truncated header");
	assert_refused(w.buf, 7 * BLK + 100, "archive", "lone zero block");

	/* One end block and EOF is an end; bytes after the end are not read. */
	assert_int_equal(read_into(w.buf, 7 * BLK, &c, NULL, 0), 0);
	assert_int_equal(c.n, 2);
	coll_free(&c);
	{
		char *p = malloc(w.len + 700);

		assert_non_null(p);
		memcpy(p, w.buf, w.len);
		memset(p + w.len, 'G', 700);
		assert_int_equal(read_into(p, w.len + 700, &c, NULL, 0), 0);
		assert_int_equal(c.n, 2);
		coll_free(&c);
		free(p);
	}
	assert_int_equal(tar_read(NULL, 0, NULL, collect, &c, why, sizeof(why)),
			 -EBADMSG);
	tar_writer_free(&w);
}

static void test_lone_zero_block(void **state)
{
	struct raw a = {0};

	raw_file(&a, "a", "1");
	raw_grow(&a, BLK);
	raw_file(&a, "hidden", "2");
	raw_end(&a);
	assert_refused(a.p, a.n, "archive", "lone zero block at offset 1024");
	free(a.p);
}

static void test_huge_sizes(void **state)
{
	static const char b256_10g[12] = {(char)0x80, 0, 0,    0, 0, 0,
					  0,	      2, 0x80, 0, 0, 0};
	static const char b256_5[12] = {(char)0x80, 0, 0, 0, 0, 0,
					0,	    0, 0, 0, 0, 5};
	static const char b256_neg[12] = {(char)0xff, (char)0xff, (char)0xff,
					  (char)0xff, (char)0xff, (char)0xff,
					  (char)0xff, (char)0xff, (char)0xff,
					  (char)0xff, (char)0xff, (char)0xfb};
	static const char b256_big[12] = {(char)0xbf, 1, 2, 3, 4,  5,
					  6,	      7, 8, 9, 10, 11};
	const struct tar_limits unlimited = {.max_file_size = SIZE_MAX};
	struct raw a = {0};
	struct coll c = {0};
	size_t h;

	/* A 10 GB claim in a 1 KB archive: over the limit, or truncated. */
	h = raw_header(&a, "./m/huge.ko", '0', 0);
	raw_data(&a, "x", 1);
	assert_int_equal(a.n, 1024);
	raw_patch(&a, h, 124, b256_10g, 12);
	assert_refused(a.p, a.n, "m/huge.ko", "exceeds the limit");
	assert_refused_lim(a.p, a.n, &unlimited, "m/huge.ko", "truncated");
	/* The same as twelve octal digits, without a terminator. */
	raw_patch(&a, h, 124, "120000000000", 12);
	assert_refused(a.p, a.n, "m/huge.ko", "exceeds the limit");
	assert_refused_lim(a.p, a.n, &unlimited, "m/huge.ko", "truncated");
	raw_patch(&a, h, 124, b256_neg, 12);
	assert_refused(a.p, a.n, "m/huge.ko", "bad size field");
	raw_patch(&a, h, 124, b256_big, 12);
	assert_refused(a.p, a.n, "m/huge.ko", "bad size field");
	raw_patch(&a, h, 124, "12x4", 4);
	assert_refused(a.p, a.n, "m/huge.ko", "bad size field");
	raw_patch(&a, h, 124, "            ", 12);
	assert_refused(a.p, a.n, "m/huge.ko", "bad size field");
	free(a.p);

	/* Base 256 and space-padded octal, as GNU tar and old tars write. */
	a = (struct raw){0};
	h = raw_header(&a, "m/five", '0', 0);
	raw_patch(&a, h, 124, b256_5, 12);
	raw_patch(&a, h, 100, "   644 \0", 8);
	raw_data(&a, "12345", 5);
	raw_end(&a);
	assert_int_equal(read_into(a.p, a.n, &c, NULL, 0), 0);
	assert_file(&c, "m/five", "12345", 5);
	assert_int_equal(c.v[0].mode, 0644);
	coll_free(&c);
	free(a.p);

	/* Directories carry no data. */
	a = (struct raw){0};
	raw_header(&a, "d/", '5', 512);
	raw_grow(&a, BLK);
	raw_end(&a);
	assert_refused(a.p, a.n, "d", "directory with 512 bytes");
	free(a.p);
}

static void test_pax(void **state)
{
	_cleanup_(freep) char *n400 = repeat('p', 400);
	_cleanup_(freep) char *longp = xasprintf("./mod/%s.ko", n400);
	struct raw a = {0}, x = {0};
	struct coll c = {0};
	char why[256];

	/* path and size honoured; other keys ignored. */
	pax_add(&x, "mtime", "1700000000.5", 12);
	pax_add(&x, "path", longp, strlen(longp));
	pax_add(&x, "size", "7", 1);
	pax_add(&x, "SCHILY.xattr.user.a", "b=c\nd", 5);
	raw_pax(&a, 'x', &x);
	raw_header(&a, "ignored-short-name", '0', 0);
	raw_data(&a, "payload", 7);
	raw_file(&a, "next", "n");
	raw_end(&a);
	assert_int_equal(read_into(a.p, a.n, &c, why, sizeof(why)), 0);
	assert_int_equal(c.n, 2);
	assert_file(&c, longp + 2, "payload", 7);
	/* An 'x' header is for one entry only. */
	assert_file(&c, "next", "n", 1);
	coll_free(&c);
	free(a.p);
	free(x.p);

	/* Global headers: for every entry after them. */
	a = (struct raw){0};
	x = (struct raw){0};
	pax_add(&x, "comment", "made by hand", 12);
	raw_pax(&a, 'g', &x);
	raw_file(&a, "g1", "1");
	raw_file(&a, "g2", "2");
	raw_end(&a);
	assert_int_equal(read_into(a.p, a.n, &c, why, sizeof(why)), 0);
	assert_int_equal(c.n, 2);
	coll_free(&c);
	free(a.p);
	free(x.p);
}

/* A pax header of these raw bytes before "./m/evil.ko". */
static void pax_case(const char *records, size_t n, const char *name,
		     const char *reason)
{
	struct raw a = {0}, x = {0};

	memcpy(raw_grow(&x, n), records, n);
	raw_pax(&a, 'x', &x);
	raw_file(&a, "./m/evil.ko", "evil");
	raw_end(&a);
	assert_refused(a.p, a.n, name, reason);
	free(a.p);
	free(x.p);
}

#define PAX_CASE(s, name, reason) pax_case(s, sizeof(s) - 1, name, reason)

static void test_pax_hostile(void **state)
{
	_cleanup_(freep) char *big = repeat('9', 30);
	struct raw x = {0};

	/* Sizes that overflow, or are no numbers, named with the entry. */
	pax_add(&x, "size", big, 30);
	pax_case(x.p, x.n, "m/evil.ko", "bad size in pax header");
	PAX_CASE("11 size=-1\n", "m/evil.ko", "bad size in pax header");
	PAX_CASE("12 size=0x1\n", "m/evil.ko", "bad size in pax header");
	PAX_CASE("11 size=1 \n", "m/evil.ko", "bad size in pax header");
	PAX_CASE("20 size=10000000000\n", "m/evil.ko", "exceeds the limit");
	PAX_CASE("19 size=9999999999\n", "m/evil.ko", "exceeds the limit");
	PAX_CASE("22 GNU.sparse.major=1\n", "m/evil.ko", "sparse file refused");
	PAX_CASE("18 path=../../etc\n", "../../etc", "'..' component");
	PAX_CASE("13 path=/etc\n", "/etc", "absolute name");
	PAX_CASE("12 path=a\nb\n", "a?b", "control character");
	PAX_CASE("12 path=a\0b\n", "PaxHeader", "NUL in pax path");

	/* Records that do not add up. */
	PAX_CASE("99 path=x\n", "PaxHeader", "malformed pax record");
	PAX_CASE("9 path=xy\n", "PaxHeader", "malformed pax record");
	PAX_CASE("12 path=x\n", "PaxHeader", "malformed pax record");
	PAX_CASE("0 path=x\n", "PaxHeader", "malformed pax record");
	PAX_CASE("4 =\n", "PaxHeader", "malformed pax record");
	PAX_CASE("5 =x\n", "PaxHeader", "pax record without a key");
	PAX_CASE("8 pathx\n", "PaxHeader", "pax record without a key");
	PAX_CASE(" 9 path=x\n", "PaxHeader", "malformed pax record");
	PAX_CASE("9path=x\n", "PaxHeader", "malformed pax record");
	PAX_CASE("99999999999999999999999 path=x\n", "PaxHeader",
		 "malformed pax record");
	PAX_CASE("10 path=x\n\0\0x", "PaxHeader", "garbage after pax records");
	free(x.p);

	/* NUL padding after the records is what some writers leave. */
	{
		struct raw a = {0};
		struct coll c = {0};

		x = (struct raw){0};
		memcpy(raw_grow(&x, 14), "11 path=xy\n\0\0\0", 14);
		raw_pax(&a, 'x', &x);
		raw_file(&a, "short", "s");
		raw_end(&a);
		assert_int_equal(read_into(a.p, a.n, &c, NULL, 0), 0);
		assert_file(&c, "xy", "s", 1);
		coll_free(&c);
		free(a.p);
		free(x.p);
	}
	/* An extended header with no entry after it. */
	{
		struct raw a = {0};

		x = (struct raw){0};
		pax_add(&x, "path", "orphan", 6);
		raw_pax(&a, 'x', &x);
		raw_end(&a);
		assert_refused(a.p, a.n, "PaxHeader", "without an entry");
		a.n -= 2 * BLK;
		assert_refused(a.p, a.n, "PaxHeader", "no entry after");
		free(a.p);
		free(x.p);
	}
	/* Over the size any pax header needs. */
	{
		struct raw a = {0};
		size_t h = raw_header(&a, "././@PaxHeader", 'x', 0);

		raw_patch(&a, h, 124, "10000000000", 11);
		raw_end(&a);
		assert_refused(a.p, a.n, "PaxHeader", "pax header of");
		free(a.p);
	}
}

static void test_gnu_long(void **state)
{
	const struct tar_limits small = {.max_name = 64};
	_cleanup_(freep) char *l = repeat('l', 150);
	struct raw a = {0};
	struct coll c = {0};

	/* 'L': size counts the NUL. */
	raw_header(&a, "././@LongLink", 'L', 151);
	raw_data(&a, l, 151);
	raw_header(&a, "truncated-name", '0', 2);
	raw_data(&a, "ok", 2);
	raw_end(&a);
	assert_int_equal(read_into(a.p, a.n, &c, NULL, 0), 0);
	assert_file(&c, l, "ok", 2);
	coll_free(&c);
	assert_refused_lim(a.p, a.n, &small, "llll", "name longer than 64");
	free(a.p);

	/* A NUL inside the long name would cut it: refused. */
	a = (struct raw){0};
	raw_header(&a, "././@LongLink", 'L', 8);
	raw_data(&a, "abc\0def", 8);
	raw_file(&a, "x", "x");
	raw_end(&a);
	assert_refused(a.p, a.n, "abc?def", "NUL in GNU long name");
	free(a.p);

	/* 'K' is for links, which are refused with their name. */
	a = (struct raw){0};
	raw_header(&a, "././@LongLink", 'K', 4);
	raw_data(&a, "tgt", 4);
	raw_header(&a, "x/link", '2', 0);
	raw_end(&a);
	assert_refused(a.p, a.n, "x/link", "symbolic link refused");
	free(a.p);
	a = (struct raw){0};
	raw_header(&a, "././@LongLink", 'K', 4);
	raw_data(&a, "tgt", 4);
	raw_file(&a, "x/file", "f");
	raw_end(&a);
	assert_refused(a.p, a.n, "x/file", "long link name refused");
	free(a.p);

	/* A long name over a ustar prefix: the long name wins. */
	a = (struct raw){0};
	raw_header(&a, "././@LongLink", 'L', 5);
	raw_data(&a, "a/b/c", 5);
	raw_patch(&a, raw_header(&a, "name", '0', 0), 345, "prefix", 6);
	raw_end(&a);
	assert_int_equal(read_into(a.p, a.n, &c, NULL, 0), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].name, "a/b/c");
	coll_free(&c);
	free(a.p);
}

static int count_cb(const struct tar_entry *e, void *userdata)
{
	size_t *n = userdata;

	(*n)++;
	return 0;
}

static void test_limits(void **state)
{
	struct tar_writer w = {.mtime = 1};
	struct tar_limits lim = {.max_entries = 5000};
	char why[256];
	size_t n = 0;

	for (size_t i = 0; i < 100000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "d/f%06zu", i);
		assert_int_equal(tar_add_file(&w, name, 0644, "", 0), 0);
	}
	assert_int_equal(tar_finish(&w), 0);
	assert_int_equal(
		tar_read(w.buf, w.len, NULL, count_cb, &n, why, sizeof(why)),
		0);
	assert_int_equal(n, 100000);
	assert_refused_lim(w.buf, w.len, &lim, "d/f005000",
			   "more than 5000 entries");
	/* The default limit is 100000: one more is refused. */
	w.len -= 2 * BLK; /* reopen the archive */
	assert_int_equal(tar_add_file(&w, "d/one-more", 0644, "", 0), 0);
	assert_int_equal(tar_finish(&w), 0);
	assert_refused(w.buf, w.len, "d/one-more", "more than 100000 entries");
	tar_writer_free(&w);

	/* File size and name length limits. */
	lim = (struct tar_limits){.max_file_size = 100, .max_name = 10};
	w = (struct tar_writer){.mtime = 1};
	assert_int_equal(tar_add_file(&w, "f", 0644, "", 0), 0);
	assert_int_equal(tar_add_file(&w, "big", 0644, "0123456789", 10), 0);
	assert_int_equal(tar_finish(&w), 0);
	lim.max_file_size = 9;
	assert_refused_lim(w.buf, w.len, &lim, "big", "exceeds the limit 9");
	tar_writer_free(&w);
	assert_int_equal(tar_add_file(&w, "0123456789a", 0644, "", 0), 0);
	assert_int_equal(tar_finish(&w), 0);
	assert_refused_lim(w.buf, w.len, &lim, "0123456789a",
			   "name longer than 10");
	tar_writer_free(&w);
}

static int stop_at_b(const struct tar_entry *e, void *userdata)
{
	(*(int *)userdata)++;
	if (streq(e->name, "b"))
		return 7;
	if (streq(e->name, "c"))
		return -EIO;
	return 0;
}

static void test_callback(void **state)
{
	struct tar_writer w = {.mtime = 1};
	char why[256];
	int calls = 0;

	assert_int_equal(tar_add_file(&w, "a", 0644, "a", 1), 0);
	assert_int_equal(tar_add_file(&w, "b", 0644, "b", 1), 0);
	assert_int_equal(tar_add_file(&w, "c", 0644, "c", 1), 0);
	assert_int_equal(tar_finish(&w), 0);
	assert_int_equal(tar_read(w.buf, w.len, NULL, stop_at_b, &calls, why,
				  sizeof(why)),
			 7);
	assert_int_equal(calls, 2);

	/* An error from the callback comes back, with the entry named. */
	memcpy(w.buf + BLK * 2, w.buf + BLK * 4, BLK * 2); /* b -> c */
	calls = 0;
	assert_int_equal(tar_read(w.buf, w.len, NULL, stop_at_b, &calls, why,
				  sizeof(why)),
			 -EIO);
	assert_non_null(strstr(why, "c: "));

	/* No callback, no why: a validation pass. */
	assert_int_equal(tar_read(w.buf, w.len, NULL, NULL, NULL, NULL, 0), 0);
	w.buf[0] = 'Z';
	assert_int_equal(tar_read(w.buf, w.len, NULL, NULL, NULL, NULL, 0),
			 -EBADMSG);
	tar_writer_free(&w);
}

static int setup(void **state)
{
	tmp = unit_tmpdir();
	return tmp ? 0 : -1;
}

static int teardown(void **state)
{
	if (tmp)
		unit_sh("rm -rf '%s'", tmp);
	free(tmp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_real_tar_reads_ours),
		cmocka_unit_test(test_reads_gnu_tar),
		cmocka_unit_test(test_dkms_mktarball),
		cmocka_unit_test(test_python_refused),
		cmocka_unit_test(test_python_long_names),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_bad_types),
		cmocka_unit_test(test_reason_fits),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_lone_zero_block),
		cmocka_unit_test(test_huge_sizes),
		cmocka_unit_test(test_pax),
		cmocka_unit_test(test_pax_hostile),
		cmocka_unit_test(test_gnu_long),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
