// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: the module state cache parser and writer. */
#include <stdint.h>

#include "dkms/statecache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_cache sc = {0};
	bool eq;
	const char *vm;

	if (state_cache_parse((const char *)data, size, &sc) == 0) {
		/* Whatever parsed must be usable and re-writable. */
		for (size_t i = 0; i < sc.n; i++) {
			struct state_rec *r = &sc.r[i];

			if (r->kind == 'E')
				state_get_equal(&sc, r->path_a, r->id_a,
						r->path_b, r->id_b, &eq);
			else
				state_get_vermagic(&sc, r->path_a, r->id_a,
						   &vm);
		}
		state_put_vermagic(&sc, "/x.ko", "1:2:3:4:5", "6.1.0 SMP");
	}
	state_cache_free(&sc);
	return 0;
}
