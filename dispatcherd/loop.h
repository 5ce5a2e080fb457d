/* SPDX-License-Identifier: MIT */
/*
 * loop.h - dispatcherd's one event loop, on io_uring.
 *
 * Everything the daemon waits for is an operation on one ring: reads
 * (signalfd, handler output pipes), a recv (the dispatch socket), polls
 * (pidfds of handlers), waitid (kernels >= 6.7), timeouts. Each operation
 * is a struct loop_op embedded in the object that owns it; the op's
 * address is the SQE's user_data and its callback runs when the CQE
 * arrives. A loop_op is "busy" from submission until its final completion,
 * and its owner must not be freed while one of its ops is busy.
 *
 * Cost: preparing an op is a few stores; SQEs are submitted in one
 * io_uring_submit_and_wait() per loop turn, so a turn that re-arms ten
 * operations costs one system call.
 */
#ifndef WOOF_DISPATCHERD_LOOP_H
#define WOOF_DISPATCHERD_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <liburing.h>

struct loop_op;
/* @res is the CQE's result; @more is true when more CQEs of a multishot op follow */
typedef void (*loop_cb)(struct loop_op *op, int res, bool more);

struct loop_op {
	loop_cb cb;
	bool busy;
	struct __kernel_timespec ts;	/* timeouts: must live until completion */
};

/* What the running kernel's io_uring can do (probed at start). */
struct loop_features {
	bool probe;		/* io_uring_get_probe_ring worked */
	bool waitid;		/* IORING_OP_WAITID (6.7+) */
	bool futex;		/* IORING_OP_FUTEX_WAIT (6.7+) */
	bool read_multishot;	/* IORING_OP_READ_MULTISHOT (6.7+) */
	bool recv;		/* IORING_OP_RECV (5.6+) */
	unsigned last_op;
};

struct loop {
	struct io_uring ring;
	struct loop_features feat;
	unsigned pending;	/* SQEs prepared but not submitted */
};

/* IORING_OP_WAITID's number; liburing 2.3 does not know it. */
#define LOOP_OP_WAITID		50
#define LOOP_OP_READ_MULTISHOT	49
#define LOOP_OP_FUTEX_WAIT	51

int loop_init(struct loop *l, unsigned entries);
void loop_exit(struct loop *l);
/* One line naming what was found, for the log. */
void loop_describe(const struct loop *l, char *buf, size_t len);

void loop_read(struct loop *l, struct loop_op *op, int fd, void *buf, unsigned len);
void loop_recv(struct loop *l, struct loop_op *op, int fd, void *buf, unsigned len);
void loop_poll(struct loop *l, struct loop_op *op, int fd, unsigned events);
/* waitid(P_PIDFD, @pidfd, @info, WEXITED) on the ring; only if feat.waitid */
void loop_waitid(struct loop *l, struct loop_op *op, int pidfd, siginfo_t *info);
/* fire once after @ns nanoseconds (CLOCK_MONOTONIC) */
void loop_timeout(struct loop *l, struct loop_op *op, uint64_t ns);
/* ask for @op to complete early (with -ECANCELED); no-op when not busy */
void loop_cancel(struct loop *l, struct loop_op *op);

/*
 * Submit what was prepared, sleep until at least one completion is there,
 * then run the callbacks of all completions that are. Returns the number
 * of completions handled or -errno (-EINTR is retried inside).
 */
int loop_run_once(struct loop *l);

#endif
