// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Signing: prepare_signing()'s choices on hand-made roots laid out as
 * Debian lays them out, and real signatures made by the kernel's own
 * sign-file on a module built here with Kbuild, checked with modinfo.
 */
#include <libgen.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"
#include "lib/log.h"
#include "build/sign.h"

#define K	  "6.1.0-56-amd64"
#define KBUILD	  "/lib/modules/" K "/build"
#define SIGN_FILE "/usr/lib/linux-kbuild-6.1/scripts/sign-file"
#define FALLBACK  "/lib/modules/" K "/build/scripts/sign-file"

static char *tmp;  /* the group's scratch directory */
static char *keys; /* key.pem and cert.der made by openssl */
static char *ko;   /* hello.ko built against K, NULL without headers */
static char *root; /* this test's root */
static struct dkb_ctx ctx;
static bool have_ctx;

/* The first line of a command's output. */
static char *sh_line(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char buf[4096] = "";

	assert_non_null(f);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	pclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

static char *in_root(const char *path)
{
	char *p = xasprintf("%s%s", root, path);

	assert_non_null(p);
	return p;
}

static void mkparent(const char *host)
{
	_cleanup_(freep) char *d = strdup(host);

	assert_non_null(d);
	assert_int_equal(make_dirs(dirname(d), 0755), 0);
}

static void put(const char *path, const char *body, mode_t mode)
{
	_cleanup_(freep) char *p = in_root(path);

	mkparent(p);
	assert_int_equal(write_file_atomic(p, body, strlen(body), mode), 0);
}

static void copy_in(const char *host_src, const char *path, mode_t mode)
{
	_cleanup_(freep) char *p = in_root(path);
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;

	mkparent(p);
	assert_int_equal(read_file(host_src, 64 << 20, &buf, &len), 0);
	assert_int_equal(write_file_atomic(p, buf, len, mode), 0);
}

static void link_in(const char *target, const char *path)
{
	_cleanup_(freep) char *p = in_root(path);

	mkparent(p);
	assert_int_equal(symlink(target, p), 0);
}

static void rm_in(const char *path)
{
	_cleanup_(freep) char *p = in_root(path);

	assert_int_equal(unlink(p), 0);
}

static char *key_file(const char *name)
{
	char *p = path_join(keys, name);

	assert_non_null(p);
	return p;
}

/* A Debian 12 root: headers for K, the dkms key pair, sha256 kernel. */
static void debian_root(void)
{
	_cleanup_(freep) char *key = key_file("key.pem");
	_cleanup_(freep) char *cert = key_file("cert.der");

	put("/etc/os-release",
	    "PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=debian\n", 0644);
	put("/etc/dkms/framework.conf", "# nothing set\n", 0644);
	copy_in(key, "/var/lib/dkms/mok.key", 0600);
	copy_in(cert, "/var/lib/dkms/mok.pub", 0644);
	copy_in(SIGN_FILE, SIGN_FILE, 0755);
	link_in("/usr/src/linux-headers-" K, KBUILD);
	link_in("../../lib/linux-kbuild-6.1/scripts",
		"/usr/src/linux-headers-" K "/scripts");
	put("/usr/src/linux-headers-" K "/.config",
	    "CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_HASH=\"sha256\"\n", 0644);
}

/* The plan for kver on the current root (the context is kept). */
static void plan(const char *kver, struct sign_plan *p)
{
	struct conf_eval_opts eo = {.method = CONF_METHOD_AUTO};

	if (have_ctx)
		dkb_ctx_free(&ctx);
	assert_int_equal(dkb_ctx_init(&ctx, root, &eo), 0);
	have_ctx = true;
	assert_int_equal(sign_plan_make(&ctx, kver, p), 0);
}

static void assert_disabled(const struct sign_plan *p, const char *mention)
{
	assert_false(p->enabled);
	assert_non_null(p->why_not);
	assert_non_null(strstr(p->why_not, mention));
	assert_non_null(strstr(p->why_not, "modules will be unsigned"));
}

static void test_debian_defaults(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};

	debian_root();
	plan(K, &p);
	assert_true(p.enabled);
	assert_null(p.why_not);
	assert_string_equal(p.sign_file, SIGN_FILE);
	assert_string_equal(p.key, "/var/lib/dkms/mok.key");
	assert_string_equal(p.cert, "/var/lib/dkms/mok.pub");
	assert_string_equal(p.hash, "sha256");
}

static void test_framework_overrides(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};

	debian_root();
	put("/etc/dkms/framework.conf",
	    "sign_file=/opt/sb/sign-file\n"
	    "mok_signing_key=\"/etc/sb/db.key\"\n",
	    0644);
	/* framework.conf.d is read after framework.conf. */
	put("/etc/dkms/framework.conf.d/sb.conf",
	    "mok_certificate=/etc/sb/db.der\n", 0644);
	copy_in(SIGN_FILE, "/opt/sb/sign-file", 0755);
	put("/etc/sb/db.key", "k", 0600);
	put("/etc/sb/db.der", "c", 0644);
	plan(K, &p);
	assert_true(p.enabled);
	assert_string_equal(p.sign_file, "/opt/sb/sign-file");
	assert_string_equal(p.key, "/etc/sb/db.key");
	assert_string_equal(p.cert, "/etc/sb/db.der");
}

/* dkms falls back only when sign_file is unset, never past a set one. */
static void test_framework_sign_file_missing(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};

	debian_root();
	put("/etc/dkms/framework.conf", "sign_file=/opt/sb/sign-file\n", 0644);
	plan(K, &p);
	assert_string_equal(p.sign_file, "/opt/sb/sign-file");
	assert_disabled(&p, "no sign-file program: /opt/sb/sign-file");
}

static void test_missing_key(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};
	_cleanup_(freep) char *key = NULL;

	debian_root();
	rm_in("/var/lib/dkms/mok.key");
	plan(K, &p);
	assert_disabled(&p, "no signing key: /var/lib/dkms/mok.key does not "
			    "exist");
	/* Unlike dkms, nothing was generated. */
	key = in_root("/var/lib/dkms/mok.key");
	assert_int_equal(access(key, F_OK), -1);
}

static void test_missing_cert(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};
	_cleanup_(freep) char *dir = NULL;

	debian_root();
	rm_in("/var/lib/dkms/mok.pub");
	dir = in_root("/var/lib/dkms/mok.pub");
	assert_int_equal(mkdir(dir, 0755), 0);
	plan(K, &p);
	assert_disabled(&p, "no signing certificate: /var/lib/dkms/mok.pub is "
			    "not a regular file");
}

/* No kbuild sign-file and none under build/: the fallback is named. */
static void test_missing_sign_file(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};

	debian_root();
	rm_in(SIGN_FILE);
	plan(K, &p);
	assert_string_equal(p.sign_file, FALLBACK);
	assert_disabled(&p, FALLBACK);
}

static void test_fallback_build_scripts(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};

	debian_root();
	rm_in(SIGN_FILE);
	rm_in("/usr/src/linux-headers-" K "/scripts");
	copy_in(SIGN_FILE, "/usr/src/linux-headers-" K "/scripts/sign-file",
		0755);
	plan(K, &p);
	assert_true(p.enabled);
	assert_string_equal(p.sign_file, FALLBACK);
}

/* The fallback is taken for a missing file ([[ -f ]]), not for one that
 * is not executable: that one is kept, and signing is off. */
static void test_sign_file_not_executable(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};
	_cleanup_(freep) char *sf = NULL;

	debian_root();
	rm_in("/usr/src/linux-headers-" K "/scripts");
	copy_in(SIGN_FILE, "/usr/src/linux-headers-" K "/scripts/sign-file",
		0755);
	sf = in_root(SIGN_FILE);
	assert_int_equal(chmod(sf, 0644), 0);
	plan(K, &p);
	assert_string_equal(p.sign_file, SIGN_FILE);
	assert_disabled(&p, SIGN_FILE " is not an executable file");
}

static void test_pkcs11(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};
	_cleanup_(sign_plan_free) struct sign_plan q = {0};

	debian_root();
	put("/etc/dkms/framework.conf",
	    "mok_signing_key='pkcs11:token=sb;object=db'\n", 0644);
	plan(K, &p);
	assert_true(p.enabled);
	assert_string_equal(p.key, "pkcs11:token=sb;object=db");
	/* The certificate is still a file. */
	rm_in("/var/lib/dkms/mok.pub");
	plan(K, &q);
	assert_disabled(&q, "/var/lib/dkms/mok.pub does not exist");
}

static void hash_case(const char *config, const char *want)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};

	if (config)
		put("/usr/src/linux-headers-" K "/.config", config, 0644);
	else
		rm_in("/usr/src/linux-headers-" K "/.config");
	plan(K, &p);
	assert_true(p.enabled);
	assert_string_equal(p.hash, want);
}

static void test_hash(void **state)
{
	debian_root();
	hash_case("CONFIG_MODULE_SIG_HASH=sha384\n", "sha384");
	hash_case("CONFIG_MODULE_SIG_HASH=\"sha3-256\"", "sha3-256");
	hash_case("# CONFIG_MODULE_SIG is not set\n", "sha512");
	hash_case("CONFIG_MODULE_SIG_HASH=\"\"\n", "sha512");
	hash_case(" CONFIG_MODULE_SIG_HASH=\"sha1\"\n"
		  "#CONFIG_MODULE_SIG_HASH=\"sha1\"\n"
		  "CONFIG_MODULE_SIG_HASH_X=\"sha1\"\n",
		  "sha512");
	hash_case("CONFIG_A=y\nCONFIG_MODULE_SIG_HASH=\"sha224\"\n"
		  "CONFIG_MODULE_SIG_HASH=\"sha1\"\n",
		  "sha224");
	/* sed removes every quote, wherever it is. */
	hash_case("CONFIG_MODULE_SIG_HASH=\"sha\"\"256\"\n", "sha256");
	hash_case(NULL, "sha512");
}

/* ${kernelver%.*} picks the kbuild directory. */
static void test_kernel_series(void **state)
{
	static const char *const cases[][2] = {
		{"6.12.9+bpo-amd64", "/usr/lib/linux-kbuild-6.12"},
		{"5.10.0-28-cloud-amd64", "/usr/lib/linux-kbuild-5.10"},
		{"6", "/usr/lib/linux-kbuild-6"},
	};

	debian_root();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(sign_plan_free) struct sign_plan p = {0};
		_cleanup_(freep) char *sf =
			xasprintf("%s/scripts/sign-file", cases[i][1]);

		copy_in(SIGN_FILE, sf, 0755);
		plan(cases[i][0], &p);
		assert_string_equal(p.sign_file, sf);
		assert_true(p.enabled);
		/* No .config for these kernels: the default hash. */
		assert_string_equal(p.hash, "sha512");
	}
}

static void ubuntu_root(void)
{
	put("/etc/os-release", "ID=ubuntu\nID_LIKE=debian\n", 0644);
	put("/var/lib/shim-signed/mok/MOK.priv", "k", 0600);
	put("/var/lib/shim-signed/mok/MOK.der", "c", 0644);
	copy_in(SIGN_FILE, "/usr/src/linux-headers-" K "/scripts/sign-file",
		0755);
}

static void test_ubuntu(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};
	_cleanup_(sign_plan_free) struct sign_plan q = {0};
	_cleanup_(sign_plan_free) struct sign_plan r = {0};

	ubuntu_root();
	/* A configured certificate gives way to MOK.der when no key is
	 * configured, as in dkms. */
	put("/etc/dkms/framework.conf", "mok_certificate=/etc/x.der\n", 0644);
	plan(K, &p);
	assert_true(p.enabled);
	assert_string_equal(p.sign_file,
			    "/usr/src/linux-headers-" K "/scripts/sign-file");
	assert_string_equal(p.key, "/var/lib/shim-signed/mok/MOK.priv");
	assert_string_equal(p.cert, "/var/lib/shim-signed/mok/MOK.der");
	assert_string_equal(p.hash, "sha512");

	/* kmodsign from PATH wins. */
	copy_in(SIGN_FILE, "/usr/bin/kmodsign", 0755);
	plan(K, &q);
	assert_true(q.enabled);
	assert_string_equal(q.sign_file, "/usr/bin/kmodsign");

	/* No MOK pair: dkms would run update-secureboot-policy; we don't. */
	rm_in("/var/lib/shim-signed/mok/MOK.priv");
	plan(K, &r);
	assert_disabled(&r, "/var/lib/shim-signed/mok/MOK.priv does not exist");
}

static void test_other_distribution(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};

	debian_root();
	put("/etc/os-release", "ID=fedora\n", 0644);
	plan(K, &p);
	/* Only the build tree's own sign-file is looked for. */
	assert_string_equal(p.sign_file, FALLBACK);
	assert_true(p.enabled);
}

/* modinfo FIELD of a module file. */
static char *modinfo(const char *field, const char *path)
{
	_cleanup_(freep) char *cmd =
		xasprintf("modinfo -F %s '%s' 2>&1", field, path);

	assert_non_null(cmd);
	return sh_line(cmd);
}

static void assert_signed(const char *path, const char *hash)
{
	_cleanup_(freep) char *signer = modinfo("signer", path);
	_cleanup_(freep) char *algo = modinfo("sig_hashalgo", path);

	assert_string_equal(signer, "dkms-boot test");
	assert_string_equal(algo, hash);
}

static void need_module(void)
{
	if (!ko) {
		print_message("no kernel headers for " K
			      ": cannot build a module\n");
		fail_msg("a prerequisite is missing: make check installs it "
			 "(scripts/install-deps.sh)");
	}
}

/* Root "/": the host's own sign-file, run directly. */
static void test_sign_host(void **state)
{
	_cleanup_(freep) char *mod = in_root("/hello.ko");
	_cleanup_(freep) char *log = in_root("/sign.log");
	_cleanup_(freep) char *line = NULL;
	_cleanup_(freep) char *cmd = NULL;
	struct dkb_ctx c = {.root = "/"};
	struct sign_plan p = {
		.enabled = true,
		.sign_file = SIGN_FILE,
		.key = key_file("key.pem"),
		.cert = key_file("cert.der"),
		.hash = "sha256",
	};

	need_module();
	assert_int_equal(unit_sh("cp '%s' '%s'", ko, mod), 0);
	assert_int_equal(sign_module(&c, &p, mod, log), 0);
	assert_signed(mod, "sha256");
	cmd = xasprintf("head -1 '%s'", log);
	line = sh_line(cmd);
	assert_string_equal(line + strlen("Signing module "), mod);
	free(p.key);
	free(p.cert);
}

/* Copy a dynamic program and the libraries ldd names into the root. */
static void install_with_libs(const char *prog)
{
	copy_in(prog, prog, 0755);
	assert_int_equal(unit_sh("for l in $(ldd '%s' | grep -o '/[^ ]*'); do "
				 "mkdir -p \"%s$(dirname $l)\" && "
				 "cp -L \"$l\" \"%s$l\" || exit 1; done",
				 prog, root, root),
			 0);
}

/* A foreign root, end to end: plan from its files, sign-file chrooted. */
static void test_sign_chroot(void **state)
{
	_cleanup_(sign_plan_free) struct sign_plan p = {0};
	_cleanup_(freep) char *mod = NULL;
	_cleanup_(freep) char *log = NULL;
	_cleanup_(freep) char *m = NULL;

	need_module();
	debian_root();
	rm_in(SIGN_FILE);
	install_with_libs(SIGN_FILE);
	mod = in_root("/var/lib/dkms/hello/1.0/build/hello.ko");
	log = in_root("/var/lib/dkms/hello/1.0/build/make.log");
	copy_in(ko, "/var/lib/dkms/hello/1.0/build/hello.ko", 0644);
	plan(K, &p);
	assert_true(p.enabled);
	assert_int_equal(sign_module(&ctx, &p, mod, log), 0);
	assert_signed(mod, "sha256");

	/* A root given with a trailing slash is the same root. */
	m = xasprintf("%s/", root);
	ctx.root = m;
	assert_int_equal(sign_module(&ctx, &p, mod, log), 0);
	ctx.root = root;
}

static void test_sign_failures(void **state)
{
	_cleanup_(freep) char *mod = in_root("/m/hello.ko");
	_cleanup_(freep) char *log = in_root("/sign.log");
	_cleanup_(freep) char *bad = in_root("/bad.pem");
	_cleanup_(freep) char *out = NULL, *outside = NULL, *climb = NULL;
	_cleanup_(freep) char *errs = NULL;
	size_t errs_len = 0, len = 0;
	struct dkb_ctx host = {.root = "/"}, rooted = {.root = root};
	struct sign_plan p = {
		.enabled = true,
		.sign_file = SIGN_FILE,
		.key = bad,
		.cert = key_file("cert.der"),
		.hash = "sha256",
	};
	FILE *f = open_memstream(&errs, &errs_len);

	need_module();
	assert_non_null(f);
	log_set_stream(f);
	put("/bad.pem", "not a key\n", 0600);
	copy_in(ko, "/m/hello.ko", 0644);

	/* sign-file's own complaint goes to the log, ours names all. */
	assert_int_equal(sign_module(&host, &p, mod, log), -EIO);
	fflush(f);
	assert_non_null(strstr(errs, mod));
	assert_non_null(strstr(errs, "exited with status 1"));
	assert_int_equal(read_file(log, 1 << 20, &out, &len), 0);
	assert_true(len > strlen("Signing module ") + strlen(mod) + 1);

	/* A program that cannot be run: its errno. */
	p.sign_file = "/nonexistent/sign-file";
	assert_int_equal(sign_module(&host, &p, mod, log), -ENOENT);

	/* Modules must live in the root, without climbing out. */
	outside = xasprintf("%s-elsewhere/hello.ko", root);
	climb = xasprintf("%s/m/../../hello.ko", root);
	assert_int_equal(sign_module(&rooted, &p, outside, log), -EINVAL);
	assert_int_equal(sign_module(&rooted, &p, climb, log), -EINVAL);
	p.enabled = false;
	assert_int_equal(sign_module(&host, &p, mod, log), -EINVAL);

	log_set_stream(NULL);
	fclose(f);
	free(p.cert);
}

static int setup_test(void **state)
{
	root = path_join(tmp, "root.XXXXXX");
	if (!root || !mkdtemp(root))
		return -1;
	have_ctx = false;
	return 0;
}

static int teardown_test(void **state)
{
	if (have_ctx)
		dkb_ctx_free(&ctx);
	have_ctx = false;
	unit_sh("rm -rf '%s'", root);
	free(root);
	root = NULL;
	return 0;
}

static int setup(void **state)
{
	_cleanup_(freep) char *src = NULL;

	log_set_threshold(LOG_LEVEL_ERR);
	tmp = unit_tmpdir();
	keys = tmp ? path_join(tmp, "keys") : NULL;
	src = tmp ? path_join(tmp, "hello") : NULL;
	if (!keys || !src || mkdir(keys, 0700) < 0 || mkdir(src, 0755) < 0)
		return -1;
	if (unit_sh("openssl req -new -x509 -nodes -days 1 -subj "
		    "'/CN=dkms-boot "
		    "test' -newkey rsa:2048 -keyout '%s/key.pem' -outform DER "
		    "-out '%s/cert.der' >/dev/null 2>&1",
		    keys, keys) != 0)
		return -1;
	if (access(KBUILD "/Makefile", F_OK) < 0) {
		print_message("no headers at %s (scripts/install-deps.sh)\n",
			      KBUILD);
		return -1;
	}
	ko = unit_build_hello(src, KBUILD);
	return ko ? 0 : -1;
}

static int teardown(void **state)
{
	if (tmp)
		unit_sh("rm -rf '%s'", tmp);
	free(tmp);
	free(keys);
	free(ko);
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_test, teardown_test)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_debian_defaults),
		T(test_framework_overrides),
		T(test_framework_sign_file_missing),
		T(test_missing_key),
		T(test_missing_cert),
		T(test_missing_sign_file),
		T(test_fallback_build_scripts),
		T(test_sign_file_not_executable),
		T(test_pkcs11),
		T(test_hash),
		T(test_kernel_series),
		T(test_ubuntu),
		T(test_other_distribution),
		T(test_sign_host),
		T(test_sign_chroot),
		T(test_sign_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
