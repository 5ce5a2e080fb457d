/* SPDX-License-Identifier: MIT */
/*
 * rtcommon.h - what the zygote and warm runtimes (zygote.c, warm.c) share
 * on dispatcherd's side: finding and starting woof-runner in a
 * namespace's sandbox, the handler's shared object, and a message channel
 * to a runner on the event loop.
 *
 * A runner (struct rt_proc) is one woof-runner process: its sandbox call
 * (pid, pidfd, cgroup), the SOCK_SEQPACKET socket to it, and three loop
 * operations - a poll for its reports (read with recvmsg(), as a report may
 * carry a descriptor), a poll for room to send when the socket is full,
 * and its exit (waitid, or pidfd poll + waitid WNOHANG on
 * kernels before 6.7). Its owner (a zygote, a warm worker) gets callbacks
 * for each report and for the exit; it may free the rt_proc only once
 * rt_proc_idle() says none of its operations is in flight.
 */
#ifndef WOOF_DISPATCHERD_RTCOMMON_H
#define WOOF_DISPATCHERD_RTCOMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "dispatcherd.h"
#include "runtime-proto.h"

/* The handler's shared object: NAME.so in the namespace directory. */
#define RT_SO_SUFFIX ".so"

struct rt_so {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/*
 * Does NAME.so exist (a regular file)? Fills @so; 0, -ENOENT, -ENOEXEC.
 * The runtimes look again at most every RT_SO_RECHECK_NS per handler: a
 * replaced or removed NAME.so takes effect within that time.
 */
#define RT_SO_RECHECK_NS	(1000ULL * 1000000ULL)
int rt_so_check(struct nsd *n, const char *handler, struct rt_so *so);
/* Same file, not replaced since? */
bool rt_so_same(const struct rt_so *a, const struct rt_so *b);

struct rt_pkt;
struct rt_proc;

struct rt_proc_ops {
	/* one report arrived, with the descriptor it carried (or -1; the owner's) */
	void (*report)(struct rt_proc *p, const struct rt_rep *rep, int fd);
	/* the process is gone (reaped: @si); every report it sent was delivered before */
	void (*exited)(struct rt_proc *p, const siginfo_t *si);
	/* an operation completed: the owner may check rt_proc_idle() and free */
	void (*settled)(struct rt_proc *p);
	/*
	 * Optional, for a runner with an answer ring (warm): rx_begin() before
	 * the socket is read returns a mark (what the ring holds now);
	 * rx_end() after it takes the answers up to the mark and returns true
	 * when more came meanwhile (the socket is then read again first).
	 */
	uint64_t (*rx_begin)(struct rt_proc *p);
	bool (*rx_end)(struct rt_proc *p, uint64_t mark);
};

struct rt_proc {
	struct nsd *n;
	const struct rt_proc_ops *ops;
	void *owner;
	const char *what;		/* "zygote" or "warm worker", for messages */
	char handler[WOOF_NAME_MAX + 1];
	struct sandbox_call sc;		/* the runner process (dispatcherd's child) */
	int sock;			/* -1 once closed */
	bool alive;			/* started and not yet reaped */
	bool reaped;			/* its exit was seen */
	bool exit_done;			/* ... and ops->exited() has run */
	bool ready;			/* RT_REP_READY came */
	bool load_failed;		/* ... saying the shared object could not be used */
	bool eof_sent;			/* shutdown(SHUT_WR): the runner ends when done */
	uint64_t started_mono;
	struct rt_pkt *q_head, *q_tail;	/* packets waiting for room in the socket */
	struct loop_op rx_op, tx_op, exit_op;
	siginfo_t si;
	struct rt_proc *reg_prev, *reg_next;	/* every started runner, for runtime_ns_close() */
};

/*
 * Start woof-runner @mode ("zygote" or "warm") for @handler with the shared
 * object @so in @n's sandbox. @out_fd/@err_fd: its stdout and stderr (-1:
 * /dev/null); @ring_fd: its answer ring, RT_FD_RING (-1: none). On success
 * @p is started and watched; returns 0 or -errno.
 */
int rt_proc_start(struct nsd *n, struct rt_proc *p, const char *mode, const char *handler,
		  const struct rt_so *so, int out_fd, int err_fd, int ring_fd);
/*
 * The request packet of call @c: header, element inline (read from its
 * spool fd) or the spool fd itself, and its stdout and stderr pipes when
 * @pipes. It owns copies of the fds, so it may be sent after start() has
 * returned and the core has closed the call's. NULL with *@err on failure.
 */
struct rt_pkt *rt_pkt_call(struct call *c, bool pipes, int *err);
void rt_pkt_free(struct rt_pkt *k);
/*
 * Send @k (queued in order if the socket is full). 0: it is taken; else
 * -errno (the runner is gone) and @k is still the caller's.
 */
int rt_proc_send_pkt(struct rt_proc *p, struct rt_pkt *k);
/*
 * Send @n packets of one request each, in order, joining runs of them
 * that carry no descriptors into packets of several (runtime-proto.h).
 * Takes every packet (the array's entries become NULL); returns 0 or the
 * first error (the packets after it are dropped: the caller gets its calls
 * back when the process's exit is seen).
 */
int rt_proc_send_batch(struct rt_proc *p, struct rt_pkt **pkts, unsigned n);
/* rt_pkt_call() + rt_proc_send_pkt(), for a call being started now. */
int rt_proc_send_call(struct rt_proc *p, struct call *c, bool pipes);
/* Send a bare request (RT_REQ_KILL of call @id, or of child @pid). */
int rt_proc_send(struct rt_proc *p, uint32_t type, uint64_t id, uint32_t pid);
/* Send @k on the socket @fd (a zygote's spare) at once: 0 (taken), or -errno
 * and @k is still the caller's. */
int rt_send_pkt_fd(int fd, struct rt_pkt *k);
/* No more requests: the runner finishes what it has and exits. */
void rt_proc_shutdown(struct rt_proc *p);
/* Kill the runner (its whole call cgroup). */
void rt_proc_kill(struct rt_proc *p);
/* No operation in flight and the process reaped: its memory may go. */
bool rt_proc_idle(const struct rt_proc *p);
/* After rt_proc_idle(): drop what is left (queued packets, socket). */
void rt_proc_free(struct rt_proc *p);

/* The runner program and libwoof dispatcherd starts it with (for messages). */
const char *rt_runner_path(void);

#endif
