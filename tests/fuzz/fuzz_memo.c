// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the memo parser and writer.  The file has one
 * spelling per memo, so whatever parses must be written back byte for
 * byte; a refusal always says why.  The input is also used as a reason
 * and as names: what memo_put accepts must format and read back the
 * same.  Any difference is a bug: abort.
 */
#include <stdint.h>

#include "boot/memo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

static bool same(const struct memo *a, const struct memo *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct memo_record *x = &a->recs[i], *y = &b->recs[i];

		if (!same_str(x->package, y->package) ||
		    !same_str(x->version, y->version) ||
		    !same_str(x->kernel, y->kernel) ||
		    !same_str(x->arch, y->arch) ||
		    !streq(x->inputs, y->inputs) || x->outcome != y->outcome ||
		    x->time != y->time || !same_str(x->log, y->log) ||
		    !same_str(x->reason, y->reason))
			return false;
	}
	return true;
}

static void put_then_read(const struct memo_record *r)
{
	_cleanup_(memo_freep) struct memo m = {0}, back = {0};
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;
	char why[256];

	if (memo_put(&m, r) < 0)
		return;
	if (memo_format(&m, &out, &len) < 0)
		abort();
	if (memo_parse(out, len, &back, why, sizeof(why)) < 0)
		abort();
	if (!same(&m, &back))
		abort();
}

static void values_from(const uint8_t *data, size_t size)
{
	_cleanup_(freep) char *v = strndup((const char *)data, size);
	struct memo_record r = {
		.package = "p",
		.version = "1",
		.kernel = "k",
		.arch = "a",
		.inputs = "0123456789abcdef0123456789abcdef"
			  "0123456789abcdef0123456789abcdef",
		.outcome = MEMO_FAILED,
		.time = size,
		.reason = v,
	};

	if (!v)
		return;
	put_then_read(&r);
	r.reason = "r";
	r.package = r.version = r.kernel = r.arch = v;
	put_then_read(&r);
	r.package = "p";
	r.log = v;
	put_then_read(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(memo_freep) struct memo m = {0}, back = {0};
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;
	char why[256];

	values_from(data, size);
	if (memo_parse((const char *)data, size, &m, why, sizeof(why)) < 0) {
		if (!why[0])
			abort();
		return 0;
	}
	if (memo_format(&m, &out, &len) < 0)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	if (memo_parse(out, len, &back, why, sizeof(why)) < 0)
		abort();
	if (!same(&m, &back))
		abort();
	return 0;
}
