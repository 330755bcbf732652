// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kABI reuse on real kernels and modules: hello.ko is built here with
 * Kbuild for 6.1.0-55 and -56 (installed headers, identical CRCs), and is
 * checked against those and against 6.1.0-47, whose headers package is
 * downloaded (not installed) and unpacked as a root of its own: its
 * Module.symvers differs in about 18k CRCs.  The expected answers come
 * from kmod's tools and awk, never from the code under test.
 */
#include <elf.h>
#include <libgen.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "unit.h"
#include "module/compress.h"
#include "module/kabi.h"
#include "lib/log.h"

#define K55	   "6.1.0-55-amd64"
#define K56	   "6.1.0-56-amd64"
#define K47	   "6.1.0-47-amd64"
#define SYMVERS(k) "/lib/modules/" k "/build/Module.symvers"
#define H47	   "linux-headers-" K47
#define MAX	   (64u << 20)
#define PATH_ENV   "PATH=\"$PATH:/sbin:/usr/sbin\" "

static char *tmp;    /* the group's scratch directory */
static char *ko55;   /* hello.ko built for K55 */
static char *ko56;   /* ... for K56 */
static char *small;  /* ko56 without debug information */
static char *root47; /* the unpacked headers package of K47 */
static char why[512];

/* A command's whole output, the last newline removed. */
static char *sh_out(const char *fmt, ...) _printf_(1, 2);
static char *sh_out(const char *fmt, ...)
{
	_cleanup_(freep) char *cmd = NULL;
	char *out = NULL;
	size_t n = 0;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	assert_non_null(cmd);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (getdelim(&out, &n, '\0', f) < 0) {
		free(out);
		out = strdup("");
	}
	pclose(f);
	assert_non_null(out);
	n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return out;
}

static char *tpath(const char *name)
{
	char *p = path_join(tmp, name);

	assert_non_null(p);
	return p;
}

static char *load(const char *path, size_t *len)
{
	char *buf = NULL;

	assert_int_equal(read_file(path, MAX, &buf, len), 0);
	return buf;
}

static void put(const char *path, const void *buf, size_t len)
{
	_cleanup_(freep) char *d = strdup(path);

	assert_non_null(d);
	assert_int_equal(make_dirs(dirname(d), 0755), 0);
	assert_int_equal(write_file_atomic(path, buf, len, 0644), 0);
}

static void put_in(const char *root, const char *path, const char *text)
{
	_cleanup_(freep) char *p = xasprintf("%s%s", root, path);

	assert_non_null(p);
	put(p, text, strlen(text));
}

static struct symvers *load_symvers(const char *root, const char *kver)
{
	struct symvers *s = NULL;

	why[0] = '\0';
	assert_int_equal(symvers_load(root, kver, &s, why, sizeof(why)), 0);
	assert_non_null(s);
	return s;
}

static struct symvers *parse(const char *text)
{
	struct symvers *s = NULL;

	why[0] = '\0';
	if (symvers_parse(text, strlen(text), &s, why, sizeof(why)) < 0)
		fail_msg("symvers_parse: %s", why);
	return s;
}

static int check(const char *buf, size_t len, const struct symvers *s,
		 const char *vermagic)
{
	why[0] = '\0';
	return kabi_check(buf, len, s, vermagic, why, sizeof(why));
}

/* The vermagic Kbuild put into a module, as modinfo(8) shows it. */
static char *modinfo_vermagic(const char *ko)
{
	return sh_out(PATH_ENV "modinfo -F vermagic '%s'", ko);
}

/* ------------------------------------------------------------------ */
/* ELF surgery on module copies, with the host's own <elf.h> types */

static Elf64_Shdr *shdrs(char *buf)
{
	return (Elf64_Shdr *)(buf + ((Elf64_Ehdr *)buf)->e_shoff);
}

static Elf64_Shdr *section(char *buf, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Shdr *sh = shdrs(buf);
	const char *names = buf + sh[eh->e_shstrndx].sh_offset;

	for (unsigned i = 1; i < eh->e_shnum; i++)
		if (streq(names + sh[i].sh_name, name))
			return &sh[i];
	fail_msg("no section %s", name);
	return NULL;
}

static char *section_name(char *buf, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	return buf + shdrs(buf)[eh->e_shstrndx].sh_offset +
	       section(buf, name)->sh_name;
}

/* The vermagic value inside .modinfo, to edit in place. */
static char *vermagic_in(char *buf)
{
	Elf64_Shdr *mi = section(buf, ".modinfo");
	char *p = memmem(buf + mi->sh_offset, mi->sh_size, "vermagic=", 9);

	assert_non_null(p);
	return p + 9;
}

/* ------------------------------------------------------------------ */
/* Setup: modules and the K47 headers */

static int build_hello(const char *kver, const char *dir)
{
	static const char src[] =
		"#include <linux/module.h>\n"
		"#include <linux/netdevice.h>\n"
		"#include <linux/slab.h>\n"
		"static int __init hello_init(void)\n"
		"{\n"
		"\tvoid *p = kmalloc(64, GFP_KERNEL);\n"
		"\tprintk(KERN_INFO \"hello %p %p\\n\", p, register_netdev);\n"
		"\tkfree(p);\n"
		"\treturn 0;\n"
		"}\n"
		"static void __exit hello_exit(void) { }\n"
		"module_init(hello_init);\n"
		"module_exit(hello_exit);\n"
		"MODULE_LICENSE(\"GPL\");\n";
	_cleanup_(freep) char *c = path_join(dir, "hello.c");
	_cleanup_(freep) char *kb = path_join(dir, "Kbuild");

	if (!c || !kb || make_dirs(dir, 0755) < 0 ||
	    write_file_atomic(c, src, strlen(src), 0644) < 0 ||
	    write_file_atomic(kb, "obj-m := hello.o\n", 17, 0644) < 0)
		return -1;
	if (unit_sh("make -s -C /lib/modules/%s/build M='%s' modules "
		    ">'%s/build.log' 2>&1",
		    kver, dir, dir) != 0) {
		fprintf(stderr,
			"test_kabi: building hello.ko for %s failed, "
			"see %s/build.log\n",
			kver, dir);
		return -1;
	}
	return 0;
}

/*
 * The K47 headers package, downloaded once into build/cache (or
 * $DKMS_BOOT_TEST_CACHE) and unpacked there: never installed, never
 * committed.  No network means a failure, not a skip.
 */
static char *fetch_k47(void)
{
	const char *env = getenv("DKMS_BOOT_TEST_CACHE");
	_cleanup_(freep) char *cache = strdup(env ? env : "build/cache");
	_cleanup_(freep) char *abs = NULL;
	_cleanup_(freep) char *stamp = NULL;

	if (!cache || make_dirs(cache, 0755) < 0 ||
	    !(abs = realpath(cache, NULL)))
		return NULL;
	stamp = xasprintf("%s/" H47 "/usr/src/" H47 "/Module.symvers", abs);
	if (stamp && access(stamp, F_OK) == 0)
		return xasprintf("%s/" H47, abs);
	if (unit_sh("cd '%s' && { ls " H47 "_*.deb >/dev/null 2>&1 || "
		    "apt-get download -q " H47 " >/dev/null 2>&1 || "
		    "{ apt-get update -q >/dev/null && "
		    "apt-get download -q " H47 " >/dev/null; }; } && "
		    "rm -rf " H47 ".tmp && dpkg -x " H47 "_*.deb " H47
		    ".tmp && "
		    "rm -rf " H47 " && mv " H47 ".tmp " H47,
		    abs) != 0) {
		fprintf(stderr,
			"test_kabi: cannot download and unpack %s "
			"into %s (apt-get download " H47 ")\n",
			H47, abs);
		return NULL;
	}
	return xasprintf("%s/" H47, abs);
}

static int setup(void **state)
{
	_cleanup_(freep) char *d55 = NULL;
	_cleanup_(freep) char *d56 = NULL;

	log_set_threshold(LOG_LEVEL_ERR);
	tmp = unit_tmpdir();
	if (!tmp)
		return -1;
	d55 = path_join(tmp, "m55");
	d56 = path_join(tmp, "m56");
	ko55 = path_join(tmp, "m55/hello.ko");
	ko56 = path_join(tmp, "m56/hello.ko");
	small = path_join(tmp, "small.ko");
	if (!d55 || !d56 || !ko55 || !ko56 || !small ||
	    build_hello(K55, d55) < 0 || build_hello(K56, d56) < 0 ||
	    unit_sh("strip --strip-debug -o '%s' '%s'", small, ko56) != 0)
		return -1;
	root47 = fetch_k47();
	return root47 ? 0 : -1;
}

static int teardown(void **state)
{
	if (tmp)
		unit_sh("rm -rf '%s'", tmp);
	free(tmp);
	free(ko55);
	free(ko56);
	free(small);
	free(root47);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decisions on real kernels */

static void test_accept_same_abi(void **state)
{
	struct symvers *s56 = load_symvers("/", K56);
	struct symvers *s55 = load_symvers("/", K55);
	_cleanup_(freep) char *vm56 = kabi_kernel_vermagic("/", K56);
	_cleanup_(freep) char *vm55 = kabi_kernel_vermagic("/", K55);
	_cleanup_(freep) char *m55 = NULL;
	_cleanup_(freep) char *m56 = NULL;
	size_t l55 = 0, l56 = 0;

	assert_non_null(vm56);
	assert_non_null(vm55);
	m55 = load(ko55, &l55);
	m56 = load(ko56, &l56);
	/* Built for -55, used with -56: only the release differs. */
	assert_int_equal(check(m55, l55, s56, vm56), 0);
	assert_int_equal(check(m56, l56, s55, vm55), 0);
	assert_int_equal(check(m55, l55, s55, vm55), 0);
	assert_int_equal(check(m56, l56, s56, vm56), 0);
	symvers_free(s55);
	symvers_free(s56);
}

/*
 * The first __versions entry (in the module's order, as kmod dumps it)
 * that K47's Module.symvers lacks or gives another CRC, as the message
 * kabi_check() must print.
 */
static char *expected_refusal(const char *ko, const char *symvers)
{
	return sh_out(PATH_ENV
		      "modprobe --dump-modversions '%s' | awk -F'\\t' "
		      "'NR == FNR { c[$2] = tolower($1); next } "
		      "!($2 in c) { printf \"\\047%%s\\047 is not exported "
		      "by " K47 "\", $2; exit } "
		      "c[$2] != tolower($1) { printf \"symbol \\047%%s\\047: "
		      "CRC %%s in the module, %%s in " K47 "\\047s "
		      "Module.symvers\", $2, tolower($1), c[$2]; exit }' "
		      "'%s' -",
		      ko, symvers);
}

static void test_refuse_other_abi(void **state)
{
	_cleanup_(freep) char *symvers47 =
		xasprintf("%s/usr/src/" H47 "/Module.symvers", root47);
	_cleanup_(freep) char *want = NULL;
	_cleanup_(freep) char *vm47 = kabi_kernel_vermagic(root47, K47);
	_cleanup_(freep) char *m56 = NULL;
	struct symvers *s47 = load_symvers(root47, K47);
	size_t len = 0;

	assert_non_null(vm47);
	want = expected_refusal(ko56, symvers47);
	assert_true(startswith(want, "symbol '"));
	m56 = load(ko56, &len);
	assert_int_equal(check(m56, len, s47, vm47), -EPERM);
	assert_string_equal(why, want);
	print_message("refused: %s\n", why);
	symvers_free(s47);
}

static void test_refuse_vermagic_flags(void **state)
{
	static const char *const targets[] = {
		K56 " SMP preempt mod_unload ", /* no modversions */
		K56 " SMP mod_unload modversions ",
		K56 " SMP preempt mod_unload modversions RANDSTRUCT_x",
		K56 " smp preempt mod_unload modversions ",
		K56,
		"",
	};
	struct symvers *s56 = load_symvers("/", K56);
	_cleanup_(freep) char *vm56 = kabi_kernel_vermagic("/", K56);
	_cleanup_(freep) char *m = NULL;
	size_t len = 0;
	char *v;

	m = load(ko55, &len);
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		assert_int_equal(check(m, len, s56, targets[i]), -EPERM);
		assert_non_null(strstr(why, "vermagic flags differ"));
	}
	/* The release is not compared, as the kernel's same_magic(). */
	assert_int_equal(check(m, len, s56,
			       "x SMP preempt mod_unload "
			       "modversions "),
			 0);
	/* The module's own flags edited: "SMP" -> "smp". */
	v = strstr(vermagic_in(m), "SMP");
	assert_non_null(v);
	memcpy(v, "smp", 3);
	assert_int_equal(check(m, len, s56, vm56), -EPERM);
	assert_non_null(strstr(why, "vermagic flags differ: '" K55 " smp"));
	symvers_free(s56);
}

static void test_refuse_unexported(void **state)
{
	_cleanup_(freep) char *text = NULL;
	_cleanup_(freep) char *m = NULL;
	_cleanup_(freep) char *vm56 = kabi_kernel_vermagic("/", K56);
	struct symvers *s;
	size_t len = 0;

	text = sh_out("grep -v '\tregister_netdev\t' " SYMVERS(K56));
	s = parse(text);
	m = load(ko56, &len);
	assert_int_equal(check(m, len, s, vm56), -EPERM);
	assert_string_equal(why, "'register_netdev' is not exported by " K56);
	symvers_free(s);
}

static void test_refuse_no_versions(void **state)
{
	_cleanup_(freep) char *m = NULL;
	_cleanup_(freep) char *vm56 = kabi_kernel_vermagic("/", K56);
	struct symvers *s56 = load_symvers("/", K56);
	size_t len = 0;

	m = load(ko56, &len);
	memcpy(section_name(m, "__versions"), "__versionz", 10);
	assert_int_equal(check(m, len, s56, vm56), -EPERM);
	assert_string_equal(why, "no symbol versions: reuse needs modversions");
	/* Not allocated: the kernel's find_sec() ignores it as well. */
	free(m);
	m = load(ko56, &len);
	section(m, "__versions")->sh_flags &= ~(uint64_t)SHF_ALLOC;
	assert_int_equal(check(m, len, s56, vm56), -EPERM);
	assert_string_equal(why, "no symbol versions: reuse needs modversions");
	/* Empty __versions: nothing to disagree about. */
	free(m);
	m = load(ko56, &len);
	section(m, "__versions")->sh_size = 0;
	assert_int_equal(check(m, len, s56, vm56), 0);
	symvers_free(s56);
}

/* ------------------------------------------------------------------ */
/* Module.symvers */

static void test_symvers_matches_file(void **state)
{
	struct symvers *s = load_symvers("/", K56);
	_cleanup_(fclosep) FILE *f = fopen(SYMVERS(K56), "r");
	_cleanup_(freep) char *line = NULL;
	unsigned long long crc, want;
	size_t cap = 0, n = 0;
	char name[512];

	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		assert_int_equal(sscanf(line, "%llx\t%511s", &want, name), 2);
		assert_int_equal(symvers_crc(s, name, &crc), 0);
		assert_true(crc == want);
		n++;
	}
	assert_true(n > 20000);
	assert_int_equal(symvers_crc(s, "no_such_symbol", &crc), -ENOENT);
	assert_int_equal(symvers_crc(s, "", &crc), -ENOENT);
	symvers_free(s);
}

static void test_symvers_formats(void **state)
{
	unsigned long long crc = 0;
	struct symvers *s;

	s = parse("0x1234abcd\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"
		  "0x00000001\tbar\tdrivers/net/x\tEXPORT_SYMBOL_GPL\tNS\n"
		  "\n"
		  "0xDEADBEEF\told\tvmlinux\tEXPORT_SYMBOL\n"
		  "0xffffffffffffffff\twide\tvmlinux\tEXPORT_SYMBOL\t\n"
		  "0x1234abcd\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"
		  "0x0\tlast\tvmlinux\tEXPORT_SYMBOL_GPL");
	assert_int_equal(symvers_crc(s, "foo", &crc), 0);
	assert_true(crc == 0x1234abcd);
	assert_int_equal(symvers_crc(s, "bar", &crc), 0);
	assert_true(crc == 1);
	assert_int_equal(symvers_crc(s, "old", &crc), 0);
	assert_true(crc == 0xdeadbeef);
	assert_int_equal(symvers_crc(s, "wide", &crc), 0);
	assert_true(crc == ~0ull);
	assert_int_equal(symvers_crc(s, "last", &crc), 0);
	assert_true(crc == 0);
	assert_int_equal(symvers_crc(s, "NS", &crc), -ENOENT);
	symvers_free(s);
	s = parse("");
	assert_int_equal(symvers_crc(s, "foo", &crc), -ENOENT);
	symvers_free(s);
}

static void test_symvers_malformed(void **state)
{
	static const char *const bad[] = {
		"1234abcd\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n",
		"0x\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n",
		"0x12g4\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n",
		"0x10000000000000000\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n",
		"0x1\t\tvmlinux\tEXPORT_SYMBOL\t\n",
		"0x1\tfoo\t\tEXPORT_SYMBOL\t\n",
		"0x1\tfoo\tvmlinux\t\t\n",
		"0x1\tfoo\tvmlinux\tSYMBOL\t\n",
		"0x1\tfoo\tvmlinux\n",
		"0x1\tfoo\tvmlinux\tEXPORT_SYMBOL\tNS\textra\n",
		"0x1\tf o\tvmlinux\tEXPORT_SYMBOL\t\n",
		"0x1\tfoo\tvmlinux\tEXPORT_SYMBOL\t\r\n",
		"0x1 foo vmlinux EXPORT_SYMBOL\n",
		("0x1\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"
		 "0x2\tfoo\tvmlinux\tEXPORT_SYMBOL\t\n"),
	};
	struct symvers *s = (struct symvers *)1;
	const char *text;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		why[0] = '\0';
		assert_int_equal(symvers_parse(bad[i], strlen(bad[i]), &s, why,
					       sizeof(why)),
				 -EBADMSG);
		assert_null(s);
		assert_true(startswith(why, "line 1: ") ||
			    strstr(why, "listed twice"));
	}
	/* The line number is the file's, blank lines included. */
	text = "0x1\ta\tm\tEXPORT_SYMBOL\t\n\nbad\n";
	assert_int_equal(
		symvers_parse(text, strlen(text), &s, why, sizeof(why)),
		-EBADMSG);
	assert_true(startswith(why, "line 3: "));
	assert_int_equal(symvers_parse("0x1\ta\0", 6, &s, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "NUL byte at offset 5");
}

static void test_symvers_boot_fallback(void **state)
{
	_cleanup_(freep) char *root = tpath("boot-root");
	_cleanup_(freep) char *gz = NULL;
	_cleanup_(freep) char *m = NULL;
	_cleanup_(freep) char *vm56 = kabi_kernel_vermagic("/", K56);
	struct symvers *s = NULL;
	size_t len = 0;

	/* Neither file: both named. */
	assert_int_equal(make_dirs(root, 0755), 0);
	assert_int_equal(symvers_load(root, K56, &s, why, sizeof(why)),
			 -ENOENT);
	assert_null(s);
	assert_string_equal(why, "no symbol versions for " K56 ": neither "
				 "/lib/modules/" K56 "/build/Module.symvers "
				 "nor /boot/symvers-" K56 ".gz exists");
	/* RHEL's layout: only /boot/symvers-<kver>.gz. */
	gz = xasprintf("%s/boot/symvers-" K56 ".gz", root);
	assert_int_equal(make_dirs(dirname(strdupa(gz)), 0755), 0);
	assert_int_equal(unit_sh("gzip -9n < " SYMVERS(K56) " > '%s'", gz), 0);
	s = load_symvers(root, K56);
	m = load(ko55, &len);
	assert_int_equal(check(m, len, s, vm56), 0);
	symvers_free(s);
	s = NULL;
	/* Module.symvers wins over it. */
	put_in(root, "/lib/modules/" K56 "/build/Module.symvers",
	       "0x1\tonly\tvmlinux\tEXPORT_SYMBOL\t\n");
	s = load_symvers(root, K56);
	assert_int_equal(check(m, len, s, vm56), -EPERM);
	symvers_free(s);
	s = NULL;
	/* A broken .gz, or broken text in it. */
	assert_int_equal(
		unit_sh("rm -rf '%s/lib' && echo garbage > '%s'", root, gz), 0);
	assert_int_equal(symvers_load(root, K56, &s, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "/boot/symvers-" K56 ".gz: "));
	assert_int_equal(unit_sh("echo garbage | gzip > '%s'", gz), 0);
	assert_int_equal(symvers_load(root, K56, &s, why, sizeof(why)),
			 -EBADMSG);
	assert_string_equal(why, "/boot/symvers-" K56 ".gz: line 1: 1 fields, "
				 "expected 4 or 5");
	assert_null(s);
	assert_int_equal(symvers_load(root, "../../etc", &s, why, sizeof(why)),
			 -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Malformed modules */

static void test_truncated(void **state)
{
	_cleanup_(freep) char *m = NULL;
	struct symvers *s56 = load_symvers("/", K56);
	size_t len = 0;

	m = load(small, &len);
	assert_true(len < 64 << 10);
	assert_int_equal(check(m, len, s56,
			       K56 " SMP preempt mod_unload "
				   "modversions "),
			 0);
	for (size_t n = 0; n < len; n++) {
		_cleanup_(freep) char *cut = malloc(n ? n : 1);

		/* A copy of exactly n bytes, so ASan sees any overread. */
		assert_non_null(cut);
		memcpy(cut, m, n);
		assert_int_equal(check(cut, n, s56, K56 " x"), -EBADMSG);
	}
	symvers_free(s56);
}

/* Apply one edit to a fresh copy of the module; the result and reason. */
static int edited(void (*edit)(char *m, size_t len), const struct symvers *s)
{
	_cleanup_(freep) char *m = NULL;
	size_t len = 0;

	m = load(small, &len);
	edit(m, len);
	return check(m, len, s, K56 " SMP preempt mod_unload modversions ");
}

static void e_magic(char *m, size_t len)
{
	m[1] = 'X';
}
static void e_class(char *m, size_t len)
{
	m[EI_CLASS] = ELFCLASS32;
}
static void e_data(char *m, size_t len)
{
	m[EI_DATA] = ELFDATA2MSB;
}
static void e_machine(char *m, size_t len)
{
	((Elf64_Ehdr *)m)->e_machine = EM_AARCH64;
}
static void e_type(char *m, size_t len)
{
	((Elf64_Ehdr *)m)->e_type = ET_DYN;
}
static void e_shentsize(char *m, size_t len)
{
	((Elf64_Ehdr *)m)->e_shentsize = 40;
}
static void e_shoff(char *m, size_t len)
{
	((Elf64_Ehdr *)m)->e_shoff = ~0ull - 8;
}
static void e_shnum(char *m, size_t len)
{
	((Elf64_Ehdr *)m)->e_shnum = 0;
}
static void e_shstrndx(char *m, size_t len)
{
	((Elf64_Ehdr *)m)->e_shstrndx = ((Elf64_Ehdr *)m)->e_shnum;
}
static void e_shstr_unterminated(char *m, size_t len)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)m;
	Elf64_Shdr *sh = &shdrs(m)[eh->e_shstrndx];

	m[sh->sh_offset + sh->sh_size - 1] = 'x';
}
static void e_section_offset(char *m, size_t len)
{
	section(m, ".modinfo")->sh_offset = len;
}
static void e_section_size(char *m, size_t len)
{
	section(m, "__versions")->sh_size = ~0ull;
}
static void e_section_name(char *m, size_t len)
{
	section(m, ".modinfo")->sh_name = 1u << 30;
}
static void e_versions_nobits(char *m, size_t len)
{
	section(m, "__versions")->sh_type = SHT_NOBITS;
}
static void e_versions_size(char *m, size_t len)
{
	section(m, "__versions")->sh_size -= 1;
}
static void e_versions_name(char *m, size_t len)
{
	Elf64_Shdr *v = section(m, "__versions");

	memset(m + v->sh_offset + 64 + 8, 'A', 56);
}
static void e_versions_empty_name(char *m, size_t len)
{
	Elf64_Shdr *v = section(m, "__versions");

	m[v->sh_offset + 8] = '\0';
}
static void e_no_modinfo(char *m, size_t len)
{
	memcpy(section_name(m, ".modinfo"), ".modinfX", 8);
}
static void e_vermagic_unterminated(char *m, size_t len)
{
	Elf64_Shdr *mi = section(m, ".modinfo");
	char *v = vermagic_in(m);

	/* Make vermagic the last record and fill to the section's end. */
	memmove(m + mi->sh_offset, v - 9, strlen(v - 9));
	memset(m + mi->sh_offset + strlen(v - 9), 'x',
	       mi->sh_size - strlen(v - 9));
}
static void e_no_vermagic(char *m, size_t len)
{
	memcpy(vermagic_in(m) - 9, "vermagiX=", 9);
}
static void e_crc(char *m, size_t len)
{
	m[section(m, "__versions")->sh_offset + 64 * 3] ^= 1;
}

static void test_malformed(void **state)
{
	static const struct {
		void (*edit)(char *m, size_t len);
		int r;
		const char *why;
	} cases[] = {
		{e_magic, -EBADMSG, "not an ELF file"},
		{e_class, -EBADMSG, "not an x86_64 module"},
		{e_data, -EBADMSG, "not an x86_64 module"},
		{e_machine, -EBADMSG, "not an x86_64 module"},
		{e_type, -EBADMSG, "not a module: not a relocatable object"},
		{e_shentsize, -EBADMSG, "section headers out of bounds"},
		{e_shoff, -EBADMSG, "section headers out of bounds"},
		{e_shnum, -EBADMSG, "section headers out of bounds"},
		{e_shstrndx, -EBADMSG, "bad section name table"},
		{e_shstr_unterminated, -EBADMSG, "bad section name table"},
		{e_section_offset, -EBADMSG, "is out of bounds"},
		{e_section_size, -EBADMSG, "is out of bounds"},
		{e_section_name, -EBADMSG, "has a bad name"},
		{e_versions_nobits, -EBADMSG, "bad __versions section"},
		{e_versions_size, -EBADMSG, "not a multiple of 64"},
		{e_versions_name, -EBADMSG,
		 "__versions entry 1 has a bad name"},
		{e_versions_empty_name, -EBADMSG,
		 "__versions entry 0 has a bad name"},
		{e_no_modinfo, -EBADMSG, "not a module: no .modinfo section"},
		{e_vermagic_unterminated, -EBADMSG, "unterminated vermagic"},
		{e_no_vermagic, -EPERM, "the module has no vermagic"},
		{e_crc, -EPERM, "in " K56 "'s Module.symvers"},
	};
	struct symvers *s56 = load_symvers("/", K56);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = edited(cases[i].edit, s56);

		if (r != cases[i].r || !strstr(why, cases[i].why))
			fail_msg("case %zu: %d '%s', expected %d '%s'", i, r,
				 why, cases[i].r, cases[i].why);
	}
	assert_int_equal(check("", 0, s56, K56), -EBADMSG);
	assert_int_equal(kabi_check(NULL, 0, s56, K56, NULL, 0), -EINVAL);
	symvers_free(s56);
}

/* ------------------------------------------------------------------ */
/* A kernel's vermagic */

static void test_vermagic_matches_kbuild(void **state)
{
	_cleanup_(freep) char *want55 = modinfo_vermagic(ko55);
	_cleanup_(freep) char *want56 = modinfo_vermagic(ko56);
	_cleanup_(freep) char *vm55 = kabi_kernel_vermagic("/", K55);
	_cleanup_(freep) char *vm56 = kabi_kernel_vermagic("/", K56);
	_cleanup_(freep) char *vm47 = kabi_kernel_vermagic(root47, K47);
	_cleanup_(freep) char *want47 = NULL;

	/* No in-tree modules here: these come from the .config. */
	assert_int_not_equal(access("/lib/modules/" K56 "/kernel", F_OK), 0);
	assert_true(startswith(want56, K56 " "));
	assert_string_equal(vm55, want55);
	assert_string_equal(vm56, want56);
	/* K47's from its unpacked package: the same flags. */
	want47 = xasprintf(K47 "%s", want56 + strlen(K56));
	assert_string_equal(vm47, want47);
}

static void put_module(const char *root, const char *path, const char *ko,
		       enum compress_kind k, const char *flags)
{
	_cleanup_(freep) char *host = xasprintf("%s%s", root, path);
	_cleanup_(freep) char *m = NULL;
	_cleanup_(freep) void *z = NULL;
	size_t len = 0, zlen = 0;
	char *v;

	m = load(ko, &len);
	v = strchr(vermagic_in(m), ' ');
	assert_true(strlen(v + 1) >= strlen(flags));
	memcpy(v + 1, flags, strlen(flags));
	if (k != COMPRESS_NONE) {
		assert_int_equal(compress_buffer(k, m, len, &z, &zlen), 0);
		put(host, z, zlen);
	} else {
		put(host, m, len);
	}
}

static void test_vermagic_intree(void **state)
{
	_cleanup_(freep) char *root = tpath("intree-root");
	_cleanup_(freep) char *v = NULL;
	_cleanup_(freep) char *lnk = NULL;
	const char *mods = "/lib/modules/" K56 "/kernel";

	/* A .config that would say something else. */
	put_in(root, "/lib/modules/" K56 "/build/.config", "CONFIG_X86_64=y\n");
	put_in(root, "/lib/modules/" K56 "/kernel/drivers/a/junk.ko",
	       "not a module");
	put_in(root, "/lib/modules/" K56 "/kernel/drivers/b/junk.ko.xz",
	       "not xz");
	/* Outside the root, reached only through a symlink: not followed. */
	lnk = xasprintf("%s%s/drivers/c", root, mods);
	assert_int_equal(make_dirs(lnk, 0755), 0);
	free(lnk);
	lnk = xasprintf("%s%s/drivers/c/host.ko", root, mods);
	assert_int_equal(symlink(ko56, lnk), 0);
	v = kabi_kernel_vermagic(root, K56);
	assert_string_equal(v, K56 " ");
	free(v);

	put_module(root, "/lib/modules/" K56 "/kernel/net/x/hello.ko.zst", ko56,
		   COMPRESS_ZST, "XYZ");
	v = kabi_kernel_vermagic(root, K56);
	assert_non_null(v);
	assert_true(startswith(v, K56 " XYZ"));
	free(v);
	assert_int_equal(unit_sh("rm -rf '%s%s/net'", root, mods), 0);
	put_module(root, "/lib/modules/" K56 "/kernel/fs/hello.ko.xz", ko56,
		   COMPRESS_XZ, "ABC");
	v = kabi_kernel_vermagic(root, K56);
	assert_non_null(v);
	assert_true(startswith(v, K56 " ABC"));
	free(v);
	assert_int_equal(unit_sh("rm -rf '%s%s/fs'", root, mods), 0);
	put_module(root, "/lib/modules/" K56 "/kernel/hello.ko", ko56,
		   COMPRESS_NONE, "DEF");
	v = kabi_kernel_vermagic(root, K56);
	assert_non_null(v);
	assert_true(startswith(v, K56 " DEF"));
}

static char *config_vermagic(const char *config, const char *seed)
{
	_cleanup_(freep) char *root = tpath("config-root");

	assert_int_equal(unit_sh("rm -rf '%s'", root), 0);
	put_in(root, "/lib/modules/" K56 "/build/.config", config);
	if (seed)
		put_in(root,
		       "/lib/modules/" K56
		       "/build/include/generated/randstruct_hash.h",
		       seed);
	return kabi_kernel_vermagic(root, K56);
}

static void test_vermagic_config(void **state)
{
	static const struct {
		const char *config, *seed, *want;
	} cases[] = {
		{"CONFIG_X86_64=y\nCONFIG_SMP=y\nCONFIG_PREEMPT_BUILD=y\n"
		 "CONFIG_MODULE_UNLOAD=y\nCONFIG_MODVERSIONS=y\n",
		 NULL, K56 " SMP preempt mod_unload modversions "},
		{"CONFIG_X86_64=y\n# CONFIG_SMP is not set\n", NULL, K56 " "},
		{"CONFIG_X86_64=y\nCONFIG_SMP=n\nCONFIG_PREEMPT_RT=y\n", NULL,
		 K56 " preempt_rt "},
		{"CONFIG_X86_64=y\nCONFIG_PREEMPT_RT=y\nCONFIG_PREEMPT_BUILD=y",
		 NULL, K56 " preempt "},
		{"CONFIG_X86_64=y\nCONFIG_PREEMPT=y\n", NULL, K56 " preempt "},
		{"CONFIG_X86_64=y\nCONFIG_PREEMPT_VOLUNTARY=y\n"
		 "CONFIG_PREEMPT_COUNT=y\nCONFIG_MODULE_UNLOAD_TAINT=y\n",
		 NULL, K56 " "},
		{"CONFIG_X86_64=y\nCONFIG_SMP=y\nCONFIG_SMP=m\n", NULL,
		 K56 " "},
		{"CONFIG_X86_64=y\nCONFIG_MODVERSIONS=y\nCONFIG_RANDSTRUCT=y\n",
		 "#define RANDSTRUCT_HASHED_SEED \"0f1e2d\"\n",
		 K56 " modversions RANDSTRUCT_0f1e2d"},
		{"CONFIG_X86_64=y\nCONFIG_GCC_PLUGIN_RANDSTRUCT=y\n",
		 "/* x */\n#define RANDSTRUCT_HASHED_SEED \"ab\"\n",
		 K56 " RANDSTRUCT_ab"},
		/* Refused rather than guessed. */
		{"CONFIG_X86_64=y\nCONFIG_RANDSTRUCT=y\n", NULL, NULL},
		{"CONFIG_X86_64=y\nCONFIG_RANDSTRUCT=y\n",
		 "#define RANDSTRUCT_HASHED_SEED \"\"\n", NULL},
		{"CONFIG_ARM64=y\nCONFIG_SMP=y\n", NULL, NULL},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(freep) char *v =
			config_vermagic(cases[i].config, cases[i].seed);

		if (!cases[i].want ? v != NULL : !v || !streq(v, cases[i].want))
			fail_msg("case %zu: '%s', expected '%s'", i,
				 v ? v : "(null)",
				 cases[i].want ? cases[i].want : "(null)");
	}
	assert_null(kabi_kernel_vermagic(tmp, K56));
	assert_null(kabi_kernel_vermagic("/", "../" K56));
	assert_null(kabi_kernel_vermagic("/", ""));
}

static void test_vermagic_utsrelease(void **state)
{
	_cleanup_(freep) char *root = tpath("uts-root");
	_cleanup_(freep) char *v = NULL;

	put_in(root, "/lib/modules/" K56 "/build/.config", "CONFIG_X86_64=y\n");
	put_in(root,
	       "/lib/modules/" K56 "/build/include/generated/utsrelease.h",
	       "#define UTS_RELEASE \"6.1.0-56-custom\"\n");
	v = kabi_kernel_vermagic(root, K56);
	assert_string_equal(v, "6.1.0-56-custom ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_same_abi),
		cmocka_unit_test(test_refuse_other_abi),
		cmocka_unit_test(test_refuse_vermagic_flags),
		cmocka_unit_test(test_refuse_unexported),
		cmocka_unit_test(test_refuse_no_versions),
		cmocka_unit_test(test_symvers_matches_file),
		cmocka_unit_test(test_symvers_formats),
		cmocka_unit_test(test_symvers_malformed),
		cmocka_unit_test(test_symvers_boot_fallback),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_vermagic_matches_kbuild),
		cmocka_unit_test(test_vermagic_intree),
		cmocka_unit_test(test_vermagic_config),
		cmocka_unit_test(test_vermagic_utsrelease),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
