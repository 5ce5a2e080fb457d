/* SPDX-License-Identifier: MIT */
/*
 * main.c - dispatcherd: runs the handlers that puts name, for one or more
 * namespaces, from one io_uring event loop.
 *
 *   dispatcherd [-N DIR]... [--foreground] [--config FILE] [-v] [-q]
 *
 * Start-up: probe the sandbox and io_uring, open every namespace (lock,
 * config, records, trigger log, dispatch socket), read each backlog, tell
 * systemd READY=1, then loop. Signals arrive through a signalfd read on
 * the ring: SIGTERM/SIGINT stop taking calls and wait for the running ones
 * (a second one kills them; they run again at the next start), SIGHUP
 * reloads every woof.conf and opens fenced namespaces again.
 *
 * Fencing: everything done for a namespace runs under guard.c's recovery
 * point. A fault on a mapping of one of its files (a handler truncated the
 * trigger log, a WOOF, .woof/calls ...) fences that namespace (nsd_fence)
 * and the loop goes on with the others; so does damage found when it is
 * opened. Exit status: 0 after a clean stop, 1 when a namespace cannot be
 * served for a reason that is not damage in its files (not a directory,
 * served by another dispatcherd, a bad woof.conf) or when every namespace
 * is fenced at start (nothing to serve), 2 for usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "dispatcherd.h"
#include "guard.h"

#ifndef DISPATCHERD_VERSION
#define DISPATCHERD_VERSION "0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dispatcherd [-N DIR]... [--foreground] [--config FILE] [-v] [-q]\n"
		"\n"
		"Run the handlers that puts name, for the namespaces DIR (default: $WOOFC_DIR,\n"
		"else the current directory).\n"
		"\n"
		"  -N, --namespace DIR  serve the namespace in DIR (repeatable)\n"
		"  -f, --foreground     stay in the foreground (the default; for clarity in units)\n"
		"  -c, --config FILE    read FILE instead of each namespace's woof.conf\n"
		"  -v, --verbose        more messages (-vv: debug)\n"
		"  -q, --quiet          errors and warnings only\n"
		"  -h, --help           this text\n"
		"  -V, --version        the version\n"
		"      --io-fallback    use only io_uring ops kernel 6.1 has (testing aid)\n"
		"\n"
		"Signals: TERM/INT stop after running calls end (twice: kill them), HUP reloads\n"
		"woof.conf. See dispatcherd(8).\n");
}

static struct daemon D;

static void sig_cb(struct loop_op *op, int res, bool more);

static void arm_signals(void)
{
	loop_read(&D.loop, &D.sig_op, D.sigfd, &D.ssi, sizeof(D.ssi));
}

static void notify_status(void)
{
	unsigned running = 0, queued = 0;

	for (unsigned i = 0; i < D.nns; i++) {
		running += D.nss[i]->running;
		queued += D.nss[i]->queued;
	}
	notify_send("STATUS=%s %u namespace(s): %u running, %u queued",
		    D.stopping ? "stopping;" : "serving", D.nns, running, queued);
}

static void sig_cb(struct loop_op *op, int res, bool more)
{
	(void)op;
	(void)more;
	if (res == (int)sizeof(D.ssi)) {
		switch (D.ssi.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (!D.stopping) {
				D.stopping = true;
				log_notice("%s: stopping: no new calls; waiting for running ones "
					   "(send it again to kill them)", strsignal((int)D.ssi.ssi_signo));
				notify_send("STOPPING=1");
				for (unsigned i = 0; i < D.nns; i++)
					nsd_stop(D.nss[i]);
			} else if (!D.fast_stop) {
				D.fast_stop = true;
				log_notice("%s again: killing running calls; they run again at the "
					   "next start", strsignal((int)D.ssi.ssi_signo));
				for (unsigned i = 0; i < D.nns; i++)
					nsd_kill_all(D.nss[i]);
			}
			break;
		case SIGHUP:
			D.reload = true;
			break;
		default:
			break;
		}
	} else if (res < 0 && res != -EAGAIN && res != -EINTR) {
		log_err("signalfd read: %s", strerror(-res));
	}
	arm_signals();
}

/* After a fault: fence the namespace whose file it was (guard.c found it). */
static void fence_faulted(void)
{
	const struct guard_fault *f = guard_last();
	char why[sizeof(((struct nsd *)0)->fence_reason)];
	struct nsd *n = (unsigned)f->ns < D.nns ? D.nss[f->ns] : NULL;

	if (D.opening) {
		/* nsd_open() was at work: main's open_ns() takes it from here */
		n = D.opening;
	}
	if (!n) {
		/* a directory we named to the guard but serve no more: cannot happen */
		log_err("fault on %s, of no served namespace", f->file);
		abort();
	}
	guard_describe(f, D.guard_paths[f->ns], why, sizeof(why));
	nsd_fence(n, why);
}

/* Run @fn(@arg) with the guard armed: a fault in a namespace's file fences it. */
static void guarded(void (*fn)(void *), void *arg)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1)) {
		fence_faulted();
		return;
	}
	guard_arm(&jb);
	fn(arg);
	guard_disarm();
}

static int turn_ret;

static void turn_io(void *arg)
{
	(void)arg;
	turn_ret = loop_run_once(&D.loop);
}

static void turn_ns(void *arg)
{
	nsd_after_turn(arg);
}

static void start_ns(void *arg)
{
	struct nsd *n = arg;

	if (!n->fenced)
		nsd_start(n);
}

static void reload_ns(void *arg)
{
	nsd_reload(arg);
}

static int open_ret;
static const char *open_dir;
static struct nsd *opened;

static void open_one(void *arg)
{
	(void)arg;
	opened = NULL;
	open_ret = nsd_open(&D, open_dir, &opened);
}

/*
 * Open namespace @i from @dir into D.nss[i]: 0, or -errno when it cannot
 * be served for a reason other than damage in its files. Damage, and a
 * fault while opening, leave it fenced.
 */
static int open_ns(unsigned i, const char *dir)
{
	char *rp = realpath(dir, NULL);

	snprintf(D.guard_paths[i], sizeof(D.guard_paths[i]), "%s", rp ? rp : dir);
	free(rp);
	open_dir = dir;
	D.opening = NULL;
	opened = NULL;
	open_ret = -EIO;
	guarded(open_one, NULL);
	if (D.opening) {
		/* it faulted in nsd_open(): fenced (fence_faulted) */
		opened = D.opening;
		D.opening = NULL;
		open_ret = 0;
	}
	if (open_ret)
		return open_ret;
	D.nss[i] = opened;
	return 0;
}

/*
 * SIGHUP: open every fenced namespace again (after `woofctl ns repair`).
 * Its old state lets go of the lock first; if it cannot be opened, it
 * stays fenced (or, not damaged but not servable, it stays as it was).
 */
static bool reopen_pending;

static void reopen_fenced(void)
{
	reopen_pending = false;
	for (unsigned i = 0; i < D.nns; i++) {
		struct nsd *old = D.nss[i];
		char path[PATH_MAX];

		if (!old->fenced)
			continue;
		if (!old->fence_done || old->status_op.busy) {
			/* its calls are still being reaped, or a status timer runs: soon */
			loop_cancel(&D.loop, &old->status_op);
			reopen_pending = true;
			continue;
		}
		snprintf(path, sizeof(path), "%s", old->path);
		log_notice("%s: SIGHUP: opening the fenced namespace again", path);
		nsd_close(old);
		D.nss[i] = NULL;
		if (open_ns(i, path)) {
			log_err("%s: cannot be served: it stays out (see the errors above)", path);
			D.nss[i] = NULL;
			continue;
		}
		guarded(start_ns, D.nss[i]);
	}
	/* namespaces that could not be opened at all leave a gap: close it */
	{
		unsigned k = 0;

		for (unsigned i = 0; i < D.nns; i++) {
			if (D.nss[i] && k != i)
				memcpy(D.guard_paths[k], D.guard_paths[i], sizeof(D.guard_paths[k]));
			if (D.nss[i])
				D.nss[k++] = D.nss[i];
		}
		for (unsigned i = k; i < D.nns; i++)
			D.guard_paths[i][0] = '\0';	/* no longer guarded */
		D.nns = k;
	}
}

static void last_status(void *arg)
{
	/* the last word: wait out a reader holding the file's lock */
	for (int k = 0; k < 100 && status_write(arg) == -EAGAIN; k++)
		usleep(1000);
}

static bool all_idle(void)
{
	for (unsigned i = 0; i < D.nns; i++)
		if (!nsd_idle(D.nss[i]))
			return false;
	return true;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	/* each running call holds a pidfd and two pipe ends */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "namespace", required_argument, NULL, 'N' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "io-fallback", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char **dirs = NULL;
	bool io_fallback = false;
	unsigned ndirs = 0;
	char cwd[PATH_MAX], text[512];
	sigset_t mask;
	int c, ret, status = 0;

	/*
	 * A burst allocates and frees thousands of calls: keep the freed heap
	 * instead of giving it back and faulting it in again (page faults
	 * under malloc were 15% of the daemon's time in a burst).
	 */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_TOP_PAD, 4 << 20);

	while ((c = getopt_long(argc, argv, "N:fc:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			dirs = realloc(dirs, (ndirs + 1) * sizeof(*dirs));
			if (!dirs) {
				fprintf(stderr, "dispatcherd: out of memory\n");
				return 1;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'f':
			break;
		case 'F':
			io_fallback = true;
			break;
		case 'c':
			D.config_override = optarg;
			break;
		case 'v':
			log_level = log_level < L_INFO ? L_INFO : L_DEBUG;
			break;
		case 'q':
			log_level = L_WARN;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("dispatcherd %s (libwoof %s)\n", DISPATCHERD_VERSION, woof_version());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dispatcherd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!ndirs) {
		const char *env = getenv("WOOFC_DIR");

		if (!env || !*env) {
			if (!getcwd(cwd, sizeof(cwd))) {
				log_err("getcwd: %s", strerror(errno));
				return 1;
			}
			env = cwd;
		}
		dirs = malloc(sizeof(*dirs));
		if (!dirs)
			return 1;
		dirs[ndirs++] = env;
	}

	notify_init();
	raise_nofile();
	D.sigfd = -1;
	D.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (D.devnull < 0) {
		log_err("/dev/null: %s", strerror(errno));
		return 1;
	}

	/* signals come through the ring; block them before anything can fork */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		log_err("sigprocmask: %s", strerror(errno));
		return 1;
	}
	D.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (D.sigfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return 1;
	}
	/* SIGCHLD keeps its default (ignored, children not auto-reaped): pidfds tell exits */

	ret = loop_init(&D.loop, 256);
	if (ret) {
		log_err("io_uring: %s%s", strerror(-ret),
			ret == -EPERM ? " (io_uring disabled by kernel.io_uring_disabled?)" : "");
		return 1;
	}
	if (io_fallback) {
		/* what a 6.1 kernel offers: test the fallback paths on a newer one */
		D.loop.feat.waitid = D.loop.feat.futex = D.loop.feat.read_multishot = false;
	}
	loop_describe(&D.loop, text, sizeof(text));
	log_info("%s", text);

	ret = sandbox_probe(&D.caps);
	if (ret)
		log_warn("sandbox probe: %s", strerror(-ret));
	sandbox_describe(&D.caps, D.caps_text, sizeof(D.caps_text));
	{
		/* say exactly what is not enforced on this host (each line says what and why) */
		const char *p = D.caps.why_not;

		while (*p) {
			const char *nl = strchr(p, '\n');
			int len = nl ? (int)(nl - p) : (int)strlen(p);

			if (len)
				log_notice("%.*s", len, p);
			p += len + (nl ? 1 : 0);
		}
	}

	D.nss = calloc(ndirs, sizeof(*D.nss));
	D.guard_paths = calloc(ndirs, sizeof(*D.guard_paths));
	if (!D.nss || !D.guard_paths)
		return 1;
	D.nns_max = ndirs;
	ret = guard_init(&D);
	if (ret)
		log_warn("SIGBUS guard: %s: a damaged namespace file kills dispatcherd",
			 strerror(-ret));
	for (unsigned i = 0; i < ndirs; i++) {
		ret = open_ns(D.nns, dirs[i]);
		if (ret) {
			log_err("cannot serve %s; exiting", dirs[i]);
			status = 1;
			goto out;
		}
		D.nns++;
	}
	free(dirs);
	dirs = NULL;
	{
		/* fenced ones wait for a repair; with none left to serve, say so and exit */
		unsigned serving = 0;

		for (unsigned i = 0; i < D.nns; i++)
			serving += !D.nss[i]->fenced;
		if (!serving) {
			log_err("no namespace can be served (all fenced, see above); exiting");
			status = 1;
			goto out;
		}
	}

	D.sig_op.cb = sig_cb;
	arm_signals();
	for (unsigned i = 0; i < D.nns; i++)
		guarded(start_ns, D.nss[i]);
	for (unsigned i = 0; i < D.nns; i++)
		guarded(turn_ns, D.nss[i]);
	notify_send("READY=1\nMAINPID=%d", (int)getpid());
	notify_status();
	log_notice("ready: pid %d, %u namespace(s), io_uring %s", (int)getpid(), D.nns,
		   D.loop.feat.waitid ? "with WAITID" : "with pidfd polls");

	for (;;) {
		if (D.stopping && all_idle())
			break;
		turn_ret = 0;
		guarded(turn_io, NULL);
		if (turn_ret < 0) {
			log_err("event loop: %s", strerror(-turn_ret));
			status = 1;
			break;
		}
		if (D.reload) {
			D.reload = false;
			notify_send("RELOADING=1");
			for (unsigned i = 0; i < D.nns; i++)
				guarded(reload_ns, D.nss[i]);
			if (!D.stopping)
				reopen_fenced();
			notify_send("READY=1");
		} else if (reopen_pending && !D.stopping) {
			reopen_fenced();
		}
		for (unsigned i = 0; i < D.nns; i++)
			guarded(turn_ns, D.nss[i]);
		{
			uint64_t now = now_mono_ns();

			if (now - D.last_notify_ns > 1000000000ULL) {
				D.last_notify_ns = now;
				notify_status();
			}
		}
	}
	log_notice("stopped");
	D.stopped = true;
out:
	for (unsigned i = 0; i < D.nns; i++) {
		if (D.nss[i]->status_dirty || D.stopping)
			guarded(last_status, D.nss[i]);
		nsd_close(D.nss[i]);
	}
	free(D.nss);
	free(D.guard_paths);
	free(dirs);
	loop_exit(&D.loop);
	close(D.sigfd);
	close(D.devnull);
	return status;
}
