// SPDX-License-Identifier: GPL-2.0
/*
 * dkb_core: the provider half of the dkb-pair test package.  dkb_user
 * imports dkb_core_answer(), so depmod must order the two and a loader
 * must bring in dkb_core first, although DKMS installs them into
 * different directories (/extra and /updates).
 */
#include <linux/module.h>

static int answer = 42;
module_param(answer, int, 0444);
MODULE_PARM_DESC(answer, "Value returned by dkb_core_answer()");

int dkb_core_answer(void)
{
	return answer;
}
EXPORT_SYMBOL_GPL(dkb_core_answer);

static int __init dkb_core_init(void)
{
	pr_info("dkb_core: loaded\n");
	return 0;
}

static void __exit dkb_core_exit(void)
{
}

module_init(dkb_core_init);
module_exit(dkb_core_exit);

MODULE_DESCRIPTION("dkms-boot test module exporting a symbol");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
