// SPDX-License-Identifier: GPL-2.0-or-later
/* The strict JSON reader: what it accepts, every refusal, round trips. */
#include "unit.h"
#include "lib/json.h"

static int parse(const char *text, struct json_value *v, char *why)
{
	return json_parse(text, strlen(text), v, why, 256);
}

static char *write_value(const struct json_value *v)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	json_write_value(f, v);
	fclose(f);
	return out;
}

static void test_values(void **state)
{
	_cleanup_(json_value_freep) struct json_value v = {0};
	unsigned long long n = 0;
	char why[256];

	assert_int_equal(
		parse(" {\"a\": [1, -2.5e+3, true, false, null],"
		      " \"b\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\","
		      " \"c\": {}, \"d\": [], \"n\": 18446744073709551615}\n",
		      &v, why),
		0);
	assert_int_equal(v.type, JSON_OBJECT);
	assert_int_equal(v.n, 5);
	assert_int_equal(json_get(&v, "a")->n, 5);
	assert_string_equal(json_get(&v, "a")->items[1].str, "-2.5e+3");
	assert_int_equal(json_get(&v, "a")->items[2].type, JSON_TRUE);
	assert_int_equal(json_get(&v, "a")->items[4].type, JSON_NULL);
	assert_string_equal(json_get(&v, "b")->str, "x\"\\/\b\f\n\r\t");
	assert_int_equal(json_get(&v, "c")->type, JSON_OBJECT);
	assert_int_equal(json_u64(json_get(&v, "n"), &n), 0);
	assert_true(n == 18446744073709551615ULL);
	assert_int_equal(json_u64(&json_get(&v, "a")->items[1], &n), -EINVAL);
	assert_null(json_get(&v, "zz"));
}

static void test_unicode_escapes(void **state)
{
	_cleanup_(json_value_freep) struct json_value v = {0};
	char why[256];

	/* é, €, 😀 as a surrogate pair, and raw UTF-8 kept. */
	assert_int_equal(
		parse("\"\\u00e9\\u20AC\\ud83d\\ude00\xc3\xa9\"", &v, why), 0);
	assert_string_equal(v.str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
				   "\xc3\xa9");
}

static void refused(const char *text, size_t len, const char *reason)
{
	struct json_value v = {0};
	char why[256];

	assert_int_equal(json_parse(text, len, &v, why, sizeof(why)), -EINVAL);
	if (!strstr(why, reason))
		fail_msg("\"%s\": why \"%s\", expected \"%s\"", text, why,
			 reason);
	assert_int_equal(v.type, JSON_NULL);
	assert_null(v.items);
}

#define REFUSED(text, reason) refused(text, sizeof(text) - 1, reason)

static void test_refusals(void **state)
{
	char deep[80] = "";

	REFUSED("", "expected a value");
	REFUSED("{} x", "trailing garbage");
	REFUSED("1 2", "trailing garbage");
	REFUSED("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
	REFUSED("\"\xff\"", "invalid UTF-8");
	REFUSED("\"\xc0\xaf\"", "invalid UTF-8");	  /* overlong */
	REFUSED("\"\xe0\x80\xaf\"", "invalid UTF-8");	  /* overlong */
	REFUSED("\"\xed\xa0\x80\"", "invalid UTF-8");	  /* surrogate */
	REFUSED("\"\xf4\x90\x80\x80\"", "invalid UTF-8"); /* > U+10FFFF */
	REFUSED("\"\xe2\x82\"", "invalid UTF-8");	  /* cut short */
	REFUSED("\"\\ud83d\"", "lone high surrogate");
	REFUSED("\"\\ude00\"", "lone low surrogate");
	REFUSED("\"\\ud83d\\u0041\"", "high surrogate without low");
	REFUSED("\"\\u00g0\"", "bad hex digit");
	REFUSED("\"\\u00", "short \\u escape");
	REFUSED("\"\\u0000\"", "\\u0000");
	REFUSED("\"\\x\"", "bad escape");
	REFUSED("\"a\nb\"", "control byte 0x0a");
	REFUSED("\"abc", "unterminated string");
	REFUSED("[1,2", "unterminated array");
	REFUSED("{\"a\":1", "unterminated object");
	REFUSED("[1,]", "bad number");
	REFUSED("[1 2]", "expected ',' or ']'");
	REFUSED("{1:2}", "expected a key");
	REFUSED("{\"a\" 2}", "expected ':'");
	REFUSED("01", "trailing garbage");
	REFUSED("1.", "bad fraction");
	REFUSED("1e", "bad exponent");
	REFUSED("-", "bad number");
	REFUSED("+1", "bad number");
	REFUSED("tru", "unexpected character");
	REFUSED("nul\0", "unexpected character");
	REFUSED("\"a\0b\"", "control byte 0x00");
	for (int i = 0; i < JSON_DEPTH_MAX + 1; i++)
		strcat(deep, "[");
	refused(deep, strlen(deep), "nested deeper than 32");
}

static void test_depth_limit_exact(void **state)
{
	_cleanup_(json_value_freep) struct json_value v = {0};
	char text[2 * JSON_DEPTH_MAX + 1] = "";
	char why[256];

	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		text[i] = '[', text[2 * JSON_DEPTH_MAX - 1 - i] = ']';
	assert_int_equal(parse(text, &v, why), 0);
}

static void test_size_limit(void **state)
{
	size_t len = JSON_SIZE_MAX + 1;
	_cleanup_(freep) char *big = malloc(len);
	struct json_value v = {0};
	char why[256];

	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '1';
	assert_int_equal(json_parse(big, len, &v, why, sizeof(why)), -EFBIG);
	assert_non_null(strstr(why, "larger than"));
	/* At the limit it is read. */
	assert_int_equal(json_parse(big, len - 1, &v, why, sizeof(why)), 0);
	json_value_free(&v);
}

static void test_round_trip(void **state)
{
	_cleanup_(json_value_freep) struct json_value v = {0}, back = {0};
	_cleanup_(freep) char *out = NULL;
	char why[256];

	assert_int_equal(parse("{\"k\\u0001\":[\"\\u001f\\\"\\\\\",0,-0.5E-7,"
			       "{\"x\":null}],\"\\u00e9\":true}",
			       &v, why),
			 0);
	out = write_value(&v);
	assert_int_equal(parse(out, &back, why), 0);
	assert_true(json_equal(&v, &back));
	/* The writer's own escapes are what the reader takes. */
	assert_string_equal(out, "{\"k\\u0001\":[\"\\u001f\\\"\\\\\",0,-0.5E-7,"
				 "{\"x\":null}],\"\xc3\xa9\":true}");
}

static void test_writer_never_emits_invalid_utf8(void **state)
{
	_cleanup_(json_value_freep) struct json_value v = {0};
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	char why[256];

	/* An overlong '/' and a surrogate would be refused if copied. */
	json_str(f, "\xc0\xaf\xed\xa0\x80");
	fclose(f);
	assert_int_equal(json_parse(out, len, &v, why, sizeof(why)), 0);
	assert_false(json_utf8_valid("\xc0\xaf"));
	assert_true(json_utf8_valid("\xf0\x9f\x98\x80"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_unicode_escapes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_depth_limit_exact),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_writer_never_emits_invalid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
