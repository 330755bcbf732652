// SPDX-License-Identifier: GPL-2.0
/* dkb_link: carrier of attacks-engine.sh's dkb-link case (see dkms.conf). */
#include <linux/module.h>

MODULE_DESCRIPTION("dkms-boot test module");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-dkb");
MODULE_LICENSE("GPL");
