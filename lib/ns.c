/* SPDX-License-Identifier: MIT */
/*
 * ns.c - namespaces: directories of WOOFs, opened once per process.
 *
 * A namespace is identified by its directory (device and inode), so two
 * paths to the same directory share one struct woof_ns. The process keeps
 * every namespace it opened in a list; the list is short (one entry per
 * directory used), so look-ups are linear.
 *
 * The default namespace (CSPOT's) is $WOOFC_DIR, or the current directory,
 * read once on first use and again by WooFInit().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "woof-dispatch.h"
#include "woof-internal.h"

static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct woof_ns *ns_list;
static struct woof_ns *ns_dflt;		/* holds a reference */

/*
 * Paths under a namespace (Documentation/libwoof.md, "Who owns a
 * namespace"): the namespace directory is resolved once, by whoever names
 * it; everything beneath it is opened relative to its descriptor, one
 * component at a time, never through a symbolic link (a handler may own
 * the directory and put a link where .woof/ or a WOOF was). openat2()
 * with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS says so to the kernel; on a
 * kernel without openat2 (before 5.6) only single components are opened,
 * with O_NOFOLLOW. A symbolic link is -ELOOP.
 */
int ns_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
	how.mode = flags & O_CREAT ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (fd >= 0)
		return fd;
	if (errno != ENOSYS)
		return -errno;
	if (strchr(name, '/') || !strcmp(name, ".."))
		return -EXDEV;
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

/*
 * Give the file (or directory) open on @fd, just created in the directory
 * @nsfd (the namespace or its .woof/), the directory's group and exactly
 * @mode (umask does not apply). The group is best effort: a creator outside the
 * namespace group cannot give it (a setgid namespace directory already
 * did); dispatcherd's start-up check names such files.
 */
void ns_file_mode(int fd, int nsfd, mode_t mode)
{
	struct stat d, st;

	if (fstat(nsfd, &d) == 0 && fstat(fd, &st) == 0 && st.st_gid != d.st_gid)
		(void)!fchown(fd, (uid_t)-1, d.st_gid);
	(void)!fchmod(fd, mode);
}

/*
 * Open the file @name in the directory @dirfd, creating it with @mode if
 * it is missing. An existing file is opened without O_CREAT, so that
 * fs.protected_regular does not refuse a file somebody else made in a
 * sticky namespace directory; a new one gets ns_file_mode().
 */
int ns_open_create(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd, tries;

	for (tries = 0; tries < 8; tries++) {
		fd = ns_openat(dirfd, name, flags & ~(O_CREAT | O_EXCL), 0);
		if (fd != -ENOENT)
			return fd;
		fd = ns_openat(dirfd, name, flags | O_CREAT | O_EXCL, mode & 0777);
		if (fd >= 0) {
			ns_file_mode(fd, dirfd, mode);
			return fd;
		}
		if (fd != -EEXIST)
			return fd;
	}
	return -EAGAIN;
}

/*
 * The namespace's bookkeeping directory .woof/, made if missing (mode
 * 3770 plus the namespace directory's bits for others, the namespace's
 * group) and opened once, never through a symbolic link: a .woof that is
 * a link (or not a directory) is -ELOOP / -ENOTDIR, never written
 * through. For a namespace that is itself some .woof/, its own directory.
 * Called with owner_lock held.
 */
int ns_meta_fd(struct woof_ns *ns)
{
	int fd;

	if (ns->is_meta)
		return ns->dirfd;
	if (ns->metafd >= 0)
		return ns->metafd;
	fd = ns_meta_dir_open(ns->dirfd, true);
	if (fd >= 0)
		ns->metafd = fd;
	return fd;
}

/* woof-dispatch.h: what dispatcherd opens below a namespace goes through here too */
int woof_ns_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd;

	fd = flags & O_CREAT ? ns_open_create(dirfd, name, flags, mode)
			     : ns_openat(dirfd, name, flags, mode);
	/* O_DIRECTORY on a link says ENOTDIR: say what it is */
	if (fd == -ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		fd = -ELOOP;
	return fd;
}

/* .woof/ below the namespace directory @nsfd, made with @create. */
int ns_meta_dir_open(int nsfd, bool create)
{
	struct stat d;
	bool made;
	int fd;

	fd = ns_openat(nsfd, WOOF_NS_META_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOTDIR && fstatat(nsfd, WOOF_NS_META_DIR, &d, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(d.st_mode))
		return -ELOOP;		/* a link (O_DIRECTORY says ENOTDIR) */
	if (fd != -ENOENT || !create)
		return fd;
	if (fstat(nsfd, &d) < 0)
		return -errno;
	made = mkdirat(nsfd, WOOF_NS_META_DIR, 0700) == 0;
	if (!made && errno != EEXIST)
		return -errno;
	fd = ns_openat(nsfd, WOOF_NS_META_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0 && made)
		ns_file_mode(fd, nsfd, WOOF_META_DIR_MODE | (d.st_mode & 0005));
	return fd;
}

/*
 * Does woof.ko serve the directory @dev/@ino? Asks NS_LIST on
 * /dev/woof/control and compares each mounted directory by device and
 * inode (not by path: the module reports paths as this process sees them,
 * and two paths may name one directory).
 */
static int ns_control_lookup(dev_t dev, ino_t ino, char *name, size_t name_len, dev_t *rdev)
{
	struct woof_ns_info *info = NULL;
	struct woof_ns_list l;
	uint32_t n = 0, i;
	int fd, ret;

	fd = open(WOOF_CONTROL_DEV, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENXIO || errno == ENODEV ? 0 : -errno;
	for (;;) {
		memset(&l, 0, sizeof(l));
		l.size = sizeof(l);
		l.count = n;
		l.entry_size = sizeof(*info);
		l.entries = (uintptr_t)info;
		ret = kernel_ioctl(fd, WOOF_IOC_NS_LIST, &l);
		if (ret)
			goto out;
		if (l.count <= n)
			break;
		n = l.count + 4;	/* namespaces mounted meanwhile: room for a few more */
		free(info);
		info = calloc(n, sizeof(*info));
		if (!info) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = 0;
	for (i = 0; i < l.count && i < n; i++) {
		struct stat st;

		if (info[i].flags & WOOF_NSI_PATH_TRUNC)
			continue;
		info[i].path[sizeof(info[i].path) - 1] = 0;
		info[i].name[sizeof(info[i].name) - 1] = 0;
		if (stat(info[i].path, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_dev != dev || st.st_ino != ino)
			continue;
		if (name) {
			if (strlen(info[i].name) + 1 > name_len) {
				ret = -ENAMETOOLONG;
				goto out;
			}
			strcpy(name, info[i].name);
		}
		if (rdev)
			*rdev = makedev(info[i].dev_major, info[i].dev_minor);
		ret = 1;
		break;
	}
out:
	free(info);
	close(fd);
	return ret;
}

/*
 * The namespace device named by $WOOF_NS_DEVICE, for processes that have it
 * but not /dev/woof/control: dispatcherd gives its sandboxed handlers
 * their namespace's /dev/woof/<ns> and sets the variable to that path.
 * It counts only when WOOF_IOC_NS_STAT on it says it serves the directory
 * @dev/@ino (by device and inode, so the path the process knows the
 * directory by does not matter, and other namespaces keep the user-space
 * engine) and the node is the device the module says it is. 1 (with
 * @name, @rdev), 0 when it does not serve that directory (or the variable
 * is unset, or the module predates NS_STAT), -errno.
 */
static int ns_env_lookup(dev_t dev, ino_t ino, char *name, size_t name_len, dev_t *rdev)
{
	const char *path = getenv("WOOF_NS_DEVICE");
	struct woof_ns_stat s;
	struct stat st;
	int fd, ret;

	if (!path || !*path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ENXIO || errno == ENODEV ? 0 : -errno;
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		ret = 0;		/* not a namespace device */
		goto out;
	}
	ret = kernel_ioctl(fd, WOOF_IOC_NS_STAT, &s);
	if (ret) {
		/* not a woof device, an old module, or unmounted: not served */
		ret = ret == -ENOTTY || ret == -EINVAL || ret == -ENODEV ? 0 : ret;
		goto out;
	}
	s.name[sizeof(s.name) - 1] = 0;
	if (makedev(s.dir_dev_major, s.dir_dev_minor) != dev || s.dir_ino != (uint64_t)ino ||
	    makedev(s.dev_major, s.dev_minor) != st.st_rdev || !s.name[0]) {
		ret = 0;
		goto out;
	}
	if (name) {
		if (strlen(s.name) + 1 > name_len) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		strcpy(name, s.name);
	}
	if (rdev)
		*rdev = st.st_rdev;
	ret = 1;
out:
	close(fd);
	return ret;
}

/*
 * Does woof.ko serve the directory @dev/@ino: asked through the control
 * device, else through $WOOF_NS_DEVICE. 1 (with the namespace's @name and
 * device number @rdev), 0 (not served), -errno (cannot tell).
 */
int ns_kernel_lookup(dev_t dev, ino_t ino, char *name, size_t name_len, dev_t *rdev)
{
	int ret = ns_control_lookup(dev, ino, name, name_len, rdev);

	if (ret <= 0) {
		int e = ns_env_lookup(dev, ino, name, name_len, rdev);

		if (e)
			return e;
	}
	return ret;
}

/*
 * Open the namespace device @name: $WOOF_NS_DEVICE when that is the device
 * @rdev (the sandbox may hold no other), else /dev/woof/@name. It must be
 * the device @rdev; -errno on failure.
 */
static int ns_dev_open(struct woof_ns *ns, const char *name, dev_t rdev)
{
	char path[PATH_MAX];
	const char *env = getenv("WOOF_NS_DEVICE");
	struct stat st;
	bool w = true;
	int fd;

	if (env && *env && strlen(env) < sizeof(path) && stat(env, &st) == 0 &&
	    S_ISCHR(st.st_mode) && st.st_rdev == rdev)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/%s", WOOF_DEV_DIR, name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS)) {
		w = false;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != rdev) {
		close(fd);
		return -ENODEV;		/* not the device the module reported */
	}
	ns->devfd = fd;
	ns->dev_writable = w;
	strcpy(ns->kname, name);
	return 0;
}

/*
 * Which engine serves @ns: the kernel engine when woof.ko serves its
 * directory (NS_LIST on the control device, or NS_STAT on $WOOF_NS_DEVICE)
 * and this process can open the namespace device, else the user-space
 * engine. $WOOF_ENGINE=user or =kernel forces one; forcing the
 * kernel engine on a directory the module does not serve is -ENODEV.
 */
static int engine_for(struct woof_ns *ns)
{
	const char *env = getenv("WOOF_ENGINE");
	char name[WOOF_NS_NAME_MAX + 1];
	bool force = false;
	dev_t rdev = 0;
	int ret;

	ns->ops = &woof_user_engine;
	if (env && *env) {
		if (!strcmp(env, "user"))
			return 0;
		if (strcmp(env, "kernel"))
			return -EINVAL;		/* WOOF_ENGINE is neither "user" nor "kernel" */
		force = true;
	}
	ret = ns_kernel_lookup(ns->dev, ns->ino, name, sizeof(name), &rdev);
	if (ret <= 0)
		return force ? (ret ? ret : -ENODEV) : 0;
	ret = ns_dev_open(ns, name, rdev);
	if (ret)
		/* no access to the device: read through the files (appends say EBUSY) */
		return force ? ret : 0;
	ns->ops = &woof_kernel_engine;
	return 0;
}

/*
 * Open the namespace directory @dir: resolved once, symbolic links and
 * all (the user names it). The one exception is a namespace's .woof/
 * opened as a namespace of its own (dispatcherd's calls and log): its
 * parent is resolved and .woof itself is opened beneath it, never through
 * a link. Returns the descriptor and the absolute path in @pathp.
 */
static int ns_dir_open(const char *dir, char **pathp)
{
	size_t len = strlen(dir), blen = sizeof(WOOF_NS_META_DIR) - 1;
	char *copy, *path, *full = NULL;
	int pfd, fd;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len >= blen && !strncmp(dir + len - blen, WOOF_NS_META_DIR, blen) &&
	    (len == blen || dir[len - blen - 1] == '/')) {
		copy = strndup(dir, len - blen);
		if (!copy)
			return -ENOMEM;
		path = realpath(copy[0] ? copy : ".", NULL);
		free(copy);
		if (!path)
			return errno == ENOMEM ? -ENOMEM : -errno;
		pfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0) {
			free(path);
			return -errno;
		}
		fd = ns_meta_dir_open(pfd, false);
		close(pfd);
		if (fd >= 0 && asprintf(&full, "%s%s" WOOF_NS_META_DIR,
					strcmp(path, "/") ? path : "", "/") < 0) {
			close(fd);
			fd = -ENOMEM;
		}
		free(path);
		if (fd >= 0)
			*pathp = full;
		return fd;
	}
	path = realpath(dir, NULL);
	if (!path)
		return errno == ENOMEM ? -ENOMEM : -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		free(path);
		return -e;
	}
	*pathp = path;
	return fd;
}

static int ns_lookup_or_add(const char *dir, struct woof_ns **nsp)
{
	struct woof_ns *ns;
	struct stat st;
	char *path = NULL;
	int fd, ret;

	if (!dir)
		return -EINVAL;
	if (!dir[0])
		return -ENOENT;		/* like open(2) */
	fd = ns_dir_open(dir, &path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		free(path);
		return -e;
	}
	pthread_mutex_lock(&ns_lock);
	for (ns = ns_list; ns; ns = ns->next) {
		if (ns->dev == st.st_dev && ns->ino == st.st_ino) {
			ns->refs++;
			pthread_mutex_unlock(&ns_lock);
			close(fd);
			free(path);
			*nsp = ns;
			return 0;
		}
	}
	ns = calloc(1, sizeof(*ns));
	if (!ns) {
		pthread_mutex_unlock(&ns_lock);
		close(fd);
		free(path);
		return -ENOMEM;
	}
	ns->path = path;
	ns->dirfd = fd;
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	ns->refs = 1;
	ns->owners_fd = -1;
	ns->metafd = -1;
	{
		/* dispatcherd's calls and log: .woof/ opened as a namespace of its own */
		const char *base = strrchr(path, '/');

		ns->is_meta = strcmp(base ? base + 1 : path, WOOF_NS_META_DIR) == 0;
	}
	ns->notify_fd = -1;
	ns->devfd = -1;
	pthread_mutex_init(&ns->owner_lock, NULL);
	ret = engine_for(ns);
	if (ret) {
		pthread_mutex_unlock(&ns_lock);
		pthread_mutex_destroy(&ns->owner_lock);
		close(fd);
		free(path);
		free(ns);
		return ret;
	}
	ns->next = ns_list;
	ns_list = ns;
	pthread_mutex_unlock(&ns_lock);
	*nsp = ns;
	return 0;
}

int woof_ns_open(const char *dir, struct woof_ns **nsp)
{
	if (!nsp)
		return -EINVAL;
	if (!dir) {
		dir = getenv("WOOFC_DIR");
		if (!dir || !dir[0])
			dir = ".";
	}
	return ns_lookup_or_add(dir, nsp);
}

/*
 * Namespaces stay in the process list even at zero references: their
 * mappings may still be cached, and reopening is then free. The memory is
 * bounded by the number of distinct directories the process touched.
 */
void woof_ns_close(struct woof_ns *ns)
{
	if (!ns)
		return;
	pthread_mutex_lock(&ns_lock);
	if (ns->refs)
		ns->refs--;
	pthread_mutex_unlock(&ns_lock);
}

const char *woof_ns_path(const struct woof_ns *ns)
{
	return ns ? ns->path : NULL;
}

enum woof_engine woof_ns_engine(const struct woof_ns *ns)
{
	return ns && ns->ops == &woof_kernel_engine ? WOOF_ENGINE_KERNEL : WOOF_ENGINE_USER;
}

int woof_ns_init(const char *dir, unsigned int mode)
{
	int fd, ret = 0;

	if (!dir || !dir[0])
		return -EINVAL;
	if (mode & ~07777U)
		return -EINVAL;
	if (!mode)
		mode = 0775;
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	/*
	 * Not through woof_ns_open(): that would choose (and keep) an engine
	 * for the directory before anybody had a chance to mount it.
	 */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ns_meta_dir_open(fd, true);
	if (ret >= 0) {
		close(ret);
		ret = 0;
	}
	close(fd);
	return ret;
}

int woof_ns_list(struct woof_ns *ns, int (*cb)(const char *name, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;

	if (!ns || !cb)
		return -EINVAL;
	fd = openat(ns->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while ((de = readdir(d))) {
		struct woof_header h;
		struct stat st;
		int wfd;

		if (woof_name_check(de->d_name))
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		wfd = openat(ns->dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (wfd < 0)
			continue;
		if (fstat(wfd, &st) == 0 && S_ISREG(st.st_mode) &&
		    pread(wfd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    map_validate_header(&h, (uint64_t)st.st_size) == 0) {
			close(wfd);
			ret = cb(de->d_name, arg);
			if (ret)
				break;
			continue;
		}
		close(wfd);
	}
	closedir(d);
	return ret;
}

/* The CSPOT default namespace; @reload re-reads $WOOFC_DIR (WooFInit). */
int ns_default(struct woof_ns **nsp, bool reload)
{
	struct woof_ns *ns, *old;
	int ret;

	ns = __atomic_load_n(&ns_dflt, __ATOMIC_ACQUIRE);
	if (ns && !reload) {
		*nsp = ns;
		return 0;
	}
	ret = woof_ns_open(NULL, &ns);
	if (ret)
		return ret;
	pthread_mutex_lock(&ns_lock);
	old = ns_dflt;
	if (old && !reload) {		/* another thread won the race */
		pthread_mutex_unlock(&ns_lock);
		woof_ns_close(ns);
		*nsp = old;
		return 0;
	}
	__atomic_store_n(&ns_dflt, ns, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ns_lock);
	/* the old default keeps living in ns_list: callers may still use it */
	woof_ns_close(old);
	*nsp = ns;
	return 0;
}

/*
 * Resolve a CSPOT-style name (plain, or woof:// URI) to a namespace and a
 * plain name. Plain names use @def_dir, or the default namespace when
 * @def_dir is NULL. Namespaces live as long as the process, so the caller
 * does not close the result.
 */
int ns_open_resolved(const char *def_dir, const char *woof_name,
		     struct woof_ns **nsp, char *name, size_t name_len)
{
	char dir[PATH_MAX];
	int ret;

	if (!woof_name)
		return -EINVAL;
	if (!def_dir && strncasecmp(woof_name, "woof://", 7) != 0) {
		ret = woof_name_check(woof_name);
		if (ret)
			return ret;
		if (strlen(woof_name) + 1 > name_len)
			return -ENAMETOOLONG;
		ret = ns_default(nsp, false);
		if (ret)
			return ret;
		strcpy(name, woof_name);
		return 0;
	}
	ret = woof_resolve(def_dir, woof_name, dir, sizeof(dir), name, name_len);
	if (ret)
		return ret;
	return ns_lookup_or_add(dir, nsp);
}

void ns_atfork_prepare(void)
{
	pthread_mutex_lock(&ns_lock);
}

void ns_atfork_parent(void)
{
	pthread_mutex_unlock(&ns_lock);
}

void ns_atfork_child(void)
{
	struct woof_ns *ns;

	for (ns = ns_list; ns; ns = ns->next)
		owners_atfork_child(ns);
	pthread_mutex_unlock(&ns_lock);
}
