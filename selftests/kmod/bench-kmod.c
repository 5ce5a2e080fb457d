/* SPDX-License-Identifier: MIT */
/*
 * bench-kmod.c - costs of the kernel engine, as ratios to getppid() (the
 * syscall floor) measured in the same run: under qemu TCG absolute times
 * mean little, ratios do. Every round interleaves all the operations in
 * chunks of 256 calls, the ratio is taken within the round, and the
 * medians of 5 rounds are shown:
 *   getppid            ns/call
 *   no-op ioctl        an unknown command on a WOOF fd (ENOTTY): the ioctl floor
 *   append 8 / 64 B    WOOF_IOC_APPEND, steady state (the WOOF has wrapped)
 *   append 64 B + handler   with a trigger recorded (claims keep up)
 *   batch 64 B x 64    WOOF_IOC_APPEND_BATCH, ns per element
 *   read 64 B          seqlock read of the latest element from the mapping
 *                      (no system call)
 * Usage: bench-kmod [-n CALLS-PER-ROUND] [--check MAXRATIO]
 *   --check: exit 1 if append 64 B / getppid exceeds MAXRATIO.
 */
#include "kmod-test.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define ROUNDS 5
#define CHUNK 256
#define NOPS 7

static const char *names[NOPS] = {
	"getppid", "no-op ioctl (ENOTTY)", "append 8 B", "append 64 B",
	"batch 64 B x 64 (per element)", "read 64 B from the mapping", "append 64 B + handler",
};

int main(int argc, char **argv)
{
	struct woof_trigger_record rec[64];
	struct woof_trigger_done d;
	struct woof_append_batch b;
	struct woof_open o8, o64, oh;
	struct kt_ns ns;
	struct kt_map m;
	uint64_t t0, seq, i, n = 8192, ns_op[NOPS][ROUNDS];
	double ratio[NOPS][ROUNDS], med_ns[NOPS], med_ratio[NOPS], min_ns[NOPS], max_ratio = 0;
	uint8_t el[64 * 64], rd[64];
	int nsfd, fd8, fd64, fdh, rfd, r, k;
	ssize_t got;

	for (r = 1; r < argc; r++) {
		if (!strcmp(argv[r], "-n") && r + 1 < argc)
			n = strtoull(argv[++r], NULL, 10);
		else if (!strcmp(argv[r], "--check") && r + 1 < argc)
			max_ratio = strtod(argv[++r], NULL);
	}
	kt_prog = "bench-kmod";
	kt_ns_setup(&ns, "bench");
	nsfd = kt_ns_open(&ns, O_RDWR);
	rfd = kt_ns_open(&ns, O_RDWR | O_NONBLOCK);
	fd8 = kt_create(nsfd, "b8", 8, 1024, 0, 0, &o8);
	fd64 = kt_create(nsfd, "b64", 64, 1024, 0, 0, &o64);
	fdh = kt_create(nsfd, "bh", 64, 4096, 0, WOOF_F_OVERWRITE, &oh);
	if (fd8 < 0 || fd64 < 0 || fdh < 0 || kt_map(fd64, o64.file_size, &m))
		kt_die("create");
	memset(el, 0x5a, sizeof(el));
	/* warm up: wrap the WOOFs so every append also saves the undo slot */
	for (i = 0; i < 4200; i++) {
		kt_append(fd8, el, 8, NULL, 0, &seq);
		kt_append(fd64, el, 64, NULL, 0, &seq);
	}
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.elements = (uintptr_t)el;
	b.element_size = 64;
	b.count = 64;
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);

	/*
	 * Host noise is large under TCG: every round interleaves all the
	 * operations in chunks of CHUNK calls, so noise hits them alike, and
	 * the ratio to getppid is taken within the round.
	 */
	for (r = 0; r < ROUNDS; r++) {
		uint64_t acc[NOPS] = { 0 }, calls[NOPS] = { 0 }, c;

		for (c = 0; c < n / CHUNK; c++) {
			t0 = kt_now_ns();
			for (i = 0; i < CHUNK; i++)
				syscall(SYS_getppid);
			acc[0] += kt_now_ns() - t0;
			calls[0] += CHUNK;
			t0 = kt_now_ns();
			for (i = 0; i < CHUNK; i++)
				ioctl(fd64, _IO(WOOF_IOC_TYPE, 0x3e));
			acc[1] += kt_now_ns() - t0;
			calls[1] += CHUNK;
			t0 = kt_now_ns();
			for (i = 0; i < CHUNK; i++)
				kt_append(fd8, el, 8, NULL, 0, &seq);
			acc[2] += kt_now_ns() - t0;
			calls[2] += CHUNK;
			t0 = kt_now_ns();
			for (i = 0; i < CHUNK; i++)
				kt_append(fd64, el, 64, NULL, 0, &seq);
			acc[3] += kt_now_ns() - t0;
			calls[3] += CHUNK;
			t0 = kt_now_ns();
			for (i = 0; i < CHUNK / 64; i++)
				ioctl(fd64, WOOF_IOC_APPEND_BATCH, &b);
			acc[4] += kt_now_ns() - t0;
			calls[4] += CHUNK / 64 * 64;
			t0 = kt_now_ns();
			for (i = 0; i < CHUNK; i++)
				kt_read(&m, 0, rd, NULL);
			acc[5] += kt_now_ns() - t0;
			calls[5] += CHUNK;
			t0 = kt_now_ns();
			for (i = 0; i < CHUNK; i++)
				if (kt_append(fdh, el, 64, "h", 0, &seq))
					kt_die("append with handler");
			acc[6] += kt_now_ns() - t0;
			calls[6] += CHUNK;
			/* the dispatcher's part, kept up with: read records, move the floor */
			while ((got = read(rfd, rec, sizeof(rec))) > 0)
				d.floor = rec[got / sizeof(rec[0]) - 1].trigger;
			ioctl(nsfd, WOOF_IOC_TRIGGER_DONE, &d);
		}
		for (k = 0; k < NOPS; k++) {
			ns_op[k][r] = acc[k] / calls[k];
			ratio[k][r] = ((double)acc[k] / calls[k]) / ((double)acc[0] / calls[0]);
		}
	}
	for (k = 0; k < NOPS; k++) {
		qsort(ns_op[k], ROUNDS, sizeof(uint64_t), cmp_u64);
		qsort(ratio[k], ROUNDS, sizeof(double), cmp_double);
		med_ns[k] = (double)ns_op[k][ROUNDS / 2];
		med_ratio[k] = ratio[k][ROUNDS / 2];
		min_ns[k] = (double)ns_op[k][0];
	}
	printf("# bench-kmod: %d rounds of %llu calls of each, interleaved by %d; medians;"
	       " ratio = to getppid in the same round\n", ROUNDS, (unsigned long long)n, CHUNK);
	printf("# %-32s %8s   %14s   %s\n", "operation", "median", "median ratio", "fastest-round ratio");
	for (k = 0; k < NOPS; k++)
		printf("%-34s %8.0f ns %6.2fx getppid   %6.2fx\n", names[k], med_ns[k], med_ratio[k],
		       min_ns[k] / min_ns[0]);
	fflush(stdout);
	munmap((void *)m.h, m.len);
	close(fd8);
	close(fd64);
	close(fdh);
	close(rfd);
	close(nsfd);
	kt_ns_teardown(&ns);
	if (max_ratio > 0) {
		printf("%s append 64 B / getppid = %.2f (limit %.2f)\n",
		       med_ratio[3] <= max_ratio ? "ok:" : "FAIL:", med_ratio[3], max_ratio);
		return med_ratio[3] <= max_ratio ? 0 : 1;
	}
	return 0;
}
