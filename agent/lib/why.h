/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_WHY_H
#define DKMS_BOOT_WHY_H

#include "lib/util.h"

/*
 * The one "why" formatter: a one-line reason in a caller's fixed buffer,
 * which parsers and checks fill next to the negative errno they return.
 *
 * - why NULL or len 0 means the caller wants no reason: nothing written.
 * - %m in fmt names err (not whatever errno happens to be), so
 *   `return why_set(why, len, -errno, "%s: %m", path)` reads naturally.
 * - The reason is one line: control bytes become '?'.
 * - A reason too long for the buffer ends in "..." so that it does not
 *   read as complete.
 * Each returns err, so a refusal is one statement.
 */
int why_set(char *why, size_t len, int err, const char *fmt, ...)
	_printf_(4, 5);
int why_vset(char *why, size_t len, int err, const char *fmt, va_list ap)
	_printf_(4, 0);

/*
 * "subject: reason", where subject is the first subject_len bytes of an
 * untrusted name (it need not be NUL-terminated).  The subject is
 * shortened (ending in "...") so that the reason always fits: a reason
 * cut off would leave the caller guessing, a long name would not.
 */
int why_about(char *why, size_t len, int err, const char *subject,
	      size_t subject_len, const char *fmt, ...) _printf_(6, 7);
int why_vabout(char *why, size_t len, int err, const char *subject,
	       size_t subject_len, const char *fmt, va_list ap) _printf_(6, 0);

#endif
