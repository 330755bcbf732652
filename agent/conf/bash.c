// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Evaluate dkms.conf-style files with bash, the way dkms's safe_source()
 * does, but in the build sandbox (lib/sandbox.h): the root read-only, no
 * network, as SANDBOX_UID, killed whole at its time limit.  Sourcing a
 * conf runs whatever it says, at boot and in `cache import` too; it must
 * not be able to change the root it is about to decide for.
 *
 * All data reaches bash as positional arguments; the script below is a
 * constant, so nothing a caller or a conf file supplies is ever parsed as
 * script text by us (the conf files themselves are, as in dkms).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

#include "conf/bash.h"
#include "lib/buffer.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/rootfs.h"
#include "lib/sandbox.h"

#define DEFAULT_BASH	   "/bin/bash"
#define DEFAULT_TIMEOUT_MS 10000U
#define DEFAULT_MAX_OUTPUT (1024U * 1024U)
/* Enough for a screenful of bash complaints; the rest is dropped. */
#define DIAG_MAX   (16U * 1024U)
#define OWN_PREFIX "__dkb_"
/* The script's exit status for a conf file it cannot read. */
#define EXIT_UNREADABLE 3

/*
 * $1 $2 $3: the fds of the result pipe, of /dev/null and of the stderr
 * pipe, which the script moves to 3 (the result), 4 (/dev/null) and 2; our
 * /dev/null is opened outside the root: the root's /dev may be empty (the
 * initramfs has not moved its devtmpfs there yet) or read-only, and
 * ">/dev/null" would then fail or create a file.  Then: count of env triples,
 * then NAME INDEX VALUE for each; then the count of whitelisted names and the
 * names; then the files.
 *
 * Per file, as safe_source: source it in a subshell with stdout to
 * /dev/null (fd 4) and "$@" set to the whitelist (dkms shifts the file name
 * off its arguments before sourcing), print NAME[i]="value" through an unquoted
 * eval echo (which folds blanks) and evaluate that text in the parent shell
 * (which expands the value a second time).  The subshell closes fd 3 so
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
	"eval \"exec 3>&$1 4>&$2 2>&$3 1>&4 $1>&- $2>&- $3>&-\"\n"
	"shift 3\n"
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
	"		[ -r \"$__dkb_f\" ] || return 3 # EXIT_UNREADABLE\n"
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
	"			    \"$__dkb_e\" \"$__dkb_i\" \"$__dkb_v\" ||\n"
	"				return 1\n"
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

/* One pipe we read from: the result (bounded) or stderr (truncated). */
struct sink {
	int fd;
	struct buffer b; /* b.max: the output cap */
	bool truncate;	 /* past b.max: drop (stderr) rather than fail */
};

static void sink_done(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	buffer_free(&s->b);
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

/* Refuse names the script could not carry before anything runs. */
static int check_names(const struct vars *env, const char *const *whitelist)
{
	for (size_t i = 0; env && i < env->n; i++)
		if (!name_ok(env->v[i].name))
			return -EINVAL;
	for (size_t i = 0; whitelist && whitelist[i]; i++)
		if (!name_ok(whitelist[i]))
			return -EINVAL;
	return 0;
}

static int build_argv(const char *bash, int out_fd, int null_fd, int err_fd,
		      char *const *files, const struct vars *env,
		      const char *const *whitelist, char ***ret)
{
	_cleanup_(strv_free_) char **argv = NULL;
	const char *fixed[] = {bash, "--noprofile",    "--norc",
			       "-c", conf_bash_script, "bash"};
	const int fds[] = {out_fd, null_fd, err_fd};
	size_t nwl = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(fixed); i++)
		r = strv_push(&argv, fixed[i]);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(fds); i++)
		r = push_fmt_size(&argv, (size_t)fds[i]);
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

/* Append what fits; past the cap, stderr drops and the result fails. */
static int sink_append(struct sink *s, const char *data, size_t n)
{
	int r;

	if (s->truncate && n > s->b.max - s->b.len)
		n = s->b.max - s->b.len;
	if (n == 0)
		return 0;
	r = buffer_append(&s->b, data, n);
	return r == -EFBIG ? -EPROTO : r;
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

/*
 * Check the trailer (a shell that died early has none), parse the triples
 * and keep only whitelisted names: nothing else may come back, whatever
 * the conf managed to write.
 */
int conf_bash_parse_result(const char *buf, size_t len,
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

/*
 * Where conf files the sandbox user cannot read at their own path (mode,
 * or the root's /tmp, which the sandbox replaces by a private one) are
 * copied: a host directory bound there for the evaluation only.
 */
#define STAGE_INROOT "/tmp/.dkms-boot-conf"
/* Our pipe ends go above the fds the script moves them to. */
#define HIGH_FD 10

struct stage {
	char *host_dir;	     /* NULL: nothing copied */
	char **files;	     /* what bash sources, in-root */
	char **orig, **copy; /* pairs, for wording diagnostics */
};

static void stage_done(struct stage *st)
{
	if (st->host_dir) {
		remove_tree(st->host_dir);
		free(st->host_dir);
	}
	strv_free(st->files);
	strv_free(st->orig);
	strv_free(st->copy);
	*st = (struct stage){0};
}

/* Can SANDBOX_UID read root's path where it is, as the sandbox shows it? */
static bool sandbox_can_read(const char *root, const char *path)
{
	_cleanup_(freep) char *canon = NULL;
	struct stat st;

	if (root_canon(root, path, 0, &canon) < 0)
		return false;
	if (streq(canon, "/tmp") || startswith(canon, "/tmp/"))
		return false;
	for (char *p = canon;; p++) {
		char save = *p;
		int r;

		if (*p && *p != '/')
			continue;
		if (p == canon) {
			r = root_stat(root, "/", &st);
		} else {
			*p = '\0';
			r = root_stat(root, canon, &st);
			*p = save;
		}
		if (r < 0)
			return false;
		if (!save) /* the file itself */
			return S_ISREG(st.st_mode) && (st.st_mode & S_IROTH);
		if (!S_ISDIR(st.st_mode) || !(st.st_mode & S_IXOTH))
			return false;
	}
}

static int stage_dir(struct stage *st)
{
	const char *tmp = getenv("TMPDIR");
	char *d;

	if (st->host_dir)
		return 0;
	d = xasprintf("%s/dkms-boot-conf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!d)
		return -ENOMEM;
	if (!mkdtemp(d)) {
		int r = -errno;

		free(d);
		return r;
	}
	st->host_dir = d;
	/* The sandbox insists that its one writable directory is the
	 * sandbox user's; the copies in it stay root's, read-only. */
	if (chmod(d, 0755) < 0 || chown(d, SANDBOX_UID, SANDBOX_GID) < 0)
		return -errno;
	return 0;
}

/* Copy one file into the stage; its in-root name goes to st->files. */
static int stage_copy(const char *root, const char *path, size_t i, size_t max,
		      struct stage *st)
{
	_cleanup_(freep) char *buf = NULL, *host = NULL, *inroot = NULL;
	const char *base = strrchr(path, '/');
	size_t len = 0;
	int r;

	r = stage_dir(st);
	if (r == 0)
		r = root_read_file(root, path, max, &buf, &len);
	if (r < 0)
		return r;
	base = base ? base + 1 : path;
	host = xasprintf("%s/%zu-%s", st->host_dir, i, base);
	inroot = xasprintf(STAGE_INROOT "/%zu-%s", i, base);
	if (!host || !inroot)
		return -ENOMEM;
	r = write_file_atomic(host, buf ? buf : "", len, 0644);
	if (r == 0)
		r = strv_push(&st->files, inroot);
	if (r == 0)
		r = strv_push(&st->orig, path);
	if (r == 0)
		r = strv_push(&st->copy, inroot);
	return r;
}

static int stage_files(const char *root, char *const *files, size_t max,
		       struct stage *st)
{
	int r = 0;

	for (size_t i = 0; r == 0 && files && files[i]; i++) {
		if (!root_exists(root, files[i]) ||
		    sandbox_can_read(root, files[i]))
			r = strv_push(&st->files, files[i]);
		else
			r = stage_copy(root, files[i], i, max, st);
	}
	return r;
}

/* Diagnostics name the conf files as dkms would, not their copies. */
static char *unstage_diag(const struct stage *st, char *diag)
{
	for (size_t i = 0; diag && st->copy && st->copy[i]; i++) {
		const char *from = st->copy[i], *to = st->orig[i];
		size_t fl = strlen(from), tl = strlen(to), n = 0;
		char *p, *out, *o;

		for (p = strstr(diag, from); p; p = strstr(p + fl, from))
			n++;
		if (!n)
			continue;
		out = malloc(strlen(diag) + n * tl + 1);
		if (!out)
			return diag;
		o = out;
		for (const char *q = diag; *q;) {
			if (strncmp(q, from, fl) == 0) {
				memcpy(o, to, tl);
				o += tl;
				q += fl;
			} else {
				*o++ = *q++;
			}
		}
		*o = '\0';
		free(diag);
		diag = out;
	}
	return diag;
}

/* A pipe whose read end we drain after the run and whose write end,
 * above HIGH_FD, never blocks the writer: past the pipe's size its
 * writes fail, which the script turns into a missing trailer. */
static int make_pipe(int *rd, int *wr, size_t size)
{
	int fds[2], r = 0;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	*rd = fds[0];
	*wr = fcntl(fds[1], F_DUPFD_CLOEXEC, HIGH_FD);
	if (*wr < 0)
		r = -errno;
	close(fds[1]);
	/* The kernel rounds up to a power of two pages, and without
	 * CAP_SYS_RESOURCE refuses more than fs.pipe-max-size (1 MiB by
	 * default): ask for less until it fits. */
	while (r == 0 && size >= 65536 && size <= INT_MAX &&
	       fcntl(*rd, F_SETPIPE_SZ, (int)size) < 0 && errno == EPERM)
		size /= 2;
	return r;
}

static void sink_drain(struct sink *s, int *r)
{
	int k = sink_read(s, SIZE_MAX);

	if (*r == 0 && k < 0)
		*r = k;
}

/*
 * Run bash in the build sandbox: the root read-only, no network, as
 * SANDBOX_UID, in its own namespaces, killed at the time limit.  Its
 * result and stderr come back through two pipes it inherits.
 */
static int run(char *const *files, const struct vars *env,
	       const char *const *whitelist, const struct conf_bash_opts *opts,
	       struct stage *st, struct sink *out, struct sink *err)
{
	_cleanup_(closep) int out_w = -1, err_w = -1, null_fd = -1;
	_cleanup_(strv_free_) char **argv = NULL;
	const char *bash = opts && opts->bash ? opts->bash : DEFAULT_BASH;
	const char *root = opts ? opts->root : NULL;
	struct sandbox_opts so = {
		.root = root,
		.env = conf_bash_envp,
		.log_path = "/dev/null",
		.timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms
						       : DEFAULT_TIMEOUT_MS,
		.n_keep_fds = 3,
	};
	struct stat rst;
	int r;

	if (root && stat(root, &rst) < 0)
		return -errno;
	if (root && !S_ISDIR(rst.st_mode))
		return -ENOTDIR;
	if (!root_exists(root ? root : "/", bash))
		return -ENOEXEC;
	r = make_pipe(&out->fd, &out_w, out->b.max + sizeof(conf_bash_trailer));
	if (r == 0)
		r = make_pipe(&err->fd, &err_w, 0);
	if (r < 0)
		return r;
	r = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (r < 0)
		return -errno;
	null_fd = fcntl(r, F_DUPFD_CLOEXEC, HIGH_FD);
	close(r);
	if (null_fd < 0)
		return -errno;
	r = stage_files(root ? root : "/", files, out->b.max, st);
	if (r == 0)
		r = build_argv(bash, out_w, null_fd, err_w, st->files, env,
			       whitelist, &argv);
	if (r < 0)
		return r;
	if (st->host_dir) {
		so.build_host = st->host_dir;
		so.build_inroot = STAGE_INROOT;
	}
	so.keep_fds[0] = out_w;
	so.keep_fds[1] = null_fd;
	so.keep_fds[2] = err_w;
	log_debug("conf: %s -c <safe_source> in the sandbox in %s, %zu "
		  "argument(s)",
		  bash, root ? root : "/", strv_length(argv));
	r = sandbox_run(argv, &so);
	close(TAKE_FD(out_w));
	close(TAKE_FD(err_w));
	if (r < 0)
		return r; /* -ETIME, or no sandbox (logged) */
	sink_drain(out, &r);
	sink_drain(err, &r);
	if (r < 0)
		return r;
	if (r == 127 && out->b.len == 0)
		return -ENOEXEC;
	if (r == EXIT_UNREADABLE)
		return -EACCES;
	return 0;
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
	_cleanup_(sink_done) struct sink res = {.fd = -1}, err = {.fd = -1};
	_cleanup_(stage_done) struct stage st = {0};
	int r;

	if (diag)
		*diag = NULL;
	r = check_names(env, whitelist);
	if (r < 0)
		return r;
	res.b.max = opts && opts->max_output ? opts->max_output
					     : DEFAULT_MAX_OUTPUT;
	err.b.max = DIAG_MAX;
	err.truncate = true;
	r = run(files, env, whitelist, opts, &st, &res, &err);
	if (diag && err.b.len > 0)
		*diag = unstage_diag(&st, buffer_take(&err.b, NULL));
	if (r == -EACCES)
		log_err("%s: cannot be read by the sandbox user", files[0]);
	if (r < 0)
		return r;
	return conf_bash_parse_result(res.b.data, res.b.len, whitelist, out);
}
