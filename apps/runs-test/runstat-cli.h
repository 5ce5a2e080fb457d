/* SPDX-License-Identifier: MIT */
/*
 * runstat-cli.h - option helpers shared by runstat-start, runstat-wait and
 * runstat-local: strict number parsing and the run's WOOF names. With
 * -N DIR the namespace is DIR (WOOFC_DIR is set to it and the WOOFs are
 * addressed by woof:// URIs, as a program outside the namespace would);
 * without it, the current namespace ($WOOFC_DIR or the current directory).
 */
#ifndef RUNSTAT_CLI_H
#define RUNSTAT_CLI_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runstat.h"

/* @arg as an unsigned decimal in [@min, @max], or exit 2 naming @opt. */
static inline uint64_t runstat_parse_u64(const char *prog, char opt, const char *arg,
					 uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "%s: -%c %s: expected a number from %llu to %llu\n", prog, opt,
			arg, (unsigned long long)min, (unsigned long long)max);
		exit(2);
	}
	return v;
}

struct runstat_names {
	char prefix[PATH_MAX + 16];	/* "" or "woof://ABS-NS-DIR/" */
	char base[RUNSTAT_BASE_MAX + 1];
};

/* Set up @n for base @base in namespace @ns (NULL: the current one); exits on error. */
static inline void runstat_names_init(const char *prog, struct runstat_names *n,
				      const char *base, const char *ns)
{
	char abs[PATH_MAX];

	if (!base || !base[0]) {
		fprintf(stderr, "%s: a base name is needed (-W base)\n", prog);
		exit(2);
	}
	if (strlen(base) > RUNSTAT_BASE_MAX || strchr(base, '/')) {
		fprintf(stderr, "%s: -W %s: a base name is a plain WOOF name of at most %d bytes\n",
			prog, base, RUNSTAT_BASE_MAX);
		exit(2);
	}
	snprintf(n->base, sizeof(n->base), "%s", base);
	n->prefix[0] = 0;
	if (!ns)
		return;
	if (!realpath(ns, abs)) {
		fprintf(stderr, "%s: -N %s: %s\n", prog, ns, strerror(errno));
		exit(1);
	}
	if (setenv("WOOFC_DIR", abs, 1) < 0) {
		perror("setenv");
		exit(1);
	}
	snprintf(n->prefix, sizeof(n->prefix), "woof://%s/", abs);
}

/* The full name of the run's WOOF with @suffix; exits when it does not fit. */
static inline const char *runstat_woof(const struct runstat_names *n, const char *suffix,
				       char *buf, size_t len)
{
	int l = snprintf(buf, len, "%s%s%s", n->prefix, n->base, suffix);

	if (l < 0 || (size_t)l >= len) {
		fprintf(stderr, "runs-test: the WOOF name %s%s%s is too long\n", n->prefix,
			n->base, suffix);
		exit(1);
	}
	return buf;
}

#endif /* RUNSTAT_CLI_H */
