// SPDX-License-Identifier: GPL-2.0
/* Read dkb_attack_secret from the session keyring we inherited. */
#include <errno.h>
#include <linux/keyctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	char buf[256];
	long id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING,
			  "user", "dkb_attack_secret", 0);
	long n;

	if (id < 0) {
		printf("keyring search: %s\n", strerror(errno));
		return 0;
	}
	n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, sizeof(buf) - 1);
	if (n < 0)
		printf("keyring read: %s\n", strerror(errno));
	else
		printf("keyring read: %.*s\n", (int)n, buf);
	return 0;
}
