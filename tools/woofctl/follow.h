/* SPDX-License-Identifier: MIT */
/*
 * follow.h - what "woofctl logs -f" and "woofctl woof tail -f" share:
 * stopping on SIGINT, SIGTERM and SIGHUP, and sleeping until the WOOF they
 * follow grows.
 *
 * A stop signal sets a flag that the loops check (follow_stopped()) before
 * every read and every sleep. A signal that comes once a loop has decided
 * to sleep (its output flushed: between follow_sleep_begin() and
 * follow_sleep_end(), or inside follow_wait()) exits at once with EXIT_OK
 * from the handler: nothing is lost then, and no signal can slip in between
 * the check and the sleep.
 */
#ifndef WOOFCTL_FOLLOW_H
#define WOOFCTL_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include <woof.h>

/* from now on SIGINT, SIGTERM and SIGHUP stop following (no SA_RESTART) */
void follow_catch_signals(void);

/* a stop signal came */
bool follow_stopped(void);

/*
 * The output is flushed and the caller is about to sleep: false when a stop
 * signal came already, else true, and until follow_sleep_end() a stop
 * signal exits at once.
 */
bool follow_sleep_begin(void);
void follow_sleep_end(void);

/*
 * Sleep until @w has an element after @seen, the output flushed: 0 when
 * there may be one (also after an interruption that was no stop), -EINTR
 * when a stop signal came, else woof_wait()'s -errno (-ESTALE: the WOOF
 * was re-created or removed).
 */
int follow_wait(struct woof *w, uint64_t seen);

#endif
