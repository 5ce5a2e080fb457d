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
	  "NAME [--handler H] [--hex HEX | --file FILE]",
	  "append one element; prints its sequence number",
	  "  --handler H   the handler to trigger with this element\n"
	  "  --hex HEX     the element as hex digits (spaces between bytes allowed)\n"
	  "  --file FILE   read the element from FILE ('-' is stdin)\n"
	  "Without --hex or --file the element is read from stdin. Input shorter\n"
	  "than the element size is padded with zero bytes; longer input is an\n"
	  "error and nothing is appended.\n" },

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

int fail(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("woofctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", woof_strerror(err < 0 ? err : -err));
	return EXIT_FAIL;
}

int fail_sys(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("woofctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err < 0 ? -err : err));
	return EXIT_FAIL;
}

int fail_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("woofctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int usage_error(struct woofctl *ctx, const char *fmt, ...)
{
	const struct woofctl_cmd *c = ctx->cmd;
	va_list ap;

	fputs("woofctl: ", stderr);
	if (c)
		fprintf(stderr, "%s%s%s: ", c->object, c->command ? " " : "",
			c->command ? c->command : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c)
		fprintf(stderr, "Usage: woofctl [OPTIONS] %s%s%s%s%s\n"
				"Try 'woofctl help %s%s%s'.\n",
			c->object, c->command ? " " : "", c->command ? c->command : "",
			*c->usage ? " " : "", c->usage,
			c->object, c->command ? " " : "", c->command ? c->command : "");
	else
		fputs("Try 'woofctl help'.\n", stderr);
	return EXIT_USAGE;
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

	c = find_word_cmd(argv[0]);
	if (c)
		return run(ctx, c, argc, argv);

	obj = find_object(argv[0]);
	if (!obj) {
		fprintf(stderr, "woofctl: unknown object '%s'\n\n", argv[0]);
		help_all(stderr);
		return EXIT_USAGE;
	}
	if (argc < 2) {
		fprintf(stderr, "woofctl: %s: missing command\n\n", obj->name);
		help_object(stderr, obj);
		return EXIT_USAGE;
	}
	if (is_help_word(argv[1])) {
		if (argc > 2) {
			fprintf(stderr, "woofctl: %s help: too many arguments\n", obj->name);
			return EXIT_USAGE;
		}
		help_object(stdout, obj);
		return EXIT_OK;
	}
	c = find_cmd(obj, argv[1]);
	if (!c) {
		fprintf(stderr, "woofctl: %s: unknown command '%s'\n\n", obj->name, argv[1]);
		help_object(stderr, obj);
		return EXIT_USAGE;
	}
	return run(ctx, c, argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "namespace", required_argument, NULL, 'N' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct woofctl ctx = { 0 };
	bool version = false;
	char buf[64];
	int c, ret, err;

	/* a vanished reader must show up as EPIPE, not kill us mid-output */
	signal(SIGPIPE, SIG_IGN);

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:jpN:Vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctx.json = true;
			break;
		case 'p':
			ctx.json = ctx.pretty = true;
			break;
		case 'N':
			ctx.ns_dir = optarg;
			break;
		case 'V':
			version = true;
			break;
		case 'h':
			help_all(stdout);
			return EXIT_OK;
		case ':':
			return usage_error(&ctx, "option '%s' needs an argument",
					   bad_option(argv, buf, sizeof(buf)));
		default:
			return usage_error(&ctx, "unknown option '%s'",
					   bad_option(argv, buf, sizeof(buf)));
		}
	}
	argc -= optind;
	argv += optind;

	if (version) {
		char *vargv[] = { "version", NULL };

		ret = run(&ctx, find_word_cmd("version"), 1, vargv);
	} else if (argc == 0) {
		fputs("woofctl: missing OBJECT\n\n", stderr);
		help_all(stderr);
		return EXIT_USAGE;
	} else {
		ret = dispatch(&ctx, argc, argv);
	}

	err = out_flush();
	if (err && err != -EPIPE)
		return fail_sys(err, "writing the output");
	return ret;
}
