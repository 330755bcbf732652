// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One answer from two evaluators.  Most dkms.conf files only assign, and
 * the native reader handles them without a fork; anything it does not
 * fully understand goes to bash, exactly as dkms sources it.  Bash
 * results are cached, keyed by the identity of every input, so that the
 * boot-time "nothing to do" path never forks.
 */
#include <fcntl.h>
#include <sha2.h>
#include <sys/stat.h>

#include "conf/bash.h"
#include "conf/eval.h"
#include "lib/log.h"
#include "lib/rootfs.h"

/*
 * A cache file: the magic line, the length of bash's stderr in decimal
 * and a newline, those bytes, then the variables as name\0index\0value\0
 * triples.  Version 1 had no diagnostics and cached no conf that wrote
 * any, so such a conf cost a fork on every boot.
 */
#define EVAL_CACHE_MAGIC "dkms-boot-eval 2\n"
/* bash.c keeps at most 16 KiB of stderr. */
#define EVAL_CACHE_DIAG_MAX (64u << 10)

const char *conf_method_name(enum conf_method m)
{
	switch (m) {
	case CONF_METHOD_NATIVE:
		return "native";
	case CONF_METHOD_BASH:
		return "bash";
	default:
		return "auto";
	}
}

void conf_eval_result_free(struct conf_eval_result *r)
{
	vars_free(&r->vars);
	free(r->bash_diag);
	r->bash_diag = NULL;
}

static bool in_whitelist(const char *const *wl, const char *name)
{
	for (; *wl; wl++)
		if (streq(*wl, name))
			return true;
	return false;
}

/*
 * Copy the whitelisted variables of one file's scope back into the
 * parent, through dkms's echo-and-resource step.
 */
static int native_export(const struct vars *sub, struct vars *parent,
			 const char *const *wl, struct conf_diag *diag)
{
	for (size_t i = 0; i < sub->n; i++) {
		const struct var *v = &sub->v[i];

		if (!in_whitelist(wl, v->name))
			continue;
		for (size_t j = 0; j < v->n; j++) {
			_cleanup_(freep) char *val = NULL;
			int r;

			if (!v->vals[j])
				continue;
			val = strdup(v->vals[j]);
			if (!val)
				return -ENOMEM;
			r = conf_native_reexport(val, diag);
			if (r < 0)
				return r;
			r = vars_set(parent, v->name, j, val);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int read_conf_file(const char *root, const char *path, char **buf,
			  size_t *len)
{
	int r = root_read_file(root, path, CONF_MAX_SIZE, buf, len);

	if (r == -EFBIG)
		log_err("%s: larger than %u KiB, refused", path,
			CONF_MAX_SIZE >> 10);
	return r;
}

static int eval_native(const char *root, char *const *files,
		       const struct vars *env, const char *const *wl,
		       struct conf_eval_result *res)
{
	_cleanup_(vars_freep) struct vars parent = VARS_INIT;
	int r = vars_copy(&parent, env);

	if (r < 0)
		return r;
	for (char *const *f = files; *f; f++) {
		_cleanup_(vars_freep) struct vars sub = VARS_INIT;
		_cleanup_(freep) char *buf = NULL;
		size_t len = 0;

		r = read_conf_file(root, *f, &buf, &len);
		if (r == -ENOENT)
			continue; /* dkms sources only what exists */
		if (r < 0)
			return r;
		r = vars_copy(&sub, &parent);
		if (r == 0)
			r = conf_native_source(buf, len, &sub, &res->refusal);
		if (r == 0)
			r = native_export(&sub, &parent, wl, &res->refusal);
		if (r == -ENOTSUP)
			snprintf(res->refused_file, sizeof(res->refused_file),
				 "%s", *f);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < parent.n; i++) {
		const struct var *v = &parent.v[i];

		if (!in_whitelist(wl, v->name))
			continue;
		for (size_t j = 0; j < v->n; j++)
			if (v->vals[j]) {
				r = vars_set(&res->vars, v->name, j,
					     v->vals[j]);
				if (r < 0)
					return r;
			}
	}
	res->used = CONF_METHOD_NATIVE;
	return 0;
}

static void hash_str(SHA2_CTX *h, const char *s)
{
	SHA256Update(h, (const uint8_t *)s, strlen(s) + 1);
}

static void hash_file_id(SHA2_CTX *h, const char *root, const char *path)
{
	struct stat st;
	char id[160];

	hash_str(h, path);
	if (root_stat(root, path, &st) < 0) {
		hash_str(h, "absent");
		return;
	}
	snprintf(id, sizeof(id), "%llu:%llu:%lld:%lld.%09ld:%lld.%09ld:%o",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
		 st.st_ctim.tv_nsec, (unsigned)st.st_mode);
	hash_str(h, id);
}

/* The cache key: every input that can change bash's answer and that we
 * know of.  (A dkms.conf that reads other files is re-evaluated only
 * when one of these changes; docs/conf-evaluation.md says so.) */
static void cache_key(const char *root, char *const *files, char *const *extra,
		      const struct vars *env, const char *const *wl,
		      char key[SHA256_DIGEST_STRING_LENGTH])
{
	_cleanup_(freep) char *ser = NULL;
	size_t len = 0;
	SHA2_CTX h;

	SHA256Init(&h);
	hash_str(&h, EVAL_CACHE_MAGIC DKMS_BOOT_VERSION);
	for (char *const *f = files; *f; f++)
		hash_file_id(&h, root, *f);
	hash_str(&h, "--");
	for (char *const *f = extra; f && *f; f++)
		hash_file_id(&h, root, *f);
	hash_str(&h, "--");
	if (vars_serialize(env, &ser, &len) == 0)
		SHA256Update(&h, (const uint8_t *)ser, len);
	for (; *wl; wl++)
		hash_str(&h, *wl);
	SHA256End(&h, key);
}

/* Like sudo: trust a cache file only if root owns it and nobody else can
 * write it or its directory. */
static bool cache_trusted(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* "<len>\n<diag bytes>" at p; *diag NULL when len is 0. */
static int parse_diag(const char *p, size_t n, char **diag, size_t *used)
{
	size_t len = 0, i = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9' && i < 8)
		len = len * 10 + (size_t)(p[i++] - '0');
	if (i == 0 || i >= n || p[i] != '\n' || len > EVAL_CACHE_DIAG_MAX ||
	    len > n - i - 1)
		return -EPROTO;
	i++;
	*diag = NULL;
	if (len) {
		if (memchr(p + i, '\0', len))
			return -EPROTO;
		*diag = strndup(p + i, len);
		if (!*diag)
			return -ENOMEM;
	}
	*used = i + len;
	return 0;
}

static int cache_load(const char *root, const char *dir, const char *key,
		      struct vars *out, char **diag)
{
	_cleanup_(freep) char *path = xasprintf("%s/%s", dir, key);
	_cleanup_(freep) char *host = NULL, *hdir = NULL, *buf = NULL;
	_cleanup_(closep) int fd = -1;
	_cleanup_(freep) char *d = NULL;
	struct stat st, dst;
	size_t len = 0, ml = strlen(EVAL_CACHE_MAGIC), used = 0;
	int r;

	if (!path || root_path(root, path, &host) < 0 ||
	    root_path(root, dir, &hdir) < 0)
		return -ENOMEM;
	if (stat(hdir, &dst) < 0 || !cache_trusted(&dst))
		return -EPERM;
	fd = open(host, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !cache_trusted(&st))
		return -EPERM;
	r = read_fd(fd, CONF_MAX_SIZE, &buf, &len);
	if (r < 0)
		return r;
	if (len < ml || memcmp(buf, EVAL_CACHE_MAGIC, ml) != 0)
		return -EPROTO;
	r = parse_diag(buf + ml, len - ml, &d, &used);
	if (r < 0)
		return r;
	r = vars_parse_triples(buf + ml + used, len - ml - used, out);
	if (r < 0)
		return r;
	*diag = TAKE_PTR(d);
	return 0;
}

static void cache_store(const char *root, const char *dir, const char *key,
			const struct vars *vs, const char *diag)
{
	_cleanup_(freep) char *path = xasprintf("%s/%s", dir, key);
	_cleanup_(freep) char *host = NULL, *hdir = NULL, *ser = NULL;
	_cleanup_(freep) char *data = NULL, *head = NULL;
	size_t len = 0, dl = diag ? strlen(diag) : 0, hl;
	int r;

	if (dl > EVAL_CACHE_DIAG_MAX)
		dl = EVAL_CACHE_DIAG_MAX;
	head = xasprintf(EVAL_CACHE_MAGIC "%zu\n", dl);
	if (!head || !path || root_path(root, dir, &hdir) < 0 ||
	    root_path(root, path, &host) < 0 ||
	    vars_serialize(vs, &ser, &len) < 0)
		return;
	hl = strlen(head);
	data = malloc(hl + dl + len);
	if (!data)
		return;
	memcpy(data, head, hl);
	if (dl)
		memcpy(data + hl, diag, dl);
	memcpy(data + hl + dl, ser, len);
	r = make_dirs(hdir, 0755);
	if (r == 0)
		r = write_file_atomic(host, data, hl + dl + len, 0644);
	if (r < 0)
		log_debug("eval cache %s not written: %s", path, strerror(-r));
}

static int eval_bash(const char *root, char *const *files, char *const *extra,
		     const struct vars *env, const char *const *wl,
		     const struct conf_eval_opts *o,
		     struct conf_eval_result *res)
{
	const char *dir = o->cache_dir ? o->cache_dir : DKMS_BOOT_EVAL_CACHE;
	struct conf_bash_opts bo = {.root = root, .timeout_ms = o->timeout_ms};
	char key[SHA256_DIGEST_STRING_LENGTH];
	int r;

	for (char *const *f = files; *f; f++) {
		struct stat st;

		if (root_stat(root, *f, &st) == 0 &&
		    st.st_size > CONF_MAX_SIZE) {
			log_err("%s: larger than %u KiB, refused", *f,
				CONF_MAX_SIZE >> 10);
			return -EFBIG;
		}
	}
	res->used = CONF_METHOD_BASH;
	cache_key(root, files, extra, env, wl, key);
	if (o->use_cache &&
	    cache_load(root, dir, key, &res->vars, &res->bash_diag) == 0) {
		res->from_cache = true;
		return 0;
	}
	vars_free(&res->vars);
	r = conf_bash_eval(files, env, wl, &bo, &res->vars, &res->bash_diag);
	if (r == -ETIME)
		log_err("%s: evaluation timed out after %u ms; bash was killed",
			files[0], o->timeout_ms ? o->timeout_ms : 10000);
	else if (r == -ENOEXEC)
		log_err("%s: needs bash, and there is no bash in the root %s "
			"to evaluate it",
			files[0], root_is_slash(root) ? "/" : root);
	else if (r < 0)
		log_err("%s: bash evaluation failed: %s", files[0],
			strerror(-r));
	if (r < 0)
		return r;
	/* With its diagnostics: a conf that only warns must not cost a
	 * fork on every boot. */
	if (o->write_cache)
		cache_store(root, dir, key, &res->vars, res->bash_diag);
	return 0;
}

int conf_eval(const char *root, char *const *files, char *const *extra_key,
	      const struct vars *env, const char *const *whitelist,
	      const struct conf_eval_opts *opts, struct conf_eval_result *res)
{
	int r;

	*res = (struct conf_eval_result){.vars = VARS_INIT};
	if (opts->method != CONF_METHOD_BASH) {
		r = eval_native(root, files, env, whitelist, res);
		if (r != -ENOTSUP || opts->method == CONF_METHOD_NATIVE)
			return r;
		log_debug("%s: %s; evaluating with bash", res->refused_file,
			  res->refusal.reason);
		vars_free(&res->vars);
	}
	return eval_bash(root, files, extra_key, env, whitelist, opts, res);
}
