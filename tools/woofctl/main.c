/* SPDX-License-Identifier: MIT */
/*
 * main.c - woofctl's entry point: global options, the command table, the
 * dispatcher, and help generated from the table at every level
 * ("woofctl help", "woofctl OBJECT help", "woofctl OBJECT COMMAND help").
 *
 * Grammar: woofctl [OPTIONS] OBJECT COMMAND [ARGS]. Global options stop at
 * the first word; a leaf command parses its own options and the common ones
 * (-j, -p, -N, -h) again, so they may also follow the command. Exit status:
 * 0 success, 1 failure, 2 usage error.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "woofctl.h"

static int cmd_help(struct woofctl *ctx, int argc, char **argv);

/* ---- the tables ------------------------------------------------------------------ */

static const struct woofctl_object objects[] = {
	{ "ns", "namespace", "namespaces: directories that hold WOOFs (and woof.ko's mounts)" },
	{ "woof", NULL, "WOOFs: append-only logs of fixed-size elements" },
	{ "handler", NULL, "handlers: the programs puts name, run by dispatcherd" },
	{ "trigger", NULL, "triggers: puts that named a handler, and what became of them" },
};

static const struct woofctl_cmd commands[] = {
	{ "ns", "init", cmd_ns_init, "DIR [--owner USER] [--group GROUP]",
	  "make DIR a namespace (create it if missing)",
	  "Creates DIR (one level) if it does not exist and its .woof/ bookkeeping\n"
	  "directory. Running it on a namespace again changes nothing, unless:\n"
	  "  --owner USER   the namespace's owner, a name or a number\n"
	  "  --group GROUP  the namespace group its clients and handlers share\n"
	  "With either, DIR and .woof/ get that owner and group and mode 3770\n"
	  "(setgid, sticky), and every WOOF and shared bookkeeping file the group\n"
	  "and its write bit: this also fixes an existing namespace (dispatcherd's\n"
	  "start-up warning prints the command). See \"Who owns a namespace\" in\n"
	  "Documentation/dispatcherd.md.\n" },

	{ "ns", "repair", cmd_ns_repair, "DIR [--handler WOOF=HANDLER]...",
	  "bring back a namespace dispatcherd fenced (its files were damaged)",
	  "  --handler WOOF=HANDLER  elements of WOOF still waiting for a handler whose\n"
	  "                          trigger entry was lost run HANDLER (else they are\n"
	  "                          released: puts may overwrite them, nothing runs)\n"
	  "Extends WOOFs and .woof/calls, .woof/log cut short (the elements that\n"
	  "survived are kept), rebuilds a damaged trigger log at the same numbers\n"
	  "from its surviving entries, .woof/recovery (what dispatcherd had read\n"
	  "when it fenced the namespace) and started calls without a final record\n"
	  "in .woof/calls, then sends the fenced dispatcherd SIGHUP so it serves\n"
	  "the namespace again. Refused while a dispatcherd serves the namespace\n"
	  "without having fenced it. See dispatcherd(8), \"Fenced namespaces\".\n" },

	{ "ns", "mount", cmd_ns_mount, "DIR NAME [--mode MODE] [--owner USER] [--group GROUP]",
	  "serve the namespace DIR through woof.ko as /dev/woof/NAME",
	  "  --mode MODE    permission bits of /dev/woof/NAME, octal (default 0600)\n"
	  "  --owner USER   its owner, a name or a number (default: the caller)\n"
	  "  --group GROUP  its group, a name or a number (default: the caller's)\n"
	  "Needs CAP_SYS_ADMIN (root) and woof.ko loaded. NAME: 1..63 characters\n"
	  "of [A-Za-z0-9_.-], not starting with '.' or '-', not \"control\". Every\n"
	  "file operation in DIR later runs with the credentials of the mounter;\n"
	  "other users are checked against the device node's owner, group, mode.\n" },

	{ "ns", "umount", cmd_ns_umount, "NAME [--detach]",
	  "stop serving the namespace NAME; /dev/woof/NAME goes away",
	  "  --detach   unmount even while descriptors of the namespace or of its\n"
	  "             WOOFs are open: they fail with ENODEV from then on\n"
	  "Without --detach a namespace in use is not unmounted (exit 1). The\n"
	  "files stay as they are, usable by the user-space engine. Needs\n"
	  "CAP_SYS_ADMIN (root).\n" },

	{ "ns", "ls", cmd_ns_ls, "",
	  "list the namespaces woof.ko serves",
	  "One line per mounted namespace: its name, device numbers, the mode,\n"
	  "owner and group of /dev/woof/NAME, the WOOFs the kernel serves in it,\n"
	  "the open descriptors (users), and its directory. Prints nothing when\n"
	  "none is mounted. Needs woof.ko loaded, not root.\n" },

	{ "woof", "create", cmd_woof_create,
	  "NAME --element-size N --history N [--durable] [--excl|--reset]",
	  "create a WOOF (or open an existing one of the same geometry)",
	  "  --element-size N  bytes per element (1..1073741824)\n"
	  "  --history N       elements retained (the ring size)\n"
	  "  --durable         every append reaches stable storage before it returns\n"
	  "  --excl            fail if NAME exists\n"
	  "  --reset           replace an existing WOOF NAME by an empty one\n"
	  "Without --excl or --reset an existing WOOF of the same element size and\n"
	  "history is opened and left as it is; one of another geometry is an error.\n"
	  "Prints whether the WOOF was created, opened or reset.\n" },

	{ "woof", "ls", cmd_woof_ls, "",
	  "list the WOOFs of the namespace", NULL },

	{ "woof", "stat", cmd_woof_stat, "NAME",
	  "show the geometry, sequence numbers and flags of a WOOF", NULL },

	{ "woof", "put", cmd_woof_put,
	  "NAME [--handler H] [--hex HEX | --file FILE] [--timeout SEC]",
	  "append one element; prints its sequence number",
	  "  --handler H    the handler to trigger with this element\n"
	  "  --hex HEX      the element as hex digits (spaces between bytes allowed)\n"
	  "  --file FILE    read the element from FILE ('-' is stdin)\n"
	  "  --timeout SEC  wait at most SEC seconds (fractions allowed) for room;\n"
	  "                 then fail (exit 1) with nothing appended\n"
	  "Without --hex or --file the element is read from stdin. Input shorter\n"
	  "than the element size is padded with zero bytes; longer input is an\n"
	  "error and nothing is appended. A put waits for room while the element\n"
	  "it would overwrite still waits for its handler call (or the trigger\n"
	  "log is full); after half a second it says so on stderr.\n" },

	{ "woof", "get", cmd_woof_get, "NAME [SEQ] [--raw]",
	  "print one element (SEQ 0 or none: the latest)",
	  "  --raw   write the element's bytes as they are (no dump, no JSON)\n"
	  "Prints a hex+ASCII dump under a \"seq N\" line, or with -j an object\n"
	  "with the element as a \"hex\" string.\n" },

	{ "woof", "tail", cmd_woof_tail, "NAME [-n N] [-f] [--raw]",
	  "print the last elements, and with -f the new ones as they arrive",
	  "  -n, --lines N   print the last N elements (default 10; 0 = none)\n"
	  "  -f, --follow    then wait for new elements and print them as they\n"
	  "                  are appended, until interrupted (SIGINT, SIGTERM) or\n"
	  "                  the reader of the output goes away\n"
	  "  --raw           write the elements' bytes as they are\n"
	  "With -j, one JSON object per line and element (JSON Lines).\n" },

	{ "woof", "rm", cmd_woof_rm, "NAME",
	  "remove a WOOF", NULL },

	{ "handler", "ls", cmd_handler_ls, "",
	  "list the handlers of the namespace, their runtime and calls",
	  "Lists the executable regular files of the namespace that are not WOOFs,\n"
	  "the handlers woof.conf has a [handler NAME] section for, and those the\n"
	  "call records name (a handler without a file is shown \"missing\"), with\n"
	  "the runtime and timeout woof.conf gives them, their calls and failures\n"
	  "in .woof/calls (its last 8192 records), the time of the last call, and\n"
	  "the calls running and queued now when a dispatcherd serves the namespace.\n"
	  "A woof.conf that cannot be read is reported (exit 1); defaults are shown.\n" },

	{ "handler", "info", cmd_handler_info, "NAME [-n N]",
	  "show one handler: its file, configuration and last calls",
	  "  -n, --lines N   show its last N calls (default 5)\n"
	  "Shows what handler ls shows, and the file's size, mode, owner and\n"
	  "modification time, whether it is executable, and its last calls.\n"
	  "A NAME that is no file, has no [handler] section and no calls is an\n"
	  "error (exit 1).\n" },

	{ "trigger", "ls", cmd_trigger_ls, "[--state S[,S...]] [-n N]",
	  "list the triggers and what became of them",
	  "  --state S       only triggers in state S: pending, running, redelivered,\n"
	  "                  done, failed, orphan (a comma-separated list)\n"
	  "  -n, --lines N   only the last N (of those selected)\n"
	  "Every trigger of the trigger log's retained window, oldest first, with\n"
	  "its WOOF, sequence number, handler and state from the call records: the\n"
	  "latest record of its highest attempt. A trigger without a record is\n"
	  "pending above the log's done_floor and done at or below it (its records\n"
	  "were overwritten). redelivered: running again after a dispatcherd crash.\n"
	  "A summary line (JSON: \"counts\") counts the whole window by state.\n" },

	{ "logs", NULL, cmd_logs, "[-f] [-n N] [--trigger T] [NS]",
	  "print the output of handlers; with -f follow it",
	  "  -f, --follow    then wait for new output and print it as it comes,\n"
	  "                  until interrupted (SIGINT, SIGTERM, SIGHUP) or the\n"
	  "                  reader of the output goes away\n"
	  "  -n, --lines N   print only the last N lines first (default: all kept)\n"
	  "  --trigger T     only the output of trigger T's calls\n"
	  "  NS              the namespace (instead of -N NS)\n"
	  "One line per line of output: \"T3 out hello world\" (trigger 3, stdout;\n"
	  "err: stderr; note: what dispatcherd says about the call; T3#2: its\n"
	  "second attempt). With -j, one JSON object per line (JSON Lines).\n" },

	{ "status", NULL, cmd_status, "",
	  "show whether dispatcherd serves the namespace, and its state",
	  "Shows whether a dispatcherd holds the namespace's lock (and its pid),\n"
	  "what its status file says - calls running and queued per handler,\n"
	  "limits, and which limits this host does not enforce and why - and the\n"
	  "trigger log's latest trigger, done_floor and backlog. Exit status 0 also\n"
	  "when no dispatcherd runs; 1 when something cannot be read.\n" },

	{ "features", NULL, cmd_features, "",
	  "show the API and format version and the features of the loaded woof.ko",
	  "Asks /dev/woof/control (WOOF_IOC_VERSION): a line with the API and\n"
	  "format versions and the namespaces mounted, then the feature bits the\n"
	  "module offers by name, one per line (WOOF_FEAT_NS, ...); a bit this\n"
	  "woofctl has no name for is shown as \"bit N\". Exit 1 when woof.ko is\n"
	  "not loaded.\n" },

	{ "monitor", NULL, cmd_monitor, "[-n COUNT] [--timeout SEC]",
	  "print woof.ko's events: namespaces mounted, WOOFs created, overruns",
	  "  -n, --count N    stop after N events\n"
	  "  --timeout SEC    stop after SEC seconds (exit 1 if -n N events were\n"
	  "                   not seen by then)\n"
	  "Listens to the generic netlink family \"woof\" (group \"events\") and\n"
	  "prints one line per event: mounted, unmounted, created, removed,\n"
	  "overrun, with the namespace, the WOOF and what the event carries.\n"
	  "With -j, one JSON object per line (JSON Lines). Runs until SIGINT,\n"
	  "SIGTERM or SIGHUP (exit 0). Once it listens it says so on stderr.\n"
	  "Needs woof.ko loaded, not root.\n" },

	{ "version", NULL, cmd_version, "",
	  "print the versions of woofctl and libwoof", NULL },

	{ "help", NULL, cmd_help, "[OBJECT [COMMAND]]",
	  "show help for all commands, an object, or a command", NULL },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct woofctl_object *find_object(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(objects); i++)
		if (!strcmp(word, objects[i].name) ||
		    (objects[i].alias && !strcmp(word, objects[i].alias)))
			return &objects[i];
	return NULL;
}

/* a command that is a single word (version, help) */
static const struct woofctl_cmd *find_word_cmd(const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!commands[i].command && !strcmp(word, commands[i].object))
			return &commands[i];
	return NULL;
}

static const struct woofctl_cmd *find_cmd(const struct woofctl_object *obj,
					  const char *word)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].command && !strcmp(obj->name, commands[i].object) &&
		    !strcmp(word, commands[i].command))
			return &commands[i];
	return NULL;
}

/* ---- help ---------------------------------------------------------------------------- */

static void cmd_line(FILE *f, const struct woofctl_cmd *c)
{
	fprintf(f, "  %s%s%s%s%s\n      %s\n", c->object,
		c->command ? " " : "", c->command ? c->command : "",
		*c->usage ? " " : "", c->usage, c->summary);
}

static void help_options(FILE *f)
{
	fputs("Options:\n"
	      "  -j, --json           JSON output (versioned: \"schema\": 1)\n"
	      "  -p, --pretty         indented JSON (implies --json)\n"
	      "  -N, --namespace DIR  the namespace (default: $WOOFC_DIR, else the\n"
	      "                       current directory)\n"
	      "  -V, --version        print the version and exit\n"
	      "  -h, --help           print help and exit\n", f);
}

static void help_all(FILE *f)
{
	fputs("Usage: woofctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
	      "       woofctl [OPTIONS] OBJECT help\n"
	      "       woofctl help [OBJECT [COMMAND]]\n"
	      "       woofctl version\n"
	      "\n"
	      "Administer woof namespaces and WOOFs.\n\n", f);
	help_options(f);
	fputs("\nObjects:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(objects); i++)
		fprintf(f, "  %-10s %s\n", objects[i].name, objects[i].summary);
	fputs("\nCommands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		cmd_line(f, &commands[i]);
	fputs("\nA WOOF NAME is a name in the namespace or a woof://host/dir/name URI.\n"
	      "See woofctl(8).\n", f);
}

static void help_object(FILE *f, const struct woofctl_object *obj)
{
	fprintf(f, "Usage: woofctl [OPTIONS] %s COMMAND [ARGS]\n"
		   "       woofctl %s COMMAND help\n\n%s.\n",
		obj->name, obj->name, obj->summary);
	if (obj->alias)
		fprintf(f, "Also spelled \"%s\".\n", obj->alias);
	fputs("\nCommands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].command && !strcmp(commands[i].object, obj->name))
			cmd_line(f, &commands[i]);
	fputs("\nCommon options: -j, -p, -N DIR, -h (see \"woofctl help\").\n", f);
}

void help_command(FILE *f, const struct woofctl_cmd *c)
{
	fprintf(f, "Usage: woofctl [OPTIONS] %s%s%s%s%s\n\n%c%s.\n",
		c->object, c->command ? " " : "", c->command ? c->command : "",
		*c->usage ? " " : "", c->usage,
		c->summary[0] >= 'a' && c->summary[0] <= 'z' ?
			c->summary[0] - 'a' + 'A' : c->summary[0],
		c->summary + 1);
	if (c->help)
		fprintf(f, "\n%s", c->help);
	fputs("\nCommon options: -j, -p, -N DIR, -h (see \"woofctl help\").\n", f);
}

/* woofctl help [OBJECT [COMMAND]] */
static int cmd_help(struct woofctl *ctx, int argc, char **argv)
{
	const struct woofctl_object *obj;
	const struct woofctl_cmd *c;
	int ret = cmd_no_options(ctx, argc, argv);

	if (ret >= 0)
		return ret;
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		help_all(stdout);
		return EXIT_OK;
	}
	if (argc == 1 && (c = find_word_cmd(argv[0]))) {
		help_command(stdout, c);
		return EXIT_OK;
	}
	obj = find_object(argv[0]);
	if (!obj)
		return usage_error(ctx, "unknown object '%s'", argv[0]);
	if (argc == 1) {
		help_object(stdout, obj);
		return EXIT_OK;
	}
	if (argc > 2)
		return usage_error(ctx, "too many arguments");
	c = find_cmd(obj, argv[1]);
	if (!c)
		return usage_error(ctx, "unknown command '%s %s'", obj->name, argv[1]);
	help_command(stdout, c);
	return EXIT_OK;
}

/* ---- errors and option parsing for the commands ------------------------------------ */

/*
 * Errors. Without -j: one line "woofctl: <what>: <why>" on stderr (usage
 * errors add the usage line and where help is). With -j the first error
 * is held until the command returns: when it failed and printed no JSON,
 * the error becomes its output, one JSON object on stdout, {"schema": 1,
 * "error": {"message", "errno", "errno_name", "exit_status", "usage",
 * "help"}} ("errno" and the usage members only when they apply), and
 * nothing is printed on stderr; a script reading -j output reads errors the
 * same way. When the command printed JSON anyway (handler ls shows a bad
 * woof.conf and goes on; a stream ended by an error), the message goes to
 * stderr as text so that the JSON stays one valid document (or stream).
 */
static struct woofctl *err_ctx;	/* the run, for -j */

struct err_info {
	int status;		/* EXIT_FAIL or EXIT_USAGE */
	int err;		/* positive errno, or 0 */
	const char *why;	/* the reason, or NULL */
	const char *usage;	/* "woofctl [OPTIONS] ..." for usage errors, or NULL */
	const char *help;	/* "woofctl help ..." for usage errors, or NULL */
};

/* the first error of a -j run, until main() knows what to do with it */
static struct {
	bool have;
	int status, err;
	char msg[1536], usage[512], help[256];
} held;

static void print_text(const char *msg, const char *usage, const char *help)
{
	fprintf(stderr, "woofctl: %s\n", msg);
	if (usage && *usage)
		fprintf(stderr, "Usage: %s\n", usage);
	if (help && *help)
		fprintf(stderr, "Try '%s'.\n", help);
}

static int report(const struct err_info *e, const char *fmt, va_list ap)
{
	char what[1024], msg[1536];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (e->why)
		snprintf(msg, sizeof(msg), "%s: %s", what, e->why);
	else
		snprintf(msg, sizeof(msg), "%s", what);

	if (err_ctx && err_ctx->json && !held.have) {
		held.have = true;
		held.status = e->status;
		held.err = e->err;
		snprintf(held.msg, sizeof(held.msg), "%s", msg);
		snprintf(held.usage, sizeof(held.usage), "%s", e->usage ? e->usage : "");
		snprintf(held.help, sizeof(held.help), "%s", e->help ? e->help : "");
		return e->status;
	}
	print_text(msg, e->usage, e->help);
	return e->status;
}

/* At the end of a run: the held error as the JSON output, or as text. */
static int finish(int ret)
{
	struct json j;

	if (!held.have)
		return ret;
	held.have = false;
	if (ret == EXIT_OK || json_stdout_used()) {
		print_text(held.msg, held.usage, held.help);
		return ret;
	}
	json_init(&j, stdout, err_ctx->pretty);
	json_obj_open(&j);
	json_kv_u64(&j, "schema", WOOFCTL_JSON_SCHEMA);
	json_key(&j, "error");
	json_obj_open(&j);
	json_kv_str(&j, "message", held.msg);
	if (held.err) {
		const char *name = strerrorname_np(held.err);

		json_kv_u64(&j, "errno", (uint64_t)held.err);
		if (name)
			json_kv_str(&j, "errno_name", name);
	}
	json_kv_u64(&j, "exit_status", (uint64_t)ret);
	if (held.usage[0])
		json_kv_str(&j, "usage", held.usage);
	if (held.help[0])
		json_kv_str(&j, "help", held.help);
	json_obj_close(&j);
	json_obj_close(&j);
	json_finish(&j);
	if (fflush(stdout) != 0)
		print_text(held.msg, held.usage, held.help);
	return ret;
}

int fail(int err, const char *fmt, ...)
{
	struct err_info e = {
		.status = EXIT_FAIL,
		.err = err < 0 ? -err : err,
		.why = woof_strerror(err < 0 ? err : -err),
	};
	va_list ap;

	va_start(ap, fmt);
	report(&e, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int fail_why(int err, const char *why, const char *fmt, ...)
{
	struct err_info e = {
		.status = EXIT_FAIL,
		.err = err < 0 ? -err : err,
		.why = why ? why : woof_strerror(err < 0 ? err : -err),
	};
	va_list ap;

	va_start(ap, fmt);
	report(&e, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int fail_sys(int err, const char *fmt, ...)
{
	struct err_info e = {
		.status = EXIT_FAIL,
		.err = err < 0 ? -err : err,
		.why = strerror(err < 0 ? -err : err),
	};
	va_list ap;

	va_start(ap, fmt);
	report(&e, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

int fail_msg(const char *fmt, ...)
{
	struct err_info e = { .status = EXIT_FAIL };
	va_list ap;

	va_start(ap, fmt);
	report(&e, fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

/* a usage error with the usage line @usage and the help command @help */
static int usage_line_error(const char *usage, const char *help, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int usage_line_error(const char *usage, const char *help, const char *fmt, ...)
{
	struct err_info e = { .status = EXIT_USAGE, .usage = usage, .help = help };
	va_list ap;

	va_start(ap, fmt);
	report(&e, fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

#define USAGE_ALL "woofctl [OPTIONS] OBJECT COMMAND [ARGS]"

int usage_error(struct woofctl *ctx, const char *fmt, ...)
{
	const struct woofctl_cmd *c = ctx->cmd;
	struct err_info e = { .status = EXIT_USAGE };
	char what[1024], usage[512], help[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c) {
		e.usage = USAGE_ALL;
		e.help = "woofctl help";
		return usage_line_error(e.usage, e.help, "%s", what);
	}
	snprintf(usage, sizeof(usage), "woofctl [OPTIONS] %s%s%s%s%s",
		 c->object, c->command ? " " : "", c->command ? c->command : "",
		 *c->usage ? " " : "", c->usage);
	snprintf(help, sizeof(help), "woofctl help %s%s%s",
		 c->object, c->command ? " " : "", c->command ? c->command : "");
	return usage_line_error(usage, help, "%s%s%s: %s", c->object,
				c->command ? " " : "", c->command ? c->command : "", what);
}

static const struct option common_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "namespace", required_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
};
#define COMMON_SHORTOPTS "jpN:h"
#define MAX_LONGOPTS 32

/* the name of the option getopt just complained about */
static const char *bad_option(char **argv, char *buf, size_t len)
{
	const char *arg = argv[optind - 1];

	/* getopt sets optopt to 0 (unknown) or a value >= 256 for long options */
	if (optopt > 0 && optopt < 128)
		snprintf(buf, len, "-%c", optopt);
	else
		snprintf(buf, len, "%.*s", (int)strcspn(arg, "="), arg);
	return buf;
}

int cmd_getopt(struct woofctl *ctx, int argc, char **argv,
	       const char *shortopts, const struct option *longopts)
{
	struct option merged[MAX_LONGOPTS + ARRAY_SIZE(common_longopts) + 1];
	char shorts[64];
	size_t n = 0;
	char buf[64];

	for (; longopts && longopts[n].name && n < MAX_LONGOPTS; n++)
		merged[n] = longopts[n];
	for (size_t i = 0; i < ARRAY_SIZE(common_longopts); i++)
		merged[n++] = common_longopts[i];
	memset(&merged[n], 0, sizeof(merged[n]));
	snprintf(shorts, sizeof(shorts), ":%s%s", COMMON_SHORTOPTS, shortopts);

	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, shorts, merged, NULL);

		switch (c) {
		case 'j':
			ctx->json = true;
			break;
		case 'p':
			ctx->json = ctx->pretty = true;
			break;
		case 'N':
			ctx->ns_dir = optarg;
			break;
		case 'h':
			help_command(stdout, ctx->cmd);
			return OPT_HELP;
		case ':':
			usage_error(ctx, "option '%s' needs an argument",
				    bad_option(argv, buf, sizeof(buf)));
			return OPT_USAGE;
		case '?':
			usage_error(ctx, "unknown option '%s'",
				    bad_option(argv, buf, sizeof(buf)));
			return OPT_USAGE;
		default:
			return c;
		}
	}
}

int cmd_no_options(struct woofctl *ctx, int argc, char **argv)
{
	int c = cmd_getopt(ctx, argc, argv, "", NULL);

	if (c == OPT_HELP)
		return EXIT_OK;
	if (c != -1)
		return EXIT_USAGE;
	return -1;
}

bool cmd_nargs(struct woofctl *ctx, int argc, int min, int max)
{
	if (argc < min) {
		usage_error(ctx, "missing argument");
		return false;
	}
	if (max >= 0 && argc > max) {
		usage_error(ctx, "too many arguments");
		return false;
	}
	return true;
}

bool parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

bool parse_id(const char *s, bool group, uint32_t *id)
{
	uint64_t v;

	if (parse_u64(s, &v)) {
		if (v >= UINT32_MAX)
			return false;
		*id = (uint32_t)v;
		return true;
	}
	if (group) {
		struct group *g = getgrnam(s);

		if (!g)
			return false;
		*id = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(s);

		if (!p)
			return false;
		*id = p->pw_uid;
	}
	return true;
}

/* ---- version ------------------------------------------------------------------------ */

int cmd_version(struct woofctl *ctx, int argc, char **argv)
{
	int ret = cmd_no_options(ctx, argc, argv);

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "woofctl", WOOFCTL_VERSION);
		json_kv_str(j, "libwoof", woof_version());
		json_kv_u64(j, "format_version", WOOF_FORMAT_VERSION);
		out_json_end(ctx);
	} else {
		printf("woofctl %s (libwoof %s, format %u)\n", WOOFCTL_VERSION,
		       woof_version(), WOOF_FORMAT_VERSION);
	}
	return EXIT_OK;
}

/* ---- dispatch ------------------------------------------------------------------------ */

static bool is_help_word(const char *s)
{
	return !strcmp(s, "help") || !strcmp(s, "--help") || !strcmp(s, "-h");
}

/* run the leaf @c with argv[0] = its last word */
static int run(struct woofctl *ctx, const struct woofctl_cmd *c, int argc, char **argv)
{
	ctx->cmd = c;
	/* "woofctl OBJECT COMMAND help": the lone word help is a request for help */
	if (argc == 2 && !strcmp(argv[1], "help") && c->run != cmd_help) {
		help_command(stdout, c);
		return EXIT_OK;
	}
	optind = 0;	/* re-initialise getopt for the command's own options */
	return c->run(ctx, argc, argv);
}

static int dispatch(struct woofctl *ctx, int argc, char **argv)
{
	const struct woofctl_object *obj;
	const struct woofctl_cmd *c;
	char usage[128], help[128];

	c = find_word_cmd(argv[0]);
	if (c)
		return run(ctx, c, argc, argv);

	obj = find_object(argv[0]);
	if (!obj)
		return usage_line_error(USAGE_ALL, "woofctl help", "unknown object '%s'",
					argv[0]);
	snprintf(usage, sizeof(usage), "woofctl [OPTIONS] %s COMMAND [ARGS]", obj->name);
	snprintf(help, sizeof(help), "woofctl help %s", obj->name);
	if (argc < 2)
		return usage_line_error(usage, help, "%s: missing command", obj->name);
	if (is_help_word(argv[1])) {
		if (argc > 2)
			return usage_line_error(usage, help, "%s help: too many arguments",
						obj->name);
		help_object(stdout, obj);
		return EXIT_OK;
	}
	c = find_cmd(obj, argv[1]);
	if (!c)
		return usage_line_error(usage, help, "%s: unknown command '%s'",
					obj->name, argv[1]);
	return run(ctx, c, argc - 1, argv + 1);
}

static int woofctl_main(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "namespace", required_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool version = false;
	char buf[64];
	int c, ret, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jpN:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctx->json = true;
			break;
		case 'p':
			ctx->json = ctx->pretty = true;
			break;
		case 'N':
			ctx->ns_dir = optarg;
			break;
		case 'V':
			version = true;
			break;
		case 'h':
			help_all(stdout);
			return EXIT_OK;
		case ':':
			return usage_error(ctx, "option '%s' needs an argument",
					   bad_option(argv, buf, sizeof(buf)));
		default:
			return usage_error(ctx, "unknown option '%s'",
					   bad_option(argv, buf, sizeof(buf)));
		}
	}
	argc -= optind;
	argv += optind;

	if (version) {
		char *vargv[] = { "version", NULL };

		ret = run(ctx, find_word_cmd("version"), 1, vargv);
	} else if (argc == 0) {
		return usage_line_error(USAGE_ALL, "woofctl help", "missing OBJECT");
	} else {
		ret = dispatch(ctx, argc, argv);
	}

	err = out_flush();
	if (err && err != -EPIPE)
		return fail_sys(err, "writing the output");
	return ret;
}

int main(int argc, char **argv)
{
	static struct woofctl ctx;

	/* a vanished reader must show up as EPIPE, not kill us mid-output */
	signal(SIGPIPE, SIG_IGN);
	err_ctx = &ctx;
	return finish(woofctl_main(&ctx, argc, argv));
}
