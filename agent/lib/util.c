// SPDX-License-Identifier: GPL-2.0-or-later
/* Small helpers shared by every part of the agent. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buffer.h"
#include "lib/util.h"

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_push(char ***v, const char *s)
{
	size_t n = strv_length(*v);
	char **nv;
	char *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[n] = copy;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

static int cmp_coll(const void *a, const void *b)
{
	return strcoll(*(char *const *)a, *(char *const *)b);
}

void strv_sort_glob(char **v)
{
	if (strv_length(v) > 1)
		qsort(v, strv_length(v), sizeof(char *), cmp_coll);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

int strv_pushf(char ***v, const char *fmt, ...)
{
	_cleanup_(freep) char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s ? strv_push(v, s) : -ENOMEM;
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (la == 1 && a[0] == '/')
		return xasprintf("/%s", b);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

int read_fd(int fd, size_t max_size, char **buf, size_t *len)
{
	/* One byte past max_size held proves the file too big. */
	_cleanup_(buffer_freep) struct buffer b = {
		.max = max_size < SIZE_MAX - 2 ? max_size + 1 : SIZE_MAX - 1};
	size_t first = 4096;
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uintmax_t)st.st_size > max_size)
			return -EFBIG;
		first = (size_t)st.st_size + 1; /* + 1: to see the end */
	}
	for (;;) {
		size_t more = b.cap ? b.cap : first;
		ssize_t r;

		if (b.len == b.cap) {
			if (b.len >= b.max)
				return -EFBIG;
			if (more > b.max - b.len)
				more = b.max - b.len;
			r = buffer_reserve(&b, more);
			if (r < 0)
				return (int)r;
		}
		r = read(fd, b.data + b.len, b.cap - b.len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		buffer_advance(&b, (size_t)r);
		if (b.len > max_size)
			return -EFBIG;
	}
	*buf = buffer_take(&b, len);
	return *buf ? 0 : -ENOMEM;
}

int read_file(const char *path, size_t max_size, char **buf, size_t *len)
{
	_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	return read_fd(fd, max_size, buf, len);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int fsync_parent_dir(const char *path)
{
	_cleanup_(freep) char *dir = strdup(path);
	_cleanup_(closep) int fd = -1;
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
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int write_file_atomic(const char *path, const void *data, size_t len,
		      mode_t mode)
{
	_cleanup_(freep) char *tmp = xasprintf("%s.tmp.%d", path, getpid());
	_cleanup_(closep) int fd = -1;
	int r;

	if (!tmp)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && close(TAKE_FD(fd)) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return fsync_parent_dir(path);
}

int make_dirs(const char *path, mode_t mode)
{
	_cleanup_(freep) char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int files_equal(const char *a, const char *b)
{
	_cleanup_(closep) int fa = open(a, O_RDONLY | O_CLOEXEC);
	_cleanup_(closep) int fb = -1;
	struct stat sa, sb;
	char ba[65536], bb[65536];

	if (fa < 0)
		return -errno;
	fb = open(b, O_RDONLY | O_CLOEXEC);
	if (fb < 0)
		return -errno;
	if (fstat(fa, &sa) < 0 || fstat(fb, &sb) < 0)
		return -errno;
	if (sa.st_size != sb.st_size)
		return 0;
	if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
		return 1;
	for (;;) {
		ssize_t ra = read(fa, ba, sizeof(ba));
		ssize_t rb, got = 0;

		if (ra < 0)
			return -errno;
		if (ra == 0)
			return 1;
		while (got < ra) {
			rb = read(fb, bb + got, (size_t)(ra - got));
			if (rb < 0)
				return -errno;
			if (rb == 0)
				return 0;
			got += rb;
		}
		if (memcmp(ba, bb, (size_t)ra) != 0)
			return 0;
	}
}

unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL +
	       (unsigned long long)ts.tv_nsec;
}
