/* SPDX-License-Identifier: MIT */
/*
 * test-sandbox.c - tests of dispatcherd's handler sandbox (sandbox.c),
 * linked against its sources directly, with real processes.
 *
 * Each test runs in a forked process with a time limit and prints TAP;
 * the last line is "# N passed, N failed, N skipped". A test that needs
 * what this host or user cannot give (root, a cgroup controller, a
 * namespace type) is skipped with the reason; if every test skipped the
 * exit status is 77. Tests check from both sides: what the handler sees
 * (printed by a shell script or a function run in the sandbox) and what
 * the host sees afterwards (files that must not exist, processes that must
 * be gone, cgroup files).
 *
 *   test-sandbox            run the tests
 *   test-sandbox -v         also print each handler's output
 *   test-sandbox NAME...    run only these tests
 *   test-sandbox --bench [N]  measure sandbox_spawn (call -> execve) and
 *                           call -> handler main() in several set-ups
 */
#include "sandbox-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/woof.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static struct sandbox_caps caps;
static int verbose;
static char base[512], nsA[PATH_MAX], nsB[PATH_MAX];
static char nameA[64], nameB[64];
static char host_escape[64];	/* a host /tmp path handlers try to write */
static char v2mnt[256];

/* ---- reporting from inside a test process ---- */

static int msg_fd = -1;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0 && msg_fd >= 0) {
		if (write(msg_fd, buf, strlen(buf)) < 0)
			return;
	}
}

#define SKIP(...) do { say(__VA_ARGS__); _exit(77); } while (0)
#define CHECK(cond, ...) do { if (!(cond)) { \
		say("line %d: %s: ", __LINE__, #cond); say(__VA_ARGS__); _exit(1); } } while (0)

/* ---- helpers ---- */

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static struct sandbox_ns *open_ns(const char *dir, const char *name, const struct sandbox_limits *lim)
{
	struct sandbox_ns *sns = NULL;
	struct sandbox_limits none = { 0 };
	int e = sandbox_ns_open(&caps, dir, name, lim ? lim : &none, &sns);
	CHECK(e == 0, "sandbox_ns_open(%s): %s\n", dir, strerror(-e));
	return sns;
}

struct run {
	int err;		/* sandbox_spawn result */
	siginfo_t si;		/* how it ended */
	char out[16384];
	struct sandbox_call call;
	char cgroup[512];	/* the call's cgroup, kept after release */
};

/* Wait for a call's pidfd with a limit; 0 or -ETIMEDOUT. */
static int wait_call(struct sandbox_call *c, siginfo_t *si, int ms)
{
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	memset(si, 0, sizeof *si);
	if (syscall(SYS_waitid, P_PIDFD, c->pidfd, si, WEXITED, NULL) < 0)
		return -errno;
	return 0;
}

/* Run argv (or fn) in @sns; collect stdout+stderr until EOF and the exit. */
static void run_in(struct sandbox_ns *sns, char *const argv[], int (*fn)(void *), void *arg,
		   const int *keep, int nkeep, struct run *r)
{
	int p[2];
	memset(r, 0, sizeof *r);
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe\n");
	struct sandbox_spawn sp = {
		.path = argv ? argv[0] : NULL,
		.argv = argv,
		.fn = fn,
		.arg = arg,
		.stdin_fd = -1,
		.stdout_fd = p[1],
		.stderr_fd = p[1],
		.keep_fds = keep,
		.nkeep = nkeep,
	};
	r->err = sandbox_spawn(sns, &sp, &r->call);
	close(p[1]);
	if (r->err) {
		close(p[0]);
		return;
	}
	snprintf(r->cgroup, sizeof r->cgroup, "%s", r->call.cgroup);
	size_t got = 0;
	double end = now_us() + 15e6;
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int ms = (int)((end - now_us()) / 1000);
		if (ms <= 0 || poll(&pf, 1, ms) != 1)
			break;
		ssize_t n = read(p[0], r->out + got, sizeof r->out - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got >= sizeof r->out - 1)
			break;
	}
	r->out[got] = '\0';
	close(p[0]);
	if (wait_call(&r->call, &r->si, 10000) < 0) {
		sandbox_kill(&r->call);
		wait_call(&r->call, &r->si, 5000);
	}
	sandbox_release(&r->call);
	close(r->call.pidfd);
	if (verbose)
		fprintf(stderr, "---- output ----\n%s---- end (code %d status %d) ----\n", r->out,
			r->si.si_code, r->si.si_status);
}

static void run_sh(struct sandbox_ns *sns, const char *script, struct run *r)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	run_in(sns, argv, NULL, NULL, NULL, 0, r);
}

static bool exited_ok(const struct run *r)
{
	return r->si.si_code == CLD_EXITED && r->si.si_status == 0;
}

/* Value of "key" lines like "key=value" in a handler's output. */
static const char *field(const char *out, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = out; p && *p;) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t l = strcspn(v, "\n");
			snprintf(buf, len, "%.*s", (int)(l < len ? l : len - 1), v);
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	buf[0] = '\0';
	return NULL;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static bool why_has(const char *s)
{
	return strstr(caps.why_not, s) != NULL;
}

/* The why_not line mentioning @key (or all of why_not). */
static const char *why_line(const char *key)
{
	static char line[400];
	const char *p = strstr(caps.why_not, key);
	if (!p)
		return caps.why_not;
	while (p > caps.why_not && p[-1] != '\n')
		p--;
	size_t l = strcspn(p, "\n");
	snprintf(line, sizeof line, "%.*s", (int)(l < sizeof line ? l : sizeof line - 1), p);
	return line;
}

static void need_root(void)
{
	if (!caps.root)
		SKIP("needs root (handlers switch users and namespaces need CAP_SYS_ADMIN)");
}

static void need_cgroup(void)
{
	if (!caps.cgroup2)
		SKIP("no usable cgroup v2 on this host/user: %s", why_line("cgroups:"));
}

static void need_ns(bool have, const char *what)
{
	if (!have)
		SKIP("%s namespace not available here: %s", what, why_line("namespace"));
}

static int call_pids(const struct sandbox_call *c, long *pids, int max);

/* ---- the tests ---- */

static void t_probe_describe(void)
{
	char buf[4096];
	CHECK(sandbox_describe(&caps, buf, sizeof buf) == 0, "describe failed\n");
	CHECK(strstr(buf, "sandbox:") && strstr(buf, "cgroups:") && strstr(buf, "namespaces:"),
	      "describe output lacks lines:\n%s\n", buf);
	/* every missing piece has a line in why_not */
	if (!caps.ctl_memory)
		CHECK(why_has("memory.max not enforced") || !caps.cgroup2, "no memory line\n");
	if (!caps.ctl_pids)
		CHECK(why_has("pids.max not enforced") || !caps.cgroup2, "no pids line\n");
	if (!caps.root)
		CHECK(why_has("not root"), "non-root not reported\n");
	/* the device filter's state, with the reason when it is off */
	if (caps.dev_filter) {
		CHECK(strstr(buf, "\ndevice filter: on\n"), "no 'device filter: on' line:\n%s\n", buf);
	} else {
		char want[300];
		snprintf(want, sizeof want, "\ndevice filter: off (%s)\n", caps.dev_filter_why);
		CHECK(caps.dev_filter_why[0] && strstr(buf, want), "no '%s' line:\n%s\n", want + 1, buf);
		CHECK(why_has("device filter: off - "), "device filter not in why_not\n");
	}
	char small[16];
	CHECK(sandbox_describe(&caps, small, sizeof small) == -ENOSPC, "truncation not reported\n");
	if (verbose)
		fprintf(stderr, "%s", buf);
}

/* Compare the probe with the hierarchy's own cgroup.controllers. */
static void t_probe_controllers(void)
{
	CHECK(v2mnt[0], "the test found no cgroup2 mount in /proc/self/mountinfo\n");
	char path[300], ctl[256] = "";
	snprintf(path, sizeof path, "%s/cgroup.controllers", v2mnt);
	CHECK(sbx_read_at(AT_FDCWD, path, ctl, sizeof ctl) >= 0, "cannot read %s\n", path);
	const char *names[] = { "memory", "pids", "cpu" };
	bool got[] = { caps.ctl_memory, caps.ctl_pids, caps.ctl_cpu };
	for (int i = 0; i < 3; i++) {
		bool has = sbx_word_in(ctl, names[i]);
		if (!has) {
			char line[64];
			snprintf(line, sizeof line, "%s.max not enforced", names[i]);
			CHECK(!got[i], "probe claims %s but %s has \"%s\"\n", names[i], path, ctl);
			CHECK(why_has(line), "no '%s' line in why_not:\n%s\n", line, caps.why_not);
			CHECK(why_has(v2mnt), "why_not does not name %s\n", v2mnt);
		} else if (caps.root && caps.cgroup2) {
			CHECK(got[i], "%s is in %s but the probe did not enable it:\n%s\n", names[i], path,
			      caps.why_not);
		}
	}
	if (caps.cgroup2)
		CHECK(strncmp(caps.cgroup_root, v2mnt, strlen(v2mnt)) == 0,
		      "cgroup_root %s not under %s\n", caps.cgroup_root, v2mnt);
}

static void t_exec_status(void)
{
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	struct run r;
	run_sh(sns, "exit 3", &r);
	CHECK(r.err == 0, "spawn: %s\n", strerror(-r.err));
	CHECK(r.si.si_code == CLD_EXITED && r.si.si_status == 3, "code %d status %d\n", r.si.si_code,
	      r.si.si_status);
	run_sh(sns, "kill -SEGV $$", &r);
	CHECK(r.err == 0, "spawn: %s\n", strerror(-r.err));
	CHECK((r.si.si_code == CLD_KILLED || r.si.si_code == CLD_DUMPED) && r.si.si_status == SIGSEGV,
	      "segfault not reported as such: code %d status %d\n", r.si.si_code, r.si.si_status);
	/* exec failure comes back synchronously, leaving no cgroup behind */
	char *argv[] = { "/nonexistent/handler", NULL };
	run_in(sns, argv, NULL, NULL, NULL, 0, &r);
	CHECK(r.err == -ENOENT, "missing program gave %d\n", r.err);
	CHECK(r.call.cgroup[0] == '\0', "failed call left cgroup %s\n", r.call.cgroup);
	sandbox_ns_close(sns);
}

/* A call cgroup after sandbox_release: removed, or idle (no processes)
 * waiting in its namespace's pool for the next call. */
static bool cg_gone_or_idle(const char *cg)
{
	char path[700], ev[256];
	snprintf(path, sizeof path, "%s/cgroup.events", cg);
	if (!exists(cg))
		return true;
	return sbx_read_at(AT_FDCWD, path, ev, sizeof ev) > 0 && strstr(ev, "populated 0");
}

static void t_call_cgroup(void)
{
	need_cgroup();
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	struct run r;
	run_sh(sns, "cat /proc/self/cgroup", &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	CHECK(r.cgroup[0], "no call cgroup\n");
	const char *rel = r.cgroup + strlen(v2mnt);
	char want[600];
	snprintf(want, sizeof want, "0::%s\n", rel);
	CHECK(strstr(r.out, want), "handler is not in its call cgroup: want %s got %s\n", want, r.out);
	CHECK(strstr(rel, "/call-"), "cgroup %s not a call cgroup\n", rel);
	CHECK(cg_gone_or_idle(r.cgroup), "release left processes in %s\n", r.cgroup);

	/* Two calls at the same time: two cgroups, each holding only its own. */
	int in[2][2], out[2][2];
	struct sandbox_call c[2];
	for (int i = 0; i < 2; i++) {
		CHECK(pipe2(in[i], O_CLOEXEC) == 0 && pipe2(out[i], O_CLOEXEC) == 0, "pipe\n");
		char *argv[] = { "/bin/sh", "-c", "echo up; read x", NULL };
		struct sandbox_spawn sp = { .path = "/bin/sh", .argv = argv, .stdin_fd = in[i][0],
					    .stdout_fd = out[i][1], .stderr_fd = -1 };
		int e = sandbox_spawn(sns, &sp, &c[i]);
		CHECK(e == 0, "spawn: %s\n", strerror(-e));
		close(in[i][0]);
		close(out[i][1]);
		char b[8];
		struct pollfd pf = { .fd = out[i][0], .events = POLLIN };
		CHECK(poll(&pf, 1, 10000) == 1 && read(out[i][0], b, sizeof b) > 0, "no 'up'\n");
	}
	CHECK(strcmp(c[0].cgroup, c[1].cgroup) != 0, "concurrent calls share %s\n", c[0].cgroup);
	for (int i = 0; i < 2; i++) {
		long pids[8];
		int n = call_pids(&c[i], pids, 8);
		CHECK(n == 1 && pids[0] == c[i].pid, "cgroup %s holds %d processes (first %ld), want only %d\n",
		      c[i].cgroup, n, n ? pids[0] : 0L, (int)c[i].pid);
	}
	for (int i = 0; i < 2; i++) {
		CHECK(write(in[i][1], "x\n", 2) == 2, "write\n");
		siginfo_t si;
		CHECK(wait_call(&c[i], &si, 5000) == 0, "call did not end\n");
		char cg[512];
		snprintf(cg, sizeof cg, "%s", c[i].cgroup);
		sandbox_release(&c[i]);
		CHECK(c[i].cgroup[0] == '\0', "release kept the path\n");
		CHECK(cg_gone_or_idle(cg), "release left processes in %s\n", cg);
		close(c[i].pidfd);
		close(in[i][1]);
		close(out[i][0]);
	}
	/* a released (idle) cgroup is used again */
	struct run r2;
	run_sh(sns, "cat /proc/self/cgroup", &r2);
	CHECK(r2.err == 0 && exited_ok(&r2), "spawn %d\n", r2.err);
	CHECK(strstr(r2.out, "/call-"), "third call not in a call cgroup: %s\n", r2.out);
	char cgdir[600];
	snprintf(cgdir, sizeof cgdir, "%s", sandbox_ns_cgroup(sns));
	CHECK(cgdir[0] && exists(cgdir), "no namespace cgroup '%s'\n", cgdir);
	sandbox_ns_close(sns);
	CHECK(!exists(cgdir), "sandbox_ns_close left %s\n", cgdir);
}

static void t_namespaces(void)
{
	need_ns(caps.pidns, "PID");
	need_ns(caps.utsns, "UTS");
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	struct run r;
	run_sh(sns, "echo pid=$$; echo pidns=$(readlink /proc/self/ns/pid); "
		    "echo ipcns=$(readlink /proc/self/ns/ipc); echo mntns=$(readlink /proc/self/ns/mnt); "
		    "echo host=$(cat /proc/sys/kernel/hostname); echo one=$(cat /proc/1/status | head -1)",
	       &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	char v[256], mine[256];
	long pid = atol(field(r.out, "pid", v, sizeof v) ? v : "0");
	CHECK(pid >= 2 && pid < 1000 && pid != r.call.pid,
	      "handler pid %ld (host pid %d): not in a fresh PID namespace\n", pid, (int)r.call.pid);
	ssize_t n = readlink("/proc/self/ns/pid", mine, sizeof mine - 1);
	mine[n > 0 ? n : 0] = '\0';
	CHECK(field(r.out, "pidns", v, sizeof v) && strcmp(v, mine) != 0, "same PID ns %s\n", v);
	n = readlink("/proc/self/ns/ipc", mine, sizeof mine - 1);
	mine[n > 0 ? n : 0] = '\0';
	if (caps.ipcns)
		CHECK(field(r.out, "ipcns", v, sizeof v) && strcmp(v, mine) != 0, "same IPC ns %s\n", v);
	n = readlink("/proc/self/ns/mnt", mine, sizeof mine - 1);
	mine[n > 0 ? n : 0] = '\0';
	if (caps.mountns)
		CHECK(field(r.out, "mntns", v, sizeof v) && strcmp(v, mine) != 0, "same mount ns %s\n", v);
	CHECK(field(r.out, "host", v, sizeof v) && strcmp(v, nameA) == 0, "hostname '%s', want '%s'\n", v,
	      nameA);
	sandbox_ns_close(sns);
}

static void t_privileges(void)
{
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	/* a daemon that ignores SIGPIPE and blocks SIGTERM/SIGUSR1 (signalfd) */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigset_t blk;
	sigemptyset(&blk);
	sigaddset(&blk, SIGTERM);
	sigaddset(&blk, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blk, NULL);
	struct run r;
	char *argv[] = { "/bin/grep", "-E", "^(NoNewPrivs|Uid|Gid|Groups|CapEff|CapPrm|SigBlk|SigIgn):",
			 "/proc/self/status", NULL };
	run_in(sns, argv, NULL, NULL, NULL, 0, &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	CHECK(strstr(r.out, "SigBlk:\t0000000000000000"), "daemon's blocked signals leaked:\n%s\n", r.out);
	CHECK(strstr(r.out, "SigIgn:\t0000000000000000"), "daemon's ignored signals leaked:\n%s\n", r.out);
	CHECK(strstr(r.out, "NoNewPrivs:\t1"), "no_new_privs not set:\n%s\n", r.out);
	CHECK(strstr(r.out, "CapEff:\t0000000000000000"), "handler has capabilities:\n%s\n", r.out);
	CHECK(strstr(r.out, "CapPrm:\t0000000000000000"), "handler has permitted caps:\n%s\n", r.out);
	if (caps.root) {
		CHECK(strstr(r.out, "Uid:\t65534\t65534\t65534\t65534"), "not nobody:\n%s\n", r.out);
		CHECK(strstr(r.out, "Gid:\t65534\t65534\t65534\t65534"), "not nogroup:\n%s\n", r.out);
		const char *g = strstr(r.out, "Groups:");
		CHECK(g && strspn(g + 7, " \t") == strcspn(g + 7, "\n"), "groups kept:\n%s\n", r.out);
	}
	sandbox_ns_close(sns);
}

static void t_fs_confined(void)
{
	need_ns(caps.mountns, "mount");
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	char script[8 * PATH_MAX];
	const char *hosttmp = host_escape;
	unlink(hosttmp);
	snprintf(script, sizeof script,
		 "t() { if ( : > \"$1\" ) 2>/dev/null; then echo \"wrote=$1\"; else echo \"denied=$1\"; fi; }\n"
		 "t /etc/woof-escape; t /woof-escape; t /usr/woof-escape; t /bin/woof-escape\n"
		 "t %s/woof-escape; t %s/x; t %s/woof-escape; t /proc/woof-escape\n"
		 "t %s\n" /* /tmp: a fresh tmpfs, so this may work but must stay inside */
		 "mkdir -p %s 2>/dev/null; t %s/after-mkdir\n"
		 "t %s/inside\n"
		 "echo ls=$(ls / | tr '\\n' ' ')\n",
		 base, nsB, "/dev", hosttmp, nsB, nsB, nsA);
	struct run r;
	run_sh(sns, script, &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	const char *must_deny[] = { "/etc/woof-escape", "/woof-escape", "/usr/woof-escape",
				    "/bin/woof-escape", "/dev/woof-escape", "/proc/woof-escape" };
	char key[PATH_MAX + 40];
	for (size_t i = 0; i < sizeof must_deny / sizeof must_deny[0]; i++) {
		snprintf(key, sizeof key, "denied=%s\n", must_deny[i]);
		CHECK(strstr(r.out, key), "could write %s:\n%s\n", must_deny[i], r.out);
		CHECK(!exists(must_deny[i]), "%s appeared on the host\n", must_deny[i]);
	}
	/* Beside the namespace dir: under /tmp that path lies in the
	 * sandbox's private /tmp tmpfs (in user-namespace mode its parents are
	 * owned by the handler's own uid), so only the host side counts there. */
	snprintf(key, sizeof key, "denied=%s/woof-escape\n", base);
	if (strncmp(base, "/tmp/", 5) != 0)
		CHECK(strstr(r.out, key), "could write beside the namespace dir:\n%s\n", r.out);
	snprintf(key, sizeof key, "%s/woof-escape", base);
	CHECK(!exists(key), "%s appeared on the host\n", key);
	snprintf(key, sizeof key, "denied=%s/x\n", nsB);
	CHECK(strstr(r.out, key), "could write into the other namespace:\n%s\n", r.out);
	snprintf(key, sizeof key, "%s/x", nsB);
	CHECK(!exists(key), "%s appeared in the other namespace on the host\n", key);
	snprintf(key, sizeof key, "%s/after-mkdir", nsB);
	CHECK(!exists(key), "%s appeared in the other namespace on the host\n", key);
	CHECK(!exists(hosttmp), "%s (sandbox /tmp) reached the host's /tmp\n", hosttmp);
	snprintf(key, sizeof key, "wrote=%s/inside\n", nsA);
	CHECK(strstr(r.out, key), "cannot write inside the namespace dir:\n%s\n", r.out);
	snprintf(key, sizeof key, "%s/inside", nsA);
	CHECK(exists(key), "write inside the namespace dir did not reach the host\n");
	unlink(key);
	char v[1024];
	CHECK(field(r.out, "ls", v, sizeof v), "no ls line\n");
	CHECK(!strstr(v, "home") && !strstr(v, "var ") && !strstr(v, "root") && !strstr(v, "sys ") &&
	      !strstr(v, "run "), "the handler's / shows host directories: %s\n", v);
	sandbox_ns_close(sns);
}

struct peek_arg {
	char path[PATH_MAX + 16];
};

/* fn-runtime handler: try to read another namespace's WOOF */
static int peek_fn(void *arg)
{
	struct peek_arg *a = arg;
	int fd = open(a->path, O_RDONLY);
	if (fd >= 0) {
		char b[64];
		ssize_t n = read(fd, b, sizeof b);
		printf("read=%zd\n", n);
		fflush(stdout);
		return 0;
	}
	printf("errno=%d\n", errno);
	fflush(stdout);
	return 10;
}

static void t_other_ns_unreadable(void)
{
	need_ns(caps.mountns, "mount");
	struct sandbox_ns *a = open_ns(nsA, nameA, NULL);
	struct sandbox_ns *b = open_ns(nsB, nameB, NULL);	/* both open at once */
	char script[PATH_MAX * 2 + 200];
	snprintf(script, sizeof script,
		 "if cat %s/secret.woof; then echo LEAK; fi; echo ls=$(ls -a %s | tr '\\n' ' ')", nsB, base);
	struct run r;
	run_sh(a, script, &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	CHECK(!strstr(r.out, "LEAK") && !strstr(r.out, "top-secret"), "read the other namespace:\n%s\n",
	      r.out);
	char v[1024];
	CHECK(field(r.out, "ls", v, sizeof v) && strstr(v, "nsA") && !strstr(v, "nsB"),
	      "the other namespace's directory is visible (ls: %s):\n%s\n", v, r.out);
	/* the same through the fn runtime */
	struct peek_arg pa;
	snprintf(pa.path, sizeof pa.path, "%s/secret.woof", nsB);
	run_in(a, NULL, peek_fn, &pa, NULL, 0, &r);
	CHECK(r.err == 0, "spawn fn: %s\n", strerror(-r.err));
	CHECK(r.si.si_code == CLD_EXITED && r.si.si_status == 10 && strstr(r.out, "errno="),
	      "fn read the other namespace's WOOF: %s (code %d status %d)\n", r.out, r.si.si_code,
	      r.si.si_status);
	/* and namespace B itself can read it */
	snprintf(script, sizeof script, "cat %s/secret.woof", nsB);
	run_sh(b, script, &r);
	CHECK(exited_ok(&r) && strstr(r.out, "top-secret"), "B cannot read its own WOOF: %s\n", r.out);
	sandbox_ns_close(a);
	sandbox_ns_close(b);
}

/* A namespace directory given through a symlink is reachable under both
 * names inside (handler paths and $HOME are usually built from the name
 * the daemon was given). */
static void t_symlinked_ns_dir(void)
{
	need_ns(caps.mountns, "mount");
	char link[PATH_MAX + 16];
	snprintf(link, sizeof link, "%s/link-to-nsA", base);
	unlink(link);
	CHECK(symlink(nsA, link) == 0, "symlink\n");
	struct sandbox_ns *sns = open_ns(link, nameA, NULL);
	char script[4 * PATH_MAX];
	snprintf(script, sizeof script, "echo pwd=$(pwd -P); cat %s/via-link && echo both-ok; "
		 "echo x > %s/written-via-link", link, link);
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "%s/via-link", nsA);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "hello\n", 6) == 6, "write\n");
	close(fd);
	struct run r;
	run_sh(sns, script, &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	CHECK(strstr(r.out, "both-ok"), "namespace dir not reachable under its given name: %s\n", r.out);
	char v[PATH_MAX];
	CHECK(field(r.out, "pwd", v, sizeof v) && strcmp(v, nsA) == 0, "cwd %s, want %s\n", v, nsA);
	snprintf(p, sizeof p, "%s/written-via-link", nsA);
	CHECK(exists(p), "write through the given name did not reach the host\n");
	unlink(p);
	snprintf(p, sizeof p, "%s/via-link", nsA);
	unlink(p);
	unlink(link);
	sandbox_ns_close(sns);
}

static void t_fds(void)
{
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe\n");
	int stray = open("/dev/null", O_RDONLY);	/* not CLOEXEC: must still not leak */
	CHECK(stray >= 0, "open\n");
	int keep[1] = { p[1] };
	char *argv[] = { "/bin/sh", "-c", "echo via-keep >&3; ls /proc/self/fd | tr '\\n' ' '", NULL };
	struct run r;
	run_in(sns, argv, NULL, NULL, keep, 1, &r);
	close(p[1]);
	close(stray);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	char buf[64] = "";
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	CHECK(strcmp(buf, "via-keep\n") == 0, "keep fd 3 did not reach the pipe: '%s'\n", buf);
	/* ls shows 0 1 2 3 and its own directory fd */
	int count = 0;
	for (char *t = strtok(r.out, " \n"); t; t = strtok(NULL, " \n")) {
		int fd = atoi(t);
		CHECK(fd <= 4, "unexpected fd %d in the handler\n", fd);
		count++;
	}
	CHECK(count == 5, "expected fds 0-3 and ls's own, got %d\n", count);
	sandbox_ns_close(sns);
}

static int fn_answer(void *arg)
{
	(void)arg;
	printf("fn-pid=%d\n", (int)getpid());
	fflush(stdout);
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 42 : 1;
}

static void t_fn_runtime(void)
{
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	struct run r;
	run_in(sns, NULL, fn_answer, NULL, NULL, 0, &r);
	CHECK(r.err == 0, "spawn: %s\n", strerror(-r.err));
	CHECK(r.si.si_code == CLD_EXITED && r.si.si_status == 42, "fn: code %d status %d out %s\n",
	      r.si.si_code, r.si.si_status, r.out);
	CHECK(strstr(r.out, "fn-pid="), "no output from fn\n");
	sandbox_ns_close(sns);
}

/* Host pids of a call: its cgroup's members, else its process group. */
static int call_pids(const struct sandbox_call *c, long *pids, int max)
{
	int n = 0;
	if (c->cgroup[0]) {
		char buf[4096];
		int fd = open(c->cgroup, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return 0;
		if (sbx_read_at(fd, "cgroup.procs", buf, sizeof buf) > 0)
			for (char *t = strtok(buf, "\n"); t && n < max; t = strtok(NULL, "\n"))
				pids[n++] = atol(t);
		close(fd);
		return n;
	}
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d)) && n < max) {
		long pid = atol(e->d_name);
		if (pid <= 0)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		if (sbx_read_at(AT_FDCWD, path, buf, sizeof buf) <= 0)
			continue;
		char *rp = strrchr(buf, ')');
		char st;
		long ppid, pgrp;
		if (rp && sscanf(rp + 2, "%c %ld %ld", &st, &ppid, &pgrp) == 3 && pgrp == c->pid && st != 'Z')
			pids[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

static bool alive(long pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (sbx_read_at(AT_FDCWD, path, buf, sizeof buf) <= 0)
		return false;
	char *rp = strrchr(buf, ')');
	return rp && rp[2] != 'Z' && rp[2] != 'X';
}

static void t_kill_tree(void)
{
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe\n");
	/* children, a double-forked orphan, and (with a cgroup) one that left
	 * the process group, which says "left" once it has; "ready" once all
	 * were forked */
	bool setsid_too = caps.cgroup2 && !sbx_test_no_cgroup;
	const char *script = setsid_too
		? "sleep 300 & sleep 300 & (sleep 300 &) ; "
		  "setsid sh -c 'echo left; exec sleep 300' & echo ready; wait"
		: "sleep 300 & sleep 300 & (sleep 300 &) ; echo ready; wait";
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	struct sandbox_spawn sp = { .path = "/bin/sh", .argv = argv, .stdin_fd = -1,
				    .stdout_fd = p[1], .stderr_fd = -1 };
	struct sandbox_call c;
	int e = sandbox_spawn(sns, &sp, &c);
	close(p[1]);
	CHECK(e == 0, "spawn: %s\n", strerror(-e));
	char buf[64] = "";
	size_t got = 0;
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	while (!strstr(buf, "ready") || (setsid_too && !strstr(buf, "left"))) {
		ssize_t r = 0;

		CHECK(got < sizeof buf - 1 && poll(&pf, 1, 10000) == 1 &&
		      (r = read(p[0], buf + got, sizeof buf - 1 - got)) > 0,
		      "handler never got ready (it said \"%s\")\n", buf);
		got += (size_t)r;
		buf[got] = '\0';
	}
	long pids[64];
	int n = call_pids(&c, pids, 64);
	int want = caps.cgroup2 && !sbx_test_no_cgroup ? 5 : 4;
	CHECK(n >= want, "found %d processes of the call, expected >= %d\n", n, want);
	CHECK(sandbox_kill(&c) == 0, "sandbox_kill failed\n");
	siginfo_t si;
	CHECK(wait_call(&c, &si, 5000) == 0, "handler survived sandbox_kill\n");
	CHECK(si.si_code == CLD_KILLED && si.si_status == SIGKILL, "code %d status %d\n", si.si_code,
	      si.si_status);
	int left = 0;
	for (int tries = 0; tries < 200; tries++) {
		left = 0;
		for (int i = 0; i < n; i++)
			left += alive(pids[i]);
		if (!left)
			break;
		usleep(10000);
	}
	CHECK(left == 0, "%d of %d processes of the killed call still alive\n", left, n);
	char cg[512];
	snprintf(cg, sizeof cg, "%s", c.cgroup);
	sandbox_release(&c);
	if (cg[0])
		CHECK(cg_gone_or_idle(cg), "cgroup %s still has processes\n", cg);
	close(c.pidfd);
	close(p[0]);
	sandbox_ns_close(sns);
}

/* The host pid of PID 1 of @pid's PID namespace (the namespace holder). */
static long ns_init_of(long pid)
{
	char path[64], want[128], got[128];
	snprintf(path, sizeof path, "/proc/%ld/ns/pid", pid);
	ssize_t n = readlink(path, want, sizeof want - 1);
	if (n <= 0)
		return -1;
	want[n] = '\0';
	DIR *d = opendir("/proc");
	struct dirent *e;
	long found = -1;
	while (d && (e = readdir(d)) && found < 0) {
		long p = atol(e->d_name);
		if (p <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/ns/pid", p);
		n = readlink(path, got, sizeof got - 1);
		if (n <= 0)
			continue;
		got[n] = '\0';
		if (strcmp(got, want) != 0)
			continue;
		char st[2048];
		snprintf(path, sizeof path, "/proc/%ld/status", p);
		if (sbx_read_at(AT_FDCWD, path, st, sizeof st) <= 0)
			continue;
		char *ns = strstr(st, "NSpid:");
		if (!ns)
			continue;
		char *eol = strchr(ns, '\n');
		if (eol)
			*eol = '\0';
		char *last = strrchr(ns, '\t');
		if (last && atol(last + 1) == 1)
			found = p;
	}
	if (d)
		closedir(d);
	return found;
}

/* A namespace whose holder was killed gets a new one on the next call. */
static void t_holder_revived(void)
{
	need_ns(caps.pidns, "PID");
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	int in[2], out[2];
	CHECK(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "pipe\n");
	char *argv[] = { "/bin/sh", "-c", "echo up; read x", NULL };
	struct sandbox_spawn sp = { .path = "/bin/sh", .argv = argv, .stdin_fd = in[0],
				    .stdout_fd = out[1], .stderr_fd = -1 };
	struct sandbox_call c;
	int e = sandbox_spawn(sns, &sp, &c);
	CHECK(e == 0, "spawn: %s\n", strerror(-e));
	close(in[0]);
	close(out[1]);
	char b[8];
	struct pollfd pf = { .fd = out[0], .events = POLLIN };
	CHECK(poll(&pf, 1, 10000) == 1 && read(out[0], b, sizeof b) > 0, "no 'up'\n");
	long holder = ns_init_of(c.pid);
	CHECK(holder > 0 && holder != c.pid, "no holder found for %d\n", (int)c.pid);
	CHECK(kill((pid_t)holder, SIGKILL) == 0, "kill holder\n");
	siginfo_t si;
	/* its PID namespace goes, and the running call with it */
	CHECK(wait_call(&c, &si, 5000) == 0 && si.si_code == CLD_KILLED, "call survived its holder\n");
	sandbox_release(&c);
	close(c.pidfd);
	close(in[1]);
	close(out[0]);
	struct run r;
	run_sh(sns, "echo pid=$$", &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn after the holder died: %s\n", strerror(-r.err));
	char v[32];
	CHECK(field(r.out, "pid", v, sizeof v) && atol(v) >= 2 && atol(v) < 100, "pid %s\n", v);
	sandbox_ns_close(sns);
}

static void t_fork_bomb(void)
{
	need_cgroup();
	if (!caps.ctl_pids)
		SKIP("%s", why_line("pids.max"));
	struct sandbox_limits lim = { .pids_max = 16 };
	struct sandbox_ns *sns = open_ns(nsA, nameA, &lim);
	char cgmax[600];
	snprintf(cgmax, sizeof cgmax, "%s", sandbox_ns_cgroup(sns));
	int fd = open(cgmax, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0, "no namespace cgroup %s\n", cgmax);
	char v[64];
	CHECK(sbx_read_at(fd, "pids.max", v, sizeof v) > 0 && atol(v) == 16, "pids.max is %s\n", v);
	/* 64 background sleepers would need 65 pids; 16 is the limit */
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe\n");
	char *argv[] = { "/bin/sh", "-c",
			 "i=0; while [ $i -lt 64 ]; do sleep 30 & i=$((i+1)); done; echo started=$i", NULL };
	struct sandbox_spawn sp = { .path = "/bin/sh", .argv = argv, .stdin_fd = -1,
				    .stdout_fd = p[1], .stderr_fd = p[1] };
	struct sandbox_call c;
	int e = sandbox_spawn(sns, &sp, &c);
	close(p[1]);
	CHECK(e == 0, "spawn: %s\n", strerror(-e));
	char out[4096] = "";
	size_t got = 0;
	struct pollfd pf = { .fd = p[0], .events = POLLIN };
	while (got < sizeof out - 1 && poll(&pf, 1, 10000) == 1) {
		ssize_t n = read(p[0], out + got, sizeof out - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (strstr(out, "started=") || strstr(out, "fork"))
			break;
	}
	out[got] = '\0';
	/* The limit holds: never more than 16 processes in the namespace. */
	char cur[32] = "";
	sbx_read_at(fd, "pids.current", cur, sizeof cur);
	CHECK(atol(cur) <= 16, "pids.current %s above pids.max 16\n", cur);
	/* The refused fork is counted where it happened (6.1: in the call
	 * cgroup; newer kernels also count it up the tree). */
	long maxev = 0;
	const char *where[2] = { cgmax, c.cgroup };
	for (int i = 0; i < 2; i++) {
		char path[700], ev[256] = "";
		snprintf(path, sizeof path, "%s/pids.events", where[i]);
		sbx_read_at(AT_FDCWD, path, ev, sizeof ev);
		char *m = strstr(ev, "max ");
		if (m)
			maxev += atol(m + 4);
	}
	CHECK(!strstr(out, "started=64"), "all 64 sleepers started under pids.max=16: %s\n", out);
	CHECK(maxev > 0, "pids.events shows no refused fork (out: %s)\n", out);
	sandbox_kill(&c);
	siginfo_t si;
	wait_call(&c, &si, 5000);
	sandbox_release(&c);
	close(c.pidfd);
	close(p[0]);
	close(fd);
	sandbox_ns_close(sns);
}

static int hog_fn(void *arg)
{
	size_t total = (size_t)(uintptr_t)arg;
	for (size_t got = 0; got < total; got += 1 << 20) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 2;
		memset(p, 1, 1 << 20);
	}
	return 0;	/* survived: memory.max not enforced */
}

static void t_memory_hog(void)
{
	need_cgroup();
	if (!caps.ctl_memory)
		SKIP("%s", why_line("memory.max"));
	struct sandbox_limits lim = { .memory_max = 32u << 20 };
	struct sandbox_ns *sns = open_ns(nsA, nameA, &lim);
	struct run r;
	run_in(sns, NULL, hog_fn, (void *)(uintptr_t)(512u << 20), NULL, 0, &r);
	CHECK(r.err == 0, "spawn: %s\n", strerror(-r.err));
	CHECK(r.si.si_code == CLD_KILLED && r.si.si_status == SIGKILL,
	      "a 512 MiB hog under memory.max=32M ended with code %d status %d\n", r.si.si_code,
	      r.si.si_status);
	char cg[600], ev[512] = "";
	snprintf(cg, sizeof cg, "%s", sandbox_ns_cgroup(sns));
	int fd = open(cg, O_RDONLY | O_DIRECTORY);
	sbx_read_at(fd, "memory.events", ev, sizeof ev);
	close(fd);
	char *k = strstr(ev, "oom_kill ");
	CHECK(k && atol(k + 9) > 0, "memory.events shows no oom_kill: %s\n", ev);
	sandbox_ns_close(sns);
}

static void t_no_new_privs_blocks_setuid(void)
{
	need_root();
	/* A setuid-root copy of id in the namespace dir: with no_new_privs
	 * (and nosuid on the mount) it must not run as root. */
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/suid-id", nsA);
	int in = open("/usr/bin/id", O_RDONLY), out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	CHECK(in >= 0 && out >= 0, "copy id\n");
	char b[65536];
	ssize_t n;
	while ((n = read(in, b, sizeof b)) > 0)
		CHECK(write(out, b, (size_t)n) == n, "write\n");
	close(in);
	close(out);
	CHECK(chmod(path, 04755) == 0, "chmod\n");
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	char *argv[] = { path, "-u", NULL };
	struct run r;
	run_in(sns, argv, NULL, NULL, NULL, 0, &r);
	unlink(path);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d out %s\n", r.err, r.out);
	CHECK(atol(r.out) == 65534, "setuid binary ran as uid %s", r.out);
	sandbox_ns_close(sns);
}

/* ---- benchmark ---- */

static char stamp_prog[PATH_MAX];

static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n ? v[n / 2] : 0;
}


/* One spawn of the stamp handler: call -> sandbox_spawn returned (the
 * exec has happened) and call -> the handler's main() (it writes its
 * CLOCK_MONOTONIC to fd 3). */
static int bench_spawn(struct sandbox_ns *sns, double *spawn, double *first)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	int keep[1] = { p[1] };
	char *argv[] = { stamp_prog, NULL };
	struct sandbox_spawn sp = { .path = stamp_prog, .argv = argv, .stdin_fd = -1,
				    .stdout_fd = -1, .stderr_fd = -1, .keep_fds = keep, .nkeep = 1 };
	struct sandbox_call c;
	double t0 = now_us();
	int e = sandbox_spawn(sns, &sp, &c);
	double t1 = now_us();
	close(p[1]);
	if (e) {
		close(p[0]);
		return e;
	}
	double t2 = 0;
	if (read(p[0], &t2, sizeof t2) != sizeof t2)
		t2 = 0;
	close(p[0]);
	siginfo_t si;
	wait_call(&c, &si, 5000);
	sandbox_release(&c);
	close(c.pidfd);
	*spawn = t1 - t0;
	*first = t2 ? t2 - t0 : 0;
	return 0;
}

static double floor_spawn(void)
{
	int p[2];
	if (pipe(p))
		return 0;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 3);
	char *argv[] = { stamp_prog, NULL };
	pid_t pid;
	double t0 = now_us();
	int e = posix_spawn(&pid, stamp_prog, &fa, NULL, argv, environ);
	close(p[1]);
	double t2 = 0;
	if (!e && read(p[0], &t2, sizeof t2) != sizeof t2)
		t2 = 0;
	close(p[0]);
	if (!e)
		waitpid(pid, NULL, 0);
	posix_spawn_file_actions_destroy(&fa);
	return t2 ? t2 - t0 : 0;
}

#define BENCH_MAXN 2000
#define BENCH_CFG 10

static double pct(double *v, int n, int p)
{
	median(v, n);	/* sorts */
	return n ? v[(n - 1) * p / 100] : 0;
}

/* All set-ups open at once and spawned round-robin, so that the machine's
 * noise hits them alike; medians and p90 per set-up. */
static int bench(int N)
{
	if (!stamp_prog[0]) {
		fprintf(stderr, "no sandbox-stamp helper next to the test program\n");
		return 1;
	}
	if (N > BENCH_MAXN)
		N = BENCH_MAXN;
	/* the handler must be visible inside the sandbox: the namespace dir is */
	char inside[PATH_MAX];
	if (snprintf(inside, sizeof inside, "%.4000s/sandbox-stamp", nsA) >= (int)sizeof inside)
		return 1;
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", stamp_prog, inside);
	if (system(cmd) != 0)
		return 1;
	snprintf(stamp_prog, sizeof stamp_prog, "%s", inside);

	struct {
		const char *label;
		unsigned mask;
		bool cgroup, net, two;
		struct sandbox_ns *sns;
		double open_us;
	} cfg[BENCH_CFG] = {
		{ "plain: no namespaces, no cgroup", 0, false, false, false, NULL, 0 },
		{ "plain + call cgroup", 0, true, false, false, NULL, 0 },
		{ "mount ns only + cgroup", SBX_NS_MOUNT, true, false, false, NULL, 0 },
		{ "PID ns only + cgroup", SBX_NS_PID, true, false, false, NULL, 0 },
		{ "IPC ns only + cgroup", SBX_NS_IPC, true, false, false, NULL, 0 },
		{ "UTS ns only + cgroup", SBX_NS_UTS, true, false, false, NULL, 0 },
		{ "mount+PID+IPC+UTS, no cgroup", SBX_NS_ALL, false, false, false, NULL, 0 },
		{ "mount+PID+IPC+UTS + cgroup (default)", SBX_NS_ALL, true, false, false, NULL, 0 },
		{ "default + net ns", SBX_NS_ALL, true, true, false, NULL, 0 },
		{ "default, two-stage start (user-ns path)", SBX_NS_ALL, true, false, true, NULL, 0 },
	};
	for (int i = 0; i < BENCH_CFG; i++) {
		if ((cfg[i].cgroup && !caps.cgroup2) || (cfg[i].two && !caps.root) ||
		    (cfg[i].net && !caps.netns) || (cfg[i].mask && !caps.mountns && !caps.pidns))
			continue;
		sbx_test_ns_mask = cfg[i].mask;
		sbx_test_no_cgroup = !cfg[i].cgroup;
		sbx_test_two_stage = cfg[i].two;
		struct sandbox_limits lim = { .network = cfg[i].net };
		char name[80];
		snprintf(name, sizeof name, "%s-b%d", nameA, i);
		double t0 = now_us();
		int e = sandbox_ns_open(&caps, nsA, name, &lim, &cfg[i].sns);
		cfg[i].open_us = now_us() - t0;
		if (e)
			printf("# %-42s sandbox_ns_open failed: %s\n", cfg[i].label, strerror(-e));
	}
	sbx_test_ns_mask = SBX_NS_ALL;
	sbx_test_no_cgroup = false;
	sbx_test_two_stage = false;

	static double sp[BENCH_CFG + 1][BENCH_MAXN], fi[BENCH_CFG + 1][BENCH_MAXN];
	int k[BENCH_CFG + 1] = { 0 };
	for (int n = 0; n < N; n++) {
		double f = floor_spawn();
		if (f > 0)
			fi[BENCH_CFG][k[BENCH_CFG]++] = f;
		for (int i = 0; i < BENCH_CFG; i++) {
			if (!cfg[i].sns)
				continue;
			double a = 0, b = 0;
			if (bench_spawn(cfg[i].sns, &a, &b) == 0) {
				sp[i][k[i]] = a;
				fi[i][k[i]] = b;
				k[i]++;
			}
		}
	}
	printf("# sandbox_spawn, %d rounds interleaved; handler: a dynamic no-op writing its start time\n", N);
	printf("# %-42s %9s %18s %18s\n", "set-up", "ns_open", "call->exec med/p90", "call->main med/p90");
	int fl = k[BENCH_CFG];
	printf("# %-42s %9s %18s %8.0f/%-8.0f us\n", "floor: posix_spawn, no sandbox", "-", "-",
	       pct(fi[BENCH_CFG], fl, 50), pct(fi[BENCH_CFG], fl, 90));
	for (int i = 0; i < BENCH_CFG; i++) {
		if (!cfg[i].sns)
			continue;
		printf("# %-42s %6.0f us %8.0f/%-8.0f %8.0f/%-8.0f us\n", cfg[i].label, cfg[i].open_us,
		       pct(sp[i], k[i], 50), pct(sp[i], k[i], 90), pct(fi[i], k[i], 50), pct(fi[i], k[i], 90));
		sandbox_ns_close(cfg[i].sns);
	}
	unlink(inside);
	return 0;
}

/* ---- namespace cgroups are per directory ---- */

/* Two namespace directories with one basename, open at once: two
 * cgroups, and killing a call of one leaves the other's call running. */
static void t_ns_cgroup_names(void)
{
	need_cgroup();
	char dx[PATH_MAX], dy[PATH_MAX], p[PATH_MAX];
	snprintf(p, sizeof p, "%s/x", base);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/y", base);
	mkdir(p, 0755);
	snprintf(dx, sizeof dx, "%s/x/%s", base, nameA);
	snprintf(dy, sizeof dy, "%s/y/%s", base, nameA);
	CHECK(mkdir(dx, 0777) == 0 || errno == EEXIST, "mkdir %s\n", dx);
	CHECK(mkdir(dy, 0777) == 0 || errno == EEXIST, "mkdir %s\n", dy);
	chmod(dx, 0777);
	chmod(dy, 0777);
	struct sandbox_ns *sx = open_ns(dx, nameA, NULL);
	struct sandbox_ns *sy = open_ns(dy, nameA, NULL);
	char cx[600], cy[600], pre[600];
	snprintf(cx, sizeof cx, "%s", sandbox_ns_cgroup(sx));
	snprintf(cy, sizeof cy, "%s", sandbox_ns_cgroup(sy));
	CHECK(cx[0] && cy[0], "no namespace cgroups: '%s' '%s'\n", cx, cy);
	CHECK(strcmp(cx, cy) != 0, "two namespace directories share the cgroup %s\n", cx);
	/* <cgroup_root>/woof-<name>-<8 hex digits> */
	snprintf(pre, sizeof pre, "%s/woof-%s-", caps.cgroup_root, nameA);
	const char *cs[] = { cx, cy };
	for (int i = 0; i < 2; i++) {
		CHECK(strncmp(cs[i], pre, strlen(pre)) == 0, "%s does not start with %s\n", cs[i], pre);
		const char *h = cs[i] + strlen(pre);
		CHECK(strlen(h) == 8 && strspn(h, "0123456789abcdef") == 8, "hash part '%s'\n", h);
		CHECK(exists(cs[i]), "%s missing\n", cs[i]);
	}
	/* a long-running call in each; kill the one in x */
	int in[2][2], out[2][2];
	struct sandbox_call c[2];
	struct sandbox_ns *sn[2] = { sx, sy };
	for (int i = 0; i < 2; i++) {
		CHECK(pipe2(in[i], O_CLOEXEC) == 0 && pipe2(out[i], O_CLOEXEC) == 0, "pipe\n");
		char *argv[] = { "/bin/sh", "-c", "echo up; read x; echo bye", NULL };
		struct sandbox_spawn sp = { .path = "/bin/sh", .argv = argv, .stdin_fd = in[i][0],
					    .stdout_fd = out[i][1], .stderr_fd = -1 };
		int e = sandbox_spawn(sn[i], &sp, &c[i]);
		CHECK(e == 0, "spawn: %s\n", strerror(-e));
		close(in[i][0]);
		close(out[i][1]);
		char b[8];
		struct pollfd pf = { .fd = out[i][0], .events = POLLIN };
		CHECK(poll(&pf, 1, 10000) == 1 && read(out[i][0], b, sizeof b) > 0, "no 'up'\n");
		CHECK(strncmp(c[i].cgroup, cs[i], strlen(cs[i])) == 0, "call %s not below %s\n",
		      c[i].cgroup, cs[i]);
	}
	CHECK(sandbox_kill(&c[0]) == 0, "kill\n");
	siginfo_t si;
	CHECK(wait_call(&c[0], &si, 5000) == 0 && si.si_code == CLD_KILLED, "x's call not killed\n");
	struct pollfd pf = { .fd = c[1].pidfd, .events = POLLIN };
	CHECK(poll(&pf, 1, 300) == 0, "y's call ended when x's was killed\n");
	CHECK(write(in[1][1], "x\n", 2) == 2, "write\n");
	char b[32] = "";
	pf.fd = out[1][0];
	CHECK(poll(&pf, 1, 10000) == 1 && read(out[1][0], b, sizeof b - 1) > 0 && strstr(b, "bye"),
	      "y's call did not go on: '%s'\n", b);
	CHECK(wait_call(&c[1], &si, 5000) == 0 && si.si_code == CLD_EXITED && si.si_status == 0,
	      "y's call: code %d status %d\n", si.si_code, si.si_status);
	for (int i = 0; i < 2; i++) {
		sandbox_release(&c[i]);
		close(c[i].pidfd);
		close(in[i][1]);
		close(out[i][0]);
	}
	/* closing x leaves y's cgroup */
	sandbox_ns_close(sx);
	CHECK(!exists(cx), "%s left after close\n", cx);
	CHECK(exists(cy), "closing x removed y's cgroup %s\n", cy);
	sandbox_ns_close(sy);
	CHECK(!exists(cy), "%s left after close\n", cy);
	/* the name is a function of the directory: the same one again */
	sx = open_ns(dx, nameA, NULL);
	CHECK(strcmp(sandbox_ns_cgroup(sx), cx) == 0, "same directory, other cgroup: %s vs %s\n",
	      sandbox_ns_cgroup(sx), cx);
	sandbox_ns_close(sx);
}

/* ---- the device filter ---- */

static void need_dev_filter(void)
{
	need_root();
	need_cgroup();
	if (!caps.dev_filter)
		SKIP("device filter off on this host: %s", caps.dev_filter_why);
}

/* In the call cgroup, as root with every capability (a namespace opened
 * with the namespaces and the user switch off): what may be made and
 * opened. One "name=result" line each; arg: the namespace directory. */
static int devs_fn(void *arg)
{
	const char *dir = arg;
	char p[PATH_MAX + 32];
	static const struct {
		const char *name;
		mode_t type;
		unsigned maj, min;
	} nodes[] = {
		{ "mem", S_IFCHR, 1, 1 },	/* /dev/mem: never */
		{ "kmsg", S_IFCHR, 1, 11 },	/* allowed only through the test hook */
		{ "null", S_IFCHR, 1, 3 },	/* allowed */
		{ "loop0", S_IFBLK, 7, 0 },	/* block devices: never */
	};
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		snprintf(p, sizeof p, "%s/dev-%s", dir, nodes[i].name);
		unlink(p);
		int r = mknod(p, nodes[i].type | 0600, makedev(nodes[i].maj, nodes[i].min));
		dprintf(1, "mknod_%s=%s\n", nodes[i].name, r == 0 ? "ok" : strerror(errno));
		unlink(p);
	}
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	dprintf(1, "open_null=%s\n", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	dprintf(1, "open_kmsg=%s\n", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

static void expect(const char *out, const char *key, const char *want)
{
	char v[128];
	CHECK(field(out, key, v, sizeof v) && strcmp(v, want) == 0, "%s=%s, want %s; output:\n%s\n", key,
	      v, want, out);
}

static void t_device_filter(void)
{
	need_dev_filter();
	/* A namespace whose calls run as root with all capabilities, in the
	 * daemon's namespaces, but in call cgroups: so nothing but the
	 * filter can refuse a device. */
	struct sandbox_caps plain = caps;
	plain.root = false;
	plain.mountns = plain.pidns = plain.ipcns = plain.utsns = plain.netns = plain.userns = false;
	struct sandbox_ns *sa = NULL, *sb = NULL;
	struct sandbox_limits none = { 0 };
	int e = sandbox_ns_open(&plain, nsA, nameA, &none, &sa);
	CHECK(e == 0, "open %s: %s\n", nsA, strerror(-e));
	/* namespace B also allows 1:11 (what the woof.ko device of a mounted
	 * namespace is to the filter: one more allowed number) */
	sbx_test_dev_extra = (struct sbx_devnum){ 1, 11 };
	e = sandbox_ns_open(&plain, nsB, nameB, &none, &sb);
	sbx_test_dev_extra = (struct sbx_devnum){ 0, 0 };
	CHECK(e == 0, "open %s: %s\n", nsB, strerror(-e));

	struct run r;
	run_in(sa, NULL, devs_fn, nsA, NULL, 0, &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	CHECK(r.cgroup[0], "the call had no cgroup\n");
	expect(r.out, "mknod_mem", strerror(EPERM));
	expect(r.out, "mknod_kmsg", strerror(EPERM));
	expect(r.out, "mknod_loop0", strerror(EPERM));
	expect(r.out, "mknod_null", "ok");
	expect(r.out, "open_null", "ok");
	if (exists("/dev/kmsg"))
		expect(r.out, "open_kmsg", strerror(EPERM));

	run_in(sb, NULL, devs_fn, nsB, NULL, 0, &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	expect(r.out, "mknod_mem", strerror(EPERM));
	expect(r.out, "mknod_kmsg", "ok");
	expect(r.out, "mknod_null", "ok");
	if (exists("/dev/kmsg"))
		expect(r.out, "open_kmsg", "ok");

	/* outside the namespaces' cgroups nothing changed */
	char p[PATH_MAX + 16];
	snprintf(p, sizeof p, "%s/dev-host-mem", base);
	CHECK(mknod(p, S_IFCHR | 0600, makedev(1, 1)) == 0, "the daemon itself cannot mknod 1:1: %s\n",
	      strerror(errno));
	unlink(p);
	sandbox_ns_close(sa);
	sandbox_ns_close(sb);

	/* the real sandbox: an unprivileged handler still has its /dev */
	struct sandbox_ns *sns = open_ns(nsA, nameA, NULL);
	run_sh(sns, "head -c 4 /dev/zero >/dev/null && head -c 4 /dev/urandom >/dev/null && "
		    "echo x >/dev/null && cat /dev/null && echo devs=ok; "
		    "echo x >/dev/full 2>/dev/null || echo full=refused", &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	expect(r.out, "devs", "ok");
	expect(r.out, "full", "refused");
	sandbox_ns_close(sns);
}

/* In a namespace that woof.ko serves, its /dev/woof/<ns> is allowed too
 * (found through WOOF_IOC_NS_LIST), and no other woof device. Needs the
 * module loaded (test 'sandbox-vm-kmod' loads it in the VM). */
static int woofdev_fn(void *arg)
{
	const unsigned *mm = arg;	/* major, minor, and the name after them */
	char p[PATH_MAX + 32];
	const char *dir = nsB;
	snprintf(p, sizeof p, "%s/dev-own", dir);
	int r = mknod(p, S_IFCHR | 0600, makedev(mm[0], mm[1]));
	dprintf(1, "mknod_own=%s\n", r == 0 ? "ok" : strerror(errno));
	unlink(p);
	snprintf(p, sizeof p, "%s/dev-other", dir);
	r = mknod(p, S_IFCHR | 0600, makedev(mm[0], mm[1] + 1));
	dprintf(1, "mknod_other=%s\n", r == 0 ? "ok" : strerror(errno));
	unlink(p);
	snprintf(p, sizeof p, "/dev/woof/%s", (const char *)(mm + 2));
	int fd = open(p, O_RDWR | O_CLOEXEC);
	dprintf(1, "open_own=%s\n", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	fd = open(WOOF_CONTROL_DEV, O_RDONLY | O_CLOEXEC);
	dprintf(1, "open_control=%s\n", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

static void t_device_filter_woof(void)
{
	need_dev_filter();
	int cfd = open(WOOF_CONTROL_DEV, O_RDWR | O_CLOEXEC);
	if (cfd < 0)
		SKIP("woof.ko is not loaded (%s: %s)", WOOF_CONTROL_DEV, strerror(errno));
	struct woof_ns_mount m;
	memset(&m, 0, sizeof m);
	m.size = sizeof m;
	m.dirfd = open(nsB, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	m.mode = 0600;
	snprintf(m.name, sizeof m.name, "%s", nameB);
	CHECK(m.dirfd >= 0 && ioctl(cfd, WOOF_IOC_NS_MOUNT, &m) == 0, "NS_MOUNT %s: %s\n", nsB,
	      strerror(errno));
	struct sbx_devnum found = { 0, 0 };
	int e = sbx_dev_woof_lookup(nsB, &found);
	struct sbx_devnum none_found = { 0, 0 };
	int e2 = sbx_dev_woof_lookup(nsA, &none_found);
	struct sandbox_caps plain = caps;
	plain.root = false;
	plain.mountns = plain.pidns = plain.ipcns = plain.utsns = plain.netns = plain.userns = false;
	struct sandbox_limits none = { 0 };
	struct sandbox_ns *sb = NULL;
	int eo = sandbox_ns_open(&plain, nsB, nameB, &none, &sb);
	struct run r;
	unsigned arg[2 + 20];
	memset(arg, 0, sizeof arg);
	arg[0] = m.dev_major;
	arg[1] = m.dev_minor;
	snprintf((char *)(arg + 2), sizeof arg - 2 * sizeof arg[0], "%s", nameB);
	if (eo == 0)
		run_in(sb, NULL, woofdev_fn, arg, NULL, 0, &r);
	sandbox_ns_close(sb);
	struct woof_ns_umount u;
	memset(&u, 0, sizeof u);
	u.size = sizeof u;
	u.flags = WOOF_UMOUNT_DETACH;
	snprintf(u.name, sizeof u.name, "%s", nameB);
	ioctl(cfd, WOOF_IOC_NS_UMOUNT, &u);
	close(cfd);
	close(m.dirfd);
	CHECK(e == 1 && found.major == m.dev_major && found.minor == m.dev_minor,
	      "lookup of %s: %d %u:%u, mounted as %u:%u\n", nsB, e, found.major, found.minor,
	      m.dev_major, m.dev_minor);
	CHECK(e2 == 0, "lookup of the unmounted %s: %d\n", nsA, e2);
	CHECK(eo == 0, "open %s: %s\n", nsB, strerror(-eo));
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	expect(r.out, "mknod_own", "ok");
	expect(r.out, "open_own", "ok");
	expect(r.out, "mknod_other", strerror(EPERM));
	expect(r.out, "open_control", strerror(EPERM));
}

/* Probed as a user who may not load BPF programs: off, with the reason. */
static void t_device_filter_off(void)
{
	need_root();
	CHECK(syscall(SYS_setgroups, 0, NULL) == 0 && setresgid(65534, 65534, 65534) == 0 &&
	      setresuid(65534, 65534, 65534) == 0, "cannot become nobody\n");
	struct sandbox_caps c;
	CHECK(sandbox_probe(&c) == 0, "probe\n");
	CHECK(!c.dev_filter, "device filter on as nobody\n");
	CHECK(strstr(c.dev_filter_why, "not root"), "reason: '%s'\n", c.dev_filter_why);
	char buf[4096];
	sandbox_describe(&c, buf, sizeof buf);
	CHECK(strstr(buf, "\ndevice filter: off (not root"), "describe:\n%s\n", buf);
	CHECK(strstr(c.why_not, "device filter: off - not root"), "why_not:\n%s\n", c.why_not);
}

/* A namespace cgroup left by a killed daemon with an older filter on it:
 * opening the namespace again replaces that filter, not adds to it. */
static void t_device_filter_stale(void)
{
	need_dev_filter();
	struct sandbox_caps plain = caps;
	plain.root = false;
	plain.mountns = plain.pidns = plain.ipcns = plain.utsns = plain.netns = plain.userns = false;
	struct sandbox_limits none = { 0 };
	struct sandbox_ns *s1 = NULL, *s2 = NULL;
	int e = sandbox_ns_open(&plain, nsA, nameA, &none, &s1);
	CHECK(e == 0, "open: %s\n", strerror(-e));
	/* the second open finds the cgroup (and its program) in place */
	sbx_test_dev_extra = (struct sbx_devnum){ 1, 11 };
	e = sandbox_ns_open(&plain, nsA, nameA, &none, &s2);
	sbx_test_dev_extra = (struct sbx_devnum){ 0, 0 };
	CHECK(e == 0, "open again: %s\n", strerror(-e));
	struct run r;
	run_in(s2, NULL, devs_fn, nsA, NULL, 0, &r);
	CHECK(r.err == 0 && exited_ok(&r), "spawn %d, out: %s\n", r.err, r.out);
	expect(r.out, "mknod_kmsg", "ok");
	expect(r.out, "mknod_mem", strerror(EPERM));
	sandbox_ns_close(s2);
	sandbox_ns_close(s1);
}

/* ---- the runner ---- */

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "probe_describe", t_probe_describe },
	{ "probe_controllers_match_hierarchy", t_probe_controllers },
	{ "exec_status_and_errors", t_exec_status },
	{ "call_cgroup", t_call_cgroup },
	{ "pid_uts_ipc_mount_namespaces", t_namespaces },
	{ "unprivileged_no_new_privs_no_caps", t_privileges },
	{ "setuid_binary_gains_nothing", t_no_new_privs_blocks_setuid },
	{ "fs_only_namespace_dir_writable", t_fs_confined },
	{ "other_namespace_unreadable", t_other_ns_unreadable },
	{ "symlinked_namespace_dir", t_symlinked_ns_dir },
	{ "fd_layout", t_fds },
	{ "fn_runtime", t_fn_runtime },
	{ "kill_whole_call", t_kill_tree },
	{ "holder_revived", t_holder_revived },
	{ "fork_bomb_stopped_by_pids_max", t_fork_bomb },
	{ "memory_hog_stopped_by_memory_max", t_memory_hog },
	{ "ns_cgroup_per_directory", t_ns_cgroup_names },
	{ "device_filter", t_device_filter },
	{ "device_filter_replaces_stale", t_device_filter_stale },
	{ "device_filter_off_reported", t_device_filter_off },
	{ "device_filter_woof_device", t_device_filter_woof },
};

static void find_v2(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	while (f && fgets(line, sizeof line, f)) {
		char *sep = strstr(line, " - cgroup2 ");
		if (!sep)
			continue;
		char mnt[256];
		if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1) {
			snprintf(v2mnt, sizeof v2mnt, "%s", mnt);
			break;
		}
	}
	if (f)
		fclose(f);
}

static void setup_dirs(void)
{
	snprintf(base, sizeof base, "/tmp/woof-sbx-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(base, 0755);
	snprintf(nsA, sizeof nsA, "%s/nsA", base);
	snprintf(nsB, sizeof nsB, "%s/nsB", base);
	mkdir(nsA, 0777);
	mkdir(nsB, 0755);
	chmod(nsA, 0777);	/* the handlers' user must be able to write it (operator's job) */
	char p[PATH_MAX + 32];
	snprintf(p, sizeof p, "%s/secret.woof", nsB);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);	/* world-readable on purpose */
	if (fd < 0 || write(fd, "top-secret\n", 11) != 11) {
		perror(p);
		exit(1);
	}
	close(fd);
	snprintf(host_escape, sizeof host_escape, "/tmp/woof-sbx-escape-%d", (int)getpid());
	snprintf(nameA, sizeof nameA, "sbxt%d-a", (int)getpid());
	snprintf(nameB, sizeof nameB, "sbxt%d-b", (int)getpid());
}

static void cleanup_dirs(void)
{
	unlink(host_escape);	/* only there if a test failed */
	/* namespace cgroups of tests that failed half-way */
	if (caps.cgroup2) {
		const char *names[] = { nameA, nameB, nameA, nameA };
		char dirs[4][PATH_MAX];
		snprintf(dirs[0], sizeof dirs[0], "%s", nsA);
		snprintf(dirs[1], sizeof dirs[1], "%s", nsB);
		snprintf(dirs[2], sizeof dirs[2], "%s/x/%s", base, nameA);
		snprintf(dirs[3], sizeof dirs[3], "%s/y/%s", base, nameA);
		for (int i = 0; i < 4; i++) {
			char cg[600], real[PATH_MAX], cgname[140];
			if (!realpath(dirs[i], real))
				continue;
			sbx_ns_cgroup_name(real, names[i], cgname, sizeof cgname);
			snprintf(cg, sizeof cg, "%s/%s", caps.cgroup_root, cgname);
			DIR *d = opendir(cg);
			struct dirent *e;
			while (d && (e = readdir(d)))
				if (strncmp(e->d_name, "call-", 5) == 0) {
					char sub[900];
					snprintf(sub, sizeof sub, "%s/%s", cg, e->d_name);
					rmdir(sub);
				}
			if (d)
				closedir(d);
			rmdir(cg);
		}
	}
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", base);
}

int main(int argc, char **argv)
{
	int a = 1;
	bool do_bench = false;
	int bench_n = 200;
	if (a < argc && strcmp(argv[a], "-v") == 0) {
		verbose = 1;
		a++;
	}
	if (a < argc && strcmp(argv[a], "--bench") == 0) {
		do_bench = true;
		a++;
		if (a < argc)
			bench_n = atoi(argv[a++]);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the stamp helper lives next to us */
	char self[PATH_MAX - 64];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl > 0) {
		self[sl] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(stamp_prog, sizeof stamp_prog, "%s/sandbox-stamp", self);
			if (access(stamp_prog, X_OK) != 0)
				stamp_prog[0] = '\0';
		}
	}

	find_v2();
	double t0 = now_us();
	int e = sandbox_probe(&caps);
	double t1 = now_us();
	if (e) {
		printf("Bail out! sandbox_probe: %s\n", strerror(-e));
		return 1;
	}
	/* Self-check of the tests: WOOF_SBX_TEST_BREAK=ns|cgroup makes the
	 * sandbox silently leave out what the probe says it has; the tests
	 * of that feature must then fail. */
	const char *brk = getenv("WOOF_SBX_TEST_BREAK");
	if (brk && strcmp(brk, "ns") == 0)
		sbx_test_ns_mask = 0;
	if (brk && strcmp(brk, "cgroup") == 0)
		sbx_test_no_cgroup = true;
	if (brk && strcmp(brk, "dev") == 0)
		sbx_test_no_dev_filter = true;
	setup_dirs();
	if (do_bench) {
		printf("# sandbox_probe took %.0f us\n", t1 - t0);
		int r = bench(bench_n);
		cleanup_dirs();
		return r;
	}
	char desc[4096];
	sandbox_describe(&caps, desc, sizeof desc);
	printf("TAP version 13\n");
	for (char *l = strtok(desc, "\n"); l; l = strtok(NULL, "\n"))
		printf("# %s\n", l);
	printf("# probe took %.0f us\n", t1 - t0);

	int ntests = (int)(sizeof tests / sizeof tests[0]);
	int selected[64], nsel = 0;
	for (int i = 0; i < ntests; i++) {
		bool want = a >= argc;
		for (int j = a; j < argc; j++)
			if (strcmp(argv[j], tests[i].name) == 0)
				want = true;
		if (want)
			selected[nsel++] = i;
	}
	printf("1..%d\n", nsel);
	int pass = 0, fail = 0, skip = 0;
	for (int k = 0; k < nsel; k++) {
		int i = selected[k];
		int mp[2];
		if (pipe2(mp, O_CLOEXEC)) {
			perror("pipe");
			return 1;
		}
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			close(mp[0]);
			msg_fd = mp[1];
			tests[i].fn();
			_exit(0);
		}
		close(mp[1]);
		char msg[4096];
		size_t got = 0;
		double end = now_us() + 60e6;
		int st = 0;
		bool timed_out = false;
		for (;;) {
			struct pollfd pf = { .fd = mp[0], .events = POLLIN };
			int ms = (int)((end - now_us()) / 1000);
			if (ms <= 0) {
				timed_out = true;
				kill(pid, SIGKILL);
				break;
			}
			if (poll(&pf, 1, ms) < 1)
				continue;
			ssize_t n = read(mp[0], msg + got, sizeof msg - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (got >= sizeof msg - 1)
				break;
		}
		msg[got] = '\0';
		close(mp[0]);
		waitpid(pid, &st, 0);
		for (char *c = msg; *c; c++)
			if (*c == '\n')
				*c = ' ';
		if (timed_out) {
			printf("not ok %d - %s\n  # timed out after 60 s %s\n", k + 1, tests[i].name, msg);
			fail++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
			printf("ok %d - %s\n", k + 1, tests[i].name);
			pass++;
		} else if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
			printf("ok %d - %s # SKIP %.300s\n", k + 1, tests[i].name, msg);
			skip++;
		} else {
			printf("not ok %d - %s\n  # %s%s\n", k + 1, tests[i].name, msg,
			       WIFSIGNALED(st) ? " (test process crashed)" : "");
			fail++;
		}
	}
	cleanup_dirs();
	printf("# %d passed, %d failed, %d skipped\n", pass, fail, skip);
	if (fail)
		return 1;
	return pass == 0 && skip > 0 ? 77 : 0;
}
