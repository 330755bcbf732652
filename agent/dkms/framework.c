// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dkms's framework: where the trees are (framework.conf and
 * framework.conf.d), which distribution decides the install location,
 * and read_conf()'s choice of files and variables.
 */
#include <sys/utsname.h>

#include "dkms/context.h"
#include "lib/log.h"
#include "dkms/registry.h"
#include "lib/rootfs.h"

/* os-release is KEY=value with shell quoting; we need ID and ID_LIKE. */
static char *os_release_value(const char *buf, const char *key)
{
	size_t kl = strlen(key);

	for (const char *l = buf; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *v, *e;

		if (strncmp(l, key, kl) != 0 || l[kl] != '=')
			continue;
		v = l + kl + 1;
		e = v + strcspn(v, "\n");
		if (e > v && (*v == '"' || *v == '\'') && e[-1] == *v &&
		    e - v >= 2)
			return strndup(v + 1, (size_t)(e - v - 2));
		return strndup(v, (size_t)(e - v));
	}
	return NULL;
}

char *dkb_distribution(const char *root)
{
	_cleanup_(freep) char *buf = NULL;

	if (root_read_file(root, "/etc/os-release", 65536, &buf, NULL) < 0)
		return strdup("unknown");
	return dkb_distribution_parse(buf);
}

char *dkb_distribution_parse(const char *buf)
{
	_cleanup_(freep) char *id = NULL, *like = NULL;
	char *p;

	id = os_release_value(buf, "ID");
	like = os_release_value(buf, "ID_LIKE");
	if (id && streq(id, "ubuntu"))
		return TAKE_PTR(id);
	/* dkms: `echo ${ID_LIKE[0]}` when ID_LIKE is set at all; the
	 * unquoted echo folds blanks. */
	if (like) {
		for (p = like; *p; p++)
			if (*p == '\t')
				*p = ' ';
		return TAKE_PTR(like);
	}
	return id ? TAKE_PTR(id) : strdup("");
}

const char *dkb_dest_override(const char *d)
{
	if (!d)
		return NULL;
	if (startswith(d, "fedora") || startswith(d, "rhel") ||
	    startswith(d, "ovm"))
		return "/extra";
	if (startswith(d, "sles") || startswith(d, "suse") ||
	    startswith(d, "opensuse"))
		return "/updates";
	if (startswith(d, "debian") || startswith(d, "ubuntu") ||
	    startswith(d, "arch"))
		return "/updates/dkms";
	return NULL;
}

/* framework.conf, then framework.conf.d/<name>.conf in glob order (bash's,
 * not glob(3), which would drag NSS into the static binary for ~). */
static int framework_files(const struct dkb_ctx *c, char ***files)
{
	_cleanup_(strv_freep) char **rel = NULL;
	const char *pat[] = {"*.conf"};
	int r = strv_push(files, "/etc/dkms/framework.conf");

	if (r == 0)
		r = reg_glob(c, "/etc/dkms/framework.conf.d", pat, 1, &rel);
	for (char **p = rel; r == 0 && p && *p; p++) {
		_cleanup_(freep) char *f =
			xasprintf("/etc/dkms/framework.conf.d/%s", *p);

		r = f ? strv_push(files, f) : -ENOMEM;
	}
	return r;
}

static int list_etc_dkms(struct dkb_ctx *c)
{
	_cleanup_(freep) char *host = NULL;
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *e;
	int r = strv_push(&c->etc_dkms, ".");

	if (r < 0 || root_path(c->root, "/etc/dkms", &host) < 0)
		return r;
	d = opendir(host);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' &&
		    (r = strv_push(&c->etc_dkms, e->d_name)) < 0)
			return r;
	return 0;
}

static bool etc_dkms_has(const struct dkb_ctx *c, const char *path)
{
	const char *base = path + strlen("/etc/dkms/");

	for (char **n = c->etc_dkms; n && *n; n++)
		if (streq(*n, base))
			return true;
	return false;
}

static int set_default(struct vars *env, const char *name, const char *val)
{
	return vars_set(env, name, 0, val);
}

int dkb_ctx_init(struct dkb_ctx *c, const char *root,
		 const struct conf_eval_opts *eval)
{
	_cleanup_(strv_freep) char **files = NULL;
	_cleanup_(vars_freep) struct vars env = VARS_INIT;
	_cleanup_(conf_eval_result_freep) struct conf_eval_result res = {0};
	int r;

	*c = (struct dkb_ctx){.root = root ? root : "/", .eval = *eval};
	r = set_default(&env, "dkms_tree", "/var/lib/dkms");
	if (r == 0)
		r = set_default(&env, "source_tree", "/usr/src");
	if (r == 0)
		r = set_default(&env, "install_tree", "/lib/modules");
	if (r == 0)
		r = set_default(&env, "tmp_location", "/tmp");
	if (r == 0)
		r = framework_files(c, &files);
	if (r < 0)
		return r;
	/* The framework variables are dkms's own globals: start from the
	 * defaults, and let the files override them. */
	for (const char *const *w = dkms_framework_whitelist; *w; w++)
		vars_unset(&env, *w);
	r = conf_eval(c->root, files, NULL, &env, dkms_framework_whitelist,
		      &c->eval, &res);
	if (r < 0) {
		log_err("/etc/dkms/framework.conf: cannot evaluate: %s",
			strerror(-r));
		return r;
	}
	c->framework = res.vars;
	res.vars = (struct vars)VARS_INIT;
	c->dkms_tree = strdup(vars_get(&c->framework, "dkms_tree", 0)
				      ?: "/var/lib/dkms");
	c->source_tree =
		strdup(vars_get(&c->framework, "source_tree", 0) ?: "/usr/src");
	c->install_tree = strdup(vars_get(&c->framework, "install_tree", 0)
					 ?: "/lib/modules");
	c->distribution = dkb_distribution(c->root);
	r = list_etc_dkms(c);
	if (r < 0)
		return r;
	if (!c->dkms_tree || !c->source_tree || !c->install_tree ||
	    !c->distribution)
		return -ENOMEM;
	if (dkb_dest_override(c->distribution)) {
		c->dest_override = strdup(dkb_dest_override(c->distribution));
		if (!c->dest_override)
			return -ENOMEM;
	}
	return 0;
}

void dkb_ctx_free(struct dkb_ctx *c)
{
	free(c->dkms_tree);
	free(c->source_tree);
	free(c->install_tree);
	free(c->distribution);
	free(c->dest_override);
	free(c->kconfig_kver);
	free(c->suffix_kver);
	free(c->kconfig);
	strv_free(c->etc_dkms);
	vars_free(&c->framework);
}

static int conf_env(const struct dkb_ctx *c, const char *module,
		    const char *version, const char *kernelver,
		    const char *arch, const char *ksrc, struct vars *env)
{
	const char *pairs[][2] = {
		{"kernelver", kernelver},
		{"arch", arch},
		{"kernel_source_dir", ksrc},
		{"dkms_tree", c->dkms_tree},
		{"source_tree", c->source_tree},
		{"install_tree", c->install_tree},
		{"module", module},
		{"module_version", version},
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		r = vars_set(env, pairs[i][0], 0,
			     pairs[i][1] ? pairs[i][1] : "");
		if (r < 0)
			return r;
	}
	return 0;
}

/* dkms.conf, then the override files that exist, in dkms's order. */
static int override_files(const struct dkb_ctx *c, const char *conf,
			  const char *m, const char *v, const char *k,
			  const char *a, char ***files)
{
	char *f[5] = {
		strdup(conf),
		xasprintf("/etc/dkms/%s.conf", m),
		xasprintf("/etc/dkms/%s-%s.conf", m, v),
		xasprintf("/etc/dkms/%s-%s-%s.conf", m, v, k),
		xasprintf("/etc/dkms/%s-%s-%s-%s.conf", m, v, k, a),
	};
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		if (!f[i])
			r = -ENOMEM;
		if (r == 0 && (i == 0 || etc_dkms_has(c, f[i])))
			r = strv_push(files, f[i]);
		free(f[i]);
	}
	return r;
}

/* The kernel's .config, read once per kernel. */
static void kconfig_load(struct dkb_ctx *c, const char *kver, const char *path)
{
	if (c->kconfig_kver && streq(c->kconfig_kver, kver))
		return;
	free(c->kconfig_kver);
	free(c->kconfig);
	c->kconfig = NULL;
	c->kconfig_kver = strdup(kver);
	if (root_read_file(c->root, path, 16 << 20, &c->kconfig, NULL) < 0)
		c->kconfig = NULL;
	c->kconfig_clang =
		c->kconfig && strstr(c->kconfig, "CONFIG_CC_IS_CLANG=y")
			? KCONFIG_YES
			: KCONFIG_NO;
	c->kconfig_lld = c->kconfig && strstr(c->kconfig, "CONFIG_LD_IS_LLD=y")
				 ? KCONFIG_YES
				 : KCONFIG_NO;
}

/*
 * What bash wrote to stderr while sourcing, line by line, whether it ran
 * now or the result came from the evaluation cache: dkms shows it every
 * time it sources the conf, and a cached answer must not hide it.
 */
static void show_diag(const char *diag)
{
	while (diag && *diag) {
		const char *nl = strchr(diag, '\n');
		size_t n = nl ? (size_t)(nl - diag) : strlen(diag);

		if (n)
			log_warn("%.*s", (int)n, diag);
		diag += n + (nl ? 1 : 0);
	}
}

int dkb_read_conf(struct dkb_ctx *c, const char *module, const char *version,
		  const char *kernelver, const char *arch,
		  const char *conf_path, struct dkms_conf *conf,
		  struct conf_eval_result *how)
{
	_cleanup_(freep) char *def = NULL, *ksrc = NULL, *kcfg = NULL;
	_cleanup_(strv_freep) char **files = NULL;
	_cleanup_(vars_freep) struct vars env = VARS_INIT;
	_cleanup_(conf_eval_result_freep) struct conf_eval_result res = {0};
	char *extra[2] = {NULL, NULL};
	struct dkms_conf_ctx cc;
	int r;

	def = xasprintf("%s/%s/%s/source/dkms.conf", c->dkms_tree, module,
			version);
	ksrc = xasprintf("/lib/modules/%s/build", kernelver);
	kcfg = xasprintf("/lib/modules/%s/build/.config", kernelver);
	if (!def || !ksrc || !kcfg)
		return -ENOMEM;
	if (!conf_path)
		conf_path = def;
	if (!root_exists(c->root, conf_path))
		return -ENOENT;
	r = override_files(c, conf_path, module, version, kernelver, arch,
			   &files);
	if (r == 0)
		r = conf_env(c, module, version, kernelver, arch, ksrc, &env);
	if (r < 0)
		return r;
	extra[0] = kcfg;
	r = conf_eval(c->root, files, extra, &env, dkms_conf_whitelist,
		      &c->eval, &res);
	/* A caller that takes the result shows the diagnostics itself. */
	if (!how)
		show_diag(res.bash_diag);
	if (r < 0) {
		if (how) {
			*how = res;
			res = (struct conf_eval_result){0};
		}
		return r;
	}
	kconfig_load(c, kernelver, kcfg);
	cc = (struct dkms_conf_ctx){
		.conf_file = conf_path,
		.kernelver = kernelver,
		.arch = arch,
		.kernel_source_dir = ksrc,
		.dkms_tree = c->dkms_tree,
		.module = module,
		.module_version = version,
		.dest_override = c->dest_override,
		.kconfig = c->kconfig,
		.cc_is_clang = c->kconfig_clang,
		.ld_is_lld = c->kconfig_lld,
	};
	r = dkms_conf_resolve(&res.vars, &cc, conf);
	if (r == 0 && how) {
		*how = res;
		res = (struct conf_eval_result){0};
	}
	return r;
}

char *dkb_pkg_vmsg(const char *m, const char *v, const char *k, const char *a,
		   const char *fmt, va_list ap)
{
	_cleanup_(freep) char *what = xvasprintf(fmt, ap);

	return what ? xasprintf("%s/%s for %s (%s): %s", m, v, k, a, what)
		    : NULL;
}
