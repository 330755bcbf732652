/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CHECK_H
#define DKMS_BOOT_CHECK_H

#include "dkms/context.h"

/*
 * The boot-time decision: for each registered package that dkms would
 * autoinstall, is the booting kernel's copy current?  Reads only; with
 * the state cache warm it costs a handful of stat() calls per module
 * and never forks.
 */
enum check_state {
	CHECK_CURRENT,
	CHECK_WORK,
	CHECK_EXCLUDED,
	CHECK_SKIPPED,
	CHECK_BROKEN,
};

/* "current", "needs-work", ...: the names the output uses. */
const char *check_state_name(enum check_state s);

struct check_query {
	const char *kernel, *arch;
	const char *module;  /* only this package, NULL for all */
	bool no_state_cache; /* do not use or write the module state cache */
};

struct check_pkg {
	char *module, *version; /* version: the one that should be installed */
	enum check_state state;
	char **codes;	/* machine-readable reasons */
	char **reasons; /* one sentence each */
};

/* One record per package, in the registry's order. */
struct check_result {
	struct check_pkg *p;
	size_t n;
};

void check_result_free(struct check_result *res);

/* 0 with res filled, or a negative errno when the tree could not be
 * read (res is then empty). */
int check_run(struct dkb_ctx *c, const struct check_query *q,
	      struct check_result *res);

#endif
