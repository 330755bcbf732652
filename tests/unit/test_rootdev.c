// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finding the root from root= with libblkid over real filesystem images
 * (mke2fs, mkfs.xfs, mkfs.btrfs, a GPT made by sfdisk), and mounting it
 * read-only without journal replay through a loop device, in a private
 * mount namespace.
 */
#include <sched.h>
#include <sys/mount.h>

#include "unit.h"
#include "boot/rootdev.h"

#define UUID_EXT4 "4f3b2c1a-0d9e-4c8b-a7f6-5e4d3c2b1a09"
#define PARTUUID  "7a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"

static char *dir, *ext4, *xfs, *btrfs, *gpt, *twin;

static int setup(void **state)
{
	dir = unit_tmpdir();
	ext4 = xasprintf("%s/ext4.img", dir);
	xfs = xasprintf("%s/xfs.img", dir);
	btrfs = xasprintf("%s/btrfs.img", dir);
	gpt = xasprintf("%s/gpt.img", dir);
	twin = xasprintf("%s/twin.img", dir);
	if (unit_sh("cd '%s' && truncate -s 32M ext4.img && "
		    "mke2fs -q -t ext4 -L testroot -U " UUID_EXT4
		    " ext4.img && "
		    "cp ext4.img twin.img && "
		    "truncate -s 320M xfs.img && mkfs.xfs -q -L xfsroot "
		    "xfs.img && "
		    "truncate -s 128M btrfs.img && "
		    "mkfs.btrfs -q -L btrroot btrfs.img >/dev/null && "
		    "truncate -s 40M gpt.img && "
		    "printf 'label: gpt\\nstart=2048, size=40960, "
		    "name=rootpart, "
		    "uuid=" PARTUUID "\\n' | sfdisk -q gpt.img && "
		    "mke2fs -q -t ext4 -L inpart -E offset=1048576 gpt.img 20M",
		    dir)) {
		fail_msg("making the images failed: needs e2fsprogs, xfsprogs, "
			 "btrfs-progs, fdisk (scripts/install-deps.sh)");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	unit_sh("rm -rf '%s'", dir);
	free(dir), free(ext4), free(xfs), free(btrfs), free(gpt), free(twin);
	return 0;
}

static void test_spec_parse(void **state)
{
	struct root_spec s;

	assert_int_equal(root_spec_parse("UUID=" UUID_EXT4, &s), 0);
	assert_int_equal(s.kind, ROOT_UUID);
	assert_string_equal(s.value, UUID_EXT4);
	assert_int_equal(root_spec_parse("LABEL=\"my root\"", &s), 0);
	assert_int_equal(s.kind, ROOT_LABEL);
	assert_string_equal(s.value, "my root");
	assert_int_equal(root_spec_parse("PARTUUID=" PARTUUID, &s), 0);
	assert_int_equal(s.kind, ROOT_PARTUUID);
	assert_int_equal(root_spec_parse("PARTLABEL=rootpart", &s), 0);
	assert_int_equal(s.kind, ROOT_PARTLABEL);
	assert_int_equal(root_spec_parse("/dev/vda1", &s), 0);
	assert_int_equal(s.kind, ROOT_PATH);
	/* Not a local block device: the agent goes on without a root. */
	assert_int_equal(root_spec_parse("/dev/nfs", &s), -ENOTBLK);
	assert_int_equal(root_spec_parse("nfs:10.0.2.2:/srv/root", &s),
			 -ENOTBLK);
	assert_int_equal(root_spec_parse("zfs=rpool/ROOT", &s), -ENOTBLK);
	assert_int_equal(root_spec_parse("tmpfs", &s), -ENOTBLK);
	/* Malformed. */
	assert_int_equal(root_spec_parse("", &s), -EINVAL);
	assert_int_equal(root_spec_parse("UUID=", &s), -EINVAL);
	assert_int_equal(root_spec_parse("LABEL=\"\"", &s), -EINVAL);
	assert_int_equal(root_spec_parse("vda1", &s), -EINVAL);
	assert_int_equal(root_spec_parse("LABEL=a\nb", &s), -EINVAL);
	char big[400];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "LABEL=", 6);
	assert_int_equal(root_spec_parse(big, &s), -EINVAL);
}

static void find(const char *spec, char **cands, int want, const char *dev,
		 const char *type)
{
	struct root_spec s;
	struct root_found f;

	assert_int_equal(root_spec_parse(spec, &s), 0);
	assert_int_equal(root_find(&s, cands, &f), want);
	if (want == 0) {
		assert_string_equal(f.device, dev);
		assert_string_equal(f.type, type);
	}
	root_found_free(&f);
}

static void test_find_by_every_tag(void **state)
{
	char *cands[] = {xfs, btrfs, gpt, ext4, NULL};

	find("UUID=" UUID_EXT4, cands, 0, ext4, "ext4");
	find("UUID=4F3B2C1A-0D9E-4C8B-A7F6-5E4D3C2B1A09", cands, 0, ext4,
	     "ext4");
	find("LABEL=testroot", cands, 0, ext4, "ext4");
	find("LABEL=xfsroot", cands, 0, xfs, "xfs");
	find("LABEL=btrroot", cands, 0, btrfs, "btrfs");
	find("PARTUUID=" PARTUUID, cands, 0, gpt, "ext4");
	find("PARTLABEL=rootpart", cands, 0, gpt, "ext4");
	find("LABEL=inpart", cands, 0, gpt, "ext4");
	find(xfs, cands, 0, xfs, "xfs");
	find("LABEL=nosuch", cands, -ENOENT, NULL, NULL);
	find("PARTLABEL=testroot", cands, -ENOENT, NULL, NULL);
}

static void test_cloned_disk_is_ambiguous(void **state)
{
	char *cands[] = {ext4, twin, NULL};

	find("UUID=" UUID_EXT4, cands, -ENOTUNIQ, NULL, NULL);
}

static void test_noreplay_options(void **state)
{
	assert_string_equal(root_noreplay_options("ext4"), "noload");
	assert_string_equal(root_noreplay_options("ext3"), "noload");
	assert_string_equal(root_noreplay_options("xfs"), "norecovery");
	assert_string_equal(root_noreplay_options("btrfs"), "nologreplay");
	assert_null(root_noreplay_options("reiserfs"));
	assert_null(root_noreplay_options("vfat"));
}

static void test_candidates(void **state)
{
	_cleanup_(strv_freep) char **c = NULL;
	_cleanup_(freep) char *sys = xasprintf("%s/sys-class-block", dir);

	assert_int_equal(
		unit_sh("mkdir -p %s/vda %s/vda1 %s/ram0 %s/loop0 "
			"%s/loop1/loop && touch %s/loop1/loop/backing_file",
			sys, sys, sys, sys, sys, sys),
		0);
	assert_int_equal(root_candidates(sys, &c), 0);
	assert_int_equal(strv_length(c), 3);
	assert_string_equal(c[0], "/dev/loop1");
	assert_string_equal(c[1], "/dev/vda");
	assert_string_equal(c[2], "/dev/vda1");
}

/* ext4 flagged as needing recovery: mounted, and still flagged after. */
static void test_mount_without_replay(void **state)
{
	_cleanup_(freep) char *mnt = xasprintf("%s/mnt", dir);
	_cleanup_(freep) char *loop = NULL;
	char *cands[2] = {NULL, NULL};
	struct root_spec s;
	struct root_found f;
	FILE *p;
	char buf[64] = "";

	assert_int_equal(unshare(CLONE_NEWNS), 0);
	assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	assert_int_equal(unit_sh("mkdir -p '%s' && debugfs -w -R 'feature "
				 "needs_recovery' '%s' >/dev/null 2>&1",
				 mnt, ext4),
			 0);
	_cleanup_(freep) char *cmd = xasprintf("losetup -f --show '%s'", ext4);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(buf, sizeof(buf), p));
	pclose(p);
	buf[strcspn(buf, "\n")] = '\0';
	loop = strdup(buf);
	cands[0] = loop;
	assert_int_equal(root_spec_parse("LABEL=testroot", &s), 0);
	assert_int_equal(root_find(&s, cands, &f), 0);
	assert_int_equal(root_mount_ro(&f, mnt), 0);
	assert_int_equal(unit_sh("test -d '%s/lost+found' && "
				 "grep -q ' %s ext4 ro,.*norecovery\\| %s ext4 "
				 "ro,nosuid,nodev' /proc/self/mounts",
				 mnt, mnt, mnt),
			 0);
	assert_int_equal(umount(mnt), 0);
	root_found_free(&f);
	unit_sh("losetup -d '%s'", loop);
	/* The journal was not replayed: the flag is still there. */
	assert_int_equal(unit_sh("dumpe2fs -h '%s' 2>/dev/null | grep -q "
				 "'^Filesystem features:.*needs_recovery'",
				 ext4),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_parse),
		cmocka_unit_test(test_find_by_every_tag),
		cmocka_unit_test(test_cloned_disk_is_ambiguous),
		cmocka_unit_test(test_noreplay_options),
		cmocka_unit_test(test_candidates),
		cmocka_unit_test(test_mount_without_replay),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
