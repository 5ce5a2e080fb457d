/* SPDX-License-Identifier: MIT */
/*
 * nsd.c - one served namespace: from trigger log entry to finished call.
 *
 * The walk of one trigger T:
 *   1. scan(): T <= woof_triggers_latest(), so read entry T and make a
 *      struct call in the window slot win[T % hist];
 *   2. claim(): woof_trigger_claim() copies the element and clears its
 *      slot's PENDING bit; the copy goes to .woof/spool/T and the call into
 *      its handler's queue. -EAGAIN (put still in flight) retries on a
 *      timer; an orphan or a vanished element is recorded and finished;
 *   3. dispatch(): while fewer than max_concurrent calls run, take the next
 *      call round-robin over handlers with queued calls, write its RUNNING
 *      (or REDELIVERED) record and start it through its runtime;
 *   4. the handler's exit arrives on the ring (pidfd poll or WAITID), its
 *      output through pipe reads into .woof/log; a timeout kills it;
 *   5. finalize(): with the exit seen and both pipes at EOF, write the
 *      final record (DONE or FAILED + reason), drop the spool copy, mark
 *      the slot finished and move done_floor past every finished prefix.
 *
 * Claiming at read time, not at dispatch time, keeps handlers that put to
 * WOOFs with handlers from deadlocking on backpressure (a put waiting for
 * a claim that waits for a slot that the putting handler holds). The spool
 * bounds what is claimed but not finished (spool_max); past it, reading
 * stops and backpressure reaches the WOOFs.
 *
 * Restart: entries above done_floor are read again; rec_rebuild() tells
 * which finished (skipped), which had started (attempt + 1, redelivered);
 * a claim of an element an earlier instance claimed returns
 * already_claimed, or -ENODATA when overwritten since, and then the spool
 * copy is used.
 *
 * Fencing (nsd_fence): a fault on a mapping of the namespace's files
 * (guard.c), a claim that finds its WOOF cut short, a trigger log replaced
 * or cut short (trig_check), or damage found by nsd_open(): the namespace
 * stops for good - its unfinished triggers go to .woof/recovery, running
 * calls are killed without a final record, and once they are reaped its
 * cgroup is removed and its files let go (fence_finish). Nothing mapped is
 * touched from then on; main.c opens it again on SIGHUP, after `woofctl ns
 * repair`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatcherd.h"

static struct call finished_mark;
#define FINISHED (&finished_mark)

#define RETRY_MIN_NS	(1ULL * 1000000ULL)	/* first -EAGAIN retry after 1 ms */
#define RETRY_MAX_NS	(100ULL * 1000000ULL)
#define GRACE_NS	(200ULL * 1000000ULL)	/* output pipes after the exit */
/* the status file is rewritten at most this often (it lists up to 1,000 calls) */
#define STATUS_MIN_NS	(50ULL * 1000000ULL)
#define STATUS_RETRY_NS	(2ULL * 1000000ULL)	/* when woofctl status holds its lock */

static void scan(struct nsd *n);
static void status_cb(struct loop_op *op, int res, bool more);
static void claim(struct nsd *n, struct call *c);
static void finish(struct nsd *n, struct call *c);
static void maybe_finalize(struct call *c);

/* ---- handlers and their queues ------------------------------------------ */

static void hq_apply_conf(struct nsd *n, struct hq *h)
{
	const struct handler_conf *hc = conf_handler(&n->conf, h->name);

	h->runtime = hc ? hc->runtime : RT_EXEC;
	h->timeout_ns = hc && hc->timeout_set ? hc->timeout_ns : n->conf.timeout_ns;
	/*
	 * workers: for warm it sizes the pool, and the handler may have
	 * WARM_DEPTH calls in flight per worker (pipelined, outside
	 * max_concurrent); for exec/zygote it caps concurrency.
	 */
	h->workers = hc ? hc->workers : 0;
	h->cap = h->runtime == RT_WARM ? (h->workers ? h->workers : 1) * WARM_DEPTH : h->workers;
	/* exec: programs started ahead of their calls (exec.c) */
	h->spares = h->runtime != RT_EXEC ? 0 : hc && hc->spares_set ? hc->spares
				      : CONF_DEFAULT_SPARES;
}

static struct hq *hq_get(struct nsd *n, const char *name)
{
	struct hq *h;

	for (h = n->handlers; h; h = h->next)
		if (strcmp(h->name, name) == 0)
			return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	snprintf(h->name, sizeof(h->name), "%s", name);
	hq_apply_conf(n, h);
	h->next = n->handlers;
	n->handlers = h;
	return h;
}

static void rr_add(struct nsd *n, struct hq *h)
{
	if (h->in_rr)
		return;
	h->in_rr = true;
	if (!n->rr) {
		h->rr_next = h->rr_prev = h;
		n->rr = h;
		return;
	}
	/* insert just before the current head: served last in this round */
	h->rr_next = n->rr;
	h->rr_prev = n->rr->rr_prev;
	h->rr_prev->rr_next = h;
	n->rr->rr_prev = h;
}

static void rr_del(struct nsd *n, struct hq *h)
{
	if (!h->in_rr)
		return;
	h->in_rr = false;
	if (h->rr_next == h) {
		n->rr = NULL;
	} else {
		h->rr_prev->rr_next = h->rr_next;
		h->rr_next->rr_prev = h->rr_prev;
		if (n->rr == h)
			n->rr = h->rr_next;
	}
	h->rr_next = h->rr_prev = NULL;
}

static void enqueue(struct nsd *n, struct call *c)
{
	struct hq *h = c->h;

	c->state = CS_QUEUED;
	c->qnext = NULL;
	if (h->tail)
		h->tail->qnext = c;
	else
		h->head = c;
	h->tail = c;
	h->queued++;
	n->queued++;
	rr_add(n, h);
	n->status_dirty = true;
}

static struct call *dequeue(struct nsd *n, struct hq *h)
{
	struct call *c = h->head;

	h->head = c->qnext;
	if (!h->head)
		h->tail = NULL;
	c->qnext = NULL;
	h->queued--;
	n->queued--;
	if (!h->queued)
		rr_del(n, h);
	return c;
}

/* ---- finishing ------------------------------------------------------------ */

static void advance_floor(struct nsd *n)
{
	uint64_t old = n->floor;
	int ret;

	while (n->floor + 1 < n->next && n->win[(n->floor + 1) % n->hist] == FINISHED) {
		n->win[(n->floor + 1) % n->hist] = NULL;
		n->floor++;
	}
	if (n->floor == old)
		return;
	ret = woof_triggers_set_done_floor(n->trig, n->floor);
	if (ret)
		log_err("%s: cannot advance done_floor to %llu: %s", n->path,
			(unsigned long long)n->floor, woof_strerror(ret));
	if (n->rec && n->floor >= n->rec_max_trigger)
		rec_forget(n);
	n->status_dirty = true;
}

/* The call is over for good: its slot may be passed by done_floor. */
static void finish(struct nsd *n, struct call *c)
{
	/* also a stale copy an earlier run left for a trigger that ends unrun now */
	spool_drop(n, c);
	n->spool_bytes -= c->el_size < n->spool_bytes ? c->el_size : n->spool_bytes;
	if (n->spool_full && n->spool_bytes <= n->spool_max / 2) {
		n->spool_full = false;
		n->need_scan = true;
	}
	n->win[c->tseq % n->hist] = FINISHED;
	free(c->outbuf);
	free(c);
	advance_floor(n);
	n->status_dirty = true;
}

/* A trigger that ends without running its handler. */
static void fail_unrun(struct nsd *n, struct call *c, uint32_t state, uint32_t reason,
		       int error, const char *detail)
{
	rec_write(n, c, state, reason, error);
	if (state == WOOF_CALL_ORPHAN) {
		n->n_orphan++;
		log_info("%s: trigger %llu (%s -> %s): orphan, %s", n->path,
			 (unsigned long long)c->tseq, c->tr.woof, c->tr.handler, detail);
	} else {
		n->n_failed++;
		if (c->h)
			c->h->failed++;
		log_warn("%s: trigger %llu: %s seq %llu -> %s failed: %s", n->path,
			 (unsigned long long)c->tseq, c->tr.woof,
			 (unsigned long long)c->tr.woof_seq, c->tr.handler, detail);
	}
	rec_note(n, c, "%s: %s", state == WOOF_CALL_ORPHAN ? "orphan" : "failed", detail);
	finish(n, c);
}

/* ---- reading the trigger log ---------------------------------------------- */

static void grow_elbuf(struct nsd *n, uint64_t need)
{
	size_t len = n->elbuf_len ? n->elbuf_len : 4096;
	uint8_t *p;

	while (len < need)
		len *= 2;
	if (len > WOOF_ELEMENT_SIZE_MAX)
		len = WOOF_ELEMENT_SIZE_MAX;
	p = realloc(n->elbuf, len);
	if (!p)
		return;
	n->elbuf = p;
	n->elbuf_len = len;
}

/* After -ENODATA: is there a spool copy of the right size? */
static int use_spool(struct nsd *n, struct call *c)
{
	struct woof *w;
	struct woof_stat st;
	uint64_t size;
	int ret;

	ret = spool_find(n, c, &size);
	if (ret)
		return ret;
	ret = woof_open(n->ns, c->tr.woof, &w);
	if (!ret) {
		ret = woof_stat(w, &st);
		woof_close(w);
	}
	if (!ret && st.create_time_ns != c->tr.woof_ctime)
		ret = -ESTALE;
	if (!ret && size != st.element_size)
		ret = -EBADMSG;	/* cut short by a crash while it was written */
	if (ret) {
		spool_drop(n, c);
		return ret;
	}
	c->el_size = size;
	return 0;
}

static void claim(struct nsd *n, struct call *c)
{
	struct woof_claim cl;
	char detail[160];
	int ret;

	if (!n->elbuf)
		grow_elbuf(n, 4096);
	for (;;) {
		memset(&cl, 0, sizeof(cl));
		ret = woof_trigger_claim(n->ns, c->tseq, &c->tr, n->elbuf, n->elbuf_len, &cl);
		if (ret != -EMSGSIZE || n->elbuf_len >= WOOF_ELEMENT_SIZE_MAX)
			break;
		grow_elbuf(n, cl.element_size > n->elbuf_len ? cl.element_size
							     : 2 * n->elbuf_len);
	}

	switch (ret) {
	case 0:
		if (cl.already_claimed)
			dbg("%s: trigger %llu was claimed by an earlier run", n->path,
			    (unsigned long long)c->tseq);
		c->el_size = cl.element_size;
		ret = spool_put(n, c, n->elbuf, cl.element_size);
		if (ret) {
			/* not fatal: the call runs, only a crash before it ends could lose it */
			log_warn("%s: cannot spool trigger %llu: %s", n->path,
				 (unsigned long long)c->tseq, strerror(-ret));
			fail_unrun(n, c, WOOF_CALL_FAILED, WOOF_CALL_R_CLAIM, -ret,
				   "cannot write the spool copy of the element");
			return;
		}
		break;
	case -EAGAIN:
		/* the put is still in flight: look again soon */
		c->state = CS_RETRY;
		c->qnext = n->retry_head;
		n->retry_head = c;
		c->retries++;
		n->n_claim_retries++;
		if (!n->retry_op.busy) {
			if (!n->retry_delay_ns)
				n->retry_delay_ns = RETRY_MIN_NS;
			loop_timeout(&n->d->loop, &n->retry_op, n->retry_delay_ns);
		}
		n->status_dirty = true;
		return;
	case -ECANCELED:
		fail_unrun(n, c, WOOF_CALL_ORPHAN, WOOF_CALL_R_ORPHAN, 0,
			   "the put died before its element committed");
		return;
	case -ENODATA:
		ret = use_spool(n, c);
		if (ret == 0) {
			c->spooled = true;
			c->flags |= WOOF_CALL_F_SPOOLED;
			log_info("%s: trigger %llu: element overwritten since an earlier claim; "
				 "running from the spool copy", n->path,
				 (unsigned long long)c->tseq);
			break;
		}
		fail_unrun(n, c, WOOF_CALL_FAILED, WOOF_CALL_R_OVERWRITTEN, 0,
			   "the element was overwritten before its handler read it");
		return;
	case -ESTALE:
		fail_unrun(n, c, WOOF_CALL_FAILED, WOOF_CALL_R_STALE, 0,
			   "the WOOF was re-created since the put");
		return;
	case -ENOENT:
		fail_unrun(n, c, WOOF_CALL_FAILED, WOOF_CALL_R_REMOVED, 0,
			   "the WOOF was removed since the put");
		return;
	case -EIO: {
		/* libwoof saw the file cut shorter than its mapping: damage, not a failed call */
		char why[WOOF_NAME_MAX + 128];

		snprintf(why, sizeof(why), "WOOF %s was cut short under dispatcherd (claim of "
			 "trigger %llu)", c->tr.woof, (unsigned long long)c->tseq);
		nsd_fence(n, why);	/* frees c */
		return;
	}
	default:
		snprintf(detail, sizeof(detail), "claim failed: %s", woof_strerror(ret));
		fail_unrun(n, c, WOOF_CALL_FAILED, WOOF_CALL_R_CLAIM, -ret, detail);
		return;
	}

	n->spool_bytes += c->el_size;
	if (n->spool_bytes >= n->spool_max && !n->spool_full) {
		n->spool_full = true;
		log_notice("%s: %llu bytes of claimed elements wait (spool_max %llu): reading "
			   "the trigger log pauses until calls finish", n->path,
			   (unsigned long long)n->spool_bytes, (unsigned long long)n->spool_max);
	}
	enqueue(n, c);
}

static void retry_cb(struct loop_op *op, int res, bool more)
{
	struct nsd *n = (struct nsd *)((char *)op - offsetof(struct nsd, retry_op));
	struct call *list = n->retry_head, *c;

	(void)res;
	(void)more;
	if (n->fenced)
		return;		/* nsd_fence() freed the list */
	n->retry_head = NULL;
	if (n->d->stopping) {
		/* unclaimed: the restarted daemon reads them again */
		n->retry_head = list;
		return;
	}
	/* back off while puts stay in flight; start over when all settled */
	n->retry_delay_ns = n->retry_delay_ns * 2 > RETRY_MAX_NS ? RETRY_MAX_NS
								: n->retry_delay_ns * 2;
	while ((c = list)) {
		list = c->qnext;
		c->qnext = NULL;
		c->state = CS_NEW;
		claim(n, c);
	}
	if (!n->retry_head)
		n->retry_delay_ns = 0;
}

/* Entry T was just read: decide what it needs. */
static void take_entry(struct nsd *n, uint64_t t, const struct woof_trigger *tr)
{
	const struct recovered *r = rec_lookup(n, t);
	struct call *c;

	if (!tr->woof_seq && !tr->woof[0]) {
		/* a hole `woofctl ns repair` left for an entry it could not recover */
		log_info("%s: trigger %llu was lost with a damaged trigger log (repair left a hole)",
			 n->path, (unsigned long long)t);
		n->win[t % n->hist] = FINISHED;
		advance_floor(n);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		log_err("%s: out of memory reading trigger %llu", n->path, (unsigned long long)t);
		return;
	}
	c->n = n;
	c->tseq = t;
	c->tr = *tr;
	c->tr.woof[WOOF_NAME_MAX] = c->tr.handler[WOOF_NAME_MAX] = '\0';
	c->attempt = 1;
	c->state = CS_NEW;
	c->spool_fd = c->out_fd = c->err_fd = c->out_w = c->err_w = -1;
	c->sc.pidfd = -1;
	n->win[t % n->hist] = c;
	c->h = hq_get(n, c->tr.handler);
	if (!c->h) {
		log_err("%s: out of memory", n->path);
		n->win[t % n->hist] = NULL;
		free(c);
		return;
	}

	if (r && r->put_time_ns == tr->put_time_ns) {
		if (r->final_state) {
			/* finished before the restart: never run twice */
			dbg("%s: trigger %llu finished before the restart", n->path,
			    (unsigned long long)t);
			n->win[t % n->hist] = FINISHED;
			spool_forget(n, t);
			free(c);
			return;
		}
		if (r->attempt) {
			c->attempt = r->attempt + 1;
			c->redelivery = true;
		}
	}
	claim(n, c);
}

static void scan(struct nsd *n)
{
	struct woof_trigger tr;
	int ret;

	n->need_scan = false;
	if (n->d->stopping || n->fenced)
		return;
	for (;;) {
		uint64_t latest = woof_triggers_latest(n->trig);

		while (n->next <= latest && !n->spool_full) {
			if (n->next - n->floor > n->hist) {
				/* cannot happen: the log never wraps over unfinished entries */
				log_err("%s: trigger window full at %llu (done_floor %llu)",
					n->path, (unsigned long long)n->next,
					(unsigned long long)n->floor);
				return;
			}
			ret = woof_triggers_read(n->trig, n->next, &tr);
			if (ret) {
				log_err("%s: cannot read trigger %llu: %s", n->path,
					(unsigned long long)n->next, woof_strerror(ret));
				return;
			}
			take_entry(n, n->next++, &tr);
		}
		if (n->spool_full)
			return;	/* calls finishing make room and scan again */
		ret = woof_triggers_arm(n->trig, n->next - 1);
		if (ret == 1)
			continue;
		if (ret < 0)
			log_err("%s: cannot arm the trigger log: %s", n->path, woof_strerror(ret));
		break;
	}
	if (n->rec && n->next > n->rec_max_trigger && n->floor >= n->rec_max_trigger)
		rec_forget(n);
}

static void sock_cb(struct loop_op *op, int res, bool more)
{
	struct nsd *n = (struct nsd *)((char *)op - offsetof(struct nsd, sock_op));

	(void)more;
	if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED)
		log_warn("%s: dispatch socket: %s", n->path, strerror(-res));
	if (n->d->stopping || n->fenced)
		return;
	/*
	 * Several puts may have woken us (a datagram each, user engine; the
	 * namespace device polls readable, kernel engine): libwoof empties
	 * what woke us, one scan serves them all.
	 */
	woof_triggers_drain(n->trig, n->sock);
	scan(n);
	loop_poll(&n->d->loop, &n->sock_op, n->sock, POLLIN);
}

/* ---- running calls ---------------------------------------------------------- */

static const struct runtime_ops *runtime_for(struct nsd *n, struct hq *h, enum runtime_kind *k)
{
	static bool warned[3];

	*k = h->runtime;
	if (h->runtime == RT_ZYGOTE && &runtime_zygote)
		return &runtime_zygote;
	if (h->runtime == RT_WARM && &runtime_warm)
		return &runtime_warm;
	if (h->runtime != RT_EXEC && !warned[h->runtime]) {
		warned[h->runtime] = true;
		log_warn("%s: handler %s: runtime %s is not built into this dispatcherd; "
			 "running it with exec", n->path, h->name, conf_runtime_name(h->runtime));
	}
	*k = RT_EXEC;
	return &runtime_exec;
}

/* The runtime a started call runs with (a reload may have changed its handler's since) */
static const struct runtime_ops *call_rt(const struct call *c)
{
	if (c->runtime == RT_ZYGOTE && &runtime_zygote)
		return &runtime_zygote;
	if (c->runtime == RT_WARM && &runtime_warm)
		return &runtime_warm;
	return &runtime_exec;
}

static void out_cb(struct loop_op *op, int res, bool more);
static void err_cb(struct loop_op *op, int res, bool more);
static void exit_cb(struct loop_op *op, int res, bool more);
static void timer_cb(struct loop_op *op, int res, bool more);
static void grace_cb(struct loop_op *op, int res, bool more);

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int make_pipe(int *rd, int *wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* the ring polls a non-blocking pipe instead of parking a worker thread */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*rd = p[0];
	*wr = p[1];
	return 0;
}

static void start_call(struct nsd *n, struct call *c)
{
	struct loop *l = &n->d->loop;
	const struct runtime_ops *rt = runtime_for(n, c->h, &c->runtime);
	char path[PATH_MAX], detail[PATH_MAX + 128];
	uint32_t reason;
	int ret;

	/* CSPOT's contract: the handler is the file of that name in the namespace */
	if (c->runtime == RT_EXEC) {
		ret = handler_file_check(n, c->tr.handler, path, sizeof(path));
		if (ret) {
			reason = ret == -ENOENT ? WOOF_CALL_R_NOHANDLER : WOOF_CALL_R_NOEXEC;
			snprintf(detail, sizeof(detail), "%s: %s", path,
				 ret == -ENOENT ? "no handler file of that name in the namespace"
				 : ret == -ENOEXEC ? "not a regular file (a symbolic link is not followed)"
				 : "not executable");
			fail_unrun(n, c, WOOF_CALL_FAILED, reason, -ret, detail);
			return;
		}
	}

	/* exec hands the element over as fd 3; the others send the ring copy inline */
	if (c->runtime == RT_EXEC || !c->el) {
		c->spool_fd = spool_call_fd(n, c);
		if (c->spool_fd < 0) {
			ret = c->spool_fd;
			c->spool_fd = -1;
			snprintf(detail, sizeof(detail), "spool copy of the element: %s",
				 strerror(-ret));
			fail_unrun(n, c, WOOF_CALL_FAILED, WOOF_CALL_R_SPAWN, -ret, detail);
			return;
		}
	}
	/* warm workers write into pipes of their own, for their whole life */
	if (c->runtime == RT_WARM) {
		c->outbuf = NULL;
	} else if (!(c->outbuf = malloc(2 * CALL_IOBUF)) || make_pipe(&c->out_fd, &c->out_w) ||
		   make_pipe(&c->err_fd, &c->err_w)) {
		ret = c->outbuf ? -errno : -ENOMEM;
		close_fd(&c->spool_fd);
		close_fd(&c->out_fd);
		close_fd(&c->out_w);
		close_fd(&c->err_fd);
		close_fd(&c->err_w);
		snprintf(detail, sizeof(detail), "pipes: %s", strerror(-ret));
		fail_unrun(n, c, WOOF_CALL_FAILED, WOOF_CALL_R_SPAWN, -ret, detail);
		return;
	}
	if (c->outbuf)
		c->errbuf = c->outbuf + CALL_IOBUF;

	c->start_real = now_real_ns();
	c->start_mono = now_mono_ns();
	c->state = CS_RUNNING;
	/* written before the handler can have any effect: a crash from here on redelivers */
	rec_write(n, c, c->redelivery ? WOOF_CALL_REDELIVERED : WOOF_CALL_RUNNING,
		  WOOF_CALL_R_NONE, 0);
	if (c->redelivery)
		n->n_redelivered++;

	ret = rt->start(n, c);
	close_fd(&c->out_w);
	close_fd(&c->err_w);
	close_fd(&c->spool_fd);
	if (ret) {
		close_fd(&c->out_fd);
		close_fd(&c->err_fd);
		c->end_real = now_real_ns();
		c->end_mono = now_mono_ns();
		reason = ret == -ENOENT ? WOOF_CALL_R_NOHANDLER
			 : (ret == -EACCES || ret == -ENOEXEC) ? WOOF_CALL_R_NOEXEC
			 : WOOF_CALL_R_SPAWN;
		snprintf(detail, sizeof(detail), "starting %s (%s runtime): %s", c->tr.handler,
			 rt->name, strerror(-ret));
		fail_unrun(n, c, WOOF_CALL_FAILED, reason, -ret, detail);
		return;
	}

	n->running++;
	c->slot = c->runtime != RT_WARM;
	if (c->slot)
		n->slots++;
	n->live++;
	c->h->running++;
	n->status_dirty = true;
	dbg("%s: trigger %llu: %s seq %llu -> %s started, pid %d, attempt %u", n->path,
	    (unsigned long long)c->tseq, c->tr.woof, (unsigned long long)c->tr.woof_seq,
	    c->tr.handler, (int)c->sc.pid, c->attempt);

	c->out_op.cb = out_cb;
	c->err_op.cb = err_cb;
	c->exit_op.cb = exit_cb;
	c->timer_op.cb = timer_cb;
	c->grace_op.cb = grace_cb;
	if (c->out_fd >= 0)
		loop_read(l, &c->out_op, c->out_fd, c->outbuf, CALL_IOBUF);
	if (c->err_fd >= 0)
		loop_read(l, &c->err_op, c->err_fd, c->errbuf, CALL_IOBUF);
	if (c->sc.pidfd >= 0) {
		if (l->feat.waitid)
			loop_waitid(l, &c->exit_op, c->sc.pidfd, &c->si);
		else
			loop_poll(l, &c->exit_op, c->sc.pidfd, POLLIN);
	}
	if (c->h->timeout_ns)
		loop_timeout(l, &c->timer_op, c->h->timeout_ns);
}

/* May handler @h start one more call now? */
static bool hq_can_start(const struct nsd *n, const struct hq *h)
{
	if (h->cap && h->running >= h->cap)
		return false;
	/* warm calls wait inside their workers: only the handler's cap bounds them */
	if (h->runtime == RT_WARM && &runtime_warm)
		return true;
	return n->slots < n->conf.max_concurrent;
}

static void dispatch(struct nsd *n)
{
	while (!n->d->stopping && !n->fenced && n->rr) {
		struct hq *h = n->rr, *start = n->rr;
		struct call *c;

		/* the next handler in the ring that may start a call */
		while (!hq_can_start(n, h)) {
			h = h->rr_next;
			if (h == start)
				return;
		}
		c = dequeue(n, h);
		/* the next round starts after this handler: fairness between handlers */
		if (h->in_rr)
			n->rr = h->rr_next;
		start_call(n, c);
	}
}

/* A call's process is gone (or the runtime says the call ended). */
void call_exited(struct call *c, int code, int status)
{
	struct nsd *n = c->n;

	if (c->exited)
		return;
	c->exited = true;
	c->wait_code = code;
	c->wait_status = status;
	c->end_real = now_real_ns();
	c->end_mono = now_mono_ns();
	close_fd(&c->sc.pidfd);
	loop_cancel(&n->d->loop, &c->timer_op);
	n->running--;
	if (c->slot)
		n->slots--;
	c->h->running--;
	n->status_dirty = true;
	/* output a handler left in its pipes arrives now; stragglers get GRACE_NS */
	if (c->out_fd >= 0 || c->err_fd >= 0)
		loop_timeout(&n->d->loop, &c->grace_op, GRACE_NS);
	maybe_finalize(c);
}

static void exit_cb(struct loop_op *op, int res, bool more)
{
	struct call *c = (struct call *)((char *)op - offsetof(struct call, exit_op));
	struct nsd *n = c->n;

	(void)more;
	if (!n->d->loop.feat.waitid) {
		/* the pidfd polled readable: reap without waiting */
		memset(&c->si, 0, sizeof(c->si));
		if (waitid(P_PIDFD, (id_t)c->sc.pidfd, &c->si, WEXITED | WNOHANG) < 0) {
			res = -errno;
		} else if (c->si.si_pid == 0) {
			/* spurious wake-up: not exited yet */
			loop_poll(&n->d->loop, &c->exit_op, c->sc.pidfd, POLLIN);
			return;
		} else {
			res = 0;
		}
	}
	if (res < 0) {
		log_err("%s: trigger %llu: waiting for pid %d: %s", n->path,
			(unsigned long long)c->tseq, (int)c->sc.pid, strerror(-res));
		call_exited(c, CLD_KILLED, 0);
		return;
	}
	call_exited(c, c->si.si_code, c->si.si_status);
}

static void output(struct call *c, struct loop_op *op, int *fd, char *buf, unsigned stream,
		   int res)
{
	struct nsd *n = c->n;

	if (res > 0) {
		uint64_t max = n->conf.output_max, keep = 0;

		c->output_bytes += (uint64_t)res;
		if (n->fenced)
			max = 0;	/* its files are not ours to write any more */
		if (c->logged < max)
			keep = max - c->logged < (uint64_t)res ? max - c->logged : (uint64_t)res;
		if (keep) {
			rec_log(n, c, stream, buf, keep);
			c->logged += keep;
		}
		if (keep < (uint64_t)res && !(c->flags & WOOF_CALL_F_OUTPUT_TRUNC) && !n->fenced) {
			c->flags |= WOOF_CALL_F_OUTPUT_TRUNC;
			rec_note(n, c, "output beyond output_max (%llu bytes) is not logged",
				 (unsigned long long)max);
		}
		loop_read(&n->d->loop, op, *fd, buf, CALL_IOBUF);
		return;
	}
	if (res < 0 && res != -ECANCELED && res != -EPIPE)
		log_warn("%s: trigger %llu: reading output: %s", n->path,
			 (unsigned long long)c->tseq, strerror(-res));
	close_fd(fd);
	if (c->out_fd < 0 && c->err_fd < 0)
		loop_cancel(&n->d->loop, &c->grace_op);
	maybe_finalize(c);
}

static void out_cb(struct loop_op *op, int res, bool more)
{
	struct call *c = (struct call *)((char *)op - offsetof(struct call, out_op));

	(void)more;
	output(c, op, &c->out_fd, c->outbuf, WOOF_LOG_STDOUT, res);
}

static void err_cb(struct loop_op *op, int res, bool more)
{
	struct call *c = (struct call *)((char *)op - offsetof(struct call, err_op));

	(void)more;
	output(c, op, &c->err_fd, c->errbuf, WOOF_LOG_STDERR, res);
}

static void timer_cb(struct loop_op *op, int res, bool more)
{
	struct call *c = (struct call *)((char *)op - offsetof(struct call, timer_op));
	struct nsd *n = c->n;
	const struct runtime_ops *rt;

	(void)more;
	if (res == -ETIME && !c->exited) {
		c->timed_out = true;
		log_warn("%s: trigger %llu: %s seq %llu -> %s: past its timeout (%llu ms), killing",
			 n->path, (unsigned long long)c->tseq, c->tr.woof,
			 (unsigned long long)c->tr.woof_seq, c->tr.handler,
			 (unsigned long long)(c->h->timeout_ns / 1000000));
		rt = call_rt(c);
		rt->kill(n, c);
		return;
	}
	maybe_finalize(c);
}

static void grace_cb(struct loop_op *op, int res, bool more)
{
	struct call *c = (struct call *)((char *)op - offsetof(struct call, grace_op));
	struct nsd *n = c->n;

	(void)more;
	if (res == -ETIME && (c->out_fd >= 0 || c->err_fd >= 0)) {
		/* something the handler started still holds its output: end the call whole */
		dbg("%s: trigger %llu: output still open after the exit; killing the rest",
		    n->path, (unsigned long long)c->tseq);
		sandbox_kill(&c->sc);
		loop_cancel(&n->d->loop, &c->out_op);
		loop_cancel(&n->d->loop, &c->err_op);
	}
	maybe_finalize(c);
}

static void describe_end(const struct call *c, char *buf, size_t len, uint32_t *state,
			 uint32_t *reason)
{
	if (c->crashed && !c->timed_out) {
		*state = WOOF_CALL_FAILED;
		*reason = WOOF_CALL_R_CRASH;
		snprintf(buf, len, "the %s runtime process serving it died",
			 conf_runtime_name(c->runtime));
	} else if (c->timed_out) {
		*state = WOOF_CALL_FAILED;
		*reason = WOOF_CALL_R_TIMEOUT;
		snprintf(buf, len, "killed after its timeout of %llu ms",
			 (unsigned long long)(c->h->timeout_ns / 1000000));
	} else if (c->wait_code == CLD_EXITED && c->wait_status == 0) {
		*state = WOOF_CALL_DONE;
		*reason = WOOF_CALL_R_NONE;
		snprintf(buf, len, "done");
	} else if (c->wait_code == CLD_EXITED) {
		*state = WOOF_CALL_FAILED;
		*reason = WOOF_CALL_R_EXIT;
		snprintf(buf, len, "exit status %d", c->wait_status);
	} else {
		*state = WOOF_CALL_FAILED;
		*reason = WOOF_CALL_R_SIGNAL;
		snprintf(buf, len, "killed by signal %d (%s)%s", c->wait_status,
			 strsignal(c->wait_status), c->wait_code == CLD_DUMPED ? ", core dumped" : "");
	}
}

static void maybe_finalize(struct call *c)
{
	struct nsd *n = c->n;
	const struct runtime_ops *rt;
	uint32_t state, reason;
	char what[160];

	if (!c->exited || c->out_fd >= 0 || c->err_fd >= 0 || c->exit_op.busy ||
	    c->out_op.busy || c->err_op.busy || c->timer_op.busy || c->grace_op.busy)
		return;

	sandbox_release(&c->sc);
	rt = call_rt(c);
	if (rt->release)
		rt->release(n, c);
	n->live--;
	c->finalized = true;

	if (c->abandoned) {
		/* killed by our own fast stop or a fence: no final record, it runs again */
		if (n->fenced)
			log_notice("%s: trigger %llu: killed by the fence; `woofctl ns repair` "
				   "redelivers it", n->path, (unsigned long long)c->tseq);
		else
			log_notice("%s: trigger %llu: killed by shutdown; it runs again at the "
				   "next start", n->path, (unsigned long long)c->tseq);
		n->win[c->tseq % n->hist] = NULL;	/* keeps done_floor below it */
		free(c->outbuf);
		free(c);
		n->status_dirty = true;
		return;
	}

	describe_end(c, what, sizeof(what), &state, &reason);
	rec_write(n, c, state, reason, 0);
	if (state == WOOF_CALL_DONE) {
		n->n_done++;
		c->h->done++;
		dbg("%s: trigger %llu: %s done in %llu us", n->path, (unsigned long long)c->tseq,
		    c->tr.handler, (unsigned long long)((c->end_mono - c->start_mono) / 1000));
	} else {
		n->n_failed++;
		c->h->failed++;
		rec_note(n, c, "failed: %s", what);
		log_warn("%s: trigger %llu: %s seq %llu -> %s (pid %d, attempt %u) failed: %s",
			 n->path, (unsigned long long)c->tseq, c->tr.woof,
			 (unsigned long long)c->tr.woof_seq, c->tr.handler, (int)c->sc.pid,
			 c->attempt, what);
	}
	c->state = CS_FINISHED;
	finish(n, c);
}


/* ---- fencing ------------------------------------------------------------------ */

/*
 * .woof/recovery: the unfinished triggers this run had read (trigger entry
 * and all), appended as one block per fence, for `woofctl ns repair`: the
 * trigger log they came from may be what was destroyed. Written with
 * write(2) from memory: nothing mapped is touched.
 */
static void save_window(struct nsd *n)
{
	char *buf = NULL;
	size_t len = 0, listed = 0;
	FILE *f;
	int fd;

	if (!n->win || n->metafd < 0)
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	fprintf(f, "woof-dispatcherd-recovery 1\n");
	fprintf(f, "pid %d\n", (int)getpid());
	fprintf(f, "fenced_ns %llu\n", (unsigned long long)n->fenced_real);
	fprintf(f, "done_floor %llu\n", (unsigned long long)n->floor);
	fprintf(f, "read %llu\n", (unsigned long long)(n->next - 1));
	for (uint64_t t = n->floor + 1; t < n->next; t++) {
		struct call *c = n->win[t % n->hist];

		if (!c || c == FINISHED || c->finalized)
			continue;
		fprintf(f, "trigger %llu state=%s attempt=%u seq=%llu ctime=%llu put_ns=%llu handler=",
			(unsigned long long)t, c->state == CS_RUNNING ? "running" : "waiting",
			c->attempt, (unsigned long long)c->tr.woof_seq,
			(unsigned long long)c->tr.woof_ctime, (unsigned long long)c->tr.put_time_ns);
		rec_put_name(f, c->tr.handler);
		fputs(" woof=", f);
		rec_put_name(f, c->tr.woof);
		fputc('\n', f);
		listed++;
	}
	fprintf(f, "end\n");
	if (fclose(f) != 0 || !listed) {
		free(buf);
		return;
	}
	fd = openat(n->metafd, WOOF_RECOVERY_FILE,
		    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		log_err("%s/.woof/" WOOF_RECOVERY_FILE ": cannot save %zu unfinished triggers: %s",
			n->path, listed, strerror(errno));
	else
		log_notice("%s: %zu unfinished triggers saved in .woof/" WOOF_RECOVERY_FILE
			   " for woofctl ns repair", n->path, listed);
	if (fd >= 0)
		close(fd);
	free(buf);
}

static bool fence_idle(const struct nsd *n)
{
	return n->live == 0 && !n->sock_op.busy && !n->retry_op.busy && !n->spares &&
	       !n->spare_op.busy;
}

/* Free the calls still in @n's window of unfinished triggers, and the window. */
static void free_window(struct nsd *n)
{
	if (!n->win)
		return;
	for (uint64_t t = n->floor + 1; t < n->next; t++) {
		struct call *c = n->win[t % n->hist];

		if (c && c != FINISHED) {
			free(c->outbuf);
			free(c);
		}
	}
	free(n->win);
	n->win = NULL;
}

/* Every call of a fenced namespace has ended: remove its cgroup, let go of its files. */
static void fence_finish(struct nsd *n)
{
	struct hq *h, *hn;

	free_window(n);
	exec_ns_close(n);
	for (h = n->handlers; h; h = hn) {
		hn = h->next;
		exec_hq_free(h);
		free(h);
	}
	n->handlers = n->rr = NULL;
	if (runtime_ns_close)
		runtime_ns_close(n);
	if (n->sns)
		sandbox_ns_close(n->sns);	/* its cgroup goes with it */
	n->sns = NULL;
	if (n->sock >= 0)
		close(n->sock);
	n->sock = -1;
	if (n->trig)
		woof_triggers_close(n->trig);
	n->trig = NULL;
	spool_fini(n);
	/* what libwoof keeps of the namespace: maps, trigger log, owner token */
	if (n->meta)
		woof_ns_reset(n->meta);
	rec_close(n);
	rec_forget(n);
	if (n->ns) {
		woof_ns_reset(n->ns);
		woof_ns_close(n->ns);
	}
	n->ns = NULL;
	free(n->elbuf);
	n->elbuf = NULL;
	n->elbuf_len = 0;
	n->running = n->queued = n->slots = 0;
	n->fence_done = true;
	n->status_dirty = true;
	log_notice("%s: fenced: no call runs, its cgroup is removed and its files are let go",
		   n->path);
}

/*
 * Stop serving @n for good (until a SIGHUP opens it again): a fault on one
 * of its files' mappings (guard.c), or damage found when it was opened.
 * Touches nothing mapped. Calls that had not started are dropped (their
 * trigger entries are above done_floor, and .woof/recovery keeps them);
 * running ones are killed without a final record, so that they are
 * redelivered after the repair; spares are retired. Once all of that is
 * over, fence_finish() lets go of the rest.
 */
void nsd_fence(struct nsd *n, const char *why)
{
	struct hq *h;

	if (n->fenced)
		return;
	n->fenced = true;
	n->fenced_real = now_real_ns();
	snprintf(n->fence_reason, sizeof(n->fence_reason), "%s", why);
	log_err("%s: FENCED: %s. dispatcherd goes on with its other namespaces; `woofctl ns "
		"repair %s` repairs it and sends dispatcherd SIGHUP, which serves it again",
		n->path, why, n->path);
	loop_cancel(&n->d->loop, &n->sock_op);
	loop_cancel(&n->d->loop, &n->retry_op);
	save_window(n);
	for (uint64_t t = n->floor + 1; n->win && t < n->next; t++) {
		struct call *c = n->win[t % n->hist];

		if (!c || c == FINISHED)
			continue;
		if (c->state == CS_RUNNING && c->finalized) {
			/* the fault came while its final record was written */
			n->win[t % n->hist] = NULL;
			free(c->outbuf);
			free(c);
		} else if (c->state == CS_RUNNING && c->exit_op.cb) {	/* started */
			c->abandoned = true;
			if (!c->exited)
				call_rt(c)->kill(n, c);
			/* a pipe whose read the fault interrupted is not read again */
			if (c->out_fd >= 0 && !c->out_op.busy)
				close_fd(&c->out_fd);
			if (c->err_fd >= 0 && !c->err_op.busy)
				close_fd(&c->err_fd);
			maybe_finalize(c);
		} else if (c->state != CS_RUNNING) {
			n->win[t % n->hist] = NULL;
			free(c->outbuf);
			free(c);
		}
		/* else: the fault came before it started; fence_finish frees it */
	}
	for (h = n->handlers; h; h = h->next) {
		h->head = h->tail = NULL;
		h->queued = 0;
		h->in_rr = false;
		h->rr_next = h->rr_prev = NULL;
	}
	n->rr = NULL;
	n->queued = 0;
	n->retry_head = NULL;
	n->spool_full = false;
	exec_ns_stop(n);
	n->status_dirty = true;
	if (fence_idle(n))
		fence_finish(n);
}

/* ---- the namespace ------------------------------------------------------------ */

/*
 * The links on the way to the namespace directory, as @given names it,
 * each followed as the kernel would: every link must belong to root, to
 * dispatcherd's user, or to @owner (the owner of the directory the path
 * leads to). A handler that owns its namespace directory could otherwise
 * put a link in its place that leads a restarted root dispatcherd to
 * serve (and make .woof/ in) any directory. 0, or -EPERM with the link in
 * @bad; -ELOOP after 40 links; other errors are realpath()'s to report.
 */
static int path_links_ok(const char *given, uid_t owner, char *bad, size_t badlen)
{
	char rest[2 * PATH_MAX], done[PATH_MAX], link[PATH_MAX], tmp[2 * PATH_MAX];
	unsigned int links = 0;
	char *p;

	if (given[0] == '/') {
		snprintf(rest, sizeof(rest), "%s", given);
	} else {
		if (!getcwd(done, sizeof(done)))
			return -errno;
		snprintf(rest, sizeof(rest), "%s/%s", done, given);
	}
	done[0] = '\0';
	p = rest;
	for (;;) {
		struct stat st;
		char comp[NAME_MAX + 1], cand[PATH_MAX];
		size_t len;
		ssize_t r;

		while (*p == '/')
			p++;
		if (!*p)
			return 0;
		len = strcspn(p, "/");
		if (len > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *slash = strrchr(done, '/');

			if (slash)
				*slash = '\0';
			continue;
		}
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s", done, comp) >= sizeof(cand))
			return -ENAMETOOLONG;
		if (lstat(cand, &st) < 0)
			return -errno;
		if (!S_ISLNK(st.st_mode)) {
			snprintf(done, sizeof(done), "%s", cand);
			continue;
		}
		if (++links > 40)
			return -ELOOP;
		if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != owner) {
			snprintf(bad, badlen, "%s (a symbolic link of uid %u)", cand,
				 (unsigned)st.st_uid);
			return -EPERM;
		}
		r = readlink(cand, link, sizeof(link) - 1);
		if (r < 0)
			return -errno;
		link[r] = '\0';
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", link, p) >= sizeof(tmp))
			return -ENAMETOOLONG;
		snprintf(rest, sizeof(rest), "%s", tmp);
		p = rest;
		if (link[0] == '/')
			done[0] = '\0';
	}
}

static int take_lock(struct nsd *n)
{
	char buf[32];
	ssize_t r;
	int len;

	n->lockfd = woof_ns_openat(n->metafd, WOOF_DISPATCHERD_LOCK, O_RDWR | O_CREAT, 0644);
	if (n->lockfd < 0) {
		int e = -n->lockfd;

		n->lockfd = -1;
		log_err("%s/.woof/" WOOF_DISPATCHERD_LOCK ": %s%s", n->path, strerror(e),
			e == ELOOP ? " (a symbolic link: refusing to write through it)" : "");
		return -e;
	}
	if (flock(n->lockfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e == EWOULDBLOCK) {
			r = pread(n->lockfd, buf, sizeof(buf) - 1, 0);
			buf[r > 0 ? r : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			log_err("%s is already served by dispatcherd pid %s (it holds %s/.woof/"
				WOOF_DISPATCHERD_LOCK ")", n->path, buf[0] ? buf : "?", n->path);
			return -EBUSY;
		}
		log_err("%s/.woof/" WOOF_DISPATCHERD_LOCK ": flock: %s", n->path, strerror(e));
		return -e;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(n->lockfd, 0) < 0 || pwrite(n->lockfd, buf, (size_t)len, 0) != len)
		log_warn("%s/.woof/" WOOF_DISPATCHERD_LOCK ": cannot write our pid: %s", n->path,
			 strerror(errno));
	return 0;
}

static int load_conf(struct nsd *n, struct ns_conf *c)
{
	char errbuf[PATH_MAX + 256];
	bool found;
	int ret;

	ret = conf_load(n->conf_path, c, &found, errbuf, sizeof(errbuf));
	if (ret) {
		log_err("%s", errbuf);
		return ret;
	}
	log_info("%s: %s: max_concurrent %u, timeout %llu ms%s", n->path,
		 found ? n->conf_path : "no woof.conf (defaults)", c->max_concurrent,
		 (unsigned long long)(c->timeout_ns / 1000000),
		 c->timeout_ns ? "" : " (none)");
	return 0;
}

static void limits_from_conf(const struct nsd *n, const struct ns_conf *c,
			     struct sandbox_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->memory_max = c->memory_max;
	lim->pids_max = c->pids_max;
	lim->cpu_quota_us = c->cpu_quota_us;
	lim->cpu_period_us = c->cpu_period_us;
	lim->network = c->network;
	/* 0 lets the sandbox choose its unprivileged default (nobody) */
	lim->uid = n->hand_uid;
	lim->gid = n->hand_uid ? n->hand_gid : 0;
}

static bool may_write_dir(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return (st->st_mode & 0300) == 0300;
	if (st->st_gid == gid)
		return (st->st_mode & 0030) == 0030;
	return (st->st_mode & 0003) == 0003;
}

static const char *uname_of(uid_t u, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(u);

	if (pw && pw->pw_name[0])
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)u);
	return buf;
}

static const char *gname_of(gid_t g, char *buf, size_t len)
{
	struct group *gr = getgrgid(g);

	if (gr && gr->gr_name[0])
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned)g);
	return buf;
}

/* A list of file names for a warning: the first few, then how many more. */
struct namelist {
	char buf[512];
	size_t len;
	unsigned n;
};

static void namelist_add(struct namelist *l, const char *prefix, const char *name)
{
	int w;

	if (l->n++ >= 8 || l->len >= sizeof(l->buf) - 1)
		return;
	w = snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s%s%s", l->len ? ", " : "",
		     prefix, name);
	if (w > 0)
		l->len = l->len + (size_t)w < sizeof(l->buf) ? l->len + (size_t)w : sizeof(l->buf) - 1;
}

/* Is the regular file @name below @dirfd a WOOF? (its magic; never through a link) */
static bool is_woof_file(int dirfd, const char *name)
{
	uint64_t magic = 0;
	int fd = woof_ns_openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	struct stat st;
	bool ret;

	if (fd < 0)
		return false;
	ret = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	      pread(fd, &magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	      magic == WOOF_FORMAT_MAGIC;
	close(fd);
	return ret;
}

/*
 * The start-up check of the permission model (Documentation/dispatcherd.md,
 * "Who owns a namespace"): the namespace directory has a group that is not
 * root's, is setgid and group-writable; every WOOF and the shared
 * bookkeeping files have that group and are group-writable. Bookkeeping
 * files are dispatcherd's and brought into the model here (running as
 * root); for the rest, one warning names the files and the command that
 * fixes them.
 */
static void perm_check(struct nsd *n, int nsfd, const struct stat *nsst)
{
	static const char *const shared[] = { WOOF_OWNERS_FILE, WOOF_TRIGGERS_FILE,
					       WOOF_DISPATCH_SOCK, NULL };
	char on[64], gn[64], hn[64];
	struct namelist bad = { .len = 0 };
	gid_t g = nsst->st_gid;
	struct dirent *de;
	DIR *d;
	int fd;

	uname_of(nsst->st_uid, on, sizeof(on));
	gname_of(g, gn, sizeof(gn));
	if (g == 0)
		log_warn("%s: the namespace directory's group is root's, so handlers (uid %u) share "
			 "no group with its clients and cannot put to WOOFs root makes. Fix: "
			 "woofctl ns init --owner %s --group GROUP %s (GROUP: a group for the "
			 "namespace's clients and handlers)", n->path, (unsigned)n->hand_uid, on,
			 n->path);

	/* bookkeeping: ours; bring it into the model */
	for (const char *const *f = shared; *f; f++) {
		struct stat st;
		mode_t want = !strcmp(*f, WOOF_DISPATCH_SOCK) ? 0660 : 0664;

		if (fstatat(n->metafd, *f, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode))
			continue;
		if (g != 0) {
			if (st.st_gid != g)
				(void)!fchownat(n->metafd, *f, (uid_t)-1, g, AT_SYMLINK_NOFOLLOW);
			if ((st.st_mode & 07777) != want)
				(void)!fchmodat(n->metafd, *f, want, AT_SYMLINK_NOFOLLOW);
		} else if (st.st_uid == 0 && n->hand_uid) {
			/* no namespace group: hand the file to the handlers' user */
			if (fchownat(n->metafd, *f, n->hand_uid, n->hand_gid,
				     AT_SYMLINK_NOFOLLOW) < 0)
				log_warn("%s/.woof/%s: chown to the handlers' user: %s", n->path,
					 *f, strerror(errno));
		}
	}

	/* WOOFs: the clients' and handlers'; name the ones handlers cannot write */
	fd = woof_ns_openat(nsfd, ".", O_RDONLY | O_DIRECTORY, 0);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	while (d && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.' || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		if (fstatat(nsfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		/* only files out of the model are opened (to see whether they are WOOFs) */
		if ((st.st_gid != g || (st.st_mode & 060) != 060) && is_woof_file(nsfd, de->d_name))
			namelist_add(&bad, "", de->d_name);
	}
	if (d)
		closedir(d);
	if (bad.n && g != 0)
		log_warn("%s: %u file%s without the namespace's group (%s) or its write bit, which "
			 "handlers cannot put to: %s%s. Fix: woofctl ns init --owner %s --group %s %s",
			 n->path, bad.n, bad.n == 1 ? "" : "s", gn, bad.buf,
			 bad.n > 8 ? " and more" : "", on, gn, n->path);
	if (n->d->caps.root && n->hand_uid == nsst->st_uid)
		log_info("%s: handlers run as the namespace directory's owner (%s): they can "
			 "rename .woof; dispatcherd refuses to serve a .woof that is not a directory "
			 "(woofctl ns init --owner OTHER gives the namespace an owner they are not)",
			 n->path, uname_of(n->hand_uid, hn, sizeof(hn)));
}

/*
 * Who handlers run as. Run as root, dispatcherd starts them as the user
 * woof.conf names (never root: config.c refuses it), else as the owner of
 * the namespace directory (the namespace is its owner's, as with CSPOT
 * where its owner ran everything), else - for a namespace root owns - as
 * nobody. Their group is the one woof.conf names (user = U:G), else the
 * namespace directory's group (the namespace group, shared with its
 * clients), else the user's own. Not root, handlers run as dispatcherd's
 * own user.
 */
static void handler_user(struct nsd *n, int nsfd, const struct stat *nsst)
{
	const char *why;
	struct passwd *pw;

	if (!n->d->caps.root) {
		n->hand_uid = 0;	/* the sandbox's choice: our own uid */
		log_info("%s: handlers run as dispatcherd's user (uid %u)", n->path,
			 (unsigned)geteuid());
		if (n->conf.user_set)
			log_warn("%s: woof.conf says user = %s, which only a dispatcherd running as "
				 "root can honour: handlers run as uid %u", n->path, n->conf.user,
				 (unsigned)geteuid());
		return;
	}
	if (n->conf.user_set) {
		n->hand_uid = n->conf.uid;
		why = "user in woof.conf";
	} else if (nsst->st_uid != 0) {
		n->hand_uid = nsst->st_uid;
		why = "owner of the namespace directory";
	} else {
		n->hand_uid = 65534;
		why = "the namespace directory belongs to root: nobody";
	}
	pw = getpwuid(n->hand_uid);
	if (n->conf.user_set && n->conf.group_set)
		n->hand_gid = n->conf.gid;
	else if (nsst->st_gid != 0)
		n->hand_gid = nsst->st_gid;
	else if (n->conf.user_set && n->conf.gid)
		n->hand_gid = n->conf.gid;
	else
		n->hand_gid = pw && pw->pw_gid ? pw->pw_gid : 65534;
	log_info("%s: handlers run as uid %u gid %u (%s)", n->path, (unsigned)n->hand_uid,
		 (unsigned)n->hand_gid, why);
	if (!may_write_dir(nsst, n->hand_uid, n->hand_gid)) {
		char on[64], gn[64];

		log_warn("%s: handlers run as uid %u gid %u, who cannot write the namespace "
			 "directory (owner %u, group %u, mode %04o): their puts and creates will fail. "
			 "Fix: woofctl ns init --owner %s --group %s %s", n->path,
			 (unsigned)n->hand_uid, (unsigned)n->hand_gid, (unsigned)nsst->st_uid,
			 (unsigned)nsst->st_gid, (unsigned)(nsst->st_mode & 07777),
			 uname_of(nsst->st_uid, on, sizeof(on)),
			 gname_of(n->hand_gid, gn, sizeof(gn)), n->path);
	}
	perm_check(n, nsfd, nsst);
}

int nsd_open(struct daemon *d, const char *dir, struct nsd **out)
{
	struct sandbox_limits lim;
	struct stat st;
	struct nsd *n;
	char meta[PATH_MAX + 8];
	const char *base, *what;
	int nsfd = -1, ret;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->d = d;
	n->lockfd = n->metafd = n->spooldir = n->statusfd = n->sock = -1;
	n->started_real = now_real_ns();
	n->retry_op.cb = retry_cb;
	n->sock_op.cb = sock_cb;
	n->status_op.cb = status_cb;
	d->opening = n;		/* a fault while we open it fences it (main.c) */

	/*
	 * The namespace directory is resolved once, here (it may be reached
	 * through links the administrator made); everything below it is
	 * opened relative to it, never through a link (woof_ns_openat).
	 */
	if (!realpath(dir, n->path)) {
		ret = -errno;
		log_err("namespace %s: %s", dir, strerror(errno));
		goto fail;
	}
	nsfd = open(n->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nsfd < 0 || fstat(nsfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = -ENOTDIR;
		log_err("namespace %s: not a directory", n->path);
		goto fail;
	}
	if (d->caps.root) {
		char bad[PATH_MAX + 64] = "";

		ret = path_links_ok(dir, st.st_uid, bad, sizeof(bad));
		if (ret == -EPERM) {
			log_err("namespace %s: the path leads through %s, which is neither root's "
				"nor the namespace owner's: refusing to serve %s (a handler may have "
				"put it there). Name the namespace by its real path", dir, bad,
				n->path);
			goto fail;
		}
		ret = 0;	/* anything else: realpath() above already judged the path */
	}
	base = strrchr(n->path, '/');
	snprintf(n->name, sizeof(n->name), "%s", base && base[1] ? base + 1 : "root");

	ret = woof_ns_init(n->path, 0);
	if (!ret) {
		n->metafd = woof_ns_openat(nsfd, WOOF_NS_META_DIR, O_RDONLY | O_DIRECTORY, 0);
		ret = n->metafd < 0 ? n->metafd : 0;
		if (ret)
			n->metafd = -1;
	}
	snprintf(meta, sizeof(meta), "%s/" WOOF_NS_META_DIR, n->path);
	if (ret == -ELOOP || ret == -ENOTDIR) {
		log_err("%s is %s, not the namespace's bookkeeping directory: refusing to serve "
			"%s (nothing is written through it). A handler or user replaced it; "
			"remove the link and move the real .woof back", meta,
			ret == -ELOOP ? "a symbolic link" : "not a directory", n->path);
		/* a handler's doing: this namespace is out, the others are served */
		what = ret == -ELOOP ? ".woof is a symbolic link" : ".woof is not a directory";
		goto fence;
	}
	if (ret) {
		log_err("namespace %s: %s", n->path, woof_strerror(ret));
		goto fail;
	}
	/*
	 * Another dispatcherd, or anyone who can open the lock file, holding
	 * it: this namespace is out (fenced, reported), the others are served.
	 */
	what = "its lock .woof/" WOOF_DISPATCHERD_LOCK;
	ret = take_lock(n);
	if (ret)
		goto fence;

	if ((size_t)snprintf(n->conf_path, sizeof(n->conf_path), "%s%s",
			     d->config_override ? d->config_override : n->path,
			     d->config_override ? "" : "/" WOOF_CONF_FILE) >= sizeof(n->conf_path)) {
		ret = -ENAMETOOLONG;
		log_err("%s: path too long", n->path);
		goto fail;
	}
	ret = load_conf(n, &n->conf);
	if (ret) {
		/* --config names the administrator's file: fatal. The namespace's
		 * own woof.conf may be a handler's doing: fenced, the others go on. */
		if (d->config_override)
			goto fail;
		what = WOOF_CONF_FILE " (see the error above; fix it, then SIGHUP)";
		goto fence;
	}
	n->spool_max = n->conf.spool_max;

	/* from here on a failure is damage in the namespace's files: fenced, not fatal */
	what = "opening the namespace";
	ret = woof_ns_open(n->path, &n->ns);
	if (ret) {
		log_err("namespace %s: %s", n->path, woof_strerror(ret));
		goto fence;
	}
	what = ".woof/calls, .woof/log or .woof/spool";
	ret = rec_open(n);
	if (ret)
		goto fence;
	what = "trigger log .woof/" WOOF_TRIGGERS_FILE;
	ret = woof_triggers_open(n->ns, &n->trig);
	if (ret) {
		log_err("%s: trigger log: %s", n->path, woof_strerror(ret));
		goto fence;
	}
	n->hist = woof_triggers_history(n->trig);
	{
		struct stat ts;

		if (fstatat(n->metafd, WOOF_TRIGGERS_FILE, &ts, AT_SYMLINK_NOFOLLOW) == 0) {
			n->trig_dev = ts.st_dev;
			n->trig_ino = ts.st_ino;
			n->trig_len = (uint64_t)ts.st_size;
		}
	}
	what = "spool ring .woof/spool";
	ret = spool_init(n);
	if (ret) {
		log_err("%s/.woof/spool: %s", n->path, strerror(-ret));
		goto fence;
	}
	n->floor = woof_triggers_done_floor(n->trig);
	n->next = n->floor + 1;
	n->win = calloc(n->hist, sizeof(*n->win));
	if (!n->win) {
		ret = -ENOMEM;
		goto fail;
	}
	spool_clean(n);
	what = "reading .woof/calls";
	ret = rec_rebuild(n);
	if (ret) {
		log_err("%s: reading .woof/calls: %s", n->path, woof_strerror(ret));
		goto fence;
	}

	what = "dispatch socket";
	n->sock = woof_triggers_listen(n->trig);
	if (n->sock < 0) {
		ret = n->sock;
		n->sock = -1;
		log_err("%s: dispatch socket: %s", n->path, woof_strerror(ret));
		goto fence;
	}

	handler_user(n, nsfd, &st);
	limits_from_conf(n, &n->conf, &lim);
	ret = sandbox_ns_open(&d->caps, n->path, n->name, &lim, &n->sns);
	if (ret) {
		log_err("%s: sandbox: %s", n->path, strerror(-ret));
		goto fail;
	}
	close(nsfd);
	*out = n;
	d->opening = NULL;
	return 0;
fence:
	{
		char why[sizeof(n->fence_reason)];

		snprintf(why, sizeof(why), "cannot be opened: %s: %s", what, woof_strerror(ret));
		nsd_fence(n, why);
	}
	if (nsfd >= 0)
		close(nsfd);
	*out = n;
	d->opening = NULL;
	return 0;
fail:
	d->opening = NULL;
	if (nsfd >= 0)
		close(nsfd);
	nsd_close(n);
	return ret;
}

void nsd_start(struct nsd *n)
{
	uint64_t latest = woof_triggers_latest(n->trig);

	log_notice("%s: serving; trigger log at %llu, done_floor %llu%s", n->path,
		   (unsigned long long)latest, (unsigned long long)n->floor,
		   latest > n->floor ? ": processing the backlog" : "");
	scan(n);
	loop_poll(&n->d->loop, &n->sock_op, n->sock, POLLIN);
	dispatch(n);
	n->status_dirty = true;
}

/*
 * Is the trigger log still the file we mapped, whole? Looked at, with one
 * fstatat(), at most once a second when the namespace has work. A log
 * replaced under us (renamed over, removed) would take puts we never see;
 * one cut short would fault at the next access: fence now.
 */
static void trig_check(struct nsd *n)
{
	uint64_t now = now_mono_ns();
	struct stat st;
	const char *why = NULL;

	if (!n->trig_ino || now - n->trig_checked < 1000000000ULL)
		return;
	n->trig_checked = now;
	if (fstatat(n->metafd, WOOF_TRIGGERS_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0)
		why = "the trigger log .woof/" WOOF_TRIGGERS_FILE " was removed under dispatcherd";
	else if (st.st_dev != n->trig_dev || st.st_ino != n->trig_ino)
		why = "the trigger log .woof/" WOOF_TRIGGERS_FILE " was replaced under dispatcherd "
		      "(puts go to a file it does not read)";
	else if ((uint64_t)st.st_size < n->trig_len)
		why = "the trigger log .woof/" WOOF_TRIGGERS_FILE " was cut short under dispatcherd";
	if (why)
		nsd_fence(n, why);
}

void nsd_after_turn(struct nsd *n)
{
	if (!n->fenced && n->trig && woof_ns_engine(n->ns) == WOOF_ENGINE_USER)
		trig_check(n);
	if (n->fenced) {
		if (!n->fence_done && fence_idle(n))
			fence_finish(n);
	} else {
		if (n->need_scan)
			scan(n);
		dispatch(n);
		if (runtime_warm_flush)
			runtime_warm_flush(n);
	}
	if (n->status_dirty && !n->status_op.busy) {
		uint64_t now = now_mono_ns();
		int ret;

		if (now - n->status_written < STATUS_MIN_NS) {
			/* wake up for it later; changes until then go into the same write */
			loop_timeout(&n->d->loop, &n->status_op,
				     STATUS_MIN_NS - (now - n->status_written));
			return;
		}
		ret = status_write(n);
		if (ret == -EAGAIN) {
			/* a reader has it locked: soon again */
			loop_timeout(&n->d->loop, &n->status_op, STATUS_RETRY_NS);
			return;
		}
		if (ret)
			log_warn("%s: cannot write .woof/status: %s", n->path, strerror(-ret));
		n->status_dirty = false;
		n->status_written = now;
	}
}

static void status_cb(struct loop_op *op, int res, bool more)
{
	/* nothing to do here: nsd_after_turn() writes the file after this turn */
	(void)op;
	(void)res;
	(void)more;
}

void nsd_stop(struct nsd *n)
{
	loop_cancel(&n->d->loop, &n->sock_op);
	loop_cancel(&n->d->loop, &n->retry_op);
	exec_ns_stop(n);
	n->status_dirty = true;
	if (n->running)
		log_notice("%s: waiting for %u running call(s); %u queued stay for the next start",
			   n->path, n->running, n->queued);
}

void nsd_kill_all(struct nsd *n)
{
	for (uint64_t t = n->floor + 1; n->win && t < n->next; t++) {
		struct call *c = n->win[t % n->hist];

		if (c && c != FINISHED && c->state == CS_RUNNING && !c->exited) {
			const struct runtime_ops *rt;

			c->abandoned = true;
			rt = call_rt(c);
			rt->kill(n, c);
		}
	}
}

bool nsd_idle(const struct nsd *n)
{
	if (n->fenced)
		return n->fence_done;
	return n->live == 0 && !n->sock_op.busy && !n->retry_op.busy && !n->status_op.busy;
}

int nsd_reload(struct nsd *n)
{
	struct ns_conf c;
	int ret;

	if (n->fenced)
		return 0;	/* main.c opens it again instead */
	ret = load_conf(n, &c);
	if (ret) {
		log_err("%s: keeping the previous configuration", n->path);
		return ret;
	}
	if (c.memory_max != n->conf.memory_max || c.pids_max != n->conf.pids_max ||
	    c.cpu_quota_us != n->conf.cpu_quota_us || c.cpu_period_us != n->conf.cpu_period_us) {
		struct sandbox_limits lim;

		limits_from_conf(n, &c, &lim);
		ret = sandbox_ns_set_limits(n->sns, &n->d->caps, &lim);
		if (ret) {
			log_err("%s: the cgroup refused the new limits (%s): keeping the previous "
				"configuration", n->path, strerror(-ret));
			conf_free(&c);
			return ret;
		}
		log_notice("%s: limits now memory_max=%llu pids_max=%llu cpu_max=%u/%u", n->path,
			   (unsigned long long)c.memory_max, (unsigned long long)c.pids_max,
			   c.cpu_quota_us, c.cpu_period_us);
	}
	if (c.network != n->conf.network || c.user_set != n->conf.user_set ||
	    c.group_set != n->conf.group_set || c.uid != n->conf.uid || c.gid != n->conf.gid)
		log_warn("%s: network or user changed: they apply after dispatcherd restarts "
			 "(the namespace's sandbox is set up once)", n->path);
	conf_free(&n->conf);
	n->conf = c;
	n->spool_max = c.spool_max;
	for (struct hq *h = n->handlers; h; h = h->next)
		hq_apply_conf(n, h);
	exec_ns_trim(n);
	n->status_dirty = true;
	log_notice("%s: configuration reloaded", n->path);
	return 0;
}

void nsd_close(struct nsd *n)
{
	struct hq *h, *hn;

	if (!n)
		return;
	free_window(n);
	exec_ns_close(n);	/* spares: reaped before their sandbox goes */
	for (h = n->handlers; h; h = hn) {
		hn = h->next;
		exec_hq_free(h);
		free(h);
	}
	if (runtime_ns_close)
		runtime_ns_close(n);	/* zygotes, warm workers: before their sandbox goes */
	if (n->sns)
		sandbox_ns_close(n->sns);
	if (n->sock >= 0)
		close(n->sock);
	if (n->trig)
		woof_triggers_close(n->trig);
	spool_fini(n);
	rec_close(n);
	rec_forget(n);
	if (n->ns)
		woof_ns_close(n->ns);
	conf_free(&n->conf);
	free(n->elbuf);
	if (n->metafd >= 0)
		close(n->metafd);
	if (n->statusfd >= 0)
		close(n->statusfd);
	if (n->lockfd >= 0)
		close(n->lockfd);	/* drops the flock */
	free(n);
}
