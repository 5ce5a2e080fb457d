/* SPDX-License-Identifier: MIT */
/*
 * report.c - woof-bench's two outputs: an aligned table for people and one
 * JSON object ("schema": 1) for scripts, plus the host facts both print
 * (kernel release, CPU model, CPU count, clocksource, the syscall
 * mitigation that sets the syscall floor, the namespace's filesystem).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <woof.h>

#include "bench.h"

struct host_info {
	char kernel[128];
	char cpu[128];
	long nproc;
	char clocksource[64];
	char meltdown[96];
	char date[32];
};

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void host_info(struct host_info *h)
{
	struct utsname u;
	char line[256];
	FILE *f;
	time_t now = time(NULL);

	snprintf(h->kernel, sizeof(h->kernel), "unknown");
	if (uname(&u) == 0)
		snprintf(h->kernel, sizeof(h->kernel), "%s", u.release);
	snprintf(h->cpu, sizeof(h->cpu), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':');

			if (strncmp(line, "model name", 10) != 0 || !colon)
				continue;
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(h->cpu, sizeof(h->cpu), "%s", colon);
			break;
		}
		fclose(f);
	}
	h->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  h->clocksource, sizeof(h->clocksource));
	read_line("/sys/devices/system/cpu/vulnerabilities/meltdown",
		  h->meltdown, sizeof(h->meltdown));
	strftime(h->date, sizeof(h->date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
}

void report_fs_type(const char *dir, char *buf, size_t len)
{
	static const struct { unsigned long magic; const char *name; } fs[] = {
		{ 0xEF53, "ext4" }, { 0x01021994, "tmpfs" }, { 0x58465342, "xfs" },
		{ 0x9123683E, "btrfs" }, { 0x794c7630, "overlayfs" },
		{ 0x6969, "nfs" }, { 0x01021997, "9p" }, { 0x65735546, "fuse" },
		{ 0xF2F52010, "f2fs" },
	};
	struct statfs st;

	snprintf(buf, len, "unknown");
	if (statfs(dir, &st) != 0)
		return;
	snprintf(buf, len, "fs magic %#lx", (unsigned long)st.f_type);
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if ((unsigned long)st.f_type == fs[i].magic)
			snprintf(buf, len, "%s", fs[i].name);
}

/* ---- shared arithmetic --------------------------------------------------- */

/* The floor a figure's "x ring" ratio is taken against, or NULL. */
static const struct figure *ring_floor(const struct bench *b, const struct figure *f)
{
	const struct figure *r = &b->floor[f->floor_for_ring];

	return r->measured ? r : NULL;
}

/*
 * Cost relative to a floor: median ns per op over the floor's median ns per
 * op. For throughput against the ring floor this equals ring rate / rate.
 */
static double ratio(double ns, const struct figure *floor)
{
	if (!floor || !floor->measured || !(floor->median_ns > 0))
		return 0;
	return ns / floor->median_ns;
}

/* 1 pass, 0 miss, -1 no target */
static int verdict(const struct figure *f)
{
	switch (f->target) {
	case TARGET_MAX_NS:
		return f->median_ns <= f->target_value;
	case TARGET_MIN_RATE:
		return f->rate >= f->target_value;
	default:
		return -1;
	}
}

/* the "result" column: PASS, MISS, or nothing without a target */
static const char *verdict_word(const struct figure *f)
{
	switch (verdict(f)) {
	case 1: return "PASS";
	case 0: return "MISS";
	default: return "";
	}
}

/* ---- human output -------------------------------------------------------- */

static const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%.1f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.2f us", ns / 1e3);
	else
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	return buf;
}

static const char *fmt_rate(char *buf, size_t len, double rate)
{
	if (rate >= 1e6)
		snprintf(buf, len, "%.2f M/s", rate / 1e6);
	else if (rate >= 1e4)
		snprintf(buf, len, "%.1f k/s", rate / 1e3);
	else
		snprintf(buf, len, "%.0f /s", rate);	/* handlers: every call counts */
	return buf;
}

static const char *fmt_ratio(char *buf, size_t len, double r)
{
	if (!(r > 0))
		snprintf(buf, len, "-");
	else if (r < 0.01)
		snprintf(buf, len, "%.4fx", r);
	else if (r < 1)
		snprintf(buf, len, "%.3fx", r);
	else if (r < 10)
		snprintf(buf, len, "%.2fx", r);
	else
		snprintf(buf, len, "%.0fx", r);
	return buf;
}

static const char *fmt_target(char *buf, size_t len, const struct figure *f)
{
	char v[24];

	switch (f->target) {
	case TARGET_MAX_NS:
		snprintf(buf, len, "<= %s", fmt_ns(v, sizeof(v), f->target_value));
		break;
	case TARGET_MIN_RATE:
		snprintf(buf, len, ">= %s", fmt_rate(v, sizeof(v), f->target_value));
		break;
	default:
		snprintf(buf, len, "-");
	}
	return buf;
}

/*
 * The "median", "p99/worst" and count columns (@len bytes each): ns per op
 * and @count; for a throughput the rates of the median and of the slowest
 * run, and @runs x the operations per run.
 */
static void fmt_columns(const struct figure *f, char *med, char *p99, char *n, size_t len,
			unsigned long long runs, unsigned long long count)
{
	if (f->throughput) {
		fmt_rate(med, len, f->rate);
		fmt_rate(p99, len, f->worst_rate);
		snprintf(n, len, "%llux%llu", runs, (unsigned long long)f->ops);
	} else {
		fmt_ns(med, len, f->median_ns);
		fmt_ns(p99, len, f->p99_ns);
		snprintf(n, len, "%llu", count);
	}
}

static void human_row(const struct bench *b, const struct figure *f, bool is_floor)
{
	char med[32], p99[32], rs[16], rr[16], tg[48], batch[32];

	if (!f->measured) {
		if (f->selected)
			printf("%-32s %10s\n", f->label, "not measured");
		return;
	}
	fmt_columns(f, med, p99, batch, sizeof(med), f->procs, f->batch);
	if (is_floor) {
		printf("%-32s %11s %11s %9s %8s %9zu %7ld\n", f->label, med, p99,
		       fmt_ratio(rs, sizeof(rs),
				 f == &b->floor[FLOOR_TIMER] ? 0 :
				 ratio(f->median_ns, &b->floor[FLOOR_SYSCALL])),
		       batch, f->samples, f->faults);
		return;
	}
	printf("%-32s %11s %11s %9s %8s %9s %9zu %7ld  %-12s %s\n", f->label, med, p99,
	       fmt_ratio(rs, sizeof(rs), ratio(f->median_ns, &b->floor[FLOOR_SYSCALL])),
	       fmt_ratio(rr, sizeof(rr), ratio(f->median_ns, ring_floor(b, f))),
	       batch, f->samples, f->faults, fmt_target(tg, sizeof(tg), f), verdict_word(f));
}

/* ---- the handler runtimes (handler.c) -------------------------------------- */

/* Cost of @f relative to floor @fl: ns per call (median) over the floor's. */
static double h_ratio(const struct figure *f, const struct figure *fl)
{
	if (!f->measured || !fl->measured || !(fl->median_ns > 0))
		return 0;
	return f->median_ns / fl->median_ns;
}

static const struct figure *h_floor_for(const struct bench *b, const struct figure *f,
					bool spawn)
{
	if (f->throughput)
		return &b->h.floor[spawn ? HFLOOR_SPAWN_TPUT : HFLOOR_FORK_TPUT];
	return &b->h.floor[spawn ? HFLOOR_SPAWN : HFLOOR_FORK];
}

static void human_handlers(const struct bench *b)
{
	const struct hbench *h = &b->h;
	char med[32], p99[32], r1[16], r2[16], tg[48], n[32];

	if (!h->wanted)
		return;
	printf("\nhandler runtimes through dispatcherd\n");
	if (!h->ran && !h->floor[HFLOOR_FORK].measured) {
		printf("  not measured: %s\n", h->why_not[0] ? h->why_not : "see FAIL lines");
		return;
	}
	printf("dispatcherd %s\n", h->dispatcherd);
	printf("method     latency: CLOCK_MONOTONIC stamped into the element just before the put;\n"
	       "           the handler's first statement stamps it again and appends both to a\n"
	       "           result WOOF; one call at a time (the next put once dispatcherd has\n"
	       "           recorded the end of the last), so each call meets an idle daemon and\n"
	       "           runtime. throughput: a burst of N puts; first\n"
	       "           put to last result; %u run(s), median and slowest. Floors: fork() until\n"
	       "           the child runs, posix_spawn() of a tiny dynamic program until main();\n"
	       "           rates with one start+exit+wait loop per CPU. x floor = ns per call over\n"
	       "           the floor's. Namespace: max_concurrent %u, warm workers %u.\n",
	       h->tput_reps, h->max_concurrent, h->warm_workers);
	printf("\n%-34s %11s %11s %9s\n", "floor", "median", "p99/worst", "n");
	for (int i = 0; i < HFLOOR_COUNT; i++) {
		const struct figure *f = &h->floor[i];

		if (!f->measured)
			continue;
		fmt_columns(f, med, p99, n, sizeof(med), f->procs, f->samples);
		printf("%-34s %11s %11s %9s\n", f->label, med, p99, n);
	}
	printf("\n%-34s %11s %11s %11s %9s %9s  %-12s %s\n", "figure", "median", "p99/worst",
	       "x fork+exec", "x fork", "n", "target", "result");
	for (int i = 0; i < HFIG_COUNT; i++) {
		const struct figure *f = &h->fig[i];

		if (!f->measured) {
			printf("%-34s %11s\n", f->label, "not measured");
			continue;
		}
		fmt_columns(f, med, p99, n, sizeof(med), f->samples, f->samples);
		printf("%-34s %11s %11s %11s %9s %9s  %-12s %s\n", f->label, med, p99,
		       fmt_ratio(r1, sizeof(r1), h_ratio(f, h_floor_for(b, f, true))),
		       fmt_ratio(r2, sizeof(r2), h_ratio(f, h_floor_for(b, f, false))), n,
		       fmt_target(tg, sizeof(tg), f), verdict_word(f));
	}
}

void report_human(const struct bench *b)
{
	struct host_info h;
	char t[32];

	host_info(&h);
	printf("woof-bench (libwoof %s, %s engine), %s\n", woof_version(), b->engine, h.date);
	printf("host       kernel %s, %s, %ld CPUs, clocksource %s, meltdown: %s\n",
	       h.kernel, h.cpu, h.nproc, h.clocksource, h.meltdown);
	printf("namespace  %s (%s), element %llu B, history %llu, prefill %llu appends%s\n",
	       b->ns_dir, b->fs_type, (unsigned long long)b->cfg.element_size,
	       (unsigned long long)b->cfg.history, (unsigned long long)b->prefilled,
	       b->prefill_complete ? "" : " (time budget hit: not every page prefaulted)");
	printf("method     latency: clock_gettime(CLOCK_MONOTONIC) around a batch of B consecutive\n"
	       "           ops, divided by B (B picked per figure so a batch lasts ~2 us, max %u);\n"
	       "           median and nearest-rank p99 over the samples; after a warm-up of >= %.0f ms.\n"
	       "           Nothing is subtracted: the timer's cost per batch is the first floor.\n"
	       "           throughput: P forked processes (pinned when P = 2), %u appends each after a\n"
	       "           warm-up of one history, released together by a shared-memory barrier; wall\n"
	       "           time from the common start to the last finish; %u runs, median and slowest\n"
	       "           shown; runs alternate with runs of the shared-ring floor.\n"
	       "           x syscall = median / getppid() median; x ring = median / mapped-ring floor\n"
	       "           median (throughput: ns per append vs the shared ring with as many processes).\n",
	       BENCH_BATCH_MAX, (double)b->cfg.warm_ns / 1e6,
	       (unsigned)b->cfg.appends, b->cfg.reps);
	printf("\n%-32s %11s %11s %9s %8s %9s %7s\n", "floor", "median", "p99/worst",
	       "x syscall", "batch", "samples", "faults");
	for (int i = 0; i < FLOOR_COUNT; i++)
		human_row(b, &b->floor[i], true);
	printf("\n%-32s %11s %11s %9s %8s %9s %9s %7s  %-12s %s\n", "figure", "median",
	       "p99/worst", "x syscall", "x ring", "batch", "samples", "faults",
	       "target", "result");
	for (int i = 0; i < FIG_COUNT; i++)
		human_row(b, &b->fig[i], false);
	printf("\n");
	for (int i = 0; i < FIG_COUNT; i++) {
		const struct figure *f = &b->fig[i];

		if (f->measured && f->note)
			printf("note       %s: %s\n", f->label, f->note);
	}
	for (int i = 0; i < FIG_COUNT; i++) {
		const struct figure *f = &b->fig[i];

		if (f->measured && f->reference_ns > 0)
			printf("reference  %s: CSPOT %s on this machine kind; this run %.0fx faster\n",
			       f->label, fmt_ns(t, sizeof(t), f->reference_ns),
			       f->reference_ns / f->median_ns);
	}
	human_handlers(b);
	printf("\n");
	if (b->failures)
		printf("result     %d correctness failure(s), see FAIL lines\n", b->failures);
	else
		printf("result     no correctness failures\n");
}

/* ---- JSON output --------------------------------------------------------- */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_num(double v)
{
	if (v != v || v > 1e300 || v < -1e300)
		printf("null");
	else
		printf("%.6g", v);
}

/* what every object of a figure or floor starts with; the "}" is the caller's */
static void json_figure_head(const struct figure *f)
{
	printf("{\"name\":");
	json_str(f->name);
	printf(",\"label\":");
	json_str(f->label);
	printf(",\"kind\":\"%s\",\"median_ns\":", f->throughput ? "throughput" : "latency");
	json_num(f->median_ns);
	printf(",\"p99_ns\":");
	json_num(f->p99_ns);
}

/* "target" (the rate's metric called @rate_metric) and "pass" */
static void json_target(const struct figure *f, const char *rate_metric)
{
	int v = verdict(f);

	printf(",\"target\":");
	if (f->target == TARGET_MAX_NS)
		printf("{\"metric\":\"median_ns\",\"max\":%.0f}", f->target_value);
	else if (f->target == TARGET_MIN_RATE)
		printf("{\"metric\":\"%s\",\"min\":%.0f}", rate_metric, f->target_value);
	else
		printf("null");
	printf(",\"pass\":%s", v < 0 ? "null" : v ? "true" : "false");
}

static void json_figure(const struct bench *b, const struct figure *f, bool is_floor)
{
	json_figure_head(f);
	printf(",\"min_ns\":");
	json_num(f->min_ns);
	printf(",\"ratio_to_floor\":");
	if (f == &b->floor[FLOOR_TIMER])
		printf("null");
	else
		json_num(ratio(f->median_ns, &b->floor[FLOOR_SYSCALL]));
	if (!is_floor) {
		const struct figure *r = ring_floor(b, f);

		printf(",\"ratio_to_ring_floor\":");
		if (r)
			json_num(ratio(f->median_ns, r));
		else
			printf("null");
	}
	printf(",\"samples\":%zu,\"batch\":%u,\"faults\":%ld", f->samples, f->batch,
	       f->faults);
	if (f->throughput) {
		printf(",\"appends_per_s\":");
		json_num(f->rate);
		printf(",\"worst_appends_per_s\":");
		json_num(f->worst_rate);
		printf(",\"processes\":%u,\"appends_per_process\":%llu,\"pinned\":%s",
		       f->procs, (unsigned long long)f->ops, f->pinned ? "true" : "false");
	}
	if (!is_floor) {
		json_target(f, "appends_per_s");
		printf(",\"reference_ns\":");
		if (f->reference_ns > 0)
			json_num(f->reference_ns);
		else
			printf("null");
		if (f->note) {
			printf(",\"note\":");
			json_str(f->note);
		}
	}
	printf("}");
}

static void json_floor(const struct bench *b, const struct figure *f)
{
	json_figure(b, f, true);
}

static void json_fig(const struct bench *b, const struct figure *f)
{
	json_figure(b, f, false);
}

static void json_handler_floor(const struct bench *b, const struct figure *f)
{
	(void)b;
	json_figure_head(f);
	if (f->throughput) {
		printf(",\"per_s\":");
		json_num(f->rate);
		printf(",\"processes\":%u", f->procs);
	}
	printf(",\"samples\":%zu}", f->samples);
}

static void json_handler_fig(const struct bench *b, const struct figure *f)
{
	json_figure_head(f);
	printf(",\"min_ns\":");
	json_num(f->min_ns);
	if (f->throughput) {
		printf(",\"calls_per_s\":");
		json_num(f->rate);
		printf(",\"worst_calls_per_s\":");
		json_num(f->worst_rate);
		printf(",\"calls_per_run\":%llu", (unsigned long long)f->ops);
	}
	printf(",\"ratio_to_fork_exec\":");
	json_num(h_ratio(f, h_floor_for(b, f, true)));
	printf(",\"ratio_to_fork\":");
	json_num(h_ratio(f, h_floor_for(b, f, false)));
	printf(",\"samples\":%zu", f->samples);
	json_target(f, "calls_per_s");
	printf("}");
}

/* the measured ones of the @n figures at @v, by @one, separated by commas */
static void json_list(const struct bench *b, const struct figure *v, int n,
		      void (*one)(const struct bench *b, const struct figure *f))
{
	bool first = true;

	for (int i = 0; i < n; i++) {
		if (!v[i].measured)
			continue;
		if (!first)
			putchar(',');
		first = false;
		one(b, &v[i]);
	}
}

/* "handlers": {...} - present when the section was asked for */
static void json_handlers(const struct bench *b)
{
	const struct hbench *h = &b->h;

	if (!h->wanted)
		return;
	printf(",\"handlers\":{\"measured\":%s,\"dispatcherd\":", h->ran ? "true" : "false");
	json_str(h->dispatcherd);
	printf(",\"why_not\":");
	if (h->ran)
		printf("null");
	else
		json_str(h->why_not);
	printf(",\"max_concurrent\":%u,\"warm_workers\":%u,\"floors\":[", h->max_concurrent,
	       h->warm_workers);
	json_list(b, h->floor, HFLOOR_COUNT, json_handler_floor);
	printf("],\"figures\":[");
	json_list(b, h->fig, HFIG_COUNT, json_handler_fig);
	printf("]}");
}

void report_json(const struct bench *b)
{
	struct host_info h;

	host_info(&h);
	printf("{\"schema\":%d,\"tool\":\"woof-bench\",\"library_version\":", BENCH_SCHEMA);
	json_str(woof_version());
	printf(",\"engine\":");
	json_str(b->engine);
	printf(",\"date\":");
	json_str(h.date);
	printf(",\"host\":{\"kernel\":");
	json_str(h.kernel);
	printf(",\"cpu\":");
	json_str(h.cpu);
	printf(",\"nproc\":%ld,\"clocksource\":", h.nproc);
	json_str(h.clocksource);
	printf(",\"meltdown\":");
	json_str(h.meltdown);
	printf("},\"config\":{\"element_size\":%llu,\"history\":%llu,\"iterations\":%llu,"
	       "\"appends\":%llu,\"reps\":%u,\"quick\":%s,\"dir\":",
	       (unsigned long long)b->cfg.element_size, (unsigned long long)b->cfg.history,
	       (unsigned long long)b->cfg.iterations, (unsigned long long)b->cfg.appends,
	       b->cfg.reps, b->cfg.quick ? "true" : "false");
	json_str(b->ns_dir);
	printf(",\"fs\":");
	json_str(b->fs_type);
	printf(",\"prefilled\":%llu,\"prefill_complete\":%s}",
	       (unsigned long long)b->prefilled, b->prefill_complete ? "true" : "false");
	printf(",\"method\":{\"clock\":\"clock_gettime(CLOCK_MONOTONIC)\","
	       "\"latency\":\"per-op = batch time / batch size; median and nearest-rank p99 over batches; nothing subtracted\","
	       "\"throughput\":\"P forked processes, one CPU each, released by a shared-memory barrier; wall time from common start to last finish; median and slowest of the runs; runs alternate with the shared-ring floor\","
	       "\"ratio_to_floor\":\"median_ns / getppid() median_ns\","
	       "\"ratio_to_ring_floor\":\"median_ns / mapped-ring floor median_ns\"}");
	printf(",\"floors\":[");
	json_list(b, b->floor, FLOOR_COUNT, json_floor);
	printf("],\"figures\":[");
	json_list(b, b->fig, FIG_COUNT, json_fig);
	printf("]");
	json_handlers(b);
	printf(",\"failures\":%d,\"ok\":%s}\n", b->failures, b->failures ? "false" : "true");
}
