/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_MODSIG_H
#define DKMS_BOOT_MODSIG_H

#include "lib/util.h"

/*
 * The signature appended to a kernel module ("~Module signature
 * appended~\n" after a struct module_signature), read without OpenSSL:
 * the static libkmod has none, so its signer and sig_key come back
 * empty.  The PKCS#7 SignedData is walked with a bounds-checked DER
 * reader to the first SignerInfo's issuer (the signer: its CN, as
 * modinfo shows it) and serial number (sig_key: hex bytes joined by ':',
 * as modinfo shows it).
 */
struct modsig {
	char *signer, *sig_key, *sig_hashalgo, *sig_id;
};

/* Returns 0 (fields filled), -ENODATA when the module is unsigned,
 * -EBADMSG when a signature is present but malformed. */
int modsig_read(const void *module, size_t len, struct modsig *s);
void modsig_free(struct modsig *s);

#endif
