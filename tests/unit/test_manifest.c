// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cache MANIFEST: the canonical round trip both ways, the
 * percent-encoding's edges, and every refusal with its line and reason.
 */
#include "unit.h"
#include "cache/manifest.h"

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* Line numbers in the messages below count from here. */
/* clang-format off */
static const char good[] =
	"dkms-boot-cache 1\n"				/*  1 */
	"package dkb-clean\n"				/*  2 */
	"version 1.0\n"					/*  3 */
	"kernel 6.1.0-56-amd64\n"			/*  4 */
	"arch x86_64\n"					/*  5 */
	"origin dkms-tree\n"				/*  6 */
	"created 1764000000\n"				/*  7 */
	"module dkb_clean\n"				/*  8 */
	"file dkb_clean.ko.zst\n"			/*  9 */
	"size 109136\n"					/* 10 */
	"sha256 " SHA_A "\n"				/* 11 */
	"location /updates/dkms\n"			/* 12 */
	"vermagic 6.1.0-56-amd64 SMP preempt mod_unload "
		"modversions%20\n"			/* 13 */
	"srcversion 0123ABC\n"				/* 14 */
	"modversion 1.0\n"				/* 15 */
	"depends\n"					/* 16 */
	"signer dkms-boot test\n"			/* 17 */
	"sig_key 74:40:AA\n"				/* 18 */
	"sig_hashalgo sha256\n"				/* 19 */
	"module other\n"				/* 20 */
	"file other.ko.zst\n"				/* 21 */
	"size 0\n"					/* 22 */
	"sha256 " SHA_B "\n"				/* 23 */
	"location /kernel/drivers/misc\n"		/* 24 */
	"vermagic 6.1.0-56-amd64 SMP mod_unload\n"	/* 25 */
	"end\n";					/* 26 */
/* clang-format on */

/* good with the first `from` replaced by `to`. */
static char *subst(const char *from, const char *to)
{
	const char *at = strstr(good, from);
	char *s;

	assert_non_null(at);
	s = xasprintf("%.*s%s%s", (int)(at - good), good, to,
		      at + strlen(from));
	assert_non_null(s);
	return s;
}

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_manifest_equal(const struct manifest *a,
				  const struct manifest *b)
{
	assert_string_equal(a->package, b->package);
	assert_string_equal(a->version, b->version);
	assert_string_equal(a->kernel, b->kernel);
	assert_string_equal(a->arch, b->arch);
	assert_string_equal(a->origin, b->origin);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->n_mods, b->n_mods);
	for (size_t i = 0; i < a->n_mods; i++) {
		const struct manifest_module *x = &a->mods[i], *y = &b->mods[i];

		assert_string_equal(x->name, y->name);
		assert_string_equal(x->file, y->file);
		assert_int_equal(x->size, y->size);
		assert_string_equal(x->sha256, y->sha256);
		assert_string_equal(x->location, y->location);
		assert_string_equal(x->vermagic, y->vermagic);
		assert_str_or_null(x->srcversion, y->srcversion);
		assert_str_or_null(x->modversion, y->modversion);
		assert_str_or_null(x->depends, y->depends);
		assert_str_or_null(x->signer, y->signer);
		assert_str_or_null(x->sig_key, y->sig_key);
		assert_str_or_null(x->sig_hashalgo, y->sig_hashalgo);
	}
}

static void parse_ok(const char *text, struct manifest *m)
{
	char why[256] = "";
	int r = manifest_parse(text, strlen(text), m, why, sizeof(why));

	if (r != 0)
		print_error("unexpected refusal: %s\n", why);
	assert_int_equal(r, 0);
	assert_string_equal(why, "");
}

static void set(char **field, const char *value)
{
	free(*field);
	*field = value ? strdup(value) : NULL;
	if (value)
		assert_non_null(*field);
}

static void test_parse_good(void **state)
{
	_cleanup_(manifest_freep) struct manifest m = {0};

	parse_ok(good, &m);
	assert_string_equal(m.package, "dkb-clean");
	assert_string_equal(m.version, "1.0");
	assert_string_equal(m.kernel, "6.1.0-56-amd64");
	assert_string_equal(m.arch, "x86_64");
	assert_string_equal(m.origin, "dkms-tree");
	assert_int_equal(m.created, 1764000000);
	assert_int_equal(m.n_mods, 2);
	assert_string_equal(m.mods[0].name, "dkb_clean");
	assert_string_equal(m.mods[0].file, "dkb_clean.ko.zst");
	assert_int_equal(m.mods[0].size, 109136);
	assert_string_equal(m.mods[0].sha256, SHA_A);
	assert_string_equal(m.mods[0].location, "/updates/dkms");
	/* The trailing space the kernel's vermagic ends with survives. */
	assert_string_equal(m.mods[0].vermagic,
			    "6.1.0-56-amd64 SMP preempt mod_unload "
			    "modversions ");
	assert_string_equal(m.mods[0].srcversion, "0123ABC");
	assert_string_equal(m.mods[0].modversion, "1.0");
	/* Present and empty is not absent. */
	assert_string_equal(m.mods[0].depends, "");
	assert_string_equal(m.mods[0].signer, "dkms-boot test");
	assert_string_equal(m.mods[0].sig_key, "74:40:AA");
	assert_string_equal(m.mods[0].sig_hashalgo, "sha256");
	assert_string_equal(m.mods[1].name, "other");
	assert_int_equal(m.mods[1].size, 0);
	assert_null(m.mods[1].srcversion);
	assert_null(m.mods[1].modversion);
	assert_null(m.mods[1].depends);
	assert_null(m.mods[1].signer);
	assert_null(m.mods[1].sig_key);
	assert_null(m.mods[1].sig_hashalgo);
}

/* format(parse(x)) == x and parse(format(m)) == m. */
static void test_round_trip(void **state)
{
	_cleanup_(manifest_freep) struct manifest m = {0}, back = {0};
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;

	parse_ok(good, &m);
	assert_int_equal(manifest_format(&m, &out, &len), 0);
	assert_int_equal(len, strlen(good));
	assert_memory_equal(out, good, len);
	assert_int_equal(manifest_parse(out, len, &back, NULL, 0), 0);
	assert_manifest_equal(&m, &back);
}

static void test_format_from_struct(void **state)
{
	struct manifest_module mod = {
		.name = "m",
		.file = "m.ko.zst",
		.size = 18446744073709551615ULL,
		.sha256 = SHA_B,
		.location = "/extra",
		.vermagic = "6.1.0 SMP ",
		.depends = "a,b",
		.signer = "",
		.sig_key = "",
	};
	struct manifest m = {
		.package = "p",
		.version = "2.0~rc1+dfsg",
		.kernel = "6.1.0-56-amd64",
		.arch = "x86_64",
		.origin = "tarball:/var/lib/dkms-boot/p 2.0%.tar.gz",
		.created = 9223372036854775807LL,
		.mods = &mod,
		.n_mods = 1,
	};
	static const char want[] =
		"dkms-boot-cache 1\n"
		"package p\n"
		"version 2.0~rc1+dfsg\n"
		"kernel 6.1.0-56-amd64\n"
		"arch x86_64\n"
		"origin tarball:/var/lib/dkms-boot/p 2.0%25.tar.gz\n"
		"created 9223372036854775807\n"
		"module m\n"
		"file m.ko.zst\n"
		"size 18446744073709551615\n"
		"sha256 " SHA_B "\n"
		"location /extra\n"
		"vermagic 6.1.0 SMP%20\n"
		"depends a,b\n"
		"signer\n"
		"sig_key\n"
		"end\n";
	_cleanup_(manifest_freep) struct manifest back = {0};
	_cleanup_(freep) char *out = NULL;
	size_t len = 0;

	assert_int_equal(manifest_format(&m, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	parse_ok(out, &back);
	assert_manifest_equal(&m, &back);
}

/* Each value, its one spelling, and the way back. */
static void test_encoding(void **state)
{
	static const struct {
		const char *plain, *line;
	} cases[] = {
		{"", "signer\n"},
		{"a", "signer a\n"},
		{" ", "signer %20\n"},
		{"  ", "signer %20%20\n"},
		{"   ", "signer %20 %20\n"},
		{" a b ", "signer %20a b%20\n"},
		{"a  b", "signer a  b\n"},
		{"100%", "signer 100%25\n"},
		{"%20", "signer %2520\n"},
		{"tab\there", "signer tab%09here\n"},
		{"cr\rlf\n", "signer cr%0Dlf%0A\n"},
		{"\x01\x1f\x7f", "signer %01%1F%7F\n"},
		{"~!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}",
		 "signer ~!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}\n"},
		/* Valid UTF-8 stays text. */
		{"J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x94\x91",
		 "signer J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x94\x91\n"},
		{"\xc2\xa0", "signer \xc2\xa0\n"},
		{"\xef\xbf\xbf\xf4\x8f\xbf\xbf",
		 "signer \xef\xbf\xbf\xf4\x8f\xbf\xbf\n"},
		/* Not text: bytes, one by one. */
		{"\xc2\x85", "signer %C2%85\n"},	/* C1 control NEL */
		{"\xc2\x9f", "signer %C2%9F\n"},	/* C1 control APC */
		{"J\xfcrgen", "signer J%FCrgen\n"},	/* Latin-1 */
		{"\xc0\x80", "signer %C0%80\n"},	/* overlong NUL */
		{"\xe0\x80\xaf", "signer %E0%80%AF\n"}, /* overlong '/' */
		{"\xed\xa0\x80", "signer %ED%A0%80\n"}, /* surrogate */
		{"\xf4\x90\x80\x80", "signer %F4%90%80%80\n"}, /* > U+10FFFF */
		{"\xf5\x80\x80\x80", "signer %F5%80%80%80\n"},
		{"\xe2\x82", "signer %E2%82\n"}, /* truncated */
		{"\xe2\x82x", "signer %E2%82x\n"},
		{"\x80\xbf", "signer %80%BF\n"}, /* lone continuation */
		{"\xff\xfe", "signer %FF%FE\n"},
		{"\xc3\xbc\xc3", "signer \xc3\xbc%C3\n"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(manifest_freep) struct manifest m = {0}, back = {0};
		_cleanup_(freep) char *out = NULL;
		size_t len = 0;

		parse_ok(good, &m);
		set(&m.mods[0].signer, cases[i].plain);
		assert_int_equal(manifest_format(&m, &out, &len), 0);
		if (!strstr(out, cases[i].line))
			print_error("case %zu: want %s", i, cases[i].line);
		assert_non_null(strstr(out, cases[i].line));
		parse_ok(out, &back);
		assert_string_equal(back.mods[0].signer, cases[i].plain);
	}
}

struct refusal {
	const char *from, *to, *why;
};

static const struct refusal refusals[] = {
	/* The first line and the header. */
	{"dkms-boot-cache 1\n", "dkms-boot-cache 2\n",
	 "line 1: not a \"dkms-boot-cache 1\" manifest"},
	{"dkms-boot-cache 1\n", "", "line 1: not a"},
	{"dkms-boot-cache 1\n", "dkms-boot-cache 1 \n", "line 1: not a"},
	{"package dkb-clean\n", "",
	 "line 2: no \"package\" line before \"version\""},
	{"package dkb-clean\nversion 1.0\n", "version 1.0\npackage dkb-clean\n",
	 "line 2: no \"package\" line before \"version\""},
	{"created 1764000000\n", "",
	 "line 7: no \"created\" line before the modules"},
	{"arch x86_64\n", "arch x86_64\narch x86_64\n",
	 "line 6: duplicate \"arch\" line"},
	{"arch x86_64\n", "arch x86_64\nfoo bar\n",
	 "line 6: unknown key \"foo\""},
	{"arch x86_64\n", "arch x86_64\nfoo\n", "line 6: unknown key \"foo\""},
	{"package ", "Package ", "line 2: unknown key \"Package\""},
	{"arch x86_64\n", "arch x86_64\n\x01x y\n",
	 "line 6: unknown key \"?\""},
	{"created 1764000000\n", "created 1764000000\nfile x.ko.zst\n",
	 "line 8: \"file\" before the first \"module\" line"},
	/* Module records. */
	{"location /updates/dkms\n", "location /updates/dkms\nkernel 6.1\n",
	 "line 13: header key \"kernel\" inside a module record"},
	{"sha256 " SHA_A "\n", "",
	 "line 11: no \"sha256\" line before \"location\""},
	{"vermagic 6.1.0-56-amd64 SMP mod_unload\n", "",
	 "line 25: module \"other\" (line 20) has no \"vermagic\" line"},
	{"srcversion 0123ABC\nmodversion 1.0\n",
	 "modversion 1.0\nsrcversion 0123ABC\n",
	 "line 15: \"srcversion\" out of order: it goes before \"modversion\""},
	{"depends\n", "depends\ndepends\n",
	 "line 17: duplicate \"depends\" line"},
	{"module other\n", "module dkb_clean\n",
	 "line 20: module \"dkb_clean\" listed twice"},
	{"module other\n", "module\n", "line 20: module: empty name"},
	{"file other.ko.zst", "file other.ko",
	 "line 21: file: file is not <module>.ko.zst"},
	{"file other.ko.zst", "file dkb_clean.ko.zst",
	 "line 21: file: file is not"},
	{"file other.ko.zst", "file other.ko.zstd",
	 "line 21: file: file is not"},
	{"file other.ko.zst", "file", "line 21: file: empty value"},
	/* Values by kind. */
	{"sha256 " SHA_B,
	 "sha256 "
	 "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210",
	 "line 23: sha256: sha256 is not 64 lowercase hex digits"},
	{"sha256 " SHA_B, "sha256 fedcba", "line 23: sha256: sha256 is not"},
	{"sha256 " SHA_B, "sha256 " SHA_B "0",
	 "line 23: sha256: sha256 is not"},
	{"sha256 " SHA_B, "sha256 " SHA_A "%20",
	 "line 23: sha256: sha256 is not"},
	{"size 0\n", "size 00\n", "line 22: size: not a decimal number"},
	{"size 0\n", "size -1\n", "line 22: size: not a decimal number"},
	{"size 0\n", "size +1\n", "line 22: size: not a decimal number"},
	{"size 0\n", "size 0x10\n", "line 22: size: not a decimal number"},
	{"size 0\n", "size 1 2\n", "line 22: size: not a decimal number"},
	{"size 0\n", "size\n", "line 22: size: not a decimal number"},
	{"size 0\n", "size 18446744073709551616\n",
	 "line 22: size: number out of range"},
	{"created 1764000000", "created -1", "line 7: created: not a decimal"},
	{"created 1764000000", "created 9223372036854775808",
	 "line 7: created: number out of range"},
	{"origin dkms-tree", "origin dkms", "line 6: origin: origin is not"},
	{"origin dkms-tree",
	 "origin tarball:", "line 6: origin: origin is not"},
	{"origin dkms-tree", "origin", "line 6: origin: origin is not"},
	{"package dkb-clean", "package ..",
	 "line 2: package: name \".\" or \"..\""},
	{"version 1.0", "version .", "line 3: version: name \".\" or \"..\""},
	{"package dkb-clean", "package a/b", "line 2: package: '/' in a name"},
	{"package dkb-clean", "package a%2Fb",
	 "line 2: value not in canonical form"},
	{"kernel 6.1.0-56-amd64", "kernel 6.1%09x",
	 "line 4: kernel: control character"},
	{"kernel 6.1.0-56-amd64", "kernel 6.1%7Fx",
	 "line 4: kernel: control character"},
	{"arch x86_64", "arch -x", "line 5: arch: name starts with '-'"},
	{"version 1.0", "version", "line 3: version: empty name"},
	{"module dkb_clean", "module ../dkb_clean",
	 "line 8: module: '/' in a name"},
	{"vermagic 6.1.0-56-amd64 SMP mod_unload", "vermagic",
	 "line 25: vermagic: empty value"},
	{"location /updates/dkms", "location updates/dkms",
	 "line 12: location: location does not start with '/'"},
	{"location /updates/dkms", "location /updates/../../etc",
	 "line 12: location: \".\" or \"..\" in location"},
	{"location /updates/dkms", "location /updates/..",
	 "line 12: location: \".\" or"},
	{"location /updates/dkms", "location /./updates",
	 "line 12: location: \".\" or"},
	{"location /updates/dkms", "location /updates//dkms",
	 "line 12: location: empty component in location"},
	{"location /updates/dkms", "location /updates/",
	 "line 12: location: empty component"},
	{"location /updates/dkms", "location /",
	 "line 12: location: empty component"},
	{"location /updates/dkms", "location /a%0Ab",
	 "line 12: location: control character"},
	/* Line syntax. */
	{"arch x86_64\n", "arch x86_64\n\n", "line 6: empty line"},
	{"arch x86_64\n", " arch x86_64\n", "line 5: line starts with a space"},
	{"srcversion 0123ABC", "srcversion ",
	 "line 14: space after the key but no value"},
	{"srcversion 0123ABC", "srcversion  0123ABC",
	 "line 14: value not in canonical form"},
	{"srcversion 0123ABC", "srcversion 0123ABC ",
	 "line 14: value not in canonical form"},
	{"arch x86_64\n", "arch x86_64\r\n", "line 5: raw control byte 0x0d"},
	{"arch x86_64\n", "arch x86\t64\n", "line 5: raw control byte 0x09"},
	/* Escapes. */
	{"signer dkms-boot test", "signer %", "line 17: bad %-escape"},
	{"signer dkms-boot test", "signer %4", "line 17: bad %-escape"},
	{"signer dkms-boot test", "signer a%4", "line 17: bad %-escape"},
	{"signer dkms-boot test", "signer %4g", "line 17: bad %-escape"},
	{"signer dkms-boot test", "signer %g4", "line 17: bad %-escape"},
	{"signer dkms-boot test", "signer %2f", "line 17: bad %-escape"},
	{"signer dkms-boot test", "signer %-1", "line 17: bad %-escape"},
	{"signer dkms-boot test", "signer %00", "line 17: %00 in a value"},
	{"signer dkms-boot test", "signer %41",
	 "line 17: value not in canonical form"},
	{"signer dkms-boot test", "signer a%20b",
	 "line 17: value not in canonical"},
	{"signer dkms-boot test", "signer %C3%BC",
	 "line 17: value not in canonical"},
	{"signer dkms-boot test", "signer \x7f",
	 "line 17: raw control byte 0x7f"},
	{"signer dkms-boot test", "signer \xff",
	 "line 17: value not in canonical"},
	{"signer dkms-boot test", "signer \xc2\x85",
	 "line 17: value not in canonical"},
	{"signer dkms-boot test", "signer \xed\xa0\x80",
	 "line 17: value not in canonical"},
	{"signer dkms-boot test", "signer \xe2\x82",
	 "line 17: value not in canonical"},
	/* The end. */
	{"end\n", "end x\n", "line 26: \"end\" takes no value"},
	{"end\n", "end \n", "line 26: space after the key but no value"},
	{"end\n", "end\n\n", "line 26: data after the \"end\" line"},
	{"end\n", "end\nend\n", "line 26: data after the \"end\" line"},
	{"end\n", "end", "line 26: no newline at the end (truncated?)"},
	{"end\n", "", "line 26: no \"end\" line (truncated?)"},
	{"end\n", "en", "line 26: no newline at the end"},
	{"end\n", "END\n", "line 26: unknown key \"END\""},
};

static void test_refusals(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
		_cleanup_(freep) char *text =
			subst(refusals[i].from, refusals[i].to);
		struct manifest m;
		char why[256] = "";

		memset(&m, 0x5a, sizeof(m));
		if (manifest_parse(text, strlen(text), &m, why, sizeof(why)) !=
			    -EBADMSG ||
		    !startswith(why, refusals[i].why))
			print_error("case %zu: want \"%s\", got \"%s\"\n", i,
				    refusals[i].why, why);
		assert_true(startswith(why, refusals[i].why));
		/* Nothing is handed back half-filled. */
		assert_null(m.package);
		assert_null(m.mods);
		assert_int_equal(m.n_mods, 0);
	}
}

static void test_refusals_odd_buffers(void **state)
{
	_cleanup_(freep) char *big = NULL;
	struct manifest m = {0};
	char why[128];
	static const char header_only[] =
		"dkms-boot-cache 1\npackage p\nversion 1\nkernel k\narch a\n"
		"origin build\ncreated 0\nend\n";
	char with_nul[sizeof(good)];

	/* A NUL byte is not a line terminator and not a value byte. */
	memcpy(with_nul, good, sizeof(good));
	with_nul[strstr(good, "clean") - good] = '\0';
	assert_int_equal(manifest_parse(with_nul, sizeof(good) - 1, &m, why,
					sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "line 2: raw control byte 0x00 in a value");

	assert_int_equal(manifest_parse("", 0, &m, why, sizeof(why)), -EBADMSG);
	assert_string_equal(why, "line 1: empty manifest");

	assert_int_equal(manifest_parse(header_only, strlen(header_only), &m,
					why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "line 8: no module records");

	big = malloc(MANIFEST_MAX_SIZE + 1);
	assert_non_null(big);
	memset(big, 'x', MANIFEST_MAX_SIZE + 1);
	assert_int_equal(manifest_parse(big, MANIFEST_MAX_SIZE + 1, &m, why,
					sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why,
			    "manifest of 1048577 bytes, more than 1048576");

	/* No room for a reason, or a short one: still refused, never overrun.
	 */
	assert_int_equal(manifest_parse(good, 5, &m, NULL, 0), -EBADMSG);
	why[0] = 'x';
	assert_int_equal(manifest_parse(good, 5, &m, why, 0), -EBADMSG);
	assert_int_equal(why[0], 'x');
	assert_int_equal(manifest_parse(good, 5, &m, why, 8), -EBADMSG);
	assert_string_equal(why, "line..."); /* lib/why marks the cut */
}

/* A manifest with n modules "m0".."m<n-1>" and the given signer. */
static char *many(size_t n, const char *signer_line)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fputs("dkms-boot-cache 1\npackage p\nversion 1\nkernel k\narch a\n"
	      "origin build\ncreated 0\n",
	      f);
	for (size_t i = 0; i < n; i++)
		fprintf(f,
			"module m%zu\nfile m%zu.ko.zst\nsize 1\nsha256 " SHA_A
			"\nlocation /extra\nvermagic v\n%s\n",
			i, i, signer_line);
	fputs("end\n", f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_limits(void **state)
{
	_cleanup_(freep) char *v4096 = malloc(4097 + 8);
	_cleanup_(freep) char *line = NULL;
	struct manifest m = {0};
	char why[128];
	char *text;

	text = many(MANIFEST_MAX_MODULES, "depends");
	parse_ok(text, &m);
	assert_int_equal(m.n_mods, MANIFEST_MAX_MODULES);
	manifest_free(&m);
	free(text);

	text = many(MANIFEST_MAX_MODULES + 1, "depends");
	assert_int_equal(
		manifest_parse(text, strlen(text), &m, why, sizeof(why)),
		-EBADMSG);
	assert_true(startswith(why, "line 1800: more than 256 modules"));
	free(text);

	/* 4096 bytes of value, plain or encoded, and one more. */
	assert_non_null(v4096);
	memset(v4096, 'v', 4096);
	v4096[4096] = '\0';
	line = xasprintf("signer %s", v4096);
	text = many(1, line);
	parse_ok(text, &m);
	assert_int_equal(strlen(m.mods[0].signer), 4096);
	manifest_free(&m);
	free(text);
	free(line);

	line = xasprintf("signer v%s", v4096);
	text = many(1, line);
	assert_int_equal(
		manifest_parse(text, strlen(text), &m, why, sizeof(why)),
		-EBADMSG);
	assert_string_equal(why, "line 14: value longer than 4096 bytes");
	free(text);
	free(line);

	line = malloc(7 + 3 * 4097 + 1);
	assert_non_null(line);
	strcpy(line, "signer ");
	for (size_t i = 0; i < 4097; i++)
		strcpy(line + 7 + 3 * i, "%25");
	text = many(1, line);
	assert_int_equal(
		manifest_parse(text, strlen(text), &m, why, sizeof(why)),
		-EBADMSG);
	assert_string_equal(why, "line 14: value longer than 4096 bytes");
	free(text);
	line[7 + 3 * 4096] = '\0';
	text = many(1, line);
	parse_ok(text, &m);
	assert_int_equal(strlen(m.mods[0].signer), 4096);
	manifest_free(&m);
	free(text);

	/* Names are path components: NAME_MAX at most. */
	memset(v4096, 'n', 256);
	v4096[255] = '\0';
	free(line);
	line = xasprintf("package %s\n", v4096);
	text = subst("package dkb-clean\n", line);
	parse_ok(text, &m);
	manifest_free(&m);
	free(text);
	free(line);
	v4096[255] = 'n';
	v4096[256] = '\0';
	line = xasprintf("package %s\n", v4096);
	text = subst("package dkb-clean\n", line);
	assert_int_equal(
		manifest_parse(text, strlen(text), &m, why, sizeof(why)),
		-EBADMSG);
	assert_string_equal(why, "line 2: package: name longer than NAME_MAX");
	free(text);
}

/* The writer keeps the parser's rules: it never writes what cannot be read. */
static void test_format_refuses(void **state)
{
	static const struct {
		size_t off; /* into struct manifest_module, or SIZE_MAX */
		size_t hoff;
		const char *value;
	} bad[] = {
#define H(f, v) {SIZE_MAX, offsetof(struct manifest, f), v}
#define M(f, v)                                                                \
	{                                                                      \
		offsetof(struct manifest_module, f), 0, v                      \
	}
		H(package, NULL),	H(package, "a/b"),
		H(version, ".."),	H(kernel, ""),
		H(arch, "-m64"),	H(origin, "cdrom"),
		M(name, NULL),		M(name, "x\ny"),
		M(file, NULL),		M(file, "x.ko.zst"),
		M(sha256, "00"),	M(location, "updates"),
		M(location, "/a/../b"), M(vermagic, NULL),
		M(vermagic, ""),	M(name, "other"),
#undef H
#undef M
	};
	_cleanup_(freep) char *out = NULL;
	_cleanup_(freep) char *huge = NULL;
	size_t len = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_(manifest_freep) struct manifest m = {0};
		char **field;

		parse_ok(good, &m);
		field = bad[i].off == SIZE_MAX
				? (char **)((char *)&m + bad[i].hoff)
				: (char **)((char *)&m.mods[0] + bad[i].off);
		set(field, bad[i].value);
		assert_int_equal(manifest_format(&m, &out, &len), -EINVAL);
		assert_null(out);
	}

	{
		_cleanup_(manifest_freep) struct manifest m = {0};

		parse_ok(good, &m);
		m.created = -1;
		assert_int_equal(manifest_format(&m, &out, &len), -EINVAL);
		m.created = 0;
		m.n_mods = 0;
		assert_int_equal(manifest_format(&m, &out, &len), -EINVAL);
		m.n_mods = 2;
		huge = malloc(4098);
		assert_non_null(huge);
		memset(huge, 'h', 4097);
		huge[4097] = '\0';
		set(&m.mods[1].depends, huge);
		assert_int_equal(manifest_format(&m, &out, &len), -EINVAL);
		huge[4096] = '\0';
		set(&m.mods[1].depends, huge);
		assert_int_equal(manifest_format(&m, &out, &len), 0);
		free(out);
		out = NULL;
	}

	{
		/* 256 modules of 12 KiB lines each: too big to be read back. */
		_cleanup_(freep) char *text =
			many(MANIFEST_MAX_MODULES, "depends");
		_cleanup_(manifest_freep) struct manifest m = {0};

		parse_ok(text, &m);
		memset(huge, '%', 4096);
		for (size_t i = 0; i < m.n_mods; i++)
			set(&m.mods[i].depends, huge);
		assert_int_equal(manifest_format(&m, &out, &len), -EFBIG);
		assert_null(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_from_struct),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_refusals_odd_buffers),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_format_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
