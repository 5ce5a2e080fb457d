/* SPDX-License-Identifier: MIT */
/*
 * throughput.c - total append throughput with 1 and 2 processes, and the
 * shared-ring floor for the same two cases.
 *
 * The harness forks P children. Each child first warms up, one child at a
 * time: history_size consecutive appends, so that every page of the ring
 * is faulted into its own page tables (a forked child does not inherit the
 * parent's PTEs of a shared file mapping, and two children appending at
 * once each touch only the slots they happen to win). Then, for each run,
 * it reports ready on a pipe, spins (yielding) on a counter in shared
 * memory until the parent starts the run, does N appends and stores its
 * finish time. The parent waits on the pipe until all P children are
 * ready, takes the start time and releases them with one store. With 2
 * processes each child is pinned to its own CPU (pick_cpus). A run's wall
 * time is from that common start to the last child's finish; its
 * throughput is P*N / wall. The parent sleeps in read() while the children
 * run, so it takes no CPU from them.
 *
 * The runs on the WOOF alternate with runs on the floor's ring (ring, WOOF,
 * ring, WOOF, ...) in the same children, so that both see the same
 * machine: on these VMs the cost of moving a cache line between the two
 * vCPUs depends on where the host runs them, and changes between runs.
 *
 * The WOOF runs use WooFAppend on a handle that the parent opened once
 * (WooFOpen) before fork, on a WOOF created empty for the purpose; after
 * all runs the latest sequence number must equal the number of appends,
 * and every retained element must be one a child wrote, each child's
 * elements in the order it appended them. Anything else is a FAIL.
 *
 * The floor runs append to a shared anonymous mapping of the same slot size
 * and (power-of-two rounded) history: claim a slot with one atomic
 * fetch-add, copy the element, publish it with a release store.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <woofc.h>

#include "bench.h"

#define TP_TARGETS 2		/* the ring floor and the WOOF */
#define TP_ROUNDS (TP_TARGETS * BENCH_MAX_REPS)

struct tp_shm {
	_Atomic unsigned go;		/* runs started so far */
	_Atomic unsigned warm_turn;	/* the child that may warm up now */
	unsigned pad0[14];
	uint64_t start_ns[TP_ROUNDS];
	uint64_t end_ns[TP_ROUNDS][BENCH_MAX_PROCS];
	long faults[TP_TARGETS][BENCH_MAX_PROCS];	/* during timed runs */
	_Atomic uint64_t ring_head __attribute__((aligned(64)));	/* floor ring */
	uint64_t pad1[7];
};

struct tp_target {
	/* append @count elements, tagged @first.. for child @id; 0 or -1 */
	int (*append)(const struct tp_target *t, unsigned id, uint64_t first,
		      uint64_t count);
	size_t esz;
	/* WOOF target */
	WOOF *wf;
	/* ring target */
	struct tp_shm *shm;
	unsigned char *slots;
	uint64_t mask;
	uint64_t slot_size;
};

static void tag_element(unsigned char *el, size_t esz, unsigned id, uint64_t ctr)
{
	uint64_t t[2] = { BENCH_TAG_MAGIC + id, ctr };

	if (esz >= sizeof(t))
		memcpy(el, t, sizeof(t));
}

static int woof_append_n(const struct tp_target *t, unsigned id, uint64_t first,
			 uint64_t count)
{
	unsigned char *el = calloc(1, t->esz);
	int ret = 0;

	if (!el)
		return -1;
	memset(el, 0x3c, t->esz);
	for (uint64_t i = 0; i < count; i++) {
		tag_element(el, t->esz, id, first + i);
		if (WooFInvalid(WooFAppend(t->wf, NULL, el))) {
			ret = -1;
			break;
		}
	}
	free(el);
	return ret;
}

static int ring_append_n(const struct tp_target *t, unsigned id, uint64_t first,
			 uint64_t count)
{
	unsigned char *el = calloc(1, t->esz);

	if (!el)
		return -1;
	memset(el, 0x3c, t->esz);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t s = atomic_fetch_add_explicit(&t->shm->ring_head, 1,
						       memory_order_relaxed);
		unsigned char *slot = t->slots + (s & t->mask) * t->slot_size;

		tag_element(el, t->esz, id, first + i);
		memcpy(slot + WOOF_SLOT_HEADER_SIZE, el, t->esz);
		atomic_store_explicit((_Atomic uint64_t *)slot, s + 1,
				      memory_order_release);
	}
	free(el);
	return 0;
}

static int read_bytes(int fd, unsigned n)
{
	char buf[BENCH_MAX_PROCS];

	while (n > 0) {
		ssize_t r = read(fd, buf, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;	/* a child died */
		n -= (unsigned)r;
	}
	return 0;
}

/*
 * Choose a CPU for each child: the id-th CPU this process may run on, when
 * there are at least @procs of them; -1 otherwise (no pinning). Pinning
 * makes "2 processes" mean two processes running at the same time on two
 * CPUs: unpinned, the scheduler sometimes time-slices both on one CPU,
 * which removes the contention and changes the result several-fold.
 */
static void pick_cpus(unsigned procs, int *cpus)
{
	cpu_set_t set;
	unsigned found = 0;

	for (unsigned i = 0; i < procs; i++)
		cpus[i] = -1;
	if (procs < 2 || sched_getaffinity(0, sizeof(set), &set) != 0 ||
	    (unsigned)CPU_COUNT(&set) < procs)
		return;
	for (int c = 0; c < CPU_SETSIZE && found < procs; c++)
		if (CPU_ISSET(c, &set))
			cpus[found++] = c;
}

static void child_main(struct tp_shm *shm, int wfd, const struct tp_target *t,
		       unsigned nt, unsigned procs, unsigned id, int cpu,
		       uint64_t warm, uint64_t n, unsigned rounds)
{
	uint64_t ctr[TP_TARGETS] = { 0 };

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			_exit(5);
	}
	/* one child at a time, so that each child's appends fill the whole ring */
	for (unsigned k = 0; k < nt; k++) {
		unsigned turn = k * procs + id;

		while (atomic_load_explicit(&shm->warm_turn, memory_order_acquire) != turn)
			sched_yield();
		if (t[k].append(&t[k], id, ctr[k], warm) != 0)
			_exit(3);
		ctr[k] += warm;
		atomic_store_explicit(&shm->warm_turn, turn + 1, memory_order_release);
	}
	for (unsigned r = 0; r < rounds; r++) {
		unsigned k = r % nt;
		long fl0;

		if (write(wfd, "r", 1) != 1)
			_exit(4);
		while (atomic_load_explicit(&shm->go, memory_order_acquire) <= r)
			sched_yield();
		fl0 = bench_faults();
		if (t[k].append(&t[k], id, ctr[k], n) != 0)
			_exit(3);
		shm->end_ns[r][id] = now_ns();
		shm->faults[k][id] += bench_faults() - fl0;
		ctr[k] += n;
	}
	if (write(wfd, "d", 1) != 1)
		_exit(4);
	_exit(0);
}

/*
 * Run the harness with @procs children on the @nt targets @t, their runs
 * interleaved (t[0], t[1], t[0], ...), so that a floor and the figure it is
 * compared with see the same machine weather; fill @f[k] for each target.
 * Returns 0, or -1 after a FAIL (a child failed or died).
 */
static int tp_measure(struct bench *b, const struct tp_target *t, unsigned nt,
		      struct tp_shm *shm, unsigned procs, struct figure **f)
{
	uint64_t warm = b->cfg.history, n = b->cfg.appends;
	unsigned rounds = b->cfg.reps * nt;
	const char *label = f[nt - 1]->label;
	pid_t pids[BENCH_MAX_PROCS];
	int cpus[BENCH_MAX_PROCS];
	double v[BENCH_MAX_REPS];
	int pfd[2], ret = 0;
	unsigned started = 0;

	atomic_store(&shm->go, 0);
	atomic_store(&shm->warm_turn, 0);
	memset(shm->faults, 0, sizeof(shm->faults));
	pick_cpus(procs, cpus);
	if (pipe(pfd) != 0) {
		bench_fail(b, "%s: pipe: %s", label, strerror(errno));
		return -1;
	}
	fflush(NULL);
	for (unsigned i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			bench_fail(b, "%s: fork: %s", label, strerror(errno));
			ret = -1;
			break;
		}
		if (pids[i] == 0) {
			close(pfd[0]);
			child_main(shm, pfd[1], t, nt, procs, i, cpus[i], warm, n, rounds);
		}
		started++;
	}
	close(pfd[1]);
	for (unsigned r = 0; ret == 0 && r < rounds; r++) {
		if (read_bytes(pfd[0], procs) != 0) {
			ret = -1;
			break;
		}
		shm->start_ns[r] = now_ns();
		atomic_store_explicit(&shm->go, r + 1, memory_order_release);
	}
	if (ret == 0 && read_bytes(pfd[0], procs) != 0)
		ret = -1;
	close(pfd[0]);
	for (unsigned i = 0; i < started; i++) {
		int st;

		if (ret != 0)
			kill(pids[i], SIGKILL);
		if (waitpid(pids[i], &st, 0) < 0)
			continue;
		if (ret == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			ret = -1;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
			bench_fail(b, "%s: child %u: an append failed", label, i);
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 5)
			bench_fail(b, "%s: child %u: cannot pin to CPU %d", label, i, cpus[i]);
		else if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
			bench_fail(b, "%s: child %u killed by signal %d", label, i,
				   WTERMSIG(st));
	}
	if (ret != 0) {
		if (b->failures == 0)
			bench_fail(b, "%s: a child process failed", label);
		return -1;
	}
	for (unsigned k = 0; k < nt; k++) {
		unsigned nv = 0;

		for (unsigned r = k; r < rounds; r += nt) {
			uint64_t end = 0;

			for (unsigned i = 0; i < procs; i++)
				if (shm->end_ns[r][i] > end)
					end = shm->end_ns[r][i];
			v[nv++] = (double)(end - shm->start_ns[r]) / (double)(procs * n);
		}
		bench_finish(f[k], v, nv);
		f[k]->faults = 0;
		for (unsigned i = 0; i < procs; i++)
			f[k]->faults += shm->faults[k][i];
		f[k]->rate = 1e9 / f[k]->median_ns;
		f[k]->worst_rate = 1e9 / f[k]->p99_ns;
		f[k]->procs = procs;
		f[k]->ops = n;
		f[k]->batch = 0;
		f[k]->pinned = cpus[0] >= 0;
	}
	return 0;
}

/*
 * Check the retained window of the throughput WOOF: every element tagged
 * by a child < @procs, each child's counters strictly increasing with seq
 * and below the number of appends each child made.
 */
static void tput_check_elements(struct bench *b, WOOF *wf, unsigned procs,
				uint64_t latest, struct figure *f)
{
	uint64_t per_child = b->cfg.history + b->cfg.reps * b->cfg.appends;
	uint64_t oldest = latest > b->cfg.history ? latest - b->cfg.history + 1 : 1;
	uint64_t last[BENCH_MAX_PROCS];
	bool seen[BENCH_MAX_PROCS] = { false };
	unsigned char *el;

	if (b->cfg.element_size < 2 * sizeof(uint64_t))
		return;		/* too small to carry the tag */
	el = calloc(1, b->cfg.element_size);
	if (!el)
		return;
	for (uint64_t s = oldest; s <= latest; s++) {
		uint64_t t[2];
		unsigned id;

		if (WooFRead(wf, el, s) < 0) {
			bench_fail(b, "%s: WooFRead(seq %llu) in the window [%llu, %llu]: %s",
				   f->label, (unsigned long long)s,
				   (unsigned long long)oldest, (unsigned long long)latest,
				   strerror(errno));
			break;
		}
		memcpy(t, el, sizeof(t));
		id = (unsigned)(t[0] - BENCH_TAG_MAGIC);
		if (t[0] < BENCH_TAG_MAGIC || id >= procs || t[1] >= per_child ||
		    (seen[id] && t[1] <= last[id])) {
			bench_fail(b, "%s: seq %llu holds a foreign, torn or out-of-order element "
				   "(tag %#llx, counter %llu)", f->label, (unsigned long long)s,
				   (unsigned long long)t[0], (unsigned long long)t[1]);
			break;
		}
		seen[id] = true;
		last[id] = t[1];
	}
	free(el);
}

/*
 * WooFAppend throughput for @procs processes on a fresh WOOF, interleaved
 * with the shared-ring floor for as many processes. The ring lives in the
 * same shared mapping as the harness's control block, after it.
 */
static void tput_pair(struct bench *b, unsigned procs, struct figure *ring_fig,
		      struct figure *f)
{
	uint64_t slot = WOOF_SLOT_SIZE(b->cfg.element_size), nslots = 1;
	uint64_t want = procs * (b->cfg.history + b->cfg.reps * b->cfg.appends);
	struct tp_target t[TP_TARGETS] = {
		{ .append = ring_append_n, .esz = b->cfg.element_size },
		{ .append = woof_append_n, .esz = b->cfg.element_size },
	};
	struct figure *figs[TP_TARGETS] = { ring_fig, f };
	struct tp_shm *shm;
	char name[32];
	size_t len;
	void *p;

	while (nslots < b->cfg.history)
		nslots *= 2;
	len = sizeof(*shm) + nslots * slot;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		bench_fail(b, "%s: mmap of %zu bytes failed", f->label, len);
		return;
	}
	shm = p;
	t[0].shm = shm;
	t[0].slots = (unsigned char *)(shm + 1);
	t[0].mask = nslots - 1;
	t[0].slot_size = slot;

	snprintf(name, sizeof(name), "bench-tput%u", procs);
	if (WooFCreate(name, b->cfg.element_size, b->cfg.history) < 0) {
		bench_fail(b, "%s: WooFCreate(%s): %s", f->label, name, strerror(errno));
		munmap(p, len);
		return;
	}
	t[1].wf = WooFOpen(name);
	if (!t[1].wf) {
		bench_fail(b, "%s: WooFOpen(%s): %s", f->label, name, strerror(errno));
	} else if (tp_measure(b, t, TP_TARGETS, shm, procs, figs) == 0) {
		uint64_t head = atomic_load(&shm->ring_head);
		unsigned long latest = WooFGetLatestSeqno(name);

		if (head != want)
			bench_fail(b, "%s: ring head %llu != total appends %llu",
				   ring_fig->label, (unsigned long long)head,
				   (unsigned long long)want);
		snprintf(f->note_buf, sizeof(f->note_buf),
			 "%u x %llu appends x %u runs%s, latest seq %lu", procs,
			 (unsigned long long)b->cfg.appends, b->cfg.reps,
			 f->pinned ? ", one CPU each" : "", latest);
		f->note = f->note_buf;
		if (latest != want)
			bench_fail(b, "%s: latest seq %lu != total appends %llu", f->label,
				   latest, (unsigned long long)want);
		else
			tput_check_elements(b, t[1].wf, procs, latest, f);
	}
	if (t[1].wf)
		WooFFree(t[1].wf);
	WooFRemove(name);
	munmap(p, len);
}

void tput_run_all(struct bench *b)
{
	if (b->fig[FIG_TPUT_1P].selected)
		tput_pair(b, 1, &b->floor[FLOOR_RING_TPUT_1P], &b->fig[FIG_TPUT_1P]);
	if (b->fig[FIG_TPUT_2P].selected)
		tput_pair(b, 2, &b->floor[FLOOR_RING_TPUT_2P], &b->fig[FIG_TPUT_2P]);
}
