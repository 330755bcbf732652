/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_CHILD_H
#define DKMS_BOOT_CHILD_H

#include <sys/types.h>

#include "lib/util.h"

/*
 * The one child-process supervisor: whoever forks a helper (the build
 * sandbox, the bash evaluator, sign-file) waits for it here, so that the
 * time limit, the kill of the whole process group, the reaping and the
 * meaning of an exit status are the same everywhere.
 *
 * A child to be supervised should be the leader of its own process group
 * (setpgid or setsid), so that killing the group reaches everything it
 * started in the foreground or background.
 */

/* Absolute CLOCK_MONOTONIC deadline, in ns, timeout_ms from now; 0 (no
 * deadline) for 0. */
unsigned long long child_deadline(unsigned timeout_ms);

/*
 * Wait until fd is readable or the deadline passes.  Returns 1 when
 * readable (or hung up), 0 when the deadline passed, or a negative errno.
 */
int child_poll(int fd, unsigned long long deadline);

/* SIGKILL pid's process group and pid itself; gone ones are no error. */
void child_kill_group(pid_t pid);

/* waitpid(pid), retried on EINTR.  Returns 0 or a negative errno. */
int child_reap(pid_t pid, int *status);

/*
 * Wait for pid to exit, at most until deadline (0: none), then kill its
 * process group (what it left behind dies with it) and reap it.  pidfd
 * is pidfd_open(pid) or -1, where the kernel has none (before 5.3): then
 * the exit is polled every few ms.  Returns 0 with the wait status in
 * *status, -ETIME when the deadline passed (pid and group killed and
 * reaped), or another negative errno (pid killed and reaped if it could
 * be).
 */
int child_wait(pid_t pid, int pidfd, unsigned long long deadline, int *status);

/*
 * Run argv (argv[0] an absolute path) with stdin from /dev/null, stdout
 * and stderr to out_fd (-1: inherited), in its own session, at most
 * timeout_ms (0: none).  For trusted tools (kmod's depmod); package code
 * goes through the sandbox.  Returns the exit code as child_exit_code
 * gives it, -ETIME when the limit killed it, or a negative errno.
 */
int child_run(char *const *argv, int out_fd, unsigned timeout_ms);

/* A wait status as a shell reports it: the exit status (0-255), or 128+N
 * when killed by signal N. */
int child_exit_code(int status);

#endif
