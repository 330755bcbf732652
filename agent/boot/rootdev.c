// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding and mounting the root from root= before the initramfs does.
 * The agent mounts it only to read (the dkms tree, headers, the cache)
 * and must leave it exactly as it was: a journal replay is a write, so
 * the mount options refuse it, and a type for which we cannot promise
 * that is not mounted at all.
 */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "boot/rootdev.h"
#include "lib/log.h"

int root_spec_parse(const char *s, struct root_spec *spec)
{
	static const struct {
		const char *prefix;
		enum root_kind kind;
	} tags[] = {
		{"UUID=", ROOT_UUID},
		{"LABEL=", ROOT_LABEL},
		{"PARTUUID=", ROOT_PARTUUID},
		{"PARTLABEL=", ROOT_PARTLABEL},
	};
	/* Network and virtual roots: the agent goes on without a root. */
	static const char *const not_local[] = {
		"nfs", "/dev/nfs", "tmpfs", "cifs", "9p", "virtiofs", "zfs",
	};
	static const char *const not_local_prefix[] = {
		"nfs:",	 "nfs4:",  "cifs:", "zfs:", "zfs=",
		"live:", "iscsi:", "nbd:",  "9p:",  "virtiofs:",
	};
	const char *v = s;

	memset(spec, 0, sizeof(*spec));
	for (size_t i = 0; i < ARRAY_SIZE(not_local); i++)
		if (streq(s, not_local[i]))
			return -ENOTBLK;
	for (size_t i = 0; i < ARRAY_SIZE(not_local_prefix); i++)
		if (startswith(s, not_local_prefix[i]))
			return -ENOTBLK;
	spec->kind = ROOT_PATH;
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++)
		if (startswith(s, tags[i].prefix)) {
			spec->kind = tags[i].kind;
			v = s + strlen(tags[i].prefix);
		}
	if (!*v || strlen(v) >= sizeof(spec->value))
		return -EINVAL;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -EINVAL;
	/* A path names a device node; anything else is not ours to guess. */
	if (spec->kind == ROOT_PATH && v[0] != '/')
		return -EINVAL;
	/* The tag may be quoted, as udev and dracut accept it. */
	if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
		snprintf(spec->value, sizeof(spec->value), "%.*s",
			 (int)strlen(v) - 2, v + 1);
		return spec->value[0] ? 0 : -EINVAL;
	}
	snprintf(spec->value, sizeof(spec->value), "%s", v);
	return 0;
}

void root_found_free(struct root_found *f)
{
	free(f->device);
	f->device = NULL;
}

static void blkid_freep(blkid_probe *pr)
{
	if (*pr)
		blkid_free_probe(*pr);
}

static void copy_tag(blkid_probe pr, const char *name, char *out, size_t len)
{
	const char *v = NULL;

	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
		snprintf(out, len, "%s", v);
}

/* Probe a filesystem at offset/size of fd; 0 when one was found. */
static int probe_fs(int fd, unsigned long long offset, unsigned long long size,
		    bool entry_details, struct root_found *f)
{
	_cleanup_(blkid_freep) blkid_probe pr = blkid_new_probe();

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)offset,
				   (blkid_loff_t)size) < 0)
		return -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(
		pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, entry_details);
	if (entry_details)
		blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	/* safeprobe: an ambivalent result (two signatures) is no match. */
	if (blkid_do_safeprobe(pr) != 0)
		return -ENOENT;
	copy_tag(pr, "TYPE", f->type, sizeof(f->type));
	copy_tag(pr, "UUID", f->uuid, sizeof(f->uuid));
	copy_tag(pr, "LABEL", f->label, sizeof(f->label));
	copy_tag(pr, "PART_ENTRY_UUID", f->partuuid, sizeof(f->partuuid));
	copy_tag(pr, "PART_ENTRY_NAME", f->partlabel, sizeof(f->partlabel));
	return f->type[0] ? 0 : -ENOENT;
}

static bool matches(const struct root_spec *spec, const struct root_found *f,
		    const char *path)
{
	switch (spec->kind) {
	case ROOT_PATH:
		return streq(spec->value, path);
	case ROOT_UUID:
		return !strcasecmp(spec->value, f->uuid);
	case ROOT_LABEL:
		return streq(spec->value, f->label);
	case ROOT_PARTUUID:
		return f->partuuid[0] && !strcasecmp(spec->value, f->partuuid);
	case ROOT_PARTLABEL:
		return f->partlabel[0] && streq(spec->value, f->partlabel);
	}
	return false;
}

/* Count a match; keep the first. */
static int take(struct root_found *found, unsigned *n, const char *path,
		const struct root_found *f)
{
	if ((*n)++)
		return 0;
	*found = *f;
	found->device = strdup(path);
	return found->device ? 0 : -ENOMEM;
}

/*
 * An image file's partitions have no device nodes: probe each one's
 * filesystem at its offset.  Real disks are not enumerated, their
 * partitions are candidates of their own (and mountable).
 */
static int probe_partitions(int fd, const char *path,
			    const struct root_spec *spec,
			    struct root_found *found, unsigned *n)
{
	_cleanup_(blkid_freep) blkid_probe pr = blkid_new_probe();
	blkid_partlist parts;
	int count;

	if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0)
		return pr ? -EIO : -ENOMEM;
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	parts = blkid_probe_get_partitions(pr);
	count = parts ? blkid_partlist_numof_partitions(parts) : 0;
	for (int i = 0; i < count; i++) {
		blkid_partition p = blkid_partlist_get_partition(parts, i);
		struct root_found f = {0};
		const char *u = blkid_partition_get_uuid(p);
		const char *name = blkid_partition_get_name(p);
		unsigned long long start =
			(unsigned long long)blkid_partition_get_start(p) * 512;
		unsigned long long size =
			(unsigned long long)blkid_partition_get_size(p) * 512;
		int r;

		if (probe_fs(fd, start, size, false, &f) < 0)
			continue;
		snprintf(f.partuuid, sizeof(f.partuuid), "%s", u ? u : "");
		snprintf(f.partlabel, sizeof(f.partlabel), "%s",
			 name ? name : "");
		f.offset = start;
		if (matches(spec, &f, "") && (r = take(found, n, path, &f)) < 0)
			return r;
	}
	return 0;
}

int root_find(const struct root_spec *spec, char *const *candidates,
	      struct root_found *found)
{
	unsigned n = 0;
	int r;

	memset(found, 0, sizeof(*found));
	for (char *const *c = candidates; c && *c; c++) {
		_cleanup_(closep) int fd =
			open(*c, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct root_found f = {0};
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			continue; /* a vanished or unreadable device */
		if (probe_fs(fd, 0, 0, S_ISBLK(st.st_mode), &f) == 0 &&
		    matches(spec, &f, *c) && (r = take(found, &n, *c, &f)) < 0)
			return r;
		if (S_ISREG(st.st_mode) &&
		    (r = probe_partitions(fd, *c, spec, found, &n)) < 0)
			return r;
	}
	if (n > 1) {
		log_warn("root: %u filesystems match '%s' (a cloned disk?); "
			 "mounting none",
			 n, spec->value);
		root_found_free(found);
		return -ENOTUNIQ;
	}
	return n ? 0 : -ENOENT;
}

/* Devices that cannot hold a root now: unbacked loop and ram disks. */
static bool skip_device(const char *sys_class_block, const char *name)
{
	_cleanup_(freep) char *backing = NULL;
	struct stat st;

	if (startswith(name, "ram") || startswith(name, "zram"))
		return true;
	if (!startswith(name, "loop"))
		return false;
	backing = xasprintf("%s/%s/loop/backing_file", sys_class_block, name);
	return !backing || stat(backing, &st) < 0;
}

int root_candidates(const char *sys_class_block, char ***out)
{
	_cleanup_(closedirp) DIR *d = opendir(sys_class_block);
	_cleanup_(strv_freep) char **list = NULL;
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' ||
		    skip_device(sys_class_block, e->d_name))
			continue;
		if (strv_pushf(&list, "/dev/%s", e->d_name) < 0)
			return -ENOMEM;
	}
	if (list)
		strv_sort_glob(list);
	*out = TAKE_PTR(list);
	return 0;
}

const char *root_noreplay_options(const char *fstype)
{
	static const struct {
		const char *type, *options;
	} known[] = {
		{"ext2", ""},
		{"ext3", "noload"},
		{"ext4", "noload"},
		{"xfs", "norecovery"},
		{"btrfs", "nologreplay"},
		{"f2fs", "norecovery"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (streq(fstype, known[i].type))
			return known[i].options;
	return NULL;
}

int root_mount_ro(const struct root_found *found, const char *target)
{
	const char *opts = root_noreplay_options(found->type);

	if (!opts) {
		log_warn("root: %s is %s: not mounted, since a read-only "
			 "mount without journal replay cannot be promised",
			 found->device,
			 found->type[0] ? found->type : "unknown");
		return -EPROTONOSUPPORT;
	}
	if (found->offset) {
		log_warn("root: %s: a partition of an image file cannot be "
			 "mounted without a loop device",
			 found->device);
		return -EOPNOTSUPP;
	}
	if (mount(found->device, target, found->type,
		  MS_RDONLY | MS_NODEV | MS_NOSUID, opts) < 0) {
		int r = -errno;

		log_warn("root: cannot mount %s (%s, ro,%s) at %s: %s",
			 found->device, found->type, opts, target,
			 strerror(-r));
		return r;
	}
	log_info("root: mounted %s (%s) read-only%s%s at %s", found->device,
		 found->type, *opts ? ", " : "", opts, target);
	return 0;
}
