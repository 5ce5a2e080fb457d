/* SPDX-License-Identifier: MIT */
/*
 * main.c - woof-bench: measure libwoof against its targets and against the
 * floors of this machine, in one run.
 *
 * It parses the options, makes a private namespace (a fresh directory under
 * $TMPDIR or --dir, set as WOOFC_DIR), measures the floors, the latency
 * figures (ops.c) and the throughput runs (throughput.c), prints a table or
 * one JSON object, and removes the namespace again.
 *
 * Exit status: 0 when every measurement ran and every result was correct,
 * even if a target was missed (MISS); 1 on a correctness failure (a FAIL
 * line on stderr) or when the benchmark could not be set up; 2 on a usage
 * error.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <woofc.h>

#include "bench.h"

static struct bench B;

static const struct {
	const char *name, *label;
	bool throughput;
	enum target_kind target;
	double target_value, reference_ns;
	int ring;
} fig_def[FIG_COUNT] = {
	[FIG_PUT]	  = { "put", "WooFPut by name, no handler", false,
			      TARGET_MAX_NS, 1000, 34000, FLOOR_RING },
	[FIG_APPEND]	  = { "append", "WooFAppend on a handle", false,
			      TARGET_NONE, 0, 0, FLOOR_RING },
	[FIG_GET]	  = { "get", "WooFGet by name, fixed seq", false,
			      TARGET_MAX_NS, 500, 33000, FLOOR_RING },
	[FIG_GET_LATEST]  = { "get_latest", "WooFGet by name, seq 0", false,
			      TARGET_NONE, 0, 0, FLOOR_RING },
	[FIG_READ]	  = { "read", "WooFRead on a handle, fixed seq", false,
			      TARGET_NONE, 0, 0, FLOOR_RING },
	[FIG_READ_LATEST] = { "read_latest", "WooFRead on a handle, seq 0", false,
			      TARGET_NONE, 0, 0, FLOOR_RING },
	[FIG_TPUT_1P]	  = { "throughput_1p", "append throughput, 1 process", true,
			      TARGET_NONE, 0, 0, FLOOR_RING_TPUT_1P },
	[FIG_TPUT_2P]	  = { "throughput_2p", "append throughput, 2 processes", true,
			      TARGET_MIN_RATE, 10e6, 0, FLOOR_RING_TPUT_2P },
};

static const struct {
	const char *name, *label;
	bool throughput;
} floor_def[FLOOR_COUNT] = {
	[FLOOR_TIMER]	     = { "timer", "clock_gettime pair (timer)", false },
	[FLOOR_SYSCALL]	     = { "syscall", "syscall floor: getppid()", false },
	[FLOOR_RING]	     = { "ring", "mapped ring: memcpy+release", false },
	[FLOOR_RING_TPUT_1P] = { "ring_throughput_1p", "shared ring: xadd, 1 process", true },
	[FLOOR_RING_TPUT_2P] = { "ring_throughput_2p", "shared ring: xadd, 2 processes", true },
};

static void usage(FILE *out)
{
	fprintf(out,
"usage: woof-bench [options]\n"
"Measure libwoof (CSPOT API) latency and throughput against this machine's floors.\n"
"\n"
"  --element-size N   bytes per element (default 64)\n"
"  --history N        elements per WOOF (default 1048576, fewer for big elements)\n"
"  --iterations N     timed batches per latency figure (default 20000)\n"
"  --appends N        appends per process per throughput run (default 1000000)\n"
"  --reps N           throughput runs per process count (default 5, max %u)\n"
"  --quick            small counts (about 2 s); for checking that the tool runs\n"
"  --json             print one JSON object (\"schema\": 1) instead of a table\n"
"  --dir DIR          make the temporary namespace under DIR (default $TMPDIR or /tmp)\n"
"  --only LIST        only these figures, comma-separated: put, append, get,\n"
"                     get_latest, read, read_latest, throughput_1p, throughput_2p,\n"
"                     throughput (both); the floors are always measured\n"
"  --handlers         the handler runtimes through dispatcherd: put -> first line\n"
"                     of the handler and trivial handlers/s for exec, zygote and\n"
"                     warm, with the fork and fork+exec floors (alone, or with\n"
"                     --only; part of a full run, not of --quick)\n"
"  --no-handlers      leave them out of a full run\n"
"  --runtimes LIST    only these handler runtimes, comma-separated: exec,\n"
"                     zygote, warm (default: all three; implies --handlers)\n"
"  --dispatcherd PATH the dispatcherd to start (default: the build tree's, next\n"
"                     to woof-bench, else the installed one; $WOOF_DISPATCHERD)\n"
"  --handler-dir DIR  where the benchmark's handler files are (woof-bench-hb,\n"
"                     woof-bench-hb.so, woof-bench-spawnee; default: next to\n"
"                     woof-bench, else the install's libexec/woof)\n"
"  -h, --help         this help\n"
"\n"
"Exit status: 0 ok (even when a target is missed), 1 correctness failure,\n"
"2 usage error.\n", BENCH_MAX_REPS);
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || *s == '\0' || *s == '-')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "woof-bench: %s: expected a number from %llu to %llu, got '%s'\n",
		opt, (unsigned long long)min, (unsigned long long)max, s ? s : "");
	return -1;
}

static int parse_only(const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -1;
	for (int i = 0; i < FIG_COUNT; i++)
		B.fig[i].selected = false;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (int i = 0; i < FIG_COUNT; i++) {
			if (strcmp(tok, fig_def[i].name) == 0 ||
			    (strcmp(tok, "throughput") == 0 && fig_def[i].throughput)) {
				B.fig[i].selected = true;
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "woof-bench: --only: unknown figure '%s'\n", tok);
			ret = -1;
		}
	}
	free(copy);
	return ret;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void cleanup(void)
{
	if (!B.ns_created)
		return;
	B.ns_created = false;
	if (nftw(B.ns_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "woof-bench: could not remove %s: %s\n", B.ns_dir,
			strerror(errno));
}

/* Make the private namespace and point the CSPOT API at it. */
static int make_namespace(void)
{
	const char *base = B.cfg.base_dir;
	struct woof_ns *ns;
	int rc;

	if (!base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(B.ns_dir, sizeof(B.ns_dir), "%s/woof-bench.XXXXXX", base) >=
	    sizeof(B.ns_dir)) {
		fprintf(stderr, "woof-bench: %s: path too long\n", base);
		return -1;
	}
	if (!mkdtemp(B.ns_dir)) {
		fprintf(stderr, "woof-bench: cannot create a directory in %s: %s\n", base,
			strerror(errno));
		return -1;
	}
	B.ns_created = true;
	atexit(cleanup);
	rc = woof_ns_init(B.ns_dir, 0700);
	if (rc < 0) {
		fprintf(stderr, "woof-bench: woof_ns_init(%s): %s\n", B.ns_dir,
			woof_strerror(rc));
		return -1;
	}
	if (setenv("WOOFC_DIR", B.ns_dir, 1) != 0 || WooFInit() < 0) {
		fprintf(stderr, "woof-bench: WooFInit in %s: %s\n", B.ns_dir, strerror(errno));
		return -1;
	}
	snprintf(B.engine, sizeof(B.engine), "unknown");
	if (woof_ns_open(B.ns_dir, &ns) == 0) {
		snprintf(B.engine, sizeof(B.engine), "%s",
			 woof_ns_engine(ns) == WOOF_ENGINE_KERNEL ? "kernel" : "user");
		woof_ns_close(ns);
	}
	report_fs_type(B.ns_dir, B.fs_type, sizeof(B.fs_type));
	return 0;
}

/* --runtimes exec,zygote,warm: a bit per runtime (0 exec, 1 zygote, 2 warm). */
static int parse_runtimes(const char *arg, unsigned *mask)
{
	static const char *const names[3] = { "exec", "zygote", "warm" };
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", arg);
	*mask = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < 3 && strcmp(t, names[i]); i++)
			;
		if (i == 3) {
			fprintf(stderr, "woof-bench: --runtimes: unknown runtime '%s' "
				"(exec, zygote, warm)\n", t);
			return -1;
		}
		*mask |= 1u << i;
	}
	if (!*mask) {
		fprintf(stderr, "woof-bench: --runtimes: no runtime named\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_ESIZE = 256, O_HIST, O_ITER, O_APPENDS, O_REPS, O_QUICK, O_JSON,
	       O_DIR, O_ONLY, O_HANDLERS, O_NO_HANDLERS, O_DISPATCHERD, O_HANDLER_DIR,
	       O_RUNTIMES };
	static const struct option opts[] = {
		{ "element-size", required_argument, NULL, O_ESIZE },
		{ "history", required_argument, NULL, O_HIST },
		{ "iterations", required_argument, NULL, O_ITER },
		{ "appends", required_argument, NULL, O_APPENDS },
		{ "reps", required_argument, NULL, O_REPS },
		{ "quick", no_argument, NULL, O_QUICK },
		{ "json", no_argument, NULL, O_JSON },
		{ "dir", required_argument, NULL, O_DIR },
		{ "only", required_argument, NULL, O_ONLY },
		{ "handlers", no_argument, NULL, O_HANDLERS },
		{ "no-handlers", no_argument, NULL, O_NO_HANDLERS },
		{ "dispatcherd", required_argument, NULL, O_DISPATCHERD },
		{ "handler-dir", required_argument, NULL, O_HANDLER_DIR },
		{ "runtimes", required_argument, NULL, O_RUNTIMES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t esize = 64, hist = 0, iter = 0, appends = 0, reps = 0;
	bool only_given = false, no_handlers = false;
	int c;

	for (int i = 0; i < FIG_COUNT; i++) {
		B.fig[i].name = fig_def[i].name;
		B.fig[i].label = fig_def[i].label;
		B.fig[i].selected = true;
		B.fig[i].throughput = fig_def[i].throughput;
		B.fig[i].target = fig_def[i].target;
		B.fig[i].target_value = fig_def[i].target_value;
		B.fig[i].reference_ns = fig_def[i].reference_ns;
		B.fig[i].floor_for_ring = fig_def[i].ring;
	}
	handlers_init(&B);
	for (int i = 0; i < FLOOR_COUNT; i++) {
		B.floor[i].name = floor_def[i].name;
		B.floor[i].label = floor_def[i].label;
		B.floor[i].throughput = floor_def[i].throughput;
		B.floor[i].selected = i < FLOOR_RING_TPUT_1P;
	}

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_ESIZE:
			if (parse_u64("--element-size", optarg, 1, 1U << 20, &esize))
				return 2;
			break;
		case O_HIST:
			if (parse_u64("--history", optarg, 16, 1ULL << 28, &hist))
				return 2;
			break;
		case O_ITER:
			if (parse_u64("--iterations", optarg, 1, 100000000, &iter))
				return 2;
			break;
		case O_APPENDS:
			if (parse_u64("--appends", optarg, 1, 1ULL << 34, &appends))
				return 2;
			break;
		case O_REPS:
			if (parse_u64("--reps", optarg, 1, BENCH_MAX_REPS, &reps))
				return 2;
			break;
		case O_QUICK:
			B.cfg.quick = true;
			break;
		case O_JSON:
			B.cfg.json = true;
			break;
		case O_DIR:
			B.cfg.base_dir = optarg;
			break;
		case O_ONLY:
			if (parse_only(optarg))
				return 2;
			only_given = true;
			break;
		case O_HANDLERS:
			B.h.wanted = B.h.required = true;
			break;
		case O_NO_HANDLERS:
			no_handlers = true;
			break;
		case O_DISPATCHERD:
			B.h.dispatcherd_opt = optarg;
			break;
		case O_RUNTIMES:
			if (parse_runtimes(optarg, &B.h.rt_mask))
				return 2;
			B.h.wanted = B.h.required = true;
			break;
		case O_HANDLER_DIR:
			B.h.handler_dir_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "woof-bench: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* the handler section: asked for, or part of a full run */
	if (no_handlers)
		B.h.wanted = B.h.required = false;
	else if (!B.h.required && !B.cfg.quick && !only_given)
		B.h.wanted = true;
	if (B.h.required && !only_given)
		for (int i = 0; i < FIG_COUNT; i++)
			B.fig[i].selected = false;

	B.cfg.element_size = esize;
	if (!hist) {
		/* 1 Mi elements, but keep the file near 256 MiB at most */
		uint64_t cap = (256ULL << 20) / WOOF_SLOT_SIZE(esize);

		hist = B.cfg.quick ? 32768 : 1048576;
		if (hist > cap)
			hist = cap < 16 ? 16 : cap;
	}
	B.cfg.history = hist;
	B.cfg.iterations = iter ? iter : B.cfg.quick ? 5000 : 20000;
	B.cfg.appends = appends ? appends : B.cfg.quick ? 200000 : 1000000;
	B.cfg.reps = (unsigned)(reps ? reps : B.cfg.quick ? 3 : 5);
	B.cfg.warm_ns = B.cfg.quick ? 2000000ULL : 20000000ULL;
	B.cfg.prefill_budget_ns = B.cfg.quick ? 500000000ULL : 10000000000ULL;

	/* the tool reports failures itself, with FAIL lines */
	if (!getenv("WOOF_QUIET"))
		setenv("WOOF_QUIET", "1", 1);
	if (make_namespace() != 0)
		return 1;

	floor_timer(&B);
	floor_syscall(&B);
	floor_ring(&B);
	if (ops_setup(&B) == 0)
		ops_run(&B);
	ops_teardown(&B);
	tput_run_all(&B);
	handlers_run(&B);

	if (B.cfg.json)
		report_json(&B);
	else
		report_human(&B);
	fflush(stdout);
	cleanup();
	return B.failures ? 1 : 0;
}
