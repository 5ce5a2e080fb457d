/* SPDX-License-Identifier: MIT */
/*
 * shandler.c - SHandler, the runs-test stage of the pipeline.
 *
 * Triggered by every number RHandler puts into BASE.sample. Calls for
 * numbers inside a sample return at once; the call for the last number of
 * sample k (seq_no == k*s) reads the sample's s numbers back from
 * BASE.sample by sequence number ((k-1)*s+1 .. k*s; the WOOF keeps all
 * s*c of them, so none can have been overwritten), computes the
 * Wald-Wolfowitz runs test above/below the median (runstat-math.h), and
 * puts a RUNSTAT_STAT with the z-score into BASE.stats, naming KHandler.
 *
 * Calls for different samples may run concurrently, so the statistics can
 * arrive in BASE.stats out of sample order; each carries its sample
 * number. A redelivered call finds its sample already in BASE.stats and
 * puts nothing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "woofc.h"
#include "runstat.h"
#include "runstat-handler.h"
#include "runstat-math.h"

int SHandler(WOOF *wf, unsigned long seq_no, void *element);

/* 1 when BASE.stats already holds sample @k, 0 if not, -1 on error. */
static int have_stat(const char *stats, uint64_t k)
{
	unsigned long latest = WooFGetLatestSeqno(stats), s;
	RUNSTAT_STAT st;

	if (WooFInvalid(latest))
		return -1;
	for (s = 1; s <= latest; s++) {
		if (WooFGet(stats, &st, s) < 0)
			return -1;
		if (st.sample == k)
			return 1;
	}
	return 0;
}

int SHandler(WOOF *wf, unsigned long seq_no, void *element)
{
	char base[RUNSTAT_BASE_MAX + 1], sample[RUNSTAT_NAME_MAX], stats[RUNSTAT_NAME_MAX];
	RUNSTAT_CFG cfg;
	RUNSTAT_STAT st = { 0 };
	RUNSTAT_NUM num;
	unsigned long first, seq;
	double *x;
	WOOF *w;
	uint64_t i;
	int ret = -1;

	(void)element;
	if (runstat_handler_setup("SHandler", wf, RUNSTAT_SUFFIX_SAMPLE, base, sizeof(base),
				  &cfg) < 0)
		return -1;
	if (seq_no % cfg.sample_size != 0)
		return 1;			/* not the end of a sample */
	st.sample = seq_no / cfg.sample_size;
	if (st.sample > cfg.count) {
		fprintf(stderr, "SHandler: sample %llu is beyond the %llu configured\n",
			(unsigned long long)st.sample, (unsigned long long)cfg.count);
		return -1;
	}
	if (runstat_name(sample, sizeof(sample), base, RUNSTAT_SUFFIX_SAMPLE) < 0 ||
	    runstat_name(stats, sizeof(stats), base, RUNSTAT_SUFFIX_STATS) < 0 ||
	    runstat_check_size("SHandler", sample, sizeof(RUNSTAT_NUM)) < 0 ||
	    runstat_check_size("SHandler", stats, sizeof(RUNSTAT_STAT)) < 0)
		return -1;

	switch (have_stat(stats, st.sample)) {
	case 1:
		return 1;			/* a redelivery: done before */
	case 0:
		break;
	default:
		return -1;
	}

	x = malloc(cfg.sample_size * sizeof(*x));
	if (!x) {
		fprintf(stderr, "SHandler: out of memory for a sample of %llu\n",
			(unsigned long long)cfg.sample_size);
		return -1;
	}
	w = WooFOpen(sample);
	if (!w)
		goto out;
	first = seq_no - cfg.sample_size + 1;
	for (i = 0; i < cfg.sample_size; i++) {
		if (WooFRead(w, &num, first + i) < 0)
			goto out;
		if (num.index != first + i) {
			fprintf(stderr, "SHandler: %s seq %lu holds number %llu\n", sample,
				first + i, (unsigned long long)num.index);
			goto out;
		}
		x[i] = num.value;
	}
	if (runstat_runs_test(x, cfg.sample_size, &st) < 0) {
		fprintf(stderr, "SHandler: the runs test failed (out of memory)\n");
		goto out;
	}
	seq = WooFPut(stats, "KHandler", &st);
	if (!WooFInvalid(seq))
		ret = 1;
out:
	WooFFree(w);
	free(x);
	return ret;
}
