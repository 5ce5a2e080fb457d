/* SPDX-License-Identifier: MIT */
/*
 * runstat-math.h - the statistics of the runs-test pipeline, shared by
 * SHandler, KHandler, runstat-local and runstat-wait so that the pipeline
 * and the sequential program compute bit-identical results.
 *
 * Runs test (Wald-Wolfowitz, runs above and below the median): the sample
 * median m is the middle value of the sorted sample (the mean of the two
 * middle values for an even size); values equal to m are dropped; each
 * remaining value is "above" (> m) or "below" (< m); a run is a maximal
 * stretch of the same kind in sequence order. With n1 above, n2 below and
 * R runs,
 *     mean = 2 n1 n2 / (n1 + n2) + 1
 *     var  = 2 n1 n2 (2 n1 n2 - n1 - n2) / ((n1 + n2)^2 (n1 + n2 - 1))
 *     z    = (R - mean) / sqrt(var),
 * approximately N(0,1) for an independent sample. Too few runs means
 * clustering (z < 0), too many means alternation (z > 0).
 *
 * KS test: the one-sample Kolmogorov-Smirnov D of the c z-scores against
 * the standard normal CDF Phi(z) = erfc(-z / sqrt 2) / 2. R is an integer,
 * so the z-scores of a sample size sit on a lattice with step h = 1/sd
 * (about 2/sqrt(s)), and the null distribution they are compared with is
 * the normal approximation of R with continuity correction: at the
 * lattice point z it is Phi(z + h/2), just below it Phi(z - h/2). Over the
 * sorted z_(1) <= ... <= z_(c),
 *     D = max_i max(i/c - Phi(z_(i) + h_(i)/2), Phi(z_(i) - h_(i)/2) - (i-1)/c),
 * which is the textbook formula when h = 0 (and is used with h = 0 for
 * degenerate samples). Without the correction the empirical CDF's jumps
 * of ~0.8/sqrt(s) at every lattice point would put a floor of about
 * 0.4/sqrt(s) under D, and good generators would fail whenever c is not
 * much smaller than s (s = 100: 15% of seeds at c = 100, 40% at c = 300).
 * The test passes at alpha = 0.05 when D < 1.36 / sqrt(c), the asymptotic
 * critical value (conservative for a discrete null; approximate for
 * c < 35).
 *
 * Cost: the runs test sorts a copy of the sample, O(s log s); the KS test
 * sorts the c z-scores, O(c log c).
 */
#ifndef RUNSTAT_MATH_H
#define RUNSTAT_MATH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runstat.h"

#ifndef M_SQRT1_2
#define M_SQRT1_2 0.70710678118654752440	/* 1/sqrt(2) */
#endif

static inline int runstat_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The runs test of @x[0..n-1] into @st; st->sample is kept. Returns 0,
 * or -1 for n outside 2..RUNSTAT_S_MAX or without memory for the sorted copy.
 */
static inline int runstat_runs_test(const double *x, size_t n, RUNSTAT_STAT *st)
{
	double *sorted, m, n1, n2, mean, var;
	uint64_t above = 0, below = 0, runs = 0, sample;
	int prev = 0;
	size_t i;

	if (n < 2 || n > RUNSTAT_S_MAX)
		return -1;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return -1;
	memcpy(sorted, x, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), runstat_cmp_double);
	m = (n & 1) ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
	free(sorted);

	for (i = 0; i < n; i++) {
		int kind;

		if (x[i] > m)
			kind = 1, above++;
		else if (x[i] < m)
			kind = -1, below++;
		else
			continue;
		if (kind != prev)
			runs++;
		prev = kind;
	}

	sample = st->sample;
	memset(st, 0, sizeof(*st));
	st->sample = sample;
	st->n_above = above;
	st->n_below = below;
	st->runs = runs;
	st->median = m;
	if (!above || !below) {
		st->degenerate = 1;
		st->z = 0.0;
		return 0;
	}
	n1 = (double)above;
	n2 = (double)below;
	mean = 2.0 * n1 * n2 / (n1 + n2) + 1.0;
	var = 2.0 * n1 * n2 * (2.0 * n1 * n2 - n1 - n2) /
	      ((n1 + n2) * (n1 + n2) * (n1 + n2 - 1.0));
	if (!(var > 0.0)) {
		st->degenerate = 1;
		st->z = 0.0;
		return 0;
	}
	st->sd = sqrt(var);
	st->z = ((double)runs - mean) / st->sd;
	return 0;
}

/* The standard normal CDF. */
static inline double runstat_phi(double z)
{
	return 0.5 * erfc(-z * M_SQRT1_2);
}

static inline double runstat_ks_critical(uint64_t count)
{
	return 1.36 / sqrt((double)count);
}

/* One z-score for the KS test: its value and half its lattice step. */
struct runstat_ks_point {
	double z;
	double half;		/* 0.5 / sd, 0 for a degenerate sample */
};

static inline void runstat_ks_point_of(const RUNSTAT_STAT *st, struct runstat_ks_point *p)
{
	p->z = st->z;
	p->half = st->sd > 0.0 ? 0.5 / st->sd : 0.0;
}

static inline int runstat_cmp_point(const void *a, const void *b)
{
	const struct runstat_ks_point *x = a, *y = b;

	if (x->z != y->z)
		return (x->z > y->z) - (x->z < y->z);
	return (x->half > y->half) - (x->half < y->half);
}

/*
 * The KS D of @p[0..c-1] against N(0,1), continuity corrected (see the
 * top of this file). @p is sorted in place, so the result does not depend
 * on the order the z-scores arrived in.
 */
static inline double runstat_ks_d(struct runstat_ks_point *p, size_t c)
{
	double d = 0.0;
	size_t i;

	qsort(p, c, sizeof(*p), runstat_cmp_point);
	for (i = 0; i < c; i++) {
		double hi = (double)(i + 1) / (double)c - runstat_phi(p[i].z + p[i].half);
		double lo = runstat_phi(p[i].z - p[i].half) - (double)i / (double)c;

		if (hi > d)
			d = hi;
		if (lo > d)
			d = lo;
	}
	return d;
}

/*
 * The output both runstat-local and runstat-wait print, so that the two
 * can be compared with diff. %.17g prints doubles exactly.
 */
static inline void runstat_print_stat(FILE *f, const RUNSTAT_STAT *st)
{
	fprintf(f, "sample %llu: above %llu below %llu runs %llu z %.17g%s\n",
		(unsigned long long)st->sample, (unsigned long long)st->n_above,
		(unsigned long long)st->n_below, (unsigned long long)st->runs, st->z,
		st->degenerate ? " (degenerate)" : "");
}

static inline void runstat_print_result(FILE *f, const RUNSTAT_RESULT *r)
{
	fprintf(f, "runs-test: generator %s seed %llu sample_size %llu count %llu\n",
		runstat_mode_name(r->mode), (unsigned long long)r->seed,
		(unsigned long long)r->sample_size, (unsigned long long)r->count);
	fprintf(f, "ks: D %.17g critical %.17g count %llu %s\n", r->d, r->critical,
		(unsigned long long)r->count, r->pass ? "PASS" : "FAIL");
}

#endif /* RUNSTAT_MATH_H */
