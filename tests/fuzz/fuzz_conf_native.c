// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The native dkms.conf reader on arbitrary bytes, then dkms's copy-out
 * folding on every value it produced.  Neither may crash, leak, read out
 * of bounds or hit undefined behaviour; a refusal is a normal outcome.
 */
#include <stdint.h>

#include "conf/native.h"
#include "conf/vars.h"

static const char *const presets[][2] = {
	{"kernelver", "6.1.0-9-amd64"},
	{"arch", "x86_64"},
	{"kernel_source_dir", "/lib/modules/6.1.0-9-amd64/build"},
	{"dkms_tree", "/var/lib/dkms"},
	{"source_tree", "/usr/src"},
	{"install_tree", "/lib/modules"},
	{"module", "foo"},
	{"module_version", "1.0"},
};

static void reexport_all(const struct vars *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		const struct var *v = &vs->v[i];

		for (size_t j = 0; j < v->n; j++) {
			struct conf_diag d;
			char *copy;

			if (!v->vals[j])
				continue;
			copy = strdup(v->vals[j]);
			if (!copy)
				continue;
			if (conf_native_reexport(copy, &d) == 0 &&
			    strlen(copy) > strlen(v->vals[j]))
				__builtin_trap(); /* folding only shrinks */
			free(copy);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;
	struct conf_diag d;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		if (vars_set(&vs, presets[i][0], 0, presets[i][1]) < 0)
			return 0;
	r = conf_native_source((const char *)data, size, &vs, &d);
	if (r != 0 && r != -ENOTSUP && r != -ENOMEM)
		__builtin_trap();
	/* a refusal always says where and why, on one line */
	if (r == -ENOTSUP &&
	    (d.line == 0 || !d.reason[0] || strchr(d.reason, '\n')))
		__builtin_trap();
	if (r == 0 && d.line != 0)
		__builtin_trap();
	reexport_all(&vs);
	return 0;
}
