/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Common includes for the cmocka unit tests. */
#ifndef DKMS_BOOT_UNIT_H
#define DKMS_BOOT_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/wait.h>

#include "lib/util.h"

/* A fresh scratch directory under $TMPDIR (or /tmp) for one test. */
static inline char *unit_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *t = xasprintf("%s/dkms-boot-unit.XXXXXX", base ? base : "/tmp");

	if (t && !mkdtemp(t)) {
		free(t);
		return NULL;
	}
	return t;
}

/* Run a shell command built from fmt; its exit status, -1 otherwise. */
static inline int unit_sh(const char *fmt, ...) _printf_(1, 2);
static inline int unit_sh(const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Build a minimal module (hello.ko) with Kbuild in dir against the
 * headers at kbuild.  Returns the module's path (malloc'd) or NULL.
 */
static inline char *unit_build_hello(const char *dir, const char *kbuild)
{
	if (unit_sh("cd '%s' && printf '%%s\\n' '#include <linux/module.h>' "
		    "'static int __init hello_init(void) { return 0; }' "
		    "'static void __exit hello_exit(void) { }' "
		    "'module_init(hello_init);' 'module_exit(hello_exit);' "
		    "'MODULE_LICENSE(\"GPL\");' > hello.c && "
		    "echo 'obj-m := hello.o' > Kbuild && "
		    "make -s -C '%s' M='%s' modules > build.log 2>&1",
		    dir, kbuild, dir) != 0)
		return NULL;
	return path_join(dir, "hello.ko");
}

#endif
