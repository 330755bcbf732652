// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The native dkms.conf reader: exact values for what it accepts, a line
 * and a reason for what it refuses, and bash 5.2 itself as the oracle for
 * both the sourcing and dkms's copy-out folding.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "unit.h"

#include "conf/native.h"
#include "conf/vars.h"

#define BASH "/bin/bash"

static const char *const presets[][2] = {
	{"kernelver", "6.1.0-9-amd64"},
	{"arch", "x86_64"},
	{"kernel_source_dir", "/lib/modules/6.1.0-9-amd64/build"},
	{"dkms_tree", "/var/lib/dkms"},
	{"source_tree", "/usr/src"},
	{"install_tree", "/lib/modules"},
	{"module", "foo"},
	{"module_version", "1.0"},
};

static void fill_presets(struct vars *vs)
{
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		assert_int_equal(vars_set(vs, presets[i][0], 0, presets[i][1]),
				 0);
}

static int source_str(const char *text, struct vars *vs, struct conf_diag *d)
{
	fill_presets(vs);
	return conf_native_source(text, strlen(text), vs, d);
}

/* ------------------------------------------------------------------ */
/* Accepted constructs, values checked by hand against bash 5.2 (and
 * again by the differential test below). */

struct accept_case {
	const char *text;
	const char *name;
	size_t idx;
	const char *want; /* NULL: element unset */
};

static const struct accept_case accepted[] = {
	{"", "kernelver", 0, "6.1.0-9-amd64"},
	{"\n\n# only a comment\n   \t\n", "arch", 0, "x86_64"},
	{"PACKAGE_NAME=foo\n", "PACKAGE_NAME", 0, "foo"},
	{"A=\n", "A", 0, ""},
	{"A=''\"\"\n", "A", 0, ""},
	{"A=1;\n", "A", 0, "1"},
	{"A=1 ;\n", "A", 0, "1"},
	{"A=1;B=2\n", "B", 0, "2"},
	{"A=1 B=$A\n", "B", 0, "1"},
	{"A=1; A=2\n", "A", 0, "2"},
	{"A=x #c\n", "A", 0, "x"},
	{"A=x#c\n", "A", 0, "x#c"},
	{"A=#c\n", "A", 0, "#c"},
	{"A=1;#c\nB=2", "B", 0, "2"},
	{"  A=indented\t\n", "A", 0, "indented"},
	{"A[0]=x\n", "A", 0, "x"},
	{"A[7]=x\n", "A", 7, "x"},
	{"A[7]=x\n", "A", 0, NULL},
	{"A[4095]=x\n", "A", 4095, "x"},
	{"A[0]=a A[1]=b A=c\n", "A", 1, "b"},
	{"A[0]=a A[1]=b A=c\n", "A", 0, "c"},
	{"A[2]=z B=${A[2]}${A[1]}.\n", "B", 0, "z."},
	{"A[2]=z B=$A.\n", "B", 0, "."},
	{"A='a b  c'\n", "A", 0, "a b  c"},
	{"A='$x `y` \\z \"'\n", "A", 0, "$x `y` \\z \""},
	{"A=\"$kernelver\"\n", "A", 0, "6.1.0-9-amd64"},
	{"A=\"${kernelver}x\"\n", "A", 0, "6.1.0-9-amd64x"},
	{"A=$kernelver[1]\n", "A", 0, "6.1.0-9-amd64[1]"},
	{"A=\"${kernelver[0]}\"\n", "A", 0, "6.1.0-9-amd64"},
	{"A=${kernelver[3]}\n", "A", 0, ""},
	{"A=${module}-${module_version}\n", "A", 0, "foo-1.0"},
	{"A=\"a\\b\\$c\\\"d\\`e\\\\f\"\n", "A", 0, "a\\b$c\"d`e\\f"},
	{"A=a\\ b\\$c\\\"\\'\n", "A", 0, "a b$c\"'"},
	{"A=\"x\ny\"\n", "A", 0, "x\ny"},
	{"A='x\ny'\n", "A", 0, "x\ny"},
	{"A=a\\\nb\n", "A", 0, "ab"},
	{"A=\"a\\\nb\"\n", "A", 0, "ab"},
	{"A='a\\\nb'\n", "A", 0, "a\\\nb"},
	{"A=\"x\\\\\ny\"\n", "A", 0, "x\\\ny"},
	{"A=a\\\\\nB=1\n", "A", 0, "a\\"},
	{"A\\\n=1\n", "A", 0, "1"},
	{"A=$kernel\\\nver\n", "A", 0, "6.1.0-9-amd64"},
	{"A=${kernel\\\nver}\n", "A", 0, "6.1.0-9-amd64"},
	{"A=1 \\\n# c\nB=2\n", "B", 0, "2"},
	{"# c \\\nA=1\n", "A", 0, "1"},
	{"A=\"a$\"\n", "A", 0, "a$"},
	{"A=a$/b$.c$\n", "A", 0, "a$/b$.c$"},
	{"A=$} B=$% C=$+ D=$, E=$= F=$: G=$]\n", "G", 0, "$]"},
	{"A=a$;B=1\n", "A", 0, "a$"},
	{"A=1.0~rc1\n", "A", 0, "1.0~rc1"},
	{"A=\"~\"\n", "A", 0, "~"},
	{"A={a,b}\n", "A", 0, "{a,b}"},
	{"A=*.c B=[ab] C=?\n", "A", 0, "*.c"},
	{"A=!x\n", "A", 0, "!x"},
	{"if=1\n", "if", 0, "1"},
	{"A=x\r\n", "A", 0, "x\r"},
	{"A=x\v\fy\n", "A", 0, "x\v\fy"},
	{"A=caf\xc3\xa9\n", "A", 0, "caf\xc3\xa9"},
	{"kernelver=5.10 A=$kernelver\n", "A", 0, "5.10"},
	{"A=\"multi\nline\"; B=$A\n", "B", 0, "multi\nline"},
	{"MAKE[0]=\"make -C ${kernel_source_dir} M=${dkms_tree}/${module}/"
	 "${module_version}/build\"\n",
	 "MAKE", 0,
	 "make -C /lib/modules/6.1.0-9-amd64/build "
	 "M=/var/lib/dkms/foo/1.0/build"},
};

static void test_accepted(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
		const struct accept_case *c = &accepted[i];
		_cleanup_(vars_freep) struct vars vs = VARS_INIT;
		struct conf_diag d;
		const char *got;
		int r = source_str(c->text, &vs, &d);

		if (r != 0)
			fail_msg("case %zu: refused: %s", i, d.reason);
		assert_int_equal(d.line, 0);
		assert_string_equal(d.reason, "");
		got = vars_get(&vs, c->name, c->idx);
		if (!c->want) {
			assert_null(got);
			continue;
		}
		if (!got || !streq(got, c->want))
			fail_msg("case %zu: %s[%zu] = '%s', want '%s'", i,
				 c->name, c->idx, got ? got : "(unset)",
				 c->want);
	}
}

/* A realistic dkms.conf, every variable checked. */
static void test_full_file(void **state)
{
	static const char text[] =
		"# dkms.conf for foo\n"
		"PACKAGE_NAME=\"foo\"\n"
		"PACKAGE_VERSION=\"1.0\"\n"
		"\n"
		"MAKE[0]=\"make -C src/ KVERSION=$kernelver \\\n"
		"   KDIR=${kernel_source_dir}\"\n"
		"CLEAN='make -C src/ clean'\n"
		"BUILT_MODULE_NAME[0]=foo ; BUILT_MODULE_LOCATION[0]=src/\n"
		"BUILT_MODULE_NAME[1]=foo_helper\n"
		"DEST_MODULE_LOCATION[0]=/updates/dkms  # the usual\n"
		"DEST_MODULE_LOCATION[1]=\"${DEST_MODULE_LOCATION[0]}\"\n"
		"AUTOINSTALL=yes\n";
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;
	struct conf_diag d;

	assert_int_equal(source_str(text, &vs, &d), 0);
	assert_string_equal(vars_str(&vs, "PACKAGE_NAME"), "foo");
	assert_string_equal(vars_str(&vs, "PACKAGE_VERSION"), "1.0");
	assert_string_equal(vars_str(&vs, "MAKE"),
			    "make -C src/ KVERSION=6.1.0-9-amd64    "
			    "KDIR=/lib/modules/6.1.0-9-amd64/build");
	assert_string_equal(vars_str(&vs, "CLEAN"), "make -C src/ clean");
	assert_string_equal(vars_get(&vs, "BUILT_MODULE_NAME", 1),
			    "foo_helper");
	assert_string_equal(vars_str(&vs, "BUILT_MODULE_LOCATION"), "src/");
	assert_int_equal(vars_count(&vs, "DEST_MODULE_LOCATION"), 2);
	assert_string_equal(vars_get(&vs, "DEST_MODULE_LOCATION", 1),
			    "/updates/dkms");
	assert_string_equal(vars_str(&vs, "AUTOINSTALL"), "yes");
}

/* ------------------------------------------------------------------ */
/* Refusals: a line and a reason */

struct refuse_case {
	const char *text;
	unsigned line;
	const char *reason; /* a substring of diag.reason */
};

static const struct refuse_case refused[] = {
	{"A=$(uname -r)\n", 1, "command substitution $(...)"},
	{"\n\nA=\"$(cat x)\"\n", 3, "command substitution $(...)"},
	{"A=`uname`\n", 1, "command substitution `...`"},
	{"A=\"`uname`\"\n", 1, "command substitution `...`"},
	{"A=$((1+1))\n", 1, "arithmetic"},
	{"A=$[1+1]\n", 1, "arithmetic $[...]"},
	{"A=${B:-x}\n", 1, "parameter expansion operator"},
	{"A=${kernelver%%.*}\n", 1, "parameter expansion operator"},
	{"A=${kernelver/-/_}\n", 1, "parameter expansion operator"},
	{"A=${#kernelver}\n", 1, "parameter expansion ${ followed by '#'"},
	{"A=${!kernelver}\n", 1, "parameter expansion ${ followed by '!'"},
	{"A=${kernelver[@]}\n", 1, "index that is not a decimal"},
	{"A=${kernelver[i]}\n", 1, "index that is not a decimal"},
	{"A=${1}\n", 1, "parameter expansion ${ followed by '1'"},
	{"A=$1\n", 1, "special parameter $1"},
	{"A=$@\n", 1, "special parameter $@"},
	{"A=$?\n", 1, "special parameter $?"},
	{"A=$$\n", 1, "special parameter $$"},
	{"A=$#\n", 1, "special parameter $#"},
	{"A=$!\n", 1, "special parameter $!"},
	{"A=$-\n", 1, "special parameter $-"},
	{"A=$*\n", 1, "special parameter $*"},
	{"A=$'x'\n", 1, "ANSI-C quoting"},
	{"A=$\"x\"\n", 1, "locale quoting"},
	{"A=\"$;\"\n", 1, "'$' followed by ';'"},
	{"A=$\xc3\xa9\n", 1, "'$' followed by 0xc3"},
	{"A=\"$kernelver\xc3\xa9\"\n", 1, "non-ASCII"},
	{"A=~\n", 1, "tilde"},
	{"A=~/x\n", 1, "tilde"},
	{"A=x:~/y\n", 1, "tilde"},
	{"A[1]=~root\n", 1, "tilde"},
	{"A=\\\n~\n", 2, "tilde"},
	{"A=1; echo hi\n", 1, "command 'echo'"},
	{"A=1 B=2 make\n", 1, "command 'make'"},
	{"A=1 &\n", 1, "unquoted &"},
	{"A=1&\n", 1, "unquoted '&'"},
	{"A=1 | B=2\n", 1, "unquoted |"},
	{"A=1 >f\n", 1, "unquoted >"},
	{"A=1<f\n", 1, "unquoted '<'"},
	{"(A=1)\n", 1, "unquoted ("},
	{"A=x)\n", 1, "unquoted ')'"},
	{"{ A=1; }\n", 1, "shell keyword '{'"},
	{"if true; then A=1; fi\n", 1, "shell keyword 'if'"},
	{"case $x in esac\n", 1, "shell keyword 'case'"},
	{"for i in 1; do A=1; done\n", 1, "shell keyword 'for'"},
	{"[[ -n x ]]\n", 1, "shell keyword '[['"},
	{"export A=1\n", 1, "command 'export'"},
	{"local A=1\n", 1, "command 'local'"},
	{"declare -a A\n", 1, "command 'declare'"},
	{". /etc/x.conf\n", 1, "command '.'"},
	{"source /etc/x.conf\n", 1, "command 'source'"},
	{"A=(1 2)\n", 1, "array assignment A=(...)"},
	{"A=1\ncat <<EOF\nx\nEOF\n", 2, "command 'cat'"},
	{"A=1\n1A=2\n", 2, "command '1A=2'"},
	{"A\n", 1, "command 'A'"},
	{"A =1\n", 1, "command 'A'"},
	{"\"A\"=1\n", 1, "command '\"A\"=1'"},
	{"A+=x\n", 1, "appending assignment A+="},
	{"A[1]+=x\n", 1, "appending assignment A+="},
	{"A[010]=x\n", 1, "leading zero"},
	{"A[4096]=x\n", 1, "index above 4095"},
	{"A[99999999999999999999999]=x\n", 1, "index above 4095"},
	{"A[$i]=x\n", 1, "index that is not a decimal"},
	{"A[]=x\n", 1, "index that is not a decimal"},
	{"A[1]x=2\n", 1, "command 'A[1]x=2'"},
	{"A=$UNKNOWN\n", 1, "variable UNKNOWN is not known here"},
	{"A=\"${UNKNOWN[1]}\"\n", 1, "variable UNKNOWN is not known here"},
	{"IFS=:\n", 1, "assignment to IFS"},
	{"DKMS_DIRECTIVE_X=Y=1\n", 1, "assignment to DKMS_DIRECTIVE_X"},
	{"export_envs=x\n", 1, "assignment to export_envs"},
	{"A=$RANDOM\n", 1, "RANDOM is special"},
	{"A=$HOME\n", 1, "HOME is special"},
	{"; A=1\n", 1, "';' without a command"},
	{"A=1;;\n", 1, "';' without a command"},
	{"A=1\n\nB='unterminated\n", 3, "unterminated single quote"},
	{"A=\"unterminated\n\n", 1, "unterminated double quote"},
	{"A=x\r\n\r\n", 2, "carriage return"},
	{"A=x\\", 1, "backslash at end of file"},
	{"A=1\nB=\x01\n", 2, "control byte 0x01"},
	{"A=1\nB=\x7f\n", 2, "control byte 0x7f"},
	{"A=1 \\\nB=$(x)\n", 2, "command substitution"},
	{"A=1\n  B=2 \\\n  C=3 \\\n  D=`x`\n", 4, "`...`"},
};

static void test_refused(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		const struct refuse_case *c = &refused[i];
		_cleanup_(vars_freep) struct vars vs = VARS_INIT;
		struct conf_diag d;
		int r = source_str(c->text, &vs, &d);

		if (r != -ENOTSUP)
			fail_msg("case %zu (%s): r=%d, want -ENOTSUP", i,
				 c->text, r);
		if (d.line != c->line || !strstr(d.reason, c->reason))
			fail_msg("case %zu: line %u '%s', want line %u '%s'", i,
				 d.line, d.reason, c->line, c->reason);
		assert_null(strchr(d.reason, '\n'));
		assert_true(startswith(d.reason, "line "));
	}
}

/* The buffer has a length, not a terminator, and may hold NULs. */
static void test_buffer_bounds(void **state)
{
	static const char buf[] = "A=1\nB=2\0C=3";
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;
	struct conf_diag d;
	char *heap;

	fill_presets(&vs);
	/* stop before the NUL: B is "2" and C never read */
	assert_int_equal(conf_native_source(buf, 7, &vs, &d), 0);
	assert_string_equal(vars_str(&vs, "B"), "2");
	assert_null(vars_find(&vs, "C"));
	assert_int_equal(conf_native_source(buf, sizeof(buf) - 1, &vs, &d),
			 -ENOTSUP);
	assert_int_equal(d.line, 2);
	assert_non_null(strstr(d.reason, "control byte 0x00"));

	/* an exact-size heap copy so that ASan catches any read past len */
	heap = malloc(5);
	assert_non_null(heap);
	memcpy(heap, "A='x", 5);
	assert_int_equal(conf_native_source(heap, 5, &vs, &d), -ENOTSUP);
	memcpy(heap, "A=\"$k", 5);
	assert_int_equal(conf_native_source(heap, 5, &vs, &d), -ENOTSUP);
	memcpy(heap, "A=ab\\", 5);
	assert_int_equal(conf_native_source(heap, 5, &vs, &d), -ENOTSUP);
	memcpy(heap, "A=${k", 5);
	assert_int_equal(conf_native_source(heap, 5, &vs, &d), -ENOTSUP);
	memcpy(heap, "A[12", 5);
	assert_int_equal(conf_native_source(heap, 5, &vs, &d), -ENOTSUP);
	memcpy(heap, "A=x\\\n", 5);
	assert_int_equal(conf_native_source(heap, 5, &vs, &d), 0);
	assert_string_equal(vars_str(&vs, "A"), "x");
	free(heap);

	assert_int_equal(conf_native_source(NULL, 0, &vs, NULL), 0);
	assert_int_equal(conf_native_source("A=$(x)", 6, &vs, NULL), -ENOTSUP);
}

static double elapsed(struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Megabyte lines are read in linear time; blow-ups are refused. */
static void test_large(void **state)
{
	const size_t mb = 1 << 20;
	_cleanup_(vars_freep) struct vars vs = VARS_INIT;
	_cleanup_(freep) char *buf = malloc(mb + 16);
	struct conf_diag d;
	struct timespec t0;
	size_t n;

	assert_non_null(buf);
	fill_presets(&vs);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* one 1 MiB value */
	n = (size_t)sprintf(buf, "A=\"");
	memset(buf + n, 'x', mb);
	n += mb;
	buf[n++] = '"';
	assert_int_equal(conf_native_source(buf, n, &vs, &d), 0);
	assert_int_equal(strlen(vars_str(&vs, "A")), mb);

	/* a 1 MiB line of assignments, each expanding the last */
	n = (size_t)sprintf(buf, "B=x");
	while (n + 8 < mb)
		n += (size_t)sprintf(buf + n, " B=$B.");
	assert_int_equal(conf_native_source(buf, n, &vs, &d), -ENOTSUP);
	assert_non_null(strstr(d.reason, "MiB in total"));

	/* doubling: refused long before it hurts */
	n = (size_t)sprintf(buf, "C=xxxxxxxxxxxxxxxx\n");
	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(buf + n, "C=$C$C\n");
	assert_int_equal(conf_native_source(buf, n, &vs, &d), -ENOTSUP);
	assert_non_null(strstr(d.reason, "MiB in total"));

	/* a 1 MiB line of continuations and blanks */
	for (n = 0; n + 4 < mb; n += 4)
		memcpy(buf + n, " \\\n\t", 4);
	assert_int_equal(conf_native_source(buf, n, &vs, &d), 0);

	/* too many variables */
	n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(buf + n, "V%d=%d\n", i, i);
	assert_int_equal(conf_native_source(buf, n, &vs, &d), -ENOTSUP);
	assert_non_null(strstr(d.reason, "more than 256 variables"));

	assert_true(elapsed(&t0) < 5.0);
}

/* ------------------------------------------------------------------ */
/* Running bash */

struct bash_run {
	char *out;
	size_t out_len;
	size_t err_len; /* bytes bash wrote to stderr */
	int status;
};

static void bash_run_free(struct bash_run *b)
{
	free(b->out);
}

static bool have_bash(void)
{
	return access(BASH, X_OK) == 0;
}

static void child_exec(int out_fd, int err_fd, char *const argv[])
{
	static char *const env[] = {"LC_ALL=C", "PATH=/usr/bin:/bin", NULL};

	if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	execve(BASH, argv, env);
	_exit(127);
}

/* Run bash -c script with args; stdout captured, stderr counted. */
static void run_bash(const char *dir, const char *script,
		     const char *const *args, struct bash_run *res)
{
	_cleanup_(freep) char *errpath = path_join(dir, "stderr");
	char *argv[64];
	int pfd[2], efd, n = 0;
	struct stat st;
	pid_t pid;

	argv[n++] = (char *)"bash";
	argv[n++] = (char *)"-c";
	argv[n++] = (char *)script;
	argv[n++] = (char *)"_";
	for (; *args && n < 63; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	assert_non_null(errpath);
	efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(efd >= 0);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_exec(pfd[1], efd, argv);
	close(pfd[1]);
	close(efd);
	assert_int_equal(read_fd(pfd[0], 64 << 20, &res->out, &res->out_len),
			 0);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &res->status, 0), pid);
	assert_int_equal(stat(errpath, &st), 0);
	res->err_len = (size_t)st.st_size;
	unlink(errpath);
}

static void write_str(const char *path, const char *s)
{
	assert_int_equal(write_file_atomic(path, s, strlen(s), 0600), 0);
}

/* ------------------------------------------------------------------ */
/* Differential: source each snippet in bash as dkms would (extglob on,
 * the presets as plain shell variables) and print every variable the
 * native reader ended up with as name\0index\0value\0 triples. */

static const char source_script[] =
	"shopt -s extglob\n"
	"kernelver=6.1.0-9-amd64 arch=x86_64\n"
	"kernel_source_dir=/lib/modules/6.1.0-9-amd64/build\n"
	"dkms_tree=/var/lib/dkms source_tree=/usr/src\n"
	"install_tree=/lib/modules module=foo module_version=1.0\n"
	"__f=$1 __e=$2; shift 2\n"
	". \"$__f\" 2>\"$__e\"\n"
	"for __n; do\n"
	"  eval \"__idx=(\\\"\\${!$__n[@]}\\\")\"\n"
	"  for __i in \"${__idx[@]}\"; do\n"
	"    eval \"__v=\\${$__n[\\$__i]}\"\n"
	"    printf '%s\\0%s\\0%s\\0' \"$__n\" \"$__i\" \"$__v\"\n"
	"  done\n"
	"done\n";

struct diff_case {
	const char *text;
	bool accept; /* what the native reader is expected to do */
};

static const struct diff_case diffs[] = {
	{"PACKAGE_NAME=foo\nPACKAGE_VERSION=1.0\n", true},
	{"A=\nB=''\nC=\"\"\n", true},
	{"A=1 B=$A C=\"$B$A\"\n", true},
	{"A=1; B=2;C=3 ;\n", true},
	{"A=x #c\nB=x#c\nC=#c\n", true},
	{"A=1;#c\nB=2 # \\\nC=3\n", true},
	{"A[0]=a A[3]=b\nB=$A${A[3]}${A[2]}.\n", true},
	{"A[2]=z\nB=$A.\nA=y\n", true},
	{"A='a b  c' B='$x `y` \\z \"'\n", true},
	{"A=\"$kernelver\" B=\"${arch}x\" C=$kernelver[1]\n", true},
	{"A=${kernelver[0]}${kernelver[3]}\n", true},
	{"A=\"a\\b\\$c\\\"d\\`e\\\\f\\\n\"\n", true},
	{"A=a\\ b\\$c\\\"\\'\\\\\\x\n", true},
	{"A=\"x\ny\" B='x\ny'\n", true},
	{"A=a\\\nb B=\"a\\\nb\" C='a\\\nb'\n", true},
	{"A=\"x\\\\\ny\"\nB=a\\\\\nC=1\n", true},
	{"A\\\n=1 B=$kern\\\nelver C=${kernel\\\nver}\n", true},
	{"A=\\\n1\\\n2\\\n\\\n3\n", true},
	{"A=\"a$\" B=a$/b$.c$ C=a$\n", true},
	{"A=\"$} $/ $. $: $, $= $+ $% $]\" B=\"$\n\"\n", true},
	{"A=1 \\\n# c\nB=2\n", true},
	{"A==x B=x=y C=a:b\n", true},
	{"A=\\~ B=x:\\~ C=x\\:~ D=\":\"~\n", false},
	{"A=\\~ B=x:\\~ C=\":\"~ D=':'~\n", true},
	{"A=$} B=$% C=$+ D=$, E=$= F=$: G=$] H=\"$ \"\n", true},
	{"A=a$;B=1\n", true},
	{"A=1.0~rc1 B=a~ C=\"~\" D='~'\n", true},
	{"A={a,b} B=*.c C=[ab] D=? E=!x F=@x G=a=b\n", true},
	{"if=1 then=2 time=3 function=4\n", true},
	{"A=x\r\nB=\"y\r\"\n", true},
	{"A=x\v\fy B=caf\xc3\xa9\n", true},
	{"kernelver=5.10 A=$kernelver\n", true},
	{"A=\"multi\nline\"; B=$A\n", true},
	{"MAKE[0]=\"make -C ${kernel_source_dir} M=${dkms_tree}/${module}/"
	 "${module_version}/build\"\n",
	 true},
	{"MAKE=\"'make' -C src/ KVERSION=$kernelver\"\n", true},
	{"BUILT_MODULE_NAME[0]=a\nBUILT_MODULE_NAME[1]=b\n"
	 "DEST_MODULE_LOCATION[0]=\"/kernel/drivers/net\"\n"
	 "DEST_MODULE_LOCATION[1]=$DEST_MODULE_LOCATION\n",
	 true},
	{"A[1]=x A[01]=y\n", false},
	{"A[10]=x A[9]=y A=${A[10]}${A[9]}\n", true},
	{"A='it'\\''s' B=\"it's\" C=it\\'s\n", true},
	{"A=\"$module\"'$module'$module\n", true},
	{"A=\"\\a\\b\\ \\\t\" B='\\'\n", true},
	{"\t A=1\t\tB=2 \t;\t C=3\n", true},
	{"A=\"a'b\" B='a\"b'\n", true},
	{"A=\"${A}x\"\n", false},
	{"A=x; A=\"${A}y\"; A=$A$A\n", true},
	{"A=~\n", false},
	{"A=$(echo x)\n", false},
	{"A=1 B=2 true\n", false},
	{"A=x:~\n", false},
	{"A=x\\", false},
};

/* Names the snippets use, so that a variable bash set and the native
 * reader did not is noticed too. */
static const char *const extra_names[] = {"A", "B", "C", "D",  "E",    "F",
					  "G", "H", "X", "if", "then", "MAKE"};

static void check_same(const struct vars *native, const struct vars *bash,
		       size_t i)
{
	for (size_t k = 0; k < bash->n; k++)
		if (!vars_find(native, bash->v[k].name))
			fail_msg("case %zu: %s set by bash only", i,
				 bash->v[k].name);
	for (size_t k = 0; k < native->n; k++) {
		const struct var *v = &native->v[k];
		const struct var *b = vars_find(bash, v->name);

		if (!b)
			fail_msg("case %zu: %s unset in bash", i, v->name);
		if (vars_count(bash, v->name) != vars_count(native, v->name))
			fail_msg("case %zu: %s: %zu elements in bash, %zu "
				 "native",
				 i, v->name, vars_count(bash, v->name),
				 vars_count(native, v->name));
		for (size_t j = 0; j < v->n; j++) {
			const char *x = v->vals[j];
			const char *y = vars_get(bash, v->name, j);

			if (!x != !y || (x && !streq(x, y)))
				fail_msg("case %zu: %s[%zu]: native '%s' bash "
					 "'%s'",
					 i, v->name, j, x ? x : "(unset)",
					 y ? y : "(unset)");
		}
	}
}

static void diff_one(const char *dir, size_t i)
{
	_cleanup_(freep) char *path = path_join(dir, "dkms.conf");
	_cleanup_(vars_freep) struct vars native = VARS_INIT;
	_cleanup_(vars_freep) struct vars bash = VARS_INIT;
	_cleanup_(bash_run_free) struct bash_run run = {0};
	_cleanup_(freep) char *errpath = path_join(dir, "source.err");
	const char *args[64] = {path, errpath};
	struct conf_diag d;
	struct stat st;
	size_t na = 2;
	int r;

	r = source_str(diffs[i].text, &native, &d);
	if ((r == 0) != diffs[i].accept)
		fail_msg("case %zu: native r=%d (%s)", i, r, d.reason);
	if (r != 0)
		return;
	write_str(path, diffs[i].text);
	for (size_t k = 0; k < native.n && na < 50; k++)
		args[na++] = native.v[k].name;
	/* and some it might have missed */
	for (size_t k = 0; k < ARRAY_SIZE(extra_names); k++)
		args[na++] = extra_names[k];
	args[na] = NULL;
	run_bash(dir, source_script, args, &run);
	assert_int_equal(stat(errpath, &st), 0);
	if (run.status != 0 || run.err_len || st.st_size)
		fail_msg("case %zu: bash failed or complained", i);
	assert_int_equal(vars_parse_triples(run.out, run.out_len, &bash), 0);
	check_same(&native, &bash, i);
	unlink(path);
	unlink(errpath);
}

static void test_differential(void **state)
{
	_cleanup_(freep) char *dir = NULL;

	if (!have_bash())
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	dir = unit_tmpdir();
	assert_non_null(dir);
	for (size_t i = 0; i < ARRAY_SIZE(diffs); i++)
		diff_one(dir, i);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* The copy out of the subshell */

struct fold_case {
	const char *in, *out; /* out NULL: refused */
};

/* Expected outputs checked by hand with bash 5.2 running dkms's own
 * eval echo line (the script below), and again by test_reexport_bash. */
static const struct fold_case folds[] = {
	{"", ""},
	{"a", "a"},
	{" ", " "},
	{"   ", " "},
	{"  a  b ", " a b "},
	{"\ta\n\nb\t", " a b "},
	{"make -C src/   KVERSION=1", "make -C src/ KVERSION=1"},
	{"a*b", "a*b"},
	{"a\\b", "a\\b"},
	{"a\\ ", "a\\ "},
	{"a\\ \n", "a\\ "},
	{"-n", "-n"},
	{"-e", "-e"},
	{"'quoted'", "'quoted'"},
	{"x\r", "x\r"},
	{"a#b ;c&d|e<f>g(h)i", "a#b ;c&d|e<f>g(h)i"},
	{"~", "~"},
	{"!x", "!x"},
	{"x\\", NULL},
	{"$x", NULL},
	{"a$", NULL},
	{"`x`", NULL},
	{"a\"b", NULL},
	{"a\\\\b", NULL},
	{"a\\$b", NULL},
	{"a\\`b", NULL},
	{"a\\\nb", NULL},
};

static void test_reexport(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(folds); i++) {
		_cleanup_(freep) char *v = strdup(folds[i].in);
		struct conf_diag d;
		int r;

		assert_non_null(v);
		r = conf_native_reexport(v, &d);
		if (!folds[i].out) {
			assert_int_equal(r, -ENOTSUP);
			assert_true(d.reason[0] != '\0');
			assert_string_equal(v, folds[i].in);
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(v, folds[i].out);
	}
	/* diag may be NULL */
	{
		char v[] = "$x";

		assert_int_equal(conf_native_reexport(v, NULL), -ENOTSUP);
	}
}

static const char reexport_script[] =
	"set -f\n"
	"_export_env=X _i=0\n"
	"X=$1\n"
	"eval echo '$_export_env[$_i]=\\\"${'$_export_env'[$_i]}\\\"' "
	">\"$2\"\n"
	"unset X\n"
	". \"$2\"\n"
	"printf '%s' \"${X[0]}\"\n";

static void test_reexport_bash(void **state)
{
	_cleanup_(freep) char *dir = NULL;
	_cleanup_(freep) char *tmp = NULL;

	if (!have_bash())
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	dir = unit_tmpdir();
	assert_non_null(dir);
	tmp = path_join(dir, "export");
	assert_non_null(tmp);
	for (size_t i = 0; i < ARRAY_SIZE(folds); i++) {
		_cleanup_(bash_run_free) struct bash_run run = {0};
		_cleanup_(freep) char *v = strdup(folds[i].in);
		const char *args[] = {folds[i].in, tmp, NULL};

		assert_non_null(v);
		if (conf_native_reexport(v, NULL) < 0)
			continue;
		run_bash(dir, reexport_script, args, &run);
		if (run.status != 0 || run.err_len)
			fail_msg("case %zu: bash failed", i);
		if (run.out_len != strlen(v) || memcmp(run.out, v, run.out_len))
			fail_msg("case %zu: native '%s', bash '%s'", i, v,
				 run.out);
	}
	unlink(tmp);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_buffer_bounds),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_reexport),
		cmocka_unit_test(test_reexport_bash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
