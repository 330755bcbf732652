// SPDX-License-Identifier: GPL-2.0-or-later
/* conf_bash: real bash, real files, and dkms's own safe_source as oracle. */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>

#include "unit.h"
#include "conf/bash.h"
#include "conf/vars.h"

#define DKMS_SCRIPT "/usr/sbin/dkms"

static const char *const wl[] = {
	"PACKAGE_NAME",
	"PACKAGE_VERSION",
	"MAKE",
	"BUILT_MODULE_NAME",
	"DEST_MODULE_LOCATION",
	"AUTOINSTALL",
	"A",
	"B",
	"C",
	"ARGS",
	NULL,
};

/* ---- helpers ---- */

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	char *d = unit_tmpdir();

	if (!d)
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	char *d = *state;

	nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(d);
	return 0;
}

/* Write dir/name and return its path. */
static char *put(const char *dir, const char *name, const char *text)
{
	char *p = path_join(dir, name);
	FILE *f;

	assert_non_null(p);
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return p;
}

static void std_env(struct vars *env)
{
	assert_int_equal(vars_set(env, "kernelver", 0, "6.1.0-test"), 0);
	assert_int_equal(vars_set(env, "arch", 0, "x86_64"), 0);
	assert_int_equal(vars_set(env, "kernel_source_dir", 0,
				  "/lib/modules/6.1.0-test/build"),
			 0);
}

/* Evaluate the given files (NULL-ended) with the standard env. */
static int eval_files(char **files, const struct conf_bash_opts *opts,
		      struct vars *out, char **diag)
{
	_cleanup_(vars_freep) struct vars env = VARS_INIT;

	std_env(&env);
	return conf_bash_eval(files, &env, wl, opts, out, diag);
}

/* Evaluate one conf text written to dir/dkms.conf. */
static int eval_text(const char *dir, const char *text,
		     const struct conf_bash_opts *opts, struct vars *out,
		     char **diag)
{
	_cleanup_(freep) char *p = put(dir, "dkms.conf", text);
	char *files[] = {p, NULL};

	return eval_files(files, opts, out, diag);
}

static void assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static size_t count_fds(void)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n++;
	return n;
}

/* No process whose command line starts with marker: the sandbox has
 * its own pid namespace, so bash's $! means nothing here.  SIGKILL is
 * asynchronous: give the targets a moment to die. */
static bool marker_dead(const char *marker)
{
	for (int i = 0; i < 200; i++) {
		if (unit_sh("! pgrep -f '^%s' >/dev/null", marker) == 0)
			return true;
		usleep(10000);
	}
	return false;
}

/* Run argv in cwd with a clean environment, capture stdout. */
static int run_capture(char *const *argv, const char *cwd, char **buf,
		       size_t *len)
{
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	int p[2], status, r;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(p[1], 1) < 0 ||
		    dup2(null, 2) < 0 || (cwd && chdir(cwd) < 0))
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	r = read_fd(p[0], 8 << 20, buf, len);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return r < 0 ? r : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- what dkms.conf files do ---- */

static void test_scalar_and_arrays(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	char *diag = NULL;

	assert_int_equal(eval_text(*state,
				   "PACKAGE_NAME=foo\n"
				   "PACKAGE_VERSION=\"1.2\"\n"
				   "BUILT_MODULE_NAME[0]=foo\n"
				   "BUILT_MODULE_NAME[3]='bar baz'\n"
				   "i=0\n"
				   "DEST_MODULE_LOCATION[i++]=/updates\n"
				   "DEST_MODULE_LOCATION[i++]=/extra\n",
				   NULL, &out, &diag),
			 0);
	assert_null(diag);
	assert_string_equal(vars_str(&out, "PACKAGE_NAME"), "foo");
	assert_string_equal(vars_str(&out, "PACKAGE_VERSION"), "1.2");
	assert_int_equal(vars_count(&out, "BUILT_MODULE_NAME"), 2);
	assert_string_equal(vars_get(&out, "BUILT_MODULE_NAME", 0), "foo");
	assert_null(vars_get(&out, "BUILT_MODULE_NAME", 1));
	assert_string_equal(vars_get(&out, "BUILT_MODULE_NAME", 3), "bar baz");
	assert_string_equal(vars_get(&out, "DEST_MODULE_LOCATION", 1),
			    "/extra");
	assert_null(vars_find(&out, "MAKE"));
	assert_no_children();
}

static void test_env_visible(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(vars_freep) struct vars env = VARS_INIT;
	_cleanup_(freep) char *p =
		put(*state, "dkms.conf",
		    "MAKE[0]=\"make -C ${kernel_source_dir} KVER=$kernelver\"\n"
		    "A=\"${ARR[2]}/${ARR[0]}/${#ARR[@]}/$arch\"\n"
		    "B=$(env | grep -c kernelver)\n");
	char *files[] = {p, NULL};

	std_env(&env);
	assert_int_equal(vars_set(&env, "ARR", 0, "zero"), 0);
	assert_int_equal(vars_set(&env, "ARR", 2, "two words"), 0);
	assert_int_equal(conf_bash_eval(files, &env, wl, NULL, &out, NULL), 0);
	assert_string_equal(vars_str(&out, "MAKE"),
			    "make -C /lib/modules/6.1.0-test/build "
			    "KVER=6.1.0-test");
	assert_string_equal(vars_str(&out, "A"), "two words/zero/2/x86_64");
	/* Plain shell variables, as in dkms: not in the environment. */
	assert_string_equal(vars_str(&out, "B"), "0");
	/* env is not whitelisted, so it does not come back. */
	assert_null(vars_find(&out, "kernelver"));
}

static void test_whitelist_filter(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;

	assert_int_equal(eval_text(*state,
				   "PACKAGE_NAME=foo\nSECRET=1\nOTHER[2]=x\n"
				   "declare -A assoc=([k]=v)\n",
				   NULL, &out, NULL),
			 0);
	assert_int_equal(out.n, 1);
	assert_string_equal(vars_str(&out, "PACKAGE_NAME"), "foo");
}

static void test_override_order(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *a = put(*state, "dkms.conf",
				       "PACKAGE_NAME=foo\n"
				       "PACKAGE_VERSION=1.0\n"
				       "priv=hidden\n"
				       "MAKE[0]=first; MAKE[1]=second\n");
	_cleanup_(freep) char *b = put(*state, "foo.conf",
				       "A=\"$PACKAGE_NAME-$PACKAGE_VERSION\"\n"
				       "B=\"[$priv]\"\n"
				       "MAKE[1]=override\n");
	char *files[] = {a, b, NULL};

	assert_int_equal(eval_files(files, NULL, &out, NULL), 0);
	/* Each file runs in its own subshell: only the whitelisted
	 * variables a file copied back are visible to the next. */
	assert_string_equal(vars_str(&out, "A"), "foo-1.0");
	assert_string_equal(vars_str(&out, "B"), "[]");
	assert_string_equal(vars_get(&out, "MAKE", 0), "first");
	assert_string_equal(vars_get(&out, "MAKE", 1), "override");
}

static void test_blank_folding(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;

	assert_int_equal(eval_text(*state,
				   "A=\"  x   y \"\n"
				   "B=$'tab\\there\\nnewline'\n"
				   "C='*'\n",
				   NULL, &out, NULL),
			 0);
	assert_string_equal(vars_str(&out, "A"), " x y ");
	assert_string_equal(vars_str(&out, "B"), "tab here newline");
	/* Globbing is off while printing: no file names. */
	assert_string_equal(vars_str(&out, "C"), "*");
}

static void test_double_expansion(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;

	assert_int_equal(eval_text(*state,
				   "A=\"\\$kernelver\"\n"
				   "B='${arch}-$(echo sub)'\n"
				   "C='back\\\\slash'\n",
				   NULL, &out, NULL),
			 0);
	assert_string_equal(vars_str(&out, "A"), "6.1.0-test");
	assert_string_equal(vars_str(&out, "B"), "x86_64-sub");
	assert_string_equal(vars_str(&out, "C"), "back\\slash");
}

static void test_control_flow(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;

	assert_int_equal(
		eval_text(
			*state,
			"if [[ $kernelver == 6.* ]]; then A=six; else A=old; "
			"fi\n"
			"case \"$arch\" in x86_64) B=x86;; *) B=other;; esac\n"
			"C=\"$(uname -r)|`echo tick`\"\n"
			"for m in one two; do MAKE[${#MAKE[@]}]=$m; done\n"
			"ARGS=\"$#:$1\"\n"
			"shopt -q extglob && AUTOINSTALL=@(y|yes)\n",
			NULL, &out, NULL),
		0);
	assert_string_equal(vars_str(&out, "A"), "six");
	assert_string_equal(vars_str(&out, "B"), "x86");
	assert_true(endswith(vars_str(&out, "C"), "|tick"));
	assert_true(strlen(vars_str(&out, "C")) > strlen("|tick"));
	assert_string_equal(vars_get(&out, "MAKE", 1), "two");
	/* dkms sources with its whitelist as "$@". */
	assert_string_equal(vars_str(&out, "ARGS"), "10:PACKAGE_NAME");
	assert_string_equal(vars_str(&out, "AUTOINSTALL"), "@(y|yes)");
}

static void test_missing_file_skipped(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *a = put(*state, "a.conf", "A=1\n");
	_cleanup_(freep) char *c = put(*state, "c.conf", "C=\"$A+3\"\n");
	_cleanup_(freep) char *b = path_join(*state, "absent.conf");
	char *files[] = {a, b, c, NULL};
	char *diag = NULL;

	assert_int_equal(eval_files(files, NULL, &out, &diag), 0);
	assert_null(diag);
	assert_string_equal(vars_str(&out, "C"), "1+3");
}

static void test_syntax_error(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *diag = NULL;

	assert_int_equal(eval_text(*state,
				   "PACKAGE_NAME=foo\n"
				   "PACKAGE_VERSION=\"1.0\n"
				   "MAKE=never\n",
				   NULL, &out, &diag),
			 0);
	assert_string_equal(vars_str(&out, "PACKAGE_NAME"), "foo");
	assert_null(vars_find(&out, "PACKAGE_VERSION"));
	assert_null(vars_find(&out, "MAKE"));
	assert_non_null(diag);
	assert_non_null(strstr(diag, "line"));
}

static void test_exit_in_file(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *a = put(*state, "a.conf", "A=kept\n");
	_cleanup_(freep) char *b =
		put(*state, "b.conf", "A=lost; B=x; exit 3\n");
	_cleanup_(freep) char *c =
		put(*state, "c.conf", "C=\"$A.$B\"; exec cat\n");
	_cleanup_(freep) char *d =
		put(*state, "d.conf", "read -r line; B=\"[$line]\"\n");
	char *files[] = {a, b, c, d, NULL};

	/* exit and exec end the subshell before it copies anything back;
	 * stdin is /dev/null, so nothing waits for input. */
	assert_int_equal(eval_files(files, NULL, &out, NULL), 0);
	assert_string_equal(vars_str(&out, "A"), "kept");
	assert_string_equal(vars_str(&out, "B"), "[]");
	assert_null(vars_find(&out, "C"));
}

/* ---- limits ---- */

static void test_timeout(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *text =
		xasprintf("(exec -a dkb-unit-timeout- sleep 1000) &\n"
			  "while :; do :; done\n");
	struct conf_bash_opts opts = {.timeout_ms = 1000};
	unsigned long long t0 = now_ns(), ms;

	assert_int_equal(eval_text(*state, text, &opts, &out, NULL), -ETIME);
	ms = (now_ns() - t0) / 1000000;
	assert_true(ms >= 900 && ms < 3000);
	assert_int_equal(out.n, 0);
	/* The whole process group went, not only bash (the sandbox has its
	 * own pid namespace, so look for the sleep by name). */
	assert_true(marker_dead("dkb-unit-timeout-"));
	assert_no_children();
}

static void test_background_child(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	unsigned long long t0 = now_ns();

	_cleanup_(freep) char *text =
		xasprintf("(exec -a dkb-unit-bg- sleep 1000) >&2 &\nA=$!\n"
			  "( (exec -a dkb-unit-bg- sleep 1000) &)\nB=done\n");

	assert_int_equal(eval_text(*state, text, NULL, &out, NULL), 0);
	assert_true(now_ns() - t0 < 3000000000ULL);
	assert_string_equal(vars_str(&out, "B"), "done");
	/* Left-over background jobs are killed with the sandbox. */
	assert_true(marker_dead("dkb-unit-bg-"));
	assert_no_children();
}

static void test_huge_output(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	struct conf_bash_opts opts = {.max_output = 4096};

	assert_int_equal(eval_text(*state,
				   "for i in $(seq 3000); do "
				   "A[$i]=xxxxxxxxxx; done\n",
				   &opts, &out, NULL),
			 -EPROTO);
	assert_int_equal(out.n, 0);
	assert_no_children();
}

/* Larger than a default pipe (64 KiB): the result pipe is grown as far
 * as the kernel allows, so a big value still comes back whole. */
static void test_large_value(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	struct conf_bash_opts opts = {.timeout_ms = 30000};

	assert_int_equal(
		eval_text(*state,
			  "A=$(head -c 300000 /dev/zero | tr '\\0' x)\n", &opts,
			  &out, NULL),
		0);
	assert_int_equal(strlen(vars_str(&out, "A")), 300000);
}

static void test_diag_truncated(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *diag = NULL;

	assert_int_equal(eval_text(*state,
				   "head -c 300000 /dev/zero | tr '\\0' x >&2\n"
				   "A=ok\n",
				   NULL, &out, &diag),
			 0);
	assert_string_equal(vars_str(&out, "A"), "ok");
	assert_non_null(diag);
	assert_true(strlen(diag) >= 4096 && strlen(diag) <= 64 * 1024);
}

/* ---- what may not come back ---- */

static void test_stdout_noise(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *diag = NULL;

	assert_int_equal(
		eval_text(*state,
			  "echo hi; printf 'PACKAGE_NAME\\0'\n"
			  "printf 'PACKAGE_NAME\\0000\\0forged\\0' >&3\n"
			  "printf '__dkb_end\\0000\\0\\0' >&4\n"
			  "echo 'PACKAGE_VERSION[0]=\"forged\"'\n"
			  "A=real\n",
			  NULL, &out, &diag),
		0);
	assert_int_equal(out.n, 1);
	assert_string_equal(vars_str(&out, "A"), "real");
	assert_non_null(diag); /* fd 3 is closed while sourcing */
}

static void test_quote_breakout(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;

	/* The value breaks out of dkms's NAME[i]="value" line and runs in
	 * the outer shell, as it would in dkms; still only whitelisted
	 * names come back. */
	assert_int_equal(
		eval_text(*state,
			  "A='\"; EVIL=1; printf \"EVIL\\\\0000\\\\0x\\\\0\" "
			  ">&3; B=\"b'\n",
			  NULL, &out, NULL),
		0);
	assert_null(vars_find(&out, "EVIL"));
	assert_string_equal(vars_str(&out, "A"), "");
	assert_string_equal(vars_str(&out, "B"), "b");
}

static void test_bad_names(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(vars_freep) struct vars env = VARS_INIT;
	const char *const bad_wl[] = {"A", "1B", NULL};
	const char *const own_wl[] = {"__dkb_wl", NULL};
	char *files[] = {"/nonexistent", NULL};

	assert_int_equal(conf_bash_eval(files, NULL, bad_wl, NULL, &out, NULL),
			 -EINVAL);
	assert_int_equal(conf_bash_eval(files, NULL, own_wl, NULL, &out, NULL),
			 -EINVAL);
	assert_int_equal(vars_set(&env, "__dkb_n", 0, "1"), 0);
	assert_int_equal(conf_bash_eval(files, &env, wl, NULL, &out, NULL),
			 -EINVAL);
	/* No file at all is an empty result. */
	assert_int_equal(conf_bash_eval(files, NULL, wl, NULL, &out, NULL), 0);
	assert_int_equal(out.n, 0);
}

static void test_no_fd_leak(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	struct conf_bash_opts quick = {.timeout_ms = 300};
	struct conf_bash_opts nobash = {.bash = "/nonexistent/bash"};
	size_t before = count_fds();
	char *diag = NULL;

	assert_int_equal(eval_text(*state, "A=1\n", NULL, &out, &diag), 0);
	assert_int_equal(
		eval_text(*state, "while :; do :; done\n", &quick, &out, &diag),
		-ETIME);
	free(diag);
	assert_int_equal(eval_text(*state, "A=1\n", &nobash, &out, &diag),
			 -ENOEXEC);
	assert_null(diag);
	assert_int_equal(count_fds(), before);
	assert_no_children();
}

/* ---- chroot ---- */

static void test_root_without_bash(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *absent = path_join(*state, "absent");
	struct conf_bash_opts opts = {.root = *state};
	char *files[] = {"/dkms.conf", NULL};
	int r;

	assert_int_equal(eval_files(files, &opts, &out, NULL), -ENOEXEC);
	opts.root = absent;
	r = eval_files(files, &opts, &out, NULL);
	assert_true(r < 0 && r != -ENOEXEC && r != -ETIME);
	assert_no_children();
}

/* A root with bash and its libraries only: no /dev, no /tmp. */
static void test_root_with_bash(void **state)
{
	_cleanup_(vars_freep) struct vars out = VARS_INIT;
	_cleanup_(freep) char *root = path_join(*state, "root");
	_cleanup_(freep) char *buf = NULL;
	char *argv[] = {"/bin/bash",
			"-c",
			"mkdir -p \"$1\" && for f in /bin/bash $(ldd /bin/bash "
			"| grep -o '/[^ ]*'); do mkdir -p \"$1${f%/*}\" && "
			"cp -L \"$f\" \"$1$f\" || exit 1; done",
			"copy",
			root,
			NULL};
	struct conf_bash_opts opts = {.root = root};
	char *files[] = {"/dkms.conf", NULL};
	size_t len;

	if (geteuid() != 0)
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	assert_int_equal(run_capture(argv, NULL, &buf, &len), 0);
	free(put(root, "dkms.conf",
		 "PACKAGE_NAME=inroot\nA=$PWD\n"
		 "[ -e /dkms.conf ] && B=seen\n"));
	assert_int_equal(eval_files(files, &opts, &out, NULL), 0);
	assert_string_equal(vars_str(&out, "PACKAGE_NAME"), "inroot");
	assert_string_equal(vars_str(&out, "A"), "/");
	assert_string_equal(vars_str(&out, "B"), "seen");
	assert_no_children();
}

/* ---- oracle: dkms's own safe_source, taken from the installed script ---- */

/*
 * $1 kernelver, $2 kernel_source_dir, $3 the whitelist as one word list
 * (as dkms passes $dkms_conf_variables), then the files.  Prints the
 * whitelisted variables as name\0index\0value\0 triples.
 */
static const char oracle_script[] =
	"shopt -s extglob\n"
	"eval \"$(sed -n '/^safe_source() {/,/^}/p' " DKMS_SCRIPT ")\"\n"
	"mktemp_or_die() { mktemp; }\n"
	"deprecated() { :; }\n"
	"kernelver=$1 arch=x86_64 kernel_source_dir=$2 __o_wl=$3\n"
	"shift 3\n"
	"for __o_v in $__o_wl; do unset $__o_v; done\n"
	/* dkms calls read_conf as `read_conf "$@" && return`
	 * (read_conf_or_die), where errexit is ignored. */
	"__o_read() {\n"
	"for __o_f; do\n"
	"	[ -e \"$__o_f\" ] && safe_source \"$__o_f\" $__o_wl\n"
	"done\n"
	"}\n"
	"__o_read \"$@\" && :\n"
	"for __o_e in $__o_wl; do\n"
	"	eval \"__o_ix=(\\\"\\${!$__o_e[@]}\\\")\"\n"
	"	for __o_i in \"${__o_ix[@]}\"; do\n"
	"		eval \"__o_v=\\${$__o_e[__o_i]}\"\n"
	"		printf '%s\\0%s\\0%s\\0' \"$__o_e\" \"$__o_i\" "
	"\"$__o_v\"\n"
	"	done\n"
	"done\n";

struct oracle_case {
	const char *conf, *override;
};

static const struct oracle_case oracle_cases[] = {
	{"PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\nMAKE[0]=\"make -C "
	 "${kernel_source_dir} KVER=$kernelver\"\nAUTOINSTALL=yes\n",
	 NULL},
	{"A=\"  x   y \"\nB=$'a\\tb\\nc'\nC='\\$kernelver $(echo x)'\n", NULL},
	{"BUILT_MODULE_NAME[0]=a\nBUILT_MODULE_NAME[5]=b\nDEST_MODULE_"
	 "LOCATION[0]=/kernel/x\ni=0\nMAKE[i++]=p\nMAKE[i++]=q\n",
	 NULL},
	{"PACKAGE_NAME=foo\npriv=1\nMAKE[0]=a MAKE[1]=b\n",
	 "A=\"$PACKAGE_NAME:$priv\"\nMAKE[1]=c\nunset PACKAGE_VERSION\n"},
	{"A=1\nB=\"unterminated\nC=3\n", "C=\"[$A]\"\n"},
	{"A=1\nexit 3\n", "B=\"$A\"\n"},
	{"A='x\"y'\nB=ok\n", NULL},
	{"IFS=:\nA='a:b  c'\nB=\"$*\"\n", NULL},
	{"ARGS=\"$#\"\nif [ \"$arch\" = x86_64 ]; then C=`echo "
	 "tick`; fi\ncase $kernelver in 6.*) B=six;; esac\n",
	 NULL},
	{"A='\\\\ \\\" back'\nB='a\\\\'\nC='-n'\n", NULL},
	{"declare -A A=([k]=v)\nB=(1 2 3)\nunset 'B[1]'\n", NULL},
	/* dkms sources inside a function: local and return work. */
	{"local A=loc\ndeclare B=decl\nC=1\nreturn\nC=2\n", "ARGS=$A$B\n"},
	{"set -u\nA=$'\\001ctl' B=\"it's #1\"\n", "C=\"$B\"\n"},
	{"set -e\nA=1\nfalse\nB=2\n", "C=3\n"},
	{"pushd /tmp >/dev/null; A=$PWD; popd >/dev/null\n"
	 ". /nonexistent/file\nB=after\n",
	 NULL},
};

static void oracle_one(const char *dir, const struct oracle_case *c)
{
	_cleanup_(vars_freep) struct vars got = VARS_INIT;
	_cleanup_(vars_freep) struct vars want = VARS_INIT;
	_cleanup_(freep) char *conf = put(dir, "dkms.conf", c->conf);
	_cleanup_(freep) char *ovr = path_join(dir, "override.conf");
	_cleanup_(freep) char *empty = path_join(dir, "empty");
	_cleanup_(freep) char *wls = NULL, *obuf = NULL, *wbuf = NULL;
	_cleanup_(freep) char *gbuf = NULL;
	char *files[] = {conf, ovr, NULL};
	size_t olen, wlen, glen;

	unlink(ovr);
	if (c->override)
		free(put(dir, "override.conf", c->override));
	/* An empty working directory: dkms's globbing then finds nothing,
	 * and our evaluation never globs. */
	mkdir(empty, 0755);
	for (size_t i = 0; wl[i]; i++) {
		char *n = xasprintf("%s%s%s", wls ? wls : "", wls ? " " : "",
				    wl[i]);

		free(wls);
		wls = n;
	}
	{
		char *argv[] = {"/bin/bash",
				"--noprofile",
				"--norc",
				"-c",
				(char *)oracle_script,
				"oracle",
				"6.1.0-test",
				"/lib/modules/6.1.0-test/build",
				wls,
				conf,
				ovr,
				NULL};

		assert_int_equal(run_capture(argv, empty, &obuf, &olen), 0);
	}
	assert_int_equal(vars_parse_triples(obuf, olen, &want), 0);
	assert_int_equal(eval_files(files, NULL, &got, NULL), 0);
	assert_int_equal(vars_serialize(&want, &wbuf, &wlen), 0);
	assert_int_equal(vars_serialize(&got, &gbuf, &glen), 0);
	if (wlen != glen || memcmp(wbuf, gbuf, wlen) != 0) {
		for (size_t i = 0; i < wlen; i++)
			if (!wbuf[i])
				wbuf[i] = '|';
		for (size_t i = 0; i < glen; i++)
			if (!gbuf[i])
				gbuf[i] = '|';
		print_error("conf:\n%s\ndkms: %.*s\nours: %.*s\n", c->conf,
			    (int)wlen, wbuf, (int)glen, gbuf);
		fail();
	}
}

static void test_oracle_dkms(void **state)
{
	if (access(DKMS_SCRIPT, R_OK) != 0)
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	for (size_t i = 0; i < ARRAY_SIZE(oracle_cases); i++)
		oracle_one(*state, &oracle_cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_scalar_and_arrays), T(test_env_visible),
		T(test_whitelist_filter),  T(test_override_order),
		T(test_blank_folding),	   T(test_double_expansion),
		T(test_control_flow),	   T(test_missing_file_skipped),
		T(test_syntax_error),	   T(test_exit_in_file),
		T(test_timeout),	   T(test_background_child),
		T(test_huge_output),	   T(test_large_value),
		T(test_diag_truncated),	   T(test_stdout_noise),
		T(test_quote_breakout),	   T(test_bad_names),
		T(test_no_fd_leak),	   T(test_root_without_bash),
		T(test_root_with_bash),	   T(test_oracle_dkms),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
