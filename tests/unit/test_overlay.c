// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The overlay over a root's module tree, for real: overlayfs in a private
 * mount namespace over a root directory, a Kbuild module, kmod's depmod
 * over the merged tree.
 */
#include <sched.h>
#include <sys/mount.h>

#include "unit.h"
#include "boot/overlay.h"

#define K      "6.1.0-56-amd64"
#define KBUILD "/lib/modules/" K "/build"
#define DEPMOD "/sbin/depmod"

static char *dir, *root, *tree, *state, *ko;

static int setup(void **state_)
{
	_cleanup_(freep) char *src = NULL;

	dir = unit_tmpdir();
	root = xasprintf("%s/root", dir);
	tree = xasprintf("%s/usr/lib/modules/" K, root);
	state = xasprintf("%s/run/dkms-boot", dir);
	src = xasprintf("%s/src", dir);
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fail_msg("no private mount namespace: %s", strerror(errno));
		return -1;
	}
	if (unit_sh("mkdir -p '%s' '%s/kernel/drivers' '%s/extra' && "
		    "ln -s usr/lib '%s/lib'",
		    src, tree, tree, root) ||
	    !(ko = unit_build_hello(src, KBUILD))) {
		fail_msg("setup failed (headers for " K "?)");
		return -1;
	}
	/* A root with an in-tree dkbcore and another out-of-tree module. */
	if (unit_sh("cp '%s' '%s/kernel/drivers/dkbcore.ko' && "
		    "cp '%s' '%s/extra/othermod.ko' && " DEPMOD " -b '%s' " K
		    " 2>/dev/null && find '%s' -type f | sort | xargs md5sum "
		    "> '%s/lower.sums'",
		    ko, tree, ko, tree, root, root, dir)) {
		fail_msg("depmod of the lower tree failed");
		return -1;
	}
	return 0;
}

static int teardown(void **state_)
{
	unit_sh("rm -rf '%s'", dir);
	free(dir), free(root), free(tree), free(state), free(ko);
	return 0;
}

static void test_overlay_new_module_and_indexes(void **state_)
{
	struct overlay ov, again;

	assert_int_equal(overlay_mount(root, K, state, &ov), 0);
	/* The link lib -> usr/lib was followed inside the root. */
	assert_string_equal(ov.target, tree);
	assert_int_equal(modtree_put(ov.target, "updates/dkms/dkbcore.ko", ko),
			 0);
	assert_int_equal(modtree_depmod(DEPMOD, root, K, -1, 60000), 0);
	/* The merged indexes serve the new build and keep the others. */
	assert_int_equal(
		unit_sh("cd '%s' && grep -q '^updates/dkms/dkbcore.ko:' "
			"modules.dep && grep -q '^extra/othermod.ko:' "
			"modules.dep && ! grep -q '^kernel/drivers/"
			"dkbcore.ko:' modules.dep && test -s "
			"modules.dep.bin && test \"$(stat -c %%a "
			"updates/dkms/dkbcore.ko)\" = 644",
			ov.target),
		0);
	/* Everything new is in the upper layer, nothing else is. */
	assert_int_equal(unit_sh("cd '%s' && test -f updates/dkms/dkbcore.ko "
				 "&& test -f modules.dep && ! test -e kernel "
				 "&& ! test -e extra",
				 ov.upper),
			 0);
	/* A second run finds its own overlay instead of stacking another. */
	assert_int_equal(overlay_mount(root, K, state, &again), 0);
	assert_int_equal(unit_sh("test $(grep -c ' %s ' /proc/self/mountinfo) "
				 "= 1",
				 tree),
			 0);
	overlay_free(&again);
	assert_int_equal(overlay_unmount(ov.target), 0);
	/* The root's own files never changed. */
	assert_int_equal(unit_sh("cd '%s' && find '%s' -type f | sort | "
				 "xargs md5sum | cmp - lower.sums",
				 dir, root),
			 0);
	overlay_free(&ov);
}

static void test_overlay_refusals(void **state_)
{
	struct overlay ov;
	_cleanup_(freep) char *odd = xasprintf("%s/run,odd", dir);

	assert_int_equal(overlay_mount(root, "6.1.0-99-amd64", state, &ov),
			 -ENOENT);
	assert_int_equal(overlay_mount(root, K, odd, &ov), -EINVAL);
	assert_int_equal(modtree_put(tree, "../escape.ko", ko), -EINVAL);
	assert_int_equal(modtree_put(tree, "/abs.ko", ko), -EINVAL);
}

static void test_depmod_failure_and_time_limit(void **state_)
{
	_cleanup_(freep) char *fake = xasprintf("%s/slow-depmod", dir);

	assert_int_equal(modtree_depmod("/bin/false", root, K, -1, 5000),
			 -EPROTO);
	assert_int_equal(unit_sh("printf '#!/bin/sh\\nsleep 30\\n' > '%s' && "
				 "chmod +x '%s'",
				 fake, fake),
			 0);
	unsigned long long t0 = now_ns();
	assert_int_equal(modtree_depmod(fake, root, K, -1, 300), -ETIME);
	assert_true(now_ns() - t0 < 5000000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlay_new_module_and_indexes),
		cmocka_unit_test(test_overlay_refusals),
		cmocka_unit_test(test_depmod_failure_and_time_limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
