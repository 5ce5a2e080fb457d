/* SPDX-License-Identifier: MIT */
/*
 * follow.c - stopping and sleeping for "woofctl logs -f" and "woofctl woof
 * tail -f" (see follow.h).
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "follow.h"
#include "woofctl.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t sleeping;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (sleeping)
		_exit(EXIT_OK);
	stop_requested = 1;
}

void follow_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };	/* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool follow_stopped(void)
{
	return stop_requested;
}

bool follow_sleep_begin(void)
{
	sleeping = 1;
	if (stop_requested) {
		sleeping = 0;
		return false;
	}
	return true;
}

void follow_sleep_end(void)
{
	sleeping = 0;
}

int follow_wait(struct woof *w, uint64_t seen)
{
	int err;

	if (!follow_sleep_begin())
		return -EINTR;
	err = woof_wait(w, seen, -1);
	follow_sleep_end();
	if (err == -EINTR || err == -ETIMEDOUT)
		return stop_requested ? -EINTR : 0;
	return err;
}
