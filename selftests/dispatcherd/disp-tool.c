/* SPDX-License-Identifier: MIT */
/*
 * disp-tool.c - the dispatcherd tests' client: makes WOOFs, puts bursts
 * with a handler named, waits for results (woof_wait, no polling) and
 * checks that every put's handler ran.
 *
 *   disp-tool -N DIR create NAME HISTORY [ELEMENT_SIZE]
 *       (re-creates an existing one; elements of other WOOFs than "results"
 *       are 64 bytes unless ELEMENT_SIZE says more)
 *   disp-tool -N DIR remove NAME
 *   disp-tool -N DIR put NAME HANDLER FROM TO [SLEEP_US]
 *       (HANDLER "-": plain puts, no handler; big elements start with the
 *       64-byte struct test_el)
 *   disp-tool -N DIR wait NAME COUNT TIMEOUT_S
 *   disp-tool -N DIR check COUNT
 *       reads "results": prints present/missing/duplicates/redelivered and
 *       exits 1 if any n in 1..COUNT is missing or a result is inconsistent
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <woof.h>
#include "disp-test.h"

static int usage(void)
{
	fprintf(stderr, "usage: disp-tool -N DIR create NAME HISTORY [ELEMENT_SIZE] | remove NAME | put NAME HANDLER FROM TO "
		"[SLEEP_US|gate] | wait NAME COUNT TIMEOUT_S | check COUNT\n");
	return 2;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	struct woof_ns *ns;
	int ret, c;

	while ((c = getopt(argc, argv, "+N:")) != -1) {
		if (c != 'N')
			return usage();
		dir = optarg;
	}
	if (optind >= argc)
		return usage();
	argv += optind;
	argc -= optind;
	ret = woof_ns_open(dir, &ns);
	if (ret) {
		fprintf(stderr, "disp-tool: %s: %s\n", dir ? dir : ".", woof_strerror(ret));
		return 1;
	}

	if (!strcmp(argv[0], "create") && (argc == 3 || argc == 4)) {
		struct woof_create_opts o = {
			.sz = sizeof(o),
			.element_size = strcmp(argv[1], TEST_RESULTS) ? sizeof(struct test_el)
								    : sizeof(struct test_result),
			.history_size = strtoull(argv[2], NULL, 10),
			.create = WOOF_CREATE_RESET,
		};

		if (argc == 4 && strtoull(argv[3], NULL, 10) > o.element_size)
			o.element_size = strtoull(argv[3], NULL, 10);

		ret = woof_create(ns, argv[1], &o, NULL);
		if (ret) {
			fprintf(stderr, "disp-tool: create %s: %s\n", argv[1], woof_strerror(ret));
			return 1;
		}
		return 0;
	}

	if (!strcmp(argv[0], "remove") && argc == 2) {
		ret = woof_remove(ns, argv[1]);
		if (ret) {
			fprintf(stderr, "disp-tool: remove %s: %s\n", argv[1], woof_strerror(ret));
			return 1;
		}
		return 0;
	}

	if (!strcmp(argv[0], "put") && (argc == 5 || argc == 6)) {
		uint64_t from = strtoull(argv[3], NULL, 10), to = strtoull(argv[4], NULL, 10);
		const char *handler = strcmp(argv[2], "-") ? argv[2] : NULL;
		struct woof_stat st;
		struct test_el *el;
		struct woof *w;

		ret = woof_open(ns, argv[1], &w);
		if (!ret)
			ret = woof_stat(w, &st);
		if (ret) {
			fprintf(stderr, "disp-tool: open %s: %s\n", argv[1], woof_strerror(ret));
			return 1;
		}
		el = calloc(1, st.element_size > sizeof(*el) ? st.element_size : sizeof(*el));
		if (!el)
			return 1;
		if (argc == 6 && !strcmp(argv[5], "gate"))
			el->flags = TEST_F_GATE;
		else
			el->sleep_us = argc == 6 ? (uint32_t)strtoul(argv[5], NULL, 10) : 0;
		for (uint64_t n = from; n <= to; n++) {
			uint64_t seq;

			el->n = n;
			ret = woof_append(w, el, handler, &seq);
			if (ret) {
				fprintf(stderr, "disp-tool: put %llu: %s\n", (unsigned long long)n,
					woof_strerror(ret));
				return 1;
			}
		}
		woof_close(w);
		return 0;
	}

	if (!strcmp(argv[0], "wait") && argc == 4) {
		uint64_t count = strtoull(argv[2], NULL, 10);
		uint64_t deadline = now_ms() + 1000 * strtoull(argv[3], NULL, 10);
		struct woof *w;

		ret = woof_open(ns, argv[1], &w);
		if (ret) {
			fprintf(stderr, "disp-tool: open %s: %s\n", argv[1], woof_strerror(ret));
			return 1;
		}
		while (woof_latest(w) < count) {
			uint64_t now = now_ms();

			if (now >= deadline) {
				fprintf(stderr, "disp-tool: %s has %llu of %llu elements after %s s\n",
					argv[1], (unsigned long long)woof_latest(w),
					(unsigned long long)count, argv[3]);
				return 1;
			}
			ret = woof_wait(w, woof_latest(w), (int)(deadline - now));
			if (ret && ret != -ETIMEDOUT && ret != -EINTR) {
				fprintf(stderr, "disp-tool: wait: %s\n", woof_strerror(ret));
				return 1;
			}
		}
		return 0;
	}

	if (!strcmp(argv[0], "check") && argc == 2) {
		uint64_t count = strtoull(argv[1], NULL, 10), latest, missing = 0, dup = 0;
		uint64_t redelivered = 0, bad = 0, present = 0;
		unsigned *seen = calloc(count + 1, sizeof(*seen));
		struct test_result r;
		struct woof *w;

		if (!seen)
			return 1;
		ret = woof_open(ns, TEST_RESULTS, &w);
		if (ret) {
			fprintf(stderr, "disp-tool: open results: %s\n", woof_strerror(ret));
			return 1;
		}
		latest = woof_latest(w);
		for (uint64_t s = 1; s <= latest; s++) {
			ret = woof_read(w, s, &r, NULL);
			if (ret) {
				fprintf(stderr, "disp-tool: results %llu: %s (history too small?)\n",
					(unsigned long long)s, woof_strerror(ret));
				return 1;
			}
			if (r.n < 1 || r.n > count || r.seq != r.n || r.attempt < 1 ||
			    (r.attempt > 1) != (r.redelivered != 0) || !r.trigger) {
				if (bad++ < 5)
					fprintf(stderr, "disp-tool: inconsistent result %llu: n %llu "
						"seq %llu attempt %u redelivered %u trigger %llu\n",
						(unsigned long long)s, (unsigned long long)r.n,
						(unsigned long long)r.seq, r.attempt, r.redelivered,
						(unsigned long long)r.trigger);
				continue;
			}
			if (seen[r.n]++)
				dup++;
			if (r.redelivered)
				redelivered++;
		}
		for (uint64_t n = 1; n <= count; n++) {
			if (seen[n]) {
				present++;
			} else if (missing++ < 10) {
				fprintf(stderr, "disp-tool: no result for put %llu\n",
					(unsigned long long)n);
			}
		}
		printf("results=%llu present=%llu missing=%llu duplicates=%llu redelivered=%llu "
		       "inconsistent=%llu\n", (unsigned long long)latest,
		       (unsigned long long)present, (unsigned long long)missing,
		       (unsigned long long)dup, (unsigned long long)redelivered,
		       (unsigned long long)bad);
		return missing || bad ? 1 : 0;
	}
	return usage();
}
