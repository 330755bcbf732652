// SPDX-License-Identifier: GPL-2.0
/*
 * dkb_scriptfail: a DKMS test package whose PRE_BUILD and POST_BUILD
 * scripts fail; the module itself builds.
 */
#include <linux/module.h>

static int __init dkb_scriptfail_init(void)
{
	return 0;
}

static void __exit dkb_scriptfail_exit(void)
{
}

module_init(dkb_scriptfail_init);
module_exit(dkb_scriptfail_exit);

MODULE_DESCRIPTION("dkms-boot test module with failing build scripts");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
