// SPDX-License-Identifier: GPL-2.0
/*
 * dkb_scripts: a DKMS test package whose PRE_BUILD script generates a
 * header this file needs (dkb_generated.h is not in the source).
 * modinfo's dkb_generated field shows the kernel release it was given.
 */
#include <linux/module.h>

#include "dkb_generated.h"

static int __init dkb_scripts_init(void)
{
	return 0;
}

static void __exit dkb_scripts_exit(void)
{
}

module_init(dkb_scripts_init);
module_exit(dkb_scripts_exit);

MODULE_DESCRIPTION("dkms-boot test module with PRE_BUILD and POST_BUILD");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_INFO(dkb_generated, DKB_GENERATED_FOR);
MODULE_LICENSE("GPL");
