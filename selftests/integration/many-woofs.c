/*
 * many-woofs.c - 100,000 WOOFs in one namespace under vm.max_map_count.
 *
 * Creates N WOOFs (default 100,000), puts one element into each by name and
 * reads it back by name, through the CSPOT API, then again for a sample. The
 * mapping cache must stay bounded: the process's mapping count (from
 * /proc/self/maps) may never exceed WOOF_MAP_CACHE plus a margin for the
 * program itself, and every element must read back intact. Without the
 * bound the process would need N mappings and fail past vm.max_map_count.
 * Prints "N passed, N failed". Usage: many-woofs [N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "woofc.h"

static int passed, failed;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

static long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000, i, bad = 0, maxmaps = 0, base;
	const long cache = 1000;
	char dir[] = "/tmp/woof-many.XXXXXX", name[32], cmd[64];
	unsigned long el[2], out[2];
	double t0;
	int round;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("WOOFC_DIR", dir, 1);
	setenv("WOOF_MAP_CACHE", "1000", 1);
	setenv("WOOF_QUIET", "1", 1);
	base = count_maps();

	t0 = now();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "w%06ld", i);
		if (WooFCreate(name, sizeof(el), 2) < 0)
			bad++;
	}
	printf("created %ld WOOFs in %.1f s\n", n, now() - t0);
	check(bad == 0, "every WooFCreate succeeded");

	/* each WOOF: put by name, read back by name (one cache miss each) */
	for (round = 0; round < 2; round++) {
		long badput = 0, badget = 0, step = round ? 7 : 1;

		t0 = now();
		for (i = 0; i < n; i += step) {
			snprintf(name, sizeof(name), "w%06ld", i);
			el[0] = (unsigned long)i;
			el[1] = (unsigned long)round;
			if (WooFPut(name, NULL, el) != (unsigned long)round + 1)
				badput++;
			if (WooFGet(name, out, 0) < 0 || out[0] != (unsigned long)i ||
			    out[1] != (unsigned long)round)
				badget++;
			if (i % 997 == 0) {
				long m = count_maps();

				if (m > maxmaps)
					maxmaps = m;
			}
		}
		printf("round %d: %ld puts and gets by name in %.2f s\n", round,
		       2 * (n / step), now() - t0);
		check(badput == 0, "every put by name got the expected sequence number");
		check(badget == 0, "every element read back by name intact");
	}
	/* the first round's elements are still there (round 1 skipped most) */
	for (i = 1, bad = 0; i < n; i += 7 * 13 + 1) {
		snprintf(name, sizeof(name), "w%06ld", i);
		if (WooFGet(name, out, 1) < 0 || out[0] != (unsigned long)i || out[1] != 0)
			bad++;
	}
	check(bad == 0, "elements of evicted mappings read back after re-mapping");
	printf("mappings: %ld before, at most %ld while touching %ld WOOFs (cache %ld)\n",
	       base, maxmaps, n, cache);
	check(maxmaps <= base + cache + 16, "mapping count stays bounded by WOOF_MAP_CACHE");

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
