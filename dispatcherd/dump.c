/* SPDX-License-Identifier: MIT */
/*
 * dump.c - dispatcherd-dump: print what dispatcherd recorded in a
 * namespace, for tests, the demo and debugging (woofctl's trigger ls and
 * logs are the user-facing commands).
 *
 *   dispatcherd-dump [-N DIR] calls [-t TRIGGER]
 *       one line per record of .woof/calls, "key=value" fields
 *   dispatcherd-dump [-N DIR] log [-t TRIGGER] [-r] [-f]
 *       .woof/log: each chunk as "T<trigger> <out|err|note> <text>" lines,
 *       or with -r only the bytes; -f waits for more (woof_wait, no polling)
 *
 * DIR defaults to $WOOFC_DIR, else the current directory.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <woof.h>

static const char *state_name(uint32_t s)
{
	static const char *const names[] = { "pending", "running", "done", "failed",
					     "redelivered", "orphan" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static const char *reason_name(uint32_t r)
{
	static const char *const names[] = { "none", "exit", "signal", "timeout", "nohandler",
					     "noexec", "spawn", "stale", "removed", "overwritten",
					     "orphan", "claim", "crash" };

	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

static int open_meta(const char *dir, const char *name, struct woof_ns **ns, struct woof **w)
{
	char meta[PATH_MAX];
	int ret;

	snprintf(meta, sizeof(meta), "%s/" WOOF_NS_META_DIR, dir);
	ret = woof_ns_open(meta, ns);
	if (!ret)
		ret = woof_open(*ns, name, w);
	if (ret)
		fprintf(stderr, "dispatcherd-dump: %s/%s: %s\n", meta, name, woof_strerror(ret));
	return ret;
}

static int dump_calls(const char *dir, uint64_t only)
{
	struct woof_call_record r;
	struct woof_ns *ns;
	struct woof *w;
	uint64_t latest, s;

	if (open_meta(dir, WOOF_CALLS_FILE, &ns, &w))
		return 1;
	latest = woof_latest(w);
	s = latest > WOOF_CALLS_HISTORY ? latest - WOOF_CALLS_HISTORY + 1 : 1;
	for (; latest && s <= latest; s++) {
		if (woof_read(w, s, &r, NULL))
			continue;
		if (only && r.trigger != only)
			continue;
		r.woof[WOOF_NAME_MAX] = r.handler[WOOF_NAME_MAX] = '\0';
		printf("trigger=%llu seq=%llu attempt=%u state=%s reason=%s exit=%u signal=%u "
		       "error=%d pid=%u runtime=%u output=%llu duration_us=%llu flags=%u "
		       "woof=%s handler=%s\n",
		       (unsigned long long)r.trigger, (unsigned long long)r.woof_seq, r.attempt,
		       state_name(r.state), reason_name(r.reason), r.exit_status, r.signal,
		       r.error, r.pid, r.runtime, (unsigned long long)r.output_bytes,
		       (unsigned long long)(r.duration_ns / 1000), r.flags, r.woof, r.handler);
	}
	woof_close(w);
	woof_ns_close(ns);
	return 0;
}

static void put_chunk(const struct woof_log_chunk *ch, bool raw)
{
	static const char *const streams[] = { "note", "out", "err" };
	const char *p = ch->data, *end = ch->data + (ch->len <= WOOF_LOG_DATA ? ch->len : 0);

	if (raw) {
		fwrite(p, 1, (size_t)(end - p), stdout);
		return;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		printf("T%llu %s %.*s\n", (unsigned long long)ch->trigger,
		       ch->stream < 3 ? streams[ch->stream] : "?", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
}

static int dump_log(const char *dir, uint64_t only, bool raw, bool follow)
{
	struct woof_log_chunk ch;
	struct woof_ns *ns;
	struct woof *w;
	uint64_t latest, s;

	if (open_meta(dir, WOOF_LOG_FILE, &ns, &w))
		return 1;
	latest = woof_latest(w);
	s = latest > WOOF_LOG_HISTORY ? latest - WOOF_LOG_HISTORY + 1 : 1;
	for (;;) {
		for (; s <= latest; s++) {
			if (woof_read(w, s, &ch, NULL))
				continue;
			if (only && ch.trigger != only)
				continue;
			put_chunk(&ch, raw);
		}
		fflush(stdout);
		if (!follow)
			break;
		if (woof_wait(w, latest, -1) < 0)
			break;
		latest = woof_latest(w);
	}
	woof_close(w);
	woof_ns_close(ns);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("WOOFC_DIR");
	char cwd[PATH_MAX];
	uint64_t only = 0;
	bool raw = false, follow = false;
	int c;

	while ((c = getopt(argc, argv, "+N:")) != -1) {
		if (c == 'N') {
			dir = optarg;
		} else {
			fprintf(stderr, "usage: dispatcherd-dump [-N DIR] calls|log [-t T] [-r] [-f]\n");
			return 2;
		}
	}
	if (!dir || !*dir)
		dir = getcwd(cwd, sizeof(cwd));
	if (optind >= argc) {
		fprintf(stderr, "usage: dispatcherd-dump [-N DIR] calls|log [-t T] [-r] [-f]\n");
		return 2;
	}
	const char *what = argv[optind];

	optind++;
	while ((c = getopt(argc, argv, "t:rf")) != -1) {
		switch (c) {
		case 't':
			only = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			raw = true;
			break;
		case 'f':
			follow = true;
			break;
		default:
			return 2;
		}
	}
	if (!strcmp(what, "calls"))
		return dump_calls(dir, only);
	if (!strcmp(what, "log"))
		return dump_log(dir, only, raw, follow);
	fprintf(stderr, "dispatcherd-dump: unknown '%s' (calls or log)\n", what);
	return 2;
}
