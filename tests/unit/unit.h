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

/* Make a fresh scratch directory under $TMPDIR for one test. */
char *unit_tmpdir(void);

#endif
