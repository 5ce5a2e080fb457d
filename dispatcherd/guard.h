/* SPDX-License-Identifier: MIT */
/*
 * guard.h - faults in the mappings of a namespace's files fence that
 * namespace instead of killing dispatcherd (guard.c).
 */
#ifndef WOOF_DISPATCHERD_GUARD_H
#define WOOF_DISPATCHERD_GUARD_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;

/* What the last fault was, for the fence's reason. */
struct guard_fault {
	int sig;		/* SIGBUS or SIGSEGV */
	int code;		/* si_code */
	uintptr_t addr;		/* si_addr */
	int ns;			/* index into the daemon's namespaces */
	char file[256];		/* the mapped file, from /proc/self/maps */
	unsigned long long ino;	/* its inode: the name it was mapped by may be gone */
};

/* Install the SIGBUS/SIGSEGV handler. 0 or -errno. */
int guard_init(struct daemon *d);

/*
 * Arm the recovery point @jb (set with sigsetjmp(jb, 1) just before):
 * from now on a fault on a mapping of a file below one of the served
 * namespaces' directories returns there (sigsetjmp returns 1). Any other
 * fault keeps its default action (the daemon dies with a core, as before).
 */
void guard_arm(sigjmp_buf *jb);
void guard_disarm(void);
/* After sigsetjmp returned 1: the fault (the guard is disarmed). */
const struct guard_fault *guard_last(void);
/* Describe @f in @buf ("SIGBUS ... in its mapping of .woof/triggers ..."): outside the handler */
void guard_describe(const struct guard_fault *f, const char *nspath, char *buf, size_t len);

#endif
