// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dkms's read_conf() post-processing on a variable set built from the
 * input, patterns included: MAKE_MATCH, PATCH_MATCH and BUILD_EXCLUSIVE_*
 * are package-supplied regular expressions, and one of them must never
 * crash or hang the caller.  Input: lines "NAME[i]=value" or "NAME=value"
 * (the variables), then optionally a line "%%" and the kernel's .config.
 */
#include <stdint.h>

#include "conf/readconf.h"
#include "conf/vars.h"

/* Bounded so that the fuzzer explores logic, not allocation sizes. */
#define MAX_INDEX 64

static void add_line(struct vars *vs, const char *l, size_t n)
{
	_cleanup_(freep) char *name = NULL, *val = NULL;
	const char *eq = memchr(l, '=', n), *br;
	size_t nl, idx = 0;

	if (!eq)
		return;
	nl = (size_t)(eq - l);
	br = memchr(l, '[', nl);
	if (br && nl > 0 && l[nl - 1] == ']') {
		for (const char *p = br + 1; p < l + nl - 1; p++) {
			if (*p < '0' || *p > '9')
				return;
			idx = idx * 10 + (size_t)(*p - '0');
			if (idx > MAX_INDEX)
				return;
		}
		nl = (size_t)(br - l);
	}
	name = strndup(l, nl);
	val = strndup(eq + 1, n - (size_t)(eq - l) - 1);
	if (name && val)
		vars_set(vs, name, idx, val);
}

static void check_conf(const struct dkms_conf *c)
{
	const char *strs[] = {c->package_name, c->package_version,
			      c->make_command, c->clean};

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (!strs[i])
			__builtin_trap();
	if (!c->errors || !c->patches)
		__builtin_trap();
	for (size_t i = 0; i < c->n_mods; i++)
		if (!c->mods[i].built_name || !c->mods[i].dest_name ||
		    !c->mods[i].dest_location)
			__builtin_trap();
	if (c->build_exclude && !c->exclude_reason)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;
	_cleanup_(freep) char *text = strndup((const char *)data, size);
	struct dkms_conf c = {0};
	struct dkms_conf_ctx ctx = {
		.conf_file = "/var/lib/dkms/fuzz/1.0/source/dkms.conf",
		.kernelver = "6.1.0-9-amd64",
		.arch = "x86_64",
		.kernel_source_dir = "/lib/modules/6.1.0-9-amd64/build",
		.dkms_tree = "/var/lib/dkms",
		.module = "fuzz",
		.module_version = "1.0",
		.dest_override = "/updates/dkms",
	};
	char reason[256];
	char *l, *kconfig;

	if (!text)
		return 0;
	kconfig = strstr(text, "\n%%\n");
	if (kconfig) {
		*kconfig = '\0';
		ctx.kconfig = kconfig + 4;
	}
	for (l = text; *l;) {
		size_t n = strcspn(l, "\n");

		add_line(&vs, l, n);
		l += n + (l[n] ? 1 : 0);
	}
	if (dkms_conf_resolve(&vs, &ctx, &c) == 0) {
		check_conf(&c);
		dkms_conf_validate_names(&c, reason, sizeof(reason));
		dkms_conf_free(&c);
	}
	return 0;
}
