/* SPDX-License-Identifier: MIT */
/*
 * loop.c - dispatcherd's io_uring event loop (see loop.h).
 *
 * Feature probing: liburing 2.3 (Debian 12) knows opcodes up to
 * SENDMSG_ZC; kernel 6.1 (the test VM) supports exactly those, kernel 6.7+
 * adds READ_MULTISHOT, WAITID and FUTEX_*. The ring's probe says what the
 * running kernel has; ops liburing 2.3 has no helper for (WAITID) are
 * filled in by hand from the kernel's documented SQE layout. Callers check
 * l->feat and fall back (a pidfd POLL_ADD + waitid(WNOHANG) instead of
 * WAITID).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <poll.h>

#include "loop.h"

/* user_data 0: a completion nobody waits for (cancel requests) */
#define LOOP_IGNORE 0

int loop_init(struct loop *l, unsigned entries)
{
	struct io_uring_params p;
	struct io_uring_probe *probe;
	int ret;

	memset(l, 0, sizeof(*l));
	memset(&p, 0, sizeof(p));
	/* only this thread submits; completions are reaped when we wait */
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	ret = io_uring_queue_init_params(entries, &l->ring, &p);
	if (ret == -EINVAL) {
		/* kernels before 6.1 lack DEFER_TASKRUN */
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(entries, &l->ring, &p);
	}
	if (ret < 0)
		return ret;

	probe = io_uring_get_probe_ring(&l->ring);
	if (probe) {
		l->feat.probe = true;
		l->feat.last_op = probe->last_op;
		l->feat.recv = io_uring_opcode_supported(probe, IORING_OP_RECV);
		l->feat.waitid = probe->last_op >= LOOP_OP_WAITID &&
				 io_uring_opcode_supported(probe, LOOP_OP_WAITID);
		l->feat.futex = probe->last_op >= LOOP_OP_FUTEX_WAIT &&
				io_uring_opcode_supported(probe, LOOP_OP_FUTEX_WAIT);
		l->feat.read_multishot = probe->last_op >= LOOP_OP_READ_MULTISHOT &&
					 io_uring_opcode_supported(probe, LOOP_OP_READ_MULTISHOT);
		io_uring_free_probe(probe);
	} else {
		/* no probe (before 5.6): assume the 5.6 set, no newer ops */
		l->feat.recv = true;
	}
	return 0;
}

void loop_exit(struct loop *l)
{
	io_uring_queue_exit(&l->ring);
}

void loop_describe(const struct loop *l, char *buf, size_t len)
{
	snprintf(buf, len, "io_uring: probe %s, last op %u; waitid %s; futex %s; "
		 "multishot read %s (not needed: one read per pipe in flight)",
		 l->feat.probe ? "ok" : "unavailable", l->feat.last_op,
		 l->feat.waitid ? "yes (handler exits reaped on the ring)"
				: "no (pidfd poll + waitid WNOHANG)",
		 l->feat.futex ? "yes" : "no",
		 l->feat.read_multishot ? "yes" : "no");
}

/* An SQE, submitting what is queued when the submission queue is full. */
static struct io_uring_sqe *get_sqe(struct loop *l)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&l->ring))) {
		/* full: hand the queued SQEs to the kernel and try again */
		int ret = io_uring_submit(&l->ring);

		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			fprintf(stderr, "dispatcherd: fatal: io_uring_submit: %s\n",
				strerror(-ret));
			abort();
		}
		l->pending = 0;
	}
	l->pending++;
	return sqe;
}

static void arm(struct loop_op *op, struct io_uring_sqe *sqe)
{
	op->busy = true;
	io_uring_sqe_set_data(sqe, op);
}

void loop_read(struct loop *l, struct loop_op *op, int fd, void *buf, unsigned len)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	/* offset -1: the file's current position (pipes and signalfd have none) */
	io_uring_prep_read(sqe, fd, buf, len, (__u64)-1);
	arm(op, sqe);
}

void loop_recv(struct loop *l, struct loop_op *op, int fd, void *buf, unsigned len)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	io_uring_prep_recv(sqe, fd, buf, len, 0);
	arm(op, sqe);
}

void loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned events)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	io_uring_prep_poll_add(sqe, fd, events);
	arm(op, sqe);
}

void loop_waitid(struct loop *l, struct loop_op *op, int pidfd, siginfo_t *info)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	/*
	 * IORING_OP_WAITID (kernel 6.7): fd = the id (our pidfd), len = the
	 * idtype, file_index = waitid options, addr2 = the siginfo. The
	 * kernel fills si_signo, si_code, si_pid, si_uid and si_status.
	 */
	io_uring_prep_rw(LOOP_OP_WAITID, sqe, pidfd, NULL, P_PIDFD, 0);
	sqe->file_index = WEXITED;
	sqe->addr2 = (__u64)(uintptr_t)info;
	arm(op, sqe);
}

void loop_timeout(struct loop *l, struct loop_op *op, uint64_t ns)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	op->ts.tv_sec = (long long)(ns / 1000000000ULL);
	op->ts.tv_nsec = (long long)(ns % 1000000000ULL);
	io_uring_prep_timeout(sqe, &op->ts, 0, 0);
	arm(op, sqe);
}

void loop_cancel(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe;

	if (!op->busy)
		return;
	sqe = get_sqe(l);
	/* ASYNC_CANCEL matches every request kind by user_data, timeouts too */
	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data64(sqe, LOOP_IGNORE);
}

int loop_run_once(struct loop *l)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;
	int ret;

	do {
		ret = io_uring_submit_and_wait(&l->ring, 1);
	} while (ret == -EINTR);
	if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -ETIME)
		return ret;
	l->pending = 0;

	/*
	 * Callbacks may prepare new SQEs (and even submit when the SQ fills);
	 * they never wait, so walking the CQ while they run is safe as long
	 * as each CQE is consumed before its callback runs.
	 */
	while (io_uring_peek_cqe(&l->ring, &cqe) == 0) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);
		int res = cqe->res;
		bool more = cqe->flags & IORING_CQE_F_MORE;

		io_uring_cqe_seen(&l->ring, cqe);
		n++;
		if (!op)
			continue;
		if (!more)
			op->busy = false;
		op->cb(op, res, more);
	}
	return (int)n;
}
