// SPDX-License-Identifier: GPL-2.0
/*
 * dkb_broken: a DKMS test package that never compiles, to exercise the
 * "build failed" paths (dkms leaves the package merely added).  The error
 * below is deliberate: dkb_no_such_variable is declared nowhere.
 */
#include <linux/module.h>

static int __init dkb_broken_init(void)
{
	return dkb_no_such_variable;
}

static void __exit dkb_broken_exit(void)
{
}

module_init(dkb_broken_init);
module_exit(dkb_broken_exit);

MODULE_DESCRIPTION("dkms-boot test module that fails to build");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
