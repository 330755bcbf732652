/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_ENGINE_H
#define DKMS_BOOT_ENGINE_H

#include "dkms/context.h"

/*
 * Runs build/install/uninstall for one package or for every AUTOINSTALL
 * package (--all): BUILD_DEPENDS first, independent packages in
 * parallel with the make jobs of all running builds never above --jobs,
 * one failure never stopping the others, depmod once per run.
 */
enum engine_action { ENGINE_BUILD, ENGINE_INSTALL, ENGINE_UNINSTALL };

struct engine_opts {
	enum engine_action action;
	const char *module, *version; /* module NULL: --all */
	const char *kernel, *arch;
	unsigned jobs;	     /* total make jobs; 0: nproc */
	unsigned timeout_ms; /* per package, all its steps; 0: none */
	bool force;
	/* Run the packages' PRE_INSTALL, POST_INSTALL and POST_REMOVE (as
	 * root, as dkms does).  Off unless asked for: `install` and
	 * `uninstall` turn it on for dkms parity, the boot agent does not. */
	bool run_scripts;
	const char *workdir;
	bool json;
};

/* --timeout when not given: package code never runs unlimited. */
#define ENGINE_DEFAULT_TIMEOUT_S 1800

/* Exit codes (docs/dkms-boot.8). */
enum {
	ENGINE_EXIT_FAILED = 4,	   /* at least one package failed */
	ENGINE_EXIT_TIMEOUT = 5,   /* ... of which one by the time limit */
	ENGINE_EXIT_EXCLUDED = 77, /* the one package asked for is excluded */
};

int cmd_engine(struct dkb_ctx *c, const struct engine_opts *o, FILE *out);

#endif
