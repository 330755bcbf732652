// SPDX-License-Identifier: GPL-2.0-or-later
/* File tree helpers for the build engine: copy, remove, atomic replace. */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <linux/openat2.h>

#include "lib/buffer.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/walk.h"

/* What copy_file_atomic() copies: logs, configs, modules. */
#define COPY_MAX (1ULL << 30)

static int copy_fd(int in, int out, unsigned long long *budget)
{
	char buf[65536];

	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf)), w, off = 0;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;
		if ((unsigned long long)r > *budget)
			return -EFBIG;
		*budget -= (unsigned long long)r;
		while (off < r) {
			w = write(out, buf + off, (size_t)(r - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			off += w;
		}
	}
}

static int copy_reg(const struct walk_entry *e, int dst_dirfd,
		    unsigned long long *budget)
{
	_cleanup_(closep) int in =
		openat(e->dirfd, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_(closep) int out = -1;
	struct timespec ts[2] = {e->st->st_atim, e->st->st_mtim};
	int r;

	if (in < 0)
		return -errno;
	out = openat(dst_dirfd, e->name,
		     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		     e->st->st_mode & 07777);
	if (out < 0)
		return -errno;
	r = copy_fd(in, out, budget);
	if (r == 0 && fchmod(out, e->st->st_mode & 07777) < 0)
		r = -errno;
	if (r == 0 && futimens(out, ts) < 0)
		r = -errno;
	return r;
}

static int copy_link(const struct walk_entry *e, int dst_dirfd)
{
	_cleanup_(freep) char *target = NULL;
	size_t size = (size_t)e->st->st_size + 1;
	ssize_t n;

	/* A link's size may lie (procfs) or change: one byte to spare
	 * proves the whole target was read. */
	if (size < 2 || size > 65536)
		size = 4096;
	target = malloc(size);
	if (!target)
		return -ENOMEM;
	n = readlinkat(e->dirfd, e->name, target, size);
	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	target[n] = '\0';
	return symlinkat(target, dst_dirfd, e->name) < 0 ? -errno : 0;
}

/*
 * The destination is walked in step with the source, by one descriptor:
 * the directory the source walk is in.  Going back up is through "..",
 * checked against the identities of the directories made, so the copy
 * holds two descriptors at most however deep the tree.
 */
struct copy {
	const char *dst;
	int dfd;
	struct buffer made; /* struct stat[] of the directories made */
	unsigned long long budget;
};

static int copy_enter(struct copy *cp, const struct walk_entry *e)
{
	struct stat st;
	int fd, r;

	if (e->depth == 0) {
		if (mkdir(cp->dst, 0700) < 0)
			return -errno;
		fd = open(cp->dst,
			  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	} else {
		if (mkdirat(cp->dfd, e->name, 0700) < 0)
			return -errno;
		fd = openat(cp->dfd, e->name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno
			       : buffer_append(&cp->made, &st, sizeof(st));
	if (r < 0) {
		close(fd);
		return r;
	}
	if (cp->dfd >= 0)
		close(cp->dfd);
	cp->dfd = fd;
	return 0;
}

static int copy_leave(struct copy *cp, const struct walk_entry *e)
{
	struct timespec ts[2] = {e->st->st_atim, e->st->st_mtim};
	const struct stat *parent;
	struct stat st;
	int fd;

	/* Last, so that the copies inside did not change the times. */
	if (fchmod(cp->dfd, e->st->st_mode & 07777) < 0 ||
	    futimens(cp->dfd, ts) < 0)
		return -errno;
	cp->made.len -= sizeof(struct stat);
	if (e->depth == 0)
		return 0;
	parent = (const struct stat *)(cp->made.data + cp->made.len) - 1;
	fd = openat(cp->dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_dev != parent->st_dev ||
	    st.st_ino != parent->st_ino) {
		close(fd);
		return -ESTALE; /* the copy was moved under us */
	}
	close(cp->dfd);
	cp->dfd = fd;
	return 0;
}

static int copy_one(const struct walk_entry *e, void *userdata)
{
	struct copy *cp = userdata;

	switch (e->event) {
	case WALK_DIR_PRE:
		return copy_enter(cp, e);
	case WALK_DIR_POST:
		return copy_leave(cp, e);
	case WALK_FILE:
		if (e->depth == 0)
			return -ENOTDIR;
		if (S_ISREG(e->st->st_mode))
			return copy_reg(e, cp->dfd, &cp->budget);
		if (S_ISLNK(e->st->st_mode))
			return copy_link(e, cp->dfd);
		break;
	case WALK_OTHER_FS:
		break;
	}
	log_err("%s: not a file, directory or link; refused", e->path);
	return -EPERM;
}

int copy_tree(const char *src, const char *dst, unsigned long long max_bytes)
{
	struct copy cp = {.dst = dst, .dfd = -1, .budget = max_bytes};
	int r;

	/* The top may be a link (dkms's source -> /usr/src/m-v). */
	r = walk_tree(AT_FDCWD, src, WALK_FOLLOW_TOP, copy_one, &cp);
	if (cp.dfd >= 0)
		close(cp.dfd);
	buffer_free(&cp.made);
	return r;
}

static int remove_one(const struct walk_entry *e, void *userdata)
{
	int r = 0;

	switch (e->event) {
	case WALK_DIR_PRE:
		return 0;
	case WALK_OTHER_FS:
		return -EXDEV; /* a mount point: never cross it */
	case WALK_FILE:
		r = unlinkat(e->dirfd, e->name, 0);
		break;
	case WALK_DIR_POST:
		r = unlinkat(e->dirfd, e->name, AT_REMOVEDIR);
		break;
	}
	return r < 0 && errno != ENOENT ? -errno : 0;
}

int remove_tree(const char *path)
{
	int r = walk_tree(AT_FDCWD, path, WALK_SAME_FS, remove_one, NULL);

	return r == -ENOENT ? 0 : r;
}

int fsync_path(const char *path)
{
	_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int make_dirs_durable(const char *path, mode_t mode)
{
	_cleanup_(freep) char *p = strdup(path);
	char *s;
	int r;

	if (!p)
		return -ENOMEM;
	for (s = p + 1;; s++) {
		bool last = *s == '\0';

		if (*s != '/' && !last)
			continue;
		*s = '\0';
		if (mkdir(p, mode) == 0) {
			/* A new directory exists once its parent says so. */
			r = fsync_parent_dir(p);
			if (r < 0)
				return r;
		} else if (errno != EEXIST) {
			return -errno;
		}
		if (last)
			return 0;
		*s = '/';
	}
}

int copy_file_atomic_mode(const char *src, const char *dst, mode_t mode)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_file(src, COPY_MAX, &buf, &len);
	if (r < 0)
		return r;
	return write_file_atomic(dst, buf, len, mode);
}

int copy_file_atomic(const char *src, const char *dst)
{
	struct stat st;

	if (stat(src, &st) < 0)
		return -errno;
	return copy_file_atomic_mode(src, dst, st.st_mode & 0777);
}

int rename_durable(const char *from, const char *to)
{
	int r;

	if (rename(from, to) < 0)
		return -errno;
	r = fsync_parent_dir(to);
	if (r == 0)
		r = fsync_parent_dir(from);
	return r;
}

int move_file_durable(const char *from, const char *to)
{
	int r = rename_durable(from, to);

	if (r != -EXDEV)
		return r;
	/* Another file system: the copy is complete and durable before the
	 * source goes, so a crash leaves at least one whole file. */
	r = copy_file_atomic(from, to);
	if (r < 0)
		return r;
	if (unlink(from) < 0)
		return -errno;
	return fsync_parent_dir(from);
}

int symlink_atomic(const char *target, const char *linkpath)
{
	_cleanup_(freep) char *tmp =
		xasprintf("%s.dkms-boot-tmp.%d", linkpath, getpid());

	if (!tmp)
		return -ENOMEM;
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return -errno;
	if (rename(tmp, linkpath) < 0) {
		int r = -errno;

		unlink(tmp);
		return r;
	}
	return fsync_parent_dir(linkpath);
}

int unlink_durable(const char *path)
{
	if (unlink(path) < 0)
		return -errno;
	return fsync_parent_dir(path);
}

/* The test build can take the fallback on a kernel that has openat2. */
static bool use_openat2(void)
{
#ifdef DKMS_BOOT_TEST_BUILD
	if (getenv("DKMS_BOOT_TEST_NO_OPENAT2"))
		return false;
#endif
	return true;
}

/* Without openat2 (before Linux 5.6): one component at a time, none of
 * them a link, never "..". */
static int open_beneath_walk(int dirfd, const char *rel, int flags)
{
	_cleanup_(freep) char *copy = strdup(rel);
	_cleanup_(closep) int cur = -1;
	char *save = NULL, *comp, *next;
	struct stat st;
	int fd;

	if (!copy)
		return -ENOMEM;
	cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return -errno;
	comp = strtok_r(copy, "/", &save);
	while (comp) {
		next = strtok_r(NULL, "/", &save);
		if (streq(comp, ".")) {
			comp = next;
			continue;
		}
		if (streq(comp, ".."))
			return -EXDEV;
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		fd = openat(cur, comp,
			    next ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC
				 : flags | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		close(cur);
		cur = fd;
		comp = next;
	}
	return TAKE_FD(cur);
}

int open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (use_openat2()) {
		fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS)
			return -errno;
	}
	return open_beneath_walk(dirfd, rel, flags);
}

const char *open_beneath_strerror(int r)
{
	switch (r) {
	case -ELOOP:
		return "it is, or passes through, a symbolic link";
	case -EXDEV:
		return "it leads out of the build directory";
	default:
		return strerror(-r);
	}
}

bool on_tmpfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}
