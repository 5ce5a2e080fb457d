/* SPDX-License-Identifier: MIT */
/*
 * woof-dispatch.h - libwoof's interface for dispatchers (dispatcherd) and
 * handler shepherds. Applications do not need it.
 *
 * The trigger path, end to end:
 *   1. a put that names a handler appends a struct woof_trigger to the
 *      namespace's trigger log (.woof/triggers) and marks the element's
 *      slot PENDING with the trigger's number, atomically with the append;
 *   2. the dispatcher reads trigger entries after the log's done_floor,
 *      claims each one's element (woof_trigger_claim: validates it, copies
 *      it, clears PENDING so appenders may overwrite it), runs the handler
 *      with that copy, and advances done_floor past finished entries;
 *   3. a dispatcher that has nothing to do arms the log
 *      (woof_triggers_arm) and sleeps in poll() (or io_uring POLL_ADD) on
 *      the descriptor woof_triggers_listen() returned; it becomes readable
 *      when a put with a handler comes after the arm.
 * A restarted dispatcher starts again at done_floor, so every trigger of
 * a put that returned runs at least once.
 *
 * Both engines, one interface. What the listen descriptor is differs:
 *   user-space engine  the datagram socket .woof/dispatch.sock; the next
 *                      put with a handler after an arm sends one datagram;
 *   kernel engine      (woof_ns_engine() == WOOF_ENGINE_KERNEL) a descriptor
 *                      of the namespace device /dev/woof/<ns>; woof.ko
 *                      appends the triggers and poll() reports EPOLLIN while
 *                      the log holds triggers beyond the point the last arm
 *                      reached. recv() does not work on it.
 * So a dispatcher waits for POLLIN only, and empties the descriptor with
 * woof_triggers_drain() (never recv() or read() of its own) before it scans.
 * Claims and done_floor go through the module's TRIGGER_CLAIM and
 * TRIGGER_DONE on a kernel-served namespace; consuming triggers there needs
 * the device open for writing (-EACCES otherwise).
 */
#ifndef WOOF_DISPATCH_H
#define WOOF_DISPATCH_H

#include <sys/types.h>
#include <woof.h>

#ifdef __cplusplus
extern "C" {
#endif

struct woof_triggers;

/* Open (creating it if needed) the trigger log of @ns. */
WOOF_API int woof_triggers_open(struct woof_ns *ns, struct woof_triggers **tp);
WOOF_API void woof_triggers_close(struct woof_triggers *t);

/*
 * Forget what this process keeps of @ns's files: every cached WOOF mapping
 * (unmapped once no handle holds it), the trigger log's mapping and the
 * owner token (so append locks this process held in @ns's WOOFs become a
 * dead holder's, which the next appender takes over). For a dispatcher
 * that stops serving a namespace whose files were damaged under it
 * (dispatcherd's fence). Only when no other thread uses @ns, and after
 * woof_triggers_close() of its log. The next use maps the files afresh.
 */
WOOF_API void woof_ns_reset(struct woof_ns *ns);

/*
 * Open @name below the directory @dirfd (a namespace or its .woof/) never
 * through a symbolic link at any component (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS; before Linux 5.6, single components with
 * O_NOFOLLOW). With O_CREAT an existing file is opened without it (so
 * fs.protected_regular does not refuse another user's file in a sticky
 * directory) and a new one gets exactly @mode and @dirfd's group: the
 * permission model of Documentation/dispatcherd.md. O_CLOEXEC always.
 * A descriptor, or -errno: -ELOOP when @name (or a component) is a link.
 */
WOOF_API int woof_ns_openat(int dirfd, const char *name, int flags, mode_t mode);

/* Highest trigger number appended so far, and the finished floor. */
WOOF_API uint64_t woof_triggers_latest(const struct woof_triggers *t);
WOOF_API uint64_t woof_triggers_done_floor(const struct woof_triggers *t);
WOOF_API uint64_t woof_triggers_history(const struct woof_triggers *t);

/*
 * Copy trigger entry @tseq. -ERANGE: not appended yet; -ENODATA: no longer
 * retained (cannot happen above done_floor: the log never wraps over an
 * unfinished entry).
 */
WOOF_API int woof_triggers_read(struct woof_triggers *t, uint64_t tseq,
				struct woof_trigger *out);

/*
 * Every entry <= @floor is finished. The floor only moves forward (a lower
 * value is ignored); moving it wakes appenders waiting for room.
 */
WOOF_API int woof_triggers_set_done_floor(struct woof_triggers *t, uint64_t floor);

/*
 * A descriptor to sleep on (non-blocking, close-on-exec; the caller owns
 * it and closes it): POLLIN means "new triggers". User-space engine: binds
 * the namespace's dispatch socket (.woof/dispatch.sock, replacing the one
 * there: hold .woof/dispatcherd.lock first), SOCK_DGRAM. Kernel engine: a
 * new descriptor of /dev/woof/<ns>, open for writing.
 */
WOOF_API int woof_triggers_listen(struct woof_triggers *t);

/*
 * Before sleeping on the listen descriptor: returns 1 if entries after
 * @seen exist (do not sleep), 0 when armed (the next trigger makes the
 * descriptor readable).
 */
WOOF_API int woof_triggers_arm(struct woof_triggers *t, uint64_t seen);

/*
 * Empty the listen descriptor @fd after it became readable (datagrams, or
 * the device's pending trigger records), so that the next poll() sleeps
 * until the next arm is crossed. Returns 0 or -errno.
 */
WOOF_API int woof_triggers_drain(struct woof_triggers *t, int fd);

/* What woof_trigger_claim() found. */
struct woof_claim {
	uint64_t element_size;	/* bytes copied to the caller's buffer */
	bool already_claimed;	/* a claim before this one cleared PENDING: a redelivery */
	uint64_t woof_latest;	/* the WOOF's latest sequence number then */
};

/*
 * Claim the element of trigger @tseq (entry @tr): check that the element
 * committed with this trigger, copy it to @el (@el_size bytes available),
 * and clear its PENDING bit, waking appenders that wait for the slot.
 * Returns 0, or:
 *   -EAGAIN     a put to that WOOF is in flight (its appender holds the
 *               lock; it may be stopped): try again later (user-space
 *               engine only);
 *   -ECANCELED  orphan: the put died before committing; nothing to run;
 *   -ESTALE     the WOOF was re-created since the put;
 *   -ENOENT     the WOOF was removed;
 *   -ENODATA    the element was overwritten before its handler read it
 *               (WOOF_F_OVERWRITE; counted in the WOOF's overruns), or after
 *               an earlier claim (a redelivery of a call that had started);
 *   -EMSGSIZE   @el_size is smaller than the element (claim->element_size
 *               says how large it is);
 *   -EACCES     kernel engine: the namespace device is not writable for us;
 *   -EIO        the WOOF's file is shorter than this process's mapping of it
 *               (cut short behind libwoof's back): damage, not a failed call.
 */
WOOF_API int woof_trigger_claim(struct woof_ns *ns, uint64_t tseq,
				const struct woof_trigger *tr, void *el, size_t el_size,
				struct woof_claim *claim);

#ifdef __cplusplus
}
#endif
#endif /* WOOF_DISPATCH_H */
