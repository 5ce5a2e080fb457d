/* SPDX-License-Identifier: MIT */
/*
 * runstat-local.c - the runs-test pipeline computed sequentially in one
 * process, without WOOFs: the reference the pipeline is checked against.
 *
 *   runstat-local [-s sample_size] [-c count] [-S seed] [-B] [-v]
 *   runstat-local -R n [-S seed]
 *
 * It draws the same stream (runstat.h's generator, same seed, same mode),
 * runs the same runs test on each sample and the same KS test on the
 * z-scores (runstat-math.h), and prints what runstat-wait prints for a
 * finished pipeline run (with -v the per-sample statistics too), so the
 * two outputs can be compared with diff. Exit status 0 whether the KS
 * test passed or not; 2 for bad options.
 *
 * -R n prints the generator's first n raw 64-bit outputs instead, to check
 * it against splitmix64's published values (seed 1234567 starts
 * 6457827717110365317, 3203168211198807973, 9817491932198370423).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runstat.h"
#include "runstat-cli.h"
#include "runstat-math.h"

static const char usage[] =
	"usage: runstat-local [-s sample_size] [-c count] [-S seed] [-B] [-v]\n"
	"  -s  numbers per sample (default 100)     -c  samples (default 30)\n"
	"  -S  generator seed (default 42)          -B  the bad (alternating) generator\n"
	"  -v  print every sample's statistic\n"
	"  -R n  print the generator's first n raw outputs and exit\n";

int main(int argc, char **argv)
{
	const char *prog = "runstat-local";
	uint64_t s = RUNSTAT_DEFAULT_S, cnt = RUNSTAT_DEFAULT_C, seed = RUNSTAT_DEFAULT_SEED;
	uint64_t state, k, i, index = 0, raw = 0;
	uint32_t mode = RUNSTAT_MODE_GOOD;
	RUNSTAT_RESULT res = { 0 };
	int c, verbose = 0;
	struct runstat_ks_point *z;
	double *x;

	while ((c = getopt(argc, argv, "s:c:S:BvR:h")) != -1) {
		switch (c) {
		case 's':
			s = runstat_parse_u64(prog, c, optarg, RUNSTAT_S_MIN, RUNSTAT_S_MAX);
			break;
		case 'c':
			cnt = runstat_parse_u64(prog, c, optarg, 1, RUNSTAT_C_MAX);
			break;
		case 'S':
			seed = runstat_parse_u64(prog, c, optarg, 0, UINT64_MAX);
			break;
		case 'B':
			mode = RUNSTAT_MODE_ALTERNATE;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'R':
			raw = runstat_parse_u64(prog, c, optarg, 1, RUNSTAT_TOTAL_MAX);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument %s\n%s", prog, argv[optind], usage);
		return 2;
	}
	if (raw) {
		state = seed;
		for (i = 0; i < raw; i++)
			printf("%llu\n", (unsigned long long)runstat_splitmix64(&state));
		return 0;
	}
	if (s * cnt > RUNSTAT_TOTAL_MAX) {
		fprintf(stderr, "%s: sample size * count too large (at most %llu)\n", prog,
			(unsigned long long)RUNSTAT_TOTAL_MAX);
		return 2;
	}

	x = malloc(s * sizeof(*x));
	z = malloc(cnt * sizeof(*z));
	if (!x || !z) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	state = seed;
	for (k = 1; k <= cnt; k++) {
		RUNSTAT_STAT st = { .sample = k };

		for (i = 0; i < s; i++)
			x[i] = runstat_draw(&state, mode, ++index);
		if (runstat_runs_test(x, s, &st) < 0) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
		runstat_ks_point_of(&st, &z[k - 1]);
		if (verbose)
			runstat_print_stat(stdout, &st);
	}
	res.d = runstat_ks_d(z, cnt);
	res.critical = runstat_ks_critical(cnt);
	res.pass = res.d < res.critical;
	res.count = cnt;
	res.sample_size = s;
	res.seed = seed;
	res.mode = mode;
	runstat_print_result(stdout, &res);
	free(x);
	free(z);
	return 0;
}
