// SPDX-License-Identifier: MIT
/*
 * test-fs.c - NS_MOUNT refuses directories on file systems woof.ko is not
 * tested on (-EOPNOTSUPP: 9p, ramfs, ...) and on read-only mounts
 * (-EROFS), touching nothing in them; after the refusals a namespace on a
 * tested file system ($WOOF_KT_DIR) mounts, serves a WOOF and unmounts,
 * so no refusal left a lock held (test-kmod.sh then unloads the module).
 *
 * Usage: test-fs DIR ERRNO [DIR ERRNO...]   ERRNO: EOPNOTSUPP or EROFS
 */
#include "kmod-test.h"

static int errno_of(const char *name)
{
	if (!strcmp(name, "EOPNOTSUPP"))
		return EOPNOTSUPP;
	if (!strcmp(name, "EROFS"))
		return EROFS;
	printf("Bail out! unknown errno name %s\n", name);
	exit(1);
}

static uint32_t ns_count(int ctl)
{
	struct woof_version v;

	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	if (ioctl(ctl, WOOF_IOC_VERSION, &v) < 0)
		kt_die("VERSION");
	return v.ns_count;
}

/* Mount a namespace on the tested file system, use it, unmount it. */
static void good_mount(const char *when)
{
	struct woof_open o;
	struct kt_ns ns;
	uint64_t el = 42, seq = 0;
	int nsfd, fd;

	kt_ns_setup(&ns, "fsok");
	nsfd = kt_ns_open(&ns, O_RDWR);
	fd = kt_create(nsfd, "w", 8, 4, 0, 0, &o);
	KT_OK(fd >= 0, "%s: CREATE on a namespace on a tested file system", when);
	KT_ZERO(kt_append(fd, &el, 8, NULL, 0, &seq), "%s: APPEND", when);
	KT_OK(seq == 1, "%s: ... seq 1", when);
	if (fd >= 0)
		close(fd);
	close(nsfd);
	KT_ZERO(kt_umount(ns.ctl, ns.name, 0), "%s: NS_UMOUNT", when);
	close(ns.ctl);
}

int main(int argc, char **argv)
{
	char name[64], dev[128], meta[1024];
	struct stat st;
	uint32_t before;
	int ctl, i, round;

	kt_prog = "test-fs";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || argc % 2 != 1) {
		fprintf(stderr, "usage: test-fs DIR ERRNO [DIR ERRNO...]\n");
		return 2;
	}
	ctl = kt_control();
	/* twice: a refusal must leave nothing behind that breaks the next one */
	for (round = 1; round <= 2; round++) {
		for (i = 1; i + 1 < argc; i += 2) {
			int err = errno_of(argv[i + 1]);

			before = ns_count(ctl);
			snprintf(name, sizeof(name), "kt-fs-%d-%d", round, i);
			snprintf(dev, sizeof(dev), WOOF_DEV_DIR "/%s", name);
			snprintf(meta, sizeof(meta), "%s/" WOOF_NS_META_DIR, argv[i]);
			KT_ERR(kt_mount(ctl, name, argv[i], 0600, 0, 0), err,
			       "round %d: NS_MOUNT of %s: %s", round, argv[i], argv[i + 1]);
			KT_OK(stat(dev, &st) < 0 && errno == ENOENT, "... no %s", dev);
			KT_OK(stat(meta, &st) < 0 && errno == ENOENT, "... no .woof made in %s",
			      argv[i]);
			KT_OK(ns_count(ctl) == before, "... namespaces mounted: still %u", before);
		}
		good_mount(round == 1 ? "after the refusals" : "after the refusals again");
	}
	close(ctl);
	return kt_done();
}
