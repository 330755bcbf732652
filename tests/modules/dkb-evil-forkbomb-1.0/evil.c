// SPDX-License-Identifier: GPL-2.0
/*
 * Fork sleeping children until fork fails (exit 1: make fails) or 3000
 * are running (not contained: exit 0, the build goes on).  Capped so that
 * a broken sandbox does not take the test machine down.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	int n;

	fflush(NULL);
	for (n = 0; n < 3000; n++) {
		pid_t p = fork();

		if (p < 0) {
			printf("bomb: fork failed after %d: %s\n", n,
			       strerror(errno));
			return 1;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
	}
	printf("bomb: %d processes, not contained\n", n);
	return 0;
}
