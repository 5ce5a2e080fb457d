/* SPDX-License-Identifier: MIT */
/*
 * woof.c - the woof.h API: argument checks, handles, by-name calls.
 *
 * Everything here is engine-independent: it validates what the caller
 * passed, finds the mapping (map.c) and hands the work to the namespace's
 * engine (appends, creation, removal) or to read.c (reads, waits).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "woof-internal.h"

static void atfork_prepare(void)
{
	ns_atfork_prepare();
	map_atfork_prepare();
}

static void atfork_parent(void)
{
	map_atfork_parent();
	ns_atfork_parent();
}

static void atfork_child(void)
{
	map_atfork_child();
	ns_atfork_child();
}

__attribute__((constructor)) static void woof_lib_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static int check_create_opts(const struct woof_create_opts *o)
{
	if (!o || o->sz < sizeof(*o))
		return -EINVAL;
	/* a newer caller's larger struct: its extra bytes must be zero */
	if (o->sz > sizeof(*o)) {
		const unsigned char *p = (const unsigned char *)o + sizeof(*o);
		size_t i;

		for (i = 0; i < o->sz - sizeof(*o); i++)
			if (p[i])
				return -EINVAL;
	}
	if (o->reserved || (o->flags & ~WOOF_F_ALL) ||
	    (o->create & ~(WOOF_CREATE_EXCL | WOOF_CREATE_RESET)) ||
	    (o->create & WOOF_CREATE_EXCL && o->create & WOOF_CREATE_RESET) ||
	    (o->mode & ~07777U))
		return -EINVAL;
	if (o->element_size < 1 || o->element_size > WOOF_ELEMENT_SIZE_MAX ||
	    o->history_size < 1 || o->history_size > WOOF_HISTORY_MAX)
		return -EINVAL;
	if ((o->history_size + 1) > (WOOF_FILE_SIZE_MAX - WOOF_HEADER_SIZE) /
				    WOOF_SLOT_SIZE(o->element_size))
		return -EFBIG;
	return 0;
}

static int handle_new(struct woof_map *m, struct woof **wp)
{
	struct woof *w = malloc(sizeof(*w));

	if (!w) {
		map_put(m);
		return -ENOMEM;
	}
	w->m = m;
	*wp = w;
	return 0;
}

int woof_create(struct woof_ns *ns, const char *name,
		const struct woof_create_opts *opts, struct woof **wp)
{
	struct woof_map *m;
	int ret;

	if (!ns)
		return -EINVAL;
	ret = woof_name_check(name);
	if (ret)
		return ret;
	ret = check_create_opts(opts);
	if (ret)
		return ret;
	if (opts->create & WOOF_CREATE_RESET)
		map_forget_name(ns, name);
	if (!wp)
		return ns->ops->create(ns, name, opts, NULL);
	m = map_alloc();
	if (!m)
		return -ENOMEM;
	ret = ns->ops->create(ns, name, opts, m);
	if (ret) {
		free(m);
		return ret;
	}
	return handle_new(map_install(ns, name, m), wp);
}

int woof_open(struct woof_ns *ns, const char *name, struct woof **wp)
{
	struct woof_map *m;
	int ret;

	if (!ns || !wp)
		return -EINVAL;
	ret = woof_name_check(name);
	if (ret)
		return ret;
	ret = map_get(ns, name, MAP_CHECK_NOW, &m);
	return ret ? ret : handle_new(m, wp);
}

void woof_close(struct woof *w)
{
	if (!w)
		return;
	map_put(w->m);
	free(w);
}

int woof_remove(struct woof_ns *ns, const char *name)
{
	int ret;

	if (!ns)
		return -EINVAL;
	ret = woof_name_check(name);
	if (ret)
		return ret;
	ret = ns->ops->remove(ns, name);
	if (ret == -EAGAIN)
		ret = ns->ops->remove(ns, name);
	if (!ret)
		map_forget_name(ns, name);
	return ret;
}

static int check_handler(const char *handler)
{
	return handler ? woof_name_check(handler) : 0;
}

/*
 * Check @o and turn it into @flags and @aw (deadline from now). NULL @o:
 * no flags, no limit.
 */
static int put_opts(const struct woof_put_opts *o, unsigned int *flags,
		    struct append_wait *aw)
{
	struct timespec now;

	aw->deadline_ns = -1;
	aw->waited = NULL;
	*flags = 0;
	if (!o)
		return 0;
	if (o->sz < sizeof(*o))
		return -EINVAL;
	/* a newer caller's larger struct: its extra bytes must be zero */
	if (o->sz > sizeof(*o)) {
		const unsigned char *p = (const unsigned char *)o + sizeof(*o);
		size_t i;

		for (i = 0; i < o->sz - sizeof(*o); i++)
			if (p[i])
				return -EINVAL;
	}
	if ((o->flags & ~WOOF_PUT_NONBLOCK) || o->timeout_ms < -1 ||
	    o->reserved[0] || o->reserved[1])
		return -EINVAL;
	*flags = o->flags;
	aw->waited = o->waited;
	if (aw->waited)
		memset(aw->waited, 0, sizeof(*aw->waited));
	if (o->timeout_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		aw->deadline_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec +
				  (int64_t)o->timeout_ms * 1000000LL;
	}
	return 0;
}

static int append_checked(struct woof *w, const void *element, const char *handler,
			  unsigned int flags, const struct append_wait *aw, uint64_t *seq)
{
	int ret;

	if (!w || !element || (flags & ~WOOF_PUT_NONBLOCK))
		return -EINVAL;
	ret = check_handler(handler);
	if (ret)
		return ret;
	return w->m->ns->ops->append(w->m, element, handler, flags, aw, seq);
}

int woof_append_flags(struct woof *w, const void *element, const char *handler,
		      unsigned int flags, uint64_t *seq)
{
	return append_checked(w, element, handler, flags, NULL, seq);
}

int woof_append_opts(struct woof *w, const void *element, const char *handler,
		     const struct woof_put_opts *opts, uint64_t *seq)
{
	struct append_wait aw;
	unsigned int flags;
	int ret;

	ret = put_opts(opts, &flags, &aw);
	return ret ? ret : append_checked(w, element, handler, flags, &aw, seq);
}

int woof_append(struct woof *w, const void *element, const char *handler, uint64_t *seq)
{
	return woof_append_flags(w, element, handler, 0, seq);
}

int woof_read(struct woof *w, uint64_t seq, void *element, uint64_t *seq_read)
{
	if (!w || !element)
		return -EINVAL;
	if (map_stale(w->m))
		return -ESTALE;
	return map_read(w->m, seq, element, seq_read);
}

uint64_t woof_latest(const struct woof *w)
{
	return w ? __atomic_load_n(&w->m->hdr->seq_no, __ATOMIC_ACQUIRE) : 0;
}

int woof_stat(struct woof *w, struct woof_stat *st)
{
	const struct woof_header *h;

	if (!w || !st)
		return -EINVAL;
	h = w->m->hdr;
	memset(st, 0, sizeof(*st));
	st->element_size = w->m->element_size;
	st->history_size = w->m->history_size;
	st->latest = __atomic_load_n(&h->seq_no, __ATOMIC_ACQUIRE);
	st->oldest = st->latest == 0 ? 0 :
		     st->latest > st->history_size ? st->latest - st->history_size + 1 : 1;
	st->create_time_ns = h->create_time_ns;
	st->file_size = w->m->len;
	st->flags = __atomic_load_n(&h->flags, __ATOMIC_RELAXED);
	st->state = __atomic_load_n(&h->state, __ATOMIC_RELAXED);
	memcpy(st->name, w->m->name, sizeof(st->name));
	return 0;
}

const struct woof_header *woof_header(const struct woof *w)
{
	return w ? w->m->hdr : NULL;
}

int woof_wait(struct woof *w, uint64_t seq, int timeout_ms)
{
	if (!w || timeout_ms < -1)
		return -EINVAL;
	return map_wait(w->m, seq, timeout_ms);
}

int woof_sync(struct woof *w)
{
	if (!w)
		return -EINVAL;
	if (!w->m->writable)
		return 0;
	return msync(w->m->hdr, w->m->len, MS_SYNC) < 0 ? -errno : 0;
}

int woof_ns_sync(struct woof_ns *ns)
{
	return map_sync_ns(ns);
}

int woof_set_durable(struct woof *w, bool durable)
{
	if (!w)
		return -EINVAL;
	if (map_stale(w->m))
		return -ESTALE;
	return w->m->ns->ops->set_flags(w->m, durable ? WOOF_F_DURABLE : 0,
					durable ? 0 : WOOF_F_DURABLE);
}

/*
 * By name: take the cached mapping; if the WOOF was replaced or removed
 * since it was cached, forget the mapping and look again once.
 */
int woof_put(struct woof_ns *ns, const char *name, const char *handler,
	     const void *element, uint64_t *seq)
{
	return woof_put_flags(ns, name, handler, element, 0, seq);
}

static int put_checked(struct woof_ns *ns, const char *name, const char *handler,
		       const void *element, unsigned int flags,
		       const struct append_wait *aw, uint64_t *seq)
{
	struct woof_map *m;
	int ret, tries;

	if (!ns || !element || (flags & ~WOOF_PUT_NONBLOCK))
		return -EINVAL;
	ret = woof_name_check(name);
	if (!ret)
		ret = check_handler(handler);
	if (ret)
		return ret;
	for (tries = 0; tries < 3; tries++) {
		ret = map_get(ns, name, MAP_CHECK_LAZY, &m);
		if (ret)
			return ret;
		ret = ns->ops->append(m, element, handler, flags, aw, seq);
		if (ret == -ESTALE)
			map_forget(m);
		map_put(m);
		if (ret != -ESTALE)
			break;
	}
	return ret;
}

int woof_put_flags(struct woof_ns *ns, const char *name, const char *handler,
		   const void *element, unsigned int flags, uint64_t *seq)
{
	return put_checked(ns, name, handler, element, flags, NULL, seq);
}

int woof_put_opts(struct woof_ns *ns, const char *name, const char *handler,
		  const void *element, const struct woof_put_opts *opts, uint64_t *seq)
{
	struct append_wait aw;
	unsigned int flags;
	int ret;

	ret = put_opts(opts, &flags, &aw);
	return ret ? ret : put_checked(ns, name, handler, element, flags, &aw, seq);
}

int woof_get(struct woof_ns *ns, const char *name, uint64_t seq, void *element,
	     uint64_t *seq_read)
{
	struct woof_map *m;
	int ret, tries;

	if (!ns || !element)
		return -EINVAL;
	ret = woof_name_check(name);
	if (ret)
		return ret;
	for (tries = 0; tries < 3; tries++) {
		ret = map_get(ns, name, MAP_CHECK_LAZY, &m);
		if (ret)
			return ret;
		if (map_stale(m)) {
			map_forget(m);
			map_put(m);
			ret = -ESTALE;
			continue;
		}
		ret = map_read(m, seq, element, seq_read);
		map_put(m);
		break;
	}
	return ret;
}
