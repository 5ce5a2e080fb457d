/* SPDX-License-Identifier: MIT */
/*
 * resolve.c - from what the user wrote to a namespace and a WOOF name.
 *
 * The namespace is -N DIR when given, else the library's default
 * ($WOOFC_DIR, else the current directory). A WOOF argument is a plain name
 * in that namespace, checked with woof_name_check() before anything is
 * touched, or a woof://host/dir/name URI split by woof_resolve() (a remote
 * host is an error until remote namespaces exist).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "woofctl.h"

#define URI_PREFIX "woof://"

static const char *ns_desc(const struct woofctl *ctx)
{
	const char *env;

	if (ctx->ns_dir)
		return ctx->ns_dir;
	env = getenv("WOOFC_DIR");
	return env && *env ? env : ".";
}

int ns_open_selected(struct woofctl *ctx, struct woof_ns **nsp)
{
	int err = woof_ns_open(ctx->ns_dir, nsp);

	if (err)
		return fail(err, "namespace %s", ns_desc(ctx));
	return EXIT_OK;
}

int woofref_resolve(struct woofctl *ctx, const char *arg, struct woofref *ref)
{
	char nsdir[PATH_MAX];
	int err;

	ref->arg = arg;
	ref->ns = NULL;
	if (strncmp(arg, URI_PREFIX, strlen(URI_PREFIX)) != 0) {
		err = woof_name_check(arg);
		if (err)
			return fail_why(err, woof_name_fault(arg), "invalid WOOF name '%s'", arg);
		snprintf(ref->name, sizeof(ref->name), "%s", arg);
		return ns_open_selected(ctx, &ref->ns);
	}

	err = woof_resolve(ctx->ns_dir, arg, nsdir, sizeof(nsdir),
			   ref->name, sizeof(ref->name));
	if (err) {
		const char *last = strrchr(arg + strlen(URI_PREFIX), '/');
		const char *why = last ? woof_name_fault(last + 1) : NULL;

		if (why && (err == -EINVAL || err == -ENAMETOOLONG))
			return fail_why(err, why, "%s: invalid WOOF name '%s'", arg, last + 1);
		return fail(err, "%s", arg);
	}
	err = woof_name_check(ref->name);
	if (err)
		return fail_why(err, woof_name_fault(ref->name), "%s: invalid WOOF name '%s'",
				arg, ref->name);
	err = woof_ns_open(nsdir, &ref->ns);
	if (err)
		return fail(err, "%s: namespace %s", arg, nsdir);
	return EXIT_OK;
}

void woofref_release(struct woofref *ref)
{
	if (ref->ns)
		woof_ns_close(ref->ns);
	ref->ns = NULL;
}
