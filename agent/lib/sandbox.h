/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_SANDBOX_H
#define DKMS_BOOT_SANDBOX_H

#include "lib/util.h"

/*
 * Run a build step (PRE_BUILD, MAKE, POST_BUILD, patch, sign-file) the
 * way dkms would, but contained: a private mount namespace in which the
 * root is read-only except the build directory (and a private /tmp), a
 * private network namespace with no interface but loopback (down), its
 * own process group killed as a whole at the time limit, and, where
 * possible, an unprivileged user.
 */
struct sandbox_opts {
	const char *root;	  /* host path of the root; NULL or "/" */
	const char *build_host;	  /* host directory that stays writable */
	const char *build_inroot; /* where build_host appears inside root
				   * (dkms's $dkms_tree/<m>/<v>/build) */
	const char *cwd_inroot;	  /* working directory; default build_inroot */
	const char *log_path;	  /* host file: stdout+stderr appended;
				   * NULL: inherited stdout/stderr */
	char *const *env;	  /* "NAME=value" list, exactly; NULL: PATH,
				   * LC_ALL=C and HOME=/nonexistent */
	unsigned timeout_ms;	  /* 0: none */
	bool keep_network;	  /* default: no network */
	bool keep_privileges;	  /* default: run as SANDBOX_UID/GID */
	bool writable_root;	  /* default: root read-only */
	/* Extra fds (>= 3) to pass through, e.g. a make jobserver pipe: the
	 * first n_keep_fds; a negative one ends the list early. */
	int keep_fds[4];
	size_t n_keep_fds;
};

#define SANDBOX_UID 65534
#define SANDBOX_GID 65534

/*
 * Run argv (argv[0] resolved through the PATH of env, inside the root)
 * in the sandbox and wait for it.  Returns its exit status (0-255),
 * 128+N when killed by signal N, 127 when argv[0] cannot be executed
 * (as a shell would; the reason is logged and appended to log_path),
 * -ETIME when the time limit killed the process group, or a negative
 * errno when the sandbox could not be set up (the reason is logged).
 * Fails closed: no isolation, no run.  Forks and may allocate in the
 * child, so call it from a single-threaded process.
 */
int sandbox_run(char *const *argv, const struct sandbox_opts *o);

/* Whether sandbox_run can isolate here (namespaces available). */
bool sandbox_supported(void);

/*
 * Hand a host directory tree to SANDBOX_UID/GID (lchown, not following
 * symlinks nor crossing mounts), so that the unprivileged step can write
 * its build directory.  Returns 0 or a negative errno (logged).
 */
int sandbox_chown_tree(const char *host_dir);

#endif
