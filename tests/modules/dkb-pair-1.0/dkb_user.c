// SPDX-License-Identifier: GPL-2.0
/*
 * dkb_user: the consumer half of the dkb-pair test package; it cannot load
 * unless dkb_core is loaded first.
 */
#include <linux/module.h>

int dkb_core_answer(void);

static int __init dkb_user_init(void)
{
	pr_info("dkb_user: dkb_core says %d\n", dkb_core_answer());
	return 0;
}

static void __exit dkb_user_exit(void)
{
}

module_init(dkb_user_init);
module_exit(dkb_user_exit);

MODULE_DESCRIPTION("dkms-boot test module importing a symbol");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
