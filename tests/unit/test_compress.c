// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Compression and decompression, checked against the real zstd, xz and
 * gzip programs in both directions, and against hostile inputs: bombs,
 * truncation, corruption, trailing garbage.
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"
#include "module/compress.h"

#define DATA_SIZE (300u << 10)
#define MiB	  (1u << 20)

static char *tmp;
static char *data;  /* DATA_SIZE bytes: random runs and text */
static char *bombs; /* directory holding the 100 MiB bombs */

static const enum compress_kind kinds[] = {COMPRESS_GZ, COMPRESS_XZ,
					   COMPRESS_ZST};

/* What a module looks like to a compressor: code-like noise and text. */
static void make_data(char *p, size_t n)
{
	unsigned long long x = 0x9e3779b97f4a7c15ull;
	size_t i = 0;

	while (i < n) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (x & 1) {
			int k = snprintf(
				p + i, n - i,
				"license=GPL symbol_%llu vermagic=6.1\n",
				x % 977);

			i += k < 0 || (size_t)k >= n - i ? n - i : (size_t)k;
		} else {
			for (int j = 0; j < 64 && i < n; j++, i++)
				p[i] = (char)(x >> (j % 8 * 8)) ^ (char)j;
		}
	}
}

static char *tpath(const char *name)
{
	char *p = path_join(tmp, name);

	assert_non_null(p);
	return p;
}

static void put(const char *path, const void *buf, size_t n)
{
	assert_int_equal(write_file_atomic(path, buf, n, 0644), 0);
}

static void assert_file_is_data(const char *path, size_t n)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;

	assert_int_equal(read_file(path, 16 * MiB, &buf, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
}

static void assert_decompresses_to_data(const char *path, size_t n)
{
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;

	assert_int_equal(decompress_file(path, 16 * MiB, &out, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(out, data, n);
	assert_int_equal(out[len], '\0');
}

static void assert_kind(const char *path, enum compress_kind k)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;

	assert_int_equal(read_file(path, 16 * MiB, &buf, &len), 0);
	assert_int_equal(compress_detect(buf, len), k);
}

static void test_suffix(void **state)
{
	enum compress_kind k = COMPRESS_ZST;

	assert_int_equal(compress_kind_from_suffix("", &k), 0);
	assert_int_equal(k, COMPRESS_NONE);
	assert_int_equal(compress_kind_from_suffix(".gz", &k), 0);
	assert_int_equal(k, COMPRESS_GZ);
	assert_int_equal(compress_kind_from_suffix(".xz", &k), 0);
	assert_int_equal(k, COMPRESS_XZ);
	assert_int_equal(compress_kind_from_suffix(".zst", &k), 0);
	assert_int_equal(k, COMPRESS_ZST);
	assert_int_equal(compress_kind_from_suffix(".bz2", &k), -EINVAL);
	assert_int_equal(compress_kind_from_suffix("zst", &k), -EINVAL);
	assert_int_equal(compress_kind_from_suffix(NULL, &k), -EINVAL);
	assert_string_equal(compress_suffix(COMPRESS_NONE), "");
	assert_string_equal(compress_suffix(COMPRESS_GZ), ".gz");
	assert_string_equal(compress_suffix(COMPRESS_XZ), ".xz");
	assert_string_equal(compress_suffix(COMPRESS_ZST), ".zst");
}

static void test_detect(void **state)
{
	assert_int_equal(compress_detect("\x1f\x8b\x08", 3), COMPRESS_GZ);
	assert_int_equal(compress_detect("\xfd"
					 "7zXZ\0\0",
					 7),
			 COMPRESS_XZ);
	assert_int_equal(compress_detect("\x28\xb5\x2f\xfd", 4), COMPRESS_ZST);
	assert_int_equal(compress_detect("\x7f"
					 "ELF",
					 4),
			 COMPRESS_NONE);
	/* A prefix of a magic is not the magic. */
	assert_int_equal(compress_detect("\xfd"
					 "7zX",
					 4),
			 COMPRESS_NONE);
	assert_int_equal(compress_detect("\x28\xb5\x2f", 3), COMPRESS_NONE);
	assert_int_equal(compress_detect("", 0), COMPRESS_NONE);
}

/* Ours -> ours and ours -> the CLI tool, for every kind. */
static void test_round_trip_and_cli(void **state)
{
	static const char *const tool[] = {"", "gzip", "xz", "zstd -q"};
	_cleanup_(freep) char *src = tpath("mod.ko");
	_cleanup_(freep) char *plain = tpath("plain.out");

	put(src, data, DATA_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		enum compress_kind k = kinds[i];
		_cleanup_(freep) char *dst =
			xasprintf("%s%s", src, compress_suffix(k));
		struct stat st;

		assert_int_equal(compress_file(k, src, dst), 0);
		assert_int_equal(stat(dst, &st), 0);
		assert_true(st.st_size > 0 && st.st_size < DATA_SIZE);
		assert_kind(dst, k);
		assert_decompresses_to_data(dst, DATA_SIZE);
		assert_int_equal(
			unit_sh("%s -d -c '%s' > '%s'", tool[k], dst, plain),
			0);
		assert_file_is_data(plain, DATA_SIZE);
	}
}

/* What `xz -lvv` says about our streams: CRC32 and a 1 MiB dictionary. */
static void test_xz_format(void **state)
{
	_cleanup_(freep) char *src = tpath("mod.ko");
	_cleanup_(freep) char *dst = tpath("mod.ko.xz");
	_cleanup_(freep) char *info = tpath("xz-info");
	_cleanup_(freep) char *out = NULL;

	put(src, data, DATA_SIZE);
	assert_int_equal(compress_file(COMPRESS_XZ, src, dst), 0);
	assert_int_equal(unit_sh("xz -lvv '%s' > '%s'", dst, info), 0);
	assert_int_equal(read_file(info, MiB, &out, NULL), 0);
	assert_non_null(strstr(out, "CRC32"));
	assert_null(strstr(out, "CRC64"));
	assert_non_null(strstr(out, "dict=1MiB"));
}

/* The CLI tools' files, as dkms and Kbuild write them, read by us. */
static void test_reads_cli_output(void **state)
{
	static const char *const cmds[] = {
		"zstd -q -19 -c",
		"zstd -q -T0 -20 --ultra -c",
		"zstd -q -1 -c",
		"xz --check=crc32 --lzma2=dict=1MiB -c",
		"xz -c",
		"xz -9e -c",
		"xz --check=sha256 -c",
		"xz --check=none -c",
		"gzip -9 -c",
		"gzip -1 -c",
		"gzip -n -c",
	};
	_cleanup_(freep) char *src = tpath("mod.ko");
	_cleanup_(freep) char *dst = tpath("cli.out");

	put(src, data, DATA_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		assert_int_equal(unit_sh("%s '%s' > '%s'", cmds[i], src, dst),
				 0);
		assert_decompresses_to_data(dst, DATA_SIZE);
	}
	/* From a pipe: no content size in the zstd frame header. */
	assert_int_equal(unit_sh("cat '%s' | zstd -q -19 -c > '%s'", src, dst),
			 0);
	assert_decompresses_to_data(dst, DATA_SIZE);
}

/* Concatenated streams are one file to every CLI tool, and to us. */
static void test_concatenated(void **state)
{
	static const char *const cmds[] = {"gzip -9 -c", "xz -c", "zstd -q -c"};
	_cleanup_(freep) char *a = tpath("a");
	_cleanup_(freep) char *b = tpath("b");
	_cleanup_(freep) char *dst = tpath("ab.out");

	put(a, data, DATA_SIZE / 2);
	put(b, data + DATA_SIZE / 2, DATA_SIZE - DATA_SIZE / 2);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		assert_int_equal(unit_sh("(%s '%s'; %s '%s') > '%s'", cmds[i],
					 a, cmds[i], b, dst),
				 0);
		assert_decompresses_to_data(dst, DATA_SIZE);
	}
}

static void test_small_inputs(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 4096};
	_cleanup_(freep) char *src = tpath("small");
	_cleanup_(freep) char *dst = tpath("small.z");

	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		put(src, data, sizes[s]);
		for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
			assert_int_equal(compress_file(kinds[i], src, dst), 0);
			assert_decompresses_to_data(dst, sizes[s]);
		}
	}
}

/* COMPRESS_NONE copies; the mode follows the source; errors pass on. */
static void test_copy_mode_errors(void **state)
{
	_cleanup_(freep) char *src = tpath("m.ko");
	_cleanup_(freep) char *dst = tpath("copy.ko");
	_cleanup_(freep) char *gz = tpath("m.ko.gz");
	_cleanup_(freep) char *missing = tpath("nope.ko");
	struct stat st;

	put(src, data, DATA_SIZE);
	assert_int_equal(chmod(src, 0600), 0);
	assert_int_equal(compress_file(COMPRESS_NONE, src, dst), 0);
	assert_int_equal(files_equal(src, dst), 1);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(compress_file(COMPRESS_GZ, src, gz), 0);
	assert_int_equal(stat(gz, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(compress_file(COMPRESS_GZ, missing, gz), -ENOENT);
	assert_int_equal(compress_file((enum compress_kind)42, src, gz),
			 -EINVAL);
	assert_int_equal(compress_file(COMPRESS_GZ, tmp, gz), -EINVAL);
	/* The failed calls left the earlier result alone. */
	assert_decompresses_to_data(gz, DATA_SIZE);
}

/* An uncompressed file is itself, capped like any other output. */
static void test_plain_file(void **state)
{
	static const char elf[] = "\x7f"
				  "ELF, not compressed";
	const size_t n = sizeof(elf) - 1;
	_cleanup_(freep) char *src = tpath("plain.ko");
	_cleanup_(freep) char *out = NULL;
	char *none = NULL;
	size_t len = 0;

	put(src, elf, n);
	assert_int_equal(decompress_file(src, n, &out, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(out, elf, n);
	assert_int_equal(decompress_file(src, n - 1, &none, &len), -EFBIG);
	assert_int_equal(
		decompress_buffer(COMPRESS_NONE, "abc", 3, 2, &none, &len),
		-EFBIG);
	assert_null(none);
}

/* The cap is exact: max bytes pass, max - 1 do not. */
static void test_exact_cap(void **state)
{
	_cleanup_(freep) char *src = tpath("cap.ko");
	_cleanup_(freep) char *dst = tpath("cap.z");

	put(src, data, DATA_SIZE);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		_cleanup_(freep) char *out = NULL;
		char *none = NULL;
		size_t len = 0;

		assert_int_equal(compress_file(kinds[i], src, dst), 0);
		assert_int_equal(decompress_file(dst, DATA_SIZE, &out, &len),
				 0);
		assert_int_equal(len, DATA_SIZE);
		assert_int_equal(
			decompress_file(dst, DATA_SIZE - 1, &none, &len),
			-EFBIG);
		assert_null(none);
		assert_int_equal(decompress_file(dst, 0, &none, &len), -EFBIG);
	}
}

/* 100 MiB of zeros in a few KiB: refused at the 10 MiB cap, quickly. */
static void test_bombs(void **state)
{
	static const char *const names[] = {"bomb.gz", "bomb.xz", "bomb.zst",
					    "bomb-fcs.zst"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		_cleanup_(freep) char *p = path_join(bombs, names[i]);
		char *out = NULL;
		size_t len = 0;
		unsigned long long t0 = now_ns();
		struct stat st;

		assert_int_equal(stat(p, &st), 0);
		assert_true(st.st_size < 128 << 10);
		assert_int_equal(decompress_file(p, 10 * MiB, &out, &len),
				 -EFBIG);
		assert_null(out);
		assert_true(now_ns() - t0 < 2000000000ull);
	}
}

/* Streams that ask for more decoder memory than any module needs. */
static void test_memory_caps(void **state)
{
	_cleanup_(freep) char *src = tpath("w.ko");
	_cleanup_(freep) char *dst = tpath("w.z");
	char *out = NULL;
	size_t len = 0;

	put(src, data, 4096);
	/* From a pipe the size is unknown, so the window stays 2^28. */
	assert_int_equal(
		unit_sh("zstd -q --long=28 -c < '%s' > '%s'", src, dst), 0);
	assert_int_equal(decompress_file(dst, 16 * MiB, &out, &len), -EFBIG);
	assert_int_equal(
		unit_sh("xz --lzma2=dict=256MiB -c < '%s' > '%s'", src, dst),
		0);
	assert_int_equal(decompress_file(dst, 16 * MiB, &out, &len), -EFBIG);
	assert_null(out);
}

/* Every proper prefix of a stream is refused, as is a flipped byte. */
static void test_truncated_and_corrupt(void **state)
{
	_cleanup_(freep) char *src = tpath("t.ko");
	_cleanup_(freep) char *dst = tpath("t.z");

	put(src, data, 8192);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		_cleanup_(freep) char *z = NULL;
		size_t zlen = 0;

		assert_int_equal(compress_file(kinds[i], src, dst), 0);
		assert_int_equal(read_file(dst, MiB, &z, &zlen), 0);
		for (size_t n = 0; n < zlen; n++) {
			char *out = NULL;
			size_t len = 0;

			assert_int_equal(decompress_buffer(kinds[i], z, n, MiB,
							   &out, &len),
					 -EBADMSG);
			assert_null(out);
		}
		/* Header, payload and trailer bytes, one at a time; but
		 * not gzip's MTIME, XFL and OS bytes, which nothing checks. */
		for (size_t n = 0; n < zlen; n += zlen / 40 + 1) {
			char *out = NULL;
			size_t len = 0;

			if (kinds[i] == COMPRESS_GZ && n >= 4 && n < 10)
				continue;
			z[n] ^= 0x55;
			assert_int_equal(decompress_buffer(kinds[i], z, zlen,
							   MiB, &out, &len),
					 -EBADMSG);
			z[n] ^= 0x55;
		}
	}
}

/* Bytes after the end are garbage, not something to ignore. */
static void test_trailing_garbage(void **state)
{
	static const char *const tails[] = {"x", "\0", "\0\0\0\0garbage",
					    "\x1f"};
	_cleanup_(freep) char *src = tpath("g.ko");
	_cleanup_(freep) char *dst = tpath("g.z");

	put(src, data, 8192);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		_cleanup_(freep) char *z = NULL;
		size_t zlen = 0;

		assert_int_equal(compress_file(kinds[i], src, dst), 0);
		assert_int_equal(read_file(dst, MiB, &z, &zlen), 0);
		for (size_t t = 0; t < ARRAY_SIZE(tails); t++) {
			size_t tl = t == 1 ? 1 : t == 2 ? 11 : strlen(tails[t]);
			_cleanup_(freep) char *g = malloc(zlen + tl);
			char *out = NULL;
			size_t len = 0;

			assert_non_null(g);
			memcpy(g, z, zlen);
			memcpy(g + zlen, tails[t], tl);
			assert_int_equal(decompress_buffer(kinds[i], g,
							   zlen + tl, MiB, &out,
							   &len),
					 -EBADMSG);
		}
	}
}

static int setup(void **state)
{
	tmp = unit_tmpdir();
	data = malloc(DATA_SIZE);
	if (!tmp || !data)
		return -1;
	make_data(data, DATA_SIZE);
	bombs = path_join(tmp, "bombs");
	if (!bombs || mkdir(bombs, 0755) < 0)
		return -1;
	/* The zero stream of 100 MiB, compressed by each tool from a pipe
	 * (no size in the header), and once by zstd with the size. */
	return unit_sh("cd '%s' && head -c 100M /dev/zero | gzip -9 > bomb.gz "
		       "&& "
		       "head -c 100M /dev/zero | xz -0 > bomb.xz && "
		       "head -c 100M /dev/zero | zstd -q -19 > bomb.zst && "
		       "head -c 100M /dev/zero | "
		       "zstd -q -1 --stream-size=104857600 > bomb-fcs.zst",
		       bombs) == 0
		       ? 0
		       : -1;
}

static int teardown(void **state)
{
	if (tmp)
		unit_sh("rm -rf '%s'", tmp);
	free(tmp);
	free(bombs);
	free(data);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suffix),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_round_trip_and_cli),
		cmocka_unit_test(test_xz_format),
		cmocka_unit_test(test_reads_cli_output),
		cmocka_unit_test(test_concatenated),
		cmocka_unit_test(test_small_inputs),
		cmocka_unit_test(test_copy_mode_errors),
		cmocka_unit_test(test_plain_file),
		cmocka_unit_test(test_exact_cap),
		cmocka_unit_test(test_bombs),
		cmocka_unit_test(test_memory_caps),
		cmocka_unit_test(test_truncated_and_corrupt),
		cmocka_unit_test(test_trailing_garbage),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
