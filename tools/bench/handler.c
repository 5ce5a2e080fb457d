/* SPDX-License-Identifier: MIT */
/*
 * handler.c - woof-bench's handler figures (--handlers, and part of a full
 * run): put -> first line of the handler function, and trivial-handler
 * throughput, for each of dispatcherd's runtimes (exec, zygote, warm),
 * with the process-start floors of this machine measured in the same run.
 *
 * Set-up: a fresh namespace (mkdtemp under the bench's base directory),
 * the trivial handler (hb-handler.c) installed three times - the program
 * hb_exec, and hb_zygote.so, hb_warm.so - a woof.conf choosing their
 * runtimes, and a dispatcherd of our own serving only that namespace
 * (found next to woof-bench in the build tree, or in the install prefix;
 * --dispatcherd overrides). Run as root, the namespace is handed to
 * nobody, as dispatcherd runs handlers as the namespace's owner.
 *
 * Latency: the bench stamps CLOCK_MONOTONIC into the element just before
 * woof_append() names the handler; the handler's first statement stamps
 * CLOCK_MONOTONIC again and appends both to "hb-out"; the bench waits for
 * that result, and for dispatcherd's final record of the call in
 * .woof/calls (woof_wait, no polling), before the next put: every call
 * finds dispatcherd and the runtime idle (the previous call's process has
 * exited; a zygote has forked its next spare). Median and
 * nearest-rank p99 of (first - put). This includes the put itself, dispatcherd's wake-up,
 * claim, spool copy and records, and the runtime's start of the call.
 *
 * Throughput: a burst of N puts naming the handler, as fast as the put
 * path takes them; the time from the first put to the last result in
 * "hb-out" (every n present once is checked); median and slowest of the
 * runs.
 *
 * Floors: fork() until the child runs (the child stamps the clock first
 * thing and writes it to a pipe), posix_spawn() of a tiny dynamically
 * linked program until its main() runs (likewise), and the rates of
 * fork+exit+wait and posix_spawn+exit+wait with one loop per CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <woof.h>

#include "bench.h"
#include "hb.h"

extern char **environ;

#ifndef WOOF_SBINDIR
#define WOOF_SBINDIR "/usr/local/sbin"
#endif
#ifndef WOOF_LIBEXECDIR
#define WOOF_LIBEXECDIR "/usr/local/libexec/woof"
#endif

#define HB_SPAWNEE	"woof-bench-spawnee"
#define HB_PROGRAM	"woof-bench-hb"
#define HB_SO		"woof-bench-hb.so"
#define HB_WAIT_MS	30000	/* one result may take this long before it is a failure */

static const char *const rt_name[3] = { "exec", "zygote", "warm" };
static const char *const rt_handler[3] = { "hb_exec", "hb_zygote", "hb_warm" };

struct hrun {
	pid_t dpid;
	char log[4200];
	struct woof_ns *ns;
	struct woof *in, *out;
	struct woof_ns *meta;	/* <ns>/.woof: dispatcherd's records */
	struct woof *calls;	/* .woof/calls: two records per call */
	uint64_t calls_ended;	/* calls whose final record must be there */
	uint64_t n_next;	/* the next element's n */
	uint64_t out_next;	/* the seq its result will have in hb-out */
	double *v;
	size_t vlen;
};

/* ---- finding the programs ------------------------------------------------ */

static void exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n <= 0) {
		snprintf(buf, len, ".");
		return;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

static bool is_exec(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static bool find_programs(struct bench *b)
{
	struct hbench *h = &b->h;
	char dir[PATH_MAX], cand[PATH_MAX + 64];
	const char *env = getenv("WOOF_DISPATCHERD");

	exe_dir(dir, sizeof(dir));
	h->dispatcherd[0] = '\0';
	if (h->dispatcherd_opt) {
		snprintf(h->dispatcherd, sizeof(h->dispatcherd), "%s", h->dispatcherd_opt);
	} else if (env && *env) {
		snprintf(h->dispatcherd, sizeof(h->dispatcherd), "%s", env);
	} else {
		/* build tree: tools/bench/woof-bench -> dispatcherd/dispatcherd */
		const char *tries[] = { "%s/../../dispatcherd/dispatcherd", "%s/../sbin/dispatcherd",
					NULL };

		for (int i = 0; tries[i] && !h->dispatcherd[0]; i++) {
			snprintf(cand, sizeof(cand), tries[i], dir);
			if (is_exec(cand) && realpath(cand, h->dispatcherd))
				break;
			h->dispatcherd[0] = '\0';
		}
		if (!h->dispatcherd[0])
			snprintf(h->dispatcherd, sizeof(h->dispatcherd), "%s/dispatcherd", WOOF_SBINDIR);
	}
	if (!is_exec(h->dispatcherd)) {
		snprintf(h->why_not, sizeof(h->why_not), "no dispatcherd at %s (use --dispatcherd)",
			 h->dispatcherd);
		return false;
	}

	/* the handler files: next to woof-bench (build tree), else libexecdir */
	if (h->handler_dir_opt) {
		snprintf(h->handler_dir, sizeof(h->handler_dir), "%s", h->handler_dir_opt);
	} else {
		snprintf(cand, sizeof(cand), "%s/" HB_PROGRAM, dir);
		snprintf(h->handler_dir, sizeof(h->handler_dir), "%s",
			 is_exec(cand) ? dir : WOOF_LIBEXECDIR);
	}
	snprintf(cand, sizeof(cand), "%s/" HB_PROGRAM, h->handler_dir);
	if (!is_exec(cand)) {
		snprintf(h->why_not, sizeof(h->why_not), "no %s in %s (use --handler-dir)",
			 HB_PROGRAM, h->handler_dir);
		return false;
	}
	return true;
}

/* ---- files ------------------------------------------------------------------ */

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t r;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		ret = -errno;
		close(in);
		return ret;
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r) {
			ret = -EIO;
			break;
		}
	if (r < 0)
		ret = -errno;
	close(in);
	if (close(out) < 0 && !ret)
		ret = -errno;
	return ret;
}

static int chown_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (lchown(path, 65534, 65534) < 0)
		return -1;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* ---- dispatcherd ---------------------------------------------------------------- */

static bool daemon_ready(const char *ns, pid_t pid, uint64_t deadline_ns)
{
	char path[PATH_MAX + 32], buf[512];

	snprintf(path, sizeof(path), "%s/.woof/status", ns);
	while (now_ns() < deadline_ns) {
		int st;
		FILE *f;

		if (waitpid(pid, &st, WNOHANG) == pid)
			return false;
		f = fopen(path, "r");
		if (f) {
			bool running = false;

			while (fgets(buf, sizeof(buf), f))
				if (strcmp(buf, "state running\n") == 0)
					running = true;
			fclose(f);
			if (running)
				return true;
		}
		usleep(10000);	/* the bench may poll; dispatcherd does not */
	}
	return false;
}

static void print_log_tail(const char *log)
{
	char line[512];
	FILE *f = fopen(log, "r");
	long n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		n++;
	rewind(f);
	fprintf(stderr, "---- dispatcherd log (%s), last lines:\n", log);
	for (long i = 0; fgets(line, sizeof(line), f); i++)
		if (i >= n - 15)
			fputs(line, stderr);
	fclose(f);
}

static int start(struct bench *b, struct hrun *r)
{
	struct hbench *h = &b->h;
	char from[PATH_MAX + 64], to[PATH_MAX + 64], conf[1024];
	struct woof_create_opts o = { .sz = sizeof(o), .create = WOOF_CREATE_RESET };
	posix_spawn_file_actions_t fa;
	const char *base = b->cfg.base_dir;
	struct hb_el el;
	char *argv[6];
	int fd, ret;
	FILE *f;

	if (!base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	/* a name of its own: the sandbox names the namespace's cgroup after it */
	snprintf(h->ns_dir, sizeof(h->ns_dir), "%s/woof-bench-hb.XXXXXX", base);
	if (!mkdtemp(h->ns_dir)) {
		bench_fail(b, "handlers: mkdtemp in %s: %s", base, strerror(errno));
		h->ns_dir[0] = '\0';
		return -1;
	}
	chmod(h->ns_dir, 0755);
	ret = woof_ns_init(h->ns_dir, 0);
	if (!ret)
		ret = woof_ns_open(h->ns_dir, &r->ns);
	if (ret) {
		bench_fail(b, "handlers: namespace %s: %s", h->ns_dir, woof_strerror(ret));
		return -1;
	}
	o.element_size = sizeof(struct hb_el);
	o.history_size = 1U << 16;
	ret = woof_create(r->ns, HB_IN, &o, &r->in);
	if (!ret) {
		o.element_size = sizeof(struct hb_res);
		o.history_size = 1U << 17;
		ret = woof_create(r->ns, HB_OUT, &o, &r->out);
	}
	if (ret) {
		bench_fail(b, "handlers: creating the WOOFs: %s", woof_strerror(ret));
		return -1;
	}
	/* one plain put: the namespace's shared files exist before the daemon hands them over */
	memset(&el, 0, sizeof(el));
	woof_append(r->in, &el, NULL, NULL);
	r->n_next = 1;
	r->out_next = 1;

	snprintf(from, sizeof(from), "%s/" HB_PROGRAM, h->handler_dir);
	snprintf(to, sizeof(to), "%s/hb_exec", h->ns_dir);
	ret = copy_file(from, to, 0755);
	for (int i = 1; i < 3 && !ret; i++) {
		snprintf(from, sizeof(from), "%s/" HB_SO, h->handler_dir);
		snprintf(to, sizeof(to), "%s/%s.so", h->ns_dir, rt_handler[i]);
		ret = copy_file(from, to, 0755);
	}
	if (ret) {
		bench_fail(b, "handlers: installing the handler from %s: %s", h->handler_dir,
			   strerror(-ret));
		return -1;
	}
	snprintf(conf, sizeof(conf),
		 "# woof-bench --handlers\n"
		 "[namespace]\nmax_concurrent = %u\ntimeout = 60s\noutput_max = 4K\n\n"
		 "[handler hb_zygote]\nruntime = zygote\n\n"
		 "[handler hb_warm]\nruntime = warm\nworkers = %u\n",
		 h->max_concurrent, h->warm_workers);
	snprintf(to, sizeof(to), "%s/woof.conf", h->ns_dir);
	f = fopen(to, "w");
	if (!f || fputs(conf, f) < 0 || fclose(f) != 0) {
		bench_fail(b, "handlers: writing %s", to);
		return -1;
	}
	if (geteuid() == 0)
		nftw(h->ns_dir, chown_entry, 16, FTW_PHYS);

	snprintf(r->log, sizeof(r->log), "%s.dispatcherd.log", h->ns_dir);
	fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		bench_fail(b, "handlers: %s: %s", r->log, strerror(errno));
		return -1;
	}
	argv[0] = h->dispatcherd;
	argv[1] = (char *)"-N";
	argv[2] = h->ns_dir;
	argv[3] = (char *)"-q";
	argv[4] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	ret = posix_spawn(&r->dpid, h->dispatcherd, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	if (ret) {
		r->dpid = 0;
		bench_fail(b, "handlers: starting %s: %s", h->dispatcherd, strerror(ret));
		return -1;
	}
	if (!daemon_ready(h->ns_dir, r->dpid, now_ns() + 20000000000ULL)) {
		bench_fail(b, "handlers: dispatcherd did not get ready");
		print_log_tail(r->log);
		return -1;
	}
	snprintf(to, sizeof(to), "%s/.woof", h->ns_dir);
	ret = woof_ns_open(to, &r->meta);
	if (!ret)
		ret = woof_open(r->meta, "calls", &r->calls);
	if (ret) {
		bench_fail(b, "handlers: %s/calls: %s", to, woof_strerror(ret));
		return -1;
	}
	return 0;
}

static void stop(struct bench *b, struct hrun *r)
{
	struct hbench *h = &b->h;

	if (r->dpid > 0) {
		uint64_t deadline = now_ns() + 10000000000ULL;
		int st;

		kill(r->dpid, SIGTERM);
		while (waitpid(r->dpid, &st, WNOHANG) == 0) {
			if (now_ns() > deadline) {
				kill(r->dpid, SIGKILL);
				waitpid(r->dpid, &st, 0);
				break;
			}
			usleep(10000);
		}
		r->dpid = 0;
	}
	if (r->in)
		woof_close(r->in);
	if (r->out)
		woof_close(r->out);
	if (r->calls)
		woof_close(r->calls);
	if (r->ns)
		woof_ns_close(r->ns);
	if (r->meta)
		woof_ns_close(r->meta);
	r->in = r->out = r->calls = NULL;
	r->ns = r->meta = NULL;
	if (h->ns_dir[0]) {
		if (b->failures)
			print_log_tail(r->log);
		nftw(h->ns_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		unlink(r->log);
	}
}

/* ---- one call, a burst ------------------------------------------------------------- */

/* Wait until hb-out holds result @seq; 0 or -1 (a FAIL was recorded). */
static int wait_result(struct bench *b, struct hrun *r, uint64_t seq, const char *what)
{
	uint64_t deadline = now_ns() + (uint64_t)HB_WAIT_MS * 1000000ULL;

	while (woof_latest(r->out) < seq) {
		uint64_t now = now_ns();
		int ret;

		if (now >= deadline) {
			bench_fail(b, "handlers: %s: result %llu did not come within %d s "
				   "(hb-out at %llu)", what, (unsigned long long)seq,
				   HB_WAIT_MS / 1000, (unsigned long long)woof_latest(r->out));
			return -1;
		}
		ret = woof_wait(r->out, woof_latest(r->out), (int)((deadline - now) / 1000000) + 1);
		if (ret && ret != -ETIMEDOUT && ret != -EINTR) {
			bench_fail(b, "handlers: waiting for hb-out: %s", woof_strerror(ret));
			return -1;
		}
	}
	return 0;
}

static int put(struct bench *b, struct hrun *r, int rt)
{
	struct hb_el el;
	int ret;

	memset(&el, 0, sizeof(el));
	el.n = r->n_next++;
	el.put_ns = now_ns();
	ret = woof_append(r->in, &el, rt_handler[rt], NULL);
	if (ret) {
		bench_fail(b, "handlers: put naming %s: %s", rt_handler[rt], woof_strerror(ret));
		return -1;
	}
	return 0;
}

/*
 * Wait until dispatcherd has ended every call so far (each writes a
 * RUNNING and a final record to .woof/calls): the next call meets an idle
 * daemon and runtime (the last call's process has exited and was reaped;
 * a zygote reports an end once it has forked the replacing spare).
 */
static int settle(struct bench *b, struct hrun *r)
{
	uint64_t want = 2 * r->calls_ended, deadline = now_ns() + (uint64_t)HB_WAIT_MS * 1000000ULL;

	while (woof_latest(r->calls) < want) {
		uint64_t now = now_ns();
		int ret;

		if (now >= deadline) {
			bench_fail(b, "handlers: dispatcherd did not record the end of call %llu",
				   (unsigned long long)r->calls_ended);
			return -1;
		}
		ret = woof_wait(r->calls, woof_latest(r->calls), (int)((deadline - now) / 1000000) + 1);
		if (ret && ret != -ETIMEDOUT && ret != -EINTR) {
			bench_fail(b, "handlers: waiting for .woof/calls: %s", woof_strerror(ret));
			return -1;
		}
	}
	return 0;
}

/* One call: put, wait for its result; the latency in ns, or < 0. */
static double one_call(struct bench *b, struct hrun *r, int rt)
{
	uint64_t n = r->n_next, seq = r->out_next++;
	struct hb_res res;
	int ret;

	if (settle(b, r))
		return -1;
	r->calls_ended++;
	if (put(b, r, rt) || wait_result(b, r, seq, rt_name[rt]))
		return -1;
	ret = woof_read(r->out, seq, &res, NULL);
	if (ret) {
		bench_fail(b, "handlers: reading result %llu: %s", (unsigned long long)seq,
			   woof_strerror(ret));
		return -1;
	}
	if (res.n != n || res.runtime != (uint32_t)rt || res.first_ns < res.put_ns) {
		bench_fail(b, "handlers: %s: result %llu is n %llu of runtime %u (expected n %llu "
			   "of %u)", rt_name[rt], (unsigned long long)seq, (unsigned long long)res.n,
			   res.runtime, (unsigned long long)n, rt);
		return -1;
	}
	return (double)(res.first_ns - res.put_ns);
}

static void latency(struct bench *b, struct hrun *r, int rt, unsigned warmup)
{
	struct figure *f = &b->h.fig[HFIG_LAT_EXEC + rt];
	unsigned n = b->h.lat_calls[rt];
	size_t k = 0;

	for (unsigned i = 0; i < warmup; i++)
		if (one_call(b, r, rt) < 0)
			return;
	for (unsigned i = 0; i < n && k < r->vlen; i++) {
		double ns = one_call(b, r, rt);

		if (ns < 0)
			return;
		r->v[k++] = ns;
	}
	f->batch = 1;
	bench_finish(f, r->v, k);
}

/* One burst of @n calls: its rate (calls/s), or < 0. */
static double burst(struct bench *b, struct hrun *r, int rt, unsigned n)
{
	uint64_t n0 = r->n_next, seq0 = r->out_next, t0, t1;
	unsigned char *seen;
	struct hb_res res;
	bool bad = false;

	/* the last burst's calls are all recorded before the clock starts */
	if (settle(b, r))
		return -1;
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		if (put(b, r, rt))
			return -1;
	r->out_next += n;
	r->calls_ended += n;
	if (wait_result(b, r, seq0 + n - 1, rt_name[rt]))
		return -1;
	t1 = now_ns();
	/* every call ran once, and only those */
	seen = calloc(n, 1);
	if (!seen)
		return -1;
	for (uint64_t s = seq0; s < seq0 + n; s++) {
		if (woof_read(r->out, s, &res, NULL) || res.n < n0 || res.n >= n0 + n ||
		    res.runtime != (uint32_t)rt || seen[res.n - n0]++) {
			bad = true;
			break;
		}
	}
	free(seen);
	if (bad || woof_latest(r->out) != seq0 + n - 1) {
		bench_fail(b, "handlers: %s burst of %u: results missing, repeated or foreign",
			   rt_name[rt], n);
		return -1;
	}
	return (double)n * 1e9 / (double)(t1 - t0);
}

static void throughput(struct bench *b, struct hrun *r, int rt)
{
	struct figure *f = &b->h.fig[HFIG_TPUT_EXEC + rt];
	unsigned n = b->h.tput_calls[rt];
	double rates[BENCH_MAX_REPS];
	unsigned k = 0;

	for (unsigned i = 0; i < b->h.tput_reps && i < BENCH_MAX_REPS; i++) {
		double rate = burst(b, r, rt, n);

		if (rate < 0)
			return;
		rates[k++] = rate;
	}
	if (!k)
		return;
	/* median and worst run; median_ns = ns per call of the median run */
	for (unsigned i = 1; i < k; i++)
		for (unsigned j = i; j > 0 && rates[j - 1] > rates[j]; j--) {
			double t = rates[j];

			rates[j] = rates[j - 1];
			rates[j - 1] = t;
		}
	f->rate = k % 2 ? rates[k / 2] : (rates[k / 2 - 1] + rates[k / 2]) / 2;
	f->worst_rate = rates[0];
	f->median_ns = 1e9 / f->rate;
	f->p99_ns = 1e9 / f->worst_rate;
	f->min_ns = 1e9 / rates[k - 1];
	f->samples = k;
	f->ops = n;
	f->procs = 1;
	f->measured = true;
}

/* ---- floors -------------------------------------------------------------------- */

/* fork() until the child runs, or posix_spawn() until the spawnee's main() runs */
static void start_floor(struct bench *b, struct hrun *r, bool spawn, unsigned n)
{
	struct figure *f = &b->h.floor[spawn ? HFLOOR_SPAWN : HFLOOR_FORK];
	char prog[PATH_MAX + 64];
	size_t k = 0;

	snprintf(prog, sizeof(prog), "%s/" HB_SPAWNEE, b->h.handler_dir);
	for (unsigned i = 0; i < n + 5 && k < r->vlen; i++) {
		uint64_t t0, t1 = 0;
		int p[2], st;
		pid_t pid;

		if (pipe2(p, O_CLOEXEC) < 0)
			return;
		t0 = now_ns();
		if (spawn) {
			posix_spawn_file_actions_t fa;
			char *argv[] = { (char *)HB_SPAWNEE, NULL };

			posix_spawn_file_actions_init(&fa);
			posix_spawn_file_actions_adddup2(&fa, p[1], 3);
			if (posix_spawn(&pid, prog, &fa, NULL, argv, environ) != 0) {
				posix_spawn_file_actions_destroy(&fa);
				close(p[0]);
				close(p[1]);
				bench_fail(b, "handlers: posix_spawn %s failed", prog);
				return;
			}
			posix_spawn_file_actions_destroy(&fa);
		} else {
			pid = fork();
			if (pid == 0) {
				uint64_t t = now_ns();

				if (write(p[1], &t, sizeof(t)) < 0)
					_exit(1);
				_exit(0);
			}
		}
		close(p[1]);
		if (pid < 0 || read(p[0], &t1, sizeof(t1)) != (ssize_t)sizeof(t1))
			t1 = 0;
		close(p[0]);
		if (pid > 0)
			waitpid(pid, &st, 0);
		if (!t1) {
			bench_fail(b, "handlers: %s floor: the child did not report", spawn ? "spawn" : "fork");
			return;
		}
		if (i >= 5)	/* the first few warm up */
			r->v[k++] = (double)(t1 - t0);
	}
	f->batch = 1;
	bench_finish(f, r->v, k);
}

/* one loop per CPU of start+exit+wait, @n each: the machine's rate */
static void rate_floor(struct bench *b, bool spawn, unsigned n)
{
	struct figure *f = &b->h.floor[spawn ? HFLOOR_SPAWN_TPUT : HFLOOR_FORK_TPUT];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char prog[PATH_MAX + 64];
	int go[2];
	pid_t kids[64];
	unsigned procs = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (unsigned)ncpu;
	uint64_t t0, t1;
	bool ok = true;

	snprintf(prog, sizeof(prog), "%s/" HB_SPAWNEE, b->h.handler_dir);
	if (pipe2(go, O_CLOEXEC) < 0)
		return;
	for (unsigned i = 0; i < procs; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char c;
			char *argv[] = { (char *)HB_SPAWNEE, NULL };

			close(go[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			for (unsigned j = 0; j < n; j++) {
				pid_t pid;
				int st;

				if (spawn) {
					if (posix_spawn(&pid, prog, NULL, NULL, argv, environ) != 0)
						_exit(1);
				} else {
					pid = fork();
					if (pid == 0)
						_exit(0);
				}
				if (pid < 0 || waitpid(pid, &st, 0) != pid)
					_exit(1);
			}
			_exit(0);
		}
	}
	close(go[0]);
	t0 = now_ns();
	close(go[1]);	/* go */
	for (unsigned i = 0; i < procs; i++) {
		int st;

		if (kids[i] < 0 || waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			ok = false;
	}
	t1 = now_ns();
	if (!ok) {
		bench_fail(b, "handlers: %s rate floor: a loop failed", spawn ? "spawn" : "fork");
		return;
	}
	f->rate = f->worst_rate = (double)procs * n * 1e9 / (double)(t1 - t0);
	f->median_ns = f->p99_ns = f->min_ns = 1e9 / f->rate;
	f->samples = 1;
	f->ops = n;
	f->procs = procs;
	f->measured = true;
}

/* ---- the section -------------------------------------------------------------------- */

void handlers_init(struct bench *b)
{
	static const struct {
		const char *name, *label;
		bool throughput;
		enum target_kind target;
		double value;
	} fdef[HFIG_COUNT] = {
		[HFIG_LAT_EXEC]    = { "handler_exec", "put -> handler, exec", false,
				       TARGET_MAX_NS, 1.0e6 },
		[HFIG_LAT_ZYGOTE]  = { "handler_zygote", "put -> handler, zygote", false,
				       TARGET_MAX_NS, 0.35e6 },
		[HFIG_LAT_WARM]    = { "handler_warm", "put -> handler, warm", false,
				       TARGET_MAX_NS, 0.1e6 },
		[HFIG_TPUT_EXEC]   = { "handler_throughput_exec", "trivial handlers/s, exec", true,
				       TARGET_MIN_RATE, 1500 },
		[HFIG_TPUT_ZYGOTE] = { "handler_throughput_zygote", "trivial handlers/s, zygote", true,
				       TARGET_MIN_RATE, 4000 },
		[HFIG_TPUT_WARM]   = { "handler_throughput_warm", "trivial handlers/s, warm", true,
				       TARGET_MIN_RATE, 100000 },
	};
	static const struct {
		const char *name, *label;
		bool throughput;
	} ldef[HFLOOR_COUNT] = {
		[HFLOOR_FORK]       = { "fork", "fork: until the child runs", false },
		[HFLOOR_SPAWN]      = { "fork_exec", "posix_spawn: until main() runs", false },
		[HFLOOR_FORK_TPUT]  = { "fork_rate", "fork+exit+wait rate", true },
		[HFLOOR_SPAWN_TPUT] = { "fork_exec_rate", "posix_spawn+exit+wait rate", true },
	};
	struct hbench *h = &b->h;

	for (int i = 0; i < HFIG_COUNT; i++) {
		h->fig[i].name = fdef[i].name;
		h->fig[i].label = fdef[i].label;
		h->fig[i].throughput = fdef[i].throughput;
		h->fig[i].target = fdef[i].target;
		h->fig[i].target_value = fdef[i].value;
		h->fig[i].selected = true;
	}
	for (int i = 0; i < HFLOOR_COUNT; i++) {
		h->floor[i].name = ldef[i].name;
		h->floor[i].label = ldef[i].label;
		h->floor[i].throughput = ldef[i].throughput;
		h->floor[i].selected = true;
	}
}

void handlers_run(struct bench *b)
{
	struct hbench *h = &b->h;
	struct hrun r;
	bool quick = b->cfg.quick;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!h->wanted)
		return;
	memset(&r, 0, sizeof(r));
	if (!find_programs(b)) {
		if (h->required)
			bench_fail(b, "handlers: %s", h->why_not);
		return;
	}
	h->lat_calls[0] = quick ? 50 : 300;
	h->lat_calls[1] = quick ? 100 : 500;
	h->lat_calls[2] = quick ? 200 : 2000;
	h->tput_calls[0] = quick ? 300 : 1500;
	h->tput_calls[1] = quick ? 500 : 3000;
	h->tput_calls[2] = quick ? 5000 : 20000;
	h->tput_reps = quick ? 1 : 3;
	if (!h->max_concurrent)
		h->max_concurrent = (unsigned)(ncpu > 0 ? 4 * ncpu : 8);
	if (!h->warm_workers)
		h->warm_workers = (unsigned)(ncpu > 0 ? ncpu : 2);

	r.vlen = 4096;
	r.v = calloc(r.vlen, sizeof(*r.v));
	if (!r.v) {
		bench_fail(b, "handlers: out of memory");
		return;
	}
	/* the floors first, on a quiet machine */
	start_floor(b, &r, false, quick ? 50 : 300);
	start_floor(b, &r, true, quick ? 50 : 300);
	rate_floor(b, false, quick ? 200 : 1000);
	rate_floor(b, true, quick ? 100 : 500);

	if (start(b, &r) == 0) {
		unsigned mask = h->rt_mask ? h->rt_mask : 7u;

		for (int rt = 0; rt < 3; rt++)
			if (mask & (1u << rt))
				latency(b, &r, rt, quick ? 3 : 10);
		for (int rt = 0; rt < 3; rt++)
			if (mask & (1u << rt))
				throughput(b, &r, rt);
		h->ran = true;
	}
	stop(b, &r);
	free(r.v);
}
