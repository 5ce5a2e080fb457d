/* SPDX-License-Identifier: MIT */
/*
 * output.c - what woofctl prints on stdout, for people and for scripts.
 *
 * Human output is free text and may change. JSON output (-j) is the stable
 * interface: every top-level object begins with "schema": 1, element bytes
 * are a "hex" string, times are given both as nanoseconds and as an
 * RFC 3339 UTC string. Streams (woof tail -j) are JSON Lines: one complete
 * object per line.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "woofctl.h"

struct json *out_json_begin(struct woofctl *ctx)
{
	struct json *j = &ctx->out;

	json_init(j, stdout, ctx->pretty);
	json_obj_open(j);
	json_kv_u64(j, "schema", WOOFCTL_JSON_SCHEMA);
	return j;
}

void out_json_end(struct woofctl *ctx)
{
	json_obj_close(&ctx->out);
	json_finish(&ctx->out);
}

/* ---- bit names ---------------------------------------------------------------- */

struct bitname {
	uint32_t bit;
	const char *name;
};

static const struct bitname flag_names[] = {
	{ WOOF_F_DURABLE, "durable" },
	{ WOOF_F_OVERWRITE, "overwrite" },
};

static const struct bitname state_names[] = {
	{ WOOF_STATE_REPLACED, "replaced" },
	{ WOOF_STATE_REMOVED, "removed" },
	{ WOOF_STATE_KERNEL, "kernel" },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *bits_str(uint32_t v, const struct bitname *names, size_t n,
			    char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (v & names[i].bit) {
			off += snprintf(buf + off, off < len ? len - off : 0, "%s%s",
					off ? "," : "", names[i].name);
			v &= ~names[i].bit;
		}
	}
	if (v)	/* bits this woofctl has no name for */
		off += snprintf(buf + off, off < len ? len - off : 0, "%s0x%x",
				off ? "," : "", v);
	if (!off)
		snprintf(buf, len, "-");
	return buf;
}

const char *flags_str(uint32_t flags, char *buf, size_t len)
{
	return bits_str(flags, flag_names, ARRAY_SIZE(flag_names), buf, len);
}

const char *state_str(uint32_t state, char *buf, size_t len)
{
	return bits_str(state, state_names, ARRAY_SIZE(state_names), buf, len);
}

static void json_bits(struct json *j, const char *key, uint32_t v,
		      const struct bitname *names, size_t n)
{
	json_key(j, key);
	json_arr_open(j);
	for (size_t i = 0; i < n; i++) {
		if (v & names[i].bit) {
			json_str(j, names[i].name);
			v &= ~names[i].bit;
		}
	}
	for (unsigned int b = 0; b < 32; b++) {
		if (v & (1U << b)) {
			char unk[16];

			snprintf(unk, sizeof(unk), "0x%x", 1U << b);
			json_str(j, unk);
		}
	}
	json_arr_close(j);
}

const char *engine_str(enum woof_engine engine)
{
	switch (engine) {
	case WOOF_ENGINE_USER:
		return "user";
	case WOOF_ENGINE_KERNEL:
		return "kernel";
	}
	return "unknown";
}

/* ---- elements ------------------------------------------------------------------ */

void out_element(struct woofctl *ctx, const char *name, uint64_t seq,
		 const void *buf, size_t len, bool raw, bool compact)
{
	if (raw) {
		fwrite(buf, 1, len, stdout);
		return;
	}
	if (ctx->json) {
		struct json *j = &ctx->out;

		json_init(j, stdout, ctx->pretty && !compact);
		json_obj_open(j);
		json_kv_u64(j, "schema", WOOFCTL_JSON_SCHEMA);
		json_kv_str(j, "name", name);
		json_kv_u64(j, "seq", seq);
		json_kv_u64(j, "size", len);
		json_key(j, "hex");
		json_hex(j, buf, len);
		out_json_end(ctx);
		return;
	}
	printf("seq %" PRIu64 "\n", seq);
	hexdump(stdout, buf, len);
}

/* ---- stat ------------------------------------------------------------------------ */

/* RFC 3339 UTC time with nanoseconds, e.g. 2025-11-23T05:18:00.123456789Z */
static void time_utc(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09" PRIu64 "Z", (uint64_t)(ns % 1000000000ULL));
}

/* local time for people */
static void time_local(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S %z", &tm))
		snprintf(buf, len, "?");
}

static uint64_t count(const struct woof_stat *st)
{
	return st->latest ? st->latest - st->oldest + 1 : 0;
}

void out_json_stat_members(struct json *j, const struct woof_stat *st)
{
	char when[64];

	json_kv_str(j, "name", st->name);
	json_kv_u64(j, "element_size", st->element_size);
	json_kv_u64(j, "history_size", st->history_size);
	json_kv_u64(j, "latest", st->latest);
	json_kv_u64(j, "oldest", st->oldest);
	json_kv_u64(j, "count", count(st));
	json_kv_bool(j, "durable", st->flags & WOOF_F_DURABLE);
	json_bits(j, "flags", st->flags, flag_names, ARRAY_SIZE(flag_names));
	json_bits(j, "state", st->state, state_names, ARRAY_SIZE(state_names));
	json_kv_u64(j, "create_time_ns", st->create_time_ns);
	time_utc(st->create_time_ns, when, sizeof(when));
	json_kv_str(j, "created", when);
	json_kv_u64(j, "file_size", st->file_size);
}

void out_stat(struct woofctl *ctx, const char *nspath, enum woof_engine engine,
	      const struct woof_stat *st)
{
	char buf[128];

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		out_json_stat_members(j, st);
		json_kv_str(j, "namespace", nspath);
		json_kv_str(j, "engine", engine_str(engine));
		out_json_end(ctx);
		return;
	}
	printf("name:          %s\n", st->name);
	printf("namespace:     %s\n", nspath);
	printf("engine:        %s\n", engine_str(engine));
	printf("element size:  %" PRIu64 " bytes\n", st->element_size);
	printf("history size:  %" PRIu64 " elements\n", st->history_size);
	if (st->latest) {
		printf("latest seq:    %" PRIu64 "\n", st->latest);
		printf("oldest seq:    %" PRIu64 "\n", st->oldest);
	} else {
		printf("latest seq:    - (empty)\n");
		printf("oldest seq:    -\n");
	}
	printf("elements:      %" PRIu64 "\n", count(st));
	printf("flags:         %s\n", flags_str(st->flags, buf, sizeof(buf)));
	printf("state:         %s\n", state_str(st->state, buf, sizeof(buf)));
	time_local(st->create_time_ns, buf, sizeof(buf));
	printf("created:       %s\n", buf);
	printf("file size:     %" PRIu64 " bytes\n", st->file_size);
}

int out_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		return errno ? -errno : -EIO;
	return 0;
}
