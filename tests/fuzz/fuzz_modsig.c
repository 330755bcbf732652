// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: module signatures.  The input is read as a whole
 * module, and again as the PKCS#7 message of a well-formed trailer so
 * that the DER walk sees every input.  Either way the answer is one of
 * the three the header promises, with every field filled or none.
 */
#include <stdint.h>

#include "module/modsig.h"

#define MAGIC "~Module signature appended~\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, struct modsig *s)
{
	size_t n;

	if (r < 0) {
		if ((r != -ENODATA && r != -EBADMSG && r != -ENOMEM) ||
		    s->signer || s->sig_key || s->sig_hashalgo || s->sig_id)
			abort();
		return;
	}
	if (r != 0 || !s->signer || !s->sig_key || !s->sig_hashalgo ||
	    !s->sig_id || !streq(s->sig_id, "PKCS#7") || !s->sig_hashalgo[0])
		abort();
	/* "" or "XX:XX:...:XX" */
	n = strlen(s->sig_key);
	if (n % 3 == 1 || strspn(s->sig_key, "0123456789ABCDEF:") != n)
		abort();
	modsig_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = 1 + size + 12 + strlen(MAGIC);
	uint8_t *m, *t;
	struct modsig s;

	check(modsig_read(data, size, &s), &s);

	if (size > UINT32_MAX)
		return 0;
	m = malloc(len);
	if (!m)
		return 0;
	m[0] = 'X';
	memcpy(m + 1, data, size);
	t = m + 1 + size;
	memset(t, 0, 12);
	t[2] = 2; /* PKEY_ID_PKCS7 */
	t[8] = (uint8_t)(size >> 24);
	t[9] = (uint8_t)(size >> 16);
	t[10] = (uint8_t)(size >> 8);
	t[11] = (uint8_t)size;
	memcpy(t + 12, MAGIC, strlen(MAGIC));
	check(modsig_read(m, len, &s), &s);
	free(m);
	return 0;
}
