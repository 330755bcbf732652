/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_STATUS_WEAK_H
#define DKMS_BOOT_STATUS_WEAK_H

#include "dkms/status.h"

/* Does the root have a weak-modules program (dkms's condition)? */
bool weak_modules_present(const struct dkb_ctx *c);
/* do_status_weak(): the "m, v, k, a: installed-weak from K" lines. */
int status_weak(const struct dkb_ctx *c, const struct status_query *q,
		char ***lines);

#endif
