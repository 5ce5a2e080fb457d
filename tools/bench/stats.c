/* SPDX-License-Identifier: MIT */
/*
 * stats.c - the arithmetic of woof-bench: batch size choice, order
 * statistics over the timed samples, page-fault counting and the record
 * of correctness failures.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench.h"

/* Minor + major page faults of this process so far. */
long bench_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return ru.ru_minflt + ru.ru_majflt;
}

/*
 * The batch size for an operation that costs about @est_ns: the smallest
 * power of two whose batch lasts BENCH_BATCH_TARGET_NS, at most
 * BENCH_BATCH_MAX. Slow operations (>= 2 us) are timed one by one, so their
 * p99 is a true per-operation p99; fast ones are averaged over a batch so
 * that the clock_gettime pair (about 25 ns here) stays a small share.
 */
unsigned bench_pick_batch(double est_ns)
{
	unsigned batch = 1;

	if (!(est_ns > 0))
		return BENCH_BATCH_MAX;
	while (batch < BENCH_BATCH_MAX && est_ns * batch < BENCH_BATCH_TARGET_NS)
		batch *= 2;
	return batch;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted @v: the ceil(p/100 * n)-th smallest. */
static double percentile(const double *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* Sort the @n per-operation samples @v and store their statistics in @f. */
void bench_finish(struct figure *f, double *v, size_t n)
{
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_double);
	f->median_ns = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	f->p99_ns = percentile(v, n, 99.0);
	f->min_ns = v[0];
	f->samples = n;
	f->measured = true;
}

/* One sample buffer of cfg.iterations doubles, reused by every figure. */
double *bench_samples(struct bench *b)
{
	static double *buf;

	if (!buf) {
		buf = calloc(b->cfg.iterations, sizeof(*buf));
		if (!buf)
			bench_fail(b, "out of memory for %llu samples",
				   (unsigned long long)b->cfg.iterations);
		else	/* fault it in now, not while a figure is timed */
			for (size_t i = 0; i < b->cfg.iterations; i++)
				((volatile double *)buf)[i] = 0;
	}
	return buf;
}

/* Record a correctness failure: print a FAIL line now, exit 1 at the end. */
void bench_fail(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("FAIL: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	b->failures++;
}
