/* SPDX-License-Identifier: MIT */
/*
 * woofctl.h - what the parts of woofctl share: the command table entry,
 * the per-run context, option parsing for leaf commands, error reporting,
 * and the handlers of every OBJECT COMMAND pair.
 *
 * Adding a command: write a handler `int cmd_OBJ_CMD(struct woofctl *, int,
 * char **)` in cmd-OBJ.c, declare it below, and add one row to the table in
 * main.c (and, for a new object, one row to the object table). Help at
 * every level is generated from those tables.
 */
#ifndef WOOFCTL_H
#define WOOFCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <woof.h>

#include "json.h"

#ifndef WOOFCTL_VERSION
#define WOOFCTL_VERSION "unknown"
#endif

/* exit statuses */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* version of the JSON output; every top-level object carries "schema" */
#define WOOFCTL_JSON_SCHEMA	1

struct woofctl;

/*
 * struct woofctl_cmd - one row of the dispatch table.
 * @object:  the OBJECT word ("woof")
 * @command: the COMMAND word ("put"), or NULL for a command that is a
 *           single word ("version")
 * @run:     the handler; argv[0] is the command word, options follow.
 *           Returns an exit status (EXIT_*).
 * @usage:   the arguments, as shown after "woofctl OBJECT COMMAND"
 * @summary: one line for the command lists
 * @help:    optional: the options and details, shown by "help"
 */
struct woofctl_cmd {
	const char *object;
	const char *command;
	int (*run)(struct woofctl *ctx, int argc, char **argv);
	const char *usage;
	const char *summary;
	const char *help;
};

/* struct woofctl_object - an OBJECT word, its alias and what it is */
struct woofctl_object {
	const char *name;
	const char *alias;	/* or NULL */
	const char *summary;
};

/* struct woofctl - the state of one run */
struct woofctl {
	bool json;			/* -j: JSON output */
	bool pretty;			/* -p: indented JSON */
	const char *ns_dir;		/* -N DIR, or NULL for the default */
	const struct woofctl_cmd *cmd;	/* the leaf command being run */
	struct json out;		/* the JSON writer on stdout */
};

/* ---- main.c: help and leaf option parsing ---------------------------------- */

/* Print the help of the leaf command @cmd to @f. */
void help_command(FILE *f, const struct woofctl_cmd *cmd);

/*
 * cmd_getopt() - getopt_long() for a leaf command, with the common
 * options (-j, -p, -N DIR, -h) merged in and handled here.
 * @shortopts/@longopts: the command's own options (without a leading ':').
 * Returns the next option of the command, -1 at the end of the options,
 * OPT_HELP after printing the command's help (exit 0), or OPT_USAGE after
 * printing a usage error (exit 2). Positional arguments start at optind.
 */
#define OPT_HELP	(-2)
#define OPT_USAGE	(-3)
int cmd_getopt(struct woofctl *ctx, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);

/*
 * cmd_no_options() - parse a command that has only the common options.
 * Returns -1 to go on, or the exit status to return.
 */
int cmd_no_options(struct woofctl *ctx, int argc, char **argv);

/*
 * cmd_nargs() - check that there are @min..@max positional arguments
 * (max < 0: no limit). Prints a usage error and returns false otherwise.
 */
bool cmd_nargs(struct woofctl *ctx, int argc, int min, int max);

/* Print "woofctl: OBJ CMD: <message>", the command's usage and where its
 * help is; returns EXIT_USAGE. */
int usage_error(struct woofctl *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Errors: "woofctl: <what>: <why>" on stderr, or with -j one JSON object
 * {"schema": 1, "error": {...}} on stdout (main.c). Each returns its exit
 * status.
 */
/* Print "woofctl: <what>: <woof_strerror(err)>"; returns EXIT_FAIL. */
int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with the reason @why (NULL: woof_strerror(err)). */
int fail_why(int err, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * fail_sys() - the same for an error of the system rather than of libwoof
 * (reading the user's input file): strerror() instead of woof_strerror().
 */
int fail_sys(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "woofctl: <message>" (no errno); returns EXIT_FAIL. */
int fail_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict decimal parse of an unsigned 64-bit number; false if malformed. */
bool parse_u64(const char *s, uint64_t *v);

/* A user (@group false) or group: a name, or a number below 2^32 - 1; false if unknown. */
bool parse_id(const char *s, bool group, uint32_t *id);

/* ---- output.c ---------------------------------------------------------------- */

/* Begin a top-level JSON object on stdout; it already carries "schema". */
struct json *out_json_begin(struct woofctl *ctx);
/* End it (and the line). */
void out_json_end(struct woofctl *ctx);

/*
 * out_element() - print one element: a hex+ASCII dump under a "seq N"
 * line, the raw bytes (@raw), or a JSON object (ctx->json).
 * @compact: JSON on one line whatever -p says (for JSON Lines streams).
 */
void out_element(struct woofctl *ctx, const char *name, uint64_t seq,
		 const void *buf, size_t len, bool raw, bool compact);

/* Print the woof_stat of one WOOF (stat command). */
void out_stat(struct woofctl *ctx, const char *nspath, enum woof_engine engine,
	      const struct woof_stat *st);
/* The members describing a WOOF, into an open JSON object. */
void out_json_stat_members(struct json *j, const struct woof_stat *st);

/* Names of the set WOOF_F_* / WOOF_STATE_* bits, into @buf ("-" if none). */
const char *flags_str(uint32_t flags, char *buf, size_t len);
const char *state_str(uint32_t state, char *buf, size_t len);
const char *engine_str(enum woof_engine engine);

/*
 * out_flush() - flush stdout. Returns 0, or -errno of a failed write
 * (-EPIPE when the reader went away).
 */
int out_flush(void);

/* ---- hexdump.c --------------------------------------------------------------- */

/* Write a hexdump -C style dump of @buf to @f (identical lines folded to '*'). */
void hexdump(FILE *f, const void *buf, size_t len);

/*
 * hex_parse() - decode hex digits (whitespace between digit pairs allowed)
 * into @buf of @cap bytes. Returns the number of bytes decoded (which may
 * exceed @cap: then only @cap were stored), -EINVAL for a character that is
 * not a hex digit (its offset in *@bad) or an odd number of digits (*@bad
 * is -1).
 */
long long hex_parse(const char *s, void *buf, size_t cap, long *bad);

/* ---- resolve.c: namespaces and the WOOF names users write ----------------- */

/*
 * struct woofref - a WOOF argument resolved into namespace + name.
 * @arg: what the user wrote (for messages)
 */
struct woofref {
	const char *arg;
	struct woof_ns *ns;
	char name[WOOF_NAME_MAX + 1];
};

/*
 * woofref_resolve() - check and resolve a WOOF argument (a plain name in
 * the selected namespace, or a woof:// URI) and open its namespace.
 * Prints an error and returns EXIT_FAIL on failure, EXIT_OK otherwise.
 */
int woofref_resolve(struct woofctl *ctx, const char *arg, struct woofref *ref);
/* Open the selected namespace (-N, else the default); prints errors. */
int ns_open_selected(struct woofctl *ctx, struct woof_ns **nsp);
void woofref_release(struct woofref *ref);

/* ---- command handlers ---------------------------------------------------------- */

int cmd_version(struct woofctl *ctx, int argc, char **argv);
int cmd_ns_init(struct woofctl *ctx, int argc, char **argv);
int cmd_ns_repair(struct woofctl *ctx, int argc, char **argv);
int cmd_woof_create(struct woofctl *ctx, int argc, char **argv);
int cmd_woof_ls(struct woofctl *ctx, int argc, char **argv);
int cmd_woof_stat(struct woofctl *ctx, int argc, char **argv);
int cmd_woof_put(struct woofctl *ctx, int argc, char **argv);
int cmd_woof_get(struct woofctl *ctx, int argc, char **argv);
int cmd_woof_tail(struct woofctl *ctx, int argc, char **argv);
int cmd_woof_rm(struct woofctl *ctx, int argc, char **argv);
int cmd_handler_ls(struct woofctl *ctx, int argc, char **argv);
int cmd_handler_info(struct woofctl *ctx, int argc, char **argv);
int cmd_trigger_ls(struct woofctl *ctx, int argc, char **argv);
int cmd_logs(struct woofctl *ctx, int argc, char **argv);
int cmd_status(struct woofctl *ctx, int argc, char **argv);
int cmd_ns_mount(struct woofctl *ctx, int argc, char **argv);
int cmd_ns_umount(struct woofctl *ctx, int argc, char **argv);
int cmd_ns_ls(struct woofctl *ctx, int argc, char **argv);
int cmd_features(struct woofctl *ctx, int argc, char **argv);
int cmd_monitor(struct woofctl *ctx, int argc, char **argv);

/* ---- cmd-kmod.c: /dev/woof/control ------------------------------------------------ */

/*
 * kmod_control_open() - open /dev/woof/control (read-only is enough for
 * every ioctl of it). Prints an error - "not found: load woof.ko" when the
 * module is not loaded - and returns EXIT_FAIL, or EXIT_OK with *@fdp set.
 */
int kmod_control_open(int *fdp);
/*
 * kmod_advice() - what to do when woof.ko is not loaded, true for this
 * host: "load woof.ko (modprobe woof)" when a woof.ko is installed for the
 * running kernel, how to install it when none is, or that this kernel
 * cannot load modules at all. Written into @buf.
 */
const char *kmod_advice(char *buf, size_t len);
/* Whether @name is a valid namespace name for woof.ko (uapi woof.h). */
bool kmod_ns_name_ok(const char *name);

/* ---- cmd-trigger.c: dispatcherd's records, shared by handler/trigger/logs -- */

/*
 * dispatcherd keeps its WOOFs "calls" and "log" in <ns>/.woof, reached as
 * WOOFs of the namespace whose directory is <ns>/.woof (uapi woof.h).
 */

/*
 * disp_open() - open dispatcherd's record WOOF @name (WOOF_CALLS_FILE or
 * WOOF_LOG_FILE) of @ns and check that its elements are @element_size
 * bytes. Nothing is created. Returns 0, -ENOENT when no dispatcherd has
 * created it yet, -EBADMSG for another element size, or another -errno.
 */
int disp_open(struct woof_ns *ns, const char *name, size_t element_size,
	      struct woof_ns **metap, struct woof **wp);
void disp_close(struct woof_ns *meta, struct woof *w);

/*
 * struct calls_table - the retained records of .woof/calls, one entry per
 * trigger: the latest record of its highest attempt (records are read in
 * append order, so a later record of the same attempt wins). Open
 * addressing by trigger number; entries with trigger 0 are empty.
 * @records: records read; @present: .woof/calls exists.
 */
struct calls_table {
	struct woof_call_record *v;
	size_t size, n;
	uint64_t records;
	bool present;
};
/* Read .woof/calls of @ns into @t. Returns 0 (also when it does not exist) or -errno. */
int calls_load(struct woof_ns *ns, struct calls_table *t);
/*
 * The entry of trigger @trigger, or NULL. A non-zero @put_time_ns must
 * match (a record of an older trigger log with the same number is ignored).
 */
const struct woof_call_record *calls_find(const struct calls_table *t, uint64_t trigger,
					  uint64_t put_time_ns);
void calls_free(struct calls_table *t);

/* "pending", "running", "done", "failed", "redelivered", "orphan" */
const char *call_state_name(uint32_t state);
/* "none", "exit", "signal", "timeout", "nohandler", ... (for JSON) */
const char *call_reason_name(uint32_t reason);
/* "exec", "zygote", "warm" */
const char *call_runtime_name(uint32_t runtime);
/* What became of a call, for people: "exit 0", "killed by SIGSEGV", "timeout", ... */
const char *call_result_str(const struct woof_call_record *r, char *buf, size_t len);
/* The members of one call record (state, attempt, result, times, ...) into an open object. */
void json_call_members(struct json *j, const struct woof_call_record *r);

/* RFC 3339 UTC with nanoseconds; local "YYYY-MM-DD HH:MM:SS" for people; "-" for 0. */
const char *fmt_time_utc(uint64_t ns, char *buf, size_t len);
const char *fmt_time_local(uint64_t ns, char *buf, size_t len);
/* "850us", "24.4ms", "1.25s", "3m07s" */
const char *fmt_duration(uint64_t ns, char *buf, size_t len);
/* A duration in ms as configured: "300s", "500ms", "none" (0). */
const char *fmt_timeout_ms(uint64_t ms, char *buf, size_t len);
/* "KEY_ns": N and "KEY": RFC 3339 (both null when @ns is 0). */
void json_kv_time(struct json *j, const char *key, uint64_t ns);

/* ---- cmd-status.c: is a dispatcherd serving the namespace, and its status file -- */

/*
 * struct daemon_probe - whether a dispatcherd holds .woof/dispatcherd.lock.
 * The lock is tested with flock(LOCK_SH | LOCK_NB) on a fresh descriptor,
 * released at once; @pid is what the lock file says (0: unknown).
 */
struct daemon_probe {
	bool lock_file;
	bool running;
	long pid;
};
/* Returns 0 or -errno (of opening or locking the lock file). */
int daemon_probe(struct woof_ns *ns, struct daemon_probe *p);

/* a "handler NAME ..." line of the status file */
struct status_handler {
	char *name;
	char *runtime;
	uint64_t running, queued, done, failed, cap, timeout_ms;
	uint64_t spares;	/* exec: programs waiting, started ahead of calls */
};
/* a "call T ..." line: a running or waiting call */
struct status_call {
	uint64_t trigger, attempt, seq, put_ns, pid, start_ns;
	char *state, *handler, *woof;
};
/* a "limit NAME[=VALUE] enforced=... [kill=...]" line */
struct status_limit {
	char *name, *value, *enforced, *kill;
};

/* struct status_file - .woof/status as parsed (Documentation/dispatcherd.md) */
struct status_file {
	unsigned version;
	bool complete;			/* it ends with "end" */
	uint64_t pid;
	char *namespace, *state;
	char *fence_reason;		/* state fenced: why (the daemon's words), else NULL */
	char *fence_calls;		/* "ending" or "ended" */
	uint64_t fenced_ns;
	uint64_t started_ns, updated_ns;
	uint64_t max_concurrent, running, queued, retrying, timeout_ms;
	bool have_triggers;
	uint64_t t_latest, t_done_floor, t_next, t_unread;
	uint64_t spool_bytes, spool_max;
	bool spool_full;
	uint64_t n_done, n_failed, n_orphan, n_redelivered, n_claim_retries;
	bool handler_user_default;
	uint64_t handler_uid, handler_gid;
	uint64_t calls_not_listed;
	struct status_limit *limits;
	size_t nlimits;
	char **sandbox;			/* the "sandbox" lines, as written */
	size_t nsandbox;
	char **not_enforced;		/* what the host does not enforce, and why */
	size_t nnot_enforced;
	struct status_handler *handlers;
	size_t nhandlers;
	struct status_call *calls;
	size_t ncalls;
};
/*
 * status_read() - read and parse <ns>/.woof/status. Returns 0, -ENOENT
 * when there is none, -EBADMSG when it is not a version 1 status file, or
 * another -errno.
 */
int status_read(struct woof_ns *ns, struct status_file *s);
const struct status_handler *status_find_handler(const struct status_file *s,
						 const char *name);
void status_free(struct status_file *s);

#endif /* WOOFCTL_H */
