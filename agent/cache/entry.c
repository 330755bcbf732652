// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The module cache's entries and trust (cache.h, docs/cache-format.md):
 * nothing read from the cache is used before its size, compression
 * ratio, sha256 and vermagic have been checked, and on the root file
 * system nothing is read from a file or directory that anyone but root
 * could have written.
 */
#include <fcntl.h>
#include <sha2.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "cache/internal.h"
#include "dkms/registry.h"
#include "lib/fsutil.h"
#include "lib/rootfs.h"
#include "module/compress.h"
#include "module/kabi.h"
#include "module/modinfo.h"

const char *cache_dir(const struct cache_opts *o)
{
	return o->dir ? o->dir : CACHE_DIR;
}

bool cache_safe_component(const char *s)
{
	return s && *s && !streq(s, ".") && !streq(s, "..") &&
	       !strchr(s, '/') && strcspn(s, "\n\r\t") == strlen(s) &&
	       s[0] != '.';
}

/* sudo's rule for files it trusts: root's, and nobody else may write. */
static int trusted(const struct cache_opts *o, int fd, const char *what,
		   bool dir, char *why, size_t wl)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return why_set(why, wl, -errno, "%s: %m", what);
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return why_set(why, wl, -EPERM, "%s: not a %s", what,
			       dir ? "directory" : "regular file");
	if (o->no_trust_check)
		return 0;
	if (st.st_uid != 0)
		return why_set(why, wl, -EPERM,
			       "%s: owned by uid %u, not root; refused", what,
			       (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return why_set(
			why, wl, -EPERM,
			"%s: writable by group or others (mode %03o); refused",
			what, (unsigned)(st.st_mode & 0777));
	return 0;
}

/* Open base, then each component below it, checking each directory. */
static int open_chain(const struct dkb_ctx *c, const struct cache_opts *o,
		      const char *const *parts, size_t n, char *why, size_t wl)
{
	_cleanup_(freep) char *host = NULL;
	_cleanup_(closep) int fd = -1;
	int r = root_path(c->root, cache_dir(o), &host);

	if (r < 0)
		return why_set(why, wl, r, "%s: %s", cache_dir(o),
			       strerror(-r));
	fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return why_set(why, wl, -errno, "%s: %m", cache_dir(o));
	r = trusted(o, fd, cache_dir(o), true, why, wl);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int next;

		if (!cache_safe_component(parts[i]))
			return why_set(why, wl, -EINVAL,
				       "\"%s\": not a safe name", parts[i]);
		next = openat(fd, parts[i],
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return why_set(why, wl, -errno, "%s/.../%s: %m",
				       cache_dir(o), parts[i]);
		close(fd);
		fd = next;
		r = trusted(o, fd, parts[i], true, why, wl);
	}
	return r < 0 ? r : TAKE_FD(fd);
}

void cache_entry_close(struct cache_entry *e)
{
	for (size_t i = 0; e->fds && i < e->m.n_mods; i++)
		if (e->fds[i] >= 0)
			close(e->fds[i]);
	free(e->fds);
	if (e->dirfd >= 0)
		close(e->dirfd);
	free(e->path);
	manifest_free(&e->m);
	*e = (struct cache_entry){.dirfd = -1};
}

static int read_manifest(struct cache_entry *e, const struct cache_opts *o,
			 char *why, size_t wl)
{
	_cleanup_(closep) int fd =
		openat(e->dirfd, "MANIFEST", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_(freep) char *buf = NULL;
	char pwhy[256];
	size_t len = 0;
	int r;

	if (fd < 0)
		return why_set(why, wl, -errno, "%s/MANIFEST: %m", e->path);
	r = trusted(o, fd, "MANIFEST", false, why, wl);
	if (r < 0)
		return r;
	r = read_fd(fd, MANIFEST_MAX_SIZE, &buf, &len);
	if (r < 0)
		return why_set(why, wl, r, "%s/MANIFEST: %s", e->path,
			       strerror(-r));
	r = manifest_parse(buf, len, &e->m, pwhy, sizeof(pwhy));
	if (r < 0)
		return why_set(why, wl, -EBADMSG, "%s/MANIFEST: %s", e->path,
			       pwhy);
	return 0;
}

/* Every module file, opened now and checked against the manifest's
 * size claims before a byte is decompressed. */
static int open_modules(struct cache_entry *e, const struct cache_opts *o,
			char *why, size_t wl)
{
	e->fds = calloc(e->m.n_mods + 1, sizeof(int));
	if (!e->fds)
		return -ENOMEM;
	for (size_t i = 0; i < e->m.n_mods; i++)
		e->fds[i] = -1;
	for (size_t i = 0; i < e->m.n_mods; i++) {
		const struct manifest_module *mm = &e->m.mods[i];
		struct stat st;
		int r;

		e->fds[i] = openat(e->dirfd, mm->file,
				   O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (e->fds[i] < 0)
			return why_set(why, wl, -errno, "%s/%s: %m", e->path,
				       mm->file);
		r = trusted(o, e->fds[i], mm->file, false, why, wl);
		if (r < 0)
			return r;
		if (fstat(e->fds[i], &st) < 0 || st.st_size <= 0)
			return why_set(why, wl, -EBADMSG, "%s/%s: empty",
				       e->path, mm->file);
		if (mm->size > CACHE_MAX_MODULE)
			return why_set(
				why, wl, -EBADMSG,
				"%s/%s: claims %llu bytes, more than the "
				"%llu MiB a module may have",
				e->path, mm->file, mm->size,
				CACHE_MAX_MODULE >> 20);
		if (mm->size / (unsigned long long)st.st_size > CACHE_MAX_RATIO)
			return why_set(
				why, wl, -EBADMSG,
				"%s/%s: %llu bytes from %lld compressed is "
				"a ratio over %u; refused as a "
				"decompression bomb",
				e->path, mm->file, mm->size,
				(long long)st.st_size, CACHE_MAX_RATIO);
	}
	return 0;
}

static int entry_open_once(const struct dkb_ctx *c, const struct cache_opts *o,
			   const char *m, const char *v, const char *k,
			   const char *a, struct cache_entry *e, char *why,
			   size_t wl)
{
	const char *parts[] = {m, v, k, a};
	int r;

	*e = (struct cache_entry){.dirfd = -1};
	e->path = xasprintf("%s/%s/%s/%s/%s", cache_dir(o), m, v, k, a);
	if (!e->path)
		return -ENOMEM;
	r = open_chain(c, o, parts, 4, why, wl);
	if (r < 0)
		return r;
	e->dirfd = r;
	r = read_manifest(e, o, why, wl);
	if (r == 0 && (!streq(e->m.package, m) || !streq(e->m.version, v) ||
		       !streq(e->m.kernel, k) || !streq(e->m.arch, a)))
		r = why_set(
			why, wl, -EBADMSG,
			"%s/MANIFEST describes %s/%s for %s/%s, not what its "
			"place says",
			e->path, e->m.package, e->m.version, e->m.kernel,
			e->m.arch);
	if (r == 0)
		r = open_modules(e, o, why, wl);
	if (r == 0) {
		struct stat st;

		e->has_conf = fstatat(e->dirfd, "dkms.conf", &st,
				      AT_SYMLINK_NOFOLLOW) == 0 &&
			      S_ISREG(st.st_mode);
	}
	return r;
}

/*
 * A concurrent add swaps a new entry into place and then removes the old
 * directory, which may be the one just opened: its files vanish between
 * the MANIFEST and the modules.  That is a replaced entry, not a broken
 * one, so open it again; an entry that really lacks a file fails every
 * time and is reported.
 */
#define OPEN_TRIES 4

int cache_entry_open(const struct dkb_ctx *c, const struct cache_opts *o,
		     const char *m, const char *v, const char *k, const char *a,
		     struct cache_entry *e, char *why, size_t wl)
{
	int r;

	for (int i = 1;; i++) {
		r = entry_open_once(c, o, m, v, k, a, e, why, wl);
		if (r != -ENOENT || e->dirfd < 0 || i == OPEN_TRIES)
			return r;
		cache_entry_close(e);
	}
}

void cache_sha256_hex(const void *buf, size_t len, char out[65])
{
	char hex[SHA256_DIGEST_STRING_LENGTH];

	SHA256Data(buf, len, hex);
	memcpy(out, hex, 65);
}

int cache_entry_module(const struct cache_entry *e, size_t i, char **buf,
		       size_t *len, char *why, size_t wl)
{
	const struct manifest_module *mm = &e->m.mods[i];
	_cleanup_(freep) char *z = NULL, *out = NULL;
	char hex[65];
	size_t zl = 0, ol = 0;
	int r;

	if (lseek(e->fds[i], 0, SEEK_SET) < 0)
		return -errno;
	r = read_fd(e->fds[i], CACHE_MAX_MODULE, &z, &zl);
	if (r < 0)
		return why_set(why, wl, r, "%s/%s: %s", e->path, mm->file,
			       strerror(-r));
	if (compress_detect(z, zl) != COMPRESS_ZST)
		return why_set(why, wl, -EBADMSG, "%s/%s: not a zstd stream",
			       e->path, mm->file);
	r = decompress_buffer(COMPRESS_ZST, z, zl, (size_t)mm->size, &out, &ol);
	if (r == -EFBIG)
		return why_set(
			why, wl, -EBADMSG,
			"%s/%s: decompresses past its declared %llu bytes; "
			"refused",
			e->path, mm->file, mm->size);
	if (r < 0)
		return why_set(why, wl, -EBADMSG,
			       "%s/%s: corrupt zstd data (%s)", e->path,
			       mm->file, strerror(-r));
	if (ol != mm->size)
		return why_set(why, wl, -EBADMSG,
			       "%s/%s: %zu bytes, the manifest says %llu",
			       e->path, mm->file, ol, mm->size);
	cache_sha256_hex(out, ol, hex);
	if (!streq(hex, mm->sha256))
		return why_set(why, wl, -EBADMSG,
			       "%s/%s: sha256 %s, the manifest says %s",
			       e->path, mm->file, hex, mm->sha256);
	*buf = TAKE_PTR(out);
	*len = ol;
	return 0;
}

/* The module's own vermagic must name the kernel the entry is for. */
int cache_check_vermagic(const struct cache_entry *e, size_t i, const void *buf,
			 size_t len, const char *kernel, char *why, size_t wl)
{
	_cleanup_(freep) char *vm = kabi_module_vermagic(buf, len);
	char rel[256];

	if (!vm)
		return why_set(why, wl, -EBADMSG,
			       "%s/%s: not a readable module", e->path,
			       e->m.mods[i].file);
	if (!vermagic_release(vm, rel, sizeof(rel)) || !streq(rel, kernel))
		return why_set(why, wl, -EBADMSG,
			       "%s/%s: vermagic \"%s\" is not for %s", e->path,
			       e->m.mods[i].file, vm, kernel);
	if (!streq(vm, e->m.mods[i].vermagic))
		return why_set(
			why, wl, -EBADMSG,
			"%s/%s: vermagic \"%s\", the manifest says \"%s\"",
			e->path, e->m.mods[i].file, vm, e->m.mods[i].vermagic);
	return 0;
}

int cache_entry_verify(const struct cache_entry *e, char *why, size_t wl)
{
	for (size_t i = 0; i < e->m.n_mods; i++) {
		_cleanup_(freep) char *buf = NULL;
		size_t len = 0;
		int r = cache_entry_module(e, i, &buf, &len, why, wl);

		if (r == 0)
			r = cache_check_vermagic(e, i, buf, len, e->m.kernel,
						 why, wl);
		if (r < 0)
			return r;
	}
	return 0;
}

void cache_ids_free(struct cache_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i].m);
	free(ids);
}

int cache_list(const struct dkb_ctx *c, const struct cache_opts *o,
	       struct cache_id **out, size_t *n)
{
	static const char *const pats[] = {"*", "*", "*", "*"};
	_cleanup_(strv_freep) char **rel = NULL;
	int r = reg_glob(c, cache_dir(o), pats, 4, &rel);
	size_t cnt = strv_length(rel);

	*out = NULL;
	*n = 0;
	if (r < 0 || cnt == 0)
		return r;
	*out = calloc(cnt, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		char *s = rel[i], *f[4];

		for (int j = 0; j < 4; j++) {
			f[j] = s;
			s = strchr(s, '/');
			if (s)
				*s++ = '\0';
			else
				break;
		}
		(*out)[*n] = (struct cache_id){rel[i], f[1], f[2], f[3]};
		rel[i] = NULL; /* owned by the id now (m holds the block) */
		(*n)++;
	}
	/* rel[] entries were handed over; free the vector only. */
	for (size_t i = 0; i < cnt; i++)
		free(rel[i]);
	return 0;
}

int cache_own_payload(const char *host)
{
	_cleanup_(closep) int fd =
		open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	/* Not root: nothing can be given to root, and such a cache is not
	 * trusted anyway (cache_opts.no_trust_check). */
	if (geteuid() == 0 && fchown(fd, 0, 0) < 0)
		return -errno;
	return fchmod(fd, 0644) < 0 ? -errno : 0;
}
