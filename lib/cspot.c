/* SPDX-License-Identifier: MIT */
/*
 * cspot.c - the CSPOT API (woofc.h) on top of woof.h.
 *
 * CSPOT's conventions are kept: sequence numbers come back as unsigned
 * long with (unsigned long)-1 for failure, int calls return 1 on success
 * and a negative value on failure. Unlike CSPOT, every failure also sets
 * errno and writes one line to stderr naming the call, the WOOF and the
 * reason, because CSPOT programs (its own examples among them) often do not
 * check; WOOF_QUIET=1 silences it. WooFInit() is optional.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "woof-internal.h"
#include "woofc.h"

/*
 * The line names the rule a bad name broke: the WOOF's (the last component
 * of a woof:// URI) or else the handler's.
 */
static int fail_h(const char *call, const char *name, const char *handler, int err)
{
	const char *q = getenv("WOOF_QUIET");
	const char *fault = NULL, *what = "";
	const char *last;

	if (err == -EINVAL || err == -ENAMETOOLONG) {
		last = name;
		if (name && !strncasecmp(name, "woof://", 7) && strrchr(name + 7, '/'))
			last = strrchr(name + 7, '/') + 1;
		fault = last ? woof_name_fault(last) : NULL;
		what = "WOOF name";
		if (!fault && handler) {
			fault = woof_name_fault(handler);
			what = "handler name";
		}
	}
	if (!q || strcmp(q, "1") != 0) {
		if (fault)
			fprintf(stderr, "woof: %s(%s): invalid %s: %s\n", call,
				name ? name : "NULL", what, fault);
		else
			fprintf(stderr, "woof: %s(%s): %s\n", call, name ? name : "NULL",
				woof_strerror(err));
	}
	errno = -err;
	return err;
}

static int fail(const char *call, const char *name, int err)
{
	return fail_h(call, name, NULL, err);
}

int WooFInit(void)
{
	struct woof_ns *ns;
	int ret = ns_default(&ns, true);

	return ret ? fail("WooFInit", getenv("WOOFC_DIR"), ret) : 1;
}

int WooFCreate(const char *name, unsigned long element_size, unsigned long history_size)
{
	struct woof_create_opts o = {
		.sz = sizeof(o),
		.element_size = element_size,
		.history_size = history_size,
		.create = WOOF_CREATE_RESET,
	};
	char plain[WOOF_NAME_MAX + 1];
	struct woof_ns *ns;
	int ret;

	ret = ns_open_resolved(NULL, name, &ns, plain, sizeof(plain));
	if (!ret)
		ret = woof_create(ns, plain, &o, NULL);
	return ret ? fail("WooFCreate", name, ret) : 1;
}

unsigned long WooFPut(const char *name, const char *handler, void *element)
{
	char plain[WOOF_NAME_MAX + 1];
	struct woof_ns *ns;
	uint64_t seq;
	int ret;

	ret = ns_open_resolved(NULL, name, &ns, plain, sizeof(plain));
	if (!ret)
		ret = woof_put(ns, plain, handler, element, &seq);
	if (ret) {
		fail_h("WooFPut", name, handler, ret);
		return (unsigned long)-1;
	}
	return (unsigned long)seq;
}

int WooFGet(const char *name, void *element, unsigned long seq_no)
{
	char plain[WOOF_NAME_MAX + 1];
	struct woof_ns *ns;
	int ret;

	ret = ns_open_resolved(NULL, name, &ns, plain, sizeof(plain));
	if (!ret)
		ret = woof_get(ns, plain, seq_no, element, NULL);
	return ret ? fail("WooFGet", name, ret) : 1;
}

/* Look at a WOOF's mapping by name; @fn gets the map. */
static int with_map(const char *call, const char *name, struct woof_map **mp)
{
	char plain[WOOF_NAME_MAX + 1];
	struct woof_ns *ns;
	int ret;

	ret = ns_open_resolved(NULL, name, &ns, plain, sizeof(plain));
	if (!ret)
		ret = map_get(ns, plain, MAP_CHECK_LAZY, mp);
	return ret ? fail(call, name, ret) : 0;
}

unsigned long WooFGetLatestSeqno(const char *name)
{
	struct woof_map *m;
	unsigned long seq;

	if (with_map("WooFGetLatestSeqno", name, &m))
		return (unsigned long)-1;
	seq = __atomic_load_n(&m->hdr->seq_no, __ATOMIC_ACQUIRE);
	map_put(m);
	return seq;
}

unsigned long WooFGetElSize(const char *name)
{
	struct woof_map *m;
	unsigned long size;

	if (with_map("WooFGetElSize", name, &m))
		return (unsigned long)-1;
	size = m->element_size;
	map_put(m);
	return size;
}

int WooFInvalid(unsigned long seq_no)
{
	return seq_no == (unsigned long)-1;
}

int WooFValidURI(const char *str)
{
	char dir[PATH_MAX], name[WOOF_NAME_MAX + 1];
	int ret;

	if (!str || strncasecmp(str, "woof://", 7) != 0)
		return 0;
	ret = woof_resolve(NULL, str, dir, sizeof(dir), name, sizeof(name));
	return ret == 0 || ret == -EREMOTE;
}

WOOF *WooFOpen(const char *name)
{
	char plain[WOOF_NAME_MAX + 1];
	struct woof_ns *ns;
	struct woof *w;
	WOOF *wf;
	int ret;

	ret = ns_open_resolved(NULL, name, &ns, plain, sizeof(plain));
	if (!ret)
		ret = woof_open(ns, plain, &w);
	if (ret) {
		fail("WooFOpen", name, ret);
		return NULL;
	}
	wf = calloc(1, sizeof(*wf));
	if (!wf) {
		woof_close(w);
		fail("WooFOpen", name, -ENOMEM);
		return NULL;
	}
	wf->handle = w;
	wf->shared = w->m->hdr;
	wf->ino = (unsigned long)w->m->ino;
	return wf;
}

unsigned long WooFAppend(WOOF *wf, const char *handler, void *element)
{
	uint64_t seq;
	int ret;

	ret = wf ? woof_append(wf->handle, element, handler, &seq) : -EINVAL;
	if (ret) {
		fail_h("WooFAppend", wf ? wf->handle->m->name : NULL, handler, ret);
		return (unsigned long)-1;
	}
	return (unsigned long)seq;
}

int WooFRead(WOOF *wf, void *element, unsigned long seq_no)
{
	int ret = wf ? woof_read(wf->handle, seq_no, element, NULL) : -EINVAL;

	return ret ? fail("WooFRead", wf ? wf->handle->m->name : NULL, ret) : 1;
}

void WooFFree(WOOF *wf)
{
	if (!wf)
		return;
	woof_close(wf->handle);
	free(wf);
}

int WooFRemove(const char *name)
{
	char plain[WOOF_NAME_MAX + 1];
	struct woof_ns *ns;
	int ret;

	ret = ns_open_resolved(NULL, name, &ns, plain, sizeof(plain));
	if (!ret)
		ret = woof_remove(ns, plain);
	return ret ? fail("WooFRemove", name, ret) : 1;
}
