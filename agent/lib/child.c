// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Supervising a forked child: deadline, kill of its process group, reap
 * and exit status.  The child stays a zombie until child_wait reaps it,
 * and a zombie's pid cannot be reused, so killing its group by pid is
 * safe until then.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/child.h"

#define POLL_STEP_MS 5

unsigned long long child_deadline(unsigned timeout_ms)
{
	return timeout_ms ? now_ns() + timeout_ms * 1000000ULL : 0;
}

/* poll's timeout for the deadline: -1 none, 0 passed. */
static int remaining_ms(unsigned long long deadline)
{
	unsigned long long now = now_ns();

	if (!deadline)
		return -1;
	if (now >= deadline)
		return 0;
	/* Round up: poll must not return just before the deadline. */
	return (int)((deadline - now + 999999) / 1000000);
}

int child_poll(int fd, unsigned long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (;;) {
		int r = poll(&pfd, 1, remaining_ms(deadline));

		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

void child_kill_group(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGKILL);
	/* In case the child died before its setpgid and ours lost the race. */
	kill(pid, SIGKILL);
}

int child_reap(pid_t pid, int *status)
{
	int st;

	while (waitpid(pid, status ? status : &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* 1: pid has exited, still unreaped, 0: deadline passed, <0: error. */
static int wait_exit(pid_t pid, int pidfd, unsigned long long deadline)
{
	if (pidfd >= 0)
		return child_poll(pidfd, deadline);
	/* No pidfd (before Linux 5.3): look every few ms. */
	for (;;) {
		siginfo_t si = {0};
		struct timespec ts = {.tv_nsec = POLL_STEP_MS * 1000000L};
		int left = remaining_ms(deadline);
		int r = waitid(P_PID, (id_t)pid, &si,
			       WEXITED | WNOHANG | WNOWAIT);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (si.si_pid == pid)
			return 1;
		if (left == 0)
			return 0;
		if (left > 0 && left < POLL_STEP_MS)
			ts.tv_nsec = left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

int child_wait(pid_t pid, int pidfd, unsigned long long deadline, int *status)
{
	int r = wait_exit(pid, pidfd, deadline);
	int rr, st = 0;

	/* Whatever happened, nothing of the child's group stays behind. */
	child_kill_group(pid);
	rr = child_reap(pid, &st);
	if (status)
		*status = st;
	if (r == 0)
		return -ETIME;
	if (r < 0)
		return r;
	return rr;
}

int child_exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int child_run(char *const *argv, int out_fd, unsigned timeout_ms)
{
	unsigned long long deadline = child_deadline(timeout_ms);
	_cleanup_(closep) int pidfd = -1;
	int status, r;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setsid();
		if (null < 0 || dup2(null, 0) < 0 ||
		    (out_fd >= 0 &&
		     (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	r = child_wait(pid, pidfd, deadline, &status);
	return r < 0 ? r : child_exit_code(status);
}
