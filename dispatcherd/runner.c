/* SPDX-License-Identifier: MIT */
/*
 * runner.c - woof-runner: the process behind the zygote and warm handler
 * runtimes (dispatcherd/zygote.c, dispatcherd/warm.c).
 *
 *     woof-runner zygote|warm HANDLER SHARED_OBJECT
 *
 * dispatcherd starts it through the sandbox (sandbox_spawn), so it runs in
 * the namespace's PID/mount/IPC/UTS namespaces, call cgroup and user, like
 * an exec handler. It is a program of its own, exec'd from an fd
 * (/proc/self/fd/3), rather than a clone of dispatcherd: a clone would
 * carry the daemon's memory (other namespaces' WOOF mappings, their
 * configuration) and a libwoof whose cached namespace descriptors the
 * sandbox just closed. libwoof is dispatcherd's own libwoof.so, preloaded
 * through /proc/self/fd/4, so the runner needs nothing from the build tree
 * or /usr/lib that the sandbox does not show.
 *
 * Then it dlopen()s the handler's shared object once, finds the function
 * named like the handler (woof_shepherd_find(), the exec shepherd's rules),
 * says RT_REP_READY and serves requests from fd 5 (runtime-proto.h):
 *
 *   zygote  per request, fork() a child that lays out the call's stdout
 *           and stderr (passed with the request), sets the call's
 *           environment (woof_call_current() works) and calls the function
 *           through woof_shepherd_call(); the child's exit status follows
 *           the shepherd's convention. The zygote reaps children (signalfd)
 *           and reports each exit (RT_REP_EXIT); RT_REQ_KILL kills a
 *           child's process group. At end of file on its socket it lets
 *           the running children finish, reports them, and exits.
 *   warm    per request, call the function in this process and answer
 *           RT_REP_DONE (return value, status, times). Requests queue on
 *           the socket (dispatcherd pipelines them) and are served in
 *           order. The worker captures its own stdout and stderr (pipes it
 *           reads itself, on a thread of its own) and sends what a call
 *           wrote as RT_REP_OUTPUT packets tagged with the call's trigger,
 *           all before that call's RT_REP_DONE. The WOOF stays open
 *           between calls. A crash ends the worker; dispatcherd restarts it.
 *
 * Not library code: it may print (to stderr).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <woofc.h>

#include "../lib/woof-shepherd.h"
#include "runtime-proto.h"

#define MAX_FDS 4

static struct woof_shepherd sh;
static const char *handler;
static bool loaded;
static char load_why[240];
static int sock = RT_FD_SOCK;

/* the packet being served: one request or more (runtime-proto.h), and its length */
static union {
	struct rt_req req;
	char bytes[RT_PACKET_MAX];
} inbuf;
static size_t inlen;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the call's environment, for woof_call_current() ---------------------- */

/*
 * putenv() keeps these buffers as the environment strings; each call
 * rewrites them in place (no allocation, no environment search per call).
 */
static char env_woof[sizeof("WOOF_CALL_WOOF=") + WOOF_NAME_MAX + 1];
static char env_seq[48], env_trigger[48], env_attempt[48], env_redel[48], env_size[48];

static void env_init(void)
{
	strcpy(env_woof, "WOOF_CALL_WOOF=");
	strcpy(env_seq, "WOOF_CALL_SEQ=0");
	strcpy(env_trigger, "WOOF_CALL_TRIGGER=0");
	strcpy(env_attempt, "WOOF_CALL_ATTEMPT=1");
	strcpy(env_redel, "WOOF_CALL_REDELIVERED=0");
	strcpy(env_size, "WOOF_CALL_SIZE=0");
	putenv(env_woof);
	putenv(env_seq);
	putenv(env_trigger);
	putenv(env_attempt);
	putenv(env_redel);
	putenv(env_size);
	/* the element is a pointer here, not fd 3 */
	unsetenv("WOOF_CALL_FD");
}

/* "NAME=" is already in @buf: write @v in decimal after it */
static void env_u64(char *buf, size_t prefix, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		buf[prefix++] = tmp[--n];
	buf[prefix] = '\0';
}

static void env_set(const struct rt_req *r)
{
	size_t len = strnlen(r->woof, WOOF_NAME_MAX);

	memcpy(env_woof + sizeof("WOOF_CALL_WOOF=") - 1, r->woof, len);
	env_woof[sizeof("WOOF_CALL_WOOF=") - 1 + len] = '\0';
	env_u64(env_seq, sizeof("WOOF_CALL_SEQ=") - 1, r->seq);
	env_u64(env_trigger, sizeof("WOOF_CALL_TRIGGER=") - 1, r->id);
	env_u64(env_attempt, sizeof("WOOF_CALL_ATTEMPT=") - 1, r->attempt);
	env_u64(env_redel, sizeof("WOOF_CALL_REDELIVERED=") - 1, r->attempt > 1);
	env_u64(env_size, sizeof("WOOF_CALL_SIZE=") - 1, r->el_size);
}

/* ---- messages -------------------------------------------------------------- */

static void reply(struct rt_rep *rep)
{
	rep->magic = RT_MAGIC;
	while (send(sock, rep, sizeof(*rep), MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		/* dispatcherd is gone: nothing to report to */
		_exit(0);
	}
}

/*
 * The answer ring (warm; runtime-proto.h): dispatcherd's memfd on
 * RT_FD_RING, mapped first thing in main(), before anything (the
 * handler's shared object, capture's pipes) could take that number. NULL
 * when there is none: answers then go on the socket.
 */
static struct rt_ring *ring;
static uint64_t ring_head;

static void ring_map(void)
{
	struct stat st;
	void *m;

	if (fstat(RT_FD_RING, &st) < 0)
		return;
	if (S_ISREG(st.st_mode) && (size_t)st.st_size >= sizeof(*ring)) {
		m = mmap(NULL, sizeof(*ring), PROT_READ | PROT_WRITE, MAP_SHARED, RT_FD_RING, 0);
		if (m != MAP_FAILED) {
			ring = m;
			if (ring->magic != RT_RING_MAGIC || ring->slots != RT_RING_SLOTS) {
				munmap(m, sizeof(*ring));
				ring = NULL;
			}
		}
	}
	close(RT_FD_RING);
}

/* A call's answer: into the ring (a packet only when dispatcherd asked), else a packet. */
static void answer(struct rt_rep *rep)
{
	if (!ring) {
		reply(rep);
		return;
	}
	/* dispatcherd keeps fewer calls in flight than the ring holds: never full */
	while (ring_head - __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) >= RT_RING_SLOTS) {
		struct rt_rep k = { .type = RT_REP_RING };
		struct timespec ts = { 0, 100000 };

		reply(&k);
		nanosleep(&ts, NULL);
	}
	ring->ent[ring_head % RT_RING_SLOTS] = rt_done_of(rep);
	ring_head++;
	__atomic_store_n(&ring->head, ring_head, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ring->wake, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&ring->wake, 0, __ATOMIC_SEQ_CST)) {
		struct rt_rep k = { .type = RT_REP_RING };

		reply(&k);
	}
}

/*
 * The request at offset @off of the packet in inbuf, checked; *@next is
 * the offset of the one after it (inlen after the last). NULL if it is
 * malformed.
 */
static struct rt_req *req_at(size_t off, size_t *next)
{
	struct rt_req *r = (struct rt_req *)(inbuf.bytes + off);
	size_t len;

	if (off + sizeof(*r) > inlen || r->magic != RT_MAGIC)
		return NULL;
	len = sizeof(*r);
	if (r->flags & RT_F_INLINE) {
		if (r->el_size > RT_INLINE_MAX)
			return NULL;
		len += (size_t)r->el_size;
	}
	if (off + len > inlen)
		return NULL;
	/* the last record may end unpadded */
	*next = off + len == inlen ? inlen : off + RT_ALIGN(len);
	if (*next > inlen)
		return NULL;
	r->woof[WOOF_NAME_MAX] = '\0';
	return r;
}

/*
 * One packet: 1 when one was read (fds in @fds, *@nfds of them; its first
 * request at inbuf.req, all of them checked), 0 at end of file, -1 when
 * nothing is there (non-blocking), -2 on a bad packet.
 */
static int receive(bool block, int *fds, int *nfds)
{
	union {
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = inbuf.bytes, .iov_len = sizeof(inbuf.bytes) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | (block ? 0 : MSG_DONTWAIT));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		for (int i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (*nfds < MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0)
		return 0;
	inlen = (size_t)n;
	bool bad = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;

	for (size_t off = 0, next; !bad && off < inlen; off = next) {
		struct rt_req *r = req_at(off, &next);

		/* only a packet's single request carries descriptors */
		bad = !r || (off && (r->flags & (RT_F_ELFD | RT_F_PIPES))) ||
		      (next < inlen && *nfds);
	}
	if (bad) {
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return -2;
	}
	return 1;
}

/* The element of the request in inbuf: inline, or read from its fd. */
static void *element(const struct rt_req *r, const int *fds, int nfds, bool *allocated)
{
	void *el = NULL;
	size_t size;

	*allocated = false;
	if (r->flags & RT_F_INLINE)
		return (char *)r + sizeof(struct rt_req);
	if ((r->flags & RT_F_ELFD) && nfds > 0 &&
	    woof_shepherd_read_element(fds[nfds - 1], &el, &size) == 0) {
		*allocated = true;
		return el;
	}
	return NULL;
}

/* ---- zygote ------------------------------------------------------------- */

/*
 * Spares: the zygote keeps ZY_SPARES children forked ahead, each blocked in
 * recvmsg() on a socketpair of its own whose other end the zygote handed to
 * dispatcherd (RT_REP_SPARE). dispatcherd sends a call straight to a spare,
 * so no fork() lies between the put and the handler's first line. The
 * zygote forks the replacement when the spare's call has ended (it reaps
 * it), not while the call runs: on a machine of two CPUs a fork beside the
 * call took the CPU from it (0.5-2 ms per call measured). After its call
 * the spare tells the zygote {pid, trigger, WOOF} on the "taken" pipe, so
 * the zygote can open that WOOF for the children it forks later
 * (prewarm). A call that finds no spare goes to the zygote itself, which
 * forks for it (RT_REQ_CALL on fd 5). dispatcherd knows which spare it
 * gave a call to, so exit reports and kills work by pid before the zygote
 * knows the trigger.
 */
#define ZY_SPARES 3

struct child {
	pid_t pid;
	uint64_t id;		/* 0 while an idle spare */
	uint64_t start_ns;
	bool idle;		/* a spare that has not taken a call */
};

struct taken {			/* spare -> zygote, one write (< PIPE_BUF) */
	uint32_t pid;
	uint32_t pad;
	uint64_t id;
	char woof[WOOF_NAME_MAX + 1];	/* the call's WOOF */
};

/*
 * WOOFs the zygote keeps open so that the children it forks later find
 * them in libwoof's map cache: their WooFOpen() of the call's WOOF is then
 * a look-up and one fstatat() instead of open + read + mmap. The calls'
 * WOOFs, as the zygote learns them, at most ZY_PREWARM of them.
 */
#define ZY_PREWARM 8
static WOOF *warm_wf[ZY_PREWARM];
static unsigned warm_next;

static void prewarm(const char *woof)
{
	unsigned i;

	if (!loaded || !woof[0])
		return;
	for (i = 0; i < ZY_PREWARM; i++) {
		WOOF *wf = warm_wf[i];

		if (!wf || strcmp(wf->shared->filename, woof) != 0)
			continue;
		if (!(__atomic_load_n(&wf->shared->state, __ATOMIC_ACQUIRE) &
		      (WOOF_STATE_REPLACED | WOOF_STATE_REMOVED)))
			return;	/* open and current */
		WooFFree(wf);	/* re-created or removed: open it again below */
		warm_wf[i] = NULL;
		break;
	}
	if (i == ZY_PREWARM) {
		i = warm_next++ % ZY_PREWARM;
		if (warm_wf[i])
			WooFFree(warm_wf[i]);
		warm_wf[i] = NULL;
	}
	warm_wf[i] = WooFOpen(woof);	/* NULL if it cannot be opened: no matter */
}

static struct child *kids;
static size_t nkids, kids_cap;
static unsigned idle_spares;
static int taken_r = -1, taken_w = -1;
static bool spare_taken;	/* in a spare that got its call: tell the zygote at the end */
static int sigfd = -1;
static pid_t zygote_pid;

static struct child *kid_add(pid_t pid, uint64_t id, uint64_t t, bool idle)
{
	if (nkids == kids_cap) {
		size_t cap = kids_cap ? 2 * kids_cap : 64;
		struct child *k = realloc(kids, cap * sizeof(*k));

		if (!k) {
			/* cannot track it: it must not run unreported */
			kill(pid, SIGKILL);
			return NULL;
		}
		kids = k;
		kids_cap = cap;
	}
	kids[nkids] = (struct child){ .pid = pid, .id = id, .start_ns = t, .idle = idle };
	if (idle)
		idle_spares++;
	return &kids[nkids++];
}

static struct child *kid_find_pid(pid_t pid)
{
	for (size_t i = 0; i < nkids; i++)
		if (kids[i].pid == pid)
			return &kids[i];
	return NULL;
}

static void kid_del(struct child *k)
{
	if (k->idle)
		idle_spares--;
	*k = kids[--nkids];
}

/* In a new child of the zygote: what can be done before the call is known. */
static void child_prepare(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != zygote_pid)
		_exit(WOOF_SHEPHERD_SETUP);	/* the zygote died while forking */
	setpgid(0, 0);
	sigaction(SIGPIPE, &dfl, NULL);
	sigaction(SIGCHLD, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close(sigfd);
	close(sock);
	close(taken_r);
}

/*
 * The zygote runs at a lower priority (nice ZY_NICE) when its children can
 * come back to nice 0 (RLIMIT_NICE >= 20, which dispatcherd sets for it as
 * root): on a machine of two CPUs the replacement forks then yield to the
 * calls instead of taking the CPU from them (0.3-1.5 ms per call measured
 * on the 2-vCPU reference machine, where a fork costs 0.3-0.6 ms of CPU).
 */
#define ZY_NICE 10
static bool zygote_niced;

static void zygote_lower_priority(void)
{
	struct rlimit rl;

	if (zygote_niced || getrlimit(RLIMIT_NICE, &rl) < 0 || rl.rlim_cur < 20)
		return;
	if (setpriority(PRIO_PROCESS, 0, ZY_NICE) == 0)
		zygote_niced = true;
}

static void child_normal_priority(void)
{
	if (zygote_niced)
		setpriority(PRIO_PROCESS, 0, 0);
}

/*
 * A spare, while it waits: make private copies of the pages it shares
 * copy-on-write with the zygote now (MADV_POPULATE_WRITE, Linux 5.14),
 * and map the header pages of the WOOFs the zygote keeps open
 * (MADV_POPULATE_READ), so that its call does not take those page faults
 * - each one costs microseconds on a paravirtualized machine, and the
 * first statements of a call touch dozens of pages (stack, heap, libc and
 * libwoof data). Measured: the first WooFOpen() in a spare went from
 * 80-200 us to 55-80 us with this, and to 4-5 us with the warm-up open
 * below.
 */
static void unshare_pages(void)
{
#ifdef MADV_POPULATE_WRITE
	unsigned long budget = 16UL << 20;	/* a big static array is not worth copying */
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
			continue;
		/* shared: the WOOFs the zygote keeps open; their header page */
		if (perms[0] == 'r' && perms[3] == 's') {
			madvise((void *)lo, 4096, MADV_POPULATE_READ);
			continue;
		}
		/* private and writable: data, bss, heap, stack, anonymous maps */
		if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p' || hi - lo > budget)
			continue;
		if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) < 0 && errno == EINVAL)
			break;	/* a kernel before 5.14 */
		budget -= hi - lo;
	}
	fclose(f);
#endif
}

/* In a child of the zygote: run the call in inbuf. Never returns. */
static __attribute__((noreturn)) void child_run(const int *fds, int nfds)
{
	const struct rt_req *r = &inbuf.req;
	bool allocated;
	void *el;
	int st;

	if (r->flags & RT_F_PIPES && nfds >= 2) {
		dup2(fds[0], 1);
		dup2(fds[1], 2);
	}
	env_set(r);
	el = element(r, fds, nfds, &allocated);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (!loaded) {
		fprintf(stderr, "%s: %s\n", handler, load_why);
		exit(WOOF_SHEPHERD_NOFN);
	}
	if (!el) {
		fprintf(stderr, "%s: cannot read the element of trigger %llu\n", handler,
			(unsigned long long)r->id);
		exit(WOOF_SHEPHERD_SETUP);
	}
	st = woof_shepherd_call(&sh, r->woof, (unsigned long)r->seq, el, NULL);
	/*
	 * _exit(), not exit(): the child is a copy of the zygote, whose
	 * destructors (the handler's shared object's among them) and atexit
	 * handlers are not the call's to run; tearing libc down costs more
	 * than the call. stdio is flushed.
	 */
	fflush(NULL);
	if (spare_taken) {
		struct taken t;

		memset(&t, 0, sizeof(t));
		t.pid = (uint32_t)getpid();
		t.id = r->id;
		memcpy(t.woof, r->woof, sizeof(t.woof));
		if (write(taken_w, &t, sizeof(t)) < 0)
			_exit(st);
	}
	_exit(st);
}

/* A spare waits this long for a call before it pre-faults its pages */
#define ZY_SETTLE_MS 2

/* A spare: prepared, it waits for its call on @ssock. Never returns. */
static __attribute__((noreturn)) void spare_main(int ssock)
{
	int fds[MAX_FDS], nfds, got;

	child_prepare();
	/*
	 * At the zygote's low priority, and only when no call came within
	 * ZY_SETTLE_MS: in a burst the copies cost more CPU than they save
	 * (throughput 145-150 /s with them, 174-198 /s without, measured).
	 */
	{
		struct pollfd pf = { ssock, POLLIN, 0 };

		if (poll(&pf, 1, ZY_SETTLE_MS) == 0)
			unshare_pages();
	}
	/* the first WooFOpen() in a new process costs ~60 us more than the next (measured) */
	for (unsigned i = 0; i < ZY_PREWARM; i++)
		if (warm_wf[i])
			WooFFree(WooFOpen(warm_wf[i]->shared->filename));
	child_normal_priority();	/* and it wakes up as fast as any call */
	sock = ssock;
	got = receive(true, fds, &nfds);
	if (got <= 0 || inbuf.req.type != RT_REQ_CALL)
		_exit(0);	/* dispatcherd let it go unused */
	close(ssock);
	spare_taken = true;
	child_run(fds, nfds);
}

static void reply_fd(struct rt_rep *rep, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	rep->magic = RT_MAGIC;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		_exit(0);	/* dispatcherd is gone */
	}
}

/* Fork spares until ZY_SPARES wait. */
static void top_up_spares(void)
{
	while (loaded && idle_spares < ZY_SPARES) {
		struct rt_rep rep;
		int sv[2];
		pid_t pid;

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return;
		pid = fork();
		if (pid == 0) {
			close(sv[0]);
			spare_main(sv[1]);
		}
		close(sv[1]);
		if (pid < 0) {
			close(sv[0]);
			return;
		}
		setpgid(pid, pid);
		if (!kid_add(pid, 0, mono_ns(), true)) {
			close(sv[0]);
			return;
		}
		memset(&rep, 0, sizeof(rep));
		rep.type = RT_REP_SPARE;
		rep.pid = (uint32_t)pid;
		reply_fd(&rep, sv[0]);
		close(sv[0]);
	}
}

/* Spares that took a call: they are calls now. */
static void read_taken(void)
{
	struct taken t;

	while (read(taken_r, &t, sizeof(t)) == (ssize_t)sizeof(t)) {
		struct child *k = kid_find_pid((pid_t)t.pid);

		if (!k || !k->idle)
			continue;
		k->idle = false;
		idle_spares--;
		k->id = t.id;
		k->start_ns = mono_ns();
		t.woof[WOOF_NAME_MAX] = '\0';
		prewarm(t.woof);
	}
}

/*
 * Reap the children that ended and report them - after forking the spares
 * that replace them (@replenish): a call's end is reported once the zygote
 * is ready for the next one, so the fork does not run beside the next call
 * a client puts when it sees this one end (on two CPUs it took 0.5-2 ms
 * from that call, measured; the cost moves to the recorded end of the call
 * that used the spare).
 */
static void zygote_reap(bool replenish)
{
	static struct rt_rep *reps;
	static size_t nreps_cap;
	size_t nreps = 0;

	for (;;) {
		struct rt_rep rep;
		struct child *k;
		siginfo_t si;
		pid_t pid;
		int ws;

		/* look first, reap after: the pid cannot be reused while we kill its group */
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
			break;
		pid = si.si_pid;
		/* what the call left in its process group goes with it */
		kill(-pid, SIGKILL);
		if (waitpid(pid, &ws, 0) != pid)
			continue;
		k = kid_find_pid(pid);
		if (!k)
			continue;
		if (k->idle) {
			/* a spare may have taken a call without telling us yet */
			read_taken();
			k = kid_find_pid(pid);
		}
		memset(&rep, 0, sizeof(rep));
		rep.type = RT_REP_EXIT;
		rep.id = k->id;		/* 0: a spare that ended unused */
		rep.pid = (uint32_t)pid;
		rep.start_ns = k->start_ns;
		rep.end_ns = mono_ns();
		if (WIFEXITED(ws)) {
			rep.code = CLD_EXITED;
			rep.status = WEXITSTATUS(ws);
		} else {
			rep.code = WCOREDUMP(ws) ? CLD_DUMPED : CLD_KILLED;
			rep.status = WTERMSIG(ws);
		}
		kid_del(k);
		if (nreps == nreps_cap) {
			size_t cap = nreps_cap ? 2 * nreps_cap : 16;
			struct rt_rep *nr = realloc(reps, cap * sizeof(*nr));

			if (!nr) {
				reply(&rep);	/* no room to hold it: at once */
				continue;
			}
			reps = nr;
			nreps_cap = cap;
		}
		reps[nreps++] = rep;
	}
	if (replenish)
		top_up_spares();
	for (size_t i = 0; i < nreps; i++)
		reply(&reps[i]);
}

static int zygote_main(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t chld;
	bool eof = false;
	int tp[2];

	zygote_pid = getpid();
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0 || pipe2(tp, O_CLOEXEC) < 0) {
		fprintf(stderr, "woof-runner: signalfd/pipe: %s\n", strerror(errno));
		return 1;
	}
	taken_r = tp[0];
	taken_w = tp[1];
	fcntl(taken_r, F_SETFL, O_NONBLOCK);
	top_up_spares();

	while (!eof || nkids) {
		struct pollfd pf[3] = {
			{ .fd = eof ? -1 : sock, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = taken_r, .events = POLLIN },
		};

		if (poll(pf, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		/* dispatcherd has set our RLIMIT_NICE by the time anything arrives */
		zygote_lower_priority();
		if (pf[2].revents)
			read_taken();
		if (pf[1].revents) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) > 0)
				;
			zygote_reap(!eof);
		}
		if (!eof)
			top_up_spares();
		if (!pf[0].revents)
			continue;
		for (;;) {
			int fds[MAX_FDS], nfds, got = receive(false, fds, &nfds);

			if (got == -1)
				break;
			if (got == 0) {
				/* no more calls: the idle spares go, the running calls finish */
				eof = true;
				for (size_t i = 0; i < nkids; i++)
					if (kids[i].idle)
						kill(kids[i].pid, SIGKILL);
				break;
			}
			if (got == -2)
				continue;
			if (inbuf.req.type == RT_REQ_KILL) {
				for (size_t i = 0; i < nkids; i++)
					if ((inbuf.req.id && kids[i].id == inbuf.req.id) ||
					    (inbuf.req.pid && kids[i].pid == (pid_t)inbuf.req.pid)) {
						kill(-kids[i].pid, SIGKILL);
						kill(kids[i].pid, SIGKILL);
					}
				for (int i = 0; i < nfds; i++)
					close(fds[i]);
				continue;
			}
			if (inbuf.req.type != RT_REQ_CALL) {
				for (int i = 0; i < nfds; i++)
					close(fds[i]);
				continue;
			}

			/* no spare was free for it: fork now */
			uint64_t t = mono_ns();
			pid_t pid = fork();

			if (pid == 0) {
				child_prepare();
				child_normal_priority();
				close(taken_w);
				child_run(fds, nfds);
			}
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			if (pid < 0) {
				struct rt_rep rep;

				memset(&rep, 0, sizeof(rep));
				rep.type = RT_REP_EXIT;
				rep.id = inbuf.req.id;
				rep.code = CLD_EXITED;
				rep.status = WOOF_SHEPHERD_SETUP;
				rep.err = errno;
				rep.start_ns = rep.end_ns = t;
				reply(&rep);
				continue;
			}
			setpgid(pid, pid);
			kid_add(pid, inbuf.req.id, t, false);
			prewarm(inbuf.req.woof);
		}
	}
	return 0;
}

/* ---- warm ----------------------------------------------------------------- */

static uint32_t pipe_pending(int fd)
{
	int n = 0;

	if (fd < 0 || ioctl(fd, FIONREAD, &n) < 0 || n < 0)
		return 0;
	return (uint32_t)n;
}

/*
 * Output capture. fds 1 and 2 are the write ends of two pipes whose read
 * ends (cap_fd) only the drain thread reads: it sends what arrives as
 * RT_REP_OUTPUT under cap_id, the trigger of the call being served (0
 * between calls). After a call, the main thread waits until both pipes are
 * empty and the drain thread is not between a read() and its send()
 * (cap_busy), so every byte the call wrote is sent before its RT_REP_DONE
 * - and dispatcherd may send the next requests before that DONE arrives.
 * A thread, not a read after the call: a call writing more than a pipe
 * holds would block forever.
 */
static int cap_fd[2] = { -1, -1 };
static uint64_t cap_id;
static int cap_busy;

static void *drain_main(void *arg)
{
	static union {
		struct rt_rep rep;
		char bytes[sizeof(struct rt_rep) + RT_OUTPUT_MAX];
	} pkt;
	struct pollfd pf[2] = { { cap_fd[0], POLLIN, 0 }, { cap_fd[1], POLLIN, 0 } };

	(void)arg;
	for (;;) {
		if (pf[0].fd < 0 && pf[1].fd < 0)
			return NULL;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			__atomic_store_n(&cap_busy, 1, __ATOMIC_SEQ_CST);
			n = read(pf[i].fd, pkt.bytes + sizeof(struct rt_rep), RT_OUTPUT_MAX);
			if (n > 0) {
				memset(&pkt.rep, 0, sizeof(pkt.rep));
				pkt.rep.magic = RT_MAGIC;
				pkt.rep.type = RT_REP_OUTPUT;
				pkt.rep.id = __atomic_load_n(&cap_id, __ATOMIC_SEQ_CST);
				pkt.rep.status = i + 1;
				pkt.rep.len = (uint32_t)n;
				while (send(sock, pkt.bytes, sizeof(struct rt_rep) + (size_t)n,
					    MSG_NOSIGNAL) < 0 && errno == EINTR)
					;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				pf[i].fd = -1;	/* the handler closed fd 1 or 2 */
			}
			__atomic_store_n(&cap_busy, 0, __ATOMIC_SEQ_CST);
		}
	}
}

/*
 * A call that crashes (SIGSEGV and the like): what it wrote may still sit
 * in the capture pipes, which die with the worker. Send it before dying -
 * after the drain thread (which runs on) has sent a chunk it holds - then
 * die of the same signal. read(), send(), nanosleep() and raise() are
 * async-signal-safe.
 */
static void crash_flush(int sig)
{
	static union {
		struct rt_rep rep;
		char bytes[sizeof(struct rt_rep) + RT_OUTPUT_MAX];
	} pkt;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	for (int i = 0; i < 1000 && __atomic_load_n(&cap_busy, __ATOMIC_SEQ_CST); i++) {
		struct timespec ts = { 0, 100000 };

		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 2; i++) {
		uint32_t left = pipe_pending(cap_fd[i]);

		while (left) {
			ssize_t n = read(cap_fd[i], pkt.bytes + sizeof(struct rt_rep),
					 left < RT_OUTPUT_MAX ? left : RT_OUTPUT_MAX);

			if (n <= 0)
				break;
			memset(&pkt.rep, 0, sizeof(pkt.rep));
			pkt.rep.magic = RT_MAGIC;
			pkt.rep.type = RT_REP_OUTPUT;
			pkt.rep.id = __atomic_load_n(&cap_id, __ATOMIC_SEQ_CST);
			pkt.rep.status = i + 1;
			pkt.rep.len = (uint32_t)n;
			if (send(sock, pkt.bytes, sizeof(struct rt_rep) + (size_t)n, MSG_NOSIGNAL) < 0)
				break;
			left -= (uint32_t)n < left ? (uint32_t)n : left;
		}
	}
	sigaction(sig, &dfl, NULL);
	raise(sig);	/* SA_NODEFER: delivered here; a fault re-faults on return anyway */
}

static void crash_flush_install(void)
{
	static char altstack[64 * 1024];
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_handler = crash_flush, .sa_flags = SA_ONSTACK | SA_NODEFER };

	sigaltstack(&ss, NULL);	/* a stack overflow can still report */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* fds 1 and 2 become the capture pipes; false if that cannot be done */
static bool capture_start(void)
{
	pthread_t t;
	int p[2][2];

	for (int i = 0; i < 2; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0)
			return false;
		if (dup2(p[i][1], i + 1) < 0)	/* clears O_CLOEXEC on 1, 2 */
			return false;
		close(p[i][1]);
		cap_fd[i] = p[i][0];
	}
	if (pthread_create(&t, NULL, drain_main, NULL) != 0)
		return false;
	pthread_detach(t);
	crash_flush_install();
	return true;
}

/* Every byte written to fds 1 and 2 so far has been sent. */
static void capture_settle(void)
{
	struct pollfd pf[2] = { { cap_fd[0], POLLIN, 0 }, { cap_fd[1], POLLIN, 0 } };

	for (unsigned spins = 0;; spins++) {
		/* one system call: is anything left in either pipe? */
		if (poll(pf, 2, 0) == 0 && !__atomic_load_n(&cap_busy, __ATOMIC_SEQ_CST))
			return;
		if (spins < 64) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
		}
	}
}

static uint32_t self;

/* One call of the packet in inbuf; its answer goes to @rep. */
static void warm_call(const struct rt_req *r, const int *fds, int nfds, bool captured,
		      struct rt_rep *rep)
{
	bool allocated = false;
	void *el;

	memset(rep, 0, sizeof(*rep));
	rep->type = RT_REP_DONE;
	rep->id = r->id;
	rep->pid = self;
	__atomic_store_n(&cap_id, r->id, __ATOMIC_SEQ_CST);
	env_set(r);
	el = element(r, fds, nfds, &allocated);
	rep->start_ns = mono_ns();
	if (!loaded) {
		fprintf(stderr, "%s: %s\n", handler, load_why);
		rep->status = WOOF_SHEPHERD_NOFN;
	} else if (!el) {
		fprintf(stderr, "%s: cannot read the element of trigger %llu\n", handler,
			(unsigned long long)r->id);
		rep->status = WOOF_SHEPHERD_SETUP;
	} else {
		rep->status = woof_shepherd_call(&sh, r->woof, (unsigned long)r->seq, el,
						 &rep->code);
	}
	fflush(stdout);
	fflush(stderr);
	rep->end_ns = mono_ns();
	if (allocated)
		free(el);
	if (captured) {
		capture_settle();
		__atomic_store_n(&cap_id, 0, __ATOMIC_SEQ_CST);
	} else {
		rep->out_pending = pipe_pending(1) + pipe_pending(2);
	}
}

/*
 * Requests may come several to a packet; each answer goes out as soon as
 * its call has returned, never held back behind the next call: that call
 * may run long, or be killed (SIGKILL at its timeout), and an answer held
 * back would be lost - the call would then count as not run.
 */
static int warm_main(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	bool captured;

	/* dispatcherd gone: the socket says so; output to a closed log pipe is dropped */
	sigaction(SIGPIPE, &ign, NULL);
	sh.keep_open = true;
	/* without capture (no thread, no pipe): output goes to the worker's pipes as it is */
	captured = capture_start();
	self = (uint32_t)getpid();
	for (;;) {
		int fds[MAX_FDS], nfds, got = receive(true, fds, &nfds);

		if (got == 0)
			return 0;
		if (got < 0) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			continue;
		}
		for (size_t off = 0, next; off < inlen; off = next) {
			const struct rt_req *r = req_at(off, &next);
			struct rt_rep rep;

			if (r->type != RT_REQ_CALL)
				continue;
			warm_call(r, fds, nfds, captured, &rep);
			answer(&rep);
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
}
/* ---- start ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const char *mode, *so, *pre;
	struct rt_rep rep;
	void *dl;

	if (argc != 4 || (strcmp(argv[1], "zygote") && strcmp(argv[1], "warm"))) {
		fprintf(stderr, "usage: woof-runner zygote|warm HANDLER SHARED_OBJECT\n"
			"(dispatcherd starts it; it is not meant to be run by hand)\n");
		return 2;
	}
	mode = argv[1];
	handler = argv[2];
	so = argv[3];
	sh.prog = handler;
	/* exec'd as /proc/self/fd/3: a name ps can show */
	prctl(PR_SET_NAME, strcmp(mode, "zygote") == 0 ? "woof-zygote" : "woof-warm");
	if (strcmp(mode, "warm") == 0)
		ring_map();

	/* what only the start needed: the program and the preloaded libwoof */
	close(RT_FD_EXE);
	close(RT_FD_LIBWOOF);
	pre = getenv("WOOF_RUNNER_LD_PRELOAD");
	if (pre && *pre)
		setenv("LD_PRELOAD", pre, 1);
	else
		unsetenv("LD_PRELOAD");
	unsetenv("WOOF_RUNNER_LD_PRELOAD");
	unsetenv("LD_BIND_NOW");	/* for our own start only, not the handler's programs */
	if (fcntl(sock, F_GETFD) < 0) {
		fprintf(stderr, "woof-runner: no socket on fd %d: dispatcherd starts this program\n",
			sock);
		return 2;
	}
	fcntl(sock, F_SETFD, FD_CLOEXEC);
	env_init();

	memset(&rep, 0, sizeof(rep));
	rep.type = RT_REP_READY;
	rep.pid = (uint32_t)getpid();
	rep.start_ns = mono_ns();
	dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		const char *e = dlerror();

		snprintf(load_why, sizeof(load_why), "cannot load %s: %s", so, e ? e : "?");
		rep.err = ENOEXEC;
	} else if (woof_shepherd_find(&sh, dl, handler, load_why, sizeof(load_why))) {
		rep.err = ENOENT;
	} else {
		loaded = true;
	}
	if (loaded) {
		/* the namespace, opened once: zygote children inherit it */
		WooFInit();
	}
	snprintf(rep.msg, sizeof(rep.msg), "%s", loaded ? "" : load_why);
	rep.end_ns = mono_ns();
	reply(&rep);

	return strcmp(mode, "zygote") == 0 ? zygote_main() : warm_main();
}
