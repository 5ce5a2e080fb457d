/* SPDX-License-Identifier: MIT */
/*
 * cmd-logs.c - "woofctl logs": the output of handlers, from .woof/log.
 *
 * dispatcherd appends every read from a call's stdout or stderr pipe to
 * the WOOF .woof/log as chunks of up to 464 bytes (struct woof_log_chunk),
 * and one-line notes of its own about calls (stream 0). We print one line
 * per line of output, prefixed with the trigger number and the stream:
 *
 *     T3 out hello world
 *     T3 err warning: ...
 *     T4 note failed: exit status 1
 *
 * (T3#2 for a second attempt). A line split over several chunks of the
 * same call and stream is joined when those chunks follow each other;
 * chunks of concurrent calls interleave, and a partial line is printed
 * when the chunks read so far end. -f then waits for new chunks with
 * woof_wait() (the appender wakes us; nothing polls) until SIGINT, SIGTERM
 * or SIGHUP, or until the reader of our output goes away. With -j, one
 * JSON object per line (JSON Lines).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "follow.h"
#include "woofctl.h"

/* one line of output, with where it came from */
struct lline {
	uint64_t trigger, time_ns, seq;
	uint32_t attempt, pid;
	uint16_t stream;
	char *text;
	size_t len;
};

struct logs {
	struct woofctl *ctx;
	uint64_t only;		/* --trigger T, 0 = every call */
	/* the partial line whose rest may be in the next chunk */
	struct lline part;
	bool have_part;
	size_t part_cap;
	/* before the first print, with -n: the lines, to print the last N */
	bool collect;
	struct lline *lines;
	size_t n, cap;
	int err;		/* -ENOMEM while collecting */
};

/* ---- lines ---------------------------------------------------------------------------- */

static const char *stream_name(unsigned stream, char *buf, size_t len)
{
	switch (stream) {
	case WOOF_LOG_NOTE:
		return "note";
	case WOOF_LOG_STDOUT:
		return "out";
	case WOOF_LOG_STDERR:
		return "err";
	}
	snprintf(buf, len, "s%u", stream);
	return buf;
}

static void print_line(struct logs *lg, const struct lline *l)
{
	char sbuf[16];

	if (lg->ctx->json) {
		struct json *j = &lg->ctx->out;

		json_init(j, stdout, false);	/* JSON Lines: one object per line */
		json_obj_open(j);
		json_kv_u64(j, "schema", WOOFCTL_JSON_SCHEMA);
		json_kv_u64(j, "trigger", l->trigger);
		json_kv_u64(j, "attempt", l->attempt);
		json_kv_str(j, "stream", stream_name(l->stream, sbuf, sizeof(sbuf)));
		json_key(j, "pid");
		if (l->pid)
			json_u64(j, l->pid);
		else
			json_null(j);
		json_kv_time(j, "time", l->time_ns);
		json_kv_u64(j, "log_seq", l->seq);
		json_key(j, "text");
		json_strn(j, l->text, l->len);
		json_obj_close(j);
		json_finish(j);
		return;
	}
	printf("T%" PRIu64, l->trigger);
	if (l->attempt > 1)
		printf("#%u", l->attempt);
	printf(" %s ", stream_name(l->stream, sbuf, sizeof(sbuf)));
	fwrite(l->text, 1, l->len, stdout);
	putchar('\n');
}

static void emit(struct logs *lg, const struct lline *l)
{
	struct lline *slot;

	if (!lg->collect) {
		print_line(lg, l);
		return;
	}
	if (lg->err)
		return;
	if (lg->n == lg->cap) {
		size_t cap = lg->cap ? 2 * lg->cap : 1024;
		struct lline *v = realloc(lg->lines, cap * sizeof(*v));

		if (!v) {
			lg->err = -ENOMEM;
			return;
		}
		lg->lines = v;
		lg->cap = cap;
	}
	slot = &lg->lines[lg->n];
	*slot = *l;
	slot->text = malloc(l->len ? l->len : 1);
	if (!slot->text) {
		lg->err = -ENOMEM;
		return;
	}
	memcpy(slot->text, l->text, l->len);
	lg->n++;
}

static void flush_part(struct logs *lg)
{
	if (lg->have_part)
		emit(lg, &lg->part);
	lg->have_part = false;
	lg->part.len = 0;
}

static bool part_append(struct logs *lg, const char *p, size_t len)
{
	if (lg->part.len + len > lg->part_cap) {
		size_t cap = 2 * (lg->part.len + len);
		char *t = realloc(lg->part.text, cap);

		if (!t)
			return false;
		lg->part.text = t;
		lg->part_cap = cap;
	}
	memcpy(lg->part.text + lg->part.len, p, len);
	lg->part.len += len;
	return true;
}

static void chunk(struct logs *lg, uint64_t seq, const struct woof_log_chunk *ch)
{
	const char *p = ch->data, *end;
	struct lline l = {
		.trigger = ch->trigger, .time_ns = ch->time_ns, .seq = seq,
		.attempt = ch->attempt, .pid = ch->pid, .stream = ch->stream,
	};

	if (!ch->len || ch->len > WOOF_LOG_DATA || (lg->only && ch->trigger != lg->only))
		return;
	end = p + ch->len;
	if (lg->have_part && (lg->part.trigger != ch->trigger || lg->part.attempt != ch->attempt ||
			      lg->part.stream != ch->stream))
		flush_part(lg);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!nl) {
			/* the rest of the line may follow in the next chunk */
			if (!lg->have_part) {
				char *keep = lg->part.text;

				lg->part = l;
				lg->part.text = keep;
				lg->part.len = 0;
				lg->have_part = true;
			}
			if (!part_append(lg, p, len)) {
				flush_part(lg);
				l.text = (char *)p;
				l.len = len;
				emit(lg, &l);
			}
			break;
		}
		if (lg->have_part) {
			if (part_append(lg, p, len)) {
				lg->part.seq = seq;
				flush_part(lg);
				p = nl + 1;
				continue;
			}
			flush_part(lg);
		}
		l.text = (char *)p;
		l.len = len;
		emit(lg, &l);
		p = nl + 1;
	}
}

/*
 * Print chunks *next..latest; a chunk overwritten before we got to it is
 * skipped with a note. Returns 0, -ESTALE, or another -errno of woof_read.
 */
static int read_chunks(struct logs *lg, struct woof *w, uint64_t *next, uint64_t latest)
{
	struct woof_log_chunk ch;

	while (*next <= latest) {
		int err;

		if (follow_stopped())
			return -EINTR;
		err = woof_read(w, *next, &ch, NULL);
		if (err == -ENODATA) {
			struct woof_stat st;

			if (woof_stat(w, &st) == 0 && st.oldest > *next) {
				fprintf(stderr, "woofctl: logs: %" PRIu64 " chunks of output were "
					"overwritten before they were read\n", st.oldest - *next);
				*next = st.oldest;
				continue;
			}
		}
		if (err)
			return err;
		chunk(lg, *next, &ch);
		(*next)++;
	}
	return 0;
}

/* ---- waiting for the log to appear ------------------------------------------------------ */

/*
 * -f before any dispatcherd created .woof/log: wait until it appears,
 * with inotify on .woof/ (libwoof creates a WOOF under a temporary name and
 * renames it into place). Returns 0 with the log open, or -errno; -EINTR
 * when stopped.
 */
static int wait_for_log(struct woof_ns *ns, struct woof_ns **meta, struct woof **w)
{
	char dir[PATH_MAX];
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int fd, err;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/" WOOF_NS_META_DIR, woof_ns_path(ns)) >=
	    sizeof(dir))
		return -ENAMETOOLONG;
	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	for (;;) {
		/* after the watch is set: a log created before it is found here */
		err = disp_open(ns, WOOF_LOG_FILE, sizeof(struct woof_log_chunk), meta, w);
		if (err != -ENOENT)
			break;
		if (!follow_sleep_begin()) {
			err = -EINTR;
			break;
		}
		if (read(fd, ev, sizeof(ev)) < 0 && errno != EINTR) {
			err = -errno;
			follow_sleep_end();
			break;
		}
		follow_sleep_end();
	}
	close(fd);
	return err;
}

/* ---- logs ------------------------------------------------------------------------------ */

/* woofctl logs [-f] [-n N] [--trigger T] [NS] */
int cmd_logs(struct woofctl *ctx, int argc, char **argv)
{
	enum { OPT_TRIGGER = 256 };
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "lines", required_argument, NULL, 'n' },
		{ "trigger", required_argument, NULL, OPT_TRIGGER },
		{ NULL, 0, NULL, 0 },
	};
	struct logs lg = { .ctx = ctx };
	struct woof_ns *ns, *meta = NULL;
	struct woof *w = NULL;
	uint64_t lines = UINT64_MAX, next, latest, first;
	bool follow = false;
	char path[PATH_MAX];
	int c, err, ret;
	int reopens = 0;

	while ((c = cmd_getopt(ctx, argc, argv, "fn:", longopts)) != -1) {
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 'n':
			if (!parse_u64(optarg, &lines))
				return usage_error(ctx, "bad number of lines '%s'", optarg);
			break;
		case OPT_TRIGGER:
			if (!parse_u64(optarg, &lg.only) || !lg.only)
				return usage_error(ctx, "bad trigger number '%s'", optarg);
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 0, 1))
		return EXIT_USAGE;
	if (argc - optind == 1)
		ctx->ns_dir = argv[optind];	/* logs NS: the namespace as an argument */

	ret = ns_open_selected(ctx, &ns);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/" WOOF_NS_META_DIR "/" WOOF_LOG_FILE, woof_ns_path(ns));
	if (follow)
		follow_catch_signals();

	err = disp_open(ns, WOOF_LOG_FILE, sizeof(struct woof_log_chunk), &meta, &w);
	if (err == -ENOENT && follow)
		err = wait_for_log(ns, &meta, &w);
	if (err == -ENOENT) {		/* nothing recorded yet: nothing to print */
		ret = EXIT_OK;
		goto out;
	}
	if (err == -EINTR) {
		ret = EXIT_OK;
		goto out;
	}
	if (err == -EBADMSG) {
		ret = fail_msg("logs: %s: not a log of this dispatcherd version (element size)", path);
		goto out;
	}
	if (err) {
		ret = fail(err, "logs: %s", path);
		goto out;
	}
	/*
	 * woof_wait() sets the log's wait flag in the shared mapping: it needs
	 * write access to the file (libwoof maps it read-only otherwise).
	 */
	if (follow && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) < 0) {
		ret = fail_sys(errno, "logs -f: %s: following the log needs write access to it "
			       "(ask its owner, or run as root)", path);
		goto out;
	}

	latest = woof_latest(w);
	first = latest > WOOF_LOG_HISTORY ? latest - WOOF_LOG_HISTORY + 1 : 1;
	next = first;
	lg.collect = lines != UINT64_MAX;
	err = read_chunks(&lg, w, &next, latest);
	flush_part(&lg);
	if (err && err != -EINTR) {
		ret = fail(err, "logs: %s", path);
		goto out;
	}
	if (lg.err) {
		ret = fail(lg.err, "logs");
		goto out;
	}
	if (lg.collect) {
		for (size_t i = lg.n > lines ? lg.n - lines : 0; i < lg.n; i++)
			print_line(&lg, &lg.lines[i]);
		lg.collect = false;
	}
	if (!follow || err == -EINTR)
		goto out;

	for (;;) {
		err = out_flush();
		if (err == -EPIPE)
			break;
		if (err && !(err == -EINTR && follow_stopped())) {
			ret = fail_sys(err, "logs: writing the output");
			break;
		}
		err = follow_wait(w, next - 1);	/* the output is flushed */
		if (err == -EINTR)
			break;
		if (err == -ESTALE && reopens++ < 100) {
			/* the log was re-created: follow the new one from its start */
			disp_close(meta, w);
			err = disp_open(ns, WOOF_LOG_FILE, sizeof(struct woof_log_chunk), &meta, &w);
			if (err) {
				meta = NULL;
				w = NULL;
				ret = fail(err, "logs: %s went away", path);
				break;
			}
			next = 1;
		} else if (err) {
			ret = fail(err, "logs: %s: waiting", path);
			break;
		}
		err = read_chunks(&lg, w, &next, woof_latest(w));
		flush_part(&lg);
		if (err == -EINTR)
			break;
		if (err && err != -ESTALE) {
			ret = fail(err, "logs: %s", path);
			break;
		}
	}
out:
	for (size_t i = 0; i < lg.n; i++)
		free(lg.lines[i].text);
	free(lg.lines);
	free(lg.part.text);
	disp_close(meta, w);
	woof_ns_close(ns);
	return ret;
}
