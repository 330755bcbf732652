// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tar archives for dkms tarballs.  The reader walks an archive that is
 * already in memory and hands out pointers into it, so nothing it reads
 * is copied but the entry name; every field is bounds-checked first and
 * anything it cannot vouch for (links, devices, odd names, damaged
 * headers) stops the walk with a reason, since the caller installs what
 * it gets.  The writer makes plain ustar, which every tar reads.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>

#include "cache/tar.h"
#include "lib/buffer.h"
#include "lib/why.h"

#define BLOCK	     512u
#define PAX_MAX	     (1u << 20) /* extended header records, per header */
#define DEF_ENTRIES  100000u
#define DEF_FILESIZE (256u << 20)
#define DEF_NAME     4096u

/* The POSIX header; the GNU format reuses all but prefix for itself. */
struct ustar {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char chksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];
	char version[2];
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};
_Static_assert(sizeof(struct ustar) == BLOCK, "a header is one block");

#define CHKSUM_OFF offsetof(struct ustar, chksum)

/* Bytes inside the archive buffer: no copies, no terminator. */
struct span {
	const char *p;
	size_t n;
};

/* What pax headers say about the entries that follow. */
struct pax {
	struct span path, size; /* .p == NULL: not given */
	bool sparse;
};

struct reader {
	const unsigned char *buf;
	size_t len, off;
	size_t max_entries, max_file_size, max_name;
	size_t entries;

	/* Set by the meta headers ('L', 'K', 'x', 'g') before an entry. */
	struct pax global, local;
	struct span longname;
	bool longlink;
	bool pending;
	struct span pending_hdr; /* the last meta header's name */

	struct buffer name; /* the entry name being built */
	char *why;
	size_t why_len;
};

/* ---- reasons ---- */

/* "name: reason" (lib/why shortens the name so the reason fits); an
 * entry without a name is named by its offset.  Returns err. */
static int vrefuse(struct reader *rd, int err, struct span name,
		   const char *fmt, va_list ap) _printf_(4, 0);
static int vrefuse(struct reader *rd, int err, struct span name,
		   const char *fmt, va_list ap)
{
	char at[48];

	if (name.n == 0) {
		snprintf(at, sizeof(at), "entry at offset %zu", rd->off);
		name = (struct span){at, strlen(at)};
	}
	return why_vabout(rd->why, rd->why_len, err, name.p, name.n, fmt, ap);
}

static int refuse_err(struct reader *rd, int err, struct span name,
		      const char *fmt, ...) _printf_(4, 5);
static int refuse_err(struct reader *rd, int err, struct span name,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrefuse(rd, err, name, fmt, ap);
	va_end(ap);
	return err;
}

static int refuse(struct reader *rd, struct span name, const char *fmt, ...)
	_printf_(3, 4);
static int refuse(struct reader *rd, struct span name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrefuse(rd, -EBADMSG, name, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static struct span field(const char *f, size_t n)
{
	return (struct span){f, strnlen(f, n)};
}

static struct span cstr(const char *s)
{
	return (struct span){s, strlen(s)};
}

/* ---- numbers ---- */

/*
 * Octal as tars write it: optional leading spaces, the digits, then a
 * space or NUL (what follows a NUL is not looked at, as GNU tar does).
 * A field of only spaces is not a number.
 */
static int parse_octal(const char *f, size_t n, unsigned long long *v)
{
	unsigned long long x = 0;
	size_t i = 0;

	while (i < n && f[i] == ' ')
		i++;
	if (i == n)
		return -EINVAL;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (x > ULLONG_MAX >> 3)
			return -ERANGE;
		x = x << 3 | (unsigned)(f[i] - '0');
	}
	while (i < n && f[i] == ' ')
		i++;
	if (i < n && f[i] != '\0')
		return -EINVAL;
	*v = x;
	return 0;
}

/*
 * GNU tar stores values that do not fit in octal as big-endian base 256,
 * flagged by the top bit of the first byte; the next bit is the sign and
 * no field here may be negative.
 */
static int parse_num(const char *f, size_t n, unsigned long long *v)
{
	const unsigned char *u = (const unsigned char *)f;
	unsigned long long x;

	if (!(u[0] & 0x80))
		return parse_octal(f, n, v);
	if (u[0] & 0x40)
		return -ERANGE;
	x = u[0] & 0x3f;
	for (size_t i = 1; i < n; i++) {
		if (x > ULLONG_MAX >> 8)
			return -ERANGE;
		x = x << 8 | u[i];
	}
	*v = x;
	return 0;
}

static int parse_decimal(struct span s, unsigned long long *v)
{
	unsigned long long x = 0;

	if (s.n == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d = (unsigned)(unsigned char)s.p[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (x > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* ---- headers ---- */

static bool is_zero_block(const unsigned char *b)
{
	for (size_t i = 0; i < BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * The sum of the header's bytes with the checksum field read as spaces.
 * Old tars summed signed chars; GNU tar accepts either and so do we.
 */
static bool checksum_ok(const unsigned char *b)
{
	const struct ustar *h = (const struct ustar *)b;
	unsigned long long want = 0;
	unsigned long usum = 0;
	long ssum = 0;

	if (parse_octal(h->chksum, sizeof(h->chksum), &want) < 0)
		return false;
	for (size_t i = 0; i < BLOCK; i++) {
		unsigned char c =
			i - CHKSUM_OFF < sizeof(h->chksum) ? ' ' : b[i];

		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || (ssum >= 0 && want == (unsigned long)ssum);
}

static bool is_posix(const struct ustar *h)
{
	return memcmp(h->magic, "ustar", 6) == 0;
}

/* The header's own idea of the name; GNU and v7 headers have no prefix. */
static struct span header_name(const struct ustar *h)
{
	return field(h->name, sizeof(h->name));
}

/*
 * Take size bytes of data after the header, and their padding to a
 * whole block: a member cut short anywhere means a truncated archive.
 */
static int take_data(struct reader *rd, struct span name,
		     unsigned long long size, const void **data)
{
	size_t left = rd->len - rd->off;
	size_t pad;

	if (size > left)
		return refuse(rd, name,
			      "truncated: %llu bytes of data, %zu left in the "
			      "archive",
			      size, left);
	pad = (BLOCK - size % BLOCK) % BLOCK;
	if (pad > left - size)
		return refuse(rd, name,
			      "truncated: data not padded to a block");
	*data = rd->buf + rd->off;
	rd->off += size + pad;
	return 0;
}

/* ---- names ---- */

/* The name as written: pax path, else GNU long name, else the header. */
static int raw_name(struct reader *rd, const struct ustar *h, struct span *out)
{
	struct span name = header_name(h), prefix = {NULL, 0};
	size_t n;
	int r;

	if (rd->local.path.p)
		name = rd->local.path;
	else if (rd->longname.p)
		name = rd->longname;
	else if (rd->global.path.p)
		name = rd->global.path;
	else if (is_posix(h))
		prefix = field(h->prefix, sizeof(h->prefix));

	n = prefix.n + (prefix.n > 0) + name.n;
	if (name.n > rd->max_name || n > rd->max_name)
		return refuse(rd, name, "name longer than %zu bytes",
			      rd->max_name);
	buffer_truncate(&rd->name, 0);
	r = buffer_append(&rd->name, prefix.p, prefix.n);
	if (r == 0 && prefix.n > 0)
		r = buffer_append(&rd->name, "/", 1);
	if (r == 0)
		r = buffer_append(&rd->name, name.p, name.n);
	if (r < 0)
		return r;
	*out = (struct span){rd->name.data, rd->name.len};
	return 0;
}

/* Every component a plain name: no "", "." or "..". */
static int check_components(struct reader *rd, struct span raw, const char *s,
			    size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *slash = memchr(s + i, '/', n - i);
		size_t c = slash ? (size_t)(slash - (s + i)) : n - i;

		if (c == 0)
			return refuse(rd, raw, "empty path component refused");
		if (c == 1 && s[i] == '.')
			return refuse(rd, raw, "'.' component refused");
		if (c == 2 && s[i] == '.' && s[i + 1] == '.')
			return refuse(rd, raw, "'..' component refused");
		i += c + 1;
	}
	return 0;
}

/*
 * Normalise in place: dkms's archives name everything "./x" and start
 * with "./" itself.  *root is set for that entry, which names nothing
 * to extract.  *slash tells that the name ended in '/'.
 */
static int normalise(struct reader *rd, struct span raw, const char **out,
		     bool *root, bool *slash)
{
	char *s = rd->name.data;
	size_t n = raw.n;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return refuse(rd, raw, "control character in name");
	}
	if (n == 0)
		return refuse(rd, raw, "empty name refused");
	if (s[0] == '/')
		return refuse(rd, raw, "absolute name refused");

	while (n >= 2 && s[0] == '.' && s[1] == '/') {
		s += 2;
		n -= 2;
	}
	*slash = n > 0 && s[n - 1] == '/';
	while (n > 0 && s[n - 1] == '/')
		n--;
	*root = n == 0 || (n == 1 && s[0] == '.');
	if (*root) {
		*out = NULL;
		return 0;
	}
	s[n] = '\0';
	*out = s;
	return check_components(rd, raw, s, n);
}

/* ---- meta headers ---- */

/* Apply one "key=value" pax record to p. */
static int pax_record(struct reader *rd, struct span hname, struct pax *p,
		      struct span key, struct span val)
{
	static const char sparse[] = "GNU.sparse.";

	if (key.n == 4 && memcmp(key.p, "path", 4) == 0) {
		if (memchr(val.p, '\0', val.n))
			return refuse(rd, hname, "NUL in pax path");
		/* An empty value cancels: the header's name applies. */
		p->path = val.n ? val : (struct span){NULL, 0};
	} else if (key.n == 4 && memcmp(key.p, "size", 4) == 0) {
		p->size = val.n ? val : (struct span){NULL, 0};
	} else if (key.n >= sizeof(sparse) - 1 &&
		   memcmp(key.p, sparse, sizeof(sparse) - 1) == 0) {
		/* The data of a GNU pax sparse file is a map, not the file. */
		p->sparse = true;
	}
	return 0;
}

/*
 * Records are "<len> <key>=<value>\n" with len counting the whole
 * record; anything else is refused.  NUL padding after the last record
 * is tolerated, as GNU tar does.
 */
static int pax_parse(struct reader *rd, struct span hname, struct pax *p,
		     const char *d, size_t n)
{
	while (n > 0) {
		size_t i = 0, len = 0;
		const char *eq;
		int r;

		if (d[0] == '\0') {
			for (i = 0; i < n; i++)
				if (d[i])
					return refuse(
						rd, hname,
						"garbage after pax records");
			return 0;
		}
		for (; i < n && d[i] >= '0' && d[i] <= '9'; i++) {
			if (len > n / 10)
				break; /* too long: refused below */
			len = len * 10 + (unsigned)(d[i] - '0');
		}
		/* The shortest record is "<len> k=\n". */
		if (i == 0 || i >= n || d[i] != ' ' || len < i + 4 || len > n ||
		    d[len - 1] != '\n')
			return refuse(rd, hname,
				      "malformed pax record at byte %zu",
				      (size_t)(d - (const char *)rd->buf));
		eq = memchr(d + i + 1, '=', len - i - 2);
		if (!eq || eq == d + i + 1)
			return refuse(rd, hname, "pax record without a key");
		r = pax_record(
			rd, hname, p,
			(struct span){d + i + 1, (size_t)(eq - d) - i - 1},
			(struct span){eq + 1, len - (size_t)(eq + 1 - d) - 1});
		if (r < 0)
			return r;
		d += len;
		n -= len;
	}
	return 0;
}

static int meta_size(struct reader *rd, const struct ustar *h,
		     unsigned long long *size)
{
	if (parse_num(h->size, sizeof(h->size), size) < 0)
		return refuse(rd, header_name(h), "bad size field");
	return 0;
}

static int read_pax(struct reader *rd, const struct ustar *h, bool global)
{
	struct span hname = header_name(h);
	unsigned long long size = 0;
	const void *data = NULL;
	int r;

	r = meta_size(rd, h, &size);
	if (r < 0)
		return r;
	if (size > PAX_MAX)
		return refuse(rd, hname, "pax header of %llu bytes (limit %u)",
			      size, PAX_MAX);
	r = take_data(rd, hname, size, &data);
	if (r < 0)
		return r;
	if (!global)
		return pax_parse(rd, hname, &rd->local, data, size);
	return pax_parse(rd, hname, &rd->global, data, size);
}

/* GNU 'L': the next entry's name, NUL-terminated, in the data. */
static int read_longname(struct reader *rd, const struct ustar *h)
{
	unsigned long long size = 0;
	const void *data = NULL;
	struct span s;
	int r;

	r = meta_size(rd, h, &size);
	if (r < 0)
		return r;
	r = take_data(rd, header_name(h), size, &data);
	if (r < 0)
		return r;
	s = (struct span){data, size};
	while (s.n > 0 && s.p[s.n - 1] == '\0')
		s.n--;
	if (s.n > rd->max_name)
		return refuse(rd, s, "name longer than %zu bytes",
			      rd->max_name);
	if (memchr(s.p, '\0', s.n))
		return refuse(rd, s, "NUL in GNU long name");
	rd->longname = s;
	return 0;
}

/* GNU 'K': a link target, refused with the entry it belongs to, to name it. */
static int read_longlink(struct reader *rd, const struct ustar *h)
{
	unsigned long long size = 0;
	const void *data = NULL;
	int r;

	r = meta_size(rd, h, &size);
	if (r < 0)
		return r;
	if (size > rd->max_name + 1)
		return refuse(rd, header_name(h),
			      "long link name of %llu bytes", size);
	rd->longlink = true;
	return take_data(rd, header_name(h), size, &data);
}

/* ---- entries ---- */

static const char *refused_type(char t)
{
	switch (t) {
	case '1':
		return "hard link";
	case '2':
		return "symbolic link";
	case '3':
		return "character device";
	case '4':
		return "block device";
	case '6':
		return "FIFO";
	case '7':
		return "contiguous file";
	case 'S':
		return "sparse file";
	case 'D':
		return "GNU dump directory";
	case 'M':
		return "multi-volume continuation";
	case 'V':
		return "volume label";
	default:
		return NULL;
	}
}

static int entry_type(struct reader *rd, const struct ustar *h, struct span raw,
		      bool slash, enum tar_type *type)
{
	unsigned char t = (unsigned char)h->typeflag;
	const char *what;

	if (t == '0' || t == '\0') {
		/* Old tars marked directories only by the slash. */
		*type = slash ? TAR_DIR : TAR_FILE;
		return 0;
	}
	if (t == '5') {
		*type = TAR_DIR;
		return 0;
	}
	what = refused_type((char)t);
	if (what)
		return refuse(rd, raw, "%s refused", what);
	if (t >= 0x20 && t < 0x7f)
		return refuse(rd, raw, "entry type '%c' refused", t);
	return refuse(rd, raw, "entry type 0x%02x refused", t);
}

/* pax size overrides the header's, for files past 8 GiB. */
static int entry_size(struct reader *rd, const struct ustar *h, struct span raw,
		      unsigned long long *size)
{
	struct span s = rd->local.size.p ? rd->local.size : rd->global.size;

	if (s.p) {
		if (parse_decimal(s, size) < 0)
			return refuse(rd, raw, "bad size in pax header");
		return 0;
	}
	if (parse_num(h->size, sizeof(h->size), size) < 0)
		return refuse(rd, raw, "bad size field");
	return 0;
}

static int entry_attrs(struct reader *rd, const struct ustar *h,
		       struct span raw, struct tar_entry *e)
{
	unsigned long long v = 0;

	if (parse_num(h->mode, sizeof(h->mode), &v) < 0)
		return refuse(rd, raw, "bad mode field");
	e->mode = (unsigned)(v & 07777);
	if (parse_num(h->mtime, sizeof(h->mtime), &v) < 0 || v > LLONG_MAX)
		return refuse(rd, raw, "bad mtime field");
	e->mtime = (long long)v;
	return 0;
}

static int callback(struct reader *rd, struct span raw, tar_cb cb,
		    void *userdata, const struct tar_entry *e)
{
	int r;

	if (rd->entries >= rd->max_entries)
		return refuse(rd, raw, "more than %zu entries",
			      rd->max_entries);
	rd->entries++;
	if (!cb)
		return 0;
	r = cb(e, userdata);
	return r < 0 ? refuse_err(rd, r, raw, "%m") : r;
}

static int read_entry(struct reader *rd, const struct ustar *h, tar_cb cb,
		      void *userdata)
{
	struct tar_entry e = {0};
	struct span raw = {NULL, 0}, nm;
	unsigned long long size = 0;
	bool root = false, slash = false;
	int r;

	r = raw_name(rd, h, &raw);
	if (r < 0)
		return r;
	r = normalise(rd, raw, &e.name, &root, &slash);
	if (r < 0)
		return r;
	/* From here on, reasons name the entry as callers will know it. */
	nm = root ? raw : cstr(e.name);
	r = entry_type(rd, h, nm, slash, &e.type);
	if (r < 0)
		return r;
	if (rd->local.sparse || rd->global.sparse)
		return refuse(rd, nm, "sparse file refused");
	if (rd->longlink)
		return refuse(rd, nm, "GNU long link name refused");
	if (root && e.type != TAR_DIR)
		return refuse(rd, nm, "archive root is not a directory");
	r = entry_size(rd, h, nm, &size);
	if (r < 0)
		return r;
	if (e.type == TAR_DIR && size != 0)
		return refuse(rd, nm, "directory with %llu bytes of data",
			      size);
	if (size > rd->max_file_size)
		return refuse(rd, nm, "size %llu exceeds the limit %zu", size,
			      rd->max_file_size);
	r = entry_attrs(rd, h, nm, &e);
	if (r < 0)
		return r;
	r = take_data(rd, nm, size, &e.data);
	if (r < 0)
		return r;
	e.size = (size_t)size;
	if (e.type == TAR_DIR)
		e.data = NULL;

	rd->local = (struct pax){{NULL, 0}, {NULL, 0}, false};
	rd->longname = (struct span){NULL, 0};
	rd->pending = false;
	if (root)
		return 0;
	return callback(rd, nm, cb, userdata, &e);
}

/*
 * Two zero blocks end the archive; a lone one at the very end is
 * accepted (some writers stop there), one followed by more headers is
 * not, as it would hide what follows from other readers.
 */
static int end_of_archive(struct reader *rd)
{
	size_t at = rd->off;
	size_t left;

	if (rd->pending)
		return refuse(rd, rd->pending_hdr,
			      "extended header without an entry");
	rd->off += BLOCK;
	left = rd->len - rd->off;
	if (left == 0 || (left >= BLOCK && is_zero_block(rd->buf + rd->off)))
		return 0;
	rd->off = at;
	return refuse(rd, cstr("archive"),
		      "lone zero block at offset %zu followed by data", at);
}

/* Less than a header left, where one was due. */
static int truncated(struct reader *rd)
{
	if (rd->pending)
		return refuse(rd, rd->pending_hdr,
			      "truncated: no entry after the extended header");
	if (rd->off < rd->len)
		return refuse(rd, cstr("archive"),
			      "truncated header at offset %zu", rd->off);
	return refuse(rd, cstr("archive"),
		      "truncated: no end-of-archive blocks at offset %zu",
		      rd->off);
}

/* Headers that describe the next entry rather than being one. */
static int read_meta(struct reader *rd, const struct ustar *h)
{
	rd->pending = true;
	rd->pending_hdr = header_name(h);
	switch (h->typeflag) {
	case 'L':
		return read_longname(rd, h);
	case 'K':
		return read_longlink(rd, h);
	default:
		return read_pax(rd, h, h->typeflag == 'g');
	}
}

/* One header and its data.  *end is set at the end of the archive. */
static int read_member(struct reader *rd, tar_cb cb, void *userdata, bool *end)
{
	const unsigned char *b;
	const struct ustar *h;

	if (rd->len - rd->off < BLOCK)
		return truncated(rd);
	b = rd->buf + rd->off;
	h = (const struct ustar *)b;
	if (is_zero_block(b)) {
		*end = true;
		return end_of_archive(rd);
	}
	if (!checksum_ok(b))
		return refuse(rd, header_name(h),
			      "bad header checksum at offset %zu", rd->off);
	rd->off += BLOCK;
	if (strchr("LKxg", h->typeflag) && h->typeflag)
		return read_meta(rd, h);
	return read_entry(rd, h, cb, userdata);
}

int tar_read(const void *buf, size_t len, const struct tar_limits *lim,
	     tar_cb cb, void *userdata, char *why, size_t why_len)
{
	struct reader rd = {
		.buf = buf,
		.len = len,
		.max_entries = lim && lim->max_entries ? lim->max_entries
						       : DEF_ENTRIES,
		.max_file_size = lim && lim->max_file_size ? lim->max_file_size
							   : DEF_FILESIZE,
		.max_name = lim && lim->max_name ? lim->max_name : DEF_NAME,
		.why = why,
		.why_len = why_len,
	};
	bool end = false;
	int r = 0;

	if (why && why_len)
		why[0] = '\0';
	if (!buf && len)
		return -EINVAL;
	while (!end && r == 0)
		r = read_member(&rd, cb, userdata, &end);
	buffer_free(&rd.name);
	return r;
}

/* ---- writer ---- */

/* n-1 octal digits and a NUL, as GNU tar writes them. */
static void put_octal(char *f, size_t n, unsigned long long v)
{
	f[n - 1] = '\0';
	for (size_t i = n - 1; i > 0; i--) {
		f[i - 1] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

/* What the reader accepts, so that the writer never makes what it refuses. */
static bool valid_name(const char *name)
{
	size_t n = strlen(name), i = 0;

	if (n == 0 || name[0] == '/')
		return false;
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)name[k] < 0x20 || name[k] == 0x7f)
			return false;
	while (i < n) {
		const char *slash = strchr(name + i, '/');
		size_t c = slash ? (size_t)(slash - (name + i)) : n - i;

		if (c == 0 || (c == 1 && name[i] == '.') ||
		    (c == 2 && name[i] == '.' && name[i + 1] == '.'))
			return false;
		i += c + 1;
	}
	return name[n - 1] != '/';
}

/*
 * ustar keeps up to 100 bytes in name and 155 more in prefix, split at
 * a '/': the first slash that leaves a name part that fits.
 */
static int split_name(struct ustar *h, const char *full, size_t n)
{
	if (n <= sizeof(h->name)) {
		memcpy(h->name, full, n);
		return 0;
	}
	for (size_t i = n - sizeof(h->name) - 1; i < n; i++) {
		if (full[i] != '/')
			continue;
		if (i > sizeof(h->prefix) || i == 0 || i == n - 1)
			return -ENAMETOOLONG;
		memcpy(h->prefix, full, i);
		memcpy(h->name, full + i + 1, n - i - 1);
		return 0;
	}
	return -ENAMETOOLONG;
}

static int put_header(struct tar_writer *w, const char *name, char type,
		      unsigned mode, unsigned long long size)
{
	char full[sizeof(((struct ustar *)0)->prefix) + 1 +
		  sizeof(((struct ustar *)0)->name) + 1];
	struct ustar h = {0};
	unsigned long sum = 0;
	size_t n;
	int r;

	if (!valid_name(name))
		return -EINVAL;
	if (w->mtime < 0 || (unsigned long long)w->mtime >= 1ull << 33)
		return -ERANGE;
	if (size >= 1ull << 33)
		return -EFBIG;
	n = strlen(name);
	if (n + (type == '5') >= sizeof(full))
		return -ENAMETOOLONG;
	memcpy(full, name, n);
	if (type == '5')
		full[n++] = '/'; /* as GNU tar writes directories */
	r = split_name(&h, full, n);
	if (r < 0)
		return r;

	put_octal(h.mode, sizeof(h.mode), mode & 07777);
	put_octal(h.uid, sizeof(h.uid), 0);
	put_octal(h.gid, sizeof(h.gid), 0);
	put_octal(h.size, sizeof(h.size), size);
	put_octal(h.mtime, sizeof(h.mtime), (unsigned long long)w->mtime);
	h.typeflag = type;
	memcpy(h.magic, "ustar", 6);
	memcpy(h.version, "00", 2);
	memcpy(h.uname, "root", 4);
	memcpy(h.gname, "root", 4);
	put_octal(h.devmajor, sizeof(h.devmajor), 0);
	put_octal(h.devminor, sizeof(h.devminor), 0);
	memset(h.chksum, ' ', sizeof(h.chksum));
	for (size_t i = 0; i < BLOCK; i++)
		sum += ((const unsigned char *)&h)[i];
	put_octal(h.chksum, sizeof(h.chksum) - 1, sum);

	/* Room for the data and its padding too: tar_add_file cannot fail
	 * half-way and leave a header without its data. */
	r = buffer_reserve(&w->out, BLOCK + size + BLOCK);
	if (r < 0)
		return r;
	return buffer_append(&w->out, &h, BLOCK);
}

int tar_add_dir(struct tar_writer *w, const char *name, unsigned mode)
{
	return put_header(w, name, '5', mode, 0);
}

int tar_add_file(struct tar_writer *w, const char *name, unsigned mode,
		 const void *data, size_t size)
{
	size_t pad = (BLOCK - size % BLOCK) % BLOCK;
	int r;

	if (size && !data)
		return -EINVAL;
	r = put_header(w, name, '0', mode, size);
	if (r < 0)
		return r;
	/* put_header reserved the room: these cannot fail. */
	r = buffer_append(&w->out, data, size);
	return r < 0 ? r : buffer_append_zeros(&w->out, pad);
}

int tar_finish(struct tar_writer *w)
{
	return buffer_append_zeros(&w->out, 2 * BLOCK);
}

void tar_writer_free(struct tar_writer *w)
{
	buffer_free(&w->out);
}
