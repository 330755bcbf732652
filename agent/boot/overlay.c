// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The overlay over a kernel's module tree.  Its upper layer only ever
 * holds what the agent added (new modules, regenerated indexes), so the
 * root's own files stay untouched below it and persist can write them
 * beneath the overlay, then drop it.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "boot/overlay.h"
#include "lib/child.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/rootfs.h"

void overlay_free(struct overlay *ov)
{
	free(ov->target);
	free(ov->upper);
	free(ov->work);
	*ov = (struct overlay){0};
}

/* overlayfs splits its options on ',' and lowerdir on ':'. */
static bool option_safe(const char *path)
{
	return !strpbrk(path, ",:\\ \t\n");
}

/* Mounted already with our upper layer?  (a second run of the phase) */
static bool already_mounted(const struct overlay *ov)
{
	_cleanup_(freep) char *info = NULL, *needle = NULL;
	size_t len = 0;

	if (read_file("/proc/self/mountinfo", 1 << 22, &info, &len) < 0)
		return false;
	needle = xasprintf("upperdir=%s,", ov->upper);
	for (char *line = info, *nl; line && *line; line = nl) {
		char *mnt = line, *end;

		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		/* id parent maj:min root mountpoint ... - fstype source opts */
		for (int i = 0; i < 4 && mnt; i++)
			mnt = strchr(mnt, ' ') ? strchr(mnt, ' ') + 1 : NULL;
		end = mnt ? strchr(mnt, ' ') : NULL;
		if (end && (size_t)(end - mnt) == strlen(ov->target) &&
		    !strncmp(mnt, ov->target, (size_t)(end - mnt)) &&
		    strstr(end, " - overlay ") && needle && strstr(end, needle))
			return true;
	}
	return false;
}

int overlay_mount(const char *root, const char *kver, const char *state_dir,
		  struct overlay *ov)
{
	_cleanup_(freep) char *rel = xasprintf("/lib/modules/%s", kver);
	_cleanup_(freep) char *opts = NULL;
	struct stat st;
	int r;

	*ov = (struct overlay){0};
	if (!rel)
		return -ENOMEM;
	r = root_path(root, rel, &ov->target);
	if (r < 0 || stat(ov->target, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_info("overlay: the root has no %s: no overlay", rel);
		overlay_free(ov);
		return -ENOENT;
	}
	ov->upper = xasprintf("%s/overlay/%s/upper", state_dir, kver);
	ov->work = xasprintf("%s/overlay/%s/work", state_dir, kver);
	if (!ov->upper || !ov->work)
		return overlay_free(ov), -ENOMEM;
	if (!option_safe(ov->target) || !option_safe(ov->upper)) {
		log_warn("overlay: %s or %s has a character overlayfs options "
			 "cannot carry",
			 ov->target, ov->upper);
		return overlay_free(ov), -EINVAL;
	}
	if (already_mounted(ov))
		return 0;
	if ((r = make_dirs(ov->upper, 0755)) < 0 ||
	    (r = make_dirs(ov->work, 0755)) < 0) {
		log_warn("overlay: cannot make %s: %s", ov->upper,
			 strerror(-r));
		return overlay_free(ov), r;
	}
	opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", ov->target,
			 ov->upper, ov->work);
	if (!opts)
		return overlay_free(ov), -ENOMEM;
	if (mount("dkms-boot", ov->target, "overlay", MS_NOSUID | MS_NODEV,
		  opts) < 0) {
		r = -errno;
		log_warn("overlay: cannot mount over %s: %s", ov->target,
			 strerror(-r));
		return overlay_free(ov), r;
	}
	log_info("overlay: %s now shows %s on top", ov->target, ov->upper);
	return 0;
}

int modtree_put(const char *dir, const char *relpath, const char *src)
{
	_cleanup_(freep) char *dst = path_join(dir, relpath);
	_cleanup_(freep) char *parent = NULL;
	int r;

	if (!dst)
		return -ENOMEM;
	if (strstr(relpath, "..") || relpath[0] == '/')
		return -EINVAL;
	parent = strdup(dst);
	if (!parent)
		return -ENOMEM;
	*strrchr(parent, '/') = '\0';
	r = make_dirs(parent, 0755);
	if (r < 0)
		return r;
	r = copy_file_atomic(src, dst);
	if (r < 0)
		return r;
	return chmod(dst, 0644) < 0 ? -errno : 0;
}

int modtree_depmod(const char *depmod_path, const char *root, const char *kver,
		   int log_fd, unsigned timeout_ms)
{
	char *argv[] = {
		(char *)depmod_path, "-b", (char *)(root ? root : "/"), "-a",
		(char *)kver,	     NULL};
	unsigned long long t0 = now_ns();
	int r = child_run(argv, log_fd, timeout_ms);

	if (r == 0) {
		log_info("depmod %s: indexes regenerated in %llu ms", kver,
			 (now_ns() - t0) / 1000000);
		return 0;
	}
	if (r == -ETIME)
		log_warn("depmod %s: killed at the time limit (%u ms)", kver,
			 timeout_ms);
	else
		log_warn("depmod %s failed (%s %d)", kver,
			 r < 0 ? "error" : "exit", r < 0 ? -r : r);
	return r < 0 ? r : -EPROTO;
}

int overlay_unmount(const char *target)
{
	if (umount2(target, MNT_DETACH) < 0) {
		int r = -errno;

		log_warn("overlay: cannot detach %s: %s", target, strerror(-r));
		return r;
	}
	return 0;
}
