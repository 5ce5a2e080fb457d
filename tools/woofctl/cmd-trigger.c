/* SPDX-License-Identifier: MIT */
/*
 * cmd-trigger.c - the "trigger" object: ls. And what the commands about
 * dispatcherd share: reading its records (.woof/calls), naming call states
 * and results, and formatting times and durations.
 *
 * The state of a trigger comes from two places. The trigger log
 * (.woof/triggers) holds every trigger of the retained window, and its
 * done_floor says that every trigger at or below it is finished. The call
 * log (.woof/calls) holds dispatcherd's records: one when a call starts
 * (RUNNING, or REDELIVERED for attempt 2..), one when it ends (DONE,
 * FAILED), or a single one for a trigger that never ran (FAILED with a
 * reason, ORPHAN). The latest record of a trigger's highest attempt gives
 * its state. A trigger without a record is pending above done_floor, and
 * done at or below it (its records were overwritten: .woof/calls keeps the
 * last 8,192 of them).
 *
 * Nothing here writes to the namespace; only libwoof reads the WOOFs.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <woof-dispatch.h>

#include "woofctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- opening dispatcherd's WOOFs ------------------------------------------------- */

int disp_open(struct woof_ns *ns, const char *name, size_t element_size,
	      struct woof_ns **metap, struct woof **wp)
{
	char meta[PATH_MAX];
	struct woof_stat st;
	struct stat sb;
	int err;

	*metap = NULL;
	*wp = NULL;
	if ((size_t)snprintf(meta, sizeof(meta), "%s/" WOOF_NS_META_DIR "/%s",
			     woof_ns_path(ns), name) >= sizeof(meta))
		return -ENAMETOOLONG;
	/* look first: opening a missing WOOF must not leave anything behind */
	if (stat(meta, &sb) < 0)
		return -errno;
	*strrchr(meta, '/') = '\0';
	err = woof_ns_open(meta, metap);
	if (err)
		return err;
	err = woof_open(*metap, name, wp);
	if (!err)
		err = woof_stat(*wp, &st);
	if (!err && st.element_size != element_size)
		err = -EBADMSG;
	if (err) {
		disp_close(*metap, *wp);
		*metap = NULL;
		*wp = NULL;
	}
	return err;
}

void disp_close(struct woof_ns *meta, struct woof *w)
{
	if (w)
		woof_close(w);
	if (meta)
		woof_ns_close(meta);
}

/* ---- the call records --------------------------------------------------------------- */

static size_t calls_slot(const struct calls_table *t, uint64_t trigger)
{
	return (size_t)((trigger * 0x9e3779b97f4a7c15ULL) >> 20) & (t->size - 1);
}

static struct woof_call_record *calls_slot_of(struct calls_table *t, uint64_t trigger)
{
	size_t i = calls_slot(t, trigger);

	while (t->v[i].trigger && t->v[i].trigger != trigger)
		i = (i + 1) & (t->size - 1);
	return &t->v[i];
}

int calls_load(struct woof_ns *ns, struct calls_table *t)
{
	struct woof_call_record r;
	struct woof_ns *meta;
	struct woof *w;
	uint64_t latest, s;
	int err;

	memset(t, 0, sizeof(*t));
	err = disp_open(ns, WOOF_CALLS_FILE, sizeof(r), &meta, &w);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	t->present = true;
	t->size = 2 * (size_t)WOOF_CALLS_HISTORY;	/* at most HISTORY triggers: load <= 1/2 */
	t->v = calloc(t->size, sizeof(*t->v));
	if (!t->v) {
		disp_close(meta, w);
		return -ENOMEM;
	}
	latest = woof_latest(w);
	s = latest > WOOF_CALLS_HISTORY ? latest - WOOF_CALLS_HISTORY + 1 : 1;
	for (; latest && s <= latest; s++) {
		struct woof_call_record *e;

		err = woof_read(w, s, &r, NULL);
		if (err == -ENODATA)
			continue;	/* overwritten while we read: older than the window */
		if (err)
			break;
		err = 0;
		if (!r.trigger)
			continue;
		t->records++;
		r.woof[WOOF_NAME_MAX] = r.handler[WOOF_NAME_MAX] = '\0';
		e = calls_slot_of(t, r.trigger);
		if (!e->trigger) {
			t->n++;
		} else if (e->put_time_ns == r.put_time_ns && r.attempt < e->attempt) {
			continue;	/* a late record of an earlier attempt */
		}
		/* same attempt: the later record wins; another trigger log: the newer */
		*e = r;
	}
	disp_close(meta, w);
	if (err) {
		calls_free(t);
		return err;
	}
	return 0;
}

const struct woof_call_record *calls_find(const struct calls_table *t, uint64_t trigger,
					  uint64_t put_time_ns)
{
	size_t i;

	if (!t->v || !trigger)
		return NULL;
	for (i = calls_slot(t, trigger); t->v[i].trigger; i = (i + 1) & (t->size - 1)) {
		if (t->v[i].trigger == trigger) {
			if (put_time_ns && t->v[i].put_time_ns != put_time_ns)
				return NULL;
			return &t->v[i];
		}
	}
	return NULL;
}

void calls_free(struct calls_table *t)
{
	free(t->v);
	t->v = NULL;
	t->size = t->n = 0;
}

/* ---- names and results ---------------------------------------------------------------- */

const char *call_state_name(uint32_t state)
{
	static const char *const names[] = {
		[WOOF_CALL_PENDING] = "pending",
		[WOOF_CALL_RUNNING] = "running",
		[WOOF_CALL_DONE] = "done",
		[WOOF_CALL_FAILED] = "failed",
		[WOOF_CALL_REDELIVERED] = "redelivered",
		[WOOF_CALL_ORPHAN] = "orphan",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "unknown";
}

const char *call_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[WOOF_CALL_R_NONE] = "none",
		[WOOF_CALL_R_EXIT] = "exit",
		[WOOF_CALL_R_SIGNAL] = "signal",
		[WOOF_CALL_R_TIMEOUT] = "timeout",
		[WOOF_CALL_R_NOHANDLER] = "nohandler",
		[WOOF_CALL_R_NOEXEC] = "noexec",
		[WOOF_CALL_R_SPAWN] = "spawn",
		[WOOF_CALL_R_STALE] = "stale",
		[WOOF_CALL_R_REMOVED] = "removed",
		[WOOF_CALL_R_OVERWRITTEN] = "overwritten",
		[WOOF_CALL_R_ORPHAN] = "orphan",
		[WOOF_CALL_R_CLAIM] = "claim",
		[WOOF_CALL_R_CRASH] = "crash",
	};

	return reason < ARRAY_SIZE(names) ? names[reason] : "unknown";
}

const char *call_runtime_name(uint32_t runtime)
{
	switch (runtime) {
	case WOOF_RUNTIME_EXEC:
		return "exec";
	case WOOF_RUNTIME_ZYGOTE:
		return "zygote";
	case WOOF_RUNTIME_WARM:
		return "warm";
	}
	return "unknown";
}

static const char *signal_name(uint32_t sig, char *buf, size_t len)
{
	const char *abbrev = sig < 65 ? sigabbrev_np((int)sig) : NULL;

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %u", sig);
	return buf;
}

const char *call_result_str(const struct woof_call_record *r, char *buf, size_t len)
{
	char sig[32];

	switch (r->state) {
	case WOOF_CALL_RUNNING:
	case WOOF_CALL_REDELIVERED:
		if (r->pid)
			snprintf(buf, len, "pid %u", r->pid);
		else
			snprintf(buf, len, "started");
		return buf;
	case WOOF_CALL_DONE:
		snprintf(buf, len, "exit %u", r->exit_status);
		return buf;
	case WOOF_CALL_PENDING:
		snprintf(buf, len, "-");
		return buf;
	}
	switch (r->reason) {
	case WOOF_CALL_R_EXIT:
		snprintf(buf, len, "exit %u", r->exit_status);
		break;
	case WOOF_CALL_R_SIGNAL:
		snprintf(buf, len, "killed by %s", signal_name(r->signal, sig, sizeof(sig)));
		break;
	case WOOF_CALL_R_TIMEOUT:
		snprintf(buf, len, "timeout, killed");
		break;
	case WOOF_CALL_R_NOHANDLER:
		snprintf(buf, len, "no handler file");
		break;
	case WOOF_CALL_R_NOEXEC:
		snprintf(buf, len, "handler not executable");
		break;
	case WOOF_CALL_R_SPAWN:
		snprintf(buf, len, "cannot start: %s", strerror(r->error < 0 ? -r->error : r->error));
		break;
	case WOOF_CALL_R_STALE:
		snprintf(buf, len, "WOOF re-created");
		break;
	case WOOF_CALL_R_REMOVED:
		snprintf(buf, len, "WOOF removed");
		break;
	case WOOF_CALL_R_OVERWRITTEN:
		snprintf(buf, len, "element overwritten");
		break;
	case WOOF_CALL_R_ORPHAN:
		snprintf(buf, len, "put never committed");
		break;
	case WOOF_CALL_R_CLAIM:
		snprintf(buf, len, "claim failed: %s", strerror(r->error < 0 ? -r->error : r->error));
		break;
	case WOOF_CALL_R_CRASH:
		snprintf(buf, len, "runtime crashed");
		break;
	case WOOF_CALL_R_NONE:
		snprintf(buf, len, r->state == WOOF_CALL_ORPHAN ? "put never committed" : "-");
		break;
	default:
		snprintf(buf, len, "reason %u", r->reason);
		break;
	}
	return buf;
}

void json_call_members(struct json *j, const struct woof_call_record *r)
{
	char buf[160];

	json_kv_u64(j, "attempt", r->attempt);
	json_kv_str(j, "reason", call_reason_name(r->reason));
	json_kv_str(j, "result", call_result_str(r, buf, sizeof(buf)));
	json_key(j, "exit_status");
	if (r->state == WOOF_CALL_DONE || r->reason == WOOF_CALL_R_EXIT)
		json_u64(j, r->exit_status);
	else
		json_null(j);
	json_key(j, "signal");
	if (r->signal)
		json_u64(j, r->signal);
	else
		json_null(j);
	json_key(j, "signal_name");
	if (r->signal)
		json_str(j, signal_name(r->signal, buf, sizeof(buf)));
	else
		json_null(j);
	json_key(j, "error");
	json_i64(j, r->error);
	json_key(j, "pid");
	if (r->pid)
		json_u64(j, r->pid);
	else
		json_null(j);
	json_kv_str(j, "runtime", call_runtime_name(r->runtime));
	json_kv_time(j, "start", r->start_ns);
	json_kv_time(j, "end", r->end_ns);
	json_key(j, "duration_ns");
	if (r->state == WOOF_CALL_DONE || (r->state == WOOF_CALL_FAILED && r->end_ns))
		json_u64(j, r->duration_ns);
	else
		json_null(j);
	json_kv_u64(j, "output_bytes", r->output_bytes);
	json_kv_bool(j, "output_truncated", r->flags & WOOF_CALL_F_OUTPUT_TRUNC);
	json_kv_bool(j, "spooled", r->flags & WOOF_CALL_F_SPOOLED);
	json_kv_time(j, "record", r->time_ns);
}

/* ---- times ---------------------------------------------------------------------------- */

const char *fmt_time_utc(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	if (!ns || !gmtime_r(&t, &tm) || !(n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))) {
		snprintf(buf, len, "-");
		return buf;
	}
	snprintf(buf + n, len - n, ".%09" PRIu64 "Z", (uint64_t)(ns % 1000000000ULL));
	return buf;
}

const char *fmt_time_local(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	if (!ns || !localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "-");
	return buf;
}

const char *fmt_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000ULL)
		snprintf(buf, len, "%" PRIu64 "us", ns / 1000);
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%.1fms", (double)ns / 1e6);
	else if (ns < 60000000000ULL)
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
	else
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", (uint64_t)(ns / 60000000000ULL),
			 (uint64_t)(ns / 1000000000ULL % 60));
	return buf;
}

const char *fmt_timeout_ms(uint64_t ms, char *buf, size_t len)
{
	if (!ms)
		snprintf(buf, len, "none");
	else if (ms % 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else
		snprintf(buf, len, "%" PRIu64 "s", ms / 1000);
	return buf;
}

void json_kv_time(struct json *j, const char *key, uint64_t ns)
{
	char k[64], when[64];

	snprintf(k, sizeof(k), "%s_ns", key);
	json_key(j, k);
	if (ns)
		json_u64(j, ns);
	else
		json_null(j);
	json_key(j, key);
	if (ns)
		json_str(j, fmt_time_utc(ns, when, sizeof(when)));
	else
		json_null(j);
}

/* ---- trigger ls --------------------------------------------------------------------- */

/* the states a trigger is shown in (and --state selects) */
enum tstate {
	TS_PENDING,
	TS_RUNNING,
	TS_REDELIVERED,
	TS_DONE,
	TS_FAILED,
	TS_ORPHAN,
	TS_COUNT
};

static const char *const tstate_names[TS_COUNT] = {
	"pending", "running", "redelivered", "done", "failed", "orphan",
};

struct trow {
	uint64_t tseq;
	struct woof_trigger tr;
	const struct woof_call_record *rec;	/* NULL: no record */
	const struct status_call *live;		/* its line in the status file, or NULL */
	enum tstate state;
};

static enum tstate trigger_state(const struct woof_call_record *r, uint64_t tseq,
				 uint64_t dfloor)
{
	if (!r)
		return tseq <= dfloor ? TS_DONE : TS_PENDING;
	switch (r->state) {
	case WOOF_CALL_RUNNING:
		return TS_RUNNING;
	case WOOF_CALL_REDELIVERED:
		return TS_REDELIVERED;
	case WOOF_CALL_DONE:
		return TS_DONE;
	case WOOF_CALL_FAILED:
		return TS_FAILED;
	case WOOF_CALL_ORPHAN:
		return TS_ORPHAN;
	}
	return tseq <= dfloor ? TS_DONE : TS_PENDING;
}

/* attach the status file's call lines to the rows (both in trigger order) */
static void attach_live(struct trow *rows, uint64_t nrows, const struct status_file *s)
{
	for (size_t i = 0; i < s->ncalls; i++) {
		uint64_t lo = 0, hi = nrows;

		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;

			if (rows[mid].tseq < s->calls[i].trigger)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < nrows && rows[lo].tseq == s->calls[i].trigger &&
		    rows[lo].tr.put_time_ns == s->calls[i].put_ns)
			rows[lo].live = &s->calls[i];
	}
}

/* "--state failed,orphan" into a bit set; false for an unknown name */
static bool parse_states(const char *arg, unsigned *mask)
{
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = 0; i < TS_COUNT; i++)
			if (!strcmp(tok, tstate_names[i]))
				break;
		if (i == TS_COUNT)
			return false;
		*mask |= 1U << i;
	}
	return *mask != 0;
}

/* the trigger log of @ns, without creating it: -ENOENT when there is none */
static int triggers_open_existing(struct woof_ns *ns, struct woof_triggers **tp)
{
	char path[PATH_MAX];
	struct stat sb;

	if ((size_t)snprintf(path, sizeof(path), "%s/" WOOF_NS_META_DIR "/" WOOF_TRIGGERS_FILE,
			     woof_ns_path(ns)) >= sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &sb) < 0)
		return -errno;
	return woof_triggers_open(ns, tp);
}

static void print_row_human(const struct trow *r, int ww, int hw)
{
	char result[160], dur[32], when[32], att[16];
	const struct woof_call_record *c = r->rec;

	if (c && (c->state == WOOF_CALL_RUNNING || c->state == WOOF_CALL_REDELIVERED) &&
	    !c->pid && r->live && r->live->pid)
		snprintf(result, sizeof(result), "pid %" PRIu64, r->live->pid);
	else if (c)
		call_result_str(c, result, sizeof(result));
	else if (r->state == TS_PENDING && r->live)
		snprintf(result, sizeof(result), "%s", r->live->state);
	else
		snprintf(result, sizeof(result), r->state == TS_DONE ? "(no record)" : "-");
	if (c && (c->state == WOOF_CALL_DONE || c->state == WOOF_CALL_FAILED) && c->end_ns)
		fmt_duration(c->duration_ns, dur, sizeof(dur));
	else
		snprintf(dur, sizeof(dur), "-");
	printf("%7" PRIu64 "  %-*s %6" PRIu64 "  %-*s %-11s %7s  %-22s %9s  %s\n", r->tseq,
	       ww, r->tr.woof, (uint64_t)r->tr.woof_seq, hw, r->tr.handler, tstate_names[r->state],
	       c ? (snprintf(att, sizeof(att), "%u", c->attempt), att) : "-", result, dur,
	       fmt_time_local(r->tr.put_time_ns, when, sizeof(when)));
}

static void print_row_json(struct json *j, const struct trow *r)
{
	json_obj_open(j);
	json_kv_u64(j, "trigger", r->tseq);
	json_kv_str(j, "woof", r->tr.woof);
	json_kv_u64(j, "seq", r->tr.woof_seq);
	json_kv_str(j, "handler", r->tr.handler);
	json_kv_time(j, "put", r->tr.put_time_ns);
	json_kv_str(j, "state", tstate_names[r->state]);
	json_kv_bool(j, "recorded", r->rec != NULL);
	if (r->rec) {
		json_call_members(j, r->rec);
	} else {
		json_key(j, "attempt");
		json_null(j);
	}
	json_key(j, "queue_state");	/* what the status file says of a waiting call */
	if (r->live && r->state == TS_PENDING)
		json_str(j, r->live->state);
	else
		json_null(j);
	json_obj_close(j);
}

/* woofctl trigger ls [--state S[,S...]] [-n N] */
int cmd_trigger_ls(struct woofctl *ctx, int argc, char **argv)
{
	enum { OPT_STATE = 256 };
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, OPT_STATE },
		{ "lines", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct woof_triggers *trig = NULL;
	struct calls_table calls = { 0 };
	struct daemon_probe dp = { 0 };
	struct status_file sf = { 0 };
	struct trow *rows = NULL;
	struct woof_ns *ns;
	uint64_t latest = 0, dfloor = 0, first = 1, limit = UINT64_MAX, counts[TS_COUNT] = { 0 };
	uint64_t nrows = 0, nmatch = 0, start, reruns = 0;
	unsigned mask = 0;
	int c, err, ret;
	int ww = 4, hw = 7;

	while ((c = cmd_getopt(ctx, argc, argv, "n:", longopts)) != -1) {
		switch (c) {
		case OPT_STATE:
			if (!parse_states(optarg, &mask))
				return usage_error(ctx, "unknown state in '%s' (pending, running, "
						   "redelivered, done, failed, orphan)", optarg);
			break;
		case 'n':
			if (!parse_u64(optarg, &limit))
				return usage_error(ctx, "bad number of triggers '%s'", optarg);
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	if (!mask)
		mask = (1U << TS_COUNT) - 1;

	ret = ns_open_selected(ctx, &ns);
	if (ret)
		return ret;
	err = triggers_open_existing(ns, &trig);
	if (err && err != -ENOENT) {
		ret = fail(err, "trigger ls: the trigger log of %s", woof_ns_path(ns));
		goto out;
	}
	err = calls_load(ns, &calls);
	if (err) {
		ret = fail(err, "trigger ls: %s/" WOOF_NS_META_DIR "/" WOOF_CALLS_FILE,
			   woof_ns_path(ns));
		goto out;
	}
	err = daemon_probe(ns, &dp);
	if (err)
		fprintf(stderr, "woofctl: trigger ls: note: cannot tell whether dispatcherd runs: %s\n",
			strerror(-err));

	if (trig) {
		uint64_t hist = woof_triggers_history(trig);

		/* done_floor before latest: the floor never passes what we then read */
		dfloor = woof_triggers_done_floor(trig);
		latest = woof_triggers_latest(trig);
		first = latest > hist ? latest - hist + 1 : 1;
	}
	rows = calloc(latest >= first ? latest - first + 1 : 1, sizeof(*rows));
	if (!rows) {
		ret = fail(-ENOMEM, "trigger ls");
		goto out;
	}
	for (uint64_t t = first; trig && t <= latest; t++) {
		struct trow *r = &rows[nrows];

		err = woof_triggers_read(trig, t, &r->tr);
		if (err == -ENODATA)
			continue;	/* fell out of the window while we read */
		if (err) {
			ret = fail(err, "trigger ls: trigger %" PRIu64, t);
			goto out;
		}
		r->tr.woof[WOOF_NAME_MAX] = r->tr.handler[WOOF_NAME_MAX] = '\0';
		r->tseq = t;
		r->rec = calls_find(&calls, t, r->tr.put_time_ns);
		r->state = trigger_state(r->rec, t, dfloor);
		counts[r->state]++;
		if (r->rec && r->rec->attempt > 1)
			reruns++;
		nrows++;
		if (mask & (1U << r->state))
			nmatch++;
	}
	/* what a serving dispatcherd says about running and waiting calls */
	if (dp.running && status_read(ns, &sf) == 0)
		attach_live(rows, nrows, &sf);

	/* the last -n of those that match */
	start = 0;
	if (limit < nmatch) {
		uint64_t skip = nmatch - limit;

		for (; start < nrows && skip; start++)
			if (mask & (1U << rows[start].state))
				skip--;
	}
	for (uint64_t i = start; i < nrows; i++) {
		if (!(mask & (1U << rows[i].state)))
			continue;
		if ((int)strlen(rows[i].tr.woof) > ww)
			ww = (int)strlen(rows[i].tr.woof);
		if ((int)strlen(rows[i].tr.handler) > hw)
			hw = (int)strlen(rows[i].tr.handler);
	}

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);
		uint64_t shown = 0;

		json_kv_str(j, "namespace", woof_ns_path(ns));
		json_kv_bool(j, "trigger_log", trig != NULL);
		json_kv_u64(j, "latest", latest);
		json_kv_u64(j, "done_floor", dfloor);
		json_kv_u64(j, "oldest", latest ? first : 0);
		json_kv_bool(j, "call_log", calls.present);
		json_kv_bool(j, "dispatcherd_running", dp.running);
		json_key(j, "triggers");
		json_arr_open(j);
		for (uint64_t i = start; i < nrows; i++) {
			if (!(mask & (1U << rows[i].state)))
				continue;
			print_row_json(j, &rows[i]);
			shown++;
		}
		json_arr_close(j);
		json_kv_u64(j, "shown", shown);
		json_key(j, "counts");
		json_obj_open(j);
		json_kv_u64(j, "total", nrows);
		for (unsigned i = 0; i < TS_COUNT; i++)
			json_kv_u64(j, tstate_names[i], counts[i]);
		json_kv_u64(j, "attempts_gt_1", reruns);
		json_obj_close(j);
		out_json_end(ctx);
	} else {
		uint64_t active = counts[TS_RUNNING] + counts[TS_REDELIVERED];

		if (nmatch)
			printf("%7s  %-*s %6s  %-*s %-11s %7s  %-22s %9s  %s\n", "TRIGGER", ww, "WOOF",
			       "SEQ", hw, "HANDLER", "STATE", "ATTEMPT", "RESULT", "DURATION", "PUT");
		for (uint64_t i = start; i < nrows; i++)
			if (mask & (1U << rows[i].state))
				print_row_human(&rows[i], ww, hw);
		printf("%" PRIu64 " trigger%s", nrows, nrows == 1 ? "" : "s");
		if (!trig)
			printf(" (no trigger log: no put has named a handler yet)");
		printf(": ");
		for (unsigned i = 0; i < TS_COUNT; i++)
			printf("%s%" PRIu64 " %s", i ? ", " : "", counts[i], tstate_names[i]);
		if (reruns)
			printf(" (%" PRIu64 " ran more than once)", reruns);
		putchar('\n');
		if (active && !dp.running)
			printf("note: no dispatcherd serves this namespace: its %" PRIu64
			       " running call%s interrupted; %s again at its next start\n",
			       active, active == 1 ? " was" : "s were",
			       active == 1 ? "it runs" : "they run");
	}
out:
	free(rows);
	status_free(&sf);
	calls_free(&calls);
	if (trig)
		woof_triggers_close(trig);
	woof_ns_close(ns);
	return ret;
}
