// SPDX-License-Identifier: GPL-2.0
/* dkb_perms: carrier of attacks-engine.sh's dkb-perms case (see dkms.conf). */
#include <linux/module.h>

MODULE_DESCRIPTION("dkms-boot test module");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
