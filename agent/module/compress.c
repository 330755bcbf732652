// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Module compression and decompression in-process, so the boot path
 * needs neither the zstd, xz nor gzip programs in the initramfs.
 *
 * dkms 3.0.10 runs `zstd -q -f -T0 -20 --ultra`, `xz -f` and `gzip -9f`.
 * We differ where the kernel or the boot path is better served:
 *  - zstd level 19, the highest without --ultra: on module-sized inputs
 *    -20 gives no smaller files (a 4.6 MB ELF: the same size) for 40%
 *    more time and memory, and the boot waits for it.  The content
 *    checksum is on, as the zstd program writes it.
 *  - xz as Kbuild's `xz --check=crc32 --lzma2=dict=1MiB`: the kernel's
 *    own xz decoder (CONFIG_MODULE_DECOMPRESS) verifies only CRC32, and
 *    a 1 MiB dictionary bounds what it must allocate; dkms's plain
 *    `xz -f` writes CRC64 streams the kernel cannot load.
 *  - gzip level 9 without the file name and time stamp (Kbuild's
 *    `gzip -n`), so that the same module gives the same bytes.
 *
 * Decompression is for reading modules (modinfo, comparing builds) and
 * treats its input as hostile: output capped, memory capped, trailing
 * bytes and truncation refused.
 */
#include <fcntl.h>
#include <limits.h>
#include <lzma.h>
#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "lib/buffer.h"
#include "module/compress.h"

/* Larger than any module; bounds what compress_file() reads. */
#define COMPRESS_MAX_INPUT ((size_t)1 << 30)
#define ZSTD_LEVEL	   19
#define XZ_PRESET	   6
#define XZ_DICT_SIZE	   (1u << 20)
/*
 * What decoding may allocate: xz -9 needs a 64 MiB dictionary and zstd
 * refuses windows past 2^27 by default; legitimate modules need far less.
 * A stream asking for more is treated like one whose output is too big.
 */
#define XZ_MEMLIMIT	   ((uint64_t)128 << 20)
#define ZSTD_WINDOWLOG_MAX 27
/* First output allocation when the stream does not say its size. */
#define OBUF_MIN (64u << 10)

static const struct {
	enum compress_kind kind;
	const char *suffix;
	size_t magic_len;
	unsigned char magic[6];
} formats[] = {
	{COMPRESS_NONE, "", 0, {0}},
	{COMPRESS_GZ, ".gz", 2, {0x1f, 0x8b}},
	{COMPRESS_XZ, ".xz", 6, {0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{COMPRESS_ZST, ".zst", 4, {0x28, 0xb5, 0x2f, 0xfd}},
};

int compress_kind_from_suffix(const char *suffix, enum compress_kind *k)
{
	for (size_t i = 0; suffix && i < ARRAY_SIZE(formats); i++) {
		if (streq(suffix, formats[i].suffix)) {
			*k = formats[i].kind;
			return 0;
		}
	}
	return -EINVAL;
}

const char *compress_suffix(enum compress_kind k)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i].kind == k)
			return formats[i].suffix;
	return "";
}

enum compress_kind compress_detect(const void *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		size_t n = formats[i].magic_len;

		if (n > 0 && len >= n && memcmp(buf, formats[i].magic, n) == 0)
			return formats[i].kind;
	}
	return COMPRESS_NONE;
}

static void zstd_cctx_freep(ZSTD_CCtx **c)
{
	ZSTD_freeCCtx(*c);
}

static void zstd_dctx_freep(ZSTD_DCtx **d)
{
	ZSTD_freeDCtx(*d);
}

static void lzma_endp(lzma_stream *s)
{
	lzma_end(s);
}

static void deflate_endp(z_stream *z)
{
	deflateEnd(z);
}

static void inflate_endp(z_stream *z)
{
	inflateEnd(z);
}

/* ---- compression: one shot, the output buffer sized by the bound ---- */

static int zst_compress(const void *in, size_t n, void **out, size_t *outlen)
{
	_cleanup_(zstd_cctx_freep) ZSTD_CCtx *cc = ZSTD_createCCtx();
	_cleanup_(freep) void *buf = NULL;
	size_t bound = ZSTD_compressBound(n), ret;

	if (ZSTD_isError(bound))
		return -EFBIG;
	if (!cc)
		return -ENOMEM;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel,
						ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)))
		return -EINVAL;
	buf = malloc(bound);
	if (!buf)
		return -ENOMEM;
	ret = ZSTD_compress2(cc, buf, bound, in, n);
	if (ZSTD_isError(ret))
		return ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation
			       ? -ENOMEM
			       : -EIO;
	*out = TAKE_PTR(buf);
	*outlen = ret;
	return 0;
}

static int xz_compress(const void *in, size_t n, void **out, size_t *outlen)
{
	_cleanup_(freep) void *buf = NULL;
	lzma_options_lzma opt;
	lzma_filter filters[] = {
		{.id = LZMA_FILTER_LZMA2, .options = &opt},
		{.id = LZMA_VLI_UNKNOWN, .options = NULL},
	};
	size_t bound = lzma_stream_buffer_bound(n), pos = 0;
	lzma_ret ret;

	if (bound == 0)
		return -EFBIG;
	if (lzma_lzma_preset(&opt, XZ_PRESET))
		return -EINVAL;
	opt.dict_size = XZ_DICT_SIZE;
	buf = malloc(bound);
	if (!buf)
		return -ENOMEM;
	ret = lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, n,
					buf, &pos, bound);
	if (ret != LZMA_OK)
		return ret == LZMA_MEM_ERROR ? -ENOMEM : -EIO;
	*out = TAKE_PTR(buf);
	*outlen = pos;
	return 0;
}

static int gz_compress(const void *in, size_t n, void **out, size_t *outlen)
{
	_cleanup_(deflate_endp) z_stream z = {0};
	_cleanup_(freep) void *buf = NULL;
	uLong bound;

	/* zlib counts in uInt; COMPRESS_MAX_INPUT keeps us far below. */
	if (n > UINT_MAX / 2)
		return -EFBIG;
	/* windowBits 15 + 16: a gzip wrapper, with zlib's empty header. */
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, (uLong)n);
	buf = malloc(bound);
	if (!buf)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		return -EIO;
	*out = TAKE_PTR(buf);
	*outlen = z.total_out;
	return 0;
}

typedef int (*compress_fn)(const void *in, size_t n, void **out,
			   size_t *outlen);

static compress_fn compressor(enum compress_kind k)
{
	switch (k) {
	case COMPRESS_GZ:
		return gz_compress;
	case COMPRESS_XZ:
		return xz_compress;
	case COMPRESS_ZST:
		return zst_compress;
	default:
		return NULL;
	}
}

int compress_buffer(enum compress_kind k, const void *in, size_t n, void **out,
		    size_t *outlen)
{
	compress_fn fn = compressor(k);

	if (!fn)
		return -EINVAL;
	return fn(in, n, out, outlen);
}

int compress_file(enum compress_kind k, const char *src, const char *dst)
{
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *in = NULL;
	_cleanup_(freep) void *out = NULL;
	size_t n = 0, outlen = 0;
	compress_fn fn = compressor(k);
	struct stat st;
	int r;

	if (!fn && k != COMPRESS_NONE)
		return -EINVAL;
	fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	r = read_fd(fd, COMPRESS_MAX_INPUT, &in, &n);
	if (r < 0)
		return r;
	if (!fn)
		return write_file_atomic(dst, in, n, st.st_mode & 0777);
	r = fn(in, n, &out, &outlen);
	if (r < 0)
		return r;
	return write_file_atomic(dst, out, outlen, st.st_mode & 0777);
}

/*
 * ---- decompression: streaming into a buffer capped at max + 1 ----
 * The buffer's max is the caller's max + 1: holding that many bytes
 * proves "too big" without decompressing the rest.
 */

/* Make room for more output, doubling; -EFBIG once the cap is reached. */
static int out_room(struct buffer *o, size_t hint)
{
	size_t more;

	if (o->data && o->len < o->cap)
		return 0;
	if (o->len >= o->max)
		return -EFBIG;
	more = o->cap == 0 ? (hint < OBUF_MIN ? OBUF_MIN : hint) : o->cap;
	if (more > o->max - o->len)
		more = o->max - o->len;
	return buffer_reserve(o, more);
}

static int zstd_errno(size_t ret)
{
	switch (ZSTD_getErrorCode(ret)) {
	case ZSTD_error_memory_allocation:
		return -ENOMEM;
	case ZSTD_error_frameParameter_windowTooLarge:
		return -EFBIG;
	default:
		return -EBADMSG;
	}
}

static int zst_decode(const void *in, size_t inlen, struct buffer *o)
{
	_cleanup_(zstd_dctx_freep) ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = {in, inlen, 0};
	unsigned long long fcs = ZSTD_getFrameContentSize(in, inlen);
	size_t hint = inlen > o->max / 4 ? o->max : inlen * 4;

	if (!d)
		return -ENOMEM;
	if (ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax,
						ZSTD_WINDOWLOG_MAX)))
		return -EINVAL;
	/* A size in the header is only a claim, but one past the cap can
	 * be refused at once; one within it sizes the buffer. */
	if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ZSTD_CONTENTSIZE_ERROR) {
		if (fcs >= o->max)
			return -EFBIG;
		hint = (size_t)fcs + 1;
	}
	for (;;) {
		ZSTD_outBuffer ob;
		size_t ret;
		int r = out_room(o, hint);

		if (r < 0)
			return r;
		ob = (ZSTD_outBuffer){o->data + o->len, o->cap - o->len, 0};
		ret = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(ret))
			return zstd_errno(ret);
		buffer_advance(o, ob.pos);
		/* 0: a frame ended and is flushed; more input is a next
		 * frame (garbage there fails as a bad frame header). */
		if (ret == 0 && ib.pos == ib.size)
			return 0;
		/* Input used up, output not full, frame unfinished. */
		if (ib.pos == ib.size && ob.pos < ob.size)
			return -EBADMSG;
	}
}

static int lzma_errno(lzma_ret ret)
{
	switch (ret) {
	case LZMA_MEM_ERROR:
		return -ENOMEM;
	case LZMA_MEMLIMIT_ERROR:
		return -EFBIG;
	default:
		return -EBADMSG;
	}
}

static int xz_decode(const void *in, size_t inlen, struct buffer *o)
{
	_cleanup_(lzma_endp) lzma_stream s = LZMA_STREAM_INIT;
	size_t hint = inlen > o->max / 8 ? o->max : inlen * 8;
	lzma_ret ret;

	/* Concatenated streams and stream padding are valid .xz files. */
	ret = lzma_stream_decoder(&s, XZ_MEMLIMIT, LZMA_CONCATENATED);
	if (ret != LZMA_OK)
		return lzma_errno(ret);
	s.next_in = in;
	s.avail_in = inlen;
	for (;;) {
		size_t room;
		int r = out_room(o, hint);

		if (r < 0)
			return r;
		room = o->cap - o->len;
		s.next_out = (uint8_t *)o->data + o->len;
		s.avail_out = room;
		/* All input is given: LZMA_FINISH makes a truncated stream
		 * an error (LZMA_BUF_ERROR) rather than a wait for more. */
		ret = lzma_code(&s, LZMA_FINISH);
		buffer_advance(o, room - s.avail_out);
		if (ret == LZMA_STREAM_END)
			return 0;
		if (ret != LZMA_OK)
			return lzma_errno(ret);
	}
}

static int zlib_errno(int ret)
{
	return ret == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
}

static bool gz_magic(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* zlib counts in uInt: hand it the input in slices. */
static void gz_feed(z_stream *z, const unsigned char **next, size_t *left)
{
	if (z->avail_in > 0 || *left == 0)
		return;
	z->next_in = (Bytef *)(uintptr_t)*next;
	z->avail_in = *left > UINT_MAX ? UINT_MAX : (uInt)*left;
	*next += z->avail_in;
	*left -= z->avail_in;
}

static int gz_decode(const void *in, size_t inlen, struct buffer *o)
{
	_cleanup_(inflate_endp) z_stream z = {0};
	const unsigned char *next = in;
	size_t left = inlen;
	size_t hint = inlen > o->max / 4 ? o->max : inlen * 4;
	int ret;

	/* windowBits 15 + 16: gzip only; zlib checks CRC32 and ISIZE. */
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -ENOMEM;
	for (;;) {
		size_t room;
		int r = out_room(o, hint);

		if (r < 0)
			return r;
		gz_feed(&z, &next, &left);
		room = o->cap - o->len;
		z.next_out = (Bytef *)o->data + o->len;
		z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
		room = z.avail_out;
		ret = inflate(&z, Z_NO_FLUSH);
		buffer_advance(o, room - z.avail_out);
		if (ret == Z_STREAM_END) {
			gz_feed(&z, &next, &left);
			if (z.avail_in == 0)
				return 0;
			/* Another member may follow (gzip -d reads them
			 * all); anything else is trailing garbage. */
			if (!gz_magic(z.next_in, z.avail_in) ||
			    inflateReset(&z) != Z_OK)
				return -EBADMSG;
			continue;
		}
		if (ret == Z_BUF_ERROR && z.avail_out == 0)
			continue; /* only the output was full */
		if (ret != Z_OK)
			return zlib_errno(ret);
		if (z.avail_in == 0 && left == 0 && z.avail_out > 0)
			return -EBADMSG; /* all input used, no end: truncated */
	}
}

int decompress_buffer(enum compress_kind k, const void *in, size_t inlen,
		      size_t max, char **out, size_t *outlen)
{
	_cleanup_(buffer_freep) struct buffer o = {
		.max = max < SIZE_MAX - 2 ? max + 1 : SIZE_MAX - 1};
	int r;

	switch (k) {
	case COMPRESS_NONE:
		r = inlen > max ? -EFBIG : buffer_append(&o, in, inlen);
		break;
	case COMPRESS_GZ:
		r = gz_decode(in, inlen, &o);
		break;
	case COMPRESS_XZ:
		r = xz_decode(in, inlen, &o);
		break;
	case COMPRESS_ZST:
		r = zst_decode(in, inlen, &o);
		break;
	default:
		r = -EINVAL;
	}
	if (r == 0 && o.len >= o.max)
		r = -EFBIG;
	if (r == 0) {
		*out = buffer_take(&o, outlen);
		r = *out ? 0 : -ENOMEM;
	}
	return r;
}

/*
 * How much compressed input a stream of at most max output bytes can
 * take: stored blocks cost a few bytes per 64 KiB in all three formats,
 * plus headers.  Anything larger is refused before it is read.
 */
static size_t input_limit(size_t max)
{
	size_t slack = max / 64 + (64u << 10);

	return max > SIZE_MAX - slack ? SIZE_MAX - 1 : max + slack;
}

int decompress_file(const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_(freep) char *in = NULL;
	size_t n = 0;
	enum compress_kind k;
	int r;

	r = read_file(path, input_limit(max), &in, &n);
	if (r < 0)
		return r;
	k = compress_detect(in, n);
	if (k == COMPRESS_NONE) {
		if (n > max)
			return -EFBIG;
		*out = TAKE_PTR(in);
		*len = n;
		return 0;
	}
	return decompress_buffer(k, in, n, max, out, len);
}
