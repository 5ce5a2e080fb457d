/* SPDX-License-Identifier: MIT */
/*
 * engine-kernel.c - the kernel engine: WOOFs of a namespace that woof.ko
 * serves (WOOF_IOC_NS_MOUNT), reached through the namespace device
 * /dev/woof/<name> (ns->devfd, opened by ns.c when it chose this engine).
 *
 *   create, open    WOOF_IOC_CREATE / WOOF_IOC_OPEN give a WOOF fd; the fd
 *                   is mapped read-only (the mapping is the WOOF file itself,
 *                   in the format of the uapi header), so reads stay plain
 *                   memory copies in read.c, with no system call;
 *   append          WOOF_IOC_APPEND: the kernel assigns the sequence number
 *                   and records the trigger of a handler atomically with it;
 *   wait            WOOF_IOC_WAIT on the fd: the kernel does not wake futex
 *                   waiters in a file mapping;
 *   remove          WOOF_IOC_REMOVE;
 *   sync            msync() of the mapping (read.c/woof.c): for a mapping of
 *                   a writable WOOF fd the kernel syncs the backing file.
 *
 * The WOOF fd stays open as long as the mapping (struct woof_map.fd): one
 * descriptor per cached WOOF, which the mapping cache bounds.
 *
 * Interrupted calls: APPEND, CREATE and OPEN did nothing when they return
 * EINTR and are made again; WAIT returns -EINTR to its caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "woof-internal.h"

int kernel_ioctl(int fd, unsigned long cmd, void *arg)
{
	while (ioctl(fd, cmd, arg) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* errno of the module in libwoof's terms */
static int kerr(int ret)
{
	switch (ret) {
	case -EBADF:		/* the device or the WOOF fd is not open for writing */
	case -EPERM:
		return -EACCES;
	default:
		return ret;
	}
}

/*
 * Device and inode of the file @name, if it still is the WOOF created at
 * @ctime (map.c compares them to notice files replaced behind our back).
 * Left 0 when that cannot be told: the cache then checks the name again
 * on the next by-name call and remaps it.
 */
static void kernel_ident(struct woof_ns *ns, const char *name, uint64_t ctime,
			 struct woof_map *m)
{
	struct stat st;
	uint64_t c;
	int fd;

	m->dev = 0;
	m->ino = 0;
	fd = openat(ns->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 &&
	    pread(fd, &c, sizeof(c), offsetof(struct woof_header, create_time_ns)) ==
		    (ssize_t)sizeof(c) && c == ctime) {
		m->dev = st.st_dev;
		m->ino = st.st_ino;
	}
	close(fd);
}

/* Map the WOOF fd in @a (filled by CREATE or OPEN) into @m; takes the fd. */
static int kernel_map_fd(struct woof_ns *ns, const char *name, const struct woof_open *a,
			 bool writable, struct woof_map *m)
{
	struct woof_header *h;

	h = mmap(NULL, a->file_size, PROT_READ, MAP_SHARED, a->fd, 0);
	if (h == MAP_FAILED) {
		int e = errno;

		close(a->fd);
		return -e;
	}
	if (h->element_size != a->element_size || h->history_size != a->history_size ||
	    h->slot_size != WOOF_SLOT_SIZE(a->element_size) ||
	    a->file_size != WOOF_FILE_SIZE(a->element_size, a->history_size)) {
		munmap(h, a->file_size);
		close(a->fd);
		return -EBADMSG;
	}
	m->hdr = h;
	m->len = a->file_size;
	m->fd = a->fd;
	m->writable = writable;
	m->mapped_rw = false;
	m->element_size = a->element_size;
	m->history_size = a->history_size;
	m->slot_size = h->slot_size;
	kernel_ident(ns, name, a->create_time_ns, m);
	return 0;
}

static void open_arg(struct woof_open *a, const char *name, uint32_t flags)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = flags | WOOF_OPEN_CLOEXEC;
	strcpy(a->name, name);
}

static int kernel_create(struct woof_ns *ns, const char *name,
			 const struct woof_create_opts *o, struct woof_map *m)
{
	struct woof_open a;
	int ret;

	if (!ns->dev_writable)
		return -EACCES;
	open_arg(&a, name, (o->create & WOOF_CREATE_EXCL ? WOOF_CREATE_F_EXCL : 0) |
			   (o->create & WOOF_CREATE_RESET ? WOOF_CREATE_F_RESET : 0));
	a.element_size = o->element_size;
	a.history_size = o->history_size;
	a.woof_flags = o->flags;
	a.mode = o->mode & 0777;
	ret = kernel_ioctl(ns->devfd, WOOF_IOC_CREATE, &a);
	if (ret)
		return kerr(ret);
	if (!m) {
		close(a.fd);
		return 0;
	}
	return kernel_map_fd(ns, name, &a, true, m);
}

static int kernel_map(struct woof_ns *ns, const char *name, struct woof_map *m)
{
	struct woof_open a;
	int ret;

	open_arg(&a, name, ns->dev_writable ? 0 : WOOF_OPEN_RDONLY);
	ret = kernel_ioctl(ns->devfd, WOOF_IOC_OPEN, &a);
	if (ret)
		return kerr(ret);
	return kernel_map_fd(ns, name, &a, ns->dev_writable, m);
}

static void kernel_unmap(struct woof_map *m)
{
	munmap(m->hdr, m->len);
	if (m->fd >= 0)
		close(m->fd);
}

/*
 * What an append to @m that woof.ko refused with EAGAIN waits for, as far
 * as the mapping tells: the slot it would overwrite is still pending, or
 * else the trigger log is full.
 */
static void kernel_wait_note(struct woof_map *m, const struct append_wait *aw)
{
	uint64_t H = m->history_size, s;
	struct woof_map *tl;
	struct woof_slot *sl;

	if (!aw || !aw->waited)
		return;
	memset(aw->waited, 0, sizeof(*aw->waited));
	s = __atomic_load_n(&m->hdr->seq_no, __ATOMIC_ACQUIRE) + 1;
	sl = map_slot(m, (s - 1) % H);
	if (s > H && (__atomic_load_n(&sl->flags, __ATOMIC_ACQUIRE) & WOOF_SLOT_PENDING)) {
		aw->waited->reason = WOOF_WAIT_HANDLER;
		aw->waited->seq = s - H;
		aw->waited->trigger = __atomic_load_n(&sl->trigger, __ATOMIC_RELAXED);
	} else if (triggers_map(m->ns, &tl) == 0) {
		aw->waited->reason = WOOF_WAIT_TRIGGERS;
		aw->waited->trigger = __atomic_load_n(&tl->hdr->done_floor, __ATOMIC_ACQUIRE) + 1;
	}
}

static int64_t mono_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/*
 * woof.ko's append blocks without a time limit. A bounded one (a deadline
 * in @aw) asks with WOOF_APPEND_NONBLOCK and sleeps between tries, 1 ms
 * doubling up to 20 ms: the module wakes no poller when room appears.
 */
static int kernel_append(struct woof_map *m, const void *el, const char *handler,
			 unsigned int flags, const struct append_wait *aw, uint64_t *seq)
{
	bool bounded = aw && aw->deadline_ns >= 0 && !(flags & WOOF_PUT_NONBLOCK);
	int64_t delay = 1000000, left;
	struct woof_append a;
	struct timespec ts;
	int ret;

	if (!m->writable)
		return -EACCES;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = flags & WOOF_PUT_NONBLOCK || bounded ? WOOF_APPEND_NONBLOCK : 0;
	a.element = (uintptr_t)el;
	a.element_size = m->element_size;
	a.handler = (uintptr_t)handler;
	for (;;) {
		ret = kernel_ioctl(m->fd, WOOF_IOC_APPEND, &a);
		if (ret != -EAGAIN)
			break;
		kernel_wait_note(m, aw);
		if (!bounded)
			break;
		left = aw->deadline_ns - mono_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		if (delay > left)
			delay = left;
		ts.tv_sec = (time_t)(delay / 1000000000LL);
		ts.tv_nsec = (long)(delay % 1000000000LL);
		nanosleep(&ts, NULL);
		if (delay < 20000000)
			delay *= 2;
	}
	if (ret)
		return kerr(ret);
	if (seq)
		*seq = a.seq;
	return 0;
}

static int kernel_remove(struct woof_ns *ns, const char *name)
{
	struct woof_remove a;

	if (!ns->dev_writable)
		return -EACCES;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	strcpy(a.name, name);
	return kerr(kernel_ioctl(ns->devfd, WOOF_IOC_REMOVE, &a));
}

static int kernel_set_flags(struct woof_map *m, uint32_t set, uint32_t clear)
{
	struct woof_set_flags a;
	int ret;

	if (!m->writable)
		return -EACCES;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.set = set;
	a.clear = clear;
	ret = kernel_ioctl(m->fd, WOOF_IOC_SET_FLAGS, &a);
	return ret == -ENOTTY ? -EOPNOTSUPP : kerr(ret);
}

static int kernel_wait(struct woof_map *m, uint64_t seq, int timeout_ms)
{
	struct woof_wait a;

	if (map_stale(m))
		return -ESTALE;
	if (__atomic_load_n(&m->hdr->seq_no, __ATOMIC_ACQUIRE) > seq)
		return 0;		/* no system call when it is there already */
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.seq = seq;
	a.timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000LL;
	if (ioctl(m->fd, WOOF_IOC_WAIT, &a) == 0)
		return 0;
	if (errno == ENODEV)
		/* the namespace was unmounted: the files are the user engine's now */
		return map_futex_wait(m, seq, timeout_ms);
	return -errno;
}

/* Map the WOOF @name below @dirfd read-only, as any reader may. */
int kernel_map_ro_at(int dirfd, const char *name, struct woof_map *m)
{
	struct woof_header h;
	struct stat st;
	void *p;
	int fd, ret;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ret = -EBADMSG;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    map_validate_header(&h, (uint64_t)st.st_size))
		goto out;
	m->len = WOOF_FILE_SIZE(h.element_size, h.history_size);
	p = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	m->hdr = p;
	m->writable = false;
	m->mapped_rw = false;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->element_size = h.element_size;
	m->history_size = h.history_size;
	m->slot_size = h.slot_size;
	ret = 0;
out:
	close(fd);
	return ret;
}

const struct woof_engine_ops woof_kernel_engine = {
	.name = "kernel",
	.create = kernel_create,
	.map = kernel_map,
	.unmap = kernel_unmap,
	.append = kernel_append,
	.remove = kernel_remove,
	.set_flags = kernel_set_flags,
	.wait = kernel_wait,
};
