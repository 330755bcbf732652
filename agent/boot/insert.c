// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Insertion through libkmod.  The loaded state is read from sysfs by
 * this file, not by libkmod, so that the decision (current, stale, in
 * use) is one place and tests can point it at a fake /sys/module; the
 * module's own facts (path, dependencies, srcversion) come from libkmod
 * and the tree's modules.dep.
 */
#include <libkmod.h>

#include "boot/insert.h"
#include "lib/log.h"
#include "lib/why.h"

/* Deeper dependency chains than this are a loop in a broken modules.dep. */
#define DEPTH_MAX 32

const char *insert_outcome_name(enum insert_outcome o)
{
	static const char *const names[] = {
		[INSERT_LOADED] = "loaded",   [INSERT_REPLACED] = "replaced",
		[INSERT_CURRENT] = "current", [INSERT_IN_USE] = "in use",
		[INSERT_BUILTIN] = "builtin", [INSERT_FAILED] = "failed",
	};

	return o < ARRAY_SIZE(names) ? names[o] : "?";
}

static void unrefp(struct kmod_module **m)
{
	if (*m)
		kmod_module_unref(*m);
}

static void unref_listp(struct kmod_list **l)
{
	if (*l)
		kmod_module_unref_list(*l);
}

static void info_free_listp(struct kmod_list **l)
{
	if (*l)
		kmod_module_info_free_list(*l);
}

/* First line of sys_module/name/attr into buf; -errno when absent. */
static int read_attr(const char *sys_module, const char *name, const char *attr,
		     char *buf, size_t len)
{
	_cleanup_(freep) char *path =
		xasprintf("%s/%s/%s", sys_module, name, attr);
	_cleanup_(freep) char *data = NULL;
	size_t n = 0;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_file(path, 4096, &data, &n);
	if (r < 0)
		return r;
	data[strcspn(data, "\n")] = '\0';
	snprintf(buf, len, "%s", data);
	return 0;
}

/* The identity the kernel shows for a build: srcversion, else version. */
struct identity {
	char key[16], value[128];
};

static int module_identity(struct kmod_module *mod, struct identity *id)
{
	_cleanup_(info_free_listp) struct kmod_list *info = NULL;
	struct kmod_list *l;
	int r = kmod_module_get_info(mod, &info);

	memset(id, 0, sizeof(*id));
	if (r < 0)
		return r;
	kmod_list_foreach(l, info)
	{
		const char *k = kmod_module_info_get_key(l);
		const char *v = kmod_module_info_get_value(l);

		/* srcversion wins over version: it changes with the source. */
		if (streq(k, "srcversion") ||
		    (streq(k, "version") && !streq(id->key, "srcversion"))) {
			snprintf(id->key, sizeof(id->key), "%s", k);
			snprintf(id->value, sizeof(id->value), "%s",
				 v ? v : "");
		}
	}
	return 0;
}

static bool in_use(const char *sys_module, const char *name)
{
	_cleanup_(freep) char *holders =
		xasprintf("%s/%s/holders", sys_module, name);
	_cleanup_(closedirp) DIR *d = holders ? opendir(holders) : NULL;
	struct dirent *e;
	char refcnt[32];

	if (read_attr(sys_module, name, "refcnt", refcnt, sizeof(refcnt)) ==
		    0 &&
	    strtol(refcnt, NULL, 10) != 0)
		return true;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			return true;
	return false;
}

static void result(struct insert_result *res, enum insert_outcome o,
		   const char *fmt, ...) _printf_(3, 4);
static void result(struct insert_result *res, enum insert_outcome o,
		   const char *fmt, ...)
{
	va_list ap;

	res->outcome = o;
	res->why[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		why_vset(res->why, sizeof(res->why), 0, fmt, ap);
		va_end(ap);
	}
}

/* What a refusal of init_module means, in words a user can act on. */
static const char *refusal(int err)
{
	switch (err) {
	case ENOKEY:
	case EKEYREJECTED:
		return "signature not trusted by the kernel";
	case ENOENT:
		return "unknown symbol (a dependency is missing or stale)";
	case ENOEXEC:
		return "not a module for this kernel (invalid format)";
	case EEXIST:
		return "a module of that name is already loaded";
	case EPERM:
		return "the kernel forbids loading modules";
	default:
		return strerror(err);
	}
}

static int ensure(struct kmod_module *mod, const char *sys_module,
		  struct insert_result *res, unsigned depth);

/* Dependencies first; a failed one fails the module with its reason. */
static int ensure_deps(struct kmod_module *mod, const char *sys_module,
		       struct insert_result *res, unsigned depth)
{
	_cleanup_(unref_listp) struct kmod_list *deps =
		kmod_module_get_dependencies(mod);
	struct kmod_list *l;

	kmod_list_foreach(l, deps)
	{
		_cleanup_(unrefp) struct kmod_module *dep =
			kmod_module_get_module(l);
		struct insert_result dres = {0};
		int r = ensure(dep, sys_module, &dres, depth + 1);

		if (r < 0)
			return r;
		if (dres.outcome == INSERT_FAILED ||
		    dres.outcome == INSERT_IN_USE) {
			result(res, INSERT_FAILED, "dependency %s %s: %s",
			       dres.name, insert_outcome_name(dres.outcome),
			       dres.why);
			return 0;
		}
	}
	res->outcome = INSERT_LOADED;
	return 0;
}

static int ensure(struct kmod_module *mod, const char *sys_module,
		  struct insert_result *res, unsigned depth)
{
	const char *name = kmod_module_get_name(mod);
	const char *path = kmod_module_get_path(mod);
	char loaded[128] = "", state[32] = "";
	struct identity want;
	bool stale = false;
	int r;

	snprintf(res->name, sizeof(res->name), "%s", name);
	if (depth > DEPTH_MAX) {
		result(res, INSERT_FAILED, "dependency chain deeper than %d",
		       DEPTH_MAX);
		return 0;
	}
	if (!path) {
		bool builtin =
			kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN;

		result(res, builtin ? INSERT_BUILTIN : INSERT_FAILED,
		       builtin ? NULL : "not in the module tree");
		return 0;
	}
	r = module_identity(mod, &want);
	if (r < 0) {
		result(res, INSERT_FAILED, "%s: cannot read: %s", path,
		       strerror(-r));
		return 0;
	}
	if (read_attr(sys_module, name, "initstate", state, sizeof(state)) ==
	    0) {
		if (want.key[0])
			read_attr(sys_module, name, want.key, loaded,
				  sizeof(loaded));
		if (streq(loaded, want.value) && streq(state, "live")) {
			result(res, INSERT_CURRENT, NULL);
			return 0;
		}
		if (in_use(sys_module, name)) {
			result(res, INSERT_IN_USE,
			       "loaded copy (%s %s) is in use; new %s %s waits "
			       "for the next boot",
			       want.key[0] ? want.key : "srcversion",
			       loaded[0] ? loaded : "none",
			       want.key[0] ? want.key : "build",
			       want.value[0] ? want.value : path);
			return 0;
		}
		stale = true;
	}
	r = ensure_deps(mod, sys_module, res, depth);
	if (r < 0 || res->outcome == INSERT_FAILED)
		return r;
	snprintf(res->name, sizeof(res->name), "%s", name);
	if (stale) {
		r = kmod_module_remove_module(mod, KMOD_REMOVE_NOWAIT);
		if (r < 0) {
			result(res, INSERT_IN_USE,
			       "stale copy could not be unloaded: %s",
			       strerror(-r));
			return 0;
		}
		log_info("%s: unloaded the stale copy (%s %s)", name,
			 want.key[0] ? want.key : "srcversion",
			 loaded[0] ? loaded : "none");
	}
	r = kmod_module_insert_module(mod, 0, NULL);
	if (r < 0) {
		result(res, INSERT_FAILED, "%s: the kernel refused it: %s",
		       path, refusal(-r));
		return 0;
	}
	/* Believe sysfs, not the return code. */
	loaded[0] = '\0';
	if (want.key[0])
		read_attr(sys_module, name, want.key, loaded, sizeof(loaded));
	if (want.key[0] && !streq(loaded, want.value)) {
		result(res, INSERT_FAILED, "loaded, but %s is '%s', not '%s'",
		       want.key, loaded, want.value);
		return 0;
	}
	result(res, stale ? INSERT_REPLACED : INSERT_LOADED, NULL);
	return 0;
}

int insert_module(struct kmod_ctx *ctx, const char *sys_module,
		  const char *name, struct insert_result *res)
{
	_cleanup_(unref_listp) struct kmod_list *list = NULL;
	_cleanup_(unrefp) struct kmod_module *mod = NULL;
	int r;

	*res = (struct insert_result){.outcome = INSERT_FAILED};
	snprintf(res->name, sizeof(res->name), "%s", name);
	r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0)
		return r;
	if (!list)
		return -ENOENT;
	mod = kmod_module_get_module(list);
	r = ensure(mod, sys_module, res, 0);
	if (r < 0)
		return r;
	if (res->outcome == INSERT_FAILED || res->outcome == INSERT_IN_USE)
		log_warn("%s: %s: %s", res->name,
			 insert_outcome_name(res->outcome), res->why);
	else
		log_info("%s: %s", res->name,
			 insert_outcome_name(res->outcome));
	return 0;
}
