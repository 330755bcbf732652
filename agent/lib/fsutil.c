// SPDX-License-Identifier: GPL-2.0-or-later
/* File tree helpers for the build engine: copy, remove, atomic replace. */
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <linux/openat2.h>

#include "lib/fsutil.h"
#include "lib/log.h"

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

static int copy_reg(const char *src, const char *dst, const struct stat *st,
		    unsigned long long *budget)
{
	_cleanup_(closep) int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_(closep) int out = -1;
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	int r;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		   st->st_mode & 07777);
	if (out < 0)
		return -errno;
	r = copy_fd(in, out, budget);
	if (r == 0 && fchmod(out, st->st_mode & 07777) < 0)
		r = -errno;
	if (r == 0 && futimens(out, ts) < 0)
		r = -errno;
	return r;
}

static int copy_entry(const char *src, const char *dst,
		      unsigned long long *budget, unsigned depth);

static int copy_dir(const char *src, const char *dst, const struct stat *st,
		    unsigned long long *budget, unsigned depth)
{
	_cleanup_(closedirp) DIR *d = opendir(src);
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	if (mkdir(dst, 0700) < 0)
		return -errno;
	while (r == 0 && (e = readdir(d))) {
		_cleanup_(freep) char *s = NULL, *t = NULL;

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		s = path_join(src, e->d_name);
		t = path_join(dst, e->d_name);
		r = s && t ? copy_entry(s, t, budget, depth + 1) : -ENOMEM;
	}
	if (r == 0 && chmod(dst, st->st_mode & 07777) < 0)
		r = -errno;
	if (r == 0 && utimensat(AT_FDCWD, dst, ts, 0) < 0)
		r = -errno;
	return r;
}

static int copy_entry(const char *src, const char *dst,
		      unsigned long long *budget, unsigned depth)
{
	struct stat st;
	char target[4096];
	ssize_t n;

	if (depth > 64)
		return -ELOOP;
	if (lstat(src, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return copy_dir(src, dst, &st, budget, depth);
	if (S_ISREG(st.st_mode))
		return copy_reg(src, dst, &st, budget);
	if (S_ISLNK(st.st_mode)) {
		n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		return symlink(target, dst) < 0 ? -errno : 0;
	}
	log_err("%s: not a file, directory or link; refused", src);
	return -EPERM;
}

int copy_tree(const char *src, const char *dst, unsigned long long max_bytes)
{
	unsigned long long budget = max_bytes;
	struct stat st;

	/* The top may be a link (dkms's source -> /usr/src/m-v). */
	if (stat(src, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return copy_dir(src, dst, &st, &budget, 0);
}

static int remove_at(int dirfd, const char *name, dev_t dev, unsigned depth)
{
	struct stat st;
	int fd, r = 0;
	DIR *d;
	struct dirent *e;

	if (depth > 128)
		return -ELOOP;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV; /* a mount point: never cross it */
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while (r == 0 && (e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			r = remove_at(fd, e->d_name, dev, depth + 1);
	closedir(d);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

int remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return remove_at(AT_FDCWD, path, st.st_dev, 0);
}

int fsync_path(const char *path)
{
	_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int fsync_parent_dir(const char *path)
{
	_cleanup_(freep) char *dir = strdup(path);
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return fsync_path(dir);
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
