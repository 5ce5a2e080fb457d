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
 *   kengine_z, kengine_w  kengine (test-handlers.c) under the names the
 *            kernel-engine test gives its zygote and warm handlers
 *   rogue    (warm) a handler that attacks its worker's channels to
 *            dispatcherd, which must survive it: n=1 writes malformed
 *            reports on the worker's socket (a short packet, a bad magic,
 *            an answer for a call it does not serve, an unknown type, an
 *            output report claiming more bytes than any packet holds),
 *            then does what rec does; n=2 moves the head of its answer
 *            ring far ahead and waits to be killed for it; others: rec.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "woofc.h"
#include "disp-test.h"
#include "../../dispatcherd/runtime-proto.h"

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
int kengine(WOOF *wf, unsigned long seq_no, void *ptr);
int kengine_z(WOOF *wf, unsigned long seq_no, void *ptr);
int kengine_w(WOOF *wf, unsigned long seq_no, void *ptr);

int kengine_z(WOOF *wf, unsigned long seq_no, void *ptr)
{
	return kengine(wf, seq_no, ptr);
}

int kengine_w(WOOF *wf, unsigned long seq_no, void *ptr)
{
	return kengine(wf, seq_no, ptr);
}

/* sleepy under another name (one handler name per runtime in the timeout test) */
int nap(WOOF *wf, unsigned long seq_no, void *ptr)
{
	return sleepy(wf, seq_no, ptr);
}

int rogue(WOOF *wf, unsigned long seq_no, void *ptr);

static void rogue_send(const void *p, size_t len)
{
	if (send(RT_FD_SOCK, p, len, MSG_NOSIGNAL) < 0)
		perror("rogue: send");
}

/* The worker's answer ring: the mapping of the memfd "woof-warm-ring". */
static struct rt_ring *rogue_ring(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	struct rt_ring *r = NULL;

	if (!f)
		return NULL;
	while (!r && fgets(line, sizeof(line), f))
		if (strstr(line, "woof-warm-ring"))
			r = (struct rt_ring *)(uintptr_t)strtoull(line, NULL, 16);
	fclose(f);
	return r;
}

int rogue(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const struct test_el *el = ptr;
	struct rt_rep rep;

	if (el->n == 1) {
		memset(&rep, 0, sizeof(rep));
		rogue_send("shortpkt", 8);
		rep.magic = 0xdeadbeef;
		rep.type = RT_REP_DONE;
		rogue_send(&rep, sizeof(rep));
		rep.magic = RT_MAGIC;
		rep.id = 999999999;
		rogue_send(&rep, sizeof(rep));
		rep.type = 77;
		rogue_send(&rep, sizeof(rep));
		rep.type = RT_REP_OUTPUT;
		rep.id = 0;
		rep.status = 1;
		rep.len = 1U << 30;
		rogue_send(&rep, sizeof(rep));
		printf("rogue sent its malformed reports\n");
	} else if (el->n == 2) {
		struct rt_ring *r = rogue_ring();
		struct rt_rep k;

		if (!r) {
			printf("rogue: no answer ring in /proc/self/maps\n");
			return -1;
		}
		printf("rogue breaks its answer ring\n");
		fflush(stdout);
		__atomic_store_n(&r->head, r->head + 1000, __ATOMIC_SEQ_CST);
		memset(&k, 0, sizeof(k));
		k.magic = RT_MAGIC;
		k.type = RT_REP_RING;
		rogue_send(&k, sizeof(k));
		sleep(30);	/* killed long before */
		return -1;
	}
	return rec(wf, seq_no, ptr);
}
