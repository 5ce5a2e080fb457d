// SPDX-License-Identifier: MIT
/*
 * test-engine.c - libwoof's choice of engine and the kernel engine's edges,
 * as root in the test VM with woof.ko loaded (the behavioural suites run on
 * the kernel engine through test-unit-kernel.sh; this is what they cannot
 * show from inside one namespace):
 *   - a mounted directory gets the kernel engine (also through a symbolic
 *     link: compared by inode), another the user-space engine,
 *     WOOF_ENGINE=kernel on an unmounted one is -ENODEV;
 *   - a stale WOOF_STATE_KERNEL in a directory the loaded module does not
 *     serve is cleared by the user-space engine's next append;
 *   - the user-space engine (WOOF_ENGINE=user) refuses to append to a file
 *     woof.ko serves (-EBUSY) and to the trigger log it keeps, but reads;
 *   - a user-space appender running while the directory gets mounted and a
 *     kernel-engine process appends: every number is assigned once, no
 *     element is lost, and the user-space appender stops with -EBUSY;
 *   - after the unmount the user-space engine appends again, and after a
 *     remount the kernel continues from there;
 *   - a device the process cannot write: read-only kernel engine (wait
 *     works, append/create/claim are -EACCES); a device it cannot open at
 *     all: user-space engine (reads), WOOF_ENGINE=kernel is -EACCES;
 *   - WOOF_IOC_SET_FLAGS: woof_set_durable() on the kernel engine, and the
 *     ioctl's own error paths.
 * Every scenario runs in a child process, so each starts with no namespace
 * opened (libwoof chooses the engine at the first open of a directory).
 */
#include <woof.h>
#include <woof-dispatch.h>

#include "kmod-test.h"

struct el {
	uint64_t n;
	uint64_t check;
};

static struct el mk(uint64_t n)
{
	struct el e = { n, n * 0x9e3779b97f4a7c15ULL };

	return e;
}

static char dir_a[256], dir_b[256], dir_c[256];
static int ctl;

typedef int (*child_fn)(void *arg);

/* Run @fn in a child; its exit status (0 = good), 200+ for a signal. */
static int in_child(child_fn fn, void *arg)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		kt_die("fork");
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &st, 0) < 0)
		kt_die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

#define FAILS(cond, code, ...) do { if (cond) { kt_diag(__VA_ARGS__); return (code); } } while (0)

/*
 * Open dir_a, which must be on engine @want, and the WOOF "w" in it (@what
 * names the case in the diagnostics). 0, else a child's exit status: 1 the
 * namespace or its engine, 2 the WOOF.
 */
static int open_w(enum woof_engine want, const char *what, struct woof_ns **ns, struct woof **w)
{
	int ret = woof_ns_open(dir_a, ns);

	FAILS(ret || woof_ns_engine(*ns) != want, 1, "%s: %s, engine %d", what,
	      woof_strerror(ret), ret ? -1 : (int)woof_ns_engine(*ns));
	ret = woof_open(*ns, "w", w);
	FAILS(ret, 2, "open: %s", woof_strerror(ret));
	return 0;
}

static int engine_choice(void *arg)
{
	struct woof_ns *ns;
	int ret;

	(void)arg;
	ret = woof_ns_open(dir_a, &ns);
	FAILS(ret, 1, "open %s: %s", dir_a, woof_strerror(ret));
	FAILS(woof_ns_engine(ns) != WOOF_ENGINE_KERNEL, 2, "mounted %s is not on the kernel engine", dir_a);
	ret = woof_ns_open(dir_b, &ns);
	FAILS(ret, 3, "open %s: %s", dir_b, woof_strerror(ret));
	FAILS(woof_ns_engine(ns) != WOOF_ENGINE_USER, 4, "%s is not on the user engine", dir_b);
	setenv("WOOF_ENGINE", "kernel", 1);
	ret = woof_ns_open(dir_c, &ns);
	FAILS(ret != -ENODEV, 5, "WOOF_ENGINE=kernel on an unmounted dir: %d", ret);
	return 0;
}

/* the mounted directory through a symbolic link: the same directory, the kernel engine */
static int engine_by_inode(void *arg)
{
	char link[300];
	struct woof_ns *ns;
	int ret;

	(void)arg;
	snprintf(link, sizeof(link), "%s.link", dir_a);
	unlink(link);
	if (symlink(dir_a, link))
		return 1;
	ret = woof_ns_open(link, &ns);
	unlink(link);
	FAILS(ret, 2, "open %s: %s", link, woof_strerror(ret));
	FAILS(woof_ns_engine(ns) != WOOF_ENGINE_KERNEL, 3, "%s is not on the kernel engine", link);
	return 0;
}

/*
 * A WOOF_STATE_KERNEL bit in a directory the loaded module does not serve
 * (while it serves others): stale, the user-space engine appends and clears it.
 */
static int stale_bit_module_loaded(void *arg)
{
	struct woof_create_opts o = { .sz = sizeof(o), .element_size = sizeof(struct el),
				      .history_size = 8 };
	char path[300];
	struct woof_header h;
	struct woof_ns *ns;
	struct woof *w;
	struct el e = mk(1);
	uint32_t state = WOOF_STATE_KERNEL;
	uint64_t seq = 0;
	int fd, ret;

	(void)arg;
	if (woof_ns_open(dir_b, &ns) || woof_ns_engine(ns) != WOOF_ENGINE_USER)
		return 1;
	ret = woof_create(ns, "stale", &o, NULL);
	FAILS(ret, 2, "create: %s", woof_strerror(ret));
	snprintf(path, sizeof(path), "%s/stale", dir_b);
	fd = open(path, O_RDWR);
	if (fd < 0 || pwrite(fd, &state, sizeof(state), offsetof(struct woof_header, state)) != 4)
		return 3;
	ret = woof_open(ns, "stale", &w);
	FAILS(ret, 4, "open: %s", woof_strerror(ret));
	ret = woof_append(w, &e, NULL, &seq);
	FAILS(ret || seq != 1, 5, "append with a stale bit: %s", woof_strerror(ret));
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return 6;
	FAILS(h.state & WOOF_STATE_KERNEL, 7, "the stale bit was not cleared");
	close(fd);
	woof_close(w);
	return 0;
}

/* kernel engine: create "w", 3 elements, one put with a handler */
static int kernel_fill(void *arg)
{
	struct woof_create_opts o = { .sz = sizeof(o), .element_size = sizeof(struct el),
				      .history_size = 64 };
	struct woof_ns *ns;
	struct woof *w;
	uint64_t i, seq;
	int ret;

	(void)arg;
	if (woof_ns_open(dir_a, &ns) || woof_ns_engine(ns) != WOOF_ENGINE_KERNEL)
		return 1;
	ret = woof_create(ns, "w", &o, &w);
	FAILS(ret, 2, "create: %s", woof_strerror(ret));
	for (i = 1; i <= 3; i++) {
		struct el e = mk(i);

		ret = woof_append(w, &e, i == 3 ? "h" : NULL, &seq);
		FAILS(ret || seq != i, 3, "append %" PRIu64 ": %s", i, woof_strerror(ret));
	}
	woof_close(w);
	return 0;
}

/* WOOF_ENGINE=user on the served directory: reads yes, appends -EBUSY */
static int user_on_served(void *arg)
{
	struct woof_ns *ns;
	struct woof *w, *v;
	struct el e = mk(9), got;
	uint64_t seq;
	int ret;

	(void)arg;
	setenv("WOOF_ENGINE", "user", 1);
	ret = open_w(WOOF_ENGINE_USER, "WOOF_ENGINE=user", &ns, &w);
	if (ret)
		return ret;
	ret = woof_read(w, 2, &got, NULL);
	FAILS(ret || got.n != 2, 3, "read: %s", woof_strerror(ret));
	ret = woof_append(w, &e, NULL, &seq);
	FAILS(ret != -EBUSY, 4, "append to a served WOOF: %s", woof_strerror(ret));
	FAILS(woof_latest(w) != 3, 5, "latest %" PRIu64, woof_latest(w));
	/* a WOOF the kernel does not serve yet, but its trigger log it does */
	struct woof_create_opts o = { .sz = sizeof(o), .element_size = sizeof(struct el),
				      .history_size = 8 };
	ret = woof_create(ns, "u", &o, &v);
	FAILS(ret, 6, "user create: %s", woof_strerror(ret));
	ret = woof_append(v, &e, "h", &seq);
	FAILS(ret != -EBUSY, 7, "user put with a handler in a mounted namespace: %s",
	      woof_strerror(ret));
	FAILS(woof_latest(v) != 0, 8, "the refused put appended");
	woof_close(v);
	woof_close(w);
	return 0;
}

/* kernel engine: the trigger of put 3 is there, claimable through the module */
static int kernel_claim(void *arg)
{
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct woof_claim c;
	struct woof_ns *ns;
	struct el got;
	int ret;

	(void)arg;
	if (woof_ns_open(dir_a, &ns))
		return 1;
	ret = woof_triggers_open(ns, &t);
	FAILS(ret, 2, "triggers_open: %s", woof_strerror(ret));
	FAILS(woof_triggers_latest(t) != 1, 3, "latest trigger %" PRIu64, woof_triggers_latest(t));
	ret = woof_triggers_read(t, 1, &tr);
	FAILS(ret || strcmp(tr.woof, "w") || tr.woof_seq != 3, 4, "read trigger: %s",
	      woof_strerror(ret));
	ret = woof_trigger_claim(ns, 1, &tr, &got, sizeof(got), &c);
	FAILS(ret || got.n != 3 || c.already_claimed, 5, "claim: %s", woof_strerror(ret));
	ret = woof_triggers_set_done_floor(t, 1);
	FAILS(ret || woof_triggers_done_floor(t) != 1, 6, "done floor: %s", woof_strerror(ret));
	woof_triggers_close(t);
	return 0;
}

/* ---- a user-space appender while the directory gets mounted ---- */

static volatile uint64_t *shared;	/* [0] user appends done, [1] go, [2] stop */

static int user_appender(void *arg)
{
	struct woof_ns *ns;
	struct woof *w;
	uint64_t seq;
	int ret;

	(void)arg;
	setenv("WOOF_ENGINE", "user", 1);
	if (woof_ns_open(dir_c, &ns) || woof_open(ns, "race", &w))
		return 1;
	for (;;) {
		struct el e = mk(1000000 + shared[0]);
		uint64_t stop = __atomic_load_n(&shared[2], __ATOMIC_SEQ_CST);

		ret = woof_append(w, &e, NULL, &seq);
		if (ret == -EBUSY)
			return 0;	/* the module serves it now */
		FAILS(ret, 2, "user append: %s", woof_strerror(ret));
		if (__atomic_add_fetch(&shared[0], 1, __ATOMIC_SEQ_CST) > 50)
			usleep(200);	/* keep within the history while the mount comes */
		if (stop)
			return 3;	/* appended after the kernel had served the file */
	}
}

static int kernel_appender(void *arg)
{
	struct woof_ns *ns;
	struct woof *w;
	uint64_t i, seq;
	int ret;

	(void)arg;
	if (woof_ns_open(dir_c, &ns) || woof_ns_engine(ns) != WOOF_ENGINE_KERNEL)
		return 1;
	ret = woof_open(ns, "race", &w);
	FAILS(ret, 2, "kernel open: %s", woof_strerror(ret));
	for (i = 0; i < 200; i++) {
		struct el e = mk(i);

		ret = woof_append(w, &e, NULL, &seq);
		FAILS(ret, 3, "kernel append: %s", woof_strerror(ret));
	}
	return 0;
}

/* every element 1..latest readable and intact, exactly @want of them */
static int check_race(void *arg)
{
	uint64_t want = *(uint64_t *)arg, s;
	struct woof_ns *ns;
	struct woof *w;
	struct el e;
	int ret;

	if (woof_ns_open(dir_c, &ns) || woof_open(ns, "race", &w))
		return 1;
	FAILS(woof_latest(w) != want, 2, "latest %" PRIu64 ", want %" PRIu64, woof_latest(w), want);
	FAILS(want > 100000, 4, "%" PRIu64 " appends: more than the history", want);
	for (s = 1; s <= want; s++) {
		ret = woof_read(w, s, &e, NULL);
		FAILS(ret || e.check != e.n * 0x9e3779b97f4a7c15ULL, 3, "element %" PRIu64 ": %s",
		      s, woof_strerror(ret));
	}
	return 0;
}

static int race_setup(void *arg)
{
	struct woof_create_opts o = { .sz = sizeof(o), .element_size = sizeof(struct el),
				      .history_size = 100000 };

	(void)arg;
	setenv("WOOF_ENGINE", "user", 1);
	struct woof_ns *ns;

	return woof_ns_open(dir_c, &ns) || woof_create(ns, "race", &o, NULL) ? 1 : 0;
}

static void mount_race(void)
{
	uint64_t want;
	pid_t up;
	int st, rc;

	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		kt_die("mmap");
	KT_OK(in_child(race_setup, NULL) == 0, "user engine creates a WOOF in an unmounted directory");
	fflush(stdout);
	up = fork();
	if (up == 0)
		_exit(user_appender(NULL));
	while (__atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) < 50) {
		if (waitpid(up, &st, WNOHANG) == up) {
			KT_OK(0, "the user-space appender ended early (status 0x%x)", st);
			return;
		}
		usleep(1000);
	}
	KT_ZERO(kt_mount(ctl, "kt-engine-c", dir_c, 0600, 0, 0),
		"mount the directory while a user-space appender runs");
	rc = in_child(kernel_appender, NULL);
	KT_OK(rc == 0, "a kernel-engine process appends 200 meanwhile (status %d)", rc);
	shared[2] = 1;
	waitpid(up, &st, 0);
	KT_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "the user-space appender stopped with -EBUSY once the module served the file "
	      "(status 0x%x, %" PRIu64 " appends)", st, shared[0]);
	want = shared[0] + 200;
	rc = in_child(check_race, &want);
	KT_OK(rc == 0, "all %" PRIu64 " numbers assigned once, every element intact", want);
	KT_ZERO(kt_umount(ctl, "kt-engine-c", 0), "unmount");
}

/* ---- after the unmount and after a remount ---- */

static int user_after_umount(void *arg)
{
	struct woof_header h;
	struct woof_ns *ns;
	struct woof *w;
	struct el e = mk(4);
	uint64_t seq;
	int ret;

	(void)arg;
	ret = open_w(WOOF_ENGINE_USER, "after the unmount", &ns, &w);
	if (ret)
		return ret;
	memcpy(&h, woof_header(w), sizeof(h));
	FAILS(h.state & WOOF_STATE_KERNEL, 3, "WOOF_STATE_KERNEL still set after the unmount");
	ret = woof_append(w, &e, NULL, &seq);
	FAILS(ret || seq != 4, 4, "user append after the unmount: %s seq %" PRIu64,
	      woof_strerror(ret), seq);
	woof_close(w);
	return 0;
}

static int kernel_after_remount(void *arg)
{
	struct woof_ns *ns;
	struct woof *w;
	struct el e = mk(5), got;
	uint64_t seq;
	int ret;

	(void)arg;
	ret = open_w(WOOF_ENGINE_KERNEL, "after the remount", &ns, &w);
	if (ret)
		return ret;
	ret = woof_append(w, &e, NULL, &seq);
	FAILS(ret || seq != 5, 3, "kernel append after the remount: %s seq %" PRIu64,
	      woof_strerror(ret), seq);
	ret = woof_read(w, 4, &got, NULL);
	FAILS(ret || got.n != 4, 4, "the user-space element: %s", woof_strerror(ret));
	/* woof_set_durable through WOOF_IOC_SET_FLAGS */
	ret = woof_set_durable(w, true);
	FAILS(ret, 5, "set_durable: %s", woof_strerror(ret));
	FAILS(!(woof_header(w)->flags & WOOF_F_DURABLE), 6, "DURABLE not in the header");
	ret = woof_append(w, &e, NULL, &seq);
	FAILS(ret || seq != 6, 7, "durable append: %s", woof_strerror(ret));
	ret = woof_set_durable(w, false);
	FAILS(ret || (woof_header(w)->flags & WOOF_F_DURABLE), 8, "clear durable: %s",
	      woof_strerror(ret));
	woof_close(w);
	return 0;
}

/* ---- devices this process may not write or open ---- */

static int drop_privileges(void)
{
	return setgid(65534) || setuid(65534) ? -1 : 0;
}

static int readonly_device(void *arg)
{
	struct woof_create_opts o = { .sz = sizeof(o), .element_size = sizeof(struct el),
				      .history_size = 8 };
	struct woof_triggers *t;
	struct woof_ns *ns = NULL;
	struct woof *w;
	struct el e = mk(1);
	uint64_t seq;
	int ret;

	(void)arg;
	if (drop_privileges())
		return 1;
	ret = open_w(WOOF_ENGINE_KERNEL, "read-only device", &ns, &w);
	if (ret)
		return ret + 1;
	ret = woof_append(w, &e, NULL, &seq);
	FAILS(ret != -EACCES, 4, "append on a read-only device: %s", woof_strerror(ret));
	ret = woof_create(ns, "x", &o, NULL);
	FAILS(ret != -EACCES, 5, "create on a read-only device: %s", woof_strerror(ret));
	ret = woof_remove(ns, "w");
	FAILS(ret != -EACCES, 6, "remove on a read-only device: %s", woof_strerror(ret));
	ret = woof_triggers_open(ns, &t);
	FAILS(ret != -EACCES, 7, "triggers_open on a read-only device: %s", woof_strerror(ret));
	ret = woof_wait(w, woof_latest(w), 50);
	FAILS(ret != -ETIMEDOUT, 8, "wait: %s", woof_strerror(ret));
	ret = woof_wait(w, 1, 50);
	FAILS(ret != 0, 9, "wait for an element that is there: %s", woof_strerror(ret));
	woof_close(w);
	return 0;
}

static int closed_device(void *arg)
{
	struct woof_ns *ns = NULL;
	struct woof *w;
	struct el e = mk(1), got;
	uint64_t seq;
	int ret;

	(void)arg;
	if (drop_privileges())
		return 1;
	ret = open_w(WOOF_ENGINE_USER, "device closed to us", &ns, &w);
	if (ret)
		return ret + 1;
	ret = woof_read(w, 0, &got, NULL);
	FAILS(ret, 4, "read: %s", woof_strerror(ret));
	ret = woof_append(w, &e, NULL, &seq);
	FAILS(ret >= 0, 5, "append through the files of a served WOOF succeeded");
	woof_close(w);
	setenv("WOOF_ENGINE", "kernel", 1);
	ret = woof_ns_open(dir_b, &ns);		/* not mounted */
	FAILS(ret != -ENODEV, 6, "WOOF_ENGINE=kernel, unmounted: %s", woof_strerror(ret));
	return 0;
}

static int closed_device_forced(void *arg)
{
	struct woof_ns *ns;
	int ret;

	(void)arg;
	if (drop_privileges())
		return 1;
	setenv("WOOF_ENGINE", "kernel", 1);
	ret = woof_ns_open(dir_a, &ns);
	FAILS(ret != -EACCES, 2, "WOOF_ENGINE=kernel, device closed to us: %s",
	      woof_strerror(ret));
	return 0;
}

/* ---- WOOF_IOC_SET_FLAGS error paths ---- */

static void set_flags_ioctl(void)
{
	/* each refused as it stands (.size 0: the full size) */
	static const struct {
		struct woof_set_flags a;
		const char *what;
	} bad[] = {
		{ { .set = WOOF_F_DURABLE, .clear = WOOF_F_DURABLE },
		  "set and clear the same flag: EINVAL" },
		{ { .set = 1U << 7 }, "unknown flag: EINVAL" },
		{ { .set = WOOF_F_DURABLE, .flags = 1 }, "flags != 0: EINVAL" },
		{ { .set = WOOF_F_DURABLE, .reserved = { 0, 1 } }, "reserved != 0: EINVAL" },
		{ { .size = 8, .set = WOOF_F_DURABLE }, "short size: EINVAL" },
	};
	struct woof_set_flags a;
	struct woof_open o;
	int nsfd, fd, rofd;
	char dev[128];

	snprintf(dev, sizeof(dev), WOOF_DEV_DIR "/%s", "kt-engine-a");
	nsfd = open(dev, O_RDWR | O_CLOEXEC);
	if (nsfd < 0)
		kt_die(dev);
	fd = kt_create(nsfd, "sf", 8, 4, 0, WOOF_F_OVERWRITE, &o);
	rofd = kt_open(nsfd, "sf", WOOF_OPEN_RDONLY, NULL);
	KT_OK(fd >= 0 && rofd >= 0, "create and open a WOOF for SET_FLAGS");
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.set = WOOF_F_DURABLE;
	KT_ZERO(ioctl(fd, WOOF_IOC_SET_FLAGS, &a), "SET_FLAGS durable");
	KT_OK(a.old == WOOF_F_OVERWRITE, "... old flags returned (0x%x)", a.old);
	a.set = 0;
	a.clear = WOOF_F_DURABLE;
	KT_ZERO(ioctl(fd, WOOF_IOC_SET_FLAGS, &a), "SET_FLAGS clear durable");
	KT_OK(a.old == (WOOF_F_OVERWRITE | WOOF_F_DURABLE), "... old flags 0x%x", a.old);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = bad[i].a;
		if (!a.size)
			a.size = sizeof(a);
		KT_ERR(ioctl(fd, WOOF_IOC_SET_FLAGS, &a), EINVAL, "%s", bad[i].what);
	}
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.set = WOOF_F_DURABLE;
	KT_ERR(ioctl(rofd, WOOF_IOC_SET_FLAGS, &a), EBADF, "read-only WOOF fd: EBADF");
	close(rofd);
	close(fd);
	close(nsfd);
}

/* A scenario in a child process: a check that says its exit status. */
static void child_ok(child_fn fn, const char *what)
{
	int rc = in_child(fn, NULL);

	KT_OK(rc == 0, "%s (child status %d)", what, rc);
}

int main(void)
{
	const char *tmp = getenv("WOOF_KT_DIR");
	char *dirs[3] = { dir_a, dir_b, dir_c };
	int i;

	kt_prog = "test-engine";
	if (!tmp || !*tmp)
		tmp = "/tmp";
	ctl = kt_control();
	for (i = 0; i < 3; i++) {
		snprintf(dirs[i], 256, "%s/kt-engine-%c-XXXXXX", tmp, 'a' + i);
		if (!mkdtemp(dirs[i]) || chmod(dirs[i], 0755) || woof_ns_init(dirs[i], 0755))
			kt_die("mkdtemp");
	}
	if (kt_mount(ctl, "kt-engine-a", dir_a, 0644, 0, 0) < 0)
		kt_die("NS_MOUNT");

	child_ok(engine_choice, "mounted dir: kernel engine; other dir: user engine; "
		 "WOOF_ENGINE=kernel unmounted: ENODEV");
	child_ok(engine_by_inode, "the mounted directory through a symbolic link: kernel engine "
		 "(compared by device and inode)");
	child_ok(stale_bit_module_loaded, "WOOF_STATE_KERNEL in a directory the loaded module does "
		 "not serve: stale, appended to and cleared");
	child_ok(kernel_fill, "kernel engine creates and appends");
	child_ok(user_on_served, "WOOF_ENGINE=user on a served WOOF: reads, append -EBUSY, "
		 "put with a handler -EBUSY (the module keeps the trigger log)");
	child_ok(kernel_claim, "trigger read, claim and done floor through the module");
	child_ok(readonly_device, "device 0644 as another user: read-only kernel engine, wait "
		 "works, append/create/remove/triggers -EACCES");
	set_flags_ioctl();

	mount_race();

	KT_ZERO(kt_umount(ctl, "kt-engine-a", 0), "unmount (no descriptors left open)");
	child_ok(user_after_umount, "after the unmount: bit cleared, the user-space engine appends");
	KT_ZERO(kt_mount(ctl, "kt-engine-a", dir_a, 0600, 0, 0), "mount again, mode 0600");
	child_ok(kernel_after_remount, "after the remount: the kernel continues at 5, set_durable works");
	child_ok(closed_device, "device 0600 as another user: user-space engine, reads work, "
		 "appends fail");
	child_ok(closed_device_forced, "... and WOOF_ENGINE=kernel there is -EACCES");
	KT_ZERO(kt_umount(ctl, "kt-engine-a", WOOF_UMOUNT_DETACH), "unmount");
	close(ctl);
	return kt_done();
}
