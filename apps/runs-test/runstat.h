/* SPDX-License-Identifier: MIT */
/*
 * runstat.h - the runs-test pipeline's WOOFs, their elements, and the
 * pseudo-random generator shared by the handlers and runstat-local.
 *
 * A run with base name B lives in five WOOFs of one namespace; handlers
 * keep no state of their own, everything they need is in these:
 *
 *   B.cfg     RUNSTAT_CFG, one element: sample size, count, seed, mode.
 *   B.gen     RUNSTAT_GEN: the producer's state; each put names RHandler,
 *             which puts the next batch of numbers and then the next
 *             RUNSTAT_GEN here (naming itself) until s*c numbers exist.
 *   B.sample  RUNSTAT_NUM: number i at sequence number i; each put names
 *             SHandler, which acts when seq_no % s == 0.
 *   B.stats   RUNSTAT_STAT: one runs-test z-score per sample; each put
 *             names KHandler, which acts once all c samples are there.
 *   B.result  RUNSTAT_RESULT: the KS test of the c z-scores.
 *
 * A handler finds B by stripping its own WOOF's suffix from
 * wf->shared->filename, so one namespace can hold several runs.
 *
 * The generator is splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014, with the finalizer
 * constants published by Vigna): a 64-bit state advanced by the golden
 * ratio increment, output through an xor-shift-multiply mixer. Its whole
 * state is one uint64_t, which is what RUNSTAT_GEN carries. A number is
 * the top 53 bits of an output scaled to [0,1).
 */
#ifndef RUNSTAT_H
#define RUNSTAT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RUNSTAT_MAGIC		0x5253544154763031ULL	/* "RSTATv01" */

#define RUNSTAT_SUFFIX_CFG	".cfg"
#define RUNSTAT_SUFFIX_GEN	".gen"
#define RUNSTAT_SUFFIX_SAMPLE	".sample"
#define RUNSTAT_SUFFIX_STATS	".stats"
#define RUNSTAT_SUFFIX_RESULT	".result"

#define RUNSTAT_BASE_MAX	200	/* bytes of a base name, leaves room for suffixes */
#define RUNSTAT_NAME_MAX	4096	/* a full WOOF name, woof:// URIs included */

/* limits on -s, -c and s*c (the sample WOOF keeps all s*c numbers) */
#define RUNSTAT_S_MIN		10ULL
#define RUNSTAT_S_MAX		1000000ULL
#define RUNSTAT_C_MAX		1000000ULL
#define RUNSTAT_TOTAL_MAX	10000000ULL

#define RUNSTAT_DEFAULT_S	100ULL
#define RUNSTAT_DEFAULT_C	30ULL
#define RUNSTAT_DEFAULT_SEED	42ULL

/* generator modes */
#define RUNSTAT_MODE_GOOD	0U	/* splitmix64 uniforms */
#define RUNSTAT_MODE_ALTERNATE	1U	/* -B: odd numbers in [0,.5), even ones in [.5,1) */

/* B.cfg: written once by runstat-start, read by every handler */
typedef struct runstat_cfg {
	uint64_t magic;		/* RUNSTAT_MAGIC */
	uint64_t sample_size;	/* s */
	uint64_t count;		/* c */
	uint64_t seed;
	uint64_t batch;		/* numbers RHandler puts per call */
	uint32_t mode;		/* RUNSTAT_MODE_* */
	uint32_t reserved;
} RUNSTAT_CFG;

/* B.gen: the producer's state before a call */
typedef struct runstat_gen {
	uint64_t state;		/* splitmix64 state */
	uint64_t produced;	/* numbers put so far (the next one is produced + 1) */
} RUNSTAT_GEN;

/* B.sample: one number */
typedef struct runstat_num {
	uint64_t index;		/* 1-based; equals its sequence number */
	double value;		/* in [0,1) */
} RUNSTAT_NUM;

/* B.stats: the runs test of one sample */
typedef struct runstat_stat {
	uint64_t sample;	/* 1-based: numbers (sample-1)*s+1 .. sample*s */
	uint64_t n_above;	/* values above the median */
	uint64_t n_below;	/* values below it (values equal to it are left out) */
	uint64_t runs;		/* runs of above/below in sequence order */
	double median;
	double z;		/* (runs - mean) / sd; 0 for a degenerate sample */
	double sd;		/* sd of runs under independence; 0 when degenerate */
	uint32_t degenerate;	/* no value above or none below the median */
	uint32_t reserved;
} RUNSTAT_STAT;

/* B.result: the KS test of the c z-scores against N(0,1) */
typedef struct runstat_result {
	double d;		/* Kolmogorov-Smirnov D */
	double critical;	/* 1.36 / sqrt(count): alpha = 0.05, asymptotic */
	uint64_t count;		/* c */
	uint64_t sample_size;	/* s */
	uint64_t seed;
	uint32_t pass;		/* d < critical */
	uint32_t mode;		/* RUNSTAT_MODE_* of the generator */
} RUNSTAT_RESULT;

/* ---- the generator ---------------------------------------------------------- */

static inline uint64_t runstat_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform in [0,1): the top 53 bits of one output. */
static inline double runstat_uniform(uint64_t *state)
{
	return (double)(runstat_splitmix64(state) >> 11) * 0x1.0p-53;
}

/*
 * Number @index (1-based) of the stream; advances @state by one output in
 * every mode. RUNSTAT_MODE_ALTERNATE is a deliberately bad generator: it
 * alternates below and above one half, so every sample has as many runs
 * as values.
 */
static inline double runstat_draw(uint64_t *state, uint32_t mode, uint64_t index)
{
	double u = runstat_uniform(state);

	if (mode == RUNSTAT_MODE_ALTERNATE)
		return (index & 1) ? u * 0.5 : 0.5 + u * 0.5;
	return u;
}

static inline const char *runstat_mode_name(uint32_t mode)
{
	return mode == RUNSTAT_MODE_ALTERNATE ? "alternate" : "splitmix64";
}

/* ---- names ------------------------------------------------------------------ */

/* @out = @base @suffix; -1 when it does not fit. */
static inline int runstat_name(char *out, size_t len, const char *base, const char *suffix)
{
	int n = snprintf(out, len, "%s%s", base, suffix);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/*
 * A handler's base name: its WOOF's @filename without @suffix. Returns -1
 * when @filename does not end in @suffix (the handler was named on a put
 * to some other WOOF).
 */
static inline int runstat_base_of(const char *filename, const char *suffix,
				  char *base, size_t len)
{
	size_t fl = strlen(filename), sl = strlen(suffix);

	if (fl <= sl || strcmp(filename + fl - sl, suffix) != 0 || fl - sl >= len)
		return -1;
	memcpy(base, filename, fl - sl);
	base[fl - sl] = 0;
	return 0;
}

/* Checks a configuration; NULL when it is usable, else why not. */
static inline const char *runstat_cfg_check(const RUNSTAT_CFG *cfg)
{
	if (cfg->magic != RUNSTAT_MAGIC)
		return "not a runs-test configuration (bad magic)";
	if (cfg->sample_size < RUNSTAT_S_MIN || cfg->sample_size > RUNSTAT_S_MAX)
		return "sample size out of range";
	if (cfg->count < 1 || cfg->count > RUNSTAT_C_MAX)
		return "count out of range";
	if (cfg->sample_size * cfg->count > RUNSTAT_TOTAL_MAX)
		return "sample size * count too large";
	if (cfg->batch < 1 || cfg->batch > cfg->sample_size * cfg->count)
		return "batch out of range";
	if (cfg->mode != RUNSTAT_MODE_GOOD && cfg->mode != RUNSTAT_MODE_ALTERNATE)
		return "unknown generator mode";
	return NULL;
}

#endif /* RUNSTAT_H */
