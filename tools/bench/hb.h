/* SPDX-License-Identifier: MIT */
/* hb.h - what woof-bench puts for the handler benchmark and what its handler returns. */
#ifndef WOOF_BENCH_HB_H
#define WOOF_BENCH_HB_H

#include <stdint.h>

#define HB_IN	"hb-in"		/* the bench puts here, naming the handler */
#define HB_OUT	"hb-out"	/* the handler appends its hb_res here */

struct hb_el {			/* 64 bytes */
	uint64_t put_ns;	/* CLOCK_MONOTONIC just before the put */
	uint64_t n;
	char pad[48];
};

struct hb_res {			/* 64 bytes */
	uint64_t put_ns;	/* copied from the element */
	uint64_t first_ns;	/* CLOCK_MONOTONIC at the handler's first line */
	uint64_t n;
	uint64_t seq;
	uint32_t pid;		/* unused (0): the handler makes no system call of its own */
	uint32_t runtime;	/* 0 exec, 1 zygote, 2 warm (which function ran) */
	char pad[24];
};

#endif
