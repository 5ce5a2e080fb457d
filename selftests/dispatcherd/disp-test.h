/* SPDX-License-Identifier: MIT */
/* disp-test.h - the element and result records the dispatcherd tests share. */
#ifndef DISP_TEST_H
#define DISP_TEST_H

#include <stdint.h>

#define TEST_RESULTS "results"

/* what the tests put (64 bytes) */
struct test_el {
	uint64_t n;		/* 1..count: which put this was */
	uint32_t sleep_us;	/* rec sleeps this long first */
	uint32_t flags;		/* TEST_F_* */
	char pad[48];
};

/* rec waits until the file "gate" exists in its namespace (WOOFC_DIR), then goes on */
#define TEST_F_GATE	1U

/* what rec appends to "results" */
struct test_result {
	uint64_t n;
	uint64_t seq;		/* the element's seq, as the handler got it */
	uint64_t trigger;	/* from woof_call_current() */
	uint32_t attempt;
	uint32_t redelivered;
	char woof[96];		/* wf->shared->filename */
};

#endif
