/*
 * triggers.c - the trigger path inside libwoof (woof-dispatch.h): a put
 * that names a handler records a trigger atomically with the element, a
 * dispatcher claims each element exactly as it was put, orphans of dead
 * puts are recognised, done_floor gives backpressure on the log, and a
 * WOOF never wraps silently over an element whose handler has not read it
 * (2,000 triggered puts into a WOOF of history 8: 2,000 claims, 0 lost).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "testutil.h"
#include "woof-dispatch.h"

TestSuite(triggers, .init = tu_setup, .fini = tu_teardown, .timeout = 60);

struct el { uint64_t n, sum; };

static struct el mk(uint64_t n)
{
	struct el e = { n, n * 2654435761ULL };

	return e;
}

Test(triggers, put_with_handler_records_one_trigger)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 4);
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct el e = mk(7), got;
	struct woof_claim c;
	uint64_t seq;

	tu_assert_ok(woof_append(w, &e, NULL, &seq));		/* no handler: no trigger */
	tu_assert_ok(woof_append(w, &e, "h1", &seq));
	tu_assert_u64(seq, 2);
	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	tu_assert_u64(woof_triggers_latest(t), 1);
	tu_assert_ok(woof_triggers_read(t, 1, &tr));
	cr_assert_str_eq(tr.woof, "w");
	cr_assert_str_eq(tr.handler, "h1");
	tu_assert_u64(tr.woof_seq, 2);
	tu_assert_u64(tr.woof_ctime, woof_header(w)->create_time_ns);
	tu_assert_rc(woof_triggers_read(t, 2, &tr), -ERANGE);

	tu_assert_ok(woof_triggers_read(t, 1, &tr));
	tu_assert_rc(woof_trigger_claim(tu_ns, 1, &tr, &got, 1, &c), -EMSGSIZE);
	tu_assert_u64(c.element_size, sizeof(got));	/* says how large it is */
	tu_assert_ok(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), &c));
	tu_assert_u64(got.n, 7);
	cr_assert(!c.already_claimed);
	/* a second claim is a redelivery of the same element */
	tu_assert_ok(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), &c));
	cr_assert(c.already_claimed);
	tu_assert_rc(woof_trigger_claim(tu_ns, 1, &tr, &got, 1, &c), -EMSGSIZE);
	woof_triggers_close(t);
	woof_close(w);
}

Test(triggers, bad_handler_name_appends_nothing)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 4);
	struct el e = mk(1);
	uint64_t seq;

	tu_assert_rc(woof_append(w, &e, "../h", &seq), -EINVAL);
	tu_assert_rc(woof_append(w, &e, "", &seq), -EINVAL);
	tu_assert_u64(woof_latest(w), 0);
	cr_assert(!tu_exists(tu_path(tu_dir, ".woof/triggers")) ||
		  tu_file_size(tu_path(tu_dir, ".woof/triggers")) > 0);
	woof_close(w);
}

Test(triggers, claim_detects_recreated_and_orphaned)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el), 4, WOOF_CREATE_RESET);
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 4);
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct el e = mk(3), got;
	uint64_t seq;

	tu_assert_ok(woof_append(w, &e, "h", &seq));
	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	tu_assert_ok(woof_triggers_read(t, 1, &tr));

	/* a forged entry for a number the element does not carry: orphan */
	struct woof_trigger forged = tr;
	tu_assert_rc(woof_trigger_claim(tu_ns, 2, &forged, &got, sizeof(got), NULL), -ECANCELED);
	/* an entry for an element never committed: orphan */
	forged.woof_seq = 5;
	tu_assert_rc(woof_trigger_claim(tu_ns, 1, &forged, &got, sizeof(got), NULL), -ECANCELED);

	/* the WOOF re-created since the put */
	woof_close(w);
	tu_assert_ok(woof_create(tu_ns, "w", &o, NULL));
	tu_assert_rc(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), NULL), -ESTALE);
	/* removed */
	tu_assert_ok(woof_remove(tu_ns, "w"));
	tu_assert_rc(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), NULL), -ENOENT);
	woof_triggers_close(t);
}

Test(triggers, pending_element_blocks_wrap_until_claimed)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 2);
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct el e = mk(1), got;
	uint64_t seq;

	tu_assert_ok(woof_append(w, &e, "h", &seq));
	tu_assert_ok(woof_append(w, &e, NULL, &seq));
	/* seq 3 would overwrite seq 1, whose handler has not read it */
	tu_assert_rc(woof_append_flags(w, &e, NULL, WOOF_PUT_NONBLOCK, &seq), -EAGAIN);
	tu_assert_u64(woof_latest(w), 2);
	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	tu_assert_ok(woof_triggers_read(t, 1, &tr));
	tu_assert_ok(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), NULL));
	tu_assert_ok(woof_append_flags(w, &e, NULL, WOOF_PUT_NONBLOCK, &seq));
	tu_assert_u64(seq, 3);
	woof_triggers_close(t);
	woof_close(w);
}

/*
 * A process holding the WOOF's lock (stopped, say) never stalls a claim:
 * the child poses as owner id 7 - OFD lock on its byte of .woof/owners,
 * gen[7] set - and puts that token in the WOOF's lock word.
 */
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

Test(triggers, claim_does_not_wait_for_a_live_lock_holder)
{
	tu_skip_kernel("the lock word and owner tokens belong to the user-space engine");
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 4);
	struct woof_claim cl;
	struct woof_header *h = (struct woof_header *)woof_header(w);
	struct holder hd = { h, tu_dir };
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct el e = mk(1), got;
	uint64_t seq, t0;
	pid_t pid;

	tu_assert_ok(woof_append(w, &e, "h", &seq));	/* creates .woof/owners */
	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	tu_assert_ok(woof_triggers_read(t, 1, &tr));
	pid = tu_fork(lock_holder, 0, &hd);
	for (int i = 0; i < 200 && __atomic_load_n(&h->lock, __ATOMIC_SEQ_CST) == 0; i++)
		usleep(10000);
	tu_assert_u64(h->lock, (1000ULL << 16) | 7);
	/* a committed, unclaimed element needs no lock: claimed while it is held */
	memset(&got, 0, sizeof(got));
	tu_assert_ok(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), &cl));
	tu_assert_u64(got.n, 1);
	cr_assert(!cl.already_claimed, "the first claim says already claimed");
	tu_assert_u64(h->lock, (1000ULL << 16) | 7);
	/* claimed before (a redelivery): that needs the lock, and does not wait for it */
	t0 = tu_now_ns();
	tu_assert_rc(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), NULL), -EAGAIN);
	cr_assert(tu_ms_since(t0) < 100, "the claim waited %.0f ms for a live holder",
		  tu_ms_since(t0));
	/* the holder dies: the next claim takes its lock over */
	kill(pid, SIGKILL);
	tu_wait(pid, 5000);
	memset(&got, 0, sizeof(got));
	tu_assert_ok(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), &cl));
	tu_assert_u64(got.n, 1);
	cr_assert(cl.already_claimed, "the redelivered claim does not say already claimed");
	tu_assert_u64(h->lock, 0);
	woof_triggers_close(t);
	woof_close(w);
}

/* The blocked appender sleeps and is woken by the claim (no polling). */
static int blocked_putter(int idx, void *arg)
{
	int *going = arg;
	struct woof_ns *ns;
	struct el e = mk(99);
	uint64_t seq;

	(void)idx;
	if (woof_ns_open(tu_dir, &ns))
		return 1;
	__atomic_store_n(going, 1, __ATOMIC_SEQ_CST);
	return woof_put(ns, "w", NULL, &e, &seq) == 0 && seq == 3 ? 0 : 2;
}

Test(triggers, blocking_put_wakes_on_claim)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 2);
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct el e = mk(1), got;
	uint64_t seq;
	pid_t pid;

	tu_assert_ok(woof_append(w, &e, "h", &seq));
	tu_assert_ok(woof_append(w, &e, NULL, &seq));
	int *going = tu_shared(sizeof(int));
	pid = tu_fork(blocked_putter, 0, going);
	/* the put sleeps: it started, and sleeps in a futex (or woof.ko) ... */
	cr_assert(tu_wait_flag(going, 10000), "the putter never started");
	tu_assert_asleep(pid, "the blocked put");
	/* ... having flagged the PENDING slot it waits for (user-space engine) */
	if (!tu_kernel()) {
		const struct woof_header *h = woof_header(w);
		const struct woof_slot *sl = (const void *)((const char *)h + WOOF_HEADER_SIZE);

		cr_assert((__atomic_load_n(&sl->flags, __ATOMIC_SEQ_CST) &
			   (WOOF_SLOT_PENDING | WOOF_SLOT_WAITER)) ==
			  (WOOF_SLOT_PENDING | WOOF_SLOT_WAITER),
			  "the put sleeps, but slot 0 says flags %#x", sl->flags);
	}
	tu_assert_u64(woof_latest(w), 2);		/* still waiting */
	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	tu_assert_ok(woof_triggers_read(t, 1, &tr));
	tu_assert_ok(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), NULL));
	uint64_t t0 = tu_now_ns();
	tu_assert_rc(tu_wait(pid, 5000), 0);
	cr_assert(tu_ms_since(t0) < 1000, "the blocked put took %.0f ms to wake", tu_ms_since(t0));
	tu_assert_u64(woof_latest(w), 3);
	woof_triggers_close(t);
	woof_close(w);
}

Test(triggers, overwrite_flag_counts_overruns_and_claim_says_enodata)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el), 2, WOOF_CREATE_EXCL);
	struct woof_triggers *t;
	struct woof_trigger tr;
	struct woof *w;
	struct el e = mk(1), got;
	uint64_t seq;

	o.flags = WOOF_F_OVERWRITE;
	tu_assert_ok(woof_create(tu_ns, "w", &o, &w));
	for (int i = 0; i < 3; i++)
		tu_assert_ok(woof_append_flags(w, &e, "h", WOOF_PUT_NONBLOCK, &seq));
	tu_assert_u64(woof_header(w)->overruns, 1);
	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	tu_assert_ok(woof_triggers_read(t, 1, &tr));
	tu_assert_rc(woof_trigger_claim(tu_ns, 1, &tr, &got, sizeof(got), NULL), -ENODATA);
	woof_triggers_close(t);
	woof_close(w);
}

Test(triggers, log_full_of_unfinished_triggers_gives_backpressure)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 100000);
	struct woof_triggers *t;
	struct el e = mk(1);
	uint64_t seq, H, i;

	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	H = woof_triggers_history(t);
	for (i = 0; i < H; i++)
		tu_assert_ok(woof_append_flags(w, &e, "h", WOOF_PUT_NONBLOCK, &seq));
	tu_assert_rc(woof_append_flags(w, &e, "h", WOOF_PUT_NONBLOCK, &seq), -EAGAIN);
	tu_assert_u64(woof_latest(w), H);		/* the failed put appended nothing */
	tu_assert_ok(woof_append_flags(w, &e, NULL, WOOF_PUT_NONBLOCK, &seq));	/* no trigger: fine */
	tu_assert_ok(woof_triggers_set_done_floor(t, 10));
	tu_assert_ok(woof_append_flags(w, &e, "h", WOOF_PUT_NONBLOCK, &seq));
	tu_assert_rc(woof_triggers_set_done_floor(t, H + 100), -ERANGE);
	woof_triggers_set_done_floor(t, 5);		/* never moves back */
	tu_assert_u64(woof_triggers_done_floor(t), 10);
	woof_triggers_close(t);
	woof_close(w);
}

Test(triggers, arm_and_datagram_wake_the_dispatcher)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 8);
	struct woof_triggers *t;
	struct el e = mk(1);
	struct pollfd p;
	uint64_t seq;
	int fd;

	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	fd = woof_triggers_listen(t);
	cr_assert(fd >= 0, "listen: %s", tu_err(fd));
	tu_assert_rc(woof_triggers_arm(t, 0), 0);
	tu_assert_ok(woof_append(w, &e, "h", &seq));
	p.fd = fd;
	p.events = POLLIN;
	cr_assert(poll(&p, 1, 2000) == 1, "the listen fd is not readable after a triggered put");
	tu_assert_ok(woof_triggers_drain(t, fd));
	cr_assert(poll(&p, 1, 0) == 0, "the listen fd is still readable after the drain");
	tu_assert_ok(woof_triggers_drain(t, fd));		/* nothing there: fine */
	tu_assert_ok(woof_append(w, &e, "h", &seq));
	if (woof_ns_engine(tu_ns) == WOOF_ENGINE_USER) {
		/* not armed: no datagram */
		cr_assert(poll(&p, 1, 100) == 0, "a datagram although the dispatcher was not armed");
	} else {
		/* the device is readable while a trigger lies beyond its cursor */
		cr_assert(poll(&p, 1, 2000) == 1, "the device is not readable after a put");
	}
	tu_assert_rc(woof_triggers_arm(t, 1), 1);	/* entry 2 exists: do not sleep */
	tu_assert_rc(woof_triggers_arm(t, 2), 0);
	cr_assert(poll(&p, 1, 0) == 0 || woof_ns_engine(tu_ns) == WOOF_ENGINE_USER,
		  "the device is readable after an arm that reached the end of the log");
	tu_assert_ok(woof_append(w, &e, "h", &seq));	/* armed: wakes it */
	cr_assert(poll(&p, 1, 2000) == 1, "no wake-up for a put after the arm");
	tu_assert_ok(woof_triggers_drain(t, fd));
	tu_assert_rc(woof_triggers_drain(NULL, fd), -EINVAL);
	close(fd);
	woof_triggers_close(t);
	woof_close(w);
}

/* producer: 2,000 triggered puts into history 8 (blocking) */
static int burst_producer(int idx, void *arg)
{
	struct woof_ns *ns;
	uint64_t seq, i;

	if (woof_ns_open(arg, &ns))
		return 1;
	for (i = 1; i <= 2000; i++) {
		struct el e = mk(i);

		if (woof_put(ns, "b", "h", &e, &seq) || seq != i)
			return 2;
	}
	return 0;
}

Test(triggers, burst_2000_into_history_8_loses_nothing)
{
	struct woof *w = tu_create(tu_ns, "b", sizeof(struct el), 8);
	struct woof_triggers *t;
	uint64_t next = 1, claimed = 0, bad = 0;
	uint64_t t0 = tu_now_ns();
	pid_t pid;

	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	pid = tu_fork(burst_producer, 0, tu_dir);
	while (claimed + bad < 2000 && tu_ms_since(t0) < 30000) {
		struct woof_trigger tr;
		struct el got;

		if (woof_triggers_latest(t) < next) {
			usleep(100);
			continue;
		}
		tu_assert_ok(woof_triggers_read(t, next, &tr));
		int rc = woof_trigger_claim(tu_ns, next, &tr, &got, sizeof(got), NULL);
		if (rc == -EAGAIN) {		/* the producer holds the lock: again */
			usleep(50);
			continue;
		}
		if (rc == 0 && got.n == tr.woof_seq && got.sum == mk(got.n).sum)
			claimed++;
		else
			bad++;
		woof_triggers_set_done_floor(t, next);
		next++;
	}
	tu_assert_rc(tu_wait(pid, 10000), 0);
	tu_assert_u64(bad, 0);
	tu_assert_u64(claimed, 2000);
	tu_assert_u64(woof_latest(w), 2000);
	tu_assert_u64(woof_header(w)->overruns, 0);
	woof_triggers_close(t);
	woof_close(w);
}

/* Appenders with triggers killed at random: every committed element has its trigger. */
static int trig_appender(int idx, void *arg)
{
	struct woof_ns *ns;
	uint64_t seq;

	if (woof_ns_open(arg, &ns))
		return 1;
	for (;;) {
		struct el e = mk((uint64_t)idx);

		if (woof_put_flags(ns, "k", "h", &e, WOOF_PUT_NONBLOCK, &seq) == -EAGAIN)
			usleep(100);
	}
	return 0;
}

/* Claim every entry after *next; count each element's claims in seen[]. */
static void drain(struct woof_triggers *t, uint64_t *next, uint64_t *seen, uint64_t cap,
		  uint64_t *orphans)
{
	uint64_t tl = woof_triggers_latest(t);

	for (; *next <= tl; (*next)++) {
		struct woof_trigger tr;
		struct el got;
		int rc;

		tu_assert_ok(woof_triggers_read(t, *next, &tr));
		rc = woof_trigger_claim(tu_ns, *next, &tr, &got, sizeof(got), NULL);
		if (rc == -ECANCELED) {
			(*orphans)++;
		} else {
			tu_assert_rc(rc, 0);
			cr_assert(tr.woof_seq < cap && got.sum == mk(got.n).sum);
			seen[tr.woof_seq]++;
		}
		tu_assert_ok(woof_triggers_set_done_floor(t, *next));
	}
}

Test(triggers, killed_appenders_leave_triggers_consistent)
{
	const uint64_t cap = 4000000;
	struct woof *w = tu_create(tu_ns, "k", sizeof(struct el), cap);
	struct woof_triggers *t;
	uint64_t seed = tu_seed(), i, latest, next = 1, orphans = 0, extra = 0;
	uint64_t *seen = calloc(cap, sizeof(*seen));
	pid_t pids[3];
	int round;

	tu_assert_ok(woof_triggers_open(tu_ns, &t));
	for (round = 0;; round++) {
		/*
		 * 60 rounds, then (user-space engine) more, at most 30 s, until
		 * a kill has landed between a trigger and its element's commit
		 * (an orphan): the case this test is about.
		 */
		if (round >= 60) {
			if (tu_kernel() || orphans > 0)
				break;
			if (!extra)
				extra = tu_now_ns();
			if (tu_ms_since(extra) > 30000)
				break;
		}
		for (int k = 0; k < 3; k++)
			pids[k] = tu_fork(trig_appender, k, tu_dir);
		usleep(1000 + tu_rand(&seed) % 4000);
		for (int k = 0; k < 3; k++) {
			kill(pids[k], SIGKILL);
			waitpid(pids[k], NULL, 0);
		}
		drain(t, &next, seen, cap, &orphans);
	}
	/* one more put repairs a WOOF whose appender died holding the lock */
	struct el e = mk(9);
	uint64_t seq;
	tu_assert_ok(woof_put(tu_ns, "k", "h", &e, &seq));
	drain(t, &next, seen, cap, &orphans);
	latest = woof_latest(w);
	cr_assert(latest > 100, "only %llu appends", (unsigned long long)latest);
	for (i = 1; i <= latest; i++)
		cr_assert(seen[i] == 1, "element %llu was claimed %llu times", (unsigned long long)i,
			  (unsigned long long)seen[i]);
	cr_log_info("%d rounds, %llu elements, %llu triggers, %llu orphans", round,
		    (unsigned long long)latest, (unsigned long long)(next - 1),
		    (unsigned long long)orphans);
	if (!tu_kernel())
		cr_assert(orphans > 0, "%d rounds, and no kill landed between a trigger and its "
			  "element's commit (no orphan)", round);
	free(seen);
	woof_triggers_close(t);
	woof_close(w);
}
