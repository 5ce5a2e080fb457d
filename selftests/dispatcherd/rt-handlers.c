/* SPDX-License-Identifier: MIT */
/*
 * rt-handlers.c - handler functions only the runtime tests (test-runtimes.sh)
 * need. They are built, together with test-handlers.c, into one shared
 * object that the test copies into the namespace as NAME.so for the zygote
 * and warm runtimes.
 *
 *   flaky    dies of SIGSEGV when el->n is a multiple of 5, otherwise does
 *            what rec does (a warm worker that crashes is replaced and the
 *            next calls of the same handler run on the new one)
 *   nap      sleepy under another name
 *   whoami   prints "whoami pid=P trigger=T attempt=A woof=W seq=S" (the
 *            call as woof_call_current() sees it, and the process it runs in)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "woofc.h"
#include "disp-test.h"

int rec(WOOF *wf, unsigned long seq_no, void *ptr);
int flaky(WOOF *wf, unsigned long seq_no, void *ptr);
int whoami(WOOF *wf, unsigned long seq_no, void *ptr);

int flaky(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const struct test_el *el = ptr;

	if (el->n % 5 == 0) {
		volatile int *p = NULL;

		printf("flaky crashes at n=%llu\n", (unsigned long long)el->n);
		fflush(stdout);
		*p = 1;
	}
	return rec(wf, seq_no, ptr);
}

int whoami(WOOF *wf, unsigned long seq_no, void *ptr)
{
	struct woof_call c;

	(void)ptr;
	memset(&c, 0, sizeof(c));
	c.sz = sizeof(c);
	if (woof_call_current(&c) != 0) {
		printf("whoami: woof_call_current failed\n");
		return -1;
	}
	printf("whoami pid=%d trigger=%llu attempt=%u woof=%s seq=%lu/%llu file=%s\n",
	       (int)getpid(), (unsigned long long)c.trigger, c.attempt, c.woof, seq_no,
	       (unsigned long long)c.seq, wf->shared->filename);
	return 0;
}

int sleepy(WOOF *wf, unsigned long seq_no, void *ptr);
int nap(WOOF *wf, unsigned long seq_no, void *ptr);

/* sleepy under another name (one handler name per runtime in the timeout test) */
int nap(WOOF *wf, unsigned long seq_no, void *ptr)
{
	return sleepy(wf, seq_no, ptr);
}
