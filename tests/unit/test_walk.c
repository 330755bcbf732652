// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The directory walker and the tree operations built on it: no depth
 * limit, a bounded number of descriptors, never a symlink followed below
 * the top, never a mount crossed when asked not to.
 */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "unit.h"
#include "lib/buffer.h"
#include "lib/fsutil.h"
#include "lib/walk.h"

static char *tmp;

/* tmpfs: deep trees are tens of thousands of directory operations,
 * which a loaded disk makes take minutes. */
static char *scratch;

static int group_setup(void **state)
{
	scratch = unit_tmpdir();
	if (!scratch ||
	    mount("dkms-boot-unit", scratch, "tmpfs", 0, "size=256m") < 0) {
		print_error("mount tmpfs: %s (the test needs root)\n",
			    strerror(errno));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	int r = umount(scratch) == 0 && rmdir(scratch) == 0 ? 0 : -1;

	free(scratch);
	return r;
}

static int setup(void **state)
{
	tmp = path_join(scratch, "t");
	return tmp && mkdir(tmp, 0700) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	/* rm -rf as the reference, not the code under test. */
	assert_int_equal(unit_sh("rm -rf '%s'", tmp), 0);
	free(tmp);
	tmp = NULL;
	return 0;
}

static char *at(const char *rel)
{
	char *p = path_join(tmp, rel);

	assert_non_null(p);
	return p;
}

static void put_file(const char *rel, const char *text, mode_t mode)
{
	_cleanup_(freep) char *p = at(rel);
	_cleanup_(closep) int fd =
		open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
}

static void mk(const char *rel)
{
	_cleanup_(freep) char *p = at(rel);

	assert_int_equal(make_dirs(p, 0755), 0);
}

static bool exists(const char *rel)
{
	_cleanup_(freep) char *p = at(rel);
	struct stat st;

	return lstat(p, &st) == 0;
}

/*
 * top/d/d/.../d (depth directories below top) with a file "leaf" at the
 * bottom, made by descriptor: its paths are far beyond PATH_MAX.
 */
static void make_deep(const char *rel, size_t depth)
{
	_cleanup_(freep) char *top = at(rel);
	int fd, sub;

	assert_int_equal(mkdir(top, 0755), 0);
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (size_t i = 0; i < depth; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(sub >= 0);
		close(fd);
		fd = sub;
	}
	sub = openat(fd, "leaf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(sub >= 0);
	assert_int_equal(write(sub, "bottom\n", 7), 7);
	close(sub);
	close(fd);
	if (depth >= PATH_MAX / 2)
		assert_true(depth * 2 + strlen(top) > PATH_MAX);
}

/* How deep top/d/d/... goes, checked by descriptor; the leaf's text. */
static size_t measure_deep(const char *rel, char *leaf, size_t leaf_len)
{
	_cleanup_(freep) char *top = at(rel);
	int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC), sub;
	size_t depth = 0;
	ssize_t n;

	assert_true(fd >= 0);
	while ((sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
	       0) {
		close(fd);
		fd = sub;
		depth++;
	}
	sub = openat(fd, "leaf", O_RDONLY | O_CLOEXEC);
	leaf[0] = '\0';
	if (sub >= 0) {
		n = read(sub, leaf, leaf_len - 1);
		leaf[n > 0 ? n : 0] = '\0';
		close(sub);
	}
	close(fd);
	return depth;
}

/* A few descriptors only, whatever the depth: a tree deeper than the
 * descriptor limit must still go. */
static void low_fd_limit(struct rlimit *old)
{
	struct rlimit lim;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, old), 0);
	lim = *old;
	lim.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
}

/* The cleanup that a deep tree cannot defeat: 10000 levels. */
static void test_remove_deep_tree(void **state)
{
	struct rlimit old;
	int r;

	make_deep("deep", 10000);
	low_fd_limit(&old);
	r = remove_tree(tmp);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r, 0);
	assert_false(access(tmp, F_OK) == 0);
	/* teardown's rm -rf needs it back */
	assert_int_equal(mkdir(tmp, 0700), 0);
}

static void test_remove_5000_deep_below_top(void **state)
{
	_cleanup_(freep) char *top = at("t");
	char leaf[16];

	mk("t");
	make_deep("t/deep", 5000);
	put_file("t/f", "x", 0644);
	assert_int_equal(measure_deep("t/deep", leaf, sizeof(leaf)), 5000);
	assert_int_equal(remove_tree(top), 0);
	assert_false(exists("t"));
}

static void test_copy_deep_tree(void **state)
{
	_cleanup_(freep) char *src = at("src"), *dst = at("dst");
	struct rlimit old;
	char leaf[16];
	int r;

	make_deep("src", 5000);
	low_fd_limit(&old);
	r = copy_tree(src, dst, 1 << 20);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r, 0);
	assert_int_equal(measure_deep("dst", leaf, sizeof(leaf)), 5000);
	assert_string_equal(leaf, "bottom\n");
	/* and the source is untouched */
	assert_int_equal(measure_deep("src", leaf, sizeof(leaf)), 5000);
}

/* A link to a directory outside is removed, never followed. */
static void test_remove_never_follows_links(void **state)
{
	_cleanup_(freep) char *t = at("t"), *outside = at("outside");
	_cleanup_(freep) char *link = at("t/a/out");
	_cleanup_(freep) char *top_link = at("toplink");

	mk("outside/keep");
	put_file("outside/keep/file", "precious", 0644);
	mk("t/a");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(remove_tree(t), 0);
	assert_false(exists("t"));
	assert_true(exists("outside/keep/file"));

	/* The top itself, when a link, is the link. */
	assert_int_equal(symlink(outside, top_link), 0);
	assert_int_equal(remove_tree(top_link), 0);
	assert_false(exists("toplink"));
	assert_true(exists("outside/keep/file"));
	assert_int_equal(remove_tree(top_link), 0); /* gone: not an error */
}

/* A file system mounted inside is refused and left whole. */
static void test_remove_stops_at_mounts(void **state)
{
	_cleanup_(freep) char *t = at("t"), *mnt = at("t/b/mnt");
	int r;

	mk("t/b/mnt");
	put_file("t/a", "a", 0644);
	if (mount("dkms-boot-unit", mnt, "tmpfs", 0, "size=1m") < 0)
		fail_msg("mount tmpfs on %s: %s (the test needs root)", mnt,
			 strerror(errno));
	put_file("t/b/mnt/inside", "keep", 0644);
	r = remove_tree(t);
	assert_int_equal(r, -EXDEV);
	assert_true(exists("t/b/mnt/inside"));
	assert_int_equal(umount(mnt), 0);
	assert_int_equal(remove_tree(t), 0);
	assert_false(exists("t"));
}

struct trace {
	struct buffer log;
	int skip_dir; /* WALK_SKIP for a directory named "skip" */
	size_t max_fds;
};

static size_t open_fds(void)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	return n;
}

static int trace_cb(const struct walk_entry *e, void *userdata)
{
	static const char ev[] = "FPQO";
	struct trace *t = userdata;
	const char *rel = e->path + strlen(tmp);
	struct stat st;

	/* The entry is reachable as promised: dirfd + name, and fd. */
	assert_int_equal(fstatat(e->dirfd, e->name, &st, AT_SYMLINK_NOFOLLOW),
			 0);
	assert_int_equal(st.st_ino, e->st->st_ino);
	if (e->event == WALK_DIR_PRE || e->event == WALK_DIR_POST) {
		assert_int_equal(fstat(e->fd, &st), 0);
		assert_int_equal(st.st_ino, e->st->st_ino);
	}
	if (e->event == WALK_DIR_PRE && endswith(e->path, "/skip"))
		return WALK_SKIP;
	assert_int_equal(buffer_appendf(&t->log, "%c%zu%s\n", ev[e->event],
					e->depth, rel),
			 0);
	return 0;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The events, in order within each directory (sorted per line set). */
static void test_walk_events(void **state)
{
	_cleanup_(freep) char *outside = at("outside"), *t = at("t");
	_cleanup_(freep) char *link = at("t/a/lnk");
	_cleanup_(buffer_freep) struct buffer sorted = {0};
	struct trace tr = {0};
	char *lines[32], *save = NULL, *l;
	size_t n = 0;

	mk("outside/secret");
	mk("t/a/b");
	mk("t/skip/x");
	put_file("t/a/b/f", "f", 0600);
	put_file("t/g", "g", 0600);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(walk_tree(AT_FDCWD, t, 0, trace_cb, &tr), 0);
	/* Order: P before its entries, Q after them. */
	assert_true(strstr(tr.log.data, "P0/t\n") == tr.log.data);
	assert_true(endswith(tr.log.data, "Q0/t\n"));
	assert_true(strstr(tr.log.data, "P1/t/a\n") <
		    strstr(tr.log.data, "P2/t/a/b\n"));
	assert_true(strstr(tr.log.data, "F3/t/a/b/f\n") <
		    strstr(tr.log.data, "Q2/t/a/b\n"));
	assert_true(strstr(tr.log.data, "Q2/t/a/b\n") <
		    strstr(tr.log.data, "Q1/t/a\n"));
	for (l = strtok_r(tr.log.data, "\n", &save); l && n < 32;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(*lines), cmp_lines);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buffer_appendf(&sorted, "%s\n", lines[i]), 0);
	/* The link is an entry, its target is never entered; skip is
	 * neither entered nor left. */
	assert_string_equal(sorted.data, "F1/t/g\n"
					 "F2/t/a/lnk\n"
					 "F3/t/a/b/f\n"
					 "P0/t\n"
					 "P1/t/a\n"
					 "P2/t/a/b\n"
					 "Q0/t\n"
					 "Q1/t/a\n"
					 "Q2/t/a/b\n");
	buffer_free(&tr.log);

	/* A missing top is -ENOENT; a file top is one WALK_FILE. */
	assert_int_equal(
		walk_tree(AT_FDCWD, "/nonexistent/x", 0, trace_cb, &tr),
		-ENOENT);
	{
		_cleanup_(freep) char *g = at("t/g");

		assert_int_equal(walk_tree(AT_FDCWD, g, 0, trace_cb, &tr), 0);
		assert_string_equal(tr.log.data, "F0/t/g\n");
	}
	buffer_free(&tr.log);
}

static int count_fds_cb(const struct walk_entry *e, void *userdata)
{
	struct trace *t = userdata;

	if (e->event == WALK_FILE) {
		size_t n = open_fds();

		if (n > t->max_fds)
			t->max_fds = n;
	}
	return 0;
}

/* Descriptors held at the bottom of a deep tree: bounded. */
static void test_walk_bounded_fds(void **state)
{
	_cleanup_(freep) char *top = at("deep");
	struct trace tr = {0};
	size_t before = open_fds();

	make_deep("deep", 3000);
	assert_int_equal(walk_tree(AT_FDCWD, top, 0, count_fds_cb, &tr), 0);
	assert_true(tr.max_fds > before);
	assert_true(tr.max_fds < before + 24);
	assert_int_equal(open_fds(), before); /* none leaked */
}

static int stop_cb(const struct walk_entry *e, void *userdata)
{
	return e->event == WALK_FILE ? -EIO : 0;
}

static void test_walk_stops_on_error(void **state)
{
	_cleanup_(freep) char *top = at("deep");
	size_t before = open_fds();

	make_deep("deep", 200);
	assert_int_equal(walk_tree(AT_FDCWD, top, 0, stop_cb, NULL), -EIO);
	assert_int_equal(open_fds(), before);
}

static int find_leaf_cb(const struct walk_entry *e, void *userdata)
{
	int *calls = userdata;

	(*calls)++;
	return e->event == WALK_FILE && streq(e->name, "leaf") ? WALK_STOP : 0;
}

/* A search stops where it finds: no more callbacks, nothing left open. */
static void test_walk_stop(void **state)
{
	_cleanup_(freep) char *top = at("deep");
	size_t before = open_fds();
	int calls = 0;

	make_deep("deep", 50);
	assert_int_equal(walk_tree(AT_FDCWD, top, 0, find_leaf_cb, &calls),
			 WALK_STOP);
	assert_int_equal(calls, 51 + 1); /* 51 directories entered, leaf */
	assert_int_equal(open_fds(), before);
}

struct mover {
	const char *from, *to;
	bool moved;
};

/* Deep down, move a shallow part of the tree elsewhere. */
static int move_cb(const struct walk_entry *e, void *userdata)
{
	struct mover *m = userdata;

	if (e->event == WALK_FILE && !m->moved) {
		assert_int_equal(rename(m->from, m->to), 0);
		m->moved = true;
	}
	return 0;
}

/*
 * Going back up through ".." must land where the walk came from: a tree
 * moved under the walk stops it (-ESTALE) rather than carrying on in
 * some other directory (for rm -r: removing what it was not asked to).
 */
static void test_walk_moved_tree_is_stale(void **state)
{
	_cleanup_(freep) char *top = at("deep"), *from = at("deep/d/d/d");
	_cleanup_(freep) char *to = at("elsewhere");
	struct mover m = {from, to, false};

	make_deep("deep", 100);
	assert_int_equal(walk_tree(AT_FDCWD, top, 0, move_cb, &m), -ESTALE);
	assert_true(m.moved);
	/* rm -r of the same: stops, removes nothing outside its tree */
	assert_int_equal(rename(to, from), 0);
	m.moved = false;
	assert_int_equal(walk_tree(AT_FDCWD, top, 0, move_cb, &m), -ESTALE);
}

static void test_copy_tree_contents(void **state)
{
	_cleanup_(freep) char *src = at("src"), *dst = at("dst");
	_cleanup_(freep) char *src_link = at("srclink"), *dst2 = at("dst2");
	_cleanup_(freep) char *lnk = at("src/sub/lnk"), *fifo = at("src/fifo");
	_cleanup_(freep) char *dst3 = at("dst3"), *dst4 = at("dst4");
	_cleanup_(freep) char *f = at("src/f"), *cf = at("dst/f");
	struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};
	struct stat a, b;
	char target[64];
	ssize_t n;

	mk("src/sub/ro");
	put_file("src/f", "0123456789", 0751);
	put_file("src/sub/ro/g", "g", 0400);
	assert_int_equal(symlink("../f", lnk), 0);
	assert_int_equal(utimensat(AT_FDCWD, f, ts, 0), 0);
	_cleanup_(freep) char *ro = at("src/sub/ro");
	assert_int_equal(chmod(ro, 0555), 0);
	assert_int_equal(utimensat(AT_FDCWD, ro, ts, 0), 0);

	assert_int_equal(copy_tree(src, dst, 1 << 20), 0);
	assert_int_equal(files_equal(f, cf), 1);
	assert_int_equal(lstat(cf, &a), 0);
	assert_int_equal(a.st_mode & 07777, 0751);
	assert_int_equal(a.st_mtim.tv_sec, 1000000);
	_cleanup_(freep) char *cro = at("dst/sub/ro");
	assert_int_equal(lstat(cro, &b), 0);
	assert_int_equal(b.st_mode & 07777, 0555);
	assert_int_equal(b.st_mtim.tv_sec, 1000000);
	_cleanup_(freep) char *clnk = at("dst/sub/lnk");
	n = readlink(clnk, target, sizeof(target) - 1);
	assert_int_equal(n, 4);
	target[n] = '\0';
	assert_string_equal(target, "../f");

	/* The top may be a link; dst must not exist. */
	assert_int_equal(symlink(src, src_link), 0);
	assert_int_equal(copy_tree(src_link, dst2, 1 << 20), 0);
	assert_true(exists("dst2/sub/ro/g"));
	assert_int_equal(copy_tree(src, dst2, 1 << 20), -EEXIST);
	assert_int_equal(copy_tree(f, dst3, 1 << 20), -ENOTDIR);

	/* The budget counts every byte. */
	assert_int_equal(copy_tree(src, dst3, 10), -EFBIG);
	/* A FIFO is refused. */
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(copy_tree(src, dst4, 1 << 20), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_remove_deep_tree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remove_5000_deep_below_top,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_deep_tree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remove_never_follows_links,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_stops_at_mounts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_bounded_fds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_stops_on_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_stop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_moved_tree_is_stale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_tree_contents, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
