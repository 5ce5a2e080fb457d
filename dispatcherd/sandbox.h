/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - where and how dispatcherd starts handler processes.
 *
 * Per namespace: one cgroup (v2) with memory.max, pids.max and cpu.max
 * and, as root, a BPF device filter (sandbox-devices.c: only the devices
 * of the handlers' /dev and the namespace's own woof.ko device can be
 * opened); per call: a child cgroup of it, so a call is killed whole
 * (cgroup.kill) and accounted on its own. A handler process starts with clone3()
 * straight into its call cgroup (CLONE_INTO_CGROUP), in new mount, PID, IPC
 * and UTS namespaces (network optional), as an unprivileged user, with
 * no_new_privs, seeing the namespace directory as its only writable place
 * and no other namespace's WOOFs.
 *
 * What the host cannot do is detected once (sandbox_probe) and reported,
 * item by item, instead of failing: a host whose cgroup v2 has no
 * controllers runs handlers without those limits; run as non-root, the
 * parts that need root are off. Nothing here logs: results come back as
 * values and sandbox_describe() turns them into text.
 *
 * How (details in sandbox.c): the namespaces belong to the WOOF namespace,
 * not to the call. sandbox_ns_open() starts a tiny "holder" process, PID 1
 * of the namespace's PID namespace, which builds the handlers' file system
 * once; every call of that namespace joins the holder's PID, mount, IPC,
 * UTS (and network) namespaces with setns(), so a call pays no mount or
 * namespace creation. Calls of one WOOF namespace can therefore see each
 * other's processes and /tmp; different WOOF namespaces see nothing of
 * each other. The handler is a direct child of the caller (pidfd, exact
 * exit status). Without root but with unprivileged user namespaces, the
 * same runs inside a user namespace of the daemon's uid.
 *
 * The handler's file system: / is a read-only tmpfs holding read-only
 * binds of the host's /usr /bin /sbin /lib* /etc, a /dev with null zero
 * full random urandom tty, its own /proc, a private size-limited /tmp
 * (shared by the namespace's calls), and the namespace directory at its
 * own path, read-write (nosuid, nodev) - the only host directory it can
 * write. Operator's duties: make the namespace directory writable for the
 * handlers' uid/gid, and keep namespace directories out of /usr, /etc,
 * /bin, /sbin and /lib* (those are visible to every handler).
 *
 * Rules for the caller: reap handlers through call->pidfd (waitid P_PIDFD),
 * never with wait()/waitpid(-1) (sandbox_spawn reaps a helper process of
 * its own); call sandbox_ns_open() and sandbox_spawn() from a thread that
 * lives as long as the namespace and its calls (holder and handlers get
 * PR_SET_PDEATHSIG=SIGKILL, which fires when the creating *thread* exits:
 * so they die with the daemon, even from SIGKILL).
 */
#ifndef WOOF_DISPATCHERD_SANDBOX_H
#define WOOF_DISPATCHERD_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What this host and this process can enforce (probed once at start). */
struct sandbox_caps {
	bool root;		/* effective uid 0 (or CAP_SYS_ADMIN) */
	bool cgroup2;		/* a cgroup v2 hierarchy we may create cgroups in */
	char cgroup_root[256];	/* our delegated cgroup directory, "" if none */
	bool ctl_memory;	/* memory.max can be set */
	bool ctl_pids;		/* pids.max */
	bool ctl_cpu;		/* cpu.max */
	bool cgroup_kill;	/* cgroup.kill exists */
	bool clone_into_cgroup;	/* clone3(CLONE_INTO_CGROUP) works */
	bool userns;		/* unprivileged user namespaces */
	bool dev_filter;	/* a BPF cgroup-device program can be attached */
	char dev_filter_why[200];	/* why not ("" if it can) */
	bool mountns, pidns, ipcns, utsns, netns;
	char why_not[2048];	/* one line per thing that is not enforced, and why */
};

/*
 * Fill @caps (0, or -EINVAL). Side effects, as a delegated cgroup needs
 * them: in the root cgroup (no systemd) it creates <cgroup2>/woof as
 * cgroup_root and may enable controllers in the root's subtree_control;
 * in a delegated cgroup with processes it moves the calling process into
 * <cgroup>/supervisor before enabling memory/pids/cpu there (the
 * no-internal-processes rule). Takes a few ms (it tries every namespace
 * type and builds one handler file system in a temporary directory).
 */
int sandbox_probe(struct sandbox_caps *caps);

/* Limits for one namespace; 0 = no limit. */
struct sandbox_limits {
	uint64_t memory_max;	/* bytes */
	uint64_t pids_max;
	uint32_t cpu_quota_us;	/* cpu.max: quota per period */
	uint32_t cpu_period_us;
	bool network;		/* give handlers a network namespace of their own (only
				 * loopback, up); created once per namespace, ~0.6 ms */
	uid_t uid;		/* run handlers as this user (root only); 0 = nobody */
	gid_t gid;		/* 0 = uid's primary group, else nogroup */
};

struct sandbox_ns;	/* one namespace's cgroup and mount plan */

/*
 * Open the sandbox of one WOOF namespace: its cgroup <cgroup_root>/woof-
 * <ns_name>-<hash> (hash: 8 hex digits of the 64-bit FNV-1a hash of the
 * canonical @ns_dir, folded high ^ low, so two directories with one
 * basename never share a cgroup) with the limits written (where the
 * controllers exist; stale call cgroups of an earlier run are removed),
 * the device filter attached (caps->dev_filter) and its holder
 * (namespaces and file system, ~1 ms; +~0.5 ms with lim->network).
 * @ns_name: 1-100 characters, no '/', not starting with '.'; it is also
 * the handlers' hostname. @ns_dir: an existing directory other than "/".
 * @lim may be NULL (no limits). Returns 0 or -errno.
 */
int sandbox_ns_open(const struct sandbox_caps *caps, const char *ns_dir,
		    const char *ns_name, const struct sandbox_limits *lim,
		    struct sandbox_ns **out);
/*
 * New cgroup limits for an open namespace (a reload): memory_max, pids_max
 * and the cpu quota and period of @lim are written to its cgroup at once,
 * so they bind the calls running and to come; network, uid and gid are
 * fixed when the namespace is opened. 0, or -errno when the cgroup refused
 * them (the previous limits are written back).
 */
int sandbox_ns_set_limits(struct sandbox_ns *sns, const struct sandbox_caps *caps,
			  const struct sandbox_limits *lim);
/* The namespace's cgroup directory, "" if it has none. */
const char *sandbox_ns_cgroup(const struct sandbox_ns *sns);
/* The namespace's device node /dev/woof/<ns>, which handlers see at that
 * path, when woof.ko served the directory at sandbox_ns_open(); else NULL.
 * Handlers get it as $WOOF_NS_DEVICE (libwoof's kernel engine). */
const char *sandbox_ns_woof_device(const struct sandbox_ns *sns);
/* Kill the holder (and with it every call still running in the
 * namespace) and remove the namespace's idle cgroups. */
void sandbox_ns_close(struct sandbox_ns *sns);

/* One handler process to start. */
struct sandbox_spawn {
	const char *path;	/* the program (exec runtime) or NULL with fn;
				 * a path as the handler sees it */
	char *const *argv;	/* NULL: { path, NULL } */
	char *const *envp;	/* NULL: { "PATH=/usr/local/bin:/usr/bin:/bin", NULL } */
	int (*fn)(void *arg);	/* instead of path: run fn(arg) in the child (zygote/warm);
				 * its return value is the exit status (_exit, no atexit).
				 * The child is a raw clone of the caller, not fork():
				 * if other threads may hold libc locks (malloc, stdio)
				 * use only async-signal-safe calls, and glibc's cached
				 * thread id is stale (no raise()/pthread_kill on itself) */
	void *arg;
	int stdin_fd, stdout_fd, stderr_fd;	/* become 0, 1, 2 in the child; -1: /dev/null */
	const int *keep_fds;	/* become 3, 4, ... in the child (at most 64) */
	int nkeep;
};

/* A started call: its process and its call cgroup. */
struct sandbox_call {
	pid_t pid;
	int pidfd;		/* poll it for exit; the caller closes it */
	char cgroup[512];	/* the call's cgroup directory, "" if none */
	bool killed;		/* sandbox_kill() wrote its cgroup.kill: not reused */
};

/*
 * Start @sp in a call cgroup of @sns of its own (no other running call is
 * in it). Returns 0 or -errno. For a program, it returns once the exec has
 * happened, so a missing or unrunnable program is -ENOENT/-EACCES/...
 * here, and call->pid/pidfd are the handler itself: its exit status is the
 * handler's own. Setup failures of the fn path show as exit status 127.
 * The handler starts with default signal dispositions and an empty signal
 * mask, in a new session, as the namespace's uid/gid (root only: lim->uid
 * or nobody/nogroup, no supplementary groups), with no capabilities and
 * no_new_privs, in the namespace directory, and with only the fds of @sp.
 * Call cgroups are recycled (joining a cgroup that never had a process
 * costs 0.2-1.5 ms here, a used one ~15 us): cumulative counters in it
 * (cpu.stat, memory.events, pids.events) cover earlier calls too - take a
 * reading at start if you need a call's own share. If the namespace's
 * holder has died, a new one is started first (its calls were killed).
 */
int sandbox_spawn(struct sandbox_ns *sns, const struct sandbox_spawn *sp,
		  struct sandbox_call *call);
/* Kill every process of the call: cgroup.kill of its call cgroup (also
 * what left the process group), else SIGKILL to the handler's process
 * group. Call it before the handler is reaped. 0, or -ESRCH. */
int sandbox_kill(struct sandbox_call *call);
/* After the call's process was reaped: kill whatever of the call is still
 * running and hand its cgroup back (to the namespace's pool, or rmdir);
 * clears call->cgroup. Does not close call->pidfd. */
void sandbox_release(struct sandbox_call *call);

/* Human-readable lines describing caps (for logs and woofctl status):
 * 0, or -ENOSPC if @buf was too small (the text is cut). */
int sandbox_describe(const struct sandbox_caps *caps, char *buf, size_t len);

#endif
