/* SPDX-License-Identifier: MIT */
/*
 * triggers.c - the namespace trigger log, as seen by appenders and by the
 * dispatcher (woof-dispatch.h).
 *
 * The log is .woof/triggers, a WOOF of struct woof_trigger. Appenders write
 * to it under the target WOOF's lock (engine-user.c); this file opens it,
 * wakes the dispatcher, and implements the dispatcher's side: reading
 * entries, claiming an entry's element, moving done_floor.
 *
 * A claim takes the target WOOF's append lock for the few instructions it
 * needs, so it sees no append half done: the element committed with this
 * trigger (its slot carries the trigger's number) or it never will (orphan).
 * It never waits for a live appender (that one may be stopped): it says
 * -EAGAIN and the dispatcher tries again later.
 *
 * On a namespace woof.ko serves (kernel engine) the module appends the
 * triggers, claims (TRIGGER_CLAIM) and moves done_floor (TRIGGER_DONE); the
 * log is mapped read-only here and read like any WOOF. There the listen
 * descriptor is the namespace device, readable while triggers lie beyond
 * the device's delivery cursor; arming reads (and drops) the pending
 * records, which moves that cursor to the end of the log.
 *
 * woof_triggers_listen() replaces whatever socket is bound: a dispatcher
 * must hold the namespace's dispatcherd.lock (flock) before it listens.
 * The log, the owners table and the socket get the namespace's group and
 * fixed modes (0664, 0664, 0660) whoever creates them, and are reached only
 * through the .woof/ descriptor of the namespace, never through a link
 * (Documentation/libwoof.md, "Who owns a namespace").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "woof-internal.h"
#include "woof-dispatch.h"

/* A new descriptor of @ns's device, open for writing, non-blocking. */
static int ns_dev_reopen(struct woof_ns *ns)
{
	char path[sizeof(WOOF_DEV_DIR) + WOOF_NS_NAME_MAX + 2];
	struct stat a, b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", WOOF_DEV_DIR, ns->kname);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == EPERM ? -EACCES : -errno;
	if (fstat(fd, &a) < 0 || fstat(ns->devfd, &b) < 0 || a.st_rdev != b.st_rdev) {
		close(fd);
		return -ENODEV;		/* unmounted (and the name reused) meanwhile */
	}
	return fd;
}

struct woof_triggers {
	struct woof_ns *ns;
	struct woof_map *m;
	int devfd;		/* kernel engine: the namespace device, for arm; else -1 */
};

static bool is_kernel(const struct woof_ns *ns)
{
	return ns->ops == &woof_kernel_engine;
}

/* .woof/ of @ns, created if missing, never through a link (owner_lock held). */
static int meta_dir(struct woof_ns *ns)
{
	int fd = ns_meta_fd(ns);

	if (fd < 0)
		return fd == -ELOOP || fd == -ENOTDIR ? -EBADMSG : fd;
	return 0;
}

/*
 * Is the cached trigger log @m still .woof/triggers, whole? Looked at
 * with one fstatat() at most every $WOOF_MAP_RECHECK_MS (1 s) - by
 * then a put to a truncated log would have raised SIGBUS: 0 fine, -EIO
 * cut short under us (the map stays: another thread may be in it), 1
 * another file (a repair replaced it). Not in dispatcherd's use: it reads
 * the log through woof_triggers_* and guards those accesses itself.
 */
static int triggers_recheck(struct woof_ns *ns, struct woof_map *m)
{
	uint64_t now = map_coarse_now();
	struct stat st;

	if (now - __atomic_load_n(&m->checked_ns, __ATOMIC_RELAXED) < map_recheck_interval())
		return 0;
	if (fstatat(ns->metafd, WOOF_TRIGGERS_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -EIO;	/* gone: puts with handlers cannot go on */
	if (st.st_ino != m->ino || st.st_dev != m->dev)
		return S_ISREG(st.st_mode) ? 1 : -EIO;
	if ((uint64_t)st.st_size < m->len)
		return -EIO;
	__atomic_store_n(&m->checked_ns, now, __ATOMIC_RELAXED);
	return 0;
}

/* The trigger log of @ns, opened (and created) once per process. */
int triggers_map(struct woof_ns *ns, struct woof_map **tlp)
{
	struct woof_create_opts o = {
		.sz = sizeof(o),
		.element_size = sizeof(struct woof_trigger),
		.history_size = WOOF_TRIGGERS_HISTORY,
		.create = WOOF_CREATE_OPEN,
	};
	struct woof_map *m;
	int ret;

	m = __atomic_load_n(&ns->triggers, __ATOMIC_ACQUIRE);
	if (m) {
		ret = triggers_recheck(ns, m);
		if (ret <= 0) {
			if (!ret)
				*tlp = m;
			return ret;
		}
		/* replaced (woofctl ns repair): map the new log below */
	}
	pthread_mutex_lock(&ns->owner_lock);
	if (m && ns->triggers == m) {
		/*
		 * Other threads may still use the old mapping: it stays mapped
		 * (a repaired trigger log is rare; the leak is one mapping).
		 */
		ns->triggers = NULL;
	}
	ret = meta_dir(ns);
	if (!ret && !ns->triggers) {
		m = map_alloc();
		if (!m) {
			ret = -ENOMEM;
		} else if (is_kernel(ns)) {
			/* woof.ko made the log when it mounted the namespace; it alone writes it */
			ret = kernel_map_ro_at(ns_meta_fd(ns), WOOF_TRIGGERS_FILE, m);
			if (ret == -ENOENT)
				ret = -EBADMSG;
		} else {
			ret = user_create_at(ns_meta_fd(ns), WOOF_TRIGGERS_FILE, &o, m);
			if (ret == -EEXIST)	/* exists with another history: use it as it is */
				ret = user_map_at(ns_meta_fd(ns), WOOF_TRIGGERS_FILE, m);
		}
		if (m) {
			if (ret || m->element_size != sizeof(struct woof_trigger)) {
				if (!ret)
					munmap(m->hdr, m->len);
				free(m);
				ret = ret ? ret : -EBADMSG;
			} else {
				m->ns = ns;
				strcpy(m->name, WOOF_NS_META_DIR "/" WOOF_TRIGGERS_FILE);
				m->refs = 1;
				m->checked_ns = map_coarse_now();
				__atomic_store_n(&ns->triggers, m, __ATOMIC_RELEASE);
			}
		}
	}
	pthread_mutex_unlock(&ns->owner_lock);
	if (!ret)
		*tlp = ns->triggers;
	return ret;
}

/*
 * The dispatch socket's address: through /proc/self/fd/<.woof's
 * descriptor>, so that the socket is bound and reached in the .woof/ this
 * process opened (never through a link put where .woof was). Without a
 * /proc, the path, when .woof there is still the directory we hold.
 */
static int sock_addr(struct woof_ns *ns, struct sockaddr_un *sa)
{
	char dir[PATH_MAX];
	struct stat a, b;
	int n, mfd;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (__atomic_load_n(&ns->sock_proc, __ATOMIC_ACQUIRE)) {
		strcpy(sa->sun_path, ns->sock_path);	/* the descriptor stays open */
		return 0;
	}
	pthread_mutex_lock(&ns->owner_lock);
	mfd = ns_meta_fd(ns);
	if (mfd >= 0 && fstat(mfd, &b) == 0) {
		snprintf(dir, sizeof(dir), "/proc/self/fd/%d", mfd);
		if (stat(dir, &a) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			snprintf(ns->sock_path, sizeof(ns->sock_path), "/proc/self/fd/%d/%s", mfd,
				 WOOF_DISPATCH_SOCK);
			__atomic_store_n(&ns->sock_proc, true, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&ns->owner_lock);
	if (mfd < 0)
		return mfd;
	if (__atomic_load_n(&ns->sock_proc, __ATOMIC_ACQUIRE)) {
		strcpy(sa->sun_path, ns->sock_path);
		return 0;
	}
	if (fstat(mfd, &b) < 0)
		return -errno;
	/* no /proc: the path, while .woof there is the directory we hold */
	snprintf(dir, sizeof(dir), "%s%s%s", ns->path, ns->is_meta ? "" : "/",
		 ns->is_meta ? "" : WOOF_NS_META_DIR);
	if (lstat(dir, &a) < 0 || !S_ISDIR(a.st_mode) || a.st_ino != b.st_ino ||
	    a.st_dev != b.st_dev)
		return -ELOOP;		/* .woof was replaced since we opened it */
	if (strlen(dir) + 1 + sizeof(WOOF_DISPATCH_SOCK) > sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%.*s/%s",
		     (int)(sizeof(sa->sun_path) - sizeof(WOOF_DISPATCH_SOCK) - 1), dir,
		     WOOF_DISPATCH_SOCK);
	return n > 0 && (size_t)n < sizeof(sa->sun_path) ? 0 : -ENAMETOOLONG;
}

/* One datagram to the dispatcher; a missing dispatcher is not an error. */
void ns_notify(struct woof_ns *ns)
{
	struct sockaddr_un sa;
	char b = 1;
	int fd = __atomic_load_n(&ns->notify_fd, __ATOMIC_ACQUIRE);

	if (fd < 0) {
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return;
		{
			int expect = -1;

			if (!__atomic_compare_exchange_n(&ns->notify_fd, &expect, fd, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				close(fd);
				fd = expect;
			}
		}
	}
	if (sock_addr(ns, &sa) == 0)
		sendto(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa));
}

/* ---- the dispatcher's side ------------------------------------------------ */

int woof_triggers_open(struct woof_ns *ns, struct woof_triggers **tp)
{
	struct woof_triggers *t;
	int ret;

	if (!ns || !tp)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->devfd = -1;
	ret = triggers_map(ns, &t->m);
	if (!ret && is_kernel(ns)) {
		/* consuming triggers needs the device open for writing */
		t->devfd = ns_dev_reopen(ns);
		if (t->devfd < 0)
			ret = t->devfd;
	}
	if (ret) {
		free(t);
		return ret;
	}
	t->ns = ns;
	*tp = t;
	return 0;
}

void woof_ns_reset(struct woof_ns *ns)
{
	struct woof_map *tl;

	if (!ns)
		return;
	map_forget_ns(ns);
	tl = ns->triggers;
	ns->triggers = NULL;
	if (tl) {
		munmap(tl->hdr, tl->len);
		if (tl->fd >= 0)
			close(tl->fd);
		free(tl);
	}
	/*
	 * The owner table and token (engine-user.c), as in a child after
	 * fork(): closing the table's descriptor drops the OFD lock that
	 * named this process alive, so an append lock it held in one of
	 * @ns's WOOFs is a dead holder's, taken over and repaired by the next
	 * appender. The owner mutex is made anew: a fault may have left it held.
	 */
	owners_atfork_child(ns);
}

void woof_triggers_close(struct woof_triggers *t)
{
	if (!t)
		return;
	if (t->devfd >= 0)
		close(t->devfd);
	free(t);	/* the log stays mapped for the process's appends */
}

uint64_t woof_triggers_latest(const struct woof_triggers *t)
{
	return t ? __atomic_load_n(&t->m->hdr->seq_no, __ATOMIC_ACQUIRE) : 0;
}

uint64_t woof_triggers_done_floor(const struct woof_triggers *t)
{
	return t ? __atomic_load_n(&t->m->hdr->done_floor, __ATOMIC_ACQUIRE) : 0;
}

uint64_t woof_triggers_history(const struct woof_triggers *t)
{
	return t ? t->m->history_size : 0;
}

int woof_triggers_read(struct woof_triggers *t, uint64_t tseq, struct woof_trigger *out)
{
	if (!t || !out || !tseq)
		return -EINVAL;
	return map_read(t->m, tseq, out, NULL);
}

int woof_triggers_set_done_floor(struct woof_triggers *t, uint64_t floor)
{
	struct woof_header *h;
	uint64_t cur;

	if (!t)
		return -EINVAL;
	if (t->devfd >= 0) {
		struct woof_trigger_done a = { .size = sizeof(a), .floor = floor };

		return kernel_ioctl(t->devfd, WOOF_IOC_TRIGGER_DONE, &a);
	}
	h = t->m->hdr;
	if (floor > __atomic_load_n(&h->seq_no, __ATOMIC_ACQUIRE))
		return -ERANGE;
	cur = __atomic_load_n(&h->done_floor, __ATOMIC_ACQUIRE);
	while (cur < floor &&
	       !__atomic_compare_exchange_n(&h->done_floor, &cur, floor, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
		;
	if (__atomic_exchange_n(&h->floor_wait, 0, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, map_futex_word(&h->done_floor), FUTEX_WAKE,
			INT_MAX, NULL, NULL, 0);
	return 0;
}

int woof_triggers_listen(struct woof_triggers *t)
{
	struct sockaddr_un sa;
	int fd, ret;

	if (!t)
		return -EINVAL;
	if (t->devfd >= 0)
		return ns_dev_reopen(t->ns);	/* poll() says EPOLLIN for new triggers */
	ret = sock_addr(t->ns, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlinkat(ns_meta_fd(t->ns), WOOF_DISPATCH_SOCK, 0);	/* a stale socket */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	/* clients and handlers send to it: the namespace's group, 0660 */
	{
		int mfd = ns_meta_fd(t->ns);
		struct stat d;

		if (fstat(mfd, &d) == 0)
			(void)!fchownat(mfd, WOOF_DISPATCH_SOCK, (uid_t)-1, d.st_gid,
					AT_SYMLINK_NOFOLLOW);
		(void)!fchmodat(mfd, WOOF_DISPATCH_SOCK, WOOF_SOCK_MODE, AT_SYMLINK_NOFOLLOW);
	}
	return fd;
}

/*
 * Kernel engine: read (and drop) the trigger records the device would
 * deliver, so that its cursor, which poll() on every descriptor of the
 * device compares with the log's latest, moves past everything there is.
 * The dispatcher reads the entries from the log itself.
 */
static int dev_drain(int fd)
{
	struct woof_trigger_record rec[16];

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec));

		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		return 0;
	}
}

int woof_triggers_arm(struct woof_triggers *t, uint64_t seen)
{
	int ret;

	if (!t)
		return -EINVAL;
	if (t->devfd >= 0) {
		ret = dev_drain(t->devfd);
		if (ret)
			return ret;
	} else {
		__atomic_store_n(&t->m->hdr->consumer_wait, 1, __ATOMIC_SEQ_CST);
	}
	return __atomic_load_n(&t->m->hdr->seq_no, __ATOMIC_SEQ_CST) > seen ? 1 : 0;
}

int woof_triggers_drain(struct woof_triggers *t, int fd)
{
	char buf[64];

	if (!t || fd < 0)
		return -EINVAL;
	if (t->devfd >= 0)
		return dev_drain(fd);
	for (;;) {
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0 || errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
}

/* Kernel engine: WOOF_IOC_TRIGGER_CLAIM, after checking @tr is entry @tseq. */
static int kernel_claim(struct woof_ns *ns, uint64_t tseq, const struct woof_trigger *tr,
			void *el, size_t el_size, struct woof_claim *claim)
{
	struct woof_trigger_claim a;
	struct woof_trigger cur;
	struct woof_map *tl;
	int ret;

	ret = triggers_map(ns, &tl);
	if (ret)
		return ret;
	/*
	 * The module claims by number alone; the caller names the entry too.
	 * An entry that is not trigger @tseq's is an orphan, as the user-space
	 * engine finds it (its element does not carry that number).
	 */
	ret = map_read(tl, tseq, &cur, NULL);
	if (ret == -ERANGE)
		return -ECANCELED;
	if (ret == 0 && (cur.woof_seq != tr->woof_seq || cur.woof_ctime != tr->woof_ctime ||
			 strncmp(cur.woof, tr->woof, sizeof(cur.woof))))
		return -ECANCELED;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.trigger = tseq;
	a.element = (uintptr_t)el;
	a.element_size = el_size;
	ret = kernel_ioctl(ns->devfd, WOOF_IOC_TRIGGER_CLAIM, &a);
	if (ret == -EMSGSIZE && claim)
		claim->element_size = a.element_size;
	if (ret)
		return ret == -EBADF ? -EACCES : ret;
	if (claim) {
		claim->element_size = a.element_size;
		claim->already_claimed = a.result & WOOF_CLAIM_ALREADY;
		claim->woof_latest = a.woof_latest;
	}
	return 0;
}

/*
 * The claim of the common case, without the WOOF's lock (which the putter
 * holds for every append: a claim that waited for it, or gave up and came
 * back a millisecond later, was a fifth of dispatcherd's time in a burst
 * of puts into one WOOF). It applies when the element has committed
 * (s <= seq_no) and its slot is still PENDING with this trigger: without
 * WOOF_F_OVERWRITE a PENDING slot is never overwritten, and only its
 * claim clears PENDING, so the copy cannot tear and the bits cleared are
 * this element's (a putter that found the slot PENDING and waits on it is
 * woken; engine-user.c copes with PENDING going between its look and its
 * WAITER bit). Anything else - an overwriting WOOF, a put still in flight,
 * a slot claimed before (a redelivery) - gives -EAGAIN: take the lock.
 */
/* Clear @sl's PENDING and WAITER bits, waking a putter that waits on them; the old bits. */
static uint32_t slot_release(struct woof_slot *sl)
{
	uint32_t old = __atomic_fetch_and(&sl->flags, ~(WOOF_SLOT_PENDING | WOOF_SLOT_WAITER),
					  __ATOMIC_SEQ_CST);

	if (old & WOOF_SLOT_WAITER)
		syscall(SYS_futex, &sl->flags, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return old;
}

static int claim_unlocked(struct woof_map *m, uint64_t tseq, uint64_t s, void *el,
			  struct woof_claim *claim)
{
	struct woof_header *h = m->hdr;
	struct woof_slot *sl = map_slot(m, (s - 1) % m->history_size);
	uint64_t latest;
	uint32_t old;

	if (__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & WOOF_F_OVERWRITE)
		return -EAGAIN;
	latest = __atomic_load_n(&h->seq_no, __ATOMIC_ACQUIRE);
	if (s > latest || map_stale(m))
		return -EAGAIN;
	if (!(__atomic_load_n(&sl->flags, __ATOMIC_ACQUIRE) & WOOF_SLOT_PENDING) ||
	    __atomic_load_n(&sl->stamp, __ATOMIC_ACQUIRE) != s ||
	    __atomic_load_n(&sl->trigger, __ATOMIC_RELAXED) != (uint32_t)tseq)
		return -EAGAIN;
	memcpy(el, sl + 1, m->element_size);
	old = slot_release(sl);
	if (!(old & WOOF_SLOT_PENDING))
		return -EAGAIN;	/* cannot happen (one claimer); the locked path decides */
	if (claim) {
		claim->element_size = m->element_size;
		claim->already_claimed = false;
		claim->woof_latest = latest;
	}
	return 0;
}

int woof_trigger_claim(struct woof_ns *ns, uint64_t tseq, const struct woof_trigger *tr,
		       void *el, size_t el_size, struct woof_claim *claim)
{
	struct woof_map *m;
	struct woof_slot *sl;
	uint64_t s, latest, H;
	uint32_t old;
	int ret;

	if (!ns || !tr || !el || !tseq || !tr->woof_seq)
		return -EINVAL;
	if (woof_name_check(tr->woof) || woof_name_check(tr->handler))
		return -EINVAL;
	if (is_kernel(ns))
		return kernel_claim(ns, tseq, tr, el, el_size, claim);
	/*
	 * The cached map, looked at again at most once a second (an fstatat()
	 * per claim was 14% of dispatcherd's time in a burst of warm calls):
	 * libwoof marks a file it re-creates or removes, and such a mark makes
	 * us look at the name now. A file removed or replaced by other means
	 * is noticed within a second; until then its call runs from the old
	 * file's element, and the handler's own open of the WOOF fails.
	 */
	ret = map_get(ns, tr->woof, MAP_CHECK_LAZY, &m);
	if (!ret && (__atomic_load_n(&m->hdr->state, __ATOMIC_ACQUIRE) &
		     (WOOF_STATE_REPLACED | WOOF_STATE_REMOVED))) {
		map_put(m);
		ret = map_get(ns, tr->woof, MAP_CHECK_NOW, &m);
	}
	if (ret)
		return ret == -EBADMSG ? -ENOENT : ret;
	ret = -ESTALE;
	if (m->hdr->create_time_ns != tr->woof_ctime)
		goto out;
	ret = -EMSGSIZE;
	if (el_size < m->element_size) {
		if (claim)
			claim->element_size = m->element_size;
		goto out;
	}
	ret = claim_unlocked(m, tseq, tr->woof_seq, el, claim);
	if (ret != -EAGAIN)
		goto out;
	ret = user_trylock(m);
	if (ret)
		goto out;

	H = m->history_size;
	s = tr->woof_seq;
	latest = m->hdr->seq_no;
	sl = map_slot(m, (s - 1) % H);
	if (map_stale(m)) {
		ret = -ESTALE;
	} else if (s > latest) {
		ret = -ECANCELED;	/* the put died before it committed */
	} else if (latest >= H && s <= latest - H) {
		ret = -ENODATA;		/* overwritten */
	} else if (sl->stamp != s || sl->trigger != (uint32_t)tseq) {
		ret = -ECANCELED;	/* the number went to another put */
	} else {
		memcpy(el, sl + 1, m->element_size);
		old = __atomic_fetch_and(&sl->flags, ~(WOOF_SLOT_PENDING | WOOF_SLOT_WAITER),
					 __ATOMIC_SEQ_CST);
		if (claim) {
			claim->element_size = m->element_size;
			claim->already_claimed = !(old & WOOF_SLOT_PENDING);
			claim->woof_latest = latest;
		}
		ret = 0;
		user_unlock(m);
		if (old & WOOF_SLOT_WAITER)
			syscall(SYS_futex, &sl->flags, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
		goto out;
	}
	user_unlock(m);
out:
	map_put(m);
	return ret;
}
