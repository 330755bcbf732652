/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CONF_NATIVE_H
#define DKMS_BOOT_CONF_NATIVE_H

#include "conf/vars.h"

struct conf_diag {
	unsigned line;	  /* 1-based line of the problem, 0 if none */
	char reason[192]; /* one line, no trailing newline */
};

/*
 * Evaluate a dkms.conf-style file that only assigns variables, without
 * forking.  Understood: comments, blank lines, NAME=WORD and NAME[N]=WORD
 * (N decimal), several assignments on one line, a trailing ';', line
 * continuations, and WORDs made of unquoted text, '...' and "..." with
 * $NAME, ${NAME} and ${NAME[N]} expansions and backslash escapes.
 *
 * Variables are read from and written to *scope, in file order, exactly as
 * bash would.  A reference to a variable absent from *scope is not
 * guessed at: it is refused.
 *
 * Returns 0 when the whole file was understood, or -ENOTSUP when anything
 * was not (diag says what and where): the caller must then ask bash, and
 * *scope is left in an unspecified state (pass a copy).
 */
int conf_native_source(const char *buf, size_t len, struct vars *scope,
		       struct conf_diag *diag);

/*
 * dkms copies each whitelisted variable back out of its subshell by
 * printing NAME[i]="value" unquoted through echo and sourcing the result,
 * which folds runs of blanks to one space and re-expands the value inside
 * double quotes.  Apply the folding to val (in place) and return 0, or
 * -ENOTSUP when the re-expansion could change it ($, `, ", or a backslash
 * before one of $ ` " \ newline), so that only bash may decide.
 */
int conf_native_reexport(char *val, struct conf_diag *diag);

#endif
