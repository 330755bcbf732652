// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dkms's own archives (dkms mktarball / ldtarball) in and out of the
 * cache: an import takes only the bytes of the archive's modules and
 * dkms.conf, never a member's mode, owner or name beyond the layout dkms
 * writes; an export is what real `dkms ldtarball` loads.
 */
#include <fcntl.h>
#include <time.h>

#include "cache/internal.h"
#include "cache/tar.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/rootfs.h"
#include "module/compress.h"

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

static int import_kernel(struct dkb_ctx *c, const struct cache_opts *o,
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
		r = cache_add_set(c, o, m, v, k, a, &s, origin, ch);
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

int cache_import(struct dkb_ctx *c, const struct cache_opts *o,
		 const char *file, const char *kernel)
{
	_cleanup_(freep) char *raw = NULL, *tarbuf = NULL, *m = NULL, *v = NULL;
	_cleanup_(freep) char *tmp_in = NULL, *origin = NULL;
	struct imported im = {0};
	const struct tar_file *cf = NULL;
	char why[512] = "";
	size_t rl = 0, tl = 0, done = 0;
	int r = read_file(file, TARBALL_MAX, &raw, &rl);

	if (r == 0)
		r = decompress_buffer(compress_detect(raw, rl), raw, rl,
				      TARBALL_MAX, &tarbuf, &tl);
	if (r == 0)
		r = tar_read(tarbuf, tl, NULL, collect_entry, &im, why,
			     sizeof(why));
	if (r < 0) {
		log_err("cache import %s: %s", file, *why ? why : strerror(-r));
		goto out;
	}
	r = import_identity(c, &im, &cf, &m, &v, &tmp_in);
	if (r < 0) {
		log_err("cache import %s: not a dkms tarball: no usable "
			"dkms.conf in dkms_binaries_only/ or dkms_source_tree/",
			file);
		goto out;
	}
	origin = xasprintf("tarball:%s",
			   strrchr(file, '/') ? strrchr(file, '/') + 1 : file);
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
		if (kernel && !streq(kernel, k))
			continue;
		r = import_kernel(c, o, &im, cf, m, v, k, a, &tmp_in, origin);
		done += r == 0;
	}
	if (r == 0 && !done) {
		log_err("cache import %s: no built modules in the archive%s%s",
			file, kernel ? " for " : "", kernel ? kernel : "");
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
	return r;
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

int cache_export(const struct dkb_ctx *c, const struct cache_opts *o,
		 const char *m, const char *v, const char *k, const char *a,
		 const char *file, char **path)
{
	struct cache_entry e = {.dirfd = -1};
	struct tar_writer w = {.mtime = time(NULL)};
	_cleanup_(freep) void *gz = NULL;
	char why[512] = "";
	size_t gl = 0;
	int r = cache_entry_open(c, o, m, v, k, a, &e, why, sizeof(why));

	*path = NULL;
	if (r == 0)
		r = export_tar(&e, &w, why, sizeof(why));
	if (r == 0)
		r = compress_buffer(COMPRESS_GZ, w.buf, w.len, &gz, &gl);
	if (r == 0) {
		*path = file ? strdup(file)
			     : xasprintf("%s-%s-kernel%s-%s.dkms.tar.gz", m, v,
					 k, a);
		r = *path ? write_file_atomic(*path, gz, gl, 0644) : -ENOMEM;
	}
	if (r < 0) {
		log_err("cache export %s/%s for %s/%s: %s", m, v, k, a,
			*why ? why : strerror(-r));
		free(*path);
		*path = NULL;
	}
	tar_writer_free(&w);
	cache_entry_close(&e);
	return r;
}
