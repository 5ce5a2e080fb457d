/* SPDX-License-Identifier: MIT */
/*
 * zygote.c - the zygote runtime (the cosmos seed's "hostfn"): the handler
 * is a shared object, NAME.so in the namespace directory, loaded once by a
 * zygote process; every call is a fork() of that zygote, so a call starts
 * without exec or dynamic linking and a crash ends only its own call.
 *
 * Per namespace and handler, one zygote per CPU (at most `workers`):
 * woof-runner in zygote mode (runner.c), started through the namespace's
 * sandbox (sandbox_spawn, so it lives in the namespace's PID/mount/IPC/UTS
 * namespaces, as the handlers' user, in a call cgroup of its own), all at
 * the handler's first call. A call goes to the zygote with the most
 * spares, else to the least busy. A call is one packet on a SOCK_SEQPACKET socket: the call
 * header (trigger, WOOF, seq, attempt), the element (inline up to 64 KiB,
 * else its spool fd) and, by SCM_RIGHTS, the call's stdout and stderr
 * pipes. The zygote keeps three children forked ahead ("spares"), each
 * blocked on a socketpair of its own whose other end it handed to us
 * (RT_REP_SPARE): a call goes straight to a spare, so no fork() lies
 * between the put and the handler's first line; with no spare free, the
 * packet goes to the zygote, which forks for it. The zygote forks the
 * replacing spare when a spare's call has ended, at a lower priority,
 * before it reports that end (runner.c says why). The child lays out the pipes and the
 * call's environment and runs the function through the shepherd's code
 * (woof_shepherd_call), exiting with the shepherd's status.
 *
 * Exit status: the zygote is the child's parent. It reaps it and reports
 * {trigger, wait status, pid} back on the socket (RT_REP_EXIT); a poll on
 * the ring and a recvmsg() deliver it and the call ends through
 * call_exited(). The record's pid is the child's pid in the namespace's
 * PID namespace (what getpid() said in the handler): dispatcherd never
 * sees the child itself.
 *
 * Timeout: the core calls kill(); we ask the zygote to SIGKILL the child's
 * process group (RT_REQ_KILL). If no exit report comes within 2 s the
 * zygote itself is killed (cgroup.kill of its cgroup: it and every call it
 * runs), which ends its calls as below.
 *
 * A dead zygote (its pidfd on the ring): every call it was running is
 * recorded failed, reason crash (its children die with it: PDEATHSIG); a
 * new zygote is started at once if the dead one had lived for a second,
 * else at the next call (no restart loop). Replacing NAME.so (another
 * inode, size or mtime) retires the zygotes: they finish their calls and
 * exit, and the next call starts zygotes with the new file.
 *
 * Cost per call (dispatcherd's side): a copy of the element from the spool
 * ring (spool.c), one
 * sendmsg with two fds, a recvmsg of the spare's replacement and one of
 * the exit report; a stat of NAME.so at most once a second.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rtcommon.h"

#define ZY_KILL_GRACE_NS	(2ULL * 1000000000ULL)
#define ZY_RESTART_MIN_NS	(1ULL * 1000000000ULL)	/* restart at once only after this uptime */

struct zcall;

/* a child the zygote forked ahead, waiting for a call on @fd */
struct spare {
	struct spare *next;
	pid_t pid;		/* in the namespace's PID namespace */
	int fd;
};

struct zygote {
	struct zygote *next;
	struct nsd *n;
	char handler[WOOF_NAME_MAX + 1];
	struct rt_so so;
	uint64_t so_checked;	/* CLOCK_MONOTONIC of the last stat of NAME.so */
	struct rt_proc p;
	bool retired;		/* takes no more calls (dead, or its .so was replaced) */
	struct zcall *calls;	/* sent, exit not reported yet */
	unsigned ncalls;
	uint64_t calls_total;
	struct spare *spares, *spares_tail;	/* FIFO: the oldest is the best prepared */
	unsigned nspares;
	unsigned want;		/* zygotes this handler runs (zygotes_wanted()) */
};

/* c->rt_priv of a zygote call */
struct zcall {
	struct call *c;		/* NULL once released */
	struct zygote *z;	/* NULL once the call has ended */
	struct zcall *prev, *next;
	struct loop_op kill_op;
	uint32_t pid;		/* the child, in the namespace's PID namespace */
	uint32_t spare;		/* the spare it was given to (its pid), 0 if the zygote forks */
};

static struct zygote *zygotes;

static void zygote_report(struct rt_proc *p, const struct rt_rep *rep, int fd);
static void zygote_exited(struct rt_proc *p, const siginfo_t *si);
static void zygote_settled(struct rt_proc *p);

static const struct rt_proc_ops zygote_proc_ops = {
	.report = zygote_report,
	.exited = zygote_exited,
	.settled = zygote_settled,
};

static bool zygote_of(const struct zygote *z, const struct nsd *n, const char *handler)
{
	return z->n == n && !z->retired && strcmp(z->handler, handler) == 0;
}

/*
 * A handler runs one zygote per CPU (at most `workers`, when set): a
 * single zygote forks on one CPU at a time, and forking is what bounds the
 * runtime's throughput (measured: one zygote reached the rate of one
 * fork+exit+wait loop, 0.35 k/s on the 2-vCPU machine, the machine two).
 */
static unsigned zygotes_wanted(const struct call *c)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (unsigned)ncpu;

	if (c->h->cap && c->h->cap < want)
		want = c->h->cap;
	return want;
}

static unsigned zygote_count(struct nsd *n, const char *handler)
{
	unsigned k = 0;

	for (struct zygote *z = zygotes; z; z = z->next)
		k += zygote_of(z, n, handler);
	return k;
}

/* The zygote for the next call: the one with the most spares, else the least busy. */
static struct zygote *zygote_pick(struct nsd *n, const char *handler)
{
	struct zygote *best = NULL;

	for (struct zygote *z = zygotes; z; z = z->next) {
		if (!zygote_of(z, n, handler))
			continue;
		if (!best || z->nspares > best->nspares ||
		    (z->nspares == best->nspares && z->ncalls < best->ncalls))
			best = z;
	}
	return best;
}

static void spare_push(struct zygote *z, pid_t pid, int fd)
{
	struct spare *sp = calloc(1, sizeof(*sp));

	if (!sp) {
		close(fd);	/* it sees end of file and goes */
		return;
	}
	sp->pid = pid;
	sp->fd = fd;
	if (z->spares_tail)
		z->spares_tail->next = sp;
	else
		z->spares = sp;
	z->spares_tail = sp;
	z->nspares++;
}

static struct spare *spare_pop(struct zygote *z)
{
	struct spare *sp = z->spares;

	if (!sp)
		return NULL;
	z->spares = sp->next;
	if (!z->spares)
		z->spares_tail = NULL;
	z->nspares--;
	return sp;
}

/* a spare that ended unused: forget it */
static void spare_drop_pid(struct zygote *z, pid_t pid)
{
	struct spare *prev = NULL;

	for (struct spare *sp = z->spares; sp; prev = sp, sp = sp->next) {
		if (sp->pid != pid)
			continue;
		if (prev)
			prev->next = sp->next;
		else
			z->spares = sp->next;
		if (z->spares_tail == sp)
			z->spares_tail = prev;
		z->nspares--;
		close(sp->fd);
		free(sp);
		return;
	}
}

static void spares_drop_all(struct zygote *z)
{
	struct spare *sp;

	while ((sp = spare_pop(z))) {
		close(sp->fd);
		free(sp);
	}
}

static void zygote_maybe_free(struct zygote *z)
{
	if (!z->retired || z->ncalls || !rt_proc_idle(&z->p))
		return;
	for (struct zygote **pp = &zygotes; *pp; pp = &(*pp)->next)
		if (*pp == z) {
			*pp = z->next;
			break;
		}
	spares_drop_all(z);
	rt_proc_free(&z->p);
	free(z);
}

static struct zygote *zygote_new(struct nsd *n, const char *handler, const struct rt_so *so,
				 int *err)
{
	struct zygote *z = calloc(1, sizeof(*z));
	int ret;

	if (!z) {
		*err = -ENOMEM;
		return NULL;
	}
	z->n = n;
	snprintf(z->handler, sizeof(z->handler), "%s", handler);
	z->so = *so;
	z->so_checked = now_mono_ns();
	z->want = 1;
	ret = rt_proc_start(n, &z->p, "zygote", handler, so, -1, -1, -1);
	z->p.what = "zygote";
	z->p.ops = &zygote_proc_ops;
	z->p.owner = z;
	if (ret) {
		log_err("%s: handler %s: cannot start its zygote (%s): %s", n->path, handler,
			rt_runner_path(), strerror(-ret));
		free(z);
		*err = ret;
		return NULL;
	}
	z->next = zygotes;
	zygotes = z;
	log_info("%s: handler %s: zygote started, pid %d (%s)", n->path, handler,
		 (int)z->p.sc.pid, so->path);
	return z;
}

static void zc_unlink(struct zcall *zc)
{
	struct zygote *z = zc->z;

	if (!z)
		return;
	if (zc->prev)
		zc->prev->next = zc->next;
	else
		z->calls = zc->next;
	if (zc->next)
		zc->next->prev = zc->prev;
	zc->prev = zc->next = NULL;
	zc->z = NULL;
	z->ncalls--;
}

static void zygote_report(struct rt_proc *p, const struct rt_rep *rep, int fd)
{
	struct zygote *z = p->owner;
	struct nsd *n = z->n;
	struct zcall *zc;

	if (rep->type == RT_REP_SPARE) {
		if (fd < 0)
			return;
		if (z->retired)
			close(fd);
		else
			spare_push(z, (pid_t)rep->pid, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	switch (rep->type) {
	case RT_REP_READY:
		if (rep->err)
			log_warn("%s: handler %s: zygote (pid %d) cannot use %s: %.*s; its calls fail "
				 "with exit status 127", n->path, z->handler, (int)p->sc.pid,
				 z->so.path, (int)sizeof(rep->msg), rep->msg);
		else
			log_info("%s: handler %s: zygote ready, pid %d, loaded in %llu us", n->path,
				 z->handler, (int)p->sc.pid,
				 (unsigned long long)((rep->end_ns - p->started_mono) / 1000));
		return;
	case RT_REP_EXIT:
		/* by trigger; a spare that died before saying which call it took, by pid */
		for (zc = z->calls; zc; zc = zc->next)
			if (zc->c && ((rep->id && zc->c->tseq == rep->id) ||
				      (!rep->id && zc->spare && zc->spare == rep->pid)))
				break;
		if (!zc && !rep->id) {
			spare_drop_pid(z, (pid_t)rep->pid);	/* ended unused */
			return;
		}
		if (!zc) {
			dbg("%s: zygote %s: exit report for trigger %llu, which is not running",
			    n->path, z->handler, (unsigned long long)rep->id);
			return;
		}
		zc->pid = rep->pid;
		zc_unlink(zc);
		if (zc->kill_op.busy)
			loop_cancel(&n->d->loop, &zc->kill_op);
		if (rep->err)
			rec_note(n, zc->c, "zygote could not fork: %s", strerror(rep->err));
		call_exited(zc->c, rep->code, rep->status);
		zygote_maybe_free(z);
		return;
	default:
		log_warn("%s: zygote %s: unexpected report type %u", n->path, z->handler,
			 rep->type);
	}
}

static void zygote_exited(struct rt_proc *p, const siginfo_t *si)
{
	struct zygote *z = p->owner;
	struct nsd *n = z->n;
	bool was_retired = z->retired;
	uint64_t lived = now_mono_ns() - p->started_mono;
	struct zcall *zc;

	z->retired = true;
	spares_drop_all(z);
	if (!was_retired || z->ncalls) {
		char how[96];

		if (si->si_code == CLD_EXITED)
			snprintf(how, sizeof(how), "exit status %d", si->si_status);
		else
			snprintf(how, sizeof(how), "signal %d (%s)", si->si_status,
				 strsignal(si->si_status));
		log_warn("%s: handler %s: zygote pid %d died (%s) after %llu ms; %u call(s) it "
			 "was running fail (crash)", n->path, z->handler, (int)p->sc.pid, how,
			 (unsigned long long)(lived / 1000000), z->ncalls);
	}
	while ((zc = z->calls)) {
		struct call *c = zc->c;

		zc_unlink(zc);
		if (zc->kill_op.busy)
			loop_cancel(&n->d->loop, &zc->kill_op);
		c->crashed = true;
		/* its children die with it (PR_SET_PDEATHSIG) */
		call_exited(c, CLD_KILLED, SIGKILL);
	}
	/* a zygote that had been working is replaced at once; one that died young waits
	 * for the next call (no restart loop) */
	if (!was_retired && lived >= ZY_RESTART_MIN_NS && !n->d->stopping &&
	    zygote_count(n, z->handler) < z->want) {
		struct rt_so so;
		struct zygote *nz;
		int err;

		if (rt_so_check(n, z->handler, &so) == 0 && (nz = zygote_new(n, z->handler, &so, &err)))
			nz->want = z->want;
	}
}

static void zygote_settled(struct rt_proc *p)
{
	zygote_maybe_free(p->owner);
}

static void kill_cb(struct loop_op *op, int res, bool more)
{
	struct zcall *zc = (struct zcall *)((char *)op - offsetof(struct zcall, kill_op));

	(void)more;
	if (!zc->c) {
		free(zc);	/* released while this timer ran */
		return;
	}
	if (res == -ETIME && zc->z) {
		struct zygote *z = zc->z;

		log_warn("%s: handler %s: zygote pid %d did not end trigger %llu within %llu ms of "
			 "being told to; killing the zygote", z->n->path, z->handler,
			 (int)z->p.sc.pid, (unsigned long long)zc->c->tseq,
			 (unsigned long long)(ZY_KILL_GRACE_NS / 1000000));
		rt_proc_kill(&z->p);
	}
}

/* A runner that cannot start is not a missing or unrunnable *handler* file. */
static int spawn_err(int ret)
{
	return ret == -ENOENT || ret == -EACCES || ret == -ENOEXEC ? -ELIBACC : ret;
}

static int zygote_start(struct nsd *n, struct call *c)
{
	struct rt_so so;
	struct zygote *z;
	struct zcall *zc;
	struct rt_pkt *pkt;
	int ret;

	z = zygote_pick(n, c->tr.handler);
	if (z && now_mono_ns() - z->so_checked < RT_SO_RECHECK_NS) {
		so = z->so;	/* looked at less than RT_SO_RECHECK_NS ago */
	} else {
		ret = rt_so_check(n, c->tr.handler, &so);
		if (ret)
			return ret;
		if (z)
			z->so_checked = now_mono_ns();
	}
	if (z && !rt_so_same(&z->so, &so)) {
		struct zygote *y, *next;

		log_notice("%s: handler %s: %s was replaced; new zygotes take the next calls",
			   n->path, z->handler, so.path);
		for (y = zygotes; y; y = next) {
			next = y->next;
			if (!zygote_of(y, n, c->tr.handler))
				continue;
			y->retired = true;
			spares_drop_all(y);
			rt_proc_shutdown(&y->p);
			zygote_maybe_free(y);
		}
		z = NULL;
	}
	/* the handler's zygotes: all of them at its first call (or after some died) */
	{
		unsigned want = zygotes_wanted(c);

		while (zygote_count(n, c->tr.handler) < want) {
			struct zygote *nz = zygote_new(n, c->tr.handler, &so, &ret);

			if (!nz)
				break;
			nz->want = want;
			if (!z)
				z = nz;
		}
		if (!z)
			return spawn_err(ret);
	}
	zc = calloc(1, sizeof(*zc));
	if (!zc)
		return -ENOMEM;
	zc->c = c;
	zc->kill_op.cb = kill_cb;
	pkt = rt_pkt_call(c, true, &ret);
	if (!pkt) {
		free(zc);
		return ret;
	}
	for (int tries = 0;; tries++) {
		struct spare *sp;

		if (!z) {
			z = zygote_new(n, c->tr.handler, &so, &ret);
			if (!z) {
				rt_pkt_free(pkt);
				free(zc);
				return spawn_err(ret);
			}
		}
		/* a spare waiting, of any of the handler's zygotes: straight to it */
		ret = -EPIPE;
		for (struct zygote *y = zygote_pick(n, c->tr.handler); ret && y && y->nspares;
		     y = zygote_pick(n, c->tr.handler)) {
			while (ret && (sp = spare_pop(y))) {
				ret = rt_send_pkt_fd(sp->fd, pkt);
				if (!ret) {
					zc->spare = (uint32_t)sp->pid;
					z = y;
				}
				close(sp->fd);
				free(sp);
			}
		}
		if (!ret)
			break;
		/* none: the least busy zygote forks for it */
		z = zygote_pick(n, c->tr.handler);
		if (!z) {
			z = zygote_new(n, c->tr.handler, &so, &ret);
			if (!z) {
				rt_pkt_free(pkt);
				free(zc);
				return spawn_err(ret);
			}
		}
		ret = rt_proc_send_pkt(&z->p, pkt);
		if (!ret)
			break;
		log_warn("%s: handler %s: sending trigger %llu to the zygote (pid %d): %s",
			 n->path, z->handler, (unsigned long long)c->tseq, (int)z->p.sc.pid,
			 strerror(-ret));
		if (tries || (ret != -EPIPE && ret != -ECONNRESET && ret != -ECONNREFUSED)) {
			rt_pkt_free(pkt);
			free(zc);
			return spawn_err(ret);
		}
		/* it died and the ring has not told us yet: its exit is handled there */
		z->retired = true;
		z = NULL;
	}
	zc->z = z;
	zc->next = z->calls;
	if (z->calls)
		z->calls->prev = zc;
	z->calls = zc;
	z->ncalls++;
	z->calls_total++;
	c->rt_priv = zc;
	return 0;
}

static void zygote_kill(struct nsd *n, struct call *c)
{
	struct zcall *zc = c->rt_priv;
	int ret;

	if (!zc || !zc->z)
		return;
	ret = rt_proc_send(&zc->z->p, RT_REQ_KILL, c->tseq, zc->spare);
	if (ret) {
		/* cannot even ask: end the zygote, and with it the call */
		rt_proc_kill(&zc->z->p);
		return;
	}
	if (!zc->kill_op.busy)
		loop_timeout(&n->d->loop, &zc->kill_op, ZY_KILL_GRACE_NS);
}

static void zygote_release(struct nsd *n, struct call *c)
{
	struct zcall *zc = c->rt_priv;
	struct zygote *z;

	if (!zc)
		return;
	c->rt_priv = NULL;
	/* for the final record (never earlier: sandbox_kill(&c->sc) must not see it) */
	c->sc.pid = (pid_t)zc->pid;
	z = zc->z;
	zc_unlink(zc);
	zc->c = NULL;
	if (zc->kill_op.busy)
		loop_cancel(&n->d->loop, &zc->kill_op);	/* kill_cb frees it */
	else
		free(zc);
	if (z)
		zygote_maybe_free(z);
}

const struct runtime_ops runtime_zygote = {
	.name = "zygote",
	.start = zygote_start,
	.kill = zygote_kill,
	.release = zygote_release,
};
