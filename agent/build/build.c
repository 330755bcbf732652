// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Build one DKMS package for one kernel, as dkms 3.0.10 does (see
 * build.h for the differences).  Every step that runs package code runs
 * in the sandbox; everything else is done here, in-process.
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "build/build.h"
#include "module/compress.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "lib/sandbox.h"
#include "build/sign.h"

#define SOURCE_MAX_BYTES (2ULL << 30)
/* What the engine reads back of one built module. */
#define MODULE_MAX_BYTES (1ULL << 30)
/* A hidden tree directory with no lock inside is some run's, between
 * two steps, for a moment; one this old was left by a crash. */
#define HIDDEN_STALE_S (60 * 60)

struct bctx {
	struct dkb_ctx *c;
	const struct build_req *q;
	struct dkms_conf conf;
	char suffix[8];
	enum compress_kind ck;
	struct sign_plan sign;
	char *work, *build_host, *log;
	int work_lock; /* flock on <work>/.lock: this run is alive */
	char *build_inroot, *base_inroot;
	unsigned long long deadline;
	char *cc; /* CC for make, from the headers' .kernelvariables */
	struct build_result *res;
};

void build_result_free(struct build_result *r)
{
	free(r->message);
	free(r->log_path);
	*r = (struct build_result){0};
}

static int set_result(struct bctx *b, enum build_status s, const char *fmt, ...)
	_printf_(3, 4);
static int set_result(struct bctx *b, enum build_status s, const char *fmt, ...)
{
	va_list ap;

	b->res->status = s;
	free(b->res->message);
	va_start(ap, fmt);
	b->res->message = dkb_pkg_vmsg(b->q->module, b->q->version,
				       b->q->kernel, b->q->arch, fmt, ap);
	va_end(ap);
	return s == BUILD_DONE || s == BUILD_ALREADY || s == BUILD_EXCLUDED
		       ? 0
		       : -1;
}

char *build_make_command(const char *make_command, unsigned jobs,
			 const char *kernelver)
{
	if (!startswith(make_command, "make"))
		return strdup(make_command);
	return xasprintf("make -j%u KERNELRELEASE=%s%s", jobs, kernelver,
			 make_command + 4);
}

unsigned deadline_remaining_ms(unsigned long long deadline_ns)
{
	unsigned long long now = now_ns();

	if (!deadline_ns)
		return 0;
	if (now >= deadline_ns)
		return 1;
	return (unsigned)((deadline_ns - now) / 1000000ULL) + 1;
}

static unsigned remaining_ms(const struct bctx *b)
{
	return deadline_remaining_ms(b->deadline);
}

static char *const step_env_base[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/nonexistent",
	"SHELL=/bin/bash",
};

/* Run argv in the sandbox, in the build directory, output to log. */
static int run_sandboxed(struct bctx *b, char *const *argv, bool privileged,
			 const char *cc, const char *log)
{
	_cleanup_(freep) char *ccenv = cc ? xasprintf("CC=%s", cc) : NULL;
	char *env[] = {step_env_base[0], step_env_base[1], step_env_base[2],
		       ccenv, NULL};
	struct sandbox_opts so = {
		.root = b->c->root,
		.build_host = b->build_host,
		.build_inroot = b->build_inroot,
		.log_path = log,
		.env = env,
		.timeout_ms = remaining_ms(b),
		.keep_privileges = privileged,
	};

	return sandbox_run(argv, &so);
}

static int run_argv(struct bctx *b, char *const *argv, bool privileged)
{
	return run_sandboxed(b, argv, privileged, NULL, b->log);
}

/* Run a command line with bash in the sandbox, in the build directory;
 * arg, when given, is its $1. */
static int run_step_to(struct bctx *b, const char *cmdline, const char *arg,
		       bool privileged, const char *cc, const char *log)
{
	char *argv[] = {"bash", "-c",	     (char *)cmdline,
			"bash", (char *)arg, NULL};

	log_debug("build %s/%s: %s", b->q->module, b->q->kernel, cmdline);
	return run_sandboxed(b, argv, privileged, cc, log);
}

static int run_step(struct bctx *b, const char *cmdline, const char *arg,
		    bool privileged, const char *cc)
{
	return run_step_to(b, cmdline, arg, privileged, cc, b->log);
}

static int log_append(struct bctx *b, const char *fmt, ...) _printf_(2, 3);
static int log_append(struct bctx *b, const char *fmt, ...)
{
	_cleanup_(closep) int fd =
		open(b->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	va_list ap;

	if (fd < 0)
		return -errno;
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	return 0;
}

/* dkms's checks before building: conf, exclusion, built, headers, source. */
static int prepare(struct bctx *b)
{
	const struct build_req *q = b->q;
	_cleanup_(freep) char *inc =
		xasprintf("/lib/modules/%s/build/include", q->kernel);
	_cleanup_(freep) char *src = xasprintf(
		"%s/%s/%s/source", b->c->dkms_tree, q->module, q->version);
	_cleanup_(strv_freep) char **entries = NULL;
	char reason[256];
	int r;

	if (!inc || !src)
		return set_result(b, BUILD_ERROR, "out of memory");
	r = dkb_read_conf(b->c, q->module, q->version, q->kernel, q->arch, NULL,
			  &b->conf, NULL);
	if (r < 0)
		return set_result(b, BUILD_BAD_CONF,
				  "cannot read dkms.conf: %s", strerror(-r));
	if (strv_length(b->conf.errors))
		return set_result(b, BUILD_BAD_CONF, "%s", b->conf.errors[0]);
	if (dkms_conf_validate_names(&b->conf, reason, sizeof(reason)) < 0)
		return set_result(b, BUILD_BAD_CONF, "%s", reason);
	if (b->conf.build_exclude)
		return set_result(b, BUILD_EXCLUDED, "%s",
				  b->conf.exclude_reason ?: "BUILD_EXCLUSIVE");
	reg_module_suffix(b->c, q->kernel, b->suffix, sizeof(b->suffix));
	if (compress_kind_from_suffix(b->suffix, &b->ck) < 0)
		b->ck = COMPRESS_NONE;
	if (!q->force && reg_is_built(b->c, q->module, q->version, q->kernel,
				      q->arch, &b->conf, b->suffix) == 1)
		return set_result(b, BUILD_ALREADY, "already built");
	if (!root_exists(b->c->root, inc))
		return set_result(
			b, BUILD_NO_HEADERS,
			"kernel headers not found at /lib/modules/%s/build "
			"(install linux-headers-%s)",
			q->kernel, q->kernel);
	r = reg_glob(b->c, src, (const char *const[]){"*"}, 1, &entries);
	if (r < 0 || strv_length(entries) < 2)
		return set_result(b, BUILD_NO_SOURCE,
				  "%s does not hold a module source", src);
	return 0;
}

/*
 * Every private directory (a work dir, a hidden tree entry being
 * assembled) holds a .lock that its run keeps flock()ed for its life.
 * Another run may be live at the same time, so a directory is left over
 * from a crash only when that lock can be taken.
 */
static int lock_dir(const char *dir, int *ret_fd)
{
	_cleanup_(freep) char *p = path_join(dir, ".lock");
	_cleanup_(closep) int fd = -1;

	if (!p)
		return -ENOMEM;
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/*
 * Remove <base>/<name> when no live run holds it: its .lock can be
 * locked, or (max_age_s) there is none and it is that old.  The lock is
 * held while removing, so two cleaners never race on one directory.
 */
static void remove_if_stale(int base_fd, const char *base, const char *name,
			    long max_age_s)
{
	_cleanup_(freep) char *path = path_join(base, name);
	_cleanup_(freep) char *lock = path ? path_join(name, ".lock") : NULL;
	_cleanup_(closep) int fd = -1;
	struct stat st;
	int r;

	if (!lock || fstatat(base_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		return;
	fd = openat(base_fd, lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT || max_age_s <= 0 ||
		    time(NULL) - st.st_mtime < max_age_s)
			return;
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		return; /* live */
	}
	r = remove_tree(path);
	if (r < 0)
		log_warn("cannot remove %s, left by an earlier run: %s", path,
			 strerror(-r));
	else
		log_info("removed %s, left by an earlier run", path);
}

/* Remove the stale entries of base whose names match pattern. */
static void clean_stale(const char *base, const char *pattern, long max_age_s)
{
	_cleanup_(closedirp) DIR *d = opendir(base);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, "..") &&
		    fnmatch(pattern, e->d_name, FNM_PERIOD) == 0)
			remove_if_stale(dirfd(d), base, e->d_name, max_age_s);
}

static char *default_workdir(void)
{
	if (on_tmpfs("/run") && make_dirs("/run/dkms-boot", 0700) == 0)
		return strdup("/run/dkms-boot");
	if (make_dirs("/var/tmp/dkms-boot", 0700) == 0)
		return strdup("/var/tmp/dkms-boot");
	return NULL;
}

/* A private copy of the source: dkms's `cp -a source/ build`. */
static int workspace(struct bctx *b)
{
	const struct build_req *q = b->q;
	_cleanup_(freep) char *dir =
		q->workdir ? strdup(q->workdir) : default_workdir();
	_cleanup_(freep) char *src = xasprintf(
		"%s/%s/%s/source", b->c->dkms_tree, q->module, q->version);
	_cleanup_(freep) char *src_host = NULL;
	int r;

	if (!dir || !src)
		return set_result(b, BUILD_ERROR, "no work directory");
	/* Work dirs are <m>-<v>-<kver>.XXXXXX (mkdtemp below); one without
	 * a .lock is a failed build's kept log, never removed. */
	clean_stale(dir, "*.??????", 0);
	b->work = xasprintf("%s/%s-%s-%s.XXXXXX", dir, q->module, q->version,
			    q->kernel);
	if (!b->work || !mkdtemp(b->work)) {
		free(b->work);
		b->work = NULL;
		return set_result(b, BUILD_ERROR,
				  "cannot create a work directory in %s: %m",
				  dir);
	}
	r = lock_dir(b->work, &b->work_lock);
	if (r < 0)
		return set_result(b, BUILD_ERROR, "cannot lock %s: %s", b->work,
				  strerror(-r));
	b->build_host = path_join(b->work, "build");
	b->log = path_join(b->work, "make.log");
	b->build_inroot = xasprintf("%s/%s/%s/build", b->c->dkms_tree,
				    q->module, q->version);
	b->base_inroot = xasprintf("%s/%s/%s/%s/%s", b->c->dkms_tree, q->module,
				   q->version, q->kernel, q->arch);
	if (!b->build_host || !b->log || !b->build_inroot || !b->base_inroot)
		return set_result(b, BUILD_ERROR, "out of memory");
	r = root_path(b->c->root, src, &src_host);
	if (r == 0)
		r = copy_tree(src_host, b->build_host, SOURCE_MAX_BYTES);
	if (r == 0)
		r = sandbox_chown_tree(b->build_host);
	if (r < 0)
		return set_result(b, BUILD_ERROR, "cannot copy %s: %s", src,
				  strerror(-r));
	return 0;
}

/* The log's final place is known only at the end: build_package()
 * appends it to the message. */
static int step_failed(struct bctx *b, int r, const char *what)
{
	if (r == -ETIME)
		return set_result(b, BUILD_TIMEOUT, "%s: time limit reached",
				  what);
	if (r < 0)
		return set_result(b, BUILD_ERROR, "%s: sandbox failed: %s",
				  what, strerror(-r));
	return set_result(b, BUILD_FAILED, "%s exited with status %d", what, r);
}

static int apply_patches(struct bctx *b)
{
	for (char **p = b->conf.patches; p && *p; p++) {
		_cleanup_(freep) char *host =
			xasprintf("%s/patches/%s", b->build_host, *p);
		int r;

		if (!host)
			return set_result(b, BUILD_ERROR, "out of memory");
		if (access(host, F_OK) < 0)
			return set_result(b, BUILD_FAILED,
					  "patch %s named in dkms.conf is not "
					  "in patches/",
					  *p);
		log_append(b, "applying patch %s\n", *p);
		r = run_step(b, "patch -p1 < \"./patches/$1\"", *p, false,
			     NULL);
		if (r != 0)
			return step_failed(b, r, "patch");
	}
	return 0;
}

/* run_build_script(): "$build_dir/$script", run if its first word is
 * executable, word-split by bash as dkms's `exec $run` does. */
static int build_script(struct bctx *b, const char *which, const char *script,
			const char *cc)
{
	_cleanup_(freep) char *first = NULL, *host = NULL, *run = NULL;
	int r;

	if (!script || !*script)
		return 0;
	first = strndup(script, strcspn(script, " "));
	host = first ? xasprintf("%s/%s", b->build_host, first) : NULL;
	if (!host)
		return set_result(b, BUILD_ERROR, "out of memory");
	if (access(host, X_OK) < 0) {
		log_warn("%s/%s: the %s script %s is not executable; skipped, "
			 "as dkms does",
			 b->q->module, b->q->version, which, first);
		return 0;
	}
	run = xasprintf("%s/%s", b->build_inroot, script);
	if (!run)
		return set_result(b, BUILD_ERROR, "out of memory");
	log_append(b, "Running the %s script:\n", which);
	r = run_step(b, "exec $1", run, false, cc);
	/* dkms never looks at a build script's status: neither do we,
	 * except that the time limit still ends the build. */
	if (r == -ETIME)
		return step_failed(b, r, which);
	if (r != 0)
		log_warn("%s/%s for %s: the %s script failed (%s %d); going "
			 "on, as dkms does",
			 b->q->module, b->q->version, b->q->kernel, which,
			 r < 0 ? "error" : "exit status", r < 0 ? -r : r);
	return 0;
}

/* The compiler name from CONFIG_CC_VERSION_TEXT ("gcc-12 (Debian ...)"),
 * which dkms exports as CC for PRE_BUILD when that command exists. */
static char *kconfig_cc(struct bctx *b)
{
	const char *k = b->c->kconfig, *p;
	const char *key = "\nCONFIG_CC_VERSION_TEXT=\"";
	size_t n;

	if (!k)
		return NULL;
	p = strstr(k, key);
	if (!p)
		return NULL;
	p += strlen(key);
	n = strcspn(p, " \"\n");
	if (p[n] != ' ')
		return NULL;
	return strndup(p, n);
}

static bool in_root_path(struct bctx *b, const char *cmd)
{
	static const char *const dirs[] = {"/usr/local/sbin", "/usr/local/bin",
					   "/usr/sbin",	      "/usr/bin",
					   "/sbin",	      "/bin"};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_(freep) char *p = xasprintf("%s/%s", dirs[i], cmd);
		_cleanup_(freep) char *h = NULL;

		if (p && root_path(b->c->root, p, &h) == 0 &&
		    access(h, X_OK) == 0)
			return true;
	}
	return false;
}

/* actual_build(): CC from the headers' .kernelvariables, evaluated by
 * make as dkms does; NULL (CC unset) when there is none. */
static char *kernelvariables_cc(struct bctx *b)
{
	_cleanup_(freep) char *kv = xasprintf(
		"/lib/modules/%s/build/.kernelvariables", b->q->kernel);
	_cleanup_(freep) char *out = NULL, *buf = NULL;
	char *e;
	int r;

	if (!kv || !root_exists(b->c->root, kv))
		return NULL;
	out = path_join(b->work, "cc.out");
	if (!out)
		return NULL;
	r = run_step_to(b,
			"printf 'show-%%:\\n\\t@echo $($*)\\ninclude %s\\n' "
			"\"$1\" | make -s -f - show-CC",
			kv, false, NULL, out);
	if (r != 0 || read_file(out, 4096, &buf, NULL) < 0)
		return NULL;
	e = buf + strlen(buf);
	while (e > buf && (e[-1] == '\n' || e[-1] == ' '))
		*--e = '\0';
	return *buf ? strdup(buf + strspn(buf, " ")) : NULL;
}

/*
 * Open module i where the build left it.  The build controls that
 * directory: a link anywhere on the way (the .ko, BUILT_MODULE_LOCATION)
 * could make root copy any file of the host into the tree, so nothing
 * is followed and nothing outside the build directory is reached.
 */
static int open_built(struct bctx *b, size_t i, int *ret_fd)
{
	const struct dkms_module_entry *e = &b->conf.mods[i];
	_cleanup_(freep) char *rel =
		xasprintf("%s%s.ko", e->built_location, e->built_name);
	_cleanup_(closep) int dfd = -1;
	struct stat st;
	int fd;

	if (!rel)
		return set_result(b, BUILD_ERROR, "out of memory");
	dfd = open(b->build_host,
		   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return set_result(b, BUILD_ERROR, "cannot open %s: %m",
				  b->build_host);
	/* O_NONBLOCK: a FIFO must not hang us. */
	fd = open_beneath(dfd, rel + strspn(rel, "/"), O_RDONLY | O_NONBLOCK);
	if (fd == -ENOENT)
		return set_result(b, BUILD_FAILED,
				  "make succeeded but %s was not built", rel);
	if (fd < 0)
		return set_result(b, BUILD_FAILED, "refused to collect %s: %s",
				  rel, open_beneath_strerror(fd));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return set_result(b, BUILD_FAILED,
				  "refused to collect %s: not a regular file",
				  rel);
	}
	*ret_fd = fd;
	return 0;
}

static int run_make(struct bctx *b)
{
	_cleanup_(freep) char *cmd = NULL;
	char date[64];
	time_t t = time(NULL);
	unsigned jobs = b->q->jobs ? b->q->jobs
				   : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	cmd = build_make_command(b->conf.make_command, jobs ? jobs : 1,
				 b->q->kernel);
	if (!cmd)
		return set_result(b, BUILD_ERROR, "out of memory");
	/* dkms runs CLEAN first, output and status ignored: a package may
	 * ship stale objects its clean removes. */
	if (b->conf.clean && *b->conf.clean) {
		r = run_step_to(b, b->conf.clean, NULL, false, b->cc,
				"/dev/null");
		if (r == -ETIME)
			return step_failed(b, r, "clean");
	}
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Z %Y", localtime(&t));
	log_append(b, "DKMS make.log for %s-%s for kernel %s (%s)\n%s\n",
		   b->q->module, b->q->version, b->q->kernel, b->q->arch, date);
	r = run_step(b, cmd, NULL, false, b->cc);
	if (r != 0)
		return step_failed(b, r, "make");
	/* Checked before strip and sign-file (root) touch them. */
	for (size_t i = 0; i < b->conf.n_mods; i++) {
		_cleanup_(closep) int fd = -1;

		r = open_built(b, i, &fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Compress one (stripped, signed) module into the tree's module/: read
 * beneath the build directory into a private copy that is root's and
 * 0644, whatever owner and mode (0666, 4777) the build gave it, since
 * the tree's copy and the installed one take that mode.
 */
static int finish_module(struct bctx *b, size_t i, const char *module_dir)
{
	const struct dkms_module_entry *e = &b->conf.mods[i];
	_cleanup_(freep) char *priv = NULL, *dst = NULL, *buf = NULL;
	_cleanup_(closep) int fd = -1;
	size_t len = 0;
	int r;

	priv = xasprintf("%s/collected-%zu.ko", b->work, i);
	dst = xasprintf("%s/%s.ko%s", module_dir, e->dest_name,
			compress_suffix(b->ck));
	if (!priv || !dst)
		return set_result(b, BUILD_ERROR, "out of memory");
	r = open_built(b, i, &fd);
	if (r < 0)
		return r;
	r = read_fd(fd, MODULE_MAX_BYTES, &buf, &len);
	if (r == 0)
		r = write_file_atomic(priv, buf, len, 0644);
	if (r == 0)
		r = compress_file(b->ck, priv, dst);
	unlink(priv);
	if (r < 0)
		return set_result(b, BUILD_ERROR, "cannot write %s: %s", dst,
				  strerror(-r));
	return 0;
}

/* The in-root path of module i in the build directory. */
static char *built_inroot(const struct bctx *b, size_t i)
{
	const struct dkms_module_entry *e = &b->conf.mods[i];

	return xasprintf("%s/%s%s.ko", b->build_inroot, e->built_location,
			 e->built_name);
}

/*
 * strip -g, then sign, every module: dkms's order for each file, but one
 * sandbox for all strips and one for all signatures (a sandbox per file
 * was most of the time spent outside make).
 */
static int strip_and_sign(struct bctx *b)
{
	size_t n = b->conf.n_mods, ns = 0;
	_cleanup_(freep) char **argv = calloc(n + 10, sizeof(char *));
	_cleanup_(strv_freep) char **paths = NULL;
	int r = argv ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_(freep) char *p = built_inroot(b, i);

		r = p ? strv_push(&paths, p) : -ENOMEM;
	}
	if (r < 0)
		return set_result(b, BUILD_ERROR, "out of memory");
	argv[ns++] = "strip";
	argv[ns++] = "-g";
	for (size_t i = 0; i < n; i++)
		if (b->conf.mods[i].strip)
			argv[ns++] = paths[i];
	if (ns > 2 && (r = run_argv(b, argv, false)) != 0)
		return step_failed(b, r, "strip");
	if (!b->sign.enabled)
		return 0;
	ns = 0;
	argv[ns++] = "bash";
	argv[ns++] = "-c";
	argv[ns++] = "s=$1 h=$2 k=$3 c=$4; shift 4; for f; do "
		     "echo \"Signing module $f\"; \"$s\" \"$h\" \"$k\" \"$c\" "
		     "\"$f\" "
		     "|| exit; done";
	argv[ns++] = "bash";
	argv[ns++] = b->sign.sign_file;
	argv[ns++] = b->sign.hash;
	argv[ns++] = b->sign.key;
	argv[ns++] = b->sign.cert;
	for (size_t i = 0; i < n; i++)
		argv[ns++] = paths[i];
	argv[ns] = NULL;
	r = run_argv(b, argv, true);
	return r == 0 ? 0 : step_failed(b, r, "sign-file");
}

/* Put dir (a complete <kver>/<arch> tree entry) in place of the base dir
 * in one step: rename when there is none, swap when rebuilding; then
 * fsync the directory, or the step may not survive a power cut. */
static int swap_into_place(const char *tmp, const char *final)
{
	_cleanup_(closep) int lock = -1;
	struct stat st;
	int r;

	if (lstat(final, &st) < 0)
		return rename_durable(tmp, final);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) < 0)
		return -errno;
	r = fsync_parent_dir(final);
	if (r < 0)
		return r;
	/* tmp is now the old build: locked while it goes, so that a crash
	 * here leaves it to the next run's cleaning, not to a live run. */
	(void)lock_dir(tmp, &lock);
	r = remove_tree(tmp);
	return r < 0 ? r : fsync_parent_dir(tmp);
}

/* The dkms tree's <kver>/<arch>: log/make.log, log/.config, module/.
 * Written in a hidden temporary directory (dkms's globs skip dot names),
 * fsynced, then renamed into place. */
static int write_tree(struct bctx *b)
{
	_cleanup_(freep) char *final = NULL, *kdir = NULL, *tmp = NULL;
	_cleanup_(freep) char *logd = NULL, *modd = NULL, *cfg = NULL,
			      *cfg_host = NULL, *lockp = NULL;
	_cleanup_(closep) int lock = -1;
	int r;

	r = root_path(b->c->root, b->base_inroot, &final);
	if (r < 0)
		return set_result(b, BUILD_ERROR, "%s: %s", b->base_inroot,
				  strerror(-r));
	kdir = strdup(final);
	if (!kdir)
		return -ENOMEM;
	*strrchr(kdir, '/') = '\0';
	tmp = xasprintf("%s/.%s.dkms-boot.XXXXXX", kdir, b->q->arch);
	if (!tmp || make_dirs_durable(kdir, 0755) < 0)
		return set_result(b, BUILD_ERROR, "cannot write to %s: %m",
				  kdir);
	clean_stale(kdir, ".*.dkms-boot.??????", HIDDEN_STALE_S);
	if (!mkdtemp(tmp) || chmod(tmp, 0755) < 0)
		return set_result(b, BUILD_ERROR, "cannot write to %s: %m",
				  kdir);
	lockp = path_join(tmp, ".lock");
	r = lockp ? lock_dir(tmp, &lock) : -ENOMEM;
	if (r < 0) {
		remove_tree(tmp);
		return set_result(b, BUILD_ERROR, "cannot lock %s: %s", tmp,
				  strerror(-r));
	}
	logd = path_join(tmp, "log");
	modd = path_join(tmp, "module");
	r = logd && modd ? 0 : -ENOMEM;
	if (r == 0 && (mkdir(logd, 0755) < 0 || mkdir(modd, 0755) < 0))
		r = -errno;
	cfg = xasprintf("/lib/modules/%s/build/.config", b->q->kernel);
	if (r == 0 && cfg && root_path(b->c->root, cfg, &cfg_host) == 0 &&
	    access(cfg_host, R_OK) == 0) {
		_cleanup_(freep) char *d = path_join(logd, ".config");

		r = d ? copy_file_atomic(cfg_host, d) : -ENOMEM;
	}
	if (r == 0)
		r = strip_and_sign(b);
	for (size_t i = 0; r == 0 && i < b->conf.n_mods; i++)
		r = finish_module(b, i, modd);
	if (r == 0) {
		_cleanup_(freep) char *ml = path_join(logd, "make.log");

		r = ml ? copy_file_atomic(b->log, ml) : -ENOMEM;
	}
	/* The lock file is no part of the tree entry; the lock itself
	 * stays held (the fd) until the entry is in place. */
	if (r == 0 && unlink(lockp) < 0)
		r = -errno;
	if (r == 0)
		r = fsync_path(modd);
	if (r == 0)
		r = fsync_path(logd);
	if (r == 0)
		r = fsync_path(tmp);
	if (r == 0)
		r = swap_into_place(tmp, final);
	if (r == 0)
		return 0;
	remove_tree(tmp);
	if (b->res->status == BUILD_DONE)
		set_result(b, BUILD_ERROR, "cannot write %s: %s",
			   b->base_inroot, strerror(-r));
	return -1;
}

/* A failed build's make.log is kept where dkms keeps it (the tree's
 * build/ directory) when that is writable, else in the work dir. */
static void keep_log(struct bctx *b)
{
	_cleanup_(freep) char *dst_in = path_join(b->build_inroot, "make.log");
	_cleanup_(freep) char *dst = NULL;

	free(b->res->log_path);
	b->res->log_path = NULL;
	if (dst_in && root_path(b->c->root, dst_in, &dst) == 0 &&
	    copy_file_atomic(b->log, dst) == 0) {
		b->res->log_path = TAKE_PTR(dst_in);
		return;
	}
	b->res->log_path = strdup(b->log);
	b->work[0] = '\0'; /* keep the work dir: the log lives there */
}

/* dkms's clean_build: after a good build, $dkms_tree/<m>/<v>/build (our
 * bind mount point, or an old failure's log) is gone. */
static void drop_tree_build_dir(struct bctx *b)
{
	_cleanup_(freep) char *host = NULL;

	if (b->build_inroot &&
	    root_path(b->c->root, b->build_inroot, &host) == 0)
		remove_tree(host);
}

static void bctx_free(struct bctx *b)
{
	/* Keep nothing, except a failed build's log when it could not be
	 * copied to the tree (keep_log() then cleared work[0]). */
	if (b->work && b->work[0]) {
		remove_tree(b->work);
	} else if (b->build_host) {
		_cleanup_(freep) char *lock = strdup(b->log);

		remove_tree(b->build_host);
		/* A kept log is no stale work: no lock, never cleaned.  The
		 * log is <work>/make.log; the lock <work>/.lock. */
		if (lock && strrchr(lock, '/')) {
			strcpy(strrchr(lock, '/') + 1, ".lock");
			unlink(lock);
		}
	}
	if (b->work_lock >= 0)
		close(b->work_lock);
	free(b->work);
	free(b->build_host);
	free(b->log);
	free(b->build_inroot);
	free(b->base_inroot);
	free(b->cc);
	dkms_conf_free(&b->conf);
	sign_plan_free(&b->sign);
}

static int do_build(struct bctx *b)
{
	_cleanup_(freep) char *pre_cc = NULL;
	int r = prepare(b);

	if (r < 0 || b->res->status != BUILD_DONE)
		return r;
	r = sign_plan_make(b->c, b->q->kernel, &b->sign);
	if (r < 0)
		return set_result(b, BUILD_ERROR, "signing: %s", strerror(-r));
	if (!b->sign.enabled)
		log_warn("%s/%s for %s: modules will NOT be signed: %s",
			 b->q->module, b->q->version, b->q->kernel,
			 b->sign.why_not ?: "no key");
	r = workspace(b);
	if (r < 0)
		return r;
	pre_cc = kconfig_cc(b);
	if (pre_cc && !in_root_path(b, pre_cc)) {
		free(pre_cc);
		pre_cc = NULL;
	}
	b->cc = kernelvariables_cc(b);
	r = apply_patches(b);
	if (r == 0)
		r = build_script(b, "pre_build", b->conf.pre_build, pre_cc);
	if (r == 0)
		r = run_make(b);
	if (r == 0)
		r = write_tree(b);
	if (r == 0)
		r = build_script(b, "post_build", b->conf.post_build, NULL);
	return r;
}

int build_package(struct dkb_ctx *c, const struct build_req *q,
		  struct build_result *res)
{
	struct bctx b = {.c = c, .q = q, .res = res, .work_lock = -1};
	int r;

	*res = (struct build_result){.status = BUILD_DONE};
	b.deadline = q->deadline_ns;
	if (!b.deadline && q->timeout_ms)
		b.deadline = now_ns() +
			     (unsigned long long)q->timeout_ms * 1000000ULL;
	r = do_build(&b);
	if (r == 0 && res->status == BUILD_DONE) {
		set_result(&b, BUILD_DONE, "built into %s", b.base_inroot);
		drop_tree_build_dir(&b);
	}
	if (r < 0 && b.log && access(b.log, F_OK) == 0) {
		char *m;

		keep_log(&b);
		m = xasprintf("%s; log: %s",
			      res->message ? res->message : "failed",
			      res->log_path ? res->log_path : b.log);
		if (m) {
			free(res->message);
			res->message = m;
		}
	}
	bctx_free(&b);
	return r < 0 ? -1 : 0;
}
