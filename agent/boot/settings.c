// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Boot settings: the embedded settings file, then the kernel command
 * line.  Both come from places a user types into (a boot loader prompt,
 * a PXE config), so every value is checked against a narrow grammar and
 * anything else is refused with the reason; the setting keeps the value
 * it had, so a typo can never disable the time budget or enable
 * compiling where the file forbade it.
 */
#include <limits.h>

#include "boot/settings.h"
#include "lib/log.h"

#define CMDLINE_PREFIX "rd.dkms_boot"

void boot_settings_init(struct boot_settings *s)
{
	*s = (struct boot_settings){
		.enabled = true,
		.timeout_s = BOOT_TIMEOUT_DEFAULT_S,
		.compile = true,
		.kabi_reuse = true,
	};
}

void boot_settings_free(struct boot_settings *s)
{
	strv_free(s->load);
	strv_free(s->refused);
	s->load = s->refused = NULL;
}

/* Record why origin's key=value was not taken; -ENOMEM only. */
static int refuse(struct boot_settings *s, const char *origin, const char *key,
		  const char *value, const char *why)
{
	/* Shown in kmsg: keep a hostile value from flooding the line. */
	int vlen = value ? (int)strnlen(value, 64) : 0;
	const char *more = value && value[vlen] ? "..." : "";

	if (value)
		return strv_pushf(&s->refused, "%s: %s=%.*s%s refused: %s",
				  origin, key, vlen, value, more, why);
	return strv_pushf(&s->refused, "%s: %s refused: %s", origin, key, why);
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (streq(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (streq(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Decimal seconds 1..BOOT_TIMEOUT_MAX_S, nothing else (no sign, no 0x). */
static int parse_seconds(const char *v, unsigned *out)
{
	unsigned long n = 0;

	if (!*v || strlen(v) > 9)
		return -EINVAL;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n < 1 || n > BOOT_TIMEOUT_MAX_S)
		return -ERANGE;
	*out = (unsigned)n;
	return 0;
}

static bool module_name_ok(const char *n, size_t len)
{
	if (len == 0 || len > BOOT_MODULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * A comma-separated list of module names.  All or nothing: one bad name
 * refuses the whole list, since a half-applied list would load a set
 * nobody asked for.
 */
static int parse_load(const char *v, char ***out, const char **why)
{
	_cleanup_(strv_freep) char **list = NULL;
	const char *p = v;

	while (*p) {
		size_t len = strcspn(p, ",");
		bool dup = false;

		if (!module_name_ok(p, len)) {
			*why = "module names are 1-55 letters, digits, _ or -";
			return -EINVAL;
		}
		for (char **l = list; l && *l; l++)
			dup |= strlen(*l) == len && !strncmp(*l, p, len);
		if (!dup) {
			_cleanup_(freep) char *name = strndup(p, len);

			if (strv_length(list) == BOOT_LOAD_MAX) {
				*why = "more than 32 modules";
				return -E2BIG;
			}
			if (!name || strv_push(&list, name) < 0)
				return -ENOMEM;
		}
		p += len;
		if (*p == ',' && !*++p) {
			*why = "empty module name";
			return -EINVAL;
		}
	}
	strv_free(*out);
	*out = TAKE_PTR(list);
	return 0;
}

/* One setting by its short name; refusals recorded, -ENOMEM returned. */
static int apply(struct boot_settings *s, const char *origin, const char *key,
		 const char *value)
{
	const char *why = NULL;
	bool b = true;
	int r;

	if (streq(key, "enabled") || streq(key, "compile") ||
	    streq(key, "kabi_reuse") || streq(key, "debug") ||
	    streq(key, "run_scripts")) {
		/* A bare flag (rd.dkms_boot.debug) means yes. */
		if (value && parse_bool(value, &b) < 0)
			return refuse(s, origin, key, value,
				      "not a boolean (0 or 1)");
		if (streq(key, "enabled"))
			s->enabled = b;
		else if (streq(key, "compile"))
			s->compile = b;
		else if (streq(key, "kabi_reuse"))
			s->kabi_reuse = b;
		else if (streq(key, "debug"))
			s->debug = b;
		else
			s->run_scripts = b;
		return 0;
	}
	if (streq(key, "timeout")) {
		if (!value)
			return refuse(s, origin, key, NULL, "needs a value");
		r = parse_seconds(value, &s->timeout_s);
		if (r == -ERANGE)
			return refuse(s, origin, key, value,
				      "out of range (1-3600 seconds)");
		if (r < 0)
			return refuse(s, origin, key, value,
				      "not a whole number of seconds");
		return 0;
	}
	if (streq(key, "load")) {
		if (!value)
			return refuse(s, origin, key, NULL, "needs a value");
		r = parse_load(value, &s->load, &why);
		if (r == -ENOMEM)
			return r;
		return r < 0 ? refuse(s, origin, key, value, why) : 0;
	}
	return refuse(s, origin, key, value, "unknown setting");
}

/* The value without one pair of surrounding double quotes. */
static char *unquote(const char *v, size_t len)
{
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
		return strndup(v + 1, len - 2);
	return strndup(v, len);
}

static bool has_ctl(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static int apply_file_line(struct boot_settings *s, const char *line,
			   size_t len, const char *origin)
{
	_cleanup_(freep) char *key = NULL, *value = NULL;
	const char *eq;

	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
		       line[len - 1] == '\r'))
		len--;
	if (!len || *line == '#')
		return 0;
	eq = memchr(line, '=', len);
	key = strndup(line, eq ? (size_t)(eq - line) : len);
	if (!key)
		return -ENOMEM;
	if (!eq || has_ctl(line, len))
		return refuse(s, origin, key, NULL,
			      eq ? "control character" : "not key=value");
	value = unquote(eq + 1, len - (size_t)(eq + 1 - line));
	if (!value)
		return -ENOMEM;
	return apply(s, origin, key, value);
}

int boot_settings_apply_file(struct boot_settings *s, const char *text,
			     size_t len, const char *origin)
{
	const char *end = text + len;

	if (len > BOOT_SETTINGS_FILE_MAX)
		return refuse(s, origin, "file", NULL, "larger than 64 KiB");
	if (memchr(text, '\0', len))
		return refuse(s, origin, "file", NULL, "contains a NUL byte");
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
		int r = apply_file_line(s, text, n, origin);

		if (r < 0)
			return r;
		text += n + (nl != NULL);
	}
	return 0;
}

/*
 * The kernel's next_arg(): blanks separate parameters except inside
 * double quotes, and the quotes are not part of the name or value.
 * Sets *param to the unquoted "name[=value]" and returns the rest.
 */
static const char *next_param(const char *p, const char *end, char **param)
{
	_cleanup_(freep) char *out = malloc((size_t)(end - p) + 1);
	bool quoted = false;
	size_t n = 0;

	*param = NULL;
	if (!out)
		return NULL;
	for (; p < end && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'));
	     p++) {
		if (*p == '"')
			quoted = !quoted;
		else
			out[n++] = *p;
	}
	out[n] = '\0';
	*param = TAKE_PTR(out);
	return p;
}

static int apply_param(struct boot_settings *s, char *param)
{
	char *eq = strchr(param, '=');
	const char *name;

	if (eq)
		*eq = '\0';
	if (!startswith(param, CMDLINE_PREFIX))
		return 0;
	name = param + strlen(CMDLINE_PREFIX);
	if (!*name) /* rd.dkms_boot=0|1 */
		return apply(s, "kernel command line", "enabled",
			     eq ? eq + 1 : NULL);
	if (*name != '.')
		return 0; /* rd.dkms_bootfoo: not ours */
	if (has_ctl(param, strlen(param)) ||
	    (eq && has_ctl(eq + 1, strlen(eq + 1))))
		return refuse(s, "kernel command line", param, NULL,
			      "control character");
	return apply(s, "kernel command line", name + 1, eq ? eq + 1 : NULL);
}

int boot_settings_apply_cmdline(struct boot_settings *s, const char *cmdline,
				size_t len)
{
	const char *p = cmdline, *end = cmdline + len;

	if (len > BOOT_SETTINGS_FILE_MAX)
		return refuse(s, "kernel command line", "line", NULL,
			      "larger than 64 KiB");
	/* /proc/cmdline may carry a NUL or newline at the end: stop there. */
	if (memchr(cmdline, '\0', len))
		end = memchr(cmdline, '\0', len);
	while (p < end) {
		_cleanup_(freep) char *param = NULL;
		int r;

		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
			p++;
		if (p == end)
			break;
		p = next_param(p, end, &param);
		if (!p)
			return -ENOMEM;
		if (streq(param, "--"))
			break;
		r = apply_param(s, param);
		if (r < 0)
			return r;
	}
	return 0;
}

static int apply_path(struct boot_settings *s, const char *path, bool cmdline)
{
	_cleanup_(freep) char *buf = NULL;
	size_t len = 0;
	int r = read_file(path, BOOT_SETTINGS_FILE_MAX, &buf, &len);

	if (r == -ENOENT && !cmdline)
		return 0;
	if (r < 0) {
		_cleanup_(freep) char *why =
			xasprintf("cannot be read: %s", strerror(-r));

		return refuse(s, path, "file", NULL, why ? why : "unreadable");
	}
	return cmdline ? boot_settings_apply_cmdline(s, buf, len)
		       : boot_settings_apply_file(s, buf, len, path);
}

int boot_settings_load(struct boot_settings *s, const char *conf_path,
		       const char *cmdline_path)
{
	int r;

	boot_settings_init(s);
	if (conf_path && (r = apply_path(s, conf_path, false)) < 0)
		return r;
	if (cmdline_path && (r = apply_path(s, cmdline_path, true)) < 0)
		return r;
	for (char **w = s->refused; w && *w; w++)
		log_warn("%s; keeping the previous value", *w);
	return 0;
}
