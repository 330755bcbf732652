// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The module cache: verified, compressed, per kernel (cache.h,
 * docs/cache-format.md).  Nothing read from it is used before its size,
 * compression ratio, sha256 and vermagic have been checked, and on the
 * root file system nothing is read from a file or directory that anyone
 * but root could have written.
 */
#include <fcntl.h>
#include <sha2.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/cache.h"
#include "cmd/commands.h"
#include "module/compress.h"
#include "lib/json.h"
#include "module/kabi.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "module/modinfo.h"
#include "module/modsig.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"
#include "cache/tar.h"

static int whyf(char *why, size_t len, int err, const char *fmt, ...)
	_printf_(4, 5);
static int whyf(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

static const char *cache_dir(const struct cache_opts *o)
{
	return o->dir ? o->dir : CACHE_DIR;
}

/* A path component we create or open: never "/", "..", "." or empty. */
static bool safe_component(const char *s)
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
		return whyf(why, wl, -errno, "%s: %m", what);
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return whyf(why, wl, -EPERM, "%s: not a %s", what,
			    dir ? "directory" : "regular file");
	if (o->no_trust_check)
		return 0;
	if (st.st_uid != 0)
		return whyf(why, wl, -EPERM,
			    "%s: owned by uid %u, not root; refused", what,
			    (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return whyf(
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
		return whyf(why, wl, r, "%s: %s", cache_dir(o), strerror(-r));
	fd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return whyf(why, wl, -errno, "%s: %m", cache_dir(o));
	r = trusted(o, fd, cache_dir(o), true, why, wl);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int next;

		if (!safe_component(parts[i]))
			return whyf(why, wl, -EINVAL, "\"%s\": not a safe name",
				    parts[i]);
		next = openat(fd, parts[i],
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return whyf(why, wl, -errno, "%s/.../%s: %m",
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
		return whyf(why, wl, -errno, "%s/MANIFEST: %m", e->path);
	r = trusted(o, fd, "MANIFEST", false, why, wl);
	if (r < 0)
		return r;
	r = read_fd(fd, MANIFEST_MAX_SIZE, &buf, &len);
	if (r < 0)
		return whyf(why, wl, r, "%s/MANIFEST: %s", e->path,
			    strerror(-r));
	r = manifest_parse(buf, len, &e->m, pwhy, sizeof(pwhy));
	if (r < 0)
		return whyf(why, wl, -EBADMSG, "%s/MANIFEST: %s", e->path,
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
			return whyf(why, wl, -errno, "%s/%s: %m", e->path,
				    mm->file);
		r = trusted(o, e->fds[i], mm->file, false, why, wl);
		if (r < 0)
			return r;
		if (fstat(e->fds[i], &st) < 0 || st.st_size <= 0)
			return whyf(why, wl, -EBADMSG, "%s/%s: empty", e->path,
				    mm->file);
		if (mm->size > CACHE_MAX_MODULE)
			return whyf(why, wl, -EBADMSG,
				    "%s/%s: claims %llu bytes, more than the "
				    "%llu MiB a module may have",
				    e->path, mm->file, mm->size,
				    CACHE_MAX_MODULE >> 20);
		if (mm->size / (unsigned long long)st.st_size > CACHE_MAX_RATIO)
			return whyf(why, wl, -EBADMSG,
				    "%s/%s: %llu bytes from %lld compressed is "
				    "a ratio over %u; refused as a "
				    "decompression bomb",
				    e->path, mm->file, mm->size,
				    (long long)st.st_size, CACHE_MAX_RATIO);
	}
	return 0;
}

int cache_entry_open(const struct dkb_ctx *c, const struct cache_opts *o,
		     const char *m, const char *v, const char *k, const char *a,
		     struct cache_entry *e, char *why, size_t wl)
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
		r = whyf(why, wl, -EBADMSG,
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

static void sha256_hex(const void *buf, size_t len, char out[65])
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
		return whyf(why, wl, r, "%s/%s: %s", e->path, mm->file,
			    strerror(-r));
	if (compress_detect(z, zl) != COMPRESS_ZST)
		return whyf(why, wl, -EBADMSG, "%s/%s: not a zstd stream",
			    e->path, mm->file);
	r = decompress_buffer(COMPRESS_ZST, z, zl, (size_t)mm->size, &out, &ol);
	if (r == -EFBIG)
		return whyf(why, wl, -EBADMSG,
			    "%s/%s: decompresses past its declared %llu bytes; "
			    "refused",
			    e->path, mm->file, mm->size);
	if (r < 0)
		return whyf(why, wl, -EBADMSG, "%s/%s: corrupt zstd data (%s)",
			    e->path, mm->file, strerror(-r));
	if (ol != mm->size)
		return whyf(why, wl, -EBADMSG,
			    "%s/%s: %zu bytes, the manifest says %llu", e->path,
			    mm->file, ol, mm->size);
	sha256_hex(out, ol, hex);
	if (!streq(hex, mm->sha256))
		return whyf(why, wl, -EBADMSG,
			    "%s/%s: sha256 %s, the manifest says %s", e->path,
			    mm->file, hex, mm->sha256);
	*buf = TAKE_PTR(out);
	*len = ol;
	return 0;
}

/* ---- adding an entry ---- */

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* modinfo of the module just written (libkmod reads the .ko.zst), plus
 * the signature fields our static libkmod cannot give. */
static int describe(const char *zst_host, const void *data, size_t len,
		    struct manifest_module *mm, char *why, size_t wl)
{
	_cleanup_(modinfo_freep) struct modinfo mi = {0};
	struct modsig sig = {0};
	int r = modinfo_read(zst_host, &mi);

	if (r < 0)
		return whyf(why, wl, -EBADMSG, "%s: not a kernel module (%s)",
			    mm->name, strerror(-r));
	if (!mi.vermagic || !*mi.vermagic)
		return whyf(why, wl, -EBADMSG, "%s: the module has no vermagic",
			    mm->name);
	mm->vermagic = strdup(mi.vermagic);
	mm->srcversion = dup_or_null(mi.srcversion);
	mm->modversion = dup_or_null(mi.version);
	mm->depends = dup_or_null(mi.depends);
	if (modsig_read(data, len, &sig) == 0) {
		mm->signer = dup_or_null(sig.signer);
		mm->sig_key = dup_or_null(sig.sig_key);
		mm->sig_hashalgo = dup_or_null(sig.sig_hashalgo);
	}
	modsig_free(&sig);
	return mm->vermagic ? 0 : -ENOMEM;
}

static int write_module(int dirfd, const char *tmp_host, size_t i,
			const struct cache_add_src *src,
			struct manifest_module *mm, char *why, size_t wl)
{
	_cleanup_(freep) void *z = NULL;
	_cleanup_(freep) char *host = NULL;
	char hex[65];
	size_t zl = 0;
	int r;

	mm->name = strdup(src->names[i]);
	mm->file = xasprintf("%s.ko.zst", src->names[i]);
	mm->location = strdup(src->locations[i]);
	if (!mm->name || !mm->file || !mm->location)
		return -ENOMEM;
	if (!safe_component(mm->name))
		return whyf(why, wl, -EINVAL, "\"%s\": not a safe module name",
			    mm->name);
	mm->size = src->lens[i];
	sha256_hex(src->data[i], src->lens[i], hex);
	mm->sha256 = strdup(hex);
	r = compress_buffer(COMPRESS_ZST, src->data[i], src->lens[i], &z, &zl);
	if (r < 0)
		return whyf(why, wl, r, "%s: cannot compress: %s", mm->name,
			    strerror(-r));
	host = path_join(tmp_host, mm->file);
	if (!host || !mm->sha256)
		return -ENOMEM;
	r = write_file_atomic(host, z, zl, 0644);
	if (r < 0)
		return whyf(why, wl, r, "%s: %s", host, strerror(-r));
	(void)dirfd;
	return describe(host, src->data[i], src->lens[i], mm, why, wl);
}

static int write_entry(const char *tmp_host, const struct cache_add_src *src,
		       struct manifest *man, char *why, size_t wl)
{
	_cleanup_(freep) char *text = NULL,
			      *mpath = path_join(tmp_host, "MANIFEST");
	size_t tl = 0;
	int r = 0;

	man->mods = calloc(src->n, sizeof(*man->mods));
	if (!man->mods || !mpath)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < src->n; i++) {
		char rel[256];

		man->n_mods++;
		r = write_module(-1, tmp_host, i, src, &man->mods[i], why, wl);
		/* An entry never holds a module for another kernel: it would
		 * replace a good entry with one every unpack refuses. */
		if (r == 0 && (!vermagic_release(man->mods[i].vermagic, rel,
						 sizeof(rel)) ||
			       !streq(rel, man->kernel)))
			r = whyf(why, wl, -EBADMSG,
				 "%s: vermagic \"%s\" is not for %s; not added",
				 man->mods[i].name, man->mods[i].vermagic,
				 man->kernel);
	}
	if (r == 0 && src->conf_host) {
		_cleanup_(freep) char *dst = path_join(tmp_host, "dkms.conf");

		r = dst ? copy_file_atomic(src->conf_host, dst) : -ENOMEM;
		if (r < 0)
			whyf(why, wl, r, "%s: %s", src->conf_host,
			     strerror(-r));
	}
	if (r == 0)
		r = manifest_format(man, &text, &tl);
	if (r == 0)
		r = write_file_atomic(mpath, text, tl, 0644);
	if (r == 0)
		r = fsync_path(tmp_host);
	return r;
}

int cache_add(const struct dkb_ctx *c, const struct cache_opts *o,
	      const char *m, const char *v, const char *k, const char *a,
	      const struct cache_add_src *src, char *why, size_t wl)
{
	_cleanup_(manifest_freep) struct manifest man = {0};
	_cleanup_(freep) char *kin =
		xasprintf("%s/%s/%s/%s", cache_dir(o), m, v, k);
	_cleanup_(freep) char *khost = NULL, *tmp = NULL, *final = NULL;
	const char *parts[] = {m, v, k, a};
	struct stat st;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (!safe_component(parts[i]))
			return whyf(why, wl, -EINVAL, "\"%s\": not a safe name",
				    parts[i]);
	if (!kin || root_path(c->root, kin, &khost) < 0)
		return -ENOMEM;
	r = make_dirs(khost, 0755);
	if (r < 0)
		return whyf(why, wl, r, "%s: %s", kin, strerror(-r));
	tmp = xasprintf("%s/.%s.tmp.XXXXXX", khost, a);
	final = path_join(khost, a);
	if (!tmp || !final || !mkdtemp(tmp))
		return whyf(why, wl, -errno,
			    "%s: cannot create a temporary entry: %m", kin);
	chmod(tmp, 0755);
	man = (struct manifest){.package = strdup(m),
				.version = strdup(v),
				.kernel = strdup(k),
				.arch = strdup(a),
				.origin = strdup(src->origin),
				.created = time(NULL)};
	r = man.package && man.version && man.kernel && man.arch && man.origin
		    ? write_entry(tmp, src, &man, why, wl)
		    : -ENOMEM;
	/* Readers hold descriptors to the old files: swapping the
	 * directories never shows them half of each. */
	if (r == 0 && lstat(final, &st) == 0)
		r = renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) <
				    0
			    ? -errno
			    : 0;
	else if (r == 0)
		r = rename(tmp, final) < 0 ? -errno : 0;
	if (r == 0)
		(void)fsync_path(khost);
	remove_tree(tmp);
	if (r < 0 && !*why)
		whyf(why, wl, r, "%s/%s: %s", kin, a, strerror(-r));
	return r;
}

/* The module's own vermagic must name the kernel the entry is for. */
static int check_vermagic(const struct cache_entry *e, size_t i,
			  const void *buf, size_t len, const char *kernel,
			  char *why, size_t wl)
{
	_cleanup_(freep) char *vm = kabi_module_vermagic(buf, len);
	char rel[256];

	if (!vm)
		return whyf(why, wl, -EBADMSG, "%s/%s: not a readable module",
			    e->path, e->m.mods[i].file);
	if (!vermagic_release(vm, rel, sizeof(rel)) || !streq(rel, kernel))
		return whyf(why, wl, -EBADMSG,
			    "%s/%s: vermagic \"%s\" is not for %s", e->path,
			    e->m.mods[i].file, vm, kernel);
	if (!streq(vm, e->m.mods[i].vermagic))
		return whyf(why, wl, -EBADMSG,
			    "%s/%s: vermagic \"%s\", the manifest says \"%s\"",
			    e->path, e->m.mods[i].file, vm,
			    e->m.mods[i].vermagic);
	return 0;
}

/* Full verification of an open entry: every module decompressed within
 * its limits, hashed, and built for the entry's kernel. */
static int verify_entry(const struct cache_entry *e, char *why, size_t wl)
{
	for (size_t i = 0; i < e->m.n_mods; i++) {
		_cleanup_(freep) char *buf = NULL;
		size_t len = 0;
		int r = cache_entry_module(e, i, &buf, &len, why, wl);

		if (r == 0)
			r = check_vermagic(e, i, buf, len, e->m.kernel, why,
					   wl);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- walking the cache ---- */

struct entry_id {
	char *m, *v, *k, *a;
};

static void ids_free(struct entry_id *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i].m);
	free(ids);
}

/* Every entry directory, in bash glob order; hidden (temporary) ones
 * are never listed. */
static int list_ids(const struct dkb_ctx *c, const struct cache_opts *o,
		    struct entry_id **out, size_t *n)
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
		(*out)[*n] = (struct entry_id){rel[i], f[1], f[2], f[3]};
		rel[i] = NULL; /* owned by the id now (m holds the block) */
		(*n)++;
	}
	/* rel[] entries were handed over; free the vector only. */
	for (size_t i = 0; i < cnt; i++)
		free(rel[i]);
	return 0;
}

static void print_entry_json(FILE *out, bool *first, const struct entry_id *id,
			     const struct cache_entry *e, const char *err)
{
	bool f = true;

	fputs(*first ? "{" : ",{", out);
	*first = false;
	json_kv(out, &f, "package", id->m);
	json_kv(out, &f, "version", id->v);
	json_kv(out, &f, "kernel", id->k);
	json_kv(out, &f, "arch", id->a);
	json_kb(out, &f, "ok", !err);
	json_kv(out, &f, "error", err);
	if (!err) {
		json_kv(out, &f, "origin", e->m.origin);
		json_key(out, &f, "modules");
		fputc('[', out);
		for (size_t i = 0; i < e->m.n_mods; i++) {
			bool g = true;
			char size[32];

			snprintf(size, sizeof(size), "%llu", e->m.mods[i].size);
			fputs(i ? ",{" : "{", out);
			json_kv(out, &g, "name", e->m.mods[i].name);
			json_kv(out, &g, "location", e->m.mods[i].location);
			json_key(out, &g, "size");
			fputs(size, out);
			json_kv(out, &g, "sha256", e->m.mods[i].sha256);
			json_kv(out, &g, "vermagic", e->m.mods[i].vermagic);
			json_kv(out, &g, "signer", e->m.mods[i].signer);
			fputc('}', out);
		}
		fputc(']', out);
	}
	fputc('}', out);
}

/* list (full=false) and verify (full=true). */
static int cache_walk(struct dkb_ctx *c, const struct cache_cli *cl, bool full,
		      FILE *out)
{
	struct entry_id *ids = NULL;
	size_t n = 0, bad = 0;
	bool first = true;
	int r = list_ids(c, &cl->o, &ids, &n);

	if (r < 0) {
		log_err("cache: %s: %s", cache_dir(&cl->o), strerror(-r));
		return EXIT_TROUBLE;
	}
	if (cl->json)
		fputs("{\"entries\":[", out);
	for (size_t i = 0; i < n; i++) {
		struct cache_entry e = {.dirfd = -1};
		char why[512] = "";

		r = cache_entry_open(c, &cl->o, ids[i].m, ids[i].v, ids[i].k,
				     ids[i].a, &e, why, sizeof(why));
		if (r == 0 && full)
			r = verify_entry(&e, why, sizeof(why));
		if (r < 0) {
			bad++;
			if (full)
				log_err("%s/%s/%s/%s/%s: %s", cache_dir(&cl->o),
					ids[i].m, ids[i].v, ids[i].k, ids[i].a,
					why);
		}
		if (cl->json)
			print_entry_json(out, &first, &ids[i], &e,
					 r < 0 ? why : NULL);
		else if (r < 0)
			fprintf(out, "%s/%s, %s, %s: BAD: %s\n", ids[i].m,
				ids[i].v, ids[i].k, ids[i].a, why);
		else
			fprintf(out, "%s/%s, %s, %s: %s%zu module%s (%s)\n",
				ids[i].m, ids[i].v, ids[i].k, ids[i].a,
				full ? "verified, " : "", e.m.n_mods,
				e.m.n_mods == 1 ? "" : "s", e.m.origin);
		cache_entry_close(&e);
	}
	if (cl->json)
		fputs("]}\n", out);
	ids_free(ids, n);
	return bad ? EXIT_TROUBLE : EXIT_OK;
}

/* ---- cache add: from the dkms tree ---- */

struct mod_set {
	char **names, **locations;
	char **data;
	size_t *lens;
	size_t n;
};

static void mod_set_free(struct mod_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->data[i]);
	free(s->data);
	free(s->lens);
	strv_free(s->names);
	strv_free(s->locations);
	*s = (struct mod_set){0};
}

static int mod_set_push(struct mod_set *s, const char *name, const char *loc,
			char *data, size_t len)
{
	char **nd = realloc(s->data, (s->n + 1) * sizeof(*nd));
	size_t *nl;

	if (!nd)
		return -ENOMEM;
	s->data = nd;
	nl = realloc(s->lens, (s->n + 1) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	s->lens = nl;
	if (strv_push(&s->names, name) < 0 || strv_push(&s->locations, loc) < 0)
		return -ENOMEM;
	s->data[s->n] = data;
	s->lens[s->n++] = len;
	return 0;
}

static int add_set(struct dkb_ctx *c, const struct cache_opts *o, const char *m,
		   const char *v, const char *k, const char *a,
		   struct mod_set *s, const char *origin, const char *conf_host)
{
	struct cache_add_src src = {
		.origin = origin,
		.conf_host = conf_host,
		.n = s->n,
		.names = (const char *const *)s->names,
		.locations = (const char *const *)s->locations,
		.data = (const void *const *)s->data,
		.lens = s->lens,
	};
	char why[512] = "";
	int r = cache_add(c, o, m, v, k, a, &src, why, sizeof(why));

	if (r < 0)
		log_err("cache add %s/%s for %s/%s: %s", m, v, k, a,
			*why ? why : strerror(-r));
	else
		log_info("cache: added %s/%s for %s/%s (%zu modules, %s)", m, v,
			 k, a, s->n, origin);
	return r;
}

static int cache_add_tree(struct dkb_ctx *c, const struct cache_cli *cl)
{
	_cleanup_(dkms_conf_freep) struct dkms_conf conf = {0};
	_cleanup_(freep) char *mdir = NULL, *conf_in = NULL, *conf_host = NULL;
	struct mod_set s = {0};
	char suffix[8];
	int r;

	r = dkb_read_conf(c, cl->module, cl->version, cl->kernel, cl->arch,
			  NULL, &conf, NULL);
	if (r < 0 || strv_length(conf.errors)) {
		log_err("cache add %s/%s: cannot read dkms.conf%s%s",
			cl->module, cl->version, r < 0 ? "" : ": ",
			r < 0 ? "" : conf.errors[0]);
		return EXIT_TROUBLE;
	}
	reg_module_suffix(c, cl->kernel, suffix, sizeof(suffix));
	mdir = xasprintf("%s/%s/%s/%s/%s/module", c->dkms_tree, cl->module,
			 cl->version, cl->kernel, cl->arch);
	conf_in = xasprintf("%s/%s/%s/source/dkms.conf", c->dkms_tree,
			    cl->module, cl->version);
	if (!mdir || !conf_in)
		return EXIT_TROUBLE;
	for (size_t i = 0; i < conf.n_mods; i++) {
		_cleanup_(freep) char *f = reg_find_module(
			c, mdir, conf.mods[i].dest_name, suffix);
		_cleanup_(freep) char *h = NULL;
		char *buf = NULL;
		size_t len = 0;

		if (!f) {
			log_err("cache add %s/%s: %s is not built for %s/%s",
				cl->module, cl->version, conf.mods[i].dest_name,
				cl->kernel, cl->arch);
			mod_set_free(&s);
			return EXIT_TROUBLE;
		}
		r = root_path(c->root, f, &h);
		if (r == 0)
			r = decompress_file(h, CACHE_MAX_MODULE, &buf, &len);
		if (r == 0)
			r = mod_set_push(&s, conf.mods[i].dest_name,
					 conf.mods[i].dest_location, buf, len);
		if (r < 0) {
			free(buf);
			log_err("cache add %s: %s", f, strerror(-r));
			mod_set_free(&s);
			return EXIT_TROUBLE;
		}
	}
	if (root_path(c->root, conf_in, &conf_host) < 0 ||
	    access(conf_host, R_OK) < 0) {
		free(conf_host);
		conf_host = NULL;
	}
	r = add_set(c, &cl->o, cl->module, cl->version, cl->kernel, cl->arch,
		    &s, "dkms-tree", conf_host);
	mod_set_free(&s);
	return r < 0 ? EXIT_TROUBLE : EXIT_OK;
}

/* ---- prune ---- */

static bool kept(const struct dkb_ctx *c, const struct cache_cli *cl,
		 const char *k)
{
	_cleanup_(freep) char *d = NULL;

	if (cl->n_keep) {
		for (size_t i = 0; i < cl->n_keep; i++)
			if (streq(cl->keep[i], k))
				return true;
		return false;
	}
	d = xasprintf("%s/%s", c->install_tree, k);
	return d && root_is_dir(c->root, d);
}

/* Temporary entries of an add that was killed: hidden directories in the
 * kernel directories, older than anything a live add would take. */
#define STALE_TMP_SECONDS 600

static void prune_stale_tmp(struct dkb_ctx *c, const struct cache_cli *cl,
			    FILE *out)
{
	static const char *const pats[] = {"*", "*", "*"};
	_cleanup_(strv_freep) char **kdirs = NULL;
	time_t now = time(NULL);

	if (reg_glob(c, cache_dir(&cl->o), pats, 3, &kdirs) < 0)
		return;
	for (char **k = kdirs; k && *k; k++) {
		_cleanup_(freep) char *in =
			xasprintf("%s/%s", cache_dir(&cl->o), *k);
		_cleanup_(freep) char *host = NULL;
		_cleanup_(closedirp) DIR *d = NULL;
		struct dirent *de;

		if (!in || root_path(c->root, in, &host) < 0 ||
		    !(d = opendir(host)))
			continue;
		while ((de = readdir(d))) {
			_cleanup_(freep) char *p = NULL;
			struct stat st;

			if (de->d_name[0] != '.' ||
			    !strstr(de->d_name, ".tmp."))
				continue;
			p = path_join(host, de->d_name);
			if (!p || lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) ||
			    now - st.st_mtime < STALE_TMP_SECONDS)
				continue;
			if (remove_tree(p) == 0)
				fprintf(out, "removed the unfinished %s/%s\n",
					in, de->d_name);
		}
	}
}

static int cache_prune(struct dkb_ctx *c, const struct cache_cli *cl, FILE *out)
{
	struct entry_id *ids = NULL;
	size_t n = 0;
	int r = list_ids(c, &cl->o, &ids, &n), rc = EXIT_OK;

	if (r < 0)
		return EXIT_TROUBLE;
	prune_stale_tmp(c, cl, out);
	for (size_t i = 0; i < n; i++) {
		_cleanup_(freep) char *in = NULL, *host = NULL;

		if (kept(c, cl, ids[i].k))
			continue;
		in = xasprintf("%s/%s/%s/%s/%s", cache_dir(&cl->o), ids[i].m,
			       ids[i].v, ids[i].k, ids[i].a);
		if (!in || root_path(c->root, in, &host) < 0 ||
		    remove_tree(host) < 0) {
			log_err("cache prune: cannot remove %s",
				in ? in : ids[i].m);
			rc = EXIT_TROUBLE;
			continue;
		}
		fprintf(out, "removed %s/%s, %s, %s\n", ids[i].m, ids[i].v,
			ids[i].k, ids[i].a);
		/* Empty parents go too (rmdir fails harmlessly otherwise). */
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(host, '/');

			if (!slash)
				break;
			*slash = '\0';
			if (rmdir(host) < 0)
				break;
		}
	}
	ids_free(ids, n);
	return rc;
}

/* ---- unpack ---- */

struct pick {
	struct entry_id id;
	bool reuse; /* built for another kernel, kABI-checked */
};

/* For each package, the newest version built for kernel k; with kABI
 * reuse, failing that, the newest entry of another kernel that passes
 * the check (decided in unpack_one). */
static int choose(const struct entry_id *ids, size_t n,
		  const struct cache_cli *cl, bool other_kernels,
		  struct pick **out, size_t *np)
{
	*out = calloc(n ? n : 1, sizeof(**out));
	*np = 0;
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct entry_id *id = &ids[i];
		bool mine = streq(id->k, cl->kernel);
		struct pick *p = NULL;

		if (cl->module && !streq(id->m, cl->module))
			continue;
		if (!streq(id->a, cl->arch) || (!mine && !other_kernels))
			continue;
		for (size_t j = 0; j < *np; j++)
			if (streq((*out)[j].id.m, id->m))
				p = &(*out)[j];
		if (!p) {
			p = &(*out)[(*np)++];
			*p = (struct pick){*id, !mine};
			continue;
		}
		/* Exact kernel beats reuse; then the newer version. */
		if ((p->reuse && mine) ||
		    (p->reuse == !mine && dkms_ver_cmp(id->v, p->id.v) > 0))
			*p = (struct pick){*id, !mine};
	}
	return 0;
}

/* The target kernel's symbols and vermagic, loaded once per run. */
static int kabi_target(struct dkb_ctx *c, const struct cache_cli *cl,
		       struct symvers **sv, char **vm, char *why, size_t wl)
{
	static struct symvers *cached_sv;
	static char *cached_vm;
	char kwhy[256];
	int r;

	if (!cached_sv) {
		r = symvers_load(c->root, cl->kernel, &cached_sv, kwhy,
				 sizeof(kwhy));
		if (r < 0)
			return whyf(why, wl, -EPERM,
				    "kABI reuse needs %s's Module.symvers: %s",
				    cl->kernel, kwhy);
		cached_vm = kabi_kernel_vermagic(c->root, cl->kernel);
	}
	if (!cached_vm)
		return whyf(why, wl, -EPERM, "cannot tell %s's vermagic",
			    cl->kernel);
	*sv = cached_sv;
	*vm = cached_vm;
	return 0;
}

/* Another kernel's build: every module must pass the kABI check, where
 * the symbols the entry's own modules export count as present. */
static int kabi_entry_ok(struct dkb_ctx *c, const struct cache_cli *cl,
			 const struct cache_entry *e, char **bufs,
			 const size_t *lens, char *why, size_t wl)
{
	_cleanup_(strv_freep) char **own = NULL;
	struct symvers *sv = NULL;
	char *vm = NULL, kwhy[256];
	int r = kabi_target(c, cl, &sv, &vm, why, wl);

	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++)
		r = kabi_module_exports(bufs[i], lens[i], &own);
	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		r = kabi_check_with(bufs[i], lens[i], sv, own, vm, kwhy,
				    sizeof(kwhy));
		if (r < 0)
			whyf(why, wl, -EPERM,
			     "%s/%s built for %s cannot be reused for %s: %s: "
			     "%s",
			     e->m.package, e->m.version, e->m.kernel,
			     cl->kernel, e->m.mods[i].name, kwhy);
	}
	return r < 0 ? -EPERM : 0;
}

/* Every module of the entry decompressed and checked, before any is
 * placed. */
static int unpack_verify(struct dkb_ctx *c, const struct cache_cli *cl,
			 const struct pick *p, const struct cache_entry *e,
			 char **bufs, size_t *lens, char *why, size_t wl)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		r = cache_entry_module(e, i, &bufs[i], &lens[i], why, wl);
		if (r == 0 && !p->reuse)
			r = check_vermagic(e, i, bufs[i], lens[i], cl->kernel,
					   why, wl);
	}
	if (r == 0 && p->reuse)
		r = kabi_entry_ok(c, cl, e, bufs, lens, why, wl);
	return r;
}

struct placed {
	char *dst, *staged;
	bool had_old; /* the old file now sits at staged */
};

/* Put staged into dst.  An existing file is swapped out, not lost, so
 * that a later failure can put it back. */
static int place(const char *staged, const char *dst, bool *had_old)
{
	struct stat st;

	*had_old = false;
	if (lstat(dst, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		if (renameat2(AT_FDCWD, staged, AT_FDCWD, dst,
			      RENAME_EXCHANGE) < 0)
			return -1;
		*had_old = true;
		return 0;
	}
	return rename(staged, dst);
}

static void roll_back(struct placed *pl, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		if (pl[i].had_old)
			renameat2(AT_FDCWD, pl[i].staged, AT_FDCWD, pl[i].dst,
				  RENAME_EXCHANGE);
		else
			unlink(pl[i].dst);
	}
}

static int unpack_place(const struct cache_cli *cl, const struct cache_entry *e,
			const char *stage, char **bufs, const size_t *lens,
			char *why, size_t wl)
{
	struct placed *pl = calloc(e->m.n_mods + 1, sizeof(*pl));
	size_t n = 0;
	int r = pl ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		pl[i].staged = xasprintf("%s/%zu.ko", stage, i);
		r = pl[i].staged ? write_file_atomic(pl[i].staged, bufs[i],
						     lens[i], 0644)
				 : -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		const struct manifest_module *mm = &e->m.mods[i];
		_cleanup_(freep) char *dir =
			xasprintf("%s%s", cl->into, mm->location);

		pl[i].dst = dir ? xasprintf("%s/%s.ko", dir, mm->name) : NULL;
		if (!pl[i].dst || make_dirs(dir, 0755) < 0 ||
		    place(pl[i].staged, pl[i].dst, &pl[i].had_old) < 0) {
			r = whyf(why, wl, -EIO, "cannot place %s: %m",
				 pl[i].dst ? pl[i].dst : mm->name);
			break;
		}
		n++;
	}
	if (r < 0)
		roll_back(pl, n);
	for (size_t i = 0; pl && i < e->m.n_mods; i++) {
		free(pl[i].dst);
		free(pl[i].staged);
	}
	free(pl);
	return r;
}

static int unpack_one(struct dkb_ctx *c, const struct cache_cli *cl,
		      const struct pick *p, FILE *out)
{
	struct cache_entry e = {.dirfd = -1};
	_cleanup_(freep) char *stage = NULL;
	char **bufs = NULL, why[512] = "";
	size_t *lens = NULL;
	int r = make_dirs(cl->into, 0755);

	stage = xasprintf("%s/.dkms-boot-unpack.XXXXXX", cl->into);
	if (r < 0 || !stage || !mkdtemp(stage)) {
		log_err("cache unpack: cannot stage in %s: %m", cl->into);
		return -EIO;
	}
	r = cache_entry_open(c, &cl->o, p->id.m, p->id.v, p->id.k, p->id.a, &e,
			     why, sizeof(why));
	if (r == 0) {
		bufs = calloc(e.m.n_mods + 1, sizeof(*bufs));
		lens = calloc(e.m.n_mods + 1, sizeof(*lens));
		r = bufs && lens ? 0 : -ENOMEM;
	}
	if (r == 0)
		r = unpack_verify(c, cl, p, &e, bufs, lens, why, sizeof(why));
	if (r == 0)
		r = unpack_place(cl, &e, stage, bufs, lens, why, sizeof(why));
	remove_tree(stage);
	if (r < 0)
		log_err("cache unpack %s/%s for %s: %s", p->id.m, p->id.v,
			cl->kernel, *why ? why : strerror(-r));
	else
		fprintf(out, "unpacked %s/%s%s%s%s into %s (%zu module%s)\n",
			p->id.m, p->id.v, p->reuse ? " (built for " : "",
			p->reuse ? p->id.k : "",
			p->reuse ? ", kABI-checked)" : "", cl->into, e.m.n_mods,
			e.m.n_mods == 1 ? "" : "s");
	for (size_t i = 0; bufs && i < e.m.n_mods; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
	cache_entry_close(&e);
	return r;
}

static int cache_unpack(struct dkb_ctx *c, const struct cache_cli *cl,
			FILE *out)
{
	struct entry_id *ids = NULL;
	struct pick *picks = NULL;
	size_t n = 0, np = 0, failed = 0;
	int r = list_ids(c, &cl->o, &ids, &n);

	if (r == 0)
		r = choose(ids, n, cl, cl->o.allow_kabi_reuse, &picks, &np);
	if (r < 0) {
		ids_free(ids, n);
		free(picks);
		return EXIT_TROUBLE;
	}
	if (np == 0)
		log_notice("cache: no entry for %s/%s%s%s", cl->kernel,
			   cl->arch, cl->module ? " and " : "",
			   cl->module ? cl->module : "");
	for (size_t i = 0; i < np; i++)
		if (unpack_one(c, cl, &picks[i], out) < 0)
			failed++;
	free(picks);
	ids_free(ids, n);
	return failed ? EXIT_TROUBLE : np ? EXIT_OK : EXIT_WORK;
}

/* ---- import: a dkms mktarball archive ---- */

#define TARBALL_MAX (256ULL << 20)

struct tar_file {
	char *name;
	const void *data;
	size_t size;
};

struct imported {
	struct tar_file *f;
	size_t n;
};

static int collect_entry(const struct tar_entry *te, void *ud)
{
	struct imported *im = ud;
	struct tar_file *nf;

	if (te->type != TAR_FILE)
		return 0;
	nf = realloc(im->f, (im->n + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	im->f = nf;
	nf[im->n] = (struct tar_file){strdup(te->name), te->data, te->size};
	return nf[im->n++].name ? 0 : -ENOMEM;
}

static const struct tar_file *find_file(const struct imported *im,
					const char *name)
{
	for (size_t i = 0; i < im->n; i++)
		if (streq(im->f[i].name, name))
			return &im->f[i];
	return NULL;
}

static char *trimmed(const struct tar_file *f)
{
	size_t n = f ? f->size : 0;

	while (n && (((const char *)f->data)[n - 1] == '\n' ||
		     ((const char *)f->data)[n - 1] == ' '))
		n--;
	return f ? strndup(f->data, n) : NULL;
}

/* Evaluate the archive's dkms.conf for one kernel, as ldtarball would
 * after loading it: written to the root's /tmp for the evaluators. */
static int import_conf(struct dkb_ctx *c, const struct tar_file *cf,
		       const char *m, const char *v, const char *k,
		       const char *a, struct dkms_conf *conf, char **tmp_in)
{
	_cleanup_(freep) char *host = NULL;
	int r;

	if (!*tmp_in) {
		_cleanup_(freep) char *dir = NULL;
		char *t;

		if (root_path(c->root, "/tmp", &dir) < 0)
			return -ENOMEM;
		t = xasprintf("%s/dkms-boot-import.XXXXXX", dir);
		if (!t || mkdtemp(t) == NULL) {
			free(t);
			return -errno;
		}
		host = xasprintf("%s/dkms.conf", t);
		*tmp_in = xasprintf("%s/dkms.conf",
				    t + strlen(dir) - strlen("/tmp"));
		free(t);
		if (!host || !*tmp_in)
			return -ENOMEM;
		r = write_file_atomic(host, cf->data, cf->size, 0644);
		if (r < 0)
			return r;
	}
	return dkb_read_conf(c, m, v, k, a, *tmp_in, conf, NULL);
}

static int import_kernel(struct dkb_ctx *c, const struct cache_cli *cl,
			 const struct imported *im, const struct tar_file *cf,
			 const char *m, const char *v, const char *k,
			 const char *a, char **tmp_in, const char *origin)
{
	_cleanup_(dkms_conf_freep) struct dkms_conf conf = {0};
	static const char *const sfx[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
	struct mod_set s = {0};
	int r = import_conf(c, cf, m, v, k, a, &conf, tmp_in);

	if (r < 0 || strv_length(conf.errors)) {
		log_err("cache import: the archive's dkms.conf cannot be "
			"used%s%s",
			r < 0 ? "" : ": ", r < 0 ? "" : conf.errors[0]);
		return -EBADMSG;
	}
	for (size_t i = 0; r == 0 && i < conf.n_mods; i++) {
		const struct tar_file *f = NULL;
		char *buf = NULL;
		size_t len = 0;

		for (size_t j = 0; !f && j < ARRAY_SIZE(sfx); j++) {
			_cleanup_(freep) char *p =
				xasprintf("dkms_main_tree/%s/%s/module/%s%s", k,
					  a, conf.mods[i].dest_name, sfx[j]);

			f = p ? find_file(im, p) : NULL;
		}
		if (!f) {
			log_err("cache import: %s for %s/%s is not in the "
				"archive",
				conf.mods[i].dest_name, k, a);
			r = -ENOENT;
			break;
		}
		r = decompress_buffer(compress_detect(f->data, f->size),
				      f->data, f->size, CACHE_MAX_MODULE, &buf,
				      &len);
		if (r == 0)
			r = mod_set_push(&s, conf.mods[i].dest_name,
					 conf.mods[i].dest_location, buf, len);
		else
			log_err("cache import: %s: %s", f->name, strerror(-r));
	}
	if (r == 0) {
		_cleanup_(freep) char *ch = NULL;

		(void)root_path(c->root, *tmp_in, &ch);
		r = add_set(c, &cl->o, m, v, k, a, &s, origin, ch);
	}
	mod_set_free(&s);
	return r;
}

/* The package's name and version: dkms_binaries_only's files, else
 * the source tree's dkms.conf. */
static int import_identity(struct dkb_ctx *c, const struct imported *im,
			   const struct tar_file **cf, char **m, char **v,
			   char **tmp_in)
{
	*cf = find_file(im, "dkms_binaries_only/dkms.conf");
	if (*cf) {
		*m = trimmed(find_file(im, "dkms_binaries_only/PACKAGE_NAME"));
		*v = trimmed(
			find_file(im, "dkms_binaries_only/PACKAGE_VERSION"));
	}
	if (!*cf)
		*cf = find_file(im, "dkms_source_tree/dkms.conf");
	if (!*cf)
		return -ENOENT;
	if (!*m || !*v) {
		_cleanup_(dkms_conf_freep) struct dkms_conf conf = {0};
		int r = import_conf(c, *cf, "", "", "0", "x86_64", &conf,
				    tmp_in);

		if (r < 0)
			return r;
		free(*m);
		free(*v);
		*m = strdup(conf.package_name);
		*v = strdup(conf.package_version);
	}
	return *m && *v && **m && **v ? 0 : -EBADMSG;
}

/* "dkms_main_tree/<kver>/<arch>/module/<file>": kver and arch. */
static int sscanf_kernel(const char *name, char *k, size_t kl, char *a,
			 size_t al)
{
	const char *p[6];
	size_t len[6];
	int n = 0;

	for (const char *s = name; n < 6; n++) {
		p[n] = s;
		len[n] = strcspn(s, "/");
		if (!s[len[n]]) {
			n++;
			break;
		}
		s += len[n] + 1;
	}
	if (n != 5 || len[0] != 14 ||
	    strncmp(p[0], "dkms_main_tree", 14) != 0 || len[3] != 6 ||
	    strncmp(p[3], "module", 6) != 0 || !len[1] || !len[2] ||
	    len[1] >= kl || len[2] >= al)
		return -EINVAL;
	memcpy(k, p[1], len[1]);
	k[len[1]] = '\0';
	memcpy(a, p[2], len[2]);
	a[len[2]] = '\0';
	return 0;
}

static int cache_import(struct dkb_ctx *c, const struct cache_cli *cl)
{
	_cleanup_(freep) char *raw = NULL, *tarbuf = NULL, *m = NULL, *v = NULL;
	_cleanup_(freep) char *tmp_in = NULL, *origin = NULL;
	struct imported im = {0};
	const struct tar_file *cf = NULL;
	char why[512] = "";
	size_t rl = 0, tl = 0, done = 0;
	int r = read_file(cl->file, TARBALL_MAX, &raw, &rl);

	if (r == 0)
		r = decompress_buffer(compress_detect(raw, rl), raw, rl,
				      TARBALL_MAX, &tarbuf, &tl);
	if (r == 0)
		r = tar_read(tarbuf, tl, NULL, collect_entry, &im, why,
			     sizeof(why));
	if (r < 0) {
		log_err("cache import %s: %s", cl->file,
			*why ? why : strerror(-r));
		goto out;
	}
	r = import_identity(c, &im, &cf, &m, &v, &tmp_in);
	if (r < 0) {
		log_err("cache import %s: not a dkms tarball: no usable "
			"dkms.conf in dkms_binaries_only/ or dkms_source_tree/",
			cl->file);
		goto out;
	}
	origin = xasprintf("tarball:%s", strrchr(cl->file, '/')
						 ? strrchr(cl->file, '/') + 1
						 : cl->file);
	for (size_t i = 0; r == 0 && origin && i < im.n; i++) {
		char k[256], a[64];
		int nk = 0;

		/* dkms_main_tree/<kver>/<arch>/module/<file> */
		if (sscanf_kernel(im.f[i].name, k, sizeof(k), a, sizeof(a)) < 0)
			continue;
		for (size_t j = 0; j < i; j++) {
			char k2[256], a2[64];

			if (sscanf_kernel(im.f[j].name, k2, sizeof(k2), a2,
					  sizeof(a2)) == 0 &&
			    streq(k, k2) && streq(a, a2))
				nk++;
		}
		if (nk)
			continue; /* that kernel was done already */
		if (cl->kernel && !streq(cl->kernel, k))
			continue;
		r = import_kernel(c, cl, &im, cf, m, v, k, a, &tmp_in, origin);
		done += r == 0;
	}
	if (r == 0 && !done) {
		log_err("cache import %s: no built modules in the archive%s%s",
			cl->file, cl->kernel ? " for " : "",
			cl->kernel ? cl->kernel : "");
		r = -ENOENT;
	}
out:
	if (tmp_in) {
		_cleanup_(freep) char *h = NULL;

		if (root_path(c->root, tmp_in, &h) == 0) {
			*strrchr(h, '/') = '\0';
			remove_tree(h);
		}
	}
	for (size_t i = 0; i < im.n; i++)
		free(im.f[i].name);
	free(im.f);
	return r < 0 ? EXIT_TROUBLE : EXIT_OK;
}

/* ---- export: an archive real `dkms ldtarball` loads ---- */

/* The entry's dkms.conf, or one that describes exactly its modules. */
static char *export_conf(const struct cache_entry *e, size_t *len)
{
	_cleanup_(closep) int fd =
		e->has_conf ? openat(e->dirfd, "dkms.conf",
				     O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
			    : -1;
	char *buf = NULL;
	FILE *f;

	if (fd >= 0 && read_fd(fd, 1 << 20, &buf, len) == 0)
		return buf;
	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	fprintf(f, "PACKAGE_NAME=\"%s\"\nPACKAGE_VERSION=\"%s\"\n",
		e->m.package, e->m.version);
	for (size_t i = 0; i < e->m.n_mods; i++)
		fprintf(f,
			"BUILT_MODULE_NAME[%zu]=\"%s\"\nDEST_MODULE_LOCATION[%"
			"zu]=\"%s\"\n",
			i, e->m.mods[i].name, i, e->m.mods[i].location);
	return fclose(f) == 0 ? buf : NULL;
}

static int export_tar(const struct cache_entry *e, struct tar_writer *w,
		      char *why, size_t wl)
{
	_cleanup_(freep) char *conf = NULL, *base = NULL, *pn = NULL,
			      *pv = NULL;
	size_t cl = 0;
	int r = 0;
	/* dkms's own archives name "./x"; tar reads either. */
	const char *dirs[] = {"dkms_main_tree", NULL, NULL, NULL,
			      "dkms_binaries_only"};
	_cleanup_(freep) char *d2 = xasprintf("dkms_main_tree/%s", e->m.kernel);
	_cleanup_(freep) char *d3 = xasprintf("%s/%s", d2 ? d2 : "", e->m.arch);
	_cleanup_(freep) char *d4 = xasprintf("%s/module", d3 ? d3 : "");

	dirs[1] = d2;
	dirs[2] = d3;
	dirs[3] = d4;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(dirs); i++)
		r = dirs[i] ? tar_add_dir(w, dirs[i], 0755) : -ENOMEM;
	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		_cleanup_(freep) char *buf = NULL, *name = NULL;
		size_t len = 0;

		r = cache_entry_module(e, i, &buf, &len, why, wl);
		name = xasprintf("%s/%s.ko", d4, e->m.mods[i].name);
		if (r == 0)
			r = name ? tar_add_file(w, name, 0644, buf, len)
				 : -ENOMEM;
	}
	conf = export_conf(e, &cl);
	pn = xasprintf("%s\n", e->m.package);
	pv = xasprintf("%s\n", e->m.version);
	if (r == 0 && (!conf || !pn || !pv))
		r = -ENOMEM;
	if (r == 0)
		r = tar_add_file(w, "dkms_binaries_only/PACKAGE_NAME", 0644, pn,
				 strlen(pn));
	if (r == 0)
		r = tar_add_file(w, "dkms_binaries_only/PACKAGE_VERSION", 0644,
				 pv, strlen(pv));
	if (r == 0)
		r = tar_add_file(w, "dkms_binaries_only/dkms.conf", 0644, conf,
				 cl);
	if (r == 0)
		r = tar_finish(w);
	(void)base;
	return r;
}

static int cache_export(struct dkb_ctx *c, const struct cache_cli *cl,
			FILE *out)
{
	struct cache_entry e = {.dirfd = -1};
	struct tar_writer w = {.mtime = time(NULL)};
	_cleanup_(freep) void *gz = NULL;
	_cleanup_(freep) char *path = NULL;
	char why[512] = "";
	size_t gl = 0;
	int r = cache_entry_open(c, &cl->o, cl->module, cl->version, cl->kernel,
				 cl->arch, &e, why, sizeof(why));

	if (r == 0)
		r = export_tar(&e, &w, why, sizeof(why));
	if (r == 0)
		r = compress_buffer(COMPRESS_GZ, w.buf, w.len, &gz, &gl);
	path = cl->file ? strdup(cl->file)
			: xasprintf("%s-%s-kernel%s-%s.dkms.tar.gz", cl->module,
				    cl->version, cl->kernel, cl->arch);
	if (r == 0)
		r = path ? write_file_atomic(path, gz, gl, 0644) : -ENOMEM;
	if (r < 0)
		log_err("cache export %s/%s for %s/%s: %s", cl->module,
			cl->version, cl->kernel, cl->arch,
			*why ? why : strerror(-r));
	else
		fprintf(out, "%s\n", path);
	tar_writer_free(&w);
	cache_entry_close(&e);
	return r < 0 ? EXIT_TROUBLE : EXIT_OK;
}

/* ---- the command ---- */

static bool need(const struct cache_cli *cl, bool m, bool v, bool k, bool f)
{
	if ((m && !cl->module) || (v && !cl->version) || (k && !cl->kernel) ||
	    (f && !cl->file)) {
		log_err("cache %s: needs%s%s%s%s", cl->sub, m ? " -m NAME" : "",
			v ? " -v VER" : "", k ? " -k KVER" : "",
			f ? " FILE" : "");
		return false;
	}
	return true;
}

int cmd_cache(struct dkb_ctx *c, const struct cache_cli *cl, FILE *out)
{
	const char *s = cl->sub;

	if (streq(s, "add"))
		return need(cl, true, true, true, false) ? cache_add_tree(c, cl)
							 : EXIT_USAGE;
	if (streq(s, "import"))
		return need(cl, false, false, false, true) ? cache_import(c, cl)
							   : EXIT_USAGE;
	if (streq(s, "export"))
		return need(cl, true, true, true, false)
			       ? cache_export(c, cl, out)
			       : EXIT_USAGE;
	if (streq(s, "list"))
		return cache_walk(c, cl, false, out);
	if (streq(s, "verify"))
		return cache_walk(c, cl, true, out);
	if (streq(s, "prune"))
		return cache_prune(c, cl, out);
	if (streq(s, "unpack")) {
		if (!need(cl, false, false, true, false))
			return EXIT_USAGE;
		if (!cl->into) {
			log_err("cache unpack: needs --into DIR");
			return EXIT_USAGE;
		}
		return cache_unpack(c, cl, out);
	}
	log_err("cache: unknown subcommand %s (add, import, export, list, "
		"verify, prune, unpack)",
		s);
	return EXIT_USAGE;
}
