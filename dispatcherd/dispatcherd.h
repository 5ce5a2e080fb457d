/* SPDX-License-Identifier: MIT */
/*
 * dispatcherd.h - what the files of dispatcherd share.
 *
 * Objects and who owns them:
 *   struct daemon   one per process: the event loop, signals, the served
 *                   namespaces, the sandbox capabilities.
 *   struct nsd      one served namespace: its trigger log and dispatch
 *                   socket, its records (.woof/calls, .woof/log), its
 *                   configuration, its per-handler queues and the window of
 *                   triggers between done_floor and the next one to read.
 *   struct hq       one handler of one namespace: a FIFO of claimed calls
 *                   waiting for a slot, and counters. Handlers with queued
 *                   calls form a ring that dispatch walks round-robin.
 *   struct call     one trigger being processed: from the moment it is read
 *                   from the trigger log until its final record is written
 *                   and done_floor may pass it. Lives in nsd->win.
 *
 * Threading: one thread. Everything runs from loop callbacks; nothing
 * blocks except short file I/O on the namespace's own files.
 */
#ifndef WOOF_DISPATCHERD_H
#define WOOF_DISPATCHERD_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/types.h>

#include <woof.h>
#include <woof-dispatch.h>

#include "config.h"
#include "loop.h"
#include "sandbox.h"

/* ---- log.c ---- */
enum { L_ERR = 3, L_WARN = 4, L_NOTICE = 5, L_INFO = 6, L_DEBUG = 7 };
extern int log_level;
void dlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...)	dlog(L_ERR, __VA_ARGS__)
#define log_warn(...)	dlog(L_WARN, __VA_ARGS__)
#define log_notice(...)	dlog(L_NOTICE, __VA_ARGS__)
#define log_info(...)	dlog(L_INFO, __VA_ARGS__)
#define dbg(...)	do { if (log_level >= L_DEBUG) dlog(L_DEBUG, __VA_ARGS__); } while (0)

uint64_t now_real_ns(void);
uint64_t now_mono_ns(void);

/* ---- notify.c: the sd_notify protocol over $NOTIFY_SOCKET ---- */
int notify_init(void);			/* 0 if not under systemd */
void notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the objects ---- */

enum call_state {
	CS_NEW,		/* read from the log, not claimed yet */
	CS_RETRY,	/* claim said -EAGAIN: waiting for the retry timer */
	CS_QUEUED,	/* claimed (spooled), waiting in its handler's queue */
	CS_RUNNING,	/* the handler is running */
	CS_FINISHED,	/* final record written (or finished before this start) */
};

struct nsd;
struct hq;

#define CALL_IOBUF 4096

struct call {
	struct nsd *n;
	struct hq *h;
	uint64_t tseq;
	struct woof_trigger tr;
	enum call_state state;
	uint32_t attempt;
	bool redelivery;	/* an earlier attempt had started */
	bool spooled;		/* the element came from the spool (slot overwritten) */
	uint64_t el_size;	/* bytes of element */
	const void *el;		/* its copy in the spool ring, or NULL: in a spool file */
	unsigned spool_slot;	/* ring slot + 1, 0 = none */
	bool spool_file;	/* this run wrote .woof/spool/T */
	struct call *qnext;	/* handler queue / retry list */
	unsigned retries;	/* -EAGAIN claims so far */

	/* while running */
	int spool_fd;		/* the element (spool_call_fd), or -1; exec: the handler's fd 3 */
	int out_fd, err_fd;	/* read ends of the handler's stdout/stderr, -1 when closed */
	int out_w, err_w;	/* write ends, for runtimes; closed once started */
	struct sandbox_call sc;
	struct loop_op exit_op, out_op, err_op, timer_op, grace_op;
	siginfo_t si;
	char *outbuf, *errbuf;	/* CALL_IOBUF bytes each, while running */
	uint64_t logged;	/* output bytes put into the log */
	bool exited, timed_out;
	bool abandoned;		/* killed by a fast stop or a fence: no final record, runs again */
	bool finalized;		/* maybe_finalize released it (a fence may cut the rest short) */
	bool crashed;		/* the runtime process serving it died (zygote, warm): FAILED, R_CRASH */
	int wait_code;		/* CLD_EXITED, CLD_KILLED, CLD_DUMPED */
	int wait_status;
	uint64_t start_real, start_mono, end_real, end_mono;
	uint64_t output_bytes;
	uint32_t flags;		/* WOOF_CALL_F_* */
	enum runtime_kind runtime;
	bool slot;		/* counts against max_concurrent (all but warm calls) */
	void *rt_priv;		/* the runtime's own per-call data */
};

struct hq {
	char name[WOOF_NAME_MAX + 1];
	enum runtime_kind runtime;	/* as configured */
	uint64_t timeout_ns;
	unsigned cap;			/* per-handler cap on started calls, 0 = none */
	unsigned workers;		/* woof.conf workers (warm: the pool's size), 0 = unset */
	struct call *head, *tail;
	unsigned queued, running;
	uint64_t done, failed;
	bool in_rr;
	struct hq *rr_prev, *rr_next;	/* ring of handlers with queued calls */
	struct hq *next;		/* all handlers of the namespace */

	/* exec runtime: programs started ahead of their calls (exec.c) */
	unsigned spares;		/* woof.conf spares: how many to keep waiting */
	unsigned nspares;		/* waiting now */
	struct exec_prog *prog;		/* what exec.c knows of the handler's file */
};

/* A finished-or-started note about a trigger, rebuilt from .woof/calls. */
struct recovered {
	uint64_t trigger;		/* 0 = empty slot */
	uint64_t put_time_ns;
	uint32_t attempt;		/* highest attempt that started */
	uint32_t final_state;		/* WOOF_CALL_DONE/FAILED/ORPHAN or 0 */
};

struct daemon;

struct nsd {
	struct daemon *d;
	char path[PATH_MAX];
	char name[WOOF_NAME_MAX + 1];	/* the directory's last component */
	struct woof_ns *ns;
	struct woof_ns *meta;		/* <ns>/.woof, holding calls and log */
	struct woof *calls, *log;
	struct woof_triggers *trig;
	int lockfd;
	int metafd;			/* .woof, O_DIRECTORY */
	int spooldir;			/* .woof/spool, O_DIRECTORY */
	int statusfd;			/* .woof/status, rewritten in place */
	int sock;
	struct loop_op sock_op;
	bool sock_armed;

	char conf_path[PATH_MAX];
	struct ns_conf conf;
	struct sandbox_ns *sns;
	uid_t hand_uid;			/* handlers' user; 0 = the sandbox's default */
	gid_t hand_gid;

	/* the window: triggers done_floor+1 .. next-1 live in win[] */
	uint64_t floor;
	uint64_t next;
	uint64_t hist;			/* size of win[]: the trigger log's history */
	struct call **win;

	struct hq *handlers;
	struct hq *rr;			/* next handler to take a call from */
	unsigned running, queued;	/* started calls; calls in handler queues */
	unsigned slots;			/* started calls that count against max_concurrent */
	unsigned live;			/* started and not yet finalized */
	bool need_scan;

	struct call *retry_head;	/* claims that said -EAGAIN */
	struct loop_op retry_op;
	uint64_t retry_delay_ns;

	uint8_t *spool_ring;		/* .woof/spool/ring-v1, mapped (spool.c) */
	uint64_t *spool_owner;		/* per ring slot: the trigger holding it, or 0 */
	unsigned spool_stale_files;	/* file copies an earlier run left above done_floor */
	uint64_t spool_bytes;		/* bytes of claimed elements of unfinished calls */
	uint64_t spool_max;
	bool spool_full;		/* stopped reading the log until spool space frees */

	struct recovered *rec;		/* open-addressing table, rec_size slots */
	size_t rec_size;
	uint64_t rec_max_trigger;

	uint8_t *elbuf;			/* claim buffer */
	size_t elbuf_len;

	/* counters since start, for the status file */
	uint64_t n_done, n_failed, n_orphan, n_redelivered, n_claim_retries;
	uint64_t started_real;
	bool status_dirty;
	uint64_t status_written;	/* CLOCK_MONOTONIC of the last write */
	struct loop_op status_op;	/* delays the next write to STATUS_MIN_NS */

	/*
	 * Fenced (nsd_fence): a fault on a mapping of one of its files
	 * (guard.c) or damage found when it was opened. It takes no triggers,
	 * its calls are killed; once they are gone (fence_done) its cgroup is
	 * removed and its files let go. Only the status file (pwrite, not
	 * mapped) is written until a SIGHUP opens it again.
	 */
	bool fenced;
	bool fence_done;
	dev_t trig_dev;			/* the trigger log we read, to notice it replaced */
	ino_t trig_ino;
	uint64_t trig_len;
	uint64_t trig_checked;		/* CLOCK_MONOTONIC of the last look */
	char fence_reason[768];
	uint64_t fenced_real;

	struct exec_spare *spares;	/* exec.c: spares not yet reaped (waiting or retired) */
	unsigned nspares;		/* of them waiting */
	struct loop_op spare_op;	/* retires spares idle for SPARE_IDLE_NS */
};

struct daemon {
	struct loop loop;
	struct sandbox_caps caps;
	char caps_text[2048];
	int sigfd;
	struct loop_op sig_op;
	struct signalfd_siginfo ssi;
	struct nsd **nss;
	unsigned nns;
	unsigned nns_max;		/* namespaces named on the command line */
	char (*guard_paths)[PATH_MAX];	/* their directories, for guard.c */
	bool stopping;			/* SIGTERM: take no new calls, wait for running ones */
	bool fast_stop;			/* second SIGTERM/SIGINT: kill running calls */
	bool stopped;			/* the loop has ended: the last status write */
	bool reload;			/* SIGHUP seen */
	struct nsd *opening;		/* nsd_open() at work on it: a fault there fences it */
	int devnull;			/* the handlers' stdin */
	const char *config_override;	/* --config FILE for every namespace */
	uint64_t last_notify_ns;
};

/* ---- nsd.c: one namespace ---- */
int nsd_open(struct daemon *d, const char *dir, struct nsd **out);
void nsd_start(struct nsd *n);		/* arm the socket, read the backlog */
void nsd_close(struct nsd *n);
int nsd_reload(struct nsd *n);		/* SIGHUP */
void nsd_stop(struct nsd *n);		/* SIGTERM: stop reading triggers */
void nsd_kill_all(struct nsd *n);	/* second SIGTERM: kill running calls */
bool nsd_idle(const struct nsd *n);	/* nothing running and no op busy */
void nsd_after_turn(struct nsd *n);	/* end of a loop turn: status file etc */
/* stop serving @n, for @why; the other namespaces go on (see nsd.c) */
void nsd_fence(struct nsd *n, const char *why);

/* called by runtimes */
void call_exited(struct call *c, int code, int status);

/* ---- records.c: .woof/calls, .woof/log, spool, status ---- */
int rec_open(struct nsd *n);
void rec_close(struct nsd *n);
int rec_write(struct nsd *n, const struct call *c, uint32_t state, uint32_t reason,
	      int error);
void rec_log(struct nsd *n, const struct call *c, unsigned stream, const char *data,
	     size_t len);
void rec_note(struct nsd *n, const struct call *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int rec_rebuild(struct nsd *n);
const struct recovered *rec_lookup(const struct nsd *n, uint64_t trigger);
void rec_forget(struct nsd *n);
int status_write(struct nsd *n);
/* @s percent-encoded as in the status file (bytes <= ' ', '%', '=', >= 0x7f) */
void rec_put_name(FILE *f, const char *s);

/* ---- spool.c: copies of claimed elements until their call ends ---- */
#define SPOOL_SLOT_SIZE	512U	/* ring slots: one per trigger log entry (n->hist) */
#define SPOOL_SLOT_DATA	(SPOOL_SLOT_SIZE - 64U)	/* larger elements go to files */
int spool_init(struct nsd *n);		/* once n->hist is known: map the ring */
void spool_fini(struct nsd *n);
void spool_clean(struct nsd *n);	/* at start-up, once done_floor is known */
int spool_put(struct nsd *n, struct call *c, const void *el, size_t len);
int spool_find(struct nsd *n, struct call *c, uint64_t *size);	/* a copy an earlier run made */
int spool_call_fd(struct nsd *n, struct call *c);	/* the element as an fd, or -errno */
void spool_drop(struct nsd *n, struct call *c);		/* the call is over */
void spool_forget(struct nsd *n, uint64_t tseq);	/* ended before this run: drop a copy */

/* ---- runtimes ---- */
struct runtime_ops {
	const char *name;
	/*
	 * Start call @c. The core has set up c->spool_fd (the element),
	 * c->out_w/c->err_w (where stdout and stderr go) and the call's
	 * limits. On success the runtime fills c->sc; if c->sc.pidfd >= 0 the
	 * core waits for that process to exit, otherwise the runtime calls
	 * call_exited() itself. Returns 0 or -errno; on -ENOENT/-EACCES/
	 * -ENOEXEC the core records a missing/non-executable handler.
	 */
	int (*start)(struct nsd *n, struct call *c);
	/* timeout: kill the call */
	void (*kill)(struct nsd *n, struct call *c);
	/* the call's record is final: free c->rt_priv etc. (may be NULL) */
	void (*release)(struct nsd *n, struct call *c);
};
extern const struct runtime_ops runtime_exec;
/* Calls a warm worker may have been sent and not yet answered (warm.c). */
#define WARM_DEPTH	16U
/* Provided by zygote.c / warm.c when they are linked in; else NULL. */
extern const struct runtime_ops runtime_zygote __attribute__((weak));
extern const struct runtime_ops runtime_warm __attribute__((weak));
/* rtcommon.c (zygote/warm): end a namespace's long-lived runtime processes
 * before its sandbox is closed; NULL when those runtimes are not built in. */
void runtime_ns_close(struct nsd *n) __attribute__((weak));
/* warm.c: send the requests this loop turn gave @n's warm workers */
void runtime_warm_flush(struct nsd *n) __attribute__((weak));

/*
 * exec-spares.c: spares - handler programs (libwoof-shepherd's main) started
 * ahead of their calls, waiting for them on a socket. A call of the exec
 * runtime takes one if one waits for the same file, else starts the
 * program; either way a replacement is started. Idle ones are retired.
 */
void exec_ns_stop(struct nsd *n);	/* retire every spare (SIGTERM) */
void exec_ns_trim(struct nsd *n);	/* after a reload: keep at most what is configured */
void exec_ns_close(struct nsd *n);	/* the loop has ended: kill and reap them */
void exec_hq_free(struct hq *h);
struct stat;
int exec_spare_try(struct nsd *n, struct call *c, const char *path, struct stat *st,
		   bool *ahead);
void exec_spares_top_up(struct nsd *n, struct hq *h, const char *path, const struct stat *st);

/* exec.c helpers shared with exec-spares.c and other runtimes */
int exec_env_add(char **envp, size_t *n, size_t max, char **store, size_t *left,
		 const char *name, const char *value);
int exec_env_base(struct nsd *n, const char *handler, char **envp, size_t *k, size_t max,
		  char **store, size_t *left);
int exec_call_vars(const struct call *c, char *buf, size_t len);
int exec_build_env(struct nsd *n, const struct call *c, char **envp, size_t max,
		   char *store, size_t store_len);
int handler_file_check(struct nsd *n, const char *handler, char *path, size_t len);

#endif
