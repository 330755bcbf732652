// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the zstd, xz and gzip decoders behind
 * decompress_file(), each given every input whatever its magic, with a
 * small output cap so that bombs show up as -EFBIG and not as timeouts.
 */
#include <stdint.h>

#include "module/compress.h"

#define FUZZ_MAX (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum compress_kind kinds[] = {COMPRESS_NONE, COMPRESS_GZ,
						   COMPRESS_XZ, COMPRESS_ZST};

	(void)compress_detect(data, size);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		char *out = NULL;
		size_t len = 0;
		int r = decompress_buffer(kinds[i], data, size, FUZZ_MAX, &out,
					  &len);

		if (r == 0) {
			/* The contract: capped and NUL-terminated. */
			if (len > FUZZ_MAX || out[len] != '\0')
				__builtin_trap();
			free(out);
		} else if (out ||
			   (r != -EFBIG && r != -EBADMSG && r != -ENOMEM)) {
			__builtin_trap();
		}
	}
	return 0;
}
