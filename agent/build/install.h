/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_INSTALL_H
#define DKMS_BOOT_INSTALL_H

#include "dkms/context.h"

/*
 * dkms 3.0.10's do_install and do_uninstall for one package and kernel:
 * module files into <install_tree>/<kver><location>, the relative
 * kernel-<kver>-<arch> link, PRE/POST_INSTALL and POST_REMOVE scripts,
 * the version sanity check against a same-named module already in the
 * kernel, and (except on Debian and Ubuntu) the original_module archive.
 * Every file is replaced atomically (temp, fsync, rename).  depmod is
 * left to the caller, so that a run of several packages runs it once.
 */
enum install_status {
	INSTALL_DONE,
	INSTALL_ALREADY,       /* already installed, nothing done */
	INSTALL_NOT_BUILT,     /* build it first */
	INSTALL_REFUSED,       /* dkms's version sanity check said no */
	INSTALL_FAILED,	       /* a step failed (message says which) */
	INSTALL_NOT_INSTALLED, /* uninstall: nothing to do */
	INSTALL_TIMEOUT,       /* a script reached the package's time limit */
};

struct install_req {
	const char *module, *version, *kernel, *arch;
	bool force;
	unsigned timeout_ms;		/* scripts; 0: none */
	unsigned long long deadline_ns; /* overrides timeout_ms (build.h) */
	/* PRE_INSTALL, POST_INSTALL, POST_REMOVE run as root with the root
	 * writable, as dkms runs them, only when set (false: skipped and
	 * logged). */
	bool run_scripts;
};

struct install_result {
	enum install_status status;
	char *message;
};

void install_result_free(struct install_result *r);

int install_package(struct dkb_ctx *c, const struct install_req *q,
		    struct install_result *res);
int uninstall_package(struct dkb_ctx *c, const struct install_req *q,
		      struct install_result *res);

/* depmod -a <kver> [-F /boot/System.map-<kver>] inside the root, at
 * most timeout_ms (0: none).  0, -ETIME, or -EIO (logged). */
int run_depmod(struct dkb_ctx *c, const char *kernel, unsigned timeout_ms);

#endif
