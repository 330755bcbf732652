// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the strict JSON reader and the writer.  What parses
 * is written back and must parse to the same value; a refusal always
 * says why.  The input is also read as a boot report, whose writer must
 * give back what it read.  Any difference is a bug: abort.
 */
#include <stdint.h>

#include "boot/report.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void report_round_trip(const uint8_t *data, size_t size)
{
	_cleanup_(boot_report_freep) struct boot_report a = {0}, b = {0};
	_cleanup_(freep) char *out = NULL;
	char why[256];
	size_t len = 0;

	if (report_parse((const char *)data, size, &a, why, sizeof(why)) < 0) {
		if (!why[0])
			abort();
		return;
	}
	if (report_format(&a, &out, &len) < 0)
		abort();
	if (report_parse(out, len, &b, why, sizeof(why)) < 0)
		abort();
	if (!report_equal(&a, &b))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(json_value_freep) struct json_value v = {0}, back = {0};
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;
	char why[256];
	FILE *f;

	report_round_trip(data, size);
	if (json_parse((const char *)data, size, &v, why, sizeof(why)) < 0) {
		if (!why[0])
			abort();
		return 0;
	}
	f = open_memstream(&out, &len);
	if (!f)
		return 0;
	json_write_value(f, &v);
	if (fclose(f) != 0)
		return 0;
	if (json_parse(out, len, &back, why, sizeof(why)) < 0)
		abort();
	if (!json_equal(&v, &back))
		abort();
	return 0;
}
