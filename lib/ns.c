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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "woof-internal.h"

static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct woof_ns *ns_list;
static struct woof_ns *ns_dflt;		/* holds a reference */

static const struct woof_engine_ops *engine_for(struct woof_ns *ns)
{
	/* The kernel engine is chosen here once woof.ko mounts namespaces. */
	return &woof_user_engine;
}

static int ns_lookup_or_add(const char *dir, struct woof_ns **nsp)
{
	struct woof_ns *ns;
	struct stat st;
	char *path;
	int fd;

	if (!dir)
		return -EINVAL;
	if (!dir[0])
		return -ENOENT;		/* like open(2) */
	path = realpath(dir, NULL);
	if (!path)
		return errno == ENOMEM ? -ENOMEM : -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		free(path);
		return -e;
	}
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
	ns->notify_fd = -1;
	pthread_mutex_init(&ns->owner_lock, NULL);
	ns->ops = engine_for(ns);
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
	return ns && ns->ops != &woof_user_engine ? WOOF_ENGINE_KERNEL : WOOF_ENGINE_USER;
}

int woof_ns_init(const char *dir, unsigned int mode)
{
	struct woof_ns *ns;
	int ret;

	if (!dir || !dir[0])
		return -EINVAL;
	if (mode & ~07777U)
		return -EINVAL;
	if (!mode)
		mode = 0775;
	if (mkdir(dir, mode) < 0 && errno != EEXIST)
		return -errno;
	ret = woof_ns_open(dir, &ns);
	if (ret)
		return ret;
	if (mkdirat(ns->dirfd, WOOF_NS_META_DIR, mode) < 0 && errno != EEXIST)
		ret = -errno;
	woof_ns_close(ns);
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
