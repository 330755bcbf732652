// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * LD_PRELOAD shim for the dynamic test build: module insertion and
 * removal without CAP_SYS_MODULE, in the manner of kmod's testsuite.
 * finit_module, init_module and delete_module (whether called through
 * glibc or syscall(2), as libkmod does) act on a fake /sys/module tree
 * instead of the kernel:
 *
 *   DKB_SHIM_SYS     the fake /sys/module directory (required)
 *   DKB_SHIM_LOG     file that gets one line per call ("insert NAME",
 *                    "remove NAME", "refuse NAME ERRNO")
 *   DKB_SHIM_REJECT  "name:errno,..." modules the fake kernel refuses
 *                    (EKEYREJECTED for a bad signature, ENOENT for an
 *                    unknown symbol, ...)
 *
 * A loaded module is a directory NAME with initstate, refcnt, version,
 * srcversion (when the module has them), depends and holders/.  Loading
 * needs every module in depends= loaded first, as the kernel needs the
 * symbols; each dependency's refcnt counts its users.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void shim_log(const char *what, const char *name, int err)
{
	const char *path = getenv("DKB_SHIM_LOG");
	FILE *f = path ? fopen(path, "ae") : NULL;

	if (!f)
		return;
	if (err)
		fprintf(f, "%s %s %d\n", what, name, err);
	else
		fprintf(f, "%s %s\n", what, name);
	fclose(f);
}

/* The value of "key=" in a module's .modinfo strings, or "". */
static void modinfo_value(const char *img, size_t len, const char *key,
			  char *out, size_t outlen)
{
	size_t kl = strlen(key);

	out[0] = '\0';
	for (size_t i = 0; i + kl < len; i++) {
		if ((i == 0 || img[i - 1] == '\0') &&
		    !memcmp(img + i, key, kl) && img[i + kl] == '=') {
			snprintf(out, outlen, "%.*s",
				 (int)strnlen(img + i + kl + 1,
					      len - i - kl - 1),
				 img + i + kl + 1);
			return;
		}
	}
}

static int write_str(const char *dir, const char *name, const char *value)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f, "%s\n", value);
	return fclose(f);
}

static long read_long(const char *dir, const char *name)
{
	char path[4096];
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int rejected(const char *name)
{
	const char *r = getenv("DKB_SHIM_REJECT");
	size_t nl = strlen(name);

	while (r && *r) {
		const char *colon = strchr(r, ':');

		if (!colon)
			break;
		if ((size_t)(colon - r) == nl && !strncmp(r, name, nl))
			return atoi(colon + 1);
		r = strchr(colon, ',');
		r = r ? r + 1 : NULL;
	}
	return 0;
}

/* Add delta to the refcnt of every module in a comma-separated list. */
static void adjust_users(const char *sys, const char *deps, const char *user,
			 int delta)
{
	char buf[1024], dir[4096], path[4096], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", deps);
	for (char *d = strtok_r(buf, ",", &save); d;
	     d = strtok_r(NULL, ",", &save)) {
		char n[32];

		snprintf(dir, sizeof(dir), "%s/%s", sys, d);
		snprintf(n, sizeof(n), "%ld", read_long(dir, "refcnt") + delta);
		write_str(dir, "refcnt", n);
		snprintf(path, sizeof(path), "%s/holders/%s", dir, user);
		if (delta > 0)
			close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
		else
			unlink(path);
	}
}

static int fake_load(const char *img, size_t len)
{
	const char *sys = getenv("DKB_SHIM_SYS");
	char name[64], deps[1024], v[256], dir[4096], sub[4096];
	int err;

	if (!sys) {
		errno = EPERM;
		return -1;
	}
	modinfo_value(img, len, "name", name, sizeof(name));
	if (!name[0] || len < 4 || memcmp(img, "\177ELF", 4)) {
		errno = ENOEXEC;
		return -1;
	}
	err = rejected(name);
	snprintf(dir, sizeof(dir), "%s/%s", sys, name);
	if (!err && access(dir, F_OK) == 0)
		err = EEXIST;
	modinfo_value(img, len, "depends", deps, sizeof(deps));
	if (!err && deps[0]) {
		char buf[1024], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", deps);
		for (char *d = strtok_r(buf, ",", &save); d && !err;
		     d = strtok_r(NULL, ",", &save)) {
			snprintf(sub, sizeof(sub), "%s/%s", sys, d);
			if (access(sub, F_OK) != 0)
				err = ENOENT; /* "Unknown symbol in module" */
		}
	}
	if (err) {
		shim_log("refuse", name, err);
		errno = err;
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/holders", dir);
	if (mkdir(dir, 0755) < 0 || mkdir(sub, 0755) < 0)
		return -1;
	write_str(dir, "initstate", "live");
	write_str(dir, "refcnt", "0");
	write_str(dir, "depends", deps);
	modinfo_value(img, len, "version", v, sizeof(v));
	if (v[0])
		write_str(dir, "version", v);
	modinfo_value(img, len, "srcversion", v, sizeof(v));
	if (v[0])
		write_str(dir, "srcversion", v);
	adjust_users(sys, deps, name, +1);
	shim_log("insert", name, 0);
	return 0;
}

static int fake_finit(int fd)
{
	struct stat st;
	char *img;
	ssize_t n;
	int r;

	if (fstat(fd, &st) < 0)
		return -1;
	img = malloc((size_t)st.st_size + 1);
	if (!img)
		return -1;
	n = pread(fd, img, (size_t)st.st_size, 0);
	r = n == st.st_size ? fake_load(img, (size_t)n) : (errno = EIO, -1);
	free(img);
	return r;
}

static void remove_dir(const char *dir)
{
	char sub[4096];
	DIR *d;
	struct dirent *e;

	snprintf(sub, sizeof(sub), "%s/holders", dir);
	d = opendir(sub);
	while (d && (e = readdir(d))) {
		char p[8192];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", sub, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(sub);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		char p[8192];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int fake_delete(const char *name)
{
	const char *sys = getenv("DKB_SHIM_SYS");
	char dir[4096], deps[1024] = "", path[4096];
	FILE *f;

	if (!sys) {
		errno = EPERM;
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s/%s", sys, name);
	if (access(dir, F_OK) != 0) {
		errno = ENOENT;
		return -1;
	}
	if (read_long(dir, "refcnt") != 0) {
		shim_log("busy", name, EWOULDBLOCK);
		errno = EWOULDBLOCK;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/depends", dir);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(deps, sizeof(deps), f))
			deps[0] = '\0';
		deps[strcspn(deps, "\n")] = '\0';
		fclose(f);
	}
	remove_dir(dir);
	adjust_users(sys, deps, name, -1);
	shim_log("remove", name, 0);
	return 0;
}

int init_module(void *image, unsigned long len, const char *params);
int init_module(void *image, unsigned long len, const char *params)
{
	return fake_load(image, len);
}

int finit_module(int fd, const char *params, int flags);
int finit_module(int fd, const char *params, int flags)
{
	return fake_finit(fd);
}

int delete_module(const char *name, unsigned int flags);
int delete_module(const char *name, unsigned int flags)
{
	return fake_delete(name);
}

long syscall(long number, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (number) {
	case SYS_init_module:
		return fake_load((void *)a[0], (size_t)a[1]);
	case SYS_finit_module:
		return fake_finit((int)a[0]);
	case SYS_delete_module:
		return fake_delete((const char *)a[0]);
	default: {
		/* Everything else goes to glibc's own syscall(). */
		static long (*real)(long, ...);

		if (!real)
			real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
		return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	}
}
