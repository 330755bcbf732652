// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: boot settings from a settings file and from a kernel
 * command line.  Whatever the input, every setting stays in its range,
 * every module name to load matches the grammar, and a refusal always
 * says why.  Anything else is a bug: abort.
 */
#include <stdint.h>

#include "boot/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct boot_settings *s)
{
	if (s->timeout_s < 1 || s->timeout_s > BOOT_TIMEOUT_MAX_S)
		abort();
	if (strv_length(s->load) > BOOT_LOAD_MAX)
		abort();
	for (char **l = s->load; l && *l; l++) {
		size_t n = strlen(*l);

		if (n == 0 || n > BOOT_MODULE_NAME_MAX ||
		    strspn(*l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
			       "VWXYZ0123456789_-") != n)
			abort();
	}
	for (char **w = s->refused; w && *w; w++)
		if (!strstr(*w, "refused: ") || strlen(*w) > 512)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct boot_settings s;

	boot_settings_init(&s);
	if (boot_settings_apply_file(&s, (const char *)data, size, "f") < 0)
		abort();
	check_invariants(&s);
	if (boot_settings_apply_cmdline(&s, (const char *)data, size) < 0)
		abort();
	check_invariants(&s);
	boot_settings_free(&s);
	return 0;
}
