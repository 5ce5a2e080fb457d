/* SPDX-License-Identifier: MIT */
/*
 * exec-spares.c - spares of the exec runtime: handler programs started
 * ahead of their calls.
 *
 * A handler program linked with libwoof-shepherd's main() carries an ELF
 * note saying it can wait for its call (lib/woof-shepherd.h, "Spares").
 * Such a program is started ahead ("spare"): it is exec'd, dynamically
 * linked, has found its function and opened the last call's WOOF by the
 * time a call comes; the call then costs a packet instead of a fork and
 * an exec. It runs as the call's own process, in its own call cgroup,
 * exactly as if it had been started for the call. What it printed while
 * waiting belongs to its call. A spare is only used while the handler file
 * is the one it was started from (device, inode, size, mtime, ctime).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatcherd.h"
#include "../lib/woof-shepherd.h"

#define SPARE_IDLE_NS	(60ULL * 1000000000ULL)	/* a spare unused this long is retired */
#define SPARE_NS_MAX	16U			/* per namespace, at most */

/* Which version of a file: a spare serves only the one it was started from */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct exec_prog {			/* per handler: the file last looked at */
	struct file_id id;
	bool spare_ok;			/* it carries the note */
	bool broken;			/* a spare of it died before its call: no more */
	char last_woof[WOOF_NAME_MAX + 1];	/* the WOOF of its last call */
};

enum spare_state { SP_WAITING, SP_RETIRED, SP_TAKEN };

struct exec_spare {
	struct loop_op op;		/* poll of its pidfd; cancelled once taken */
	struct exec_spare *next;	/* n->spares: waiting and retired, until reaped */
	struct nsd *n;
	struct hq *h;
	struct sandbox_call sc;
	int sock;			/* our end of its $WOOF_SPARE_FD */
	int out_rd, err_rd;		/* read ends of its stdout and stderr */
	struct file_id id;		/* the file it was started from */
	uint64_t born_ns;
	enum spare_state state;
	bool taking;			/* spare_hand() gave it a call */
};

static struct file_id file_id_of(const struct stat *st)
{
	return (struct file_id){ st->st_dev, st->st_ino, st->st_size, st->st_mtim, st->st_ctim };
}

static bool ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool file_id_eq(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       ts_eq(&a->mtim, &b->mtim) && ts_eq(&a->ctim, &b->ctim);
}

/*
 * Does the ELF file @fd carry the spare note? Reads only the program
 * headers and PT_NOTE segments of at most 4 KiB; anything malformed is
 * "no". The file is the handler's, so every offset and size is checked.
 */
static bool spare_note_in(int fd)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	unsigned char buf[4096];

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB
				    : ELFDATA2MSB) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64 ||
	    eh.e_phoff > (Elf64_Off)INT64_MAX / 2)
		return false;
	if (pread(fd, ph, eh.e_phnum * sizeof(Elf64_Phdr), (off_t)eh.e_phoff) !=
	    (ssize_t)(eh.e_phnum * sizeof(Elf64_Phdr)))
		return false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		size_t align = ph[i].p_align == 8 ? 8 : 4, len = (size_t)ph[i].p_filesz, off = 0;

		if (ph[i].p_type != PT_NOTE || len < 12 || len > sizeof(buf) ||
		    ph[i].p_offset > (Elf64_Off)INT64_MAX / 2 ||
		    pread(fd, buf, len, (off_t)ph[i].p_offset) != (ssize_t)len)
			continue;
		while (len - off >= 12) {
			uint32_t nh[3];
			size_t name, desc;

			memcpy(nh, buf + off, sizeof(nh));
			off += 12;
			if (nh[0] > len || nh[1] > len)
				break;
			name = off;
			off += (nh[0] + align - 1) & ~(align - 1);
			desc = off;
			if (off > len || nh[1] > len - off)
				break;
			off += (nh[1] + align - 1) & ~(align - 1);
			if (nh[2] == WOOF_SPARE_NOTE_TYPE &&
			    nh[0] == sizeof(WOOF_SPARE_NOTE_NAME) &&
			    memcmp(buf + name, WOOF_SPARE_NOTE_NAME, nh[0]) == 0 &&
			    nh[1] == sizeof(WOOF_SPARE_NOTE_DESC) &&
			    memcmp(buf + desc, WOOF_SPARE_NOTE_DESC, nh[1]) == 0)
				return true;
			if (off > len)
				break;
		}
	}
	return false;
}

/* May @h's program at @path (@st) be started ahead? Looks at a new file once. */
static bool prog_spare_ok(struct hq *h, const char *path, const struct stat *st)
{
	struct exec_prog *p = h->prog;
	struct file_id id = file_id_of(st), fid;
	struct stat fst;
	int fd;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return false;
		h->prog = p;
	} else if (file_id_eq(&p->id, &id)) {
		return p->spare_ok && !p->broken;
	}
	p->id = id;
	p->broken = false;
	p->spare_ok = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return false;
	/* the file we read is the one we stat()ed */
	if (fstat(fd, &fst) == 0 && (fid = file_id_of(&fst), file_id_eq(&p->id, &fid)))
		p->spare_ok = spare_note_in(fd);
	close(fd);
	return p->spare_ok;
}

static void spare_cb(struct loop_op *op, int res, bool more);
static void spare_idle_cb(struct loop_op *op, int res, bool more);

static void fd_close(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void spare_unlink(struct nsd *n, struct exec_spare *sp)
{
	for (struct exec_spare **pp = &n->spares; *pp; pp = &(*pp)->next)
		if (*pp == sp) {
			*pp = sp->next;
			break;
		}
	sp->next = NULL;
}

/* A waiting spare is not wanted any more: it ends (spare_cb reaps it). */
static void spare_retire(struct nsd *n, struct exec_spare *sp)
{
	if (sp->state != SP_WAITING)
		return;
	sp->state = SP_RETIRED;
	fd_close(&sp->sock);	/* a shepherd waiting for its call exits on end of file */
	if (!sp->taking)	/* and one that does not wait is killed */
		syscall(SYS_pidfd_send_signal, sp->sc.pidfd, SIGKILL, NULL, 0);
	n->nspares--;
	sp->h->nspares--;
	n->status_dirty = true;
}

static void spare_free(struct exec_spare *sp)
{
	fd_close(&sp->sock);
	fd_close(&sp->out_rd);
	fd_close(&sp->err_rd);
	fd_close(&sp->sc.pidfd);
	free(sp);
}

/* Its process exited (waiting or retired), or it was taken (cancelled). */
static void spare_cb(struct loop_op *op, int res, bool more)
{
	struct exec_spare *sp = (struct exec_spare *)((char *)op - offsetof(struct exec_spare, op));
	struct nsd *n = sp->n;
	siginfo_t si;

	(void)more;
	if (sp->state == SP_TAKEN) {	/* the call owns the process now */
		free(sp);
		return;
	}
	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)sp->sc.pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0 &&
	    res >= 0) {
		loop_poll(&n->d->loop, &sp->op, sp->sc.pidfd, POLLIN);	/* not yet */
		return;
	}
	if (sp->state == SP_WAITING) {
		/* it ended on its own, before any call: start this file per call */
		char why[512] = "";
		ssize_t k = read(sp->err_rd, why, sizeof(why) - 1);

		why[k > 0 ? k : 0] = '\0';
		why[strcspn(why, "\n")] = '\0';
		spare_retire(n, sp);
		if (sp->h->prog && file_id_eq(&sp->h->prog->id, &sp->id))
			sp->h->prog->broken = true;
		log_warn("%s: handler %s: a program started ahead of its call ended before it "
			 "(%s %d%s%s); starting it per call from now on", n->path, sp->h->name,
			 si.si_code == CLD_EXITED ? "exit status" : "signal", si.si_status,
			 why[0] ? ": " : "", why);
	}
	spare_unlink(n, sp);
	sandbox_release(&sp->sc);
	spare_free(sp);
}

static void spare_idle_arm(struct nsd *n)
{
	uint64_t oldest = UINT64_MAX, now = now_mono_ns();

	for (struct exec_spare *sp = n->spares; sp; sp = sp->next)
		if (sp->state == SP_WAITING && sp->born_ns < oldest)
			oldest = sp->born_ns;
	if (oldest == UINT64_MAX || n->spare_op.busy)
		return;
	n->spare_op.cb = spare_idle_cb;
	loop_timeout(&n->d->loop, &n->spare_op,
		     oldest + SPARE_IDLE_NS > now ? oldest + SPARE_IDLE_NS - now : 1);
}

static void spare_idle_cb(struct loop_op *op, int res, bool more)
{
	struct nsd *n = (struct nsd *)((char *)op - offsetof(struct nsd, spare_op));
	uint64_t now = now_mono_ns();

	(void)more;
	if (res == -ECANCELED)
		return;
	for (struct exec_spare *sp = n->spares; sp; sp = sp->next)
		if (sp->state == SP_WAITING && sp->born_ns + SPARE_IDLE_NS <= now)
			spare_retire(n, sp);
	if (!n->d->stopping)
		spare_idle_arm(n);
}

static unsigned spares_ns_max(const struct nsd *n)
{
	unsigned max = n->conf.max_concurrent < SPARE_NS_MAX ? n->conf.max_concurrent
							     : SPARE_NS_MAX;

	/* a waiting spare is a process: leave pids.max to the calls */
	if (n->conf.pids_max && n->conf.pids_max / 4 < max)
		max = (unsigned)(n->conf.pids_max / 4);
	return max;
}

static int pipe_nb(int *rd, int *wr)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fcntl(p[0], F_SETFL, O_NONBLOCK);	/* the ring reads it once it is a call's */
	*rd = p[0];
	*wr = p[1];
	return 0;
}

/* Start one spare of @h (its program @path, @st). 0 or -errno. */
static int spare_start(struct nsd *n, struct hq *h, const char *path, const struct stat *st)
{
	char store[4096 + 3 * PATH_MAX];
	char *envp[32], *argv[2] = { h->name, NULL }, *sstore = store;
	size_t k = 0, left = sizeof(store);
	int sv[2] = { -1, -1 }, out_w = -1, err_w = -1, ret;
	struct exec_spare *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return -ENOMEM;
	sp->sock = sp->out_rd = sp->err_rd = -1;
	sp->sc.pidfd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		goto fail;
	}
	sp->sock = sv[0];
	ret = pipe_nb(&sp->out_rd, &out_w);
	if (!ret)
		ret = pipe_nb(&sp->err_rd, &err_w);
	if (!ret)
		ret = exec_env_base(n, h->name, envp, &k, sizeof(envp) / sizeof(envp[0]), &sstore, &left);
	if (!ret)
		ret = exec_env_add(envp, &k, sizeof(envp) / sizeof(envp[0]), &sstore, &left,
			      "WOOF_SPARE_FD", "3");
	if (!ret && h->prog->last_woof[0])
		ret = exec_env_add(envp, &k, sizeof(envp) / sizeof(envp[0]), &sstore, &left,
			      "WOOF_SPARE_WOOF", h->prog->last_woof);
	if (ret)
		goto fail;

	struct sandbox_spawn spw = {
		.path = path,
		.argv = argv,
		.envp = envp,
		.stdin_fd = n->d->devnull,
		.stdout_fd = out_w,
		.stderr_fd = err_w,
		.keep_fds = &sv[1],
		.nkeep = 1,
	};
	ret = sandbox_spawn(n->sns, &spw, &sp->sc);
	if (ret)
		goto fail;
	fd_close(&sv[1]);
	fd_close(&out_w);
	fd_close(&err_w);
	sp->n = n;
	sp->h = h;
	sp->id = file_id_of(st);
	sp->born_ns = now_mono_ns();
	sp->state = SP_WAITING;
	sp->op.cb = spare_cb;
	sp->next = n->spares;
	n->spares = sp;
	n->nspares++;
	h->nspares++;
	n->status_dirty = true;
	loop_poll(&n->d->loop, &sp->op, sp->sc.pidfd, POLLIN);
	spare_idle_arm(n);
	return 0;
fail:
	fd_close(&sv[1]);
	fd_close(&out_w);
	fd_close(&err_w);
	spare_free(sp);
	return ret;
}

/* Keep @h's configured number of spares waiting (after a call took or skipped one). */
void exec_spares_top_up(struct nsd *n, struct hq *h, const char *path, const struct stat *st)
{
	while (!n->d->stopping && h->nspares < h->spares && n->nspares < spares_ns_max(n)) {
		int ret = spare_start(n, h, path, st);

		if (ret) {
			dbg("%s: handler %s: cannot start a spare: %s", n->path, h->name,
			    strerror(-ret));
			break;
		}
	}
}

/* A waiting spare of @h started from the file @st, or NULL; stale ones are retired. */
static struct exec_spare *spare_take(struct nsd *n, struct hq *h, const struct stat *st)
{
	struct file_id id = file_id_of(st);
	struct exec_spare *found = NULL;

	for (struct exec_spare *sp = n->spares; sp; sp = sp->next) {
		if (sp->state != SP_WAITING || sp->h != h)
			continue;
		if (!file_id_eq(&sp->id, &id))
			spare_retire(n, sp);	/* the handler file changed since */
		else if (!found || sp->born_ns < found->born_ns)
			found = sp;		/* the oldest: most likely ready */
	}
	return found;
}

/* Give call @c to spare @sp: 0, or -errno (then the spare was retired). */
static int spare_hand(struct nsd *n, struct call *c, struct exec_spare *sp)
{
	char pkt[WOOF_SPARE_PACKET_MAX];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { pkt, 0 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	int len = exec_call_vars(c, pkt, sizeof(pkt));

	if (len < 0 || c->spool_fd < 0) {
		spare_retire(n, sp);
		return len < 0 ? len : -EBADF;
	}
	iov.iov_len = (size_t)len;
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c->spool_fd, sizeof(int));
	if (sendmsg(sp->sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) != len) {
		int err = errno ? -errno : -EIO;

		spare_retire(n, sp);	/* its exit is reaped by spare_cb */
		return err;
	}
	/* the packet stays readable after our end is closed */
	sp->taking = true;
	spare_retire(n, sp);
	sp->state = SP_TAKEN;
	spare_unlink(n, sp);
	loop_cancel(&n->d->loop, &sp->op);	/* spare_cb frees it */
	c->sc = sp->sc;
	sp->sc.pidfd = -1;
	/* what it prints, from the start, is its call's output */
	close(c->out_fd);
	close(c->err_fd);
	c->out_fd = sp->out_rd;
	c->err_fd = sp->err_rd;
	sp->out_rd = sp->err_rd = -1;
	return 0;
}

void exec_ns_stop(struct nsd *n)
{
	loop_cancel(&n->d->loop, &n->spare_op);
	for (struct exec_spare *sp = n->spares; sp; sp = sp->next)
		spare_retire(n, sp);
}

void exec_ns_trim(struct nsd *n)
{
	for (struct hq *h = n->handlers; h; h = h->next) {
		unsigned keep = h->runtime == RT_EXEC ? h->spares : 0;

		for (struct exec_spare *sp = n->spares; sp && h->nspares > keep; sp = sp->next)
			if (sp->h == h)
				spare_retire(n, sp);
	}
}

void exec_ns_close(struct nsd *n)
{
	struct exec_spare *sp;

	while ((sp = n->spares)) {
		siginfo_t si;

		n->spares = sp->next;
		if (sp->state == SP_WAITING) {
			n->nspares--;
			sp->h->nspares--;
		}
		fd_close(&sp->sock);
		sandbox_kill(&sp->sc);
		while (waitid(P_PIDFD, (id_t)sp->sc.pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		sandbox_release(&sp->sc);
		spare_free(sp);
	}
}

void exec_hq_free(struct hq *h)
{
	free(h->prog);
	h->prog = NULL;
}


/*
 * Give call @c to a waiting spare of its handler (@path, whose stat() goes
 * to @st): 1 when a spare took it, 0 when the caller must start the
 * program itself (then *@ahead says whether to top up spares after), or
 * -errno. Spares of another version of the file are retired here.
 */
int exec_spare_try(struct nsd *n, struct call *c, const char *path, struct stat *st,
		   bool *ahead)
{
	struct hq *h = c->h;
	bool have_st = (h->spares || h->nspares) && lstat(path, st) == 0;

	*ahead = have_st && h->spares && !n->d->stopping && S_ISREG(st->st_mode) &&
		 prog_spare_ok(h, path, st);
	if (*ahead)
		snprintf(h->prog->last_woof, sizeof(h->prog->last_woof), "%s", c->tr.woof);
	if (have_st && h->nspares) {
		struct exec_spare *sp = spare_take(n, h, st);	/* retires stale ones */

		if (sp && *ahead) {
			if (spare_hand(n, c, sp) == 0) {
				exec_spares_top_up(n, h, path, st);
				return 1;
			}
		} else if (sp) {
			spare_retire(n, sp);
		}
	}
	return 0;
}
