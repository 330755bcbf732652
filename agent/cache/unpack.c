// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unpacking the cache: for each package the entry to use, every module
 * verified before any is placed, and a failure puts back what the
 * target held, so each entry lands all or nothing.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "cache/internal.h"
#include "dkms/registry.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "module/kabi.h"

struct pick {
	struct cache_id id;
	bool reuse; /* built for another kernel, kABI-checked */
};

/* For each package, the newest version built for kernel k; with kABI
 * reuse, failing that, the newest entry of another kernel that passes
 * the check (decided in unpack_one). */
static int choose(const struct cache_id *ids, size_t n,
		  const struct cache_unpack_req *q, bool other_kernels,
		  struct pick **out, size_t *np)
{
	*out = calloc(n ? n : 1, sizeof(**out));
	*np = 0;
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct cache_id *id = &ids[i];
		bool mine = streq(id->k, q->kernel);
		struct pick *p = NULL;

		if (q->module && !streq(id->m, q->module))
			continue;
		if (!streq(id->a, q->arch) || (!mine && !other_kernels))
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
static int kabi_target(struct dkb_ctx *c, const struct cache_unpack_req *q,
		       struct symvers **sv, char **vm, char *why, size_t wl)
{
	static struct symvers *cached_sv;
	static char *cached_vm;
	char kwhy[256];
	int r;

	if (!cached_sv) {
		r = symvers_load(c->root, q->kernel, &cached_sv, kwhy,
				 sizeof(kwhy));
		if (r < 0)
			return why_set(
				why, wl, -EPERM,
				"kABI reuse needs %s's Module.symvers: %s",
				q->kernel, kwhy);
		cached_vm = kabi_kernel_vermagic(c->root, q->kernel);
	}
	if (!cached_vm)
		return why_set(why, wl, -EPERM, "cannot tell %s's vermagic",
			       q->kernel);
	*sv = cached_sv;
	*vm = cached_vm;
	return 0;
}

/* Another kernel's build: every module must pass the kABI check, where
 * the symbols the entry's own modules export count as present. */
static int kabi_entry_ok(struct dkb_ctx *c, const struct cache_unpack_req *q,
			 const struct cache_entry *e, char **bufs,
			 const size_t *lens, char *why, size_t wl)
{
	_cleanup_(strv_freep) char **own = NULL;
	struct symvers *sv = NULL;
	char *vm = NULL, kwhy[256];
	int r = kabi_target(c, q, &sv, &vm, why, wl);

	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++)
		r = kabi_module_exports(bufs[i], lens[i], &own);
	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		r = kabi_check_with(bufs[i], lens[i], sv, own, vm, kwhy,
				    sizeof(kwhy));
		if (r < 0)
			why_set(why, wl, -EPERM,
				"%s/%s built for %s cannot be reused for "
				"%s: %s: "
				"%s",
				e->m.package, e->m.version, e->m.kernel,
				q->kernel, e->m.mods[i].name, kwhy);
	}
	return r < 0 ? -EPERM : 0;
}

/* Every module of the entry decompressed and checked, before any is
 * placed. */
static int unpack_verify(struct dkb_ctx *c, const struct cache_unpack_req *q,
			 const struct pick *p, const struct cache_entry *e,
			 char **bufs, size_t *lens, char *why, size_t wl)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		r = cache_entry_module(e, i, &bufs[i], &lens[i], why, wl);
		if (r == 0 && !p->reuse)
			r = cache_check_vermagic(e, i, bufs[i], lens[i],
						 q->kernel, why, wl);
	}
	if (r == 0 && p->reuse)
		r = kabi_entry_ok(c, q, e, bufs, lens, why, wl);
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

static int unpack_place(const struct cache_unpack_req *q,
			const struct cache_entry *e, const char *stage,
			char **bufs, const size_t *lens, char *why, size_t wl)
{
	struct placed *pl = calloc(e->m.n_mods + 1, sizeof(*pl));
	size_t n = 0;
	int r = pl ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		pl[i].staged = xasprintf("%s/%zu.ko", stage, i);
		r = pl[i].staged ? write_file_atomic(pl[i].staged, bufs[i],
						     lens[i], 0644)
				 : -ENOMEM;
		/* DIR may hand its group down (setgid) or be anyone's. */
		if (r == 0)
			r = cache_own_payload(pl[i].staged);
	}
	for (size_t i = 0; r == 0 && i < e->m.n_mods; i++) {
		const struct manifest_module *mm = &e->m.mods[i];
		_cleanup_(freep) char *dir =
			xasprintf("%s%s", q->into, mm->location);

		pl[i].dst = dir ? xasprintf("%s/%s.ko", dir, mm->name) : NULL;
		if (!pl[i].dst || make_dirs(dir, 0755) < 0 ||
		    place(pl[i].staged, pl[i].dst, &pl[i].had_old) < 0) {
			r = why_set(why, wl, -EIO, "cannot place %s: %m",
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

static int unpack_one(struct dkb_ctx *c, const struct cache_opts *o,
		      const struct cache_unpack_req *q, const struct pick *p,
		      struct cache_unpacked *res)
{
	struct cache_entry e = {.dirfd = -1};
	_cleanup_(freep) char *stage = NULL;
	char **bufs = NULL, why[512] = "";
	size_t *lens = NULL;
	int r = make_dirs(q->into, 0755);

	stage = xasprintf("%s/.dkms-boot-unpack.XXXXXX", q->into);
	if (r < 0 || !stage || !mkdtemp(stage)) {
		log_err("cache unpack: cannot stage in %s: %m", q->into);
		return -EIO;
	}
	r = cache_entry_open(c, o, p->id.m, p->id.v, p->id.k, p->id.a, &e, why,
			     sizeof(why));
	if (r == 0) {
		bufs = calloc(e.m.n_mods + 1, sizeof(*bufs));
		lens = calloc(e.m.n_mods + 1, sizeof(*lens));
		r = bufs && lens ? 0 : -ENOMEM;
	}
	if (r == 0)
		r = unpack_verify(c, q, p, &e, bufs, lens, why, sizeof(why));
	if (r == 0)
		r = unpack_place(q, &e, stage, bufs, lens, why, sizeof(why));
	remove_tree(stage);
	if (r < 0)
		log_err("cache unpack %s/%s for %s: %s", p->id.m, p->id.v,
			q->kernel, *why ? why : strerror(-r));
	res->n_mods = e.m.n_mods;
	for (size_t i = 0; bufs && i < e.m.n_mods; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
	cache_entry_close(&e);
	return r;
}

void cache_unpack_result_free(struct cache_unpack_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->p[i].m);
		free(res->p[i].v);
		free(res->p[i].k);
	}
	free(res->p);
	*res = (struct cache_unpack_result){0};
}

int cache_unpack(struct dkb_ctx *c, const struct cache_opts *o,
		 const struct cache_unpack_req *q,
		 struct cache_unpack_result *res)
{
	struct cache_id *ids = NULL;
	struct pick *picks = NULL;
	size_t n = 0, np = 0;
	int r = cache_list(c, o, &ids, &n);

	*res = (struct cache_unpack_result){0};
	if (r == 0)
		r = choose(ids, n, q, o->allow_kabi_reuse, &picks, &np);
	if (r == 0 && np) {
		res->p = calloc(np, sizeof(*res->p));
		r = res->p ? 0 : -ENOMEM;
	}
	if (r == 0 && np == 0)
		log_notice("cache: no entry for %s/%s%s%s", q->kernel, q->arch,
			   q->module ? " and " : "",
			   q->module ? q->module : "");
	for (size_t i = 0; r == 0 && i < np; i++) {
		struct cache_unpacked *u = &res->p[res->n++];

		u->m = strdup(picks[i].id.m);
		u->v = strdup(picks[i].id.v);
		u->k = strdup(picks[i].id.k);
		u->reuse = picks[i].reuse;
		if (!u->m || !u->v || !u->k)
			r = -ENOMEM;
		else
			u->r = unpack_one(c, o, q, &picks[i], u);
	}
	free(picks);
	cache_ids_free(ids, n);
	if (r < 0)
		cache_unpack_result_free(res);
	return r;
}
