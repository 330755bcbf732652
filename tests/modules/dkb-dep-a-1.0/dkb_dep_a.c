// SPDX-License-Identifier: GPL-2.0
/* dkb_dep_a: the dependent in the BUILD_DEPENDS test pair. */
#include <linux/module.h>

static int __init dkb_dep_a_init(void)
{
	return 0;
}

static void __exit dkb_dep_a_exit(void)
{
}

module_init(dkb_dep_a_init);
module_exit(dkb_dep_a_exit);

MODULE_DESCRIPTION("dkms-boot test module");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
