/* SPDX-License-Identifier: MIT */
/*
 * warm.c - the warm runtime (the cosmos seed's long-lived "vm"), opt-in
 * per handler with `runtime = warm` and `workers = N` (default 1) in
 * woof.conf: N long-lived worker processes that have loaded the handler's
 * shared object NAME.so and call the function in-process, one call at a
 * time each.
 *
 * A worker is woof-runner in warm mode (runner.c), started through the
 * namespace's sandbox like every handler (sandbox_spawn: the namespace's
 * PID/mount/IPC/UTS namespaces, the handlers' user, a call cgroup of its
 * own). Per call dispatcherd sends it one packet on its SOCK_SEQPACKET
 * socketpair (call header + element, or the element's spool fd when it is
 * over 64 KiB); the worker sets the call's environment (woof_call_current
 * works), calls the function through woof_shepherd_call() with the WOOF
 * kept open between calls, and answers RT_REP_DONE with the return value,
 * the shepherd's exit-convention status and the call's times, in its
 * answer ring (below); the call ends through call_exited() with that
 * status as its exit status.
 *
 * Pipelining: a worker serves its requests in order, one at a time, and
 * dispatcherd keeps up to WARM_DEPTH of them in flight per worker (sent,
 * not yet answered), so a worker goes from one call to the next without
 * waiting for dispatcherd to wake up - on a busy machine that wake-up,
 * not the call, was the cost (3-6 ms per call measured under load). The
 * core lets a warm handler have workers x WARM_DEPTH calls started at once
 * (its cap), and those do not count against max_concurrent: calls waiting
 * inside a worker use no process, memory or CPU of their own. Calls beyond
 * that wait in the handler's queue, visible in the status file; calls that
 * arrive while workers are (re)starting wait here, in order.
 *
 * Output: the worker captures its own stdout and stderr and sends what a
 * call wrote as RT_REP_OUTPUT packets tagged with the call's trigger,
 * before that call's RT_REP_DONE (runner.c); they are logged under that
 * call (output_max applies per call, as for exec). The worker's original
 * stdout and stderr pipes (what it printed before it could capture) are
 * logged under the oldest call in flight, or trigger 0 between calls, as
 * is captured output tagged 0 (a thread the handler left running).
 *
 * Crash: a worker that dies (pidfd on the ring) fails the call it was
 * serving (the oldest in flight), reason crash, with the worker's signal
 * or exit status; the calls queued behind it had not begun and go back to
 * the pool's queue. It is replaced at once - after a pause (0.1 s doubling
 * to 5 s) when workers keep dying within a second of their start.
 * Timeout: the worker serving the call is killed (cgroup.kill of its
 * cgroup) and replaced. A handler that calls exit() ends its worker: that
 * call fails (crash).
 * Replacing NAME.so retires the workers after their current calls; new
 * workers load the new file.
 *
 * Answers: each worker has an answer ring (runtime-proto.h), shared
 * memory this file makes (a sealed memfd) where the worker puts a call's
 * answer when the call returns; it sends RT_REP_RING only when we said we
 * stopped looking (rx_begin/rx_end around each read of its socket), so a
 * burst of answers costs one wake-up, not a recvmsg each. An answer put
 * just before the worker died is still taken (warm_exited). A ring whose
 * head is out of range kills its worker.
 *
 * Cost per call (dispatcherd's side): a copy of the element from the spool
 * ring (spool.c) into its request; one send per worker and loop turn for
 * all the requests the turn made (runtime_warm_flush); answers from the
 * ring, a recvmsg per wake-up (not per answer) and per output packet; a
 * stat of NAME.so at most once a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtcommon.h"

#define WARM_YOUNG_NS		(1ULL * 1000000000ULL)	/* died younger: restart after a pause */
#define WARM_BACKOFF_MIN_NS	(100ULL * 1000000ULL)
#define WARM_BACKOFF_MAX_NS	(5ULL * 1000000000ULL)
#define WARM_WORKERS_MAX	256U

_Static_assert(WARM_DEPTH < RT_RING_SLOTS, "a worker's calls in flight fit its answer ring");

struct pool;
struct wcall;

struct worker {
	struct worker *next;
	struct pool *pool;
	struct rt_proc p;
	int fd[2];			/* read ends of its stdout, stderr; -1 when closed */
	struct loop_op out_op[2];	/* POLL_ADD on them */
	struct rt_ring *ring;		/* its answers (runtime-proto.h); NULL: on the socket */
	uint64_t ring_tail;		/* answers taken from it */
	bool ring_broken;		/* its head went out of range: it was killed */
	struct wcall *fhead, *ftail;	/* calls sent to it, oldest (being served) first */
	unsigned inflight;
	struct rt_pkt *pend[WARM_DEPTH];	/* requests to send at the end of the loop turn */
	unsigned npend;
	bool retired;			/* no new calls: shut down when idle */
	bool gone;			/* exited and accounted for */
	uint64_t served;
};

struct pool {
	struct pool *next;
	struct nsd *n;
	char handler[WOOF_NAME_MAX + 1];
	struct rt_so so;
	bool retired;
	uint64_t so_checked;		/* CLOCK_MONOTONIC of the last stat of NAME.so */
	unsigned want;			/* configured workers */
	unsigned live;			/* workers started and not retired or gone */
	struct worker *workers;
	struct wcall *qhead, *qtail;	/* calls waiting for a free worker */
	struct loop_op restart_op;	/* the pause before restarting crashed workers */
	uint64_t backoff_ns;
	bool load_warned;
};

/* c->rt_priv of a warm call */
struct wcall {
	struct call *c;
	struct pool *pool;
	struct worker *w;	/* while being served */
	struct wcall *qnext;	/* pool queue, or the worker's in-flight list */
	struct rt_pkt *pkt;	/* the request, made at start (the core closes the call's fds) */
	bool queued;
	pid_t pid;		/* the worker that served it (dispatcherd's PID namespace) */
};

static struct pool *pools;
static char iobuf[CALL_IOBUF];
static bool flush_due;		/* some worker has requests in pend[] */

static void warm_report(struct rt_proc *p, const struct rt_rep *rep, int fd);
static void warm_exited(struct rt_proc *p, const siginfo_t *si);
static void warm_settled(struct rt_proc *p);
static uint64_t warm_rx_begin(struct rt_proc *p);
static bool warm_rx_end(struct rt_proc *p, uint64_t mark);
static void pool_dispatch(struct pool *pl);
static int pool_fill(struct pool *pl);

static const struct rt_proc_ops warm_proc_ops = {
	.report = warm_report,
	.exited = warm_exited,
	.settled = warm_settled,
	.rx_begin = warm_rx_begin,
	.rx_end = warm_rx_end,
};

static struct loop *LP(struct pool *pl)
{
	return &pl->n->d->loop;
}

/* ---- output ------------------------------------------------------------------ */

/* Log @len bytes of the worker's @stream (1, 2) under call @wc (NULL: trigger 0). */
static void log_output(struct worker *w, struct wcall *wc, unsigned stream, const char *buf,
		       size_t len)
{
	struct nsd *n = w->pool->n;
	struct call *c = wc ? wc->c : NULL;

	if (!c) {
		/* between calls: trigger 0 */
		struct call idle;

		memset(&idle, 0, sizeof(idle));
		idle.sc.pid = w->p.sc.pid;
		rec_log(n, &idle, stream, buf, len);
		return;
	}
	uint64_t max = n->conf.output_max, keep = 0;

	c->output_bytes += len;
	if (c->logged < max)
		keep = max - c->logged < len ? max - c->logged : len;
	if (keep) {
		rec_log(n, c, stream, buf, keep);
		c->logged += keep;
	}
	if (keep < len && !(c->flags & WOOF_CALL_F_OUTPUT_TRUNC)) {
		c->flags |= WOOF_CALL_F_OUTPUT_TRUNC;
		rec_note(n, c, "output beyond output_max (%llu bytes) is not logged",
			 (unsigned long long)max);
	}
}

/* Read what is in the worker's pipe @i now; false at end of file. */
static bool read_output(struct worker *w, int i)
{
	for (;;) {
		ssize_t r = read(w->fd[i], iobuf, sizeof(iobuf));

		if (r > 0) {
			log_output(w, w->fhead, (unsigned)i + 1, iobuf, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0;	/* EAGAIN: open and empty */
	}
}

static void close_output(struct worker *w, int i)
{
	if (w->fd[i] < 0)
		return;
	if (w->out_op[i].busy)
		loop_cancel(LP(w->pool), &w->out_op[i]);
	close(w->fd[i]);
	w->fd[i] = -1;
}

static void arm_output(struct worker *w, int i)
{
	if (w->fd[i] >= 0 && !w->out_op[i].busy)
		loop_poll(LP(w->pool), &w->out_op[i], w->fd[i], POLLIN);
}

static void worker_maybe_free(struct worker *w);

static void output_ready(struct worker *w, int i, int res)
{
	if (res >= 0 && w->fd[i] >= 0) {
		if (read_output(w, i))
			arm_output(w, i);
		else
			close_output(w, i);
	}
	worker_maybe_free(w);
}

static void out_cb(struct loop_op *op, int res, bool more)
{
	(void)more;
	output_ready((struct worker *)((char *)op - offsetof(struct worker, out_op[0])), 0, res);
}

static void err_cb(struct loop_op *op, int res, bool more)
{
	(void)more;
	output_ready((struct worker *)((char *)op - offsetof(struct worker, out_op[1])), 1, res);
}

/* ---- workers ------------------------------------------------------------------- */

static void worker_unlink(struct worker *w)
{
	for (struct worker **pp = &w->pool->workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
}

static void pool_maybe_free(struct pool *pl);

static void worker_maybe_free(struct worker *w)
{
	struct pool *pl = w->pool;

	if (!w->gone || !rt_proc_idle(&w->p) || w->out_op[0].busy || w->out_op[1].busy)
		return;
	for (unsigned i = 0; i < w->npend; i++)
		rt_pkt_free(w->pend[i]);
	worker_unlink(w);
	rt_proc_free(&w->p);
	if (w->ring)
		munmap(w->ring, sizeof(*w->ring));
	free(w);
	pool_maybe_free(pl);
}

/*
 * The answer ring: a memfd sealed so that the worker can neither shrink it
 * (our mapping would fault) nor grow it; mapped here, passed as RT_FD_RING.
 */
static int ring_make(struct worker *w)
{
	int fd = memfd_create("woof-warm-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	void *m;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(*w->ring)) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	m = mmap(NULL, sizeof(*w->ring), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		int e = -errno;

		close(fd);
		return e;
	}
	w->ring = m;
	w->ring->magic = RT_RING_MAGIC;
	w->ring->slots = RT_RING_SLOTS;
	w->ring->wake = 1;
	return fd;
}

static int worker_start(struct pool *pl)
{
	struct nsd *n = pl->n;
	struct worker *w = calloc(1, sizeof(*w));
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, ring_fd;
	int ret;

	if (!w)
		return -ENOMEM;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		ret = -errno;
		goto fail;
	}
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	w->pool = pl;
	ring_fd = ring_make(w);
	if (ring_fd < 0)	/* answers then come on the socket */
		log_warn("%s: handler %s: no answer ring for a warm worker: %s", n->path,
			 pl->handler, strerror(-ring_fd));
	ret = rt_proc_start(n, &w->p, "warm", pl->handler, &pl->so, po[1], pe[1], ring_fd);
	close(po[1]);
	close(pe[1]);
	if (ring_fd >= 0)
		close(ring_fd);
	po[1] = pe[1] = -1;
	if (ret)
		goto fail;
	w->p.what = "warm worker";
	w->p.ops = &warm_proc_ops;
	w->p.owner = w;
	w->fd[0] = po[0];
	w->fd[1] = pe[0];
	w->out_op[0].cb = out_cb;
	w->out_op[1].cb = err_cb;
	arm_output(w, 0);
	arm_output(w, 1);
	w->next = pl->workers;
	pl->workers = w;
	pl->live++;
	log_info("%s: handler %s: warm worker started, pid %d (%u of %u)", n->path, pl->handler,
		 (int)w->p.sc.pid, pl->live, pl->want);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (w->ring)
		munmap(w->ring, sizeof(*w->ring));
	free(w);
	return ret;
}

static void worker_retire(struct worker *w)
{
	if (w->retired || w->gone)
		return;
	w->retired = true;
	w->pool->live--;
	if (!w->fhead)
		rt_proc_shutdown(&w->p);
}

/* ---- a worker's calls in flight ------------------------------------------------ */

static void flight_push(struct worker *w, struct wcall *wc)
{
	wc->qnext = NULL;
	if (w->ftail)
		w->ftail->qnext = wc;
	else
		w->fhead = wc;
	w->ftail = wc;
	w->inflight++;
	wc->w = w;
	wc->pid = w->p.sc.pid;
}

static void flight_remove(struct worker *w, struct wcall *wc)
{
	struct wcall *prev = NULL;

	for (struct wcall *x = w->fhead; x; prev = x, x = x->qnext) {
		if (x != wc)
			continue;
		if (prev)
			prev->qnext = x->qnext;
		else
			w->fhead = x->qnext;
		if (w->ftail == x)
			w->ftail = prev;
		w->inflight--;
		break;
	}
	wc->qnext = NULL;
	wc->w = NULL;
}

static struct wcall *flight_find(struct worker *w, uint64_t id)
{
	for (struct wcall *x = w->fhead; x; x = x->qnext)
		if (x->c->tseq == id)
			return x;
	return NULL;
}

/* ---- the pool ------------------------------------------------------------------- */

static struct pool *pool_find(struct nsd *n, const char *handler)
{
	for (struct pool *pl = pools; pl; pl = pl->next)
		if (pl->n == n && !pl->retired && strcmp(pl->handler, handler) == 0)
			return pl;
	return NULL;
}

static void pool_maybe_free(struct pool *pl)
{
	if (!pl->retired || pl->workers || pl->qhead || pl->restart_op.busy)
		return;
	for (struct pool **pp = &pools; *pp; pp = &(*pp)->next)
		if (*pp == pl) {
			*pp = pl->next;
			break;
		}
	free(pl);
}

static void restart_cb(struct loop_op *op, int res, bool more)
{
	struct pool *pl = (struct pool *)((char *)op - offsetof(struct pool, restart_op));

	(void)res;
	(void)more;
	if (!pl->retired && !pl->n->d->stopping) {
		pool_fill(pl);
		pool_dispatch(pl);
	}
	pool_maybe_free(pl);
}

/* Start workers up to `want`; 0 if at least one is there. */
static int pool_fill(struct pool *pl)
{
	int ret = 0;

	if (pl->restart_op.busy)
		return pl->live ? 0 : -EAGAIN;
	while (pl->live < pl->want) {
		ret = worker_start(pl);
		if (ret) {
			log_err("%s: handler %s: cannot start a warm worker (%s): %s", pl->n->path,
				pl->handler, rt_runner_path(), strerror(-ret));
			break;
		}
	}
	return pl->live ? 0 : ret;
}

static struct pool *pool_new(struct nsd *n, const char *handler, const struct rt_so *so)
{
	struct pool *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->n = n;
	snprintf(pl->handler, sizeof(pl->handler), "%s", handler);
	pl->so = *so;
	pl->so_checked = now_mono_ns();
	pl->restart_op.cb = restart_cb;
	pl->next = pools;
	pools = pl;
	return pl;
}

static void queue_push(struct pool *pl, struct wcall *wc)
{
	wc->pool = pl;
	wc->queued = true;
	wc->qnext = NULL;
	if (pl->qtail)
		pl->qtail->qnext = wc;
	else
		pl->qhead = wc;
	pl->qtail = wc;
}

static void queue_remove(struct pool *pl, struct wcall *wc)
{
	struct wcall *prev = NULL;

	for (struct wcall *x = pl->qhead; x; prev = x, x = x->qnext) {
		if (x != wc)
			continue;
		if (prev)
			prev->qnext = x->qnext;
		else
			pl->qhead = x->qnext;
		if (pl->qtail == x)
			pl->qtail = prev;
		break;
	}
	wc->queued = false;
	wc->qnext = NULL;
}

/* Hand queued calls to the workers with the fewest in flight, up to WARM_DEPTH each. */
static void pool_dispatch(struct pool *pl)
{
	while (pl->qhead) {
		struct worker *w = NULL;
		struct wcall *wc;

		for (struct worker *x = pl->workers; x; x = x->next)
			if (!x->retired && !x->gone && x->p.alive && x->inflight < WARM_DEPTH &&
			    (!w || x->inflight < w->inflight))
				w = x;
		if (!w)
			return;
		wc = pl->qhead;
		queue_remove(pl, wc);
		/* sent at the end of this loop turn, with the others for this worker */
		w->pend[w->npend++] = wc->pkt;
		wc->pkt = NULL;
		flush_due = true;
		flight_push(w, wc);
	}
}

/*
 * End of a loop turn (nsd_after_turn): each worker's new requests go out,
 * several to a packet - one send per worker and turn instead of one per
 * call. A worker that cannot take them is dying: it is killed, and its
 * exit puts its calls back in the queue.
 */
void runtime_warm_flush(struct nsd *n)
{
	bool left = false;

	if (!flush_due)
		return;
	for (struct pool *pl = pools; pl; pl = pl->next) {
		for (struct worker *w = pl->workers; w; w = w->next) {
			int ret;

			if (!w->npend)
				continue;
			if (pl->n != n) {
				left = true;
				continue;
			}
			ret = rt_proc_send_batch(&w->p, w->pend, w->npend);
			w->npend = 0;
			if (ret && !w->gone) {
				log_warn("%s: handler %s: sending calls to warm worker pid %d: %s",
					 n->path, pl->handler, (int)w->p.sc.pid, strerror(-ret));
				worker_retire(w);
				rt_proc_kill(&w->p);
			}
		}
	}
	flush_due = left;
}

/* Calls of a retired pool go to its successor (or fail when there is none). */
static void pool_retire(struct pool *pl, struct pool *succ)
{
	struct wcall *wc;

	pl->retired = true;
	for (struct worker *w = pl->workers; w; w = w->next)
		worker_retire(w);
	while ((wc = pl->qhead)) {
		queue_remove(pl, wc);
		if (succ) {
			queue_push(succ, wc);
		} else {
			wc->c->crashed = true;
			call_exited(wc->c, CLD_KILLED, SIGKILL);
		}
	}
	if (pl->restart_op.busy)
		loop_cancel(LP(pl), &pl->restart_op);
	pool_maybe_free(pl);
}

/* ---- reports, exits ----------------------------------------------------------- */

/* Call @d->id returned in worker @w. */
static void warm_done(struct worker *w, const struct rt_done *d)
{
	struct pool *pl = w->pool;
	struct wcall *wc = w->fhead;

	if (!wc || wc->c->tseq != d->id) {
		log_warn("%s: handler %s: warm worker pid %d answered trigger %llu, which it "
			 "was not serving", pl->n->path, pl->handler, (int)w->p.sc.pid,
			 (unsigned long long)d->id);
		return;
	}
	/* a worker that could not capture: what the call wrote is still in the pipes */
	if (d->out_pending) {
		for (int i = 0; i < 2; i++)
			if (w->fd[i] >= 0 && !read_output(w, i))
				close_output(w, i);
	}
	flight_remove(w, wc);
	w->served++;
	pl->backoff_ns = 0;
	call_exited(wc->c, CLD_EXITED, d->status);
	if (w->retired && !w->fhead)
		rt_proc_shutdown(&w->p);
	pool_dispatch(pl);
}

/*
 * Take the answers in @w's ring up to @mark (the worker's head as read
 * before the socket was: their output has been logged). A head that
 * moved backwards or past what the ring holds is a worker writing where
 * it must not: it is killed (its calls fail or go back to the queue).
 */
static void ring_take(struct worker *w, uint64_t mark)
{
	struct rt_ring *r = w->ring;

	while (w->ring_tail < mark && !w->gone) {
		struct rt_done d = r->ent[w->ring_tail % RT_RING_SLOTS];

		w->ring_tail++;
		__atomic_store_n(&r->tail, w->ring_tail, __ATOMIC_RELEASE);
		warm_done(w, &d);
	}
}

static bool ring_head(struct worker *w, uint64_t *head)
{
	uint64_t h;

	if (w->ring_broken)
		return false;
	h = __atomic_load_n(&w->ring->head, __ATOMIC_SEQ_CST);
	if (h < w->ring_tail || h - w->ring_tail > RT_RING_SLOTS) {
		w->ring_broken = true;
		if (!w->gone) {
			log_warn("%s: handler %s: warm worker pid %d broke its answer ring; killing it",
				 w->pool->n->path, w->pool->handler, (int)w->p.sc.pid);
			worker_retire(w);
			rt_proc_kill(&w->p);
		}
		return false;
	}
	*head = h;
	return true;
}

static uint64_t warm_rx_begin(struct rt_proc *p)
{
	struct worker *w = p->owner;
	uint64_t h;

	if (!w->ring || !ring_head(w, &h))
		return 0;
	/* we are looking: no RT_REP_RING needed until rx_end asks again */
	__atomic_store_n(&w->ring->wake, 0, __ATOMIC_SEQ_CST);
	return h;
}

static bool warm_rx_end(struct rt_proc *p, uint64_t mark)
{
	struct worker *w = p->owner;
	uint64_t h;

	if (!w->ring)
		return false;
	ring_take(w, mark);
	if (w->gone)
		return false;
	/* ask to be told, then look once more (the worker: head, then wake) */
	__atomic_store_n(&w->ring->wake, 1, __ATOMIC_SEQ_CST);
	if (!ring_head(w, &h) || h == w->ring_tail)
		return false;
	__atomic_store_n(&w->ring->wake, 0, __ATOMIC_SEQ_CST);
	return true;
}

static void warm_report(struct rt_proc *p, const struct rt_rep *rep, int fd)
{
	struct worker *w = p->owner;
	struct pool *pl = w->pool;
	struct nsd *n = pl->n;

	if (fd >= 0)
		close(fd);	/* workers send none */
	switch (rep->type) {
	case RT_REP_READY:
		if (rep->err) {
			if (!pl->load_warned)
				log_warn("%s: handler %s: warm worker (pid %d) cannot use %s: %.*s; its "
					 "calls fail with exit status 127", n->path, pl->handler,
					 (int)p->sc.pid, pl->so.path, (int)sizeof(rep->msg), rep->msg);
			pl->load_warned = true;
		} else {
			log_info("%s: handler %s: warm worker ready, pid %d, loaded in %llu us",
				 n->path, pl->handler, (int)p->sc.pid,
				 (unsigned long long)((rep->end_ns - p->started_mono) / 1000));
		}
		return;
	case RT_REP_OUTPUT:
		/* captured output of call rep->id (0: between calls) */
		if (rep->status == 1 || rep->status == 2)
			log_output(w, rep->id ? flight_find(w, rep->id) : NULL, (unsigned)rep->status,
				   (const char *)(rep + 1), rep->len);
		return;
	case RT_REP_DONE: {
		/* a worker without an answer ring */
		struct rt_done d = rt_done_of(rep);

		warm_done(w, &d);
		return;
	}
	case RT_REP_RING:
		return;		/* rx_end takes the answers */
	default:
		log_warn("%s: warm worker %s: unexpected report type %u", n->path, pl->handler,
			 rep->type);
	}
}

/*
 * The calls a dead worker had been sent but had not begun go back to the
 * front of the queue, in order, with their requests made again - of this
 * pool, or of the pool that replaced it. Failed (crash) instead: one whose
 * own timeout killed the worker (timeout), and all of them when the daemon
 * stops or the handler has no pool any more.
 */
static void requeue_flight(struct worker *w)
{
	struct pool *pl = w->pool->retired ? pool_find(w->pool->n, w->pool->handler) : w->pool;
	struct wcall *list = w->fhead, *wc, *head = NULL, *tail = NULL;
	bool stopping = w->pool->n->d->stopping;

	w->fhead = w->ftail = NULL;
	w->inflight = 0;
	while ((wc = list)) {
		struct call *c = wc->c;
		int err = 0;

		list = wc->qnext;
		wc->qnext = NULL;
		wc->w = NULL;
		if (pl && !stopping && !c->timed_out && !wc->pkt) {
			/* the element: its ring copy, else its spool file (the core closed its fd) */
			if (!c->el)
				c->spool_fd = spool_call_fd(pl->n, c);
			if (c->el || c->spool_fd >= 0)
				wc->pkt = rt_pkt_call(c, false, &err);
			if (c->spool_fd >= 0)
				close(c->spool_fd);
			c->spool_fd = -1;
		}
		if (!pl || stopping || c->timed_out || !wc->pkt) {
			c->crashed = !c->timed_out;
			call_exited(c, CLD_KILLED, SIGKILL);
			continue;
		}
		wc->queued = true;
		wc->pool = pl;
		if (tail)
			tail->qnext = wc;
		else
			head = wc;
		tail = wc;
	}
	if (!head)
		return;
	tail->qnext = pl->qhead;
	if (!pl->qhead)
		pl->qtail = tail;
	pl->qhead = head;
	if (pl != w->pool)
		pool_dispatch(pl);
}

static void warm_exited(struct rt_proc *p, const siginfo_t *si)
{
	struct worker *w = p->owner;
	struct pool *pl = w->pool;
	struct nsd *n = pl->n;
	struct wcall *wc;
	uint64_t lived = now_mono_ns() - p->started_mono, h;

	/* answers it put before it died: those calls ended well */
	if (w->ring && ring_head(w, &h))
		ring_take(w, h);
	wc = w->fhead;

	/* what it wrote before it died belongs to the call it served */
	for (int i = 0; i < 2; i++)
		if (w->fd[i] >= 0 && !read_output(w, i))
			close_output(w, i);
	/* requests it never got: requeue_flight() makes them again */
	for (unsigned i = 0; i < w->npend; i++)
		rt_pkt_free(w->pend[i]);
	w->npend = 0;
	if (!w->retired)
		pl->live--;
	w->retired = true;
	w->gone = true;
	if (wc) {
		char how[96];

		if (si->si_code == CLD_EXITED)
			snprintf(how, sizeof(how), "exit status %d", si->si_status);
		else
			snprintf(how, sizeof(how), "signal %d (%s)", si->si_status,
				 strsignal(si->si_status));
		if (!wc->c->timed_out)
			log_warn("%s: handler %s: warm worker pid %d died (%s) serving trigger %llu; "
				 "the call fails (crash), the worker is replaced", n->path,
				 pl->handler, (int)p->sc.pid, how, (unsigned long long)wc->c->tseq);
		flight_remove(w, wc);
		wc->c->crashed = true;
		call_exited(wc->c, si->si_code, si->si_status);
		requeue_flight(w);
	} else if (!pl->retired && !n->d->stopping && si->si_code != CLD_EXITED) {
		log_warn("%s: handler %s: idle warm worker pid %d died (signal %d); replacing it",
			 n->path, pl->handler, (int)p->sc.pid, si->si_status);
	}
	/* its pipes may still be held by something it started: stop watching them */
	for (int i = 0; i < 2; i++)
		close_output(w, i);

	if (pl->retired || n->d->stopping)
		return;
	if (lived < WARM_YOUNG_NS && !(wc && wc->c->timed_out)) {
		/* dying young again and again: pause before the next start */
		pl->backoff_ns = pl->backoff_ns ? 2 * pl->backoff_ns : WARM_BACKOFF_MIN_NS;
		if (pl->backoff_ns > WARM_BACKOFF_MAX_NS)
			pl->backoff_ns = WARM_BACKOFF_MAX_NS;
	} else {
		pl->backoff_ns = 0;
	}
	if (pl->backoff_ns && pl->backoff_ns > WARM_BACKOFF_MIN_NS) {
		if (!pl->restart_op.busy) {
			log_notice("%s: handler %s: warm workers keep dying young; next start in %llu ms",
				   n->path, pl->handler,
				   (unsigned long long)(pl->backoff_ns / 1000000));
			loop_timeout(LP(pl), &pl->restart_op, pl->backoff_ns);
		}
		return;
	}
	pool_fill(pl);
	pool_dispatch(pl);
}

static void warm_settled(struct rt_proc *p)
{
	worker_maybe_free(p->owner);
}

/* ---- the runtime -------------------------------------------------------------- */

static int warm_start(struct nsd *n, struct call *c)
{
	struct rt_so so;
	struct pool *pl, *old;
	struct wcall *wc;
	unsigned want;
	int ret;

	pl = pool_find(n, c->tr.handler);
	if (pl && now_mono_ns() - pl->so_checked < RT_SO_RECHECK_NS) {
		so = pl->so;	/* looked at less than RT_SO_RECHECK_NS ago */
	} else {
		ret = rt_so_check(n, c->tr.handler, &so);
		if (ret)
			return ret;
		if (pl)
			pl->so_checked = now_mono_ns();
	}
	want = c->h->workers ? c->h->workers : 1;
	if (want > WARM_WORKERS_MAX)
		want = WARM_WORKERS_MAX;
	if (pl && !rt_so_same(&pl->so, &so)) {
		log_notice("%s: handler %s: %s was replaced; new warm workers load it", n->path,
			   pl->handler, so.path);
		old = pl;
		pl = pool_new(n, c->tr.handler, &so);
		if (!pl)
			return -ENOMEM;
		pool_retire(old, pl);
	}
	if (!pl) {
		pl = pool_new(n, c->tr.handler, &so);
		if (!pl)
			return -ENOMEM;
	}
	/* workers = N as configured now (a reload may change it) */
	pl->want = want;
	if (pl->live > want) {
		for (struct worker *w = pl->workers; w && pl->live > want; w = w->next)
			if (!w->fhead && !w->retired && !w->gone)
				worker_retire(w);
	}
	ret = pool_fill(pl);
	if (ret && ret != -EAGAIN) {
		pool_maybe_free(pl);
		return ret == -ENOENT || ret == -EACCES || ret == -ENOEXEC ? -ELIBACC : ret;
	}
	wc = calloc(1, sizeof(*wc));
	if (!wc)
		return -ENOMEM;
	wc->pkt = rt_pkt_call(c, false, &ret);
	if (!wc->pkt) {
		free(wc);
		return ret;
	}
	wc->c = c;
	c->rt_priv = wc;
	queue_push(pl, wc);
	pool_dispatch(pl);
	return 0;
}

static void warm_kill(struct nsd *n, struct call *c)
{
	struct wcall *wc = c->rt_priv;

	(void)n;
	if (!wc)
		return;
	if (wc->w) {
		/*
		 * The worker is the call (or, for a call still waiting behind
		 * another in the worker, holds it): it goes, and is replaced.
		 */
		rt_proc_kill(&wc->w->p);
		return;
	}
	if (wc->queued) {
		queue_remove(wc->pool, wc);
		call_exited(c, CLD_KILLED, SIGKILL);
	}
}

static void warm_release(struct nsd *n, struct call *c)
{
	struct wcall *wc = c->rt_priv;

	(void)n;
	if (!wc)
		return;
	c->rt_priv = NULL;
	/* for the final record (never earlier: sandbox_kill(&c->sc) must not see it) */
	c->sc.pid = wc->pid > 0 ? wc->pid : 0;
	if (wc->queued)
		queue_remove(wc->pool, wc);
	if (wc->w)
		flight_remove(wc->w, wc);
	rt_pkt_free(wc->pkt);
	free(wc);
}

const struct runtime_ops runtime_warm = {
	.name = "warm",
	.start = warm_start,
	.kill = warm_kill,
	.release = warm_release,
};
