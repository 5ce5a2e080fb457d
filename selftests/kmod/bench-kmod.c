/* SPDX-License-Identifier: MIT */
/*
 * bench-kmod.c - costs of the kernel engine, as ratios to getppid() (the
 * syscall floor) measured in the same run: under qemu TCG absolute times
 * mean little, ratios do. Reports, each the median of 5 rounds:
 *   getppid            ns/call
 *   no-op ioctl        an unknown command on a WOOF fd (ENOTTY): the ioctl floor
 *   append 8 / 64 B    WOOF_IOC_APPEND, steady state (the WOOF has wrapped)
 *   append 64 B + handler   with a trigger recorded (claims keep up)
 *   batch 64 B x 64    WOOF_IOC_APPEND_BATCH, ns per element
 *   read 64 B          seqlock read of the latest element from the mapping
 *                      (no system call)
 * Usage: bench-kmod [-n ITERATIONS] [--check MAXRATIO]
 *   --check: exit 1 if append 64 B / getppid exceeds MAXRATIO.
 */
#include "kmod-test.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double median5(uint64_t *v)
{
	qsort(v, 5, sizeof(*v), cmp_u64);
	return (double)v[2];
}

struct bench {
	const char *what;
	double ns;
};

int main(int argc, char **argv)
{
	struct woof_append_batch b;
	struct woof_open o8, o64;
	struct kt_ns ns;
	struct kt_map m;
	uint64_t rounds[5], t0, seq, i, n = 20000, k;
	uint8_t el[64 * 64], rd[64];
	double floor_ns, max_ratio = 0;
	struct bench res[8];
	int nsfd, fd8, fd64, r, nres = 0;

	for (r = 1; r < argc; r++) {
		if (!strcmp(argv[r], "-n") && r + 1 < argc)
			n = strtoull(argv[++r], NULL, 10);
		else if (!strcmp(argv[r], "--check") && r + 1 < argc)
			max_ratio = strtod(argv[++r], NULL);
	}
	kt_prog = "bench-kmod";
	kt_ns_setup(&ns, "bench");
	nsfd = kt_ns_open(&ns, O_RDWR);
	fd8 = kt_create(nsfd, "b8", 8, 1024, 0, 0, &o8);
	fd64 = kt_create(nsfd, "b64", 64, 1024, 0, 0, &o64);
	if (fd8 < 0 || fd64 < 0 || kt_map(fd64, o64.file_size, &m))
		kt_die("create");
	memset(el, 0x5a, sizeof(el));
	/* warm up: wrap both WOOFs so every append also saves the undo slot */
	for (i = 0; i < 2048; i++) {
		kt_append(fd8, el, 8, NULL, 0, &seq);
		kt_append(fd64, el, 64, NULL, 0, &seq);
	}

#define MEASURE(label, per, body)                                                  \
	do {                                                                       \
		for (r = 0; r < 5; r++) {                                          \
			t0 = kt_now_ns();                                          \
			for (i = 0; i < n; i++) {                                  \
				body;                                              \
			}                                                          \
			rounds[r] = (kt_now_ns() - t0) / (n * (per));              \
		}                                                                  \
		res[nres].what = label;                                            \
		res[nres++].ns = median5(rounds);                                  \
	} while (0)

	MEASURE("getppid", 1, (void)syscall(SYS_getppid));
	floor_ns = res[0].ns;
	MEASURE("no-op ioctl (ENOTTY)", 1, (void)ioctl(fd64, _IO(WOOF_IOC_TYPE, 0x3e)));
	MEASURE("append 8 B", 1, kt_append(fd8, el, 8, NULL, 0, &seq));
	MEASURE("append 64 B", 1, kt_append(fd64, el, 64, NULL, 0, &seq));
	{
		uint64_t bn = n;

		n = bn / 64 + 1;
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.elements = (uintptr_t)el;
		b.element_size = 64;
		b.count = 64;
		MEASURE("batch 64 B x 64 (per element)", 64,
			ioctl(fd64, WOOF_IOC_APPEND_BATCH, &b));
		n = bn;
	}
	MEASURE("read 64 B from the mapping", 1, kt_read(&m, 0, rd, NULL));
	{
		/* appends with a handler; a claimer would normally keep up, so
		 * move the floor and claim from time to time */
		struct woof_trigger_record rec[64];
		struct woof_trigger_claim c;
		struct woof_trigger_done d;
		int rfd = kt_ns_open(&ns, O_RDWR | O_NONBLOCK), fdh;
		struct woof_open oh;
		ssize_t got;

		fdh = kt_create(nsfd, "bh", 64, 4096, 0, WOOF_F_OVERWRITE, &oh);
		memset(&d, 0, sizeof(d));
		d.size = sizeof(d);
		MEASURE("append 64 B + handler", 1, ({
			if (kt_append(fdh, el, 64, "h", 0, &seq))
				kt_die("append with handler");
			if ((i & 1023) == 1023) {
				while ((got = read(rfd, rec, sizeof(rec))) > 0)
					d.floor = rec[got / sizeof(rec[0]) - 1].trigger;
				ioctl(nsfd, WOOF_IOC_TRIGGER_DONE, &d);
			}
		}));
		(void)c;
		close(fdh);
		close(rfd);
	}
#undef MEASURE

	printf("# bench-kmod: %llu iterations x 5 rounds, medians\n", (unsigned long long)n);
	for (k = 0; k < (uint64_t)nres; k++)
		printf("%-34s %10.0f ns   %6.2fx getppid\n", res[k].what, res[k].ns,
		       res[k].ns / floor_ns);
	fflush(stdout);
	munmap((void *)m.h, m.len);
	close(fd8);
	close(fd64);
	close(nsfd);
	kt_ns_teardown(&ns);
	if (max_ratio > 0) {
		double ratio = res[3].ns / floor_ns;

		printf("%s append 64 B / getppid = %.2f (limit %.2f)\n",
		       ratio <= max_ratio ? "ok" : "FAIL:", ratio, max_ratio);
		return ratio <= max_ratio ? 0 : 1;
	}
	return 0;
}
