/* SPDX-License-Identifier: MIT */
/*
 * runstat-wait.c - waits for a runs-test pipeline run to finish and prints
 * its result, in runstat-local's format.
 *
 *   runstat-wait -W base [-N namespace] [-t seconds] [-v]
 *
 * Polls BASE.result (every 10 ms, a cheap look at one header) until the
 * result element exists or -t seconds (default 60) pass. Prints the
 * result; with -v first every sample's statistic from BASE.stats, in
 * sample order, one line per sample (duplicates left out). On timeout it
 * says how far the pipeline got - numbers produced, statistics, result -
 * and exits 1. Exit 0 once a result was printed, whether the KS test
 * passed or not; 2 for bad options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "woofc.h"
#include "runstat.h"
#include "runstat-cli.h"
#include "runstat-math.h"

static const char usage[] =
	"usage: runstat-wait -W base [-N namespace] [-t seconds] [-v]\n";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* latest seqno of @name, or -1 when it cannot be looked at */
static long long latest_of(const char *name)
{
	unsigned long s = WooFGetLatestSeqno(name);

	return WooFInvalid(s) ? -1 : (long long)s;
}

/* Print the statistics of samples 1..c in order; 0 or -1. */
static int print_stats(const char *stats, uint64_t count)
{
	RUNSTAT_STAT *by = calloc(count, sizeof(*by)), st;
	unsigned long latest = WooFGetLatestSeqno(stats), s;
	uint64_t k;

	if (!by || WooFInvalid(latest)) {
		free(by);
		return -1;
	}
	for (s = 1; s <= latest; s++) {
		if (WooFGet(stats, &st, s) < 0) {
			free(by);
			return -1;
		}
		if (st.sample >= 1 && st.sample <= count && !by[st.sample - 1].sample)
			by[st.sample - 1] = st;
	}
	for (k = 0; k < count; k++) {
		if (!by[k].sample) {
			fprintf(stderr, "runstat-wait: %s lacks sample %llu\n", stats,
				(unsigned long long)k + 1);
			free(by);
			return -1;
		}
		runstat_print_stat(stdout, &by[k]);
	}
	free(by);
	return 0;
}

int main(int argc, char **argv)
{
	const char *prog = "runstat-wait", *base = NULL, *ns = NULL;
	char gen[RUNSTAT_NAME_MAX], sample[RUNSTAT_NAME_MAX], stats[RUNSTAT_NAME_MAX];
	char result[RUNSTAT_NAME_MAX];
	uint64_t timeout = 60;
	struct runstat_names n;
	RUNSTAT_RESULT res;
	int c, verbose = 0;
	double end;

	while ((c = getopt(argc, argv, "W:f:N:t:vh")) != -1) {
		switch (c) {
		case 'W':
		case 'f':
			base = optarg;
			break;
		case 'N':
			ns = optarg;
			break;
		case 't':
			timeout = runstat_parse_u64(prog, c, optarg, 0, 86400);
			break;
		case 'v':
			verbose = 1;
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
	runstat_names_init(prog, &n, base, ns);
	runstat_woof(&n, RUNSTAT_SUFFIX_GEN, gen, sizeof(gen));
	runstat_woof(&n, RUNSTAT_SUFFIX_SAMPLE, sample, sizeof(sample));
	runstat_woof(&n, RUNSTAT_SUFFIX_STATS, stats, sizeof(stats));
	runstat_woof(&n, RUNSTAT_SUFFIX_RESULT, result, sizeof(result));

	if (WooFGetElSize(result) != sizeof(RUNSTAT_RESULT) ||
	    WooFGetElSize(stats) != sizeof(RUNSTAT_STAT)) {
		fprintf(stderr, "%s: %s is not a runs-test run (start one with runstat-start)\n",
			prog, n.base);
		return 1;
	}
	end = now() + (double)timeout;
	for (;;) {
		long long have = latest_of(result);
		struct timespec tick = { 0, 10 * 1000 * 1000 };

		if (have < 0)
			return 1;
		if (have > 0)
			break;
		if (now() >= end) {
			fprintf(stderr, "%s: no result after %llu s: %s has %lld elements, "
				"%s %lld numbers, %s %lld statistics\n", prog,
				(unsigned long long)timeout, gen, latest_of(gen), sample,
				latest_of(sample), stats, latest_of(stats));
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	if (WooFGet(result, &res, 1) < 0)
		return 1;
	if (verbose && print_stats(stats, res.count) < 0)
		return 1;
	runstat_print_result(stdout, &res);
	return 0;
}
