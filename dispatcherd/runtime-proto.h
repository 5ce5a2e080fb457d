/* SPDX-License-Identifier: MIT */
/*
 * runtime-proto.h - what dispatcherd and woof-runner (the zygote and the
 * warm workers, dispatcherd/runner.c) say to each other.
 *
 * One SOCK_SEQPACKET socketpair per runner process: dispatcherd keeps one
 * end, the runner gets the other as fd RT_FD_SOCK. Every message is one
 * packet, so no framing is needed and a runner that dies loses nothing but
 * what it had taken. Both sides run on the same host and are built from
 * the same tree: the structs travel as they are, no byte-order or padding
 * games (the magic word catches a stale runner binary).
 *
 * A packet holds one message or several (batches): each a header (struct
 * rt_req / struct rt_rep) and the bytes it says follow, the next one
 * starting at the next multiple of 8 bytes (RT_ALIGN); at most
 * RT_PACKET_MAX bytes. Only a packet of one message carries descriptors.
 *
 *   dispatcherd -> runner
 *     RT_REQ_CALL  struct rt_req, then the element (RT_F_INLINE) or, for
 *                  elements over RT_INLINE_MAX, the element on a passed fd
 *                  (RT_F_ELFD). Zygote: SCM_RIGHTS carries the call's
 *                  stdout and stderr pipes first (RT_F_PIPES).
 *     RT_REQ_KILL  (zygote) kill the child serving call @id (or, with
 *                  @pid set, the spare @pid that was given a call).
 *   runner -> dispatcherd
 *     RT_REP_READY once, after the handler's shared object was loaded (or
 *                  not: err != 0 and msg says why; the runner then fails
 *                  every call with exit status 127).
 *     RT_REP_SPARE (zygote) a child forked ahead, @pid, waits for a call on
 *                  the socket passed with it (SCM_RIGHTS): dispatcherd sends
 *                  it one RT_REQ_CALL there (with the pipes) and closes it.
 *     RT_REP_EXIT  (zygote) the child @pid of call @id (0: a spare that
 *                  ended unused, or before it could say which call it
 *                  took) was reaped: code is CLD_EXITED/CLD_KILLED/
 *                  CLD_DUMPED, status the exit status or the signal.
 *     RT_REP_DONE  (warm) call @id returned: code = the function's return
 *                  value, status = the exit-convention status (0, 1, 2,
 *                  127 as in woof-shepherd.h). A worker serves its
 *                  requests in order, so dispatcherd may send several
 *                  before the first DONE (pipelining). A worker given an
 *                  answer ring (below) puts its answers there instead.
 *     RT_REP_RING  (warm) answers wait in the answer ring; sent only when
 *                  dispatcherd asked for it (struct rt_ring.wake).
 *     RT_REP_OUTPUT (warm) @len bytes that follow the header were written
 *                  to stdout (status 1) or stderr (status 2) while call
 *                  @id was served (0: between calls); all of a call's come
 *                  before its DONE. At most RT_OUTPUT_MAX bytes a packet.
 */
#ifndef WOOF_RUNTIME_PROTO_H
#define WOOF_RUNTIME_PROTO_H

#include <stdint.h>
#include <linux/woof.h>

#define RT_MAGIC	0x52574f46U	/* "FOWR" */

/* fds of a runner process (sandbox_spawn keep_fds become 3, 4, ...) */
#define RT_FD_EXE	3	/* the runner program itself (exec'd through /proc/self/fd/3) */
#define RT_FD_LIBWOOF	4	/* dispatcherd's libwoof.so, preloaded through /proc/self/fd/4 */
#define RT_FD_SOCK	5	/* the socket to dispatcherd */
#define RT_FD_RING	6	/* warm: the answer ring, a sealed memfd (struct rt_ring) */

/* Elements up to this size travel inside the request packet. */
#define RT_INLINE_MAX	(64U * 1024U)
/* Messages in a packet start at multiples of 8 bytes. */
#define RT_ALIGN(x)	(((x) + 7U) & ~(size_t)7U)

enum rt_type {
	RT_REQ_CALL = 1,
	RT_REQ_KILL = 2,
	RT_REP_READY = 16,
	RT_REP_EXIT = 17,
	RT_REP_DONE = 18,
	RT_REP_SPARE = 19,
	RT_REP_OUTPUT = 20,
	RT_REP_RING = 21,
};

/* Output bytes in one RT_REP_OUTPUT packet. */
#define RT_OUTPUT_MAX	(16U * 1024U)
/* The largest packet either side sends (a request with the largest inline element). */
#define RT_PACKET_MAX	(sizeof(struct rt_req) + RT_INLINE_MAX)

#define RT_F_INLINE	(1U << 0)	/* the element follows the header */
#define RT_F_ELFD	(1U << 1)	/* the element is on the last passed fd */
#define RT_F_PIPES	(1U << 2)	/* the first two passed fds are stdout and stderr */

struct rt_req {
	uint32_t magic;
	uint32_t type;		/* RT_REQ_* */
	uint32_t flags;		/* RT_F_* */
	uint32_t attempt;	/* 1, 2.. */
	uint64_t id;		/* the call: its trigger number */
	uint64_t seq;		/* the element's sequence number */
	uint64_t el_size;
	uint64_t put_time_ns;	/* CLOCK_REALTIME of the put */
	uint32_t pid;		/* RT_REQ_KILL: the child, when dispatcherd knows it (a spare) */
	uint32_t reserved;
	char woof[WOOF_NAME_MAX + 1];
	/* RT_F_INLINE: el_size bytes of element */
};

struct rt_rep {
	uint32_t magic;
	uint32_t type;		/* RT_REP_* */
	int32_t err;		/* READY: 0 or an errno */
	int32_t code;		/* EXIT: CLD_*; DONE: the function's return value */
	int32_t status;		/* EXIT: exit status or signal; DONE: 0/1/2/127 */
	uint32_t pid;		/* who ran the call, in the namespace's PID namespace */
	uint64_t id;
	uint64_t start_ns;	/* CLOCK_MONOTONIC: the call began (fork / function entry) */
	uint64_t end_ns;	/* CLOCK_MONOTONIC: it ended (reaped / function returned) */
	uint32_t out_pending;	/* DONE: bytes still in the worker's output pipes (no capture) */
	uint32_t len;		/* OUTPUT: bytes that follow this header */
	char msg[240];		/* READY: the reason when err != 0 */
};

/*
 * The answer ring of a warm worker: a shared mapping (a memfd dispatcherd
 * made, sealed against shrinking) where the worker puts each call's answer
 * the moment the call returns - no system call per answer, and nothing is
 * lost if the worker is killed right after (the memory is dispatcherd's
 * too). Single producer (the worker: @head), single consumer (dispatcherd:
 * @tail). The worker writes ent[head % RT_RING_SLOTS], then head + 1
 * (release); then, if @wake is set, clears it and sends one RT_REP_RING
 * packet. dispatcherd sets @wake before it stops looking and reads @head
 * again after (both sequentially consistent), so an answer is never left
 * unannounced. dispatcherd never has more than WARM_DEPTH calls in flight
 * per worker, fewer than the slots, so the ring cannot fill up; a worker
 * that finds it full waits. Output a call wrote is sent (RT_REP_OUTPUT)
 * before its answer is put here; dispatcherd takes the answers it saw
 * before it read the socket, so a call's output is logged before its end.
 * dispatcherd trusts nothing in it: a head out of range kills the worker.
 */
#define RT_RING_MAGIC	0x474e4952U	/* "RING" */
#define RT_RING_SLOTS	64U

struct rt_done {
	uint64_t id;		/* the call: its trigger number */
	int32_t code;		/* the function's return value */
	int32_t status;		/* the exit-convention status (0/1/2/127) */
	uint64_t start_ns;	/* CLOCK_MONOTONIC: function entry */
	uint64_t end_ns;	/* CLOCK_MONOTONIC: it returned */
	uint32_t out_pending;	/* bytes still in the output pipes (no capture) */
	uint32_t pid;		/* the worker, in the namespace's PID namespace */
};

struct rt_ring {
	uint32_t magic;
	uint32_t slots;		/* RT_RING_SLOTS */
	uint32_t wake;		/* dispatcherd: 1 = send RT_REP_RING after the next answer */
	uint32_t pad0[13];
	uint64_t head;		/* answers put (the worker) */
	uint64_t pad1[7];
	uint64_t tail;		/* answers taken (dispatcherd) */
	uint64_t pad2[7];
	struct rt_done ent[RT_RING_SLOTS];
};

_Static_assert(sizeof(struct rt_done) == 40, "rt_done: no padding");

/* The ring entry of an RT_REP_DONE answer. */
static inline struct rt_done rt_done_of(const struct rt_rep *rep)
{
	return (struct rt_done){
		.id = rep->id, .code = rep->code, .status = rep->status,
		.start_ns = rep->start_ns, .end_ns = rep->end_ns,
		.out_pending = rep->out_pending, .pid = rep->pid,
	};
}
_Static_assert(__builtin_offsetof(struct rt_ring, head) == 64, "head on its own cache line");
_Static_assert(__builtin_offsetof(struct rt_ring, tail) == 128, "tail on its own cache line");

_Static_assert(sizeof(struct rt_req) % 8 == 0, "rt_req keeps batched records aligned");
_Static_assert(sizeof(struct rt_rep) % 8 == 0, "rt_rep keeps batched records aligned");

#endif
