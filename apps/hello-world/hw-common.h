/*
 * hw-common.h - argument handling shared by hw-start and hw-client:
 * -W NAME (or -f NAME) names the WOOF, -N DIR the namespace. With -N the
 * WOOF is addressed by its woof:// URI, as a program outside the
 * namespace would.
 */
#ifndef HW_COMMON_H
#define HW_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hw_args {
	char woof[4096];	/* what to pass to WooF* calls */
};

static inline void hw_parse_args(int argc, char **argv, const char *prog,
				 struct hw_args *a)
{
	const char *name = NULL, *ns = NULL;
	int c;

	while ((c = getopt(argc, argv, "f:N:W:")) != -1) {
		switch (c) {
		case 'f':
		case 'W':
			name = optarg;
			break;
		case 'N':
			ns = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s -W woof_name [-N namespace_dir]\n", prog);
			exit(2);
		}
	}
	if (!name || !name[0]) {
		fprintf(stderr, "%s: a WOOF name is needed (-W name)\n", prog);
		fprintf(stderr, "usage: %s -W woof_name [-N namespace_dir]\n", prog);
		exit(2);
	}
	if (ns) {
		if (setenv("WOOFC_DIR", ns, 1) < 0) {
			perror("setenv");
			exit(1);
		}
		snprintf(a->woof, sizeof(a->woof), "woof://%s/%s", ns, name);
	} else {
		snprintf(a->woof, sizeof(a->woof), "%s", name);
	}
}

#endif
