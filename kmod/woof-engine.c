// SPDX-License-Identifier: GPL-2.0
/*
 * woof-engine.c - the kernel engine: serving a WOOF file, appending to it,
 * and the WOOF file descriptor (mmap, APPEND, APPEND_BATCH, WAIT,
 * SET_FLAGS, read, poll).
 *
 * An append keeps the invariants of Documentation/format.md, so readers of
 * the read-only mapping (libwoof's read.c, unchanged) see only complete
 * elements and every element of the retained window stays readable:
 *
 *   under kwoof->lock, s = seq + 1, i = (s - 1) % history:
 *     0. the slot to overwrite is PENDING (its handler has not claimed it):
 *        count an overrun (WOOF_F_OVERWRITE), or wait / -EAGAIN;
 *     1. with a handler: append the trigger entry to the namespace trigger
 *        log first (woof-trigger.c), so a committed element always has it;
 *     2. if s > history: copy slot i (element s - history) to the undo slot;
 *     3. slot i: stamp 0, flags and trigger, the element, stamp s (release);
 *     4. seq_no = s (release)                           <- commit point
 *   then wake WAIT/poll/read sleepers and trigger readers.
 *
 * The sequence number lives in the file and, while the kernel serves the
 * WOOF, in kwoof->seq: only the kernel appends (WOOF_STATE_KERNEL tells
 * the user-space engine to refuse). When it starts serving a file the
 * kernel waits for a user-space appender still holding the header's lock
 * word, takes over from a dead one, and repairs a half-done append the way
 * the user-space engine would.
 *
 * Cost of an append of a small element (kw_ioc_append_fast, the common
 * WOOF_IOC_APPEND): the WOOF's mutex, one user access section (the
 * argument's fields, the element, the seq written back), and stores into
 * the slot, undo slot and header pages the WOOF keeps referenced
 * (woof_wctx_lockless_page): no page-cache look-up, no page lock, no
 * i_rwsem, no division (kw_next_index), one full barrier. Anything else
 * takes the general path (kw_append_locked): pages that are not dirty go
 * through ->write_begin with i_rwsem, a slot across two pages through the
 * same, and an element larger than WOOF_BOUNCE_MAX is copied in chunks.
 */
#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "woof-int.h"
#include "woof_trace.h"

static struct lock_class_key woof_log_lock_key;

/* Where element bytes come from. */
enum kw_src_kind {
	KW_SRC_BUF,	/* a kernel buffer holding the whole element */
	KW_SRC_USER,	/* user memory */
	KW_SRC_SLOT,	/* another slot of the same file */
};

struct kw_src {
	enum kw_src_kind kind;
	const void *kbuf;
	const void __user *user;
	u64 slot;
};

/* Element bytes [@off, @off + @n) of @src into @buf (or where they already are). */
static int kw_fill(struct kwoof *w, const struct kw_src *src, u64 off, size_t n,
		   const void **data, void *buf)
{
	*data = buf;
	switch (src->kind) {
	case KW_SRC_BUF:
		*data = (const u8 *)src->kbuf + off;
		return 0;
	case KW_SRC_USER:
		return woof_copy_from_user(buf, src->user + off, n);
	case KW_SRC_SLOT:
		return woof_file_read(w->file, WOOF_SLOT_POS(w, src->slot) +
				      WOOF_SLOT_HEADER_SIZE + off, buf, n);
	}
	return -EINVAL;
}

static inline u64 kw_index(const struct kwoof *w, u64 s)
{
	u64 rem;

	div64_u64_rem(s - 1, w->history_size, &rem);
	return rem;
}

/* kw_index(w, s) without a division when @s follows the last append. */
static __always_inline u64 kw_next_index(const struct kwoof *w, u64 s)
{
	return likely(s == w->idx_seq) ? w->idx_next : kw_index(w, s);
}

/* After appending @s at @idx: remember the index of s + 1. Lock held. */
static __always_inline void kw_set_next_index(struct kwoof *w, u64 s, u64 idx)
{
	w->idx_seq = s + 1;
	w->idx_next = idx + 1 == w->history_size ? 0 : idx + 1;
}

/*
 * Write slot @idx in the seqlock order (stamp 0, flags/trigger, element,
 * stamp @stamp) from @src, through @buf (bounce_size bytes) when the
 * source must be copied in chunks. Lock held, w->wc begun. On failure the
 * slot's stamp may be left 0.
 */
static int kw_write_slot(struct kwoof *w, u64 idx, u64 stamp, u32 flags, u32 trigger,
			 const struct kw_src *src, void *buf)
{
	loff_t pos = WOOF_SLOT_POS(w, idx);
	u64 es = w->element_size, off;
	size_t chunk = w->bounce_size, n;
	struct { u32 flags, trigger; } ft = { flags, trigger };
	const void *data;
	u64 ftw;
	int ret;

	/* the first chunk before anything changes: a bad pointer leaves the slot alone */
	n = min_t(u64, es, chunk);
	ret = kw_fill(w, src, 0, n, &data, buf);
	if (ret)
		return ret;
	if (n == es && offset_in_page(pos) + WOOF_SLOT_HEADER_SIZE + es <= PAGE_SIZE)
		return woof_slot_write(&w->wc, pos, stamp, flags, trigger, data, es, true);

	ret = woof_slot_write(&w->wc, pos, 0, 0, 0, NULL, 0, false);
	if (ret)
		return ret;
	memcpy(&ftw, &ft, sizeof(ftw));
	ret = woof_file_store_u64(&w->wc, pos + offsetof(struct woof_slot, flags), ftw);
	for (off = 0; !ret && off < es; off += n) {
		n = min_t(u64, es - off, chunk);
		if (off)
			ret = kw_fill(w, src, off, n, &data, buf);
		if (!ret)
			ret = woof_file_write(&w->wc, pos + WOOF_SLOT_HEADER_SIZE + off, data, n);
		if (es > chunk)
			cond_resched();
	}
	if (ret)
		return ret;
	/* the contents before the final stamp */
	smp_wmb();
	return woof_file_store_u64(&w->wc, pos, stamp);
}

int kwoof_read_slot(struct kwoof *w, u64 idx, struct woof_slot *sl)
{
	return woof_file_read(w->file, WOOF_SLOT_POS(w, idx), sl, sizeof(*sl));
}

/*
 * Finish or undo an append that stopped half way (format.md, "repair"),
 * with c = seq and s = c + 1. Lock held, w->wc begun.
 */
static int kw_repair(struct kwoof *w)
{
	u64 H = w->history_size, s = w->seq + 1, idx = kw_index(w, s);
	struct woof_slot sl, undo;
	int ret;

	ret = kwoof_read_slot(w, idx, &sl);
	if (ret)
		return ret;
	if (sl.stamp == s) {
		ret = woof_file_store_u64(&w->wc, WOOF_HDR_POS(seq_no), s);
		if (!ret)
			WRITE_ONCE(w->seq, s);
	} else if (s > H) {
		ret = kwoof_read_slot(w, H, &undo);
		if (!ret && sl.stamp != s - H && undo.stamp == s - H) {
			struct kw_src src = { .kind = KW_SRC_SLOT, .slot = H };

			ret = kw_write_slot(w, idx, s - H, undo.flags, undo.trigger, &src,
					    w->bounce2);
		}
	} else if (sl.stamp) {
		ret = woof_slot_write(&w->wc, WOOF_SLOT_POS(w, idx), 0, 0, 0, NULL, 0, false);
	}
	if (!ret)
		w->need_repair = false;
	return ret;
}

/* Begin an operation's writes: the file must still hold the whole WOOF. */
static int kw_begin(struct kwoof *w)
{
	woof_wctx_begin(&w->wc, w->file, w->file_size);
	if ((u64)i_size_read(file_inode(w->file)) < w->file_size)
		return -EBADMSG;	/* cut behind our back: not a WOOF any more */
	if (w->need_repair)
		return kw_repair(w);
	return 0;
}

static void kw_end(struct kwoof *w)
{
	woof_wctx_end(&w->wc);
}

/*
 * The slot an append of @s overwrites (s > history): its header in *@old
 * and, for elements that fit the bounce buffer, the whole element read
 * once into bounce2 (@src says where the undo copy comes from).
 */
static int kw_read_old(struct kwoof *w, u64 idx, struct woof_slot *old, struct kw_src *src)
{
	int ret;

	if (w->element_size <= w->bounce_size) {
		ret = woof_wctx_read(&w->wc, WOOF_SLOT_POS(w, idx), w->bounce2,
				     WOOF_SLOT_HEADER_SIZE + w->element_size);
		if (ret)
			return ret;
		memcpy(old, w->bounce2, sizeof(*old));
		src->kind = KW_SRC_BUF;
		src->kbuf = (u8 *)w->bounce2 + WOOF_SLOT_HEADER_SIZE;
		return 0;
	}
	src->kind = KW_SRC_SLOT;
	src->slot = idx;
	return woof_wctx_read(&w->wc, WOOF_SLOT_POS(w, idx), old, sizeof(*old));
}

/*
 * Steps 2-4 of an append of sequence number @s: undo copy (from @old, the
 * overwritten slot), slot, commit. Lock held, w->wc begun.
 */
static int kw_commit(struct kwoof *w, u64 s, u32 flags, u32 trigger,
		     const struct kw_src *src, const struct woof_slot *oldh,
		     const struct kw_src *old)
{
	u64 H = w->history_size, idx = kw_index(w, s);
	int ret;

	if (s > H) {
		ret = kw_write_slot(w, H, s - H, oldh->flags, oldh->trigger, old,
				    (u8 *)w->bounce2 + WOOF_SLOT_HEADER_SIZE);
		if (ret)
			goto fail;
	}
	ret = kw_write_slot(w, idx, s, flags, trigger, src, w->bounce);
	if (!ret)
		ret = woof_file_store_u64(&w->wc, WOOF_HDR_POS(seq_no), s);
	if (ret)
		goto fail;
	WRITE_ONCE(w->seq, s);
	return 0;
fail:
	w->need_repair = true;
	kw_repair(w);
	return ret;
}

/* Seqlock-ordered write of a slot at @sl (stamp 0, flags, trigger, element, stamp). */
static __always_inline void kw_slot_store(struct woof_slot *sl, u64 stamp, u32 flags,
					  u32 trigger, const void *el, size_t len)
{
	WRITE_ONCE(sl->stamp, 0);
	/* stamp 0 before the new contents (seqlock writer) */
	smp_wmb();
	WRITE_ONCE(sl->flags, flags);
	WRITE_ONCE(sl->trigger, trigger);
	woof_memcpy(sl + 1, el, len);
	/* the contents before the stamp that declares them complete */
	smp_store_release(&sl->stamp, stamp);
}

/* Where kw_fast_prepare() found the pages of an append: see kw_fast_append(). */
struct kw_fast {
	struct woof_header *h;
	struct woof_slot *sl, *undo;	/* undo: NULL until the WOOF wraps */
	struct page *hp, *slp, *undop;	/* their head pages, for the checks */
	u32 oflags, otrigger;		/* the overwritten slot's flags and trigger */
};

/*
 * The common append in straight-line code, in two halves so that the
 * ioctl fast path can read its argument in between: the element (in
 * w->bounce) is small, and the slot, the undo slot and the header are in
 * pages the write context keeps and that are dirty, so no page is looked
 * up or locked (see woof_wctx_lockless_page).
 *
 * kw_fast_prepare() changes nothing: 0, or -EAGAIN (take the general
 * path: a page not in place, a slot across two pages (about one in
 * PAGE_SIZE / slot_size), the slot to overwrite still PENDING, a repair
 * to make).
 */
static __always_inline int kw_fast_prepare(struct kwoof *w, u64 s, u64 idx, struct kw_fast *f)
{
	size_t es = w->element_size, sz = WOOF_SLOT_HEADER_SIZE + es;

	if (es > w->bounce_size || w->need_repair)
		return -EAGAIN;
	f->h = woof_wctx_lockless_ptr(&w->wc, 0, WOOF_HEADER_SIZE, &f->hp, 0);
	if (!f->h)
		return -EAGAIN;
	f->sl = woof_wctx_lockless_ptr(&w->wc, WOOF_SLOT_POS(w, idx), sz, &f->slp, 1);
	if (!f->sl)
		return -EAGAIN;
	f->undo = NULL;
	f->undop = NULL;
	f->oflags = 0;
	f->otrigger = 0;
	if (s > w->history_size) {
		f->undo = woof_wctx_lockless_ptr(&w->wc, WOOF_SLOT_POS(w, w->history_size), sz,
						 &f->undop, 2);
		if (!f->undo)
			return -EAGAIN;
		f->oflags = READ_ONCE(f->sl->flags);
		f->otrigger = READ_ONCE(f->sl->trigger);
		if (f->oflags & WOOF_SLOT_PENDING)
			return -EAGAIN;	/* the general path decides: wait or overrun */
	}
	return 0;
}

/*
 * The stores of a prepared append of @s: returns 0 (committed) or
 * KW_FAST_REDO: everything was stored, but a page was cleaned (or left
 * the file) meanwhile, and kw_commit() must store it all again through
 * the file system. The overwritten element (the undo copy, s > history)
 * is then in *@oldh and *@old (bounce2): the slot itself already holds
 * the new one.
 */
static __always_inline int kw_fast_store(struct kwoof *w, u64 s, u32 flags, u32 trigger,
					 const struct kw_fast *f, struct woof_slot *oldh,
					 struct kw_src *old)
{
	size_t es = w->element_size;

	if (f->undo)
		kw_slot_store(f->undo, s - w->history_size, f->oflags, f->otrigger, f->sl + 1, es);
	kw_slot_store(f->sl, s, flags, trigger, w->bounce, es);
	/* the commit point: seq_no after the slot, as readers acquire it */
	smp_store_release(&f->h->seq_no, s);
	WRITE_ONCE(w->seq, s);
	/*
	 * The stores before the dirty bits (see wpage_begin), and w->seq
	 * before the caller's waitqueue_active() (the barrier wq_has_sleeper
	 * would make).
	 */
	smp_mb();
	if (unlikely(!woof_wctx_lockless_ok(&w->wc, f->slp) ||
		     !woof_wctx_lockless_ok(&w->wc, f->hp) ||
		     (f->undop && !woof_wctx_lockless_ok(&w->wc, f->undop)))) {
		/* kw_commit() appends s again (and kw_repair() repairs s) */
		WRITE_ONCE(w->seq, s - 1);
		if (f->undo) {
			/* the slot has the new element now: the old one is in the undo slot */
			memset(oldh, 0, sizeof(*oldh));
			oldh->stamp = s - w->history_size;
			oldh->flags = f->oflags;
			oldh->trigger = f->otrigger;
			memcpy((u8 *)w->bounce2 + WOOF_SLOT_HEADER_SIZE, f->undo + 1, es);
			old->kind = KW_SRC_BUF;
			old->kbuf = (u8 *)w->bounce2 + WOOF_SLOT_HEADER_SIZE;
		}
		return KW_FAST_REDO;
	}
	return 0;
}

/*
 * Both halves: 0 (committed), -EAGAIN (nothing stored), or KW_FAST_REDO
 * (see kw_fast_store).
 */
static __always_inline int kw_fast_append(struct kwoof *w, u64 s, u64 idx, u32 flags,
					  u32 trigger, struct woof_slot *oldh,
					  struct kw_src *old)
{
	struct kw_fast f __uninitialized;	/* not zeroed per call (INIT_STACK_ALL_ZERO) */
	int ret;

	ret = kw_fast_prepare(w, s, idx, &f);
	if (ret)
		return ret;
	return kw_fast_store(w, s, flags, trigger, &f, oldh, old);
}

/* Append w->bounce (filled by the caller) as the next element. Lock held. */
int kwoof_commit_bounce(struct kwoof *w, u64 *seq)
{
	struct kw_src src = { .kind = KW_SRC_BUF, .kbuf = w->bounce }, old;
	u64 s = w->seq + 1, idx = kw_next_index(w, s);
	struct woof_slot oldh;
	int ret;

	ret = kw_begin(w);
	if (!ret) {
		ret = kw_fast_append(w, s, idx, 0, 0, &oldh, &old);
		if (!ret)
			goto out;
		if (ret == KW_FAST_REDO)
			goto commit;
		ret = 0;
	}
	if (!ret && s > w->history_size)
		ret = kw_read_old(w, idx, &oldh, &old);
commit:
	if (!ret)
		ret = kw_commit(w, s, 0, 0, &src, &oldh, &old);
out:
	kw_end(w);
	if (!ret) {
		*seq = s;
		kw_set_next_index(w, s, idx);
	}
	return ret;
}

/*
 * One append with @w->lock held. Returns 0 (*@seq set), -errno, or
 * KW_WAIT_SLOT / KW_WAIT_LOG when it would have to wait.
 */
static int kw_append_locked(struct kwoof *w, const void __user *el, const char *handler,
			    u32 flags, u64 *seq, bool *triggered)
{
	struct kw_src src = { .kind = KW_SRC_USER, .user = el }, old = { 0 };
	u64 H = w->history_size, s = w->seq + 1, idx = kw_next_index(w, s), t = 0, overruns = 0;
	struct woof_slot oldh = { 0 };
	bool overrun = false;
	int ret;

	if (w->dead)
		return -ENODEV;
	if (w->stale)
		return -ESTALE;
	/* small elements: copied in before anything else */
	if (w->element_size <= w->bounce_size) {
		if (woof_copy_from_user(w->bounce, el, w->element_size))
			return -EFAULT;
		src.kind = KW_SRC_BUF;
		src.kbuf = w->bounce;
	}
	ret = kw_begin(w);
	if (!ret && !handler) {
		ret = kw_fast_append(w, s, idx, 0, 0, &oldh, &old);
		if (!ret)
			goto out;
		if (ret == KW_FAST_REDO) {
			ret = 0;
			goto commit;
		}
		ret = 0;
	}
	if (!ret && s > H) {
		ret = kw_read_old(w, idx, &oldh, &old);
		if (!ret && (oldh.flags & WOOF_SLOT_PENDING)) {
			if (!(w->flags & WOOF_F_OVERWRITE))
				ret = KW_WAIT_SLOT;
			else
				overrun = true;
		}
	}
	if (!ret && handler) {
		/* the log has its own lock and write context: hold no i_rwsem meanwhile */
		woof_wctx_end(&w->wc);
		ret = woof_trigger_append(w->ns, w, s, handler, flags, &t);
		if (!ret)
			*triggered = true;
	}
	if (!ret && overrun) {
		/* WOOF_F_OVERWRITE: the handler will find its element gone */
		ret = woof_file_read_u64(w->file, WOOF_HDR_POS(overruns), &overruns);
		if (!ret)
			ret = woof_file_store_u64(&w->wc, WOOF_HDR_POS(overruns), ++overruns);
	}
	if (!ret && handler && src.kind == KW_SRC_BUF && !overrun) {
		/* -EAGAIN or KW_FAST_REDO: oldh and old still describe the old element */
		if (kw_fast_append(w, s, idx, WOOF_SLOT_PENDING, (u32)t, &oldh, &old) == 0)
			goto out;
	}
commit:
	if (!ret)
		ret = kw_commit(w, s, handler ? WOOF_SLOT_PENDING : 0, (u32)t, &src, &oldh, &old);
	if (!ret && overrun)
		woof_genl_overrun(w, s - H, overruns);
out:
	kw_end(w);
	if (!ret) {
		*seq = s;
		kw_set_next_index(w, s, idx);
		trace_woof_append(w->ns->name, w->name, s, w->element_size, t);
	}
	return ret;
}

/*
 * Append @count elements from @el (contiguous) under one hold of the lock,
 * so they get consecutive numbers *@first ..; *@done says how many. Waits
 * (interruptibly) only before the first element; later it stops short.
 */
int kwoof_append(struct kwoof *w, const void __user *el, u64 count, const char *handler,
		 u32 flags, u64 *first, u64 *done)
{
	struct woof_nsdev *ns = w->ns;
	bool triggered = false;
	unsigned long claims;
	u64 floor, seq;
	int ret = 0;

	*done = 0;
	for (;;) {
		if (mutex_lock_interruptible(&w->lock))
			return -ERESTARTSYS;
		while (*done < count) {
			ret = kw_append_locked(w, el + *done * w->element_size, handler, flags,
					       &seq, &triggered);
			if (ret)
				break;
			if (!*done)
				*first = seq;
			(*done)++;
			if (*done < count) {
				if (signal_pending(current))
					break;
				cond_resched();
			}
		}
		claims = w->claims;
		floor = READ_ONCE(ns->done_floor);
		mutex_unlock(&w->lock);

		if (*done || ret <= 0)
			break;
		/* KW_WAIT_*: nothing appended yet */
		if (flags & WOOF_APPEND_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		if (ret == KW_WAIT_SLOT)
			ret = wait_event_interruptible(w->wq, READ_ONCE(w->claims) != claims ||
						       READ_ONCE(w->stale) || READ_ONCE(w->dead));
		else
			ret = wait_event_interruptible(ns->floor_wq,
						       READ_ONCE(ns->done_floor) != floor ||
						       READ_ONCE(ns->dead) || READ_ONCE(w->stale));
		if (ret)
			return ret;
	}

	if (*done) {
		if (wq_has_sleeper(&w->wq))
			wake_up_interruptible_poll(&w->wq, EPOLLIN | EPOLLRDNORM);
		if (triggered && wq_has_sleeper(&ns->twq))
			wake_up_interruptible_poll(&ns->twq, EPOLLIN | EPOLLRDNORM);
		if (READ_ONCE(w->flags) & WOOF_F_DURABLE) {
			int err = vfs_fsync(w->file, 1);

			if (!err && triggered)
				err = vfs_fsync(ns->log->file, 1);
			if (err)
				return err;
		}
		return 0;
	}
	return ret;
}

/* ---- serving a file ------------------------------------------------------------ */

/*
 * Start serving: set WOOF_STATE_KERNEL, let a user-space appender that
 * holds the lock word finish (or take over from a dead one), repair, load
 * seq_no. -EAGAIN: the file was replaced or removed meanwhile.
 */
static int kw_take_over(struct kwoof *w)
{
	unsigned long end, check;
	struct file *f = w->file;
	u32 state = 0;
	u64 lock, cur;
	int ret;

	mutex_lock(&w->lock);
	ret = kw_begin(w);
	if (!ret)
		ret = woof_file_or_u32(&w->wc, WOOF_HDR_POS(state), WOOF_STATE_KERNEL, 0, &state);
	kw_end(w);
	if (ret)
		goto out;
	if (state & (WOOF_STATE_REPLACED | WOOF_STATE_REMOVED)) {
		ret = -EAGAIN;
		goto undo;
	}

	end = jiffies + 2 * HZ;
	check = jiffies + HZ / 50;
	for (;;) {
		ret = woof_file_read_u64(f, WOOF_HDR_POS(lock), &lock);
		if (ret)
			goto undo;
		if (!lock)
			break;
		/* after 20 ms, then every 100 ms: is the holder still alive? */
		if (time_after(jiffies, check)) {
			check = jiffies + HZ / 10;
			if (!woof_owner_alive(w->ns, lock)) {
				/* it died holding the lock: repair, then free it */
				ret = woof_file_read_u64(f, WOOF_HDR_POS(seq_no), &w->seq);
				if (!ret)
					ret = kw_begin(w);
				if (!ret)
					ret = kw_repair(w);
				if (!ret)
					ret = woof_file_cmpxchg_u64(&w->wc, WOOF_HDR_POS(lock),
								    lock, 0, &cur);
				kw_end(w);
				if (ret)
					goto undo;
				continue;
			}
		}
		if (time_after(jiffies, end)) {
			ret = -EBUSY;	/* a live appender kept the lock for 2 s */
			goto undo;
		}
		if (msleep_interruptible(1)) {
			ret = -EINTR;
			goto undo;
		}
	}

	ret = woof_file_read_u64(f, WOOF_HDR_POS(seq_no), &w->seq);
	if (!ret)
		ret = kw_begin(w);
	if (!ret)
		ret = kw_repair(w);
	kw_end(w);
	if (!ret)
		goto out;
undo:
	if (!(state & WOOF_STATE_KERNEL))
		woof_file_mark(f, 0, WOOF_STATE_KERNEL);
out:
	mutex_unlock(&w->lock);
	return ret;
}

/*
 * The inodes the module serves, each by exactly one kwoof, whichever
 * namespace and path it was reached through (a file renamed from one
 * namespace directory into another while served, or a trigger log renamed
 * into a namespace as a WOOF): two kwoofs of one file would each keep its
 * own sequence and hand out the same numbers twice.
 */
static DEFINE_SPINLOCK(woof_served_lock);
static DEFINE_HASHTABLE(woof_served, 10);

static struct kwoof *kw_served_find(const struct inode *inode)
{
	struct kwoof *w;

	lockdep_assert_held(&woof_served_lock);
	hash_for_each_possible(woof_served, w, snode, (unsigned long)inode)
		if (file_inode(w->file) == inode)
			return w;
	return NULL;
}

/* Make @w its inode's server: -EBUSY if another kwoof serves it. */
static int kw_register(struct kwoof *w)
{
	struct inode *inode = file_inode(w->file);
	int ret = 0;

	spin_lock(&woof_served_lock);
	if (kw_served_find(inode)) {
		ret = -EBUSY;
	} else {
		hash_add(woof_served, &w->snode, (unsigned long)inode);
		w->registered = true;
	}
	spin_unlock(&woof_served_lock);
	return ret;
}

static void kw_unregister(struct kwoof *w)
{
	spin_lock(&woof_served_lock);
	if (w->registered) {
		hash_del(&w->snode);
		w->registered = false;
	}
	spin_unlock(&woof_served_lock);
}

/*
 * Is @inode served, other than as a WOOF of @ns's own table (by another
 * namespace, or as a trigger log)? Then @ns must neither serve, replace
 * nor remove it.
 */
bool kwoof_served_elsewhere(const struct woof_nsdev *ns, const struct inode *inode)
{
	struct kwoof *w;
	bool ret;

	spin_lock(&woof_served_lock);
	w = kw_served_find(inode);
	ret = w && (w->ns != ns || w->is_log);
	spin_unlock(&woof_served_lock);
	return ret;
}

static void kwoof_release(struct kref *ref)
{
	struct kwoof *w = container_of(ref, struct kwoof, ref);

	kw_unregister(w);
	woof_wctx_release(&w->wc);
	fput(w->file);
	kvfree(w->bounce);
	if (!w->is_log)
		woof_ns_put(w->ns);
	kfree(w);
}

void kwoof_put(struct kwoof *w)
{
	kref_put(&w->ref, kwoof_release);
}

/*
 * Serve the WOOF open on @f (header @h, validated). Takes over @f (it is
 * put on failure). The log does not hold a namespace reference: the
 * namespace holds it.
 */
struct kwoof *kwoof_serve(struct woof_nsdev *ns, struct file *f,
			  const struct woof_header *h, const char *name, bool is_log)
{
	struct kwoof *w;
	size_t b;
	int ret;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		fput(f);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&w->ref);
	mutex_init(&w->lock);
	if (is_log)
		lockdep_set_class(&w->lock, &woof_log_lock_key);
	init_waitqueue_head(&w->wq);
	w->file = f;
	w->ns = ns;
	w->is_log = is_log;
	if (!is_log)
		woof_ns_get(ns);
	w->element_size = h->element_size;
	w->history_size = h->history_size;
	w->slot_size = h->slot_size;
	w->file_size = WOOF_FILE_SIZE(h->element_size, h->history_size);
	w->create_time_ns = h->create_time_ns;
	w->flags = h->flags;
	strscpy(w->name, name, sizeof(w->name));

	b = ALIGN(min_t(u64, h->element_size, WOOF_BOUNCE_MAX), 8);
	if (is_log)
		b = max_t(size_t, b, sizeof(struct woof_trigger));
	w->bounce_size = min_t(u64, h->element_size, b);
	w->bounce = kvmalloc(2 * b + WOOF_SLOT_HEADER_SIZE, GFP_KERNEL);
	if (!w->bounce) {
		kwoof_put(w);
		return ERR_PTR(-ENOMEM);
	}
	w->bounce2 = (u8 *)w->bounce + b;

	/* one server per file, before anything is written to it */
	ret = kw_register(w);
	if (!ret)
		ret = kw_take_over(w);
	if (ret) {
		kwoof_put(w);	/* unregisters */
		return ERR_PTR(ret);
	}
	return w;
}

/*
 * Stop serving @w: clear WOOF_STATE_KERNEL and set @set (REMOVED,
 * REPLACED) in its header, unless the namespace is already gone. With
 * @dead the namespace is being unmounted: fds get -ENODEV; otherwise the
 * WOOF is stale: -ESTALE.
 */
void kwoof_retire(struct kwoof *w, u32 set, bool dead)
{
	mutex_lock(&w->lock);
	if (!w->dead)
		woof_file_mark(w->file, set, WOOF_STATE_KERNEL);
	/* after the mark: whoever serves the file next sets WOOF_STATE_KERNEL again */
	kw_unregister(w);
	woof_wctx_release(&w->wc);	/* no more writes: pin no pages */
	if (dead)
		WRITE_ONCE(w->dead, true);
	else
		WRITE_ONCE(w->stale, true);
	mutex_unlock(&w->lock);
	wake_up_all(&w->wq);
}

/* ---- the WOOF fd -------------------------------------------------------------- */

static void wf_free(struct woof_wfile *wf)
{
	atomic_dec(&wf->w->ns->users);
	kwoof_put(wf->w);
	kfree(wf);
}

static int woof_wf_release(struct inode *inode, struct file *file)
{
	wf_free(file->private_data);
	return 0;
}

/*
 * A read-only, never executable view of the backing file: the mapping is
 * the file's own. Elements are data that whoever can append wrote: no
 * PROT_EXEC (-EPERM, as on a noexec mount), and no mprotect() to it later.
 */
static int woof_wf_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct woof_wfile *wf = file->private_data;
	struct file *backing = wf->w->file;

	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (!backing->f_op->mmap)
		return -ENODEV;
	vma->vm_flags &= ~(VM_MAYWRITE | VM_MAYEXEC);
	vma_set_file(vma, backing);
	return call_mmap(backing, vma);
}

static bool kw_gone(const struct kwoof *w)
{
	return READ_ONCE(w->stale) || READ_ONCE(w->dead);
}

static int kw_gone_err(const struct kwoof *w)
{
	return READ_ONCE(w->dead) ? -ENODEV : -ESTALE;
}

/* read(): 8 bytes, the latest seq_no, once it is past the fd's mark (then the mark). */
static ssize_t woof_wf_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct woof_wfile *wf = iocb->ki_filp->private_data;
	struct kwoof *w = wf->w;
	u64 latest;
	int ret;

	if (iov_iter_count(to) < sizeof(u64))
		return -EINVAL;
	for (;;) {
		latest = READ_ONCE(w->seq);
		if (latest > READ_ONCE(wf->mark))
			break;
		if (kw_gone(w))
			return kw_gone_err(w);
		if ((iocb->ki_flags & IOCB_NOWAIT) || (iocb->ki_filp->f_flags & O_NONBLOCK))
			return -EAGAIN;
		ret = wait_event_interruptible(w->wq, READ_ONCE(w->seq) > READ_ONCE(wf->mark) ||
					       kw_gone(w));
		if (ret)
			return ret;
	}
	WRITE_ONCE(wf->mark, latest);
	if (copy_to_iter(&latest, sizeof(latest), to) != sizeof(latest))
		return -EFAULT;
	return sizeof(latest);
}

static __poll_t woof_wf_poll(struct file *file, struct poll_table_struct *pt)
{
	struct woof_wfile *wf = file->private_data;
	struct kwoof *w = wf->w;
	__poll_t mask = 0;

	poll_wait(file, &w->wq, pt);
	if (READ_ONCE(w->seq) > READ_ONCE(wf->mark))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (kw_gone(w))
		mask |= EPOLLERR | EPOLLHUP;
	return mask;
}

static int woof_get_handler(u64 uptr, char *buf, size_t cap, const char **handler)
{
	long n;

	*handler = NULL;
	if (!uptr)
		return 0;
	n = strncpy_from_user(buf, u64_to_user_ptr(uptr), cap);
	if (n < 0)
		return -EFAULT;
	if ((size_t)n >= cap)
		return -ENAMETOOLONG;
	*handler = buf;
	return woof_name_valid(buf, cap);
}

/*
 * WOOF_IOC_APPEND in general: any size, a handler, a durable WOOF, a wait.
 * Out of line: its handler buffer is zeroed on every call on kernels built
 * with INIT_STACK_ALL_ZERO, which the fast path below must not pay for.
 */
static noinline long woof_ioc_append_slow(struct woof_wfile *wf, void __user *arg)
{
	struct woof_append __user *ua = arg;
	char hbuf[WOOF_NAME_MAX + 1] __uninitialized;	/* filled before use */
	struct woof_append a __uninitialized;	/* woof_copy_in fills it */
	const char *handler;
	u64 first = 0, done;
	int ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if ((a.flags & ~WOOF_APPEND_ALL) || a.reserved[0] || a.reserved[1] || a.reserved[2])
		return -EINVAL;
	if (a.element_size != wf->w->element_size)
		return -EINVAL;
	ret = woof_get_handler(a.handler, hbuf, sizeof(hbuf), &handler);
	if (ret)
		return ret;
	ret = kwoof_append(wf->w, u64_to_user_ptr(a.element), 1, handler, a.flags, &first,
			   &done);
	if (ret)
		return ret;
	return put_user(first, &ua->seq) ? -EFAULT : 0;
}

#define KW_SLOW		4	/* the fast path cannot do it: nothing was done */

/*
 * WOOF_IOC_APPEND of one element without a handler (the common call) in
 * straight-line code. Under the lock: the pages found (kw_fast_prepare),
 * then one user access section reads the struct field by field (each
 * checked as woof_ioc_append_slow checks it), copies the element into the
 * bounce buffer and writes back @seq; then kw_fast_store. One section,
 * because entering and leaving one (STAC/CLAC with SMAP) is what costs
 * most here under emulation. Anything out of the ordinary (another struct
 * size, bad fields, a handler, a durable WOOF, an element that is large or
 * not 8-byte aligned, a page not in place, a slot across two pages or
 * still PENDING, a fault) returns KW_SLOW with nothing done (@seq as it
 * was), and the general path does it all and reports the errors.
 */
static __always_inline long kw_ioc_append_fast(struct kwoof *w, struct woof_append __user *ua)
{
	struct kw_src src = { .kind = KW_SRC_BUF }, old;
	u64 el, esz, handler, oseq, r0, r1, r2, s, idx, *b = w->bounce;
	size_t es = w->element_size, n;
	const u64 __user *uel;
	struct woof_slot oldh;
	struct kw_fast f __uninitialized;	/* not zeroed per call (INIT_STACK_ALL_ZERO) */
	u32 size, flags;
	bool sleepers;
	long ret;

	if (unlikely(es > w->bounce_size || es > WOOF_SMALL_COPY || !IS_ALIGNED(es, 8) ||
		     (READ_ONCE(w->flags) & WOOF_F_DURABLE)))
		return KW_SLOW;
	if (mutex_lock_interruptible(&w->lock))
		return -ERESTARTSYS;
	ret = KW_SLOW;
	if (unlikely(w->dead || w->stale || w->need_repair))
		goto unlock;
	/* w->wc as kw_begin() leaves it (bound to w->file since kw_take_over) */
	if (unlikely(w->wc.f != w->file))
		goto unlock;
	w->wc.need = w->file_size;
	if (unlikely((u64)i_size_read(file_inode(w->file)) < w->file_size))
		goto unlock;	/* cut behind our back: the general path says -EBADMSG */
	s = w->seq + 1;
	idx = kw_next_index(w, s);
	if (kw_fast_prepare(w, s, idx, &f))
		goto unlock;

	if (!user_access_begin(ua, sizeof(*ua)))
		goto unlock;
	unsafe_get_user(size, &ua->size, efault);
	unsafe_get_user(flags, &ua->flags, efault);
	unsafe_get_user(el, &ua->element, efault);
	unsafe_get_user(esz, &ua->element_size, efault);
	unsafe_get_user(handler, &ua->handler, efault);
	unsafe_get_user(oseq, &ua->seq, efault);
	unsafe_get_user(r0, &ua->reserved[0], efault);
	unsafe_get_user(r1, &ua->reserved[1], efault);
	unsafe_get_user(r2, &ua->reserved[2], efault);
	if (unlikely(size != sizeof(*ua) || (flags & ~WOOF_APPEND_ALL) || handler ||
		     (r0 | r1 | r2) || esz != es || !IS_ALIGNED(el, 8)))
		goto efault;
	uel = u64_to_user_ptr(el);
	if (unlikely(!access_ok(uel, es)))
		goto efault;
	/* no speculative loads through an unchecked pointer (user_access_begin does the same) */
	barrier_nospec();
	/* by four words, as woof_copy_from_user */
	for (n = 0; n + 4 <= es / 8; n += 4) {
		unsafe_get_user(b[n], uel + n, efault);
		unsafe_get_user(b[n + 1], uel + n + 1, efault);
		unsafe_get_user(b[n + 2], uel + n + 2, efault);
		unsafe_get_user(b[n + 3], uel + n + 3, efault);
	}
	for (; n < es / 8; n++)
		unsafe_get_user(b[n], uel + n, efault);
	/* before the commit: undone below if it fails, which it almost never does */
	unsafe_put_user(s, &ua->seq, efault);
	user_access_end();

	ret = kw_fast_store(w, s, 0, 0, &f, &oldh, &old);
	if (likely(!ret)) {
		/* kw_fast_store's smp_mb() ordered w->seq before this */
		sleepers = waitqueue_active(&w->wq);
	} else {
		src.kbuf = w->bounce;
		ret = kw_commit(w, s, 0, 0, &src, &oldh, &old);
		kw_end(w);
		if (ret) {
			mutex_unlock(&w->lock);
			/* failed: the struct as it was (it was writable a moment ago) */
			(void)put_user(oseq, &ua->seq);
			return ret;
		}
		sleepers = wq_has_sleeper(&w->wq);
	}
	kw_set_next_index(w, s, idx);
	trace_woof_append(w->ns->name, w->name, s, es, 0);
	mutex_unlock(&w->lock);
	if (sleepers)
		wake_up_interruptible_poll(&w->wq, EPOLLIN | EPOLLRDNORM);
	return 0;
efault:
	/* or invalid: the general path tells which; nothing was written */
	user_access_end();
unlock:
	mutex_unlock(&w->lock);
	return ret;
}

static long woof_ioc_append(struct woof_wfile *wf, struct file *file, void __user *arg)
{
	long ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = kw_ioc_append_fast(wf->w, arg);
	if (likely(ret != KW_SLOW))
		return ret;
	return woof_ioc_append_slow(wf, arg);
}

static long woof_ioc_append_batch(struct woof_wfile *wf, struct file *file, void __user *arg)
{
	char hbuf[WOOF_NAME_MAX + 1] __uninitialized;	/* filled before use */
	struct woof_append_batch a __uninitialized;	/* woof_copy_in fills it */
	const char *handler;
	u64 first = 0, done = 0;
	int ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if ((a.flags & ~WOOF_APPEND_ALL) || a.reserved[0] || a.reserved[1])
		return -EINVAL;
	if (a.element_size != wf->w->element_size || !a.count || a.count > WOOF_BATCH_MAX)
		return -EINVAL;
	ret = woof_get_handler(a.handler, hbuf, sizeof(hbuf), &handler);
	if (ret)
		return ret;
	ret = kwoof_append(wf->w, u64_to_user_ptr(a.elements), a.count, handler, a.flags,
			   &first, &done);
	if (ret)
		return ret;
	a.done = (u32)done;
	a.first_seq = first;
	return woof_copy_out(arg, &a, sizeof(a));
}

static bool kw_waited(const struct kwoof *w, u64 seq)
{
	return READ_ONCE(w->seq) > seq || kw_gone(w);
}

static long woof_ioc_wait(struct woof_wfile *wf, void __user *arg)
{
	struct kwoof *w = wf->w;
	struct woof_wait a;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved[0] || a.reserved[1])
		return -EINVAL;
	WRITE_ONCE(wf->mark, a.seq);
	if (kw_waited(w, a.seq))
		ret = 0;
	else if (a.timeout_ns == 0)
		ret = -ETIMEDOUT;
	else if (a.timeout_ns < 0)
		ret = wait_event_interruptible(w->wq, kw_waited(w, a.seq));
	else
		ret = wait_event_interruptible_hrtimeout(w->wq, kw_waited(w, a.seq),
							 ns_to_ktime(a.timeout_ns));
	if (ret == -ETIME)
		ret = -ETIMEDOUT;
	else if (ret == -ERESTARTSYS && a.timeout_ns > 0)
		ret = -EINTR;
	a.latest = READ_ONCE(w->seq);
	if (!ret && a.latest <= a.seq)
		ret = kw_gone_err(w);
	if (ret && ret != -ETIMEDOUT)
		return ret;
	if (woof_copy_out(arg, &a, sizeof(a)))
		return -EFAULT;
	return ret;
}

/* SET_FLAGS: change the WOOF's persistent flags, header synced before it returns. */
static long woof_ioc_set_flags(struct woof_wfile *wf, struct file *file, void __user *arg)
{
	struct kwoof *w = wf->w;
	struct woof_set_flags a;
	u32 old = 0;
	long ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved0 || a.reserved[0] || a.reserved[1] ||
	    ((a.set | a.clear) & ~WOOF_F_ALL) || (a.set & a.clear))
		return -EINVAL;
	if (mutex_lock_interruptible(&w->lock))
		return -ERESTARTSYS;
	if (w->dead) {
		ret = -ENODEV;
	} else if (w->stale) {
		ret = -ESTALE;
	} else {
		ret = kw_begin(w);
		if (!ret)
			ret = woof_file_or_u32(&w->wc, WOOF_HDR_POS(flags), a.set, a.clear, &old);
		kw_end(w);
		if (!ret)
			WRITE_ONCE(w->flags, (w->flags | a.set) & ~a.clear);
	}
	mutex_unlock(&w->lock);
	if (!ret)
		ret = vfs_fsync_range(w->file, 0, WOOF_HEADER_SIZE - 1, 1);
	if (ret)
		return ret;
	a.old = old;
	return woof_copy_out(arg, &a, sizeof(a));
}

static long woof_wf_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct woof_wfile *wf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case WOOF_IOC_APPEND:
		return woof_ioc_append(wf, file, uarg);
	case WOOF_IOC_APPEND_BATCH:
		return woof_ioc_append_batch(wf, file, uarg);
	case WOOF_IOC_WAIT:
		return woof_ioc_wait(wf, uarg);
	case WOOF_IOC_SET_FLAGS:
		return woof_ioc_set_flags(wf, file, uarg);
	default:
		return -ENOIOCTLCMD;
	}
}

static const struct file_operations woof_wf_fops = {
	.owner = THIS_MODULE,
	.release = woof_wf_release,
	.mmap = woof_wf_mmap,
	.read_iter = woof_wf_read_iter,
	.poll = woof_wf_poll,
	.unlocked_ioctl = woof_wf_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * A new WOOF fd holding a reference on @w (taken here), filled into @o's
 * out fields; the fd is installed only once @o reached user space.
 */
int kwoof_install_fd(struct kwoof *w, struct woof_open *o, void __user *arg)
{
	bool writable = !(o->flags & WOOF_OPEN_RDONLY);
	struct woof_wfile *wf;
	struct file *file;
	u32 state = 0;
	int fd, ret;

	wf = kzalloc(sizeof(*wf), GFP_KERNEL);
	if (!wf)
		return -ENOMEM;
	fd = get_unused_fd_flags(O_RDWR | ((o->flags & WOOF_OPEN_CLOEXEC) ? O_CLOEXEC : 0));
	if (fd < 0) {
		kfree(wf);
		return fd;
	}
	kref_get(&w->ref);
	atomic_inc(&w->ns->users);
	wf->w = w;
	wf->mark = READ_ONCE(w->seq);
	file = anon_inode_getfile("[woof]", &woof_wf_fops, wf, writable ? O_RDWR : O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		wf_free(wf);
		return PTR_ERR(file);
	}
	file->f_mode |= FMODE_NOWAIT;

	woof_file_read(w->file, WOOF_HDR_POS(state), &state, sizeof(state));
	o->element_size = w->element_size;
	o->history_size = w->history_size;
	o->woof_flags = w->flags;
	o->mode = 0;
	o->fd = fd;
	o->state = state;
	o->create_time_ns = w->create_time_ns;
	o->latest = wf->mark;
	o->file_size = w->file_size;
	ret = woof_copy_out(arg, o, sizeof(*o));
	if (ret) {
		put_unused_fd(fd);
		fput(file);
		return ret;
	}
	fd_install(fd, file);
	return 0;
}
