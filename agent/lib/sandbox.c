// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Contained build steps.  dkms runs PRE_BUILD, make and friends as root
 * with the whole system writable and the network up; at boot a broken or
 * hostile module build must not be able to damage the root it is about
 * to boot, nor reach what runs beside it.  A forked child enters new
 * PID, mount, IPC and network namespaces and a session of its own, sees
 * the root through a throwaway overlay (or read-only) with the build
 * directory bound in, private /tmp, /run and a minimal /dev, drops to an
 * unprivileged user, installs a seccomp filter and execs the step.
 *
 * The child reports a setup or exec failure as {step, errno} through a
 * close-on-exec pipe, so EOF on that pipe means the exec succeeded, and
 * the parent, which holds every path, words the message.
 */
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/child.h"
#include "lib/log.h"
#include "lib/rootfs.h"

#include "lib/sandbox.h"
#include "lib/walk.h"

#ifdef DKMS_BOOT_TEST_BUILD
/*
 * Tests force the fallbacks for kernels older than open_tree (5.2),
 * pidfd_open (5.3), close_range's CLOEXEC flag (5.11) and mount_setattr
 * (5.12), and for a kernel without overlayfs.
 */
extern bool sandbox_test_old_kernel, sandbox_test_no_overlay;
bool sandbox_test_old_kernel, sandbox_test_no_overlay;
#define OLD_KERNEL sandbox_test_old_kernel
#define NO_OVERLAY sandbox_test_no_overlay
#else
#define OLD_KERNEL false
#define NO_OVERLAY false
#endif

#define STR(x)		 #x
#define XSTR(x)		 STR(x)
#define TMP_OPTIONS	 "size=" XSTR(SANDBOX_TMP_MB) "m,mode=1777"
#define UPPER_OPTIONS	 "size=" XSTR(SANDBOX_TMP_MB) "m,mode=755"
#define RUN_OPTIONS	 "size=" XSTR(SANDBOX_RUN_MB) "m,mode=755"
#define SHM_OPTIONS	 "size=" XSTR(SANDBOX_RUN_MB) "m,mode=1777"
#define DEV_OPTIONS	 "size=1m,mode=755"
#define CHILD_SETUP_EXIT 126
#define EXEC_FAILED_EXIT 127

static char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	"HOME=/nonexistent",
	NULL,
};

/* What the child was doing when it failed; the parent words it. */
enum step {
	STEP_SESSION = 1,
	STEP_PDEATHSIG,
	STEP_KEYRING,
	STEP_UNSHARE,
	STEP_PRIVATE,
	STEP_CLONE_BUILD,
	STEP_BIND_ROOT,
	STEP_OVERLAY_SUBMOUNTS,
	STEP_BIND_PROC,
	STEP_DEV,
	STEP_RUN,
	STEP_RDONLY,
	STEP_TMPFS,
	STEP_MKDIR_BUILD,
	STEP_BIND_BUILD,
	STEP_REMOUNT_BUILD,
	STEP_CHROOT,
	STEP_CHDIR,
	STEP_STDIO,
	STEP_FDS,
	STEP_NPROC,
	STEP_DROP,
	STEP_NO_NEW_PRIVS,
	STEP_BUILD_ACCESS,
	STEP_SECCOMP,
	STEP_EXEC,
	/* Not a failure: the overlay could not be had (err says why), the
	 * root stays read-only. */
	NOTE_NO_OVERLAY = 100,
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
	char *build_canon;  /* in-root path of the build mount point */
	bool build_in_tmp;  /* ... which lies in the private /tmp */
	char *tmp_canon;    /* in-root /tmp, resolved; NULL: missing */
	char *tmp_target;   /* its host path: the overlay's scratch space */
	char *source_canon; /* in-root <build>/../source; NULL: none */
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
	free(p->build_canon);
	free(p->tmp_canon);
	free(p->tmp_target);
	free(p->source_canon);
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

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A directory that is not a symlink (/var/run usually is one to /run). */
static bool is_real_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- the child: every step reports its failure and returns -1 ---------- */

/*
 * The child's view while it sets up: host paths, and the root the step
 * will see (the overlay, or the root itself).  Allocation is fine here:
 * the parent is single-threaded (see sandbox.h).
 */
struct view {
	char *top;     /* host path of the step's "/" */
	bool overlay;  /* top is a throwaway overlay of the root */
	int tree_fd;   /* detached copy of the build dir's mount, or -1 */
	int build_fd;  /* O_PATH fd of the build dir (no open_tree), or -1 */
	int dev_fd[5]; /* O_PATH fds of the device nodes the step gets */
};

static const char *const dev_nodes[] = {"null", "zero", "full", "random",
					"urandom"};

static int report(const struct plan *p, enum step step)
{
	struct child_status st = {.step = step, .err = errno ? errno : EIO};
	ssize_t n _unused_;

	/* Smaller than PIPE_BUF: written whole or not at all. */
	n = write(p->status_wr, &st, sizeof(st));
	return -1;
}

static int report_err(const struct plan *p, enum step step, int err)
{
	errno = err < 0 ? -err : err;
	return report(p, step);
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
	int flags = CLONE_NEWNS | CLONE_NEWIPC |
		    (p->o->keep_network ? 0 : CLONE_NEWNET);

	/*
	 * A session of its own: no controlling terminal to push input into
	 * with TIOCSTI or to open as /dev/tty, and a process group the
	 * parent kills as a whole.
	 */
	if (setsid() < 0)
		return report(p, STEP_SESSION);
	if (die_with_parent(p) < 0)
		return -1;
	/*
	 * The session keyring is inherited and possessor rights survive the
	 * change of uid: an empty anonymous one instead.  No keyring support
	 * in the kernel means nothing to hide.
	 */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS)
		return report(p, STEP_KEYRING);
	/* A new network namespace has only lo, and it is down; a new IPC
	 * namespace takes the step's SysV objects with it. */
	if (unshare(flags) < 0)
		return report(p, STEP_UNSHARE);
	/* Otherwise our mounts would propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return report(p, STEP_PRIVATE);
	return 0;
}

/*
 * Handles on what later mounts hide (the build directory may live in the
 * host's /tmp or /run, the device nodes in /dev): a detached copy of the
 * build directory's mount, or before open_tree (5.2) an O_PATH fd to bind
 * through /proc/self/fd, and O_PATH fds of the device nodes.
 */
static int child_grab(const struct plan *p, struct view *v)
{
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		_cleanup_(freep) char *node = path_join("/dev", dev_nodes[i]);

		v->dev_fd[i] = node ? open(node, O_PATH | O_CLOEXEC) : -1;
		if (v->dev_fd[i] < 0)
			return report(p, STEP_DEV);
	}
	if (!p->build_canon)
		return 0;
	if (!OLD_KERNEL) {
		v->tree_fd = open_tree(AT_FDCWD, p->o->build_host,
				       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (v->tree_fd >= 0)
			return 0;
		if (errno != ENOSYS)
			return report(p, STEP_CLONE_BUILD);
	}
	v->build_fd = open(p->o->build_host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (v->build_fd < 0)
		return report(p, STEP_CLONE_BUILD);
	return 0;
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

/* One mountinfo line: id, parent id, mount point (unescaped), options. */
struct mnt {
	int id, parent;
	char *point, *opts;
};

/* Split a mountinfo line in place; false when it is malformed. */
static bool parse_mnt(char *line, struct mnt *m)
{
	char *f[6], *s = line;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f) && (f[i] = strsep(&s, " ")); i++)
		;
	if (i < ARRAY_SIZE(f))
		return false;
	m->id = atoi(f[0]);
	m->parent = atoi(f[1]);
	unescape_octal(f[4]);
	m->point = f[4];
	m->opts = f[5];
	return true;
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
		struct mnt m;

		if (!parse_mnt(line, &m) || !path_under(m.point, top))
			continue;
		if (mount(NULL, m.point, NULL,
			  MS_BIND | MS_REMOUNT | MS_RDONLY |
				  mount_flags(m.opts),
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

/* What the step gets fresh, never from the root's submounts. */
static bool replaced_in_view(const char *rel)
{
	static const char *const fresh[] = {"/proc", "/dev", "/tmp", "/run",
					    "/var/run"};

	for (size_t i = 0; i < ARRAY_SIZE(fresh); i++)
		if (path_under(rel, fresh[i]))
			return true;
	return false;
}

/* overlayfs options are comma-separated and lowerdir colon-separated. */
static bool overlay_safe(const char *path)
{
	return !strpbrk(path, ",:\\");
}

/* Overlay lower onto target, with upper and work dirs <scratch>/{u,w}<n>. */
static int mount_overlay(const char *scratch, unsigned n, const char *lower,
			 const char *target)
{
	_cleanup_(freep) char *upper = xasprintf("%s/u%u", scratch, n);
	_cleanup_(freep) char *work = xasprintf("%s/w%u", scratch, n);
	_cleanup_(freep) char *opts = NULL;

	if (!upper || !work)
		return -ENOMEM;
	if (!overlay_safe(lower))
		return -EINVAL;
	opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper,
			 work);
	if (!opts)
		return -ENOMEM;
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
		return -errno;
	if (mount("overlay", target, "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
		return -errno;
	return 0;
}

/*
 * overlayfs shows the lower directory's own file system only, not what
 * is mounted below it (/usr on a partition of its own, kernel headers
 * bound in): each such mount gets an overlay of its own at the same place
 * in the view, parents first as mountinfo lists them.  Where that is not
 * possible (a file system overlayfs refuses as a lower layer, /sys), it
 * is bound read-only instead.
 */
static int overlay_submounts(const struct plan *p, const char *scratch,
			     const char *top)
{
	_cleanup_(freep) char *buf = NULL;
	_cleanup_(strv_freep) char **done = NULL;
	char *line, *save = NULL;
	unsigned n = 1;
	int r = read_file("/proc/self/mountinfo", 16 << 20, &buf, NULL);

	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		_cleanup_(freep) char *target = NULL;
		struct mnt m;
		const char *rel;
		bool seen = false;

		if (!parse_mnt(line, &m) || !path_under(m.point, p->root) ||
		    streq(m.point, p->root))
			continue;
		rel = p->chroot ? m.point + strlen(p->root) : m.point;
		/* A chroot's self-bind repeats every mount below it. */
		for (char **d = done; d && *d && !seen; d++)
			seen = streq(*d, rel);
		if (seen || replaced_in_view(rel) ||
		    (path_under(rel, "/sys") && !streq(rel, "/sys")))
			continue;
		if (strv_push(&done, rel) < 0)
			return -ENOMEM;
		target = path_join(top, rel);
		if (!target)
			return -ENOMEM;
		if (is_dir(m.point) != is_dir(target))
			continue; /* hidden by what is mounted above it */
		/* A file bound on a file (a container's /etc/resolv.conf)
		 * cannot be an overlay; directories can. */
		if (is_dir(m.point) && !streq(rel, "/sys") &&
		    mount_overlay(scratch, n++, m.point, target) == 0)
			continue;
		if (mount(m.point, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return -errno;
		}
		if (make_ro(target) < 0)
			return -errno;
	}
	return 0;
}

static int handover_entry(const char *path, const struct stat *st, int type,
			  struct FTW *ftw)
{
	/* Best effort: what cannot be handed over stays read-only. */
	lchown(path, SANDBOX_UID, SANDBOX_GID);
	return 0;
}

/*
 * dkms builds as root, and some packages write into their own source
 * tree (dkms's <build>/../source link).  In the throwaway view the
 * unprivileged step owns that tree; the chown lands in the upper layer.
 */
static void handover_source(const struct plan *p, const char *top)
{
	_cleanup_(freep) char *src = NULL;

	if (!p->source_canon || p->o->keep_privileges)
		return;
	src = path_join(top, p->source_canon);
	if (src)
		nftw(src, handover_entry, 16, FTW_PHYS);
}

/*
 * A writable, throwaway view of the root: an overlay whose lower layer is
 * the root and whose upper layer lives on a size-limited tmpfs mounted on
 * the root's /tmp (hidden from the step by its own /tmp), all of which
 * vanishes with the mount namespace.  0: done, 1: not possible here (the
 * reason is noted to the parent), -1: reported.
 */
static int child_overlay(const struct plan *p, struct view *v)
{
	const char *scratch = p->tmp_target;
	_cleanup_(freep) char *top = NULL;
	int r = 0;

	if (NO_OVERLAY)
		r = -ENODEV;
	else if (!scratch)
		r = -ENOENT; /* no /tmp to hold the upper layer */
	else if (!overlay_safe(p->root) || !overlay_safe(scratch))
		r = -EINVAL;
	if (r < 0)
		goto no_overlay;
	if (mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
		  UPPER_OPTIONS) < 0)
		return report(p, STEP_TMPFS);
	top = path_join(scratch, "root");
	if (!top)
		return report_err(p, STEP_TMPFS, ENOMEM);
	if (mkdir(top, 0755) < 0)
		return report(p, STEP_TMPFS);
	r = mount_overlay(scratch, 0, p->root, top);
	if (r < 0) {
		umount2(scratch, MNT_DETACH);
		goto no_overlay;
	}
	r = overlay_submounts(p, scratch, top);
	if (r < 0)
		return report_err(p, STEP_OVERLAY_SUBMOUNTS, r);
	handover_source(p, top);
	v->top = TAKE_PTR(top);
	v->overlay = true;
	return 0;
no_overlay:
	/* The parent logs why and goes on reading the pipe. */
	report_err(p, NOTE_NO_OVERLAY, r);
	return 1;
}

/* The step's "/": the overlay, else the root itself (read-only unless
 * asked for writable). */
static int child_view(const struct plan *p, struct view *v)
{
	int r;

	/* A mount of its own for a chroot, to make read-only or overlay. */
	if (p->chroot &&
	    mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return report(p, STEP_BIND_ROOT);
	if (!p->o->writable_root) {
		r = child_overlay(p, v);
		if (r <= 0)
			return r;
		/* Device nodes stay writable on a read-only mount: the
		 * step gets its own /dev below. */
		if (make_ro(p->root) < 0)
			return report(p, STEP_RDONLY);
	}
	v->top = strdup(p->root);
	if (!v->top)
		return report_err(p, STEP_BIND_ROOT, ENOMEM);
	return 0;
}

#define PROC_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)

/* path_join for the view, never failing silently. */
static char *in_view(const struct view *v, const char *rel)
{
	return path_join(v->top, rel);
}

static int mount_tmpfs(const char *target, const char *options)
{
	return mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options);
}

/*
 * A minimal /dev: the five harmless character devices (bound from the
 * host, as creating device nodes needs privileges we drop), the /proc
 * links shells use, and an empty /dev/shm.  No tty, no disks, no
 * /dev/log socket.
 */
static int child_dev(const struct plan *p, const struct view *v)
{
	static const char *const links[][2] = {
		{"fd", "/proc/self/fd"},
		{"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"},
		{"stderr", "/proc/self/fd/2"},
	};
	_cleanup_(freep) char *dev = in_view(v, "/dev");
	_cleanup_(freep) char *shm = in_view(v, "/dev/shm");

	if (!dev || !shm)
		return report_err(p, STEP_DEV, ENOMEM);
	if (!is_dir(dev))
		return 0;
	if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, DEV_OPTIONS) <
	    0)
		return report(p, STEP_DEV);
	for (size_t i = 0; i < ARRAY_SIZE(dev_nodes); i++) {
		_cleanup_(freep) char *node = path_join(dev, dev_nodes[i]);
		_cleanup_(freep) char *src =
			xasprintf("/proc/self/fd/%d", v->dev_fd[i]);
		int fd;

		if (!node || !src)
			return report_err(p, STEP_DEV, ENOMEM);
		fd = open(node, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0)
			return report(p, STEP_DEV);
		close(fd);
		if (mount(src, node, NULL, MS_BIND, NULL) < 0)
			return report(p, STEP_DEV);
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		_cleanup_(freep) char *l = path_join(dev, links[i][0]);

		if (!l || symlink(links[i][1], l) < 0)
			return report(p, STEP_DEV);
	}
	if (mkdir(shm, 01777) < 0 || mount_tmpfs(shm, SHM_OPTIONS) < 0)
		return report(p, STEP_DEV);
	/* Nothing more is created in /dev; the nodes keep their own mounts. */
	if (mount(NULL, dev, NULL,
		  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		  DEV_OPTIONS) < 0)
		return report(p, STEP_DEV);
	return 0;
}

/* Empty /run and /var/run: no D-Bus, journal or other daemon's socket. */
static int child_empty_run(const struct plan *p, const struct view *v)
{
	static const char *const dirs[] = {"/run", "/var/run"};

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_(freep) char *d = in_view(v, dirs[i]);

		if (!d)
			return report_err(p, STEP_RUN, ENOMEM);
		if (is_real_dir(d) && mount_tmpfs(d, RUN_OPTIONS) < 0)
			return report(p, STEP_RUN);
	}
	return 0;
}

/* /proc: the step's own, as it is PID 1's child in its PID namespace. */
static int child_proc(const struct plan *p, const struct view *v)
{
	_cleanup_(freep) char *proc = in_view(v, "/proc");

	if (!proc)
		return report_err(p, STEP_BIND_PROC, ENOMEM);
	/* Kbuild reads /proc. */
	if (is_dir(proc) && mount("proc", proc, "proc", PROC_FLAGS, NULL) < 0)
		return report(p, STEP_BIND_PROC);
	return 0;
}

static int child_tmp(const struct plan *p, const struct view *v)
{
	_cleanup_(freep) char *tmp = NULL;

	if (!p->tmp_canon)
		return 0;
	tmp = in_view(v, p->tmp_canon);
	if (!tmp)
		return report_err(p, STEP_TMPFS, ENOMEM);
	if (mount_tmpfs(tmp, TMP_OPTIONS) < 0)
		return report(p, STEP_TMPFS);
	return 0;
}

static int child_mount_build(const struct plan *p, const struct view *v)
{
	_cleanup_(freep) char *target = NULL, *src = NULL;
	int r;

	if (!p->build_canon)
		return 0;
	target = in_view(v, p->build_canon);
	if (!target)
		return report_err(p, STEP_BIND_BUILD, ENOMEM);
	/* Made in the private /tmp, or in the overlay when the root lacks
	 * it; on a read-only root the parent made it. */
	if (!is_dir(target)) {
		r = make_dirs(target, 0755);
		if (r < 0)
			return report_err(p, STEP_MKDIR_BUILD, r);
	}
	if (v->tree_fd >= 0) {
		r = move_mount(v->tree_fd, "", AT_FDCWD, target,
			       MOVE_MOUNT_F_EMPTY_PATH);
	} else {
		src = xasprintf("/proc/self/fd/%d", v->build_fd);
		if (!src)
			return report_err(p, STEP_BIND_BUILD, ENOMEM);
		r = mount(src, target, NULL, MS_BIND, NULL);
	}
	if (r < 0)
		return report(p, STEP_BIND_BUILD);
	/*
	 * A bind copies the source mount's flags, read-only when the source
	 * is in a read-only root; exec stays allowed for build scripts.
	 */
	if (mount(NULL, target, NULL,
		  MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV, NULL) < 0)
		return report(p, STEP_REMOUNT_BUILD);
	return 0;
}

static int child_mounts(const struct plan *p, struct view *v)
{
	if (child_grab(p, v) < 0 || child_view(p, v) < 0 ||
	    child_proc(p, v) < 0 || child_dev(p, v) < 0 ||
	    child_empty_run(p, v) < 0 || child_tmp(p, v) < 0 ||
	    child_mount_build(p, v) < 0)
		return -1;
	return 0;
}

static int child_enter(const struct plan *p, const struct view *v)
{
	if (!streq(v->top, "/") && chroot(v->top) < 0)
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
	/* Counted per user, so set while still root; root ignores it. */
	struct rlimit nproc = {SANDBOX_NPROC, SANDBOX_NPROC};

	if (!p->o->keep_privileges && setrlimit(RLIMIT_NPROC, &nproc) < 0)
		return report(p, STEP_NPROC);
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

/* ---- the seccomp filter ------------------------------------------------ */

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#define X32_BIT	     0x40000000U
#else
#define SECCOMP_ARCH 0
#endif

/*
 * System calls a compiler, make or a shell never needs, and that widen
 * what a hostile build can reach in the kernel: module loading, kexec,
 * mounts and namespaces, keyrings, BPF, tracing other processes,
 * handle-based opens, raw I/O ports, the clock, accounting, syslog,
 * io_uring.  They fail with EPERM.
 */
static const int denied_syscalls[] = {
	SYS_init_module,
	SYS_finit_module,
	SYS_delete_module,
	SYS_kexec_load,
	SYS_kexec_file_load,
	SYS_reboot,
	SYS_mount,
	SYS_umount2,
	SYS_pivot_root,
	SYS_chroot,
	SYS_swapon,
	SYS_swapoff,
	SYS_keyctl,
	SYS_add_key,
	SYS_request_key,
	SYS_bpf,
	SYS_ptrace,
	SYS_process_vm_readv,
	SYS_process_vm_writev,
	SYS_unshare,
	SYS_setns,
	SYS_perf_event_open,
	SYS_userfaultfd,
	SYS_open_by_handle_at,
	SYS_name_to_handle_at,
	SYS_acct,
	SYS_settimeofday,
	SYS_clock_settime,
	SYS_clock_adjtime,
	SYS_adjtimex,
	SYS_fanotify_init,
	SYS_quotactl,
	SYS_syslog,
	SYS_lookup_dcookie,
	SYS_vhangup,
	SYS_kcmp,
	SYS_sethostname,
	SYS_setdomainname,
	SYS_io_uring_setup,
	SYS_io_uring_enter,
	SYS_io_uring_register,
	SYS_open_tree,
	SYS_move_mount,
	SYS_fsopen,
	SYS_fsconfig,
	SYS_fsmount,
	SYS_fspick,
	SYS_mount_setattr,
	SYS_quotactl_fd,
	SYS_pidfd_getfd,
#ifdef SYS_iopl
	SYS_iopl,
	SYS_ioperm,
	SYS_uselib,
	SYS__sysctl,
#endif
};

/* Every CLONE_NEW* flag that clone(2) takes (0x80, CLONE_NEWTIME, is
 * the exit signal's byte there). */
#define CLONE_NEW_ANY                                                          \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
	 CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#define STMT(c, k)	 ((struct sock_filter)BPF_STMT((c), (k)))
#define JUMP(c, k, t, f) ((struct sock_filter)BPF_JUMP((c), (k), (t), (f)))
#define RET(v)		 STMT(BPF_RET | BPF_K, (v))
#define LOAD(off)	 STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(k, t, f)	 JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define ERRNO(e)	 (SECCOMP_RET_ERRNO | ((e)&SECCOMP_RET_DATA))
#define ARG_LO(n)	 offsetof(struct seccomp_data, args[n])
#define FILTER_MAX	 (8 + 2 * ARRAY_SIZE(denied_syscalls) + 16)

/*
 * Installed last, after the change of user and with no_new_privs set, so
 * that it binds the step (and sign-file, which keeps root).  Another
 * architecture's calling convention (i386's int 0x80, x32) would reach
 * other syscall numbers: those processes are killed or refused.
 */
static int child_seccomp(const struct plan *p)
{
	struct sock_filter f[FILTER_MAX];
	struct sock_fprog prog = {.filter = f};
	size_t n = 0;

	if (!SECCOMP_ARCH)
		return report_err(p, STEP_SECCOMP, ENOSYS);
	f[n++] = LOAD(offsetof(struct seccomp_data, arch));
	f[n++] = JEQ(SECCOMP_ARCH, 1, 0);
	f[n++] = RET(SECCOMP_RET_KILL_PROCESS);
	f[n++] = LOAD(offsetof(struct seccomp_data, nr));
#ifdef X32_BIT
	f[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1);
	f[n++] = RET(ERRNO(EPERM));
#endif
	for (size_t i = 0; i < ARRAY_SIZE(denied_syscalls); i++) {
		f[n++] = JEQ((unsigned)denied_syscalls[i], 0, 1);
		f[n++] = RET(ERRNO(EPERM));
	}
	/* glibc falls back to clone(2) when clone3 is missing, whose flags
	 * a filter can see (clone3's are behind a pointer). */
	f[n++] = JEQ(SYS_clone3, 0, 1);
	f[n++] = RET(ERRNO(ENOSYS));
	f[n++] = JEQ(SYS_clone, 0, 4);
	f[n++] = LOAD(ARG_LO(0));
	f[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEW_ANY, 0, 1);
	f[n++] = RET(ERRNO(EPERM));
	f[n++] = RET(SECCOMP_RET_ALLOW);
	/* Typing into a terminal, in case one is still reachable. */
	f[n++] = JEQ(SYS_ioctl, 0, 5);
	f[n++] = LOAD(ARG_LO(1));
	f[n++] = JEQ(TIOCSTI, 2, 0);
	f[n++] = JEQ(TIOCLINUX, 1, 0);
	f[n++] = RET(SECCOMP_RET_ALLOW);
	f[n++] = RET(ERRNO(EPERM));
	f[n++] = RET(SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return report(p, STEP_SECCOMP);
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
	_exit(child_exit_code(status));
}

static _Noreturn void child_main(const struct plan *p)
{
	struct view v = {.tree_fd = -1, .build_fd = -1};

	for (size_t i = 0; i < ARRAY_SIZE(v.dev_fd); i++)
		v.dev_fd[i] = -1;
	if (child_isolate(p) < 0 || child_mounts(p, &v) < 0 ||
	    child_enter(p, &v) < 0 || child_stdio(p) < 0 || child_drop(p) < 0 ||
	    child_seccomp(p) < 0)
		_exit(CHILD_SETUP_EXIT);
	/* Always true but where the PID namespace could not be had. */
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

static int plan_build_target(struct plan *p)
{
	const struct sandbox_opts *o = p->o;
	_cleanup_(freep) char *host = NULL, *up = NULL, *src = NULL;
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
	r = host_path(p, o->build_inroot, &p->build_canon, &host);
	if (r < 0) {
		log_err("sandbox: cannot resolve %s in %s: %s", o->build_inroot,
			p->root, strerror(-r));
		return r;
	}
	p->build_in_tmp =
		p->tmp_canon && path_under(p->build_canon, p->tmp_canon);
	/* In the private /tmp the child makes it; elsewhere it must exist,
	 * for the read-only root when there is no overlay. */
	if (!p->build_in_tmp && !is_dir(host)) {
		r = make_dirs(host, 0755);
		if (r < 0) {
			log_err("sandbox: cannot create %s: %s", host,
				strerror(-r));
			return r;
		}
	}
	/* dkms's <build>/../source, which the step may write to. */
	up = path_join(p->build_canon, "../source");
	if (!up)
		return -ENOMEM;
	r = optional_target(p, up, &p->source_canon, &src);
	return r;
}

static int plan_paths(struct plan *p)
{
	const struct sandbox_opts *o = p->o;
	int r;

	if (!o->build_host != !o->build_inroot) {
		log_err("sandbox: build_host and build_inroot go together");
		return -EINVAL;
	}
	r = optional_target(p, "/tmp", &p->tmp_canon, &p->tmp_target);
	if (r < 0)
		return r;
	return o->build_host ? plan_build_target(p) : 0;
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
	case STEP_SESSION:
		return xasprintf("start a session");
	case STEP_PDEATHSIG:
		return xasprintf("set the parent-death signal");
	case STEP_KEYRING:
		return xasprintf("join a new session keyring");
	case STEP_UNSHARE:
		return xasprintf("create %s",
				 o->keep_network
					 ? "mount and IPC namespaces"
					 : "mount, IPC and network namespaces");
	case STEP_PRIVATE:
		return xasprintf("make mounts private");
	case STEP_CLONE_BUILD:
		return xasprintf("take hold of %s", o->build_host);
	case STEP_BIND_ROOT:
		return xasprintf("bind %s on itself", p->root);
	case STEP_OVERLAY_SUBMOUNTS:
		return xasprintf("show the mounts below %s in its overlay",
				 p->root);
	case STEP_BIND_PROC:
		return xasprintf("mount /proc in %s", p->root);
	case STEP_DEV:
		return xasprintf("set up a minimal /dev in %s", p->root);
	case STEP_RUN:
		return xasprintf("hide /run in %s", p->root);
	case STEP_RDONLY:
		return xasprintf("make %s read-only", p->root);
	case STEP_TMPFS:
		return xasprintf("mount a tmpfs on %s", p->tmp_target);
	case STEP_MKDIR_BUILD:
		return xasprintf("create %s", o->build_inroot);
	case STEP_BIND_BUILD:
		return xasprintf("bind %s on %s", o->build_host,
				 o->build_inroot);
	case STEP_REMOUNT_BUILD:
		return xasprintf("make %s writable", o->build_inroot);
	case STEP_CHROOT:
		return xasprintf("enter the view of %s", p->root);
	case STEP_CHDIR:
		return xasprintf("enter %s", p->cwd);
	case STEP_STDIO:
		return xasprintf("set up stdin, stdout and stderr");
	case STEP_FDS:
		return xasprintf("set up file descriptors");
	case STEP_NPROC:
		return xasprintf("limit processes to %d", SANDBOX_NPROC);
	case STEP_DROP:
		return xasprintf("drop privileges to uid %d", SANDBOX_UID);
	case STEP_NO_NEW_PRIVS:
		return xasprintf("set no_new_privs");
	case STEP_BUILD_ACCESS:
		return xasprintf("write to build dir %s as uid %d",
				 o->build_inroot,
				 o->keep_privileges ? 0 : SANDBOX_UID);
	case STEP_SECCOMP:
		return xasprintf("install the seccomp filter");
	case STEP_EXEC:
		return xasprintf("execute %s", p->argv[0]);
	}
	return xasprintf("set up (step %d)", step);
}

static void no_overlay(const struct plan *p, int err)
{
	const char *why = err == ENOENT	  ? "no /tmp in the root for its "
					    "upper layer"
			  : err == EINVAL ? "a ',', ':' or '\\' in its path"
					  : strerror(err);

	log_warn("sandbox: no overlay of %s (%s): the root stays read-only",
		 p->root, why);
}

/* 0: the exec happened, 1: *st holds the child's failure, -ETIME. */
static int read_status(struct plan *p, unsigned long long deadline,
		       struct child_status *st)
{
	for (;;) {
		int r = child_poll(p->status_rd, deadline);
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
		if (st->step != NOTE_NO_OVERLAY)
			return 1;
		no_overlay(p, st->err);
	}
}

static int child_failed(const struct plan *p, pid_t pid,
			const struct child_status *st)
{
	_cleanup_(freep) char *what = describe(p, st->step);

	child_kill_group(pid);
	child_reap(pid, NULL);
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

static int timed_out(const struct plan *p)
{
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
	if (r > 0)
		return child_failed(p, pid, &st);
	if (r < 0 && r != -ETIME) {
		child_kill_group(pid);
		child_reap(pid, NULL);
		log_err("sandbox: status pipe: %s", strerror(-r));
		return r;
	}
	/* At the deadline already, child_wait kills and reaps at once. */
	r = child_wait(pid, pidfd, deadline, &status);
	if (r == -ETIME)
		return timed_out(p);
	if (r < 0) {
		log_err("sandbox: waiting for %s: %s", p->cmdline,
			strerror(-r));
		return r;
	}
	return child_exit_code(status);
}

/*
 * Fork into a new PID namespace: when the step's first process ends (or
 * is killed), the kernel kills everything left in the namespace, even a
 * job that escaped our process group with setsid().  clone3 returns the
 * child's pid like fork; where it is missing (before Linux 5.3, or
 * filtered), the classic clone(2) takes CLONE_NEWPID as well (since
 * 2.6.24).  No namespace, no run: the sandbox fails closed.
 */
static pid_t fork_newpid(void)
{
	/* The kernel's struct clone_args, version 0 (64 bytes); glibc has
	 * no wrapper and <linux/sched.h> clashes with <sched.h>. */
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
		uint64_t stack, stack_size, tls;
	} ca = {.flags = CLONE_NEWPID, .exit_signal = SIGCHLD};
	long r = -1;

	if (!OLD_KERNEL) {
		r = syscall(SYS_clone3, &ca, sizeof(ca));
		if (r >= 0 || (errno != ENOSYS && errno != EPERM))
			return (pid_t)r;
	}
	/* Like fork(): no new stack, the child returns 0 on a copy of ours. */
	return (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL,
			      NULL, NULL);
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
		  p.build_canon ? p.build_canon : "none");
	deadline = child_deadline(o->timeout_ms);
	fflush(NULL);
	pid = fork_newpid();
	if (pid < 0) {
		r = -errno;
		log_err("sandbox: cannot fork into a new PID namespace: %s",
			strerror(-r));
		return r;
	}
	if (pid == 0)
		child_main(&p);
	closep(&p.status_wr);
	p.status_wr = -1;
	/* The child makes itself a session (and group) leader: setpgid
	 * here would race with its setsid. */
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
			unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC) ==
				0 &&
			mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;

		_exit(ok ? 0 : 1);
	}
	if (child_reap(pid, &status) < 0)
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

/*
 * Walks by fd, never by path, so that a symlink swapped in by a process
 * of the sandbox user cannot redirect the chown; no depth limit, so that
 * a build cannot keep part of its tree out of reach by nesting it.
 */
static int chown_one(const struct walk_entry *e, void *userdata)
{
	(void)userdata;
	switch (e->event) {
	case WALK_OTHER_FS:
		/* Another file system mounted in the build dir is not ours. */
		return 0;
	case WALK_DIR_POST:
		return 0;
	case WALK_DIR_PRE:
		if (e->depth == 0) {
			if (fchown(e->fd, SANDBOX_UID, SANDBOX_GID) < 0)
				goto fail;
			return 0;
		}
		break;
	case WALK_FILE:
		if (e->depth == 0) {
			/* The top is opened O_NOFOLLOW: a link there is
			 * refused. */
			errno = S_ISLNK(e->st->st_mode) ? ELOOP : ENOTDIR;
			goto fail;
		}
		break;
	}
	if (fchownat(e->dirfd, e->name, SANDBOX_UID, SANDBOX_GID,
		     AT_SYMLINK_NOFOLLOW) < 0)
		goto fail;
	return 0;
fail:
	log_err("sandbox: cannot chown %s: %s", e->path, strerror(errno));
	return -errno;
}

int sandbox_chown_tree(const char *host_dir)
{
	return walk_tree(AT_FDCWD, host_dir, WALK_SAME_FS, chown_one, NULL);
}
