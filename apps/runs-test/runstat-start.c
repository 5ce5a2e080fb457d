/* SPDX-License-Identifier: MIT */
/*
 * runstat-start.c - starts a run of the runs-test pipeline.
 *
 *   runstat-start -W base [-N namespace] [-s sample_size] [-c count]
 *                 [-S seed] [-b batch] [-B]
 *
 * Creates (or resets) BASE.cfg, BASE.gen, BASE.sample, BASE.stats and
 * BASE.result (see runstat.h), writes the configuration, and puts the
 * generator's initial state (the seed) into BASE.gen naming RHandler; the
 * handlers, run by dispatcherd, do the rest. runstat-wait reads the
 * outcome. -B runs the deliberately bad generator (alternating values).
 *
 * Histories: BASE.sample keeps all s*c numbers (SHandler reads whole
 * samples back, and nothing is overwritten); BASE.stats keeps 2c (room
 * for duplicates from redelivery); BASE.gen keeps every producer call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "woofc.h"
#include "runstat.h"
#include "runstat-cli.h"

static const char usage[] =
	"usage: runstat-start -W base [-N namespace] [-s sample_size] [-c count]\n"
	"                     [-S seed] [-b batch] [-B]\n"
	"  -s  numbers per sample (default 100)     -c  samples (default 30)\n"
	"  -S  generator seed (default 42)          -b  numbers per RHandler call (default s)\n"
	"  -B  use the bad (alternating) generator\n";

static int create(const char *prog, const char *name, unsigned long el, unsigned long hist)
{
	if (WooFCreate(name, el, hist) < 0) {
		fprintf(stderr, "%s: cannot create WOOF %s\n", prog, name);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *prog = "runstat-start", *base = NULL, *ns = NULL;
	RUNSTAT_CFG cfg = {
		.magic = RUNSTAT_MAGIC,
		.sample_size = RUNSTAT_DEFAULT_S,
		.count = RUNSTAT_DEFAULT_C,
		.seed = RUNSTAT_DEFAULT_SEED,
		.mode = RUNSTAT_MODE_GOOD,
	};
	char cfgn[RUNSTAT_NAME_MAX], gen[RUNSTAT_NAME_MAX], sample[RUNSTAT_NAME_MAX];
	char stats[RUNSTAT_NAME_MAX], result[RUNSTAT_NAME_MAX];
	struct runstat_names n;
	RUNSTAT_GEN g;
	unsigned long seq;
	uint64_t total, calls;
	const char *why;
	int c;

	while ((c = getopt(argc, argv, "W:f:N:s:c:S:b:Bh")) != -1) {
		switch (c) {
		case 'W':
		case 'f':
			base = optarg;
			break;
		case 'N':
			ns = optarg;
			break;
		case 's':
			cfg.sample_size = runstat_parse_u64(prog, c, optarg, RUNSTAT_S_MIN,
							    RUNSTAT_S_MAX);
			break;
		case 'c':
			cfg.count = runstat_parse_u64(prog, c, optarg, 1, RUNSTAT_C_MAX);
			break;
		case 'S':
			cfg.seed = runstat_parse_u64(prog, c, optarg, 0, UINT64_MAX);
			break;
		case 'b':
			cfg.batch = runstat_parse_u64(prog, c, optarg, 1, RUNSTAT_TOTAL_MAX);
			break;
		case 'B':
			cfg.mode = RUNSTAT_MODE_ALTERNATE;
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
	if (!cfg.batch)
		cfg.batch = cfg.sample_size;
	why = runstat_cfg_check(&cfg);
	if (why) {
		fprintf(stderr, "%s: %s\n", prog, why);
		return 2;
	}
	total = cfg.sample_size * cfg.count;
	calls = (total + cfg.batch - 1) / cfg.batch;

	runstat_woof(&n, RUNSTAT_SUFFIX_CFG, cfgn, sizeof(cfgn));
	runstat_woof(&n, RUNSTAT_SUFFIX_GEN, gen, sizeof(gen));
	runstat_woof(&n, RUNSTAT_SUFFIX_SAMPLE, sample, sizeof(sample));
	runstat_woof(&n, RUNSTAT_SUFFIX_STATS, stats, sizeof(stats));
	runstat_woof(&n, RUNSTAT_SUFFIX_RESULT, result, sizeof(result));

	WooFInit();
	/* downstream first, so nothing is triggered into a missing WOOF */
	if (create(prog, result, sizeof(RUNSTAT_RESULT), 4) < 0 ||
	    create(prog, stats, sizeof(RUNSTAT_STAT), 2 * cfg.count) < 0 ||
	    create(prog, sample, sizeof(RUNSTAT_NUM), total) < 0 ||
	    create(prog, gen, sizeof(RUNSTAT_GEN), calls) < 0 ||
	    create(prog, cfgn, sizeof(RUNSTAT_CFG), 1) < 0)
		return 1;
	seq = WooFPut(cfgn, NULL, &cfg);
	if (WooFInvalid(seq) || seq != 1) {
		fprintf(stderr, "%s: cannot write the configuration to %s\n", prog, cfgn);
		return 1;
	}
	g.state = cfg.seed;
	g.produced = 0;
	seq = WooFPut(gen, "RHandler", &g);
	if (WooFInvalid(seq)) {
		fprintf(stderr, "%s: cannot put the first request into %s\n", prog, gen);
		return 1;
	}
	printf("runstat-start: %s: generator %s seed %llu sample_size %llu count %llu "
	       "batch %llu (%llu numbers, %llu RHandler calls)\n",
	       n.base, runstat_mode_name(cfg.mode), (unsigned long long)cfg.seed,
	       (unsigned long long)cfg.sample_size, (unsigned long long)cfg.count,
	       (unsigned long long)cfg.batch, (unsigned long long)total,
	       (unsigned long long)calls);
	return 0;
}
