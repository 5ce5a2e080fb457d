/* SPDX-License-Identifier: MIT */
/*
 * cmd-woof.c - the "woof" object: create, ls, stat, put, get, tail, rm.
 *
 * Every command resolves its NAME argument through resolve.c and talks to
 * the WOOF only through libwoof. Elements are buffered whole in memory
 * (element_size bytes, at most WOOF_ELEMENT_SIZE_MAX).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "woofctl.h"

/* long-only options */
enum {
	OPT_ELEMENT_SIZE = 256,
	OPT_HISTORY,
	OPT_DURABLE,
	OPT_EXCL,
	OPT_RESET,
	OPT_HANDLER,
	OPT_HEX,
	OPT_FILE,
	OPT_RAW,
	OPT_TIMEOUT,
};

/* open the WOOF ref->name, with a message on failure */
static int open_woof(struct woofref *ref, const char *verb, struct woof **wp)
{
	int err = woof_open(ref->ns, ref->name, wp);

	if (err)
		return fail(err, "%s %s", verb, ref->arg);
	return EXIT_OK;
}

static int stat_woof(struct woof *w, struct woofref *ref, const char *verb,
		     struct woof_stat *st)
{
	int err = woof_stat(w, st);

	if (err)
		return fail(err, "%s %s", verb, ref->arg);
	return EXIT_OK;
}

/* ---- create --------------------------------------------------------------------- */

/* Why an open-or-create met an existing file it could not open. */
static int explain_exists(struct woofref *ref, const struct woof_create_opts *o)
{
	struct woof_stat st;
	struct woof *w;
	int err = woof_open(ref->ns, ref->name, &w);

	if (err)
		return fail(err, "create %s: a file of that name exists", ref->arg);
	err = woof_stat(w, &st);
	woof_close(w);
	if (err)
		return fail(-EEXIST, "create %s", ref->arg);
	return fail(-EEXIST, "create %s: exists with element size %" PRIu64
		    ", history %" PRIu64 " (asked for %" PRIu64 ", %" PRIu64
		    "; --reset replaces it)", ref->arg, st.element_size,
		    st.history_size, o->element_size, o->history_size);
}

/* woofctl woof create NAME --element-size N --history N [--durable] [--excl|--reset] */
int cmd_woof_create(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "element-size", required_argument, NULL, OPT_ELEMENT_SIZE },
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ "durable", no_argument, NULL, OPT_DURABLE },
		{ "excl", no_argument, NULL, OPT_EXCL },
		{ "reset", no_argument, NULL, OPT_RESET },
		{ NULL, 0, NULL, 0 },
	};
	struct woof_create_opts o = { .sz = sizeof(o) };
	bool have_es = false, have_hist = false, excl = false, reset = false;
	struct woofref ref;
	struct woof_stat st;
	struct woof *w = NULL;
	const char *action;
	int c, err, ret;

	while ((c = cmd_getopt(ctx, argc, argv, "", longopts)) != -1) {
		switch (c) {
		case OPT_ELEMENT_SIZE:
			if (!parse_u64(optarg, &o.element_size))
				return usage_error(ctx, "bad element size '%s'", optarg);
			have_es = true;
			break;
		case OPT_HISTORY:
			if (!parse_u64(optarg, &o.history_size))
				return usage_error(ctx, "bad history size '%s'", optarg);
			have_hist = true;
			break;
		case OPT_DURABLE:
			o.flags |= WOOF_F_DURABLE;
			break;
		case OPT_EXCL:
			excl = true;
			break;
		case OPT_RESET:
			reset = true;
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	if (!have_es)
		return usage_error(ctx, "--element-size is required");
	if (!have_hist)
		return usage_error(ctx, "--history is required");
	if (excl && reset)
		return usage_error(ctx, "--excl and --reset exclude each other");

	ret = woofref_resolve(ctx, argv[optind], &ref);
	if (ret)
		return ret;
	if (o.element_size < 1 || o.element_size > WOOF_ELEMENT_SIZE_MAX) {
		ret = fail(-EINVAL, "create %s: element size %" PRIu64
			   " is not in 1..%llu", ref.arg, o.element_size,
			   (unsigned long long)WOOF_ELEMENT_SIZE_MAX);
		goto out;
	}
	if (o.history_size < 1 || o.history_size > WOOF_HISTORY_MAX) {
		ret = fail(-EINVAL, "create %s: history size %" PRIu64
			   " is not in 1..%llu", ref.arg, o.history_size,
			   (unsigned long long)WOOF_HISTORY_MAX);
		goto out;
	}

	if (excl) {
		o.create = WOOF_CREATE_EXCL;
		action = "created";
		err = woof_create(ref.ns, ref.name, &o, &w);
	} else if (reset) {
		struct woof *old;
		bool existed = woof_open(ref.ns, ref.name, &old) == 0;

		if (existed)
			woof_close(old);
		o.create = WOOF_CREATE_RESET;
		action = existed ? "reset" : "created";
		err = woof_create(ref.ns, ref.name, &o, &w);
	} else {
		/*
		 * Open-or-create, split in two so that we can say which one
		 * happened: exclusive create first, then open-if-it-matches.
		 */
		o.create = WOOF_CREATE_EXCL;
		action = "created";
		err = woof_create(ref.ns, ref.name, &o, &w);
		if (err == -EEXIST) {
			o.create = WOOF_CREATE_OPEN;
			action = "opened";
			err = woof_create(ref.ns, ref.name, &o, &w);
			if (err == -EEXIST) {
				ret = explain_exists(&ref, &o);
				goto out;
			}
		}
	}
	if (err) {
		ret = fail(err, "create %s", ref.arg);
		goto out;
	}
	ret = stat_woof(w, &ref, "create", &st);
	if (ret)
		goto out;
	if ((o.flags & WOOF_F_DURABLE) && !(st.flags & WOOF_F_DURABLE))
		fprintf(stderr, "woofctl: note: %s exists and is not durable; "
			"--reset re-creates it durable\n", ref.arg);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "action", action);
		json_kv_str(j, "namespace", woof_ns_path(ref.ns));
		out_json_stat_members(j, &st);
		out_json_end(ctx);
	} else {
		char fl[64];

		printf("%s WOOF %s (element size %" PRIu64 ", history %" PRIu64
		       ", flags %s)\n", action, ref.name, st.element_size,
		       st.history_size, flags_str(st.flags, fl, sizeof(fl)));
	}
out:
	if (w)
		woof_close(w);
	woofref_release(&ref);
	return ret;
}

/* ---- ls ------------------------------------------------------------------------- */

struct namelist {
	char **v;
	size_t n, cap;
	int err;
};

static int collect_name(const char *name, void *arg)
{
	struct namelist *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return l->err = -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(name);
	if (!l->v[l->n])
		return l->err = -ENOMEM;
	l->n++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* woofctl woof ls */
int cmd_woof_ls(struct woofctl *ctx, int argc, char **argv)
{
	struct namelist l = { 0 };
	struct woof_stat *st = NULL;
	struct woof_ns *ns;
	size_t nshown = 0, namew = 4;
	int ret = cmd_no_options(ctx, argc, argv);
	int err;

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	ret = ns_open_selected(ctx, &ns);
	if (ret)
		return ret;

	err = woof_ns_list(ns, collect_name, &l);
	if (err) {
		ret = fail(err, "ls %s", woof_ns_path(ns));
		goto out;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_names);
	st = calloc(l.n ? l.n : 1, sizeof(*st));
	if (!st) {
		ret = fail(-ENOMEM, "ls");
		goto out;
	}
	/* stat them all first: a WOOF removed meanwhile is left out */
	for (size_t i = 0; i < l.n; i++) {
		struct woof *w;

		err = woof_open(ns, l.v[i], &w);
		if (!err) {
			err = woof_stat(w, &st[nshown]);
			woof_close(w);
		}
		if (err == -ENOENT)
			continue;
		if (err) {
			ret = fail(err, "ls: %s", l.v[i]);
			continue;
		}
		if (strlen(st[nshown].name) > namew)
			namew = strlen(st[nshown].name);
		nshown++;
	}

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "namespace", woof_ns_path(ns));
		json_key(j, "woofs");
		json_arr_open(j);
		for (size_t i = 0; i < nshown; i++) {
			json_obj_open(j);
			out_json_stat_members(j, &st[i]);
			json_obj_close(j);
		}
		json_arr_close(j);
		out_json_end(ctx);
	} else if (nshown) {
		printf("%-*s %12s %12s %12s  %s\n", (int)namew, "NAME",
		       "ELEMENT_SIZE", "HISTORY", "LATEST", "FLAGS");
		for (size_t i = 0; i < nshown; i++) {
			char fl[64];

			printf("%-*s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "  %s\n",
			       (int)namew, st[i].name, st[i].element_size,
			       st[i].history_size, st[i].latest,
			       flags_str(st[i].flags, fl, sizeof(fl)));
		}
	}
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	free(st);
	woof_ns_close(ns);
	return ret;
}

/* ---- stat ----------------------------------------------------------------------- */

/* woofctl woof stat NAME */
int cmd_woof_stat(struct woofctl *ctx, int argc, char **argv)
{
	struct woofref ref;
	struct woof_stat st;
	struct woof *w;
	int ret = cmd_no_options(ctx, argc, argv);

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	ret = woofref_resolve(ctx, argv[optind], &ref);
	if (ret)
		return ret;
	ret = open_woof(&ref, "stat", &w);
	if (!ret) {
		ret = stat_woof(w, &ref, "stat", &st);
		if (!ret)
			out_stat(ctx, woof_ns_path(ref.ns), woof_ns_engine(ref.ns), &st);
		woof_close(w);
	}
	woofref_release(&ref);
	return ret;
}

/* ---- put ------------------------------------------------------------------------ */

/*
 * Read all of @fd into @buf (@cap bytes). Returns the number of bytes the
 * input had (more than @cap when it was too long; the rest is read and
 * counted, not stored) or -errno.
 */
static long long read_all(int fd, unsigned char *buf, size_t cap)
{
	unsigned char scratch[65536];
	long long total = 0;

	for (;;) {
		unsigned char *dst = (size_t)total < cap ? buf + total : scratch;
		size_t room = (size_t)total < cap ? cap - (size_t)total : sizeof(scratch);
		ssize_t n = read(fd, dst, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return total;
		total += n;
	}
}

/* How long a put waits for room before it says what it waits for. */
#define PUT_NOTE_MS	500

static int64_t mono_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* What a put waits for (@wt), in words, ending in a question to the user. */
static void put_wait_text(struct woofref *ref, const struct woof_put_wait *wt,
			  char *buf, size_t len)
{
	const char *path = woof_ns_path(ref->ns);
	struct daemon_probe dp;
	char who[PATH_MAX + 96];

	if (daemon_probe(ref->ns, &dp) == 0 && dp.running)
		snprintf(who, sizeof(who), "dispatcherd (pid %ld) serves %s: is it stopped or "
			 "behind?", dp.pid, path);
	else
		snprintf(who, sizeof(who), "is dispatcherd running for %s?", path);
	switch (wt->reason) {
	case WOOF_WAIT_HANDLER:
		snprintf(buf, len, "waiting for room: the slot of seq %" PRIu64 " is still "
			 "pending its handler call (trigger %" PRIu64 "); %s", wt->seq,
			 wt->trigger, who);
		break;
	case WOOF_WAIT_TRIGGERS:
		snprintf(buf, len, "waiting for room in the trigger log: trigger %" PRIu64
			 " and later are unfinished; %s", wt->trigger, who);
		break;
	case WOOF_WAIT_LOCK:
		snprintf(buf, len, "waiting for the WOOF's append lock: another process holds "
			 "it (a stopped one?)");
		break;
	default:
		snprintf(buf, len, "waiting for room");
	}
}

/*
 * Append, waiting for room at most @timeout_ms (-1: no limit). A wait of
 * more than PUT_NOTE_MS is reported on stderr, once, with what it waits
 * for; a timeout says the same in its error.
 */
static int put_bounded(struct woofref *ref, struct woof *w, const void *el,
		       const char *handler, int64_t timeout_ms, uint64_t *seq)
{
	struct woof_put_wait wt;
	struct woof_put_opts o = { .sz = sizeof(o), .waited = &wt };
	int64_t end = mono_ms() + timeout_ms, left = timeout_ms;
	char text[2 * PATH_MAX];
	bool noted = false;
	int err;

	o.timeout_ms = timeout_ms >= 0 && timeout_ms < PUT_NOTE_MS ? (int32_t)timeout_ms
								    : PUT_NOTE_MS;
	for (;;) {
		err = woof_append_opts(w, el, handler, &o, seq);
		if (err != -ETIMEDOUT)
			break;
		if (timeout_ms >= 0 && (left = end - mono_ms()) <= 0)
			break;
		if (!noted) {
			put_wait_text(ref, &wt, text, sizeof(text));
			fprintf(stderr, "woofctl: put %s: %s\n", ref->arg, text);
			fflush(stderr);
			noted = true;
		}
		o.timeout_ms = timeout_ms < 0 ? -1 : left > INT32_MAX ? INT32_MAX : (int32_t)left;
	}
	if (err == -ETIMEDOUT) {
		put_wait_text(ref, &wt, text, sizeof(text));
		return fail_msg("put %s: timed out after %.3g s, nothing appended: %s", ref->arg,
				(double)timeout_ms / 1000, text);
	}
	if (err)
		return fail(err, "put %s", ref->arg);
	return EXIT_OK;
}

/* Seconds (fractions allowed, at most 10^9) to ms; false if malformed. */
static bool parse_seconds_ms(const char *s, int64_t *ms)
{
	char *end;
	double v;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0) || v > 1e9)
		return false;
	*ms = (int64_t)(v * 1000 + 0.5);
	return true;
}

/* woofctl woof put NAME [--handler H] [--hex HEX | --file FILE] [--timeout SEC] */
int cmd_woof_put(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "handler", required_argument, NULL, OPT_HANDLER },
		{ "hex", required_argument, NULL, OPT_HEX },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	const char *handler = NULL, *hex = NULL, *file = NULL;
	int64_t timeout_ms = -1;
	unsigned char *buf = NULL;
	struct woofref ref;
	struct woof_stat st;
	struct woof *w = NULL;
	long long len;
	uint64_t seq;
	int c, err, ret;

	while ((c = cmd_getopt(ctx, argc, argv, "", longopts)) != -1) {
		switch (c) {
		case OPT_HANDLER:
			handler = optarg;
			break;
		case OPT_HEX:
			hex = optarg;
			break;
		case OPT_FILE:
			file = optarg;
			break;
		case OPT_TIMEOUT:
			if (!parse_seconds_ms(optarg, &timeout_ms))
				return usage_error(ctx, "--timeout '%s' is not a number of seconds "
						   "(0 or more, fractions allowed)", optarg);
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	if (hex && file)
		return usage_error(ctx, "--hex and --file exclude each other");
	if (handler && (err = woof_name_check(handler)))
		return fail(err, "put: invalid handler name '%s'", handler);

	ret = woofref_resolve(ctx, argv[optind], &ref);
	if (ret)
		return ret;
	ret = open_woof(&ref, "put", &w);
	if (ret)
		goto out;
	ret = stat_woof(w, &ref, "put", &st);
	if (ret)
		goto out;
	/* zeroed, so that short input is padded with zero bytes */
	buf = calloc(1, st.element_size);
	if (!buf) {
		ret = fail(-ENOMEM, "put %s: element of %" PRIu64 " bytes",
			   ref.arg, st.element_size);
		goto out;
	}

	if (hex) {
		long bad;

		len = hex_parse(hex, buf, st.element_size, &bad);
		if (len < 0) {
			if (bad < 0)
				ret = fail_msg("put %s: --hex: odd number of hex digits", ref.arg);
			else if (isspace((unsigned char)hex[bad]))
				ret = fail_msg("put %s: --hex: white space inside a byte "
					       "(at character %ld)", ref.arg, bad + 1);
			else
				ret = fail_msg("put %s: --hex: '%c' (character %ld) is not "
					       "a hex digit", ref.arg, hex[bad], bad + 1);
			goto out;
		}
	} else {
		int fd = STDIN_FILENO;
		const char *what = "stdin";

		if (file && strcmp(file, "-")) {
			fd = open(file, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				ret = fail_sys(errno, "put %s: %s", ref.arg, file);
				goto out;
			}
			what = file;
		}
		len = read_all(fd, buf, st.element_size);
		if (fd != STDIN_FILENO)
			close(fd);
		if (len < 0) {
			ret = fail_sys((int)len, "put %s: reading %s", ref.arg, what);
			goto out;
		}
	}
	if ((uint64_t)len > st.element_size) {
		ret = fail_msg("put %s: input is %lld bytes, more than the element size "
			       "of %" PRIu64 " bytes; nothing appended",
			       ref.arg, len, st.element_size);
		goto out;
	}

	ret = put_bounded(&ref, w, buf, handler, timeout_ms, &seq);
	if (ret)
		goto out;
	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_u64(j, "seq", seq);
		out_json_end(ctx);
	} else {
		printf("appended seq %" PRIu64 "\n", seq);
	}
out:
	free(buf);
	if (w)
		woof_close(w);
	woofref_release(&ref);
	return ret;
}

/* ---- get ------------------------------------------------------------------------ */

/* a message for a failed woof_read of @seq */
static int read_failed(int err, const char *verb, const struct woofref *ref,
		       uint64_t seq, struct woof *w)
{
	struct woof_stat st;

	if (err == -ENODATA && seq == 0)
		return fail(err, "%s %s: the WOOF is empty", verb, ref->arg);
	if (err == -ENODATA && woof_stat(w, &st) == 0 && st.latest)
		return fail(err, "%s %s: seq %" PRIu64 " is no longer retained "
			    "(oldest is %" PRIu64 ")", verb, ref->arg, seq, st.oldest);
	if (err == -ERANGE)
		return fail(err, "%s %s: seq %" PRIu64 " has not been appended yet "
			    "(latest is %" PRIu64 ")", verb, ref->arg, seq, woof_latest(w));
	return fail(err, "%s %s seq %" PRIu64, verb, ref->arg, seq);
}

/* woofctl woof get NAME [SEQ] [--raw] */
int cmd_woof_get(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "raw", no_argument, NULL, OPT_RAW },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char *buf = NULL;
	struct woofref ref;
	struct woof_stat st;
	struct woof *w = NULL;
	uint64_t seq = 0, got;
	bool raw = false;
	int c, err, ret;

	while ((c = cmd_getopt(ctx, argc, argv, "", longopts)) != -1) {
		switch (c) {
		case OPT_RAW:
			raw = true;
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 1, 2))
		return EXIT_USAGE;
	if (argc - optind == 2 && !parse_u64(argv[optind + 1], &seq))
		return usage_error(ctx, "bad sequence number '%s'", argv[optind + 1]);
	if (raw && ctx->json)
		return usage_error(ctx, "--raw and --json exclude each other");

	ret = woofref_resolve(ctx, argv[optind], &ref);
	if (ret)
		return ret;
	ret = open_woof(&ref, "get", &w);
	if (ret)
		goto out;
	ret = stat_woof(w, &ref, "get", &st);
	if (ret)
		goto out;
	buf = malloc(st.element_size);
	if (!buf) {
		ret = fail(-ENOMEM, "get %s", ref.arg);
		goto out;
	}
	err = woof_read(w, seq, buf, &got);
	if (err) {
		ret = read_failed(err, "get", &ref, seq, w);
		goto out;
	}
	out_element(ctx, ref.name, got, buf, st.element_size, raw, false);
out:
	free(buf);
	if (w)
		woof_close(w);
	woofref_release(&ref);
	return ret;
}

/* ---- tail ----------------------------------------------------------------------- */

/* Stopping tail -f: SIGINT, SIGTERM and SIGHUP (follow.h). */

struct tail {
	struct woofctl *ctx;
	struct woofref *ref;
	struct woof *w;
	unsigned char *buf;
	uint64_t element_size;
	bool raw, follow;
};

/* (re)size the element buffer to the WOOF's element size */
static int tail_prepare(struct tail *t, struct woof_stat *st)
{
	int ret = stat_woof(t->w, t->ref, "tail", st);

	if (ret)
		return ret;
	if (st->element_size != t->element_size || !t->buf) {
		free(t->buf);
		t->buf = malloc(st->element_size);
		if (!t->buf)
			return fail(-ENOMEM, "tail %s", t->ref->arg);
		t->element_size = st->element_size;
	}
	return EXIT_OK;
}

/*
 * Print elements *next..latest. An element overwritten before we got to it
 * is skipped with a note. Returns EXIT_OK, EXIT_FAIL, -EPIPE (the reader
 * went away), -EINTR (a stop signal came) or -ESTALE.
 */
static int tail_print(struct tail *t, uint64_t *next, uint64_t latest)
{
	while (*next <= latest) {
		uint64_t got;
		int err;

		if (follow_stopped())
			return -EINTR;
		err = woof_read(t->w, *next, t->buf, &got);

		if (err == -ENODATA) {
			struct woof_stat st;

			err = woof_stat(t->w, &st);
			if (!err && st.oldest > *next) {
				fprintf(stderr, "woofctl: tail %s: seq %" PRIu64 "..%" PRIu64
					" overwritten before they were read\n",
					t->ref->arg, *next, st.oldest - 1);
				*next = st.oldest;
				continue;
			}
			if (!err)
				err = -ENODATA;
		}
		if (err == -ESTALE)
			return err;
		if (err)
			return read_failed(err, "tail", t->ref, *next, t->w);
		out_element(t->ctx, t->ref->name, got, t->buf, t->element_size,
			    t->raw, true);
		if (!t->raw && !t->ctx->json && (t->follow || *next < latest))
			putchar('\n');
		(*next)++;
		if (t->follow && (err = out_flush())) {
			if (err == -EPIPE || (err == -EINTR && follow_stopped()))
				return err;
			return fail_sys(err, "tail: writing the output");
		}
	}
	return EXIT_OK;
}

/* the WOOF was re-created (or removed): open it again by name */
static int tail_reopen(struct tail *t, struct woof_stat *st, uint64_t *next)
{
	int err;

	woof_close(t->w);
	t->w = NULL;
	err = woof_open(t->ref->ns, t->ref->name, &t->w);
	if (err) {
		t->w = NULL;
		return fail(err, "tail %s: the WOOF went away", t->ref->arg);
	}
	fprintf(stderr, "woofctl: tail %s: the WOOF was re-created; following the new one\n",
		t->ref->arg);
	err = tail_prepare(t, st);
	if (err)
		return err;
	*next = st->oldest ? st->oldest : 1;
	return EXIT_OK;
}

/* woofctl woof tail NAME [-n N] [-f] [--raw] */
int cmd_woof_tail(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ NULL, 0, NULL, 0 },
	};
	struct tail t = { .ctx = ctx };
	struct woofref ref;
	struct woof_stat st;
	uint64_t lines = 10, next, latest;
	int c, err, ret;
	int reopens = 0;

	while ((c = cmd_getopt(ctx, argc, argv, "n:f", longopts)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_u64(optarg, &lines))
				return usage_error(ctx, "bad number of elements '%s'", optarg);
			break;
		case 'f':
			t.follow = true;
			break;
		case OPT_RAW:
			t.raw = true;
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	if (t.raw && ctx->json)
		return usage_error(ctx, "--raw and --json exclude each other");

	ret = woofref_resolve(ctx, argv[optind], &ref);
	if (ret)
		return ret;
	t.ref = &ref;
	ret = open_woof(&ref, "tail", &t.w);
	if (ret)
		goto out;
	ret = tail_prepare(&t, &st);
	if (ret)
		goto out;
	if (t.follow)
		follow_catch_signals();

	latest = st.latest;
	next = latest + 1;
	if (lines && latest) {
		next = latest >= lines ? latest - lines + 1 : 1;
		if (next < st.oldest)
			next = st.oldest;
	}

	for (;;) {
		ret = tail_print(&t, &next, latest);
		if (ret == -ESTALE && t.follow && reopens++ < 100) {
			ret = tail_reopen(&t, &st, &next);
			if (ret)
				break;
			latest = woof_latest(t.w);
			continue;
		}
		if (ret == -EPIPE || ret == -EINTR) {	/* reader gone, or stopped */
			ret = EXIT_OK;
			break;
		}
		if (ret == -ESTALE)
			ret = fail(ret, "tail %s", ref.arg);
		if (ret || !t.follow)
			break;

		err = follow_wait(t.w, next - 1);	/* the output is flushed */
		if (err == -EINTR)
			break;
		if (err == -ESTALE && reopens++ < 100) {
			ret = tail_reopen(&t, &st, &next);
			if (ret)
				break;
		} else if (err) {
			ret = fail(err, "tail %s: waiting", ref.arg);
			break;
		}
		latest = woof_latest(t.w);
	}
out:
	free(t.buf);
	if (t.w)
		woof_close(t.w);
	woofref_release(&ref);
	return ret;
}

/* ---- rm ------------------------------------------------------------------------- */

/* woofctl woof rm NAME */
int cmd_woof_rm(struct woofctl *ctx, int argc, char **argv)
{
	struct woofref ref;
	int ret = cmd_no_options(ctx, argc, argv);
	int err;

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	ret = woofref_resolve(ctx, argv[optind], &ref);
	if (ret)
		return ret;
	err = woof_remove(ref.ns, ref.name);
	if (err) {
		ret = fail(err, "rm %s", ref.arg);
	} else if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "removed", ref.name);
		json_kv_str(j, "namespace", woof_ns_path(ref.ns));
		out_json_end(ctx);
	} else {
		printf("removed %s\n", ref.name);
	}
	woofref_release(&ref);
	return ret;
}
