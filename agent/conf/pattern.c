// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bounded matching of package-supplied regular expressions.  The common
 * patterns are matched in process, with no fork on the boot path; the
 * rest in a child whose crash or endless run costs one package its
 * decision, not the whole run.
 */
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "conf/pattern.h"
#include "lib/child.h"
#include "lib/log.h"
#include "lib/why.h"

/* ASan reserves terabytes of shadow memory: no RLIMIT_AS under it (gcc
 * says so with __SANITIZE_ADDRESS__, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Result byte the child writes when it finished matching. */
#define CHILD_DONE_BASE 'a'
/* Bounds above this are as bad as any; keeps the product from wrapping. */
#define COUNT_CAP 100000UL

/* Past a bracket expression starting at p ('['): "[]a]", "[^]a]" and
 * "[[:alpha:]]" keep their ']' inside.  Returns the char after it, or
 * the end of the string for an unterminated one (regcomp refuses it). */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (p[0] == '[' &&
		    (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];
			const char *e = p + 2;

			while (*e && !(e[0] == close && e[1] == ']'))
				e++;
			p = *e ? e + 2 : e;
			continue;
		}
		p++;
	}
	return *p ? p + 1 : p;
}

/* Parse "{n}", "{n,}", "{,m}", "{n,m}" at p; *copies is how many copies
 * of the atom glibc builds (max, or n+1 when unbounded).  Returns the
 * char after '}', or NULL when this '{' starts no interval. */
static const char *parse_interval(const char *p, unsigned long *copies)
{
	unsigned long n = 0, m = 0;
	bool comma = false, have_m = false;

	for (p++; *p && *p != '}'; p++) {
		if (*p == ',' && !comma) {
			comma = true;
		} else if (*p >= '0' && *p <= '9') {
			unsigned long *d = comma ? &m : &n;

			*d = *d * 10 + (unsigned long)(*p - '0');
			if (*d > COUNT_CAP)
				*d = COUNT_CAP;
			have_m |= comma;
		} else {
			return NULL;
		}
	}
	if (*p != '}')
		return NULL;
	*copies = !comma ? n : have_m ? m : n + 1;
	if (*copies == 0)
		*copies = 1;
	return p + 1;
}

enum pattern_safety pattern_screen(const char *pattern, char *why,
				   size_t why_len)
{
	size_t len = strlen(pattern);
	unsigned long product = 1;
	unsigned depth = 0;

	if (len > PATTERN_MAX_LEN) {
		why_set(why, why_len, 0, "longer than %d characters",
			PATTERN_MAX_LEN);
		return PATTERN_REFUSED;
	}
	if (len > PATTERN_SAFE_LEN) {
		why_set(why, why_len, 0, "longer than %d characters",
			PATTERN_SAFE_LEN);
		return PATTERN_CONFINED;
	}
	for (const char *p = pattern; *p;) {
		unsigned long copies;
		const char *q;

		switch (*p) {
		case '[':
			p = skip_bracket(p);
			continue;
		case '\\':
			if (p[1] >= '1' && p[1] <= '9') {
				why_set(why, why_len, 0, "back-reference \\%c",
					p[1]);
				return PATTERN_CONFINED;
			}
			p += p[1] ? 2 : 1;
			continue;
		case '(':
			if (++depth > PATTERN_SAFE_DEPTH) {
				why_set(why, why_len, 0,
					"groups nested deeper than %d",
					PATTERN_SAFE_DEPTH);
				return PATTERN_CONFINED;
			}
			break;
		case ')':
			if (depth)
				depth--;
			break;
		case '{':
			q = parse_interval(p, &copies);
			if (!q)
				break;
			/* Nested or not, counts multiply in the worst case. */
			product *= copies;
			if (product > PATTERN_SAFE_COUNT) {
				why_set(why, why_len, 0,
					"repetition counts above %d in all",
					PATTERN_SAFE_COUNT);
				return PATTERN_CONFINED;
			}
			p = q;
			continue;
		}
		p++;
	}
	return PATTERN_SAFE;
}

/* The match itself: 0, 1, 2 as grep -q, or -ENOMEM. */
static int match_here(const char *text, const char *pattern, bool by_line)
{
	_cleanup_(freep) char *copy = NULL;
	regex_t re;
	char *line, *next;
	int r, status = 1;

	r = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (r == REG_ESPACE)
		return -ENOMEM;
	if (r != 0)
		return 2;
	if (!by_line) {
		r = regexec(&re, text, 0, NULL, 0);
		regfree(&re);
		if (r == REG_ESPACE)
			return -ENOMEM;
		return r == 0 ? 0 : 1;
	}
	copy = strdup(text);
	if (!copy) {
		regfree(&re);
		return -ENOMEM;
	}
	for (line = copy; *line && status == 1; line = next) {
		char *nl = strchr(line, '\n');

		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		r = regexec(&re, line, 0, NULL, 0);
		if (r == REG_ESPACE)
			status = -ENOMEM;
		else if (r == 0)
			status = 0;
	}
	regfree(&re);
	return status;
}

static void set_limit(int resource, rlim_t v)
{
	struct rlimit rl = {.rlim_cur = v, .rlim_max = v};

	setrlimit(resource, &rl);
}

static _Noreturn void child_match(int wfd, const char *text,
				  const char *pattern, bool by_line)
{
	char done;
	int r;

	/* A sanitizer's handler would report and exit; the kernel's
	 * default (death by signal) is what the parent looks for. */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	set_limit(RLIMIT_STACK, PATTERN_CHILD_STACK);
	set_limit(RLIMIT_CPU, PATTERN_CHILD_CPU_S);
#ifndef UNDER_ASAN
	set_limit(RLIMIT_AS, PATTERN_CHILD_AS);
#endif
	r = match_here(text, pattern, by_line);
	done = (char)(CHILD_DONE_BASE + (r < 0 ? 3 : r));
	if (write(wfd, &done, 1) != 1)
		_exit(1);
	_exit(0);
}

/* Wait for the child's one byte until the deadline. */
static int wait_answer(int rfd, unsigned long long deadline, char *done)
{
	for (;;) {
		ssize_t n;
		int r = child_poll(rfd, deadline);

		if (r == 0)
			return -ETIME;
		if (r < 0)
			return r;
		n = read(rfd, done, 1);
		if (n == 1)
			return 0;
		if (n == 0)
			return -EFAULT; /* died without an answer */
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

static int match_confined(const char *text, const char *pattern, bool by_line,
			  char *why, size_t why_len)
{
	unsigned long long deadline = child_deadline(PATTERN_CHILD_MS);
	_cleanup_(closep) int rfd = -1, wfd = -1, pidfd = -1;
	int fds[2], r, k, status = 0;
	char done = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	rfd = fds[0];
	wfd = fds[1];
	pid = fork();
	if (pid < 0) {
		r = -errno;
		return why_set(why, why_len, r, "cannot fork to match it: %s",
			       strerror(-r));
	}
	if (pid == 0)
		child_match(wfd, text, pattern, by_line);
	close(TAKE_FD(wfd));
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	r = wait_answer(rfd, deadline, &done);
	/*
	 * The child starts nothing, so its pid is all there is to kill; it
	 * stays in our process group, where the terminal's signals reach it.
	 * child_wait kills it in any case: after an answer it is exiting.
	 */
	k = child_wait(pid, pidfd, r == 0 ? 0 : deadline, &status);
	if (r == -ETIME)
		return why_set(why, why_len, r,
			       "matching took longer than %d ms",
			       PATTERN_CHILD_MS);
	if (r == -EFAULT && k == 0 && child_exit_code(status) > 128)
		return why_set(why, why_len, r,
			       "matching was killed by signal %d (stack, "
			       "memory or CPU time exhausted)",
			       child_exit_code(status) - 128);
	if (r < 0)
		return why_set(why, why_len, r, "matching failed: %s",
			       strerror(-r));
	r = done - CHILD_DONE_BASE;
	if (r < 0 || r > 3)
		return -EPROTO;
	return r == 3 ? -ENOMEM : r;
}

int pattern_match(const char *text, const char *pattern, bool by_line,
		  char *why, size_t why_len)
{
	char reason[128] = "";

	why_set(why, why_len, 0, "%s", "");
	switch (pattern_screen(pattern, reason, sizeof(reason))) {
	case PATTERN_SAFE:
		return match_here(text, pattern, by_line);
	case PATTERN_REFUSED:
		return why_set(why, why_len, -E2BIG, "refused: %s", reason);
	default:
		log_debug("pattern: %s; matching in a confined child", reason);
		return match_confined(text, pattern, by_line, why, why_len);
	}
}
