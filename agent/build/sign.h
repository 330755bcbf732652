/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_SIGN_H
#define DKMS_BOOT_SIGN_H

#include "dkms/context.h"

/*
 * Module signing as dkms 3.0.10's prepare_signing() decides it: the
 * sign-file program (framework.conf sign_file, else Debian's
 * /usr/lib/linux-kbuild-<x.y>/scripts/sign-file, else
 * /lib/modules/<kver>/build/scripts/sign-file), the key and certificate
 * (mok_signing_key / mok_certificate, default /var/lib/dkms/mok.key and
 * mok.pub; Ubuntu's MOK paths on Ubuntu), and the hash
 * (CONFIG_MODULE_SIG_HASH, default sha512).  Unlike dkms, no key is ever
 * generated: a missing key is reported and modules stay unsigned.
 * All paths are as seen inside the root.
 */
struct sign_plan {
	bool enabled;
	char *sign_file, *key, *cert, *hash;
	char *why_not; /* one sentence when !enabled */
};

int sign_plan_make(const struct dkb_ctx *c, const char *kernelver,
		   struct sign_plan *p);
void sign_plan_free(struct sign_plan *p);

/*
 * Sign one module file (host path) in place with
 * `<sign_file> <hash> <key> <cert> <module>`, run chrooted into c->root
 * unless that is "/", so the module must lie under c->root (-EINVAL
 * otherwise, or with ".." in its path).  log_path (NULL: discarded) gets
 * "Signing module <path>" and sign-file's output appended.  0, -EINVAL
 * for a disabled plan, the errno of a program that could not be run,
 * or -EIO when it failed; the reason logged, naming the module.
 */
int sign_module(const struct dkb_ctx *c, const struct sign_plan *p,
		const char *module_host, const char *log_path);

#endif
