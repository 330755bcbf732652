// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The framework's inputs: an os-release (which distribution, hence which
 * install location) and a framework.conf or /etc/dkms override file read
 * natively with dkms's framework whitelist.  Input: the os-release text,
 * then optionally a line "%%" and the conf text.
 */
#include <stdint.h>

#include "conf/native.h"
#include "conf/readconf.h"
#include "conf/vars.h"
#include "dkms/context.h"

static void framework_conf(const char *text, size_t len)
{
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;
	struct conf_diag d;
	int r;

	if (vars_set(&vs, "dkms_tree", 0, "/var/lib/dkms") < 0 ||
	    vars_set(&vs, "source_tree", 0, "/usr/src") < 0)
		return;
	r = conf_native_source(text, len, &vs, &d);
	if (r != 0 && r != -ENOTSUP && r != -ENOMEM)
		__builtin_trap();
	for (const char *const *w = dkms_framework_whitelist; *w; w++) {
		struct var *v = vars_find(&vs, *w);

		for (size_t j = 0; v && j < v->n; j++) {
			_cleanup_(freep) char *copy = NULL;

			if (!v->vals[j])
				continue;
			copy = strdup(v->vals[j]);
			if (copy)
				conf_native_reexport(copy, &d);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(freep) char *text = strndup((const char *)data, size);
	_cleanup_(freep) char *dist = NULL;
	char *conf;

	if (!text)
		return 0;
	conf = strstr(text, "\n%%\n");
	if (conf) {
		*conf = '\0';
		conf += 4;
	}
	dist = dkb_distribution_parse(text);
	if (!dist)
		return 0;
	if (strchr(dist, '\n'))
		__builtin_trap(); /* one line of os-release, one value */
	(void)dkb_dest_override(dist);
	if (conf)
		framework_conf(conf, strlen(conf));
	return 0;
}
