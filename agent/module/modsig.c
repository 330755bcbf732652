// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The signature appended to a kernel module, read the way modinfo shows
 * it, without OpenSSL.
 *
 * The trailer is checked as the kernel's mod_check_sig() checks it (only
 * PKCS#7, every other header field zero, at least one byte of module
 * before the signature), so what is refused here would not load on a
 * kernel that enforces signatures either.  The PKCS#7 message is then
 * walked with a small DER reader: definite lengths only, single-byte tags,
 * nesting at most DER_MAX_DEPTH deep, every length checked against its
 * container before anything is read.
 *
 * What modinfo (kmod with OpenSSL) prints, and so what comes back here:
 *  signer       the issuer's first commonName; without one, the value of
 *               its last attribute; with an empty Name, "".  The string's
 *               raw bytes up to the first NUL, whatever its type (a
 *               BMPString's UTF-16 too).
 *  sig_key      the serial number's magnitude, big endian, without leading
 *               zero bytes, as uppercase hex bytes joined by ':' ("" for
 *               0; a negative serial shows as its absolute value).  modinfo
 *               breaks lines after 20 bytes for display; this does not.
 *  sig_hashalgo the digest's name as kmod names it, else the dotted OID.
 *  sig_id       "PKCS#7".
 * A SignerInfo that names its key by subjectKeyIdentifier (CMS version 3,
 * which the kernel accepts and kmod cannot read) gives signer "" and the
 * identifier as sig_key.
 */
#include <stdint.h>

#include "module/modsig.h"

#define SIG_MAGIC     "~Module signature appended~\n"
#define SIG_MAGIC_LEN (sizeof(SIG_MAGIC) - 1)
#define PKEY_ID_PKCS7 2
#define DER_MAX_DEPTH 32

struct module_signature {
	uint8_t algo, hash, id_type, signer_len, key_id_len, pad[3];
	uint8_t sig_len[4]; /* big endian */
};

_Static_assert(sizeof(struct module_signature) == 12,
	       "struct module_signature is 12 bytes on disk");

enum {
	TAG_INTEGER = 0x02,
	TAG_OCTET_STRING = 0x04,
	TAG_OID = 0x06,
	TAG_SEQUENCE = 0x30,
	TAG_SET = 0x31,
	TAG_SKID = 0x80, /* [0] IMPLICIT SubjectKeyIdentifier */
	TAG_CTX0 = 0xa0, /* [0] constructed */
	TAG_CTX1 = 0xa1,
	TAG_CONSTRUCTED = 0x20,
};

/* 1.2.840.113549.1.7.2 and 2.5.4.3 */
static const uint8_t oid_signed_data[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
					  0x0d, 0x01, 0x07, 0x02};
static const uint8_t oid_common_name[] = {0x55, 0x04, 0x03};

/* kmod 30's names (its pkey_hash_algo table), then OpenSSL's for SHA-3. */
static const struct {
	const char *oid, *name;
} hash_names[] = {
	{"1.2.840.113549.2.4", "md4"},
	{"1.2.840.113549.2.5", "md5"},
	{"1.3.14.3.2.26", "sha1"},
	{"1.3.36.3.2.1", "rmd160"},
	{"2.16.840.1.101.3.4.2.1", "sha256"},
	{"2.16.840.1.101.3.4.2.2", "sha384"},
	{"2.16.840.1.101.3.4.2.3", "sha512"},
	{"2.16.840.1.101.3.4.2.4", "sha224"},
	{"1.2.156.10197.1.401", "sm3"},
	{"2.16.840.1.101.3.4.2.8", "sha3-256"},
	{"2.16.840.1.101.3.4.2.9", "sha3-384"},
	{"2.16.840.1.101.3.4.2.10", "sha3-512"},
};

void modsig_free(struct modsig *s)
{
	if (!s)
		return;
	free(s->signer);
	free(s->sig_key);
	free(s->sig_hashalgo);
	free(s->sig_id);
	memset(s, 0, sizeof(*s));
}

/* ---- DER ------------------------------------------------------------- */

/* The unread rest of a contents octet string. */
struct der {
	const uint8_t *p, *end;
};

struct tlv {
	uint8_t tag;
	struct der val;
};

static size_t der_left(const struct der *d)
{
	return (size_t)(d->end - d->p);
}

static bool der_done(const struct der *d)
{
	return d->p == d->end;
}

static bool der_peek(const struct der *d, uint8_t tag)
{
	return !der_done(d) && d->p[0] == tag;
}

static int der_read(struct der *d, struct tlv *t)
{
	const uint8_t *p = d->p;
	size_t left = der_left(d), len, n;

	if (left < 2)
		return -EBADMSG;
	t->tag = p[0];
	len = p[1];
	p += 2;
	left -= 2;
	/* High tag numbers never occur in PKCS#7. */
	if ((t->tag & 0x1f) == 0x1f)
		return -EBADMSG;
	if (len & 0x80) {
		n = len & 0x7f;
		/* 0: indefinite length, which DER forbids. */
		if (n == 0 || n > 4 || n > left)
			return -EBADMSG;
		for (len = 0; n > 0; n--, left--)
			len = len << 8 | *p++;
	}
	if (len > left)
		return -EBADMSG;
	t->val.p = p;
	t->val.end = p + len;
	d->p = p + len;
	return 0;
}

static int der_expect(struct der *d, uint8_t tag, struct der *val)
{
	struct tlv t;
	int r = der_read(d, &t);

	if (r < 0)
		return r;
	if (t.tag != tag)
		return -EBADMSG;
	*val = t.val;
	return 0;
}

/* Skip an optional element: absent, or well-formed with this tag. */
static int der_skip_optional(struct der *d, uint8_t tag)
{
	struct der unused;

	return der_peek(d, tag) ? der_expect(d, tag, &unused) : 0;
}

/* All of d, down through every constructed element, is well-formed. */
static int der_check(struct der d, unsigned depth)
{
	while (!der_done(&d)) {
		struct tlv t;
		int r = der_read(&d, &t);

		if (r < 0)
			return r;
		if (!(t.tag & TAG_CONSTRUCTED))
			continue;
		if (depth == DER_MAX_DEPTH)
			return -EBADMSG;
		r = der_check(t.val, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool der_equal(const struct der *d, const uint8_t *bytes, size_t n)
{
	return der_left(d) == n && memcmp(d->p, bytes, n) == 0;
}

/* A version INTEGER: one content byte, one of the values allowed. */
static int der_version(struct der *d, unsigned a, unsigned b, unsigned *v)
{
	struct der val;
	int r = der_expect(d, TAG_INTEGER, &val);

	if (r < 0)
		return r;
	if (der_left(&val) != 1 || (val.p[0] != a && val.p[0] != b))
		return -EBADMSG;
	*v = val.p[0];
	return 0;
}

/* ---- fields ---------------------------------------------------------- */

static char *hex_join(const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char *s = malloc(n ? 3 * n : 1), *o = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ':';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 15];
	}
	*o = '\0';
	return s;
}

/*
 * kmod prints BN_bn2bin() of the serial: the magnitude without leading
 * zero bytes.  Padding that DER forbids is refused, as OpenSSL refuses it.
 */
static int serial_to_key(struct der v, char **out)
{
	_cleanup_(freep) uint8_t *mag = NULL;
	size_t n = der_left(&v), skip = 0;
	const uint8_t *b = v.p;

	if (n == 0)
		return -EBADMSG;
	if (n > 1 && ((b[0] == 0x00 && !(b[1] & 0x80)) ||
		      (b[0] == 0xff && (b[1] & 0x80))))
		return -EBADMSG;
	mag = malloc(n);
	if (!mag)
		return -ENOMEM;
	memcpy(mag, b, n);
	if (b[0] & 0x80) {
		/* Two's complement: the absolute value is ~x + 1. */
		unsigned carry = 1;

		for (size_t i = n; i-- > 0;) {
			unsigned x = (uint8_t)~mag[i] + carry;

			mag[i] = (uint8_t)x;
			carry = x >> 8;
		}
	}
	while (skip < n && mag[skip] == 0)
		skip++;
	*out = hex_join(mag + skip, n - skip);
	return *out ? 0 : -ENOMEM;
}

/* Dotted decimal; subidentifiers minimal and within 64 bits. */
static int oid_to_text(struct der v, char **out)
{
	size_t n = der_left(&v), o = 0, cap = 4 * n + 4;
	_cleanup_(freep) char *s = NULL;
	unsigned long long arc = 0;
	bool start = true, first = true;

	if (n == 0)
		return -EBADMSG;
	s = malloc(cap);
	if (!s)
		return -ENOMEM;
	for (const uint8_t *p = v.p; p < v.end; p++) {
		if ((start && *p == 0x80) || arc > (~0ULL >> 7))
			return -EBADMSG;
		arc = arc << 7 | (*p & 0x7f);
		start = !(*p & 0x80);
		if (!start)
			continue;
		if (first) {
			unsigned x = arc < 40 ? 0 : arc < 80 ? 1 : 2;

			o += (size_t)snprintf(s + o, cap - o, "%u.%llu", x,
					      arc - 40ULL * x);
		} else {
			o += (size_t)snprintf(s + o, cap - o, ".%llu", arc);
		}
		first = false;
		arc = 0;
	}
	if (!start)
		return -EBADMSG; /* the last subidentifier goes on */
	*out = TAKE_PTR(s);
	return 0;
}

static int hash_name(struct der oid, char **out)
{
	_cleanup_(freep) char *dotted = NULL;
	int r = oid_to_text(oid, &dotted);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(hash_names); i++)
		if (streq(dotted, hash_names[i].oid)) {
			*out = strdup(hash_names[i].name);
			return *out ? 0 : -ENOMEM;
		}
	*out = TAKE_PTR(dotted);
	return 0;
}

/* The string types an X.509 Name's attribute value may have (OpenSSL's). */
static bool is_string_tag(uint8_t tag)
{
	return tag == 0x0c || (tag >= 0x12 && tag <= 0x1c) || tag == 0x1e;
}

/*
 * kmod's loop stops at the first commonName and otherwise leaves the last
 * attribute behind, and takes the value as a C string.
 */
static int name_to_signer(struct der name, char **out)
{
	struct der pick = {NULL, NULL};
	bool found = false;
	int r;

	while (!der_done(&name)) {
		struct der rdn;

		r = der_expect(&name, TAG_SET, &rdn);
		if (r < 0)
			return r;
		if (der_done(&rdn))
			return -EBADMSG;
		while (!der_done(&rdn)) {
			struct der atv, type;
			struct tlv value;

			r = der_expect(&rdn, TAG_SEQUENCE, &atv);
			if (r < 0)
				return r;
			r = der_expect(&atv, TAG_OID, &type);
			if (r < 0)
				return r;
			r = der_read(&atv, &value);
			if (r < 0)
				return r;
			if (!der_done(&atv) || !is_string_tag(value.tag))
				return -EBADMSG;
			if (found)
				continue;
			pick = value.val;
			found = der_equal(&type, oid_common_name,
					  sizeof(oid_common_name));
		}
	}
	*out = pick.p ? strndup((const char *)pick.p, der_left(&pick))
		      : strdup("");
	return *out ? 0 : -ENOMEM;
}

static int read_issuer_serial(struct der ias, struct modsig *s)
{
	struct der name, serial;
	int r;

	r = der_expect(&ias, TAG_SEQUENCE, &name);
	if (r < 0)
		return r;
	r = der_expect(&ias, TAG_INTEGER, &serial);
	if (r < 0)
		return r;
	if (!der_done(&ias))
		return -EBADMSG;
	r = name_to_signer(name, &s->signer);
	if (r < 0)
		return r;
	return serial_to_key(serial, &s->sig_key);
}

/* The signer's identity: version 1 names issuer and serial, 3 a key id. */
static int read_sid(struct der *si, unsigned version, struct modsig *s)
{
	struct der sid;
	int r;

	if (version == 1) {
		r = der_expect(si, TAG_SEQUENCE, &sid);
		return r < 0 ? r : read_issuer_serial(sid, s);
	}
	r = der_expect(si, TAG_SKID, &sid);
	if (r < 0)
		return r;
	if (der_done(&sid))
		return -EBADMSG;
	s->signer = strdup("");
	s->sig_key = hex_join(sid.p, der_left(&sid));
	return s->signer && s->sig_key ? 0 : -ENOMEM;
}

/*
 * SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm,
 *	[0] signedAttrs OPTIONAL, signatureAlgorithm, signature OCTET STRING,
 *	[1] unsignedAttrs OPTIONAL }
 */
static int read_signer_info(struct der si, struct modsig *s)
{
	struct der alg, oid, unused;
	unsigned version;
	int r;

	r = der_version(&si, 1, 3, &version);
	if (r < 0)
		return r;
	r = read_sid(&si, version, s);
	if (r < 0)
		return r;
	r = der_expect(&si, TAG_SEQUENCE, &alg);
	if (r < 0)
		return r;
	r = der_expect(&alg, TAG_OID, &oid);
	if (r < 0)
		return r;
	r = hash_name(oid, &s->sig_hashalgo);
	if (r < 0)
		return r;
	r = der_skip_optional(&si, TAG_CTX0);
	if (r < 0)
		return r;
	r = der_expect(&si, TAG_SEQUENCE, &unused);
	if (r < 0)
		return r;
	r = der_expect(&si, TAG_OCTET_STRING, &unused);
	if (r < 0)
		return r;
	r = der_skip_optional(&si, TAG_CTX1);
	if (r < 0)
		return r;
	return der_done(&si) ? 0 : -EBADMSG;
}

/*
 * SignedData ::= SEQUENCE { version, digestAlgorithms SET,
 *	encapContentInfo, [0] certificates OPTIONAL, [1] crls OPTIONAL,
 *	signerInfos SET }
 * Yields the first SignerInfo, the one kmod reports.
 */
static int read_signed_data(struct der sd, struct der *si)
{
	struct der unused, infos;
	unsigned version;
	int r;

	r = der_version(&sd, 1, 3, &version);
	if (r < 0)
		return r;
	r = der_expect(&sd, TAG_SET, &unused);
	if (r < 0)
		return r;
	r = der_expect(&sd, TAG_SEQUENCE, &unused);
	if (r < 0)
		return r;
	r = der_skip_optional(&sd, TAG_CTX0);
	if (r < 0)
		return r;
	r = der_skip_optional(&sd, TAG_CTX1);
	if (r < 0)
		return r;
	r = der_expect(&sd, TAG_SET, &infos);
	if (r < 0)
		return r;
	if (!der_done(&sd))
		return -EBADMSG;
	return der_expect(&infos, TAG_SEQUENCE, si);
}

/* ContentInfo ::= SEQUENCE { signedData OID, [0] EXPLICIT SignedData } */
static int read_pkcs7(const uint8_t *p, size_t n, struct modsig *s)
{
	struct der all = {p, p + n}, ci, oid, content, sd, si;
	int r;

	r = der_check(all, 0);
	if (r < 0)
		return r;
	r = der_expect(&all, TAG_SEQUENCE, &ci);
	if (r < 0 || !der_done(&all))
		return -EBADMSG;
	r = der_expect(&ci, TAG_OID, &oid);
	if (r < 0 || !der_equal(&oid, oid_signed_data, sizeof(oid_signed_data)))
		return -EBADMSG;
	r = der_expect(&ci, TAG_CTX0, &content);
	if (r < 0 || !der_done(&ci))
		return -EBADMSG;
	r = der_expect(&content, TAG_SEQUENCE, &sd);
	if (r < 0 || !der_done(&content))
		return -EBADMSG;
	r = read_signed_data(sd, &si);
	if (r < 0)
		return r;
	r = read_signer_info(si, s);
	if (r < 0)
		return r;
	s->sig_id = strdup("PKCS#7");
	return s->sig_id ? 0 : -ENOMEM;
}

int modsig_read(const void *module, size_t len, struct modsig *s)
{
	const uint8_t *m = module;
	struct module_signature ms;
	size_t sig_len;
	int r;

	memset(s, 0, sizeof(*s));
	if (len < SIG_MAGIC_LEN ||
	    memcmp(m + len - SIG_MAGIC_LEN, SIG_MAGIC, SIG_MAGIC_LEN) != 0)
		return -ENODATA;
	len -= SIG_MAGIC_LEN;
	if (len < sizeof(ms))
		return -EBADMSG;
	len -= sizeof(ms);
	memcpy(&ms, m + len, sizeof(ms));
	sig_len = (size_t)ms.sig_len[0] << 24 | (size_t)ms.sig_len[1] << 16 |
		  (size_t)ms.sig_len[2] << 8 | ms.sig_len[3];
	/* mod_check_sig(): anything else the kernel refuses to load. */
	if (ms.id_type != PKEY_ID_PKCS7 || ms.algo || ms.hash ||
	    ms.signer_len || ms.key_id_len || ms.pad[0] || ms.pad[1] ||
	    ms.pad[2] || sig_len == 0 || sig_len >= len)
		return -EBADMSG;
	r = read_pkcs7(m + len - sig_len, sig_len, s);
	if (r < 0)
		modsig_free(s);
	return r;
}
