/* SPDX-License-Identifier: MIT */
/*
 * woof.h - the modern libwoof API.
 *
 * A namespace (struct woof_ns) is a directory of WOOFs. A WOOF (struct
 * woof) is an append-only log of fixed-size elements kept as a circular
 * buffer of history_size elements; every append gets the next sequence
 * number (1, 2, 3, ...; never reused, never wrapping).
 *
 * Conventions: every function that can fail returns 0 (or a count) on
 * success and a negative errno on failure; woof_strerror() turns that into
 * a message. The library never prints and never exits. All calls are
 * thread-safe. Handles stay valid across fork() in the child.
 *
 * Cost model (user-space engine): a WOOF is mapped once per process and the
 * mapping is cached (bounded, LRU, see WOOF_MAP_CACHE); append and read by
 * handle touch only shared memory; by-name calls add one hash look-up.
 */
#ifndef WOOF_H
#define WOOF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <linux/woof.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WOOF_API __attribute__((visibility("default")))

struct woof_ns;
struct woof;

/* ---- namespaces ---------------------------------------------------------- */

/*
 * woof_ns_open() - open the namespace in directory @dir.
 * @dir: a directory; NULL means $WOOFC_DIR, or the current directory when
 *       WOOFC_DIR is unset. Relative paths are resolved now.
 * The directory must exist. Namespaces are shared and reference counted:
 * opening the same directory twice returns the same object.
 * Returns 0, -ENOENT, -ENOTDIR, -EACCES, -ENAMETOOLONG, -ENOMEM.
 */
WOOF_API int woof_ns_open(const char *dir, struct woof_ns **nsp);
WOOF_API void woof_ns_close(struct woof_ns *ns);
/* The absolute path of the namespace directory. */
WOOF_API const char *woof_ns_path(const struct woof_ns *ns);
/*
 * woof_ns_init() - make @dir a namespace: create the directory (one level,
 * with @mode, 0 = 0775, umask applies) if it is missing, and its .woof/
 * bookkeeping directory (mode 3770 plus the namespace's o+rx bits, the
 * namespace's group; never through a symbolic link: a .woof that is a
 * link is -ELOOP). Idempotent. Owner and group: woofctl ns init.
 */
WOOF_API int woof_ns_init(const char *dir, unsigned int mode);
/*
 * Which engine serves this namespace: the kernel engine when woof.ko serves
 * the directory (WOOF_IOC_NS_MOUNT) at the first woof_ns_open() of it in
 * this process, else the user-space engine; $WOOF_ENGINE=user|kernel forces
 * one (kernel on a directory the module does not serve: woof_ns_open() is
 * -ENODEV). See Documentation/libwoof.md, "Engines".
 */
enum woof_engine { WOOF_ENGINE_USER = 0, WOOF_ENGINE_KERNEL = 1 };
WOOF_API enum woof_engine woof_ns_engine(const struct woof_ns *ns);

/*
 * woof_ns_list() - call @cb for every WOOF in the namespace (files whose
 * header is a valid WOOF header), in no particular order. Stops early and
 * returns @cb's value when it returns non-zero. Returns 0 or -errno.
 */
WOOF_API int woof_ns_list(struct woof_ns *ns,
			  int (*cb)(const char *name, void *arg), void *arg);

/* ---- creating, opening, removing ----------------------------------------- */

/* how woof_create() treats an existing WOOF of that name */
#define WOOF_CREATE_OPEN	0U		/* open it if the geometry matches, else -EEXIST */
#define WOOF_CREATE_EXCL	(1U << 0)	/* fail with -EEXIST */
#define WOOF_CREATE_RESET	(1U << 1)	/* replace it by an empty WOOF (CSPOT's WooFCreate) */

struct woof_create_opts {
	size_t sz;		/* sizeof(struct woof_create_opts) */
	uint64_t element_size;	/* 1..WOOF_ELEMENT_SIZE_MAX */
	uint64_t history_size;	/* 1..WOOF_HISTORY_MAX */
	uint32_t flags;		/* WOOF_F_* (persistent) */
	uint32_t create;	/* WOOF_CREATE_* */
	uint32_t mode;		/* file mode, 0 = 0664; set exactly (no umask), group: the namespace's */
	uint32_t reserved;	/* must be 0 */
};

/*
 * woof_create() - create the WOOF @name in @ns.
 * @wp: if not NULL, receives an open handle.
 * A file of that name that is not a WOOF is never replaced (-EEXIST).
 * A replaced WOOF's holders see -ESTALE on their handles and reopen.
 * Returns 0, -EINVAL (bad name, sizes, flags, or non-zero reserved fields),
 * -EEXIST, -EFBIG (element_size * history_size too large), -ENOSPC, -EACCES.
 */
WOOF_API int woof_create(struct woof_ns *ns, const char *name,
			 const struct woof_create_opts *opts, struct woof **wp);

/* woof_open() - open an existing WOOF. -ENOENT, -EBADMSG (not a WOOF). */
WOOF_API int woof_open(struct woof_ns *ns, const char *name, struct woof **wp);
WOOF_API void woof_close(struct woof *w);

/*
 * woof_remove() - remove the WOOF @name. Holders of open handles see
 * -ESTALE. Refuses files that are not WOOFs (-EBADMSG).
 */
WOOF_API int woof_remove(struct woof_ns *ns, const char *name);

/* ---- appending and reading ----------------------------------------------- */

/*
 * woof_append() - append one element (element_size bytes from @element).
 * @handler: the handler to trigger, or NULL; must be a valid name.
 * @seq: if not NULL, receives the element's sequence number.
 * Any number of threads and processes may append at once; each gets a
 * unique sequence number, without gaps. When the buffer is full the oldest
 * element is overwritten. With WOOF_F_DURABLE the element is on stable
 * storage when this returns.
 * When the append would overwrite an element whose handler has not read
 * it yet, it waits until the handler has (backpressure; without a
 * dispatcher, forever; see WOOF_PUT_NONBLOCK, woof_append_opts() and
 * WOOF_F_OVERWRITE).
 * Returns 0, -EINVAL, -ESTALE (recreated or removed), -EIO (sync failed),
 * -ENOSPC (the filesystem is full when the namespace's owner table or
 * trigger log is made: at a process's first append, the first put naming
 * a handler; every later append needs no new block).
 */
WOOF_API int woof_append(struct woof *w, const void *element,
			 const char *handler, uint64_t *seq);

/* Fail with -EAGAIN instead of waiting for a handler to read an element. */
#define WOOF_PUT_NONBLOCK	(1U << 0)
/* woof_append() / woof_put() with WOOF_PUT_* flags. */
WOOF_API int woof_append_flags(struct woof *w, const void *element, const char *handler,
			       unsigned int flags, uint64_t *seq);
WOOF_API int woof_put_flags(struct woof_ns *ns, const char *name, const char *handler,
			    const void *element, unsigned int flags, uint64_t *seq);

/*
 * A bounded put: woof_append_opts() / woof_put_opts() are woof_append() /
 * woof_put() with options. A put waits for room when the slot it would
 * overwrite holds an element whose handler call no dispatcher has claimed
 * yet, or when the namespace's trigger log is full of unfinished triggers;
 * without a dispatcher that is forever. @timeout_ms bounds the wait:
 * -ETIMEDOUT, with nothing appended, and @waited says what the put waited
 * for (a caller can report it and call again).
 */
#define WOOF_WAIT_NONE		0U	/* the put did not wait */
#define WOOF_WAIT_HANDLER	1U	/* for element @seq's handler call (trigger @trigger) to be claimed */
#define WOOF_WAIT_TRIGGERS	2U	/* for room in the trigger log (oldest unfinished: @trigger) */
#define WOOF_WAIT_LOCK		3U	/* for another appender's lock on the WOOF (a stopped process?) */

struct woof_put_wait {
	uint32_t reason;	/* WOOF_WAIT_* */
	uint32_t reserved;
	uint64_t seq;		/* WOOF_WAIT_HANDLER: the element not yet claimed */
	uint64_t trigger;	/* WOOF_WAIT_HANDLER, _TRIGGERS: the trigger's number */
};

struct woof_put_opts {
	size_t sz;		/* sizeof(struct woof_put_opts) */
	uint32_t flags;		/* WOOF_PUT_* */
	int32_t timeout_ms;	/* longest wait for room: -1 = no limit, 0 = do not wait */
	struct woof_put_wait *waited;	/* if not NULL: what the put waited for (last) */
	uint64_t reserved[2];	/* must be 0 */
};

/*
 * Returns what woof_append() / woof_put() return, and -ETIMEDOUT when
 * @opts->timeout_ms passed while waiting for room (nothing appended), or
 * -EAGAIN with WOOF_PUT_NONBLOCK. @opts NULL: wait without limit.
 */
WOOF_API int woof_append_opts(struct woof *w, const void *element, const char *handler,
			      const struct woof_put_opts *opts, uint64_t *seq);
WOOF_API int woof_put_opts(struct woof_ns *ns, const char *name, const char *handler,
			   const void *element, const struct woof_put_opts *opts, uint64_t *seq);

/*
 * woof_read() - copy the element with sequence number @seq to @element.
 * @seq: 0 means the latest element.
 * @seq_read: if not NULL, receives the sequence number that was read.
 * Never blocks appenders, never returns a torn or overwritten element.
 * Returns 0, -ENODATA (empty, or @seq is no longer retained), -ERANGE
 * (@seq has not been assigned yet), -ESTALE.
 */
WOOF_API int woof_read(struct woof *w, uint64_t seq, void *element,
		       uint64_t *seq_read);

/* The highest sequence number appended so far (0 when empty). */
WOOF_API uint64_t woof_latest(const struct woof *w);

struct woof_stat {
	uint64_t element_size;
	uint64_t history_size;
	uint64_t latest;	/* highest sequence number, 0 = empty */
	uint64_t oldest;	/* lowest retained sequence number, 0 = empty */
	uint64_t create_time_ns;
	uint64_t file_size;
	uint32_t flags;		/* WOOF_F_* */
	uint32_t state;		/* WOOF_STATE_* */
	char name[WOOF_NAME_MAX + 1];
};
WOOF_API int woof_stat(struct woof *w, struct woof_stat *st);

/* The mapped header (read-only view); what CSPOT calls wf->shared. */
WOOF_API const struct woof_header *woof_header(const struct woof *w);

/*
 * woof_wait() - wait until an element with a sequence number greater than
 * @seq exists, or @timeout_ms passes (-1 = forever). No polling: the waiter
 * sleeps until an appender wakes it (user-space engine: a futex; a process
 * that may only read the WOOF file cannot ask to be woken and looks again
 * every 10 ms. Kernel engine: WOOF_IOC_WAIT on the WOOF's fd).
 * Returns 0, -ETIMEDOUT, -EINTR, -ESTALE.
 */
WOOF_API int woof_wait(struct woof *w, uint64_t seq, int timeout_ms);

/* ---- durability ---------------------------------------------------------- */

/* Write everything appended to @w so far to stable storage. */
WOOF_API int woof_sync(struct woof *w);
/* Same, for every WOOF this process has mapped in @ns (NULL: all). */
WOOF_API int woof_ns_sync(struct woof_ns *ns);
/* Set or clear WOOF_F_DURABLE on an existing WOOF (persistent). */
WOOF_API int woof_set_durable(struct woof *w, bool durable);

/* ---- by name (the CSPOT-style calls, with cached mappings) --------------- */

/*
 * woof_put() / woof_get() - append to / read from the WOOF @name in @ns
 * without a handle. The mapping is cached; a WOOF that was recreated is
 * reopened transparently.
 */
WOOF_API int woof_put(struct woof_ns *ns, const char *name, const char *handler,
		      const void *element, uint64_t *seq);
WOOF_API int woof_get(struct woof_ns *ns, const char *name, uint64_t seq,
		      void *element, uint64_t *seq_read);

/* ---- names ---------------------------------------------------------------- */

/*
 * woof_name_check() - 0 if @name is a valid WOOF or handler name: 1 to
 * WOOF_NAME_MAX bytes, no '/', no control characters, not "." or "..",
 * not beginning with '.' (reserved), and not the name of a file the
 * namespace directory holds by design ("woof.conf"). -EINVAL or
 * -ENAMETOOLONG otherwise.
 */
WOOF_API int woof_name_check(const char *name);

/*
 * woof_name_fault() - which rule of woof_name_check() @name breaks, as a
 * sentence for people ("contains '/' (a name is one path component)"), or
 * NULL when @name is valid. The string is static.
 */
WOOF_API const char *woof_name_fault(const char *name);

/*
 * woof_resolve() - split a WOOF name as CSPOT programs write it.
 * A plain name is resolved in @def_dir (NULL: $WOOFC_DIR or the current
 * directory). "woof://host/abs/path/name" names the WOOF "name" in the
 * namespace directory "/abs/path" on host "host"; an empty host,
 * "localhost", a loopback address, this host's name or one of its
 * addresses mean this host.
 * Returns 0 with @nsdir and @name filled in, -EINVAL (malformed),
 * -ENAMETOOLONG, or -EREMOTE for another host (remote namespaces are not
 * available yet).
 */
WOOF_API int woof_resolve(const char *def_dir, const char *woof_name,
			  char *nsdir, size_t nsdir_len,
			  char *name, size_t name_len);

/* ---- inside a handler --------------------------------------------------------- */

/* The call a handler process is serving (set up by dispatcherd). */
struct woof_call {
	size_t sz;		/* sizeof(struct woof_call) */
	char woof[WOOF_NAME_MAX + 1];	/* the WOOF the element was put to */
	char handler[WOOF_NAME_MAX + 1];
	uint64_t seq;		/* the element's sequence number */
	uint64_t trigger;	/* the trigger's number in the namespace trigger log */
	uint32_t attempt;	/* 1 for the first delivery, 2.. for redeliveries */
	bool redelivered;	/* attempt > 1: an earlier run may have had effects */
};
/* Fill @c for the current handler call; -ENOENT outside a handler. */
WOOF_API int woof_call_current(struct woof_call *c);

/* ---- errors ---------------------------------------------------------------- */

/* A message for a negative errno returned by this library. */
WOOF_API const char *woof_strerror(int err);

/* The library's version, "MAJOR.MINOR.PATCH". */
WOOF_API const char *woof_version(void);

#ifdef __cplusplus
}
#endif
#endif /* WOOF_H */
