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

/* A package's outcome. */
enum engine_state {
	ENGINE_WAITING,
	ENGINE_RUNNING,
	ENGINE_OK,
	ENGINE_FAILED,
	ENGINE_EXCLUDED, /* BUILD_EXCLUSIVE rules this kernel out */
};

struct engine_pkg {
	char *module, *version;
	enum engine_state state;
	bool timed_out;
	char *message; /* what happened, one line; may be NULL */
};

struct engine_result {
	struct engine_pkg *p; /* in the order the packages were taken */
	size_t n;
	bool depmod_failed;    /* modules changed but depmod failed (logged) */
	bool depmod_timed_out; /* ... because the time limit ran out */
};

void engine_result_free(struct engine_result *res);

/* Run the action: 0 with one record per package (each failure is its
 * own record, never the call's), or a negative errno when the packages
 * could not be chosen (logged). */
int engine_run(struct dkb_ctx *c, const struct engine_opts *o,
	       struct engine_result *res);

#endif
