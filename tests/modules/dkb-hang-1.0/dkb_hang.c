// SPDX-License-Identifier: GPL-2.0
/* dkb_hang: never built; the package's MAKE hangs (see dkms.conf). */
#include <linux/module.h>

MODULE_LICENSE("GPL");
