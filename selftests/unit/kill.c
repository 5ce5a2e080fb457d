/* SPDX-License-Identifier: MIT */
/*
 * kill.c - appenders killed with SIGKILL at random moments.
 *
 * Round after round, three processes append in a tight loop to a WOOF with
 * a small history and record every acknowledged (seq, counter) in memory
 * shared with the parent (so acknowledgements survive SIGKILL); the parent
 * kills them after a random 0-2 ms. After every round: a fresh append
 * succeeds within 1 s (a dead appender never wedges the WOOF), every seq in
 * the retained window is readable and intact (checksum; an append cut short
 * by the kill was either completed or never happened), every acknowledged
 * element in the window holds exactly what its writer appended, and all
 * acknowledged seqs are unique and <= latest. The same with children that
 * hold many WOOFs open, and with children that re-create (RESET) a WOOF in
 * a loop. Reports how many kills found the append lock held, and kills
 * until at least one has (user-space engine).
 */
#include "testutil.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

TestSuite(kill, .init = tu_setup, .fini = tu_teardown, .timeout = 120);

struct kel {
	uint32_t writer;
	uint32_t round;
	uint64_t counter;
	uint64_t pad[3];
	uint64_t csum;
};

static void kel_make(struct kel *e, uint32_t writer, uint32_t round, uint64_t counter)
{
	e->writer = writer;
	e->round = round;
	e->counter = counter;
	for (int i = 0; i < 3; i++)
		e->pad[i] = counter * 31 + (uint64_t)i + ((uint64_t)round << 32);
	e->csum = tu_checksum(e, offsetof(struct kel, csum));
}

static bool kel_ok(const struct kel *e)
{
	return e->csum == tu_checksum(e, offsetof(struct kel, csum));
}

static uint64_t kel_tag(const struct kel *e)
{
	return ((uint64_t)(e->writer + 1) << 56) | ((uint64_t)e->round << 36) | e->counter;
}

#define K_WRITERS 3
#define K_HIST 16
#define K_ACKS 32768

struct ack {
	uint32_t woof;
	uint32_t pad;
	uint64_t seq;
	struct kel el;
};

struct kwriter {
	_Atomic uint64_t n;
	struct ack acks[K_ACKS];
};

/* One WOOF under test and what the parent knows about it. */
struct target {
	struct woof *w;
	char name[16];
	uint64_t *tags;		/* tags[seq]: acknowledged element, 0 = unknown */
	uint64_t cap;
	uint64_t acked;
	uint64_t last_latest;
	uint64_t hist;		/* history_size */
};

struct kctx {
	const char *dir;
	struct target *t;
	int ntargets;
	uint32_t round;
	struct kwriter *kw;	/* shared, K_WRITERS */
};

static int kwriter_main(int idx, void *arg)
{
	struct kctx *k = arg;
	struct kwriter *me = &k->kw[idx];
	struct woof *ws[64];
	struct woof_ns *ns;
	struct kel e;

	/* half use the inherited handles, half open everything afresh */
	if (idx % 2 == 0) {
		for (int i = 0; i < k->ntargets; i++)
			ws[i] = k->t[i].w;
	} else {
		if (woof_ns_open(k->dir, &ns))
			return 10;
		for (int i = 0; i < k->ntargets; i++)
			if (woof_open(ns, k->t[i].name, &ws[i]))
				return 11;
	}
	for (uint64_t c = 0;; c++) {
		int ti = (int)(c % (uint64_t)k->ntargets);
		uint64_t seq = 0, n;

		kel_make(&e, (uint32_t)idx, k->round, c);
		int rc = woof_append(ws[ti], &e, NULL, &seq);
		if (rc) {
			fprintf(stderr, "kill writer %d: append: %s\n", idx, tu_err(rc));
			return 12;
		}
		n = atomic_load_explicit(&me->n, memory_order_relaxed);
		if (n < K_ACKS) {
			me->acks[n] = (struct ack){ .woof = (uint32_t)ti, .seq = seq, .el = e };
			atomic_store_explicit(&me->n, n + 1, memory_order_release);
		} else {
			pause();
		}
	}
}

static void target_record(struct target *t, uint64_t seq, uint64_t tag)
{
	if (seq >= t->cap) {
		uint64_t ncap = t->cap ? t->cap : 4096;
		while (ncap <= seq)
			ncap *= 2;
		t->tags = realloc(t->tags, ncap * sizeof(uint64_t));
		cr_assert_not_null(t->tags);
		memset(t->tags + t->cap, 0, (ncap - t->cap) * sizeof(uint64_t));
		t->cap = ncap;
	}
	cr_assert(t->tags[seq] == 0,
		  "%s: seq %llu acknowledged twice (tags %llx and %llx)", t->name,
		  (unsigned long long)seq, (unsigned long long)t->tags[seq],
		  (unsigned long long)tag);
	t->tags[seq] = tag;
	t->acked++;
}

struct kstats {
	int rounds, lock_held, unacked_completions, failed_children;
	double worst_recovery_ms;
};

/* After the kill: recover, then check one target. */
static void check_target(struct target *t, uint32_t round, struct kstats *ks)
{
	struct kel e;
	uint64_t seq = 0;

	/* a fresh append must succeed promptly */
	kel_make(&e, 200, round, 0);
	uint64_t t0 = tu_now_ns();
	int rc = woof_append(t->w, &e, NULL, &seq);
	double ms = tu_ms_since(t0);
	cr_assert(rc == 0, "round %u %s: append after the kill: %s", round, t->name, tu_err(rc));
	cr_assert(ms < 1000, "round %u %s: append after the kill took %.0f ms", round, t->name, ms);
	if (ms > ks->worst_recovery_ms)
		ks->worst_recovery_ms = ms;
	target_record(t, seq, kel_tag(&e));

	uint64_t latest = woof_latest(t->w);
	cr_assert(latest == seq, "round %u %s: latest %llu after my append got %llu", round,
		  t->name, (unsigned long long)latest, (unsigned long long)seq);

	uint64_t lo = latest > t->hist ? latest - t->hist + 1 : 1;
	for (uint64_t s = lo; s <= latest; s++) {
		uint64_t sr = 0;
		memset(&e, 0, sizeof(e));
		rc = woof_read(t->w, s, &e, &sr);
		cr_assert(rc == 0, "round %u %s: seq %llu in the window [%llu, %llu] unreadable: %s",
			  round, t->name, (unsigned long long)s, (unsigned long long)lo,
			  (unsigned long long)latest, tu_err(rc));
		cr_assert(sr == s);
		cr_assert(kel_ok(&e), "round %u %s: seq %llu is torn (writer %u round %u counter %llu)",
			  round, t->name, (unsigned long long)s, e.writer, e.round,
			  (unsigned long long)e.counter);
		if (s < t->cap && t->tags[s])
			cr_assert(kel_tag(&e) == t->tags[s],
				  "round %u %s: seq %llu holds writer %u round %u counter %llu, "
				  "not the element acknowledged for it (tag %llx)", round, t->name,
				  (unsigned long long)s, e.writer, e.round,
				  (unsigned long long)e.counter, (unsigned long long)t->tags[s]);
	}
	tu_assert_rc(woof_read(t->w, latest + 1, &e, NULL), -ERANGE);
	if (lo > 1)
		tu_assert_rc(woof_read(t->w, lo - 1, &e, NULL), -ENODATA);
}

static void kill_rounds(struct kctx *k, int first, int rounds, struct kstats *ks)
{
	uint64_t rnd = tu_seed();

	for (int r = first; r < first + rounds; r++) {
		pid_t pids[K_WRITERS];
		uint64_t before[64];

		k->round = (uint32_t)r;
		for (int i = 0; i < k->ntargets; i++)
			before[i] = woof_latest(k->t[i].w);
		for (int i = 0; i < K_WRITERS; i++)
			atomic_store(&k->kw[i].n, 0);
		for (int i = 0; i < K_WRITERS; i++)
			pids[i] = tu_fork(kwriter_main, i, k);
		usleep((useconds_t)(tu_rand(&rnd) % 2001));
		for (int i = 0; i < K_WRITERS; i++)
			kill(pids[i], SIGKILL);
		for (int i = 0; i < K_WRITERS; i++) {
			int st = tu_wait(pids[i], 10000);
			if (st != 128 + SIGKILL) {
				ks->failed_children++;
				cr_assert(st == 128 + SIGKILL,
					  "round %d: writer %d ended with status %d before the kill",
					  r, i, st);
			}
		}
		for (int i = 0; i < k->ntargets; i++) {
			const struct woof_header *h = woof_header(k->t[i].w);
			if (__atomic_load_n(&h->lock, __ATOMIC_ACQUIRE))
				ks->lock_held++;
		}
		/* the acknowledgements of this round */
		uint64_t acked_now[64] = {0};
		for (int i = 0; i < K_WRITERS; i++) {
			uint64_t n = atomic_load_explicit(&k->kw[i].n, memory_order_acquire);
			for (uint64_t a = 0; a < n; a++) {
				struct ack *ak = &k->kw[i].acks[a];
				struct target *t = &k->t[ak->woof];
				cr_assert(ak->seq > before[ak->woof],
					  "round %d: writer %d acknowledged seq %llu, not above %llu",
					  r, i, (unsigned long long)ak->seq,
					  (unsigned long long)before[ak->woof]);
				target_record(t, ak->seq, kel_tag(&ak->el));
				acked_now[ak->woof]++;
			}
		}
		for (int i = 0; i < k->ntargets; i++) {
			struct target *t = &k->t[i];
			uint64_t latest = woof_latest(t->w);
			cr_assert(latest >= before[i] + acked_now[i],
				  "round %d %s: latest %llu < %llu before + %llu acknowledged",
				  r, t->name, (unsigned long long)latest,
				  (unsigned long long)before[i], (unsigned long long)acked_now[i]);
			ks->unacked_completions += (int)(latest - before[i] - acked_now[i]);
			check_target(t, (uint32_t)r, ks);
			t->last_latest = woof_latest(t->w);
		}
		ks->rounds++;
	}
}

static void setup_targets(struct kctx *k, int n, uint64_t hist)
{
	k->dir = tu_dir;
	k->ntargets = n;
	k->t = calloc((size_t)n, sizeof(struct target));
	k->kw = tu_shared(K_WRITERS * sizeof(struct kwriter));
	for (int i = 0; i < n; i++) {
		snprintf(k->t[i].name, sizeof(k->t[i].name), "k%d", i);
		k->t[i].w = tu_create(tu_ns, k->t[i].name, sizeof(struct kel), hist);
		k->t[i].hist = hist;
	}
}

/*
 * These tests are about kills that land while an appender holds the append
 * lock (the repair path). Random kill times find it held in roughly one
 * round in ten; go on killing (at most 30 s more) until a kill has, and
 * fail if none did. The kernel engine keeps no lock in the file: there
 * a kill cannot interrupt an append half-way.
 */
static void kill_until_lock_held(struct kctx *k, struct kstats *ks)
{
	uint64_t t0 = tu_now_ns();

	if (tu_kernel())
		return;
	while (ks->lock_held == 0 && tu_ms_since(t0) < 30000)
		kill_rounds(k, ks->rounds, 1, ks);
	cr_assert(ks->lock_held > 0, "%d kill rounds, and no kill found the append lock held",
		  ks->rounds);
}

static void report(const char *what, struct kctx *k, struct kstats *ks)
{
	uint64_t acked = 0, latest = 0;
	for (int i = 0; i < k->ntargets; i++) {
		acked += k->t[i].acked;
		latest += woof_latest(k->t[i].w);
		cr_assert(woof_latest(k->t[i].w) >= k->t[i].acked,
			  "%s: latest %llu < %llu acknowledged appends", k->t[i].name,
			  (unsigned long long)woof_latest(k->t[i].w),
			  (unsigned long long)k->t[i].acked);
	}
	cr_log_info("%s: %d rounds, %llu acknowledged appends, latest sum %llu, "
		    "%d kills found the append lock held, %d appends completed "
		    "without acknowledgement, worst recovery append %.2f ms",
		    what, ks->rounds, (unsigned long long)acked,
		    (unsigned long long)latest, ks->lock_held,
		    ks->unacked_completions, ks->worst_recovery_ms);
	printf("# %s: %d rounds, %llu acked, %d kills with the lock held, "
	       "%d unacknowledged completions, worst recovery %.2f ms\n",
	       what, ks->rounds, (unsigned long long)acked, ks->lock_held,
	       ks->unacked_completions, ks->worst_recovery_ms);
	fflush(stdout);
}

Test(kill, sigkill_appenders_one_woof)
{
	struct kctx k;
	struct kstats ks = {0};

	setup_targets(&k, 1, K_HIST);
	uint64_t t0 = tu_now_ns();
	kill_rounds(&k, 0, 200, &ks);
	kill_until_lock_held(&k, &ks);
	cr_log_info("%d kill rounds in %.0f ms", ks.rounds, tu_ms_since(t0));
	report("one WOOF", &k, &ks);
	cr_assert(k.t[0].acked > 200, "only %llu acknowledged appends in 200 rounds",
		  (unsigned long long)k.t[0].acked);
}

Test(kill, sigkill_appenders_many_woofs)
{
	struct kctx k;
	struct kstats ks = {0};

	setup_targets(&k, 20, K_HIST);
	kill_rounds(&k, 0, 50, &ks);
	kill_until_lock_held(&k, &ks);
	report("20 WOOFs", &k, &ks);
}

Test(kill, sigkill_history_one)
{
	struct kctx k;
	struct kstats ks = {0};

	setup_targets(&k, 1, 1);
	kill_rounds(&k, 0, 60, &ks);
	kill_until_lock_held(&k, &ks);
	report("history 1", &k, &ks);
}

/* ---- killed while re-creating ---------------------------------------------- */

static int reset_loop(int idx, void *arg)
{
	struct woof_ns *ns;
	struct woof_create_opts o = tu_opts(sizeof(struct kel), 8, WOOF_CREATE_RESET);
	struct kel e;

	if (woof_ns_open(arg, &ns))
		return 10;
	for (uint64_t c = 0;; c++) {
		struct woof *w = NULL;
		if (c % 3 == 0)
			o.history_size = 8 + (c % 5);
		int rc = woof_create(ns, "rw", &o, &w);
		if (rc == 0) {
			for (int i = 0; i < 5; i++) {
				kel_make(&e, (uint32_t)idx, 0, c);
				rc = woof_append(w, &e, NULL, NULL);
				if (rc && rc != -ESTALE) {
					fprintf(stderr, "reset loop %d: append: %s\n", idx, tu_err(rc));
					return 11;
				}
			}
			woof_close(w);
		}
		/*
		 * A failing create is tolerated here (stress.c's
		 * concurrent_reset_and_remove checks the error codes of this race);
		 * what matters is the state the kills leave behind.
		 */
		if (c % 7 == 0) {
			rc = woof_remove(ns, "rw");
			if (rc && rc != -ENOENT) {
				fprintf(stderr, "reset loop %d: woof_remove: %s\n", idx, tu_err(rc));
				return 13;
			}
		}
	}
}

static int list_names(const char *name, void *arg)
{
	int *n = arg;
	if (strcmp(name, "rw") != 0) {
		fprintf(stderr, "woof_ns_list: unexpected \"%s\"\n", name);
		*n += 1000;
	}
	(*n)++;
	return 0;
}

Test(kill, sigkill_during_reset_and_remove)
{
	uint64_t rnd = tu_seed();

	for (int r = 0; r < 60; r++) {
		pid_t pids[2];
		for (int i = 0; i < 2; i++)
			pids[i] = tu_fork(reset_loop, i, tu_dir);
		usleep((useconds_t)(tu_rand(&rnd) % 3001));
		for (int i = 0; i < 2; i++)
			kill(pids[i], SIGKILL);
		for (int i = 0; i < 2; i++)
			tu_assert_rc(tu_wait(pids[i], 10000), 128 + SIGKILL);

		/* whatever state it was left in, the name works again at once */
		struct woof_create_opts o = tu_opts(sizeof(struct kel), 8, WOOF_CREATE_RESET);
		struct woof *w;
		struct kel e;
		uint64_t seq = 0, t0 = tu_now_ns();
		int rc = woof_create(tu_ns, "rw", &o, &w);
		cr_assert(rc == 0, "round %d: RESET after the kill: %s", r, tu_err(rc));
		kel_make(&e, 9, (uint32_t)r, 0);
		tu_assert_ok(woof_append(w, &e, NULL, &seq));
		tu_assert_u64(seq, 1);
		cr_assert(tu_ms_since(t0) < 3000, "round %d: recovery took %.0f ms", r, tu_ms_since(t0));
		memset(&e, 0, sizeof(e));
		tu_assert_ok(woof_read(w, 1, &e, NULL));
		cr_assert(kel_ok(&e) && e.writer == 9);
		woof_close(w);

		int n = 0;
		tu_assert_ok(woof_ns_list(tu_ns, list_names, &n));
		cr_assert(n == 1, "round %d: woof_ns_list found %d entries besides/instead of \"rw\"", r, n);
	}
}
