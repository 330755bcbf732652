// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Module signing: dkms 3.0.10's prepare_signing() choice of program, key,
 * certificate and hash, and its `"$sign_file" "$sign_hash"
 * "$mok_signing_key" "$mok_certificate" "$built_module"` step, run inside
 * the root.  dkms generates a key pair when none exists (or has
 * update-secureboot-policy make one on Ubuntu); at boot that would be a
 * key nobody enrolled, so we never do: the plan is disabled and says why.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "lib/child.h"
#include "lib/log.h"
#include "lib/rootfs.h"
#include "build/sign.h"

#define DEFAULT_KEY  "/var/lib/dkms/mok.key"
#define DEFAULT_CERT "/var/lib/dkms/mok.pub"
#define UBUNTU_KEY   "/var/lib/shim-signed/mok/MOK.priv"
#define UBUNTU_CERT  "/var/lib/shim-signed/mok/MOK.der"
#define DEFAULT_HASH "sha512"
#define HASH_KEY     "CONFIG_MODULE_SIG_HASH="
#define KCONFIG_MAX  (64u << 20)
#define SIGN_PATH    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The PATH dkms runs with, where `command -v kmodsign` looks. */
static const char *const path_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
	"/usr/bin",	   "/sbin",	     "/bin",
};

/* [[ -f path ]] inside root: a regular file, symlinks followed. */
static bool is_file(const char *root, const char *path)
{
	struct stat st;

	return path && path[0] && root_stat(root, path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

/* [[ -x path ]] inside root, as access(2) answers it. */
static bool is_executable(const char *root, const char *path)
{
	_cleanup_(freep) char *host = NULL;

	if (!path || !path[0] || root_path(root, path, &host) < 0)
		return false;
	return access(host, X_OK) == 0;
}

/* Why [[ -f path ]] fails, or NULL when it holds. */
static const char *file_problem(const char *root, const char *path)
{
	struct stat st;

	if (root_stat(root, path, &st) < 0)
		return "does not exist";
	return S_ISREG(st.st_mode) ? NULL : "is not a regular file";
}

/* A framework variable; dkms tests them with [ ! "$x" ]: empty is unset. */
static const char *framework_str(const struct dkb_ctx *c, const char *name)
{
	const char *v = vars_get(&c->framework, name, 0);

	return v && v[0] ? v : NULL;
}

/* ${kernelver%.*}: "6.1.0-56-amd64" -> "6.1". */
static int kernel_series_len(const char *kernelver)
{
	const char *dot = strrchr(kernelver, '.');

	return (int)(dot ? (size_t)(dot - kernelver) : strlen(kernelver));
}

/* `command -v kmodsign`: the first executable file of that name. */
static char *find_kmodsign(const char *root)
{
	for (size_t i = 0; i < ARRAY_SIZE(path_dirs); i++) {
		char *p = path_join(path_dirs[i], "kmodsign");

		if (!p || (is_file(root, p) && is_executable(root, p)))
			return p;
		free(p);
	}
	return strdup("");
}

static char *choose_sign_file(const struct dkb_ctx *c, const char *kver)
{
	const char *d = c->distribution ? c->distribution : "";
	const char *fw = framework_str(c, "sign_file");
	_cleanup_(freep) char *sf = NULL;

	/* A configured sign_file is used as it is, even when missing. */
	if (fw)
		return strdup(fw);
	if (startswith(d, "debian")) {
		sf = xasprintf("/usr/lib/linux-kbuild-%.*s/scripts/sign-file",
			       kernel_series_len(kver), kver);
	} else if (startswith(d, "ubuntu")) {
		sf = find_kmodsign(c->root);
		if (sf && !is_executable(c->root, sf)) {
			free(sf);
			sf = xasprintf(
				"/usr/src/linux-headers-%s/scripts/sign-file",
				kver);
		}
	} else {
		sf = strdup("");
	}
	if (!sf)
		return NULL;
	if (!is_file(c->root, sf)) {
		free(sf);
		sf = xasprintf("/lib/modules/%s/build/scripts/sign-file", kver);
	}
	return TAKE_PTR(sf);
}

/*
 * `grep "^CONFIG_MODULE_SIG_HASH=" .config | sed 's/...=//;s/"//g'`,
 * empty meaning sha512.  With several such lines dkms would pass them
 * all, newline-joined, which no sign-file accepts; we take the first.
 */
static char *hash_from_kconfig(const char *kconfig, size_t len)
{
	const char *p = kconfig, *end = kconfig + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		size_t kl = strlen(HASH_KEY);

		if ((size_t)(eol - p) >= kl && memcmp(p, HASH_KEY, kl) == 0) {
			char *h = strndup(p + kl, (size_t)(eol - p) - kl);
			char *w = h;

			if (!h)
				return NULL;
			for (const char *r = h; *r; r++)
				if (*r != '"')
					*w++ = *r;
			*w = '\0';
			if (h[0])
				return h;
			free(h);
			break;
		}
		p = eol + 1;
	}
	return strdup(DEFAULT_HASH);
}

static char *choose_hash(const struct dkb_ctx *c, const char *kver)
{
	_cleanup_(freep) char *cfg = NULL, *buf = NULL;
	size_t len = 0;

	cfg = xasprintf("/lib/modules/%s/build/.config", kver);
	if (!cfg)
		return NULL;
	/* An unreadable .config makes grep print nothing: the default. */
	if (!is_file(c->root, cfg) ||
	    root_read_file(c->root, cfg, KCONFIG_MAX, &buf, &len) < 0)
		return strdup(DEFAULT_HASH);
	return hash_from_kconfig(buf, len);
}

static int choose_keys(const struct dkb_ctx *c, struct sign_plan *p)
{
	const char *d = c->distribution ? c->distribution : "";
	const char *key = framework_str(c, "mok_signing_key");
	const char *cert = framework_str(c, "mok_certificate");

	/* Ubuntu's shim-signed key pair replaces both, a configured
	 * mok_certificate included, when no key is configured. */
	if (!key && startswith(d, "ubuntu")) {
		key = UBUNTU_KEY;
		cert = UBUNTU_CERT;
	}
	p->key = strdup(key ? key : DEFAULT_KEY);
	p->cert = strdup(cert ? cert : DEFAULT_CERT);
	return p->key && p->cert ? 0 : -ENOMEM;
}

/* The first of dkms's checks that fails, as one sentence. */
static int why_unsigned(const struct dkb_ctx *c, const struct sign_plan *p,
			char **why)
{
	const char *problem;

	*why = NULL;
	if (!is_file(c->root, p->sign_file) ||
	    !is_executable(c->root, p->sign_file))
		*why = xasprintf("no sign-file program: %s is not an "
				 "executable file; modules will be unsigned",
				 p->sign_file);
	/* sign-file also takes a PKCS#11 URI for the key. */
	else if (!startswith(p->key, "pkcs11:") &&
		 (problem = file_problem(c->root, p->key)))
		*why = xasprintf("no signing key: %s %s; modules will be "
				 "unsigned",
				 p->key, problem);
	else if ((problem = file_problem(c->root, p->cert)))
		*why = xasprintf("no signing certificate: %s %s; modules will "
				 "be unsigned",
				 p->cert, problem);
	else
		return 0;
	return *why ? 0 : -ENOMEM;
}

int sign_plan_make(const struct dkb_ctx *c, const char *kernelver,
		   struct sign_plan *p)
{
	int r;

	*p = (struct sign_plan){0};
	p->sign_file = choose_sign_file(c, kernelver);
	p->hash = choose_hash(c, kernelver);
	r = choose_keys(c, p);
	if (r == 0 && (!p->sign_file || !p->hash))
		r = -ENOMEM;
	if (r == 0)
		r = why_unsigned(c, p, &p->why_not);
	if (r < 0) {
		sign_plan_free(p);
		return r;
	}
	p->enabled = !p->why_not;
	return 0;
}

void sign_plan_free(struct sign_plan *p)
{
	free(p->sign_file);
	free(p->key);
	free(p->cert);
	free(p->hash);
	free(p->why_not);
	*p = (struct sign_plan){0};
}

/*
 * The module as sign-file sees it: the host path with the root prefix
 * taken off.  Refused when it is not under root or climbs with "..".
 */
static int module_in_root(const char *root, const char *host, char **out)
{
	size_t rl;

	if (!host || !host[0])
		return -EINVAL;
	if (root_is_slash(root)) {
		*out = strdup(host);
		return *out ? 0 : -ENOMEM;
	}
	rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (strncmp(host, root, rl) != 0 || host[rl] != '/')
		return -EINVAL;
	for (const char *s = host + rl; s; s = strchr(s + 1, '/'))
		if (startswith(s, "/../") || streq(s, "/.."))
			return -EINVAL;
	*out = strdup(host + rl);
	return *out ? 0 : -ENOMEM;
}

/* File descriptors the child moves onto 0-2 must not already be 0-2. */
static int open_above_stdio(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY, mode), nfd;

	if (fd < 0 || fd > STDERR_FILENO)
		return fd < 0 ? -errno : fd;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(fd);
	return nfd < 0 ? -errno : nfd;
}

struct child_io {
	int in, out, err_pipe;
};

/* After fork: only async-signal-safe calls until exec. */
static _Noreturn void child_exec(const char *root, char *const argv[],
				 char *const envp[], const struct child_io *io)
{
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(io->in, STDIN_FILENO) < 0 ||
	    dup2(io->out, STDOUT_FILENO) < 0 ||
	    dup2(io->out, STDERR_FILENO) < 0)
		goto fail;
	if (!root_is_slash(root) && (chroot(root) < 0 || chdir("/") < 0))
		goto fail;
	execve(argv[0], argv, envp);
fail:
	err = errno;
	(void)!write(io->err_pipe, &err, sizeof(err));
	_exit(127);
}

/*
 * Run argv inside root; *status gets waitpid's status.  A failure before
 * exec comes back through a close-on-exec pipe as its errno.
 */
static int spawn(const char *root, char *const argv[], char *const envp[],
		 int in, int out, int *status)
{
	_cleanup_(closep) int rd = -1;
	int pfd[2], err = 0, r;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	rd = pfd[0];
	pid = fork();
	if (pid < 0) {
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0)
		child_exec(root, argv, envp,
			   &(struct child_io){in, out, pfd[1]});
	close(pfd[1]);
	do
		n = read(rd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	r = child_reap(pid, status);
	if (r < 0)
		return r;
	return n == sizeof(err) ? -err : 0;
}

int sign_module(const struct dkb_ctx *c, const struct sign_plan *p,
		const char *module_host, const char *log_path)
{
	_cleanup_(freep) char *mod = NULL, *pin = NULL;
	_cleanup_(closep) int in = -1, out = -1;
	const char *env_pin = getenv("KBUILD_SIGN_PIN");
	char *argv[6], *envp[4] = {"PATH=" SIGN_PATH, "LC_ALL=C", NULL, NULL};
	int r, st = 0;

	if (!p->enabled)
		return -EINVAL;
	r = module_in_root(c->root, module_host, &mod);
	if (r < 0) {
		log_err("%s: cannot sign: not a path inside the root %s",
			module_host ? module_host : "(null)", c->root);
		return r;
	}
	/* sign-file reads the key's passphrase or PKCS#11 PIN from here;
	 * nothing else of our environment belongs in another root. */
	if (env_pin) {
		pin = xasprintf("KBUILD_SIGN_PIN=%s", env_pin);
		if (!pin)
			return -ENOMEM;
		envp[2] = pin;
	}
	in = open_above_stdio("/dev/null", O_RDONLY, 0);
	out = open_above_stdio(log_path ? log_path : "/dev/null",
			       O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (in < 0 || out < 0) {
		r = in < 0 ? in : out;
		log_err("%s: cannot sign: %s: %s", module_host,
			in < 0 ? "/dev/null" : log_path, strerror(-r));
		return r;
	}
	dprintf(out, "Signing module %s\n", mod);
	argv[0] = p->sign_file;
	argv[1] = p->hash;
	argv[2] = p->key;
	argv[3] = p->cert;
	argv[4] = mod;
	argv[5] = NULL;
	r = spawn(c->root, argv, envp, in, out, &st);
	if (r < 0) {
		log_err("%s: cannot run %s: %s", module_host, p->sign_file,
			strerror(-r));
		return r;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		log_err("%s: signing failed: %s exited with status %d (see %s)",
			module_host, p->sign_file, WEXITSTATUS(st),
			log_path ? log_path : "no log");
	else
		log_err("%s: signing failed: %s killed by signal %d",
			module_host, p->sign_file,
			WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return -EIO;
}
