/* SPDX-License-Identifier: MIT */
/*
 * woof-shepherd.h - the shepherd's steps as functions (lib/shepherd.c),
 * shared by the two places that turn a trigger into a call of a CSPOT
 * handler function `int h(WOOF *wf, unsigned long seq_no, void *element)`:
 *
 *   - the exec runtime's handler programs: shepherd.c's main() (in
 *     libwoof-shepherd.a) looks the function up in the program itself;
 *   - dispatcherd's woof-runner (zygote and warm runtimes): the function is
 *     looked up in the handler's shared object NAME.so, once, and called
 *     in a forked child (zygote) or in the worker process itself (warm).
 *
 * Both use the same look-up rules, the same WOOF set-up (WooFOpen of the
 * WOOF the element was put to, in $WOOFC_DIR) and the same exit convention:
 *
 *   0    the function returned >= 0
 *   1    it returned < 0
 *   2    the call could not be set up (no element, bad environment, the
 *        WOOF cannot be opened)
 *   127  no such function (or not defined where it must be)
 *
 * with a one-line reason on stderr for 2 and 127. Not installed: an
 * interface between libwoof's shepherd and dispatcherd, not for users.
 */
#ifndef WOOF_SHEPHERD_H
#define WOOF_SHEPHERD_H

#include <stdbool.h>
#include <stddef.h>

#include "woofc.h"

typedef int (*woof_handler_fn)(WOOF *wf, unsigned long seq_no, void *element);

#define WOOF_SHEPHERD_OK	0
#define WOOF_SHEPHERD_FAILED	1
#define WOOF_SHEPHERD_SETUP	2
#define WOOF_SHEPHERD_NOFN	127

struct woof_shepherd {
	const char *prog;	/* prefix of messages on stderr */
	woof_handler_fn fn;	/* set by woof_shepherd_find() */
	/*
	 * keep_open: keep the last WOOF open between calls (a warm worker
	 * calls many times; a re-created or removed WOOF is opened again).
	 * Otherwise each call opens and frees its WOOF, as CSPOT did.
	 */
	bool keep_open;
	WOOF *wf;
	char woof[WOOF_NAME_MAX + 1];
};

/*
 * woof_shepherd_find() - find the handler function @name.
 * @dl: NULL: in the program itself (it must be linked with
 *      -Wl,--export-dynamic; a same-named function of a library does not
 *      count); else a dlopen() handle: the function must be defined in
 *      that shared object (not in one of its dependencies).
 * Returns WOOF_SHEPHERD_OK, or WOOF_SHEPHERD_NOFN with the reason written
 * to @why (if not NULL).
 */
int woof_shepherd_find(struct woof_shepherd *s, void *dl, const char *name, char *why,
		       size_t why_len);

/*
 * woof_shepherd_call() - open the WOOF @woof (a name in $WOOFC_DIR) and
 * call s->fn(wf, @seq, @el); flush stdout and stderr. Returns the exit
 * convention's 0, 1 or 2 (2: the WOOF cannot be opened; reason on
 * stderr); *@ret (if not NULL) gets the function's return value.
 */
int woof_shepherd_call(struct woof_shepherd *s, const char *woof, unsigned long seq,
		       void *el, int *ret);

/* Drop a WOOF kept open by keep_open. */
void woof_shepherd_close(struct woof_shepherd *s);

/*
 * woof_shepherd_read_element() - read a whole element from @fd (a file,
 * read from offset 0) into a new malloc()ed buffer. 0 or -errno.
 */
int woof_shepherd_read_element(int fd, void **el, size_t *size);

/* Open @woof now and keep it (keep_open) for the call to come. 0 or -errno. */
int woof_shepherd_open(struct woof_shepherd *s, const char *woof);

/*
 * Spares: handler programs started ahead of their call (exec runtime).
 *
 * libwoof-shepherd.a's main() carries an ELF note (section
 * .note.woof.spare: owner "woof", type WOOF_SPARE_NOTE_TYPE, descriptor
 * WOOF_SPARE_NOTE_DESC). dispatcherd reads it from the program file and
 * only then may start the program before a call, with the call's
 * environment left out and $WOOF_SPARE_FD naming a SOCK_SEQPACKET socket.
 * The program loads, finds its function and opens $WOOF_SPARE_WOOF (a
 * hint: the WOOF of the handler's last call), then waits on that socket
 * for one packet: the call's environment as "WOOF_CALL_...=VALUE" strings,
 * each ending in a NUL byte (at most WOOF_SPARE_PACKET_MAX bytes), with
 * the element's fd attached (SCM_RIGHTS), which becomes fd 3. From there
 * it is the call exec would have started. End of file instead of a packet
 * means dispatcherd retired the spare: it exits 0 and runs nothing.
 * Programs without the note (scripts, other mains) are started per call.
 * A new protocol gets a new descriptor; dispatcherd knows which it speaks.
 */
#define WOOF_SPARE_NOTE_NAME	"woof"
#define WOOF_SPARE_NOTE_TYPE	0x53u
#define WOOF_SPARE_NOTE_DESC	"spare-1"	/* 8 bytes with its NUL */
#define WOOF_SPARE_PACKET_MAX	4096

#endif
