/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CONF_EVAL_H
#define DKMS_BOOT_CONF_EVAL_H

#include "conf/native.h"
#include "conf/vars.h"

enum conf_method {
	CONF_METHOD_AUTO,   /* native, bash when native refuses */
	CONF_METHOD_NATIVE, /* native only: a refusal is an error */
	CONF_METHOD_BASH,   /* bash only */
};

struct conf_eval_opts {
	enum conf_method method;
	unsigned timeout_ms;   /* bash time limit; 0: default */
	bool use_cache;	       /* reuse earlier bash results */
	bool write_cache;      /* store new bash results (best effort) */
	const char *cache_dir; /* in-root; default DKMS_BOOT_EVAL_CACHE */
};

#define DKMS_BOOT_EVAL_CACHE "/var/cache/dkms-boot/eval"
/* dkms.conf files are a few KiB; anything this large is refused. */
#define CONF_MAX_SIZE (1u << 20)

struct conf_eval_result {
	struct vars vars;	  /* the whitelisted variables */
	enum conf_method used;	  /* NATIVE or BASH */
	bool from_cache;	  /* a cached bash result */
	struct conf_diag refusal; /* why native refused (when used == BASH) */
	char refused_file[256];	  /* which file native refused */
	char *bash_diag;	  /* bash's stderr, NULL if none; cached
				   * with the result, so also from_cache */
};

void conf_eval_result_free(struct conf_eval_result *r);
static inline void conf_eval_result_freep(struct conf_eval_result *r)
{
	conf_eval_result_free(r);
}

/*
 * Evaluate files[] (in-root paths; absent ones skipped) as dkms sources
 * dkms.conf and its override files: whitelisted variables carried from
 * one file to the next, everything else dropped.  extra_key[] names
 * more in-root files whose change must invalidate a cached bash result
 * (the kernel's .config).  Returns 0, -EFBIG for an oversized file,
 * -ENOTSUP (native only and refused), or conf_bash_eval()'s errors.
 */
int conf_eval(const char *root, char *const *files, char *const *extra_key,
	      const struct vars *env, const char *const *whitelist,
	      const struct conf_eval_opts *opts, struct conf_eval_result *res);

const char *conf_method_name(enum conf_method m);

#endif
