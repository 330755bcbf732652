// SPDX-License-Identifier: GPL-2.0-or-later
/* The one growable buffer: growth, the limit, formatting, hand-over. */
#include <stdint.h>

#include "unit.h"
#include "lib/buffer.h"

static void test_append_grows_and_terminates(void **state)
{
	_cleanup_(buffer_freep) struct buffer b = {0};
	char chunk[1000];

	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)('a' + i % 26);
	for (int i = 0; i < 100; i++)
		assert_int_equal(buffer_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 100 * sizeof(chunk));
	assert_true(b.cap >= b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_memory_equal(b.data + 99 * sizeof(chunk), chunk, sizeof(chunk));
	/* An empty append of an empty buffer still gives a string. */
	buffer_free(&b);
	assert_null(b.data);
	assert_int_equal(buffer_append(&b, "", 0), 0);
	assert_string_equal(b.data, "");
}

static void test_bytes_with_nuls(void **state)
{
	_cleanup_(buffer_freep) struct buffer b = {0};
	_cleanup_(freep) char *p = NULL;
	size_t n = 0;

	assert_int_equal(buffer_append(&b, "a\0b", 3), 0);
	assert_int_equal(buffer_append_zeros(&b, 5), 0);
	assert_int_equal(buffer_append_str(&b, "z"), 0);
	assert_int_equal(b.len, 9);
	p = buffer_take(&b, &n);
	assert_int_equal(n, 9);
	assert_memory_equal(p, "a\0b\0\0\0\0\0z", 10);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_appendf(void **state)
{
	_cleanup_(buffer_freep) struct buffer b = {0};
	_cleanup_(freep) char *big = malloc(10000);

	assert_non_null(big);
	memset(big, 'x', 9999);
	big[9999] = '\0';
	assert_int_equal(buffer_appendf(&b, "%d-%s", 42, "y"), 0);
	/* Longer than any room there was: formatted again after growing. */
	assert_int_equal(buffer_appendf(&b, "[%s]", big), 0);
	assert_int_equal(b.len, 4 + 10001);
	assert_true(startswith(b.data, "42-y[xxx"));
	assert_true(endswith(b.data, "xxx]"));
	assert_int_equal(strlen(b.data), b.len);
	/* %m is the errno of the caller, even when the buffer grows. */
	buffer_free(&b);
	errno = ENOSPC;
	assert_int_equal(buffer_appendf(&b, "%s: %m", big), 0);
	assert_true(endswith(b.data, strerror(ENOSPC)));
}

static void test_max(void **state)
{
	_cleanup_(buffer_freep) struct buffer b = {.max = 10};

	assert_int_equal(buffer_append(&b, "0123456789", 10), 0);
	assert_int_equal(buffer_append(&b, "a", 1), -EFBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	assert_true(b.cap <= 10); /* never allocated beyond the limit */
	assert_int_equal(buffer_appendf(&b, "%s", "more"), -EFBIG);
	assert_string_equal(b.data, "0123456789");
	assert_int_equal(buffer_reserve(&b, 0), 0);
}

static void test_overflow(void **state)
{
	_cleanup_(buffer_freep) struct buffer b = {0};

	assert_int_equal(buffer_append(&b, "abc", 3), 0);
	assert_int_equal(buffer_reserve(&b, SIZE_MAX - 2), -ENOMEM);
	assert_int_equal(buffer_reserve(&b, SIZE_MAX), -ENOMEM);
	assert_string_equal(b.data, "abc");
}

static void test_reserve_advance_truncate(void **state)
{
	_cleanup_(buffer_freep) struct buffer b = {0};
	_cleanup_(freep) char *s = NULL;

	assert_int_equal(buffer_reserve(&b, 100), 0);
	assert_true(b.cap >= 100);
	memcpy(b.data, "hello world", 11);
	buffer_advance(&b, 11);
	assert_string_equal(b.data, "hello world");
	buffer_truncate(&b, 5);
	assert_string_equal(b.data, "hello");
	buffer_truncate(&b, 50); /* never lengthens */
	assert_int_equal(b.len, 5);
	s = buffer_take(&b, NULL);
	assert_string_equal(s, "hello");
}

static void test_take_empty(void **state)
{
	struct buffer b = {0};
	_cleanup_(freep) char *s = buffer_take(&b, NULL);

	assert_non_null(s);
	assert_string_equal(s, "");
}

/* Typed arrays live in it too (the walker's stack does). */
static void test_array_of_structs(void **state)
{
	_cleanup_(buffer_freep) struct buffer b = {0};
	struct pair {
		long a;
		double d;
	} p;

	for (long i = 0; i < 1000; i++) {
		p = (struct pair){i, (double)i / 2};
		assert_int_equal(buffer_append(&b, &p, sizeof(p)), 0);
	}
	assert_int_equal(b.len / sizeof(p), 1000);
	assert_int_equal(((struct pair *)b.data)[999].a, 999);
	assert_true(((uintptr_t)b.data % _Alignof(struct pair)) == 0);
}

/* read_fd() grows a buffer capped at max + 1: files and pipes alike. */
static void test_read_fd_limits(void **state)
{
	_cleanup_(freep) char *dir = unit_tmpdir(), *f = NULL, *buf = NULL;
	size_t n = 0;
	int p[2];

	assert_non_null(dir);
	f = path_join(dir, "f");
	assert_int_equal(
		unit_sh("head -c 100000 /dev/zero | tr '\\0' a > '%s'", f), 0);
	assert_int_equal(read_file(f, 100000, &buf, &n), 0);
	assert_int_equal(n, 100000);
	assert_int_equal(buf[n], '\0');
	assert_int_equal(buf[n - 1], 'a');
	assert_int_equal(read_file(f, 99999, &buf, &n), -EFBIG);
	/* A pipe has no size to check first: the cap catches it. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	assert_int_equal(read_fd(p[0], 9, &buf, &n), -EFBIG);
	close(p[0]);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	free(TAKE_PTR(buf));
	assert_int_equal(read_fd(p[0], 10, &buf, &n), 0);
	close(p[0]);
	assert_int_equal(n, 10);
	assert_string_equal(buf, "0123456789");
	assert_int_equal(unit_sh("rm -rf '%s'", dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_grows_and_terminates),
		cmocka_unit_test(test_bytes_with_nuls),
		cmocka_unit_test(test_appendf),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_reserve_advance_truncate),
		cmocka_unit_test(test_take_empty),
		cmocka_unit_test(test_array_of_structs),
		cmocka_unit_test(test_read_fd_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
