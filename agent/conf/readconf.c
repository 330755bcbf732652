// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dkms 3.0.10's read_conf() post-processing, ported from /usr/sbin/dkms:
 * what dkms makes of the variables a dkms.conf left behind.  Sourcing the
 * file is someone else's job (conf_native.c, conf_bash.c); here the
 * variables arrive evaluated, and every quirk of the shell code that
 * changes a result is kept, because a module dkms would build differently
 * (or not at all) must not be built differently at boot.
 *
 * Things of the shell we deliberately do not model, because they depend
 * on dkms's working directory or on state outside the conf:
 *  - pathname expansion of unquoted words (DEST_MODULE_LOCATION passed to
 *    override_dest_module_location, BUILD_EXCLUSIVE_CONFIG words, VER's
 *    argument): a word is kept as written, as when nothing matches;
 *  - make_command leaking from an earlier read_conf() in the same dkms
 *    process (it is neither whitelisted nor reset): we model a fresh one;
 *  - --directive and --config/--kernelsourcedir from dkms's command line;
 *  - locales: regexes and comparisons behave as in LC_ALL=C.
 * Of upstream dkms (3.1+) only BUILD_EXCLUSIVE_KERNEL_MIN/_MAX are taken;
 * its per-module BUILD_EXCLUSIVE_*[i], OBSOLETE_BY as a MAX and yes/no
 * checking of AUTOINSTALL are not 3.0.10 behaviour.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>

#include "conf/pattern.h"
#include "conf/readconf.h"
#include "lib/buffer.h"
#include "lib/why.h"

/* dkms_conf_variables of 3.0.10, in its order, then upstream's additions. */
const char *const dkms_conf_whitelist[] = {
	"CLEAN",
	"PACKAGE_NAME",
	"PACKAGE_VERSION",
	"POST_ADD",
	"POST_BUILD",
	"POST_INSTALL",
	"POST_REMOVE",
	"PRE_BUILD",
	"PRE_INSTALL",
	"BUILD_DEPENDS",
	"BUILD_EXCLUSIVE_KERNEL",
	"BUILD_EXCLUSIVE_ARCH",
	"BUILD_EXCLUSIVE_CONFIG",
	"build_exclude",
	"OBSOLETE_BY",
	"MAKE",
	"MAKE_MATCH",
	"PATCH",
	"PATCH_MATCH",
	"patch_array",
	"BUILT_MODULE_NAME",
	"built_module_name",
	"BUILT_MODULE_LOCATION",
	"built_module_location",
	"DEST_MODULE_NAME",
	"dest_module_name",
	"DEST_MODULE_LOCATION",
	"dest_module_location",
	"STRIP",
	"strip",
	"AUTOINSTALL",
	"NO_WEAK_MODULES",
	"SIGN_FILE",
	"MOK_SIGNING_KEY",
	"MOK_CERTIFICATE",
	"REMAKE_INITRD",
	"MODULES_CONF",
	"MODULES_CONF_OBSOLETES",
	"MODULES_CONF_ALIAS_TYPE",
	"MODULES_CONF_OBSOLETE_ONLY",
	"BUILD_EXCLUSIVE_KERNEL_MIN",
	"BUILD_EXCLUSIVE_KERNEL_MAX",
	NULL,
};

/* dkms_framework_nonsigning_variables + dkms_framework_signing_variables. */
const char *const dkms_framework_whitelist[] = {
	"source_tree",
	"dkms_tree",
	"install_tree",
	"tmp_location",
	"verbose",
	"symlink_modules",
	"autoinstall_all_kernels",
	"modprobe_on_install",
	"sign_file",
	"mok_signing_key",
	"mok_certificate",
	NULL,
};

static const char *nz(const char *s)
{
	return s ? s : "";
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* bash's default IFS: what unquoted expansions are split on. */
static bool is_ifs(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static int append_char(struct buffer *b, char c)
{
	return buffer_append(b, &c, 1);
}

/*
 * [[ string =~ pattern ]] with an unquoted pattern expansion: bash hands
 * the value to regcomp(REG_EXTENDED).  Returns the conditional's status:
 * 0 match, 1 no match, 2 invalid regex; or a negative errno from
 * pattern_match() (why filled).
 */
static int bash_regex_match(const char *string, const char *pattern, char *why,
			    size_t why_len)
{
	return pattern_match(string, pattern, false, why, why_len);
}

/*
 * grep -q -E PATTERN on text: 0 when a line matches, 1 when none does,
 * 2 when the pattern does not compile; or a negative errno.  grep -E's own
 * matcher is more lenient than regcomp() on malformed patterns (a '{' that
 * starts no interval is literal, "^*" repeats the anchor); dkms.conf files
 * only put CONFIG_ names there.
 */
static int grep_e_quiet(const char *text, const char *pattern, char *why,
			size_t why_len)
{
	return pattern_match(text, pattern, true, why, why_len);
}

/* Append every IFS-separated word of s to *v (unquoted expansion). */
static int push_words(char ***v, const char *s)
{
	while (*s) {
		size_t len;
		char *w;
		int r;

		while (is_ifs(*s))
			s++;
		if (!*s)
			break;
		for (len = 0; s[len] && !is_ifs(s[len]); len++)
			;
		w = strndup(s, len);
		if (!w)
			return -ENOMEM;
		r = strv_push(v, w);
		free(w);
		if (r < 0)
			return r;
		s += len;
	}
	return 0;
}

static char **strv_new(void)
{
	return calloc(1, sizeof(char *));
}

static int add_error(struct dkms_conf *c, const char *fmt, ...) _printf_(2, 3);
static int add_error(struct dkms_conf *c, const char *fmt, ...)
{
	_cleanup_(freep) char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s ? strv_push(&c->errors, s) : -ENOMEM;
}

/* echo's option words: bash takes "-n", "-e", "-E" and runs of them. */
static bool is_echo_option(const char *w, size_t len)
{
	if (len < 2 || w[0] != '-')
		return false;
	for (size_t i = 1; i < len; i++)
		if (w[i] != 'n' && w[i] != 'e' && w[i] != 'E')
			return false;
	return true;
}

/*
 * dest_module_location[i]="$(override_dest_module_location ${raw})" for a
 * distribution without an override: the unquoted argument is split, the
 * function sees only the first word, and `echo "$orig_location"` prints
 * nothing when that word happens to be an echo option such as "-n".
 */
static char *first_word_echoed(const char *raw)
{
	size_t len;

	while (is_ifs(*raw))
		raw++;
	for (len = 0; raw[len] && !is_ifs(raw[len]); len++)
		;
	if (is_echo_option(raw, len))
		return strdup("");
	return strndup(raw, len);
}

/* The working copy of dkms's strip[] array: starts as the conf left it. */
struct strip_array {
	const char **v;
	size_t n;
};

/*
 * case ${STRIP[$index]} in [nN]*) no;; [yY]*) yes;; '') ${strip[0]:-yes};;
 * esac -- any other value leaves strip[index] as it was, possibly unset.
 */
static void apply_strip(struct strip_array *s, const char *val, size_t i)
{
	const char *v = nz(val);

	if (*v == 'n' || *v == 'N')
		s->v[i] = "no";
	else if (*v == 'y' || *v == 'Y')
		s->v[i] = "yes";
	else if (!*v)
		s->v[i] = s->v[0] && *s->v[0] ? s->v[0] : "yes";
}

/* One pass of read_conf()'s module loop, for record i. */
static int resolve_record(const struct vars *vs,
			  const struct dkms_conf_ctx *ctx,
			  struct strip_array *strip, size_t i,
			  struct dkms_conf *c)
{
	struct dkms_module_entry *m = &c->mods[i];
	const char *bname = nz(vars_get(vs, "BUILT_MODULE_NAME", i));
	const char *bloc = nz(vars_get(vs, "BUILT_MODULE_LOCATION", i));
	const char *dname = nz(vars_get(vs, "DEST_MODULE_NAME", i));
	const char *dloc = nz(vars_get(vs, "DEST_MODULE_LOCATION", i));
	int r = 0;

	apply_strip(strip, vars_get(vs, "STRIP", i), i);

	/* The package name stands in only when there is exactly one
	 * DEST_MODULE_LOCATION (a count of set elements, not records). */
	if (!*bname && vars_count(vs, "DEST_MODULE_LOCATION") == 1)
		bname = vars_str(vs, "PACKAGE_NAME");
	if (!*dname)
		dname = bname;
	m->built_name = strdup(bname);
	m->dest_name = strdup(dname);
	m->built_location = *bloc && !endswith(bloc, "/")
				    ? xasprintf("%s/", bloc)
				    : strdup(bloc);
	m->dest_location_raw = strdup(dloc);
	m->dest_location = ctx->dest_override ? strdup(ctx->dest_override)
					      : first_word_echoed(dloc);
	if (!m->built_name || !m->dest_name || !m->built_location ||
	    !m->dest_location_raw || !m->dest_location)
		return -ENOMEM;

	if (!*bname)
		r = add_error(c,
			      "dkms.conf: Error! No 'BUILT_MODULE_NAME' "
			      "directive specified for record #%zu.",
			      i);
	if (r == 0 && (endswith(bname, ".o") || endswith(bname, ".ko")))
		r = add_error(c,
			      "dkms.conf: Error! 'BUILT_MODULE_NAME' "
			      "directive ends in '.o' or '.ko' in record "
			      "#%zu.",
			      i);
	if (r == 0 && (endswith(dname, ".o") || endswith(dname, ".ko")))
		r = add_error(c,
			      "dkms.conf: Error! 'DEST_MODULE_NAME' "
			      "directive ends in '.o' or '.ko' in record "
			      "#%zu.",
			      i);
	/* Both checks look at DEST_MODULE_LOCATION as written, so an empty
	 * one earns both messages. */
	if (r == 0 && !*dloc)
		r = add_error(c,
			      "dkms.conf: Error! No 'DEST_MODULE_LOCATION' "
			      "directive specified for record #%zu.",
			      i);
	if (r == 0 && !startswith(dloc, "/kernel") &&
	    !startswith(dloc, "/updates") && !startswith(dloc, "/extra")) {
		r = add_error(c, "dkms.conf: Error! Directive "
				 "'DEST_MODULE_LOCATION' does not begin with");
		if (r == 0)
			r = add_error(c,
				      "'/kernel', '/updates', or '/extra' "
				      "in record #%zu.",
				      i);
	}
	return r;
}

/*
 * Entries a conf put straight into dkms's lowercase arrays (they are
 * whitelisted) past the records the loop rewrote.  dkms's build and
 * install loops run count=0..${#built_module_name[@]}-1, so each such
 * built_module_name element adds a record, read as the conf left it.
 */
static int resolve_extra_record(const struct vars *vs,
				const struct strip_array *strip, size_t i,
				struct dkms_conf *c)
{
	struct dkms_module_entry *m = &c->mods[i];
	const char *st = i < strip->n ? strip->v[i] : NULL;

	m->built_name = strdup(nz(vars_get(vs, "built_module_name", i)));
	m->built_location =
		strdup(nz(vars_get(vs, "built_module_location", i)));
	m->dest_name = strdup(nz(vars_get(vs, "dest_module_name", i)));
	m->dest_location = strdup(nz(vars_get(vs, "dest_module_location", i)));
	m->dest_location_raw =
		strdup(nz(vars_get(vs, "DEST_MODULE_LOCATION", i)));
	/* do_build: [[ ${strip[$count]} != no ]] && strip -g */
	m->strip = !st || !streq(st, "no");
	if (!m->built_name || !m->built_location || !m->dest_name ||
	    !m->dest_location || !m->dest_location_raw)
		return -ENOMEM;
	return 0;
}

static size_t records_in(const struct vars *vs)
{
	static const char *const arrays[] = {
		"BUILT_MODULE_NAME",
		"BUILT_MODULE_LOCATION",
		"DEST_MODULE_NAME",
		"DEST_MODULE_LOCATION",
	};
	size_t n = 0;

	/* The largest count of set elements; the loop then indexes
	 * 0..n-1, so a sparse array loses its high entries. */
	for (size_t k = 0; k < ARRAY_SIZE(arrays); k++) {
		size_t s = vars_count(vs, arrays[k]);

		if (s > n)
			n = s;
	}
	return n;
}

static int resolve_modules(const struct vars *vs,
			   const struct dkms_conf_ctx *ctx, struct dkms_conf *c)
{
	const struct var *lower = vars_find(vs, "built_module_name");
	const struct var *lstrip = vars_find(vs, "strip");
	_cleanup_(freep) const char **sv = NULL;
	struct strip_array strip;
	size_t records = records_in(vs), total = records, slots;
	int r;

	for (size_t i = records; lower && i < lower->n; i++)
		if (lower->vals[i])
			total++;
	slots = total;
	if (lstrip && lstrip->n > slots)
		slots = lstrip->n;
	sv = calloc(slots ? slots : 1, sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	for (size_t i = 0; lstrip && i < lstrip->n; i++)
		sv[i] = lstrip->vals[i];
	strip = (struct strip_array){.v = sv, .n = slots};

	if (total) {
		c->mods = calloc(total, sizeof(*c->mods));
		if (!c->mods)
			return -ENOMEM;
		c->n_mods = total;
	}
	for (size_t i = 0; i < records; i++) {
		r = resolve_record(vs, ctx, &strip, i, c);
		if (r < 0)
			return r;
	}
	/* do_build: [[ ${strip[$count]} != no ]] && strip -g */
	for (size_t i = 0; i < records; i++)
		c->mods[i].strip = !sv[i] || !streq(sv[i], "no");
	for (size_t i = records; i < total; i++) {
		r = resolve_extra_record(vs, &strip, i, c);
		if (r < 0)
			return r;
	}

	/* ((${#dest_module_location[@]} == 0)): the loop sets an element
	 * per record, and a conf may have set some itself. */
	if (records == 0 && vars_count(vs, "dest_module_location") == 0) {
		r = add_error(c, "dkms.conf: Error! No 'DEST_MODULE_LOCATION' "
				 "directive specified.");
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * [[ ${MAKE_MATCH[0]} ]] || make_command="${MAKE[0]}", then the last
 * MAKE[i] whose MAKE_MATCH[i] matches the kernel wins.  When MAKE_MATCH[0]
 * is set and nothing matches, MAKE[0] is not the fallback: the generic
 * command is.  The clang/lld check reads the kernel's .config; dkms first
 * looks for $kernel_source_dir/vmlinux and asks readelf, but Debian's
 * header packages ship no vmlinux, so that branch is not ported.
 */

/* A fact about the kernel config: known, or looked up. */
static bool kconfig_has(const struct dkms_conf_ctx *ctx,
			enum kconfig_fact known, const char *needle)
{
	if (known != KCONFIG_SCAN)
		return known == KCONFIG_YES;
	return ctx->kconfig && strstr(ctx->kconfig, needle);
}

/*
 * A package's pattern could not be matched within bounds: that package's
 * conf is bad (dkms's "Bad conf file" path), with a reason naming the file
 * and the directive, and every other package is still decided.
 */
static int pattern_error(struct dkms_conf *c, const struct dkms_conf_ctx *ctx,
			 const char *directive, const char *pattern, int err,
			 const char *why)
{
	if (err == -ENOMEM)
		return err;
	return add_error(c,
			 "%s: Error! %s=\"%.200s%s\" cannot be matched "
			 "safely: %s",
			 ctx->conf_file ? ctx->conf_file : "dkms.conf",
			 directive, pattern, strlen(pattern) > 200 ? "..." : "",
			 *why ? why : strerror(-err));
}

static int select_make(const struct vars *vs, const struct dkms_conf_ctx *ctx,
		       struct dkms_conf *c)
{
	const char *kver = nz(ctx->kernelver), *cmd = "";
	size_t n = vars_count(vs, "MAKE");
	_cleanup_(freep) char *base = NULL;

	if (!*vars_str(vs, "MAKE_MATCH"))
		cmd = vars_str(vs, "MAKE");
	for (size_t i = 0; i < n; i++) {
		const char *mk = nz(vars_get(vs, "MAKE", i));
		const char *mm = nz(vars_get(vs, "MAKE_MATCH", i));
		char why[160], dir[48];
		int r;

		if (!*mk || !*mm)
			continue;
		r = bash_regex_match(kver, mm, why, sizeof(why));
		if (r < 0) {
			snprintf(dir, sizeof(dir), "MAKE_MATCH[%zu]", i);
			r = pattern_error(c, ctx, dir, mm, r, why);
			if (r < 0)
				return r;
			continue;
		}
		if (r == 0)
			cmd = mk;
	}
	base = *cmd ? strdup(cmd)
		    : xasprintf("make -C %s M=%s/%s/%s/build",
				nz(ctx->kernel_source_dir), nz(ctx->dkms_tree),
				nz(ctx->module), nz(ctx->module_version));
	if (!base)
		return -ENOMEM;
	/* grep -q CONFIG_CC_IS_CLANG=y: a substring anywhere in a line.
	 * Callers that resolve many confs for one kernel pass the answers
	 * (scanning a 260 KB .config per package was most of check's time). */
	c->make_command = xasprintf(
		"%s%s%s", base,
		kconfig_has(ctx, ctx->cc_is_clang, "CONFIG_CC_IS_CLANG=y")
			? " CC=clang"
			: "",
		kconfig_has(ctx, ctx->ld_is_lld, "CONFIG_LD_IS_LLD=y")
			? " LD=ld.lld"
			: "");
	if (!c->make_command)
		return -ENOMEM;

	c->clean = *vars_str(vs, "CLEAN")
			   ? strdup(vars_str(vs, "CLEAN"))
			   : xasprintf("make -C %s M=%s/%s/%s/build clean",
				       nz(ctx->kernel_source_dir),
				       nz(ctx->dkms_tree), nz(ctx->module),
				       nz(ctx->module_version));
	return c->clean ? 0 : -ENOMEM;
}

/*
 * patch_array[count++]=PATCH[i] for each set PATCH[i] whose PATCH_MATCH[i]
 * is empty or matches.  patch_array is whitelisted, so elements a conf
 * set past the selected ones survive and dkms applies them too.
 */
static int select_patches(const struct vars *vs,
			  const struct dkms_conf_ctx *ctx, struct dkms_conf *c)
{
	const struct var *lower = vars_find(vs, "patch_array");
	size_t n = vars_count(vs, "PATCH"), count = 0;
	int r;

	c->patches = strv_new();
	if (!c->patches)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *p = nz(vars_get(vs, "PATCH", i));
		const char *pm = nz(vars_get(vs, "PATCH_MATCH", i));

		if (!*p)
			continue;
		if (*pm) {
			char why[160], dir[48];

			r = bash_regex_match(nz(ctx->kernelver), pm, why,
					     sizeof(why));
			if (r < 0) {
				snprintf(dir, sizeof(dir), "PATCH_MATCH[%zu]",
					 i);
				r = pattern_error(c, ctx, dir, pm, r, why);
				if (r < 0)
					return r;
				continue;
			}
			if (r != 0)
				continue;
		}
		r = strv_push(&c->patches, p);
		if (r < 0)
			return r;
		count++;
	}
	for (size_t i = count; lower && i < lower->n; i++) {
		if (!lower->vals[i])
			continue;
		r = strv_push(&c->patches, lower->vals[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Record an exclusion; the first reason found is the one reported. */
static int exclude(struct dkms_conf *c, const char *fmt, ...) _printf_(2, 3);
static int exclude(struct dkms_conf *c, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	c->build_exclude = true;
	if (c->exclude_reason)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	c->exclude_reason = s;
	return 0;
}

/*
 * for kconf in $BUILD_EXCLUSIVE_CONFIG: "!X" excludes when grep -E "^X=[ym]"
 * finds a line, "X" excludes unless it does.  The word is spliced into
 * the pattern, so it is itself a regex; a pattern grep cannot compile
 * (status 2) excludes in the second form only.
 */
static int check_config(const struct dkms_conf_ctx *ctx, const char *list,
			struct dkms_conf *c)
{
	const char *kconfig = ctx->kconfig;

	_cleanup_(strv_freep) char **words = NULL;
	int r = push_words(&words, list);

	for (char **w = words; r == 0 && w && *w; w++) {
		bool neg = (*w)[0] == '!';
		const char *name = neg ? *w + 1 : *w;
		_cleanup_(freep) char *pat = xasprintf("^%s=[ym]", name);
		char why[160];

		if (!pat)
			return -ENOMEM;
		r = grep_e_quiet(kconfig, pat, why, sizeof(why));
		if (r < 0)
			return pattern_error(c, ctx, "BUILD_EXCLUSIVE_CONFIG",
					     list, r, why);
		if (neg && r == 0)
			r = exclude(c,
				    "BUILD_EXCLUSIVE_CONFIG=\"%s\": %s is set "
				    "in the kernel's .config",
				    list, name);
		else if (!neg && r != 0)
			r = exclude(c,
				    "BUILD_EXCLUSIVE_CONFIG=\"%s\": %s is not "
				    "set to y or m in the kernel's .config",
				    list, name);
		else
			r = 0;
	}
	return r;
}

/* strcmp of VER keys, as dkms_ver_cmp(), but failing on -ENOMEM. */
static int ver_key_cmp(const char *a, const char *b, int *res)
{
	_cleanup_(freep) char *ka = dkms_ver_key(a);
	_cleanup_(freep) char *kb = dkms_ver_key(b);

	if (!ka || !kb)
		return -ENOMEM;
	*res = strcmp(ka, kb);
	return 0;
}

/*
 * Upstream's BUILD_EXCLUSIVE_KERNEL_MIN/_MAX: [[ "$(VER "$kernel")" <
 * "$(VER "$MIN")" ]] and likewise > MAX, so a kernel equal to a limit is
 * never excluded.  Note that this is VER's string order, not sort -V's:
 * the two disagree on numbers of four digits or more (VER pads to three,
 * so 6.1.1000 sorts before 6.1.999).
 */
static int check_kernel_range(const struct vars *vs, const char *kver,
			      struct dkms_conf *c)
{
	const char *min = vars_str(vs, "BUILD_EXCLUSIVE_KERNEL_MIN");
	const char *max = vars_str(vs, "BUILD_EXCLUSIVE_KERNEL_MAX");
	int r = 0, cmp = 0;

	if (*min)
		r = ver_key_cmp(kver, min, &cmp);
	if (r == 0 && *min && cmp < 0)
		r = exclude(c,
			    "kernel %s is older than "
			    "BUILD_EXCLUSIVE_KERNEL_MIN=\"%s\"",
			    kver, min);
	cmp = 0;
	if (r == 0 && *max)
		r = ver_key_cmp(kver, max, &cmp);
	if (r == 0 && *max && cmp > 0)
		r = exclude(c,
			    "kernel %s is newer than "
			    "BUILD_EXCLUSIVE_KERNEL_MAX=\"%s\"",
			    kver, max);
	return r;
}

/*
 * [[ $BUILD_EXCLUSIVE_KERNEL && ! $1 =~ $BUILD_EXCLUSIVE_KERNEL ]]: the
 * negation of an invalid regex (status 2) is true, so a broken regex
 * excludes.  build_exclude itself is whitelisted and read_conf() only
 * ever sets it, so a conf that sets it non-empty has excluded itself.
 */
static int check_exclusive(const struct vars *vs,
			   const struct dkms_conf_ctx *ctx, struct dkms_conf *c)
{
	const char *kver = nz(ctx->kernelver), *arch = nz(ctx->arch);
	const char *bek = vars_str(vs, "BUILD_EXCLUSIVE_KERNEL");
	const char *bea = vars_str(vs, "BUILD_EXCLUSIVE_ARCH");
	const char *bec = vars_str(vs, "BUILD_EXCLUSIVE_CONFIG");
	char why[160];
	int r = 0;

	if (*vars_str(vs, "build_exclude"))
		r = exclude(c, "dkms.conf sets build_exclude=\"%s\"",
			    vars_str(vs, "build_exclude"));
	if (r == 0 && *bek) {
		r = bash_regex_match(kver, bek, why, sizeof(why));
		if (r < 0)
			r = pattern_error(c, ctx, "BUILD_EXCLUSIVE_KERNEL", bek,
					  r, why);
		else if (r > 0)
			r = exclude(c,
				    "BUILD_EXCLUSIVE_KERNEL=\"%s\" does not "
				    "match %s%s",
				    bek, kver,
				    r == 2 ? " (invalid regular expression)"
					   : "");
	}
	if (r == 0)
		r = check_kernel_range(vs, kver, c);
	if (r == 0 && *bea) {
		r = bash_regex_match(arch, bea, why, sizeof(why));
		if (r < 0)
			r = pattern_error(c, ctx, "BUILD_EXCLUSIVE_ARCH", bea,
					  r, why);
		else if (r > 0)
			r = exclude(c,
				    "BUILD_EXCLUSIVE_ARCH=\"%s\" does not "
				    "match %s%s",
				    bea, arch,
				    r == 2 ? " (invalid regular expression)"
					   : "");
	}
	/* Checked only when $kernel_source_dir/.config exists. */
	if (r == 0 && *bec && ctx->kconfig)
		r = check_config(ctx, bec, c);
	return r;
}

/* clean="$CLEAN" package_name="$PACKAGE_NAME" ...: element 0 or "". */
static int copy_scalars(const struct vars *vs, struct dkms_conf *c)
{
	const struct {
		const char *name;
		char **dst;
	} map[] = {
		{"PACKAGE_NAME", &c->package_name},
		{"PACKAGE_VERSION", &c->package_version},
		{"PRE_BUILD", &c->pre_build},
		{"POST_BUILD", &c->post_build},
		{"PRE_INSTALL", &c->pre_install},
		{"POST_INSTALL", &c->post_install},
		{"POST_ADD", &c->post_add},
		{"POST_REMOVE", &c->post_remove},
		{"OBSOLETE_BY", &c->obsolete_by},
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		*map[i].dst = strdup(vars_str(vs, map[i].name));
		if (!*map[i].dst)
			return -ENOMEM;
	}
	return 0;
}

/*
 * autoinstall's build_depends[$m]="${BUILD_DEPENDS[@]}" joins the set
 * elements with spaces and `for d in ${build_depends[$m]}` splits them.
 */
static int collect_depends(const struct vars *vs, struct dkms_conf *c)
{
	const struct var *v = vars_find(vs, "BUILD_DEPENDS");
	int r;

	c->build_depends = strv_new();
	if (!c->build_depends)
		return -ENOMEM;
	for (size_t i = 0; v && i < v->n; i++) {
		if (!v->vals[i])
			continue;
		r = push_words(&c->build_depends, v->vals[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_package(struct dkms_conf *c)
{
	int r = 0;

	if (!*c->package_name)
		r = add_error(c, "dkms.conf: Error! No 'PACKAGE_NAME' "
				 "directive specified.");
	if (r == 0 && !*c->package_version)
		r = add_error(c, "dkms.conf: Error! No 'PACKAGE_VERSION' "
				 "directive specified.");
	return r;
}

/*
 * Every string of a resolved conf is non-NULL ("" when unset) except
 * exclude_reason; patches, build_depends and errors are NULL-terminated
 * vectors, possibly empty.  *conf is overwritten, not freed.
 */
int dkms_conf_resolve(const struct vars *vs, const struct dkms_conf_ctx *ctx,
		      struct dkms_conf *conf)
{
	_cleanup_(dkms_conf_freep) struct dkms_conf c = {0};
	int r;

	c.errors = strv_new();
	if (!c.errors)
		return -ENOMEM;
	r = copy_scalars(vs, &c);
	if (r == 0)
		r = resolve_modules(vs, ctx, &c);
	if (r == 0)
		r = select_make(vs, ctx, &c);
	if (r == 0)
		r = select_patches(vs, ctx, &c);
	if (r == 0)
		r = check_exclusive(vs, ctx, &c);
	if (r == 0)
		r = check_package(&c);
	if (r == 0)
		r = collect_depends(vs, &c);
	if (r < 0)
		return r;
	/* 3.0.10 tests [[ ! $AUTOINSTALL ]] and [ -z "$NO_WEAK_MODULES" ]:
	 * any non-empty value counts, "no" included. */
	c.autoinstall = *vars_str(vs, "AUTOINSTALL") != '\0';
	c.no_weak_modules = *vars_str(vs, "NO_WEAK_MODULES") != '\0';
	*conf = c;
	c = (struct dkms_conf){0};
	return 0;
}

void dkms_conf_free(struct dkms_conf *conf)
{
	char **strs[] = {
		&conf->package_name, &conf->package_version,
		&conf->make_command, &conf->clean,
		&conf->pre_build,    &conf->post_build,
		&conf->pre_install,  &conf->post_install,
		&conf->post_add,     &conf->post_remove,
		&conf->obsolete_by,  &conf->exclude_reason,
	};

	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		free(*strs[i]);
	for (size_t i = 0; conf->mods && i < conf->n_mods; i++) {
		struct dkms_module_entry *m = &conf->mods[i];

		free(m->built_name);
		free(m->built_location);
		free(m->dest_name);
		free(m->dest_location);
		free(m->dest_location_raw);
	}
	free(conf->mods);
	strv_free(conf->patches);
	strv_free(conf->build_depends);
	strv_free(conf->errors);
	*conf = (struct dkms_conf){0};
}

/* ---- dkms-boot's own refusals ---------------------------------------- */

/* A path component equal to "..". */
static bool has_dotdot(const char *p)
{
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += len;
		while (*p == '/')
			p++;
	}
	return false;
}

static const char *bad_module_name(const char *s)
{
	if (!s || !*s)
		return "is empty";
	if (strchr(s, '/'))
		return "contains '/'";
	if (streq(s, ".") || streq(s, ".."))
		return "is a directory name";
	if (strchr(s, '\n'))
		return "contains a newline";
	return NULL;
}

static const char *bad_location(const char *s)
{
	if (!s)
		return "is missing";
	if (has_dotdot(s))
		return "has a '..' component";
	if (strchr(s, '\n'))
		return "contains a newline";
	return NULL;
}

static const char *bad_package_word(const char *s)
{
	if (!s)
		return "is missing";
	if (strchr(s, '/'))
		return "contains '/'";
	if (strstr(s, ".."))
		return "contains '..'";
	if (streq(s, "."))
		return "is a directory name";
	if (strchr(s, '\n'))
		return "contains a newline";
	return NULL;
}

int dkms_conf_validate_names(const struct dkms_conf *conf, char *reason,
			     size_t reason_len)
{
	const char *why;

	why = bad_package_word(conf->package_name);
	if (why) {
		return why_set(reason, reason_len, -EINVAL,
			       "PACKAGE_NAME \"%s\" %s", nz(conf->package_name),
			       why);
	}
	why = bad_package_word(conf->package_version);
	if (why) {
		return why_set(reason, reason_len, -EINVAL,
			       "PACKAGE_VERSION \"%s\" %s",
			       nz(conf->package_version), why);
	}
	for (size_t i = 0; i < conf->n_mods; i++) {
		const struct dkms_module_entry *m = &conf->mods[i];
		const struct {
			const char *what, *val, *why;
		} checks[] = {
			{"BUILT_MODULE_NAME", m->built_name,
			 bad_module_name(m->built_name)},
			{"DEST_MODULE_NAME", m->dest_name,
			 bad_module_name(m->dest_name)},
			{"BUILT_MODULE_LOCATION", m->built_location,
			 bad_location(m->built_location)},
			{"DEST_MODULE_LOCATION", m->dest_location_raw,
			 bad_location(m->dest_location_raw)},
			{"the install location", m->dest_location,
			 bad_location(m->dest_location)},
		};

		for (size_t k = 0; k < ARRAY_SIZE(checks); k++) {
			if (!checks[k].why)
				continue;
			return why_set(reason, reason_len, -EINVAL,
				       "record #%zu: %s \"%s\" %s", i,
				       checks[k].what, nz(checks[k].val),
				       checks[k].why);
		}
	}
	return 0;
}

/* ---- VER() ----------------------------------------------------------- */

static int hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after a backslash at *p (p points past it).  Returns 1 when
 * \c ends the output, 0 otherwise, or -ENOMEM. */
static int echo_escape(const char **pp, struct buffer *out)
{
	static const char plain[] = "abeEfnrtv\\";
	static const char value[] = "\a\b\033\033\f\n\r\t\v\\";
	const char *p = *pp, *hit;
	unsigned long v = 0;
	int digits = 0, max;
	char buf[16];

	if (*p == 'c')
		return 1;
	hit = *p ? strchr(plain, *p) : NULL;
	if (hit) {
		*pp = p + 1;
		return append_char(out, value[hit - plain]);
	}
	if (*p == '0') {
		for (p++; digits < 3 && *p >= '0' && *p <= '7'; digits++)
			v = v * 8 + (unsigned long)(*p++ - '0');
		*pp = p;
		return append_char(out, (char)(v & 0xff));
	}
	max = *p == 'x' ? 2 : *p == 'u' ? 4 : *p == 'U' ? 8 : 0;
	if (!max || hexval(p[1]) < 0) {
		/* Not an escape: the backslash stays. */
		return append_char(out, '\\');
	}
	for (p++; digits < max && hexval(*p) >= 0; digits++)
		v = v * 16 + (unsigned long)hexval(*p++);
	*pp = p;
	if (max == 2 || v <= 0x7f)
		return append_char(out, (char)(v & 0xff));
	/* The C locale cannot convert it: bash prints it back. */
	snprintf(buf, sizeof(buf), v <= 0xffff ? "\\u%04lX" : "\\U%08lX", v);
	return buffer_append(out, buf, strlen(buf));
}

/*
 * The first half of `echo $1 | sed ...`: $1 unquoted is split on IFS,
 * leading option words (-n, -e, -E, -neE...) are taken by bash's echo,
 * the rest are joined by single spaces.  With -e, escapes are expanded
 * as bash's echo does in the C locale.  Appends what sed would read,
 * without echo's final newline; returns 1 when \c cut the output short,
 * 0, or -ENOMEM.
 */
static int echo_unquoted(const char *arg, struct buffer *out)
{
	bool options = true, escapes = false, first = true;
	const char *p = arg;

	while (*p) {
		size_t len;

		while (is_ifs(*p))
			p++;
		if (!*p)
			break;
		for (len = 0; p[len] && !is_ifs(p[len]); len++)
			;
		if (options && is_echo_option(p, len)) {
			/* The last of -e / -E wins. */
			for (size_t i = 1; i < len; i++)
				if (p[i] != 'n')
					escapes = p[i] == 'e';
			p += len;
			continue;
		}
		options = false;
		if (!first && append_char(out, ' ') < 0)
			return -ENOMEM;
		first = false;
		for (const char *q = p; q < p + len;) {
			int r;

			if (!escapes || *q != '\\') {
				if (append_char(out, *q++) < 0)
					return -ENOMEM;
				continue;
			}
			q++;
			/* IFS characters end every escape, so none
			 * reads past the word. */
			r = echo_escape(&q, out);
			if (r != 0)
				return r;
		}
		p += len;
	}
	return 0;
}

/* One s:\(A\)\(B\):\1 \2:g pass, A and B being [0-9] or [^0-9]. */
static int sed_split(const struct buffer *in, bool first_digit,
		     struct buffer *out)
{
	for (size_t i = 0; i < in->len;) {
		int r;

		if (i + 1 < in->len && is_digit(in->data[i]) == first_digit &&
		    is_digit(in->data[i + 1]) != first_digit) {
			char three[3] = {in->data[i], ' ', in->data[i + 1]};

			r = buffer_append(out, three, 3);
			i += 2;
		} else {
			r = append_char(out, in->data[i++]);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* s: \([0-9]\) : 00\1 :g (width 1) and s: \([0-9][0-9]\) : 0\1 :g. */
static int sed_pad(const struct buffer *in, size_t width, struct buffer *out)
{
	for (size_t i = 0; i < in->len;) {
		bool hit = i + width + 1 < in->len && in->data[i] == ' ' &&
			   in->data[i + width + 1] == ' ';
		int r;

		for (size_t k = 1; hit && k <= width; k++)
			hit = is_digit(in->data[i + k]);
		if (hit) {
			r = buffer_append(out, width == 1 ? " 00" : " 0",
					  4 - width);
			if (r == 0)
				r = buffer_append(out, in->data + i + 1,
						  width + 1);
			i += width + 2;
		} else {
			r = append_char(out, in->data[i++]);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* VER's sed script on one line (without its newline), appended to out. */
static int ver_line(const char *line, size_t len, struct buffer *out)
{
	struct buffer x = {0}, y = {0};
	int r;

	r = buffer_append(&x, line, len);
	if (r == 0)
		r = sed_split(&x, false, &y); /* \([^0-9]\)\([0-9]\) */
	buffer_truncate(&x, 0);
	if (r == 0)
		r = sed_split(&y, true, &x); /* \([0-9]\)\([^0-9]\) */
	buffer_truncate(&y, 0);
	if (r == 0) /* s:\(.*\): \1 : */
		r = append_char(&y, ' ');
	if (r == 0)
		r = buffer_append(&y, x.data ? x.data : "", x.len);
	if (r == 0)
		r = append_char(&y, ' ');
	buffer_truncate(&x, 0);
	if (r == 0)
		r = sed_pad(&y, 1, &x);
	buffer_truncate(&y, 0);
	if (r == 0)
		r = sed_pad(&x, 2, &y);
	for (size_t i = 0; r == 0 && i < y.len; i++) /* s: ::g */
		if (y.data[i] != ' ')
			r = append_char(out, y.data[i]);
	buffer_free(&x);
	buffer_free(&y);
	return r;
}

/*
 * VER() { echo $1 | sed ...; } as "$(VER $v)" sees it: sed works line by
 * line, command substitution drops NUL bytes and trailing newlines.
 */
char *dkms_ver_key(const char *version)
{
	struct buffer echoed = {0}, out = {0};
	size_t start = 0, w = 0;
	int r;

	r = echo_unquoted(nz(version), &echoed);
	while (r >= 0) {
		const char *base = echoed.data ? echoed.data : "";
		const char *nl = echoed.len > start ? memchr(base + start, '\n',
							     echoed.len - start)
						    : NULL;
		size_t end = nl ? (size_t)(nl - base) : echoed.len;

		r = ver_line(base + start, end - start, &out);
		if (r == 0 && nl)
			r = append_char(&out, '\n');
		if (!nl || r < 0)
			break;
		start = end + 1;
	}
	buffer_free(&echoed);
	if (r < 0) {
		buffer_free(&out);
		return NULL;
	}
	for (size_t i = 0; i < out.len; i++)
		if (out.data[i] != '\0')
			out.data[w++] = out.data[i];
	while (w > 0 && out.data[w - 1] == '\n')
		w--;
	buffer_truncate(&out, w);
	return buffer_take(&out, NULL);
}

/*
 * dkms orders module versions with [[ $(VER $a) > $(VER $b) ]], which
 * compares in the collation of the locale; under LC_ALL=C (and for the
 * ASCII keys versions give) that is byte order, i.e. strcmp.
 */
int dkms_ver_cmp(const char *a, const char *b)
{
	_cleanup_(freep) char *ka = dkms_ver_key(a);
	_cleanup_(freep) char *kb = dkms_ver_key(b);

	if (!ka || !kb) /* out of memory: byte order of the originals */
		return strcmp(nz(a), nz(b));
	return strcmp(ka, kb);
}

/* ---- sort -V ---------------------------------------------------------- */

static bool is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

/*
 * filevercmp compares names without their "suffix" first: the longest
 * ending matching (\.[A-Za-z~][A-Za-z0-9~]*)*$, which for a hidden file
 * can be the whole name (sort -V puts ".Z" before ".~Z_").  Returns the
 * length of what precedes it.
 */
static size_t version_prefix_len(const char *s, size_t n)
{
	size_t i = 0, prefix = 0;

	for (;;) {
		while (i + 1 < n && s[i] == '.' &&
		       (is_alpha(s[i + 1]) || s[i + 1] == '~')) {
			for (i += 2; i < n && (is_alnum(s[i]) || s[i] == '~');
			     i++)
				;
		}
		if (i >= n)
			return prefix;
		prefix = ++i;
	}
}

/* Weight of a non-digit position: '~' before the end, the end before
 * letters, letters before everything else. */
static int char_weight(const char *s, size_t pos, size_t len)
{
	unsigned char c;

	if (pos == len)
		return 0;
	c = (unsigned char)s[pos];
	if (is_digit((char)c))
		return 0;
	if (is_alpha((char)c))
		return c;
	if (c == '~')
		return -1;
	return c + 256;
}

/* Debian-style comparison: alternate non-digit runs (by weight) and
 * digit runs (numerically, leading zeros ignored). */
static int verrev_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i = 0, j = 0;

	while (i < al || j < bl) {
		int first_diff = 0;

		while ((i < al && !is_digit(a[i])) ||
		       (j < bl && !is_digit(b[j]))) {
			int wa = char_weight(a, i, al),
			    wb = char_weight(b, j, bl);

			if (wa != wb)
				return wa - wb;
			i++;
			j++;
		}
		while (i < al && a[i] == '0')
			i++;
		while (j < bl && b[j] == '0')
			j++;
		for (; i < al && j < bl && is_digit(a[i]) && is_digit(b[j]);
		     i++, j++)
			if (!first_diff)
				first_diff = a[i] - b[j];
		if (i < al && is_digit(a[i]))
			return 1;
		if (j < bl && is_digit(b[j]))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

/* "" first, then ".", "..", other names starting with '.', the rest. */
static int dot_rank(const char *s)
{
	if (!*s)
		return 0;
	if (streq(s, "."))
		return 1;
	if (streq(s, ".."))
		return 2;
	return s[0] == '.' ? 3 : 4;
}

static int filevercmp_port(const char *a, const char *b)
{
	int ra = dot_rank(a), rb = dot_rank(b), r;
	size_t al, bl, ap, bp;

	if (ra != rb)
		return ra - rb;
	if (ra < 3)
		return 0;
	al = strlen(a);
	bl = strlen(b);
	ap = version_prefix_len(a, al);
	bp = version_prefix_len(b, bl);
	r = verrev_cmp(a, ap, b, bp);
	if (r || (ap == al && bp == bl))
		return r;
	return verrev_cmp(a, al, b, bl);
}

/*
 * `sort -V` orders lines by filevercmp and breaks ties by comparing the
 * whole lines (bytes under LC_ALL=C), so the order is total.
 */
int version_sort_cmp(const char *a, const char *b)
{
	int r = filevercmp_port(nz(a), nz(b));

	return r ? r : strcmp(nz(a), nz(b));
}
