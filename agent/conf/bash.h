/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CONF_BASH_H
#define DKMS_BOOT_CONF_BASH_H

#include "conf/vars.h"

struct conf_bash_opts {
	const char *root;    /* the sandbox chroots here unless "/" or NULL */
	const char *bash;    /* path to bash inside root; default /bin/bash */
	unsigned timeout_ms; /* the whole evaluation; 0 means 10000 */
	size_t max_output;   /* bytes of result accepted; 0 means 1 MiB */
};

/*
 * Source files[] (paths as seen inside root; absent ones are skipped) the
 * way dkms's safe_source does: each in its own subshell that starts with
 * the variables of env (scalars, not exported) and everything exported so
 * far, then copy back only the variables named in whitelist[] by printing
 * and re-sourcing NAME[i]="value" lines.  Globbing is off while printing
 * (dkms would glob against its working directory; we never do).
 *
 * The result (whitelisted variables only) goes to *out.  bash's stderr,
 * if any, is returned in *diag (NUL-terminated, may be NULL).
 *
 * bash runs in the build sandbox (lib/sandbox.h): root read-only, no
 * network, as SANDBOX_UID; files that user cannot read where they are
 * are evaluated from private copies.
 *
 * Returns 0, -ETIME when the time limit killed the evaluation (and all it
 * started), -ENOEXEC when bash could not be run, -EPROTO on a malformed
 * or oversized result, -EACCES for a conf the sandbox could not read, or
 * another negative errno (no sandbox here: sandbox_run fails closed).
 */
int conf_bash_eval(char *const *files, const struct vars *env,
		   const char *const *whitelist,
		   const struct conf_bash_opts *opts, struct vars *out,
		   char **diag);

/*
 * The result bash printed: name\0index\0value\0 triples ended by the
 * script's trailer.  Only whitelisted names are kept.  Replaces *out on
 * success; -EPROTO for a missing trailer or a malformed triple.
 */
int conf_bash_parse_result(const char *buf, size_t len,
			   const char *const *whitelist, struct vars *out);

#endif
