/* SPDX-License-Identifier: MIT */
/*
 * ops.c - the single-operation latency figures of woof-bench, all through
 * the CSPOT API (woofc.h) with WOOFC_DIR pointing at the temp namespace:
 * WooFPut by name, WooFAppend on a handle, WooFGet by name and WooFRead on
 * a handle (a fixed in-window sequence number, and seq 0 = latest).
 *
 * Every element carries its expected sequence number in its first 8 bytes
 * (when it is at least 8 bytes long), so each timed put/append checks the
 * sequence number it got and each timed get/read checks that it returned
 * the element it asked for; any mismatch is a correctness failure.
 *
 * Before anything is timed, the WOOF is prefilled once through its whole
 * history by name and once by handle, so that the timed appends find
 * every page of the file already mapped (a first write fault on a shared
 * ext4 page costs 6-9 us and would otherwise land in the samples).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <woofc.h>

#include "bench.h"

#define LAT_WOOF "bench-lat"

static WOOF *lat_wf;
static unsigned char *el_in, *el_out;
static bool tagged;

static void put_tag(unsigned char *el, uint64_t seq)
{
	if (tagged)
		memcpy(el, &seq, sizeof(seq));
}

static uint64_t get_tag(const unsigned char *el)
{
	uint64_t t = 0;

	if (tagged)
		memcpy(&t, el, sizeof(t));
	return t;
}

static bool any_latency(const struct bench *b)
{
	for (int i = FIG_PUT; i <= FIG_READ_LATEST; i++)
		if (b->fig[i].selected)
			return true;
	return false;
}

/*
 * Append history elements by name, then history elements by handle, within
 * cfg.prefill_budget_ns. Returns 0, or -1 on a failed append.
 */
static int prefill(struct bench *b)
{
	uint64_t h = b->cfg.history, budget = b->cfg.prefill_budget_ns;
	uint64_t next = WooFGetLatestSeqno(LAT_WOOF) + 1;
	uint64_t t0 = now_ns();
	unsigned long s;

	b->prefill_complete = true;
	for (uint64_t i = 0; i < 2 * h; i++) {
		put_tag(el_in, next);
		if (i < h)
			s = WooFPut(LAT_WOOF, NULL, el_in);
		else
			s = WooFAppend(lat_wf, NULL, el_in);
		if (WooFInvalid(s) || s != next) {
			bench_fail(b, "prefill: %s returned seq %lu, expected %llu (%s)",
				   i < h ? "WooFPut" : "WooFAppend", s,
				   (unsigned long long)next, strerror(errno));
			return -1;
		}
		next++;
		b->prefilled++;
		if ((i & 1023) == 1023 && now_ns() - t0 > budget) {
			b->prefill_complete = false;
			break;
		}
	}
	return 0;
}

int ops_setup(struct bench *b)
{
	if (!any_latency(b))
		return 0;
	if (WooFCreate(LAT_WOOF, b->cfg.element_size, b->cfg.history) < 0) {
		bench_fail(b, "WooFCreate(%s, %llu, %llu): %s", LAT_WOOF,
			   (unsigned long long)b->cfg.element_size,
			   (unsigned long long)b->cfg.history, strerror(errno));
		return -1;
	}
	lat_wf = WooFOpen(LAT_WOOF);
	if (!lat_wf) {
		bench_fail(b, "WooFOpen(%s): %s", LAT_WOOF, strerror(errno));
		return -1;
	}
	if (WooFGetElSize(LAT_WOOF) != b->cfg.element_size) {
		bench_fail(b, "WooFGetElSize(%s) = %lu, created with %llu", LAT_WOOF,
			   WooFGetElSize(LAT_WOOF),
			   (unsigned long long)b->cfg.element_size);
		return -1;
	}
	el_in = calloc(1, b->cfg.element_size);
	el_out = calloc(1, b->cfg.element_size);
	if (!el_in || !el_out) {
		bench_fail(b, "out of memory");
		return -1;
	}
	memset(el_in, 0x5a, b->cfg.element_size);
	tagged = b->cfg.element_size >= sizeof(uint64_t);
	return prefill(b);
}

/* A sequence number in the middle of the retained window. */
static uint64_t mid_seq(const struct bench *b, uint64_t latest)
{
	uint64_t oldest = latest > b->cfg.history ? latest - b->cfg.history + 1 : 1;

	return oldest + (latest - oldest) / 2;
}

static void bench_put(struct bench *b, struct figure *f)
{
	uint64_t next = WooFGetLatestSeqno(LAT_WOOF) + 1;
	uint64_t bad = 0, first = next;
	unsigned long s;

	BENCH_MEASURE(b, f,
		put_tag(el_in, next);
		s = WooFPut(LAT_WOOF, NULL, el_in);
		bad += (s != next);
		next++);
	if (bad)
		bench_fail(b, "%s: %llu of %llu puts did not return the next seq",
			   f->label, (unsigned long long)bad,
			   (unsigned long long)(next - first));
}

static void bench_append(struct bench *b, struct figure *f)
{
	uint64_t next = WooFGetLatestSeqno(LAT_WOOF) + 1;
	uint64_t bad = 0, first = next;
	unsigned long s;

	BENCH_MEASURE(b, f,
		put_tag(el_in, next);
		s = WooFAppend(lat_wf, NULL, el_in);
		bad += (s != next);
		next++);
	if (bad)
		bench_fail(b, "%s: %llu of %llu appends did not return the next seq",
			   f->label, (unsigned long long)bad,
			   (unsigned long long)(next - first));
}

/* @latest: read seq 0 and expect the latest element; else a fixed seq. */
static void bench_get(struct bench *b, struct figure *f, bool by_name, bool latest)
{
	uint64_t last = WooFGetLatestSeqno(LAT_WOOF);
	uint64_t seq = latest ? 0 : mid_seq(b, last);
	uint64_t want = latest ? last : seq;
	uint64_t bad = 0, n = 0;
	int rc;

	if (WooFInvalid(last) || last == 0) {
		bench_fail(b, "%s: the WOOF is empty or unreadable", f->label);
		return;
	}
	snprintf(f->note_buf, sizeof(f->note_buf), "seq %llu%s",
		 (unsigned long long)want, latest ? " (latest)" : " (fixed, in window)");
	f->note = f->note_buf;
	if (by_name) {
		BENCH_MEASURE(b, f,
			rc = WooFGet(LAT_WOOF, el_out, seq);
			bad += (rc < 0) | (get_tag(el_out) != (tagged ? want : 0));
			n++);
	} else {
		BENCH_MEASURE(b, f,
			rc = WooFRead(lat_wf, el_out, seq);
			bad += (rc < 0) | (get_tag(el_out) != (tagged ? want : 0));
			n++);
	}
	if (bad)
		bench_fail(b, "%s: %llu of %llu reads of seq %llu failed or returned another element",
			   f->label, (unsigned long long)bad, (unsigned long long)n,
			   (unsigned long long)want);
}

/* One untimed call of each kind, to report a broken call by its errno. */
static bool probe(struct bench *b)
{
	uint64_t next = WooFGetLatestSeqno(LAT_WOOF) + 1;
	unsigned long s;

	put_tag(el_in, next);
	s = WooFPut(LAT_WOOF, NULL, el_in);
	if (s != next) {
		bench_fail(b, "WooFPut(%s) returned %lu, expected %llu: %s", LAT_WOOF,
			   s, (unsigned long long)next, strerror(errno));
		return false;
	}
	if (WooFGet(LAT_WOOF, el_out, next) < 0 ||
	    (tagged && get_tag(el_out) != next)) {
		bench_fail(b, "WooFGet(%s, %llu) failed or returned another element: %s",
			   LAT_WOOF, (unsigned long long)next, strerror(errno));
		return false;
	}
	if (WooFRead(lat_wf, el_out, 0) < 0 || (tagged && get_tag(el_out) != next)) {
		bench_fail(b, "WooFRead(%s, 0) failed or returned another element: %s",
			   LAT_WOOF, strerror(errno));
		return false;
	}
	return true;
}

void ops_run(struct bench *b)
{
	if (!lat_wf || !probe(b))
		return;
	if (b->fig[FIG_PUT].selected)
		bench_put(b, &b->fig[FIG_PUT]);
	if (b->fig[FIG_APPEND].selected)
		bench_append(b, &b->fig[FIG_APPEND]);
	if (b->fig[FIG_GET].selected)
		bench_get(b, &b->fig[FIG_GET], true, false);
	if (b->fig[FIG_GET_LATEST].selected)
		bench_get(b, &b->fig[FIG_GET_LATEST], true, true);
	if (b->fig[FIG_READ].selected)
		bench_get(b, &b->fig[FIG_READ], false, false);
	if (b->fig[FIG_READ_LATEST].selected)
		bench_get(b, &b->fig[FIG_READ_LATEST], false, true);
}

void ops_teardown(struct bench *b)
{
	(void)b;
	if (lat_wf) {
		WooFFree(lat_wf);
		lat_wf = NULL;
		WooFRemove(LAT_WOOF);
	}
	free(el_in);
	free(el_out);
	el_in = el_out = NULL;
}
