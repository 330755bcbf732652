/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_COMMANDS_H
#define DKMS_BOOT_COMMANDS_H

#include "build/engine.h"
#include "cache/cache.h"
#include "dkms/context.h"

/* Exit codes shared by every command (docs/dkms-boot.8). */
enum {
	EXIT_OK = 0,
	EXIT_WORK = 1,	    /* check: something needs work */
	EXIT_USAGE = 2,	    /* bad command line */
	EXIT_TROUBLE = 3,   /* could not read what was asked (reason logged) */
	EXIT_FAILED = 4,    /* build/install: at least one package failed */
	EXIT_TIMEOUT = 5,   /* ... of which one by the time limit */
	EXIT_EXCLUDED = 77, /* the one package asked for is excluded */
};

#define MAX_KERNEL_ARGS 32

struct status_opts {
	const char *module, *version;
	/* dkms runs its whole listing once per -k, in order; none: once
	 * for every kernel.  arch[i] may be NULL (any). */
	const char *kernels[MAX_KERNEL_ARGS], *arches[MAX_KERNEL_ARGS];
	size_t n_kernels;
	bool json;
	const char *arch; /* -a without -k */
};

/* `dkms status` for the same tree, byte for byte. */
int cmd_status(struct dkb_ctx *c, const struct status_opts *o, FILE *out);

struct check_opts {
	const char *kernel, *arch;
	const char *module; /* only this package, NULL for all */
	bool json;
	bool no_state_cache; /* do not use or write the module state cache */
};

/* The boot-time decision: which packages need work for a kernel. */
int cmd_check(struct dkb_ctx *c, const struct check_opts *o, FILE *out);

struct eval_opts {
	const char *module, *version, *kernel, *arch, *conf;
};

/* Evaluate and resolve one dkms.conf; print what dkms would use. */
int cmd_eval(struct dkb_ctx *c, const struct eval_opts *o, FILE *out);

/* What the last boot did: the current boot's report when root is "/"
 * and it exists, else the root's last-boot.json; text or --json. */
int cmd_report(const char *root, bool json, FILE *out);

/* dkms-boot cache SUBCOMMAND ... */
struct cache_cli {
	const char *sub;
	const char *module, *version, *kernel, *arch;
	const char *file;	 /* import: tarball; export: output path */
	const char *into;	 /* unpack */
	const char *const *keep; /* prune --keep */
	size_t n_keep;
	bool json;
	struct cache_opts o;
};

int cmd_cache(struct dkb_ctx *c, const struct cache_cli *cl, FILE *out);

/* build / install / uninstall through the engine. */
int cmd_engine(struct dkb_ctx *c, const struct engine_opts *o, FILE *out);

#endif
