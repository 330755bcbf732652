/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BOOT_ROOTDEV_H
#define DKMS_BOOT_BOOT_ROOTDEV_H

#include "lib/util.h"

/* The root= forms the agent understands, as the kernel and udev do. */
enum root_kind {
	ROOT_PATH,	/* /dev/vda1, /dev/disk/by-label/x */
	ROOT_UUID,	/* UUID= of the filesystem */
	ROOT_LABEL,	/* LABEL= of the filesystem */
	ROOT_PARTUUID,	/* PARTUUID= of the partition (GPT or MBR) */
	ROOT_PARTLABEL, /* PARTLABEL= of the GPT partition */
};

struct root_spec {
	enum root_kind kind;
	char value[256];
};

/*
 * Parse a root= value.  Returns 0, -EINVAL for a value that is empty,
 * too long or has control characters, or -ENOTBLK for roots that are not
 * a local block device (nfs, /dev/nfs, tmpfs, zfs=..., cifs): the
 * agent goes on without a root then.
 */
int root_spec_parse(const char *s, struct root_spec *spec);

/* What libblkid says about a filesystem (empty strings when unknown). */
struct root_found {
	char *device;		   /* the device (or file) to mount */
	unsigned long long offset; /* of the filesystem in device: 0 for a
				    * partition's own node */
	char type[32], uuid[64], label[256], partuuid[64], partlabel[256];
};

void root_found_free(struct root_found *f);

/*
 * Probe the candidates (block devices or image files) with libblkid,
 * each whole and, when it holds a partition table, each partition, and
 * return the one filesystem that spec names.  UUIDs compare without
 * case.  Returns 0, -ENOENT when none matches, -ENOTUNIQ when two do
 * (a cloned disk: mounting either could be wrong), or a negative errno.
 */
int root_find(const struct root_spec *spec, char *const *candidates,
	      struct root_found *found);

/*
 * The block devices of this system, as /dev paths from sys_class_block
 * (normally /sys/class/block): whole disks and partitions, loop and ram
 * devices without a backing file left out.
 */
int root_candidates(const char *sys_class_block, char ***out);

/*
 * The mount options that keep a read-only mount from replaying the
 * journal (ext3/ext4 noload, xfs norecovery, btrfs nologreplay), so a
 * later fsck finds the filesystem as the crash left it.  NULL for a type
 * the agent does not mount: it cannot promise that for unknown types.
 */
const char *root_noreplay_options(const char *fstype);

/* Mount found read-only, without journal replay, nodev and nosuid, at
 * target.  Returns 0 or a negative errno (reason logged). */
int root_mount_ro(const struct root_found *found, const char *target);

#endif
