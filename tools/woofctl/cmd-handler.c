/* SPDX-License-Identifier: MIT */
/*
 * cmd-handler.c - the "handler" object: ls, info.
 *
 * A handler is, as in CSPOT, the program of that name in the namespace
 * directory. ls shows the executable regular files there that are not
 * WOOFs, the handlers woof.conf has a [handler NAME] section for, and the
 * handlers the call records name (a put may name a handler that has no
 * file: its calls fail, and it is listed with its file "missing").
 *
 * The runtime, timeout and workers come from the namespace's woof.conf,
 * read with dispatcherd's own parser (dispatcherd/config.c, linked in), so
 * woofctl and dispatcherd cannot disagree on what the file says. A
 * dispatcherd started with --config FILE reads FILE instead; woofctl
 * shows <ns>/woof.conf. The call counts come from .woof/calls (its last
 * 8,192 records); running and queued calls from the status file of a
 * serving dispatcherd.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "woofctl.h"

enum hfile {
	HF_EXEC,	/* an executable regular file: runnable */
	HF_NOEXEC,	/* a regular file without execute permission */
	HF_NOTREG,	/* a directory, socket, ... */
	HF_WOOF,	/* a WOOF of that name */
	HF_MISSING,
};

static const char *const hfile_names[] = {
	[HF_EXEC] = "executable",
	[HF_NOEXEC] = "not-executable",
	[HF_NOTREG] = "not-regular",
	[HF_WOOF] = "woof",
	[HF_MISSING] = "missing",
};

struct hinfo {
	char *name;
	enum hfile file;
	struct stat st;			/* when the file exists */
	const struct handler_conf *conf;	/* its [handler NAME] section, or NULL */
	uint64_t calls, failures, last_ns;
	const struct status_handler *live;	/* its line in the status file, or NULL */
};

struct hctx {
	struct woofctl *ctx;
	struct woof_ns *ns;
	char conf_path[PATH_MAX];
	struct ns_conf conf;
	bool conf_found;
	char conf_err[PATH_MAX + 256];	/* empty: woof.conf is fine */
	struct calls_table calls;
	struct daemon_probe dp;
	struct status_file status;
	bool have_status;
	char **woofs;			/* the WOOF names, sorted */
	size_t nwoofs, woofs_cap;
	struct hinfo *h;
	size_t nh;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_woof(const char *name, void *arg)
{
	struct hctx *hc = arg;

	if (hc->nwoofs == hc->woofs_cap) {
		size_t cap = hc->woofs_cap ? 2 * hc->woofs_cap : 32;
		char **v = realloc(hc->woofs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		hc->woofs = v;
		hc->woofs_cap = cap;
	}
	hc->woofs[hc->nwoofs] = strdup(name);
	if (!hc->woofs[hc->nwoofs])
		return -ENOMEM;
	hc->nwoofs++;
	return 0;
}

static bool is_woof(const struct hctx *hc, const char *name)
{
	return hc->nwoofs && bsearch(&name, hc->woofs, hc->nwoofs, sizeof(*hc->woofs), cmp_str);
}

/* what the file @name in the namespace is (following symlinks, as dispatcherd does) */
static enum hfile file_state(const struct hctx *hc, const char *name, struct stat *st)
{
	char path[PATH_MAX];

	memset(st, 0, sizeof(*st));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", woof_ns_path(hc->ns), name) >=
	    sizeof(path) || stat(path, st) < 0)
		return HF_MISSING;
	if (is_woof(hc, name))
		return HF_WOOF;
	if (!S_ISREG(st->st_mode))
		return HF_NOTREG;
	return st->st_mode & 0111 ? HF_EXEC : HF_NOEXEC;
}

static struct hinfo *find_h(struct hctx *hc, const char *name)
{
	for (size_t i = 0; i < hc->nh; i++)
		if (!strcmp(hc->h[i].name, name))
			return &hc->h[i];
	return NULL;
}

/* the entry of @name, added (with its file looked at) when new; NULL: out of memory */
static struct hinfo *get_h(struct hctx *hc, const char *name)
{
	struct hinfo *h = find_h(hc, name), *v;

	if (h)
		return h;
	v = realloc(hc->h, (hc->nh + 1) * sizeof(*v));
	if (!v)
		return NULL;
	hc->h = v;
	h = &hc->h[hc->nh];
	memset(h, 0, sizeof(*h));
	h->name = strdup(name);
	if (!h->name)
		return NULL;
	h->file = file_state(hc, name, &h->st);
	h->conf = conf_handler(&hc->conf, name);
	if (hc->have_status)
		h->live = status_find_handler(&hc->status, name);
	hc->nh++;
	return h;
}

static void count_call(struct hinfo *h, const struct woof_call_record *r)
{
	uint64_t when = r->start_ns ? r->start_ns : r->time_ns;

	if (r->state == WOOF_CALL_ORPHAN)
		return;		/* nothing ran: not a call of the handler */
	h->calls++;
	if (r->state == WOOF_CALL_FAILED)
		h->failures++;
	if (when > h->last_ns)
		h->last_ns = when;
}

/*
 * Gather what is known about the handlers: woof.conf, the WOOFs (to tell
 * them apart), the call records and the status file. Returns EXIT_OK, or
 * EXIT_FAIL after a message. A bad woof.conf is reported here, leaves its
 * message in conf_err and the defaults in conf, and is not fatal.
 */
static int hctx_load(struct hctx *hc, const char *verb)
{
	int err;

	snprintf(hc->conf_path, sizeof(hc->conf_path), "%s/" WOOF_CONF_FILE, woof_ns_path(hc->ns));
	err = conf_load(hc->conf_path, &hc->conf, &hc->conf_found, hc->conf_err,
			sizeof(hc->conf_err));
	if (err) {
		fail_msg("%s: %s", verb, hc->conf_err);
		conf_defaults(&hc->conf);
		hc->conf_found = true;
	} else {
		hc->conf_err[0] = '\0';
	}
	err = woof_ns_list(hc->ns, add_woof, hc);
	if (err)
		return fail(err, "%s: %s", verb, woof_ns_path(hc->ns));
	if (hc->nwoofs)
		qsort(hc->woofs, hc->nwoofs, sizeof(*hc->woofs), cmp_str);
	err = calls_load(hc->ns, &hc->calls);
	if (err)
		return fail(err, "%s: %s/" WOOF_NS_META_DIR "/" WOOF_CALLS_FILE, verb,
			    woof_ns_path(hc->ns));
	if (daemon_probe(hc->ns, &hc->dp) == 0 && hc->dp.running)
		hc->have_status = status_read(hc->ns, &hc->status) == 0;
	return EXIT_OK;
}

static void hctx_free(struct hctx *hc)
{
	for (size_t i = 0; i < hc->nh; i++)
		free(hc->h[i].name);
	free(hc->h);
	for (size_t i = 0; i < hc->nwoofs; i++)
		free(hc->woofs[i]);
	free(hc->woofs);
	calls_free(&hc->calls);
	status_free(&hc->status);
	conf_free(&hc->conf);
}

/* the timeout a handler's calls get, and where it is set */
static uint64_t h_timeout_ms(const struct hctx *hc, const struct hinfo *h, const char **from)
{
	if (h->conf && h->conf->timeout_set) {
		*from = "handler";
		return h->conf->timeout_ns / 1000000;
	}
	*from = "namespace";
	return hc->conf.timeout_ns / 1000000;
}

static const char *h_runtime(const struct hinfo *h)
{
	return conf_runtime_name(h->conf ? h->conf->runtime : RT_EXEC);
}

static void json_config(struct json *j, const struct hctx *hc)
{
	json_key(j, "config");
	json_obj_open(j);
	json_kv_str(j, "path", hc->conf_path);
	json_kv_bool(j, "found", hc->conf_found);
	json_key(j, "error");
	if (hc->conf_err[0])
		json_str(j, hc->conf_err);
	else
		json_null(j);
	json_obj_close(j);
}

static void json_handler_members(struct json *j, const struct hctx *hc, const struct hinfo *h)
{
	const char *from;
	uint64_t tmo = h_timeout_ms(hc, h, &from);

	json_kv_str(j, "name", h->name);
	json_kv_str(j, "file", hfile_names[h->file]);
	json_kv_bool(j, "executable", h->file == HF_EXEC);
	json_kv_bool(j, "configured", h->conf != NULL);
	json_kv_str(j, "runtime", h_runtime(h));
	json_kv_u64(j, "timeout_ms", tmo);
	json_kv_str(j, "timeout_from", from);
	json_key(j, "workers");
	if (h->conf && h->conf->workers)
		json_u64(j, h->conf->workers);
	else
		json_null(j);
	json_kv_u64(j, "calls", h->calls);
	json_kv_u64(j, "failures", h->failures);
	json_kv_time(j, "last_call", h->last_ns);
	json_key(j, "running");
	if (hc->have_status)
		json_u64(j, h->live ? h->live->running : 0);
	else
		json_null(j);
	json_key(j, "queued");
	if (hc->have_status)
		json_u64(j, h->live ? h->live->queued : 0);
	else
		json_null(j);
	json_key(j, "spares");	/* exec: programs waiting, started ahead of calls */
	if (hc->have_status)
		json_u64(j, h->live ? h->live->spares : 0);
	else
		json_null(j);
}

static int cmp_hinfo(const void *a, const void *b)
{
	return strcmp(((const struct hinfo *)a)->name, ((const struct hinfo *)b)->name);
}

/* ---- ls ------------------------------------------------------------------------------ */

/* woofctl handler ls */
int cmd_handler_ls(struct woofctl *ctx, int argc, char **argv)
{
	struct hctx hc = { .ctx = ctx };
	struct dirent *de;
	DIR *d;
	int ret = cmd_no_options(ctx, argc, argv);
	int w = 7;

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	ret = ns_open_selected(ctx, &hc.ns);
	if (ret)
		return ret;
	ret = hctx_load(&hc, "handler ls");
	if (ret)
		goto out;
	ret = hc.conf_err[0] ? EXIT_FAIL : EXIT_OK;	/* a bad woof.conf: shown, and an error */

	/* the programs in the directory */
	d = opendir(woof_ns_path(hc.ns));
	if (!d) {
		ret = fail_sys(errno, "handler ls: %s", woof_ns_path(hc.ns));
		goto out;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (woof_name_check(de->d_name) || file_state(&hc, de->d_name, &st) != HF_EXEC)
			continue;
		if (!get_h(&hc, de->d_name)) {
			closedir(d);
			ret = fail(-ENOMEM, "handler ls");
			goto out;
		}
	}
	closedir(d);
	/* the configured ones, and those the call records name */
	for (const struct handler_conf *c = hc.conf.handlers; c; c = c->next) {
		if (!get_h(&hc, c->name)) {
			ret = fail(-ENOMEM, "handler ls");
			goto out;
		}
	}
	for (size_t i = 0; i < hc.calls.size; i++) {
		const struct woof_call_record *r = &hc.calls.v[i];
		struct hinfo *h;

		if (!r->trigger || woof_name_check(r->handler))
			continue;
		h = get_h(&hc, r->handler);
		if (!h) {
			ret = fail(-ENOMEM, "handler ls");
			goto out;
		}
		count_call(h, r);
	}
	if (hc.nh)
		qsort(hc.h, hc.nh, sizeof(*hc.h), cmp_hinfo);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "namespace", woof_ns_path(hc.ns));
		json_config(j, &hc);
		json_kv_bool(j, "dispatcherd_running", hc.dp.running);
		json_key(j, "handlers");
		json_arr_open(j);
		for (size_t i = 0; i < hc.nh; i++) {
			json_obj_open(j);
			json_handler_members(j, &hc, &hc.h[i]);
			json_obj_close(j);
		}
		json_arr_close(j);
		out_json_end(ctx);
	} else if (hc.nh) {
		for (size_t i = 0; i < hc.nh; i++)
			if ((int)strlen(hc.h[i].name) > w)
				w = (int)strlen(hc.h[i].name);
		printf("%-*s %-14s %-7s %8s %7s %7s %7s %7s  %s\n", w, "NAME", "FILE", "RUNTIME",
		       "TIMEOUT", "CALLS", "FAILED", "RUNNING", "QUEUED", "LAST CALL");
		for (size_t i = 0; i < hc.nh; i++) {
			const struct hinfo *h = &hc.h[i];
			char tmo[32], when[32], run[24], que[24];
			const char *from;

			snprintf(run, sizeof(run), "-");
			snprintf(que, sizeof(que), "-");
			if (hc.have_status) {
				snprintf(run, sizeof(run), "%" PRIu64, h->live ? h->live->running : 0);
				snprintf(que, sizeof(que), "%" PRIu64, h->live ? h->live->queued : 0);
			}
			printf("%-*s %-14s %-7s %8s %7" PRIu64 " %7" PRIu64 " %7s %7s  %s\n", w,
			       h->name, hfile_names[h->file], h_runtime(h),
			       fmt_timeout_ms(h_timeout_ms(&hc, h, &from), tmo, sizeof(tmo)),
			       h->calls, h->failures, run, que,
			       fmt_time_local(h->last_ns, when, sizeof(when)));
		}
	}
out:
	hctx_free(&hc);
	woof_ns_close(hc.ns);
	return ret;
}

/* ---- info ---------------------------------------------------------------------------- */

static const char *mode_str(mode_t m, char *buf)
{
	static const char rwx[] = "rwxrwxrwx";

	buf[0] = S_ISREG(m) ? '-' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISSOCK(m) ? 's' :
		 S_ISFIFO(m) ? 'p' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : '?';
	for (int i = 0; i < 9; i++)
		buf[i + 1] = (m & (0400 >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		buf[3] = (m & S_IXUSR) ? 's' : 'S';
	if (m & S_ISGID)
		buf[6] = (m & S_IXGRP) ? 's' : 'S';
	if (m & S_ISVTX)
		buf[9] = (m & S_IXOTH) ? 't' : 'T';
	buf[10] = '\0';
	return buf;
}

static int cmp_rec_trigger(const void *a, const void *b)
{
	const struct woof_call_record *x = *(const struct woof_call_record *const *)a;
	const struct woof_call_record *y = *(const struct woof_call_record *const *)b;

	return x->trigger < y->trigger ? -1 : x->trigger > y->trigger;
}

/* woofctl handler info NAME [-n N] */
int cmd_handler_info(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct hctx hc = { .ctx = ctx };
	const struct woof_call_record **recent = NULL;
	const char *name, *from;
	struct hinfo *h;
	uint64_t last = 5, nrecent = 0, first;
	char path[PATH_MAX], a[64], b[64];
	int c, err, ret;

	while ((c = cmd_getopt(ctx, argc, argv, "n:", longopts)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_u64(optarg, &last))
				return usage_error(ctx, "bad number of calls '%s'", optarg);
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	name = argv[optind];
	err = woof_name_check(name);
	if (err)
		return fail(err, "handler info: invalid handler name '%s'", name);

	ret = ns_open_selected(ctx, &hc.ns);
	if (ret)
		return ret;
	ret = hctx_load(&hc, "handler info");
	if (ret)
		goto out;
	ret = hc.conf_err[0] ? EXIT_FAIL : EXIT_OK;	/* a bad woof.conf: shown, and an error */
	h = get_h(&hc, name);
	recent = calloc(hc.calls.n ? hc.calls.n : 1, sizeof(*recent));
	if (!h || !recent) {
		ret = fail(-ENOMEM, "handler info");
		goto out;
	}
	for (size_t i = 0; i < hc.calls.size; i++) {
		const struct woof_call_record *r = &hc.calls.v[i];

		if (!r->trigger || strcmp(r->handler, name))
			continue;
		count_call(h, r);
		recent[nrecent++] = r;
	}
	if (h->file != HF_EXEC && h->file != HF_NOEXEC && !h->conf && !nrecent) {
		if (h->file == HF_WOOF)
			ret = fail_msg("handler info %s: it is a WOOF, not a handler program", name);
		else
			ret = fail_msg("handler info %s: no such handler (no file, no [handler %s] "
				       "section in " WOOF_CONF_FILE ", no calls)", name, name);
		goto out;
	}
	qsort(recent, nrecent, sizeof(*recent), cmp_rec_trigger);
	first = nrecent > last ? nrecent - last : 0;
	snprintf(path, sizeof(path), "%s/%s", woof_ns_path(hc.ns), name);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "namespace", woof_ns_path(hc.ns));
		json_handler_members(j, &hc, h);
		json_kv_str(j, "path", path);
		json_key(j, "stat");
		if (h->file != HF_MISSING) {
			json_obj_open(j);
			json_kv_u64(j, "size", (uint64_t)h->st.st_size);
			snprintf(a, sizeof(a), "%04o", (unsigned)(h->st.st_mode & 07777));
			json_kv_str(j, "mode", a);
			json_kv_str(j, "mode_string", mode_str(h->st.st_mode, b));
			json_kv_u64(j, "uid", h->st.st_uid);
			json_kv_u64(j, "gid", h->st.st_gid);
			json_kv_time(j, "mtime", (uint64_t)h->st.st_mtim.tv_sec * 1000000000ULL +
				     (uint64_t)h->st.st_mtim.tv_nsec);
			json_obj_close(j);
		} else {
			json_null(j);
		}
		json_config(j, &hc);
		json_kv_bool(j, "dispatcherd_running", hc.dp.running);
		json_key(j, "last_calls");
		json_arr_open(j);
		for (uint64_t i = first; i < nrecent; i++) {
			const struct woof_call_record *r = recent[i];

			json_obj_open(j);
			json_kv_u64(j, "trigger", r->trigger);
			json_kv_str(j, "woof", r->woof);
			json_kv_u64(j, "seq", r->woof_seq);
			json_kv_str(j, "state", call_state_name(r->state));
			json_call_members(j, r);
			json_obj_close(j);
		}
		json_arr_close(j);
		out_json_end(ctx);
		goto out;
	}

	printf("name:          %s\n", name);
	printf("file:          %s (%s)\n", path,
	       h->file == HF_EXEC ? "an executable regular file" :
	       h->file == HF_NOEXEC ? "a regular file, NOT executable: its calls fail" :
	       h->file == HF_NOTREG ? "NOT a regular file: its calls fail" :
	       h->file == HF_WOOF ? "a WOOF, not a program: its calls fail" :
	       "MISSING: its calls fail");
	if (h->file != HF_MISSING) {
		printf("size:          %" PRIu64 " bytes\n", (uint64_t)h->st.st_size);
		printf("mode:          %04o (%s), uid %u, gid %u\n",
		       (unsigned)(h->st.st_mode & 07777), mode_str(h->st.st_mode, a),
		       (unsigned)h->st.st_uid, (unsigned)h->st.st_gid);
		printf("modified:      %s\n",
		       fmt_time_local((uint64_t)h->st.st_mtim.tv_sec * 1000000000ULL, a, sizeof(a)));
	}
	printf("executable:    %s\n", h->file == HF_EXEC ? "yes" : "no");
	printf("runtime:       %s%s\n", h_runtime(h), h->conf ? "" : " (default)");
	{
		uint64_t tmo = h_timeout_ms(&hc, h, &from);

		printf("timeout:       %s (%s)\n", fmt_timeout_ms(tmo, a, sizeof(a)),
		       !strcmp(from, "handler") ? "its [handler] section" :
		       hc.conf_found ? "the [namespace] setting" : "the default");
	}
	if (h->conf && h->conf->workers)
		printf("workers:       %u\n", h->conf->workers);
	printf("config:        %s%s\n", hc.conf_path,
	       hc.conf_err[0] ? ": INVALID (defaults shown)" :
	       !hc.conf_found ? " (none: defaults)" :
	       h->conf ? (snprintf(b, sizeof(b), ": [handler %.40s]", name), b) :
	       ": no [handler] section");
	printf("calls:         %" PRIu64 " recorded, %" PRIu64 " failed\n", h->calls, h->failures);
	printf("last call:     %s\n", fmt_time_local(h->last_ns, a, sizeof(a)));
	if (hc.have_status)
		printf("now:           %" PRIu64 " running, %" PRIu64 " queued, %" PRIu64
		       " started ahead (dispatcherd pid %ld)\n",
		       h->live ? h->live->running : 0, h->live ? h->live->queued : 0,
		       h->live ? h->live->spares : 0, hc.dp.pid);
	else
		printf("now:           no dispatcherd serves the namespace\n");
	if (nrecent > first) {
		printf("last calls:\n  %7s  %-12s %6s  %-11s %7s  %-22s %9s  %s\n", "TRIGGER", "WOOF",
		       "SEQ", "STATE", "ATTEMPT", "RESULT", "DURATION", "STARTED");
		for (uint64_t i = first; i < nrecent; i++) {
			const struct woof_call_record *r = recent[i];
			char res[160], dur[32];

			if ((r->state == WOOF_CALL_DONE || r->state == WOOF_CALL_FAILED) && r->end_ns)
				fmt_duration(r->duration_ns, dur, sizeof(dur));
			else
				snprintf(dur, sizeof(dur), "-");
			printf("  %7" PRIu64 "  %-12s %6" PRIu64 "  %-11s %7u  %-22s %9s  %s\n",
			       (uint64_t)r->trigger, r->woof, (uint64_t)r->woof_seq,
			       call_state_name(r->state),
			       r->attempt, call_result_str(r, res, sizeof(res)), dur,
			       fmt_time_local(r->start_ns ? r->start_ns : r->time_ns, a, sizeof(a)));
		}
	}
out:
	free(recent);
	hctx_free(&hc);
	woof_ns_close(hc.ns);
	return ret;
}
