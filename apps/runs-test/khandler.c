/* SPDX-License-Identifier: MIT */
/*
 * khandler.c - KHandler, the last stage of the runs-test pipeline.
 *
 * Triggered by every statistic SHandler puts into BASE.stats. A call reads
 * BASE.stats up to its own seq_no and acts only when that is the first
 * sequence number at which all c samples are present (statistics arrive
 * out of order and a redelivered SHandler could add a duplicate; each
 * sample is counted once). Exactly one call qualifies. It runs the
 * one-sample Kolmogorov-Smirnov test of the c z-scores against the
 * standard normal (runstat-math.h) and puts a RUNSTAT_RESULT into
 * BASE.result (no handler), unless a redelivery finds one there already.
 * It also prints the result on stdout.
 */
#include <stdio.h>
#include <stdlib.h>

#include "woofc.h"
#include "runstat.h"
#include "runstat-handler.h"
#include "runstat-math.h"

int KHandler(WOOF *wf, unsigned long seq_no, void *element);

int KHandler(WOOF *wf, unsigned long seq_no, void *element)
{
	char base[RUNSTAT_BASE_MAX + 1], stats[RUNSTAT_NAME_MAX], result[RUNSTAT_NAME_MAX];
	RUNSTAT_RESULT res = { 0 };
	RUNSTAT_CFG cfg;
	RUNSTAT_STAT st;
	unsigned long s, latest, seq, complete_at = 0;
	unsigned char *have = NULL;
	uint64_t distinct = 0;
	struct runstat_ks_point *z = NULL;
	WOOF *w = NULL;
	int ret = -1;

	(void)element;
	if (runstat_handler_setup("KHandler", wf, RUNSTAT_SUFFIX_STATS, base, sizeof(base),
				  &cfg) < 0)
		return -1;
	if (seq_no < cfg.count)
		return 1;			/* fewer than c statistics exist */
	if (runstat_name(stats, sizeof(stats), base, RUNSTAT_SUFFIX_STATS) < 0 ||
	    runstat_name(result, sizeof(result), base, RUNSTAT_SUFFIX_RESULT) < 0 ||
	    runstat_check_size("KHandler", stats, sizeof(RUNSTAT_STAT)) < 0 ||
	    runstat_check_size("KHandler", result, sizeof(RUNSTAT_RESULT)) < 0)
		return -1;

	z = malloc(cfg.count * sizeof(*z));
	have = calloc(cfg.count, 1);
	if (!z || !have) {
		fprintf(stderr, "KHandler: out of memory for %llu statistics\n",
			(unsigned long long)cfg.count);
		goto out;
	}
	w = WooFOpen(stats);
	if (!w)
		goto out;
	for (s = 1; s <= seq_no && !complete_at; s++) {
		if (WooFRead(w, &st, s) < 0)
			goto out;
		if (st.sample < 1 || st.sample > cfg.count) {
			fprintf(stderr, "KHandler: %s seq %lu holds sample %llu of %llu\n", stats,
				s, (unsigned long long)st.sample, (unsigned long long)cfg.count);
			goto out;
		}
		if (have[st.sample - 1])
			continue;		/* a duplicate from a redelivered SHandler */
		have[st.sample - 1] = 1;
		runstat_ks_point_of(&st, &z[st.sample - 1]);
		if (++distinct == cfg.count)
			complete_at = s;
	}
	if (complete_at != seq_no) {
		ret = 1;			/* not complete yet, or completed earlier */
		goto out;
	}

	latest = WooFGetLatestSeqno(result);
	if (WooFInvalid(latest))
		goto out;
	if (latest > 0) {
		ret = 1;			/* a redelivery: the result is there */
		goto out;
	}
	res.d = runstat_ks_d(z, cfg.count);
	res.critical = runstat_ks_critical(cfg.count);
	res.pass = res.d < res.critical;
	res.count = cfg.count;
	res.sample_size = cfg.sample_size;
	res.seed = cfg.seed;
	res.mode = cfg.mode;
	seq = WooFPut(result, NULL, &res);
	if (WooFInvalid(seq))
		goto out;
	runstat_print_result(stdout, &res);
	fflush(stdout);
	ret = 1;
out:
	WooFFree(w);
	free(have);
	free(z);
	return ret;
}
