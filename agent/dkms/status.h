/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_STATUS_H
#define DKMS_BOOT_STATUS_H

#include "dkms/context.h"

/*
 * What Debian's dkms 3.0.10 `dkms status` finds in the same tree, line
 * for line and suffix for suffix, without a shell.
 */

/* One pass's filter; NULL fields match anything. */
struct status_query {
	const char *module, *version, *kernel, *arch;
};

/* One line of the listing: kernel and arch NULL for an "added" line. */
struct status_line {
	char *module, *version, *kernel, *arch, *state;
	char **warnings; /* the parenthesised suffixes, in order */
};

struct status_list {
	struct status_line *l;
	size_t n;
	bool stopped;	  /* internal: a bad dkms.conf ended this pass */
	bool stopped_any; /* some pass stopped early, as dkms's does */
};

void status_list_free(struct status_list *s);

/*
 * One pass of do_status + do_status_weak, as dkms runs once per -k:
 * the lines are appended to s, the installed-weak lines to *weak.
 * Returns 0 or a negative errno; a bad dkms.conf is not an error but
 * ends the pass (logged, s->stopped_any set).
 */
int status_pass(struct dkb_ctx *c, const struct status_query *q,
		struct status_list *s, char ***weak);

#endif
