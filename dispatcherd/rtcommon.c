/* SPDX-License-Identifier: MIT */
/*
 * rtcommon.c - starting woof-runner processes and talking to them, for
 * the zygote and warm runtimes (see rtcommon.h, runtime-proto.h).
 *
 * How a runner starts: sandbox_spawn() with path "/proc/self/fd/3", fd 3
 * being woof-runner (found next to the dispatcherd binary, else in
 * WOOF_LIBEXECDIR; $WOOF_RUNNER overrides) and fd 4 dispatcherd's own
 * libwoof.so (found with dladdr()), preloaded through LD_PRELOAD=
 * /proc/self/fd/4. Through those magic links the sandboxed process
 * reaches both files although its mount namespace shows neither the build
 * tree nor the install prefix, and it runs the very libwoof dispatcherd
 * runs. The handler's shared object is opened by its path in the
 * namespace directory, which the sandbox shows at the same path.
 *
 * Costs: one exec of a small program + dlopen of the handler, ~1-2 ms,
 * once per zygote or worker; per call one sendmsg() (with two fds for the
 * zygote) and one recv() of the report on the ring.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtcommon.h"

#ifndef WOOF_LIBEXECDIR
#define WOOF_LIBEXECDIR "/usr/local/libexec/woof"
#endif

/* ---- the handler's shared object ------------------------------------------ */

int rt_so_check(struct nsd *n, const char *handler, struct rt_so *so)
{
	struct stat st;

	if (woof_name_check(handler))
		return -ENOENT;
	if ((size_t)snprintf(so->path, sizeof(so->path), "%s/%s" RT_SO_SUFFIX, n->path,
			     handler) >= sizeof(so->path))
		return -ENAMETOOLONG;
	if (lstat(so->path, &st) < 0)	/* a link is refused, not followed (exec.c) */
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	so->dev = st.st_dev;
	so->ino = st.st_ino;
	so->size = st.st_size;
	so->mtime = st.st_mtim;
	return 0;
}

bool rt_so_same(const struct rt_so *a, const struct rt_so *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       strcmp(a->path, b->path) == 0;
}

/* ---- the runner program and libwoof --------------------------------------- */

static int runner_fd = -1, libwoof_fd = -1;
static char runner_path[PATH_MAX + 32];
static char libwoof_path[PATH_MAX];

const char *rt_runner_path(void)
{
	return runner_path[0] ? runner_path : "woof-runner";
}

static int open_runner(void)
{
	char self[PATH_MAX], cand[PATH_MAX + 32];
	const char *env = getenv("WOOF_RUNNER");
	ssize_t len;
	char *slash;
	int fd;

	if (env && *env) {
		fd = open(env, O_PATH | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		snprintf(runner_path, sizeof(runner_path), "%s", env);
		return fd;
	}
	/* next to dispatcherd (the build tree), else where it is installed */
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(cand, sizeof(cand), "%s/woof-runner", self);
			fd = open(cand, O_PATH | O_CLOEXEC);
			if (fd >= 0) {
				snprintf(runner_path, sizeof(runner_path), "%s", cand);
				return fd;
			}
		}
	}
	snprintf(cand, sizeof(cand), "%s/woof-runner", WOOF_LIBEXECDIR);
	fd = open(cand, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(runner_path, sizeof(runner_path), "%s", cand);
	return fd;
}

static int open_libwoof(void)
{
	Dl_info info;
	int fd;

	if (!dladdr((void *)woof_version, &info) || !info.dli_fname || !info.dli_fname[0])
		return -ENOENT;
	fd = open(info.dli_fname, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(libwoof_path, sizeof(libwoof_path), "%s", info.dli_fname);
	return fd;
}

static int runner_files(void)
{
	int fd;

	if (runner_fd < 0) {
		fd = open_runner();
		if (fd < 0) {
			log_err("zygote/warm runtimes: cannot find woof-runner (next to dispatcherd "
				"or in %s; or set WOOF_RUNNER): %s", WOOF_LIBEXECDIR, strerror(-fd));
			return fd;
		}
		runner_fd = fd;
		log_info("zygote/warm runtimes: runner %s", runner_path);
	}
	if (libwoof_fd < 0) {
		fd = open_libwoof();
		if (fd < 0) {
			log_err("zygote/warm runtimes: cannot open dispatcherd's libwoof: %s",
				strerror(-fd));
			return fd;
		}
		libwoof_fd = fd;
		log_info("zygote/warm runtimes: libwoof %s", libwoof_path);
	}
	return 0;
}

/* ---- the environment of a runner ----------------------------------------- */

static int env_put(char **envp, size_t *k, size_t max, char **store, size_t *left,
		   const char *name, const char *value)
{
	int len;

	if (*k + 1 >= max)
		return -E2BIG;
	len = snprintf(*store, *left, "%s=%s", name, value);
	if (len < 0 || (size_t)len >= *left)
		return -E2BIG;
	envp[(*k)++] = *store;
	envp[*k] = NULL;
	*store += len + 1;
	*left -= (size_t)len + 1;
	return 0;
}

static int runner_env(struct nsd *n, const char *handler, char **envp, size_t max,
		      char *store, size_t left)
{
	static const char *const pass[] = { "LANG", "LC_ALL", "TZ", "LD_LIBRARY_PATH", NULL };
	const char *pre = getenv("LD_PRELOAD");
	size_t k = 0;
	int ret = 0;

	envp[0] = NULL;
	ret |= env_put(envp, &k, max, &store, &left, "PATH", "/usr/local/bin:/usr/bin:/bin");
	ret |= env_put(envp, &k, max, &store, &left, "HOME", n->path);
	ret |= env_put(envp, &k, max, &store, &left, "WOOFC_DIR", n->path);
	ret |= env_put(envp, &k, max, &store, &left, "WOOF_HANDLER", handler);
	if (sandbox_ns_woof_device(n->sns))	/* the kernel engine in the handler */
		ret |= env_put(envp, &k, max, &store, &left, "WOOF_NS_DEVICE",
			       sandbox_ns_woof_device(n->sns));
	/* the runner loads exactly dispatcherd's libwoof, then restores LD_PRELOAD */
	ret |= env_put(envp, &k, max, &store, &left, "LD_PRELOAD", "/proc/self/fd/4");
	/* bind every symbol at load: a zygote's children then start with no lazy binding */
	ret |= env_put(envp, &k, max, &store, &left, "LD_BIND_NOW", "1");
	if (pre && *pre)
		ret |= env_put(envp, &k, max, &store, &left, "WOOF_RUNNER_LD_PRELOAD", pre);
	for (const char *const *p = pass; *p; p++) {
		const char *v = getenv(*p);

		if (v)
			ret |= env_put(envp, &k, max, &store, &left, *p, v);
	}
	return ret ? -E2BIG : 0;
}

/* ---- the channel ------------------------------------------------------------ */

struct rt_pkt {
	struct rt_pkt *next;
	size_t len;
	int nfds;
	int fds[3];
	char data[];
};

static void rx_cb(struct loop_op *op, int res, bool more);
static void tx_cb(struct loop_op *op, int res, bool more);
static void exit_cb(struct loop_op *op, int res, bool more);

static struct loop *L(struct rt_proc *p)
{
	return &p->n->d->loop;
}

static void drop_queue(struct rt_proc *p);

/* every runner that has been started and not yet reaped */
static struct rt_proc *registry;

static void reg_add(struct rt_proc *p)
{
	p->reg_prev = NULL;
	p->reg_next = registry;
	if (registry)
		registry->reg_prev = p;
	registry = p;
}

static void reg_del(struct rt_proc *p)
{
	if (p->reg_prev)
		p->reg_prev->reg_next = p->reg_next;
	else if (registry == p)
		registry = p->reg_next;
	else
		return;	/* not registered */
	if (p->reg_next)
		p->reg_next->reg_prev = p->reg_prev;
	p->reg_prev = p->reg_next = NULL;
}

/*
 * The loop has ended and the namespace's sandbox is about to go: kill and
 * reap its runners now. (They are dispatcherd's children inside the
 * namespace's PID namespace, whose init - the sandbox's holder - cannot
 * finish dying while one of them waits unreaped.)
 */
void runtime_ns_close(struct nsd *n)
{
	struct rt_proc *p, *next;

	for (p = registry; p; p = p->reg_next)
		if (p->n == n && p->alive)
			sandbox_kill(&p->sc);
	for (p = registry; p; p = next) {
		siginfo_t si;

		next = p->reg_next;
		if (p->n != n)
			continue;
		reg_del(p);
		if (p->alive && p->sc.pidfd >= 0)
			while (waitid(P_PIDFD, (id_t)p->sc.pidfd, &si, WEXITED) < 0 && errno == EINTR)
				;
		p->alive = false;
		sandbox_release(&p->sc);
		drop_queue(p);
		if (p->sock >= 0)
			close(p->sock);
		p->sock = -1;
		if (p->sc.pidfd >= 0)
			close(p->sc.pidfd);
		p->sc.pidfd = -1;
	}
}

int rt_proc_start(struct nsd *n, struct rt_proc *p, const char *mode, const char *handler,
		  const struct rt_so *so, int out_fd, int err_fd, int ring_fd)
{
	char store[2 * PATH_MAX + 1024];
	char *envp[16];
	char *argv[5];
	int sv[2], keep[4];
	int ret;

	memset(p, 0, sizeof(*p));
	p->n = n;
	p->sock = -1;
	p->sc.pid = -1;
	p->sc.pidfd = -1;
	snprintf(p->handler, sizeof(p->handler), "%s", handler);
	ret = runner_files();
	if (ret)
		return ret;
	ret = runner_env(n, handler, envp, sizeof(envp) / sizeof(envp[0]), store, sizeof(store));
	if (ret)
		return ret;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* requests carry elements up to RT_INLINE_MAX: room for a few of them */
	{
		int sz = 4 * (int)(sizeof(struct rt_req) + RT_INLINE_MAX);

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);

	argv[0] = (char *)"woof-runner";
	argv[1] = (char *)mode;
	argv[2] = (char *)handler;
	argv[3] = (char *)so->path;
	argv[4] = NULL;
	keep[0] = runner_fd;	/* -> RT_FD_EXE */
	keep[1] = libwoof_fd;	/* -> RT_FD_LIBWOOF */
	keep[2] = sv[1];	/* -> RT_FD_SOCK */
	keep[3] = ring_fd;	/* -> RT_FD_RING */

	struct sandbox_spawn sp = {
		.path = "/proc/self/fd/3",
		.argv = argv,
		.envp = envp,
		.stdin_fd = n->d->devnull,
		.stdout_fd = out_fd,
		.stderr_fd = err_fd,
		.keep_fds = keep,
		.nkeep = ring_fd >= 0 ? 4 : 3,
	};
	p->started_mono = now_mono_ns();
	ret = sandbox_spawn(n->sns, &sp, &p->sc);
	close(sv[1]);
	if (ret) {
		close(sv[0]);
		return ret;
	}
	p->sock = sv[0];
	p->alive = true;
	reg_add(p);
	if (strcmp(mode, "zygote") == 0 && n->d->caps.root) {
		/*
		 * Let the zygote's children come back to nice 0 from the zygote's
		 * nice (runner.c: it forks at a low priority). RLIMIT_NICE 20 allows
		 * nice values down to 0, never below: no privilege is granted.
		 */
		struct rlimit rl = { 20, 20 };

		if (prlimit(p->sc.pid, RLIMIT_NICE, &rl, NULL) < 0)
			dbg("%s: zygote pid %d: RLIMIT_NICE: %s", n->path, (int)p->sc.pid,
			    strerror(errno));
	}
	p->rx_op.cb = rx_cb;
	p->tx_op.cb = tx_cb;
	p->exit_op.cb = exit_cb;
	/* reports may carry a descriptor: a poll, then recvmsg() */
	loop_poll(L(p), &p->rx_op, p->sock, POLLIN);
	if (L(p)->feat.waitid)
		loop_waitid(L(p), &p->exit_op, p->sc.pidfd, &p->si);
	else
		loop_poll(L(p), &p->exit_op, p->sc.pidfd, POLLIN);
	return 0;
}

bool rt_proc_idle(const struct rt_proc *p)
{
	return p->exit_done && !p->rx_op.busy && !p->tx_op.busy && !p->exit_op.busy;
}

static void drop_queue(struct rt_proc *p)
{
	struct rt_pkt *k;

	while ((k = p->q_head)) {
		p->q_head = k->next;
		for (int i = 0; i < k->nfds; i++)
			close(k->fds[i]);
		free(k);
	}
	p->q_tail = NULL;
}

void rt_proc_free(struct rt_proc *p)
{
	drop_queue(p);
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
	if (p->sc.pidfd >= 0)
		close(p->sc.pidfd);
	p->sc.pidfd = -1;
}

static void deliver(struct rt_proc *p, const struct rt_rep *rep, int fd)
{
	if (rep->magic != RT_MAGIC) {
		log_err("%s: %s %s (pid %d): bad report (a woof-runner of another version?)",
			p->n->path, p->what, p->handler, (int)p->sc.pid);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (rep->type == RT_REP_READY) {
		p->ready = true;
		p->load_failed = rep->err != 0;
	}
	p->ops->report(p, rep, fd);
}

/*
 * Reports waiting in the socket, without blocking: recvmsg(), as a report
 * may carry a descriptor (a zygote's spare). 0 at end of file, 1 when the
 * socket is empty. A packet may hold several reports (runtime-proto.h).
 * An RT_REP_OUTPUT report's bytes follow it in memory: (const char *)(rep
 * + 1), rep->len of them.
 */
static int drain(struct rt_proc *p)
{
	static union {
		struct rt_rep rep;
		char bytes[RT_PACKET_MAX > sizeof(struct rt_rep) + RT_OUTPUT_MAX
			   ? RT_PACKET_MAX : sizeof(struct rt_rep) + RT_OUTPUT_MAX];
	} in;

	while (p->sock >= 0) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = { .iov_base = in.bytes, .iov_len = sizeof(in.bytes) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
		};
		int fd = -1;
		ssize_t r = recvmsg(p->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
			    cm->cmsg_len >= CMSG_LEN(sizeof(int)))
				memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		if (r == 0) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
			log_warn("%s: %s %s (pid %d): truncated report", p->n->path, p->what,
				 p->handler, (int)p->sc.pid);
			if (fd >= 0)
				close(fd);
			continue;
		}
		for (size_t off = 0, len; off < (size_t)r; off += RT_ALIGN(len)) {
			const struct rt_rep *rep = (const struct rt_rep *)(in.bytes + off);

			len = sizeof(*rep);
			if (off + len <= (size_t)r && rep->type == RT_REP_OUTPUT) {
				/* the bytes must be in this packet: never read past it */
				if (rep->len > RT_OUTPUT_MAX) {
					log_warn("%s: %s %s (pid %d): output report claims %u bytes "
						 "(at most %u)", p->n->path, p->what, p->handler,
						 (int)p->sc.pid, rep->len, RT_OUTPUT_MAX);
					break;
				}
				len += rep->len;
			}
			if (off + len > (size_t)r || (off && fd >= 0)) {
				log_warn("%s: %s %s (pid %d): malformed report at byte %zu of %zd",
					 p->n->path, p->what, p->handler, (int)p->sc.pid, off, r);
				break;
			}
			/* a descriptor comes with a packet's single report */
			deliver(p, rep, fd);
			fd = -1;
			if (!p->alive || p->sock < 0)
				break;
		}
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static void finish_exit(struct rt_proc *p);

static void rx_cb(struct loop_op *op, int res, bool more)
{
	struct rt_proc *p = (struct rt_proc *)((char *)op - offsetof(struct rt_proc, rx_op));
	int open = 0;

	(void)more;
	while (res > 0) {
		uint64_t mark = p->ops->rx_begin ? p->ops->rx_begin(p) : 0;

		open = drain(p);
		if (!p->ops->rx_end || !p->ops->rx_end(p, mark) || !open || p->sock < 0 ||
		    !p->alive)
			break;
	}
	if (open && p->sock >= 0 && p->alive) {
		loop_poll(L(p), &p->rx_op, p->sock, POLLIN);
		return;
	}
	/* end of file or error: the exit follows on its own op */
	if (p->reaped && !p->exit_done)
		finish_exit(p);
	p->ops->settled(p);
}

static int send_one(struct rt_proc *p, struct rt_pkt *k);

/* Write queued packets while the socket takes them. */
static int flush(struct rt_proc *p)
{
	struct rt_pkt *k;
	int ret;

	while ((k = p->q_head)) {
		ret = send_one(p, k);
		if (ret == -EAGAIN) {
			if (!p->tx_op.busy)
				loop_poll(L(p), &p->tx_op, p->sock, POLLOUT);
			return 0;
		}
		/* sent, or the peer is gone and it never arrives */
		p->q_head = k->next;
		if (!p->q_head)
			p->q_tail = NULL;
		rt_pkt_free(k);
		if (ret)
			return ret;
	}
	return 0;
}

static void tx_cb(struct loop_op *op, int res, bool more)
{
	struct rt_proc *p = (struct rt_proc *)((char *)op - offsetof(struct rt_proc, tx_op));
	int ret;

	(void)more;
	if (res >= 0 && p->sock >= 0 && p->alive) {
		ret = flush(p);
		if (ret)
			log_warn("%s: %s %s (pid %d): sending: %s", p->n->path, p->what,
				 p->handler, (int)p->sc.pid, strerror(-ret));
		/* a shutdown that waited for the queue */
		if (!p->q_head && p->eof_sent)
			shutdown(p->sock, SHUT_WR);
	}
	p->ops->settled(p);
}

void rt_pkt_free(struct rt_pkt *k)
{
	if (!k)
		return;
	for (int i = 0; i < k->nfds; i++)
		if (k->fds[i] >= 0)
			close(k->fds[i]);
	free(k);
}

/* One sendmsg of @k: 0, -EAGAIN (no room), or -errno. */
static int send_one(struct rt_proc *p, struct rt_pkt *k)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = k->data, .iov_len = k->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (k->nfds) {
		struct cmsghdr *cm;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)k->nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)k->nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), k->fds, (size_t)k->nfds * sizeof(int));
	}
	do
		r = sendmsg(p->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r >= 0)
		return 0;
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

int rt_send_pkt_fd(int fd, struct rt_pkt *k)
{
	struct rt_proc tmp = { .sock = fd };
	int ret = send_one(&tmp, k);

	if (!ret)
		rt_pkt_free(k);
	return ret;
}

int rt_proc_send_pkt(struct rt_proc *p, struct rt_pkt *k)
{
	int ret;

	if (p->sock < 0 || !p->alive || p->eof_sent)
		return -EPIPE;
	k->next = NULL;
	if (!p->q_head) {
		ret = send_one(p, k);
		if (ret == 0) {
			rt_pkt_free(k);
			return 0;
		}
		if (ret != -EAGAIN)
			return ret;	/* still the caller's */
		if (!p->tx_op.busy)
			loop_poll(L(p), &p->tx_op, p->sock, POLLOUT);
	}
	/* behind others, or no room now: in order, when the socket takes it */
	if (p->q_tail)
		p->q_tail->next = k;
	else
		p->q_head = k;
	p->q_tail = k;
	return 0;
}

struct rt_pkt *rt_pkt_call(struct call *c, bool pipes, int *err)
{
	bool inl = c->el_size <= RT_INLINE_MAX;
	size_t len = sizeof(struct rt_req) + (inl ? (size_t)c->el_size : 0);
	struct rt_pkt *k;
	struct rt_req *r;

	k = malloc(sizeof(*k) + len);
	if (!k) {
		*err = -ENOMEM;
		return NULL;
	}
	r = (struct rt_req *)k->data;
	memset(r, 0, sizeof(*r));
	r->magic = RT_MAGIC;
	r->type = RT_REQ_CALL;
	r->id = c->tseq;
	r->seq = c->tr.woof_seq;
	r->el_size = c->el_size;
	r->put_time_ns = c->tr.put_time_ns;
	r->attempt = c->attempt;
	memcpy(r->woof, c->tr.woof, sizeof(r->woof));
	r->woof[WOOF_NAME_MAX] = '\0';
	k->next = NULL;
	k->len = len;
	k->nfds = 0;
	if (inl) {
		size_t got = 0;

		r->flags |= RT_F_INLINE;
		if (c->el) {
			/* the spool ring's copy */
			memcpy(k->data + sizeof(*r), c->el, (size_t)c->el_size);
			got = c->el_size;
		}
		while (got < c->el_size) {
			ssize_t n = pread(c->spool_fd, k->data + sizeof(*r) + got,
					  (size_t)c->el_size - got, (off_t)got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				*err = n < 0 ? -errno : -EIO;
				free(k);
				return NULL;
			}
			got += (size_t)n;
		}
	}
	/* the core closes its descriptors when start() returns: the packet owns copies */
	if (pipes) {
		r->flags |= RT_F_PIPES;
		k->fds[k->nfds++] = fcntl(c->out_w, F_DUPFD_CLOEXEC, 3);
		k->fds[k->nfds++] = fcntl(c->err_w, F_DUPFD_CLOEXEC, 3);
	}
	if (!inl) {
		r->flags |= RT_F_ELFD;
		k->fds[k->nfds++] = fcntl(c->spool_fd, F_DUPFD_CLOEXEC, 3);
	}
	for (int i = 0; i < k->nfds; i++) {
		if (k->fds[i] < 0) {
			*err = -errno;
			rt_pkt_free(k);
			return NULL;
		}
	}
	return k;
}

int rt_proc_send_batch(struct rt_proc *p, struct rt_pkt **pkts, unsigned n)
{
	int ret = 0;

	for (unsigned i = 0; i < n;) {
		struct rt_pkt *k;
		size_t len = 0;
		unsigned j = i;

		/* a run of descriptor-free requests that fits one packet */
		while (j < n && !pkts[j]->nfds &&
		       (j == i || RT_ALIGN(len) + pkts[j]->len <= RT_PACKET_MAX)) {
			len = (j == i ? 0 : RT_ALIGN(len)) + pkts[j]->len;
			j++;
		}
		if (j <= i + 1) {
			k = pkts[i];
			pkts[i] = NULL;
			j = i + 1;
		} else {
			k = malloc(sizeof(*k) + len);
			if (k) {
				size_t off = 0;

				k->next = NULL;
				k->nfds = 0;
				k->len = len;
				memset(k->data, 0, len);	/* the padding */
				for (unsigned x = i; x < j; x++) {
					off = x == i ? 0 : RT_ALIGN(off);
					memcpy(k->data + off, pkts[x]->data, pkts[x]->len);
					off += pkts[x]->len;
				}
			}
			for (unsigned x = i; x < j; x++) {
				rt_pkt_free(pkts[x]);
				pkts[x] = NULL;
			}
			if (!k) {
				ret = ret ? ret : -ENOMEM;
				i = j;
				continue;
			}
		}
		i = j;
		if (ret) {
			rt_pkt_free(k);
			continue;
		}
		ret = rt_proc_send_pkt(p, k);
		if (ret)
			rt_pkt_free(k);
	}
	return ret;
}

int rt_proc_send_call(struct rt_proc *p, struct call *c, bool pipes)
{
	struct rt_pkt *k;
	int ret = 0;

	k = rt_pkt_call(c, pipes, &ret);
	if (!k)
		return ret;
	ret = rt_proc_send_pkt(p, k);
	if (ret)
		rt_pkt_free(k);
	return ret;
}

int rt_proc_send(struct rt_proc *p, uint32_t type, uint64_t id, uint32_t pid)
{
	struct rt_pkt *k;
	struct rt_req *r;

	if (p->sock < 0 || !p->alive || p->eof_sent)
		return -EPIPE;
	k = malloc(sizeof(*k) + sizeof(*r));
	if (!k)
		return -ENOMEM;
	r = (struct rt_req *)k->data;
	memset(r, 0, sizeof(*r));
	r->magic = RT_MAGIC;
	r->type = type;
	r->id = id;
	r->pid = pid;
	k->len = sizeof(*r);
	k->nfds = 0;
	k->next = NULL;
	if (rt_proc_send_pkt(p, k)) {
		rt_pkt_free(k);
		return -EPIPE;
	}
	return 0;
}

void rt_proc_shutdown(struct rt_proc *p)
{
	if (p->sock < 0 || p->eof_sent)
		return;
	p->eof_sent = true;
	if (!p->q_head)
		shutdown(p->sock, SHUT_WR);
	/* else: the packets still queued would be lost; the runner ends at the exit */
}

void rt_proc_kill(struct rt_proc *p)
{
	if (!p->alive)
		return;
	if (sandbox_kill(&p->sc))
		log_warn("%s: %s %s: kill pid %d failed", p->n->path, p->what, p->handler,
			 (int)p->sc.pid);
}

/*
 * The process is reaped and no recv is in flight (a report it may have
 * taken from the socket has been delivered): deliver what is left in the
 * socket, then tell the owner.
 */
static void finish_exit(struct rt_proc *p)
{
	p->exit_done = true;
	reg_del(p);
	drain(p);
	sandbox_release(&p->sc);
	if (p->tx_op.busy)
		loop_cancel(L(p), &p->tx_op);
	drop_queue(p);
	p->ops->exited(p, &p->si);
}

static void exit_cb(struct loop_op *op, int res, bool more)
{
	struct rt_proc *p = (struct rt_proc *)((char *)op - offsetof(struct rt_proc, exit_op));

	(void)more;
	if (!L(p)->feat.waitid) {
		memset(&p->si, 0, sizeof(p->si));
		if (waitid(P_PIDFD, (id_t)p->sc.pidfd, &p->si, WEXITED | WNOHANG) < 0) {
			res = -errno;
		} else if (p->si.si_pid == 0) {
			loop_poll(L(p), &p->exit_op, p->sc.pidfd, POLLIN);
			return;
		} else {
			res = 0;
		}
	}
	if (res < 0) {
		log_err("%s: %s %s: waiting for pid %d: %s", p->n->path, p->what, p->handler,
			(int)p->sc.pid, strerror(-res));
		memset(&p->si, 0, sizeof(p->si));
		p->si.si_code = CLD_KILLED;
		p->si.si_status = SIGKILL;
	}
	p->alive = false;
	p->reaped = true;
	if (p->rx_op.busy)
		loop_cancel(L(p), &p->rx_op);	/* finish_exit() once its completion is in */
	else
		finish_exit(p);
	p->ops->settled(p);
}
