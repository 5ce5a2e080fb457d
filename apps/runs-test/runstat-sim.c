/* SPDX-License-Identifier: MIT */
/*
 * runstat-sim.c - runs a started runs-test pipeline with RHandler,
 * SHandler and KHandler called in this process instead of by dispatcherd:
 * a check of the handlers' logic that needs no daemon.
 *
 *   runstat-sim -W base [-N namespace] [-r seed] [-d percent]
 *
 * After runstat-start, it plays a dispatcher that serves BASE.gen,
 * BASE.sample and BASE.stats: it repeatedly picks one of the WOOFs with
 * elements it has not handled yet and calls that WOOF's handler for its
 * oldest such element, with a copy of it, as dispatcherd would after a put
 * naming the handler. With -r the picks are pseudo-random - the WOOF, and
 * the element among the 64 oldest unhandled ones - so calls interleave
 * differently per seed and statistics reach BASE.stats out of sample
 * order, as with concurrent handlers. -d makes that percentage of calls
 * happen a second time at a random later point, as redeliveries after a
 * crash would. The result must not change: compare runstat-wait's output
 * with runstat-local's.
 *
 * What it does not do: claim triggers (the puts' triggers stay in the
 * namespace's trigger log, unserved, so use a throwaway namespace and keep
 * runs below the log's 16384 entries, after which puts wait), run
 * handlers concurrently, or isolate them. Exit 0 when every call returned
 * 1, else 1 after the first failing call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "woofc.h"
#include "runstat.h"
#include "runstat-cli.h"

int RHandler(WOOF *wf, unsigned long seq_no, void *element);
int SHandler(WOOF *wf, unsigned long seq_no, void *element);
int KHandler(WOOF *wf, unsigned long seq_no, void *element);

struct stage {
	const char *handler;
	int (*fn)(WOOF *, unsigned long, void *);
	const char *suffix;
	size_t el_size;
	char name[RUNSTAT_NAME_MAX];
	unsigned long next;	/* the lowest sequence number not yet handed to fn */
	uint64_t done;		/* bit j: next + j was handed already (-r only) */
	unsigned long latest;
	unsigned long calls;
	WOOF *wf;
};

/* redeliveries not yet made: the call runs again at a random later point */
#define SIM_LATER_MAX 4096
static struct {
	int stage;
	unsigned long seq;
} later[SIM_LATER_MAX];
static uint64_t nlater;

/*
 * The next element of @s to handle: the oldest one, or with @rng one of
 * the 64 oldest unhandled ones at random, as concurrent handlers would
 * finish in any order.
 */
static unsigned long pick_seq(struct stage *s, uint64_t *rng)
{
	unsigned long avail = s->latest - s->next + 1, j = 0, seq;

	if (rng) {
		if (avail > 64)
			avail = 64;
		j = (unsigned long)(runstat_splitmix64(rng) % avail);
		while (s->done & (1ULL << j))	/* bit 0 is always clear */
			j = (j + 1) % avail;
	}
	seq = s->next + j;
	s->done |= 1ULL << j;
	while (s->done & 1) {
		s->done >>= 1;
		s->next++;
	}
	return seq;
}

static const char usage[] =
	"usage: runstat-sim -W base [-N namespace] [-r seed] [-d percent]\n";

int main(int argc, char **argv)
{
	const char *prog = "runstat-sim", *base = NULL, *ns = NULL;
	struct stage st[3] = {
		{ .handler = "RHandler", .fn = RHandler, .suffix = RUNSTAT_SUFFIX_GEN,
		  .el_size = sizeof(RUNSTAT_GEN) },
		{ .handler = "SHandler", .fn = SHandler, .suffix = RUNSTAT_SUFFIX_SAMPLE,
		  .el_size = sizeof(RUNSTAT_NUM) },
		{ .handler = "KHandler", .fn = KHandler, .suffix = RUNSTAT_SUFFIX_STATS,
		  .el_size = sizeof(RUNSTAT_STAT) },
	};
	uint64_t rng = 0, dup = 0, redelivered = 0;
	struct runstat_names n;
	unsigned char el[sizeof(RUNSTAT_STAT) + sizeof(RUNSTAT_GEN) + sizeof(RUNSTAT_NUM)];
	int c, i, random_order = 0;

	while ((c = getopt(argc, argv, "W:f:N:r:d:h")) != -1) {
		switch (c) {
		case 'W':
		case 'f':
			base = optarg;
			break;
		case 'N':
			ns = optarg;
			break;
		case 'r':
			rng = runstat_parse_u64(prog, c, optarg, 0, UINT64_MAX);
			random_order = 1;
			break;
		case 'd':
			dup = runstat_parse_u64(prog, c, optarg, 0, 100);
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
	for (i = 0; i < 3; i++) {
		runstat_woof(&n, st[i].suffix, st[i].name, sizeof(st[i].name));
		if (WooFGetElSize(st[i].name) != st[i].el_size) {
			fprintf(stderr, "%s: %s is not a runs-test WOOF (run runstat-start)\n",
				prog, st[i].name);
			return 1;
		}
		st[i].wf = WooFOpen(st[i].name);
		if (!st[i].wf)
			return 1;
		st[i].next = 1;
	}

	for (;;) {
		int ready[4], nready = 0, pick, k;
		unsigned long seq;
		struct stage *s;

		for (i = 0; i < 3; i++) {
			unsigned long latest = WooFGetLatestSeqno(st[i].name);

			if (WooFInvalid(latest))
				return 1;
			st[i].latest = latest;
			if (latest >= st[i].next)
				ready[nready++] = i;
		}
		if (nlater)
			ready[nready++] = 3;	/* a redelivery is due */
		if (!nready)
			break;
		pick = random_order ? (int)(runstat_splitmix64(&rng) % (uint64_t)nready) : 0;
		if (ready[pick] == 3) {
			k = (int)(runstat_splitmix64(&rng) % nlater);
			s = &st[later[k].stage];
			seq = later[k].seq;
			later[k] = later[--nlater];
		} else {
			s = &st[ready[pick]];
			seq = pick_seq(s, random_order ? &rng : NULL);
			if (dup && runstat_splitmix64(&rng) % 100 < dup &&
			    nlater < SIM_LATER_MAX) {
				later[nlater].stage = ready[pick];
				later[nlater++].seq = seq;
				redelivered++;
			}
		}
		/* a fresh copy per call, as each delivery claims its own */
		if (WooFRead(s->wf, el, seq) < 0)
			return 1;
		s->calls++;
		if (s->fn(s->wf, seq, el) != 1) {
			fprintf(stderr, "%s: %s failed on %s seq %lu\n", prog, s->handler,
				s->name, seq);
			return 1;
		}
	}
	printf("runstat-sim: %s: RHandler %lu calls, SHandler %lu, KHandler %lu "
	       "(%llu delivered twice)\n", n.base, st[0].calls, st[1].calls, st[2].calls,
	       (unsigned long long)redelivered);
	for (i = 0; i < 3; i++)
		WooFFree(st[i].wf);
	return 0;
}
