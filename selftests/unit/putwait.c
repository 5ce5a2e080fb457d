/*
 * putwait.c - the bounded put (woof_append_opts / woof_put_opts): a put
 * that waits for room - the slot it would overwrite holds an element whose
 * handler call nobody has claimed, the trigger log is full, another
 * appender holds the lock - gives up with -ETIMEDOUT after timeout_ms,
 * appends nothing, and says what it waited for; it succeeds as soon as
 * room appears. woof_append() keeps waiting without a limit (CSPOT).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testutil.h"
#include "woof-dispatch.h"

TestSuite(putwait, .init = tu_setup, .fini = tu_teardown, .timeout = 60);

struct el { uint64_t n, pad; };

static struct woof_put_opts opts(int32_t timeout_ms, struct woof_put_wait *wt)
{
	struct woof_put_opts o;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.timeout_ms = timeout_ms;
	o.waited = wt;
	return o;
}

/* A WOOF of history 2 whose next put would overwrite seq 1, still pending. */
static struct woof *wedged(void)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 2);
	struct el e = { 1, 0 };
	uint64_t seq;

	tu_assert_ok(woof_append(w, &e, "h", &seq));	/* trigger 1 */
	tu_assert_ok(woof_append(w, &e, NULL, &seq));
	tu_assert_u64(seq, 2);
	return w;
}

Test(putwait, times_out_within_bounds_without_a_dispatcher)
{
	struct woof *w = wedged();
	struct woof_put_wait wt;
	struct woof_put_opts o = opts(300, &wt);
	struct el e = { 3, 0 };
	uint64_t seq = 0, t0;
	double ms;

	t0 = tu_now_ns();
	tu_assert_rc(woof_append_opts(w, &e, NULL, &o, &seq), -ETIMEDOUT);
	ms = tu_ms_since(t0);
	cr_assert(ms >= 290 && ms < 3000, "a put bounded to 300 ms returned after %.0f ms", ms);
	tu_assert_u64(woof_latest(w), 2);		/* nothing appended */
	tu_assert_u64(wt.reason, WOOF_WAIT_HANDLER);
	tu_assert_u64(wt.seq, 1);
	tu_assert_u64(wt.trigger, 1);

	/* by name, and with a handler of its own: the same */
	memset(&wt, 0xff, sizeof(wt));
	t0 = tu_now_ns();
	tu_assert_rc(woof_put_opts(tu_ns, "w", "h", &e, &o, &seq), -ETIMEDOUT);
	ms = tu_ms_since(t0);
	cr_assert(ms >= 290 && ms < 3000, "a put bounded to 300 ms returned after %.0f ms", ms);
	tu_assert_u64(wt.reason, WOOF_WAIT_HANDLER);
	tu_assert_u64(wt.seq, 1);
	tu_assert_u64(woof_latest(w), 2);

	/* 0: no wait at all; WOOF_PUT_NONBLOCK: -EAGAIN, and it says why too */
	o.timeout_ms = 0;
	t0 = tu_now_ns();
	tu_assert_rc(woof_append_opts(w, &e, NULL, &o, &seq), -ETIMEDOUT);
	cr_assert(tu_ms_since(t0) < 1000, "timeout 0 waited %.0f ms", tu_ms_since(t0));
	o.timeout_ms = -1;
	o.flags = WOOF_PUT_NONBLOCK;
	memset(&wt, 0, sizeof(wt));
	tu_assert_rc(woof_append_opts(w, &e, NULL, &o, &seq), -EAGAIN);
	tu_assert_u64(wt.reason, WOOF_WAIT_HANDLER);
	tu_assert_u64(woof_latest(w), 2);
	woof_close(w);
}

struct claimer {
	struct woof *w;
	int ret;
};

/*
 * Claim trigger 1 once the put sleeps for it: the user-space engine marks
 * the slot it waits for with WOOF_SLOT_WAITER before it sleeps.
 */
static void *claim_when_waited_for(void *arg)
{
	struct claimer *c = arg;
	const struct woof_header *h = woof_header(c->w);
	const struct woof_slot *sl = (const void *)((const char *)h + WOOF_HEADER_SIZE);
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct el got;

	while (!(__atomic_load_n(&sl->flags, __ATOMIC_ACQUIRE) & WOOF_SLOT_WAITER))
		usleep(1000);
	c->ret = woof_triggers_open(tu_ns, &t);
	if (c->ret)
		return NULL;
	c->ret = woof_triggers_read(t, 1, &tr);
	if (!c->ret)
		c->ret = woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), NULL);
	woof_triggers_close(t);
	return NULL;
}

Test(putwait, succeeds_when_room_appears)
{
	tu_skip_kernel("the waiter mark the test synchronises on is the user-space engine's");
	struct woof *w = wedged();
	struct woof_put_wait wt;
	struct woof_put_opts o = opts(20000, &wt);
	struct claimer c = { w, -1 };
	struct el e = { 3, 0 }, got;
	pthread_t th;
	uint64_t seq = 0, t0;

	cr_assert_eq(pthread_create(&th, NULL, claim_when_waited_for, &c), 0);
	t0 = tu_now_ns();
	tu_assert_ok(woof_append_opts(w, &e, NULL, &o, &seq));
	pthread_join(th, NULL);
	tu_assert_ok(c.ret);
	cr_assert(tu_ms_since(t0) < 10000, "the put took %.0f ms after the claim",
		  tu_ms_since(t0));
	tu_assert_u64(seq, 3);
	tu_assert_u64(wt.reason, WOOF_WAIT_HANDLER);	/* it did wait */
	tu_assert_ok(woof_read(w, 3, &got, NULL));
	tu_assert_u64(got.n, 3);
	woof_close(w);
}

Test(putwait, trigger_log_full)
{
	struct woof *w = tu_create(tu_ns, "big", sizeof(struct el), WOOF_TRIGGERS_HISTORY + 8);
	struct woof_put_wait wt;
	struct woof_put_opts o = opts(200, &wt);
	struct el e = { 1, 0 };
	uint64_t seq, i;

	for (i = 0; i < WOOF_TRIGGERS_HISTORY; i++)
		tu_assert_ok(woof_append(w, &e, "h", &seq));
	tu_assert_rc(woof_append_opts(w, &e, "h", &o, &seq), -ETIMEDOUT);
	tu_assert_u64(wt.reason, WOOF_WAIT_TRIGGERS);
	tu_assert_u64(wt.trigger, 1);
	tu_assert_u64(woof_latest(w), WOOF_TRIGGERS_HISTORY);
	/* a put without a handler needs no trigger: no wait */
	tu_assert_ok(woof_append_opts(w, &e, NULL, &o, &seq));
	woof_close(w);
}

/* Poses as owner id 7 holding the WOOF's lock (see triggers.c), then sleeps. */
struct holder { struct woof_header *h; const char *dir; };

static int lock_holder(int idx, void *arg)
{
	struct holder *hd = arg;
	char path[4096];
	struct woof_owners *o;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = (off_t)(WOOF_OWNER_LOCK_BASE + 7), .l_len = 1 };
	int fd;

	snprintf(path, sizeof(path), "%s/.woof/owners", hd->dir);
	fd = open(path, O_RDWR);
	if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl) < 0)
		return 1;
	o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (o == MAP_FAILED)
		return 2;
	o->gen[7] = 1000;
	__atomic_store_n(&hd->h->lock, (1000ULL << 16) | 7, __ATOMIC_SEQ_CST);
	pause();
	return 0;
}

Test(putwait, stopped_lock_holder)
{
	tu_skip_kernel("the lock word and owner tokens belong to the user-space engine");
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 4);
	struct woof_header *h = (struct woof_header *)woof_header(w);
	struct holder hd = { h, tu_dir };
	struct woof_put_wait wt;
	struct woof_put_opts o = opts(300, &wt);
	struct el e = { 1, 0 };
	uint64_t seq, t0;
	double ms;
	pid_t pid;

	tu_assert_ok(woof_append(w, &e, NULL, &seq));	/* creates .woof/owners */
	pid = tu_fork(lock_holder, 0, &hd);
	while (__atomic_load_n(&h->lock, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	t0 = tu_now_ns();
	tu_assert_rc(woof_append_opts(w, &e, NULL, &o, &seq), -ETIMEDOUT);
	ms = tu_ms_since(t0);
	cr_assert(ms >= 290 && ms < 3000, "a put bounded to 300 ms returned after %.0f ms", ms);
	tu_assert_u64(wt.reason, WOOF_WAIT_LOCK);
	tu_assert_u64(woof_latest(w), 1);
	/* the holder dies: the lock is taken over */
	kill(pid, SIGKILL);
	tu_wait(pid, 5000);
	o.timeout_ms = 20000;
	tu_assert_ok(woof_append_opts(w, &e, NULL, &o, &seq));
	tu_assert_u64(seq, 2);
	woof_close(w);
}

Test(putwait, bad_options)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 4);
	struct woof_put_opts o = opts(-1, NULL);
	struct el e = { 1, 0 };
	uint64_t seq;
	struct {
		struct woof_put_opts o;
		uint64_t extra;
	} big;

	tu_assert_ok(woof_append_opts(w, &e, NULL, NULL, &seq));	/* NULL: no limit */
	tu_assert_ok(woof_append_opts(w, &e, NULL, &o, &seq));
	o.sz = sizeof(o) - 1;
	tu_assert_rc(woof_append_opts(w, &e, NULL, &o, &seq), -EINVAL);
	o = opts(-2, NULL);
	tu_assert_rc(woof_append_opts(w, &e, NULL, &o, &seq), -EINVAL);
	o = opts(-1, NULL);
	o.reserved[1] = 1;
	tu_assert_rc(woof_put_opts(tu_ns, "w", NULL, &e, &o, &seq), -EINVAL);
	o = opts(-1, NULL);
	o.flags = 1U << 7;
	tu_assert_rc(woof_append_opts(w, &e, NULL, &o, &seq), -EINVAL);
	/* a newer caller's larger struct: its extra bytes must be zero */
	memset(&big, 0, sizeof(big));
	big.o = opts(-1, NULL);
	big.o.sz = sizeof(big);
	tu_assert_ok(woof_append_opts(w, &e, NULL, &big.o, &seq));
	big.extra = 1;
	tu_assert_rc(woof_append_opts(w, &e, NULL, &big.o, &seq), -EINVAL);
	tu_assert_u64(woof_latest(w), 3);
	woof_close(w);
}
