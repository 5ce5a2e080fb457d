/* SPDX-License-Identifier: MIT */
/*
 * floors.c - the floors every woof figure is compared with, measured in
 * the same run and by the same method (BENCH_MEASURE):
 *   - the timer: one clock_gettime(CLOCK_MONOTONIC) pair, i.e. what each
 *     timed batch carries on top of its operations;
 *   - the syscall floor: syscall(SYS_getppid), issued directly so that no
 *     libc can answer from a cache; the cheapest round trip to the kernel;
 *   - the mapped-ring floor: copy one element into the next slot of a
 *     private, prefaulted, anonymous mapping of the same size as the WOOF
 *     and publish it with one release store; the least any user-space
 *     append into shared memory can cost.
 * The throughput floors (a shared ring appended to by 1 and 2 processes)
 * live in throughput.c because they use its fork-and-barrier harness.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/woof.h>

#include "bench.h"

void floor_timer(struct bench *b)
{
	struct figure *f = &b->floor[FLOOR_TIMER];
	double *v = bench_samples(b);

	if (!v)
		return;
	for (size_t i = 0; i < 1000; i++)
		(void)now_ns();
	long fl0 = bench_faults();
	for (size_t s = 0; s < b->cfg.iterations; s++) {
		uint64_t t0 = now_ns();
		uint64_t t1 = now_ns();
		v[s] = (double)(t1 - t0);
	}
	f->faults = bench_faults() - fl0;
	f->batch = 1;
	bench_finish(f, v, b->cfg.iterations);
}

void floor_syscall(struct bench *b)
{
	BENCH_MEASURE(b, &b->floor[FLOOR_SYSCALL], (void)syscall(SYS_getppid));
}

/*
 * The ring has the WOOF's slot size and at least its history, rounded up
 * to a power of two so that the index wraps by a compare, not a division
 * (the floor is the cheapest append, not a model of any implementation).
 */
void floor_ring(struct bench *b)
{
	struct figure *f = &b->floor[FLOOR_RING];
	uint64_t slot = WOOF_SLOT_SIZE(b->cfg.element_size);
	uint64_t nslots = 1;
	size_t esz = b->cfg.element_size;
	unsigned char el[256];
	unsigned char *ring;
	size_t len;

	while (nslots < b->cfg.history)
		nslots *= 2;
	len = nslots * slot + 64;
	ring = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (ring == MAP_FAILED) {
		bench_fail(b, "mapped-ring floor: mmap of %zu bytes failed", len);
		return;
	}
	memset(ring, 0, len);	/* prefault for certain */
	memset(el, 0xa5, sizeof(el));

	_Atomic uint64_t *head = (_Atomic uint64_t *)ring;
	unsigned char *slots = ring + 64;
	unsigned char *src = el;
	unsigned char *big = NULL;
	uint64_t i = 0, seq = 0;

	if (esz > sizeof(el)) {
		big = mmap(NULL, esz, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (big == MAP_FAILED) {
			munmap(ring, len);
			bench_fail(b, "mapped-ring floor: mmap failed");
			return;
		}
		memset(big, 0xa5, esz);
		src = big;
	}

	BENCH_MEASURE(b, f,
		memcpy(slots + i * slot + WOOF_SLOT_HEADER_SIZE, src, esz);
		atomic_store_explicit(head, ++seq, memory_order_release);
		if (++i == nslots)
			i = 0);

	if (big)
		munmap(big, esz);
	munmap(ring, len);
}
