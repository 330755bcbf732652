// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The build sandbox, shown with real commands in real namespaces (the
 * tests run as root).  Most runs use the host root "/" with a scratch
 * build directory bound onto a path under /var/tmp: /tmp itself is
 * replaced by a private tmpfs inside the sandbox.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"
#include "lib/log.h"
#include "lib/sandbox.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#ifdef DKMS_BOOT_TEST_BUILD
extern bool sandbox_test_old_kernel, sandbox_test_no_overlay;
#endif

static char *scratch; /* /var/tmp/dkb-sbx-XXXXXX: in-root targets */
static char *build;   /* per test: the host build dir (under /tmp) */
static char *inroot;  /* per test: where it appears, under scratch */
static char *logp;    /* per test: the step's log file */
static struct sandbox_opts opts;
static unsigned seq;

static char *capture_log(FILE *f);

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;

	if (read_file(path, 1 << 20, &buf, &len) < 0)
		return NULL;
	return buf;
}

static char *in_build(const char *name)
{
	return path_join(build, name);
}

static void assert_file(const char *path, const char *want)
{
	_cleanup_(freep) char *got = slurp(path);

	assert_non_null(got);
	assert_string_equal(got, want);
}

static void assert_log_contains(const char *needle)
{
	_cleanup_(freep) char *got = slurp(logp);

	assert_non_null(got);
	if (!strstr(got, needle))
		fail_msg("log %s lacks \"%s\":\n%s", logp, needle, got);
}

static int sh(const char *script)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};

	return sandbox_run(argv, &opts);
}

/* sh, and the step's log shown when it fails. */
static void sh_ok(const char *script)
{
	int r = sh(script);
	_cleanup_(freep) char *log = NULL;

	if (r == 0)
		return;
	log = slurp(logp);
	fail_msg("exit %d: %s\nlog:\n%s", r, script, log ? log : "(none)");
}

static int group_setup(void **state)
{
	scratch = strdup("/var/tmp/dkb-sbx-XXXXXX");
	/* Searchable, as /var/lib/dkms is: the sandbox user walks it. */
	if (!scratch || !mkdtemp(scratch) || chmod(scratch, 0755) < 0)
		return -1;
	return sandbox_supported() ? 0 : -1;
}

static int rm_rf(const char *path)
{
	_cleanup_(freep) char *cmd = xasprintf("rm -rf '%s'", path);

	return cmd ? system(cmd) : -1;
}

static int group_teardown(void **state)
{
	rm_rf(scratch);
	free(scratch);
	return 0;
}

static int setup(void **state)
{
	build = unit_tmpdir();
	inroot = xasprintf("%s/build-%u", scratch, ++seq);
	logp = xasprintf("%s/log-%u", scratch, seq);
	opts = (struct sandbox_opts){
		.build_host = build,
		.build_inroot = inroot,
		.log_path = logp,
		.timeout_ms = 20000,
		.keep_privileges = true,
	};
	return build && inroot && logp ? 0 : -1;
}

static int teardown(void **state)
{
	rm_rf(build);
	free(build);
	free(inroot);
	free(logp);
#ifdef DKMS_BOOT_TEST_BUILD
	sandbox_test_old_kernel = false;
	sandbox_test_no_overlay = false;
#endif
	return 0;
}

static void test_build_dir_writable(void **state)
{
	_cleanup_(freep) char *out = in_build("out");
	_cleanup_(freep) char *pwd = in_build("pwd");
	_cleanup_(freep) char *want = xasprintf("%s\n", inroot);

	/* The in-root mount point did not exist: the sandbox made it. */
	assert_int_equal(sh("echo hi > out && pwd > pwd"), 0);
	assert_file(out, "hi\n");
	assert_file(pwd, want);
}

static void test_build_dir_in_private_tmp(void **state)
{
	_cleanup_(freep) char *out = in_build("out");

	opts.build_inroot = "/tmp/dkb-build/sub";
	assert_int_equal(sh("echo hi > out && pwd"), 0);
	assert_file(out, "hi\n");
	assert_log_contains("/tmp/dkb-build/sub\n");
	assert_false(access("/tmp/dkb-build", F_OK) == 0);
}

/* 0 when path did not exist; removes it if it did (a broken sandbox). */
static int gone(const char *path)
{
	return unlink(path) == 0 ? -1 : 0;
}

/* Writes as root anywhere in the root succeed in the step's view and
 * never reach the host: the view is a throwaway overlay. */
static void expect_root_throwaway(void)
{
	_cleanup_(freep) char *other = xasprintf("%s/other", scratch);
	_cleanup_(freep) char *script = xasprintf(
		"for f in /etc/dkb-sandbox-test /usr/src/dkb-sandbox-test "
		"%s; do echo x > $f && test $(cat $f) = x || exit 1; done; "
		"echo ok > out",
		other);
	_cleanup_(freep) char *out = in_build("out");
	int r;

	assert_int_equal(access("/etc/dkb-sandbox-test", F_OK), -1);
	r = sh(script);
	assert_int_equal(gone("/etc/dkb-sandbox-test") +
				 gone("/usr/src/dkb-sandbox-test") +
				 gone(other),
			 0);
	assert_int_equal(r, 0);
	assert_file(out, "ok\n");
}

static void expect_root_read_only(void)
{
	_cleanup_(freep) char *other = xasprintf("%s/other", scratch);
	_cleanup_(freep) char *script = xasprintf(
		"for f in /etc/dkb-sandbox-test /usr/src/dkb-sandbox-test "
		"%s; do if echo x > $f; then echo wrote $f; exit 1; fi; "
		"done; echo ok > out",
		other);
	_cleanup_(freep) char *out = in_build("out");
	int r;

	assert_int_equal(access("/etc/dkb-sandbox-test", F_OK), -1);
	/* As root, so that only the read-only mounts stand in the way. */
	r = sh(script);
	assert_int_equal(gone("/etc/dkb-sandbox-test") +
				 gone("/usr/src/dkb-sandbox-test") +
				 gone(other),
			 0);
	assert_int_equal(r, 0);
	assert_log_contains("Read-only file system");
	assert_file(out, "ok\n");
}

static void test_root_throwaway(void **state)
{
	expect_root_throwaway();
}

/* Without overlayfs: the read-only root, and the reason logged. */
static void test_root_read_only(void **state)
{
#ifdef DKMS_BOOT_TEST_BUILD
	FILE *f = tmpfile();
	_cleanup_(freep) char *msg = NULL;

	assert_non_null(f);
	log_set_stream(f);
	sandbox_test_no_overlay = true;
	expect_root_read_only();
	msg = capture_log(f);
	assert_non_null(strstr(msg, "no overlay"));
#else
	skip();
#endif
}

/*
 * The overlay also covers what is mounted below the root (overlayfs
 * itself does not descend into submounts): a tmpfs mounted in the
 * scratch dir, in a child's own mount namespace, is writable in the view
 * and unchanged on the host.
 */
static void test_overlay_submounts(void **state)
{
	_cleanup_(freep) char *mnt = xasprintf("%s/mnt-%u", scratch, seq);
	_cleanup_(freep) char *script =
		xasprintf("cat %s/old && echo x > %s/old && echo y > %s/new && "
			  "cat %s/old %s/new",
			  mnt, mnt, mnt, mnt, mnt);
	int status;
	pid_t pid;

	assert_int_equal(make_dirs(mnt, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_cleanup_(freep) char *old = path_join(mnt, "old");
		_cleanup_(freep) char *got = NULL;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("tmpfs", mnt, "tmpfs", 0, "size=1m") < 0 ||
		    unit_sh("echo orig > '%s'", old) != 0)
			_exit(2);
		if (sh(script) != 0)
			_exit(3);
		got = slurp(old);
		_exit(got && streq(got, "orig\n") && access(mnt, F_OK) == 0
			      ? 0
			      : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_file(logp, "orig\nx\ny\n");
}

static void test_writable_root(void **state)
{
	_cleanup_(freep) char *other = xasprintf("%s/other", scratch);
	_cleanup_(freep) char *script = xasprintf("echo x > %s", other);

	opts.writable_root = true;
	assert_int_equal(sh(script), 0);
	assert_file(other, "x\n");
	unlink(other);
}

static void test_tmp_private(void **state)
{
	_cleanup_(freep) char *name = xasprintf("/tmp/dkb-sbx-%d", getpid());
	_cleanup_(freep) char *script =
		xasprintf("echo x > %s && test $(stat -c %%a /tmp) = 1777 && "
			  "test -z \"$(ls -A /tmp | grep -v dkb-sbx-)\"",
			  name);

	assert_int_equal(sh(script), 0);
	assert_int_equal(access(name, F_OK), -1);
}

static int count_lines(const char *path)
{
	_cleanup_(freep) char *s = slurp(path);
	int n = 0;

	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	return s ? n : -1;
}

/*
 * Where the host's mounts are shared (systemd makes / shared), the
 * sandbox's mounts must not propagate back.  Shown in a child that
 * makes its own copy of the mount table shared, then counts it.
 */
static void test_mounts_do_not_propagate(void **state)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int before;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_SHARED, NULL) < 0)
			_exit(2);
		before = count_lines("/proc/self/mountinfo");
		if (sh("echo hi > out") != 0)
			_exit(3);
		_exit(count_lines("/proc/self/mountinfo") == before ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A listener on 127.0.0.1 in the host's network namespace. */
static int listen_loopback(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_network(void **state)
{
	int port, lfd = listen_loopback(&port);
	_cleanup_(freep) char *connect =
		xasprintf("exec 3<>/dev/tcp/127.0.0.1/%d", port);
	char *argv[] = {"bash", "-c", connect, NULL};
	char *ifaces[] = {"sh", "-c",
			  "sed 1,2d /proc/net/dev | cut -d: -f1 | tr -d ' '",
			  NULL};

	assert_true(lfd >= 0);
	assert_int_not_equal(sandbox_run(argv, &opts), 0);
	assert_log_contains("Network is unreachable");
	unlink(logp);
	assert_int_equal(sandbox_run(ifaces, &opts), 0);
	assert_file(logp, "lo\n");
	opts.keep_network = true;
	assert_int_equal(sandbox_run(argv, &opts), 0);
	close(lfd);
}

static void test_unprivileged(void **state)
{
	_cleanup_(freep) char *uid = in_build("uid");
	_cleanup_(freep) char *f = in_build("f");
	struct stat st;

	opts.keep_privileges = false;
	assert_int_equal(sandbox_chown_tree(build), 0);
	assert_int_equal(sh("id -u > uid; id -G >> uid; echo > f"), 0);
	assert_file(uid, "65534\n65534\n");
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_uid, SANDBOX_UID);
}

static char *capture_log(FILE *f)
{
	char *buf = calloc(1, 4096);

	fflush(f);
	rewind(f);
	if (buf && fread(buf, 1, 4095, f) == 0)
		buf[0] = '\0';
	fclose(f);
	log_set_stream(NULL);
	return buf;
}

static void test_unprivileged_needs_owner(void **state)
{
	FILE *f = tmpfile();
	_cleanup_(freep) char *msg = NULL;

	assert_non_null(f);
	log_set_stream(f);
	opts.keep_privileges = false;
	assert_int_equal(sh("echo > f"), -EACCES);
	msg = capture_log(f);
	assert_non_null(strstr(msg, "cannot write to build dir"));
	assert_non_null(strstr(msg, inroot));
}

static void test_chown_tree(void **state)
{
	_cleanup_(freep) char *target = xasprintf("%s/target-%u", scratch, seq);
	_cleanup_(freep) char *script =
		xasprintf("cd '%s' && mkdir -p a/b/c && echo > a/b/c/f && "
			  "ln -s '%s' a/link && echo > '%s'",
			  build, target, target);
	static const char *const owned[] = {"a", "a/b", "a/b/c", "a/b/c/f",
					    "a/link"};
	struct stat st;

	assert_int_equal(system(script), 0);
	assert_int_equal(sandbox_chown_tree(build), 0);
	assert_int_equal(stat(build, &st), 0);
	assert_int_equal(st.st_uid, SANDBOX_UID);
	for (size_t i = 0; i < ARRAY_SIZE(owned); i++) {
		_cleanup_(freep) char *p = in_build(owned[i]);

		assert_int_equal(lstat(p, &st), 0);
		assert_int_equal(st.st_uid, SANDBOX_UID);
		assert_int_equal(st.st_gid, SANDBOX_GID);
	}
	/* The link was not followed out of the tree. */
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_uid, 0);
}

static void test_timeout(void **state)
{
	unsigned long long t0 = now_ns();

	opts.timeout_ms = 500;
	assert_int_equal(sh("sleep 100"), -ETIME);
	assert_true(now_ns() - t0 < 2000000000ULL);
}

/* Any process on the host whose command line holds needle? */
static bool running(const char *needle)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		_cleanup_(freep) char *path = NULL, *cmd = NULL;
		size_t len = 0;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		path = xasprintf("/proc/%s/cmdline", e->d_name);
		if (!path || read_file(path, 65536, &cmd, &len) < 0)
			continue;
		for (size_t i = 0; i + 1 < len; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		if (strstr(cmd, needle))
			return true;
	}
	return false;
}

/* Left-behind jobs die with the step, even one that left our process
 * group (setsid): the step has its own PID namespace. */
static void test_background_killed(void **state)
{
	int tries = 0;

	assert_int_equal(sh("sleep 100.4242 & setsid sleep 100.4343 & exit 0"),
			 0);
	while ((running("sleep 100.4242") || running("sleep 100.4343")) &&
	       tries++ < 100)
		usleep(10000);
	assert_false(running("sleep 100.4242"));
	assert_false(running("sleep 100.4343"));
}

static void test_exit_status(void **state)
{
	assert_int_equal(sh("exit 7"), 7);
	assert_int_equal(sh("exit 0"), 0);
	assert_int_equal(sh("kill -9 $$"), 128 + 9);
	assert_int_equal(sh("kill -TERM $$"), 128 + 15);
}

static void expect_fds(void);

/* The fallbacks for kernels before 5.12, forced (test build only). */
static void test_old_kernel(void **state)
{
#ifdef DKMS_BOOT_TEST_BUILD
	/* Without open_tree the build dir is bound by path, after the
	 * private /tmp hides the host's: keep it out of /tmp. */
	_cleanup_(freep) char *host = xasprintf("%s/host-%u", scratch, seq);
	unsigned long long t0;

	assert_int_equal(make_dirs(host, 0755), 0);
	rm_rf(build);
	free(build);
	build = TAKE_PTR(host);
	opts.build_host = build;
	sandbox_test_old_kernel = true;
	expect_root_throwaway();
	expect_fds();
	assert_int_equal(sh("exit 7"), 7);
	t0 = now_ns();
	opts.timeout_ms = 300;
	assert_int_equal(sh("sleep 100"), -ETIME);
	assert_true(now_ns() - t0 < 2000000000ULL);
#else
	skip();
#endif
}

/* Like a shell: 127, and the reason in the step's log. */
static void test_exec_failure(void **state)
{
	char *argv[] = {"dkb-no-such-program", NULL};

	assert_int_equal(sandbox_run(argv, &opts), 127);
	assert_log_contains("cannot execute dkb-no-such-program: No such file");
}

static void test_log_appended(void **state)
{
	int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "before\n", 7), 7);
	close(fd);
	assert_int_equal(sh("echo out; echo err >&2"), 0);
	assert_int_equal(sh("echo out; echo err >&2"), 0);
	assert_file(logp, "before\nout\nerr\nout\nerr\n");
}

static void test_env_exact(void **state)
{
	char *env[] = {"A=1", "PATH=/usr/bin:/bin", NULL};
	char *argv[] = {"env", NULL};

	assert_int_equal(sandbox_run(argv, &opts), 0);
	assert_file(logp, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
			  "/usr/bin:/sbin:/bin\nLC_ALL=C\nHOME=/nonexistent\n");
	unlink(logp);
	opts.env = env;
	assert_int_equal(sandbox_run(argv, &opts), 0);
	assert_file(logp, "A=1\nPATH=/usr/bin:/bin\n");
}

static void expect_fds(void)
{
	int pfd[2], leak = open("/dev/null", O_RDONLY);
	char buf[16] = "";
	_cleanup_(freep) char *script = NULL;

	assert_true(leak >= 3);
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	script = xasprintf("test ! -e /proc/$$/fd/%d && echo kept >&%d && "
			   "test -e /proc/$$/fd/%d && test ! -e /proc/$$/fd/%d",
			   leak, pfd[1], pfd[1], pfd[0]);
	opts.keep_fds[0] = pfd[1];
	opts.keep_fds[1] = -1;
	opts.keep_fds[2] = pfd[0];
	opts.n_keep_fds = 3;
	assert_int_equal(sh(script), 0);
	close(pfd[1]);
	assert_int_equal(read(pfd[0], buf, sizeof(buf) - 1), 5);
	assert_string_equal(buf, "kept\n");
	close(pfd[0]);
	close(leak);
}

static void test_fds(void **state)
{
	expect_fds();
}

static void test_cwd_and_stdin(void **state)
{
	int pfd[2], saved = dup(0), r;

	/* Our stdin has data: the step must read /dev/null instead. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], "leak\n", 5), 5);
	close(pfd[1]);
	assert_int_equal(dup2(pfd[0], 0), 0);
	close(pfd[0]);
	opts.cwd_inroot = "/usr";
	r = sh("pwd; cat; echo end");
	dup2(saved, 0);
	close(saved);
	assert_int_equal(r, 0);
	assert_file(logp, "/usr\nend\n");
}

static void test_setup_errors(void **state)
{
	FILE *f = tmpfile();
	_cleanup_(freep) char *msg = NULL;
	_cleanup_(freep) char *missing = in_build("missing");

	assert_non_null(f);
	log_set_stream(f);
	opts.cwd_inroot = "/dkb-no-such-dir";
	assert_int_equal(sh("true"), -ENOENT);
	opts.cwd_inroot = NULL;
	opts.build_host = missing;
	assert_int_equal(sh("true"), -ENOENT);
	opts.build_host = NULL;
	assert_int_equal(sh("true"), -EINVAL);
	msg = capture_log(f);
	assert_non_null(strstr(msg, "cannot enter /dkb-no-such-dir"));
	assert_non_null(strstr(msg, missing));
}

/* dash and the libraries it needs, nothing else. */
static char *make_mini_root(void)
{
	_cleanup_(freep) char *root = unit_tmpdir();
	_cleanup_(freep) char *cmd = NULL;

	/* The sandbox user must be able to walk the chroot's "/". */
	if (!root || chmod(root, 0755) < 0)
		return NULL;
	cmd = xasprintf(
		"set -e; R='%s'; mkdir -p $R/bin $R/dev $R/proc $R/tmp; "
		"cp -L /bin/sh $R/bin/sh; "
		"for l in $(ldd /bin/sh | grep -o '/[^ ]*'); do "
		"mkdir -p $R$(dirname $l); cp -L $l $R$l; done",
		root);
	if (!cmd || system(cmd) != 0)
		return NULL;
	return TAKE_PTR(root);
}

static void test_chroot(void **state)
{
	_cleanup_(freep) char *root = make_mini_root();
	_cleanup_(freep) char *out = in_build("out");
	_cleanup_(freep) char *escaped = NULL;
	const char *script = "echo hi > /build/out && echo x > /dev/null && "
			     "test -r /proc/self/status && echo t > /tmp/t && "
			     "echo y > /escaped && read v < /escaped && "
			     "test \"$v\" = y";

	assert_non_null(root);
	escaped = path_join(root, "escaped");
	opts.root = root;
	opts.build_inroot = "/build";
	assert_int_equal(sh(script), 0);
	assert_file(out, "hi\n");
	assert_int_equal(access(escaped, F_OK), -1);
	/* And as the sandbox user. */
	opts.keep_privileges = false;
	assert_int_equal(sandbox_chown_tree(build), 0);
	assert_int_equal(sh("echo again > out"), 0);
	assert_file(out, "again\n");
	rm_rf(root);
}

/* How dkms lays it out: the build dir inside the root's dkms tree. */
static void test_chroot_build_in_tree(void **state)
{
	_cleanup_(freep) char *root = make_mini_root();
	_cleanup_(freep) char *tree = NULL, *out = NULL;

	assert_non_null(root);
	tree = path_join(root, "var/lib/dkms/m/1/build");
	out = path_join(tree, "out");
	assert_int_equal(make_dirs(tree, 0755), 0);
	assert_int_equal(sandbox_chown_tree(tree), 0);
	opts.root = root;
	opts.build_host = tree;
	opts.build_inroot = "/var/lib/dkms/m/1/build";
	opts.keep_privileges = false;
	assert_int_equal(sh("echo hi > out && ! echo x > ../x 2>/dev/null"), 0);
	assert_file(out, "hi\n");
	rm_rf(root);
}

/* And on the host root, building in place. */
static void test_build_in_place(void **state)
{
	_cleanup_(freep) char *tree =
		xasprintf("%s/tree-%u/build", scratch, seq);
	_cleanup_(freep) char *out = path_join(tree, "out");

	_cleanup_(freep) char *up = xasprintf("%s/tree-%u/x", scratch, seq);

	assert_int_equal(make_dirs(tree, 0755), 0);
	opts.build_host = tree;
	opts.build_inroot = tree;
	assert_int_equal(sh("echo hi > out && echo x > ../x"), 0);
	assert_file(out, "hi\n");
	assert_int_equal(access(up, F_OK), -1);
}

/*
 * Where clone3 is missing (RHEL 8, Debian 10), the step still gets its
 * PID namespace: shown in a child whose own seccomp filter makes clone3
 * fail with ENOSYS.  The step is then PID 2 (the sandbox's init is 1)
 * and its /proc shows only those two.
 */
static void test_no_clone3(void **state)
{
	_cleanup_(freep) char *out = in_build("out");
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
				 offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {.len = ARRAY_SIZE(f), .filter = f};

		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(2);
		if (syscall(SYS_clone3, NULL, 0) >= 0 || errno != ENOSYS)
			_exit(3);
		_exit(sh("echo $$ $(ls -d /proc/[0-9]* | wc -l) > out") == 0
			      ? 0
			      : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Beside init and the step: a subshell, ls and wc. */
	_cleanup_(freep) char *got = slurp(out);
	assert_non_null(got);
	if (strncmp(got, "2 ", 2) != 0 || atoi(got + 2) > 5)
		fail_msg("not in a PID namespace of its own: %s", got);
}

/* A session of its own: no controlling terminal, no /dev/tty. */
static void test_session(void **state)
{
	/* The session is the one the sandbox's init (PID 1) started. */
	sh_ok("test $(cut -d' ' -f6 /proc/$$/stat) = 1 && "
	      "test $(cut -d' ' -f7 /proc/$$/stat) = 0 && "
	      "! (exec 3</dev/tty) 2>/dev/null");
}

/* Each command of list fails with EPERM (as logged by it). */
static void expect_denied(const char *list, int n)
{
	_cleanup_(freep) char *script = xasprintf(
		": > err; for c in %s; do if $c 2>>err; then "
		"echo allowed: $c; exit 1; fi; done; "
		"test $(grep -ciE 'not permitted|permission denied' err) = %d "
		"|| { cat err; exit 2; }",
		list, n);

	sh_ok(script);
}

/* The kernel surface a build never needs is closed, root or not. */
static void test_seccomp(void **state)
{
	expect_denied("'unshare -U true' 'unshare -n true' 'unshare -m true' "
		      "'mount -t tmpfs x /mnt' 'chroot / true'",
		      5);
	opts.keep_privileges = false;
	assert_int_equal(sandbox_chown_tree(build), 0);
	expect_denied("'unshare -U true' 'unshare -U -n true'", 2);
}

/* SysV IPC objects die with the step's IPC namespace. */
static void test_ipc_private(void **state)
{
	assert_int_equal(sh("python3 -c 'import sys' 2>/dev/null || exit 0; "
			    "test -z \"$(ipcs -m | grep '^0x')\""),
			 0);
}

/* /dev: the harmless nodes only, /run empty, and sizes limited. */
static void test_dev_run_tmp(void **state)
{
	assert_int_equal(
		sh("test \"$(ls /dev | tr '\\n' ' ')\" = "
		   "'fd full null random shm stderr stdin stdout urandom zero "
		   "' "
		   "&& echo x > /dev/null && head -c 4 /dev/urandom | wc -c && "
		   "test -z \"$(ls -A /run)\" && "
		   "! dd if=/dev/zero of=/tmp/fill bs=1M count=600 2>err && "
		   "grep -q 'No space left' err && "
		   "test $(du -m /tmp/fill | cut -f1) -le 512"),
		0);
	assert_log_contains("4\n");
}

/* The unprivileged step's process limit (attacks.sh runs a fork bomb). */
static void test_nproc(void **state)
{
	opts.keep_privileges = false;
	assert_int_equal(sandbox_chown_tree(build), 0);
	sh_ok("grep '^Max processes' /proc/self/limits > nproc");
	_cleanup_(freep) char *n = in_build("nproc");
	assert_file(n, "Max processes             1024                 "
		       "1024                 processes \n");
}

/*
 * A build can nest its tree deeper than any depth limit (and far past
 * PATH_MAX): all of it must still become the sandbox user's.
 */
static void test_chown_deep_tree(void **state)
{
	enum { DEPTH = 3000 };
	int fd = open(build, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	assert_true(fd >= 0);
	for (int i = 0; i < DEPTH; i++) {
		int sub;

		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(sub >= 0);
		close(fd);
		fd = sub;
	}
	/* A file at the very bottom, the last thing reached. */
	close(openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	close(fd);

	assert_int_equal(sandbox_chown_tree(build), 0);
	fd = open(build, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (int i = 0; i < DEPTH; i++) {
		int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		assert_true(sub >= 0);
		assert_int_equal(fstat(sub, &st), 0);
		assert_int_equal(st.st_uid, SANDBOX_UID);
		assert_int_equal(st.st_gid, SANDBOX_GID);
		close(fd);
		fd = sub;
	}
	assert_int_equal(fstatat(fd, "f", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, SANDBOX_UID);
	close(fd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_build_dir_writable),
		T(test_build_dir_in_private_tmp),
		T(test_root_throwaway),
		T(test_root_read_only),
		T(test_overlay_submounts),
		T(test_writable_root),
		T(test_tmp_private),
		T(test_mounts_do_not_propagate),
		T(test_network),
		T(test_unprivileged),
		T(test_unprivileged_needs_owner),
		T(test_chown_tree),
		T(test_chown_deep_tree),
		T(test_timeout),
		T(test_background_killed),
		T(test_exit_status),
		T(test_old_kernel),
		T(test_exec_failure),
		T(test_log_appended),
		T(test_env_exact),
		T(test_fds),
		T(test_cwd_and_stdin),
		T(test_setup_errors),
		T(test_chroot),
		T(test_chroot_build_in_tree),
		T(test_build_in_place),
		T(test_no_clone3),
		T(test_session),
		T(test_seccomp),
		T(test_ipc_private),
		T(test_dev_run_tmp),
		T(test_nproc),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
