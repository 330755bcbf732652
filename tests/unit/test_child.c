// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The child supervisor: exit statuses as a shell reports them, the time
 * limit, the kill of the whole process group, and the fallback without
 * a pidfd.
 */
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "unit.h"
#include "lib/child.h"

/* Fork a child that leads its own group and runs script with sh. */
static pid_t spawn(const char *script)
{
	pid_t pid = fork();

	if (pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

/* Run script under child_wait; returns child_wait's result. */
static int run(const char *script, unsigned timeout_ms, bool use_pidfd,
	       int *status)
{
	pid_t pid = spawn(script);
	_cleanup_(closep) int pidfd = -1;

	assert_true(pid > 0);
	if (use_pidfd) {
		pidfd = pidfd_open(pid, 0);
		assert_true(pidfd >= 0);
	}
	return child_wait(pid, pidfd, child_deadline(timeout_ms), status);
}

static void test_exit_codes(void **state)
{
	int status;

	for (int pidfd = 0; pidfd < 2; pidfd++) {
		assert_int_equal(run("exit 0", 0, pidfd, &status), 0);
		assert_int_equal(child_exit_code(status), 0);
		assert_int_equal(run("exit 7", 5000, pidfd, &status), 0);
		assert_int_equal(child_exit_code(status), 7);
		assert_int_equal(run("exit 255", 5000, pidfd, &status), 0);
		assert_int_equal(child_exit_code(status), 255);
		assert_int_equal(run("kill -9 $$", 5000, pidfd, &status), 0);
		assert_int_equal(child_exit_code(status), 128 + SIGKILL);
		assert_int_equal(run("kill -TERM $$", 5000, pidfd, &status), 0);
		assert_int_equal(child_exit_code(status), 128 + SIGTERM);
	}
}

/* The deadline kills and reaps, with or without a pidfd, on time. */
static void test_deadline(void **state)
{
	for (int pidfd = 0; pidfd < 2; pidfd++) {
		unsigned long long t0 = now_ns();
		int status = 0;

		assert_int_equal(run("sleep 100", 300, pidfd, &status), -ETIME);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
		assert_true(now_ns() - t0 >= 300000000ULL);
		assert_true(now_ns() - t0 < 2000000000ULL);
	}
}

/* A background job of the child's group dies when the child ends. */
static void test_group_killed(void **state)
{
	_cleanup_(freep) char *dir = unit_tmpdir();
	_cleanup_(freep) char *pidf = path_join(dir, "pid");
	_cleanup_(freep) char *script =
		xasprintf("sleep 100 & echo $! > '%s'; exit 3", pidf);
	_cleanup_(freep) char *buf = NULL;
	int status, tries = 0;
	pid_t bg;

	assert_int_equal(run(script, 5000, true, &status), 0);
	assert_int_equal(child_exit_code(status), 3);
	assert_int_equal(read_file(pidf, 64, &buf, NULL), 0);
	bg = atoi(buf);
	assert_true(bg > 0);
	/* SIGKILL is delivered, not awaited; the sleeper is init's child. */
	while (kill(bg, 0) == 0 && tries++ < 200) {
		char path[64];
		_cleanup_(freep) char *stat = NULL;

		snprintf(path, sizeof(path), "/proc/%d/stat", bg);
		if (read_file(path, 4096, &stat, NULL) == 0 &&
		    strstr(stat, ") Z "))
			break;
		usleep(10000);
	}
	if (kill(bg, 0) == 0) {
		char path[64];
		_cleanup_(freep) char *stat = NULL;

		snprintf(path, sizeof(path), "/proc/%d/stat", bg);
		assert_int_equal(read_file(path, 4096, &stat, NULL), 0);
		assert_non_null(strstr(stat, ") Z "));
	}
	unit_sh("rm -rf '%s'", dir);
}

static void test_poll(void **state)
{
	int pfd[2];
	unsigned long long t0 = now_ns();

	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(child_poll(pfd[0], child_deadline(100)), 0);
	assert_true(now_ns() - t0 >= 100000000ULL);
	assert_int_equal(write(pfd[1], "x", 1), 1);
	assert_int_equal(child_poll(pfd[0], 0), 1);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(child_deadline(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_group_killed),
		cmocka_unit_test(test_poll),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
