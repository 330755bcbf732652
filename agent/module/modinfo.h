/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_MODINFO_H
#define DKMS_BOOT_MODINFO_H

#include "lib/util.h"

/* The .modinfo fields (and signature facts) dkms and dkms-boot look at.
 * A field absent from the module is NULL. */
struct modinfo {
	char *version, *srcversion, *vermagic, *depends;
	char *signer, *sig_key, *sig_id;
};

/*
 * Read a module file (.ko, or compressed as libkmod supports) without
 * loading it.  Returns 0, or a negative errno (-ENOEXEC when the file is
 * not a module).  Where a field repeats, the last one wins, as with
 * dkms's `modinfo | while read` loop.
 */
int modinfo_read(const char *path, struct modinfo *mi);
void modinfo_free(struct modinfo *mi);
static inline void modinfo_freep(struct modinfo *mi)
{
	modinfo_free(mi);
}

/* The kernel release a vermagic string names (its first word), copied
 * into buf.  Returns buf or NULL when the vermagic is empty. */
const char *vermagic_release(const char *vermagic, char *buf, size_t len);

#endif
