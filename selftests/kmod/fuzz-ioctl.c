// SPDX-License-Identifier: MIT
/*
 * fuzz-ioctl.c - a seeded random ioctl fuzzer for woof.ko, run as root in the
 * test VM (selftests/kmod/test-fuzz.sh, and under the KASAN + UBSAN kernel by
 * selftests/vm/test-kasan.sh).
 *
 * Threads issue random and mutated calls on /dev/woof/control, on namespace
 * devices and on WOOF fds: every WOOF_IOC_* of <linux/woof.h> with
 * well-formed arguments that are then mutated (size field, flags, reserved
 * words, random bytes, wrong ioctl numbers, a struct that ends at an
 * unmapped page or sits in a read-only page, bad user pointers: NULL, kernel
 * addresses, non-canonical, unmapped, read-only, a pointer into the WOOF's
 * own mapping), random fds (pipes, files, directories, other WOOF fds), read,
 * poll, mmap/mprotect/munmap and reads of the mappings, dup, fork, close,
 * and churn: namespaces mounted, unmounted (with and without DETACH) and
 * remounted, WOOFs created, reset and removed under the other threads.
 * Calls that may sleep are interrupted by a per-thread timer signal, so a
 * blocking path is entered and left by -EINTR; a call that does not return
 * within the watchdog limit is a hang and fails the run.
 *
 * With -F, also the files themselves: truncating, overwriting and renaming
 * WOOF files and .woof/triggers behind the module's back (what a hostile
 * user with write access to the directory can do).
 *
 * The fuzzer judges only that it is not killed, that nothing hangs, and that
 * the module still answers and lets every namespace go at the end; the
 * kernel log is judged by the caller (scan-kernel-log.sh, kt_check_log).
 * Each thread draws its calls from its own generator seeded from the seed,
 * so with -j 1 and -n a run repeats the same calls as long as they return
 * the same (a sleeping call that the timer breaks, or not, can change what
 * follows); with more threads the interleaving differs too. The seed is
 * printed first.
 *
 * Usage: fuzz-ioctl [-s SEED] [-t SECONDS] [-n CALLS] [-j THREADS] [-o OPS]
 *                   [-F] [-v] [DIR]
 *   DIR defaults to $WOOF_KT_DIR or /tmp; namespaces are made below it.
 *   -t: stop after SECONDS (default 20); -n: after CALLS per thread;
 *   -j: threads (default 4); -o: only these calls (comma-separated names
 *   of the ops[] table, e.g. -o create,append,mmap); -v: print every call.
 * Output: TAP. Exit 0 clean, 1 a check failed, 77 no module.
 */
#include <pthread.h>
#include <setjmp.h>
#include <dirent.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "kmod-test.h"

#define NNS		3	/* namespaces in the pool */
#define NFD		48	/* the shared fd table */
#define NMAP		16	/* tracked mappings */
#define NMISC		8	/* fds of other kinds */
#define ARENA_PAGES	8
#define HANG_SECONDS	60	/* one call longer than this: a hang */

static const char *const names[] = { "a", "b", "c", "w1", "w2" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

struct ns_slot {
	char dir[300];
	char name[64];
	char dev[128];
};

struct map_slot {
	void *addr;
	size_t len;
};

static struct ns_slot pool[NNS];
static char base_dir[PATH_MAX];	/* the run's directory, resolved */
static int ctl = -1;
/* the shared fd table: what each fd is, so most calls get a fitting one */
enum { K_NONE, K_NS, K_NSW, K_WOOF };	/* K_NSW: a namespace device open for writing */
struct fd_ent {
	int fd;			/* -1 = empty */
	int kind;
	uint64_t esize;		/* K_WOOF: element size */
	uint64_t fsize;		/* K_WOOF: file size */
};
static struct fd_ent fdt[NFD];
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static int misc[NMISC];
static struct map_slot maps[NMAP];
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static int files_churn, verbose;
static const char *only_ops;	/* -o: a comma-separated list of op names */
static uint64_t deadline_ns, max_calls;
static unsigned long long total_calls, sigbus_count;
static volatile uint64_t last_progress[64];
static long page;

/* ---- per-thread state ---- */

struct fz {
	int id;
	uint64_t rng;
	unsigned char *arena;	/* ARENA_PAGES rw pages, then a PROT_NONE page, then a ro page */
	unsigned char *guard;
	unsigned char *ro;
	timer_t timer;
	unsigned long long calls;
};

static __thread sigjmp_buf touch_jmp;
static __thread volatile int touching;
static __thread const char *volatile cur_op;
static __thread unsigned int cur_idx;
#define MAXOPS 32
/* per op: calls, and calls that succeeded (the paths past validation) */
static unsigned long long op_calls[MAXOPS], op_ok[MAXOPS];

static void fz_ok(void)
{
	__atomic_add_fetch(&op_ok[cur_idx], 1, __ATOMIC_RELAXED);
}

static int fz_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	if (ret >= 0)
		fz_ok();
	return ret;
}

static uint64_t rnd(struct fz *z)
{
	/* xorshift64* */
	z->rng ^= z->rng >> 12;
	z->rng ^= z->rng << 25;
	z->rng ^= z->rng >> 27;
	return z->rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(struct fz *z, uint64_t n)
{
	return n ? rnd(z) % n : 0;
}

static bool chance(struct fz *z, unsigned int pct)
{
	return below(z, 100) < pct;
}

static uint64_t interesting(struct fz *z)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 7, 8, 15, 16, 63, 64, 255, 256, 4095, 4096, 4097, 65536,
		0x7fffffffULL, 0x80000000ULL, 0xffffffffULL, 0x100000000ULL,
		1ULL << 30, (1ULL << 30) + 1, 1ULL << 40, (1ULL << 40) + 1, 1ULL << 46,
		(1ULL << 46) + 1, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
		~0ULL, ~0ULL - 1, (uint64_t)-4096,
	};

	if (chance(z, 20))
		return rnd(z);
	return v[below(z, sizeof(v) / sizeof(v[0]))];
}

/* A pointer user space must not hand the kernel (or may, for reading only). */
static uint64_t bad_ptr(struct fz *z)
{
	switch (below(z, 10)) {
	case 0: return 0;
	case 1: return 1 + below(z, 4096);
	case 2: return (uintptr_t)z->guard + below(z, page);
	case 3: return (uintptr_t)z->guard - 1 - below(z, 16);	/* straddles */
	case 4: return (uintptr_t)z->ro + below(z, page);	/* read-only */
	case 5: return 0xffff888000000000ULL + below(z, 1 << 20);	/* direct map */
	case 6: return 0xffffffff81000000ULL;	/* kernel text */
	case 7: return 0x0000800000000000ULL - below(z, 64);	/* top of user space */
	case 8: return 0x8000000000000000ULL;	/* non-canonical */
	default: {
		uint64_t p = 0;

		pthread_mutex_lock(&map_lock);
		{
			struct map_slot *m = &maps[below(z, NMAP)];

			if (m->addr)
				p = (uintptr_t)m->addr + below(z, m->len);
		}
		pthread_mutex_unlock(&map_lock);
		return p;
	}
	}
}

/* ---- fds ---- */

static int any_fd(struct fz *z)
{
	switch (below(z, 10)) {
	case 0: return misc[below(z, NMISC)];
	case 1: return (int)interesting(z);
	default: return __atomic_load_n(&fdt[below(z, NFD)].fd, __ATOMIC_RELAXED);
	}
}

/*
 * An fd of @kind (K_NS accepts K_NSW too) from the table, usually, with its
 * element and file size; else any fd (0 sizes).
 */
static int kind_fd(struct fz *z, int kind, uint64_t *esize, uint64_t *fsize)
{
	unsigned int i, start = (unsigned int)below(z, NFD);
	int fd = -1;

	if (esize)
		*esize = 0;
	if (fsize)
		*fsize = 0;
	if (chance(z, 10))
		return any_fd(z);
	pthread_mutex_lock(&fd_lock);
	for (i = 0; i < NFD; i++) {
		struct fd_ent *e = &fdt[(start + i) % NFD];

		if (e->fd >= 0 && (e->kind == kind || (kind == K_NS && e->kind == K_NSW))) {
			fd = e->fd;
			if (esize)
				*esize = e->esize;
			if (fsize)
				*fsize = e->fsize;
			break;
		}
	}
	pthread_mutex_unlock(&fd_lock);
	return fd >= 0 ? fd : any_fd(z);
}

/* fds the table must never close: stdio, the control fd, the misc fds */
static bool precious(int fd)
{
	int i;

	if (fd <= 2 || fd == ctl)
		return true;
	for (i = 0; i < NMISC; i++)
		if (fd == misc[i])
			return true;
	return false;
}

/* Into the table (an empty slot if one of a few tried is, else the old fd goes). */
static void put_fd(struct fz *z, int fd, int kind, uint64_t esize, uint64_t fsize)
{
	struct fd_ent *e = NULL;
	int old = -1, i;

	if (fd < 0 || precious(fd))
		return;
	pthread_mutex_lock(&fd_lock);
	for (i = 0; i < 4; i++) {
		e = &fdt[below(z, NFD)];
		if (e->fd < 0)
			break;
	}
	old = e->fd;
	e->fd = fd;
	e->kind = kind;
	e->esize = esize;
	e->fsize = fsize;
	pthread_mutex_unlock(&fd_lock);
	if (old >= 0 && old != fd)
		close(old);
}

static void close_one(struct fz *z)
{
	struct fd_ent *e;
	int old;

	pthread_mutex_lock(&fd_lock);
	e = &fdt[below(z, NFD)];
	old = e->fd;
	e->fd = -1;
	pthread_mutex_unlock(&fd_lock);
	if (old >= 0)
		close(old);
}

/* ---- the signal that breaks sleeping calls, and the hang watchdog ---- */

static void on_tick(int sig)
{
	(void)sig;
}

static void on_bus(int sig)
{
	if (touching) {
		__atomic_add_fetch(&sigbus_count, 1, __ATOMIC_RELAXED);
		siglongjmp(touch_jmp, sig);
	}
	/* not a read of a mapping: say where, and die of it */
	{
		char msg[128];
		int n = snprintf(msg, sizeof(msg), "Bail out! fuzz-ioctl: signal %d in op %s\n",
				 sig, cur_op ? cur_op : "(none)");

		if (n > 0)
			write(1, msg, (size_t)n);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Arm the thread's timer: a call that sleeps is interrupted within ms. */
static void arm(struct fz *z, long ms)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_nsec = (ms % 1000) * 1000000L;
	/* then every 100 ms, in case the first one hit outside the call */
	it.it_interval.tv_nsec = 100 * 1000000L;
	timer_settime(z->timer, 0, &it, NULL);
}

static void disarm(struct fz *z)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	timer_settime(z->timer, 0, &it, NULL);
}

/* ---- argument placement and mutation ---- */

/*
 * Copy the struct @s of @len bytes to where the call will read it: the
 * arena (usually), its end against the unmapped guard page, or the
 * read-only page. Mutate it first. Returns the user pointer to pass.
 */
static void *place(struct fz *z, void *s, size_t len)
{
	unsigned char *b = s;
	unsigned char *p;
	unsigned int i, n;

	if (chance(z, 12)) {
		switch (below(z, 5)) {
		case 0: /* the size field */
			*(uint32_t *)b = (uint32_t)(chance(z, 50) ? len + below(z, 17) - 8 : interesting(z));
			break;
		case 1: /* the flags field */
			*(uint32_t *)(b + 4) ^= 1U << below(z, 32);
			break;
		default: /* random bytes anywhere */
			n = 1 + below(z, 4);
			for (i = 0; i < n; i++)
				b[below(z, len)] = (unsigned char)rnd(z);
			break;
		}
	}
	switch (below(z, 24)) {
	case 0: /* ends at the guard page: a larger size field reads into it */
		p = z->guard - len;
		break;
	case 1: /* the read-only page: copy-in works, copy-out fails */
		mprotect(z->ro, page, PROT_READ | PROT_WRITE);
		memcpy(z->ro, b, len);
		mprotect(z->ro, page, PROT_READ);
		return z->ro;
	case 2:
		return (void *)(uintptr_t)bad_ptr(z);
	default:
		p = z->arena + below(z, 4) * 8;
		break;
	}
	memcpy(p, b, len);
	/* bytes after the struct, for a size field that says more */
	if (p + len < z->guard) {
		n = (unsigned int)(z->guard - (p + len));
		if (n > 64)
			n = 64;
		if (chance(z, 50))
			memset(p + len, 0, n);
		else
			for (i = 0; i < n; i++)
				p[len + i] = (unsigned char)rnd(z);
	}
	return p;
}

/* The ioctl number, sometimes with the wrong size or direction bits. */
static unsigned long mutate_cmd(struct fz *z, unsigned long cmd)
{
	if (!chance(z, 4))
		return cmd;
	switch (below(z, 3)) {
	case 0: return (cmd & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((below(z, 1 << 14) & _IOC_SIZEMASK) << _IOC_SIZESHIFT);
	case 1: return cmd ^ ((unsigned long)(1 + below(z, 3)) << _IOC_DIRSHIFT);
	default: return _IOC(below(z, 4), WOOF_IOC_TYPE, below(z, 0x30), below(z, 1024));
	}
}

static void pick_name(struct fz *z, char *out, size_t size)
{
	static const char *const odd[] = {
		"", ".", "..", ".woof", "a/b", "/a", "woof.conf", "control", "a\nb",
		"-a", " a", "triggers", "..woof",
	};
	unsigned int i, n;

	memset(out, 0, size);
	if (chance(z, 85)) {
		snprintf(out, size, "%s", names[below(z, NNAMES)]);
		return;
	}
	switch (below(z, 4)) {
	case 0:
		snprintf(out, size, "%s", odd[below(z, sizeof(odd) / sizeof(odd[0]))]);
		break;
	case 1: /* no NUL at all */
		memset(out, 'x', size);
		break;
	case 2: /* longest valid */
		memset(out, 'y', size - 1);
		break;
	default:
		n = 1 + below(z, size - 1);
		for (i = 0; i < n; i++)
			out[i] = (char)(1 + below(z, 255));
		break;
	}
}

static struct ns_slot *pick_ns(struct fz *z)
{
	return &pool[below(z, NNS)];
}

/* ---- /dev/woof/control ---- */

static void do_version(struct fz *z)
{
	struct woof_version v;

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	if (chance(z, 10))
		v.reserved[below(z, 4)] = rnd(z);
	fz_ioctl(chance(z, 90) ? ctl : any_fd(z), mutate_cmd(z, WOOF_IOC_VERSION), place(z, &v, sizeof(v)));
}

static void do_list(struct fz *z)
{
	struct woof_ns_list l;

	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.count = (uint32_t)(chance(z, 60) ? below(z, 6) : interesting(z));
	l.entry_size = (uint32_t)(chance(z, 70) ? sizeof(struct woof_ns_info) : interesting(z));
	switch (below(z, 4)) {
	case 0: l.entries = bad_ptr(z); break;
	case 1: l.entries = (uintptr_t)z->guard - sizeof(struct woof_ns_info) * below(z, 3); break;
	default: l.entries = (uintptr_t)z->arena + 512; /* room for 4 entries */
		if (l.count > 4 && chance(z, 70))
			l.count = 4;
		break;
	}
	fz_ioctl(ctl, mutate_cmd(z, WOOF_IOC_NS_LIST), place(z, &l, sizeof(l)));
}

static void do_mount(struct fz *z)
{
	struct woof_ns_mount m;
	struct ns_slot *ns = pick_ns(z);
	int dfd = -1;

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	if (chance(z, 80)) {
		dfd = open(ns->dir, (chance(z, 50) ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC);
		m.dirfd = dfd;
	} else {
		m.dirfd = any_fd(z);
	}
	m.mode = chance(z, 90) ? 0660 : (uint32_t)interesting(z);
	m.uid = chance(z, 90) ? 0 : (uint32_t)interesting(z);
	m.gid = chance(z, 90) ? 0 : (uint32_t)interesting(z);
	if (chance(z, 90))
		snprintf(m.name, sizeof(m.name), "%s", ns->name);
	else
		pick_name(z, m.name, sizeof(m.name));
	if (chance(z, 5))
		m.reserved[below(z, 4)] = rnd(z);
	fz_ioctl(ctl, mutate_cmd(z, WOOF_IOC_NS_MOUNT), place(z, &m, sizeof(m)));
	if (dfd >= 0)
		close(dfd);
}

static void do_umount(struct fz *z)
{
	struct woof_ns_umount u;

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.flags = chance(z, 60) ? WOOF_UMOUNT_DETACH : chance(z, 80) ? 0 : (uint32_t)rnd(z);
	if (chance(z, 90))
		snprintf(u.name, sizeof(u.name), "%s", pick_ns(z)->name);
	else
		pick_name(z, u.name, sizeof(u.name));
	fz_ioctl(ctl, mutate_cmd(z, WOOF_IOC_NS_UMOUNT), place(z, &u, sizeof(u)));
}

/* ---- namespace devices ---- */

static void do_ns_open(struct fz *z)
{
	static const int modes[] = { O_RDWR, O_RDWR, O_RDWR, O_RDONLY, O_RDONLY, O_WRONLY };
	int acc = modes[below(z, 6)];
	int fd = open(pick_ns(z)->dev, acc | O_CLOEXEC | (chance(z, 70) ? O_NONBLOCK : 0));

	if (fd >= 0)
		fz_ok();
	put_fd(z, fd, acc == O_RDONLY ? K_NS : K_NSW, 0, 0);
}

/* the highest trigger number seen (read records, TRIGGER_INFO) */
static uint64_t last_trigger;

static void saw_trigger(uint64_t t)
{
	uint64_t cur = __atomic_load_n(&last_trigger, __ATOMIC_RELAXED);

	while (t > cur && !__atomic_compare_exchange_n(&last_trigger, &cur, t, false,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static uint64_t pick_trigger(struct fz *z)
{
	uint64_t t = __atomic_load_n(&last_trigger, __ATOMIC_RELAXED);

	if (chance(z, 60))
		return t > 8 ? t - below(z, 8) : below(z, 9);
	return chance(z, 70) ? below(z, t + 64) : interesting(z);
}

static void do_create(struct fz *z, unsigned long cmd)
{
	struct woof_open o;
	struct woof_open *p;
	unsigned long c;
	unsigned int h = 0, i;
	int fd = kind_fd(z, cmd == WOOF_IOC_CREATE ? K_NSW : K_NS, NULL, NULL);

	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.flags = WOOF_OPEN_CLOEXEC;
	if (chance(z, 20))
		o.flags |= WOOF_OPEN_RDONLY;
	if (cmd == WOOF_IOC_CREATE) {
		if (chance(z, 15))
			o.flags |= WOOF_CREATE_F_RESET;
		if (chance(z, 15))
			o.flags |= WOOF_CREATE_F_EXCL;
	}
	pick_name(z, o.name, sizeof(o.name));
	if (cmd == WOOF_IOC_CREATE) {
		/* small files, mostly: a fixed shape per name so creates match */
		for (i = 0; i < sizeof(o.name) && o.name[i]; i++)
			h += (unsigned char)o.name[i];
		o.element_size = chance(z, 90) ? 8 + 8 * (h % 3) : interesting(z) & 0xffff;
		o.history_size = chance(z, 90) ? 4 + 4 * ((h / 3) % 2) : interesting(z) & 0x3f;
		if (chance(z, 3)) {
			o.element_size = interesting(z);
			o.history_size = interesting(z);
		}
		o.woof_flags = chance(z, 90) ? (uint32_t)below(z, 4) : (uint32_t)rnd(z);
		o.mode = chance(z, 90) ? 0 : (uint32_t)interesting(z);
	}
	if (chance(z, 5))
		o.reserved[below(z, 4)] = rnd(z);
	p = place(z, &o, sizeof(o));
	c = mutate_cmd(z, cmd);
	arm(z, 20);
	if (fz_ioctl(fd, c, p) == 0) {
		disarm(z);
		/* the new fd the kernel wrote back, if it could write there */
		if ((c == WOOF_IOC_CREATE || c == WOOF_IOC_OPEN) &&
		    (unsigned char *)p >= z->arena && (unsigned char *)p < z->guard)
			put_fd(z, p->fd, K_WOOF, p->element_size, p->file_size);
		return;
	}
	disarm(z);
}

static void do_remove(struct fz *z)
{
	struct woof_remove r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	pick_name(z, r.name, sizeof(r.name));
	if (chance(z, 5))
		r.reserved[below(z, 3)] = rnd(z);
	arm(z, 20);
	fz_ioctl(kind_fd(z, K_NSW, NULL, NULL), mutate_cmd(z, WOOF_IOC_REMOVE), place(z, &r, sizeof(r)));
	disarm(z);
}

static void do_done(struct fz *z)
{
	struct woof_trigger_done d;

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.floor = pick_trigger(z);
	fz_ioctl(kind_fd(z, K_NSW, NULL, NULL), mutate_cmd(z, WOOF_IOC_TRIGGER_DONE), place(z, &d, sizeof(d)));
}

static void do_claim(struct fz *z)
{
	struct woof_trigger_claim c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.trigger = pick_trigger(z);
	if (chance(z, 70)) {
		c.element = (uintptr_t)z->arena + 2048;
		c.element_size = chance(z, 70) ? 8 * below(z, 5) : interesting(z) & 0x1fff;
	} else {
		c.element = bad_ptr(z);
		c.element_size = interesting(z);
	}
	arm(z, 20);
	fz_ioctl(kind_fd(z, K_NSW, NULL, NULL), mutate_cmd(z, WOOF_IOC_TRIGGER_CLAIM),
		 place(z, &c, sizeof(c)));
	disarm(z);
}

static void do_info(struct fz *z)
{
	struct woof_trigger_info i;
	struct woof_ns_stat s;

	if (chance(z, 50)) {
		struct woof_trigger_info *p;

		memset(&i, 0, sizeof(i));
		i.size = sizeof(i);
		p = place(z, &i, sizeof(i));
		if (fz_ioctl(kind_fd(z, K_NS, NULL, NULL), mutate_cmd(z, WOOF_IOC_TRIGGER_INFO), p) == 0 &&
		    (unsigned char *)p >= z->arena && (unsigned char *)p < z->guard)
			saw_trigger(p->latest);
	} else {
		memset(&s, 0, sizeof(s));
		s.size = sizeof(s);
		fz_ioctl(kind_fd(z, K_NS, NULL, NULL), mutate_cmd(z, WOOF_IOC_NS_STAT),
			 place(z, &s, sizeof(s)));
	}
}

/* read() of trigger records or elements, and poll(), on any fd */
static void do_read(struct fz *z)
{
	struct pollfd pfd;
	size_t len;
	void *buf;
	ssize_t n;
	bool ns = chance(z, 50);
	int fd = kind_fd(z, ns ? K_NSW : K_WOOF, NULL, NULL);

	if (fd >= 0 && fd <= 2)
		return;
	if (chance(z, 30)) {
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT | POLLPRI;
		poll(&pfd, 1, (int)below(z, 3));
		return;
	}
	len = chance(z, 60) ? below(z, 2 * sizeof(struct woof_trigger_record) + 64) : below(z, 8192);
	buf = chance(z, 85) ? (void *)z->arena : (void *)(uintptr_t)bad_ptr(z);
	if (buf == z->arena && len > (size_t)ARENA_PAGES * page)
		len = (size_t)ARENA_PAGES * page;
	arm(z, 20);
	if (chance(z, 50))
		n = pread(fd, buf, len, (off_t)(chance(z, 70) ? below(z, 8192) : interesting(z)));
	else
		n = read(fd, buf, len);
	disarm(z);
	if (n >= 0)
		fz_ok();
	if (ns && buf == z->arena && n >= (ssize_t)sizeof(struct woof_trigger_record))
		saw_trigger(((struct woof_trigger_record *)buf)->trigger);
}

/* ---- WOOF fds ---- */

static void do_append(struct fz *z)
{
	struct woof_append a;
	static const char *const handlers[] = { "h", "handler", "", "../h", ".x" };
	char *hname = (char *)z->arena + 3072;
	uint64_t esize;
	int fd = kind_fd(z, K_WOOF, &esize, NULL);

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = chance(z, 60) ? WOOF_APPEND_NONBLOCK : chance(z, 90) ? 0 : (uint32_t)rnd(z);
	a.element_size = chance(z, 85) && esize ? esize : chance(z, 50) ? 8 + 8 * below(z, 3) : interesting(z);
	if (chance(z, 85)) {
		a.element = (uintptr_t)z->arena + 1024;
		if (chance(z, 10))	/* the element runs into the guard page */
			a.element = (uintptr_t)z->guard - below(z, 24);
	} else {
		a.element = bad_ptr(z);
	}
	if (chance(z, 30)) {
		snprintf(hname, 256, "%s", handlers[below(z, 5)]);
		a.handler = (uintptr_t)hname;
	} else if (chance(z, 10)) {
		if (chance(z, 50)) {	/* no NUL before the guard page */
			memset(z->guard - 300, 'h', 300);
			a.handler = (uintptr_t)z->guard - 300;
		} else {
			a.handler = bad_ptr(z);
		}
	}
	if (chance(z, 5))
		a.reserved[below(z, 3)] = rnd(z);
	arm(z, 20);
	fz_ioctl(fd, mutate_cmd(z, WOOF_IOC_APPEND), place(z, &a, sizeof(a)));
	disarm(z);
}

static void do_batch(struct fz *z)
{
	struct woof_append_batch b;
	uint64_t esize;
	int fd = kind_fd(z, K_WOOF, &esize, NULL);

	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.flags = chance(z, 60) ? WOOF_APPEND_NONBLOCK : 0;
	b.element_size = chance(z, 85) && esize ? esize : chance(z, 50) ? 8 + 8 * below(z, 3) : interesting(z);
	b.count = (uint32_t)(chance(z, 70) ? 1 + below(z, 40) : interesting(z));
	switch (below(z, 4)) {
	case 0: /* the last elements lie in the guard page: a fault mid-batch */
		b.elements = (uintptr_t)z->guard - 8 * below(z, 40);
		break;
	case 1:
		b.elements = bad_ptr(z);
		break;
	default:
		b.elements = (uintptr_t)z->arena;
		break;
	}
	if (chance(z, 15))
		b.handler = (uintptr_t)"h";
	arm(z, 20);
	fz_ioctl(fd, mutate_cmd(z, WOOF_IOC_APPEND_BATCH), place(z, &b, sizeof(b)));
	disarm(z);
}

static void do_wait(struct fz *z)
{
	struct woof_wait w;

	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.seq = chance(z, 70) ? below(z, 40) : interesting(z);
	w.timeout_ns = chance(z, 70) ? (int64_t)below(z, 5000000) : (int64_t)interesting(z);
	arm(z, 10 + (long)below(z, 20));
	fz_ioctl(kind_fd(z, K_WOOF, NULL, NULL), mutate_cmd(z, WOOF_IOC_WAIT), place(z, &w, sizeof(w)));
	disarm(z);
}

static void do_set_flags(struct fz *z)
{
	struct woof_set_flags s;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.set = chance(z, 80) ? (uint32_t)below(z, 4) : (uint32_t)rnd(z);
	s.clear = chance(z, 80) ? (uint32_t)below(z, 4) & ~s.set : (uint32_t)rnd(z);
	arm(z, 50);
	fz_ioctl(kind_fd(z, K_WOOF, NULL, NULL), mutate_cmd(z, WOOF_IOC_SET_FLAGS), place(z, &s, sizeof(s)));
	disarm(z);
}

/* ioctls of other numbers on the module's fds */
static void do_random_ioctl(struct fz *z)
{
	static const unsigned long generic[] = { FIONREAD, FIONBIO, FIOCLEX, FIONCLEX };
	unsigned long cmd;
	int fd = any_fd(z);
	int one = 1;

	if (fd >= 0 && fd <= 2)
		return;
	if (chance(z, 20)) {
		cmd = generic[below(z, 4)];
		ioctl(fd, cmd, chance(z, 80) ? (void *)&one : (void *)(uintptr_t)bad_ptr(z));
		return;
	}
	cmd = _IOC(below(z, 4), WOOF_IOC_TYPE, below(z, 0x40), below(z, 1 << 14));
	memset(z->arena, (int)below(z, 256), 256);
	arm(z, 20);
	ioctl(fd, cmd, chance(z, 80) ? (void *)z->arena : (void *)(uintptr_t)bad_ptr(z));
	disarm(z);
}

/* mmap a random fd (usually a WOOF fd), or unmap, reprotect or read a mapping */
static void do_map(struct fz *z)
{
	static const int prots[] = { PROT_READ, PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_READ | PROT_EXEC, PROT_WRITE, PROT_NONE };
	struct map_slot *m, old;
	uint64_t fsize;
	size_t len;
	void *p;
	int fd;

	switch (below(z, 4)) {
	case 0:
	case 1:
		fd = kind_fd(z, K_WOOF, NULL, &fsize);
		if (fd >= 0 && fd <= 2)
			return;
		if (fsize && fsize <= (16U << 20) && chance(z, 60))
			len = (size_t)fsize;
		else
			len = chance(z, 80) ? (size_t)(1 + below(z, 4)) * page : (size_t)(interesting(z) & 0xffffff);
		p = mmap(NULL, len, prots[below(z, 6)], chance(z, 85) ? MAP_SHARED : MAP_PRIVATE, fd,
			 (off_t)(chance(z, 85) ? 0 : below(z, 4) * page));
		if (p == MAP_FAILED)
			return;
		fz_ok();
		pthread_mutex_lock(&map_lock);
		m = &maps[below(z, NMAP)];
		old = *m;
		m->addr = p;
		m->len = len;
		pthread_mutex_unlock(&map_lock);
		if (old.addr)
			munmap(old.addr, old.len);
		return;
	case 2:
		pthread_mutex_lock(&map_lock);
		m = &maps[below(z, NMAP)];
		old = *m;
		m->addr = NULL;
		pthread_mutex_unlock(&map_lock);
		if (!old.addr)
			return;
		if (chance(z, 30))
			mprotect(old.addr, old.len, prots[below(z, 6)]);
		munmap(old.addr, old.len);
		return;
	default: {
		volatile const unsigned char *q;
		unsigned long long sum = 0;
		size_t i, n;

		/* read a mapping, surviving SIGBUS (a file truncated under it) */
		pthread_mutex_lock(&map_lock);
		m = &maps[below(z, NMAP)];
		if (!m->addr) {
			pthread_mutex_unlock(&map_lock);
			return;
		}
		q = m->addr;
		n = m->len < 65536 ? m->len : 65536;
		touching = 1;
		if (sigsetjmp(touch_jmp, 1) == 0) {
			for (i = 0; i < n; i += 512)
				sum += q[i];
		}
		touching = 0;
		pthread_mutex_unlock(&map_lock);
		(void)sum;
		return;
	}
	}
}

static void do_fd_misc(struct fz *z)
{
	int fd = any_fd(z);

	if (fd >= 0 && fd <= 2)
		return;
	switch (below(z, 4)) {
	case 0:
		close_one(z);
		break;
	case 1:
		put_fd(z, fcntl(fd, F_DUPFD_CLOEXEC, 3), K_NONE, 0, 0);
		break;
	case 2:
		fcntl(fd, F_SETFL, chance(z, 50) ? O_NONBLOCK : 0);
		break;
	default: { /* a child shares every fd and mapping, uses one and dies */
		pid_t pid = fork();

		if (pid == 0) {
			struct woof_wait w = { .size = sizeof(w), .timeout_ns = 0 };

			ioctl(fd, WOOF_IOC_WAIT, &w);
			if (chance(z, 50))
				close(fd);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		break;
	}
	}
}

/* the files under the module: what a user with write access can do */
static void do_files(struct fz *z)
{
	struct ns_slot *ns = pick_ns(z);
	char path[400], path2[400];
	unsigned char junk[64];
	unsigned int i;
	int fd;

	if (chance(z, 20))
		snprintf(path, sizeof(path), "%s/.woof/triggers", ns->dir);
	else
		snprintf(path, sizeof(path), "%s/%s", ns->dir, names[below(z, NNAMES)]);
	switch (below(z, 4)) {
	case 0:
		truncate(path, (off_t)(chance(z, 50) ? below(z, 3) * page : below(z, 65536)));
		break;
	case 1:
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		for (i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)rnd(z);
		pwrite(fd, junk, 1 + below(z, sizeof(junk)), (off_t)below(z, 8192));
		close(fd);
		break;
	case 2:
		snprintf(path2, sizeof(path2), "%s/%s", pick_ns(z)->dir, names[below(z, NNAMES)]);
		rename(path, path2);
		break;
	default:
		snprintf(path2, sizeof(path2), "%s/%s", pick_ns(z)->dir, names[below(z, NNAMES)]);
		link(path, path2);
		break;
	}
}

/* ---- the loop ---- */

typedef void (*op_fn)(struct fz *z);

static void op_create(struct fz *z) { do_create(z, WOOF_IOC_CREATE); }
static void op_open(struct fz *z) { do_create(z, WOOF_IOC_OPEN); }

static const struct {
	const char *name;
	op_fn fn;
	unsigned int weight;
} ops[] = {
	{ "version", do_version, 2 },
	{ "ns_list", do_list, 3 },
	{ "ns_mount", do_mount, 3 },
	{ "ns_umount", do_umount, 1 },
	{ "ns_open", do_ns_open, 6 },
	{ "create", op_create, 10 },
	{ "open", op_open, 8 },
	{ "remove", do_remove, 3 },
	{ "trigger_done", do_done, 4 },
	{ "trigger_claim", do_claim, 5 },
	{ "info/stat", do_info, 3 },
	{ "read/poll", do_read, 6 },
	{ "append", do_append, 16 },
	{ "append_batch", do_batch, 6 },
	{ "wait", do_wait, 5 },
	{ "set_flags", do_set_flags, 2 },
	{ "random_ioctl", do_random_ioctl, 3 },
	{ "mmap", do_map, 6 },
	{ "fd", do_fd_misc, 4 },
	{ "files", do_files, 2 },	/* only with -F */
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))
_Static_assert(NOPS <= MAXOPS, "MAXOPS");

static bool op_enabled(unsigned int i)
{
	size_t n = strlen(ops[i].name);
	const char *p;

	if (ops[i].fn == do_files && !files_churn)
		return false;
	if (!only_ops)
		return true;
	for (p = only_ops; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, ops[i].name, n) == 0 && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

static void *fuzz_thread(void *arg)
{
	struct fz *z = arg;
	unsigned int total = 0, i;
	uint64_t r;

	for (i = 0; i < NOPS; i++)
		if (op_enabled(i))
			total += ops[i].weight;
	if (!total)
		return NULL;
	while ((!max_calls || z->calls < max_calls) && (max_calls || kt_now_ns() < deadline_ns)) {
		r = below(z, total);
		for (i = 0; i < NOPS; i++) {
			if (!op_enabled(i))
				continue;
			if (r < ops[i].weight)
				break;
			r -= ops[i].weight;
		}
		if (verbose)
			printf("# [%d] %llu %s\n", z->id, z->calls, ops[i].name);
		cur_op = ops[i].name;
		cur_idx = i;
		__atomic_add_fetch(&op_calls[i], 1, __ATOMIC_RELAXED);
		ops[i].fn(z);
		z->calls++;
		last_progress[z->id] = kt_now_ns();
	}
	disarm(z);
	return NULL;
}

static int setup_thread(struct fz *z, int id, uint64_t seed)
{
	unsigned char *a;

	memset(z, 0, sizeof(*z));
	z->id = id;
	z->rng = seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1));
	if (!z->rng)
		z->rng = 1;
	a = mmap(NULL, (ARENA_PAGES + 2) * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -1;
	z->arena = a;
	z->guard = a + ARENA_PAGES * page;
	z->ro = z->guard + page;
	mprotect(z->guard, page, PROT_NONE);
	mprotect(z->ro, page, PROT_READ);
	return 0;
}

static void *thread_main(void *arg)
{
	struct fz *z = arg;
	struct sigevent sev;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
#ifdef sigev_notify_thread_id
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
#else
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
#endif
	if (timer_create(CLOCK_MONOTONIC, &sev, &z->timer) < 0)
		kt_die("timer_create");
	fuzz_thread(z);
	timer_delete(z->timer);
	return NULL;
}

static void make_misc(const char *base)
{
	char path[400];
	int p[2];

	snprintf(path, sizeof(path), "%s/fz-file", base);
	misc[0] = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ftruncate(misc[0], 8192);
	if (pipe2(p, O_CLOEXEC) == 0) {
		misc[1] = p[0];
		misc[2] = p[1];
	}
	misc[3] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	misc[4] = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	misc[5] = open("/dev/null", O_RDWR | O_CLOEXEC);
	misc[6] = open(pool[0].dir, O_PATH | O_CLOEXEC);
	misc[7] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* The kernel stacks of every thread (after a hang). */
static void dump_stacks(void)
{
	char path[300], line[256];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	FILE *f;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stack", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		kt_diag("task %s:", d->d_name);
		while (fgets(line, sizeof(line), f))
			printf("#   %s", line);
		fclose(f);
	}
	closedir(dir);
}

/*
 * Let every namespace of the run go, however the run left it: the pool's,
 * and those that mutated mounts made of the pool's directories under other
 * names. Unmounted with DETACH; returns how many would not go.
 */
static int umount_pool(void)
{
	static struct woof_ns_info info[128];
	struct woof_ns_list l;
	char name[WOOF_NS_NAME_MAX + 1];
	unsigned int i, j;
	int bad = 0;

	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.count = 128;
	l.entry_size = sizeof(info[0]);
	l.entries = (uintptr_t)info;
	if (ioctl(ctl, WOOF_IOC_NS_LIST, &l) < 0) {
		kt_diag("NS_LIST: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < l.count && i < 128; i++) {
		/* anything at or below the run's directory (a mount of a
		 * random directory fd can serve the directory itself) */
		for (j = 0; j < NNS; j++)
			if (strcmp(info[i].name, pool[j].name) == 0)
				break;
		if (j == NNS && strncmp(info[i].path, base_dir, strlen(base_dir)) != 0)
			continue;
		memcpy(name, info[i].name, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		if (kt_umount(ctl, name, WOOF_UMOUNT_DETACH) < 0 && errno != ENOENT) {
			kt_diag("umount %s: %s", name, strerror(errno));
			bad++;
		}
	}
	return bad;
}

static int usage(void)
{
	fprintf(stderr, "usage: fuzz-ioctl [-s SEED] [-t SECONDS] [-n CALLS] [-j THREADS] [-o OPS] [-F] [-v] [DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *base = getenv("WOOF_KT_DIR");
	struct fz z[64];
	pthread_t th[64];
	struct sigaction sa;
	struct woof_version v;
	struct woof_ns_list l;
	uint64_t seed = 0, t0, now;
	double seconds = 20;
	int nthreads = 4, i, c, stuck = 0;
	bool have_seed = false;
	char *end;

	kt_prog = "fuzz-ioctl";
	while ((c = getopt(argc, argv, "s:t:n:j:o:Fv")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, &end, 0);
			if (*end)
				return usage();
			have_seed = true;
			break;
		case 't':
			seconds = strtod(optarg, &end);
			if (*end || seconds <= 0)
				return usage();
			break;
		case 'n':
			max_calls = strtoull(optarg, &end, 0);
			if (*end || !max_calls)
				return usage();
			break;
		case 'j':
			nthreads = atoi(optarg);
			if (nthreads < 1 || nthreads > 64)
				return usage();
			break;
		case 'o':
			only_ops = optarg;
			break;
		case 'F':
			files_churn = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind < argc)
		base = argv[optind++];
	if (optind != argc)
		return usage();
	if (!base || !*base)
		base = "/tmp";
	if (!have_seed) {
		seed = kt_now_ns() ^ ((uint64_t)getpid() << 32);
		if (getenv("WOOF_FUZZ_SEED"))
			seed = strtoull(getenv("WOOF_FUZZ_SEED"), NULL, 0);
	}
	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# fuzz-ioctl: seed %" PRIu64 " (repeat with -s %" PRIu64 " -j %d%s%s), %d thread(s), %s %g\n",
	       seed, seed, nthreads, files_churn ? " -F" : "", max_calls ? " -n ..." : "",
	       nthreads, max_calls ? "calls per thread" : "seconds",
	       max_calls ? (double)max_calls : seconds);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;	/* no SA_RESTART: sleeping calls return EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_bus;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);	/* a PROT_NONE mapping read */
	signal(SIGPIPE, SIG_IGN);

	ctl = kt_control();
	for (i = 0; i < NFD; i++)
		fdt[i].fd = -1;
	for (i = 0; i < NNS; i++) {
		snprintf(pool[i].dir, sizeof(pool[i].dir), "%s/fz-%d-XXXXXX", base, i);
		if (!mkdtemp(pool[i].dir))
			kt_die("mkdtemp");
		snprintf(pool[i].name, sizeof(pool[i].name), "fz%d-%d", i, (int)getpid());
		snprintf(pool[i].dev, sizeof(pool[i].dev), WOOF_DEV_DIR "/%s", pool[i].name);
		if (kt_mount(ctl, pool[i].name, pool[i].dir, 0660, 0, 0) < 0)
			kt_die("NS_MOUNT");
	}
	make_misc(base);
	if (!realpath(base, base_dir))
		kt_die("realpath");

	t0 = kt_now_ns();
	deadline_ns = t0 + (uint64_t)(seconds * 1e9);
	for (i = 0; i < nthreads; i++) {
		if (setup_thread(&z[i], i, seed) < 0)
			kt_die("mmap arena");
		last_progress[i] = t0;
		if (pthread_create(&th[i], NULL, thread_main, &z[i]))
			kt_die("pthread_create");
	}
	/* the watchdog: a thread that makes no progress for HANG_SECONDS hangs */
	for (;;) {
		bool all_done = true;

		usleep(200000);
		now = kt_now_ns();
		for (i = 0; i < nthreads; i++) {
			if (!th[i])
				continue;
			if (pthread_tryjoin_np(th[i], NULL) == 0) {
				th[i] = 0;
				continue;
			}
			all_done = false;
			/* a thread may have moved on since now was read */
			if ((int64_t)(now - last_progress[i]) > HANG_SECONDS * 1000000000LL) {
				kt_diag("thread %d made no progress for %d s (call %llu): a hang",
					i, HANG_SECONDS, z[i].calls);
				stuck = 1;
			}
		}
		if (all_done || stuck)
			break;
	}
	for (i = 0; i < nthreads; i++)
		total_calls += z[i].calls;
	KT_OK(!stuck, "%llu calls in %.1f s, %d thread(s), seed %" PRIu64 ", no call hung",
	      total_calls, (double)(kt_now_ns() - t0) / 1e9, nthreads, seed);
	if (stuck) {
		dump_stacks();
		fflush(stdout);
		_exit(kt_done());
	}
	kt_diag("%llu calls in %.1f s", total_calls, (double)(kt_now_ns() - t0) / 1e9);
	for (i = 0; i < (int)NOPS; i++)
		if (op_calls[i])
			kt_diag("%-14s %8llu calls, %8llu succeeded", ops[i].name,
				op_calls[i], op_ok[i]);
	kt_diag("SIGBUS/SIGSEGV on reads of mappings (past the end of a file, PROT_NONE): %llu", sigbus_count);

	/* the module still answers and lets every namespace go */
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	KT_ZERO(ioctl(ctl, WOOF_IOC_VERSION, &v), "VERSION still answers");
	for (i = 0; i < NFD; i++)
		if (fdt[i].fd >= 0)
			close(fdt[i].fd);
	for (i = 0; i < NMAP; i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
	KT_OK(umount_pool() == 0, "every namespace of the run unmounts (DETACH)");
	for (i = 0; i < NNS; i++)
		KT_OK(access(pool[i].dev, F_OK) < 0 && errno == ENOENT, "%s is gone", pool[i].dev);
	memset(&l, 0, sizeof(l));
	l.size = sizeof(l);
	l.entry_size = sizeof(struct woof_ns_info);
	KT_ZERO(ioctl(ctl, WOOF_IOC_NS_LIST, &l), "NS_LIST answers");
	close(ctl);
	return kt_done();
}
