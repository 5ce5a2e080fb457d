/* SPDX-License-Identifier: MIT */
/*
 * test-concurrent.c - several processes appending to one WOOF through
 * woof.ko at once:
 *   1. 4 processes x 1500 appends into a WOOF that keeps them all: the
 *      sequence numbers returned are unique and gap-free (1..6000), each
 *      process sees its own numbers increase, and the element stored under
 *      every number is the one its appender wrote;
 *   2. the same with a history of 16 (constant wrap-around, undo copies)
 *      while 2 reader processes read the latest and the oldest retained
 *      elements through their mappings the whole time: no torn element
 *      (every copy passes its checksum);
 *   3. 2 processes with APPEND_BATCH and 2 with APPEND: the batches' ranges
 *      and the single numbers tile 1..N without overlap.
 */
#include "kmod-test.h"

#define NPROC 4
#define PER 1500

struct el {
	uint32_t proc;
	uint32_t i;
	uint64_t seq_hint;	/* unused by the kernel; random filler */
	uint8_t payload[224];
	uint64_t sum;
};

static uint64_t el_sum(const struct el *e)
{
	const uint8_t *p = (const uint8_t *)e;
	uint64_t h = 1469598103934665603ULL;
	size_t k;

	for (k = 0; k < offsetof(struct el, sum); k++)
		h = (h ^ p[k]) * 1099511628211ULL;
	return h;
}

static void el_make(struct el *e, uint32_t proc, uint32_t i)
{
	size_t k;

	memset(e, 0, sizeof(*e));
	e->proc = proc;
	e->i = i;
	e->seq_hint = ((uint64_t)proc << 32) | i;
	for (k = 0; k < sizeof(e->payload); k++)
		e->payload[k] = (uint8_t)(proc * 31 + i * 17 + k);
	e->sum = el_sum(e);
}

struct ctx {
	const char *dev;
	const char *woof;
	uint64_t *seqs;		/* shared: [NPROC][PER] */
	volatile uint32_t *stop;
	uint64_t *reader_stats;	/* shared: [2][3] reads, torn, enodata */
};

static int open_woof(const struct ctx *c, uint32_t flags, struct woof_open *o)
{
	int nsfd = open(c->dev, O_RDWR), fd;

	if (nsfd < 0)
		return -1;
	fd = kt_open(nsfd, c->woof, flags, o);
	close(nsfd);
	return fd;
}

static int appender(void *arg, int p)
{
	struct ctx *c = arg;
	struct woof_open o;
	struct el e;
	uint64_t seq, last = 0;
	int fd = open_woof(c, 0, &o), i;

	if (fd < 0)
		return 2;
	for (i = 0; i < PER; i++) {
		el_make(&e, (uint32_t)p, (uint32_t)i);
		if (kt_append(fd, &e, sizeof(e), NULL, 0, &seq))
			return 3;
		if (seq <= last)
			return 4;	/* one process's numbers must increase */
		last = seq;
		c->seqs[p * PER + i] = seq;
	}
	return 0;
}

static int reader(void *arg, int r)
{
	struct ctx *c = arg;
	struct woof_open o;
	struct kt_map m;
	struct el e;
	uint64_t *st = c->reader_stats + r * 3, latest;
	int fd = open_woof(c, WOOF_OPEN_RDONLY, &o), ret;

	if (fd < 0 || kt_map(fd, o.file_size, &m))
		return 2;
	while (!*c->stop) {
		latest = kt_latest(&m);
		/* alternately the newest and the oldest retained element */
		ret = kt_read(&m, (st[0] & 1) && latest > 16 ? latest - 15 : 0, &e, NULL);
		st[0]++;
		if (ret == -ENODATA || ret == -EAGAIN) {
			st[2]++;
			continue;
		}
		if (ret == 0 && e.sum != el_sum(&e))
			st[1]++;
	}
	return 0;
}

static void run_phase(const char *dev, int nsfd, const char *name, uint64_t H, bool readers)
{
	struct ctx c;
	struct woof_open o;
	struct kt_map m;
	uint8_t *seen;
	uint64_t s, dup = 0, missing = 0, wrong = 0, t0;
	pid_t rk[2];
	int fd, i, p, bad;

	c.dev = dev;
	c.woof = name;
	c.seqs = mmap(NULL, NPROC * PER * 8 + 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	c.stop = (volatile uint32_t *)((char *)c.seqs + NPROC * PER * 8);
	c.reader_stats = (uint64_t *)((char *)c.seqs + NPROC * PER * 8 + 64);
	fd = kt_create(nsfd, name, sizeof(struct el), H, 0, 0, &o);
	if (fd < 0 || kt_map(fd, o.file_size, &m))
		kt_die("create");
	if (readers) {
		for (i = 0; i < 2; i++) {
			rk[i] = fork();
			if (rk[i] == 0)
				_exit(reader(&c, i));
		}
	}
	t0 = kt_now_ns();
	bad = kt_children(NPROC, appender, &c);
	KT_OK(!bad, "%s: %d processes x %d appends, all succeeded (%.1f ms)", name, NPROC, PER,
	      (kt_now_ns() - t0) / 1e6);
	if (readers) {
		*c.stop = 1;
		for (i = 0; i < 2; i++)
			waitpid(rk[i], NULL, 0);
		KT_OK(c.reader_stats[1] == 0 && c.reader_stats[4] == 0,
		      "%s: readers during the appends: %llu + %llu reads, no torn element",
		      name, (unsigned long long)c.reader_stats[0],
		      (unsigned long long)c.reader_stats[3]);
	}
	KT_OK(kt_latest(&m) == (uint64_t)NPROC * PER, "%s: latest = %d", name, NPROC * PER);
	seen = calloc(NPROC * PER + 1, 1);
	for (p = 0; p < NPROC; p++)
		for (i = 0; i < PER; i++) {
			s = c.seqs[p * PER + i];
			if (s < 1 || s > NPROC * PER || seen[s]++)
				dup++;
		}
	for (s = 1; s <= NPROC * PER; s++)
		if (!seen[s])
			missing++;
	KT_OK(!dup && !missing, "%s: numbers unique and gap-free (dup %llu, missing %llu)", name,
	      (unsigned long long)dup, (unsigned long long)missing);
	/* content: the retained elements are the ones their appenders wrote */
	for (p = 0; p < NPROC; p++)
		for (i = 0; i < PER; i++) {
			struct el e;

			s = c.seqs[p * PER + i];
			if (s + H <= (uint64_t)NPROC * PER)
				continue;	/* overwritten */
			if (kt_read(&m, s, &e, NULL) || e.sum != el_sum(&e) ||
			    e.proc != (uint32_t)p || e.i != (uint32_t)i)
				wrong++;
		}
	KT_OK(!wrong, "%s: every retained element is the one appended under its number", name);
	free(seen);
	munmap((void *)m.h, m.len);
	munmap(c.seqs, NPROC * PER * 8 + 4096);
	close(fd);
}

struct bctx {
	const char *dev;
	uint64_t *ranges;	/* shared: [proc][k] = first << 16 | done */
};

static int batcher(void *arg, int p)
{
	struct bctx *c = arg;
	struct woof_append_batch b;
	struct woof_open o;
	uint64_t els[16];
	int nsfd = open(c->dev, O_RDWR), fd, k, j;

	fd = kt_open(nsfd, "mixed", 0, &o);
	if (fd < 0)
		return 2;
	for (k = 0; k < 100; k++) {
		if (p < 2) {
			for (j = 0; j < 16; j++)
				els[j] = ((uint64_t)p << 32) | (k * 16 + j);
			memset(&b, 0, sizeof(b));
			b.size = sizeof(b);
			b.elements = (uintptr_t)els;
			b.element_size = 8;
			b.count = 16;
			if (ioctl(fd, WOOF_IOC_APPEND_BATCH, &b) || b.done != 16)
				return 3;
			c->ranges[p * 100 + k] = (b.first_seq << 16) | b.done;
		} else {
			uint64_t seq;

			els[0] = ((uint64_t)p << 32) | k;
			if (kt_append(fd, els, 8, NULL, 0, &seq))
				return 4;
			c->ranges[p * 100 + k] = (seq << 16) | 1;
		}
	}
	return 0;
}

static void run_mixed(const char *dev, int nsfd)
{
	struct bctx c;
	struct woof_open o;
	uint64_t total = 2 * 100 * 16 + 2 * 100, s, d, r, bad = 0;
	uint8_t *seen;
	int fd, k;

	c.dev = dev;
	c.ranges = mmap(NULL, 4 * 100 * 8, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	fd = kt_create(nsfd, "mixed", 8, 8192, 0, 0, &o);
	if (fd < 0)
		kt_die("create mixed");
	KT_OK(kt_children(4, batcher, &c) == 0, "mixed: 2 batchers (x100 of 16) and 2 appenders (x100)");
	seen = calloc(total + 1, 1);
	for (k = 0; k < 400; k++) {
		r = c.ranges[k];
		for (d = 0; d < (r & 0xffff); d++) {
			s = (r >> 16) + d;
			if (s < 1 || s > total || seen[s]++)
				bad++;
		}
	}
	for (s = 1; s <= total; s++)
		if (!seen[s])
			bad++;
	KT_OK(!bad, "mixed: batch ranges and single numbers tile 1..%llu exactly",
	      (unsigned long long)total);
	free(seen);
	munmap(c.ranges, 4 * 100 * 8);
	close(fd);
}

int main(void)
{
	struct kt_ns ns;
	int nsfd;

	kt_prog = "test-concurrent";
	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_ns_setup(&ns, "conc");
	nsfd = kt_ns_open(&ns, O_RDWR);
	run_phase(ns.dev, nsfd, "keepall", NPROC * PER, false);
	run_phase(ns.dev, nsfd, "wrap16", 16, true);
	run_mixed(ns.dev, nsfd);
	close(nsfd);
	kt_ns_teardown(&ns);
	return kt_done();
}
