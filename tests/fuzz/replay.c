// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Replays a fuzz target's saved corpus without libFuzzer, so that the
 * normal (gcc, ASan+UBSan) test build runs every input.  Arguments are
 * files or directories of inputs.  Prints "replayed N inputs".
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	int r = read_file(path, 16 << 20, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
		return r;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent **ents;
		int k;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) < 0)
				return 1;
			n++;
			continue;
		}
		k = scandir(argv[i], &ents, NULL, alphasort);
		if (k < 0) {
			perror(argv[i]);
			return 1;
		}
		for (int j = 0; j < k; j++) {
			_cleanup_(freep) char *p = NULL;

			if (ents[j]->d_name[0] != '.') {
				p = path_join(argv[i], ents[j]->d_name);
				if (!p || replay_file(p) < 0)
					return 1;
				n++;
			}
			free(ents[j]);
		}
		free(ents);
	}
	if (n == 0) {
		fprintf(stderr,
			"replay: no inputs: an empty corpus tests nothing\n");
		return 1;
	}
	printf("replayed %lu inputs\n", n);
	return 0;
}
