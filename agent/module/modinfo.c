// SPDX-License-Identifier: GPL-2.0-or-later
/* Module metadata through libkmod, never by running modinfo. */
#include <libkmod.h>

#include "module/modinfo.h"

static struct kmod_ctx *shared_ctx;

/* One context per process.  An empty config list: we only read files,
 * so parsing /etc/modprobe.d would be wasted work at boot. */
static struct kmod_ctx *ctx_get(void)
{
	static const char *const no_config[] = {NULL};

	if (!shared_ctx)
		shared_ctx = kmod_new("/nonexistent", no_config);
	return shared_ctx;
}

void modinfo_free(struct modinfo *mi)
{
	free(mi->version);
	free(mi->srcversion);
	free(mi->vermagic);
	free(mi->depends);
	free(mi->signer);
	free(mi->sig_key);
	free(mi->sig_id);
	*mi = (struct modinfo){0};
}

static int take(char **field, const char *value)
{
	char *v = strdup(value ? value : "");

	if (!v)
		return -ENOMEM;
	free(*field);
	*field = v;
	return 0;
}

static int fill(struct modinfo *mi, const char *key, const char *value)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{"version", offsetof(struct modinfo, version)},
		{"srcversion", offsetof(struct modinfo, srcversion)},
		{"vermagic", offsetof(struct modinfo, vermagic)},
		{"depends", offsetof(struct modinfo, depends)},
		{"signer", offsetof(struct modinfo, signer)},
		{"sig_key", offsetof(struct modinfo, sig_key)},
		{"sig_id", offsetof(struct modinfo, sig_id)},
	};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (streq(key, fields[i].key))
			return take((char **)((char *)mi + fields[i].off),
				    value);
	return 0;
}

static void kmod_module_unrefp(struct kmod_module **m)
{
	if (*m)
		kmod_module_unref(*m);
}

static void kmod_module_info_free_listp(struct kmod_list **l)
{
	if (*l)
		kmod_module_info_free_list(*l);
}

int modinfo_read(const char *path, struct modinfo *mi)
{
	_cleanup_(kmod_module_unrefp) struct kmod_module *mod = NULL;
	_cleanup_(kmod_module_info_free_listp) struct kmod_list *list = NULL;
	struct kmod_ctx *ctx = ctx_get();
	struct kmod_list *l;
	int r;

	*mi = (struct modinfo){0};
	if (!ctx)
		return -ENOMEM;
	r = kmod_module_new_from_path(ctx, path, &mod);
	if (r < 0)
		return r;
	r = kmod_module_get_info(mod, &list);
	if (r < 0)
		return r == -ENOENT ? -ENOENT : -ENOEXEC;
	kmod_list_foreach(l, list)
	{
		r = fill(mi, kmod_module_info_get_key(l),
			 kmod_module_info_get_value(l));
		if (r < 0) {
			modinfo_free(mi);
			return r;
		}
	}
	return 0;
}

const char *vermagic_release(const char *vermagic, char *buf, size_t len)
{
	size_t n;

	if (!vermagic || len == 0)
		return NULL;
	vermagic += strspn(vermagic, " \t");
	n = strcspn(vermagic, " \t");
	if (n == 0 || n >= len)
		return NULL;
	memcpy(buf, vermagic, n);
	buf[n] = '\0';
	return buf;
}
