// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one directory walker (see walk.h).  The stack of directories being
 * walked lives on the heap; each holds its entries' names, read in one go
 * when the directory is entered, so that a callback may remove or add
 * entries without upsetting readdir.
 */
#include <fcntl.h>

#include "lib/buffer.h"
#include "lib/log.h"
#include "lib/walk.h"

/* Ancestors kept open; deeper ones are reopened through "..". */
#define WALK_KEEP_FDS 16

struct frame {
	int fd; /* -1 while closed (a deep ancestor) */
	struct stat st;
	struct buffer names; /* NUL-separated */
	size_t next;	     /* offset of the next name */
	size_t path_len;     /* length of this directory's path */
	size_t name_off;     /* where its name starts in the path */
};

struct walker {
	int top_dirfd;
	const char *top;
	unsigned flags;
	walk_fn fn;
	void *userdata;
	dev_t dev;
	struct buffer stack; /* struct frame[] */
	struct buffer path;
};

static struct frame *frame_at(struct walker *w, size_t i)
{
	return (struct frame *)w->stack.data + i;
}

static size_t depth_of(const struct walker *w)
{
	return w->stack.len / sizeof(struct frame);
}

static int walk_failed(const struct walker *w, const char *what, int r)
{
	log_err("cannot %s %s: %s", what, w->path.data, strerror(-r));
	return r;
}

static int read_names(struct walker *w, struct frame *f)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	int fd, r;

	/* fdopendir() takes its descriptor: give it a second one. */
	fd = openat(f->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return walk_failed(w, "open", -errno);
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return walk_failed(w, "read", r);
	}
	while ((errno = 0, de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		r = buffer_append(&f->names, de->d_name,
				  strlen(de->d_name) + 1);
		if (r < 0)
			return r;
	}
	return errno ? walk_failed(w, "read", -errno) : 0;
}

/* Enter a directory: fd is its descriptor, the path is already its own. */
static int push(struct walker *w, int fd, const struct stat *st,
		size_t name_off)
{
	size_t depth = depth_of(w);
	struct frame *f;
	int r = buffer_reserve(&w->stack, sizeof(*f));

	if (r < 0) {
		close(fd);
		return r;
	}
	f = frame_at(w, depth);
	*f = (struct frame){.fd = fd,
			    .st = *st,
			    .path_len = w->path.len,
			    .name_off = name_off};
	buffer_advance(&w->stack, sizeof(*f));
	/* Bound the descriptors held, whatever the depth. */
	if (depth >= WALK_KEEP_FDS) {
		struct frame *old = frame_at(w, depth - WALK_KEEP_FDS);

		if (old->fd >= 0)
			close(TAKE_FD(old->fd));
	}
	return read_names(w, f);
}

/* Reopen a closed parent through "..": it must be the one we left. */
static int reopen_parent(struct walker *w, struct frame *parent,
			 const struct frame *child)
{
	struct stat st;
	int fd = openat(child->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return walk_failed(w, "reopen the parent of", -errno);
	if (fstat(fd, &st) < 0 || st.st_dev != parent->st.st_dev ||
	    st.st_ino != parent->st.st_ino) {
		close(fd);
		/* The tree was moved while we walked it. */
		return walk_failed(w, "find the parent again of", -ESTALE);
	}
	parent->fd = fd;
	return 0;
}

static int call(struct walker *w, enum walk_event ev, int dirfd,
		size_t name_off, const struct stat *st, int fd, size_t depth)
{
	struct walk_entry e = {
		.event = ev,
		.dirfd = dirfd,
		.name = depth ? w->path.data + name_off : w->top,
		.path = w->path.data,
		.st = st,
		.fd = fd,
		.depth = depth,
	};

	return w->fn(&e, w->userdata);
}

/* Leave the innermost directory: WALK_DIR_POST, then close it. */
static int pop(struct walker *w)
{
	size_t depth = depth_of(w) - 1;
	struct frame *f = frame_at(w, depth), *parent = NULL;
	int r = 0, dirfd = w->top_dirfd;

	buffer_truncate(&w->path, f->path_len);
	if (depth > 0) {
		parent = frame_at(w, depth - 1);
		if (parent->fd < 0)
			r = reopen_parent(w, parent, f);
		dirfd = parent->fd;
	}
	if (r == 0)
		r = call(w, WALK_DIR_POST, dirfd, f->name_off, &f->st, f->fd,
			 depth);
	close(f->fd);
	buffer_free(&f->names);
	w->stack.len -= sizeof(*f);
	return r;
}

static bool other_fs(const struct walker *w, const struct stat *st)
{
	return (w->flags & WALK_SAME_FS) && st->st_dev != w->dev;
}

/* One entry of the innermost directory. */
static int visit(struct walker *w, const char *name)
{
	size_t depth = depth_of(w);
	struct frame *f = frame_at(w, depth - 1);
	int dirfd = f->fd, fd, r;
	size_t name_off;
	struct stat st;

	buffer_truncate(&w->path, f->path_len);
	r = w->path.len && w->path.data[w->path.len - 1] == '/'
		    ? 0
		    : buffer_append_str(&w->path, "/");
	name_off = w->path.len;
	if (r == 0)
		r = buffer_append_str(&w->path, name);
	if (r < 0)
		return r;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : walk_failed(w, "stat", -errno);
	if (!S_ISDIR(st.st_mode))
		return call(w, other_fs(w, &st) ? WALK_OTHER_FS : WALK_FILE,
			    dirfd, name_off, &st, -1, depth);
	fd = openat(dirfd, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : walk_failed(w, "open", -errno);
	/* What we opened, not what we stat'ed, is what is walked. */
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return walk_failed(w, "stat", r);
	}
	if (other_fs(w, &st)) {
		close(fd);
		return call(w, WALK_OTHER_FS, dirfd, name_off, &st, -1, depth);
	}
	r = call(w, WALK_DIR_PRE, dirfd, name_off, &st, fd, depth);
	if (r != 0) {
		close(fd);
		return r == WALK_SKIP ? 0 : r;
	}
	return push(w, fd, &st, name_off);
}

static int walk_top(struct walker *w)
{
	bool follow = w->flags & WALK_FOLLOW_TOP;
	struct stat st;
	int fd, r;

	if (fstatat(w->top_dirfd, w->top, &st,
		    follow ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? -ENOENT
				       : walk_failed(w, "stat", -errno);
	w->dev = st.st_dev;
	if (!S_ISDIR(st.st_mode))
		return call(w, WALK_FILE, w->top_dirfd, 0, &st, -1, 0);
	fd = openat(w->top_dirfd, w->top,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC |
			    (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return walk_failed(w, "open", -errno);
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return walk_failed(w, "stat", r);
	}
	w->dev = st.st_dev;
	r = call(w, WALK_DIR_PRE, w->top_dirfd, 0, &st, fd, 0);
	if (r != 0) {
		close(fd);
		return r == WALK_SKIP ? 0 : r;
	}
	return push(w, fd, &st, 0);
}

int walk_tree(int dirfd, const char *path, unsigned flags, walk_fn fn,
	      void *userdata)
{
	struct walker w = {
		.top_dirfd = dirfd,
		.top = path,
		.flags = flags,
		.fn = fn,
		.userdata = userdata,
	};
	int r = buffer_append_str(&w.path, path);

	if (r == 0)
		r = walk_top(&w);
	while (r == 0 && w.stack.len) {
		struct frame *f = frame_at(&w, depth_of(&w) - 1);

		if (f->next < f->names.len) {
			const char *name = f->names.data + f->next;

			f->next += strlen(name) + 1;
			r = visit(&w, name);
		} else {
			r = pop(&w);
		}
	}
	/* Stopped early: close what is still open. */
	for (size_t i = 0; i < depth_of(&w); i++) {
		struct frame *f = frame_at(&w, i);

		if (f->fd >= 0)
			close(f->fd);
		buffer_free(&f->names);
	}
	buffer_free(&w.stack);
	buffer_free(&w.path);
	return r;
}
