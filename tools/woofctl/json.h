/* SPDX-License-Identifier: MIT */
/*
 * json.h - a small streaming JSON writer for woofctl's -j output.
 *
 * The writer keeps one "first member" bit per nesting level and emits
 * commas, colons and (with pretty set) newlines and indentation itself, so
 * callers only say what comes next. Strings are escaped per RFC 8259:
 * quote, backslash and control characters (as \u00XX); byte sequences that
 * are not valid UTF-8 become U+FFFD so the output is always valid JSON.
 * Output goes through stdio; nothing here allocates.
 */
#ifndef WOOFCTL_JSON_H
#define WOOFCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	16

struct json {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this level */
	bool after_key;			/* a key was written; a value follows */
};

void json_init(struct json *j, FILE *f, bool pretty);
/* Whether a JSON value was begun on stdout in this run. */
bool json_stdout_used(void);

void json_obj_open(struct json *j);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j);
void json_arr_close(struct json *j);
/* Write a member name; the next value call writes its value. */
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t len);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* A string of lower-case hex digits, two per byte of @buf. */
void json_hex(struct json *j, const void *buf, size_t len);

/* key + value in one call */
void json_kv_str(struct json *j, const char *key, const char *v);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);

/* After the outermost value: end the line. */
void json_finish(struct json *j);

#endif /* WOOFCTL_JSON_H */
