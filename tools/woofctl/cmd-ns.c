/* SPDX-License-Identifier: MIT */
/*
 * cmd-ns.c - the "ns" (namespace) object: init.
 */
#include "woofctl.h"

/* woofctl ns init DIR */
int cmd_ns_init(struct woofctl *ctx, int argc, char **argv)
{
	struct woof_ns *ns;
	const char *dir, *path;
	int ret = cmd_no_options(ctx, argc, argv);
	int err;

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	dir = argv[optind];
	if (!*dir)
		return usage_error(ctx, "DIR is empty");

	err = woof_ns_init(dir, 0);
	if (err)
		return fail(err, "ns init %s", dir);
	/* open it to learn (and show) the absolute path */
	err = woof_ns_open(dir, &ns);
	if (err)
		return fail(err, "ns init %s: opening the new namespace", dir);
	path = woof_ns_path(ns);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "namespace", path);
		json_kv_str(j, "engine", engine_str(woof_ns_engine(ns)));
		out_json_end(ctx);
	} else {
		printf("initialized namespace %s\n", path);
	}
	woof_ns_close(ns);
	return EXIT_OK;
}
