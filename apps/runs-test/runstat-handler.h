/* SPDX-License-Identifier: MIT */
/*
 * runstat-handler.h - what RHandler, SHandler and KHandler do first: find
 * the run's base name from the WOOF they were triggered on, load the run's
 * configuration from BASE.cfg, and check the element size of every WOOF
 * they will read (WooFGet/WooFRead copy element_size bytes, so a WOOF of
 * another size must never reach them).
 *
 * Handlers report problems on stderr (dispatcherd keeps it per call) and
 * return -1; they return 1 when they are done, as CSPOT's handlers do.
 */
#ifndef RUNSTAT_HANDLER_H
#define RUNSTAT_HANDLER_H

#include <stdio.h>

#include "woofc.h"
#include "runstat.h"

/* 0 when the WOOF @name exists with elements of @size bytes. */
static inline int runstat_check_size(const char *who, const char *name, unsigned long size)
{
	unsigned long have = WooFGetElSize(name);

	if (have == (unsigned long)-1) {
		fprintf(stderr, "%s: WOOF %s is missing\n", who, name);
		return -1;
	}
	if (have != size) {
		fprintf(stderr, "%s: WOOF %s has %lu-byte elements, expected %lu\n", who, name,
			have, size);
		return -1;
	}
	return 0;
}

/*
 * Base name of the run from @wf (whose name must end in @suffix) into
 * @base, and the run's configuration into @cfg. 0 or -1.
 */
static inline int runstat_handler_setup(const char *who, WOOF *wf, const char *suffix,
					char *base, size_t blen, RUNSTAT_CFG *cfg)
{
	char name[RUNSTAT_NAME_MAX];
	const char *why;

	if (runstat_base_of(wf->shared->filename, suffix, base, blen) < 0) {
		fprintf(stderr, "%s: triggered on WOOF %s, whose name does not end in %s\n", who,
			wf->shared->filename, suffix);
		return -1;
	}
	if (runstat_name(name, sizeof(name), base, RUNSTAT_SUFFIX_CFG) < 0 ||
	    runstat_check_size(who, name, sizeof(*cfg)) < 0)
		return -1;
	if (WooFGet(name, cfg, 1) < 0) {
		fprintf(stderr, "%s: cannot read the configuration in %s\n", who, name);
		return -1;
	}
	why = runstat_cfg_check(cfg);
	if (why) {
		fprintf(stderr, "%s: %s: %s\n", who, name, why);
		return -1;
	}
	return 0;
}

#endif /* RUNSTAT_HANDLER_H */
