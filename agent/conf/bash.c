// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Evaluate dkms.conf-style files with bash, the way dkms's safe_source()
 * does, in a child that cannot outlive its time limit.
 *
 * All data reaches bash as positional arguments; the script below is a
 * constant, so nothing a caller or a conf file supplies is ever parsed as
 * script text by us (the conf files themselves are, as in dkms).
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "conf/bash.h"
#include "lib/log.h"

#define DEFAULT_BASH	   "/bin/bash"
#define DEFAULT_TIMEOUT_MS 10000U
#define DEFAULT_MAX_OUTPUT (1024U * 1024U)
/* Enough for a screenful of bash complaints; the rest is dropped. */
#define DIAG_MAX   (16U * 1024U)
#define OWN_PREFIX "__dkb_"
/* Where the script writes its result: a pipe nothing else writes to. */
#define RESULT_FD 3
/* /dev/null opened outside the root: the root's /dev may be empty (the
 * initramfs has not moved its devtmpfs there yet) or read-only, and
 * ">/dev/null" would then fail or create a file. */
#define NULL_FD	  4
#define CHILD_FDS 5

/*
 * $1: count of env triples, then NAME INDEX VALUE for each; then the count
 * of whitelisted names and the names; then the files.
 *
 * Per file, as safe_source: source it in a subshell with stdout to
 * /dev/null (NULL_FD) and "$@" set to the whitelist (dkms shifts the file name
 * off its arguments before sourcing), print NAME[i]="value" through an unquoted
 * eval echo (which folds blanks) and evaluate that text in the parent shell
 * (which expands the value a second time).  The subshell closes RESULT_FD so
 * that nothing the conf runs can write to it; globbing is off only while
 * printing: dkms would glob the words against its working directory.
 *
 * The result goes out as name\0index\0value\0 triples, ended by a fixed
 * __dkb_end triple so that a shell that died half-way is noticed.
 *
 * All of it is one function, as safe_source is one in dkms: bash parses
 * it whole before running it, which matters because an eval that hits an
 * unterminated quote (a value with a '"' in it) leaves bash's parser
 * unable to read the rest of a -c string.  It also gives the conf the
 * same function context as in dkms (declare makes locals, return works).
 */
/* clang-format off */
static const char conf_bash_script[] =
	"shopt -s extglob\n"
	"__dkb_main() {\n"
	"	__dkb_n=$1\n"
	"	shift\n"
	"	while (( __dkb_n-- > 0 )); do\n"
	"		printf -v \"$1[$2]\" %s \"$3\"\n"
	"		shift 3\n"
	"	done\n"
	"	__dkb_wl=(\"${@:2:$1}\")\n"
	"	shift $(($1 + 1))\n"
	"	readonly __dkb_wl\n"
	"	unset -v __dkb_n\n"
	"	for __dkb_e in \"${__dkb_wl[@]}\"; do\n"
	"		unset -v \"$__dkb_e\"\n"
	"	done\n"
	"	for __dkb_f; do\n"
	"		[ -e \"$__dkb_f\" ] || continue\n"
	"		__dkb_out=$(\n"
	"		exec 3>&-\n"
	"		set -- \"${__dkb_wl[@]}\"\n"
	"		. \"$__dkb_f\" >&4 4>&-\n"
	"		set -f\n"
	"		for __dkb_e in \"${__dkb_wl[@]}\"; do\n"
	"			for __dkb_i in \\\n"
	"			    $(eval echo \\${!$__dkb_e[@]}); do\n"
	"				eval echo \\\n"
	"'$__dkb_e[$__dkb_i]=\\\"${'$__dkb_e'[$__dkb_i]}\\\"'\n"
	"			done\n"
	"		done\n"
	"		)\n"
	"		eval \"$__dkb_out\"\n"
	"	done\n"
	"	for __dkb_e in \"${__dkb_wl[@]}\"; do\n"
	"		eval \"__dkb_ix=(\\\"\\${!$__dkb_e[@]}\\\")\"\n"
	"		for __dkb_i in \"${__dkb_ix[@]}\"; do\n"
	"			eval \"__dkb_v=\\${$__dkb_e[__dkb_i]}\"\n"
	"			builtin printf '%s\\0%s\\0%s\\0' \\\n"
	"			    \"$__dkb_e\" \"$__dkb_i\" \"$__dkb_v\"\n"
	"		done\n"
	"	done >&3\n"
	"	builtin printf '%s\\0%s\\0%s\\0' __dkb_end 0 '' >&3\n"
	"}\n"
	"__dkb_main \"$@\" && :\n";
/* clang-format on */

/* The trailer the script ends with; sizeof counts the value's NUL. */
static const char conf_bash_trailer[] = "__dkb_end\0"
					"0\0"
					"";

static char *const conf_bash_envp[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LC_ALL=C",
	NULL,
};

/* What the child reports through the exec pipe when it cannot run bash. */
enum child_stage {
	CHILD_SETUP = 1,
	CHILD_EXEC = 2,
};

struct child_report {
	int stage;
	int err;
};

/* One pipe we read from: the result (bounded) or stderr (truncated). */
struct sink {
	int fd;
	char *buf;
	size_t len, cap, max;
	bool truncate; /* past max: drop (stderr) rather than fail */
};

static void sink_done(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
}

static void strv_free_(char ***v)
{
	strv_free(*v);
	*v = NULL;
}

static bool name_ok(const char *name)
{
	return vars_name_valid(name, strlen(name)) &&
	       !startswith(name, OWN_PREFIX);
}

static int push_fmt_size(char ***argv, size_t n)
{
	_cleanup_(freep) char *s = xasprintf("%zu", n);

	return s ? strv_push(argv, s) : -ENOMEM;
}

/* NAME INDEX VALUE for every set element of env, after their count. */
static int push_env(char ***argv, const struct vars *env)
{
	size_t count = 0;
	int r;

	for (size_t i = 0; env && i < env->n; i++) {
		if (!name_ok(env->v[i].name))
			return -EINVAL;
		count += vars_count(env, env->v[i].name);
	}
	r = push_fmt_size(argv, count);
	for (size_t i = 0; r == 0 && env && i < env->n; i++) {
		const struct var *v = &env->v[i];

		for (size_t j = 0; r == 0 && j < v->n; j++) {
			if (!v->vals[j])
				continue;
			r = strv_push(argv, v->name);
			if (r == 0)
				r = push_fmt_size(argv, j);
			if (r == 0)
				r = strv_push(argv, v->vals[j]);
		}
	}
	return r;
}

static int build_argv(const char *bash, char *const *files,
		      const struct vars *env, const char *const *whitelist,
		      char ***ret)
{
	_cleanup_(strv_free_) char **argv = NULL;
	const char *fixed[] = {bash, "--noprofile",    "--norc",
			       "-c", conf_bash_script, "bash"};
	size_t nwl = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(fixed); i++)
		r = strv_push(&argv, fixed[i]);
	if (r == 0)
		r = push_env(&argv, env);
	while (r == 0 && whitelist && whitelist[nwl])
		if (!name_ok(whitelist[nwl++]))
			r = -EINVAL;
	if (r == 0)
		r = push_fmt_size(&argv, nwl);
	for (size_t i = 0; r == 0 && i < nwl; i++)
		r = strv_push(&argv, whitelist[i]);
	for (size_t i = 0; r == 0 && files && files[i]; i++)
		r = strv_push(&argv, files[i]);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(argv);
	return 0;
}

/* A pipe whose both ends are close-on-exec and whose read end we poll. */
static int make_pipe(int fds[2], bool nonblock_read)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (nonblock_read && fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		int r = -errno;

		close(fds[0]);
		close(fds[1]);
		return r;
	}
	return 0;
}

static _Noreturn void child_fail(int report_fd, int stage)
{
	struct child_report rep = {.stage = stage, .err = errno};
	ssize_t _unused_ w = write(report_fd, &rep, sizeof(rep));

	_exit(127);
}

/*
 * In the child: only async-signal-safe calls from here to execve.  src[]
 * are the fds that become 0..CHILD_FDS-1; they are first copied above
 * those so that placing one cannot clobber another.
 */
static _Noreturn void child_exec(char *const *argv, const char *root,
				 const int src[CHILD_FDS], int report_fd)
{
	int moved[CHILD_FDS];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Ignored signals survive execve; bash must see the defaults. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (setpgid(0, 0) < 0)
		child_fail(report_fd, CHILD_SETUP);
	report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, CHILD_FDS);
	if (report_fd < 0)
		_exit(127);
	for (int i = 0; i < CHILD_FDS; i++) {
		moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, CHILD_FDS);
		if (moved[i] < 0)
			child_fail(report_fd, CHILD_SETUP);
	}
	for (int i = 0; i < CHILD_FDS; i++)
		if (dup2(moved[i], i) < 0)
			child_fail(report_fd, CHILD_SETUP);
	/* Whatever the caller leaked without O_CLOEXEC stays out of bash. */
	close_range(CHILD_FDS, ~0U, CLOSE_RANGE_CLOEXEC);
	if (root && !streq(root, "/") && chroot(root) < 0)
		child_fail(report_fd, CHILD_SETUP);
	if (chdir("/") < 0)
		child_fail(report_fd, CHILD_SETUP);
	execve(argv[0], argv, conf_bash_envp);
	child_fail(report_fd, CHILD_EXEC);
}

/* Map the child's report (or EOF: bash is running) to our return code. */
static int read_report(int fd)
{
	struct child_report rep;
	ssize_t n;

	do
		n = read(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(rep))
		return n < 0 ? -errno : -EIO;
	if (rep.stage == CHILD_EXEC &&
	    (rep.err == ENOENT || rep.err == EACCES || rep.err == ENOEXEC ||
	     rep.err == ENOTDIR || rep.err == ELOOP || rep.err == ELIBBAD))
		return -ENOEXEC;
	return rep.err > 0 ? -rep.err : -EIO;
}

/* Returns the wait status, or -1 when someone else reaped it already. */
static int reap(pid_t pid)
{
	int status = -1;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/*
 * Fork and exec bash with stdin, stdout and NULL_FD on /dev/null, stderr
 * on err_w and RESULT_FD on out_w.  Returns once bash runs (the report pipe
 * closed on exec) or with the child's reason for not getting there.
 */
static int spawn(char *const *argv, const char *root, int out_w, int err_w,
		 pid_t *ret)
{
	_cleanup_(closep) int devnull = -1, rep_r = -1, rep_w = -1;
	int rep[2], r;
	pid_t pid = -1;

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	r = make_pipe(rep, false);
	if (r < 0)
		return r;
	rep_r = rep[0];
	rep_w = rep[1];
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const int src[CHILD_FDS] = {devnull, devnull, err_w, out_w,
					    devnull};

		child_exec(argv, root, src, rep_w);
	}
	close(TAKE_FD(rep_w));
	r = read_report(rep_r);
	if (r < 0) {
		reap(pid);
		return r;
	}
	*ret = pid;
	return 0;
}

static int sink_reserve(struct sink *s, size_t need)
{
	size_t cap = s->cap ? s->cap : 4096;
	char *nb;

	if (need <= s->cap)
		return 0;
	while (cap < need && cap <= SIZE_MAX / 2)
		cap *= 2;
	if (cap < need)
		cap = need;
	nb = realloc(s->buf, cap);
	if (!nb)
		return -ENOMEM;
	s->buf = nb;
	s->cap = cap;
	return 0;
}

/* Append what fits; past max, stderr drops and the result fails. */
static int sink_append(struct sink *s, const char *data, size_t n)
{
	int r;

	if (n > s->max - s->len) {
		if (!s->truncate)
			return -EPROTO;
		n = s->max - s->len;
	}
	if (n == 0)
		return 0;
	r = sink_reserve(s, s->len + n + 1);
	if (r < 0)
		return r;
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

enum sink_state {
	SINK_AGAIN = 0, /* nothing more for now */
	SINK_EOF = 1,
	SINK_MORE = 2, /* budget spent with data still coming */
};

/*
 * Read what is there, at most budget bytes, so that a writer that never
 * stops cannot keep us from the deadline.  Returns a sink_state or a
 * negative errno.
 */
static int sink_read(struct sink *s, size_t budget)
{
	char chunk[4096];

	while (s->fd >= 0) {
		ssize_t n;
		int r;

		if (budget == 0)
			return SINK_MORE;
		n = read(s->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? SINK_AGAIN : -errno;
		if (n == 0)
			break;
		r = sink_append(s, chunk, (size_t)n);
		if (r < 0)
			return r;
		budget -= (size_t)n < budget ? (size_t)n : budget;
	}
	if (s->fd >= 0)
		close(TAKE_FD(s->fd));
	return SINK_EOF;
}

/* Per read pass, so that a writer that never stops cannot starve us. */
#define READ_BUDGET (256U * 1024U)
/* Without a pidfd we look at the child this often. */
#define POLL_TICK_MS 10

static int ms_left(unsigned long long deadline)
{
	unsigned long long now = now_ns(), ms;

	if (now >= deadline)
		return 0;
	ms = (deadline - now + 999999ULL) / 1000000ULL;
	return ms > 0x7fffffffULL ? 0x7fffffff : (int)ms;
}

/* A pollable handle on the child's exit (Linux 5.3), or -1. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	/* pidfd_open() sets O_CLOEXEC itself. */
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -1 : (int)fd;
#else
	return -1;
#endif
}

/* Has bash exited?  It stays a zombie, so its pid (our process group's
 * id) cannot be reused before we have killed the group. */
static bool child_exited(pid_t pid)
{
	siginfo_t si = {0};

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	return si.si_pid == pid;
}

/*
 * Read both pipes until bash exits.  Grandchildren may hold the pipes
 * open for ever (sleep 1000 &), so bash's exit ends this, not EOF.
 * Returns 0, -ETIME, -EPROTO (result too large) or another error.
 */
static int pump(pid_t pid, struct sink *out, struct sink *err,
		unsigned long long deadline)
{
	_cleanup_(closep) int pidfd = open_pidfd(pid);

	for (;;) {
		struct pollfd p[] = {
			{.fd = out->fd, .events = POLLIN},
			{.fd = err->fd, .events = POLLIN},
			{.fd = pidfd, .events = POLLIN},
		};
		int left = ms_left(deadline), r;

		if (child_exited(pid))
			return 0;
		if (left == 0)
			return -ETIME;
		if (pidfd < 0 && left > POLL_TICK_MS)
			left = POLL_TICK_MS;
		if (poll(p, ARRAY_SIZE(p), left) < 0 && errno != EINTR)
			return -errno;
		r = sink_read(out, READ_BUDGET);
		if (r >= 0)
			r = sink_read(err, READ_BUDGET);
		if (r < 0)
			return r;
	}
}

/* After bash exited and its group was killed: what is left in the pipes. */
static int drain(struct sink *out, struct sink *err,
		 unsigned long long deadline)
{
	for (;;) {
		int a = sink_read(out, READ_BUDGET), b;

		if (a < 0)
			return a;
		b = sink_read(err, READ_BUDGET);
		if (b < 0)
			return b;
		if (a != SINK_MORE && b != SINK_MORE)
			return 0;
		if (ms_left(deadline) == 0)
			return -ETIME;
	}
}

/*
 * Check the trailer (a shell that died early has none), parse the triples
 * and keep only whitelisted names: nothing else may come back, whatever
 * the conf managed to write.
 */
static int parse_result(const char *buf, size_t len,
			const char *const *whitelist, struct vars *out)
{
	_cleanup_(vars_freep) struct vars all = VARS_INIT;
	_cleanup_(vars_freep) struct vars res = VARS_INIT;
	const size_t tl = sizeof(conf_bash_trailer);
	int r;

	if (!buf || len < tl || memcmp(buf + len - tl, conf_bash_trailer, tl) ||
	    (len > tl && buf[len - tl - 1] != '\0'))
		return -EPROTO;
	r = vars_parse_triples(buf, len - tl, &all);
	if (r < 0)
		return r;
	for (size_t i = 0; whitelist && whitelist[i]; i++) {
		const struct var *v = vars_find(&all, whitelist[i]);

		for (size_t j = 0; v && j < v->n; j++) {
			if (!v->vals[j])
				continue;
			r = vars_set(&res, v->name, j, v->vals[j]);
			if (r < 0)
				return r;
		}
	}
	vars_free(out);
	*out = res;
	res = (struct vars)VARS_INIT;
	return 0;
}

static void log_exit(pid_t pid, int status)
{
	if (status == -1)
		log_debug("conf: bash [%d] reaped elsewhere", (int)pid);
	else if (WIFSIGNALED(status))
		log_debug("conf: bash [%d] killed by signal %d", (int)pid,
			  WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		log_debug("conf: bash [%d] exited with %d", (int)pid,
			  WEXITSTATUS(status));
}

/* Run bash, collect its result and stderr; the group is dead on return. */
static int run(char *const *argv, const struct conf_bash_opts *opts,
	       struct sink *out, struct sink *err)
{
	_cleanup_(closep) int out_w = -1, err_w = -1;
	unsigned timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms
						       : DEFAULT_TIMEOUT_MS;
	unsigned long long deadline = now_ns() + timeout_ms * 1000000ULL;
	int fds[2], r;
	pid_t pid = -1;

	r = make_pipe(fds, true);
	if (r < 0)
		return r;
	out->fd = fds[0];
	out_w = fds[1];
	r = make_pipe(fds, true);
	if (r < 0)
		return r;
	err->fd = fds[0];
	err_w = fds[1];
	r = spawn(argv, opts ? opts->root : NULL, out_w, err_w, &pid);
	/* Our copies of the write ends would hold the pipes open. */
	close(TAKE_FD(out_w));
	close(TAKE_FD(err_w));
	if (r < 0)
		return r;
	r = pump(pid, out, err, deadline);
	/* Also at a normal end: what the conf left in the background. */
	kill(-pid, SIGKILL);
	if (r == 0)
		r = drain(out, err, deadline);
	log_exit(pid, reap(pid));
	return r;
}

/*
 * On success *out (initialised, normally VARS_INIT) is replaced by the
 * result; on error it is left alone.  *diag may be set on errors too.
 */
int conf_bash_eval(char *const *files, const struct vars *env,
		   const char *const *whitelist,
		   const struct conf_bash_opts *opts, struct vars *out,
		   char **diag)
{
	_cleanup_(strv_free_) char **argv = NULL;
	_cleanup_(sink_done) struct sink res = {.fd = -1}, err = {.fd = -1};
	const char *bash = opts && opts->bash ? opts->bash : DEFAULT_BASH;
	int r;

	if (diag)
		*diag = NULL;
	r = build_argv(bash, files, env, whitelist, &argv);
	if (r < 0)
		return r;
	res.max = opts && opts->max_output ? opts->max_output
					   : DEFAULT_MAX_OUTPUT;
	err.max = DIAG_MAX;
	err.truncate = true;
	log_debug("conf: %s -c <safe_source> in %s, %zu argument(s)", bash,
		  opts && opts->root ? opts->root : "/", strv_length(argv));
	r = run(argv, opts, &res, &err);
	if (diag && err.len > 0)
		*diag = TAKE_PTR(err.buf);
	if (r < 0)
		return r;
	return parse_result(res.buf, res.len, whitelist, out);
}
