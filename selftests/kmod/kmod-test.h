/* SPDX-License-Identifier: MIT */
/*
 * kmod-test.h - helpers for the ioctl-level tests of woof.ko. They run as
 * root inside the test VM (selftests/vm) with the module loaded; each test
 * program mounts its own namespace on a fresh directory and unmounts it.
 *
 * Output is TAP: "ok N - what" / "not ok N - what" per check, a plan at the
 * end, exit status 0 only when every check passed (77 = skipped: no module).
 * Output structs are poisoned with 0xcc before every call that should fail,
 * and checked to be untouched afterwards, or fully written on success.
 */
#ifndef WOOF_KMOD_TEST_H
#define WOOF_KMOD_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/woof.h>

static int kt_n, kt_failed;
static const char *kt_prog = "kmod-test";

static inline void kt_report(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline void kt_report(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	kt_n++;
	if (!ok)
		kt_failed++;
	printf("%sok %d - ", ok ? "" : "not ", kt_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(" (%s:%d)", file, line);
	putchar('\n');
	fflush(stdout);
}

/* A check: a condition and what it means. */
#define KT_OK(cond, ...) kt_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* An ioctl/syscall expression that must fail with errno @err. */
#define KT_ERR(expr, err, ...)                                                        \
	do {                                                                          \
		long kt_r_;                                                           \
		errno = 0;                                                            \
		kt_r_ = (long)(expr);                                                 \
		int kt_e_ = errno;                                                    \
		kt_report(kt_r_ == -1 && kt_e_ == (err), __FILE__, __LINE__, __VA_ARGS__); \
		if (!(kt_r_ == -1 && kt_e_ == (err)))                                 \
			printf("#   got %ld errno %d (%s), want errno %d (%s)\n", kt_r_, \
			       kt_e_, strerror(kt_e_), (err), strerror(err));         \
	} while (0)

/* An expression that must return 0 (or >= 0 with KT_GE0). */
#define KT_ZERO(expr, ...)                                                            \
	do {                                                                          \
		long kt_r_;                                                           \
		errno = 0;                                                            \
		kt_r_ = (long)(expr);                                                 \
		int kt_e_ = errno;                                                    \
		kt_report(kt_r_ == 0, __FILE__, __LINE__, __VA_ARGS__);               \
		if (kt_r_ != 0)                                                       \
			printf("#   got %ld errno %d (%s)\n", kt_r_, kt_e_, strerror(kt_e_)); \
	} while (0)

static inline void kt_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void kt_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static inline void kt_die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline int kt_done(void)
{
	printf("1..%d\n", kt_n);
	if (kt_failed)
		printf("# %s: %d of %d checks failed\n", kt_prog, kt_failed, kt_n);
	else
		printf("# %s: all %d checks passed\n", kt_prog, kt_n);
	return kt_failed ? 1 : 0;
}

static inline void kt_poison(void *p, size_t n)
{
	memset(p, 0xcc, n);
}

static inline bool kt_is_poison(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != 0xcc)
			return false;
	return true;
}

static inline uint64_t kt_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/*
 * Wait (a bounded poll, up to @timeout_ms) until process @pid sleeps in the
 * kernel (state S) in a function whose name contains one of the
 * '|'-separated words of @where (/proc/PID/wchan), e.g. "woof" for a wait
 * in woof.ko, "poll" for poll(2). 0, -ESRCH (gone or a zombie) or
 * -ETIMEDOUT; @seen (64 bytes, may be NULL) says what was seen last.
 */
static inline int kt_wait_asleep(pid_t pid, const char *where, int timeout_ms, char *seen)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	char path[64], buf[512], wchan[128], state, *p;
	ssize_t n;
	int fd;

	if (seen)
		snprintf(seen, 64, "nothing");
	for (;;) {
		wchan[0] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -ESRCH;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strrchr(buf, ')');
		state = p && p[1] == ' ' ? p[2] : '?';
		if (state == 'Z' || state == 'X')
			return -ESRCH;
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, wchan, sizeof(wchan) - 1);
			close(fd);
			wchan[n > 0 ? n : 0] = '\0';
		}
		if (seen)
			snprintf(seen, 64, "state %c, wchan %s", state, wchan[0] ? wchan : "?");
		if (state == 'S' && wchan[0]) {
			const char *w = where;

			while (*w) {
				size_t len = strcspn(w, "|");
				char word[64];

				snprintf(word, sizeof(word), "%.*s", (int)len, w);
				if (len && strstr(wchan, word))
					return 0;
				w += len;
				if (*w == '|')
					w++;
			}
		}
		if (kt_now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(1000);	/* a bounded poll of the child's state */
	}
}

/* Wait (bounded) until the word at @p is nonzero; true when it became so. */
static inline bool kt_wait_word(const uint32_t *p, int timeout_ms)
{
	uint64_t deadline = kt_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while (!__atomic_load_n(p, __ATOMIC_ACQUIRE)) {
		if (kt_now_ns() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

/* ---- the control device and namespaces ---- */

static inline int kt_control(void)
{
	int fd = open(WOOF_CONTROL_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT) {
			printf("1..0 # SKIP %s not present (woof.ko not loaded)\n", WOOF_CONTROL_DEV);
			exit(77);
		}
		kt_die("open " WOOF_CONTROL_DEV);
	}
	return fd;
}

static inline int kt_mount(int ctl, const char *name, const char *dir, unsigned int mode,
			   uid_t uid, gid_t gid)
{
	struct woof_ns_mount m;
	int dfd, ret;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.dirfd = dfd;
	m.mode = mode;
	m.uid = uid;
	m.gid = gid;
	snprintf(m.name, sizeof(m.name), "%s", name);
	ret = ioctl(ctl, WOOF_IOC_NS_MOUNT, &m);
	close(dfd);
	return ret;
}

static inline int kt_umount(int ctl, const char *name, unsigned int flags)
{
	struct woof_ns_umount u;

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.flags = flags;
	snprintf(u.name, sizeof(u.name), "%s", name);
	return ioctl(ctl, WOOF_IOC_NS_UMOUNT, &u);
}

/* A fresh directory under $TMPDIR (or /tmp) and a namespace on it. */
struct kt_ns {
	char dir[256];
	char name[64];
	char dev[128];
	int ctl;
};

static inline void kt_ns_setup(struct kt_ns *ns, const char *tag)
{
	const char *tmp = getenv("WOOF_KT_DIR");

	snprintf(ns->dir, sizeof(ns->dir), "%s/kt-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (!mkdtemp(ns->dir))
		kt_die("mkdtemp");
	snprintf(ns->name, sizeof(ns->name), "kt-%s-%d", tag, (int)getpid());
	snprintf(ns->dev, sizeof(ns->dev), WOOF_DEV_DIR "/%s", ns->name);
	ns->ctl = kt_control();
	if (kt_mount(ns->ctl, ns->name, ns->dir, 0660, 0, 0) < 0)
		kt_die("NS_MOUNT");
}

static inline void kt_ns_teardown(struct kt_ns *ns)
{
	if (kt_umount(ns->ctl, ns->name, WOOF_UMOUNT_DETACH) < 0)
		kt_die("NS_UMOUNT");
	close(ns->ctl);
}

static inline int kt_ns_open(const struct kt_ns *ns, int flags)
{
	int fd = open(ns->dev, flags | O_CLOEXEC);

	if (fd < 0)
		kt_die(ns->dev);
	return fd;
}

/* ---- WOOFs ---- */

static inline int kt_create(int nsfd, const char *name, uint64_t esize, uint64_t hsize,
			    uint32_t flags, uint32_t woof_flags, struct woof_open *out)
{
	struct woof_open o;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags | WOOF_OPEN_CLOEXEC;
	o.element_size = esize;
	o.history_size = hsize;
	o.woof_flags = woof_flags;
	snprintf(o.name, sizeof(o.name), "%s", name);
	if (ioctl(nsfd, WOOF_IOC_CREATE, &o) < 0)
		return -1;
	if (out)
		*out = o;
	return o.fd;
}

static inline int kt_open(int nsfd, const char *name, uint32_t flags, struct woof_open *out)
{
	struct woof_open o;

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = flags | WOOF_OPEN_CLOEXEC;
	snprintf(o.name, sizeof(o.name), "%s", name);
	if (ioctl(nsfd, WOOF_IOC_OPEN, &o) < 0)
		return -1;
	if (out)
		*out = o;
	return o.fd;
}

static inline int kt_append(int fd, const void *el, uint64_t esize, const char *handler,
			    uint32_t flags, uint64_t *seq)
{
	struct woof_append a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = flags;
	a.element = (uintptr_t)el;
	a.element_size = esize;
	a.handler = (uintptr_t)handler;
	ret = ioctl(fd, WOOF_IOC_APPEND, &a);
	if (!ret && seq)
		*seq = a.seq;
	return ret;
}

/* A read-only mapping of a WOOF fd. */
struct kt_map {
	const struct woof_header *h;
	size_t len;
};

static inline int kt_map(int fd, uint64_t file_size, struct kt_map *m)
{
	void *p = mmap(NULL, file_size, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -1;
	m->h = p;
	m->len = file_size;
	return 0;
}

static inline const struct woof_slot *kt_slot(const struct kt_map *m, uint64_t idx)
{
	return (const struct woof_slot *)((const char *)m->h + WOOF_HEADER_SIZE +
					  idx * m->h->slot_size);
}

static inline uint64_t kt_latest(const struct kt_map *m)
{
	return __atomic_load_n(&m->h->seq_no, __ATOMIC_ACQUIRE);
}

/*
 * Read element @seq (0 = latest) like libwoof's read.c: a seqlock read of
 * its ring slot, else of the undo slot. 0, -ERANGE, -ENODATA.
 */
static inline int kt_read(const struct kt_map *m, uint64_t seq, void *el, uint64_t *got)
{
	uint64_t H = m->h->history_size, es = m->h->element_size;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		uint64_t latest = kt_latest(m), s = seq ? seq : latest, k;

		if (!s)
			return -ENODATA;
		if (s > latest)
			return -ERANGE;
		if (latest >= H && s <= latest - H)
			return -ENODATA;
		for (k = 0; k < 2; k++) {
			const struct woof_slot *sl = kt_slot(m, k ? H : (s - 1) % H);

			if (__atomic_load_n(&sl->stamp, __ATOMIC_ACQUIRE) != s)
				continue;
			memcpy(el, sl + 1, es);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&sl->stamp, __ATOMIC_RELAXED) == s) {
				if (got)
					*got = s;
				return 0;
			}
		}
		if (seq)
			return -ENODATA;
	}
	return -EAGAIN;
}

/* Run @fn(@arg, i) in @n child processes; 0 if every child exited 0. */
static inline int kt_children(int n, int (*fn)(void *arg, int i), void *arg)
{
	pid_t pids[64];
	int i, bad = 0, st;

	for (i = 0; i < n && i < 64; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			kt_die("fork");
		if (pids[i] == 0)
			_exit(fn(arg, i));
	}
	for (i = 0; i < n && i < 64; i++) {
		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	}
	return bad;
}

#endif
