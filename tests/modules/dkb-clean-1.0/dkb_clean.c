// SPDX-License-Identifier: GPL-2.0
/*
 * dkb_clean: a DKMS test package that builds only after dkms.conf's CLEAN
 * command has run (it deletes dkb_stale.h, which stops the compile).
 */
#include <linux/module.h>

#if __has_include("dkb_stale.h")
#include "dkb_stale.h"
#endif

static int __init dkb_clean_init(void)
{
	return 0;
}

static void __exit dkb_clean_exit(void)
{
}

module_init(dkb_clean_init);
module_exit(dkb_clean_exit);

MODULE_DESCRIPTION("dkms-boot test module that needs CLEAN before make");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
