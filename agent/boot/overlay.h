/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BOOT_OVERLAY_H
#define DKMS_BOOT_BOOT_OVERLAY_H

#include "lib/util.h"

/*
 * The module tree the booted system sees: a tmpfs-backed overlay over
 * <root>/lib/modules/<kver> whose upper layer lives under the state
 * directory (/run/dkms-boot, which both initramfs tools move into the new
 * root), so udev and modprobe find the new modules and indexes after
 * switch_root even when the root stays read-only or persist never runs.
 */
struct overlay {
	char *target; /* host path covered: <root>/lib/modules/<kver> */
	char *upper, *work;
};

void overlay_free(struct overlay *ov);

/*
 * Mount the overlay (or find it already mounted by an earlier run, with
 * the same upper layer).  Returns 0, -ENOENT when the root has no module
 * tree for kver, -EINVAL for paths overlayfs options cannot carry, or
 * another negative errno (reason logged).
 */
int overlay_mount(const char *root, const char *kver, const char *state_dir,
		  struct overlay *ov);

/*
 * Put the module file src at relpath (e.g. "updates/dkms/e1000.ko")
 * under dir (the overlay's target, or any module tree), mode 0644,
 * written atomically.  Returns 0 or a negative errno.
 */
int modtree_put(const char *dir, const char *relpath, const char *src);

/*
 * Regenerate the indexes of <root>/lib/modules/<kver> with kmod's depmod
 * at depmod_path, over the whole (merged) tree, so that modules.dep and
 * the .bin indexes list every module, in-tree and out-of-tree.  Output
 * goes to log_fd (-1: inherited).  Returns 0, -ETIME, or a negative
 * errno / positive depmod exit code folded to -EPROTO (reason logged).
 */
int modtree_depmod(const char *depmod_path, const char *root, const char *kver,
		   int log_fd, unsigned timeout_ms);

/* Detach the overlay at target.  Returns 0 or a negative errno. */
int overlay_unmount(const char *target);

#endif
