/* SPDX-License-Identifier: MIT */
/*
 * test-genl.c - the generic netlink family "woof" of woof.ko, spoken with
 * raw netlink sockets (no libnl): the family and its "events" group
 * resolve through nlctrl; WOOF_GENL_CMD_VERSION answers; unknown commands
 * and unknown attributes are refused; a listener on "events" sees, in
 * order, namespace mounted (name, path, device numbers), WOOF created (new
 * file only, with its sizes; REPLACED on a reset), an overrun (element and
 * count), WOOF removed, namespace unmounted.
 */
#include "kmod-test.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

struct msg {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char buf[8192];
};

#define NLA_OK2(a, len) ((len) >= (int)sizeof(*(a)) && (a)->nla_len >= sizeof(*(a)) && \
			 (a)->nla_len <= (len))
#define NLA_NEXT2(a, len) ((len) -= NLA_ALIGN((a)->nla_len), \
			   (struct nlattr *)((char *)(a) + NLA_ALIGN((a)->nla_len)))
#define NLA_DATA2(a) ((void *)((char *)(a) + NLA_HDRLEN))

static int nl_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		kt_die("netlink socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void put_attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(m->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(NLA_DATA2(a), data, len);
	m->n.nlmsg_len = NLMSG_ALIGN(m->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void start(struct msg *m, uint16_t family, uint8_t cmd, uint16_t flags)
{
	static uint32_t seq;

	memset(m, 0, sizeof(*m));
	m->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->n.nlmsg_type = family;
	m->n.nlmsg_flags = NLM_F_REQUEST | flags;
	m->n.nlmsg_seq = ++seq;
	m->g.cmd = cmd;
	m->g.version = 1;
}

/* Send @m and receive one message into @r; the error of an NLMSG_ERROR, else 0. */
static int transact(int fd, struct msg *m, struct msg *r)
{
	ssize_t n;

	if (send(fd, m, m->n.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(fd, r, sizeof(*r), 0);
	if (n < 0)
		return -errno;
	if (r->n.nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(&r->n))->error;
	return 0;
}

/* The attributes of a genetlink message: tb[type] = attribute. */
static void parse(struct msg *r, struct nlattr **tb, int max)
{
	struct nlattr *a = (struct nlattr *)r->buf;
	int len = (int)r->n.nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; NLA_OK2(a, len); a = NLA_NEXT2(a, len))
		if ((a->nla_type & NLA_TYPE_MASK) <= max)
			tb[a->nla_type & NLA_TYPE_MASK] = a;
}

static int resolve(int fd, uint16_t *family, uint32_t *group)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1], *g;
	struct msg m, r;
	int ret, len;

	start(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	put_attr(&m, CTRL_ATTR_FAMILY_NAME, WOOF_GENL_NAME, sizeof(WOOF_GENL_NAME));
	ret = transact(fd, &m, &r);
	if (ret)
		return ret;
	parse(&r, tb, CTRL_ATTR_MAX);
	if (!tb[CTRL_ATTR_FAMILY_ID] || !tb[CTRL_ATTR_MCAST_GROUPS])
		return -EBADMSG;
	*family = *(uint16_t *)NLA_DATA2(tb[CTRL_ATTR_FAMILY_ID]);
	*group = 0;
	g = NLA_DATA2(tb[CTRL_ATTR_MCAST_GROUPS]);
	len = tb[CTRL_ATTR_MCAST_GROUPS]->nla_len - NLA_HDRLEN;
	for (; NLA_OK2(g, len); g = NLA_NEXT2(g, len)) {
		struct nlattr *a = NLA_DATA2(g), *name = NULL, *id = NULL;
		int l = g->nla_len - NLA_HDRLEN;

		for (; NLA_OK2(a, l); a = NLA_NEXT2(a, l)) {
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				name = a;
			if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				id = a;
		}
		if (name && id && !strcmp(NLA_DATA2(name), WOOF_GENL_MCGRP_EVENTS))
			*group = *(uint32_t *)NLA_DATA2(id);
	}
	return *group ? 0 : -ENOENT;
}

/* Next event for namespace @ns: its command, attributes in tb. -1: none within 3 s. */
static int next_event(int fd, const char *ns, struct msg *r, struct nlattr **tb)
{
	for (;;) {
		ssize_t n = recv(fd, r, sizeof(*r), 0);

		if (n <= 0)
			return -1;
		parse(r, tb, WOOF_GENL_A_MAX);
		if (tb[WOOF_GENL_A_NS] && !strcmp(NLA_DATA2(tb[WOOF_GENL_A_NS]), ns))
			return r->g.cmd;
	}
}

static uint64_t u64a(struct nlattr *a)
{
	uint64_t v;

	memcpy(&v, NLA_DATA2(a), 8);
	return v;
}

int main(void)
{
	struct nlattr *tb[WOOF_GENL_A_MAX + 1];
	struct woof_open o;
	struct woof_remove rm;
	struct kt_ns ns;
	struct msg m, r;
	uint16_t family = 0;
	uint32_t group = 0;
	uint64_t el = 1, seq;
	int fd, lfd, nsfd, wfd, cmd;

	kt_prog = "test-genl";
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = nl_socket();
	if (access(WOOF_CONTROL_DEV, F_OK)) {
		printf("1..0 # SKIP woof.ko not loaded\n");
		return 77;
	}
	KT_ZERO(resolve(fd, &family, &group), "resolve family \"woof\" and group \"events\"");
	kt_diag("family id %u, events group %u", family, group);

	start(&m, family, WOOF_GENL_CMD_VERSION, 0);
	KT_ZERO(transact(fd, &m, &r), "WOOF_GENL_CMD_VERSION");
	parse(&r, tb, WOOF_GENL_A_MAX);
	KT_OK(tb[WOOF_GENL_A_API_VERSION] && *(uint32_t *)NLA_DATA2(tb[WOOF_GENL_A_API_VERSION]) ==
	      WOOF_KAPI_VERSION && tb[WOOF_GENL_A_FEATURES] &&
	      (u64a(tb[WOOF_GENL_A_FEATURES]) & WOOF_FEAT_GENL),
	      "... api version 1, features include WOOF_FEAT_GENL");
	start(&m, family, 77, NLM_F_ACK);
	KT_OK(transact(fd, &m, &r) == -EOPNOTSUPP, "unknown command: EOPNOTSUPP");
	start(&m, family, WOOF_GENL_CMD_VERSION, NLM_F_ACK);
	put_attr(&m, WOOF_GENL_A_MAX + 5, &el, 8);
	KT_OK(transact(fd, &m, &r) == -EINVAL, "unknown attribute (strict validation): EINVAL");

	lfd = nl_socket();
	KT_ZERO(setsockopt(lfd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)),
		"join the events group");

	kt_ns_setup(&ns, "genl");
	cmd = next_event(lfd, ns.name, &r, tb);
	KT_OK(cmd == WOOF_GENL_CMD_NS_MOUNTED && tb[WOOF_GENL_A_PATH] &&
	      !strcmp(NLA_DATA2(tb[WOOF_GENL_A_PATH]), ns.dir) && tb[WOOF_GENL_A_DEV_MAJOR] &&
	      tb[WOOF_GENL_A_DEV_MINOR], "event NS_MOUNTED with path and device numbers");

	nsfd = kt_ns_open(&ns, O_RDWR);
	wfd = kt_create(nsfd, "g", 8, 1, 0, WOOF_F_OVERWRITE, &o);
	cmd = next_event(lfd, ns.name, &r, tb);
	KT_OK(cmd == WOOF_GENL_CMD_WOOF_CREATED && tb[WOOF_GENL_A_WOOF] &&
	      !strcmp(NLA_DATA2(tb[WOOF_GENL_A_WOOF]), "g") && tb[WOOF_GENL_A_ELEMENT_SIZE] &&
	      u64a(tb[WOOF_GENL_A_ELEMENT_SIZE]) == 8 && u64a(tb[WOOF_GENL_A_HISTORY_SIZE]) == 1 &&
	      !tb[WOOF_GENL_A_REPLACED], "event WOOF_CREATED g, 8 x 1");
	close(kt_create(nsfd, "g", 8, 1, 0, 0, NULL));	/* opens it: no event */
	close(kt_create(nsfd, "g", 8, 1, WOOF_CREATE_F_RESET, WOOF_F_OVERWRITE, NULL));
	cmd = next_event(lfd, ns.name, &r, tb);
	KT_OK(cmd == WOOF_GENL_CMD_WOOF_CREATED && tb[WOOF_GENL_A_REPLACED],
	      "CREATE of an existing WOOF: no event; RESET: WOOF_CREATED with REPLACED");
	close(wfd);
	wfd = kt_open(nsfd, "g", 0, &o);
	kt_append(wfd, &el, 8, "h", 0, &seq);
	kt_append(wfd, &el, 8, "h", 0, &seq);
	cmd = next_event(lfd, ns.name, &r, tb);
	KT_OK(cmd == WOOF_GENL_CMD_OVERRUN && u64a(tb[WOOF_GENL_A_SEQ]) == 1 &&
	      u64a(tb[WOOF_GENL_A_OVERRUNS]) == 1 &&
	      !strcmp(NLA_DATA2(tb[WOOF_GENL_A_WOOF]), "g"),
	      "event OVERRUN: element 1 overwritten unclaimed, 1 overrun");
	close(wfd);
	memset(&rm, 0, sizeof(rm));
	rm.size = sizeof(rm);
	strcpy(rm.name, "g");
	ioctl(nsfd, WOOF_IOC_REMOVE, &rm);
	cmd = next_event(lfd, ns.name, &r, tb);
	KT_OK(cmd == WOOF_GENL_CMD_WOOF_REMOVED && !strcmp(NLA_DATA2(tb[WOOF_GENL_A_WOOF]), "g"),
	      "event WOOF_REMOVED g");
	close(nsfd);
	kt_ns_teardown(&ns);
	cmd = next_event(lfd, ns.name, &r, tb);
	KT_OK(cmd == WOOF_GENL_CMD_NS_UNMOUNTED, "event NS_UNMOUNTED");
	close(lfd);
	close(fd);
	return kt_done();
}
