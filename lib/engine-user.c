/* SPDX-License-Identifier: MIT */
/*
 * engine-user.c - the user-space engine: WOOF files mapped into every
 * process that uses them, appended to under a lock that lives in the file.
 *
 * The append lock (woof_header.lock) holds the owner token of the appender
 * (see struct woof_owners in the uapi header). A token names a process by
 * an OFD lock that the kernel drops when the process dies, whatever PID
 * namespace it is in. A waiter that finds the lock held by a dead token
 * takes it over and repairs the WOOF before appending:
 *
 *   append of s (under the lock), i = (s - 1) % history:
 *     1. if s > history: copy the element s - history (slot i) to the
 *        undo slot, stamped s - history;
 *     2. write the element into slot i (stamp 0, copy, stamp s);
 *     3. seq_no = s                                    <- commit point
 *     4. release the lock; wake sleeping readers if any.
 *
 *   repair, with c = seq_no and s = c + 1:
 *     slot i stamped s       -> the element is complete: commit it;
 *     slot i neither s nor its old stamp -> copy the undo slot back.
 *
 * So an append interrupted at any instant is either completed or undone,
 * the WOOF is never wedged, numbers stay gap-free, and every element of
 * the retained window stays readable (readers fall back to the undo slot
 * while the oldest element is being overwritten; read.c).
 *
 * Cost: an uncontended append is one CAS, one exchange and two element
 * copies in shared memory; no system call. Waiting for a contended lock
 * spins, then yields; a dead holder is detected with one fcntl() after
 * ~128 yields.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "woof-internal.h"

#define OPEN_FLAGS (O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)

/* ---- allocating files --------------------------------------------------- */

/*
 * Give the file open on @fd at least @size bytes, every block of them
 * allocated, so that a full filesystem fails here (-ENOSPC) and never as a
 * SIGBUS at a later store through a mapping (format.md). fallocate() also
 * fills the holes of a sparse file (without touching its data) and extends
 * it atomically, so racing callers are harmless. Where the filesystem has
 * no fallocate(), the range beyond the end is written with zeros, by one
 * caller at a time (an OFD lock on the byte at @size; a file is mapped only
 * once it is whole, and then nobody writes to it here); holes below the
 * end stay.
 */
int file_reserve(int fd, uint64_t size)
{
	static const char zeros[16384];
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)size, .l_len = 1,
	};
	struct stat st;
	uint64_t off;
	ssize_t n;
	int ret = 0;

	do {
		if (fallocate(fd, 0, 0, (off_t)size) == 0)
			return 0;
	} while (errno == EINTR);
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -errno;
	while (fcntl(fd, F_OFD_SETLKW, &fl) < 0)
		if (errno != EINTR)
			return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	for (off = (uint64_t)st.st_size; !ret && off < size; off += (uint64_t)n) {
		n = pwrite(fd, zeros, size - off < sizeof(zeros) ? size - off : sizeof(zeros),
			   (off_t)off);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
	}
	fl.l_type = F_UNLCK;
	fcntl(fd, F_OFD_SETLK, &fl);
	return ret;
}

/* ---- owner tokens ------------------------------------------------------ */

static int owners_map(struct woof_ns *ns)
{
	struct woof_owners *o;
	struct stat st;
	__u64 zero = 0;
	int fd, ret;

	/*
	 * A namespace's .woof/ opened as a namespace (dispatcherd's calls and
	 * log) shares its parent's table, .woof/owners, instead of growing a
	 * .woof/.woof/ of its own (ns_meta_fd() is its own directory then).
	 */
	fd = ns_meta_fd(ns);
	if (fd < 0)
		return fd;
	fd = ns_open_create(fd, WOOF_OWNERS_FILE, O_RDWR | OPEN_FLAGS, WOOF_SHARED_FILE_MODE);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto bad;
	/*
	 * Every block now (also an older version's sparse table): no SIGBUS
	 * later. A whole table is left alone: some filesystems (XFS) want
	 * free space even to fallocate a range that is allocated already.
	 */
	ret = (uint64_t)st.st_size < sizeof(*o) || (uint64_t)st.st_blocks * 512 < sizeof(*o) ?
	      file_reserve(fd, sizeof(*o)) : 0;
	if (ret) {
		close(fd);
		return ret;
	}
	o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (o == MAP_FAILED)
		goto err;
	if (!__atomic_compare_exchange_n(&o->magic, &zero, WOOF_OWNERS_MAGIC, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
	    zero != WOOF_OWNERS_MAGIC) {
		munmap(o, sizeof(*o));
		goto bad;
	}
	__atomic_store_n(&o->version, WOOF_FORMAT_VERSION, __ATOMIC_RELAXED);
	ns->owners_fd = fd;
	ns->owners = o;
	return 0;
bad:
	close(fd);
	return -EBADMSG;
err:
	{
		int e = errno;

		close(fd);
		return -e;
	}
}

static int owner_register(struct woof_ns *ns)
{
	uint32_t start = (uint32_t)getpid(), k;
	int ret;

	if (!ns->owners) {
		ret = owners_map(ns);
		if (ret)
			return ret;
	}
	for (k = 0; k < WOOF_OWNERS_MAX; k++) {
		uint32_t id = (start + k) % WOOF_OWNERS_MAX;
		struct flock fl = {
			.l_type = F_WRLCK, .l_whence = SEEK_SET,
			.l_start = (off_t)(WOOF_OWNER_LOCK_BASE + id), .l_len = 1,
		};
		uint64_t gen;

		if (fcntl(ns->owners_fd, F_OFD_SETLK, &fl) < 0) {
			if (errno == EAGAIN || errno == EACCES)
				continue;
			return -errno;
		}
		gen = __atomic_add_fetch(&ns->owners->gen[id], 1, __ATOMIC_SEQ_CST);
		gen &= (1ULL << 48) - 1;
		if (!gen)	/* 2^48 claims of one id: skip the zero token */
			gen = __atomic_add_fetch(&ns->owners->gen[id], 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&ns->token, (gen << 16) | id, __ATOMIC_RELEASE);
		return 0;
	}
	return -EUSERS;
}

static int owner_token(struct woof_ns *ns, uint64_t *tok)
{
	uint64_t t = __atomic_load_n(&ns->token, __ATOMIC_ACQUIRE);
	int ret = 0;

	if (t) {
		*tok = t;
		return 0;
	}
	pthread_mutex_lock(&ns->owner_lock);
	if (!__atomic_load_n(&ns->token, __ATOMIC_ACQUIRE))
		ret = owner_register(ns);
	pthread_mutex_unlock(&ns->owner_lock);
	*tok = __atomic_load_n(&ns->token, __ATOMIC_ACQUIRE);
	return ret;
}

/* Is the process behind @tok still alive? One fcntl(). */
static bool owner_alive(struct woof_ns *ns, __u64 tok)
{
	uint32_t id = WOOF_TOKEN_ID(tok);
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET,
		.l_start = (off_t)(WOOF_OWNER_LOCK_BASE + id), .l_len = 1,
	};

	if (tok == __atomic_load_n(&ns->token, __ATOMIC_ACQUIRE))
		return true;
	if ((__atomic_load_n(&ns->owners->gen[id], __ATOMIC_ACQUIRE) & ((1ULL << 48) - 1)) !=
	    WOOF_TOKEN_GEN(tok))
		return false;	/* the id was claimed again: its old owner is gone */
	if (fcntl(ns->owners_fd, F_OFD_GETLK, &fl) < 0)
		return true;	/* cannot tell: keep waiting */
	return fl.l_type != F_UNLCK;
}

/*
 * In a child after fork(): the owner descriptor is shared with the parent's
 * open file description, which would keep the parent's token alive after
 * the parent dies. Drop it; the child registers on its first append.
 */
void owners_atfork_child(struct woof_ns *ns)
{
	pthread_mutex_init(&ns->owner_lock, NULL);
	if (ns->owners_fd >= 0)
		close(ns->owners_fd);
	ns->owners_fd = -1;
	if (ns->owners)
		munmap(ns->owners, sizeof(*ns->owners));
	ns->owners = NULL;
	__atomic_store_n(&ns->token, 0, __ATOMIC_RELEASE);
}

/* ---- the append lock and its repair ------------------------------------ */

static void slot_write(struct woof_slot *sl, uint64_t stamp, uint32_t flags,
		       uint32_t trigger, const void *src, size_t n)
{
	__atomic_store_n(&sl->stamp, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&sl->flags, flags, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->trigger, trigger, __ATOMIC_RELAXED);
	memcpy(sl + 1, src, n);
	__atomic_store_n(&sl->stamp, stamp, __ATOMIC_RELEASE);
}

/* Finish or undo the append of a holder that died (lock held). */
static void repair(struct woof_map *m)
{
	struct woof_header *h = m->hdr;
	uint64_t H = m->history_size;
	uint64_t s = h->seq_no + 1;
	struct woof_slot *sl = map_slot(m, (s - 1) % H);
	struct woof_slot *undo = map_slot(m, H);
	uint64_t st = __atomic_load_n(&sl->stamp, __ATOMIC_ACQUIRE);

	if (st == s) {
		__atomic_store_n(&h->seq_no, s, __ATOMIC_RELEASE);
	} else if (s > H) {
		if (st != s - H && __atomic_load_n(&undo->stamp, __ATOMIC_ACQUIRE) == s - H)
			slot_write(sl, s - H, undo->flags, undo->trigger, undo + 1,
				   m->element_size);
	} else if (st) {
		__atomic_store_n(&sl->stamp, 0, __ATOMIC_RELEASE);
	}
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

/* ---- bounded waits (woof_put_opts) ------------------------------------------ */

static int64_t mono_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/*
 * The time left until @aw's deadline, in @ts for a futex wait (*tsp; NULL
 * without a deadline), or -ETIMEDOUT when it has passed.
 */
static int wait_left(const struct append_wait *aw, struct timespec *ts,
		     const struct timespec **tsp)
{
	int64_t left;

	*tsp = NULL;
	if (!aw || aw->deadline_ns < 0)
		return 0;
	left = aw->deadline_ns - mono_ns();
	if (left <= 0)
		return -ETIMEDOUT;
	ts->tv_sec = (time_t)(left / 1000000000LL);
	ts->tv_nsec = (long)(left % 1000000000LL);
	*tsp = ts;
	return 0;
}

/* Say in @aw what the append waits for. */
static void wait_note(const struct append_wait *aw, uint32_t reason, uint64_t seq,
		      uint64_t trigger)
{
	if (!aw || !aw->waited)
		return;
	aw->waited->reason = reason;
	aw->waited->seq = seq;
	aw->waited->trigger = trigger;
}

/*
 * Take @m's append lock as @tok; a dead holder's append is repaired. With
 * a deadline in @aw (NULL: none) a live holder is waited for until then:
 * -ETIMEDOUT.
 */
static int lock_acquire_until(struct woof_map *m, uint64_t tok, const struct append_wait *aw)
{
	__u64 *lock = &m->hdr->lock;
	__u64 cur = 0;
	unsigned int n, backoff = 1, i;

	if (__atomic_compare_exchange_n(lock, &cur, tok, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	for (n = 1;; n++) {
		cur = __atomic_load_n(lock, __ATOMIC_RELAXED);
		if (!cur) {
			if (__atomic_compare_exchange_n(lock, &cur, tok, false,
							__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return 0;
			continue;
		}
		if (n < 64) {
			/* exponential backoff: leave the line to the holder */
			for (i = 0; i < backoff; i++)
				cpu_relax();
			if (backoff < 256)
				backoff <<= 1;
			continue;
		}
		sched_yield();
		if ((n & 127) != 0)
			continue;
		if (!owner_alive(m->ns, cur) &&
		    __atomic_compare_exchange_n(lock, &cur, tok, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			repair(m);
			return 0;
		}
		if (aw && aw->deadline_ns >= 0 && mono_ns() >= aw->deadline_ns) {
			wait_note(aw, WOOF_WAIT_LOCK, 0, 0);
			return -ETIMEDOUT;
		}
	}
}

static void lock_acquire(struct woof_map *m, uint64_t tok)
{
	(void)lock_acquire_until(m, tok, NULL);
}

static inline void lock_release(struct woof_map *m)
{
	/* a full barrier: orders the seq_no store before the wait_flag load */
	__atomic_exchange_n(&m->hdr->lock, 0, __ATOMIC_SEQ_CST);
}

/*
 * Take @m's append lock as this process without waiting for a live holder
 * (the dispatcher's claims must not stall its event loop behind a stopped
 * appender): spin briefly; a dead holder is taken over and repaired; a
 * live one gives -EAGAIN.
 */
int user_trylock(struct woof_map *m)
{
	__u64 *lock = &m->hdr->lock;
	uint64_t tok;
	__u64 cur;
	unsigned int n;
	int ret;

	if (!m->writable)
		return -EACCES;
	ret = owner_token(m->ns, &tok);
	if (ret)
		return ret;
	for (n = 0; n < 4096; n++) {
		cur = 0;
		if (__atomic_compare_exchange_n(lock, &cur, tok, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 0;
		cpu_relax();
	}
	cur = __atomic_load_n(lock, __ATOMIC_RELAXED);
	if (cur && !owner_alive(m->ns, cur) &&
	    __atomic_compare_exchange_n(lock, &cur, tok, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		repair(m);
		return 0;
	}
	return -EAGAIN;
}

void user_unlock(struct woof_map *m)
{
	lock_release(m);
}

static void msync_range(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;

	msync((void *)a, (uintptr_t)p + len - a, MS_SYNC);
}

/*
 * Write element @s into its slot and commit it (lock held): save the
 * element it overwrites in the undo slot first (format.md).
 */
static struct woof_slot *commit_locked(struct woof_map *m, uint64_t s, const void *el,
				       uint32_t flags, uint32_t trigger)
{
	uint64_t H = m->history_size;
	struct woof_slot *sl = map_slot(m, (s - 1) % H);

	if (s > H)
		slot_write(map_slot(m, H), s - H, sl->flags, sl->trigger, sl + 1,
			   m->element_size);
	slot_write(sl, s, flags, trigger, el, m->element_size);
	__atomic_store_n(&m->hdr->seq_no, s, __ATOMIC_RELEASE);
	return sl;
}

/* Sleep while *@word is @val, at most @ts (relative; NULL: no limit). */
static long futex_wait32(uint32_t *word, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, word, FUTEX_WAIT, val, ts, NULL, 0);
}

/*
 * WOOF_STATE_KERNEL is set in @m, whose append lock we hold. The bit is
 * stale when no loaded woof.ko serves the namespace directory (the machine
 * went down while it was mounted): clear it and go on. While the module
 * serves the directory (or when we cannot tell) the bit stays: -EBUSY.
 *
 * Clear first, ask second: the kernel mounts a directory (NS_LIST shows it)
 * before it serves any file in it, and it sets the bit before it waits for
 * the lock word we hold. So either NS_LIST already shows the mount (we put
 * the bit back), or the kernel sets the bit after our clear and waits for
 * us to release the lock.
 */
static int kernel_bit_check(struct woof_map *m)
{
	struct woof_header *h = m->hdr;

	if (!m->mapped_rw)
		return -EBUSY;
	__atomic_and_fetch(&h->state, ~WOOF_STATE_KERNEL, __ATOMIC_SEQ_CST);
	if (ns_kernel_lookup(m->ns->dev, m->ns->ino, NULL, 0, NULL) == 0)
		return 0;
	__atomic_or_fetch(&h->state, WOOF_STATE_KERNEL, __ATOMIC_SEQ_CST);
	return -EBUSY;
}

/*
 * Append the trigger of element @s of @m to the namespace trigger log @tl
 * (the WOOF lock of @m is held; lock order: WOOF, then trigger log).
 * Returns the trigger's number, -ENOSPC when the log is full of
 * unfinished triggers, or -EBUSY when woof.ko serves the log.
 */
static int64_t trigger_append(struct woof_map *tl, uint64_t tok, struct woof_map *m,
			      uint64_t s, const char *handler)
{
	struct woof_header *th = tl->hdr;
	struct woof_trigger tr;
	struct timespec now;
	uint64_t t;

	memset(&tr, 0, sizeof(tr));
	clock_gettime(CLOCK_REALTIME, &now);
	tr.woof_seq = s;
	tr.woof_ctime = m->hdr->create_time_ns;
	tr.put_time_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	strcpy(tr.woof, m->name);
	strcpy(tr.handler, handler);

	lock_acquire(tl, tok);
	if ((__atomic_load_n(&th->state, __ATOMIC_ACQUIRE) & WOOF_STATE_KERNEL) &&
	    kernel_bit_check(tl)) {
		lock_release(tl);
		return -EBUSY;		/* woof.ko keeps this log */
	}
	t = th->seq_no + 1;
	if (t > __atomic_load_n(&th->done_floor, __ATOMIC_ACQUIRE) + tl->history_size) {
		lock_release(tl);
		return -ENOSPC;
	}
	commit_locked(tl, t, &tr, 0, 0);
	lock_release(tl);
	return (int64_t)t;
}

/* Sleep until the trigger log has room (done_floor moved), at most @ts. */
static void trigger_log_wait(struct woof_map *tl, const struct timespec *ts)
{
	struct woof_header *th = tl->hdr;
	uint64_t floor;

	__atomic_store_n(&th->floor_wait, 1, __ATOMIC_SEQ_CST);
	floor = __atomic_load_n(&th->done_floor, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&th->seq_no, __ATOMIC_ACQUIRE) + 1 > floor + tl->history_size)
		futex_wait32(map_futex_word(&th->done_floor), (uint32_t)floor, ts);
}

/* Tell a sleeping dispatcher that triggers arrived: one datagram. */
static void notify_dispatcher(struct woof_ns *ns, struct woof_map *tl)
{
	if (!__atomic_load_n(&tl->hdr->consumer_wait, __ATOMIC_SEQ_CST) ||
	    !__atomic_exchange_n(&tl->hdr->consumer_wait, 0, __ATOMIC_SEQ_CST))
		return;
	ns_notify(ns);
}

static int user_append(struct woof_map *m, const void *el, const char *handler,
		       unsigned int flags, const struct append_wait *aw, uint64_t *seqp)
{
	struct woof_header *h = m->hdr;
	uint64_t H = m->history_size, tok, s;
	const struct timespec *tsp;
	struct woof_map *tl = NULL;
	struct woof_slot *sl;
	struct timespec ts;
	int64_t t = 0;
	uint32_t state, sflags;
	int ret;

	if (!m->writable)
		return -EACCES;
	state = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
	if (state & (WOOF_STATE_REPLACED | WOOF_STATE_REMOVED))
		return -ESTALE;
	ret = owner_token(m->ns, &tok);
	if (ret)
		return ret;
	if (handler) {
		ret = triggers_map(m->ns, &tl);
		if (ret)
			return ret;
	}

	for (;;) {
		ret = lock_acquire_until(m, tok, aw);
		if (ret)
			return ret;
		state = __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
		if (state & (WOOF_STATE_REPLACED | WOOF_STATE_REMOVED)) {
			lock_release(m);
			return -ESTALE;
		}
		/* woof.ko serves the file, or a crash left the bit behind */
		if ((state & WOOF_STATE_KERNEL) && (ret = kernel_bit_check(m))) {
			lock_release(m);
			return ret;
		}
		s = h->seq_no + 1;
		sl = map_slot(m, (s - 1) % H);
		sflags = s > H ? __atomic_load_n(&sl->flags, __ATOMIC_ACQUIRE) : 0;
		if (sflags & WOOF_SLOT_PENDING) {
			/* the oldest element's handler has not read it yet */
			if (__atomic_load_n(&h->flags, __ATOMIC_RELAXED) & WOOF_F_OVERWRITE) {
				__atomic_add_fetch(&h->overruns, 1, __ATOMIC_RELAXED);
			} else {
				wait_note(aw, WOOF_WAIT_HANDLER, s - H,
					  __atomic_load_n(&sl->trigger, __ATOMIC_RELAXED));
				ret = flags & WOOF_PUT_NONBLOCK ? -EAGAIN : wait_left(aw, &ts, &tsp);
				if (ret) {
					lock_release(m);
					return ret;
				}
				sflags = __atomic_or_fetch(&sl->flags, WOOF_SLOT_WAITER,
							   __ATOMIC_SEQ_CST);
				lock_release(m);
				/*
				 * The claim takes no lock (triggers.c): it may have
				 * cleared PENDING since we looked, and then nobody
				 * wakes us - look again instead of sleeping.
				 */
				if (sflags & WOOF_SLOT_PENDING)
					futex_wait32(&sl->flags, sflags, tsp);
				continue;
			}
		}
		if (tl) {
			t = trigger_append(tl, tok, m, s, handler);
			if (t == -EBUSY) {
				lock_release(m);
				return -EBUSY;
			}
			if (t == -ENOSPC) {
				lock_release(m);
				wait_note(aw, WOOF_WAIT_TRIGGERS, 0,
					  __atomic_load_n(&tl->hdr->done_floor, __ATOMIC_ACQUIRE) + 1);
				ret = flags & WOOF_PUT_NONBLOCK ? -EAGAIN : wait_left(aw, &ts, &tsp);
				if (ret)
					return ret;
				trigger_log_wait(tl, tsp);
				continue;
			}
		}
		sl = commit_locked(m, s, el, tl ? WOOF_SLOT_PENDING : 0, (uint32_t)t);
		lock_release(m);
		break;
	}

	if (__atomic_load_n(&h->wait_flag, __ATOMIC_RELAXED))
		map_wake(h);
	if (tl)
		notify_dispatcher(m->ns, tl);
	if (__atomic_load_n(&h->flags, __ATOMIC_RELAXED) & WOOF_F_DURABLE) {
		if (tl)
			msync_range(tl->hdr, tl->len);
		msync_range(sl, m->slot_size);
		msync_range(h, WOOF_HEADER_SIZE);
	}
	if (seqp)
		*seqp = s;
	return 0;
}

/* ---- files -------------------------------------------------------------- */

/* Open @name and check that it is a WOOF; fills @h and @st. */
static int open_woof(int dirfd, const char *name, bool *writable,
		     struct woof_header *h, struct stat *st)
{
	int fd, ret;

	*writable = true;
	fd = ns_openat(dirfd, name, O_RDWR | OPEN_FLAGS, 0);
	if (fd == -EACCES || fd == -EROFS || fd == -EPERM) {
		*writable = false;
		fd = ns_openat(dirfd, name, O_RDONLY | OPEN_FLAGS, 0);
	}
	if (fd < 0)
		return fd == -EISDIR ? -EBADMSG : fd;
	if (fstat(fd, st) < 0) {
		ret = -errno;
		goto out;
	}
	ret = -EBADMSG;
	if (!S_ISREG(st->st_mode) || st->st_size < (off_t)WOOF_HEADER_SIZE)
		goto out;
	if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h))
		goto out;
	ret = map_validate_header(h, (uint64_t)st->st_size);
	if (ret == 0)
		return fd;
out:
	close(fd);
	return ret;
}

/* Map the WOOF open on @fd (header @h, stat @st) into @m; @fd stays open. */
static int map_fd(int fd, bool writable, const struct woof_header *h,
		  const struct stat *st, struct woof_map *m)
{
	void *p;

	m->writable = writable;
	m->mapped_rw = writable;
	m->len = WOOF_FILE_SIZE(h->element_size, h->history_size);
	p = mmap(NULL, m->len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->hdr = p;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->element_size = h->element_size;
	m->history_size = h->history_size;
	m->slot_size = h->slot_size;
	/* the geometry is immutable; a file that changed under us is not a WOOF */
	if (m->hdr->element_size != h->element_size ||
	    m->hdr->history_size != h->history_size || m->hdr->slot_size != h->slot_size) {
		munmap(p, m->len);
		return -EBADMSG;
	}
	return 0;
}

int user_map_at(int dirfd, const char *name, struct woof_map *m)
{
	struct woof_header h;
	struct stat st;
	bool w;
	int fd, ret;

	fd = open_woof(dirfd, name, &w, &h, &st);
	if (fd < 0)
		return fd;
	ret = map_fd(fd, w, &h, &st, m);
	close(fd);
	return ret;
}

static int user_map(struct woof_ns *ns, const char *name, struct woof_map *m)
{
	return user_map_at(ns->dirfd, name, m);
}

static void user_unmap(struct woof_map *m)
{
	munmap(m->hdr, m->len);
	if (m->fd >= 0)
		close(m->fd);
}

/* Set @bits in the state word of the WOOF open on @fd and wake its readers. */
static void mark_state(int fd, uint32_t bits)
{
	struct woof_header *h;

	h = mmap(NULL, WOOF_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return;
	__atomic_or_fetch(&h->state, bits, __ATOMIC_SEQ_CST);
	map_wake(h);
	munmap(h, WOOF_HEADER_SIZE);
}

static int build_file(int dirfd, const char *name,
		      const struct woof_create_opts *o, char *tmp, size_t tmplen)
{
	static _Atomic unsigned int counter;
	uint64_t size = WOOF_FILE_SIZE(o->element_size, o->history_size);
	struct woof_header *h;
	struct timespec now;
	int fd, ret;

	snprintf(tmp, tmplen, ".woof-tmp.%d.%u", (int)getpid(), counter++);
	fd = ns_openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | OPEN_FLAGS, 0600);
	if (fd < 0)
		return fd;
	/* the mode asked for (or 0664), not the umask's; the directory's group */
	ns_file_mode(fd, dirfd, o->mode ? o->mode : WOOF_SHARED_FILE_MODE);
	/* reserve the blocks now: a full disk must fail here, not SIGBUS later */
	ret = file_reserve(fd, size);
	if (ret)
		goto fail;
	h = calloc(1, sizeof(*h));
	if (!h) {
		ret = -ENOMEM;
		goto fail;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	h->magic = WOOF_FORMAT_MAGIC;
	h->version = WOOF_FORMAT_VERSION;
	h->header_size = WOOF_HEADER_SIZE;
	h->element_size = o->element_size;
	h->history_size = o->history_size;
	h->slot_size = WOOF_SLOT_SIZE(o->element_size);
	h->create_time_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	h->flags = o->flags;
	strcpy(h->filename, name);
	ret = pwrite(fd, h, sizeof(*h), 0) == (ssize_t)sizeof(*h) ? 0 : (errno ? -errno : -EIO);
	free(h);
	if (ret)
		goto fail;
	if ((o->flags & WOOF_F_DURABLE) && fsync(fd) < 0) {
		ret = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	unlinkat(dirfd, tmp, 0);
	return ret;
}

/* Map the file just built on @fd into @m (when the caller wants a map). */
static int map_new(int fd, struct woof_map *m)
{
	struct woof_header h;
	struct stat st;

	if (!m)
		return 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -EIO;
	return map_fd(fd, true, &h, &st, m);
}

int user_create_at(int dirfd, const char *name, const struct woof_create_opts *o,
		   struct woof_map *m)
{
	struct woof_header h;
	struct stat st;
	char tmp[64];
	bool w;
	int old = -1, fd, ret, tries;

	for (tries = 0; tries < 4; tries++) {
		old = open_woof(dirfd, name, &w, &h, &st);
		if (old == -ENOENT) {
			old = -1;
		} else if (old < 0) {
			/* something that is not a WOOF (or a symlink) has the name */
			return old == -EBADMSG || old == -ELOOP ? -EEXIST : old;
		} else if (o->create & WOOF_CREATE_EXCL) {
			close(old);
			return -EEXIST;
		} else if (!(o->create & WOOF_CREATE_RESET)) {
			ret = h.element_size == o->element_size &&
			      h.history_size == o->history_size ? 0 : -EEXIST;
			if (!ret && m)
				ret = map_fd(old, w, &h, &st, m);
			close(old);
			return ret;
		}

		fd = build_file(dirfd, name, o, tmp, sizeof(tmp));
		if (fd < 0) {
			if (old >= 0)
				close(old);
			return fd;
		}
		if (old >= 0)
			ret = renameat(dirfd, tmp, dirfd, name) < 0 ? -errno : 0;
		else
			ret = linkat(dirfd, tmp, dirfd, name, 0) < 0 ? -errno : 0;
		if (old < 0)
			unlinkat(dirfd, tmp, 0);
		if (ret == -EEXIST && old < 0) {
			close(fd);	/* a racing creator won: decide again */
			continue;
		}
		if (ret) {
			if (old >= 0) {
				unlinkat(dirfd, tmp, 0);
				close(old);
			}
			close(fd);
			return ret;
		}
		if (o->flags & WOOF_F_DURABLE)
			fsync(dirfd);
		ret = map_new(fd, m);
		close(fd);
		if (old >= 0) {
			mark_state(old, WOOF_STATE_REPLACED);
			close(old);
		}
		return ret;
	}
	return -EAGAIN;
}

static int user_create(struct woof_ns *ns, const char *name,
		       const struct woof_create_opts *o, struct woof_map *m)
{
	return user_create_at(ns->dirfd, name, o, m);
}

static int user_remove(struct woof_ns *ns, const char *name)
{
	struct woof_header h;
	struct stat st, now;
	bool w;
	int fd, ret = 0;

	fd = open_woof(ns->dirfd, name, &w, &h, &st);
	if (fd < 0)
		return fd;
	if (fstatat(ns->dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0)
		ret = -errno;
	else if (now.st_ino != st.st_ino || now.st_dev != st.st_dev)
		ret = -EAGAIN;		/* replaced while we looked: let the caller retry */
	else if (unlinkat(ns->dirfd, name, 0) < 0)
		ret = -errno;
	if (!ret && w)
		mark_state(fd, WOOF_STATE_REMOVED);
	close(fd);
	return ret;
}

static int user_set_flags(struct woof_map *m, uint32_t set, uint32_t clear)
{
	if (!m->writable)
		return -EACCES;
	__atomic_or_fetch(&m->hdr->flags, set, __ATOMIC_SEQ_CST);
	__atomic_and_fetch(&m->hdr->flags, ~clear, __ATOMIC_SEQ_CST);
	return msync(m->hdr, WOOF_HEADER_SIZE, MS_SYNC) < 0 ? -errno : 0;
}

const struct woof_engine_ops woof_user_engine = {
	.name = "user",
	.create = user_create,
	.map = user_map,
	.unmap = user_unmap,
	.append = user_append,
	.remove = user_remove,
	.set_flags = user_set_flags,
};
