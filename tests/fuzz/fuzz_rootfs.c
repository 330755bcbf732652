// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * In-root path resolution against a tree the input lays out: symlinks
 * (absolute, relative, dangling, looping), directories and files, then
 * one path to resolve.  The openat2 resolver and the user-space walk
 * must agree, and no answer may name anything outside the root.
 *
 * Input lines: "d NAME", "f NAME", "l NAME TARGET", then "? F PATH" with
 * F a digit whose bits are the ROOT_* flags.  NAMEs are relative, made
 * of [A-Za-z0-9._-/] without ".." (the fuzzer must not write outside
 * its scratch directory); targets and the path are anything.
 */
#include <stdint.h>
#include <sys/stat.h>

#include "lib/fsutil.h"
#include "lib/rootfs.h"

#define MAX_ENTRIES 24

static char *scratch;
static unsigned long seq;

static void drop_scratch(void)
{
	if (scratch)
		remove_tree(scratch);
}

static bool name_ok(const char *n)
{
	if (!*n || *n == '/' || strstr(n, ".."))
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-/", *p)))
			return false;
	return true;
}

static void make_entry(const char *root, char *line)
{
	char kind = line[0], *name = line + 2, *target = NULL;
	_cleanup_(freep) char *host = NULL;

	if (kind == 'l') {
		target = strchr(name, ' ');
		if (!target)
			return;
		*target++ = '\0';
	}
	if (!name_ok(name))
		return;
	host = path_join(root, name);
	if (!host)
		return;
	if (strrchr(host, '/') > host + strlen(root)) {
		char *slash = strrchr(host, '/');

		*slash = '\0';
		make_dirs(host, 0755);
		*slash = '/';
	}
	if (kind == 'd')
		mkdir(host, 0755);
	else if (kind == 'f')
		write_file_atomic(host, "x", 1, 0644);
	else if (kind == 'l')
		(void)symlink(target, host);
}

static bool canon_sane(const char *c)
{
	if (c[0] != '/' || strstr(c, "//") || strstr(c, "/./") ||
	    strstr(c, "/../"))
		return false;
	if (strlen(c) > 1 && c[strlen(c) - 1] == '/')
		return false;
	if (strlen(c) >= 3 && streq(c + strlen(c) - 3, "/.."))
		return false;
	return !(strlen(c) >= 2 && streq(c + strlen(c) - 2, "/."));
}

static void resolve(const char *root, const char *q)
{
	_cleanup_(freep) char *fast = NULL, *walk = NULL, *host = NULL;
	_cleanup_(freep) char *rroot = realpath(root, NULL);
	unsigned flags;
	int a, b;

	if (q[0] < '0' || q[0] > '3' || q[1] != ' ' || !rroot)
		return;
	flags = (unsigned)(q[0] - '0');
	q += 2;
	a = root_canon(root, q, flags, &fast);
	b = root_canon_walk(root, q, flags, &walk);
	if ((a == 0) != (b == 0))
		__builtin_trap();
	if (a == 0 && (!streq(fast, walk) || !canon_sane(fast)))
		__builtin_trap();
	if (root_path(root, q, &host) == 0 && !startswith(host, rroot))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(freep) char *text = strndup((const char *)data, size);
	_cleanup_(freep) char *root = NULL;
	size_t entries = 0;

	if (!text)
		return 0;
	if (!scratch) {
		const char *t = getenv("TMPDIR");

		scratch = xasprintf("%s/fuzz-rootfs.XXXXXX", t ? t : "/tmp");
		if (!scratch || !mkdtemp(scratch))
			abort();
		atexit(drop_scratch);
	}
	root = xasprintf("%s/%lu", scratch, seq++);
	if (!root || mkdir(root, 0755) < 0)
		return 0;
	for (char *l = text; l && *l;) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = '\0';
		if (l[0] == '?' && l[1] == ' ')
			resolve(root, l + 2);
		else if (strchr("dfl", l[0]) && l[0] && l[1] == ' ' &&
			 entries++ < MAX_ENTRIES)
			make_entry(root, l);
		l = nl ? nl + 1 : NULL;
	}
	remove_tree(root);
	return 0;
}
