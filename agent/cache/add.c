// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Adding a cache entry: written in a hidden sibling directory, every
 * file the cache's own (root, 0644), and swapped into place, so readers
 * see the old entry or the new one, never half of each.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "cache/internal.h"
#include "dkms/registry.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/rootfs.h"
#include "module/compress.h"
#include "module/modinfo.h"
#include "module/modsig.h"

/* dkms.conf files are small; anything bigger is not one. */
#define CONF_MAX (1 << 20)

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
		return why_set(why, wl, -EBADMSG,
			       "%s: not a kernel module (%s)", mm->name,
			       strerror(-r));
	if (!mi.vermagic || !*mi.vermagic)
		return why_set(why, wl, -EBADMSG,
			       "%s: the module has no vermagic", mm->name);
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
	if (!cache_safe_component(mm->name))
		return why_set(why, wl, -EINVAL,
			       "\"%s\": not a safe module name", mm->name);
	mm->size = src->lens[i];
	cache_sha256_hex(src->data[i], src->lens[i], hex);
	mm->sha256 = strdup(hex);
	r = compress_buffer(COMPRESS_ZST, src->data[i], src->lens[i], &z, &zl);
	if (r < 0)
		return why_set(why, wl, r, "%s: cannot compress: %s", mm->name,
			       strerror(-r));
	host = path_join(tmp_host, mm->file);
	if (!host || !mm->sha256)
		return -ENOMEM;
	r = write_file_atomic(host, z, zl, 0644);
	if (r == 0)
		r = cache_own_payload(host);
	if (r < 0)
		return why_set(why, wl, r, "%s: %s", host, strerror(-r));
	(void)dirfd;
	return describe(host, src->data[i], src->lens[i], mm, why, wl);
}

/* A file the entry keeps (dkms.conf): its bytes, never its mode. */
static int copy_payload(const char *src, const char *dst)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	int r = read_file(src, CONF_MAX, &buf, &len);

	if (r == 0)
		r = write_file_atomic(dst, buf, len, 0644);
	return r < 0 ? r : cache_own_payload(dst);
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
			r = why_set(
				why, wl, -EBADMSG,
				"%s: vermagic \"%s\" is not for %s; not added",
				man->mods[i].name, man->mods[i].vermagic,
				man->kernel);
	}
	if (r == 0 && src->conf_host) {
		_cleanup_(freep) char *dst = path_join(tmp_host, "dkms.conf");

		r = dst ? copy_payload(src->conf_host, dst) : -ENOMEM;
		if (r < 0)
			why_set(why, wl, r, "%s: %s", src->conf_host,
				strerror(-r));
	}
	if (r == 0)
		r = manifest_format(man, &text, &tl);
	if (r == 0)
		r = write_file_atomic(mpath, text, tl, 0644);
	if (r == 0)
		r = cache_own_payload(mpath);
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
		if (!cache_safe_component(parts[i]))
			return why_set(why, wl, -EINVAL,
				       "\"%s\": not a safe name", parts[i]);
	if (!kin || root_path(c->root, kin, &khost) < 0)
		return -ENOMEM;
	r = make_dirs(khost, 0755);
	if (r < 0)
		return why_set(why, wl, r, "%s: %s", kin, strerror(-r));
	tmp = xasprintf("%s/.%s.tmp.XXXXXX", khost, a);
	final = path_join(khost, a);
	if (!tmp || !final || !mkdtemp(tmp))
		return why_set(why, wl, -errno,
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
		why_set(why, wl, r, "%s/%s: %s", kin, a, strerror(-r));
	return r;
}

void mod_set_free(struct mod_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->data[i]);
	free(s->data);
	free(s->lens);
	strv_free(s->names);
	strv_free(s->locations);
	*s = (struct mod_set){0};
}

int mod_set_push(struct mod_set *s, const char *name, const char *loc,
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

int cache_add_set(const struct dkb_ctx *c, const struct cache_opts *o,
		  const char *m, const char *v, const char *k, const char *a,
		  const struct mod_set *s, const char *origin,
		  const char *conf_host)
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

int cache_add_tree(struct dkb_ctx *c, const struct cache_opts *o, const char *m,
		   const char *v, const char *k, const char *a)
{
	_cleanup_(dkms_conf_freep) struct dkms_conf conf = {0};
	_cleanup_(freep) char *mdir = NULL, *conf_in = NULL, *conf_host = NULL;
	struct mod_set s = {0};
	char suffix[8];
	int r;

	r = dkb_read_conf(c, m, v, k, a, NULL, &conf, NULL);
	if (r < 0 || strv_length(conf.errors)) {
		log_err("cache add %s/%s: cannot read dkms.conf%s%s", m, v,
			r < 0 ? "" : ": ", r < 0 ? "" : conf.errors[0]);
		return r < 0 ? r : -EBADMSG;
	}
	reg_module_suffix(c, k, suffix, sizeof(suffix));
	mdir = xasprintf("%s/%s/%s/%s/%s/module", c->dkms_tree, m, v, k, a);
	conf_in = xasprintf("%s/%s/%s/source/dkms.conf", c->dkms_tree, m, v);
	if (!mdir || !conf_in)
		return -ENOMEM;
	for (size_t i = 0; i < conf.n_mods; i++) {
		_cleanup_(freep) char *f = reg_find_module(
			c, mdir, conf.mods[i].dest_name, suffix);
		_cleanup_(freep) char *h = NULL;
		char *buf = NULL;
		size_t len = 0;

		if (!f) {
			log_err("cache add %s/%s: %s is not built for %s/%s", m,
				v, conf.mods[i].dest_name, k, a);
			mod_set_free(&s);
			return -ENOENT;
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
			return r;
		}
	}
	if (root_path(c->root, conf_in, &conf_host) < 0 ||
	    access(conf_host, R_OK) < 0) {
		free(conf_host);
		conf_host = NULL;
	}
	r = cache_add_set(c, o, m, v, k, a, &s, "dkms-tree", conf_host);
	mod_set_free(&s);
	return r;
}
