/* SPDX-License-Identifier: MIT */
/*
 * cmd-monitor.c - "woofctl monitor": print the events woof.ko multicasts on
 * the generic netlink family "woof" (group "events"): namespaces mounted
 * and unmounted, WOOFs created and removed, overruns. Spoken with libnl
 * (libnl-genl-3); without it at build time the command says so.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* ppoll() */
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/woof.h>

#include "woofctl.h"

#ifndef HAVE_LIBNL
#define HAVE_LIBNL 0
#endif

#if HAVE_LIBNL
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#endif

struct monitor_opts {
	uint64_t count;		/* stop after this many events, 0 = never */
	uint64_t timeout_s;	/* stop after this many seconds, 0 = never */
	bool have_timeout;
};

static int monitor_parse(struct woofctl *ctx, int argc, char **argv, struct monitor_opts *o)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cmd_getopt(ctx, argc, argv, "n:", longopts)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_u64(optarg, &o->count) || !o->count)
				return usage_error(ctx, "-n '%s' is not a count of events (1 or more)",
						   optarg);
			break;
		case 't':
			if (!parse_u64(optarg, &o->timeout_s) || !o->timeout_s ||
			    o->timeout_s > 1000000000ULL)
				return usage_error(ctx, "--timeout '%s' is not a number of seconds "
						   "(1 or more)", optarg);
			o->have_timeout = true;
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	return -1;
}

#if !HAVE_LIBNL

int cmd_monitor(struct woofctl *ctx, int argc, char **argv)
{
	struct monitor_opts o = { 0 };
	int ret = monitor_parse(ctx, argc, argv, &o);

	if (ret >= 0)
		return ret;
	return fail_msg("monitor: this woofctl was built without libnl (libnl-genl-3.0 was not "
			"found at configure time): install libnl-genl-3-dev and rebuild");
}

#else /* HAVE_LIBNL */

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

struct monitor {
	struct woofctl *ctx;
	int family;
	uint64_t seen;
	int out_err;		/* a failed write to stdout (-errno) */
};

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case WOOF_GENL_CMD_NS_MOUNTED:
		return "mounted";
	case WOOF_GENL_CMD_NS_UNMOUNTED:
		return "unmounted";
	case WOOF_GENL_CMD_WOOF_CREATED:
		return "created";
	case WOOF_GENL_CMD_WOOF_REMOVED:
		return "removed";
	case WOOF_GENL_CMD_OVERRUN:
		return "overrun";
	default:
		return NULL;
	}
}

static uint64_t now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* the string attribute @a, if it holds a NUL-terminated string */
static const char *attr_str(struct nlattr *a)
{
	if (!a || nla_len(a) < 1 || ((const char *)nla_data(a))[nla_len(a) - 1] != '\0')
		return NULL;
	return nla_get_string(a);
}

static int on_event(struct nl_msg *msg, void *arg)
{
	static struct nla_policy policy[WOOF_GENL_A_MAX + 1] = {
		[WOOF_GENL_A_NS] = { .type = NLA_STRING },
		[WOOF_GENL_A_PATH] = { .type = NLA_STRING },
		[WOOF_GENL_A_DEV_MAJOR] = { .type = NLA_U32 },
		[WOOF_GENL_A_DEV_MINOR] = { .type = NLA_U32 },
		[WOOF_GENL_A_WOOF] = { .type = NLA_STRING },
		[WOOF_GENL_A_ELEMENT_SIZE] = { .type = NLA_U64 },
		[WOOF_GENL_A_HISTORY_SIZE] = { .type = NLA_U64 },
		[WOOF_GENL_A_REPLACED] = { .type = NLA_FLAG },
		[WOOF_GENL_A_SEQ] = { .type = NLA_U64 },
		[WOOF_GENL_A_OVERRUNS] = { .type = NLA_U64 },
	};
	struct monitor *m = arg;
	struct woofctl *ctx = m->ctx;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[WOOF_GENL_A_MAX + 1];
	struct genlmsghdr *gh;
	const char *ev, *ns, *path, *woof;
	bool replaced;
	uint64_t t = now_realtime_ns();

	if (nlh->nlmsg_type != m->family || !genlmsg_valid_hdr(nlh, 0))
		return NL_SKIP;
	gh = genlmsg_hdr(nlh);
	if (gh->cmd == WOOF_GENL_CMD_VERSION)
		return NL_SKIP;
	if (genlmsg_parse(nlh, 0, tb, WOOF_GENL_A_MAX, policy) < 0) {
		fprintf(stderr, "woofctl: monitor: a malformed event (command %u) was ignored\n",
			gh->cmd);
		return NL_SKIP;
	}
	ev = event_name(gh->cmd);
	ns = attr_str(tb[WOOF_GENL_A_NS]);
	path = attr_str(tb[WOOF_GENL_A_PATH]);
	woof = attr_str(tb[WOOF_GENL_A_WOOF]);
	replaced = tb[WOOF_GENL_A_REPLACED] != NULL;

	if (ctx->json) {
		struct json *j = &ctx->out;

		/* JSON Lines: one compact object per event, whatever -p says */
		json_init(j, stdout, false);
		json_obj_open(j);
		json_kv_u64(j, "schema", WOOFCTL_JSON_SCHEMA);
		json_kv_str(j, "event", ev ? ev : "unknown");
		if (!ev)
			json_kv_u64(j, "command", gh->cmd);
		json_kv_time(j, "time", t);
		if (ns)
			json_kv_str(j, "ns", ns);
		if (path)
			json_kv_str(j, "path", path);
		if (tb[WOOF_GENL_A_DEV_MAJOR])
			json_kv_u64(j, "dev_major", nla_get_u32(tb[WOOF_GENL_A_DEV_MAJOR]));
		if (tb[WOOF_GENL_A_DEV_MINOR])
			json_kv_u64(j, "dev_minor", nla_get_u32(tb[WOOF_GENL_A_DEV_MINOR]));
		if (woof)
			json_kv_str(j, "woof", woof);
		if (tb[WOOF_GENL_A_ELEMENT_SIZE])
			json_kv_u64(j, "element_size", nla_get_u64(tb[WOOF_GENL_A_ELEMENT_SIZE]));
		if (tb[WOOF_GENL_A_HISTORY_SIZE])
			json_kv_u64(j, "history_size", nla_get_u64(tb[WOOF_GENL_A_HISTORY_SIZE]));
		if (gh->cmd == WOOF_GENL_CMD_WOOF_CREATED)
			json_kv_bool(j, "replaced", replaced);
		if (tb[WOOF_GENL_A_SEQ])
			json_kv_u64(j, "seq", nla_get_u64(tb[WOOF_GENL_A_SEQ]));
		if (tb[WOOF_GENL_A_OVERRUNS])
			json_kv_u64(j, "overruns", nla_get_u64(tb[WOOF_GENL_A_OVERRUNS]));
		json_obj_close(j);
		json_finish(j);
	} else {
		if (ev)
			printf("%s", ev);
		else
			printf("event %u", gh->cmd);
		if (ns)
			printf(" ns=%s", ns);
		if (woof)
			printf(" woof=%s", woof);
		if (path)
			printf(" path=%s", path);
		if (tb[WOOF_GENL_A_DEV_MAJOR] && tb[WOOF_GENL_A_DEV_MINOR])
			printf(" dev=%u:%u", nla_get_u32(tb[WOOF_GENL_A_DEV_MAJOR]),
			       nla_get_u32(tb[WOOF_GENL_A_DEV_MINOR]));
		if (tb[WOOF_GENL_A_ELEMENT_SIZE])
			printf(" element_size=%llu",
			       (unsigned long long)nla_get_u64(tb[WOOF_GENL_A_ELEMENT_SIZE]));
		if (tb[WOOF_GENL_A_HISTORY_SIZE])
			printf(" history=%llu",
			       (unsigned long long)nla_get_u64(tb[WOOF_GENL_A_HISTORY_SIZE]));
		if (replaced)
			printf(" replaced");
		if (tb[WOOF_GENL_A_SEQ])
			printf(" seq=%llu", (unsigned long long)nla_get_u64(tb[WOOF_GENL_A_SEQ]));
		if (tb[WOOF_GENL_A_OVERRUNS])
			printf(" overruns=%llu",
			       (unsigned long long)nla_get_u64(tb[WOOF_GENL_A_OVERRUNS]));
		putchar('\n');
	}
	m->seen++;
	/* a reader of a pipe sees each event as it comes */
	if (!m->out_err)
		m->out_err = out_flush();
	return NL_OK;
}

static int64_t now_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cmd_monitor(struct woofctl *ctx, int argc, char **argv)
{
	struct monitor_opts o = { 0 };
	struct monitor m = { .ctx = ctx };
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t block, old;
	struct nl_sock *sk;
	int64_t deadline = 0;
	int ret = monitor_parse(ctx, argc, argv, &o);
	int grp, err;

	if (ret >= 0)
		return ret;

	sk = nl_socket_alloc();
	if (!sk)
		return fail_sys(ENOMEM, "monitor: allocating a netlink socket");
	err = genl_connect(sk);
	if (err < 0) {
		ret = fail_msg("monitor: connecting to generic netlink: %s", nl_geterror(err));
		goto out;
	}
	m.family = genl_ctrl_resolve(sk, WOOF_GENL_NAME);
	if (m.family < 0) {
		if (m.family == -NLE_OBJ_NOTFOUND) {
			char advice[512];

			ret = fail_msg("monitor: generic netlink family \"%s\" not found: %s",
				       WOOF_GENL_NAME, kmod_advice(advice, sizeof(advice)));
		}
		else
			ret = fail_msg("monitor: resolving the generic netlink family \"%s\": %s",
				       WOOF_GENL_NAME, nl_geterror(m.family));
		goto out;
	}
	grp = genl_ctrl_resolve_grp(sk, WOOF_GENL_NAME, WOOF_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		ret = fail_msg("monitor: the family \"%s\" has no multicast group \"%s\": %s",
			       WOOF_GENL_NAME, WOOF_GENL_MCGRP_EVENTS, nl_geterror(grp));
		goto out;
	}
	/* events are not answers to requests of ours */
	nl_socket_disable_seq_check(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, &m);
	err = nl_socket_add_membership(sk, grp);
	if (err < 0) {
		ret = fail_msg("monitor: joining the group \"%s\": %s", WOOF_GENL_MCGRP_EVENTS,
			       nl_geterror(err));
		goto out;
	}
	err = nl_socket_set_nonblocking(sk);
	if (err < 0) {
		ret = fail_msg("monitor: %s", nl_geterror(err));
		goto out;
	}

	/* signals are taken only while waiting in ppoll(): no lost wake-up */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* from here on every event is printed (scripts wait for this line) */
	fprintf(stderr, "woofctl: monitor: listening to the events of the generic netlink "
			"family \"%s\"\n", WOOF_GENL_NAME);
	if (o.have_timeout)
		deadline = now_mono_ms() + (int64_t)o.timeout_s * 1000;

	ret = EXIT_OK;
	while (!stop_signal && !m.out_err && !(o.count && m.seen >= o.count)) {
		struct pollfd p = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
		struct timespec ts, *tsp = NULL;
		int n;

		if (o.have_timeout) {
			int64_t left = deadline - now_mono_ms();

			if (left <= 0) {
				if (o.count) {
					ret = fail_msg("monitor: timeout: %llu of %llu events seen",
						       (unsigned long long)m.seen,
						       (unsigned long long)o.count);
				}
				break;
			}
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tsp = &ts;
		}
		n = ppoll(&p, 1, tsp, &old);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = fail_sys(errno, "monitor: waiting for events");
			break;
		}
		if (n == 0)
			continue;
		err = nl_recvmsgs_default(sk);
		if (err == -NLE_AGAIN || err == -NLE_INTR)
			continue;
		if (err == -NLE_NOMEM) {
			/* ENOBUFS: the socket buffer overflowed, events were dropped */
			fprintf(stderr, "woofctl: monitor: events were lost (socket buffer "
					"full); woofctl ns ls shows the namespaces now\n");
			continue;
		}
		if (err < 0) {
			ret = fail_msg("monitor: receiving events: %s", nl_geterror(err));
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (m.out_err && m.out_err != -EPIPE)
		ret = fail_sys(m.out_err, "monitor: writing the output");
out:
	nl_socket_free(sk);
	return ret;
}

#endif /* HAVE_LIBNL */
