// SPDX-License-Identifier: GPL-2.0
/* Create SysV shared memory segments and never remove them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>

int main(void)
{
	for (int i = 0; i < 3; i++) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);

		if (id < 0)
			printf("ipc shmget: %s\n", strerror(errno));
		else
			printf("ipc segment %d\n", id);
	}
	return 0;
}
