// SPDX-License-Identifier: GPL-2.0
/*
 * woof-trigger.c - the namespace trigger log (.woof/triggers) as the kernel
 * engine keeps it, and the trigger queue of /dev/woof/<ns>.
 *
 * The log is a WOOF of struct woof_trigger, served like any other (it is
 * the same file the user-space engine writes). An append that names a
 * handler adds its entry while holding the target WOOF's lock (lock order:
 * WOOF, then log), before the element commits, and never wraps the log
 * over an entry above done_floor: the appender waits (or -EAGAIN) instead.
 *
 * Delivery: read() hands out entries after done_floor in order, each to
 * exactly one reader, from an in-memory cursor (tnext). The cursor never
 * persists: when the last reader closes the device it rewinds to
 * done_floor + 1, so a restarted dispatcher gets every unfinished trigger
 * again (flagged WOOF_TREC_REDELIVERED when this mount delivered it
 * before). TRIGGER_CLAIM copies an entry's element and clears its PENDING
 * flag under the WOOF's lock; TRIGGER_DONE moves done_floor.
 */
#include <linux/file.h>
#include <linux/math64.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "woof-int.h"
#include "woof_trace.h"

int woof_triggers_init(struct woof_nsdev *ns)
{
	struct file *f, *replaced;
	struct woof_header *h;
	struct kwoof *w;
	bool created;
	u64 floor;
	int ret;

	ret = woof_mkdir_meta(ns);
	if (ret)
		return ret;
	h = kmalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	f = woof_create_file(ns, &ns->meta, WOOF_TRIGGERS_FILE, sizeof(struct woof_trigger),
			     WOOF_TRIGGERS_HISTORY, 0, 0664, 0, h, &replaced, &created);
	if (f == ERR_PTR(-EEXIST))	/* another history: use it as it is */
		f = woof_open_existing(ns, &ns->meta, WOOF_TRIGGERS_FILE, h);
	if (IS_ERR(f)) {
		ret = PTR_ERR(f);
		goto out;
	}
	if (h->element_size != sizeof(struct woof_trigger)) {
		fput(f);
		ret = -EBADMSG;
		goto out;
	}
	w = kwoof_serve(ns, f, h, WOOF_NS_META_DIR "/" WOOF_TRIGGERS_FILE, true);
	if (IS_ERR(w)) {
		ret = PTR_ERR(w);
		goto out;
	}
	ret = woof_file_read_u64(w->file, WOOF_HDR_POS(done_floor), &floor);
	if (ret) {
		kwoof_retire(w, 0, true);
		kwoof_put(w);
		goto out;
	}
	ns->log = w;
	ns->done_floor = min(floor, w->seq);
	ns->tnext = ns->done_floor + 1;
out:
	kfree(h);
	return ret;
}

/*
 * Append the trigger of element @s of @w naming @handler; *@tnum gets its
 * number. @w->lock is held. Returns KW_WAIT_LOG when the log is full of
 * unfinished entries.
 */
int woof_trigger_append(struct woof_nsdev *ns, struct kwoof *w, u64 s,
			const char *handler, u32 flags, u64 *tnum)
{
	struct kwoof *log = ns->log;
	struct woof_trigger *tr;
	int ret;

	mutex_lock(&log->lock);
	if (log->dead) {
		ret = -ENODEV;
		goto out;
	}
	if (log->seq + 1 > READ_ONCE(ns->done_floor) + log->history_size) {
		ret = KW_WAIT_LOG;
		goto out;
	}
	tr = log->bounce;
	woof_memzero(tr, sizeof(*tr));
	tr->woof_seq = s;
	tr->woof_ctime = w->create_time_ns;
	tr->put_time_ns = ktime_get_real_ns();
	strscpy(tr->woof, w->name, sizeof(tr->woof));
	strscpy(tr->handler, handler, sizeof(tr->handler));
	ret = kwoof_commit_bounce(log, tnum);
	if (!ret)
		trace_woof_trigger(ns->name, *tnum, w->name, s, handler);
out:
	mutex_unlock(&log->lock);
	return ret;
}

/*
 * Copy entry @t of the log (seqlock read: its stamp before and after).
 * 0, -ENODATA (overwritten: it was finished meanwhile), or an I/O error.
 */
static int read_entry(struct woof_nsdev *ns, u64 t, struct woof_trigger *tr)
{
	struct kwoof *log = ns->log;
	struct woof_slot sl;
	u64 idx, stamp;
	int ret;

	div64_u64_rem(t - 1, log->history_size, &idx);
	ret = kwoof_read_slot(log, idx, &sl);
	if (ret)
		return ret;
	if (sl.stamp != t)
		return -ENODATA;
	ret = woof_file_read(log->file, WOOF_SLOT_POS(log, idx) + WOOF_SLOT_HEADER_SIZE,
			     tr, sizeof(*tr));
	if (ret)
		return ret;
	/* the copy before the second load of the stamp (seqlock reader) */
	smp_rmb();
	ret = woof_file_read_u64(log->file, WOOF_SLOT_POS(log, idx), &stamp);
	if (ret)
		return ret;
	if (stamp != t)
		return -ENODATA;
	tr->woof[sizeof(tr->woof) - 1] = 0;
	tr->handler[sizeof(tr->handler) - 1] = 0;
	return 0;
}

static bool triggers_ready(struct woof_nsdev *ns)
{
	return READ_ONCE(ns->tnext) <= READ_ONCE(ns->log->seq) || READ_ONCE(ns->dead);
}

ssize_t woof_triggers_read(struct woof_nsfile *nf, struct kiocb *iocb, struct iov_iter *to)
{
	struct woof_nsdev *ns = nf->ns;
	struct woof_trigger_record *rec;
	size_t max = iov_iter_count(to) / sizeof(*rec), n;
	ssize_t ret;

	if (!(iocb->ki_filp->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!max)
		return -EINVAL;
	rec = kmalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	for (;;) {
		ret = 0;
		if (mutex_lock_interruptible(&ns->tlock)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (!nf->consumer) {
			nf->consumer = true;
			ns->consumers++;
		}
		if (READ_ONCE(ns->dead)) {
			mutex_unlock(&ns->tlock);
			ret = -ENODEV;
			break;
		}
		if (ns->tnext <= READ_ONCE(ns->done_floor))
			ns->tnext = READ_ONCE(ns->done_floor) + 1;
		for (n = 0; n < max && ns->tnext <= READ_ONCE(ns->log->seq);) {
			u64 t = ns->tnext;

			memset(rec, 0, sizeof(*rec));
			ret = read_entry(ns, t, &rec->entry);
			if (ret == -ENODATA) {	/* finished and overwritten */
				ns->tnext++;
				ret = 0;
				continue;
			}
			if (ret)
				break;
			rec->trigger = t;
			rec->flags = t <= ns->tmax ? WOOF_TREC_REDELIVERED : 0;
			if (copy_to_iter(rec, sizeof(*rec), to) != sizeof(*rec)) {
				ret = -EFAULT;
				break;
			}
			ns->tnext = t + 1;
			ns->tmax = max(ns->tmax, t);
			n++;
		}
		mutex_unlock(&ns->tlock);
		if (n) {
			ret = n * sizeof(*rec);
			break;
		}
		if (ret)
			break;
		if ((iocb->ki_flags & IOCB_NOWAIT) || (iocb->ki_filp->f_flags & O_NONBLOCK)) {
			ret = -EAGAIN;
			break;
		}
		ret = wait_event_interruptible(ns->twq, triggers_ready(ns));
		if (ret)
			break;
	}
	kfree(rec);
	return ret;
}

__poll_t woof_triggers_poll(struct woof_nsfile *nf, struct file *file,
			    struct poll_table_struct *pt)
{
	struct woof_nsdev *ns = nf->ns;
	__poll_t mask = 0;

	poll_wait(file, &ns->twq, pt);
	if (READ_ONCE(ns->dead))
		return EPOLLERR | EPOLLHUP;
	if (max(READ_ONCE(ns->tnext), READ_ONCE(ns->done_floor) + 1) <= READ_ONCE(ns->log->seq))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* The last reader gone: what it was handed but did not finish is handed out again. */
void woof_triggers_release(struct woof_nsfile *nf)
{
	struct woof_nsdev *ns = nf->ns;

	if (!nf->consumer)
		return;
	mutex_lock(&ns->tlock);
	if (--ns->consumers == 0)
		ns->tnext = READ_ONCE(ns->done_floor) + 1;
	mutex_unlock(&ns->tlock);
	if (wq_has_sleeper(&ns->twq))
		wake_up_interruptible_poll(&ns->twq, EPOLLIN | EPOLLRDNORM);
}

long woof_ioc_trigger_done(struct woof_nsdev *ns, void __user *arg)
{
	struct kwoof *log = ns->log;
	struct woof_trigger_done a;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved[0] || a.reserved[1])
		return -EINVAL;
	if (mutex_lock_interruptible(&log->lock))
		return -ERESTARTSYS;
	if (log->dead) {
		ret = -ENODEV;
	} else if (a.floor > log->seq) {
		ret = -ERANGE;
	} else if (a.floor > ns->done_floor) {
		woof_wctx_begin(&log->wc, log->file, log->file_size);
		ret = woof_file_store_u64(&log->wc, WOOF_HDR_POS(done_floor), a.floor);
		woof_wctx_end(&log->wc);
		if (!ret)
			WRITE_ONCE(ns->done_floor, a.floor);
	}
	mutex_unlock(&log->lock);
	if (!ret)
		wake_up_all(&ns->floor_wq);
	return ret;
}

/* Copy @len bytes of slot @idx's element to @dst, a page at a time. Lock held. */
static int copy_element_out(struct kwoof *w, u64 idx, void __user *dst, u64 len)
{
	loff_t pos = WOOF_SLOT_POS(w, idx) + WOOF_SLOT_HEADER_SIZE;
	u64 off, n;
	int ret;

	for (off = 0; off < len; off += n) {
		n = min_t(u64, len - off, w->bounce_size);
		ret = woof_file_read(w->file, pos + off, w->bounce2, n);
		if (ret)
			return ret;
		if (copy_to_user(dst + off, w->bounce2, n))
			return -EFAULT;
		cond_resched();
	}
	return 0;
}

/* Check that element @s of @w carries trigger @t and is retained. Lock held. */
static int claim_check(struct kwoof *w, u64 s, u64 t, u64 idx)
{
	struct woof_slot sl;
	int ret;

	if (w->dead)
		return -ENODEV;
	if (w->stale)
		return -ESTALE;
	if (s > w->seq)
		return -ECANCELED;	/* the put never committed */
	if (w->seq >= w->history_size && s <= w->seq - w->history_size)
		return -ENODATA;	/* overwritten */
	ret = kwoof_read_slot(w, idx, &sl);
	if (ret)
		return ret;
	if (sl.stamp != s || sl.trigger != (u32)t)
		return -ECANCELED;	/* the number went to another put */
	return 0;
}

long woof_ioc_trigger_claim(struct woof_nsdev *ns, void __user *arg)
{
	struct kwoof *log = ns->log, *w;
	struct woof_trigger_claim a;
	struct woof_trigger *tr;
	u64 latest, s, idx, room;
	u32 old = 0;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved0 || a.reserved[0] || a.reserved[1] || !a.trigger)
		return -EINVAL;
	latest = READ_ONCE(log->seq);
	if (a.trigger > latest)
		return -ERANGE;
	if (latest >= log->history_size && a.trigger <= latest - log->history_size)
		return -ENODATA;
	tr = kmalloc(sizeof(*tr), GFP_KERNEL);
	if (!tr)
		return -ENOMEM;
	ret = read_entry(ns, a.trigger, tr);
	if (ret)
		goto out_free;
	if (woof_name_valid(tr->woof, sizeof(tr->woof)) || !tr->woof_seq) {
		ret = -EBADMSG;
		goto out_free;
	}
	w = woof_ns_get_woof(ns, tr->woof);
	if (IS_ERR(w)) {
		ret = PTR_ERR(w) == -EBADMSG ? -ENOENT : PTR_ERR(w);
		goto out_free;
	}
	room = a.element_size;
	a.element_size = w->element_size;
	s = tr->woof_seq;
	a.woof_seq = s;
	if (w->create_time_ns != tr->woof_ctime) {
		ret = -ESTALE;		/* re-created since the put */
		goto out_put;
	}
	if (room < w->element_size) {
		ret = -EMSGSIZE;	/* element_size tells how much is needed */
		a.woof_latest = READ_ONCE(w->seq);
		if (woof_copy_out(arg, &a, sizeof(a)))
			ret = -EFAULT;
		goto out_put;
	}
	if (mutex_lock_interruptible(&w->lock)) {
		ret = -ERESTARTSYS;
		goto out_put;
	}
	div64_u64_rem(s - 1, w->history_size, &idx);
	a.woof_latest = w->seq;
	ret = claim_check(w, s, a.trigger, idx);
	if (!ret)
		ret = copy_element_out(w, idx, u64_to_user_ptr(a.element), w->element_size);
	if (!ret) {
		woof_wctx_begin(&w->wc, w->file, w->file_size);
		ret = woof_file_or_u32(&w->wc, WOOF_SLOT_POS(w, idx) +
				       offsetof(struct woof_slot, flags), 0,
				       WOOF_SLOT_PENDING | WOOF_SLOT_WAITER, &old);
		woof_wctx_end(&w->wc);
	}
	if (!ret)
		w->claims++;
	trace_woof_trigger_claim(ns->name, a.trigger, s, ret, !ret && !(old & WOOF_SLOT_PENDING));
	mutex_unlock(&w->lock);
	if (!ret) {
		wake_up_all(&w->wq);
		a.result = (old & WOOF_SLOT_PENDING) ? 0 : WOOF_CLAIM_ALREADY;
		ret = woof_copy_out(arg, &a, sizeof(a));
	}
out_put:
	kwoof_put(w);
out_free:
	kfree(tr);
	return ret;
}

long woof_ioc_trigger_info(struct woof_nsdev *ns, void __user *arg)
{
	struct woof_trigger_info a;
	long ret;

	ret = woof_copy_in(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags || a.reserved0 || a.reserved[0] || a.reserved[1] || a.reserved[2])
		return -EINVAL;
	mutex_lock(&ns->tlock);
	a.latest = READ_ONCE(ns->log->seq);
	a.done_floor = READ_ONCE(ns->done_floor);
	a.history = ns->log->history_size;
	a.next = max(ns->tnext, a.done_floor + 1);
	a.readers = ns->consumers;
	mutex_unlock(&ns->tlock);
	return woof_copy_out(arg, &a, sizeof(a));
}
