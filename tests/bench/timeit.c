// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * timeit: run a command repeatedly and print the median wall time.
 *
 *	timeit [-n RUNS] [-w WARMUP] [-e EXIT] -- CMD [ARG...]
 *
 * Prints one line, "median_us min_us max_us runs median_cpu_us", on
 * stdout: wall times, then the median CPU time (user + system, from
 * wait4), which a busy machine inflates far less than the wall time.
 * The command's own output goes to /dev/null.  Every run, warm-up included,
 * must exit with EXIT (default 0): a benchmark of a command that did
 * something other than what was meant to be measured is worthless, so a
 * wrong status makes timeit fail (exit 1) and name the run.
 *
 * Written for `make bench` instead of using hyperfine: no shell between
 * us and the command, and a fork+exec+wait is all the overhead there is
 * (about 0.1 ms, the same for every tool compared).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 100000

struct opts {
	long runs, warmup;
	int want_exit;
	char **cmd;
};

static void usage(void)
{
	fputs("usage: timeit [-n RUNS] [-w WARMUP] [-e EXIT] -- CMD [ARG...]\n",
	      stderr);
	exit(2);
}

static long parse_long(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		usage();
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){.runs = 20, .warmup = 1, .want_exit = 0};
	while ((c = getopt(argc, argv, "+n:w:e:")) != -1) {
		switch (c) {
		case 'n': o->runs = parse_long(optarg, MAX_RUNS); break;
		case 'w': o->warmup = parse_long(optarg, MAX_RUNS); break;
		case 'e': o->want_exit = (int)parse_long(optarg, 255); break;
		default: usage();
		}
	}
	if (optind >= argc || o->runs < 1)
		usage();
	o->cmd = argv + optind;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double tv_us(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* One run: the wall time in µs (and the CPU time in *cpu), or -1 when
 * the command could not be run or exited with an unexpected status
 * (reported on stderr). */
static double run_once(const struct opts *o, long idx, double *cpu)
{
	double t0 = now_us(), t1;
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("timeit: fork");
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execvp(o->cmd[0], o->cmd);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("timeit: wait4");
		return -1;
	}
	t1 = now_us();
	*cpu = tv_us(&ru.ru_utime) + tv_us(&ru.ru_stime);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != o->want_exit) {
		fprintf(stderr, "timeit: run %ld of %s: %s %d, expected exit %d\n",
			idx, o->cmd[0],
			WIFEXITED(status) ? "exit" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			o->want_exit);
		return -1;
	}
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v. */
static double median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	struct opts o;
	double *t, *cpu, wall_med, cpu_med, unused;

	parse_opts(argc, argv, &o);
	t = calloc((size_t)o.runs, sizeof(*t));
	cpu = calloc((size_t)o.runs, sizeof(*cpu));
	if (!t || !cpu) {
		perror("timeit");
		return 1;
	}
	for (long i = 0; i < o.warmup; i++)
		if (run_once(&o, -1 - i, &unused) < 0)
			return 1;
	for (long i = 0; i < o.runs; i++) {
		t[i] = run_once(&o, i, &cpu[i]);
		if (t[i] < 0)
			return 1;
	}
	wall_med = median(t, o.runs);
	cpu_med = median(cpu, o.runs);
	printf("%.0f %.0f %.0f %ld %.0f\n", wall_med, t[0], t[o.runs - 1],
	       o.runs, cpu_med);
	free(t);
	free(cpu);
	return 0;
}
