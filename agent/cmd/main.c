// SPDX-License-Identifier: GPL-2.0-or-later
/* dkms-boot: command line. */
#include <getopt.h>
#include <locale.h>
#include <sys/utsname.h>

#include "cache/cache.h"
#include "cmd/commands.h"
#include "build/engine.h"
#include "lib/log.h"
#include "lib/rootfs.h"

static const char usage_text[] =
	"Usage: dkms-boot COMMAND [OPTIONS]\n"
	"\n"
	"Keep DKMS modules current for the kernel being booted.\n"
	"\n"
	"Commands:\n"
	"  status [-m NAME[/VER]] [-v VER] [-k KVER[/ARCH]] [-a ARCH]\n"
	"         what `dkms status` prints for the same tree\n"
	"  check  -k KVER [-a ARCH] [-m NAME]\n"
	"         does KVER have a current build of every AUTOINSTALL "
	"package?\n"
	"         exit 0: all current, 1: work needed, 3: something "
	"unreadable\n"
	"  eval   -m NAME -v VER -k KVER [-a ARCH] [--conf FILE]\n"
	"         show how a dkms.conf evaluates (variables and resolved "
	"values)\n"
	"  build  (-m NAME [-v VER] | --all) -k KVER [-a ARCH] [-j N] "
	"[--timeout S] [--force]\n"
	"         [--scripts yes|no]\n"
	"         compile as dkms build does, sandboxed, into the dkms tree\n"
	"  install (-m NAME [-v VER] | --all) -k KVER ...\n"
	"         build when needed, then install as dkms install does; depmod "
	"once\n"
	"  uninstall -m NAME -v VER -k KVER [-a ARCH]\n"
	"         as dkms uninstall does\n"
	"  report [--json]\n"
	"         what the last boot did (/run/dkms-boot/report.json, else\n"
	"         /var/lib/dkms-boot/last-boot.json), with timings\n"
	"  cache add -m NAME -v VER -k KVER     the tree's build into the "
	"cache\n"
	"  cache import FILE.dkms.tar.gz        a dkms mktarball archive\n"
	"  cache export -m NAME -v VER -k KVER [-o FILE]   for dkms ldtarball\n"
	"  cache list | verify                  entries (--json), fully "
	"checked\n"
	"  cache prune [--keep KVER]...         drop kernels no longer "
	"installed\n"
	"  cache unpack -k KVER --into DIR [-m NAME] [--allow-kabi-reuse]\n"
	"         verified modules into DIR/<location>/, each entry all or "
	"nothing\n"
	"\n"
	"Common options:\n"
	"  --root DIR          look at the system mounted at DIR (default /)\n"
	"  --json              machine-readable output (status, check)\n"
	"  --method M          dkms.conf evaluation: auto (default), native, "
	"bash\n"
	"  --eval-timeout MS   time limit for one bash evaluation (default "
	"10000)\n"
	"  --no-cache          neither read nor write dkms-boot's caches\n"
	"  --kmsg              also log to /dev/kmsg (the boot agent does)\n"
	"  -q, --quiet         log errors only\n"
	"  --verbose           log debug messages\n"
	"  -h, --help          this text\n"
	"  -V, --version       print the version\n"
	"\n"
	"Build options:\n"
	"  -j, --jobs N        make jobs in all, across parallel builds "
	"(default: nproc)\n"
	"  --timeout S         time limit per package, all its steps together, "
	"in\n"
	"                      seconds (default: 1800; 0: none); exit 5 when "
	"reached\n"
	"  --scripts yes|no    run PRE_INSTALL, POST_INSTALL and POST_REMOVE "
	"as root,\n"
	"                      as dkms does (default: yes)\n"
	"  --force             rebuild / reinstall even when done\n"
	"  --all               every package whose newest version sets "
	"AUTOINSTALL\n"
	"  --workdir DIR       where private build directories go\n"
	"\n"
	"Cache options:\n"
	"  --cache-dir DIR     the cache inside the root (default " CACHE_DIR
	")\n"
	"  --allow-kabi-reuse  unpack another kernel's build when its vermagic "
	"flags\n"
	"                      and every imported symbol CRC match (also\n"
	"                      allow_kabi_reuse=yes in "
	"/etc/dkms-boot/dkms-boot.conf)\n"
	"\n"
	"Exit codes: 0 success, 1 work needed (check), 2 usage error,\n"
	"3 could not read what was asked, 4 a build or install failed,\n"
	"5 a time limit was reached, 77 the package excludes this kernel.\n"
	"See dkms-boot(8).\n";

enum {
	OPT_ROOT = 0x100,
	OPT_JSON,
	OPT_METHOD,
	OPT_EVAL_TIMEOUT,
	OPT_NO_CACHE,
	OPT_KMSG,
	OPT_VERBOSE,
	OPT_CONF,
	OPT_TIMEOUT,
	OPT_FORCE,
	OPT_ALL,
	OPT_WORKDIR,
	OPT_SCRIPTS,
	OPT_CACHE_DIR,
	OPT_KABI,
	OPT_INTO,
	OPT_KEEP,
};

static const struct option long_opts[] = {
	{"root", required_argument, NULL, OPT_ROOT},
	{"json", no_argument, NULL, OPT_JSON},
	{"method", required_argument, NULL, OPT_METHOD},
	{"eval-timeout", required_argument, NULL, OPT_EVAL_TIMEOUT},
	{"no-cache", no_argument, NULL, OPT_NO_CACHE},
	{"kmsg", no_argument, NULL, OPT_KMSG},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"conf", required_argument, NULL, OPT_CONF},
	{"jobs", required_argument, NULL, 'j'},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"force", no_argument, NULL, OPT_FORCE},
	{"all", no_argument, NULL, OPT_ALL},
	{"workdir", required_argument, NULL, OPT_WORKDIR},
	{"scripts", required_argument, NULL, OPT_SCRIPTS},
	{"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
	{"allow-kabi-reuse", no_argument, NULL, OPT_KABI},
	{"into", required_argument, NULL, OPT_INTO},
	{"keep", required_argument, NULL, OPT_KEEP},
	{"output", required_argument, NULL, 'o'},
	{"module", required_argument, NULL, 'm'},
	{"kernelver", required_argument, NULL, 'k'},
	{"arch", required_argument, NULL, 'a'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

struct cli {
	const char *root, *module, *version, *kernel, *arch, *conf;
	const char *kernels[MAX_KERNEL_ARGS], *karch[MAX_KERNEL_ARGS];
	char *kbufs[MAX_KERNEL_ARGS];
	size_t n_kernels;
	bool json, no_cache, force, all;
	unsigned jobs, timeout_s;
	bool timeout_set, no_scripts;
	const char *workdir;
	const char *cache_dir, *into, *output;
	const char *keep[MAX_KERNEL_ARGS];
	size_t n_keep;
	bool kabi;
	char *const *pos; /* positional arguments (cache SUB [FILE]) */
	int n_pos;
	const char *sub_file;
	struct conf_eval_opts eval;
	char *mbuf;
};

/* dkms's "-m name/version" and "-k kver/arch" forms. */
static void split_slash(const char *arg, char **buf, const char **a,
			const char **b)
{
	char *s;

	free(*buf);
	*buf = strdup(arg);
	if (!*buf) {
		*a = arg;
		return;
	}
	s = strchr(*buf, '/');
	if (s) {
		*s = '\0';
		*b = s + 1;
	}
	*a = *buf;
}

static int parse_uint(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 3600000)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int parse_opt(struct cli *cl, int c, const char *arg)
{
	switch (c) {
	case OPT_ROOT:
		cl->root = arg;
		return 0;
	case OPT_JSON:
		cl->json = true;
		return 0;
	case OPT_NO_CACHE:
		cl->no_cache = true;
		return 0;
	case OPT_KMSG:
		log_set_kmsg(true);
		return 0;
	case OPT_VERBOSE:
		log_set_threshold(LOG_LEVEL_DEBUG);
		return 0;
	case OPT_CONF:
		cl->conf = arg;
		return 0;
	case OPT_FORCE:
		cl->force = true;
		return 0;
	case OPT_ALL:
		cl->all = true;
		return 0;
	case OPT_WORKDIR:
		cl->workdir = arg;
		return 0;
	case OPT_SCRIPTS:
		if (!streq(arg, "yes") && !streq(arg, "no"))
			return -EINVAL;
		cl->no_scripts = streq(arg, "no");
		return 0;
	case OPT_CACHE_DIR:
		cl->cache_dir = arg;
		return 0;
	case OPT_KABI:
		cl->kabi = true;
		return 0;
	case OPT_INTO:
		cl->into = arg;
		return 0;
	case 'o':
		cl->output = arg;
		return 0;
	case OPT_KEEP:
		if (cl->n_keep == MAX_KERNEL_ARGS)
			return -E2BIG;
		cl->keep[cl->n_keep++] = arg;
		return 0;
	case 'j':
		return parse_uint(arg, &cl->jobs);
	case OPT_TIMEOUT:
		cl->timeout_set = true;
		return parse_uint(arg, &cl->timeout_s);
	case 'q':
		log_set_threshold(LOG_LEVEL_ERR);
		return 0;
	case 'm':
		split_slash(arg, &cl->mbuf, &cl->module, &cl->version);
		return 0;
	case 'v':
		cl->version = arg;
		return 0;
	case 'k':
		if (cl->n_kernels == MAX_KERNEL_ARGS)
			return -E2BIG;
		split_slash(arg, &cl->kbufs[cl->n_kernels],
			    &cl->kernels[cl->n_kernels],
			    &cl->karch[cl->n_kernels]);
		cl->kernel = cl->kernels[0];
		cl->n_kernels++;
		return 0;
	case 'a':
		cl->arch = arg;
		return 0;
	case OPT_EVAL_TIMEOUT:
		return parse_uint(arg, &cl->eval.timeout_ms);
	case OPT_METHOD:
		if (streq(arg, "auto"))
			cl->eval.method = CONF_METHOD_AUTO;
		else if (streq(arg, "native"))
			cl->eval.method = CONF_METHOD_NATIVE;
		else if (streq(arg, "bash"))
			cl->eval.method = CONF_METHOD_BASH;
		else
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

static int parse_args(struct cli *cl, int argc, char **argv)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:v:k:a:j:o:qhV", long_opts,
				NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		}
		if (c == 'V') {
			printf("dkms-boot %s\n", DKMS_BOOT_VERSION);
			exit(EXIT_OK);
		}
		if (parse_opt(cl, c, optarg) < 0) {
			if (c != '?')
				log_err("invalid argument for option: %s",
					optarg);
			return -EINVAL;
		}
	}
	cl->pos = argv + optind;
	cl->n_pos = argc - optind;
	return 0;
}

static const char *default_arch(void)
{
	static struct utsname u;

	if (uname(&u) < 0)
		return "x86_64";
	return u.machine;
}

static int run_cache(struct cli *cl, struct dkb_ctx *c)
{
	struct cache_cli cc = {
		.sub = cl->pos[0],
		.module = cl->module,
		.version = cl->version,
		.kernel = cl->kernel,
		.arch = cl->arch ?: default_arch(),
		.file = cl->sub_file,
		.into = cl->into,
		.keep = cl->keep,
		.n_keep = cl->n_keep,
		.json = cl->json,
		.o = {.dir = cl->cache_dir},
	};

	cc.o.allow_kabi_reuse = cl->kabi;
	if (streq(cc.sub, "export"))
		cc.file = cl->output;
	return cmd_cache(c, &cc, stdout);
}

/* --timeout when not given: package code never runs without a limit.
 * The test build lets a test lower it, to see it used. */
static unsigned default_timeout_s(void)
{
#ifdef DKMS_BOOT_TEST_BUILD
	const char *t = getenv("DKMS_BOOT_TEST_DEFAULT_TIMEOUT");
	unsigned v;

	if (t && parse_uint(t, &v) == 0)
		return v;
#endif
	return ENGINE_DEFAULT_TIMEOUT_S;
}

static int run_engine(const char *cmd, struct cli *cl, struct dkb_ctx *c)
{
	struct engine_opts o = {
		.action = streq(cmd, "build")	  ? ENGINE_BUILD
			  : streq(cmd, "install") ? ENGINE_INSTALL
						  : ENGINE_UNINSTALL,
		.module = cl->module,
		.version = cl->version,
		.kernel = cl->kernel,
		.arch = cl->arch ?: default_arch(),
		.jobs = cl->jobs,
		.timeout_ms = (cl->timeout_set ? cl->timeout_s
					       : default_timeout_s()) *
			      1000,
		.force = cl->force,
		/* dkms parity for the commands; the boot agent says no. */
		.run_scripts = !cl->no_scripts,
		.workdir = cl->workdir,
		.json = cl->json,
	};

	if (!!cl->module == cl->all) {
		log_err("%s: give -m NAME or --all (not both)", cmd);
		return EXIT_USAGE;
	}
	if (o.action == ENGINE_UNINSTALL && (!cl->module || !cl->version)) {
		log_err("uninstall: -m NAME and -v VER are required");
		return EXIT_USAGE;
	}
	if (cl->timeout_s > 86400) {
		log_err("%s: --timeout is in seconds, at most 86400", cmd);
		return EXIT_USAGE;
	}
	return cmd_engine(c, &o, stdout);
}

static int run(const char *cmd, struct cli *cl)
{
	_cleanup_(dkb_ctx_free) struct dkb_ctx c = {0};
	int r;

	cl->eval.use_cache = cl->eval.write_cache = !cl->no_cache;
	r = dkb_ctx_init(&c, cl->root ? cl->root : "/", &cl->eval);
	if (r < 0)
		return EXIT_TROUBLE;
	if (streq(cmd, "cache"))
		return run_cache(cl, &c);
	if (streq(cmd, "report") && !cl->n_pos)
		return cmd_report(cl->root ? cl->root : "/", cl->json, stdout);
	if (cl->n_pos) {
		log_err("unexpected argument: %s", cl->pos[0]);
		return EXIT_USAGE;
	}
	if (streq(cmd, "status")) {
		struct status_opts o = {.module = cl->module,
					.version = cl->version,
					.n_kernels = cl->n_kernels,
					.json = cl->json,
					.arch = cl->arch};

		for (size_t i = 0; i < cl->n_kernels; i++) {
			o.kernels[i] = cl->kernels[i];
			/* dkms: one -a applies to every kernel given. */
			o.arches[i] = cl->karch[i] ? cl->karch[i] : cl->arch;
		}
		return cmd_status(&c, &o, stdout);
	}
	if (!cl->kernel) {
		log_err("%s: -k KVER is required", cmd);
		return EXIT_USAGE;
	}
	if (cl->n_kernels > 1) {
		log_err("%s: one -k KVER only", cmd);
		return EXIT_USAGE;
	}
	if (!cl->arch)
		cl->arch = cl->karch[0];
	if (streq(cmd, "check")) {
		struct check_opts o = {cl->kernel, cl->arch ?: default_arch(),
				       cl->module, cl->json, cl->no_cache};

		return cmd_check(&c, &o, stdout);
	}
	if (!streq(cmd, "eval"))
		return run_engine(cmd, cl, &c);
	if (!cl->module || !cl->version) {
		log_err("eval: -m NAME and -v VER are required");
		return EXIT_USAGE;
	}
	{
		struct eval_opts o = {cl->module, cl->version, cl->kernel,
				      cl->arch ?: default_arch(), cl->conf};

		return cmd_eval(&c, &o, stdout);
	}
}

int main(int argc, char **argv)
{
	struct cli cl = {0};
	const char *cmd;
	int r;

	/* Glob results sort as bash sorts them: by the collation locale. */
	setlocale(LC_COLLATE, "");
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (streq(cmd, "-h") || streq(cmd, "--help")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (streq(cmd, "-V") || streq(cmd, "--version")) {
		printf("dkms-boot %s\n", DKMS_BOOT_VERSION);
		return EXIT_OK;
	}
	if (!streq(cmd, "status") && !streq(cmd, "check") &&
	    !streq(cmd, "eval") && !streq(cmd, "build") &&
	    !streq(cmd, "install") && !streq(cmd, "uninstall") &&
	    !streq(cmd, "cache") && !streq(cmd, "report")) {
		log_err("unknown command: %s (try --help)", cmd);
		return EXIT_USAGE;
	}
	if (parse_args(&cl, argc - 1, argv + 1) < 0)
		return EXIT_USAGE;
	if (streq(cmd, "cache")) {
		/* cache SUB [FILE]: getopt moves the words to the end. */
		if (cl.n_pos < 1 || cl.n_pos > 2) {
			log_err("cache: give one subcommand and at most one "
				"file");
			return EXIT_USAGE;
		}
		cl.sub_file = cl.n_pos == 2 ? cl.pos[1] : NULL;
	}
	r = run(cmd, &cl);
	free(cl.mbuf);
	for (size_t i = 0; i < cl.n_kernels; i++)
		free(cl.kbufs[i]);
	return r;
}
