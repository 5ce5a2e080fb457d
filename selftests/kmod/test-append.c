/* SPDX-License-Identifier: MIT */
/*
 * test-append.c - woof.ko's data path: CREATE and OPEN, APPEND and
 * APPEND_BATCH, reading through the read-only mapping (wrap-around, the
 * undo slot, seq 0 = latest, elements that span pages or are larger than
 * the kernel's copy chunk), WAIT, poll() and read() on a WOOF fd, read-only
 * fds, RESET and REMOVE (-ESTALE for holders), WOOF_STATE_KERNEL set while
 * served and cleared by unmount, and the file format on disk.
 */
#include "kmod-test.h"

static void fill(void *el, size_t n, uint64_t seq, unsigned int salt)
{
	unsigned char *p = el;
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seq * 131 + i * 7 + salt);
	if (n >= 8)
		memcpy(p, &seq, 8);
}

static bool check_el(const void *el, size_t n, uint64_t seq, unsigned int salt)
{
	unsigned char *want = malloc(n);
	bool ok;

	fill(want, n, seq, salt);
	ok = !memcmp(want, el, n);
	free(want);
	return ok;
}

/* Append @count elements of @esize to a fresh WOOF with history @H and read them back. */
static void roundtrip(int nsfd, const char *name, uint64_t esize, uint64_t H, uint64_t count)
{
	struct woof_open o;
	struct kt_map m;
	uint64_t s, seq, got, bad = 0, badseq = 0;
	unsigned char *el = malloc(esize), *rd = malloc(esize);
	int fd, ret;

	fd = kt_create(nsfd, name, esize, H, WOOF_CREATE_F_EXCL, 0, &o);
	KT_OK(fd >= 0, "%s: CREATE esize %" PRIu64 " history %" PRIu64, name, esize, H);
	if (fd < 0)
		goto out;
	KT_OK(o.file_size == WOOF_FILE_SIZE(esize, H), "%s: file_size is WOOF_FILE_SIZE", name);
	KT_ZERO(kt_map(fd, o.file_size, &m), "%s: mmap PROT_READ", name);
	KT_OK(kt_read(&m, 0, rd, NULL) == -ENODATA, "%s: empty WOOF: latest is ENODATA", name);
	for (s = 1; s <= count; s++) {
		fill(el, esize, s, 1);
		seq = 0;
		ret = kt_append(fd, el, esize, NULL, 0, &seq);
		if (ret || seq != s)
			badseq++;
		/* every element of the window readable after each append */
		if (kt_read(&m, s, rd, NULL) || !check_el(rd, esize, s, 1))
			bad++;
		if (s > H && (kt_read(&m, s - H + 1, rd, NULL) || !check_el(rd, esize, s - H + 1, 1)))
			bad++;
	}
	KT_OK(!badseq, "%s: %" PRIu64 " appends got seqs 1..%" PRIu64, name, count, count);
	KT_OK(!bad, "%s: each element readable through the mapping at once", name);
	KT_OK(kt_latest(&m) == count, "%s: header seq_no = %" PRIu64, name, count);
	for (s = count > H ? count - H + 1 : 1, bad = 0; s <= count; s++)
		if (kt_read(&m, s, rd, NULL) || !check_el(rd, esize, s, 1))
			bad++;
	KT_OK(!bad, "%s: the whole retained window reads back", name);
	KT_OK(kt_read(&m, 0, rd, &got) == 0 && got == count && check_el(rd, esize, count, 1),
	      "%s: seq 0 reads the latest", name);
	KT_OK(kt_read(&m, count + 1, rd, NULL) == -ERANGE, "%s: seq latest+1 is ERANGE", name);
	if (count > H) {
		const struct woof_slot *undo = kt_slot(&m, H);

		KT_OK(kt_read(&m, count - H, rd, NULL) == -ENODATA,
		      "%s: seq latest-history is ENODATA (wrapped)", name);
		KT_OK(undo->stamp == count - H && check_el(undo + 1, esize, count - H, 1),
		      "%s: the undo slot holds the last overwritten element", name);
	}
	munmap((void *)m.h, m.len);
	close(fd);
out:
	free(el);
	free(rd);
}

/* Append to @fd once @waiter sleeps in a function named like @where; 3 if it never did. */
static int child_append_later(int fd, pid_t waiter, const char *where)
{
	uint64_t el = 0xabcdef, seq;

	if (kt_wait_asleep(waiter, where, 10000, NULL))
		return 3;
	return kt_append(fd, &el, sizeof(el), NULL, 0, &seq) ? 1 : 0;
}

/* the child's exit status: 0 appended after seeing us asleep */
static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_wait_poll(int nsfd)
{
	struct woof_open o;
	struct woof_wait w;
	struct pollfd pfd;
	uint64_t el = 1, seq, latest, t0;
	int fd, rfd, ret;
	pid_t pid, me;

	fd = kt_create(nsfd, "waiter", 8, 4, 0, 0, &o);
	KT_OK(fd >= 0, "CREATE waiter");
	KT_ZERO(kt_append(fd, &el, 8, NULL, 0, &seq), "append 1");

	kt_poison(&w, sizeof(w));
	memset(&w, 0, offsetof(struct woof_wait, latest));
	w.reserved[0] = w.reserved[1] = 0;
	w.size = sizeof(w);
	w.seq = 1;
	w.timeout_ns = 0;
	KT_ERR(ioctl(fd, WOOF_IOC_WAIT, &w), ETIMEDOUT, "WAIT seq=latest timeout 0: ETIMEDOUT");
	KT_OK(w.latest == 1, "WAIT with ETIMEDOUT writes latest");
	w.seq = 0;
	w.latest = 0xcccccccccccccccc;
	KT_ZERO(ioctl(fd, WOOF_IOC_WAIT, &w), "WAIT seq=0 with an element: at once");
	KT_OK(w.latest == 1, "WAIT returns latest 1");

	w.seq = 1;
	w.timeout_ns = 80 * 1000 * 1000;
	t0 = kt_now_ns();
	KT_ERR(ioctl(fd, WOOF_IOC_WAIT, &w), ETIMEDOUT, "WAIT 80 ms: ETIMEDOUT");
	KT_OK(kt_now_ns() - t0 >= 75ULL * 1000 * 1000, "WAIT slept about 80 ms (%" PRIu64 " ms)",
	      (kt_now_ns() - t0) / 1000000);

	/* WAIT without limit, woken by another process's append */
	me = getpid();
	pid = fork();
	if (pid == 0)
		_exit(child_append_later(fd, me, "woof"));
	w.seq = 1;
	w.timeout_ns = -1;
	ret = ioctl(fd, WOOF_IOC_WAIT, &w);
	KT_OK(ret == 0 && w.latest == 2, "WAIT forever woken by an append (latest %llu)",
	      (unsigned long long)w.latest);
	KT_OK(child_status(pid) == 0, "... made while WAIT slept in woof.ko");

	/* poll + read on a second, read-only fd */
	rfd = kt_open(nsfd, "waiter", WOOF_OPEN_RDONLY, &o);
	KT_OK(rfd >= 0, "OPEN waiter read-only");
	pfd.fd = rfd;
	pfd.events = POLLIN;
	KT_OK(poll(&pfd, 1, 0) == 0, "poll: nothing new since open");
	KT_ERR(read(rfd, &latest, 4), EINVAL, "read() of less than 8 bytes: EINVAL");
	fcntl(rfd, F_SETFL, O_NONBLOCK);
	KT_ERR(read(rfd, &latest, 8), EAGAIN, "O_NONBLOCK read() with nothing new: EAGAIN");
	fcntl(rfd, F_SETFL, 0);
	pid = fork();
	if (pid == 0)
		_exit(child_append_later(fd, me, "poll|select"));
	ret = poll(&pfd, 1, 20000);
	KT_OK(ret == 1 && (pfd.revents & POLLIN), "poll woken by another process's append");
	KT_OK(child_status(pid) == 0, "... made while poll() slept");
	KT_OK(read(rfd, &latest, 8) == 8 && latest == 3, "read() returns the latest seq (3)");
	KT_OK(poll(&pfd, 1, 0) == 0, "poll after read(): nothing new");
	pid = fork();
	if (pid == 0)
		_exit(child_append_later(fd, me, "woof"));
	KT_OK(read(rfd, &latest, 8) == 8 && latest == 4, "blocking read() woken by an append");
	KT_OK(child_status(pid) == 0, "... made while read() slept in woof.ko");
	close(rfd);
	close(fd);
}

static void test_readonly(int nsfd, int rofd_ns)
{
	struct woof_open o;
	uint64_t el = 7, seq;
	void *p;
	int fd, wfd;

	wfd = kt_create(nsfd, "ro", 8, 4, 0, 0, &o);
	KT_OK(wfd >= 0, "CREATE ro");
	fd = kt_open(nsfd, "ro", WOOF_OPEN_RDONLY, &o);
	KT_OK(fd >= 0, "OPEN ro with WOOF_OPEN_RDONLY");
	KT_ERR(kt_append(fd, &el, 8, NULL, 0, &seq), EBADF, "APPEND on a read-only WOOF fd: EBADF");
	KT_OK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "the fd is O_RDONLY");
	close(fd);

	fd = kt_open(rofd_ns, "ro", WOOF_OPEN_RDONLY, &o);
	KT_OK(fd >= 0, "OPEN read-only through a read-only namespace fd");
	KT_ERR(kt_open(rofd_ns, "ro", 0, NULL), EBADF,
	       "OPEN for writing through a read-only namespace fd: EBADF");
	KT_ERR(kt_create(rofd_ns, "ro2", 8, 4, 0, 0, NULL), EBADF,
	       "CREATE through a read-only namespace fd: EBADF");
	close(fd);

	/* mappings are read-only, whatever the fd */
	p = mmap(NULL, o.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, wfd, 0);
	KT_OK(p == MAP_FAILED && errno == EACCES, "mmap PROT_WRITE MAP_SHARED: EACCES");
	p = mmap(NULL, o.file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, wfd, 0);
	KT_OK(p == MAP_FAILED && errno == EACCES, "mmap PROT_WRITE MAP_PRIVATE: EACCES");
	p = mmap(NULL, o.file_size, PROT_READ, MAP_SHARED, wfd, 0);
	KT_OK(p != MAP_FAILED, "mmap PROT_READ MAP_SHARED");
	if (p != MAP_FAILED) {
		KT_ERR(mprotect(p, 4096, PROT_READ | PROT_WRITE), EACCES,
		       "mprotect to PROT_WRITE: EACCES");
		munmap(p, o.file_size);
	}
	close(wfd);
}

static void test_batch(int nsfd)
{
	struct woof_append_batch b;
	struct woof_open o;
	struct kt_map m;
	uint64_t els[300], rd, s, bad = 0;
	int fd, i;

	fd = kt_create(nsfd, "batch", 8, 256, 0, 0, &o);
	KT_OK(fd >= 0, "CREATE batch");
	if (fd < 0 || kt_map(fd, o.file_size, &m) < 0)
		kt_die("batch");
	for (i = 0; i < 300; i++)
		els[i] = 1000 + i;
	kt_poison(&b, sizeof(b));
	b.size = sizeof(b);
	b.flags = 0;
	b.elements = (uintptr_t)els;
	b.element_size = 8;
	b.handler = 0;
	b.count = 300;
	b.reserved[0] = b.reserved[1] = 0;
	KT_ZERO(ioctl(fd, WOOF_IOC_APPEND_BATCH, &b), "APPEND_BATCH of 300 into history 256");
	KT_OK(b.done == 300 && b.first_seq == 1, "done 300, first_seq 1 (got %u, %llu)", b.done,
	      (unsigned long long)b.first_seq);
	for (s = 45; s <= 300; s++)
		if (kt_read(&m, s, &rd, NULL) || rd != 1000 + s - 1)
			bad++;
	KT_OK(!bad, "the batch's retained elements read back in order");
	b.count = 2;
	KT_ZERO(ioctl(fd, WOOF_IOC_APPEND_BATCH, &b), "second batch");
	KT_OK(b.done == 2 && b.first_seq == 301, "second batch continues at 301");
	munmap((void *)m.h, m.len);
	close(fd);
}

static void test_reset_remove(struct kt_ns *ns, int nsfd)
{
	struct woof_open o, o2;
	struct woof_remove r;
	struct woof_wait w;
	struct stat st;
	uint64_t el = 5, seq;
	char path[512];
	int fd, fd2;

	fd = kt_create(nsfd, "reset", 8, 4, 0, 0, &o);
	KT_OK(fd >= 0, "CREATE reset");
	kt_append(fd, &el, 8, NULL, 0, &seq);
	kt_append(fd, &el, 8, NULL, 0, &seq);
	fd2 = kt_create(nsfd, "reset", 8, 4, 0, 0, &o2);
	KT_OK(fd2 >= 0 && o2.latest == 2 && o2.create_time_ns == o.create_time_ns,
	      "CREATE of an existing WOOF with the same geometry opens it");
	close(fd2);
	KT_ERR(kt_create(nsfd, "reset", 16, 4, 0, 0, NULL), EEXIST,
	       "CREATE with another geometry: EEXIST");
	KT_ERR(kt_create(nsfd, "reset", 8, 4, WOOF_CREATE_F_EXCL, 0, NULL), EEXIST,
	       "CREATE EXCL of an existing WOOF: EEXIST");
	fd2 = kt_create(nsfd, "reset", 8, 4, WOOF_CREATE_F_RESET, 0, &o2);
	KT_OK(fd2 >= 0 && o2.latest == 0, "CREATE RESET replaces it by an empty WOOF");
	KT_ERR(kt_append(fd, &el, 8, NULL, 0, &seq), ESTALE, "append to the replaced WOOF: ESTALE");
	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.seq = 10;
	w.timeout_ns = -1;
	KT_ERR(ioctl(fd, WOOF_IOC_WAIT, &w), ESTALE, "WAIT on the replaced WOOF: ESTALE");
	KT_ZERO(kt_append(fd2, &el, 8, NULL, 0, &seq), "append to the new WOOF");
	KT_OK(seq == 1, "numbering starts again at 1");
	close(fd);

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	strcpy(r.name, "reset");
	KT_ZERO(ioctl(nsfd, WOOF_IOC_REMOVE, &r), "REMOVE reset");
	snprintf(path, sizeof(path), "%s/reset", ns->dir);
	KT_OK(stat(path, &st) < 0 && errno == ENOENT, "the file is gone");
	KT_ERR(kt_append(fd2, &el, 8, NULL, 0, &seq), ESTALE, "append to a removed WOOF: ESTALE");
	KT_ERR(ioctl(nsfd, WOOF_IOC_REMOVE, &r), ENOENT, "REMOVE again: ENOENT");
	KT_ERR(kt_open(nsfd, "reset", 0, NULL), ENOENT, "OPEN a removed WOOF: ENOENT");
	close(fd2);
}

/* The file as the user-space engine sees it. */
static void test_on_disk(struct kt_ns *ns, int nsfd)
{
	struct woof_header h;
	struct woof_open o;
	struct stat st;
	uint64_t el[3] = { 1, 2, 3 }, seq;
	char path[512];
	int fd, ffd;

	fd = kt_create(nsfd, "disk", 24, 3, 0, WOOF_F_OVERWRITE, &o);
	KT_OK(fd >= 0, "CREATE disk with WOOF_F_OVERWRITE");
	kt_append(fd, el, 24, NULL, 0, &seq);
	snprintf(path, sizeof(path), "%s/disk", ns->dir);
	ffd = open(path, O_RDONLY);
	KT_OK(ffd >= 0 && fstat(ffd, &st) == 0 && (uint64_t)st.st_size == WOOF_FILE_SIZE(24, 3),
	      "the file exists with size WOOF_FILE_SIZE(24, 3)");
	KT_OK(pread(ffd, &h, sizeof(h), 0) == sizeof(h), "read its header");
	KT_OK(h.magic == WOOF_FORMAT_MAGIC && h.version == WOOF_FORMAT_VERSION &&
	      h.header_size == WOOF_HEADER_SIZE && h.element_size == 24 && h.history_size == 3 &&
	      h.slot_size == WOOF_SLOT_SIZE(24) && h.flags == WOOF_F_OVERWRITE,
	      "header: magic, version, sizes, flags");
	KT_OK(!strcmp(h.filename, "disk"), "header filename is the WOOF's name");
	KT_OK(h.seq_no == 1 && h.lock == 0, "seq_no 1, user-space lock word untouched");
	KT_OK(h.state == WOOF_STATE_KERNEL, "state is WOOF_STATE_KERNEL while served");
	KT_OK(o.state == WOOF_STATE_KERNEL, "OPEN reports the state");
	close(ffd);
	close(fd);
}

int main(void)
{
	struct woof_version v;
	struct kt_ns ns;
	struct woof_header h;
	char path[512];
	int nsfd, rons, ffd;

	kt_prog = "test-append";
	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_ns_setup(&ns, "append");

	kt_poison(&v, sizeof(v));
	v.size = sizeof(v);
	v.flags = 0;
	memset(v.reserved, 0, sizeof(v.reserved));
	KT_ZERO(ioctl(ns.ctl, WOOF_IOC_VERSION, &v), "VERSION");
	KT_OK(v.api_version == WOOF_KAPI_VERSION && v.format_version == WOOF_FORMAT_VERSION,
	      "api %u format %u", v.api_version, v.format_version);
	KT_OK((v.features & (WOOF_FEAT_NS | WOOF_FEAT_APPEND | WOOF_FEAT_MMAP)) ==
	      (WOOF_FEAT_NS | WOOF_FEAT_APPEND | WOOF_FEAT_MMAP), "features 0x%llx",
	      (unsigned long long)v.features);
	KT_OK(v.ns_count >= 1 && v.ns_max >= v.ns_count, "ns_count %u of %u", v.ns_count,
	      v.ns_max);

	nsfd = kt_ns_open(&ns, O_RDWR);
	rons = kt_ns_open(&ns, O_RDONLY);
	roundtrip(nsfd, "small", 8, 5, 23);
	roundtrip(nsfd, "odd", 13, 7, 40);
	roundtrip(nsfd, "one", 32, 1, 6);
	roundtrip(nsfd, "pages", 10000, 3, 9);		/* slots span pages */
	roundtrip(nsfd, "big", 200000, 2, 7);		/* larger than the copy chunk */
	roundtrip(nsfd, "straddle", 4072, 4, 13);	/* slot headers cross pages */
	test_batch(nsfd);
	test_wait_poll(nsfd);
	test_readonly(nsfd, rons);
	test_reset_remove(&ns, nsfd);
	test_on_disk(&ns, nsfd);
	close(rons);
	close(nsfd);

	kt_ns_teardown(&ns);
	snprintf(path, sizeof(path), "%s/disk", ns.dir);
	ffd = open(path, O_RDONLY);
	KT_OK(ffd >= 0 && pread(ffd, &h, sizeof(h), 0) == sizeof(h) && h.state == 0,
	      "after NS_UMOUNT: WOOF_STATE_KERNEL cleared in the file");
	snprintf(path, sizeof(path), "%s/.woof/triggers", ns.dir);
	close(ffd);
	ffd = open(path, O_RDONLY);
	KT_OK(ffd >= 0 && pread(ffd, &h, sizeof(h), 0) == sizeof(h) && h.state == 0 &&
	      h.element_size == sizeof(struct woof_trigger) &&
	      h.history_size == WOOF_TRIGGERS_HISTORY,
	      ".woof/triggers exists, in the format, and is released");
	close(ffd);
	return kt_done();
}
