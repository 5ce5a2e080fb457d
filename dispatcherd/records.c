/* SPDX-License-Identifier: MIT */
/*
 * records.c - what dispatcherd writes down about calls, in the namespace:
 *
 *   .woof/calls     a WOOF of struct woof_call_record (uapi header): one
 *                   record when a call starts, one when it ends; read back
 *                   at start-up to rebuild which triggers above done_floor
 *                   already finished or had started (rec_rebuild);
 *   .woof/log       a WOOF of struct woof_log_chunk: handlers' output;
 *   .woof/spool/    the claimed copies of elements (spool.c);
 *   .woof/status    the text status file (format: Documentation/dispatcherd.md).
 *
 * Both WOOFs are opened through libwoof as the WOOFs "calls" and "log" of
 * the namespace <ns>/.woof (names inside .woof/ are reserved, so they are
 * not reachable as WOOFs of <ns> itself).
 *
 * Cost per call: two appends to .woof/calls (a memcpy each), log appends
 * per output read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dispatcherd.h"

static int open_record_woof(struct nsd *n, const char *name, uint64_t elsize, uint64_t hist,
			    struct woof **wp)
{
	struct woof_create_opts o = {
		.sz = sizeof(o),
		.element_size = elsize,
		.history_size = hist,
		.create = WOOF_CREATE_OPEN,
		.mode = 0644,	/* dispatcherd alone writes them; the namespace reads */
	};
	int ret = woof_create(n->meta, name, &o, wp);

	if (ret == -EEXIST)
		log_err("%s/" WOOF_NS_META_DIR "/%s exists with another element or history size "
			"(from another version?): move it away to start afresh", n->path, name);
	else if (ret)
		log_err("%s/" WOOF_NS_META_DIR "/%s: %s", n->path, name, woof_strerror(ret));
	return ret;
}

int rec_open(struct nsd *n)
{
	char meta[PATH_MAX];
	int ret;

	if ((size_t)snprintf(meta, sizeof(meta), "%s/" WOOF_NS_META_DIR, n->path) >= sizeof(meta))
		return -ENAMETOOLONG;
	/* libwoof opens .woof beneath the namespace, never through a link */
	ret = woof_ns_open(meta, &n->meta);
	if (ret) {
		log_err("%s: %s", meta, woof_strerror(ret));
		return ret;
	}
	{
		struct stat a, b;

		/* the directory libwoof found is the one we hold (not replaced meanwhile) */
		if (fstat(n->metafd, &a) < 0 || lstat(woof_ns_path(n->meta), &b) < 0 ||
		    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
			log_err("%s: replaced while dispatcherd started: refusing to serve", meta);
			return -ELOOP;
		}
	}
	ret = open_record_woof(n, WOOF_CALLS_FILE, sizeof(struct woof_call_record),
			       WOOF_CALLS_HISTORY, &n->calls);
	if (ret)
		return ret;
	ret = open_record_woof(n, WOOF_LOG_FILE, sizeof(struct woof_log_chunk),
			       WOOF_LOG_HISTORY, &n->log);
	if (ret)
		return ret;

	if (mkdirat(n->metafd, WOOF_SPOOL_DIR, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		log_err("%s/" WOOF_SPOOL_DIR ": %s", meta, strerror(errno));
		return ret;
	}
	n->spooldir = woof_ns_openat(n->metafd, WOOF_SPOOL_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (n->spooldir < 0) {
		ret = n->spooldir;
		n->spooldir = -1;
		log_err("%s/" WOOF_SPOOL_DIR ": %s", meta, strerror(-ret));
		return ret;
	}
	return 0;
}

void rec_close(struct nsd *n)
{
	if (n->calls)
		woof_close(n->calls);
	if (n->log)
		woof_close(n->log);
	if (n->meta)
		woof_ns_close(n->meta);
	if (n->spooldir >= 0)
		close(n->spooldir);
	n->calls = n->log = NULL;
	n->meta = NULL;
	n->spooldir = -1;
}

static const char *state_name(uint32_t s)
{
	switch (s) {
	case WOOF_CALL_PENDING: return "pending";
	case WOOF_CALL_RUNNING: return "running";
	case WOOF_CALL_DONE: return "done";
	case WOOF_CALL_FAILED: return "failed";
	case WOOF_CALL_REDELIVERED: return "redelivered";
	case WOOF_CALL_ORPHAN: return "orphan";
	}
	return "?";
}

int rec_write(struct nsd *n, const struct call *c, uint32_t state, uint32_t reason, int error)
{
	struct woof_call_record r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.trigger = c->tseq;
	r.woof_seq = c->tr.woof_seq;
	r.put_time_ns = c->tr.put_time_ns;
	r.time_ns = now_real_ns();
	r.start_ns = c->start_real;
	r.end_ns = c->end_real;
	if (c->end_mono && c->start_mono)
		r.duration_ns = c->end_mono - c->start_mono;
	r.output_bytes = c->output_bytes;
	r.attempt = c->attempt;
	r.state = state;
	r.reason = reason;
	if (c->exited && c->wait_code == CLD_EXITED)
		r.exit_status = (uint32_t)c->wait_status;
	if (c->exited && (c->wait_code == CLD_KILLED || c->wait_code == CLD_DUMPED))
		r.signal = (uint32_t)c->wait_status;
	r.pid = c->sc.pid > 0 ? (uint32_t)c->sc.pid : 0;
	r.runtime = (uint32_t)c->runtime;
	r.flags = c->flags;
	r.error = error;
	memcpy(r.woof, c->tr.woof, sizeof(r.woof));
	memcpy(r.handler, c->tr.handler, sizeof(r.handler));
	r.woof[WOOF_NAME_MAX] = r.handler[WOOF_NAME_MAX] = '\0';

	ret = woof_append(n->calls, &r, NULL, NULL);
	if (ret)
		log_err("%s: cannot record trigger %llu as %s: %s", n->path,
			(unsigned long long)c->tseq, state_name(state), woof_strerror(ret));
	return ret;
}

void rec_log(struct nsd *n, const struct call *c, unsigned stream, const char *data, size_t len)
{
	struct woof_log_chunk ch;

	while (len) {
		size_t k = len < WOOF_LOG_DATA ? len : WOOF_LOG_DATA;
		int ret;

		memset(&ch, 0, offsetof(struct woof_log_chunk, data));
		ch.trigger = c->tseq;
		ch.time_ns = now_real_ns();
		ch.attempt = c->attempt;
		ch.stream = (uint16_t)stream;
		ch.len = (uint16_t)k;
		ch.pid = c->sc.pid > 0 ? (uint32_t)c->sc.pid : 0;
		memcpy(ch.data, data, k);
		if (k < WOOF_LOG_DATA)
			memset(ch.data + k, 0, WOOF_LOG_DATA - k);
		ret = woof_append(n->log, &ch, NULL, NULL);
		if (ret) {
			log_err("%s: cannot append to the call log: %s", n->path,
				woof_strerror(ret));
			return;
		}
		data += k;
		len -= k;
	}
}

void rec_note(struct nsd *n, const struct call *c, const char *fmt, ...)
{
	char buf[WOOF_LOG_DATA];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len > sizeof(buf) - 2)
		len = (int)sizeof(buf) - 2;
	buf[len++] = '\n';
	rec_log(n, c, WOOF_LOG_NOTE, buf, (size_t)len);
}

/* ---- rebuilding at start-up ---------------------------------------------- */

static size_t rec_slot(const struct nsd *n, uint64_t trigger)
{
	uint64_t h = trigger * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (n->rec_size - 1);
}

static struct recovered *rec_insert(struct nsd *n, uint64_t trigger)
{
	size_t i = rec_slot(n, trigger);

	while (n->rec[i].trigger && n->rec[i].trigger != trigger)
		i = (i + 1) & (n->rec_size - 1);
	n->rec[i].trigger = trigger;
	return &n->rec[i];
}

const struct recovered *rec_lookup(const struct nsd *n, uint64_t trigger)
{
	size_t i;

	if (!n->rec)
		return NULL;
	i = rec_slot(n, trigger);
	while (n->rec[i].trigger) {
		if (n->rec[i].trigger == trigger)
			return &n->rec[i];
		i = (i + 1) & (n->rec_size - 1);
	}
	return NULL;
}

void rec_forget(struct nsd *n)
{
	free(n->rec);
	n->rec = NULL;
	n->rec_size = 0;
}

/*
 * Read every retained call record and remember, for triggers above
 * done_floor, the highest attempt that started and whether one finished.
 * The records of one trigger are in append order, so a later record wins.
 */
int rec_rebuild(struct nsd *n)
{
	uint64_t latest = woof_latest(n->calls), first, s;
	struct woof_call_record r;
	size_t found = 0;

	first = latest > WOOF_CALLS_HISTORY ? latest - WOOF_CALLS_HISTORY + 1 : 1;
	n->rec_size = 2 * (size_t)WOOF_CALLS_HISTORY;
	n->rec = calloc(n->rec_size, sizeof(*n->rec));
	if (!n->rec)
		return -ENOMEM;
	for (s = first; latest && s <= latest; s++) {
		struct recovered *e;
		int ret = woof_read(n->calls, s, &r, NULL);

		if (ret == -ENODATA)
			continue;	/* overwritten while we read: older than we need */
		if (ret)
			return ret;
		if (r.trigger <= n->floor)
			continue;
		e = rec_insert(n, r.trigger);
		if (e->put_time_ns && e->put_time_ns != r.put_time_ns) {
			/* an older trigger log's record with the same number: the newer wins */
			memset(e, 0, sizeof(*e));
			e->trigger = r.trigger;
		}
		e->put_time_ns = r.put_time_ns;
		if ((r.state == WOOF_CALL_RUNNING || r.state == WOOF_CALL_REDELIVERED) &&
		    r.attempt > e->attempt)
			e->attempt = r.attempt;
		if (r.state == WOOF_CALL_DONE || r.state == WOOF_CALL_FAILED ||
		    r.state == WOOF_CALL_ORPHAN) {
			e->final_state = r.state;
			if (r.attempt > e->attempt)
				e->attempt = r.attempt;
		}
		if (r.trigger > n->rec_max_trigger)
			n->rec_max_trigger = r.trigger;
		found++;
	}
	if (!found)
		rec_forget(n);
	else
		log_info("%s: %zu call records above done_floor %llu (up to trigger %llu)",
			 n->path, found, (unsigned long long)n->floor,
			 (unsigned long long)n->rec_max_trigger);
	return 0;
}

/* ---- spool ----------------------------------------------------------------- */

/* ---- the status file -------------------------------------------------------- */

/* names may hold spaces: percent-encode bytes <= ' ', '%', '=' and >= 0x7f */
void rec_put_name(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= ' ' || ch == '%' || ch == '=' || ch >= 0x7f)
			fprintf(f, "%%%02X", ch);
		else
			fputc(ch, f);
	}
}

static const char *cs_name(enum call_state s)
{
	switch (s) {
	case CS_NEW: return "pending";
	case CS_RETRY: return "retry";
	case CS_QUEUED: return "queued";
	case CS_RUNNING: return "running";
	case CS_FINISHED: return "finished";
	}
	return "?";
}

static void put_call(FILE *f, const struct call *c)
{
	fprintf(f, "call %llu state=%s attempt=%u seq=%llu put_ns=%llu",
		(unsigned long long)c->tseq, cs_name(c->state), c->attempt,
		(unsigned long long)c->tr.woof_seq, (unsigned long long)c->tr.put_time_ns);
	if (c->state == CS_RUNNING)
		fprintf(f, " pid=%d start_ns=%llu", (int)c->sc.pid,
			(unsigned long long)c->start_real);
	fputs(" handler=", f);
	rec_put_name(f, c->tr.handler);
	fputs(" woof=", f);
	rec_put_name(f, c->tr.woof);
	fputc('\n', f);
}

#define STATUS_MAX_WAITING 1000

/*
 * The status file is rewritten in place - one pwrite() and an ftruncate()
 * of the same inode - under an exclusive flock() that readers (woofctl
 * status) take shared. It used to be a new file renamed over the old one
 * 20 times a second: on ext4, allocating an inode next to many recently
 * deleted ones scans them (find_inode_bit -> recently_deleted), which
 * took 70% of dispatcherd's CPU time in a burst of warm calls.
 * -EAGAIN: a reader holds the lock; the caller tries again a little later.
 */
static int status_store(struct nsd *n, const char *buf, size_t len)
{
	size_t off = 0;
	int ret = 0;

	if (n->statusfd < 0) {
		n->statusfd = woof_ns_openat(n->metafd, WOOF_STATUS_FILE, O_RDWR | O_CREAT, 0644);
		if (n->statusfd < 0) {
			int e = n->statusfd;

			n->statusfd = -1;
			return e;
		}
	}
	if (flock(n->statusfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	while (off < len) {
		ssize_t w = pwrite(n->statusfd, buf + off, len - off, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (!ret && ftruncate(n->statusfd, (off_t)len) < 0)
		ret = -errno;
	flock(n->statusfd, LOCK_UN);
	return ret;
}

int status_write(struct nsd *n)
{
	struct daemon *d = n->d;
	unsigned listed = 0, waiting = 0;
	/* a fenced namespace's trigger log may be what faulted: not read again */
	uint64_t latest = n->fenced ? 0 : woof_triggers_latest(n->trig);
	char *buf = NULL;
	size_t blen = 0;
	int ret = 0;
	FILE *f;

	if (n->metafd < 0)
		return 0;	/* fenced before its .woof/ was open: the log says why */
	f = open_memstream(&buf, &blen);
	if (!f)
		return -errno;

	fprintf(f, "woof-dispatcherd-status 1\n");
	fprintf(f, "pid %d\n", (int)getpid());
	fputs("namespace ", f);
	rec_put_name(f, n->path);
	fputc('\n', f);
	if (n->fenced) {
		/* one line, the reason verbatim (no newline in it) */
		fprintf(f, "state fenced\n");
		fprintf(f, "fenced_ns %llu\n", (unsigned long long)n->fenced_real);
		fprintf(f, "fence_reason %s\n", n->fence_reason);
		fprintf(f, "fence_calls %s\n", n->fence_done ? "ended" : "ending");
		fprintf(f, "repair woofctl ns repair ");
		rec_put_name(f, n->path);
		fprintf(f, "\n");
		fprintf(f, "started_ns %llu\n", (unsigned long long)n->started_real);
		fprintf(f, "updated_ns %llu\n", (unsigned long long)now_real_ns());
		fprintf(f, "running %u\n", n->running);
		fprintf(f, "counters done=%llu failed=%llu orphan=%llu redelivered=%llu "
			"claim_retries=%llu\n",
			(unsigned long long)n->n_done, (unsigned long long)n->n_failed,
			(unsigned long long)n->n_orphan, (unsigned long long)n->n_redelivered,
			(unsigned long long)n->n_claim_retries);
		fprintf(f, "end\n");
		goto store;
	}
	fprintf(f, "state %s\n", d->stopped ? "stopped" : d->stopping ? "stopping" : "running");
	fprintf(f, "started_ns %llu\n", (unsigned long long)n->started_real);
	fprintf(f, "updated_ns %llu\n", (unsigned long long)now_real_ns());
	fprintf(f, "max_concurrent %u\n", n->conf.max_concurrent);
	fprintf(f, "running %u\n", n->running);
	fprintf(f, "queued %u\n", n->queued);
	{
		unsigned r = 0;

		for (struct call *c = n->retry_head; c; c = c->qnext)
			r++;
		fprintf(f, "retrying %u\n", r);
	}
	fprintf(f, "triggers latest=%llu done_floor=%llu next=%llu unread=%llu\n",
		(unsigned long long)latest, (unsigned long long)n->floor,
		(unsigned long long)n->next,
		(unsigned long long)(latest >= n->next ? latest - n->next + 1 : 0));
	fprintf(f, "spool bytes=%llu max=%llu full=%s\n", (unsigned long long)n->spool_bytes,
		(unsigned long long)n->spool_max, n->spool_full ? "yes" : "no");
	fprintf(f, "counters done=%llu failed=%llu orphan=%llu redelivered=%llu "
		"claim_retries=%llu\n",
		(unsigned long long)n->n_done, (unsigned long long)n->n_failed,
		(unsigned long long)n->n_orphan, (unsigned long long)n->n_redelivered,
		(unsigned long long)n->n_claim_retries);
	fprintf(f, "timeout_ms %llu\n", (unsigned long long)(n->conf.timeout_ns / 1000000));
	if (n->hand_uid)
		fprintf(f, "handler_user uid=%u gid=%u\n", (unsigned)n->hand_uid,
			(unsigned)n->hand_gid);
	else
		fprintf(f, "handler_user default\n");
	/* limits: what woof.conf asks and whether this host enforces it */
	fprintf(f, "limit memory.max=%llu enforced=%s\n", (unsigned long long)n->conf.memory_max,
		!n->conf.memory_max ? "n/a" : d->caps.ctl_memory ? "yes" : "no");
	fprintf(f, "limit pids.max=%llu enforced=%s\n", (unsigned long long)n->conf.pids_max,
		!n->conf.pids_max ? "n/a" : d->caps.ctl_pids ? "yes" : "no");
	fprintf(f, "limit cpu.max=%u/%u enforced=%s\n", n->conf.cpu_quota_us,
		n->conf.cpu_period_us,
		!n->conf.cpu_quota_us ? "n/a" : d->caps.ctl_cpu ? "yes" : "no");
	fprintf(f, "limit timeout enforced=yes kill=%s\n",
		d->caps.cgroup_kill ? "cgroup.kill" : "process-group");
	/* one "sandbox" line per line of sandbox_describe() */
	{
		const char *p = d->caps_text;

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);

			if (len)	/* whole: a reason may be long (it used to be cut at 255) */
				fprintf(f, "sandbox %.*s\n", (int)len, p);
			p += len + (nl ? 1 : 0);
		}
	}
	for (struct hq *h = n->handlers; h; h = h->next) {
		fputs("handler ", f);
		rec_put_name(f, h->name);
		fprintf(f, " runtime=%s running=%u queued=%u done=%llu failed=%llu cap=%u "
			"timeout_ms=%llu spares=%u\n", conf_runtime_name(h->runtime), h->running,
			h->queued, (unsigned long long)h->done, (unsigned long long)h->failed, h->cap,
			(unsigned long long)(h->timeout_ns / 1000000), h->nspares);
	}
	/* every running call, then waiting ones (capped) in trigger order */
	for (uint64_t t = n->floor + 1; t < n->next; t++) {
		struct call *c = n->win[t % n->hist];

		if (c && c->state == CS_RUNNING) {
			put_call(f, c);
			listed++;
		}
	}
	for (uint64_t t = n->floor + 1; t < n->next; t++) {
		struct call *c = n->win[t % n->hist];

		if (!c || c->state == CS_RUNNING || c->state == CS_FINISHED)
			continue;
		if (waiting++ < STATUS_MAX_WAITING) {
			put_call(f, c);
			listed++;
		}
	}
	if (waiting > STATUS_MAX_WAITING)
		fprintf(f, "calls_not_listed %u\n", waiting - STATUS_MAX_WAITING);
	fprintf(f, "end\n");
store:
	if (fflush(f) != 0 || ferror(f))
		ret = -ENOMEM;
	fclose(f);
	if (!ret)
		ret = status_store(n, buf, blen);
	free(buf);
	(void)listed;
	return ret;
}
