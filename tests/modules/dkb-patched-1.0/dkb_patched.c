// SPDX-License-Identifier: GPL-2.0
/*
 * dkb_patched: a DKMS test package that only builds once dkms has applied
 * its patches (see dkms.conf).  modinfo shows which ones were applied:
 * version "1.0-patched" (PATCH[0]) and dkb_patch "kernel-55" or
 * "kernel-56" (PATCH_MATCH).
 */
#include <linux/module.h>

#error "patches/0001-build-fix.patch was not applied"

static int __init dkb_patched_init(void)
{
	return 0;
}

static void __exit dkb_patched_exit(void)
{
}

module_init(dkb_patched_init);
module_exit(dkb_patched_exit);

MODULE_DESCRIPTION("dkms-boot test module built from patched source");
MODULE_AUTHOR("dkms-boot tests");
MODULE_VERSION("1.0-unpatched");
MODULE_INFO(dkb_patch, "none");
MODULE_LICENSE("GPL");
