/* SPDX-License-Identifier: MIT */
/*
 * rhandler.c - RHandler, the producer of the runs-test pipeline.
 *
 * Triggered by a RUNSTAT_GEN put to BASE.gen (the first by runstat-start,
 * the rest by itself). One call produces the next batch (cfg.batch, by
 * default one sample of s numbers) of the pseudo-random stream, putting
 * each number separately into BASE.sample with SHandler named, then puts
 * the generator state after the batch back into BASE.gen, naming itself,
 * until s*c numbers exist. The chain is sequential - a call triggers the
 * next only when it is done - so number i lands at sequence number i.
 *
 * Redelivery (dispatcherd may run a call twice after a crash): the call
 * regenerates its batch from the state in its element and skips numbers
 * whose index is already in BASE.sample, and does not trigger its
 * successor when BASE.gen already holds a later element. A redelivered
 * call therefore adds nothing that the first delivery added.
 */
#include <stdio.h>

#include "woofc.h"
#include "runstat.h"
#include "runstat-handler.h"

int RHandler(WOOF *wf, unsigned long seq_no, void *element);

int RHandler(WOOF *wf, unsigned long seq_no, void *element)
{
	const RUNSTAT_GEN *gen = element;
	char base[RUNSTAT_BASE_MAX + 1], sample[RUNSTAT_NAME_MAX], self[RUNSTAT_NAME_MAX];
	unsigned long latest, seq;
	uint64_t total, n, i, state;
	RUNSTAT_CFG cfg;
	RUNSTAT_GEN next;

	if (runstat_handler_setup("RHandler", wf, RUNSTAT_SUFFIX_GEN, base, sizeof(base),
				  &cfg) < 0)
		return -1;
	if (runstat_name(sample, sizeof(sample), base, RUNSTAT_SUFFIX_SAMPLE) < 0 ||
	    runstat_name(self, sizeof(self), base, RUNSTAT_SUFFIX_GEN) < 0 ||
	    runstat_check_size("RHandler", sample, sizeof(RUNSTAT_NUM)) < 0)
		return -1;

	total = cfg.sample_size * cfg.count;
	if (gen->produced >= total)
		return 1;			/* nothing left to produce */
	n = total - gen->produced;
	if (n > cfg.batch)
		n = cfg.batch;

	latest = WooFGetLatestSeqno(sample);
	if (WooFInvalid(latest))
		return -1;
	if (latest < gen->produced) {
		fprintf(stderr, "RHandler: %s holds %lu numbers, expected at least %llu\n",
			sample, latest, (unsigned long long)gen->produced);
		return -1;
	}

	state = gen->state;
	for (i = 1; i <= n; i++) {
		RUNSTAT_NUM num = { .index = gen->produced + i };

		num.value = runstat_draw(&state, cfg.mode, num.index);
		if (num.index <= latest)
			continue;		/* put by an earlier delivery of this call */
		seq = WooFPut(sample, "SHandler", &num);
		if (WooFInvalid(seq))
			return -1;
		if (seq != num.index) {
			fprintf(stderr, "RHandler: number %llu landed at %s seq %lu: another writer?\n",
				(unsigned long long)num.index, sample, seq);
			return -1;
		}
	}

	next.state = state;
	next.produced = gen->produced + n;
	if (next.produced >= total)
		return 1;			/* the stream is complete */
	latest = WooFGetLatestSeqno(self);
	if (WooFInvalid(latest))
		return -1;
	if (latest > seq_no)
		return 1;			/* an earlier delivery triggered the successor */
	seq = WooFPut(self, "RHandler", &next);
	return WooFInvalid(seq) ? -1 : 1;
}
