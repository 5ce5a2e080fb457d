/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c - starting handler processes for dispatcherd (see sandbox.h).
 *
 * Design, chosen for start cost (the exec runtime must start a handler in
 * <= 1 ms, and creating a mount tree or a network namespace per call costs
 * 0.3-0.6 ms on the target machines):
 *
 *  - Per WOOF namespace, sandbox_ns_open() starts a *holder*: a tiny
 *    process that is PID 1 of a new PID namespace and sits in new mount,
 *    IPC, UTS (and, if asked, network) namespaces whose file system it
 *    builds once (sandbox-mount.c). It shares the daemon's memory
 *    (CLONE_VM), so it costs no memory, ignores SIGCHLD so the kernel reaps
 *    every orphan of the namespace at once, and dies with the daemon
 *    (PR_SET_PDEATHSIG) - which takes the PID namespace and every handler
 *    in it along.
 *  - Per call, sandbox_spawn() makes the call cgroup and starts the
 *    handler as a *direct child of the daemon* with clone3(CLONE_VM |
 *    CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP) on a private stack: as
 *    root the calling thread first points its pid_ns_for_children at the
 *    holder's PID namespace (setns) and the child joins the holder's
 *    mount/IPC/UTS/net namespaces with one setns(pidfd) - no page tables
 *    are copied and nothing is mounted per call. The child then leaves the
 *    daemon's signal state, enters the namespace directory, switches to
 *    the unprivileged uid/gid, sets no_new_privs, lays out its fds and
 *    execs. sandbox_spawn() returns once the exec has happened (or failed:
 *    -errno), so the exit status the daemon reaps through the pidfd is the
 *    handler's own.
 *  - Not root but with unprivileged user namespaces, the holder also gets
 *    a user namespace (the daemon's uid mapped onto itself), and a
 *    short-lived middle process enters all of the holder's namespaces and
 *    starts the handler with CLONE_PARENT, so the handler is again the
 *    daemon's own child. Without either, handlers run in the daemon's
 *    namespaces (PLAIN mode) and only no_new_privs, the new session and
 *    the fd layout apply.
 *
 * Calls of one WOOF namespace share that namespace's PID/mount/IPC/UTS
 * namespaces (they are one trust domain); what separates calls is the call
 * cgroup. Nothing here prints; errors are -errno, and what the host cannot
 * enforce is described in sandbox_caps.why_not.
 */
#include "sandbox-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

unsigned sbx_test_ns_mask = SBX_NS_ALL;
bool sbx_test_no_cgroup;
bool sbx_test_no_dev_filter;
bool sbx_test_two_stage;

/* ------------------------------------------------------------------ */
/* clone3                                                              */

long sbx_clone3(struct sbx_clone_args *ca)
{
	long r = syscall(SYS_clone3, ca, sizeof *ca);
	return r < 0 ? -errno : r;
}

#if defined(__x86_64__)
bool sbx_have_clone_fn(void)
{
	return true;
}

/*
 * The child starts on ca->stack with every other register as the parent
 * had it; fn and arg travel in r12/r13 (callee-saved, kept by syscall).
 * The child calls fn(arg) and exits with its value; it never returns here.
 */
__attribute__((noinline)) long sbx_clone3_fn(struct sbx_clone_args *ca, int (*fn)(void *), void *arg)
{
	register long rax __asm__("rax") = SYS_clone3;
	register void *rdi __asm__("rdi") = ca;
	register long rsi __asm__("rsi") = sizeof *ca;
	register void *r12 __asm__("r12") = (void *)fn;
	register void *r13 __asm__("r13") = arg;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t" /* SYS_exit */
			 "syscall\n\t"
			 "hlt\n"
			 "1:\n"
			 : "+r"(rax)
			 : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
			 : "rcx", "r11", "memory", "cc");
	return rax;
}

/* System calls for the holder after its setup: no errno, no libc state. */
static inline long raw_sys3(long n, long a, long b, long c)
{
	register long rax __asm__("rax") = n;
	register long rdi __asm__("rdi") = a;
	register long rsi __asm__("rsi") = b;
	register long rdx __asm__("rdx") = c;
	__asm__ volatile("syscall" : "+r"(rax) : "r"(rdi), "r"(rsi), "r"(rdx) : "rcx", "r11", "memory");
	return rax;
}
#else
bool sbx_have_clone_fn(void)
{
	return false;
}

long sbx_clone3_fn(struct sbx_clone_args *ca, int (*fn)(void *), void *arg)
{
	(void)ca;
	(void)fn;
	(void)arg;
	return -ENOSYS;
}

static inline long raw_sys3(long n, long a, long b, long c)
{
	return syscall(n, a, b, c);
}
#endif

long sbx_start(struct sbx_clone_args *ca, int (*fn)(void *), void *arg)
{
	if (sbx_have_clone_fn() && ca->stack)
		return sbx_clone3_fn(ca, fn, arg);
	struct sbx_clone_args c = *ca;
	c.flags &= ~(uint64_t)CLONE_VM;
	c.stack = 0;
	c.stack_size = 0;
	long r = sbx_clone3(&c);
	if (r == 0)
		_exit(fn(arg));
	return r;
}

/* ------------------------------------------------------------------ */
/* The namespace object                                                */

enum sbx_mode {
	SBX_PLAIN,	/* the daemon's own namespaces */
	SBX_ROOTNS,	/* root: holder namespaces, entered per call */
	SBX_USERNS,	/* not root: the same inside a user namespace */
};

#define SBX_STACK (64 * 1024)
#define SBX_MAX_KEEP 64
/*
 * Call cgroups are recycled: on this machine the first process to enter a
 * cgroup that never had one costs 0.2-1.5 ms (bimodal) against ~15 us for
 * one that has been used before, whether or not anything is rmdir'ed. An
 * idle call cgroup (empty, after sandbox_release) waits here for the next
 * call of its namespace; more than SBX_POOL idle ones are removed.
 */
#define SBX_POOL 32

/* Results a child hands back; in a MAP_SHARED page so that it works for
 * fork-like children too. */
struct sbx_xfer {
	int err;		/* errno of the step that failed, 0 if none */
	int hpidfd;		/* the handler's pidfd (CLONE_PIDFD) */
	long hpid;		/* the handler's pid in the daemon's PID namespace */
	const char *step;	/* static string: what failed */
};

struct sandbox_ns {
	pthread_mutex_t lock;
	char name[128];
	char dir[PATH_MAX];	/* canonical */
	char alias[PATH_MAX];	/* as the caller gave it, if that differs ("" if not) */
	char woofdev[128];	/* /dev/woof/<ns> when woof.ko serves dir ("" if not) */
	struct sandbox_limits lim;
	enum sbx_mode mode;
	bool switch_user;
	uid_t uid;
	gid_t gid;
	size_t tmp_size;

	/* cgroups */
	int cgfd;		/* woof-<name>-<hash>, -1 if no cgroups */
	char cgpath[sizeof ((struct sandbox_caps *)0)->cgroup_root + 140];
	bool cg_into;		/* CLONE_INTO_CGROUP works */
	unsigned long ncall;
	unsigned long pool[SBX_POOL];	/* idle call cgroups (call-<n>), reused */
	int npool;
	struct sandbox_ns *next;	/* in the registry of open namespaces */

	/* the holder */
	int holder_pidfd;
	uint64_t holder_flags;	/* its CLONE_NEW* flags */
	int self_pidns;		/* our own PID namespace (to come back to) */
	bool two_stage;		/* start through a middle process (user-ns mode) */
	char why[200];		/* why the holder failed, if it did */

	char *stacks;		/* guard | holder | guard | middle | guard | handler */
	size_t stacks_len;
	struct sbx_xfer *x;
};

/* Stack slot i (0 holder, 1 middle, 2 handler): its lowest usable
 * address; one PROT_NONE guard page lies below each slot. clone3 takes
 * this address and SBX_STACK and starts the child at the top. */
static char *stack_lo(struct sandbox_ns *sns, int i)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	return sns->stacks + (size_t)i * (SBX_STACK + pg) + pg;
}

/* ------------------------------------------------------------------ */
/* The holder                                                          */

struct holder_args {
	struct sandbox_ns *sns;
	int wfd;
	bool userns, mount, uts, net;
	uid_t ouid;
	gid_t ogid;
};

struct holder_report {
	int err;
	char step[120];
};

/* After setup: sleep forever. Raw syscalls only - this runs on the
 * daemon's memory and must not touch the daemon thread's TLS (errno). */
__attribute__((noinline, noreturn)) static void holder_idle(void)
{
	for (;;) {
#ifdef SYS_pause
		raw_sys3(SYS_pause, 0, 0, 0);
#else
		raw_sys3(SYS_ppoll, 0, 0, 0);
#endif
	}
}

static int write_str(const char *path, const char *s)
{
	return sbx_write_at(AT_FDCWD, path, s);
}

static int lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	int err = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(s);
	return err;
}

static int holder_main(void *arg)
{
	struct holder_args *ha = arg;
	struct sandbox_ns *sns = ha->sns;
	struct holder_report rep;
	const char *step = "";
	int err = 0;
	char buf[64];

	memset(&rep, 0, sizeof rep);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Keep nothing of the daemon's open files but the report pipe. */
	if (ha->wfd > 0)
		syscall(SYS_close_range, 0U, (unsigned)ha->wfd - 1, 0U);
	syscall(SYS_close_range, (unsigned)ha->wfd + 1, ~0U, 0U);

	if (ha->userns) {
		snprintf(buf, sizeof buf, "%u %u 1\n", (unsigned)ha->ouid, (unsigned)ha->ouid);
		err = write_str("/proc/self/uid_map", buf);
		step = "write /proc/self/uid_map";
		if (!err) {
			write_str("/proc/self/setgroups", "deny\n");
			snprintf(buf, sizeof buf, "%u %u 1\n", (unsigned)ha->ogid, (unsigned)ha->ogid);
			err = write_str("/proc/self/gid_map", buf);
			step = "write /proc/self/gid_map";
		}
	}
	if (!err && ha->mount)
		err = sbx_build_root(sns->dir, sns->alias[0] ? sns->alias : NULL,
				     sns->woofdev[0] ? sns->woofdev : NULL, sns->tmp_size, &step);
	if (!err && ha->uts) {
		step = "sethostname";
		size_t n = strlen(sns->name);
		if (sethostname(sns->name, n > 64 ? 64 : n) < 0)
			err = -errno;
	}
	if (!err && ha->net) {
		step = "bring up lo in the new network namespace";
		err = lo_up();
	}
	rep.err = -err;
	snprintf(rep.step, sizeof rep.step, "%s", err ? step : "");

	/* From here on nothing may use libc state shared with the daemon. */
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigaction(SIGCHLD, &ign, NULL);	/* orphans are reaped by the kernel */
	raw_sys3(SYS_write, ha->wfd, (long)&rep, sizeof rep);
	raw_sys3(SYS_close, ha->wfd, 0, 0);
	if (err)
		return 1;
	holder_idle();
}

static void reap_pidfd(int pidfd)
{
	siginfo_t si;
	while (syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | __WALL, NULL) < 0 && errno == EINTR)
		;
}

static int start_holder(struct sandbox_ns *sns, uint64_t nsflags)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	struct holder_args ha = {
		.sns = sns,
		.wfd = p[1],
		.userns = nsflags & CLONE_NEWUSER,
		.mount = nsflags & CLONE_NEWNS,
		.uts = nsflags & CLONE_NEWUTS,
		.net = nsflags & CLONE_NEWNET,
		.ouid = geteuid(),
		.ogid = getegid(),
	};
	int pidfd = -1;
	struct sbx_clone_args ca = {
		.flags = CLONE_VM | SBX_CLONE_PIDFD | SBX_CLONE_CLEAR_SIGHAND | nsflags,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = 0,
		.stack = (uint64_t)(uintptr_t)stack_lo(sns, 0),
		.stack_size = SBX_STACK,
	};
	long pid = sbx_start(&ca, holder_main, &ha);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		snprintf(sns->why, sizeof sns->why, "clone3 of the namespace holder: %s",
			 strerror((int)-pid));
		return (int)pid;
	}
	struct holder_report rep;
	ssize_t n;
	do
		n = read(p[0], &rep, sizeof rep);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n != (ssize_t)sizeof rep || rep.err) {
		int err = n != (ssize_t)sizeof rep ? -ECHILD : -rep.err;
		snprintf(sns->why, sizeof sns->why, "%s: %s",
			 n != (ssize_t)sizeof rep ? "the namespace holder died" : rep.step,
			 strerror(-err));
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		reap_pidfd(pidfd);
		close(pidfd);
		return err;
	}
	sns->holder_pidfd = pidfd;
	sns->holder_flags = nsflags;
	return 0;
}

/* If the holder has died (killed by someone, OOM in its cgroup), reap it
 * and start a new one with the same namespaces: 1 if it did, 0 if the
 * holder is alive, -errno if a new one could not be started. */
static int holder_revive(struct sandbox_ns *sns)
{
	/* A dying holder is PID 1 of its namespace: it has exited only once
	 * every process in the namespace is gone, which takes a moment - more
	 * than half a second on a loaded 2-vCPU host (seen in test-sandbox's
	 * holder_killed case). Bounded: the caller saw setns fail, so the
	 * holder is dying, not merely slow. */
	struct pollfd pf = { .fd = sns->holder_pidfd, .events = POLLIN };
	if (sns->holder_pidfd < 0 || poll(&pf, 1, 5000) != 1)
		return 0;
	reap_pidfd(sns->holder_pidfd);
	close(sns->holder_pidfd);
	sns->holder_pidfd = -1;
	int err = start_holder(sns, sns->holder_flags);
	return err ? err : 1;
}

/* ------------------------------------------------------------------ */
/* Open namespaces, so that sandbox_release() (which gets only the call)
 * can hand an idle call cgroup back to its namespace's pool. */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sandbox_ns *registry;

static void registry_add(struct sandbox_ns *sns)
{
	pthread_mutex_lock(&registry_lock);
	sns->next = registry;
	registry = sns;
	pthread_mutex_unlock(&registry_lock);
}

static void registry_del(struct sandbox_ns *sns)
{
	pthread_mutex_lock(&registry_lock);
	for (struct sandbox_ns **pp = &registry; *pp; pp = &(*pp)->next)
		if (*pp == sns) {
			*pp = sns->next;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
}

/* Is the cgroup at @dirfd without processes ("populated 0")? */
static bool cg_empty(int dirfd)
{
	char ev[256];
	if (sbx_read_at(dirfd, "cgroup.events", ev, sizeof ev) <= 0)
		return false;
	const char *p = strstr(ev, "populated ");
	return p && p[10] == '0';
}

/* Kill what is left in a call cgroup and wait (<= ~1 s) until it is empty;
 * *killed says whether anything had to be killed. */
static bool cg_drain(int dirfd, bool *killed)
{
	if (cg_empty(dirfd))
		return true;
	*killed = true;
	long delay = 20000; /* ns */
	for (int i = 0; i < 60; i++) {
		if (sbx_write_at(dirfd, "cgroup.kill", "1") == -ENOENT) {
			char procs[4096];
			if (sbx_read_at(dirfd, "cgroup.procs", procs, sizeof procs) > 0)
				for (char *p = procs; *p;) {
					long pid = strtol(p, &p, 10);
					if (pid > 0)
						kill((pid_t)pid, SIGKILL);
					while (*p == '\n')
						p++;
				}
		}
		struct timespec ts = { 0, delay };
		nanosleep(&ts, NULL);
		if (delay < 20000000)
			delay *= 2;
		if (cg_empty(dirfd))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Starting a handler                                                  */

/* x->step of a failure to enter the namespace holder's namespaces */
static const char step_enter[] = "join the namespace holder's namespaces (setns)";

struct sbx_job {
	struct sandbox_ns *sns;
	const struct sandbox_spawn *sp;
	struct sbx_xfer *x;
	int cgfd;		/* the call cgroup (O_PATH), -1 if none */
	bool enter;		/* the handler joins the holder's namespaces itself */
	char *const *argv;
	char *const *envp;
};

static void hfail(struct sbx_xfer *x, const char *step)
{
	if (!x->err) {
		x->err = errno ? errno : EIO;
		x->step = step;
	}
	_exit(127);
}

/*
 * The handler process, up to exec (or fn). With CLONE_VM it runs on the
 * daemon's memory while the daemon thread waits (vfork): only system calls
 * and async-signal-safe libc wrappers that do not notify other threads
 * (hence raw setres[ug]id/setgroups).
 */
static int handler_main(void *arg)
{
	struct sbx_job *job = arg;
	struct sandbox_ns *sns = job->sns;
	const struct sandbox_spawn *sp = job->sp;
	struct sbx_xfer *x = job->x;

	int enter = (int)(sns->holder_flags & (CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET));
	if (job->enter && enter && syscall(SYS_setns, sns->holder_pidfd, enter) < 0)
		hfail(x, step_enter);
	if (job->cgfd >= 0 && !sns->cg_into) {
		if (sbx_write_at(job->cgfd, "cgroup.procs", "0") < 0)
			hfail(x, "join the call cgroup");
	}
	setsid();

	sigset_t none;
	sigemptyset(&none);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(long));
	/* Handled signals were reset by CLONE_CLEAR_SIGHAND; ignored ones
	 * would survive exec. */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int s = 1; s <= 64; s++)	/* the real-time signals too (the kernel's _NSIG) */
		if (s != SIGKILL && s != SIGSTOP)
			syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof(long));

	if (chdir(sns->dir) < 0)
		hfail(x, "chdir into the namespace directory");
	if (sns->switch_user) {
		if (syscall(SYS_setgroups, 0, NULL) < 0)
			hfail(x, "setgroups");
		if (syscall(SYS_setresgid, sns->gid, sns->gid, sns->gid) < 0)
			hfail(x, "setresgid");
		if (syscall(SYS_setresuid, sns->uid, sns->uid, sns->uid) < 0)
			hfail(x, "setresuid");
	} else if (sns->mode == SBX_USERNS) {
		/* setns(CLONE_NEWUSER) gave us every capability in the user
		 * namespace; a handler keeps none (exec would drop them too,
		 * fn would not). */
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		memset(d, 0, sizeof d);
		if (syscall(SYS_capset, &h, d) < 0)
			hfail(x, "drop capabilities (capset)");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		hfail(x, "prctl(PR_SET_NO_NEW_PRIVS)");
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

	/* fds: stdin/stdout/stderr -> 0,1,2, keep_fds -> 3.. ; close the rest */
	int n = 3 + sp->nkeep;
	int src[3 + SBX_MAX_KEEP];
	src[0] = sp->stdin_fd;
	src[1] = sp->stdout_fd;
	src[2] = sp->stderr_fd;
	for (int i = 0; i < sp->nkeep; i++)
		src[3 + i] = sp->keep_fds[i];
	int nullfd = -1;
	for (int i = 0; i < n; i++) {
		if (src[i] < 0) {
			if (nullfd < 0) {
				int f = open("/dev/null", O_RDWR | O_CLOEXEC);
				if (f < 0)
					hfail(x, "open /dev/null");
				nullfd = fcntl(f, F_DUPFD_CLOEXEC, n);
				if (nullfd < 0)
					hfail(x, "move /dev/null");
				if (f != nullfd)
					close(f);
			}
			src[i] = nullfd;
		} else if (src[i] < n) {
			int moved = fcntl(src[i], F_DUPFD_CLOEXEC, n);
			if (moved < 0)
				hfail(x, "move a file descriptor out of the way");
			for (int j = i + 1; j < n; j++)
				if (src[j] == src[i])
					src[j] = moved;
			src[i] = moved;
		}
	}
	for (int i = 0; i < n; i++)
		if (dup2(src[i], i) < 0)
			hfail(x, "dup2");
	if (syscall(SYS_close_range, (unsigned)n, ~0U, 0U) < 0) {
		long max = sysconf(_SC_OPEN_MAX);
		for (long fd = n; fd < (max > 0 ? max : 1024); fd++)
			close((int)fd);
	}

	if (sp->fn)
		_exit(sp->fn(sp->arg));
	execve(sp->path, job->argv, job->envp);
	hfail(x, "execve");
	return 127;
}

/*
 * Clone the handler. @from_middle: we are the middle process and the
 * handler becomes the daemon's child (CLONE_PARENT).
 */
static long clone_handler(struct sbx_job *job, bool from_middle)
{
	struct sandbox_ns *sns = job->sns;
	struct sbx_clone_args ca = {
		.flags = SBX_CLONE_PIDFD | SBX_CLONE_CLEAR_SIGHAND | (from_middle ? CLONE_PARENT : 0),
		.pidfd = (uint64_t)(uintptr_t)&job->x->hpidfd,
		/* with CLONE_PARENT the kernel takes the middle's exit signal
		 * (SIGCHLD) and refuses any other value than 0 here */
		.exit_signal = from_middle ? 0 : SIGCHLD,
	};
	if (job->cgfd >= 0 && sns->cg_into) {
		ca.flags |= SBX_CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)job->cgfd;
	}
	if (job->sp->fn) {
		/* fn runs in a copy of the daemon, like fork() */
		long r = sbx_clone3(&ca);
		if (r == 0) {
			handler_main(job);
			_exit(127);
		}
		return r;
	}
	ca.flags |= CLONE_VM | CLONE_VFORK;
	ca.stack = (uint64_t)(uintptr_t)stack_lo(sns, 2);
	ca.stack_size = SBX_STACK;
	return sbx_start(&ca, handler_main, job);
}

/* The middle process (user-namespace mode): enter, start, leave. */
static int middle_main(void *arg)
{
	struct sbx_job *job = arg;
	struct sandbox_ns *sns = job->sns;
	int flags = (int)(sns->holder_flags & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC |
					       CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWPID));
	if (syscall(SYS_setns, sns->holder_pidfd, flags) < 0) {
		job->x->err = errno;
		job->x->step = step_enter;
		return 1;
	}
	long r = clone_handler(job, true);
	if (r < 0) {
		if (!job->x->err) {
			job->x->err = (int)-r;
			/* a PID namespace whose init is dying allocates no pids */
			job->x->step = r == -ENOMEM ? step_enter : "clone3 the handler";
		}
		return 1;
	}
	job->x->hpid = r;
	return 0;
}

static const char *const default_env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };

int sandbox_spawn(struct sandbox_ns *sns, const struct sandbox_spawn *sp, struct sandbox_call *call)
{
	if (!sns || !sp || !call || (!sp->path && !sp->fn) || sp->nkeep < 0 ||
	    sp->nkeep > SBX_MAX_KEEP || (sp->nkeep && !sp->keep_fds))
		return -EINVAL;
	call->pid = -1;
	call->pidfd = -1;
	call->cgroup[0] = '\0';
	call->killed = false;

	char *argv0[2] = { (char *)sp->path, NULL };
	struct sbx_job job = {
		.sns = sns,
		.sp = sp,
		.x = sns->x,
		.cgfd = -1,
		.argv = sp->argv ? sp->argv : argv0,
		.envp = sp->envp ? sp->envp : (char *const *)default_env,
	};
	char cgname[40] = "";
	int err = 0;

	pthread_mutex_lock(&sns->lock);
	while (sns->cgfd >= 0 && sns->npool > 0 && job.cgfd < 0) {
		snprintf(cgname, sizeof cgname, "call-%lu", sns->pool[--sns->npool]);
		job.cgfd = openat(sns->cgfd, cgname, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (sns->cgfd >= 0 && job.cgfd < 0) {
		for (int tries = 0; tries < 1000; tries++) {
			snprintf(cgname, sizeof cgname, "call-%lu", ++sns->ncall);
			if (mkdirat(sns->cgfd, cgname, 0755) == 0)
				break;
			if (errno != EEXIST) {
				err = -errno;
				goto out;
			}
		}
		job.cgfd = openat(sns->cgfd, cgname, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (job.cgfd < 0) {
			err = -errno;
			unlinkat(sns->cgfd, cgname, AT_REMOVEDIR);
			goto out;
		}
	}
	struct sbx_xfer *x = sns->x;
	bool revived = false;
again:
	x->err = 0;
	x->step = NULL;
	x->hpidfd = -1;
	x->hpid = 0;

	int saved_errno = errno;
	if (sns->two_stage) {
		struct sbx_clone_args ca = {
			.flags = CLONE_VM | CLONE_VFORK | CLONE_FILES | SBX_CLONE_CLEAR_SIGHAND,
			.exit_signal = SIGCHLD,
			.stack = (uint64_t)(uintptr_t)stack_lo(sns, 1),
			.stack_size = SBX_STACK,
		};
		long mid = sbx_start(&ca, middle_main, &job);
		if (mid < 0) {
			err = (int)mid;
		} else {
			int st;
			while (waitpid((pid_t)mid, &st, __WALL) < 0 && errno == EINTR)
				;
		}
	} else {
		if (sns->mode == SBX_ROOTNS && sns->holder_flags & CLONE_NEWPID) {
			if (syscall(SYS_setns, sns->holder_pidfd, CLONE_NEWPID) < 0) {
				err = -errno;
				x->step = step_enter;
				goto cleanup;
			}
		}
		job.enter = sns->mode == SBX_ROOTNS;
		long r = clone_handler(&job, false);
		if (sns->mode == SBX_ROOTNS && sns->holder_flags & CLONE_NEWPID) {
			/* Back to our own PID namespace for later children. This
			 * cannot fail for root short of a kernel bug; if it did,
			 * every later fork would land in the namespace. */
			if (syscall(SYS_setns, sns->self_pidns, CLONE_NEWPID) < 0)
				abort();
		}
		if (r < 0) {
			err = (int)r;
			/* a PID namespace whose init is dying allocates no pids */
			if (r == -ENOMEM && sns->mode == SBX_ROOTNS)
				x->step = step_enter;
		} else {
			x->hpid = r;
		}
	}
	errno = saved_errno;
	if (!err && x->err)
		err = -x->err;
	if (!err && x->hpid <= 0)
		err = -ECHILD;
cleanup:
	/* Entering the namespace failed because its holder is gone: make a
	 * new one (new PID/mount/IPC/UTS namespaces) and try once more. */
	if (err && sns->mode != SBX_PLAIN && !revived && x->step == step_enter) {
		revived = true;
		if (holder_revive(sns) == 1) {
			if (x->hpidfd >= 0) {
				reap_pidfd(x->hpidfd);
				close(x->hpidfd);
			}
			err = 0;
			goto again;
		}
	}
	if (err) {
		if (x->hpidfd >= 0) {
			reap_pidfd(x->hpidfd);
			close(x->hpidfd);
		}
		if (job.cgfd >= 0) {
			close(job.cgfd);
			job.cgfd = -1;
			sbx_cg_remove(sns->cgfd, cgname);
		}
		goto out;
	}
	call->pid = (pid_t)x->hpid;
	call->pidfd = x->hpidfd;
	if (job.cgfd >= 0) {
		snprintf(call->cgroup, sizeof call->cgroup, "%s/%s", sns->cgpath, cgname);
		close(job.cgfd);
	}
out:
	pthread_mutex_unlock(&sns->lock);
	return err;
}

int sandbox_kill(struct sandbox_call *call)
{
	int err = -ESRCH;
	if (call->cgroup[0]) {
		call->killed = true;	/* never reused: see sandbox_release() */
		int fd = open(call->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			int e = sbx_write_at(fd, "cgroup.kill", "1");
			if (e == -ENOENT) {
				/* No cgroup.kill: signal the members until none is left. */
				char procs[8192];
				for (int round = 0; round < 50; round++) {
					if (sbx_read_at(fd, "cgroup.procs", procs, sizeof procs) <= 0)
						break;
					for (char *p = procs; *p;) {
						long pid = strtol(p, &p, 10);
						if (pid > 0)
							kill((pid_t)pid, SIGKILL);
						while (*p == '\n')
							p++;
					}
				}
				e = 0;
			}
			if (e == 0)
				err = 0;
			close(fd);
		}
	}
	if (call->pidfd >= 0 && syscall(SYS_pidfd_send_signal, call->pidfd, SIGKILL, NULL, 0) == 0)
		err = 0;
	if (!call->cgroup[0] && call->pid > 0 && kill(-call->pid, SIGKILL) == 0)
		err = 0;	/* the call's process group (the handler called setsid) */
	return err;
}

void sandbox_release(struct sandbox_call *call)
{
	if (!call->cgroup[0])
		return;
	char *slash = strrchr(call->cgroup, '/');
	if (!slash || slash == call->cgroup) {
		call->cgroup[0] = '\0';
		return;
	}
	/*
	 * An idle call cgroup of an open namespace goes back to its pool -
	 * unless cgroup.kill was ever written to it: on Linux 6.18 (measured
	 * here) every later clone3(CLONE_INTO_CGROUP) into such a cgroup is
	 * SIGKILLed at once (its kill_seq no longer matches), so it is removed.
	 */
	bool pooled = false, killed = call->killed;
	unsigned long n = 0;
	if (sscanf(slash + 1, "call-%lu", &n) == 1) {
		*slash = '\0';
		pthread_mutex_lock(&registry_lock);
		struct sandbox_ns *sns = registry;
		while (sns && (sns->cgfd < 0 || strcmp(sns->cgpath, call->cgroup) != 0))
			sns = sns->next;
		if (sns) {
			pthread_mutex_lock(&sns->lock);
			if (sns->npool < SBX_POOL && !killed) {
				int fd = openat(sns->cgfd, slash + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (fd >= 0 && cg_drain(fd, &killed) && !killed) {
					sns->pool[sns->npool++] = n;
					pooled = true;
				}
				if (fd >= 0)
					close(fd);
			}
			pthread_mutex_unlock(&sns->lock);
		}
		pthread_mutex_unlock(&registry_lock);
		*slash = '/';
	}
	if (!pooled) {
		*slash = '\0';
		int pfd = open(call->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
		if (pfd >= 0) {
			sbx_cg_remove(pfd, slash + 1);
			close(pfd);
		}
	}
	call->cgroup[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Opening and closing a namespace                                     */

static bool name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 100 || n[0] == '.')
		return false;
	for (const char *p = n; *p; p++)
		if (*p == '/' || *p == '\n' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

static int write_limits(struct sandbox_ns *sns, const struct sandbox_caps *caps)
{
	char v[64];
	int err = 0;
	const struct sandbox_limits *l = &sns->lim;
	if (caps->ctl_memory) {
		if (l->memory_max)
			snprintf(v, sizeof v, "%llu", (unsigned long long)l->memory_max);
		else
			snprintf(v, sizeof v, "max");
		err = sbx_write_at(sns->cgfd, "memory.max", v);
		if (err)
			return err;
		/* Without this a hog swaps instead of meeting memory.max. */
		sbx_write_at(sns->cgfd, "memory.swap.max", l->memory_max ? "0" : "max");
	}
	if (caps->ctl_pids) {
		if (l->pids_max)
			snprintf(v, sizeof v, "%llu", (unsigned long long)l->pids_max);
		else
			snprintf(v, sizeof v, "max");
		err = sbx_write_at(sns->cgfd, "pids.max", v);
		if (err)
			return err;
	}
	if (caps->ctl_cpu) {
		unsigned period = l->cpu_period_us ? l->cpu_period_us : 100000;
		if (l->cpu_quota_us)
			snprintf(v, sizeof v, "%u %u", l->cpu_quota_us, period);
		else
			snprintf(v, sizeof v, "max %u", period);
		err = sbx_write_at(sns->cgfd, "cpu.max", v);
	}
	return err;
}

int sandbox_ns_set_limits(struct sandbox_ns *sns, const struct sandbox_caps *caps,
			  const struct sandbox_limits *lim)
{
	struct sandbox_limits old;
	int err;

	if (!sns || !caps || !lim)
		return -EINVAL;
	old = sns->lim;
	sns->lim.memory_max = lim->memory_max;
	sns->lim.pids_max = lim->pids_max;
	sns->lim.cpu_quota_us = lim->cpu_quota_us;
	sns->lim.cpu_period_us = lim->cpu_period_us;
	if (sns->cgfd < 0)
		return 0;	/* no cgroup: nothing enforces them (the status says so) */
	err = write_limits(sns, caps);
	if (err) {
		sns->lim = old;
		write_limits(sns, caps);
	}
	return err;
}

void sbx_ns_cgroup_name(const char *ns_dir, const char *ns_name, char *buf, size_t len)
{
	/* 64-bit FNV-1a of the path, folded to 32 bits (high ^ low) */
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)ns_dir; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(buf, len, "woof-%.100s-%08x", ns_name, (unsigned)(uint32_t)(h ^ (h >> 32)));
}

const char *sandbox_ns_cgroup(const struct sandbox_ns *sns)
{
	return sns && sns->cgfd >= 0 ? sns->cgpath : "";
}

const char *sandbox_ns_woof_device(const struct sandbox_ns *sns)
{
	return sns && sns->woofdev[0] ? sns->woofdev : NULL;
}

static int open_ns_cgroup(struct sandbox_ns *sns, const struct sandbox_caps *caps)
{
	int rootfd = open(caps->cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	char name[140];
	sbx_ns_cgroup_name(sns->dir, sns->name, name, sizeof name);
	if (mkdirat(rootfd, name, 0755) < 0 && errno != EEXIST) {
		int err = -errno;
		close(rootfd);
		return err;
	}
	sns->cgfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(rootfd);
	if (sns->cgfd < 0)
		return -errno;
	snprintf(sns->cgpath, sizeof sns->cgpath, "%s/%s", caps->cgroup_root, name);

	/* Left over by an earlier run (killed daemon): remove. */
	int dfd = dup(sns->cgfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d) {
		struct dirent *e;
		char stale[64][40];
		int ns = 0;
		while ((e = readdir(d)) && ns < 64)
			if (strncmp(e->d_name, "call-", 5) == 0 && e->d_type == DT_DIR)
				snprintf(stale[ns++], sizeof stale[0], "%.39s", e->d_name);
		closedir(d);
		for (int i = 0; i < ns; i++)
			sbx_cg_remove(sns->cgfd, stale[i]);
	} else if (dfd >= 0) {
		close(dfd);
	}

	/* Before any call: only the sandbox's devices (and the namespace's
	 * woof.ko device) can be opened in the namespace's cgroups. */
	if (caps->dev_filter && !sbx_test_no_dev_filter) {
		struct sbx_devnum woofdev = { 0, 0 };
		if (sbx_dev_woof_lookup(sns->dir, &woofdev) <= 0)
			woofdev.major = 0;
		int e = sbx_dev_attach(sns->cgfd, &woofdev, 1);
		if (e) {
			snprintf(sns->why, sizeof sns->why,
				 "attach the device filter to the namespace's cgroup: %s", strerror(-e));
			return e;
		}
	}

	/* Per-call accounting: give the call cgroups the same controllers. */
	static const char *const c[] = { "+memory", "+pids", "+cpu" };
	bool on[] = { caps->ctl_memory, caps->ctl_pids, caps->ctl_cpu };
	for (int i = 0; i < 3; i++)
		if (on[i])
			sbx_write_at(sns->cgfd, "cgroup.subtree_control", c[i]);
	sns->cg_into = caps->clone_into_cgroup;
	return write_limits(sns, caps);
}

static void default_ids(struct sandbox_ns *sns, const struct sandbox_limits *lim)
{
	sns->uid = 65534;
	sns->gid = 65534;
	if (lim && lim->uid) {
		sns->uid = lim->uid;
		struct passwd *pw = getpwuid(lim->uid);
		if (pw && pw->pw_gid)
			sns->gid = pw->pw_gid;
	} else {
		struct passwd *pw = getpwnam("nobody");
		if (pw)
			sns->uid = pw->pw_uid;
		struct group *gr = getgrnam("nogroup");
		if (!gr)
			gr = getgrnam("nobody");
		if (gr)
			sns->gid = gr->gr_gid;
	}
	if (lim && lim->gid)
		sns->gid = lim->gid;
}

static uint64_t holder_nsflags(const struct sandbox_caps *caps, const struct sandbox_limits *lim)
{
	uint64_t f = 0;
	if (caps->mountns && (sbx_test_ns_mask & SBX_NS_MOUNT))
		f |= CLONE_NEWNS;
	if (caps->pidns && (sbx_test_ns_mask & SBX_NS_PID))
		f |= CLONE_NEWPID;
	if (caps->ipcns && (sbx_test_ns_mask & SBX_NS_IPC))
		f |= CLONE_NEWIPC;
	if (caps->utsns && (sbx_test_ns_mask & SBX_NS_UTS))
		f |= CLONE_NEWUTS;
	if (lim && lim->network && caps->netns)
		f |= CLONE_NEWNET;
	if (f && !caps->root)
		f |= CLONE_NEWUSER;
	return f;
}

void sandbox_ns_close(struct sandbox_ns *sns)
{
	if (!sns)
		return;
	registry_del(sns);
	if (sns->holder_pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, sns->holder_pidfd, SIGKILL, NULL, 0);
		reap_pidfd(sns->holder_pidfd);
		close(sns->holder_pidfd);
	}
	if (sns->self_pidns >= 0)
		close(sns->self_pidns);
	if (sns->cgfd >= 0) {
		char name[40];
		for (int i = 0; i < sns->npool; i++) {
			snprintf(name, sizeof name, "call-%lu", sns->pool[i]);
			sbx_cg_remove(sns->cgfd, name);
		}
		close(sns->cgfd);
		char *slash = strrchr(sns->cgpath, '/');
		if (slash) {
			*slash = '\0';
			int pfd = open(sns->cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			*slash = '/';
			if (pfd >= 0) {
				/* Calls still running were killed with the holder;
				 * their cgroups go if empty (the caller releases them). */
				unlinkat(pfd, slash + 1, AT_REMOVEDIR);
				close(pfd);
			}
		}
	}
	if (sns->stacks)
		munmap(sns->stacks, sns->stacks_len);
	if (sns->x)
		munmap(sns->x, (size_t)sysconf(_SC_PAGESIZE));
	pthread_mutex_destroy(&sns->lock);
	free(sns);
}

static int ns_open_why(const struct sandbox_caps *caps, const char *ns_dir, const char *ns_name,
		       const struct sandbox_limits *lim, struct sandbox_ns **out, char *why, size_t wlen)
{
	if (!caps || !ns_dir || !ns_name || !out || !name_ok(ns_name))
		return -EINVAL;
	*out = NULL;
	struct sandbox_ns *sns = calloc(1, sizeof *sns);
	if (!sns)
		return -ENOMEM;
	pthread_mutex_init(&sns->lock, NULL);
	sns->cgfd = -1;
	sns->holder_pidfd = -1;
	sns->self_pidns = -1;
	int err = 0;

	if (!realpath(ns_dir, sns->dir)) {
		err = -errno;
		goto fail;
	}
	struct stat st;
	if (stat(sns->dir, &st) < 0 || !S_ISDIR(st.st_mode) || strcmp(sns->dir, "/") == 0) {
		err = -ENOTDIR;
		goto fail;
	}
	/* Reached through a symlink: handlers see it under that name too. */
	if (ns_dir[0] == '/') {
		char given[PATH_MAX];
		size_t gl = strlen(ns_dir);
		if (gl < sizeof given) {
			memcpy(given, ns_dir, gl + 1);
			while (gl > 1 && given[gl - 1] == '/')
				given[--gl] = '\0';
			if (strcmp(given, sns->dir) != 0 && !strstr(given, "/./") && !strstr(given, "/../"))
				memcpy(sns->alias, given, gl + 1);
		}
	}
	/* Served by woof.ko: handlers get its device node (the kernel engine). */
	if (sbx_woof_dev_path(sns->dir, sns->woofdev, sizeof sns->woofdev) <= 0)
		sns->woofdev[0] = '\0';
	snprintf(sns->name, sizeof sns->name, "%s", ns_name);
	if (lim)
		sns->lim = *lim;
	sns->switch_user = caps->root;
	default_ids(sns, lim);
	sns->tmp_size = 64u << 20;
	if (sns->lim.memory_max && sns->lim.memory_max < sns->tmp_size)
		sns->tmp_size = (size_t)sns->lim.memory_max;

	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	sns->stacks_len = 3 * (SBX_STACK + pg);
	sns->stacks = mmap(NULL, sns->stacks_len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (sns->stacks == MAP_FAILED) {
		sns->stacks = NULL;
		err = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < 3; i++)
		mprotect(stack_lo(sns, i) - pg, pg, PROT_NONE);
	sns->x = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sns->x == MAP_FAILED) {
		sns->x = NULL;
		err = -ENOMEM;
		goto fail;
	}

	if (caps->cgroup2 && caps->cgroup_root[0] && !sbx_test_no_cgroup) {
		err = open_ns_cgroup(sns, caps);
		if (err)
			goto fail;
	}

	uint64_t f = holder_nsflags(caps, lim);
	sns->mode = !f ? SBX_PLAIN : caps->root ? SBX_ROOTNS : SBX_USERNS;
	sns->two_stage = sns->mode == SBX_USERNS || (sns->mode == SBX_ROOTNS && sbx_test_two_stage);
	if (sns->mode != SBX_PLAIN) {
		if (sns->mode == SBX_ROOTNS) {
			sns->self_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
			if (sns->self_pidns < 0) {
				err = -errno;
				goto fail;
			}
		}
		err = start_holder(sns, f);
		if (err)
			goto fail;
	}
	registry_add(sns);
	*out = sns;
	return 0;
fail:
	if (why && wlen)
		snprintf(why, wlen, "%s", sns->why[0] ? sns->why : strerror(-err));
	sandbox_ns_close(sns);
	return err;
}

int sandbox_ns_open(const struct sandbox_caps *caps, const char *ns_dir, const char *ns_name,
		    const struct sandbox_limits *lim, struct sandbox_ns **out)
{
	return ns_open_why(caps, ns_dir, ns_name, lim, out, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Probe                                                               */

static bool have_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

static long read_long(const char *path, long dflt)
{
	char buf[32];
	if (sbx_read_at(AT_FDCWD, path, buf, sizeof buf) <= 0)
		return dflt;
	return strtol(buf, NULL, 10);
}

static const struct {
	int flag;
	const char *name;
} ns_types[] = {
	{ CLONE_NEWNS, "mount" },
	{ CLONE_NEWPID, "PID" },
	{ CLONE_NEWIPC, "IPC" },
	{ CLONE_NEWUTS, "UTS" },
	{ CLONE_NEWNET, "network" },
};

/*
 * In a child: (optionally enter a new user namespace and) try each
 * namespace type; exit status bit i = type i works, bit 6 = userns ok.
 * errno of the first failure of each type goes through a pipe.
 */
static int try_namespaces(bool via_userns, bool as_nobody, int errs[6])
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(p[0]);
		close(p[1]);
		return e;
	}
	if (pid == 0) {
		int e[6] = { 0 };
		int mask = 0;
		if (as_nobody) {
			if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, 65534, 65534, 65534) < 0 ||
			    syscall(SYS_setresuid, 65534, 65534, 65534) < 0)
				_exit(0);
		}
		if (via_userns) {
			uid_t u = geteuid();
			gid_t g = getegid();
			if (unshare(CLONE_NEWUSER) < 0) {
				e[5] = errno;
				if (write(p[1], e, sizeof e) < 0)
					_exit(0);
				_exit(0);
			}
			mask |= 1 << 6;
			char b[64];
			snprintf(b, sizeof b, "%u %u 1\n", (unsigned)u, (unsigned)u);
			write_str("/proc/self/uid_map", b);
			write_str("/proc/self/setgroups", "deny\n");
			snprintf(b, sizeof b, "%u %u 1\n", (unsigned)g, (unsigned)g);
			write_str("/proc/self/gid_map", b);
		}
		if (!as_nobody) {
			for (int i = 0; i < 5; i++) {
				if (unshare(ns_types[i].flag) == 0)
					mask |= 1 << i;
				else
					e[i] = errno;
			}
		}
		if (write(p[1], e, sizeof e) < 0)
			_exit(mask);
		_exit(mask);
	}
	close(p[1]);
	memset(errs, 0, 6 * sizeof(int));
	if (read(p[0], errs, 6 * sizeof(int)) < 0)
		memset(errs, 0, 6 * sizeof(int));
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 0;
}

static void why_userns_off(struct sandbox_caps *caps, char *why, size_t len, int err)
{
	long max = read_long("/proc/sys/user/max_user_namespaces", -1);
	long clone = read_long("/proc/sys/kernel/unprivileged_userns_clone", -1);
	long aa = read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", -1);
	(void)caps;
	if (max == 0)
		snprintf(why, len, "/proc/sys/user/max_user_namespaces is 0");
	else if (clone == 0)
		snprintf(why, len, "/proc/sys/kernel/unprivileged_userns_clone is 0");
	else if (aa == 1)
		snprintf(why, len, "AppArmor restricts unprivileged user namespaces "
				   "(kernel.apparmor_restrict_unprivileged_userns = 1)");
	else
		snprintf(why, len, "unshare(CLONE_NEWUSER) failed: %s", strerror(err ? err : EPERM));
}

int sandbox_probe(struct sandbox_caps *caps)
{
	if (!caps)
		return -EINVAL;
	memset(caps, 0, sizeof *caps);
	uid_t uid = geteuid();
	caps->root = uid == 0 || have_cap_sys_admin();
	if (!caps->root)
		sbx_why(caps, "unprivileged user: off - not root (uid %u, no CAP_SYS_ADMIN): handlers run as "
			      "uid %u, the daemon's own user", (unsigned)uid, (unsigned)uid);

	sbx_probe_cgroups(caps);
	if (!caps->dev_filter && !caps->dev_filter_why[0])
		sbx_dev_probe(caps, -1);	/* no cgroup to attach it to */

	int errs[6];
	char why[200];
	if (caps->root) {
		int m = try_namespaces(false, false, errs);
		if (m < 0)
			m = 0;
		caps->mountns = m & 1;
		caps->pidns = m & 2;
		caps->ipcns = m & 4;
		caps->utsns = m & 8;
		caps->netns = m & 16;
		for (int i = 0; i < 5; i++)
			if (!(m & (1 << i)))
				sbx_why(caps, "%s namespace: unshare(CLONE_NEW%s) failed (%s): handlers share "
					      "the daemon's %s namespace", ns_types[i].name,
					i == 0 ? "NS" : i == 1 ? "PID" : i == 2 ? "IPC" : i == 3 ? "UTS" : "NET",
					strerror(errs[i] ? errs[i] : EPERM), ns_types[i].name);
		int u = try_namespaces(true, true, errs);
		caps->userns = u > 0 && (u & (1 << 6));
	} else {
		int m = try_namespaces(true, false, errs);
		if (m < 0)
			m = 0;
		caps->userns = m & (1 << 6);
		if (!caps->userns) {
			why_userns_off(caps, why, sizeof why, errs[5]);
			sbx_why(caps, "namespaces: off - not root and no unprivileged user namespaces (%s): "
				      "handlers share the daemon's mount, PID, IPC and UTS namespaces and see "
				      "its whole file system", why);
		} else {
			caps->mountns = m & 1;
			caps->pidns = m & 2;
			caps->ipcns = m & 4;
			caps->utsns = m & 8;
			caps->netns = m & 16;
			for (int i = 0; i < 5; i++)
				if (!(m & (1 << i)))
					sbx_why(caps, "%s namespace: cannot be created in an unprivileged user "
						      "namespace (%s): handlers share the daemon's %s namespace",
						ns_types[i].name, strerror(errs[i] ? errs[i] : EPERM),
						ns_types[i].name);
		}
	}

	/* Try the whole namespace set up once: a host may allow unshare but
	 * refuse a mount or pivot_root the handler's root needs. */
	if (caps->mountns || caps->pidns || caps->ipcns || caps->utsns) {
		char tmpl[] = "/tmp/.woof-sandbox-probe-XXXXXX";
		if (mkdtemp(tmpl)) {
			struct sandbox_caps trial = *caps;
			trial.cgroup2 = false;
			trial.cgroup_root[0] = '\0';
			struct sandbox_ns *sns = NULL;
			char twhy[200] = "";
			int e = ns_open_why(&trial, tmpl, "probe", NULL, &sns, twhy, sizeof twhy);
			if (e) {
				sbx_why(caps, "namespaces: setting up a namespace failed (%s): handlers run in "
					      "the daemon's namespaces and see its whole file system", twhy);
				caps->mountns = caps->pidns = caps->ipcns = caps->utsns = caps->netns = false;
			}
			sandbox_ns_close(sns);
			rmdir(tmpl);
		}
	}
	if (!caps->root && caps->userns)
		sbx_why(caps, "namespaces: not root, so mount/PID/IPC/UTS namespaces come from an "
			      "unprivileged user namespace; the handlers' uid is the daemon's uid %u",
			(unsigned)uid);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Describe                                                            */

int sandbox_describe(const struct sandbox_caps *caps, char *buf, size_t len)
{
	if (!caps || !buf || !len)
		return -EINVAL;
	size_t off = 0;
	int trunc = 0;
#define P(...) do { \
		int n_ = snprintf(buf + off, len - off, __VA_ARGS__); \
		if (n_ < 0 || (size_t)n_ >= len - off) { off = len - 1; trunc = 1; } \
		else off += (size_t)n_; \
	} while (0)
	P("sandbox: %s\n", caps->root ? "root (handlers run as an unprivileged user)"
				       : "not root (handlers run as the daemon's user)");
	if (caps->cgroup2)
		P("cgroups: v2 at %s; memory.max %s, pids.max %s, cpu.max %s; cgroup.kill %s; "
		  "clone3 into cgroup %s\n",
		  caps->cgroup_root, caps->ctl_memory ? "on" : "OFF", caps->ctl_pids ? "on" : "OFF",
		  caps->ctl_cpu ? "on" : "OFF", caps->cgroup_kill ? "yes" : "no",
		  caps->clone_into_cgroup ? "yes" : "no");
	else
		P("cgroups: OFF (no call cgroups, no limits)\n");
	P("namespaces: mount %s, PID %s, IPC %s, UTS %s, network %s%s\n",
	  caps->mountns ? "on" : "OFF", caps->pidns ? "on" : "OFF", caps->ipcns ? "on" : "OFF",
	  caps->utsns ? "on" : "OFF", caps->netns ? "available" : "unavailable",
	  !caps->root && caps->userns ? " (through a user namespace)" : "");
	if (caps->dev_filter)
		P("device filter: on\n");
	else
		P("device filter: off (%s)\n", caps->dev_filter_why[0] ? caps->dev_filter_why : "not probed");
	P("no_new_privs: on\n");
	if (caps->why_not[0]) {
		P("not enforced:\n");
		const char *p = caps->why_not;
		while (*p) {
			const char *e = strchr(p, '\n');
			size_t l = e ? (size_t)(e - p) : strlen(p);
			P("  - %.*s\n", (int)l, p);
			p += l;
			if (*p == '\n')
				p++;
		}
	}
#undef P
	return trunc ? -ENOSPC : 0;
}
