/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_SANDBOX_H
#define DKMS_BOOT_SANDBOX_H

#include "lib/util.h"

/*
 * Run a build step (PRE_BUILD, MAKE, POST_BUILD, patch, sign-file) the
 * way dkms would, but contained (docs/build.md, "The sandbox"):
 *  - new PID, mount, IPC and network namespaces (no interface but
 *    loopback, down) and a session of its own (no controlling terminal);
 *  - the root seen through a throwaway overlay, writable but discarded
 *    with the step (read-only where overlayfs is missing), the build
 *    directory bound in from the host, private size-limited tmpfs on
 *    /tmp, /run, /var/run and /dev/shm, and a minimal /dev;
 *  - a fresh session keyring, SANDBOX_NPROC processes at most, an
 *    unprivileged user where possible, no_new_privs and a seccomp filter;
 *  - its own process group and namespace killed as a whole at the time
 *    limit.
 */
struct sandbox_opts {
	const char *root;	  /* host path of the root; NULL or "/" */
	const char *build_host;	  /* host directory that stays writable */
	const char *build_inroot; /* where build_host appears inside root
				   * (dkms's $dkms_tree/<m>/<v>/build); its
				   * sibling "source" (dkms's link to the
				   * package source) is handed to the
				   * unprivileged user in the overlay */
	const char *cwd_inroot;	  /* working directory; default build_inroot */
	const char *log_path;	  /* host file: stdout+stderr appended;
				   * NULL: inherited stdout/stderr */
	char *const *env;	  /* "NAME=value" list, exactly; NULL: PATH,
				   * LC_ALL=C and HOME=/nonexistent */
	unsigned timeout_ms;	  /* 0: none */
	bool keep_network;	  /* default: no network */
	bool keep_privileges;	  /* default: run as SANDBOX_UID/GID */
	bool writable_root;	  /* default: a throwaway overlay; true: the
				   * real root, writable (install scripts) */
	/* Extra fds (>= 3) to pass through, e.g. a make jobserver pipe: the
	 * first n_keep_fds; a negative one ends the list early. */
	int keep_fds[4];
	size_t n_keep_fds;
};

#define SANDBOX_UID 65534
#define SANDBOX_GID 65534
/* RLIMIT_NPROC of the unprivileged step (counted for all of SANDBOX_UID's
 * processes on the host): a fork bomb fails fast. */
#define SANDBOX_NPROC 1024
/* tmpfs sizes in MiB: /tmp, and the overlay's upper layer; /run,
 * /var/run and /dev/shm. */
#define SANDBOX_TMP_MB 512
#define SANDBOX_RUN_MB 16

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
