// SPDX-License-Identifier: GPL-2.0-or-later
/* File tree helpers for the build engine: copy, remove, atomic replace. */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>

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

int copy_file_atomic(const char *src, const char *dst)
{
	_cleanup_(freep) char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if (stat(src, &st) < 0)
		return -errno;
	r = read_file(src, COPY_MAX, &buf, &len);
	if (r < 0)
		return r;
	return write_file_atomic(dst, buf, len, st.st_mode & 0777);
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
	return 0;
}

bool on_tmpfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}
