// SPDX-License-Identifier: GPL-2.0
/*
 * woof-genl.c - the generic netlink family "woof" (include/uapi/linux/woof.h):
 * a VERSION request, and events on the multicast group "events": namespace
 * mounted and unmounted, WOOF created and removed, overruns (an element
 * whose trigger was never claimed overwritten in a WOOF_F_OVERWRITE WOOF).
 * woofctl monitor and dispatcherd listen with libnl.
 *
 * The family lives in the initial network namespace (namespaces of woof
 * are host-wide). An event is built only when the group has listeners, so
 * events cost one check otherwise. Events are sent after the change is
 * made; a full socket buffer drops them (netlink's usual contract).
 */
#include <linux/dcache.h>
#include <linux/slab.h>
#include <net/genetlink.h>

#include "woof-int.h"

enum { WOOF_GENL_GRP_EVENTS };

static const struct genl_multicast_group woof_genl_mcgrps[] = {
	[WOOF_GENL_GRP_EVENTS] = { .name = WOOF_GENL_MCGRP_EVENTS },
};

/* Requests carry no attributes yet; every attribute is typed for strict parsing. */
static const struct nla_policy woof_genl_policy[WOOF_GENL_A_MAX + 1] = {
	[WOOF_GENL_A_API_VERSION] = { .type = NLA_U32 },
	[WOOF_GENL_A_FORMAT_VERSION] = { .type = NLA_U32 },
	[WOOF_GENL_A_FEATURES] = { .type = NLA_U64 },
	[WOOF_GENL_A_NS] = { .type = NLA_NUL_STRING, .len = WOOF_NS_NAME_MAX },
	[WOOF_GENL_A_PATH] = { .type = NLA_NUL_STRING, .len = PATH_MAX - 1 },
	[WOOF_GENL_A_DEV_MAJOR] = { .type = NLA_U32 },
	[WOOF_GENL_A_DEV_MINOR] = { .type = NLA_U32 },
	[WOOF_GENL_A_WOOF] = { .type = NLA_NUL_STRING, .len = WOOF_NAME_MAX },
	[WOOF_GENL_A_ELEMENT_SIZE] = { .type = NLA_U64 },
	[WOOF_GENL_A_HISTORY_SIZE] = { .type = NLA_U64 },
	[WOOF_GENL_A_REPLACED] = { .type = NLA_FLAG },
	[WOOF_GENL_A_SEQ] = { .type = NLA_U64 },
	[WOOF_GENL_A_OVERRUNS] = { .type = NLA_U64 },
};

static struct genl_family woof_genl_family;

static int woof_genl_version(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &woof_genl_family, 0, WOOF_GENL_CMD_VERSION);
	if (!hdr ||
	    nla_put_u32(msg, WOOF_GENL_A_API_VERSION, WOOF_KAPI_VERSION) ||
	    nla_put_u32(msg, WOOF_GENL_A_FORMAT_VERSION, WOOF_FORMAT_VERSION) ||
	    nla_put_u64_64bit(msg, WOOF_GENL_A_FEATURES, woof_features(), WOOF_GENL_A_PAD)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_small_ops woof_genl_ops[] = {
	{
		.cmd = WOOF_GENL_CMD_VERSION,
		.doit = woof_genl_version,
	},
};

static struct genl_family woof_genl_family = {
	.name = WOOF_GENL_NAME,
	.version = WOOF_GENL_VERSION,
	.maxattr = WOOF_GENL_A_MAX,
	.policy = woof_genl_policy,
	.module = THIS_MODULE,
	.small_ops = woof_genl_ops,
	.n_small_ops = ARRAY_SIZE(woof_genl_ops),
	.resv_start_op = WOOF_GENL_CMD_MAX + 1,
	.mcgrps = woof_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(woof_genl_mcgrps),
};

int woof_genl_init(void)
{
	return genl_register_family(&woof_genl_family);
}

void woof_genl_exit(void)
{
	genl_unregister_family(&woof_genl_family);
}

/* A new event of @cmd about namespace @ns, or NULL when nobody listens. */
static struct sk_buff *ev_start(u8 cmd, const struct woof_nsdev *ns, void **hdr)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&woof_genl_family, &init_net, WOOF_GENL_GRP_EVENTS))
		return NULL;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &woof_genl_family, 0, cmd);
	if (!*hdr || nla_put_string(skb, WOOF_GENL_A_NS, ns->name)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void ev_send(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&woof_genl_family, skb, 0, WOOF_GENL_GRP_EVENTS, GFP_KERNEL);
}

void woof_genl_ns_event(const struct woof_nsdev *ns, bool mounted)
{
	struct sk_buff *skb;
	char *buf, *p;
	void *hdr;

	skb = ev_start(mounted ? WOOF_GENL_CMD_NS_MOUNTED : WOOF_GENL_CMD_NS_UNMOUNTED, ns, &hdr);
	if (!skb)
		return;
	if (mounted) {
		buf = kmalloc(PATH_MAX, GFP_KERNEL);
		p = buf ? d_path(&ns->dir, buf, PATH_MAX) : ERR_PTR(-ENOMEM);
		if ((!IS_ERR(p) && nla_put_string(skb, WOOF_GENL_A_PATH, p)) ||
		    nla_put_u32(skb, WOOF_GENL_A_DEV_MAJOR, MAJOR(ns->dev.devt)) ||
		    nla_put_u32(skb, WOOF_GENL_A_DEV_MINOR, MINOR(ns->dev.devt))) {
			kfree(buf);
			nlmsg_free(skb);
			return;
		}
		kfree(buf);
	}
	ev_send(skb, hdr);
}

void woof_genl_woof_event(const struct woof_nsdev *ns, const struct kwoof *w,
			  const char *name, bool created, bool replaced)
{
	struct sk_buff *skb;
	void *hdr;

	skb = ev_start(created ? WOOF_GENL_CMD_WOOF_CREATED : WOOF_GENL_CMD_WOOF_REMOVED, ns,
		       &hdr);
	if (!skb)
		return;
	if (nla_put_string(skb, WOOF_GENL_A_WOOF, name) ||
	    (created && w &&
	     (nla_put_u64_64bit(skb, WOOF_GENL_A_ELEMENT_SIZE, w->element_size,
				WOOF_GENL_A_PAD) ||
	      nla_put_u64_64bit(skb, WOOF_GENL_A_HISTORY_SIZE, w->history_size,
				WOOF_GENL_A_PAD))) ||
	    (replaced && nla_put_flag(skb, WOOF_GENL_A_REPLACED))) {
		nlmsg_free(skb);
		return;
	}
	ev_send(skb, hdr);
}

void woof_genl_overrun(const struct kwoof *w, u64 seq, u64 overruns)
{
	struct sk_buff *skb;
	void *hdr;

	skb = ev_start(WOOF_GENL_CMD_OVERRUN, w->ns, &hdr);
	if (!skb)
		return;
	if (nla_put_string(skb, WOOF_GENL_A_WOOF, w->name) ||
	    nla_put_u64_64bit(skb, WOOF_GENL_A_SEQ, seq, WOOF_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, WOOF_GENL_A_OVERRUNS, overruns, WOOF_GENL_A_PAD)) {
		nlmsg_free(skb);
		return;
	}
	ev_send(skb, hdr);
}
