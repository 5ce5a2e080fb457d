/* SPDX-License-Identifier: MIT */
/*
 * call.c - woof_call_current(): which call a handler process is serving.
 *
 * dispatcherd starts every handler with its call in the environment:
 * WOOF_HANDLER, WOOF_CALL_WOOF, WOOF_CALL_SEQ, WOOF_CALL_TRIGGER and
 * WOOF_CALL_ATTEMPT (1 for the first delivery; 2.. when an earlier attempt
 * had started before a dispatcherd crash). Reading them costs a few
 * getenv() calls; nothing is cached, so a program that changes its
 * environment sees the change.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "woof-internal.h"

static int env_u64(const char *name, uint64_t *out)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long x;

	if (!v || !*v)
		return -ENOENT;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || v[0] == '-')
		return -EINVAL;
	*out = x;
	return 0;
}

int woof_call_current(struct woof_call *c)
{
	struct woof_call r;
	const char *woof, *handler;
	uint64_t attempt;
	int ret;

	if (!c || c->sz < offsetof(struct woof_call, redelivered) + sizeof(bool))
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	woof = getenv("WOOF_CALL_WOOF");
	handler = getenv("WOOF_HANDLER");
	if (!woof || !handler || !*woof || !*handler)
		return -ENOENT;
	if (woof_name_check(woof) || woof_name_check(handler))
		return -EINVAL;
	ret = env_u64("WOOF_CALL_SEQ", &r.seq);
	if (!ret)
		ret = env_u64("WOOF_CALL_TRIGGER", &r.trigger);
	if (ret)
		return ret == -ENOENT ? -ENOENT : ret;
	ret = env_u64("WOOF_CALL_ATTEMPT", &attempt);
	if (ret == -ENOENT)
		attempt = 1;
	else if (ret)
		return ret;
	if (attempt == 0 || attempt > UINT32_MAX)
		return -EINVAL;

	r.sz = c->sz < sizeof(r) ? c->sz : sizeof(r);
	memcpy(r.woof, woof, strlen(woof) + 1);
	memcpy(r.handler, handler, strlen(handler) + 1);
	r.attempt = (uint32_t)attempt;
	r.redelivered = attempt > 1;
	memcpy(c, &r, r.sz);
	return 0;
}
