// SPDX-License-Identifier: GPL-2.0-or-later
/* dkms install / uninstall for one package and kernel (see install.h). */
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "build/build.h"
#include "lib/fsutil.h"
#include "build/install.h"
#include "lib/log.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "lib/sandbox.h"
#include "lib/walk.h"

void install_result_free(struct install_result *r)
{
	free(r->message);
	*r = (struct install_result){0};
}

struct ictx {
	struct dkb_ctx *c;
	const struct install_req *q;
	struct dkms_conf conf;
	char suffix[8];
	unsigned long long deadline; /* the package's end; 0: none */
	struct install_result *res;
};

static int set_res(struct ictx *x, enum install_status s, const char *fmt, ...)
	_printf_(3, 4);
static int set_res(struct ictx *x, enum install_status s, const char *fmt, ...)
{
	va_list ap;

	x->res->status = s;
	free(x->res->message);
	va_start(ap, fmt);
	x->res->message = dkb_pkg_vmsg(x->q->module, x->q->version,
				       x->q->kernel, x->q->arch, fmt, ap);
	va_end(ap);
	return s == INSTALL_FAILED || s == INSTALL_NOT_BUILT ||
			       s == INSTALL_TIMEOUT
		       ? -1
		       : 0;
}

static void ictx_init(struct ictx *x, struct dkb_ctx *c,
		      const struct install_req *q, struct install_result *res)
{
	*x = (struct ictx){.c = c, .q = q, .res = res};
	x->deadline = q->deadline_ns;
	if (!x->deadline && q->timeout_ms)
		x->deadline = now_ns() +
			      (unsigned long long)q->timeout_ms * 1000000ULL;
}

/* dkms's messages of several lines, whole, the first naming the package. */
static void log_pkg_lines(const struct ictx *x, enum log_level level,
			  const char *text)
{
	_cleanup_(freep) char *t =
		xasprintf("%s/%s: %s", x->q->module, x->q->version, text);

	log_lines(level, t ? t : text);
}

/* run_build_script() for the "source" scripts: run from the tree's
 * source/ directory, if executable, with the whole root writable (the
 * package's install scripts may touch anything dkms would let them). */
static int source_script(struct ictx *x, const char *which, const char *script)
{
	_cleanup_(freep) char *dir =
		xasprintf("%s/%s/%s/source", x->c->dkms_tree, x->q->module,
			  x->q->version);
	_cleanup_(freep) char *first = NULL, *path = NULL, *run = NULL;
	char *argv[] = {"bash", "-c", "cd \"$1\" && exec $2", "bash", NULL,
			NULL,	NULL};
	struct sandbox_opts so = {.root = x->c->root,
				  .timeout_ms =
					  deadline_remaining_ms(x->deadline),
				  .keep_privileges = true,
				  .writable_root = true};
	struct stat st;
	int r;

	if (!script || !*script)
		return 0;
	if (!x->q->run_scripts) {
		log_notice("%s/%s for %s: the %s script (%s) was not run: "
			   "install scripts run as root only when allowed "
			   "(--scripts=yes)",
			   x->q->module, x->q->version, x->q->kernel, which,
			   script);
		return 0;
	}
	first = strndup(script, strcspn(script, " "));
	path = first && dir ? xasprintf("%s/%s", dir, first) : NULL;
	run = dir ? xasprintf("%s/%s", dir, script) : NULL;
	if (!path || !run)
		return -ENOMEM;
	if (root_stat(x->c->root, path, &st) < 0 || !(st.st_mode & 0111)) {
		log_warn("%s/%s: the %s script %s is not executable; skipped, "
			 "as dkms does",
			 x->q->module, x->q->version, which, first);
		return 0;
	}
	argv[4] = dir;
	argv[5] = run;
	r = sandbox_run(argv, &so);
	if (r == -ETIME)
		log_err("%s/%s for %s: the %s script reached the time limit",
			x->q->module, x->q->version, x->q->kernel, which);
	else if (r != 0)
		log_err("%s/%s: the %s script failed (%s %d)", x->q->module,
			x->q->version, which, r < 0 ? "error" : "exit status",
			r < 0 ? -r : r);
	return r;
}

struct named {
	const char *ko, *kos;
	char ***found;
};

static int find_one(const struct walk_entry *e, void *userdata)
{
	struct named *n = userdata;

	if (e->event != WALK_FILE)
		return 0;
	if (streq(e->name, n->ko) ||
	    (S_ISREG(e->st->st_mode) && streq(e->name, n->kos)))
		return strv_push(n->found, e->path);
	return 0;
}

/*
 * Every file named <name>.ko or <name>.ko<suffix> below dir (host).  Only
 * running out of memory is an error: a tree that is missing or cannot be
 * read in part holds no module to compare with, as before.
 */
static int find_named(const char *dir, const char *ko, const char *kos,
		      char ***found)
{
	struct named n = {.ko = ko, .kos = kos, .found = found};
	int r = walk_tree(AT_FDCWD, dir, WALK_FOLLOW_TOP, find_one, &n);

	return r == -ENOMEM ? r : 0;
}

static char *host_version(const char *host)
{
	return reg_module_version_host(host);
}

/* check_version_sanity(): refuse to replace a newer or identical
 * same-named module already in the kernel (unless --force).
 * Returns 0 to install, 1 to skip this module (dkms's quirk: the
 * install still "succeeds"), <0 on error. */
static int version_sanity(struct ictx *x, const struct dkms_module_entry *e,
			  const char *tree_mod)
{
	_cleanup_(freep) char *lib =
		xasprintf("%s/%s", x->c->install_tree, x->q->kernel);
	_cleanup_(freep) char *lib_host = NULL, *ko = NULL, *kos = NULL,
			      *tm = NULL;
	_cleanup_(freep) char *kv = NULL, *dv = NULL, *msg = NULL;
	_cleanup_(strv_freep) char **found = NULL;
	int cmp;

	if (!lib || root_path(x->c->root, lib, &lib_host) < 0 ||
	    root_path(x->c->root, tree_mod, &tm) < 0)
		return -ENOMEM;
	ko = xasprintf("%s.ko", e->dest_name);
	kos = xasprintf("%s.ko%s", e->dest_name, x->suffix);
	if (!ko || !kos || find_named(lib_host, ko, kos, &found) < 0)
		return -ENOMEM;
	if (strv_length(found) == 0 || x->q->force)
		return 0;
	if (strv_length(found) > 1) {
		msg = xasprintf("Warning! Cannot do version sanity checking "
				"because multiple %s.ko%s\nmodules were found "
				"in kernel %s.",
				e->dest_name, x->suffix, x->q->kernel);
		if (msg)
			log_pkg_lines(x, LOG_LEVEL_WARNING, msg);
		return 0;
	}
	kv = host_version(found[0]);
	dv = host_version(tm);
	if (!kv || !dv)
		return -ENOMEM;
	if (!streq(kv, dv)) {
		if (!*kv || !*dv)
			return 0; /* dkms: "?" */
		cmp = dkms_ver_cmp(kv, dv);
		if (cmp <= 0)
			return 0;
		/* dkms's words, all of its lines. */
		msg = xasprintf("Module version %s for %s.ko%s\nis not newer "
				"than what is already found in kernel %s "
				"(%s).\nYou may override by specifying "
				"--force.",
				dv, e->dest_name, x->suffix, x->q->kernel, kv);
		if (!msg)
			return -ENOMEM;
		log_pkg_lines(x, LOG_LEVEL_ERR, msg);
		return 1;
	}
	msg = xasprintf("Module version %s for %s.ko%s\nexactly matches what "
			"is already found in kernel %s.\nDKMS will not "
			"replace this module.\nYou may override by specifying "
			"--force.",
			dv, e->dest_name, x->suffix, x->q->kernel);
	if (!msg)
		return -ENOMEM;
	log_pkg_lines(x, LOG_LEVEL_ERR, msg);
	return 1;
}

static bool debian_like(const struct dkb_ctx *c)
{
	return startswith(c->distribution, "debian") ||
	       startswith(c->distribution, "ubuntu");
}

/* Outside Debian and Ubuntu, dkms moves a same-named module it replaces
 * into original_module/<kver>/<arch>/ (first install only), so that
 * uninstall can put it back. */
static int archive_original(struct ictx *x, const struct dkms_module_entry *e)
{
	const char *m = x->q->module, *k = x->q->kernel, *a = x->q->arch;
	_cleanup_(freep) char *link =
		xasprintf("%s/%s/kernel-%s-%s", x->c->dkms_tree, m, k, a);
	const char *prefs[] = {"/extra", "/updates", e->dest_location};
	_cleanup_(freep) char *arch_dir = xasprintf(
		"%s/%s/original_module/%s/%s", x->c->dkms_tree, m, k, a);

	if (!link || !arch_dir)
		return -ENOMEM;
	if (debian_like(x->c) || root_is_link(x->c->root, link))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(prefs); i++) {
		_cleanup_(freep) char *dir =
			xasprintf("%s/%s%s", x->c->install_tree, k, prefs[i]);
		_cleanup_(freep) char *orig =
			dir ? reg_find_module(x->c, dir, e->dest_name,
					      x->suffix)
			    : NULL;
		_cleanup_(freep) char *ho = NULL, *hd = NULL, *dst = NULL;

		if (!orig)
			continue;
		int r;

		if (root_path(x->c->root, orig, &ho) < 0 ||
		    root_path(x->c->root, arch_dir, &hd) < 0 ||
		    make_dirs_durable(hd, 0755) < 0)
			return -EIO;
		dst = path_join(hd, strrchr(ho, '/') + 1);
		/* The dkms tree and /lib/modules may be two file systems:
		 * then a copy, complete before the original goes. */
		r = dst ? move_file_durable(ho, dst) : -ENOMEM;
		if (r < 0)
			return r;
		log_info("%s: stored the original %s in %s", m, orig, arch_dir);
		return 0;
	}
	return 0;
}

static int install_one(struct ictx *x, size_t i, bool *any)
{
	const struct dkms_module_entry *e = &x->conf.mods[i];
	_cleanup_(freep) char *mdir = xasprintf(
		"%s/%s/%s/%s/%s/module", x->c->dkms_tree, x->q->module,
		x->q->version, x->q->kernel, x->q->arch);
	_cleanup_(freep) char *src = NULL, *dir = NULL, *dst = NULL;
	_cleanup_(freep) char *hs = NULL, *hdir = NULL;
	int r;

	if (!mdir)
		return -ENOMEM;
	src = reg_find_module(x->c, mdir, e->dest_name, x->suffix);
	if (!src)
		return set_res(x, INSTALL_NOT_BUILT,
			       "%s is missing from the dkms tree",
			       e->dest_name);
	r = version_sanity(x, e, src);
	if (r != 0) {
		*any = true; /* dkms counts a refused module as handled */
		return r < 0 ? set_res(x, INSTALL_FAILED,
				       "version check failed")
			     : 0;
	}
	r = i == 0 ? source_script(x, "pre_install", x->conf.pre_install) : 0;
	if (r == -ETIME)
		return set_res(x, INSTALL_TIMEOUT,
			       "pre_install: time limit reached");
	if (r != 0 && !x->q->force)
		return set_res(x, INSTALL_FAILED,
			       "pre_install failed, aborting install");
	r = archive_original(x, e);
	if (r < 0)
		return set_res(x, INSTALL_FAILED,
			       "cannot archive the original %s: %s",
			       e->dest_name, strerror(-r));
	dir = xasprintf("%s/%s%s", x->c->install_tree, x->q->kernel,
			e->dest_location);
	if (!dir || root_path(x->c->root, dir, &hdir) < 0 ||
	    root_path(x->c->root, src, &hs) < 0)
		return set_res(x, INSTALL_FAILED, "out of memory");
	dst = path_join(hdir, strrchr(src, '/') + 1);
	r = dst ? make_dirs_durable(hdir, 0755) : -ENOMEM;
	/* 0644, root's (ours): never the mode a build left. */
	if (r == 0)
		r = copy_file_atomic_mode(hs, dst, 0644);
	if (r < 0)
		return set_res(x, INSTALL_FAILED,
			       "cannot install %s into %s: %s", e->dest_name,
			       dir, strerror(-r));
	*any = true;
	return 0;
}

static int read_conf(struct ictx *x)
{
	int r = dkb_read_conf(x->c, x->q->module, x->q->version, x->q->kernel,
			      x->q->arch, NULL, &x->conf, NULL);
	char why[512];

	if (r < 0) {
		reg_conf_problem(x->c, x->q->module, x->q->version, r, why,
				 sizeof(why));
		return set_res(x, INSTALL_FAILED, "cannot read dkms.conf: %s",
			       why);
	}
	if (strv_length(x->conf.errors))
		return set_res(x, INSTALL_FAILED, "%s", x->conf.errors[0]);
	if (dkms_conf_validate_names(&x->conf, why, sizeof(why)) < 0)
		return set_res(x, INSTALL_FAILED, "%s", why);
	reg_module_suffix(x->c, x->q->kernel, x->suffix, sizeof(x->suffix));
	return 0;
}

int install_package(struct dkb_ctx *c, const struct install_req *q,
		    struct install_result *res)
{
	struct ictx x;
	_cleanup_(freep) char *kdir =
		xasprintf("%s/%s", c->install_tree, q->kernel);
	_cleanup_(freep) char *link =
		xasprintf("%s/%s/kernel-%s-%s", c->dkms_tree, q->module,
			  q->kernel, q->arch);
	_cleanup_(freep) char *target =
		xasprintf("%s/%s/%s", q->version, q->kernel, q->arch);
	_cleanup_(freep) char *hlink = NULL;
	bool any = false;
	int r;

	*res = (struct install_result){0};
	ictx_init(&x, c, q, res);
	if (!kdir || !link || !target)
		return -ENOMEM;
	r = read_conf(&x);
	if (r == 0 && reg_is_built(c, q->module, q->version, q->kernel, q->arch,
				   &x.conf, x.suffix) != 1)
		r = set_res(&x, INSTALL_NOT_BUILT, "not built");
	if (r == 0 && !root_exists(c->root, kdir))
		r = set_res(&x, INSTALL_FAILED,
			    "%s does not exist: no such kernel", kdir);
	if (r == 0 && !q->force &&
	    reg_is_installed(c, q->module, q->version, q->kernel, q->arch)) {
		set_res(&x, INSTALL_ALREADY, "already installed");
		dkms_conf_free(&x.conf);
		return 0;
	}
	for (size_t i = 0; r == 0 && i < x.conf.n_mods; i++)
		r = install_one(&x, i, &any);
	if (r == 0 && !any)
		r = set_res(&x, INSTALL_FAILED, "installation aborted");
	if (r == 0 && (root_path_nofollow(c->root, link, &hlink) < 0 ||
		       symlink_atomic(target, hlink) < 0))
		r = set_res(&x, INSTALL_FAILED, "cannot create %s", link);
	/* dkms ignores POST_INSTALL's status; the time limit still ends
	 * the package. */
	if (r == 0 &&
	    source_script(&x, "post_install", x.conf.post_install) == -ETIME)
		r = set_res(&x, INSTALL_TIMEOUT,
			    "post_install: time limit reached");
	if (r == 0)
		set_res(&x, INSTALL_DONE, "installed into %s", kdir);
	dkms_conf_free(&x.conf);
	return r;
}

/* rm -f <dir>/<name>.ko*, as dkms's glob does. */
static int remove_module_files(const char *hdir, const char *name)
{
	_cleanup_(closedirp) DIR *d = opendir(hdir);
	_cleanup_(freep) char *pat = xasprintf("%s.ko*", name);
	struct dirent *e;
	int r = 0;

	if (!pat)
		return -ENOMEM;
	while (d && (e = readdir(d))) {
		_cleanup_(freep) char *p = NULL;

		if (e->d_name[0] == '.' || fnmatch(pat, e->d_name, 0) != 0)
			continue;
		p = path_join(hdir, e->d_name);
		if (!p)
			return -ENOMEM;
		r = unlink_durable(p);
		if (r == -ENOENT)
			r = 0;
		if (r < 0)
			return r;
	}
	return r;
}

/* rmdir -p --ignore-fail-on-non-empty of location, below the kernel dir. */
static int remove_empty_dirs(const char *khost, const char *location)
{
	_cleanup_(freep) char *rel = strdup(location + strspn(location, "/"));

	while (rel && *rel) {
		_cleanup_(freep) char *p = path_join(khost, rel);
		char *slash;
		int r;

		if (!p || rmdir(p) < 0)
			return 0;
		r = fsync_parent_dir(p);
		if (r < 0)
			return r;
		slash = strrchr(rel, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
	return 0;
}

/* Put back the module archived at install, if any: moved (copied when
 * the dkms tree is on another file system).  Returns <0 when it could
 * not, and then the archive must stay. */
static int restore_original(struct ictx *x, const struct dkms_module_entry *e)
{
	const char *k = x->q->kernel;
	_cleanup_(freep) char *od =
		xasprintf("%s/%s/original_module/%s/%s", x->c->dkms_tree,
			  x->q->module, k, x->q->arch);
	_cleanup_(freep) char *orig =
		od ? reg_find_module(x->c, od, e->dest_name, x->suffix) : NULL;
	_cleanup_(freep) char *ho = NULL, *to = NULL, *hto = NULL, *dst = NULL;
	int r;

	if (!orig)
		return 0;
	to = xasprintf("%s/%s%s", x->c->install_tree, k, e->dest_location_raw);
	if (!to || root_path(x->c->root, orig, &ho) < 0 ||
	    root_path(x->c->root, to, &hto) < 0)
		return -ENOMEM;
	dst = path_join(hto, strrchr(ho, '/') + 1);
	r = dst ? make_dirs_durable(hto, 0755) : -ENOMEM;
	if (r == 0)
		r = move_file_durable(ho, dst);
	if (r < 0)
		log_err("%s/%s: cannot put the original %s back into %s: %s; "
			"it stays in %s",
			x->q->module, x->q->version, e->dest_name, to,
			strerror(-r), od);
	else
		log_info("%s: restored the original %s into %s", x->q->module,
			 e->dest_name, to);
	return r;
}

static int uninstall_one(struct ictx *x, const struct dkms_module_entry *e,
			 bool *kept)
{
	const char *k = x->q->kernel;
	_cleanup_(freep) char *dest = reg_actual_dest(x->c, x->q->module, k,
						      x->q->arch, e, x->suffix);
	_cleanup_(freep) char *kdir = xasprintf("%s/%s", x->c->install_tree, k);
	_cleanup_(freep) char *khost = NULL, *dir = NULL;
	int r;

	if (!dest || !kdir || root_path(x->c->root, kdir, &khost) < 0)
		return -ENOMEM;
	if (!*dest) {
		log_notice("%s: %s was not found within %s", x->q->module,
			   e->dest_name, kdir);
		return 0;
	}
	dir = xasprintf("%s%s", khost, dest);
	if (!dir)
		return -ENOMEM;
	r = remove_module_files(dir, e->dest_name);
	if (r == 0)
		r = remove_empty_dirs(khost, dest);
	if (r < 0)
		return r;
	if (!debian_like(x->c) && restore_original(x, e) < 0)
		*kept = true;
	return 0;
}

int uninstall_package(struct dkb_ctx *c, const struct install_req *q,
		      struct install_result *res)
{
	struct ictx x;
	_cleanup_(freep) char *link =
		xasprintf("%s/%s/kernel-%s-%s", c->dkms_tree, q->module,
			  q->kernel, q->arch);
	_cleanup_(freep) char *od =
		xasprintf("%s/%s/original_module/%s/%s", c->dkms_tree,
			  q->module, q->kernel, q->arch);
	_cleanup_(freep) char *hlink = NULL, *hod = NULL;
	bool active, kept = false;
	int r;

	*res = (struct install_result){0};
	ictx_init(&x, c, q, res);
	if (!link || !od)
		return -ENOMEM;
	r = read_conf(&x);
	if (r < 0) {
		dkms_conf_free(&x.conf);
		return r;
	}
	active = reg_is_installed(c, q->module, q->version, q->kernel, q->arch);
	for (size_t i = 0; active && r == 0 && i < x.conf.n_mods; i++) {
		r = uninstall_one(&x, &x.conf.mods[i], &kept);
		if (r < 0)
			r = set_res(&x, INSTALL_FAILED, "cannot remove %s: %s",
				    x.conf.mods[i].dest_name, strerror(-r));
	}
	if (r == 0 && active &&
	    (root_path_nofollow(c->root, link, &hlink) < 0 ||
	     unlink_durable(hlink) < 0))
		r = set_res(&x, INSTALL_FAILED, "cannot remove %s: %m", link);
	if (r == 0 &&
	    source_script(&x, "post_remove", x.conf.post_remove) == -ETIME)
		r = set_res(&x, INSTALL_TIMEOUT,
			    "post_remove: time limit reached");
	/* The archive goes once nothing is installed for the kernel, and
	 * only when every original in it went back. */
	if (r == 0 && kept)
		r = set_res(&x, INSTALL_FAILED,
			    "uninstalled, but an original module could not "
			    "be restored; it stays in %s",
			    od);
	if (r == 0 && active && root_path(c->root, od, &hod) == 0 &&
	    access(hod, F_OK) == 0 && remove_tree(hod) == 0 &&
	    fsync_parent_dir(hod) < 0)
		r = set_res(&x, INSTALL_FAILED, "cannot fsync the parent of %s",
			    od);
	if (r == 0)
		set_res(&x, active ? INSTALL_DONE : INSTALL_NOT_INSTALLED,
			active ? "uninstalled"
			       : "was not active on this kernel");
	dkms_conf_free(&x.conf);
	return r;
}

int run_depmod(struct dkb_ctx *c, const char *kernel, unsigned timeout_ms)
{
	_cleanup_(freep) char *map = xasprintf("/boot/System.map-%s", kernel);
	char *argv[] = {"depmod", "-a", (char *)kernel, "-F", map, NULL};
	struct sandbox_opts so = {.root = c->root,
				  .timeout_ms = timeout_ms,
				  .keep_privileges = true,
				  .writable_root = true};
	int r;

	if (!map)
		return -ENOMEM;
	if (!root_exists(c->root, map))
		argv[3] = NULL;
	r = sandbox_run(argv, &so);
	if (r != 0)
		log_err("depmod -a %s failed (%s %d)", kernel,
			r < 0 ? "error" : "exit status", r < 0 ? -r : r);
	return r == 0 ? 0 : r == -ETIME ? -ETIME : -EIO;
}
