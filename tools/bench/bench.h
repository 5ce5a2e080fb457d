/* SPDX-License-Identifier: MIT */
/*
 * bench.h - shared declarations of woof-bench, the benchmark program.
 *
 * Every latency figure is measured the same way (BENCH_MEASURE below): a
 * warm-up that also estimates the cost of one operation, then `samples`
 * timed batches of `batch` consecutive operations, each timed with two
 * clock_gettime(CLOCK_MONOTONIC) calls and divided by `batch`. Median and
 * p99 are taken over these per-operation figures. Nothing is subtracted:
 * the timer's own cost (one clock_gettime pair per batch) is measured and
 * printed as a floor instead, so a reader can judge its share.
 */
#ifndef WOOF_BENCH_H
#define WOOF_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define BENCH_SCHEMA		1
#define BENCH_BATCH_TARGET_NS	2000.0	/* aim for batches of about 2 us */
#define BENCH_BATCH_MAX		64U	/* never average more ops than this */
#define BENCH_MAX_PROCS		2U
#define BENCH_MAX_REPS		64U
#define BENCH_TAG_MAGIC		0x57425400000000ULL	/* "WBT" << 32 in tags */

/* The latency figures and throughput runs, in report order. */
enum fig_id {
	FIG_PUT,		/* WooFPut by name, no handler */
	FIG_APPEND,		/* WooFAppend on a handle */
	FIG_GET,		/* WooFGet by name, fixed in-window seq */
	FIG_GET_LATEST,		/* WooFGet by name, seq 0 */
	FIG_READ,		/* WooFRead on a handle, fixed in-window seq */
	FIG_READ_LATEST,	/* WooFRead on a handle, seq 0 */
	FIG_TPUT_1P,		/* WooFAppend throughput, 1 process */
	FIG_TPUT_2P,		/* WooFAppend throughput, 2 processes */
	FIG_COUNT
};

/* The floors, measured in the same run as the figures. */
enum floor_id {
	FLOOR_TIMER,		/* one clock_gettime pair (the timer's own cost) */
	FLOOR_SYSCALL,		/* syscall(SYS_getppid) */
	FLOOR_RING,		/* memcpy into a private mapped ring + release store */
	FLOOR_RING_TPUT_1P,	/* shared mapped ring, xadd claim, 1 process */
	FLOOR_RING_TPUT_2P,	/* the same, 2 processes */
	FLOOR_COUNT
};

enum target_kind { TARGET_NONE, TARGET_MAX_NS, TARGET_MIN_RATE };

/* One row of the report: a floor or a figure. */
struct figure {
	const char *name;	/* machine name, as --only and JSON use it */
	const char *label;	/* human label */
	bool selected;		/* asked for (--only) */
	bool measured;		/* has numbers */
	bool throughput;	/* a rate (runs of N appends), not a latency */
	double median_ns;	/* per operation */
	double p99_ns;		/* per operation (throughput: slowest run) */
	double min_ns;
	size_t samples;		/* timed batches, or runs for a throughput */
	unsigned batch;		/* operations per timed batch */
	unsigned procs;		/* processes (throughput) */
	bool pinned;		/* one CPU per process (throughput) */
	double rate;		/* appends/s, median run (throughput) */
	double worst_rate;	/* appends/s, slowest run (throughput) */
	uint64_t ops;		/* operations per run (throughput, per process) */
	long faults;		/* minor+major page faults during timed part */
	enum target_kind target;
	double target_value;	/* ns (TARGET_MAX_NS) or appends/s */
	double reference_ns;	/* CSPOT on this machine kind, 0 = none */
	int floor_for_ring;	/* which floor the x-ring ratio uses */
	const char *note;	/* e.g. which seq was read */
	char note_buf[96];
};

struct bench_config {
	uint64_t element_size;
	uint64_t history;
	uint64_t iterations;	/* timed batches per latency figure */
	uint64_t appends;	/* appends per process per throughput run */
	unsigned reps;		/* throughput runs per process count */
	uint64_t warm_ns;	/* warm-up time per latency figure */
	uint64_t prefill_budget_ns;
	bool quick;
	bool json;
	const char *base_dir;	/* where the temp namespace is created */
};

/* The handler runtimes through dispatcherd (handler.c): figures and floors. */
enum hfig_id {
	HFIG_LAT_EXEC,		/* put -> first line of the handler, exec */
	HFIG_LAT_ZYGOTE,
	HFIG_LAT_WARM,
	HFIG_TPUT_EXEC,		/* trivial handlers per second, exec */
	HFIG_TPUT_ZYGOTE,
	HFIG_TPUT_WARM,
	HFIG_COUNT
};

enum hfloor_id {
	HFLOOR_FORK,		/* fork() until the child runs */
	HFLOOR_SPAWN,		/* posix_spawn() of a tiny program until its main() runs */
	HFLOOR_FORK_TPUT,	/* fork+exit+wait per second, one loop per CPU */
	HFLOOR_SPAWN_TPUT,	/* posix_spawn+exit+wait per second, one loop per CPU */
	HFLOOR_COUNT
};

struct hbench {
	bool wanted;		/* --handlers, or a full run */
	bool required;		/* --handlers given: not finding dispatcherd is a failure */
	bool ran;
	const char *dispatcherd_opt;	/* --dispatcherd */
	const char *handler_dir_opt;	/* --handler-dir */
	char dispatcherd[4096];
	char handler_dir[4096];
	char ns_dir[4096];
	char why_not[4400];	/* why the section was not measured */
	unsigned lat_calls[3];	/* exec, zygote, warm */
	unsigned tput_calls[3];
	unsigned tput_reps;
	unsigned max_concurrent;	/* the namespace's max_concurrent */
	unsigned warm_workers;		/* workers of the warm handler */
	unsigned rt_mask;		/* --runtimes: bit 0 exec, 1 zygote, 2 warm; 0 = all */
	struct figure fig[HFIG_COUNT];
	struct figure floor[HFLOOR_COUNT];
};

struct bench {
	struct bench_config cfg;
	struct hbench h;
	char ns_dir[4096];	/* the temp namespace (WOOFC_DIR) */
	char fs_type[32];
	bool ns_created;
	bool prefill_complete;
	uint64_t prefilled;
	struct figure fig[FIG_COUNT];
	struct figure floor[FLOOR_COUNT];
	int failures;		/* correctness failures (exit 1) */
	char engine[16];
};

/* ---- timing -------------------------------------------------------------- */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* stats.c */
long bench_faults(void);
unsigned bench_pick_batch(double est_ns);
void bench_finish(struct figure *f, double *v, size_t n);
double *bench_samples(struct bench *b);
void bench_fail(struct bench *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * BENCH_MEASURE() - measure the statement(s) after @f (one operation)
 * into figure @f. Warm-up: run the operation for at least cfg.warm_ns and
 * 256 times, in timed groups of 16; the cheapest group's cost per
 * operation (robust against interrupts) picks the batch size
 * (bench_pick_batch). Then cfg.iterations batches are timed. The operation
 * is inlined (no call through a pointer, which would cost more than the
 * floors being measured) and reports errors through the caller's
 * variables; it must not `break` or `continue`.
 */
#define BENCH_MEASURE(b, f, ...) do {						\
	struct bench *b_ = (b);							\
	struct figure *f_ = (f);						\
	double *v_ = bench_samples(b_);						\
	uint64_t w0_ = now_ns(), wn_ = 0, c0_, c1_, cmin_ = UINT64_MAX;		\
	if (!v_)								\
		break;								\
	do {									\
		c0_ = now_ns();							\
		for (unsigned k_ = 0; k_ < 16; k_++) { __VA_ARGS__; }		\
		c1_ = now_ns();							\
		if (c1_ - c0_ < cmin_)						\
			cmin_ = c1_ - c0_;					\
		wn_ += 16;							\
	} while (c1_ - w0_ < b_->cfg.warm_ns || wn_ < 256);			\
	f_->batch = bench_pick_batch((double)cmin_ / 16.0);			\
	long fl0_ = bench_faults();						\
	for (size_t s_ = 0; s_ < b_->cfg.iterations; s_++) {			\
		uint64_t t0_ = now_ns();					\
		for (unsigned k_ = 0; k_ < f_->batch; k_++) { __VA_ARGS__; }		\
		uint64_t t1_ = now_ns();					\
		v_[s_] = (double)(t1_ - t0_) / (double)f_->batch;		\
	}									\
	f_->faults = bench_faults() - fl0_;					\
	bench_finish(f_, v_, b_->cfg.iterations);				\
} while (0)

/* floors.c */
void floor_timer(struct bench *b);
void floor_syscall(struct bench *b);
void floor_ring(struct bench *b);

/* ops.c */
int ops_setup(struct bench *b);
void ops_run(struct bench *b);
void ops_teardown(struct bench *b);

/* throughput.c */
void tput_run_all(struct bench *b);

/* handler.c */
void handlers_init(struct bench *b);
void handlers_run(struct bench *b);

/* report.c */
void report_human(const struct bench *b);
void report_json(const struct bench *b);
void report_fs_type(const char *dir, char *buf, size_t len);

#endif /* WOOF_BENCH_H */
