/* SPDX-License-Identifier: MIT */
/*
 * cmd-status.c - "woofctl status": is a dispatcherd serving the namespace,
 * what its status file says (calls running and queued per handler, limits,
 * what the sandbox does not enforce on this host and why), and where the
 * trigger log stands. Also the two readers the other dispatcherd commands
 * share: daemon_probe() and status_read().
 *
 * Whether dispatcherd runs: it holds an flock on .woof/dispatcherd.lock for
 * its lifetime. We open the file afresh and try flock(LOCK_SH | LOCK_NB):
 * EWOULDBLOCK means a dispatcherd holds it; success means nobody does, and
 * closing the descriptor at once drops our shared lock again. A shared
 * lock, so that two readers never mistake each other for a dispatcherd.
 *
 * The status file (.woof/status, version 1) is text, "KEY VALUE..." per
 * line, rewritten by rename; names are percent-encoded; unknown keys are
 * ignored; "end" marks a complete file (Documentation/dispatcherd.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <woof-dispatch.h>

#include "woofctl.h"

/* ---- is a dispatcherd serving the namespace ------------------------------------ */

int daemon_probe(struct woof_ns *ns, struct daemon_probe *p)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd, err = 0;

	memset(p, 0, sizeof(*p));
	if ((size_t)snprintf(path, sizeof(path), "%s/" WOOF_NS_META_DIR "/" WOOF_DISPATCHERD_LOCK,
			     woof_ns_path(ns)) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	p->lock_file = true;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			p->running = true;
		else
			err = -errno;
	}
	/* an unlocked file holds the pid of the last dispatcherd: read it too */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);	/* drops our shared lock, if we got it */
	if (n > 0) {
		char *end;
		long pid;

		buf[n] = '\0';
		pid = strtol(buf, &end, 10);
		if (end != buf && (*end == '\n' || !*end) && pid > 0)
			p->pid = pid;
	}
	return err;
}

/* ---- the status file ----------------------------------------------------------- */

/* decode %XX in place */
static char *pct_decode(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '%' && r[1] && r[2] && strchr("0123456789abcdefABCDEF", r[1]) &&
		    strchr("0123456789abcdefABCDEF", r[2])) {
			char hex[3] = { r[1], r[2], 0 };

			*w++ = (char)strtoul(hex, NULL, 16);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

static char *dup_decoded(const char *s)
{
	char *d = strdup(s ? s : "");

	return d ? pct_decode(d) : NULL;
}

static uint64_t to_u64(const char *s)
{
	uint64_t v = 0;

	return s && parse_u64(s, &v) ? v : 0;
}

/* the value of "KEY=" among the space-separated fields of @rest, or NULL */
static const char *field(char *const *tok, size_t ntok, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i < ntok; i++)
		if (!strncmp(tok[i], key, kl) && tok[i][kl] == '=')
			return tok[i] + kl + 1;
	return NULL;
}

/*
 * PUSH(arr, n) - grow the array @arr of @n items by one zeroed item and
 * evaluate to a pointer to it, or to NULL when out of memory.
 */
static void *grow_array(void *v, size_t n, size_t size)
{
	char *nv = realloc(v, (n + 1) * size);

	if (nv)
		memset(nv + n * size, 0, size);
	return nv;
}
#define PUSH(arr, n) \
	({ __typeof__(arr) nv_ = grow_array((arr), (n), sizeof(*(arr))); \
	   nv_ ? ((arr) = nv_, &(arr)[(n)++]) : NULL; })

static bool push_str(char ***v, size_t *n, const char *s)
{
	char **slot = PUSH(*v, *n);

	if (!slot)
		return false;
	*slot = strdup(s);
	return *slot != NULL;
}

#define MAX_TOK 32

static int parse_line(struct status_file *s, char *line, bool *in_not_enforced)
{
	char *tok[MAX_TOK], *save, *key, *rest, *t;
	size_t ntok = 0;

	line[strcspn(line, "\n")] = '\0';
	key = line;
	rest = strchr(line, ' ');
	if (rest)
		*rest++ = '\0';
	else
		rest = line + strlen(line);

	if (!strcmp(key, "sandbox")) {
		/* free text, one line of the daemon's sandbox_describe() each */
		const char *txt = rest + strspn(rest, " ");

		if (!push_str(&s->sandbox, &s->nsandbox, rest))
			return -ENOMEM;
		if (!strcmp(txt, "not enforced:"))
			*in_not_enforced = true;
		else if (*in_not_enforced && !strncmp(txt, "- ", 2) &&
			 !push_str(&s->not_enforced, &s->nnot_enforced, txt + 2))
			return -ENOMEM;
		return 0;
	}
	*in_not_enforced = false;
	if (!strcmp(key, "fence_reason")) {
		/* free text to the end of the line */
		free(s->fence_reason);
		s->fence_reason = strdup(rest);
		return s->fence_reason ? 0 : -ENOMEM;
	}
	for (t = strtok_r(rest, " ", &save); t && ntok < MAX_TOK; t = strtok_r(NULL, " ", &save))
		tok[ntok++] = t;

	if (!strcmp(key, "end")) {
		s->complete = true;
	} else if (!strcmp(key, "pid")) {
		s->pid = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "namespace")) {
		free(s->namespace);
		s->namespace = dup_decoded(ntok ? tok[0] : "");
	} else if (!strcmp(key, "state")) {
		free(s->state);
		s->state = strdup(ntok ? tok[0] : "");
	} else if (!strcmp(key, "fenced_ns")) {
		s->fenced_ns = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "fence_calls")) {
		free(s->fence_calls);
		s->fence_calls = strdup(ntok ? tok[0] : "");
	} else if (!strcmp(key, "started_ns")) {
		s->started_ns = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "updated_ns")) {
		s->updated_ns = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "max_concurrent")) {
		s->max_concurrent = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "running")) {
		s->running = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "queued")) {
		s->queued = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "retrying")) {
		s->retrying = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "timeout_ms")) {
		s->timeout_ms = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "calls_not_listed")) {
		s->calls_not_listed = to_u64(ntok ? tok[0] : NULL);
	} else if (!strcmp(key, "triggers")) {
		s->have_triggers = true;
		s->t_latest = to_u64(field(tok, ntok, "latest"));
		s->t_done_floor = to_u64(field(tok, ntok, "done_floor"));
		s->t_next = to_u64(field(tok, ntok, "next"));
		s->t_unread = to_u64(field(tok, ntok, "unread"));
	} else if (!strcmp(key, "spool")) {
		const char *full = field(tok, ntok, "full");

		s->spool_bytes = to_u64(field(tok, ntok, "bytes"));
		s->spool_max = to_u64(field(tok, ntok, "max"));
		s->spool_full = full && !strcmp(full, "yes");
	} else if (!strcmp(key, "counters")) {
		s->n_done = to_u64(field(tok, ntok, "done"));
		s->n_failed = to_u64(field(tok, ntok, "failed"));
		s->n_orphan = to_u64(field(tok, ntok, "orphan"));
		s->n_redelivered = to_u64(field(tok, ntok, "redelivered"));
		s->n_claim_retries = to_u64(field(tok, ntok, "claim_retries"));
	} else if (!strcmp(key, "handler_user")) {
		s->handler_user_default = ntok && !strcmp(tok[0], "default");
		s->handler_uid = to_u64(field(tok, ntok, "uid"));
		s->handler_gid = to_u64(field(tok, ntok, "gid"));
	} else if (!strcmp(key, "limit") && ntok) {
		struct status_limit *l = PUSH(s->limits, s->nlimits);
		char *eq = strchr(tok[0], '=');
		const char *v;

		if (!l)
			return -ENOMEM;
		if (eq)
			*eq++ = '\0';
		l->name = strdup(tok[0]);
		l->value = eq ? strdup(eq) : NULL;
		l->enforced = (v = field(tok, ntok, "enforced")) ? strdup(v) : NULL;
		l->kill = (v = field(tok, ntok, "kill")) ? strdup(v) : NULL;
		if (!l->name)
			return -ENOMEM;
	} else if (!strcmp(key, "handler") && ntok) {
		struct status_handler *h = PUSH(s->handlers, s->nhandlers);
		const char *rt = field(tok, ntok, "runtime");

		if (!h)
			return -ENOMEM;
		h->name = dup_decoded(tok[0]);
		h->runtime = strdup(rt ? rt : "");
		h->running = to_u64(field(tok, ntok, "running"));
		h->queued = to_u64(field(tok, ntok, "queued"));
		h->done = to_u64(field(tok, ntok, "done"));
		h->failed = to_u64(field(tok, ntok, "failed"));
		h->cap = to_u64(field(tok, ntok, "cap"));
		h->timeout_ms = to_u64(field(tok, ntok, "timeout_ms"));
		h->spares = to_u64(field(tok, ntok, "spares"));
		if (!h->name || !h->runtime)
			return -ENOMEM;
	} else if (!strcmp(key, "call") && ntok) {
		struct status_call *c = PUSH(s->calls, s->ncalls);
		const char *st = field(tok, ntok, "state");

		if (!c)
			return -ENOMEM;
		c->trigger = to_u64(tok[0]);
		c->state = strdup(st ? st : "");
		c->attempt = to_u64(field(tok, ntok, "attempt"));
		c->seq = to_u64(field(tok, ntok, "seq"));
		c->put_ns = to_u64(field(tok, ntok, "put_ns"));
		c->pid = to_u64(field(tok, ntok, "pid"));
		c->start_ns = to_u64(field(tok, ntok, "start_ns"));
		c->handler = dup_decoded(field(tok, ntok, "handler"));
		c->woof = dup_decoded(field(tok, ntok, "woof"));
		if (!c->state || !c->handler || !c->woof)
			return -ENOMEM;
	}
	/* other keys: from a newer dispatcherd; ignored */
	return 0;
}

int status_read(struct woof_ns *ns, struct status_file *s)
{
	char path[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	bool in_not_enforced = false;
	FILE *f;
	int err = 0;

	memset(s, 0, sizeof(*s));
	if ((size_t)snprintf(path, sizeof(path), "%s/" WOOF_NS_META_DIR "/" WOOF_STATUS_FILE,
			     woof_ns_path(ns)) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* dispatcherd rewrites it in place under an exclusive lock: read a whole version */
	flock(fileno(f), LOCK_SH);
	if (getline(&line, &cap, f) < 0 ||
	    sscanf(line, "woof-dispatcherd-status %u", &s->version) != 1) {
		err = ferror(f) ? -EIO : -EBADMSG;
		goto out;
	}
	while (!err && getline(&line, &cap, f) >= 0)
		err = parse_line(s, line, &in_not_enforced);
	if (!err && ferror(f))
		err = -EIO;
out:
	free(line);
	fclose(f);
	if (err)
		status_free(s);
	return err;
}

const struct status_handler *status_find_handler(const struct status_file *s,
						 const char *name)
{
	for (size_t i = 0; i < s->nhandlers; i++)
		if (!strcmp(s->handlers[i].name, name))
			return &s->handlers[i];
	return NULL;
}

void status_free(struct status_file *s)
{
	for (size_t i = 0; i < s->nlimits; i++) {
		free(s->limits[i].name);
		free(s->limits[i].value);
		free(s->limits[i].enforced);
		free(s->limits[i].kill);
	}
	for (size_t i = 0; i < s->nsandbox; i++)
		free(s->sandbox[i]);
	for (size_t i = 0; i < s->nnot_enforced; i++)
		free(s->not_enforced[i]);
	for (size_t i = 0; i < s->nhandlers; i++) {
		free(s->handlers[i].name);
		free(s->handlers[i].runtime);
	}
	for (size_t i = 0; i < s->ncalls; i++) {
		free(s->calls[i].state);
		free(s->calls[i].handler);
		free(s->calls[i].woof);
	}
	free(s->limits);
	free(s->sandbox);
	free(s->not_enforced);
	free(s->handlers);
	free(s->calls);
	free(s->namespace);
	free(s->state);
	free(s->fence_reason);
	free(s->fence_calls);
	memset(s, 0, sizeof(*s));
}

/* ---- status -------------------------------------------------------------------- */

struct tlog {
	bool present;
	int err;		/* it is there but cannot be read (damaged), or 0 */
	uint64_t latest, done_floor, history;
};

/* the trigger log, without creating it */
static int tlog_read(struct woof_ns *ns, struct tlog *t)
{
	char path[PATH_MAX];
	struct woof_triggers *trig;
	struct stat sb;
	int err;

	memset(t, 0, sizeof(*t));
	if ((size_t)snprintf(path, sizeof(path), "%s/" WOOF_NS_META_DIR "/" WOOF_TRIGGERS_FILE,
			     woof_ns_path(ns)) >= sizeof(path))
		return -ENAMETOOLONG;
	if (stat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	err = woof_triggers_open(ns, &trig);
	if (err)
		return err;
	t->present = true;
	t->done_floor = woof_triggers_done_floor(trig);
	t->latest = woof_triggers_latest(trig);
	t->history = woof_triggers_history(trig);
	woof_triggers_close(trig);
	return 0;
}

/* "256M"-style size for people */
static const char *fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int u = -1;
	double d = (double)v;

	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64 " bytes", v);
	else
		snprintf(buf, len, "%.1f %ciB", d, units[u]);
	return buf;
}

/* a limit's value for people: "256.0 MiB", "50% of a CPU", "not set" */
static const char *limit_value(const struct status_limit *l, char *buf, size_t len)
{
	uint64_t v;

	if (!l->value)
		return "-";
	if (!strcmp(l->name, "cpu.max")) {
		unsigned long q = 0, p = 0;

		if (sscanf(l->value, "%lu/%lu", &q, &p) == 2 && q && p)
			snprintf(buf, len, "%lu/%lu us (%.0f%% of a CPU)", q, p,
				 100.0 * (double)q / (double)p);
		else
			snprintf(buf, len, "not set");
		return buf;
	}
	if (!parse_u64(l->value, &v))
		return l->value;
	if (!v)
		return "not set";
	if (!strcmp(l->name, "memory.max"))
		return fmt_size(v, buf, len);
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static const char *limit_enforced(const struct status_limit *l, char *buf, size_t len)
{
	const char *e = l->enforced ? l->enforced : "?";

	if (!strcmp(e, "yes"))
		snprintf(buf, len, "enforced%s%s%s", l->kill ? " (kill: " : "",
			 l->kill ? l->kill : "", l->kill ? ")" : "");
	else if (!strcmp(e, "no"))
		snprintf(buf, len, "NOT ENFORCED on this host");
	else if (!strcmp(e, "n/a"))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "enforced=%s", e);
	return buf;
}

static void status_human(const char *nspath, const struct daemon_probe *dp,
			 const struct tlog *tl, const struct status_file *s, bool have_status)
{
	char a[64], b[64], c[64];
	uint64_t now = (uint64_t)time(NULL) * 1000000000ULL;

	printf("namespace:     %s\n", nspath);
	if (dp->running)
		printf("dispatcherd:   running, pid %s\n",
		       dp->pid ? (snprintf(a, sizeof(a), "%ld", dp->pid), a) : "unknown");
	else if (dp->lock_file && dp->pid)
		printf("dispatcherd:   not running (last served by pid %ld)\n", dp->pid);
	else
		printf("dispatcherd:   not running\n");
	if (tl->err)
		printf("trigger log:   cannot be read: %s\n", woof_strerror(tl->err));
	else if (tl->present)
		printf("trigger log:   latest %" PRIu64 ", done_floor %" PRIu64 ", backlog %" PRIu64
		       " (unfinished)\n", tl->latest, tl->done_floor,
		       tl->latest - (tl->done_floor < tl->latest ? tl->done_floor : tl->latest));
	else
		printf("trigger log:   none (no put has named a handler yet)\n");
	if (!have_status) {
		printf("status file:   none (no dispatcherd has served this namespace)\n");
		return;
	}

	printf("status file:   state %s, written %s", s->state ? s->state : "?",
	       fmt_time_local(s->updated_ns, a, sizeof(a)));
	if (s->updated_ns && now > s->updated_ns)
		printf(" (%s ago)", fmt_duration(now - s->updated_ns, b, sizeof(b)));
	printf(", by pid %" PRIu64 "%s\n", s->pid, s->complete ? "" : ", INCOMPLETE");
	if (s->state && !strcmp(s->state, "fenced")) {
		printf("FENCED:        since %s: %s\n", fmt_time_local(s->fenced_ns, a, sizeof(a)),
		       s->fence_reason ? s->fence_reason : "?");
		printf("               dispatcherd takes none of its triggers (its other namespaces "
		       "go on); its calls %s\n", s->fence_calls && !strcmp(s->fence_calls, "ended") ?
		       "were ended and its cgroup removed" : "are being ended");
		printf("repair:        woofctl ns repair %s   (then dispatcherd picks it up again)\n",
		       nspath);
		return;
	}
	if (!dp->running)
		printf("               (from the last dispatcherd: %s)\n",
		       s->state && strcmp(s->state, "stopped") ?
		       "it did not stop cleanly; its running calls run again at the next start" :
		       "it stopped cleanly");
	printf("started:       %s\n", fmt_time_local(s->started_ns, a, sizeof(a)));
	printf("calls:         %" PRIu64 " running (max_concurrent %" PRIu64 "), %" PRIu64
	       " queued, %" PRIu64 " retrying\n", s->running, s->max_concurrent, s->queued,
	       s->retrying);
	if (s->have_triggers)
		printf("read so far:   next trigger %" PRIu64 ", %" PRIu64 " unread\n", s->t_next,
		       s->t_unread);
	printf("since start:   %" PRIu64 " done, %" PRIu64 " failed, %" PRIu64 " orphan, %" PRIu64
	       " redelivered, %" PRIu64 " claim retries\n", s->n_done, s->n_failed, s->n_orphan,
	       s->n_redelivered, s->n_claim_retries);
	printf("spool:         %s of %s%s\n", fmt_size(s->spool_bytes, a, sizeof(a)),
	       fmt_size(s->spool_max, b, sizeof(b)), s->spool_full ? " (FULL: reading paused)" : "");
	printf("timeout:       %s per call\n", fmt_timeout_ms(s->timeout_ms, a, sizeof(a)));
	if (s->handler_user_default)
		printf("handler user:  dispatcherd's own\n");
	else
		printf("handler user:  uid %" PRIu64 ", gid %" PRIu64 "\n", s->handler_uid,
		       s->handler_gid);

	if (s->nlimits) {
		printf("limits:\n");
		for (size_t i = 0; i < s->nlimits; i++)
			printf("  %-12s %-28s %s\n", s->limits[i].name,
			       limit_value(&s->limits[i], a, sizeof(a)),
			       limit_enforced(&s->limits[i], c, sizeof(c)));
	}
	if (s->nnot_enforced) {
		printf("not enforced on this host:\n");
		for (size_t i = 0; i < s->nnot_enforced; i++)
			printf("  - %s\n", s->not_enforced[i]);
	}
	if (s->nsandbox) {
		printf("sandbox:\n");
		for (size_t i = 0; i < s->nsandbox; i++) {
			const char *txt = s->sandbox[i] + strspn(s->sandbox[i], " ");

			if (!strcmp(txt, "not enforced:"))
				break;	/* listed above */
			printf("  %s\n", txt);
		}
	}
	if (s->nhandlers) {
		int w = 7;

		for (size_t i = 0; i < s->nhandlers; i++)
			if ((int)strlen(s->handlers[i].name) > w)
				w = (int)strlen(s->handlers[i].name);
		printf("handlers:\n  %-*s %-7s %7s %7s %8s %8s %4s  %s\n", w, "NAME", "RUNTIME",
		       "RUNNING", "QUEUED", "DONE", "FAILED", "CAP", "TIMEOUT");
		for (size_t i = 0; i < s->nhandlers; i++) {
			const struct status_handler *h = &s->handlers[i];

			snprintf(b, sizeof(b), "%" PRIu64, h->cap);
			printf("  %-*s %-7s %7" PRIu64 " %7" PRIu64 " %8" PRIu64 " %8" PRIu64
			       " %4s  %s\n", w, h->name, h->runtime, h->running, h->queued, h->done,
			       h->failed, h->cap ? b : "-", fmt_timeout_ms(h->timeout_ms, a, sizeof(a)));
		}
	}
	if (s->ncalls) {
		printf("calls running and waiting:\n  %7s  %-8s %7s  %-12s %-12s %6s %8s  %s\n",
		       "TRIGGER", "STATE", "ATTEMPT", "HANDLER", "WOOF", "SEQ", "PID", "STARTED");
		for (size_t i = 0; i < s->ncalls; i++) {
			const struct status_call *k = &s->calls[i];

			snprintf(b, sizeof(b), "%" PRIu64, k->pid);
			printf("  %7" PRIu64 "  %-8s %7" PRIu64 "  %-12s %-12s %6" PRIu64 " %8s  %s\n",
			       k->trigger, k->state, k->attempt, k->handler, k->woof, k->seq,
			       k->pid ? b : "-", fmt_time_local(k->start_ns, a, sizeof(a)));
		}
		if (s->calls_not_listed)
			printf("  ... and %" PRIu64 " more waiting\n", s->calls_not_listed);
	}
}

static void json_strv(struct json *j, const char *key, char *const *v, size_t n)
{
	json_key(j, key);
	json_arr_open(j);
	for (size_t i = 0; i < n; i++)
		json_str(j, v[i]);
	json_arr_close(j);
}

static void status_json(struct woofctl *ctx, const char *nspath, const struct daemon_probe *dp,
			const struct tlog *tl, const struct status_file *s, bool have_status)
{
	struct json *j = out_json_begin(ctx);

	json_kv_str(j, "namespace", nspath);
	json_key(j, "dispatcherd");
	json_obj_open(j);
	json_kv_bool(j, "running", dp->running);
	json_key(j, "pid");
	if (dp->pid)
		json_u64(j, (uint64_t)dp->pid);
	else
		json_null(j);
	json_kv_bool(j, "lock_file", dp->lock_file);
	json_obj_close(j);

	json_key(j, "trigger_log");
	json_obj_open(j);
	json_kv_bool(j, "present", tl->present);
	json_key(j, "error");
	if (tl->err)
		json_str(j, woof_strerror(tl->err));
	else
		json_null(j);
	json_kv_u64(j, "latest", tl->latest);
	json_kv_u64(j, "done_floor", tl->done_floor);
	json_kv_u64(j, "backlog", tl->latest > tl->done_floor ? tl->latest - tl->done_floor : 0);
	json_kv_u64(j, "history", tl->history);
	json_obj_close(j);

	json_key(j, "status");
	if (!have_status) {
		json_null(j);
		out_json_end(ctx);
		return;
	}
	json_obj_open(j);
	json_kv_u64(j, "version", s->version);
	json_kv_bool(j, "complete", s->complete);
	json_kv_u64(j, "pid", s->pid);
	json_kv_str(j, "namespace", s->namespace);
	json_kv_str(j, "state", s->state);
	json_key(j, "fence");
	if (s->fence_reason) {
		json_obj_open(j);
		json_kv_str(j, "reason", s->fence_reason);
		json_kv_time(j, "since", s->fenced_ns);
		json_kv_str(j, "calls", s->fence_calls ? s->fence_calls : "");
		json_obj_close(j);
	} else {
		json_null(j);
	}
	json_kv_time(j, "started", s->started_ns);
	json_kv_time(j, "updated", s->updated_ns);
	json_kv_u64(j, "max_concurrent", s->max_concurrent);
	json_kv_u64(j, "running", s->running);
	json_kv_u64(j, "queued", s->queued);
	json_kv_u64(j, "retrying", s->retrying);
	json_key(j, "triggers");
	if (s->have_triggers) {
		json_obj_open(j);
		json_kv_u64(j, "latest", s->t_latest);
		json_kv_u64(j, "done_floor", s->t_done_floor);
		json_kv_u64(j, "next", s->t_next);
		json_kv_u64(j, "unread", s->t_unread);
		json_obj_close(j);
	} else {
		json_null(j);
	}
	json_key(j, "spool");
	json_obj_open(j);
	json_kv_u64(j, "bytes", s->spool_bytes);
	json_kv_u64(j, "max", s->spool_max);
	json_kv_bool(j, "full", s->spool_full);
	json_obj_close(j);
	json_key(j, "counters");
	json_obj_open(j);
	json_kv_u64(j, "done", s->n_done);
	json_kv_u64(j, "failed", s->n_failed);
	json_kv_u64(j, "orphan", s->n_orphan);
	json_kv_u64(j, "redelivered", s->n_redelivered);
	json_kv_u64(j, "claim_retries", s->n_claim_retries);
	json_obj_close(j);
	json_kv_u64(j, "timeout_ms", s->timeout_ms);
	json_key(j, "handler_user");
	json_obj_open(j);
	json_kv_bool(j, "default", s->handler_user_default);
	if (!s->handler_user_default) {
		json_kv_u64(j, "uid", s->handler_uid);
		json_kv_u64(j, "gid", s->handler_gid);
	}
	json_obj_close(j);
	json_key(j, "limits");
	json_arr_open(j);
	for (size_t i = 0; i < s->nlimits; i++) {
		json_obj_open(j);
		json_kv_str(j, "name", s->limits[i].name);
		json_kv_str(j, "value", s->limits[i].value);
		json_kv_str(j, "enforced", s->limits[i].enforced);
		if (s->limits[i].kill)
			json_kv_str(j, "kill", s->limits[i].kill);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_strv(j, "not_enforced", s->not_enforced, s->nnot_enforced);
	json_strv(j, "sandbox", s->sandbox, s->nsandbox);
	json_key(j, "handlers");
	json_arr_open(j);
	for (size_t i = 0; i < s->nhandlers; i++) {
		const struct status_handler *h = &s->handlers[i];

		json_obj_open(j);
		json_kv_str(j, "name", h->name);
		json_kv_str(j, "runtime", h->runtime);
		json_kv_u64(j, "running", h->running);
		json_kv_u64(j, "queued", h->queued);
		json_kv_u64(j, "done", h->done);
		json_kv_u64(j, "failed", h->failed);
		json_kv_u64(j, "cap", h->cap);
		json_kv_u64(j, "timeout_ms", h->timeout_ms);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_key(j, "calls");
	json_arr_open(j);
	for (size_t i = 0; i < s->ncalls; i++) {
		const struct status_call *k = &s->calls[i];

		json_obj_open(j);
		json_kv_u64(j, "trigger", k->trigger);
		json_kv_str(j, "state", k->state);
		json_kv_u64(j, "attempt", k->attempt);
		json_kv_str(j, "woof", k->woof);
		json_kv_u64(j, "seq", k->seq);
		json_kv_str(j, "handler", k->handler);
		json_kv_time(j, "put", k->put_ns);
		json_key(j, "pid");
		if (k->pid)
			json_u64(j, k->pid);
		else
			json_null(j);
		json_kv_time(j, "start", k->start_ns);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_kv_u64(j, "calls_not_listed", s->calls_not_listed);
	json_obj_close(j);
	out_json_end(ctx);
}

/* woofctl status */
int cmd_status(struct woofctl *ctx, int argc, char **argv)
{
	struct status_file s = { 0 };
	struct daemon_probe dp;
	struct woof_ns *ns;
	struct tlog tl;
	bool have_status = false;
	int ret = cmd_no_options(ctx, argc, argv);
	int err;

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	ret = ns_open_selected(ctx, &ns);
	if (ret)
		return ret;

	err = daemon_probe(ns, &dp);
	if (err)
		ret = fail_sys(err, "status: %s/" WOOF_NS_META_DIR "/" WOOF_DISPATCHERD_LOCK,
			       woof_ns_path(ns));
	err = tlog_read(ns, &tl);
	if (err) {
		ret = fail(err, "status: the trigger log of %s", woof_ns_path(ns));
		tl.err = err;
	}
	err = status_read(ns, &s);
	if (!err)
		have_status = true;
	else if (err == -EBADMSG)
		ret = fail_msg("status: %s/" WOOF_NS_META_DIR "/" WOOF_STATUS_FILE
			       ": not a dispatcherd status file", woof_ns_path(ns));
	else if (err != -ENOENT)
		ret = fail_sys(err, "status: %s/" WOOF_NS_META_DIR "/" WOOF_STATUS_FILE,
			       woof_ns_path(ns));

	if (ctx->json)
		status_json(ctx, woof_ns_path(ns), &dp, &tl, &s, have_status);
	else
		status_human(woof_ns_path(ns), &dp, &tl, &s, have_status);
	status_free(&s);
	woof_ns_close(ns);
	return ret;
}
