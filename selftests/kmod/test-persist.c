/* SPDX-License-Identifier: MIT */
/*
 * test-persist.c - data survives rmmod/insmod: it is the files.
 * test-kmod.sh runs it three times around a module reload:
 *   test-persist write DIR     (module loaded) mount DIR as "persist", create
 *                              WOOFs, append (wrapping), leave triggers
 *                              pending, claim and finish one; do not unmount
 *   test-persist unloaded DIR  (module unloaded) the files, read directly as
 *                              the user-space engine would: WOOF_STATE_KERNEL
 *                              cleared by the unload, seq_no and every
 *                              retained element intact
 *   test-persist verify DIR    (module loaded again) mount again: the same
 *                              elements, numbering goes on, the unfinished
 *                              triggers are delivered again and still PENDING
 */
#include "kmod-test.h"

#define NAME "persist"

static void el_fill(uint8_t *el, size_t n, uint64_t seq)
{
	size_t i;

	for (i = 0; i < n; i++)
		el[i] = (uint8_t)(seq * 7 + i);
}

static bool el_ok(const uint8_t *el, size_t n, uint64_t seq)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (el[i] != (uint8_t)(seq * 7 + i))
			return false;
	return true;
}

static int ns_open_mounted(const char *dir, struct kt_ns *ns)
{
	snprintf(ns->dir, sizeof(ns->dir), "%s", dir);
	snprintf(ns->name, sizeof(ns->name), NAME);
	snprintf(ns->dev, sizeof(ns->dev), WOOF_DEV_DIR "/" NAME);
	ns->ctl = kt_control();
	if (kt_mount(ns->ctl, NAME, dir, 0600, 0, 0))
		kt_die("NS_MOUNT persist");
	return kt_ns_open(ns, O_RDWR);
}

static void do_write(const char *dir)
{
	struct woof_trigger_record rec[4];
	struct woof_trigger_claim c;
	struct woof_trigger_done d;
	struct woof_open o;
	struct kt_ns ns;
	uint8_t el[5000];
	uint64_t s, seq, bad = 0;
	int nsfd, fd, rfd;

	nsfd = ns_open_mounted(dir, &ns);
	fd = kt_create(nsfd, "p", 32, 10, WOOF_CREATE_F_EXCL, 0, &o);
	KT_OK(fd >= 0, "CREATE p (32 x 10)");
	for (s = 1; s <= 25; s++) {
		el_fill(el, 32, s);
		if (kt_append(fd, el, 32, NULL, 0, &seq) || seq != s)
			bad++;
	}
	KT_OK(!bad, "25 appends to p");
	close(fd);
	fd = kt_create(nsfd, "q", 5000, 3, WOOF_CREATE_F_EXCL, WOOF_F_DURABLE, &o);
	KT_OK(fd >= 0, "CREATE q (5000 x 3, DURABLE)");
	for (s = 1, bad = 0; s <= 4; s++) {
		el_fill(el, 5000, s);
		if (kt_append(fd, el, 5000, NULL, 0, &seq) || seq != s)
			bad++;
	}
	KT_OK(!bad, "4 durable appends to q");
	close(fd);
	fd = kt_create(nsfd, "t", 8, 8, WOOF_CREATE_F_EXCL, 0, &o);
	for (s = 1, bad = 0; s <= 3; s++) {
		el_fill(el, 8, s);
		if (kt_append(fd, el, 8, "handler", 0, &seq) || seq != s)
			bad++;
	}
	KT_OK(!bad, "3 appends to t with a handler");
	close(fd);
	rfd = kt_ns_open(&ns, O_RDWR);
	KT_OK(read(rfd, rec, sizeof(rec)) == 3 * (ssize_t)sizeof(rec[0]), "read 3 trigger records");
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.trigger = rec[0].trigger;
	c.element = (uintptr_t)el;
	c.element_size = 8;
	KT_ZERO(ioctl(nsfd, WOOF_IOC_TRIGGER_CLAIM, &c), "claim the first");
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.floor = rec[0].trigger;
	KT_ZERO(ioctl(nsfd, WOOF_IOC_TRIGGER_DONE, &d), "finish it (done_floor %llu)",
		(unsigned long long)d.floor);
	close(rfd);
	close(nsfd);
	close(ns.ctl);
	/* left mounted on purpose: rmmod unmounts */
}

/* Map a file as the user-space engine does (no module involved). */
static int map_file(const char *dir, const char *name, struct kt_map *m)
{
	char path[512];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		return -1;
	m->h = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	m->len = st.st_size;
	close(fd);
	return m->h == MAP_FAILED ? -1 : 0;
}

static void check_woof(const struct kt_map *m, const char *name, size_t es, uint64_t latest)
{
	uint8_t el[5000];
	uint64_t s, bad = 0, H = m->h->history_size;

	KT_OK(kt_latest(m) == latest, "%s: seq_no %llu", name, (unsigned long long)kt_latest(m));
	for (s = latest > H ? latest - H + 1 : 1; s <= latest; s++)
		if (kt_read(m, s, el, NULL) || !el_ok(el, es, s))
			bad++;
	KT_OK(!bad, "%s: every retained element intact", name);
}

static void do_unloaded(const char *dir)
{
	struct kt_map p, q, t, log;

	KT_OK(access(WOOF_CONTROL_DEV, F_OK) < 0, "the module is unloaded");
	if (map_file(dir, "p", &p) || map_file(dir, "q", &q) || map_file(dir, "t", &t) ||
	    map_file(dir, ".woof/triggers", &log))
		kt_die("map files");
	KT_OK(p.h->state == 0 && q.h->state == 0 && t.h->state == 0 && log.h->state == 0,
	      "rmmod cleared WOOF_STATE_KERNEL in every file (user-space engine may append)");
	KT_OK(p.h->lock == 0 && log.h->lock == 0, "user-space lock words are free");
	check_woof(&p, "p", 32, 25);
	check_woof(&q, "q", 5000, 4);
	check_woof(&t, "t", 8, 3);
	KT_OK(log.h->seq_no == 3 && log.h->done_floor == 1, "trigger log: latest 3, done_floor 1");
	KT_OK(!(kt_slot(&t, 0)->flags & WOOF_SLOT_PENDING) &&
	      (kt_slot(&t, 1)->flags & WOOF_SLOT_PENDING) && kt_slot(&t, 2)->trigger == 3,
	      "t: the claimed slot is not PENDING, the others are");
}

static void do_verify(const char *dir)
{
	struct woof_trigger_record rec[4];
	struct woof_trigger_claim c;
	struct woof_open o;
	struct kt_map m;
	struct kt_ns ns;
	uint8_t el[5000];
	uint64_t seq;
	int nsfd, fd, rfd, n;

	nsfd = ns_open_mounted(dir, &ns);
	fd = kt_open(nsfd, "p", 0, &o);
	KT_OK(fd >= 0 && o.latest == 25 && o.state == WOOF_STATE_KERNEL,
	      "p after reload: latest 25, served again");
	if (fd < 0 || kt_map(fd, o.file_size, &m))
		kt_die("map p");
	check_woof(&m, "p (mapped through the device)", 32, 25);
	el_fill(el, 32, 26);
	KT_OK(kt_append(fd, el, 32, NULL, 0, &seq) == 0 && seq == 26, "append goes on at 26");
	check_woof(&m, "p", 32, 26);
	munmap((void *)m.h, m.len);
	close(fd);
	fd = kt_open(nsfd, "q", WOOF_OPEN_RDONLY, &o);
	KT_OK(fd >= 0 && o.woof_flags == WOOF_F_DURABLE, "q keeps WOOF_F_DURABLE");
	if (fd < 0 || kt_map(fd, o.file_size, &m))
		kt_die("map q");
	check_woof(&m, "q", 5000, 4);
	munmap((void *)m.h, m.len);
	close(fd);

	rfd = kt_ns_open(&ns, O_RDWR | O_NONBLOCK);
	n = (int)(read(rfd, rec, sizeof(rec)) / (ssize_t)sizeof(rec[0]));
	KT_OK(n == 2 && rec[0].trigger == 2 && rec[1].trigger == 3 &&
	      !strcmp(rec[0].entry.woof, "t") && rec[1].entry.woof_seq == 3,
	      "the unfinished triggers 2 and 3 are delivered again");
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.trigger = 2;
	c.element = (uintptr_t)el;
	c.element_size = 8;
	KT_OK(ioctl(nsfd, WOOF_IOC_TRIGGER_CLAIM, &c) == 0 && c.result == 0 && el_ok(el, 8, 2),
	      "trigger 2 is still PENDING: claimed now, with its element");
	c.trigger = 1;
	KT_OK(ioctl(nsfd, WOOF_IOC_TRIGGER_CLAIM, &c) == 0 && c.result == WOOF_CLAIM_ALREADY,
	      "trigger 1 was claimed before the reload");
	close(rfd);
	close(nsfd);
	KT_ZERO(kt_umount(ns.ctl, NAME, 0), "NS_UMOUNT persist");
	close(ns.ctl);
}

int main(int argc, char **argv)
{
	kt_prog = "test-persist";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		fprintf(stderr, "usage: test-persist write|unloaded|verify DIR\n");
		return 2;
	}
	if (!strcmp(argv[1], "write"))
		do_write(argv[2]);
	else if (!strcmp(argv[1], "unloaded"))
		do_unloaded(argv[2]);
	else if (!strcmp(argv[1], "verify"))
		do_verify(argv[2]);
	else
		return 2;
	return kt_done();
}
