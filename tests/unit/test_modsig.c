// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Module signatures: PKCS#7 messages built here byte by byte for the
 * rules, and real modules (a hello module built with Kbuild, signed by the
 * kernel's sign-file with keys made by openssl) compared field by field
 * with what the host's modinfo (kmod with OpenSSL) prints.  Every
 * truncation and every corrupted byte of a real trailer must be refused
 * cleanly.
 */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"
#include "module/modsig.h"

#define K	  "6.1.0-56-amd64"
#define KBUILD	  "/lib/modules/" K "/build"
#define SIGN_FILE "/usr/lib/linux-kbuild-6.1/scripts/sign-file"
#define MAGIC	  "~Module signature appended~\n"

/* ---- a DER builder over an arena, reset per test --------------------- */

struct blob {
	const uint8_t *p;
	size_t n;
};

static uint8_t arena[1 << 20];
static size_t used;

static uint8_t *take(size_t n)
{
	uint8_t *p = arena + used;

	assert_true(n <= sizeof(arena) - used);
	used += n;
	return p;
}

static struct blob cat(size_t k, const struct blob *parts)
{
	size_t n = 0;
	uint8_t *p;

	for (size_t i = 0; i < k; i++)
		n += parts[i].n;
	p = take(n);
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (parts[i].n)
			memcpy(p + n, parts[i].p, parts[i].n);
		n += parts[i].n;
	}
	return (struct blob){p, n};
}

static struct blob tlv(uint8_t tag, size_t k, const struct blob *parts)
{
	struct blob body = cat(k, parts);
	uint8_t *h = take(6);
	size_t hn = 0;

	h[hn++] = tag;
	if (body.n < 0x80) {
		h[hn++] = (uint8_t)body.n;
	} else if (body.n < 0x100) {
		h[hn++] = 0x81;
		h[hn++] = (uint8_t)body.n;
	} else {
		h[hn++] = 0x82;
		h[hn++] = (uint8_t)(body.n >> 8);
		h[hn++] = (uint8_t)body.n;
	}
	return cat(2, (struct blob[]){{h, hn}, body});
}

#define PARTS(...) ((const struct blob[]){__VA_ARGS__})
#define TLV(tag, ...)                                                          \
	tlv(tag, sizeof(PARTS(__VA_ARGS__)) / sizeof(struct blob),             \
	    PARTS(__VA_ARGS__))
#define BYTES(...)                                                             \
	((struct blob){(const uint8_t[]){__VA_ARGS__},                         \
		       sizeof((const uint8_t[]){__VA_ARGS__})})
#define STR(s)	((struct blob){(const uint8_t *)(s), sizeof(s) - 1})
#define NOTHING ((struct blob){NULL, 0})

#define SEQ(...) TLV(0x30, __VA_ARGS__)
#define SET(...) TLV(0x31, __VA_ARGS__)
#define OID(...) TLV(0x06, BYTES(__VA_ARGS__))
#define INT(...) TLV(0x02, BYTES(__VA_ARGS__))

#define OID_CN	   OID(0x55, 0x04, 0x03)
#define OID_O	   OID(0x55, 0x04, 0x0a)
#define OID_OU	   OID(0x55, 0x04, 0x0b)
#define OID_SHA256 OID(0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01)
#define OID_RSA	   OID(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01)
#define OID_DATA   OID(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01)
#define OID_SIGNED OID(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02)

/* One attribute of a Name: a one-element RDN. */
static struct blob rdn(struct blob oid, uint8_t tag, struct blob value)
{
	return SET(SEQ(oid, TLV(tag, value)));
}

static struct blob issuer_serial(struct blob name, struct blob serial)
{
	return SEQ(name, TLV(0x02, serial));
}

/* SignerInfo with the given version, sid and digest OID. */
static struct blob signer_info(uint8_t version, struct blob sid,
			       struct blob digest)
{
	return SEQ(INT(version), sid, SEQ(digest, TLV(0x05, NOTHING)),
		   SEQ(OID_RSA, TLV(0x05, NOTHING)),
		   TLV(0x04, BYTES(0xde, 0xad, 0xbe, 0xef)));
}

/* ContentInfo around SignedData with these (encoded) signerInfos. */
static struct blob content_info_extra(struct blob infos, struct blob extra)
{
	return SEQ(
		OID_SIGNED,
		TLV(0xa0, SEQ(INT(1), SET(SEQ(OID_SHA256, TLV(0x05, NOTHING))),
			      SEQ(OID_DATA), extra, infos)));
}

static struct blob content_info(struct blob infos)
{
	return content_info_extra(infos, NOTHING);
}

static struct blob pkcs7(struct blob name, struct blob serial,
			 struct blob digest)
{
	return content_info(
		SET(signer_info(1, issuer_serial(name, serial), digest)));
}

static struct blob simple_pkcs7(void)
{
	return pkcs7(SEQ(rdn(OID_CN, 0x0c, STR("dkms-boot test"))), BYTES(0x01),
		     OID_SHA256);
}

/* "X" (the module), sig, the header, the magic. */
static struct blob signed_module_hdr(struct blob sig, const uint8_t hdr[8])
{
	uint8_t *t = take(12);

	memcpy(t, hdr, 8);
	t[8] = (uint8_t)(sig.n >> 24);
	t[9] = (uint8_t)(sig.n >> 16);
	t[10] = (uint8_t)(sig.n >> 8);
	t[11] = (uint8_t)sig.n;
	return cat(4, PARTS(STR("X"), sig, ((struct blob){t, 12}), STR(MAGIC)));
}

static struct blob signed_module(struct blob sig)
{
	static const uint8_t hdr[8] = {0, 0, 2, 0, 0, 0, 0, 0};

	return signed_module_hdr(sig, hdr);
}

static void assert_empty(const struct modsig *s)
{
	assert_null(s->signer);
	assert_null(s->sig_key);
	assert_null(s->sig_hashalgo);
	assert_null(s->sig_id);
}

static int read_blob(struct blob b, struct modsig *s)
{
	int r = modsig_read(b.p, b.n, s);

	if (r < 0)
		assert_empty(s);
	return r;
}

static void expect(struct blob sig, const char *signer, const char *key,
		   const char *hash)
{
	struct modsig s;

	assert_int_equal(read_blob(signed_module(sig), &s), 0);
	assert_string_equal(s.signer, signer);
	assert_string_equal(s.sig_key, key);
	assert_string_equal(s.sig_hashalgo, hash);
	assert_string_equal(s.sig_id, "PKCS#7");
	modsig_free(&s);
	assert_empty(&s);
}

static void expect_bad(struct blob sig)
{
	struct modsig s;

	assert_int_equal(read_blob(signed_module(sig), &s), -EBADMSG);
}

static int reset_arena(void **state)
{
	used = 0;
	return 0;
}

/* ---- the trailer ----------------------------------------------------- */

static void test_unsigned(void **state)
{
	struct modsig s;

	assert_int_equal(modsig_read("", 0, &s), -ENODATA);
	assert_empty(&s);
	assert_int_equal(modsig_read("\177ELF", 4, &s), -ENODATA);
	assert_int_equal(modsig_read(MAGIC, strlen(MAGIC) - 1, &s), -ENODATA);
	assert_int_equal(modsig_read(&MAGIC[1], strlen(MAGIC) - 1, &s),
			 -ENODATA);
	/* The magic without room for the header before it. */
	assert_int_equal(modsig_read(MAGIC, strlen(MAGIC), &s), -EBADMSG);
	assert_empty(&s);
	assert_int_equal(
		modsig_read("12345678901" MAGIC, 11 + strlen(MAGIC), &s),
		-EBADMSG);
}

static void test_trailer_header(void **state)
{
	static const uint8_t bad[][8] = {
		{1, 0, 2, 0, 0, 0, 0, 0}, /* algo */
		{0, 4, 2, 0, 0, 0, 0, 0}, /* hash */
		{0, 0, 0, 0, 0, 0, 0, 0}, /* PGP */
		{0, 0, 1, 0, 0, 0, 0, 0}, /* X509 */
		{0, 0, 3, 0, 0, 0, 0, 0},
		{0, 0, 2, 1, 0, 0, 0, 0}, /* signer_len */
		{0, 0, 2, 0, 1, 0, 0, 0}, /* key_id_len */
		{0, 0, 2, 0, 0, 1, 0, 0}, /* padding */
		{0, 0, 2, 0, 0, 0, 0, 0x80},
	};
	struct blob sig = simple_pkcs7(), m;
	struct modsig s;
	uint8_t *w;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(read_blob(signed_module_hdr(sig, bad[i]), &s),
				 -EBADMSG);

	/* sig_len: 0, one too many (no module byte left), 2^32 - 1. */
	m = signed_module(sig);
	w = (uint8_t *)m.p + m.n - strlen(MAGIC) - 4;
	memset(w, 0, 4);
	assert_int_equal(read_blob(m, &s), -EBADMSG);
	w[2] = (uint8_t)((sig.n + 1) >> 8);
	w[3] = (uint8_t)(sig.n + 1);
	assert_int_equal(read_blob(m, &s), -EBADMSG);
	memset(w, 0xff, 4);
	assert_int_equal(read_blob(m, &s), -EBADMSG);
	/* Exactly one byte of module is enough. */
	w[0] = w[1] = 0;
	w[2] = (uint8_t)(sig.n >> 8);
	w[3] = (uint8_t)sig.n;
	assert_int_equal(read_blob(m, &s), 0);
	modsig_free(&s);
	assert_int_equal(read_blob((struct blob){m.p + 1, m.n - 1}, &s),
			 -EBADMSG);
}

/* ---- the fields ------------------------------------------------------ */

static void test_signer(void **state)
{
	struct blob cn = rdn(OID_CN, 0x0c, STR("cn")),
		    o = rdn(OID_O, 0x0c, STR("org")),
		    ou = rdn(OID_OU, 0x13, STR("unit")), one = BYTES(0x01);

	expect(pkcs7(SEQ(cn), one, OID_SHA256), "cn", "01", "sha256");
	expect(pkcs7(SEQ(o, cn, ou), one, OID_SHA256), "cn", "01", "sha256");
	/* The first commonName wins. */
	expect(pkcs7(SEQ(rdn(OID_CN, 0x0c, STR("first")), o, cn), one,
		     OID_SHA256),
	       "first", "01", "sha256");
	/* No commonName: the last attribute's value, whatever it is. */
	expect(pkcs7(SEQ(o, ou), one, OID_SHA256), "unit", "01", "sha256");
	expect(pkcs7(SEQ(ou, rdn(OID(0x2a, 0x03), 0x16, STR("a@b.c"))), one,
		     OID_SHA256),
	       "a@b.c", "01", "sha256");
	/* No attribute at all: nothing. */
	expect(pkcs7(SEQ(NOTHING), one, OID_SHA256), "", "01", "sha256");
	/* Multi-valued RDN: entries in order. */
	expect(pkcs7(SEQ(SET(SEQ(OID_O, TLV(0x0c, STR("o"))),
			     SEQ(OID_CN, TLV(0x0c, STR("c"))))),
		     one, OID_SHA256),
	       "c", "01", "sha256");
	/* Raw string bytes up to the first NUL, as kmod takes them. */
	expect(pkcs7(SEQ(rdn(OID_CN, 0x1e, BYTES(0x03, 0xa9, 0x00, 0x78))), one,
		     OID_SHA256),
	       "\x03\xa9", "01", "sha256");
	expect(pkcs7(SEQ(rdn(OID_CN, 0x14, STR("J\xfcrgen"))), one, OID_SHA256),
	       "J\xfcrgen", "01", "sha256");
	expect(pkcs7(SEQ(rdn(OID_CN, 0x0c, NOTHING)), one, OID_SHA256), "",
	       "01", "sha256");

	/* Not a Name. */
	expect_bad(pkcs7(SEQ(rdn(OID_CN, 0x02, BYTES(1))), one, OID_SHA256));
	expect_bad(pkcs7(SEQ(rdn(OID_CN, 0x30, NOTHING)), one, OID_SHA256));
	expect_bad(pkcs7(SEQ(SET(NOTHING)), one, OID_SHA256));
	expect_bad(pkcs7(SEQ(SEQ(SEQ(OID_CN, TLV(0x0c, STR("x"))))), one,
			 OID_SHA256));
	expect_bad(pkcs7(SEQ(SET(SEQ(OID_CN))), one, OID_SHA256));
	expect_bad(pkcs7(SEQ(SET(SEQ(OID_CN, TLV(0x0c, STR("x")), INT(1)))),
			 one, OID_SHA256));
	expect_bad(pkcs7(SEQ(SET(SEQ(INT(1), TLV(0x0c, STR("x"))))), one,
			 OID_SHA256));
}

static void test_serial(void **state)
{
	static const struct {
		uint8_t b[8];
		size_t n;
		const char *key;
	} ok[] = {
		{{0x01}, 1, "01"},
		{{0x7f}, 1, "7F"},
		{{0x00, 0x80}, 2, "80"}, /* the sign byte is not shown */
		{{0x00, 0xff, 0xff}, 3, "FF:FF"},
		{{0x00}, 1, ""},   /* zero: nothing */
		{{0xff}, 1, "01"}, /* -1: the magnitude */
		{{0xed, 0xcc}, 2, "12:34"},
		{{0x80}, 1, "80"},
		{{0x80, 0x00}, 2, "80:00"},
		{{0xff, 0x7f}, 2, "81"},
		{{0x01, 0x00, 0x00, 0x00}, 4, "01:00:00:00"},
	};
	static const struct {
		uint8_t b[4];
		size_t n;
	} bad[] = {
		{{0}, 0},	   /* empty */
		{{0x00, 0x01}, 2}, /* needless 0x00 */
		{{0x00, 0x00, 0x80}, 3},
		{{0xff, 0x80}, 2}, /* needless 0xff */
	};
	struct blob name = SEQ(rdn(OID_CN, 0x0c, STR("k")));
	uint8_t big[40];
	char want[3 * 40 + 1];

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		expect(pkcs7(name, (struct blob){ok[i].b, ok[i].n}, OID_SHA256),
		       "k", ok[i].key, "sha256");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_bad(pkcs7(name, (struct blob){bad[i].b, bad[i].n},
				 OID_SHA256));

	/* Longer than X.509's 20 bytes: still one line. */
	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = (uint8_t)(i + 1);
		sprintf(want + 3 * i, "%02X:", (unsigned)big[i]);
	}
	want[3 * sizeof(big) - 1] = '\0';
	expect(pkcs7(name, (struct blob){big, sizeof(big)}, OID_SHA256), "k",
	       want, "sha256");
}

static void test_hash_names(void **state)
{
	static const struct {
		uint8_t b[12];
		size_t n;
		const char *name;
	} ok[] = {
		{{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x04}, 8, "md4"},
		{{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05}, 8, "md5"},
		{{0x2b, 0x0e, 0x03, 0x02, 0x1a}, 5, "sha1"},
		{{0x2b, 0x24, 0x03, 0x02, 0x01}, 5, "rmd160"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01},
		 9,
		 "sha256"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02},
		 9,
		 "sha384"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03},
		 9,
		 "sha512"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04},
		 9,
		 "sha224"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x08},
		 9,
		 "sha3-256"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x09},
		 9,
		 "sha3-384"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0a},
		 9,
		 "sha3-512"},
		{{0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x11}, 8, "sm3"},
		/* Unknown: the dotted form. */
		{{0x2a, 0x03, 0x04}, 3, "1.2.3.4"},
		{{0x00}, 1, "0.0"},
		{{0x27}, 1, "0.39"},
		{{0x28}, 1, "1.0"},
		{{0x4f, 0x7f}, 2, "1.39.127"},
		{{0x50}, 1, "2.0"},
		{{0x88, 0x37, 0x01}, 3, "2.999.1"},
		{{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x0b},
		 9,
		 "2.16.840.1.101.3.4.2.11"},
		{{0x2a, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0x7f},
		 11,
		 "1.2.18446744073709551615"},
	};
	static const struct {
		uint8_t b[12];
		size_t n;
	} bad[] = {
		{{0}, 0},		 /* empty */
		{{0x2a, 0x80, 0x01}, 3}, /* needless 0x80 */
		{{0x80, 0x01}, 2},
		{{0x2a, 0x86}, 2}, /* truncated */
		{{0x2a, 0x82, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
		  0x00},
		 11}, /* 2^64 */
	};
	struct blob name = SEQ(rdn(OID_CN, 0x0c, STR("h")));

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		expect(pkcs7(name, BYTES(0x01),
			     TLV(0x06, ((struct blob){ok[i].b, ok[i].n}))),
		       "h", "01", ok[i].name);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_bad(
			pkcs7(name, BYTES(0x01),
			      TLV(0x06, ((struct blob){bad[i].b, bad[i].n}))));
}

/* CMS version 3: the key named by subjectKeyIdentifier. */
static void test_key_identifier(void **state)
{
	struct blob skid = TLV(0x80, BYTES(0x0a, 0xbc, 0x00));
	struct blob ias =
		issuer_serial(SEQ(rdn(OID_CN, 0x0c, STR("x"))), BYTES(0x01));

	expect(content_info(SET(signer_info(3, skid, OID_SHA256))), "",
	       "0A:BC:00", "sha256");
	/* The version and the kind of identifier go together. */
	expect_bad(content_info(SET(signer_info(3, ias, OID_SHA256))));
	expect_bad(content_info(SET(signer_info(1, skid, OID_SHA256))));
	expect_bad(content_info(SET(signer_info(2, ias, OID_SHA256))));
	expect_bad(content_info(SET(signer_info(0, ias, OID_SHA256))));
	expect_bad(content_info(
		SET(signer_info(3, TLV(0x80, NOTHING), OID_SHA256))));
}

static void test_structure(void **state)
{
	struct blob name = SEQ(rdn(OID_CN, 0x0c, STR("s")));
	struct blob si =
		signer_info(1, issuer_serial(name, BYTES(0x05)), OID_SHA256);
	struct blob si2 =
		signer_info(1,
			    issuer_serial(SEQ(rdn(OID_CN, 0x0c, STR("second"))),
					  BYTES(0x06)),
			    OID_SHA256);
	struct blob deep = NOTHING, good = content_info(SET(si));
	uint8_t *w;

	/* The first SignerInfo is the one shown. */
	expect(content_info(SET(si, si2)), "s", "05", "sha256");
	/* Certificates and CRLs are passed over, if well-formed. */
	expect(content_info_extra(SET(si), TLV(0xa0, SEQ(INT(1)))), "s", "05",
	       "sha256");
	expect(content_info_extra(SET(si), cat(2, PARTS(TLV(0xa0, SEQ(INT(1))),
							TLV(0xa1, NOTHING)))),
	       "s", "05", "sha256");
	/* Signed and unsigned attributes too. */
	expect(content_info(SET(SEQ(INT(1), issuer_serial(name, BYTES(0x05)),
				    SEQ(OID_SHA256), TLV(0xa0, SEQ(OID_DATA)),
				    SEQ(OID_RSA), TLV(0x04, BYTES(1)),
				    TLV(0xa1, NOTHING)))),
	       "s", "05", "sha256");

	/* Nesting: 30 levels inside the certificates pass, 40 do not. */
	for (int i = 0; i < 24; i++)
		deep = SEQ(deep);
	expect(content_info_extra(SET(si), TLV(0xa0, deep)), "s", "05",
	       "sha256");
	for (int i = 0; i < 16; i++)
		deep = SEQ(deep);
	expect_bad(content_info_extra(SET(si), TLV(0xa0, deep)));

	/* What SignedData and SignerInfo must have. */
	expect_bad(content_info(SET(NOTHING)));
	expect_bad(content_info(SEQ(si)));
	expect_bad(content_info_extra(SET(si), TLV(0xa2, NOTHING)));
	expect_bad(SEQ(OID_DATA, TLV(0xa0, SEQ(NOTHING))));
	expect_bad(SEQ(OID_SIGNED));
	expect_bad(SEQ(OID_SIGNED, TLV(0xa1, SEQ(NOTHING))));
	expect_bad(SEQ(OID_SIGNED,
		       TLV(0xa0, SEQ(INT(1), SET(NOTHING), SEQ(OID_DATA),
				     SET(si), INT(0)))));
	expect_bad(SEQ(OID_SIGNED, TLV(0xa0, SEQ(INT(2), SET(NOTHING),
						 SEQ(OID_DATA), SET(si)))));
	expect_bad(SEQ(OID_SIGNED,
		       TLV(0xa0, SEQ(INT(1), SEQ(OID_DATA), SET(si)))));
	expect_bad(content_info(SET(SEQ(INT(1), issuer_serial(name, BYTES(5)),
					SEQ(OID_SHA256), SEQ(OID_RSA)))));
	expect_bad(content_info(
		SET(SEQ(INT(1), issuer_serial(name, BYTES(5)), SEQ(OID_SHA256),
			SEQ(OID_RSA), TLV(0x04, NOTHING), INT(1)))));
	expect_bad(content_info(
		SET(SEQ(INT(1), issuer_serial(name, BYTES(5)), SEQ(INT(1)),
			SEQ(OID_RSA), TLV(0x04, NOTHING)))));
	expect_bad(content_info(
		SET(SEQ(INT(1), SEQ(name, TLV(0x02, BYTES(5)), INT(1)),
			SEQ(OID_SHA256), SEQ(OID_RSA), TLV(0x04, NOTHING)))));
	/* Anything after the ContentInfo. */
	expect_bad(cat(2, PARTS(good, BYTES(0x00))));
	expect_bad(cat(2, PARTS(good, TLV(0x05, NOTHING))));

	/* Lengths: indefinite, too long, past the end; high tag numbers. */
	w = take(good.n + 1); /* room for the long form below */
	memcpy(w, good.p, good.n);
	assert_true(w[1] == good.n - 2 && w[1] < 0x80);
	w[1] = 0x80;
	expect_bad((struct blob){w, good.n});
	w[1] = 0x85;
	expect_bad((struct blob){w, good.n});
	w[1] = (uint8_t)(good.n - 1);
	expect_bad((struct blob){w, good.n});
	w[1] = (uint8_t)(good.n - 3);
	expect_bad((struct blob){w, good.n});
	w[1] = (uint8_t)(good.n - 2);
	w[0] = 0x3f;
	expect_bad((struct blob){w, good.n});
	w[0] = 0x30;
	expect_bad(BYTES(0x30));
	expect_bad(BYTES(0x30, 0x84, 0xff, 0xff, 0xff, 0xff));
	expect_bad(BYTES(0x30, 0x80, 0x00, 0x00));
	/* A long form where a short one would do is BER, still definite: kept.
	 */
	memmove(w + 3, w + 2, good.n - 2);
	w[2] = w[1];
	w[1] = 0x81;
	expect((struct blob){w, good.n + 1}, "s", "05", "sha256");
}

/* ---- real modules ---------------------------------------------------- */

static char *tmp;     /* the group's scratch directory */
static char *ko;      /* hello.ko, NULL when it could not be built */
static char *rsa_key; /* one RSA key for most certificates */

/* modinfo -F field: its whole output, the final newline and the display
 * line breaks ("\n\t\t" in long keys) taken out. */
static char *modinfo(const char *field, const char *file)
{
	_cleanup_(freep) char *cmd =
		xasprintf("modinfo -F %s '%s'", field, file);
	char buf[8192];
	size_t n = 0, o = 0;
	FILE *f;
	char *s;

	assert_non_null(cmd);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	assert_int_equal(pclose(f), 0);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	s = malloc(n + 1);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		if (startswith(buf + i, "\n\t\t")) {
			i += 2;
			continue;
		}
		s[o++] = buf[i];
	}
	s[o] = '\0';
	return s;
}

static void need_module(void)
{
	if (!ko) {
		print_message("no kernel headers for " K
			      ", sign-file or modinfo: no real modules\n");
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	}
}

/*
 * Sign a copy of hello.ko with a new certificate; key: a -newkey spec or
 * NULL for the shared RSA key; req_args: more openssl req arguments.
 */
static char *sign_copy(const char *tag, const char *subj, const char *key,
		       const char *req_args, const char *hash)
{
	_cleanup_(freep) char *k = xasprintf("%s/%s.key", tmp, tag);
	_cleanup_(freep) char *c = xasprintf("%s/%s.der", tmp, tag);
	char *m = xasprintf("%s/%s.ko", tmp, tag);

	assert_non_null(k);
	assert_non_null(c);
	assert_non_null(m);
	if (key)
		assert_int_equal(
			unit_sh("openssl req -new -x509 -nodes -days 1 "
				"-config '%s/req.cnf' -utf8 -subj '%s' "
				"-newkey %s -keyout '%s' -outform DER "
				"-out '%s' %s >/dev/null 2>&1",
				tmp, subj, key, k, c, req_args),
			0);
	else
		assert_int_equal(
			unit_sh("openssl req -new -x509 -days 1 "
				"-config '%s/req.cnf' -utf8 -subj '%s' "
				"-key '%s' -outform DER -out '%s' %s "
				">/dev/null 2>&1",
				tmp, subj, rsa_key, c, req_args),
			0);
	assert_int_equal(unit_sh("cp '%s' '%s' && " SIGN_FILE
				 " %s '%s' '%s' '%s'",
				 ko, m, hash, key ? k : rsa_key, c, m),
			 0);
	return m;
}

/* modsig_read on the file agrees with modinfo on all four fields. */
static void check_against_modinfo(const char *file, struct modsig *s)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	static const char *const fields[] = {"signer", "sig_key",
					     "sig_hashalgo", "sig_id"};

	assert_int_equal(read_file(file, 64 << 20, &buf, &len), 0);
	assert_int_equal(modsig_read(buf, len, s), 0);
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		_cleanup_(freep) char *want = modinfo(fields[i], file);
		const char *got = i == 0   ? s->signer
				  : i == 1 ? s->sig_key
				  : i == 2 ? s->sig_hashalgo
					   : s->sig_id;

		if (!streq(got, want))
			print_error("%s: %s: modinfo \"%s\", modsig \"%s\"\n",
				    file, fields[i], want, got);
		assert_string_equal(got, want);
	}
}

static void test_real_modules(void **state)
{
	static const struct {
		const char *tag, *subj, *key, *args, *hash, *signer, *sig_key;
	} cases[] = {
		{"cn", "/CN=dkms-boot test/O=Org", NULL, "", "sha256",
		 "dkms-boot test", NULL},
		{"no-cn", "/O=Org/OU=Unit", NULL, "", "sha256", "Unit", NULL},
		{"email-last", "/O=Org/emailAddress=a@b.c", NULL, "", "sha256",
		 "a@b.c", NULL},
		{"empty-subject", "/", NULL, "", "sha256", "", NULL},
		{"multi-rdn", "/CN=a+O=b/OU=c", NULL, "-multivalue-rdn",
		 "sha256", "a", NULL},
		{"bmp", "/CN=\xce\xa9x", NULL, "", "sha256", "\x03\xa9", NULL},
		{"t61", "/CN=J\xc3\xbcrgen", NULL, "", "sha256", "J\xfcrgen",
		 NULL},
		{"serial-long", "/CN=long", NULL,
		 "-set_serial 0x0123456789abcdef0123456789abcdef0123", "sha512",
		 "long",
		 "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23"},
		{"serial-25", "/CN=l25", NULL,
		 "-set_serial "
		 "0x0102030405060708090a0b0c0d0e0f101112131415161718"
		 "19",
		 "sha384", "l25",
		 "01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:"
		 "15:16:17:18:19"},
		{"serial-high-bit", "/CN=hb", NULL, "-set_serial 0x80",
		 "sha256", "hb", "80"},
		{"serial-00ff", "/CN=ff", NULL, "-set_serial 0xffff", "sha256",
		 "ff", "FF:FF"},
		{"serial-1", "/CN=one", NULL, "-set_serial 1", "sha256", "one",
		 "01"},
		{"serial-0", "/CN=zero", NULL, "-set_serial 0", "sha256",
		 "zero", ""},
		{"serial-neg", "/CN=neg", NULL, "-set_serial -0x1234", "sha256",
		 "neg", "12:34"},
		{"sha1", "/CN=s1", NULL, "", "sha1", "s1", NULL},
		{"sha224", "/CN=s224", NULL, "", "sha224", "s224", NULL},
		{"md5", "/CN=m5", NULL, "", "md5", "m5", NULL},
		{"ec-p256", "/CN=ec", "ec -pkeyopt ec_paramgen_curve:P-256", "",
		 "sha256", "ec", NULL},
		{"ec-p384", "/CN=ec384", "ec -pkeyopt ec_paramgen_curve:P-384",
		 "", "sha384", "ec384", NULL},
		{"rsa4096", "/CN=big", "rsa:4096", "", "sha512", "big", NULL},
	};

	need_module();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(freep) char *m =
			sign_copy(cases[i].tag, cases[i].subj, cases[i].key,
				  cases[i].args, cases[i].hash);
		struct modsig s;

		check_against_modinfo(m, &s);
		assert_string_equal(s.signer, cases[i].signer);
		if (cases[i].sig_key)
			assert_string_equal(s.sig_key, cases[i].sig_key);
		assert_string_equal(s.sig_hashalgo, cases[i].hash);
		assert_string_equal(s.sig_id, "PKCS#7");
		modsig_free(&s);
	}
}

static void test_real_unsigned(void **state)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	struct modsig s;

	need_module();
	assert_int_equal(read_file(ko, 64 << 20, &buf, &len), 0);
	assert_int_equal(modsig_read(buf, len, &s), -ENODATA);
	assert_empty(&s);
}

/* Every tail, every prefix, every byte of the trailer changed. */
static void test_real_damaged(void **state)
{
	_cleanup_(freep) char *m = NULL;
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0, sig_len, trailer;
	struct modsig s, good;
	const uint8_t *end;

	need_module();
	m = sign_copy("damage", "/CN=damage/O=Org", NULL, "", "sha256");
	assert_int_equal(read_file(m, 64 << 20, &buf, &len), 0);
	assert_int_equal(modsig_read(buf, len, &good), 0);
	end = (const uint8_t *)buf + len;
	sig_len = (size_t)end[-32] << 24 | (size_t)end[-31] << 16 |
		  (size_t)end[-30] << 8 | end[-29];
	trailer = sig_len + 40;
	assert_true(trailer < len);

	for (size_t k = 0; k <= trailer + 1; k++) {
		int r = modsig_read(end - k, k, &s);

		if (k < strlen(MAGIC))
			assert_int_equal(r, -ENODATA);
		else if (k <= trailer)
			assert_int_equal(r, -EBADMSG);
		else
			assert_int_equal(r, 0);
		if (r == 0) {
			assert_string_equal(s.sig_key, good.sig_key);
			modsig_free(&s);
		}
		assert_empty(&s);
	}
	for (size_t k = len - trailer - 1; k < len; k++)
		assert_int_equal(modsig_read(buf, k, &s), -ENODATA);

	for (size_t i = len - trailer; i < len; i++) {
		static const uint8_t flips[] = {0x01, 0x80, 0xff};

		for (size_t f = 0; f < ARRAY_SIZE(flips); f++) {
			int r;

			buf[i] ^= (char)flips[f];
			r = modsig_read(buf, len, &s);
			buf[i] ^= (char)flips[f];
			if (i >= len - strlen(MAGIC))
				assert_int_equal(r, -ENODATA);
			else
				assert_true(r == 0 || r == -EBADMSG);
			if (r == 0) {
				assert_non_null(s.signer);
				assert_non_null(s.sig_key);
				assert_non_null(s.sig_hashalgo);
				assert_string_equal(s.sig_id, "PKCS#7");
				modsig_free(&s);
			}
		}
	}
	modsig_free(&good);
}

static int setup(void **state)
{
	_cleanup_(freep) char *src = NULL;
	static const char cnf[] =
		/* "default" lets openssl pick T61String and BMPString. */
		"[req]\ndistinguished_name = dn\nstring_mask = default\n"
		"prompt = no\n[dn]\n";

	tmp = unit_tmpdir();
	if (!tmp)
		return -1;
	src = path_join(tmp, "hello");
	rsa_key = path_join(tmp, "rsa.pem");
	if (!src || !rsa_key || mkdir(src, 0755) < 0)
		return -1;
	if (unit_sh("cd '%s' && printf '%%s' '%s' > req.cnf", tmp, cnf) != 0)
		return -1;
	if (access(KBUILD "/Makefile", F_OK) < 0 ||
	    access(SIGN_FILE, X_OK) < 0 ||
	    unit_sh("modinfo --version >/dev/null 2>&1") != 0)
		return 0;
	if (unit_sh("openssl genpkey -algorithm RSA -pkeyopt "
		    "rsa_keygen_bits:2048 "
		    "-out '%s' 2>/dev/null",
		    rsa_key) != 0)
		return -1;
	ko = unit_build_hello(src, KBUILD);
	return ko ? 0 : -1;
}

static int teardown(void **state)
{
	if (tmp)
		unit_sh("rm -rf '%s'", tmp);
	free(tmp);
	free(ko);
	free(rsa_key);
	return 0;
}

#define T(f) cmocka_unit_test_setup(f, reset_arena)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_unsigned),      T(test_trailer_header),
		T(test_signer),	       T(test_serial),
		T(test_hash_names),    T(test_key_identifier),
		T(test_structure),     T(test_real_modules),
		T(test_real_unsigned), T(test_real_damaged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
