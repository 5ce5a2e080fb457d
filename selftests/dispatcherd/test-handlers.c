/* SPDX-License-Identifier: MIT */
/*
 * test-handlers.c - CSPOT-style handler functions for the dispatcherd
 * tests, linked with the shepherd into one program that the tests copy
 * into a namespace under each handler's name (the shepherd picks the
 * function named like the file).
 *
 *   rec      appends {n, seq, trigger, attempt} to the WOOF "results";
 *            sleeps el->sleep_us first (to be caught mid-run by a kill), or
 *            with TEST_F_GATE waits (up to 120 s) for the file "gate" in
 *            its namespace directory, which the test makes when it wants
 *   crash    writes one line, then dies of SIGSEGV
 *   sleepy   writes one line, then sleeps 60 s, past every test timeout
 *   fails    returns -1 (exit status 1)
 *   chatty   writes el->n bytes of output (log bounds)
 *   rec_a, rec_b  rec under two more names (fairness between handlers)
 *   hog      touches 512 MiB (memory_max)
 *   forker   forks 64 children that live 2 s; returns -1 if a fork failed
 *            (pids_max)
 *   hostile  reads "PATH SIZE" from the file hostile-target in its namespace,
 *            removes that file and truncates PATH (below the namespace) to
 *            SIZE bytes, then exits 0; without the file it does nothing
 *   spare    prints how long its process has lived (age_ms: a program
 *            started ahead of its call is older than the put) and what it
 *            got: its call's variables, the element's size on fd 3, el->n
 */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "woofc.h"
#include "disp-test.h"

int rec(WOOF *wf, unsigned long seq_no, void *ptr);
int crash(WOOF *wf, unsigned long seq_no, void *ptr);
int sleepy(WOOF *wf, unsigned long seq_no, void *ptr);
int fails(WOOF *wf, unsigned long seq_no, void *ptr);
int chatty(WOOF *wf, unsigned long seq_no, void *ptr);
int rec_a(WOOF *wf, unsigned long seq_no, void *ptr);
int rec_b(WOOF *wf, unsigned long seq_no, void *ptr);
int hog(WOOF *wf, unsigned long seq_no, void *ptr);
int forker(WOOF *wf, unsigned long seq_no, void *ptr);
int spare(WOOF *wf, unsigned long seq_no, void *ptr);
int hostile(WOOF *wf, unsigned long seq_no, void *ptr);

int rec(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const struct test_el *el = ptr;
	struct test_result r;
	struct woof_call c;

	if (el->sleep_us)
		usleep(el->sleep_us);
	if (el->flags & TEST_F_GATE) {
		const char *dir = getenv("WOOFC_DIR");
		char gate[4096];

		snprintf(gate, sizeof(gate), "%s/gate", dir ? dir : ".");
		for (int i = 0; i < 12000 && access(gate, F_OK) != 0; i++)
			usleep(10000);	/* a test handler: polling is fine here */
	}
	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	c.sz = sizeof(c);
	if (woof_call_current(&c) == 0) {
		r.trigger = c.trigger;
		r.attempt = c.attempt;
		r.redelivered = c.redelivered;
	}
	r.n = el->n;
	r.seq = seq_no;
	snprintf(r.woof, sizeof(r.woof), "%.95s", wf->shared->filename);
	if (WooFInvalid(WooFPut(TEST_RESULTS, NULL, &r)))
		return -1;
	return 0;
}

int hostile(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const char *dir = getenv("WOOFC_DIR");
	char path[4096], rel[1024];
	long long size;
	FILE *f;

	snprintf(path, sizeof(path), "%s/hostile-target", dir ? dir : ".");
	(void)wf;
	(void)seq_no;
	(void)ptr;
	f = fopen(path, "r");
	if (!f)
		return 0;	/* a redelivery: done already */
	if (fscanf(f, "%1023s %lld", rel, &size) != 2) {
		fclose(f);
		fprintf(stderr, "hostile: bad %s\n", path);
		return -1;
	}
	fclose(f);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", rel);
	if (truncate(path, (off_t)size) < 0) {
		perror("hostile: truncate");
		return -1;
	}
	printf("hostile: truncated %s to %lld bytes\n", rel, size);
	return 0;
}

int crash(WOOF *wf, unsigned long seq_no, void *ptr)
{
	volatile int *p = NULL;

	(void)ptr;
	printf("crash handler at %s %lu\n", wf->shared->filename, seq_no);
	fflush(stdout);
	*p = 1;
	return 0;
}

int sleepy(WOOF *wf, unsigned long seq_no, void *ptr)
{
	(void)ptr;
	printf("sleepy handler at %s %lu\n", wf->shared->filename, seq_no);
	fflush(stdout);
	sleep(60);
	return 0;
}

int fails(WOOF *wf, unsigned long seq_no, void *ptr)
{
	(void)wf;
	(void)seq_no;
	(void)ptr;
	fprintf(stderr, "fails handler returns -1\n");
	return -1;
}

int chatty(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const struct test_el *el = ptr;
	char buf[1000];

	(void)wf;
	(void)seq_no;
	memset(buf, 'x', sizeof(buf));
	for (uint64_t left = el->n; left;) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		fwrite(buf, 1, k, stdout);
		left -= k;
	}
	return 0;
}

/* ms since this process started: CLOCK_BOOTTIME against /proc/self/stat's starttime */
static long process_age_ms(void)
{
	unsigned long long start = 0;
	struct timespec now;
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t k;

	if (!f)
		return -1;
	k = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[k] = '\0';
	p = strrchr(buf, ')');	/* the command may hold spaces */
	if (!p)
		return -1;
	/* p + 1 is the blank before field 3 (state); starttime is field 22 */
	p++;
	for (int field = 3; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	clock_gettime(CLOCK_BOOTTIME, &now);
	return (long)((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
		      (long long)(start * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

int spare(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const struct test_el *el = ptr;
	struct stat st;
	const char *v[5] = { getenv("WOOF_CALL_TRIGGER"), getenv("WOOF_CALL_SEQ"),
			     getenv("WOOF_CALL_ATTEMPT"), getenv("WOOF_CALL_REDELIVERED"),
			     getenv("WOOF_SPARE_FD") };

	printf("spare n=%llu seq=%lu woof=%s trigger=%s call_seq=%s attempt=%s redelivered=%s "
	       "fd3_size=%lld spare_fd=%s age_ms=%ld\n", (unsigned long long)el->n, seq_no,
	       wf->shared->filename, v[0] ? v[0] : "-", v[1] ? v[1] : "-", v[2] ? v[2] : "-",
	       v[3] ? v[3] : "-", fstat(3, &st) == 0 ? (long long)st.st_size : -1LL,
	       v[4] ? v[4] : "-", process_age_ms());
	return 0;
}

int rec_a(WOOF *wf, unsigned long seq_no, void *ptr)
{
	return rec(wf, seq_no, ptr);
}

int rec_b(WOOF *wf, unsigned long seq_no, void *ptr)
{
	return rec(wf, seq_no, ptr);
}

int hog(WOOF *wf, unsigned long seq_no, void *ptr)
{
	size_t len = 512UL << 20;
	char *p = malloc(len);

	(void)wf;
	(void)seq_no;
	(void)ptr;
	if (!p)
		return -1;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	printf("hog touched %zu MiB\n", len >> 20);
	return 0;
}

int forker(WOOF *wf, unsigned long seq_no, void *ptr)
{
	int made = 0, failed = 0;

	(void)wf;
	(void)seq_no;
	(void)ptr;
	for (int i = 0; i < 64; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			sleep(2);
			_exit(0);
		}
		if (pid < 0)
			failed++;
		else
			made++;
	}
	printf("forker: %d forked, %d failed\n", made, failed);
	fflush(stdout);
	while (wait(NULL) > 0)
		;
	return failed ? -1 : 0;
}

/*
 * devprobe   (the sandbox's device filter) opens /dev/null, then tries to
 *            make /dev/mem (char 1:1) in the namespace directory; prints
 *            "devprobe null=RESULT mknod_mem=RESULT" and returns 0 only if
 *            /dev/null opened and the mknod failed with EPERM
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

int devprobe(WOOF *wf, unsigned long seq_no, void *ptr);

int devprobe(WOOF *wf, unsigned long seq_no, void *ptr)
{
	int fd, r, merr = 0;

	(void)wf;
	(void)seq_no;
	(void)ptr;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int nerr = fd < 0 ? errno : 0;

	if (fd >= 0)
		close(fd);
	r = mknod("devprobe-mem", S_IFCHR | 0600, makedev(1, 1));
	if (r < 0)
		merr = errno;
	else
		unlink("devprobe-mem");
	printf("devprobe null=%s mknod_mem=%s\n", nerr ? strerror(nerr) : "ok",
	       r == 0 ? "ok" : strerror(merr));
	fflush(stdout);
	return !nerr && r < 0 && merr == EPERM ? 0 : -1;
}

/*
 * kengine    (handlers on a namespace woof.ko serves) checks that libwoof
 *            in the handler uses the kernel engine for its namespace
 *            ($WOOF_NS_DEVICE, the device node the sandbox binds), that
 *            neither /dev/woof/control nor the device of the namespace
 *            named in the file "other-ns" (written by the test) can be
 *            opened, and appends to "results" like rec (a put through the
 *            kernel engine). Prints "kengine n=N engine=... control=...
 *            other=... put=..." and returns 0 only if all of that holds.
 */
#include "woof.h"

int kengine(WOOF *wf, unsigned long seq_no, void *ptr);

int kengine(WOOF *wf, unsigned long seq_no, void *ptr)
{
	const struct test_el *el = ptr;
	const char *dir = getenv("WOOFC_DIR");
	char other[128] = "", path[256];
	struct woof_ns *ns = NULL;
	int kernel = 0, cerr = 0, oerr = 0, fd, put;
	FILE *f;

	if (woof_ns_open(NULL, &ns) == 0)
		kernel = woof_ns_engine(ns) == WOOF_ENGINE_KERNEL;
	fd = open("/dev/woof/control", O_RDONLY | O_CLOEXEC);
	cerr = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/other-ns", dir ? dir : ".");
	f = fopen(path, "r");
	if (f) {
		if (!fgets(other, sizeof(other), f))
			other[0] = 0;
		fclose(f);
		other[strcspn(other, "\n")] = 0;
	}
	if (other[0]) {
		snprintf(path, sizeof(path), "/dev/woof/%s", other);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		oerr = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
	}
	put = rec(wf, seq_no, ptr);
	printf("kengine n=%llu engine=%s control=%s other=%s put=%d\n",
	       (unsigned long long)el->n, kernel ? "kernel" : "user",
	       cerr ? strerror(cerr) : "opened", !other[0] ? "none" : oerr ? strerror(oerr) : "opened",
	       put);
	fflush(stdout);
	return kernel && cerr && other[0] && oerr && put == 0 ? 0 : -1;
}
