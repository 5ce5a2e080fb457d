/* SPDX-License-Identifier: MIT */
/*
 * stress.c - concurrent appenders and readers, processes and threads.
 *
 * Every element carries (writer id, counter, payload, checksum). After N
 * concurrent appends: latest == N; the sequence numbers woof_append()
 * returned are exactly 1..N, each once; every element is intact and sits at
 * the seq its writer was told. With a small history and concurrent readers:
 * a read never returns a torn element (checksum), never an element other
 * than the one appended at the seq it reports (checked afterwards against
 * the writers' record), seq 0 always yields something once the WOOF is not
 * empty, and woof_latest() never goes backwards. Also: threads sharing one
 * handle, and threads using the by-name calls.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>

TestSuite(stress, .init = tu_setup, .fini = tu_teardown, .timeout = 150);

struct sel {
	uint32_t writer;
	uint32_t magic;
	uint64_t counter;
	uint64_t payload[5];
	uint64_t csum;
};
#define SEL_MAGIC 0x57ee1e57U

static void sel_make(struct sel *e, uint32_t writer, uint64_t counter)
{
	e->writer = writer;
	e->magic = SEL_MAGIC;
	e->counter = counter;
	for (int i = 0; i < 5; i++)
		e->payload[i] = (counter * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)writer << 48) ^ (uint64_t)i;
	e->csum = tu_checksum(e, offsetof(struct sel, csum));
}

static bool sel_ok(const struct sel *e)
{
	if (e->magic != SEL_MAGIC || e->csum != tu_checksum(e, offsetof(struct sel, csum)))
		return false;
	for (int i = 0; i < 5; i++)
		if (e->payload[i] != ((e->counter * 0x9e3779b97f4a7c15ULL) ^
				      ((uint64_t)e->writer << 48) ^ (uint64_t)i))
			return false;
	return true;
}

/* (writer, counter) packed; 0 = none */
static inline uint64_t tag(uint32_t writer, uint64_t counter)
{
	return ((uint64_t)(writer + 1) << 40) | counter;
}

/*
 * Check that seqs[w * per + c] (the seq writer w was given for counter c)
 * are exactly 1..total; fill owner[seq] = tag(w, c).
 */
static void check_permutation(const uint64_t *seqs, int writers, uint64_t per,
			      uint64_t *owner)
{
	uint64_t total = (uint64_t)writers * per, dup = 0, zero = 0, range = 0;

	for (int w = 0; w < writers; w++) {
		for (uint64_t c = 0; c < per; c++) {
			uint64_t s = seqs[(uint64_t)w * per + c];
			if (s == 0) {
				zero++;
				continue;
			}
			if (s > total) {
				range++;
				continue;
			}
			if (owner[s])
				dup++;
			owner[s] = tag((uint32_t)w, c);
		}
	}
	cr_assert(zero == 0, "%llu appends returned no sequence number", (unsigned long long)zero);
	cr_assert(range == 0, "%llu sequence numbers > %llu", (unsigned long long)range,
		  (unsigned long long)total);
	cr_assert(dup == 0, "%llu duplicate sequence numbers", (unsigned long long)dup);
	for (uint64_t s = 1; s <= total; s++)
		cr_assert(owner[s], "sequence number %llu never returned (gap)",
			  (unsigned long long)s);
}

/* Read back every seq of @w and check it against owner[]. */
static void check_contents(struct woof *w, uint64_t total, const uint64_t *owner)
{
	struct sel e;
	uint64_t sr;

	for (uint64_t s = 1; s <= total; s++) {
		int rc = woof_read(w, s, &e, &sr);
		cr_assert(rc == 0, "read seq %llu: %s", (unsigned long long)s, tu_err(rc));
		cr_assert(sr == s);
		cr_assert(sel_ok(&e), "seq %llu: element corrupt (writer %u counter %llu)",
			  (unsigned long long)s, e.writer, (unsigned long long)e.counter);
		cr_assert(tag(e.writer, e.counter) == owner[s],
			  "seq %llu holds writer %u counter %llu, but that append was told seq %llu's owner is %llx",
			  (unsigned long long)s, e.writer, (unsigned long long)e.counter,
			  (unsigned long long)s, (unsigned long long)owner[s]);
	}
}

/* ---- processes, big history --------------------------------------------- */

#define P_WRITERS 8
#define P_PER 20000

struct pshared {
	const char *dir;
	const char *name;
	struct woof *inherited;
	uint64_t per;
	uint64_t *seqs;		/* shared */
	_Atomic int *done;	/* shared: writers finished */
	int writers;
};

static int proc_writer(int idx, void *arg)
{
	struct pshared *ps = arg;
	struct woof_ns *ns = NULL;
	struct woof *w = NULL;
	struct sel e;
	int mode = idx % 3;	/* 0: fresh handle, 1: inherited handle, 2: by name */

	if (mode != 1) {
		if (woof_ns_open(ps->dir, &ns))
			return 10;
		if (mode == 0 && woof_open(ns, ps->name, &w))
			return 11;
	} else {
		w = ps->inherited;
	}
	for (uint64_t c = 0; c < ps->per; c++) {
		uint64_t seq = 0;
		int rc;
		sel_make(&e, (uint32_t)idx, c);
		if (mode == 2)
			rc = woof_put(ns, ps->name, NULL, &e, &seq);
		else
			rc = woof_append(w, &e, NULL, &seq);
		if (rc) {
			fprintf(stderr, "writer %d: append %llu: %s\n", idx,
				(unsigned long long)c, tu_err(rc));
			return 12;
		}
		ps->seqs[(uint64_t)idx * ps->per + c] = seq;
	}
	return 0;
}

Test(stress, processes_big_history)
{
	uint64_t total = (uint64_t)P_WRITERS * P_PER;
	struct woof *w = tu_create(tu_ns, "big", sizeof(struct sel), total);
	struct pshared ps = {
		.dir = tu_dir, .name = "big", .inherited = w, .per = P_PER,
		.seqs = tu_shared(total * sizeof(uint64_t)), .writers = P_WRITERS,
	};
	uint64_t *owner = calloc(total + 1, sizeof(uint64_t));

	uint64_t t0 = tu_now_ns();
	tu_assert_rc(tu_run_children(P_WRITERS, proc_writer, &ps, 120000), 0);
	cr_log_info("%llu appends by %d processes in %.0f ms", (unsigned long long)total,
		    P_WRITERS, tu_ms_since(t0));
	tu_assert_u64(woof_latest(w), total);
	check_permutation(ps.seqs, P_WRITERS, P_PER, owner);
	check_contents(w, total, owner);
	struct woof_stat st;
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.oldest, 1);
	free(owner);
	woof_close(w);
}

/* ---- processes, small history, concurrent readers -------------------------- */

#define S_WRITERS 4
#define S_PER 100000
#define S_HIST 64
#define S_READERS 2
#define S_LOG 200000

struct rsample {
	uint64_t seq;
	uint64_t tag;
};

struct rstats {
	uint64_t ok, enodata, bad_csum, bad_seq, bad_rc, latest_back, nsamples;
	int last_bad_rc;
	struct rsample log[S_LOG];
};

struct sshared {
	struct pshared p;
	struct rstats *rs;	/* shared, S_READERS of them */
};

static int small_child(int idx, void *arg)
{
	struct sshared *ss = arg;

	if (idx < S_WRITERS) {
		int rc = proc_writer(idx, &ss->p);
		atomic_fetch_add(ss->p.done, 1);
		return rc;
	}
	/* a reader */
	struct rstats *st = &ss->rs[idx - S_WRITERS];
	struct woof_ns *ns;
	struct woof *w;
	uint64_t rnd = tu_seed() + (uint64_t)idx, last_latest = 0;
	struct sel e;

	if (woof_ns_open(ss->p.dir, &ns) || woof_open(ns, ss->p.name, &w))
		return 20;
	while (atomic_load(ss->p.done) < S_WRITERS) {
		uint64_t latest = woof_latest(w), want, sr = 0;
		if (latest < last_latest)
			st->latest_back++;
		last_latest = latest;
		if (latest == 0)
			continue;
		uint64_t r = tu_rand(&rnd);
		if (r % 4 == 0) {
			want = 0;
		} else {
			uint64_t lo = latest > S_HIST ? latest - S_HIST + 1 : 1;
			want = lo + (r >> 8) % (latest - lo + 1);
		}
		int rc = woof_read(w, want, &e, &sr);
		if (rc == 0) {
			st->ok++;
			if (!sel_ok(&e))
				st->bad_csum++;
			if ((want && sr != want) || (!want && sr < latest))
				st->bad_seq++;
			if (st->nsamples < S_LOG) {
				st->log[st->nsamples].seq = sr;
				st->log[st->nsamples].tag = tag(e.writer, e.counter);
				st->nsamples++;
			}
		} else if (rc == -ENODATA && want != 0) {
			st->enodata++;
		} else {
			st->bad_rc++;
			st->last_bad_rc = rc;
		}
	}
	return 0;
}

Test(stress, processes_small_history_with_readers)
{
	uint64_t total = (uint64_t)S_WRITERS * S_PER;
	struct woof *w = tu_create(tu_ns, "small", sizeof(struct sel), S_HIST);
	struct sshared ss = {
		.p = { .dir = tu_dir, .name = "small", .inherited = w, .per = S_PER,
		       .seqs = tu_shared(total * sizeof(uint64_t)),
		       .done = tu_shared(sizeof(_Atomic int)), .writers = S_WRITERS },
		.rs = tu_shared(S_READERS * sizeof(struct rstats)),
	};
	uint64_t *owner = calloc(total + 1, sizeof(uint64_t));

	uint64_t t0 = tu_now_ns();
	tu_assert_rc(tu_run_children(S_WRITERS + S_READERS, small_child, &ss, 120000), 0);
	cr_log_info("%llu appends with %d readers in %.0f ms", (unsigned long long)total,
		    S_READERS, tu_ms_since(t0));
	tu_assert_u64(woof_latest(w), total);
	check_permutation(ss.p.seqs, S_WRITERS, S_PER, owner);

	uint64_t ok = 0;
	for (int r = 0; r < S_READERS; r++) {
		struct rstats *st = &ss.rs[r];
		cr_log_info("reader %d: %llu ok, %llu -ENODATA", r, (unsigned long long)st->ok,
			    (unsigned long long)st->enodata);
		cr_assert(st->bad_csum == 0, "reader %d got %llu torn elements", r,
			  (unsigned long long)st->bad_csum);
		cr_assert(st->bad_seq == 0, "reader %d got %llu reads with the wrong seq_read", r,
			  (unsigned long long)st->bad_seq);
		cr_assert(st->bad_rc == 0, "reader %d got %llu unexpected errors (last %s)", r,
			  (unsigned long long)st->bad_rc, tu_err(st->last_bad_rc));
		cr_assert(st->latest_back == 0, "reader %d saw woof_latest() go back %llu times", r,
			  (unsigned long long)st->latest_back);
		for (uint64_t i = 0; i < st->nsamples; i++) {
			uint64_t s = st->log[i].seq;
			cr_assert(s >= 1 && s <= total && owner[s] == st->log[i].tag,
				  "reader %d read seq %llu = writer %llu counter %llu, but that seq was "
				  "given to tag %llx: an overwritten or misplaced element",
				  r, (unsigned long long)s,
				  (unsigned long long)(st->log[i].tag >> 40) - 1,
				  (unsigned long long)(st->log[i].tag & ((1ULL << 40) - 1)),
				  (unsigned long long)(s <= total ? owner[s] : 0));
		}
		ok += st->ok;
	}
	cr_assert(ok >= 1000, "readers completed only %llu reads: the test proved little",
		  (unsigned long long)ok);

	/* the final window is intact */
	struct sel e;
	for (uint64_t s = total - S_HIST + 1; s <= total; s++) {
		tu_assert_ok(woof_read(w, s, &e, NULL));
		cr_assert(sel_ok(&e) && tag(e.writer, e.counter) == owner[s]);
	}
	tu_assert_rc(woof_read(w, total - S_HIST, &e, NULL), -ENODATA);
	free(owner);
	woof_close(w);
}

/* ---- big elements: a torn copy is likelier when a copy takes long ------- */

#define B_SIZE 4096
#define B_WRITERS 2
#define B_PER 15000
#define B_HIST 8
#define B_READERS 2

struct bel {
	uint32_t writer;
	uint32_t magic;
	uint64_t counter;
	unsigned char data[B_SIZE - 24];
	uint64_t csum;
};

static void bel_make(struct bel *e, uint32_t writer, uint64_t counter)
{
	e->writer = writer;
	e->magic = SEL_MAGIC;
	e->counter = counter;
	memset(e->data, (int)(counter * 13 + writer), sizeof(e->data));
	e->csum = tu_checksum(e, offsetof(struct bel, csum));
}

static bool bel_ok(const struct bel *e)
{
	unsigned char want = (unsigned char)(e->counter * 13 + e->writer);
	if (e->magic != SEL_MAGIC)
		return false;
	/* the fill byte is the cheap check, the checksum the exact one */
	if (e->data[0] != want || e->data[sizeof(e->data) - 1] != want)
		return false;
	return e->csum == tu_checksum(e, offsetof(struct bel, csum));
}

struct bshared {
	const char *dir;
	uint64_t *seqs;
	_Atomic int *done;
	struct { uint64_t ok, enodata, torn, bad_seq, bad_rc; int last_rc; } *rs;
};

static int big_child(int idx, void *arg)
{
	struct bshared *b = arg;
	struct woof_ns *ns;
	struct woof *w;
	struct bel *e = malloc(sizeof(*e));

	if (!e || woof_ns_open(b->dir, &ns) || woof_open(ns, "bel", &w))
		return 10;
	if (idx < B_WRITERS) {
		for (uint64_t c = 0; c < B_PER; c++) {
			uint64_t seq = 0;
			bel_make(e, (uint32_t)idx, c);
			if (woof_append(w, e, NULL, &seq))
				return 11;
			b->seqs[(uint64_t)idx * B_PER + c] = seq;
		}
		atomic_fetch_add(b->done, 1);
		return 0;
	}
	uint64_t rnd = tu_seed() + (uint64_t)idx;
	typeof(&b->rs[0]) st = &b->rs[idx - B_WRITERS];
	while (atomic_load(b->done) < B_WRITERS) {
		uint64_t latest = woof_latest(w), sr = 0, want;
		if (!latest)
			continue;
		uint64_t lo = latest > B_HIST ? latest - B_HIST + 1 : 1;
		/* mostly the oldest retained ones: the slots being overwritten */
		uint64_t r = tu_rand(&rnd);
		want = r % 3 == 0 ? 0 : lo + (r >> 8) % (latest - lo + 1 < 3 ? latest - lo + 1 : 3);
		int rc = woof_read(w, want, e, &sr);
		if (rc == 0) {
			st->ok++;
			if (!bel_ok(e))
				st->torn++;
			if (want && sr != want)
				st->bad_seq++;
		} else if (rc == -ENODATA && want) {
			st->enodata++;
		} else {
			st->bad_rc++;
			st->last_rc = rc;
		}
	}
	return 0;
}

Test(stress, big_elements_small_history_with_readers)
{
	uint64_t total = (uint64_t)B_WRITERS * B_PER;
	struct woof *w = tu_create(tu_ns, "bel", sizeof(struct bel), B_HIST);
	struct bshared b = {
		.dir = tu_dir, .seqs = tu_shared(total * sizeof(uint64_t)),
		.done = tu_shared(sizeof(_Atomic int)),
		.rs = tu_shared(B_READERS * sizeof(b.rs[0])),
	};
	uint64_t *owner = calloc(total + 1, sizeof(uint64_t));

	tu_assert_rc(tu_run_children(B_WRITERS + B_READERS, big_child, &b, 120000), 0);
	tu_assert_u64(woof_latest(w), total);
	check_permutation(b.seqs, B_WRITERS, B_PER, owner);
	for (int r = 0; r < B_READERS; r++) {
		cr_log_info("big reader %d: %llu ok, %llu -ENODATA", r,
			    (unsigned long long)b.rs[r].ok, (unsigned long long)b.rs[r].enodata);
		cr_assert(b.rs[r].torn == 0, "big reader %d: %llu torn elements", r,
			  (unsigned long long)b.rs[r].torn);
		cr_assert(b.rs[r].bad_seq == 0, "big reader %d: %llu wrong seq_read", r,
			  (unsigned long long)b.rs[r].bad_seq);
		cr_assert(b.rs[r].bad_rc == 0, "big reader %d: %llu unexpected errors (last %s)", r,
			  (unsigned long long)b.rs[r].bad_rc, tu_err(b.rs[r].last_rc));
		cr_assert(b.rs[r].ok > 100, "big reader %d: only %llu reads", r,
			  (unsigned long long)b.rs[r].ok);
	}
	free(owner);
	woof_close(w);
}

/* ---- RESET and remove racing ---------------------------------------------- */

struct race {
	const char *dir;
	struct { uint64_t creates, removes, bad_create, bad_remove, bad_append; int last[3]; } *st;
};

static int race_child(int idx, void *arg)
{
	struct race *r = arg;
	struct woof_ns *ns;
	struct woof_create_opts o = tu_opts(16, 4, WOOF_CREATE_RESET);
	uint64_t t0 = tu_now_ns(), x[2] = {1, 2};
	typeof(&r->st[0]) st = &r->st[idx];

	if (woof_ns_open(r->dir, &ns))
		return 10;
	/* 300 ms and at least 50 creates (a loaded machine may be slow), at most 10 s */
	for (uint64_t c = 0; (tu_now_ns() - t0 < 300000000ULL || st->creates < 50) &&
			     tu_now_ns() - t0 < 10000000000ULL; c++) {
		struct woof *w = NULL;
		int rc = woof_create(ns, "race", &o, &w);
		if (rc == 0) {
			st->creates++;
			rc = woof_append(w, x, NULL, NULL);
			if (rc && rc != -ESTALE) {
				st->bad_append++;
				st->last[2] = rc;
			}
			woof_close(w);
		} else {
			st->bad_create++;
			st->last[0] = rc;
		}
		if ((c + (uint64_t)idx) % 3 == 0) {
			rc = woof_remove(ns, "race");
			if (rc == 0) {
				st->removes++;
			} else if (rc != -ENOENT) {
				st->bad_remove++;
				st->last[1] = rc;
			}
		}
	}
	return 0;
}

/*
 * Processes re-creating (RESET) and removing one name at once: RESET means
 * "make an empty WOOF of this name whether or not one exists", so it must
 * succeed every time; remove succeeds or says -ENOENT.
 */
Test(stress, concurrent_reset_and_remove)
{
	struct race r = { .dir = tu_dir, .st = tu_shared(3 * sizeof(r.st[0])) };

	tu_assert_rc(tu_run_children(3, race_child, &r, 30000), 0);
	for (int i = 0; i < 3; i++) {
		cr_log_info("racer %d: %llu creates, %llu removes", i,
			    (unsigned long long)r.st[i].creates, (unsigned long long)r.st[i].removes);
		cr_expect(r.st[i].bad_create == 0, "racer %d: %llu woof_create(RESET) failures (last %s)",
			  i, (unsigned long long)r.st[i].bad_create, tu_err(r.st[i].last[0]));
		cr_expect(r.st[i].bad_remove == 0, "racer %d: %llu woof_remove failures (last %s)",
			  i, (unsigned long long)r.st[i].bad_remove, tu_err(r.st[i].last[1]));
		cr_expect(r.st[i].bad_append == 0, "racer %d: %llu append failures (last %s)",
			  i, (unsigned long long)r.st[i].bad_append, tu_err(r.st[i].last[2]));
		cr_assert(r.st[i].creates > 10, "racer %d made only %llu creates", i,
			  (unsigned long long)r.st[i].creates);
	}
	struct woof_create_opts o = tu_opts(16, 4, WOOF_CREATE_RESET);
	tu_assert_ok(woof_create(tu_ns, "race", &o, NULL));
}

/* ---- threads ---------------------------------------------------------------- */

#define T_THREADS 4
#define T_PER 25000

struct tshared {
	struct woof *w;
	struct woof_ns *ns;
	const char *name;
	uint64_t per;
	uint64_t *seqs;
	int idx;
	int err;
	_Atomic int *done;
	uint64_t reads, torn;
};

static void *thread_writer(void *arg)
{
	struct tshared *t = arg;
	struct sel e;

	for (uint64_t c = 0; c < t->per; c++) {
		uint64_t seq = 0;
		int rc;
		sel_make(&e, (uint32_t)t->idx, c);
		if (t->w)
			rc = woof_append(t->w, &e, NULL, &seq);
		else
			rc = woof_put(t->ns, t->name, NULL, &e, &seq);
		if (rc) {
			t->err = rc;
			break;
		}
		t->seqs[(uint64_t)t->idx * t->per + c] = seq;
	}
	atomic_fetch_add(t->done, 1);
	return NULL;
}

static void *thread_reader(void *arg)
{
	struct tshared *t = arg;
	struct sel e;

	while (atomic_load(t->done) < T_THREADS) {
		int rc = woof_get(t->ns, t->name, 0, &e, NULL);
		if (rc == 0) {
			t->reads++;
			if (!sel_ok(&e))
				t->torn++;
		} else if (rc != -ENODATA) {
			t->err = rc;
			break;
		}
	}
	return NULL;
}

static void run_threads(struct woof *w, const char *name, uint64_t per, bool by_name)
{
	uint64_t total = T_THREADS * per;
	uint64_t *seqs = calloc(total, sizeof(uint64_t));
	uint64_t *owner = calloc(total + 1, sizeof(uint64_t));
	struct tshared t[T_THREADS + 1];
	pthread_t th[T_THREADS + 1];
	_Atomic int done = 0;

	for (int i = 0; i <= T_THREADS; i++) {
		t[i] = (struct tshared){ .w = by_name ? NULL : w, .ns = tu_ns, .name = name,
					 .per = per, .seqs = seqs, .idx = i, .done = &done };
		cr_assert(pthread_create(&th[i], NULL, i < T_THREADS ? thread_writer : thread_reader,
					 &t[i]) == 0);
	}
	for (int i = 0; i <= T_THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < T_THREADS; i++)
		cr_assert(t[i].err == 0, "thread %d: %s", i, tu_err(t[i].err));
	cr_assert(t[T_THREADS].err == 0, "reader thread: %s", tu_err(t[T_THREADS].err));
	cr_assert(t[T_THREADS].torn == 0, "reader thread got %llu torn elements",
		  (unsigned long long)t[T_THREADS].torn);
	tu_assert_u64(woof_latest(w), total);
	check_permutation(seqs, T_THREADS, per, owner);
	check_contents(w, total, owner);
	free(seqs);
	free(owner);
}

Test(stress, threads_one_handle)
{
	struct woof *w = tu_create(tu_ns, "thr", sizeof(struct sel), T_THREADS * T_PER);
	run_threads(w, "thr", T_PER, false);
	woof_close(w);
}

Test(stress, threads_by_name)
{
	struct woof *w = tu_create(tu_ns, "thn", sizeof(struct sel), T_THREADS * 5000);
	run_threads(w, "thn", 5000, true);
	woof_close(w);
}

/* Many WOOFs by name from several threads: exercises the mapping cache. */
struct many {
	int idx, err;
};

#define MANY_WOOFS 300

static void *many_thread(void *arg)
{
	struct many *m = arg;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < MANY_WOOFS; i++) {
			char name[32];
			uint64_t x = ((uint64_t)m->idx << 32) | (uint64_t)i, y, seq;
			snprintf(name, sizeof(name), "m%d", (i * 7 + m->idx * 13) % MANY_WOOFS);
			int rc = woof_put(tu_ns, name, NULL, &x, &seq);
			if (!rc)
				rc = woof_get(tu_ns, name, seq, &y, NULL);
			if (!rc && y != x)
				rc = -EBADE;
			if (rc) {
				m->err = rc;
				return NULL;
			}
		}
	}
	return NULL;
}

Test(stress, threads_many_woofs_by_name)
{
	pthread_t th[T_THREADS];
	struct many m[T_THREADS];

	for (int i = 0; i < MANY_WOOFS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "m%d", i);
		woof_close(tu_create(tu_ns, name, 8, 3 * T_THREADS));
	}
	for (int i = 0; i < T_THREADS; i++) {
		m[i] = (struct many){ .idx = i };
		cr_assert(pthread_create(&th[i], NULL, many_thread, &m[i]) == 0);
	}
	for (int i = 0; i < T_THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < T_THREADS; i++)
		cr_assert(m[i].err == 0, "thread %d: %s", i, tu_err(m[i].err));
	for (int i = 0; i < MANY_WOOFS; i++) {
		char name[32];
		struct woof *w;
		snprintf(name, sizeof(name), "m%d", i);
		tu_assert_ok(woof_open(tu_ns, name, &w));
		tu_assert_u64(woof_latest(w), 3 * T_THREADS);
		woof_close(w);
	}
}

/*
 * The same with a mapping cache of 8 entries (WOOF_MAP_CACHE, read on first
 * use): every call evicts and maps again while other threads use the
 * mappings, and a handle's mapping must survive all evictions.
 */
Test(stress, threads_many_woofs_small_cache)
{
	pthread_t th[T_THREADS];
	struct many m[T_THREADS];
	struct woof *keep;
	uint64_t x = 99, y = 0;

	setenv("WOOF_MAP_CACHE", "8", 1);
	for (int i = 0; i < MANY_WOOFS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "m%d", i);
		woof_close(tu_create(tu_ns, name, 8, 3 * T_THREADS + 1));
	}
	tu_assert_ok(woof_open(tu_ns, "m0", &keep));
	for (int i = 0; i < T_THREADS; i++) {
		m[i] = (struct many){ .idx = i };
		cr_assert(pthread_create(&th[i], NULL, many_thread, &m[i]) == 0);
	}
	for (int i = 0; i < T_THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < T_THREADS; i++)
		cr_assert(m[i].err == 0, "thread %d: %s", i, tu_err(m[i].err));
	/* the handle outlived every eviction */
	tu_assert_u64(woof_latest(keep), 3 * T_THREADS);
	tu_assert_ok(woof_append(keep, &x, NULL, NULL));
	tu_assert_ok(woof_read(keep, 0, &y, NULL));
	tu_assert_u64(y, 99);
	woof_close(keep);
}
