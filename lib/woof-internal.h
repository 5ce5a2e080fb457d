/* SPDX-License-Identifier: MIT */
/*
 * woof-internal.h - what the files of libwoof share and nobody else sees.
 *
 * Objects:
 *   struct woof_ns   a namespace directory, shared and reference counted
 *                    (global list, ns_lock). Holds the engine and, for the
 *                    user-space engine, this process's owner token.
 *   struct woof_map  one mapping of one WOOF file. Cached by (ns, name) in a
 *                    bounded LRU (map.c); handles and in-flight by-name calls
 *                    hold references, only unreferenced maps are evicted.
 *   struct woof      a handle from woof_open()/woof_create(): a map reference.
 *
 * Locking: map_lock (map.c) guards the cache and map reference counts;
 * ns_lock (ns.c) guards the namespace list. Neither is held while an
 * element is copied. The data path synchronises through the shared header
 * only (see engine-user.c).
 */
#ifndef WOOF_INTERNAL_H
#define WOOF_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include "woof.h"

#define WOOF_HIDDEN __attribute__((visibility("hidden")))

struct woof_map;

/* How long an append may wait for room, and where it says what for. */
struct append_wait {
	int64_t deadline_ns;		/* CLOCK_MONOTONIC; < 0: no limit */
	struct woof_put_wait *waited;	/* or NULL */
};

/*
 * An engine: how WOOFs of a namespace are created, mapped, appended to and
 * removed. Reads never go through the engine: both engines map the same
 * format and readers copy from the mapping (read.c).
 */
struct woof_engine_ops {
	const char *name;
	/* create @name; with @m, also map the WOOF it made or found */
	int (*create)(struct woof_ns *ns, const char *name,
		      const struct woof_create_opts *o, struct woof_map *m);
	int (*map)(struct woof_ns *ns, const char *name, struct woof_map *m);
	void (*unmap)(struct woof_map *m);
	int (*append)(struct woof_map *m, const void *el, const char *handler,
		      unsigned int flags, const struct append_wait *aw, uint64_t *seq);
	int (*remove)(struct woof_ns *ns, const char *name);
	int (*set_flags)(struct woof_map *m, uint32_t set, uint32_t clear);
	/* wait for an element after @seq; NULL: the futex wait of read.c */
	int (*wait)(struct woof_map *m, uint64_t seq, int timeout_ms);
};

struct woof_ns {
	char *path;			/* absolute, no trailing '/' */
	int dirfd;			/* O_DIRECTORY, O_CLOEXEC */
	dev_t dev;
	ino_t ino;
	unsigned int refs;		/* under ns_lock */
	const struct woof_engine_ops *ops;
	struct woof_ns *next;

	/* user-space engine: this process's owner token in this namespace */
	pthread_mutex_t owner_lock;
	int owners_fd;			/* -1 until the first append */
	struct woof_owners *owners;	/* mapped .woof/owners, or NULL */
	_Atomic uint64_t token;		/* 0 until registered */

	/* the trigger path (triggers.c), set up on first use under owner_lock */
	int metafd;			/* .woof/, or -1 */
	bool is_meta;			/* this is a namespace's .woof/ itself (calls, log) */
	struct woof_map *triggers;	/* .woof/triggers, or NULL */
	int notify_fd;			/* datagram socket to the dispatcher, or -1 */
	bool sock_proc;			/* sock_path is set: /proc/self/fd/<.woof>/... */
	char sock_path[48];

	/* kernel engine: the namespace device /dev/woof/<kname> */
	int devfd;			/* -1 for the user-space engine */
	bool dev_writable;		/* devfd is open for writing */
	char kname[WOOF_NS_NAME_MAX + 1];
};

struct woof_map {
	struct woof_ns *ns;		/* holds a namespace reference */
	struct woof_header *hdr;	/* the whole file is mapped */
	size_t len;
	bool writable;			/* this process may append */
	bool mapped_rw;			/* hdr is mapped writable (user engine) */
	int fd;				/* kept by engines that need it, else -1 */
	dev_t dev;
	ino_t ino;
	uint64_t element_size;		/* copied from the header at map time */
	uint64_t history_size;
	uint64_t slot_size;

	/* map.c bookkeeping, under map_lock */
	uint64_t checked_ns;		/* when the name last led to this file */
	unsigned int refs;
	bool cached;			/* reachable by name */
	uint32_t hash;
	struct woof_map *hnext;
	struct woof_map *lru_prev, *lru_next;
	char name[WOOF_NAME_MAX + 1];
};

struct woof {
	struct woof_map *m;
};

/* ---- names.c ---- */
WOOF_HIDDEN int woof_uri_is_local_host(const char *host, size_t len);

/* ---- ns.c ---- */
WOOF_HIDDEN int ns_default(struct woof_ns **nsp, bool reload);
WOOF_HIDDEN int ns_open_resolved(const char *def_dir, const char *woof_name,
				 struct woof_ns **nsp, char *name, size_t name_len);
WOOF_HIDDEN void ns_atfork_prepare(void);
WOOF_HIDDEN void ns_atfork_parent(void);
WOOF_HIDDEN void ns_atfork_child(void);
/*
 * Paths below a namespace: never through a symbolic link (ns.c). -errno or
 * a descriptor; O_NOFOLLOW and O_CLOEXEC are implied.
 */
WOOF_HIDDEN int ns_openat(int dirfd, const char *name, int flags, mode_t mode);
WOOF_HIDDEN int ns_open_create(int dirfd, const char *name, int flags, mode_t mode);
WOOF_HIDDEN void ns_file_mode(int fd, int nsfd, mode_t mode);
WOOF_HIDDEN int ns_meta_dir_open(int nsfd, bool create);
WOOF_HIDDEN int ns_meta_fd(struct woof_ns *ns);
/*
 * The modes of what libwoof creates in a namespace, whoever creates it
 * (umask does not apply; the group is the namespace directory's): see
 * "Who owns a namespace" in Documentation/libwoof.md.
 */
#define WOOF_META_DIR_MODE	03770	/* .woof/: setgid, sticky (+ the namespace's o+rx) */
#define WOOF_SHARED_FILE_MODE	0664	/* WOOFs (default), .woof/owners, .woof/triggers */
#define WOOF_SOCK_MODE		0660	/* .woof/dispatch */
/*
 * Does woof.ko serve the directory @dev/@ino now? 1 (and its name in @name,
 * its device number in @rdev, when not NULL), 0 (no, or no module), -errno.
 */
WOOF_HIDDEN int ns_kernel_lookup(dev_t dev, ino_t ino, char *name, size_t name_len,
				 dev_t *rdev);

/* ---- map.c ---- */
/* how map_get() checks that a cached map still is the file of that name */
enum map_check { MAP_CHECK_LAZY, MAP_CHECK_NOW };
WOOF_HIDDEN int map_get(struct woof_ns *ns, const char *name, enum map_check check,
			struct woof_map **mp);
WOOF_HIDDEN struct woof_map *map_alloc(void);
WOOF_HIDDEN struct woof_map *map_install(struct woof_ns *ns, const char *name,
					 struct woof_map *m);
WOOF_HIDDEN void map_put(struct woof_map *m);
WOOF_HIDDEN void map_forget(struct woof_map *m);
WOOF_HIDDEN void map_forget_name(struct woof_ns *ns, const char *name);
WOOF_HIDDEN void map_forget_ns(struct woof_ns *ns);
/* CLOCK_MONOTONIC_COARSE in ns; how long a by-name call trusts a checked map */
WOOF_HIDDEN uint64_t map_coarse_now(void);
WOOF_HIDDEN uint64_t map_recheck_interval(void);
WOOF_HIDDEN int map_sync_ns(struct woof_ns *ns);
WOOF_HIDDEN int map_validate_header(const struct woof_header *h, uint64_t file_size);
WOOF_HIDDEN void map_atfork_prepare(void);
WOOF_HIDDEN void map_atfork_parent(void);
WOOF_HIDDEN void map_atfork_child(void);

/* ---- read.c ---- */
WOOF_HIDDEN int map_read(struct woof_map *m, uint64_t seq, void *el, uint64_t *seq_read);
WOOF_HIDDEN int map_wait(struct woof_map *m, uint64_t seq, int timeout_ms);
WOOF_HIDDEN int map_futex_wait(struct woof_map *m, uint64_t seq, int timeout_ms);
WOOF_HIDDEN void map_wake(struct woof_header *h);

static inline struct woof_slot *map_slot(const struct woof_map *m, uint64_t idx)
{
	return (struct woof_slot *)((char *)m->hdr + WOOF_HEADER_SIZE + idx * m->slot_size);
}

static inline bool map_stale(const struct woof_map *m)
{
	return __atomic_load_n(&m->hdr->state, __ATOMIC_ACQUIRE) &
	       (WOOF_STATE_REPLACED | WOOF_STATE_REMOVED);
}

/* ---- engine-user.c ---- */
WOOF_HIDDEN extern const struct woof_engine_ops woof_user_engine;
WOOF_HIDDEN void owners_atfork_child(struct woof_ns *ns);
WOOF_HIDDEN int file_reserve(int fd, uint64_t size);
WOOF_HIDDEN int user_map_at(int dirfd, const char *name, struct woof_map *m);
WOOF_HIDDEN int user_create_at(int dirfd, const char *name,
			       const struct woof_create_opts *o, struct woof_map *m);
WOOF_HIDDEN int user_trylock(struct woof_map *m);
WOOF_HIDDEN void user_unlock(struct woof_map *m);

/* ---- engine-kernel.c ---- */
WOOF_HIDDEN extern const struct woof_engine_ops woof_kernel_engine;
/* map the WOOF @name below @dirfd read-only (no engine involved) */
WOOF_HIDDEN int kernel_map_ro_at(int dirfd, const char *name, struct woof_map *m);
/* ioctl() that retries on EINTR; 0 or -errno */
WOOF_HIDDEN int kernel_ioctl(int fd, unsigned long cmd, void *arg);

/* ---- triggers.c ---- */
WOOF_HIDDEN int triggers_map(struct woof_ns *ns, struct woof_map **tl);
WOOF_HIDDEN void ns_notify(struct woof_ns *ns);

/* The futex word of a 64-bit counter: its low 32 bits. */
static inline uint32_t *map_futex_word(void *v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint32_t *)v;
#else
	return (uint32_t *)v + 1;
#endif
}

/* ---- names ---- */
static inline bool woof_name_reserved(const char *name) { return name[0] == '.'; }

#endif
