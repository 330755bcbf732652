/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Common includes for the cmocka unit tests. */
#ifndef DKMS_BOOT_UNIT_H
#define DKMS_BOOT_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"

/* A fresh scratch directory under $TMPDIR (or /tmp) for one test. */
static inline char *unit_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t = xasprintf("%s/dkms-boot-unit.XXXXXX", base ? base : "/tmp");

	if (t && !mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

#endif
