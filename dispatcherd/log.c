/* SPDX-License-Identifier: MIT */
/*
 * log.c - dispatcherd's own messages: one line each on stderr, with a
 * level. Under systemd (JOURNAL_STREAM set) lines carry the "<N>" prefix
 * the journal turns into a priority; elsewhere "dispatcherd: LEVEL: ".
 * Also the clocks every file uses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatcherd.h"

int log_level = L_NOTICE;

static const char *level_name(int level)
{
	switch (level) {
	case L_ERR: return "error";
	case L_WARN: return "warning";
	case L_NOTICE: return "notice";
	case L_INFO: return "info";
	default: return "debug";
	}
}

void dlog(int level, const char *fmt, ...)
{
	static int journal = -1;
	char buf[2048];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal)
		n = snprintf(buf, sizeof(buf), "<%d>", level);
	else
		n = snprintf(buf, sizeof(buf), "dispatcherd: %s: ", level_name(level));
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(buf);
	buf[n++] = '\n';
	/* one write per line, so lines of concurrent writers do not mix */
	fwrite(buf, 1, (size_t)n, stderr);
	fflush(stderr);
}

uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
