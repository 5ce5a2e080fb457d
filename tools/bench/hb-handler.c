/* SPDX-License-Identifier: MIT */
/*
 * hb-handler.c - the trivial handler woof-bench --handlers runs through
 * dispatcherd, once per runtime under its own name:
 *
 *   hb_exec    the program hb_exec (this file + libwoof's shepherd main())
 *   hb_zygote  the shared object hb_zygote.so
 *   hb_warm    the shared object hb_warm.so
 *
 * (one function per name: a handler is found by its name). Its first
 * action is clock_gettime(CLOCK_MONOTONIC); then it appends {the put's
 * time from the element, that first time, n} to the WOOF "hb-out" - and
 * nothing else: no system call of its own (a getpid() here cost 1 us per
 * call on a host with PTI, 5% of a warm call).
 * woof-bench compares the two times: put -> first line of the handler.
 */
#include <time.h>

#include <woofc.h>

#include "hb.h"

static int hb_finish(const struct timespec *first, unsigned long seq_no, const void *ptr,
		     uint32_t runtime)
{
	const struct hb_el *el = ptr;
	struct hb_res r = {
		.put_ns = el->put_ns,
		.first_ns = (uint64_t)first->tv_sec * 1000000000ULL + (uint64_t)first->tv_nsec,
		.n = el->n,
		.seq = seq_no,
		.runtime = runtime,
	};

	return WooFInvalid(WooFPut(HB_OUT, NULL, &r)) ? -1 : 0;
}

/* the first line of each is the timestamp */
#define HB_HANDLER(name, rt)							\
	int name(WOOF *wf, unsigned long seq_no, void *ptr);			\
	int name(WOOF *wf, unsigned long seq_no, void *ptr)			\
	{									\
		struct timespec first;						\
		clock_gettime(CLOCK_MONOTONIC, &first);				\
		(void)wf;							\
		return hb_finish(&first, seq_no, ptr, rt);			\
	}

HB_HANDLER(hb_exec, 0)
HB_HANDLER(hb_zygote, 1)
HB_HANDLER(hb_warm, 2)
