/* SPDX-License-Identifier: MIT */
/*
 * sandbox-mount.c - builds the file system a handler sees, once per WOOF
 * namespace, inside that namespace's holder process (a fresh, private
 * mount namespace): a small read-only tmpfs root with read-only recursive
 * clones of the host's /usr /bin /sbin /lib* /etc (symlinks such as
 * /bin -> usr/bin are copied as symlinks), a /dev with bind mounts of
 * null zero full random urandom tty, a /proc of the namespace's own PID
 * namespace, a size-limited /tmp tmpfs, and the namespace directory at its
 * own absolute path, read-write - the only host directory a handler can
 * write. Nothing else of the host (no /home, /var, /run, /sys, no other
 * namespace's directory) exists in that tree. When woof.ko serves the
 * namespace, its device node /dev/woof/<ns> is bound at the same path, so
 * libwoof in the handler uses the kernel engine ($WOOF_NS_DEVICE names it);
 * /dev/woof/control is not (its NS_LIST would show every namespace's name
 * and directory, and the device filter denies it anyway). All sources are
 * cloned with open_tree() before anything is covered, so the namespace
 * directory itself can serve as the staging mount point.
 */
#include "sandbox-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/woof.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* Same layout as the kernel's struct mount_attr (MOUNT_ATTR_SIZE_VER0). */
struct sbx_mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from, int tofd, const char *to)
{
	return (int)syscall(SYS_move_mount, from, "", tofd, to, MOVE_MOUNT_F_EMPTY_PATH);
}

static int sys_setattr(int dfd, const char *path, unsigned flags, uint64_t set)
{
	struct sbx_mount_attr a = { .attr_set = set };
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof a);
}

static const char *const sys_dirs[] = {
	"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
};
static const char *const dev_nodes[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};

#define NSYS (sizeof sys_dirs / sizeof sys_dirs[0])
#define NDEV (sizeof dev_nodes / sizeof dev_nodes[0])

/* mkdir -p of @rel (no leading '/') below @rootfd; existing parts are fine. */
static int mkdir_p_at(int rootfd, const char *rel)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	for (char *p = buf;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (buf[0] && mkdirat(rootfd, buf, 0755) < 0 && errno != EEXIST) {
				/* A read-only parent is fine if the directory exists. */
				struct stat st;
				if (fstatat(rootfd, buf, &st, 0) < 0 || !S_ISDIR(st.st_mode))
					return errno == EROFS ? -EROFS : -ENOENT;
			}
			if (c == '\0')
				break;
			*p = c;
		}
	}
	return 0;
}

int sbx_woof_dev_path(const char *ns_dir, char *path, size_t len)
{
	struct sbx_devnum d = { 0, 0 };
	int ret = sbx_dev_woof_lookup(ns_dir, &d);
	if (ret <= 0)
		return ret;
	DIR *dir = opendir(WOOF_DEV_DIR);
	if (!dir)
		return -errno;
	struct dirent *de;
	ret = 0;
	while ((de = readdir(dir))) {
		struct stat st;
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "control"))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISCHR(st.st_mode) || major(st.st_rdev) != d.major || minor(st.st_rdev) != d.minor)
			continue;
		if ((size_t)snprintf(path, len, "%s/%s", WOOF_DEV_DIR, de->d_name) >= len) {
			ret = -ENAMETOOLONG;
			break;
		}
		ret = 1;
		break;
	}
	closedir(dir);
	return ret;
}

int sbx_build_root(const char *ns_dir, const char *alias, const char *woofdev, size_t tmp_size,
		   const char **step)
{
	int sysfd[NSYS], devfd[NDEV], nsfd = -1, aliasfd = -1, rootfd = -1, ddir = -1, wdfd = -1;
	char link[NSYS][256];
	char path[PATH_MAX + 16];
	int err = 0;

	for (size_t i = 0; i < NSYS; i++) {
		sysfd[i] = -1;
		link[i][0] = '\0';
	}
	for (size_t i = 0; i < NDEV; i++)
		devfd[i] = -1;
#define FAIL(what) do { *step = (what); err = -errno; goto out; } while (0)

	*step = "make / private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL("make the mount tree private (mount / MS_REC|MS_PRIVATE)");

	/* Clone every source before anything gets covered. */
	for (size_t i = 0; i < NSYS; i++) {
		struct stat st;
		snprintf(path, sizeof path, "/%s", sys_dirs[i]);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(path, link[i], sizeof link[i] - 1);
			link[i][n > 0 ? n : 0] = '\0';
		} else if (S_ISDIR(st.st_mode)) {
			sysfd[i] = sys_open_tree(AT_FDCWD, path,
						 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
			if (sysfd[i] < 0)
				FAIL("clone a system directory (open_tree /usr, /etc, ...)");
		}
	}
	for (size_t i = 0; i < NDEV; i++) {
		snprintf(path, sizeof path, "/dev/%s", dev_nodes[i]);
		devfd[i] = sys_open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	}
	if (devfd[0] < 0) {
		errno = ENODEV;
		FAIL("clone /dev/null");
	}
	if (woofdev) {
		wdfd = sys_open_tree(AT_FDCWD, woofdev, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (wdfd < 0)
			FAIL("clone the namespace's woof device (open_tree /dev/woof/<ns>)");
	}
	nsfd = sys_open_tree(AT_FDCWD, ns_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (nsfd < 0)
		FAIL("clone the namespace directory (open_tree)");
	if (alias) {
		aliasfd = sys_open_tree(AT_FDCWD, ns_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (aliasfd < 0)
			FAIL("clone the namespace directory (open_tree)");
	}

	/* The new root, staged on top of the namespace directory. */
	if (mount("woof-root", ns_dir, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755,size=1m,nr_inodes=4096") < 0)
		FAIL("mount the root tmpfs");
	rootfd = open(ns_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		FAIL("open the new root");

	for (size_t i = 0; i < NSYS; i++) {
		if (link[i][0]) {
			if (symlinkat(link[i], rootfd, sys_dirs[i]) < 0)
				FAIL("copy a system symlink");
		} else if (sysfd[i] >= 0) {
			if (mkdirat(rootfd, sys_dirs[i], 0755) < 0)
				FAIL("create a mount point");
			if (sys_move_mount(sysfd[i], rootfd, sys_dirs[i]) < 0)
				FAIL("attach a system directory (move_mount)");
			if (sys_setattr(rootfd, sys_dirs[i], AT_RECURSIVE,
					MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV) < 0)
				FAIL("make a system directory read-only (mount_setattr)");
		}
	}

	if (mkdirat(rootfd, "dev", 0755) < 0)
		FAIL("create /dev");
	ddir = openat(rootfd, "dev", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ddir < 0)
		FAIL("open /dev");
	for (size_t i = 0; i < NDEV; i++) {
		if (devfd[i] < 0)
			continue;
		int f = openat(ddir, dev_nodes[i], O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (f < 0)
			FAIL("create a /dev mount point");
		close(f);
		if (sys_move_mount(devfd[i], ddir, dev_nodes[i]) < 0)
			FAIL("attach a device node (move_mount)");
		if (sys_setattr(ddir, dev_nodes[i], 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC) < 0)
			FAIL("restrict a device node mount (mount_setattr)");
	}
	if (woofdev) {
		/* /dev/woof/<ns>, and nothing else of /dev/woof */
		const char *base = strrchr(woofdev, '/') + 1;
		if (mkdirat(ddir, "woof", 0755) < 0)
			FAIL("create /dev/woof");
		snprintf(path, sizeof path, "woof/%s", base);
		int f = openat(ddir, path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (f < 0)
			FAIL("create the woof device's mount point");
		close(f);
		if (sys_move_mount(wdfd, ddir, path) < 0)
			FAIL("attach the namespace's woof device (move_mount)");
		if (sys_setattr(ddir, path, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC) < 0)
			FAIL("restrict the woof device mount (mount_setattr)");
	}
	static const char *const dlinks[][2] = {
		{ "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
	};
	for (size_t i = 0; i < sizeof dlinks / sizeof dlinks[0]; i++)
		if (symlinkat(dlinks[i][1], ddir, dlinks[i][0]) < 0)
			FAIL("create a /dev symlink");

	/* /proc of the holder's (the namespace's) PID namespace. Mounted
	 * before the host's /proc goes away: in a user namespace the kernel
	 * only allows a new proc while a full one is visible. */
	if (mkdirat(rootfd, "proc", 0555) < 0)
		FAIL("create /proc");
	snprintf(path, sizeof path, "%s/proc", ns_dir);
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		FAIL("mount /proc");

	if (mkdirat(rootfd, "tmp", 01777) < 0)
		FAIL("create /tmp");
	char opts[96];
	snprintf(opts, sizeof opts, "mode=1777,size=%zu,nr_inodes=16384", tmp_size);
	snprintf(path, sizeof path, "%s/tmp", ns_dir);
	if (mount("woof-tmp", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		FAIL("mount /tmp");

	/* The namespace directory at its own path, read-write. */
	const char *rel = ns_dir;
	while (*rel == '/')
		rel++;
	int e = mkdir_p_at(rootfd, rel);
	if (e) {
		errno = -e;
		FAIL("create the namespace directory's mount point");
	}
	if (sys_move_mount(nsfd, rootfd, rel) < 0)
		FAIL("attach the namespace directory (move_mount)");
	if (sys_setattr(rootfd, rel, AT_RECURSIVE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		FAIL("restrict the namespace directory mount (mount_setattr)");
	if (alias) {
		/* ... and at the path the caller knows it by (symlinks on the
		 * host are plain directories here) */
		const char *arel = alias;
		while (*arel == '/')
			arel++;
		e = mkdir_p_at(rootfd, arel);
		if (e) {
			errno = -e;
			FAIL("create the namespace directory's second mount point");
		}
		if (sys_move_mount(aliasfd, rootfd, arel) < 0)
			FAIL("attach the namespace directory at its given path (move_mount)");
		if (sys_setattr(rootfd, arel, AT_RECURSIVE, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
			FAIL("restrict the namespace directory mount (mount_setattr)");
	}

	if (fchdir(rootfd) < 0)
		FAIL("enter the new root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		FAIL("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		FAIL("detach the old root");
	if (chdir("/") < 0)
		FAIL("chdir /");
	if (sys_setattr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		FAIL("make the root read-only");
	*step = "";
#undef FAIL
out:
	for (size_t i = 0; i < NSYS; i++)
		if (sysfd[i] >= 0)
			close(sysfd[i]);
	for (size_t i = 0; i < NDEV; i++)
		if (devfd[i] >= 0)
			close(devfd[i]);
	if (nsfd >= 0)
		close(nsfd);
	if (aliasfd >= 0)
		close(aliasfd);
	if (wdfd >= 0)
		close(wdfd);
	if (ddir >= 0)
		close(ddir);
	if (rootfd >= 0)
		close(rootfd);
	return err;
}
