// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Contained build steps.  dkms runs PRE_BUILD, make and friends as root
 * with the whole system writable and the network up; at boot a broken or
 * hostile module build must not be able to damage the root it is about
 * to boot.  A forked child enters private mount and network namespaces,
 * sees the root read-only except the build directory and a private /tmp,
 * drops to an unprivileged user and execs the step.
 *
 * The child reports a setup or exec failure as {step, errno} through a
 * close-on-exec pipe, so EOF on that pipe means the exec succeeded, and
 * the parent, which holds every path, words the message.
 */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/log.h"
#include "lib/rootfs.h"

#include "lib/sandbox.h"

#ifdef DKMS_BOOT_TEST_BUILD
/*
 * Tests force the fallbacks for kernels older than open_tree (5.2),
 * pidfd_open (5.3), close_range's CLOEXEC flag (5.11) and mount_setattr
 * (5.12).
 */
extern bool sandbox_test_old_kernel;
bool sandbox_test_old_kernel;
#define OLD_KERNEL sandbox_test_old_kernel
#else
#define OLD_KERNEL false
#endif

#define TMPFS_OPTIONS	 "size=1g,mode=1777"
#define CHILD_SETUP_EXIT 126
#define EXEC_FAILED_EXIT 127
#define CHOWN_MAX_DEPTH	 256

static char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	"HOME=/nonexistent",
	NULL,
};

/* What the child was doing when it failed; the parent words it. */
enum step {
	STEP_PGID = 1,
	STEP_PDEATHSIG,
	STEP_UNSHARE,
	STEP_PRIVATE,
	STEP_CLONE_BUILD,
	STEP_BIND_ROOT,
	STEP_BIND_PROC,
	STEP_BIND_DEV,
	STEP_RDONLY,
	STEP_TMPFS,
	STEP_MKDIR_BUILD,
	STEP_BIND_BUILD,
	STEP_REMOUNT_BUILD,
	STEP_CHROOT,
	STEP_CHDIR,
	STEP_STDIO,
	STEP_FDS,
	STEP_DROP,
	STEP_NO_NEW_PRIVS,
	STEP_BUILD_ACCESS,
	STEP_EXEC,
};

struct child_status {
	int step;
	int err;
};

/* Everything the child needs, computed by the parent before the fork. */
struct plan {
	const struct sandbox_opts *o;
	char *const *argv;
	char *const *env;
	char *root;	    /* canonical host path, "/" when not chrooting */
	bool chroot;	    /* root is not "/" */
	char *build_target; /* host path of the build mount point */
	bool build_in_tmp;  /* ... which lies in the private /tmp */
	char *tmp_target;   /* host path of <root>/tmp; NULL: missing */
	char *proc_target;  /* chroot only: <root>/proc; NULL: missing */
	char *dev_target;   /* chroot only: <root>/dev; NULL: missing */
	const char *cwd;    /* inside the root */
	char *cmdline;	    /* for messages */
	int null_fd, log_fd;
	int status_rd, status_wr;
	pid_t parent;
};

#define PLAN_INIT                                                              \
	{                                                                      \
		.null_fd = -1, .log_fd = -1, .status_rd = -1, .status_wr = -1  \
	}

static void plan_done(struct plan *p)
{
	free(p->root);
	free(p->build_target);
	free(p->tmp_target);
	free(p->proc_target);
	free(p->dev_target);
	free(p->cmdline);
	closep(&p->null_fd);
	closep(&p->log_fd);
	closep(&p->status_rd);
	closep(&p->status_wr);
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (streq(dir, "/"))
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || !path[n]);
}

/* ---- the child: every step reports its failure and returns -1 ---------- */

static int report(const struct plan *p, enum step step)
{
	struct child_status st = {.step = step, .err = errno ? errno : EIO};
	ssize_t n _unused_;

	/* Smaller than PIPE_BUF: written whole or not at all. */
	n = write(p->status_wr, &st, sizeof(st));
	return -1;
}

/* Die with the parent: a build outliving the agent would hold the root. */
static int die_with_parent(const struct plan *p)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return report(p, STEP_PDEATHSIG);
	/* In a new PID namespace the parent is outside it: getppid() is 0. */
	if (getppid() != p->parent && getppid() != 0)
		_exit(CHILD_SETUP_EXIT);
	return 0;
}

static int child_isolate(const struct plan *p)
{
	int flags = CLONE_NEWNS | (p->o->keep_network ? 0 : CLONE_NEWNET);

	/* The parent kills the whole group, so background jobs die too. */
	if (setpgid(0, 0) < 0)
		return report(p, STEP_PGID);
	if (die_with_parent(p) < 0)
		return -1;
	/* A new network namespace has only lo, and it is down. */
	if (unshare(flags) < 0)
		return report(p, STEP_UNSHARE);
	/* Otherwise our mounts would propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return report(p, STEP_PRIVATE);
	return 0;
}

/*
 * A detached copy of the build directory's mount, taken before anything
 * hides or write-protects its source (it may live in the host's /tmp).
 * Returns the mount fd, -ENOSYS when there is none to take or the kernel
 * predates open_tree (bind by path later), or -1 after reporting.
 */
static int child_clone_build(const struct plan *p)
{
	int fd;

	if (!p->build_target)
		return -ENOSYS;
	if (OLD_KERNEL)
		return -ENOSYS;
	fd = open_tree(AT_FDCWD, p->o->build_host,
		       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ENOSYS)
		return -ENOSYS;
	return report(p, STEP_CLONE_BUILD);
}

/* Mount flags worth keeping on a read-only remount, from mountinfo. */
static unsigned long mount_flags(const char *opts)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} table[] = {
		{"nosuid", MS_NOSUID},	       {"nodev", MS_NODEV},
		{"noexec", MS_NOEXEC},	       {"noatime", MS_NOATIME},
		{"nodiratime", MS_NODIRATIME}, {"relatime", MS_RELATIME},
	};
	unsigned long flags = 0;

	while (*opts) {
		size_t n = strcspn(opts, ",");

		for (size_t i = 0; i < ARRAY_SIZE(table); i++)
			if (strlen(table[i].name) == n &&
			    strncmp(opts, table[i].name, n) == 0)
				flags |= table[i].flag;
		opts += n + (opts[n] == ',');
	}
	return flags;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Before Linux 5.12: remount each mount at or below top, one by one. */
static int make_ro_mountinfo(const char *top)
{
	_cleanup_(freep) char *buf = NULL;
	char *line, *save = NULL;
	int r = read_file("/proc/self/mountinfo", 16 << 20, &buf, NULL);

	if (r < 0) {
		errno = -r;
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[6], *s = line;
		size_t i;

		for (i = 0; i < ARRAY_SIZE(f) && (f[i] = strsep(&s, " ")); i++)
			;
		if (i < ARRAY_SIZE(f))
			continue;
		unescape_octal(f[4]);
		if (!path_under(f[4], top))
			continue;
		if (mount(NULL, f[4], NULL,
			  MS_BIND | MS_REMOUNT | MS_RDONLY | mount_flags(f[5]),
			  NULL) < 0 &&
		    errno != ENOENT)
			return -1;
	}
	return 0;
}

static int make_ro(const char *top)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	if (!OLD_KERNEL && mount_setattr(AT_FDCWD, top, AT_RECURSIVE, &attr,
					 sizeof(attr)) == 0)
		return 0;
	if (!OLD_KERNEL && errno != ENOSYS)
		return -1;
	return make_ro_mountinfo(top);
}

#define PROC_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)

/* /proc for the step: its own when it has its own PID namespace (it then
 * sees only its own processes), else the host's. */
static int mount_proc(const char *target)
{
	if (getpid() == 1)
		return mount("proc", target, "proc", PROC_FLAGS, NULL);
	return mount("/proc", target, NULL, MS_BIND | MS_REC, NULL);
}

/* A chroot root gets a mount of its own, a /proc and the host's /dev. */
static int child_mount_root(const struct plan *p)
{
	if (p->chroot) {
		if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
			return report(p, STEP_BIND_ROOT);
		/* Kbuild reads /proc; every build writes /dev/null. */
		if (p->proc_target && mount_proc(p->proc_target) < 0)
			return report(p, STEP_BIND_PROC);
		if (p->dev_target && mount("/dev", p->dev_target, NULL,
					   MS_BIND | MS_REC, NULL) < 0)
			return report(p, STEP_BIND_DEV);
	}
	/* Device nodes stay writable on a read-only mount. */
	if (!p->o->writable_root && make_ro(p->root) < 0)
		return report(p, STEP_RDONLY);
	if (!p->chroot && getpid() == 1 &&
	    mount("proc", "/proc", "proc", PROC_FLAGS, NULL) < 0)
		return report(p, STEP_BIND_PROC);
	if (p->tmp_target && mount("tmpfs", p->tmp_target, "tmpfs",
				   MS_NOSUID | MS_NODEV, TMPFS_OPTIONS) < 0)
		return report(p, STEP_TMPFS);
	return 0;
}

static int child_mount_build(const struct plan *p, int tree_fd)
{
	int r;

	if (!p->build_target)
		return 0;
	if (p->build_in_tmp) {
		r = make_dirs(p->build_target, 0755);
		if (r < 0) {
			errno = -r;
			return report(p, STEP_MKDIR_BUILD);
		}
	}
	if (tree_fd >= 0)
		r = move_mount(tree_fd, "", AT_FDCWD, p->build_target,
			       MOVE_MOUNT_F_EMPTY_PATH);
	else
		r = mount(p->o->build_host, p->build_target, NULL, MS_BIND,
			  NULL);
	if (r < 0)
		return report(p, STEP_BIND_BUILD);
	/*
	 * A bind copies the source mount's flags, read-only by now when the
	 * source is in the root; exec stays allowed for build scripts.
	 */
	if (mount(NULL, p->build_target, NULL,
		  MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV, NULL) < 0)
		return report(p, STEP_REMOUNT_BUILD);
	return 0;
}

static int child_enter(const struct plan *p)
{
	if (p->chroot && chroot(p->root) < 0)
		return report(p, STEP_CHROOT);
	if (chdir(p->cwd) < 0)
		return report(p, STEP_CHDIR);
	return 0;
}

/*
 * Mark every fd from 3 up close-on-exec rather than closing it: the
 * status pipe must stay open until the exec.
 */
static int cloexec_from_3(void)
{
	struct rlimit rl;

	if (!OLD_KERNEL && close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	/* Before Linux 5.11: every possible fd, capped at the default
	 * fs.nr_open in case the limit is infinite. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < (1 << 20); fd++)
		if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
			return -1;
	return 0;
}

static int child_stdio(const struct plan *p)
{
	const struct sandbox_opts *o = p->o;

	/* Both fds are >= 3, so no dup2 below clobbers the other. */
	if (dup2(p->null_fd, 0) < 0)
		return report(p, STEP_STDIO);
	if (p->log_fd >= 0 &&
	    (dup2(p->log_fd, 1) < 0 || dup2(p->log_fd, 2) < 0))
		return report(p, STEP_STDIO);
	if (cloexec_from_3() < 0)
		return report(p, STEP_FDS);
	for (size_t i = 0; i < o->n_keep_fds && i < ARRAY_SIZE(o->keep_fds);
	     i++) {
		if (o->keep_fds[i] < 0)
			break;
		if (fcntl(o->keep_fds[i], F_SETFD, 0) < 0)
			return report(p, STEP_FDS);
	}
	/* The boot environment's umask is unknown; make outputs predictable. */
	umask(022);
	return 0;
}

static int child_drop(const struct plan *p)
{
	if (!p->o->keep_privileges &&
	    (setgroups(0, NULL) < 0 ||
	     setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID) < 0 ||
	     setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0))
		return report(p, STEP_DROP);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return report(p, STEP_NO_NEW_PRIVS);
	/* A change of credentials clears the parent-death signal. */
	if (die_with_parent(p) < 0)
		return -1;
	/* Say so now rather than as an obscure make error later. */
	if (p->o->build_inroot && access(p->o->build_inroot, W_OK) < 0)
		return report(p, STEP_BUILD_ACCESS);
	return 0;
}

/* Ignored signals and the blocked mask would survive the exec. */
static void reset_signals(void)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	sigset_t all;

	for (int s = 1; s < NSIG; s++)
		sigaction(s, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/*
 * As PID 1 of the step's namespace we stay behind as its init: the kernel
 * ignores signals a process sends to its own namespace's init, so the
 * step must not be PID 1, and orphans need reaping.  The step's status
 * becomes ours (128+N for a signal).  When we exit, the kernel kills
 * whatever is left in the namespace.
 */
static void child_init(const struct plan *p)
{
	pid_t step = fork();
	int status = 0;

	if (step < 0) {
		report(p, STEP_EXEC);
		_exit(EXEC_FAILED_EXIT);
	}
	if (step == 0)
		return; /* the step goes on to exec */
	/* Only the step may answer on the status pipe. */
	close(p->status_wr);
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			_exit(EXEC_FAILED_EXIT);
		if (w == step) {
			status = st;
			break;
		}
	}
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

static _Noreturn void child_main(const struct plan *p)
{
	int tree_fd;

	if (child_isolate(p) < 0)
		_exit(CHILD_SETUP_EXIT);
	tree_fd = child_clone_build(p);
	if (tree_fd == -1 || child_mount_root(p) < 0 ||
	    child_mount_build(p, tree_fd) < 0 || child_enter(p) < 0 ||
	    child_stdio(p) < 0 || child_drop(p) < 0)
		_exit(CHILD_SETUP_EXIT);
	if (getpid() == 1)
		child_init(p);
	reset_signals();
	/* execvp looks PATH up in environ, which must be the new one. */
	environ = (char **)p->env;
	execvp(p->argv[0], p->argv);
	report(p, STEP_EXEC);
	_exit(EXEC_FAILED_EXIT);
}

/* ---- the parent ---------------------------------------------------------- */

/* Keep our fds off 0-2, so the child's dup2 onto 0-2 cannot clobber them. */
static int fd_above_stdio(int fd)
{
	int nfd;

	if (fd < 0 || fd > 2)
		return fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return nfd;
}

static char *join_argv(char *const *argv)
{
	size_t len = 1;
	char *s, *w;

	for (size_t i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = w = malloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; argv[i]; i++)
		w += sprintf(w, "%s%s", i ? " " : "", argv[i]);
	*w = '\0';
	return s;
}

/* Host path of an in-root path, symlinks resolved inside the root. */
static int host_path(const struct plan *p, const char *inroot, char **canon,
		     char **host)
{
	_cleanup_(freep) char *c = NULL;
	int r = root_canon(p->root, inroot, ROOT_ALLOW_MISSING, &c);

	if (r < 0)
		return r;
	*host = p->chroot ? path_join(p->root, c) : strdup(c);
	if (!*host)
		return -ENOMEM;
	if (canon)
		*canon = TAKE_PTR(c);
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* <root>/name when it is a directory; NULL otherwise (not mounted on). */
static int optional_target(const struct plan *p, const char *name, char **canon,
			   char **host)
{
	int r = host_path(p, name, canon, host);

	if (r < 0 && r != -ENOENT && r != -ENOTDIR && r != -ELOOP)
		return r;
	if (r == 0 && is_dir(*host))
		return 0;
	log_debug("sandbox: no %s in %s, not mounting it", name, p->root);
	free(*host);
	*host = NULL;
	if (canon) {
		free(*canon);
		*canon = NULL;
	}
	return 0;
}

static int plan_build_target(struct plan *p, const char *tmp_canon)
{
	const struct sandbox_opts *o = p->o;
	_cleanup_(freep) char *canon = NULL;
	struct stat st;
	int r = 0;

	if (stat(o->build_host, &st) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r < 0) {
		log_err("sandbox: build dir %s: %s", o->build_host,
			strerror(-r));
		return r;
	}
	r = host_path(p, o->build_inroot, &canon, &p->build_target);
	if (r < 0) {
		log_err("sandbox: cannot resolve %s in %s: %s", o->build_inroot,
			p->root, strerror(-r));
		return r;
	}
	p->build_in_tmp = tmp_canon && path_under(canon, tmp_canon);
	/* In the private /tmp the child makes it; elsewhere it must exist. */
	if (!p->build_in_tmp && !is_dir(p->build_target)) {
		r = make_dirs(p->build_target, 0755);
		if (r < 0) {
			log_err("sandbox: cannot create %s: %s",
				p->build_target, strerror(-r));
			return r;
		}
	}
	return 0;
}

static int plan_paths(struct plan *p)
{
	const struct sandbox_opts *o = p->o;
	_cleanup_(freep) char *tmp_canon = NULL;
	int r;

	if (!o->build_host != !o->build_inroot) {
		log_err("sandbox: build_host and build_inroot go together");
		return -EINVAL;
	}
	r = optional_target(p, "/tmp", &tmp_canon, &p->tmp_target);
	if (r < 0)
		return r;
	if (p->chroot) {
		r = optional_target(p, "/proc", NULL, &p->proc_target);
		if (r < 0)
			return r;
		r = optional_target(p, "/dev", NULL, &p->dev_target);
		if (r < 0)
			return r;
	}
	return o->build_host ? plan_build_target(p, tmp_canon) : 0;
}

static int open_fd_failed(const char *what)
{
	int r = -errno;

	log_err("sandbox: cannot open %s: %s", what, strerror(-r));
	return r;
}

static int plan_fds(struct plan *p)
{
	const struct sandbox_opts *o = p->o;
	int pfd[2];

	p->null_fd = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
	if (p->null_fd < 0)
		return open_fd_failed("/dev/null");
	if (o->log_path) {
		/* Opened here, so the path is a host path. */
		p->log_fd = fd_above_stdio(open(o->log_path,
						O_WRONLY | O_APPEND | O_CREAT |
							O_CLOEXEC | O_NOCTTY,
						0644));
		if (p->log_fd < 0)
			return open_fd_failed(o->log_path);
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return open_fd_failed("a status pipe");
	p->status_rd = fd_above_stdio(pfd[0]);
	p->status_wr = fd_above_stdio(pfd[1]);
	if (p->status_rd < 0 || p->status_wr < 0)
		return open_fd_failed("a status pipe");
	return 0;
}

static int plan_init(struct plan *p, char *const *argv,
		     const struct sandbox_opts *o)
{
	int r;

	p->o = o;
	p->argv = argv;
	p->env = o->env ? o->env : default_env;
	/* Canonical, as mountinfo and the in-root resolution compare it. */
	p->root = realpath(root_is_slash(o->root) ? "/" : o->root, NULL);
	if (!p->root) {
		r = -errno;
		log_err("sandbox: root %s: %s", o->root, strerror(-r));
		return r;
	}
	p->chroot = !streq(p->root, "/");
	p->cwd = o->cwd_inroot	   ? o->cwd_inroot
		 : o->build_inroot ? o->build_inroot
				   : "/";
	p->parent = getpid();
	p->cmdline = join_argv(argv);
	if (!p->cmdline)
		return -ENOMEM;
	if (!is_dir(p->root)) {
		log_err("sandbox: root %s is not a directory", p->root);
		return -ENOTDIR;
	}
	r = plan_paths(p);
	if (r < 0)
		return r;
	return plan_fds(p);
}

static char *describe(const struct plan *p, int step)
{
	const struct sandbox_opts *o = p->o;

	switch (step) {
	case STEP_PGID:
		return xasprintf("create a process group");
	case STEP_PDEATHSIG:
		return xasprintf("set the parent-death signal");
	case STEP_UNSHARE:
		return xasprintf("create %s",
				 o->keep_network
					 ? "a mount namespace"
					 : "mount and network namespaces");
	case STEP_PRIVATE:
		return xasprintf("make mounts private");
	case STEP_CLONE_BUILD:
		return xasprintf("clone the mount of %s", o->build_host);
	case STEP_BIND_ROOT:
		return xasprintf("bind %s on itself", p->root);
	case STEP_BIND_PROC:
		return xasprintf("bind /proc on %s", p->proc_target);
	case STEP_BIND_DEV:
		return xasprintf("bind /dev on %s", p->dev_target);
	case STEP_RDONLY:
		return xasprintf("make %s read-only", p->root);
	case STEP_TMPFS:
		return xasprintf("mount a tmpfs on %s", p->tmp_target);
	case STEP_MKDIR_BUILD:
		return xasprintf("create %s", p->build_target);
	case STEP_BIND_BUILD:
		return xasprintf("bind %s on %s", o->build_host,
				 p->build_target);
	case STEP_REMOUNT_BUILD:
		return xasprintf("make %s writable", p->build_target);
	case STEP_CHROOT:
		return xasprintf("chroot to %s", p->root);
	case STEP_CHDIR:
		return xasprintf("enter %s", p->cwd);
	case STEP_STDIO:
		return xasprintf("set up stdin, stdout and stderr");
	case STEP_FDS:
		return xasprintf("set up file descriptors");
	case STEP_DROP:
		return xasprintf("drop privileges to uid %d", SANDBOX_UID);
	case STEP_NO_NEW_PRIVS:
		return xasprintf("set no_new_privs");
	case STEP_BUILD_ACCESS:
		return xasprintf("write to build dir %s as uid %d",
				 o->build_inroot,
				 o->keep_privileges ? 0 : SANDBOX_UID);
	case STEP_EXEC:
		return xasprintf("execute %s", p->argv[0]);
	}
	return xasprintf("set up (step %d)", step);
}

static int remaining_ms(unsigned long long deadline)
{
	unsigned long long now = now_ns();

	if (!deadline)
		return -1;
	if (now >= deadline)
		return 0;
	/* Round up: poll must not return just before the deadline. */
	return (int)((deadline - now + 999999) / 1000000);
}

/* 1: fd readable, 0: deadline passed, <0: error. */
static int poll_until(int fd, unsigned long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		int r = poll(&pfd, 1, remaining_ms(deadline));

		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Kill the whole group; ESRCH just means nobody is left. */
static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	/* In case the child died before its setpgid and ours lost the race. */
	kill(pid, SIGKILL);
}

static int reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/*
 * 1: the child has exited, still unreaped, 0: deadline passed.  While it
 * is a zombie its pid cannot be reused, so killing its group is safe.
 */
static int wait_exit(pid_t pid, int pidfd, unsigned long long deadline)
{
	if (pidfd >= 0)
		return poll_until(pidfd, deadline);
	/* No pidfd (before Linux 5.3): look every few ms. */
	for (;;) {
		siginfo_t si = {0};
		struct timespec ts = {.tv_nsec = 5 * 1000000L};
		int left = remaining_ms(deadline);
		int r = waitid(P_PID, (id_t)pid, &si,
			       WEXITED | WNOHANG | WNOWAIT);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (si.si_pid == pid)
			return 1;
		if (left == 0)
			return 0;
		if (left > 0 && left < 5)
			ts.tv_nsec = left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

/* 0: the exec happened, 1: *st holds the child's failure, -ETIME. */
static int read_status(struct plan *p, unsigned long long deadline,
		       struct child_status *st)
{
	int r = poll_until(p->status_rd, deadline);
	ssize_t n;

	if (r <= 0)
		return r == 0 ? -ETIME : r;
	do
		n = read(p->status_rd, st, sizeof(*st));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (n != sizeof(*st) || st->err <= 0)
		st->err = EIO;
	return 1;
}

static int child_failed(const struct plan *p, pid_t pid,
			const struct child_status *st)
{
	_cleanup_(freep) char *what = describe(p, st->step);
	int status;

	kill_group(pid);
	reap(pid, &status);
	log_err("sandbox: cannot %s: %s", what ? what : "set up",
		strerror(st->err));
	if (st->step != STEP_EXEC)
		return -st->err;
	/* What a shell would leave in make.log. */
	if (p->log_fd >= 0)
		dprintf(p->log_fd, "dkms-boot sandbox: cannot execute %s: %s\n",
			p->argv[0], strerror(st->err));
	return EXEC_FAILED_EXIT;
}

static int timed_out(const struct plan *p, pid_t pid)
{
	int status;

	kill_group(pid);
	reap(pid, &status);
	log_err("sandbox: %s: killed after %u ms", p->cmdline,
		p->o->timeout_ms);
	return -ETIME;
}

static int supervise(struct plan *p, pid_t pid, unsigned long long deadline)
{
	_cleanup_(closep) int pidfd = OLD_KERNEL ? -1 : pidfd_open(pid, 0);
	struct child_status st;
	int r, status = 0;

	r = read_status(p, deadline, &st);
	if (r == -ETIME)
		return timed_out(p, pid);
	if (r > 0)
		return child_failed(p, pid, &st);
	if (r < 0) {
		kill_group(pid);
		reap(pid, &status);
		log_err("sandbox: status pipe: %s", strerror(-r));
		return r;
	}
	r = wait_exit(pid, pidfd, deadline);
	if (r == 0)
		return timed_out(p, pid);
	/* Background jobs left behind die with the step. */
	kill_group(pid);
	if (r > 0)
		r = reap(pid, &status);
	if (r < 0) {
		reap(pid, &status);
		log_err("sandbox: waiting for %s: %s", p->cmdline,
			strerror(-r));
		return r;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * fork() into a new PID namespace: when the step's first process ends (or
 * is killed), the kernel kills everything left in the namespace, even a
 * job that escaped our process group with setsid().  Without clone3 or
 * the namespace (old kernels), a plain fork and the group kill.
 */
static pid_t fork_newpid(void)
{
	/* The kernel's struct clone_args, version 0 (64 bytes); glibc has
	 * no wrapper and <linux/sched.h> clashes with <sched.h>. */
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
		uint64_t stack, stack_size, tls;
	} ca = {.flags = CLONE_NEWPID, .exit_signal = SIGCHLD};
	long r;

	if (OLD_KERNEL)
		return fork();
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r < 0 && (errno == ENOSYS || errno == EINVAL || errno == EPERM))
		return fork();
	return (pid_t)r;
}

int sandbox_run(char *const *argv, const struct sandbox_opts *o)
{
	_cleanup_(plan_done) struct plan p = PLAN_INIT;
	unsigned long long deadline;
	pid_t pid;
	int r;

	if (!argv || !argv[0] || !o)
		return -EINVAL;
	r = plan_init(&p, argv, o);
	if (r < 0)
		return r;
	log_debug("sandbox: running %s in %s (build %s on %s)", p.cmdline,
		  p.root, o->build_host ? o->build_host : "none",
		  p.build_target ? p.build_target : "none");
	deadline = o->timeout_ms ? now_ns() + o->timeout_ms * 1000000ULL : 0;
	fflush(NULL);
	pid = fork_newpid();
	if (pid < 0) {
		r = -errno;
		log_err("sandbox: cannot fork: %s", strerror(-r));
		return r;
	}
	if (pid == 0)
		child_main(&p);
	closep(&p.status_wr);
	p.status_wr = -1;
	/* Also here, so kill(-pid) works whoever runs first. */
	setpgid(pid, pid);
	return supervise(&p, pid, deadline);
}

/* ---- probing and ownership ----------------------------------------------- */

static bool probe_namespaces(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (pid == 0) {
		bool ok =
			unshare(CLONE_NEWNS | CLONE_NEWNET) == 0 &&
			mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;

		_exit(ok ? 0 : 1);
	}
	if (reap(pid, &status) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool sandbox_supported(void)
{
	static int supported = -1;

	if (supported < 0) {
		supported = probe_namespaces();
		if (!supported)
			log_debug("sandbox: no mount/network namespaces here");
	}
	return supported;
}

static int chown_dir(int fd, const char *path, dev_t dev, unsigned depth);

static int chown_failed(const char *path, const char *name, const char *what)
{
	int r = -errno;

	log_err("sandbox: cannot %s %s/%s: %s", what, path, name, strerror(-r));
	return r;
}

static int chown_entry(DIR *d, const char *path, const char *name, dev_t dev,
		       unsigned depth)
{
	_cleanup_(freep) char *sub = NULL;
	struct stat st;
	int fd;

	if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return chown_failed(path, name, "stat");
	/* Another file system mounted in the build dir is not ours. */
	if (st.st_dev != dev)
		return 0;
	if (fchownat(dirfd(d), name, SANDBOX_UID, SANDBOX_GID,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return chown_failed(path, name, "chown");
	if (!S_ISDIR(st.st_mode))
		return 0;
	sub = path_join(path, name);
	if (!sub)
		return -ENOMEM;
	fd = openat(dirfd(d), name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return chown_failed(path, name, "open");
	return chown_dir(fd, sub, dev, depth + 1);
}

/*
 * Takes fd.  Walks by fd, never by path, so that a symlink swapped in by
 * a process of the sandbox user cannot redirect the chown.
 */
static int chown_dir(int fd, const char *path, dev_t dev, unsigned depth)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int r;

	if (depth > CHOWN_MAX_DEPTH) {
		close(fd);
		log_err("sandbox: %s: too deep", path);
		return -ELOOP;
	}
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		log_err("sandbox: cannot read %s: %s", path, strerror(-r));
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		r = chown_entry(d, path, de->d_name, dev, depth);
		if (r < 0)
			return r;
	}
	if (errno) {
		r = -errno;
		log_err("sandbox: cannot read %s: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

int sandbox_chown_tree(const char *host_dir)
{
	struct stat st;
	int r, fd = open(host_dir,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		r = -errno;
		log_err("sandbox: cannot open %s: %s", host_dir, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || fchown(fd, SANDBOX_UID, SANDBOX_GID) < 0) {
		r = -errno;
		close(fd);
		log_err("sandbox: cannot chown %s: %s", host_dir, strerror(-r));
		return r;
	}
	return chown_dir(fd, host_dir, st.st_dev, 0);
}
