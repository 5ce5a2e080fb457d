/* SPDX-License-Identifier: MIT */
/*
 * test-triggers.c - the trigger path of woof.ko: an append naming a handler
 * records a trigger in .woof/triggers and marks its slot PENDING; read() on
 * the namespace device delivers each trigger to exactly one reader (two
 * readers, both asleep in poll() before the appends, race for 200
 * triggers; each holds back after its first batch until the other got
 * some); triggers not finished are delivered again once every reader
 * closed (WOOF_TREC_REDELIVERED); TRIGGER_CLAIM copies
 * the element and clears PENDING (a second claim says ALREADY); appends
 * that would overwrite a PENDING element fail with EAGAIN (NONBLOCK) or
 * wait until it is claimed; WOOF_F_OVERWRITE counts overruns instead; a
 * trigger log full of unfinished entries holds appenders back until
 * TRIGGER_DONE moves done_floor; poll() on the device wakes for triggers.
 */
#include "kmod-test.h"

static int ns_read(int nsfd, struct woof_trigger_record *rec, size_t n)
{
	ssize_t r = read(nsfd, rec, n * sizeof(*rec));

	return r < 0 ? -errno : (int)(r / (ssize_t)sizeof(*rec));
}

static int claim(int nsfd, uint64_t t, void *el, uint64_t size, struct woof_trigger_claim *out)
{
	struct woof_trigger_claim c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.trigger = t;
	c.element = (uintptr_t)el;
	c.element_size = size;
	ret = ioctl(nsfd, WOOF_IOC_TRIGGER_CLAIM, &c);
	if (out)
		*out = c;
	return ret;
}

static int done_floor(int nsfd, uint64_t floor)
{
	struct woof_trigger_done d;

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.floor = floor;
	return ioctl(nsfd, WOOF_IOC_TRIGGER_DONE, &d);
}

static void info(int nsfd, struct woof_trigger_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->size = sizeof(*ti);
	if (ioctl(nsfd, WOOF_IOC_TRIGGER_INFO, ti) < 0)
		kt_die("TRIGGER_INFO");
}

static void test_basic(struct kt_ns *ns, int nsfd)
{
	struct woof_trigger_record rec[4];
	struct woof_trigger_claim c;
	struct woof_open o;
	struct kt_map m;
	uint64_t el[2] = { 0x1111, 0x2222 }, got[2], seq;
	int fd, rfd = kt_ns_open(ns, O_RDWR);

	fd = kt_create(nsfd, "tw", 16, 4, 0, 0, &o);
	if (fd < 0 || kt_map(fd, o.file_size, &m))
		kt_die("create tw");
	KT_ZERO(kt_append(fd, el, 16, "hello", 0, &seq), "append with handler \"hello\"");
	KT_OK(seq == 1, "... seq 1");
	KT_OK((kt_slot(&m, 0)->flags & WOOF_SLOT_PENDING) && kt_slot(&m, 0)->trigger == 1,
	      "slot is PENDING and carries trigger 1");
	KT_OK(ns_read(rfd, rec, 4) == 1, "read() returns one record");
	KT_OK(rec[0].trigger == 1 && rec[0].flags == 0 && rec[0].entry.woof_seq == 1 &&
	      rec[0].entry.woof_ctime == o.create_time_ns && !strcmp(rec[0].entry.woof, "tw") &&
	      !strcmp(rec[0].entry.handler, "hello") && rec[0].entry.put_time_ns > 0 &&
	      rec[0].reserved0 == 0 && rec[0].entry.flags == 0,
	      "record: trigger 1, woof tw, seq 1, handler hello, ctime");
	fcntl(rfd, F_SETFL, O_NONBLOCK);
	KT_ERR(read(rfd, rec, sizeof(rec)), EAGAIN, "no second delivery: EAGAIN");

	memset(got, 0, sizeof(got));
	KT_ERR(claim(nsfd, 1, got, 8, &c), EMSGSIZE, "CLAIM into 8 bytes of a 16-byte element: EMSGSIZE");
	KT_OK(c.element_size == 16, "... element_size says 16");
	KT_ZERO(claim(nsfd, 1, got, 16, &c), "CLAIM trigger 1");
	KT_OK(got[0] == 0x1111 && got[1] == 0x2222 && c.element_size == 16 && c.woof_seq == 1 &&
	      c.woof_latest == 1 && c.result == 0, "... the element, seq 1, not claimed before");
	KT_OK(!(kt_slot(&m, 0)->flags & WOOF_SLOT_PENDING), "PENDING cleared in the slot");
	KT_ZERO(claim(nsfd, 1, got, 16, &c), "CLAIM trigger 1 again");
	KT_OK(c.result == WOOF_CLAIM_ALREADY, "... WOOF_CLAIM_ALREADY");
	KT_ZERO(done_floor(nsfd, 1), "TRIGGER_DONE 1");
	munmap((void *)m.h, m.len);
	close(fd);
	close(rfd);
}

#define RACE_N 200

struct race {
	const char *dev;
	uint32_t *seen;		/* shared: seen[t] = reader + 1 */
	uint32_t *dups;
	uint32_t *stats;	/* per reader: polls, EAGAINs, reads */
	uint32_t *got;		/* per reader: triggers received */
	uint32_t *total;	/* triggers received by both */
	uint32_t *ready;	/* per reader: a consumer, about to poll */
	uint32_t *done;		/* per reader: stopped reading */
};

static int reader(void *arg, int i)
{
	struct race *r = arg;
	struct woof_trigger_record rec[8];
	struct pollfd p;
	uint64_t deadline = kt_now_ns() + 60ULL * 1000000000ULL, hold;
	int fd = open(r->dev, O_RDWR | O_NONBLOCK), n, k;
	bool held = false;

	if (fd < 0)
		return 2;
	/* a read makes this fd a consumer (TRIGGER_INFO readers); nothing is there yet */
	if (ns_read(fd, rec, 1) != -EAGAIN)
		return 5;
	__atomic_store_n(&r->ready[i], 1, __ATOMIC_SEQ_CST);
	p.fd = fd;
	p.events = POLLIN;
	while (__atomic_load_n(r->total, __ATOMIC_SEQ_CST) < RACE_N) {
		if (kt_now_ns() > deadline)
			return 6;
		/* wake now and then to see whether the other reader took the rest */
		if (poll(&p, 1, 100) <= 0)
			continue;
		r->stats[i * 3]++;
		n = ns_read(fd, rec, 1 + i * 3);	/* different batch sizes */
		if (n == -EAGAIN) {
			r->stats[i * 3 + 1]++;
			continue;	/* the other reader won */
		}
		if (n < 0)
			return 3;
		r->stats[i * 3 + 2]++;
		for (k = 0; k < n; k++) {
			uint64_t t = rec[k].trigger;

			if (t >= 4096)
				return 4;
			if (__atomic_exchange_n(&r->seen[t], (uint32_t)i + 1, __ATOMIC_SEQ_CST))
				__atomic_add_fetch(r->dups, 1, __ATOMIC_SEQ_CST);
		}
		__atomic_add_fetch(&r->got[i], n, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(r->total, n, __ATOMIC_SEQ_CST);
		/*
		 * Both readers must take part: after its first batch a reader
		 * holds back (at most 10 s) until the other got some too, so the
		 * device must deliver to the other reader meanwhile.
		 */
		hold = kt_now_ns() + 10ULL * 1000000000ULL;
		while (!held && !__atomic_load_n(&r->got[1 - i], __ATOMIC_SEQ_CST) &&
		       __atomic_load_n(r->total, __ATOMIC_SEQ_CST) < RACE_N && kt_now_ns() < hold)
			usleep(1000);
		held = true;
	}
	/* all were delivered: anything more would be a second delivery */
	n = ns_read(fd, rec, 8);
	if (n > 0)
		__atomic_add_fetch(r->dups, n, __ATOMIC_SEQ_CST);
	else if (n != -EAGAIN)
		return 7;
	__atomic_store_n(&r->done[i], 1, __ATOMIC_SEQ_CST);
	/* keep the fd open until the parent looked, so nothing is redelivered yet */
	pause();
	return 0;
}

static void test_race(struct kt_ns *ns, int nsfd)
{
	struct woof_trigger_record rec[16];
	struct woof_trigger_info ti;
	struct race r;
	struct woof_open o;
	uint32_t *shm;
	uint64_t el = 0, seq, t, first, missing = 0, by[3] = { 0 };
	pid_t kids[2];
	int fd, i, n, redelivered = 0, fd2, st;
	char seen[64];
	bool ok;

	shm = mmap(NULL, 4128 * sizeof(uint32_t), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	r.dev = ns->dev;
	r.seen = shm;
	r.dups = shm + 4096;
	r.stats = shm + 4097;
	r.got = shm + 4103;
	r.total = shm + 4105;
	r.ready = shm + 4106;
	r.done = shm + 4108;
	fd = kt_create(nsfd, "race", 8, 512, 0, 0, &o);
	info(nsfd, &ti);
	first = ti.latest + 1;
	for (i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0)
			_exit(reader(&r, i));
	}
	/* both readers are consumers and sleep in poll() before the first append */
	ok = kt_wait_word(&r.ready[0], 10000) && kt_wait_word(&r.ready[1], 10000);
	info(nsfd, &ti);
	KT_OK(ok && ti.readers == 2, "two readers registered (TRIGGER_INFO readers %u)", ti.readers);
	for (i = 0; i < 2; i++) {
		int rc = kt_wait_asleep(kids[i], "poll|select", 10000, seen);

		KT_OK(rc == 0, "reader %d sleeps in poll() before the appends (%s)", i, seen);
	}
	for (i = 0; i < RACE_N; i++) {
		el = i;
		if (kt_append(fd, &el, 8, i % 2 ? "odd" : "even", 0, &seq))
			kt_die("append race");
	}
	/* until both readers stopped: all delivered, and nothing more */
	ok = kt_wait_word(&r.done[0], 60000) && kt_wait_word(&r.done[1], 60000);
	for (i = 0; i < 2 && !ok; i++)
		if (waitpid(kids[i], &st, WNOHANG) == kids[i])
			kt_diag("reader %d ended with status %d", i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	KT_OK(ok, "both readers saw all %d triggers delivered (%u)", RACE_N, *r.total);
	for (t = first; t < first + RACE_N; t++) {
		if (!shm[t])
			missing++;
		else
			by[shm[t]]++;
	}
	KT_OK(!missing && !*r.dups, "200 triggers, two readers: each delivered exactly once "
	      "(missing %llu, duplicates %u)", (unsigned long long)missing, *r.dups);
	KT_OK(by[1] && by[2], "both readers got some (%llu and %llu)", (unsigned long long)by[1],
	      (unsigned long long)by[2]);
	kt_diag("reader 0: %u polls, %u EAGAIN, %u reads; reader 1: %u polls, %u EAGAIN, %u reads",
		r.stats[0], r.stats[1], r.stats[2], r.stats[3], r.stats[4], r.stats[5]);
	info(nsfd, &ti);
	KT_OK(ti.readers == 2 && ti.next == first + RACE_N, "TRIGGER_INFO: 2 readers, next %llu",
	      (unsigned long long)ti.next);
	for (i = 0; i < 2; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	info(nsfd, &ti);
	KT_OK(ti.readers == 0 && ti.next == ti.done_floor + 1,
	      "readers gone: the cursor rewound to done_floor + 1 (%llu)",
	      (unsigned long long)ti.next);
	/* a new reader gets the unfinished ones again, flagged */
	fd2 = open(ns->dev, O_RDWR | O_NONBLOCK);
	n = ns_read(fd2, rec, 16);
	for (i = 0; i < n; i++)
		if (rec[i].flags & WOOF_TREC_REDELIVERED)
			redelivered++;
	KT_OK(n == 16 && rec[0].trigger == first && redelivered == 16,
	      "a new reader gets them again from the floor, flagged REDELIVERED");
	KT_ZERO(done_floor(nsfd, first + 199), "TRIGGER_DONE past all of them");
	KT_ERR(read(fd2, rec, sizeof(rec)), EAGAIN, "... then nothing is pending");
	KT_ZERO(done_floor(nsfd, 1), "TRIGGER_DONE lower than the floor: ignored");
	info(nsfd, &ti);
	KT_OK(ti.done_floor == first + 199, "... floor stays %llu", (unsigned long long)ti.done_floor);
	close(fd2);
	close(fd);
	munmap(shm, 4128 * sizeof(uint32_t));
}

static int child_blocking_append(void *arg, int i)
{
	int fd = *(int *)arg;
	uint64_t el = 3, seq = 0;

	(void)i;
	if (kt_append(fd, &el, 8, "h", 0, &seq))
		return 1;
	return seq == 3 ? 0 : 2;
}

static void test_backpressure(struct kt_ns *ns, int nsfd)
{
	int rfd = kt_ns_open(ns, O_RDWR | O_NONBLOCK);
	struct woof_trigger_record rec[4];
	struct woof_trigger_claim c;
	struct woof_open o;
	struct kt_map m;
	struct pollfd p;
	uint64_t el = 1, seq, got, t0;
	pid_t pid;
	int fd, st, n;

	fd = kt_create(nsfd, "bp", 8, 2, 0, 0, &o);
	if (fd < 0 || kt_map(fd, o.file_size, &m))
		kt_die("create bp");
	while (ns_read(rfd, rec, 4) > 0)
		;
	kt_append(fd, &el, 8, "h", 0, &seq);
	kt_append(fd, &el, 8, "h", 0, &seq);
	KT_ERR(kt_append(fd, &el, 8, "h", WOOF_APPEND_NONBLOCK, &seq), EAGAIN,
	       "overwriting a PENDING element with NONBLOCK: EAGAIN");
	KT_ERR(kt_append(fd, &el, 8, NULL, WOOF_APPEND_NONBLOCK, &seq), EAGAIN,
	       "... also without a handler of its own");
	KT_OK(kt_latest(&m) == 2, "nothing was appended");

	p.fd = rfd;
	p.events = POLLIN;
	KT_OK(poll(&p, 1, 0) == 1, "poll on the device: triggers pending");
	n = ns_read(rfd, rec, 4);
	KT_OK(n == 2 && rec[0].entry.woof_seq == 1 && rec[1].entry.woof_seq == 2,
	      "read() both triggers at once");
	pid = fork();
	if (pid == 0)
		_exit(child_blocking_append(&fd, 0));
	{
		char seen[64];
		int rc = kt_wait_asleep(pid, "woof", 10000, seen);

		KT_OK(rc == 0 && waitpid(pid, &st, WNOHANG) == 0 && kt_latest(&m) == 2,
		      "a blocking append sleeps in woof.ko, waiting for the claim (%s)", seen);
	}
	t0 = kt_now_ns();
	KT_ZERO(claim(nsfd, rec[0].trigger, &got, 8, &c), "CLAIM the oldest element's trigger");
	waitpid(pid, &st, 0);
	KT_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "... and the append went on, got seq 3");
	KT_OK(kt_now_ns() - t0 < 2000ULL * 1000 * 1000, "... promptly");
	KT_OK(kt_latest(&m) == 3, "latest is 3");
	munmap((void *)m.h, m.len);
	close(fd);

	/* WOOF_F_OVERWRITE: no waiting, overruns counted */
	fd = kt_create(nsfd, "ow", 8, 2, 0, WOOF_F_OVERWRITE, &o);
	if (fd < 0 || kt_map(fd, o.file_size, &m))
		kt_die("create ow");
	kt_append(fd, &el, 8, "h", 0, &seq);
	kt_append(fd, &el, 8, "h", 0, &seq);
	KT_ZERO(kt_append(fd, &el, 8, "h", WOOF_APPEND_NONBLOCK, &seq),
	        "WOOF_F_OVERWRITE: overwriting a PENDING element goes on");
	KT_OK(m.h->overruns == 1, "... and counts an overrun (%llu)",
	      (unsigned long long)m.h->overruns);
	n = ns_read(rfd, rec, 4);	/* bp's third append, then ow's three */
	KT_OK(n == 4 && !strcmp(rec[1].entry.woof, "ow") && rec[3].entry.woof_seq == 3,
	      "three triggers recorded for ow");
	KT_ERR(claim(nsfd, rec[1].trigger, &got, 8, NULL), ENODATA,
	       "CLAIM of the overwritten element: ENODATA");
	KT_ZERO(claim(nsfd, rec[3].trigger, &got, 8, NULL), "CLAIM of the newest: ok");
	munmap((void *)m.h, m.len);
	close(fd);
	close(rfd);
}

/* A namespace whose trigger log holds only 4 entries. */
static void test_full_log(void)
{
	struct woof_trigger_record rec[8];
	struct woof_trigger_info ti;
	struct woof_header *h;
	struct woof_open o;
	struct kt_ns ns;
	char path[512];
	uint64_t el = 9, seq;
	int fd, nsfd, lfd, n;
	pid_t pid;

	/* build .woof/triggers with history 4 before mounting */
	snprintf(ns.dir, sizeof(ns.dir), "/tmp/kt-log-XXXXXX");
	if (getenv("WOOF_KT_DIR"))
		snprintf(ns.dir, sizeof(ns.dir), "%s/kt-log-XXXXXX", getenv("WOOF_KT_DIR"));
	if (!mkdtemp(ns.dir))
		kt_die("mkdtemp");
	snprintf(path, sizeof(path), "%s/.woof", ns.dir);
	mkdir(path, 0775);
	snprintf(path, sizeof(path), "%s/.woof/triggers", ns.dir);
	lfd = open(path, O_CREAT | O_RDWR, 0664);
	h = calloc(1, sizeof(*h));
	h->magic = WOOF_FORMAT_MAGIC;
	h->version = WOOF_FORMAT_VERSION;
	h->header_size = WOOF_HEADER_SIZE;
	h->element_size = sizeof(struct woof_trigger);
	h->history_size = 4;
	h->slot_size = WOOF_SLOT_SIZE(sizeof(struct woof_trigger));
	strcpy(h->filename, "triggers");
	if (pwrite(lfd, h, sizeof(*h), 0) != sizeof(*h) ||
	    ftruncate(lfd, WOOF_FILE_SIZE(sizeof(struct woof_trigger), 4)))
		kt_die("build log");
	close(lfd);
	free(h);
	snprintf(ns.name, sizeof(ns.name), "kt-log-%d", (int)getpid());
	snprintf(ns.dev, sizeof(ns.dev), WOOF_DEV_DIR "/%s", ns.name);
	ns.ctl = kt_control();
	if (kt_mount(ns.ctl, ns.name, ns.dir, 0600, 0, 0))
		kt_die("mount kt-log");
	nsfd = kt_ns_open(&ns, O_RDWR);
	info(nsfd, &ti);
	KT_OK(ti.history == 4, "an existing trigger log is used as it is (history 4)");
	fd = kt_create(nsfd, "many", 8, 64, 0, 0, &o);
	for (n = 0; n < 4; n++)
		if (kt_append(fd, &el, 8, "h", 0, &seq))
			kt_die("append many");
	KT_ERR(kt_append(fd, &el, 8, "h", WOOF_APPEND_NONBLOCK, &seq), EAGAIN,
	       "trigger log full of unfinished entries, NONBLOCK: EAGAIN");
	KT_ZERO(kt_append(fd, &el, 8, NULL, WOOF_APPEND_NONBLOCK, &seq),
		"an append without a handler is not held back");
	pid = fork();
	if (pid == 0) {
		uint64_t s2;

		_exit(kt_append(fd, &el, 8, "h", 0, &s2) == 0 && s2 == 6 ? 0 : 1);
	}
	{
		char seen[64];
		int rc = kt_wait_asleep(pid, "woof", 10000, seen);

		KT_OK(rc == 0 && waitpid(pid, NULL, WNOHANG) == 0,
		      "a blocking append with a handler sleeps in woof.ko, waiting for room (%s)", seen);
	}
	KT_ZERO(done_floor(nsfd, 2), "TRIGGER_DONE 2");
	{
		int st;

		waitpid(pid, &st, 0);
		KT_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "... and then goes on (seq 6)");
	}
	n = ns_read(nsfd, rec, 8);
	KT_OK(n == 3 && rec[0].trigger == 3 && rec[2].trigger == 5,
	      "read() after the floor moved: triggers 3..5 (%d)", n);
	close(fd);
	close(nsfd);
	kt_ns_teardown(&ns);
}

int main(void)
{
	struct kt_ns ns;
	int nsfd;

	kt_prog = "test-triggers";
	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_ns_setup(&ns, "trig");
	nsfd = kt_ns_open(&ns, O_RDWR);
	test_basic(&ns, nsfd);
	test_race(&ns, nsfd);
	test_backpressure(&ns, nsfd);
	close(nsfd);
	kt_ns_teardown(&ns);
	test_full_log();
	return kt_done();
}
