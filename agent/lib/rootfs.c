// SPDX-License-Identifier: GPL-2.0-or-later
/* Resolve paths inside a root directory the way chroot would. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "lib/buffer.h"
#include "lib/rootfs.h"

/*
 * The kernel can do the whole walk in one call: openat2() with
 * RESOLVE_IN_ROOT (Linux 5.6) resolves exactly as chroot would, and the
 * O_PATH descriptor's /proc/self/fd link names the result.  That is
 * 3 system calls instead of one lstat() per component, which matters
 * at boot (--root /sysroot).  Without openat2 or /proc, the walk below
 * does the same in user space.
 */
struct root_fd_cache {
	char *root;  /* as given */
	char *canon; /* realpath of it */
	int fd;
};

static struct root_fd_cache rfc = {.fd = -1};

static int root_fd(const char *root)
{
	if (rfc.fd >= 0 && streq(rfc.root, root))
		return rfc.fd;
	if (rfc.fd >= 0)
		close(rfc.fd);
	free(rfc.root);
	free(rfc.canon);
	rfc = (struct root_fd_cache){.fd = -1};
	rfc.root = strdup(root);
	rfc.canon = realpath(root, NULL);
	if (!rfc.root || !rfc.canon)
		return -ENOMEM;
	rfc.fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return rfc.fd >= 0 ? rfc.fd : -errno;
}

/* Canonical in-root path via openat2; -ENOSYS etc. mean "walk instead". */
static int canon_fast(const char *root, const char *path, unsigned flags,
		      char **canon)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC |
			 ((flags & ROOT_NOFOLLOW) ? O_NOFOLLOW : 0),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char proc[64], host[PATH_MAX];
	int rfd = root_fd(root), fd;
	ssize_t n;
	size_t rl;

	if (rfd < 0)
		return rfd;
	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, rfd, *path ? path : ".", &how,
			  sizeof(how));
	if (fd < 0)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, host, sizeof(host) - 1);
	close(fd);
	if (n < 0)
		return -ENOSYS;
	host[n] = '\0';
	rl = strlen(rfc.canon);
	if (streq(rfc.canon, "/"))
		rl = 0;
	if (strncmp(host, rfc.canon, rl) != 0 || (host[rl] && host[rl] != '/'))
		return -ENOSYS; /* moved under us: let the walk decide */
	*canon = strdup(host[rl] ? host + rl : "/");
	return *canon ? 0 : -ENOMEM;
}

bool root_is_slash(const char *root)
{
	return !root || !root[0] || streq(root, "/");
}

/*
 * The canonical in-root prefix is built in a struct buffer whose max is
 * PATH_MAX - 1: a longer path is -ENAMETOOLONG, as the kernel says.
 */
static int pbuf_push(struct buffer *b, const char *name, size_t n)
{
	int r = buffer_reserve(b, n + 1);

	if (r == 0)
		r = buffer_append(b, "/", 1);
	if (r == 0)
		r = buffer_append(b, name, n);
	return r == -EFBIG ? -ENAMETOOLONG : r;
}

static void pbuf_pop(struct buffer *b)
{
	size_t len = b->len;

	while (len > 0 && b->data[len - 1] != '/')
		len--;
	buffer_truncate(b, len > 0 ? len - 1 : 0);
}

/* Host path of the canonical prefix in b (root + prefix). */
static char *pbuf_host(const char *root, const struct buffer *b)
{
	return xasprintf("%s%s", root_is_slash(root) ? "" : root,
			 b->len ? b->data : "/");
}

/*
 * Past a missing component nothing can be a symlink: take the rest
 * lexically, as `realpath -m` does.
 */
static int append_missing(struct buffer *b, const char *rest)
{
	while (*rest) {
		size_t n;

		while (*rest == '/')
			rest++;
		n = strcspn(rest, "/");
		if (n == 2 && rest[0] == '.' && rest[1] == '.')
			pbuf_pop(b);
		else if (n > 0 && !(n == 1 && rest[0] == '.')) {
			int r = pbuf_push(b, rest, n);

			if (r < 0)
				return r;
		}
		rest += n;
	}
	return 0;
}

/*
 * The remaining path to walk.  A symlink's target is spliced in front of
 * what is left, so "rest" is rebuilt as target + "/" + rest.
 */
static int splice_link(char **rest, const char *target, const char *after)
{
	char *n = xasprintf("%s/%s", target, after);

	if (!n)
		return -ENOMEM;
	free(*rest);
	*rest = n;
	return 0;
}

static int step_link(const char *root, struct buffer *b, char **rest,
		     const char *after, unsigned *links)
{
	_cleanup_(freep) char *host = pbuf_host(root, b);
	char target[PATH_MAX];
	ssize_t n;

	if (!host)
		return -ENOMEM;
	if (++*links > ROOT_MAX_SYMLINKS)
		return -ELOOP;
	n = readlink(host, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	pbuf_pop(b);
	if (target[0] == '/')
		b->len = 0;
	return splice_link(rest, target, after);
}

int root_canon(const char *root, const char *path, unsigned flags, char **canon)
{
	int fr = canon_fast(root, path, flags, canon);

	/* Only a definite answer is final; a missing path may still be
	 * wanted (ROOT_ALLOW_MISSING), and loops get the walk's -ELOOP. */
	if (fr == 0 || fr == -ENOTDIR ||
	    (fr == -ENOENT && !(flags & ROOT_ALLOW_MISSING)))
		return fr;
	return root_canon_walk(root, path, flags, canon);
}

int root_canon_walk(const char *root, const char *path, unsigned flags,
		    char **canon)
{
	struct buffer b = {.max = PATH_MAX - 1};
	_cleanup_(freep) char *rest = strdup(path);
	unsigned links = 0;
	size_t pos = 0;
	int r = 0;

	if (!rest)
		return -ENOMEM;
	for (;;) {
		const char *p = rest + pos, *name;
		size_t n;
		struct stat st;
		_cleanup_(freep) char *host = NULL;
		bool last, slash;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		n = strcspn(p, "/");
		p += n;
		/* "link/" names the target, even with ROOT_NOFOLLOW (lstat
		 * and the kernel agree). */
		slash = *p == '/';
		while (*p == '/')
			p++;
		last = !*p;
		pos = (size_t)(p - rest);
		if (n == 1 && name[0] == '.')
			continue;
		if (n == 2 && name[0] == '.' && name[1] == '.') {
			pbuf_pop(&b);
			continue;
		}
		r = pbuf_push(&b, name, n);
		if (r < 0)
			break;
		host = pbuf_host(root, &b);
		if (!host) {
			r = -ENOMEM;
			break;
		}
		if (lstat(host, &st) < 0) {
			r = -errno;
			if (r == -ENOENT && (flags & ROOT_ALLOW_MISSING))
				r = append_missing(&b, p);
			break;
		}
		if (S_ISLNK(st.st_mode) &&
		    !(last && !slash && (flags & ROOT_NOFOLLOW))) {
			_cleanup_(freep) char *after = strdup(p);

			if (!after) {
				r = -ENOMEM;
				break;
			}
			r = step_link(root, &b, &rest, after, &links);
			if (r < 0)
				break;
			pos = 0;
			continue;
		}
		/* "file/" is not "file": a trailing slash wants a
		 * directory, as the kernel (and so the openat2 path) says. */
		if ((!last || slash) && !S_ISDIR(st.st_mode)) {
			r = -ENOTDIR;
			break;
		}
	}
	if (r == 0 && b.len == 0)
		r = buffer_append(&b, "/", 1);
	if (r == 0) {
		char *c = buffer_take(&b, NULL);

		if (c)
			*canon = c;
		else
			r = -ENOMEM;
	}
	buffer_free(&b);
	return r;
}

static int root_path_flags(const char *root, const char *path, unsigned flags,
			   char **host)
{
	_cleanup_(freep) char *canon = NULL;
	int r;

	if (root_is_slash(root)) {
		*host = strdup(path);
		return *host ? 0 : -ENOMEM;
	}
	r = root_canon(root, path, flags | ROOT_ALLOW_MISSING, &canon);
	if (r < 0)
		return r;
	*host = xasprintf("%s%s", root, canon);
	return *host ? 0 : -ENOMEM;
}

int root_path(const char *root, const char *path, char **host)
{
	return root_path_flags(root, path, 0, host);
}

int root_path_nofollow(const char *root, const char *path, char **host)
{
	return root_path_flags(root, path, ROOT_NOFOLLOW, host);
}

/* stat through an O_PATH descriptor opened in the root: one walk, no
 * path string round trip.  -ENOSYS: use the path instead. */
static int stat_fast(const char *root, const char *path, bool follow,
		     struct stat *st)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int rfd = root_fd(root), fd, r;

	if (rfd < 0)
		return -ENOSYS;
	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, rfd, *path ? path : ".", &how,
			  sizeof(how));
	if (fd < 0)
		return errno == ENOSYS || errno == EINVAL || errno == E2BIG
			       ? -ENOSYS
			       : -errno;
	r = fstat(fd, st) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int stat_in_root(const char *root, const char *path, bool follow,
			struct stat *st)
{
	_cleanup_(freep) char *host = NULL;
	int r;

	if (root_is_slash(root))
		return (follow ? stat(path, st) : lstat(path, st)) < 0 ? -errno
								       : 0;
	r = stat_fast(root, path, follow, st);
	if (r != -ENOSYS)
		return r;
	r = follow ? root_path(root, path, &host)
		   : root_path_nofollow(root, path, &host);
	if (r < 0)
		return r;
	return (follow ? stat(host, st) : lstat(host, st)) < 0 ? -errno : 0;
}

int root_stat(const char *root, const char *path, struct stat *st)
{
	return stat_in_root(root, path, true, st);
}

int root_lstat(const char *root, const char *path, struct stat *st)
{
	return stat_in_root(root, path, false, st);
}

bool root_exists(const char *root, const char *path)
{
	struct stat st;

	return root_stat(root, path, &st) == 0;
}

bool root_is_dir(const char *root, const char *path)
{
	struct stat st;

	return root_stat(root, path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool root_is_link(const char *root, const char *path)
{
	struct stat st;

	return root_lstat(root, path, &st) == 0 && S_ISLNK(st.st_mode);
}

int root_read_file(const char *root, const char *path, size_t max, char **buf,
		   size_t *len)
{
	_cleanup_(freep) char *host = NULL;
	int r = root_path(root, path, &host);

	if (r < 0)
		return r;
	return read_file(host, max, buf, len);
}
