/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BUILD_H
#define DKMS_BOOT_BUILD_H

#include "dkms/context.h"

/*
 * The dkms build pipeline for one package and kernel, as dkms 3.0.10's
 * prepare_build/actual_build do it, with three differences: the build
 * runs in a private directory (tmpfs when available) seen by the build at
 * dkms's own path ($dkms_tree/<m>/<v>/build) inside a sandbox; the result
 * reaches the dkms tree through a temporary directory renamed into place,
 * so a failed or killed build never looks built; and no signing key is
 * ever generated.
 */

enum build_status {
	BUILD_DONE,	  /* built now */
	BUILD_ALREADY,	  /* already built, nothing done (no --force) */
	BUILD_EXCLUDED,	  /* BUILD_EXCLUSIVE_*: a skip, not a failure */
	BUILD_BAD_CONF,	  /* dkms.conf unreadable or refused */
	BUILD_NO_HEADERS, /* kernel headers missing */
	BUILD_NO_SOURCE,  /* source tree missing or empty */
	BUILD_FAILED,	  /* a step failed; see the log */
	BUILD_TIMEOUT,	  /* the time limit killed it */
	BUILD_ERROR,	  /* dkms-boot itself could not proceed */
};

struct build_req {
	const char *module, *version, *kernel, *arch;
	unsigned jobs;	     /* make -j for this build; 0: nproc */
	unsigned timeout_ms; /* the whole package; 0: none */
	/* When set, the package's end (now_ns() clock), shared with its
	 * install; overrides timeout_ms. */
	unsigned long long deadline_ns;
	bool force; /* rebuild even when built (swapped in atomically) */
	const char
		*workdir; /* host dir for private build dirs; NULL: default */
	int quiet;
};

struct build_result {
	enum build_status status;
	char *message;	/* one line: package, kernel, what, log path */
	char *log_path; /* host path of make.log (kept on failure) */
};

void build_result_free(struct build_result *r);

int build_package(struct dkb_ctx *c, const struct build_req *q,
		  struct build_result *res);

/* What is left of a deadline (now_ns() clock) for a sandbox_opts
 * timeout_ms: 0 (none) for no deadline, at least 1 once it passed. */
unsigned deadline_remaining_ms(unsigned long long deadline_ns);

/* The make command dkms runs: a leading "make" becomes
 * "make -j<jobs> KERNELRELEASE=<kver>" (bash's ${cmd/#make/...}). */
char *build_make_command(const char *make_command, unsigned jobs,
			 const char *kernelver);

#endif
