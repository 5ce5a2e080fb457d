/* SPDX-License-Identifier: MIT */
/*
 * read.c - reading elements from a mapped WOOF, and waiting for new ones.
 *
 * Both engines map the same format, so reads never need the engine or a
 * system call. A read is a seqlock read of one slot: the element is copied
 * between two loads of the slot's stamp, and kept only when both equal
 * the wanted sequence number. While an append overwrites the oldest
 * element, its previous content sits in the undo slot (engine-user.c) and
 * the reader copies it from there. Readers never write to the WOOF and
 * never wait for a writer.
 *
 * Waiting (woof_wait) sleeps on a futex on the low 32 bits of seq_no. A
 * waiter sets wait_flag before it sleeps; an appender that sees the flag
 * clears it and wakes everybody, so appends cost nothing while nobody
 * waits. A process that may only read the WOOF cannot set the flag: it
 * sleeps on the same futex but looks again every 10 ms. WOOFs served by
 * woof.ko are waited for with WOOF_IOC_WAIT on their fd (engine-kernel.c).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "woof-internal.h"

/* Copy the element stamped @s from @sl; true when it was intact. */
static bool slot_copy(const struct woof_slot *sl, uint64_t s, void *el, size_t n)
{
	if (__atomic_load_n(&sl->stamp, __ATOMIC_ACQUIRE) != s)
		return false;
	memcpy(el, sl + 1, n);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&sl->stamp, __ATOMIC_RELAXED) == s;
}

int map_read(struct woof_map *m, uint64_t seq, void *el, uint64_t *seq_read)
{
	const struct woof_header *h = m->hdr;
	uint64_t H = m->history_size;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		uint64_t latest = __atomic_load_n(&h->seq_no, __ATOMIC_ACQUIRE);
		uint64_t s = seq ? seq : latest;

		if (s == 0)
			return -ENODATA;		/* empty */
		if (s > latest)
			return -ERANGE;
		if (latest >= H && s <= latest - H)
			return -ENODATA;		/* no longer retained */
		if (slot_copy(map_slot(m, (s - 1) % H), s, el, m->element_size) ||
		    slot_copy(map_slot(m, H), s, el, m->element_size)) {
			if (seq_read)
				*seq_read = s;
			return 0;
		}
		/* overwritten while we looked: the window moved on */
		if (seq)
			return -ENODATA;
	}
	return -EAGAIN;
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* The futex word: the low half of seq_no. */
static inline uint32_t *seq_word(struct woof_header *h)
{
	return map_futex_word(&h->seq_no);
}

void map_wake(struct woof_header *h)
{
	if (__atomic_exchange_n(&h->wait_flag, 0, __ATOMIC_SEQ_CST))
		futex(seq_word(h), FUTEX_WAKE, INT_MAX, NULL);
}

/*
 * Wait for an element after @seq. A WOOF the kernel serves is waited for
 * through its file descriptor (WOOF_IOC_WAIT): the kernel never wakes
 * futex waiters in a file mapping.
 */
int map_wait(struct woof_map *m, uint64_t seq, int timeout_ms)
{
	if (m->ns->ops->wait)
		return m->ns->ops->wait(m, seq, timeout_ms);
	return map_futex_wait(m, seq, timeout_ms);
}

int map_futex_wait(struct woof_map *m, uint64_t seq, int timeout_ms)
{
	struct woof_header *h = m->hdr;
	struct timespec end = { 0 }, now, left;

	if (timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += timeout_ms / 1000;
		end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (end.tv_nsec >= 1000000000L) {
			end.tv_sec++;
			end.tv_nsec -= 1000000000L;
		}
	}
	for (;;) {
		uint64_t cur;

		if (map_stale(m))
			return -ESTALE;
		if (__atomic_load_n(&h->seq_no, __ATOMIC_ACQUIRE) > seq)
			return 0;
		/* Dekker with the appender: flag, then re-read seq_no */
		if (m->mapped_rw)
			__atomic_store_n(&h->wait_flag, 1, __ATOMIC_SEQ_CST);
		cur = __atomic_load_n(&h->seq_no, __ATOMIC_SEQ_CST);
		if (cur > seq)
			return 0;
		if (map_stale(m))
			return -ESTALE;
		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = end.tv_sec - now.tv_sec;
			left.tv_nsec = end.tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			if (left.tv_sec < 0)
				return -ETIMEDOUT;
		}
		if (!m->mapped_rw && (timeout_ms < 0 || left.tv_sec > 0 || left.tv_nsec > 10000000L)) {
			left.tv_sec = 0;	/* nobody will wake us: look again soon */
			left.tv_nsec = 10000000L;
			if (futex(seq_word(h), FUTEX_WAIT, (uint32_t)cur, &left) < 0 &&
			    errno == EINTR)
				return -EINTR;
			continue;
		}
		if (futex(seq_word(h), FUTEX_WAIT, (uint32_t)cur,
			  timeout_ms >= 0 ? &left : NULL) < 0) {
			if (errno == ETIMEDOUT)
				return -ETIMEDOUT;
			if (errno == EINTR)
				return -EINTR;
			/* EAGAIN: seq_no changed before we slept */
		}
	}
}
