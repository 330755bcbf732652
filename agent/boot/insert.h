/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BOOT_INSERT_H
#define DKMS_BOOT_BOOT_INSERT_H

#include "lib/util.h"

struct kmod_ctx;

enum insert_outcome {
	INSERT_LOADED,	 /* was not loaded, is now */
	INSERT_REPLACED, /* a stale copy was unloaded, the new one loaded */
	INSERT_CURRENT,	 /* the loaded copy already is this build */
	INSERT_IN_USE,	 /* a stale copy is loaded and used: left alone */
	INSERT_BUILTIN,	 /* built into the kernel: nothing can replace it */
	INSERT_FAILED,	 /* the kernel refused, or the result is wrong */
};

const char *insert_outcome_name(enum insert_outcome o);

struct insert_result {
	enum insert_outcome outcome;
	char name[64];
	char why[256]; /* for IN_USE and FAILED */
};

/*
 * Make the build of module `name` that ctx's module tree (its
 * modules.dep, so updates/dkms first) resolves to the loaded one:
 * dependencies first, each the same way; a loaded copy whose srcversion
 * (or version) differs is unloaded when nothing uses it and replaced;
 * the result is verified from sys_module/NAME.  sys_module is
 * "/sys/module" except in tests.  Returns 0 with res filled (FAILED
 * included), or a negative errno when the module is unknown to the tree
 * or memory ran out.
 */
int insert_module(struct kmod_ctx *ctx, const char *sys_module,
		  const char *name, struct insert_result *res);

#endif
