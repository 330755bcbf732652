// SPDX-License-Identifier: GPL-2.0
/* dkb_excl: a DKMS test package excluded (BUILD_EXCLUSIVE_KERNEL) from every test kernel. */
#include <linux/module.h>

static int __init dkb_excl_init(void)
{
	return 0;
}

static void __exit dkb_excl_exit(void)
{
}

module_init(dkb_excl_init);
module_exit(dkb_excl_exit);

MODULE_DESCRIPTION("dkms-boot test module");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
