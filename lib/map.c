/* SPDX-License-Identifier: MIT */
/*
 * map.c - the per-process cache of WOOF mappings.
 *
 * CSPOT mapped and unmapped a WOOF on every put and get (34 us a call on
 * our machines). Here a WOOF is mapped once and the mapping is kept in a
 * hash table keyed by (namespace, name). The number of cached mappings is
 * bounded (least recently used first out) so that a process touching
 * 100,000 WOOFs stays under vm.max_map_count: WOOF_MAP_CACHE in the
 * environment sets the bound (default 4096). Mappings that handles or
 * calls in flight still use are never unmapped; they are only unlinked.
 *
 * A map whose file was replaced (WooFCreate over it) or removed through
 * libwoof is noticed through the state word in its header and dropped from
 * the table, so the next by-name call opens the new file. Files removed,
 * replaced or truncated behind libwoof's back (rm, mv, truncate) are
 * noticed by one fstatat(): at once by woof_open(), and by by-name calls
 * when the cached map was last checked more than a second ago
 * ($WOOF_MAP_RECHECK_MS sets that interval; 0 checks before every call).
 * A file cut shorter than its mapping gives by-name calls -EIO (and the map
 * is dropped) instead of the SIGBUS its next access would raise; the calls
 * after that, and woof_open(), find that it is no WOOF (-EBADMSG). What remains: a
 * file truncated between that check and the access, or while a handle
 * (woof_open) is used, still faults - the library installs no signal
 * handler; dispatcherd guards its accesses itself (dispatcherd/guard.c).
 *
 * The header of a mapping is never read while map_lock is held: a fault
 * there (a truncated file) must not leave the lock taken.
 *
 * Cost: a hit is one mutex round trip, one hash, one strcmp and one read of
 * the coarse clock; once a second per WOOF, one fstatat().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "woof-internal.h"

#define HASH_BITS 14
#define HASH_SIZE (1U << HASH_BITS)
#define CACHE_DEFAULT 4096U
#define RECHECK_NS 1000000000ULL	/* by-name calls re-check a map after 1 s */
static uint64_t recheck_ns = UINT64_MAX;	/* $WOOF_MAP_RECHECK_MS, read once */

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct woof_map *buckets[HASH_SIZE];
static struct woof_map lru = { .lru_prev = &lru, .lru_next = &lru };
static unsigned int ncached;
static unsigned int cache_max;

static uint32_t name_hash(const struct woof_ns *ns, const char *name)
{
	uint32_t h = 2166136261U ^ (uint32_t)((uintptr_t)ns >> 4);

	while (*name)
		h = (h ^ (unsigned char)*name++) * 16777619U;
	return h;
}

static unsigned int cache_limit(void)
{
	if (!cache_max) {
		const char *e = getenv("WOOF_MAP_CACHE");
		unsigned long v = e ? strtoul(e, NULL, 10) : 0;

		cache_max = v >= 1 && v <= 1000000 ? (unsigned int)v : CACHE_DEFAULT;
	}
	return cache_max;
}

int map_validate_header(const struct woof_header *h, uint64_t file_size)
{
	uint64_t slots, need;

	if (h->magic != WOOF_FORMAT_MAGIC || h->version != WOOF_FORMAT_VERSION ||
	    h->header_size != WOOF_HEADER_SIZE)
		return -EBADMSG;
	if (h->element_size < 1 || h->element_size > WOOF_ELEMENT_SIZE_MAX ||
	    h->history_size < 1 || h->history_size > WOOF_HISTORY_MAX ||
	    h->slot_size != WOOF_SLOT_SIZE(h->element_size))
		return -EBADMSG;
	if (h->flags & ~WOOF_F_ALL)
		return -EBADMSG;
	if (!memchr(h->filename, 0, sizeof(h->filename)))
		return -EBADMSG;
	if (__builtin_mul_overflow(h->history_size + 1, h->slot_size, &slots) ||
	    __builtin_add_overflow(slots, (uint64_t)WOOF_HEADER_SIZE, &need) ||
	    need > WOOF_FILE_SIZE_MAX || file_size < need)
		return -EBADMSG;
	return 0;
}

static void lru_unlink(struct woof_map *m)
{
	m->lru_prev->lru_next = m->lru_next;
	m->lru_next->lru_prev = m->lru_prev;
	m->lru_prev = m->lru_next = NULL;
}

static void lru_push_front(struct woof_map *m)
{
	m->lru_next = lru.lru_next;
	m->lru_prev = &lru;
	lru.lru_next->lru_prev = m;
	lru.lru_next = m;
}

/* Take @m out of the table (map_lock held). */
static void unhash(struct woof_map *m)
{
	struct woof_map **pp = &buckets[m->hash & (HASH_SIZE - 1)];

	while (*pp && *pp != m)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = m->hnext;
	m->hnext = NULL;
	lru_unlink(m);
	m->cached = false;
	ncached--;
}

static void map_free(struct woof_map *m)
{
	m->ns->ops->unmap(m);
	free(m);
}

/* Unhash unreferenced maps beyond the bound (map_lock held); returns a
 * list (through hnext) to free once the lock is dropped. */
static struct woof_map *evict(void)
{
	struct woof_map *m, *prev, *out = NULL;
	unsigned int max = cache_limit();

	for (m = lru.lru_prev; ncached > max && m != &lru; m = prev) {
		prev = m->lru_prev;
		if (m->refs)
			continue;
		unhash(m);
		m->hnext = out;
		out = m;
	}
	return out;
}

static void free_list(struct woof_map *m)
{
	while (m) {
		struct woof_map *next = m->hnext;

		map_free(m);
		m = next;
	}
}

/*
 * Find the cached map of @name (map_lock held). Whether it is stale is
 * for the caller to look at, outside the lock (the header may fault).
 */
static struct woof_map *lookup(struct woof_ns *ns, const char *name, uint32_t h)
{
	struct woof_map *m;

	for (m = buckets[h & (HASH_SIZE - 1)]; m; m = m->hnext)
		if (m->hash == h && m->ns == ns && !strcmp(m->name, name))
			return m;
	return NULL;
}

uint64_t map_coarse_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

uint64_t map_recheck_interval(void)
{
	if (recheck_ns == UINT64_MAX) {
		const char *e = getenv("WOOF_MAP_RECHECK_MS");
		char *end;
		unsigned long v = e && *e ? strtoul(e, &end, 10) : 0;

		recheck_ns = e && *e && !*end && v <= 3600000UL ? (uint64_t)v * 1000000ULL
							       : RECHECK_NS;
	}
	return recheck_ns;
}

/*
 * Is @m still the file called @name, whole? One fstatat(). 0 yes, 1 no
 * (another file or none: look again), -EIO: the same file, cut shorter
 * than the mapping - reading it would raise SIGBUS.
 */
static int still_there(const struct woof_map *m, const char *name)
{
	struct stat st;

	if (fstatat(m->ns->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 1;
	if (st.st_ino != m->ino || st.st_dev != m->dev || !S_ISREG(st.st_mode))
		return 1;
	return (uint64_t)st.st_size >= m->len ? 0 : -EIO;
}

struct woof_map *map_alloc(void)
{
	struct woof_map *m = calloc(1, sizeof(*m));

	if (m)
		m->fd = -1;
	return m;
}

/*
 * Put the freshly mapped @m (one reference, for the caller) into the table
 * under @name. If another thread installed the same file meanwhile, that
 * map is returned instead and @m is freed; an older file's map is unlinked.
 */
struct woof_map *map_install(struct woof_ns *ns, const char *name, struct woof_map *m)
{
	struct woof_map *found, *dead = NULL;
	uint32_t h = name_hash(ns, name);

	m->ns = ns;
	m->hash = h;
	m->checked_ns = map_coarse_now();
	strcpy(m->name, name);

	pthread_mutex_lock(&map_lock);
	found = lookup(ns, name, h);
	if (found && found->ino == m->ino && found->dev == m->dev) {
		found->refs++;
		pthread_mutex_unlock(&map_lock);
		free_list(dead);
		map_free(m);
		return found;
	}
	if (found) {
		unhash(found);
		if (!found->refs) {
			found->hnext = dead;
			dead = found;
		}
	}
	m->refs = 1;
	m->cached = true;
	m->hnext = buckets[h & (HASH_SIZE - 1)];
	buckets[h & (HASH_SIZE - 1)] = m;
	lru_push_front(m);
	ncached++;
	{
		struct woof_map *ev = evict();

		while (ev) {
			struct woof_map *n = ev->hnext;

			ev->hnext = dead;
			dead = ev;
			ev = n;
		}
	}
	pthread_mutex_unlock(&map_lock);
	free_list(dead);
	return m;
}

int map_get(struct woof_ns *ns, const char *name, enum map_check check,
	    struct woof_map **mp)
{
	struct woof_map *m;
	uint32_t h = name_hash(ns, name);
	int ret;

	pthread_mutex_lock(&map_lock);
	m = lookup(ns, name, h);
	if (m) {
		m->refs++;
		if (lru.lru_next != m) {
			lru_unlink(m);
			lru_push_front(m);
		}
	}
	pthread_mutex_unlock(&map_lock);
	if (m) {
		uint64_t now = check == MAP_CHECK_NOW ? 0 : map_coarse_now();

		/* the file first: its header may be what was cut off */
		if (check == MAP_CHECK_NOW || now - m->checked_ns >= map_recheck_interval()) {
			ret = still_there(m, name);
			if (ret) {
				map_forget(m);	/* gone or cut short behind our back */
				map_put(m);
				if (ret < 0 && check == MAP_CHECK_LAZY)
					return ret;	/* -EIO: cut short under a by-name call */
				/* woof_open: look at the file afresh (-EBADMSG: no WOOF now) */
				m = NULL;
			} else {
				m->checked_ns = now ? now : map_coarse_now();
			}
		}
	}
	if (m && map_stale(m)) {
		/* re-created or removed through libwoof: the name leads elsewhere now */
		map_forget(m);
		map_put(m);
		m = NULL;
	}
	if (m) {
		*mp = m;
		return 0;
	}

	/* miss: open and map outside the lock */
	m = map_alloc();
	if (!m)
		return -ENOMEM;
	ret = ns->ops->map(ns, name, m);
	if (ret) {
		free(m);
		return ret;
	}
	*mp = map_install(ns, name, m);
	return 0;
}

void map_put(struct woof_map *m)
{
	bool drop;

	pthread_mutex_lock(&map_lock);
	drop = --m->refs == 0 && !m->cached;
	pthread_mutex_unlock(&map_lock);
	if (drop)
		map_free(m);
}

/* Take @m out of the table; it is unmapped when its last user lets go. */
void map_forget(struct woof_map *m)
{
	bool drop;

	pthread_mutex_lock(&map_lock);
	if (m->cached)
		unhash(m);
	drop = m->refs == 0;
	pthread_mutex_unlock(&map_lock);
	if (drop)
		map_free(m);
}

/* Forget every cached map of @name in @ns (after a remove or a reset). */
void map_forget_name(struct woof_ns *ns, const char *name)
{
	struct woof_map *m, *next, *dead = NULL;
	uint32_t h = name_hash(ns, name);

	pthread_mutex_lock(&map_lock);
	for (m = buckets[h & (HASH_SIZE - 1)]; m; m = next) {
		next = m->hnext;
		if (m->hash != h || m->ns != ns || strcmp(m->name, name))
			continue;
		unhash(m);
		if (!m->refs) {
			m->hnext = dead;
			dead = m;
		}
	}
	pthread_mutex_unlock(&map_lock);
	free_list(dead);
}

/* Forget every cached map of @ns (woof_ns_reset); unreferenced ones are unmapped. */
void map_forget_ns(struct woof_ns *ns)
{
	struct woof_map *m, *next, *dead = NULL;

	pthread_mutex_lock(&map_lock);
	for (m = lru.lru_next; m != &lru; m = next) {
		next = m->lru_next;
		if (m->ns != ns)
			continue;
		unhash(m);
		if (!m->refs) {
			m->hnext = dead;
			dead = m;
		}
	}
	pthread_mutex_unlock(&map_lock);
	free_list(dead);
}

/* msync every cached mapping of @ns (all namespaces when @ns is NULL). */
int map_sync_ns(struct woof_ns *ns)
{
	struct woof_map *m;
	int ret = 0;

	pthread_mutex_lock(&map_lock);
	for (m = lru.lru_next; m != &lru; m = m->lru_next) {
		if (ns && m->ns != ns)
			continue;
		if (m->writable && msync(m->hdr, m->len, MS_SYNC) < 0 && !ret)
			ret = -errno;
	}
	pthread_mutex_unlock(&map_lock);
	return ret;
}

void map_atfork_prepare(void)
{
	pthread_mutex_lock(&map_lock);
}

void map_atfork_parent(void)
{
	pthread_mutex_unlock(&map_lock);
}

void map_atfork_child(void)
{
	pthread_mutex_unlock(&map_lock);
}
