/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_KABI_H
#define DKMS_BOOT_KABI_H

#include "lib/util.h"

/*
 * kABI reuse, beyond dkms: a module built for one kernel release may load
 * on another when its vermagic flags match and every symbol CRC it
 * imports (its __versions section) equals the target kernel's
 * (Module.symvers), which is what the kernel's own modversions check
 * enforces at load time.  RHEL's weak-modules makes the same decision.
 */
struct symvers; /* opaque: symbol -> CRC */

/* Parse Module.symvers text ("0xCRC\tsymbol\tmodule\texport\tnamespace"
 * lines); -EBADMSG with why on malformed lines. */
int symvers_parse(const char *buf, size_t len, struct symvers **out, char *why,
		  size_t why_len);
/* Load /lib/modules/<kver>/build/Module.symvers, else
 * /boot/symvers-<kver>.gz, inside root (at most 64 MiB of text).
 * -ENOENT when neither exists, -EINVAL for a kver that is no file name. */
int symvers_load(const char *root, const char *kver, struct symvers **out,
		 char *why, size_t why_len);
void symvers_free(struct symvers *s);
/* Look up a symbol's CRC: 0 found, -ENOENT not exported. */
int symvers_crc(const struct symvers *s, const char *symbol,
		unsigned long long *crc);

/*
 * Decide whether the (uncompressed) module may be used with the target
 * kernel: target_vermagic is that kernel's vermagic string
 * ("<release> SMP preempt mod_unload modversions ").  Returns 0 when
 * reusable, -EPERM when not (why names the first reason: the vermagic
 * flags, or the first symbol whose CRC differs or that the kernel does
 * not export), -EBADMSG when the module is malformed.  As the kernel's
 * same_magic() does for modules with CRCs, the vermagic is compared from
 * the first space on: the release may differ, the flags may not.  Only
 * ELF64 little-endian x86_64 relocatable objects are understood; others
 * are -EBADMSG "not an x86_64 module".  A module without __versions is
 * -EPERM: nothing would vouch for its ABI.
 */
int kabi_check(const void *module, size_t len, const struct symvers *s,
	       const char *target_vermagic, char *why, size_t why_len);

/* kabi_check(), accepting also the symbols in own_exports: those that
 * modules of the same cache entry export (same build, same CRCs). */
int kabi_check_with(const void *module, size_t len, const struct symvers *s,
		    char *const *own_exports, const char *target_vermagic,
		    char *why, size_t why_len);
/* The names a module exports (its __ksymtab_strings), appended to
 * *names.  0 (none is fine), -EBADMSG for a malformed module. */
int kabi_module_exports(const void *module, size_t len, char ***names);

/* A module's own vermagic (its first .modinfo record), read from the
 * ELF in memory; malloc'd, or NULL when the bytes are not a module. */
char *kabi_module_vermagic(const void *buf, size_t len);

/* The vermagic a kernel's modules carry, from any in-tree module or, if
 * none, built from its .config (SMP, PREEMPT*, MODULE_UNLOAD,
 * MODVERSIONS...).  Returns a malloc'd string or NULL. */
char *kabi_kernel_vermagic(const char *root, const char *kver);

#endif
