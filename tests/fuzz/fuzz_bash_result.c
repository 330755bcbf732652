// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What parses bash's output: whatever a conf managed to make the script
 * print, the reader keeps only whitelisted names, never reads past the
 * buffer and either takes a well-formed result or refuses it whole.
 */
#include <stdint.h>

#include "conf/bash.h"
#include "conf/readconf.h"
#include "conf/vars.h"

static bool whitelisted(const char *name)
{
	for (const char *const *w = dkms_conf_whitelist; *w; w++)
		if (streq(*w, name))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *copy = malloc(size ? size : 1);
	int r;

	if (!copy)
		return 0;
	/* An exact-size copy: ASan sees any read past the end. */
	memcpy(copy, data, size);
	r = conf_bash_parse_result(copy, size, dkms_conf_whitelist, &out);
	if (r != 0 && r != -EPROTO && r != -ENOMEM && r != -EINVAL &&
	    r != -ERANGE)
		__builtin_trap();
	if (r != 0 && out.n != 0)
		__builtin_trap(); /* all or nothing */
	for (size_t i = 0; i < out.n; i++)
		if (!whitelisted(out.v[i].name))
			__builtin_trap();
	return 0;
}
