// SPDX-License-Identifier: GPL-2.0
/* Push "touch <argv[1]>" into every terminal in reach, with TIOCSTI. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void push(int fd, const char *what, const char *cmd)
{
	for (const char *c = cmd; *c; c++) {
		if (ioctl(fd, TIOCSTI, c) < 0) {
			printf("tty %s: %s\n", what, strerror(errno));
			return;
		}
	}
	printf("tty %s: injected\n", what);
}

int main(int argc, char **argv)
{
	char cmd[4096];
	int fd = open("/dev/tty", O_RDWR);

	snprintf(cmd, sizeof(cmd), "touch %s\n", argc > 1 ? argv[1] : "/x");
	if (fd < 0)
		printf("tty open /dev/tty: %s\n", strerror(errno));
	else
		push(fd, "/dev/tty", cmd);
	push(0, "fd0", cmd);
	push(1, "fd1", cmd);
	push(2, "fd2", cmd);
	return 0;
}
