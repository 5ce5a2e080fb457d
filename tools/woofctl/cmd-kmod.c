/* SPDX-License-Identifier: MIT */
/*
 * cmd-kmod.c - what woofctl asks woof.ko through /dev/woof/control:
 * "features" (WOOF_IOC_VERSION) and the namespace commands "ns mount",
 * "ns umount" and "ns ls" (WOOF_IOC_NS_MOUNT, _NS_UMOUNT, _NS_LIST). See
 * Documentation/userspace-api.md for the ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/woof.h>

#include "woofctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * What to do about woof.ko not being loaded, as far as woofctl can tell:
 * whether this kernel loads modules at all (/proc/modules exists only with
 * CONFIG_MODULES), and whether a woof.ko is installed for it (a woof.ko
 * line in /lib/modules/RELEASE/modules.dep, written by depmod when
 * "make install-kmod" or DKMS installed it). $WOOFCTL_KMOD_ROOT prefixes
 * both paths (for tests).
 */
const char *kmod_advice(char *buf, size_t len)
{
	const char *root = getenv("WOOFCTL_KMOD_ROOT");
	char path[PATH_MAX], line[PATH_MAX + 64];
	struct utsname u;
	bool installed = false;
	FILE *f;

	if (!root)
		root = "";
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	snprintf(path, sizeof(path), "%s/proc/modules", root);
	if (access(path, F_OK) < 0) {
		snprintf(buf, len, "this kernel (%s) cannot load modules (CONFIG_MODULES is off); "
			 "woof.ko needs a kernel that can (the user-space engine needs none)",
			 u.release);
		return buf;
	}
	snprintf(path, sizeof(path), "%s/lib/modules/%s/modules.dep", root, u.release);
	f = fopen(path, "re");
	if (f) {
		while (!installed && fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':');
			char *base;

			if (!colon)
				continue;
			*colon = '\0';
			base = strrchr(line, '/');
			base = base ? base + 1 : line;
			installed = !strncmp(base, "woof.ko", 7) &&
				    (base[7] == '\0' || base[7] == '.');
		}
		fclose(f);
	}
	if (installed)
		snprintf(buf, len, "load woof.ko (modprobe woof)");
	else
		snprintf(buf, len, "woof.ko is not installed for this kernel (%s): install it "
			 "(make install-kmod, or DKMS: Documentation/kmod-install.md), then "
			 "modprobe woof", u.release);
	return buf;
}

int kmod_control_open(int *fdp)
{
	int fd = open(WOOF_CONTROL_DEV, O_RDONLY | O_CLOEXEC);
	char advice[512];

	*fdp = -1;
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT || err == ENODEV || err == ENXIO)
			return fail_msg("%s not found: %s", WOOF_CONTROL_DEV,
					kmod_advice(advice, sizeof(advice)));
		return fail_sys(err, "opening %s", WOOF_CONTROL_DEV);
	}
	*fdp = fd;
	return EXIT_OK;
}

bool kmod_ns_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > WOOF_NS_NAME_MAX || name[0] == '.' || name[0] == '-' ||
	    !strcmp(name, "control"))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

static int bad_ns_name(const char *what, const char *name)
{
	return fail_msg("%s: invalid namespace name '%s': 1..%u characters of "
			"[A-Za-z0-9_.-], not starting with '.' or '-', not \"control\"",
			what, name, WOOF_NS_NAME_MAX);
}

/* ---- features ------------------------------------------------------------------- */

/* the WOOF_FEAT_* bits by the names the uapi header gives them */
#define FEAT(bit) { bit, #bit }
static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
	FEAT(WOOF_FEAT_NS),
	FEAT(WOOF_FEAT_WOOF),
	FEAT(WOOF_FEAT_MMAP),
	FEAT(WOOF_FEAT_APPEND),
	FEAT(WOOF_FEAT_BATCH),
	FEAT(WOOF_FEAT_WAIT),
	FEAT(WOOF_FEAT_TRIGGERS),
	FEAT(WOOF_FEAT_BACKPRESSURE),
	FEAT(WOOF_FEAT_GENL),
	FEAT(WOOF_FEAT_TRACE),
	FEAT(WOOF_FEAT_SET_FLAGS),
	FEAT(WOOF_FEAT_NS_STAT),
};

/* The name of feature bit @bit, or NULL when this woofctl does not know it. */
static const char *feature_name(unsigned int bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(feature_names); i++)
		if (feature_names[i].bit == 1ULL << bit)
			return feature_names[i].name;
	return NULL;
}

/* woofctl features */
int cmd_features(struct woofctl *ctx, int argc, char **argv)
{
	struct woof_version v = { .size = sizeof(v) };
	int ret = cmd_no_options(ctx, argc, argv);
	int fd;

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	ret = kmod_control_open(&fd);
	if (ret)
		return ret;
	if (ioctl(fd, WOOF_IOC_VERSION, &v) < 0) {
		ret = fail_sys(errno, "features: WOOF_IOC_VERSION on %s", WOOF_CONTROL_DEV);
		close(fd);
		return ret;
	}
	close(fd);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_u64(j, "api_version", v.api_version);
		json_kv_u64(j, "format_version", v.format_version);
		json_kv_u64(j, "features_mask", v.features);
		json_key(j, "features");
		json_arr_open(j);
		for (unsigned int b = 0; b < 64; b++)
			if ((v.features & (1ULL << b)) && feature_name(b))
				json_str(j, feature_name(b));
		json_arr_close(j);
		json_key(j, "unknown_bits");
		json_arr_open(j);
		for (unsigned int b = 0; b < 64; b++)
			if ((v.features & (1ULL << b)) && !feature_name(b))
				json_u64(j, b);
		json_arr_close(j);
		json_kv_u64(j, "ns_max", v.ns_max);
		json_kv_u64(j, "ns_count", v.ns_count);
		out_json_end(ctx);
		return EXIT_OK;
	}
	printf("woof.ko api %u, format %u, %u of %u namespaces mounted\n",
	       v.api_version, v.format_version, v.ns_count, v.ns_max);
	for (unsigned int b = 0; b < 64; b++) {
		if (!(v.features & (1ULL << b)))
			continue;
		if (feature_name(b))
			printf("%s\n", feature_name(b));
		else
			printf("bit %u\n", b);
	}
	return EXIT_OK;
}

/* ---- ns mount ----------------------------------------------------------------------- */

static const char *user_name(uint32_t uid)
{
	struct passwd *p = getpwuid(uid);

	return p ? p->pw_name : NULL;
}

static const char *group_name(uint32_t gid)
{
	struct group *g = getgrgid(gid);

	return g ? g->gr_name : NULL;
}

/* woofctl ns mount DIR NAME [--mode MODE] [--owner USER] [--group GROUP] */
int cmd_ns_mount(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "owner", required_argument, NULL, 'o' },
		{ "group", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	struct woof_ns_mount m = { .size = sizeof(m) };
	const char *mode_arg = NULL, *owner = NULL, *group = NULL;
	const char *dir, *name;
	char path[PATH_MAX], dev[sizeof(WOOF_DEV_DIR) + WOOF_NS_NAME_MAX + 1];
	int c, fd, dfd, err;

	while ((c = cmd_getopt(ctx, argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'm':
			mode_arg = optarg;
			break;
		case 'o':
			owner = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 2, 2))
		return EXIT_USAGE;
	dir = argv[optind];
	name = argv[optind + 1];
	if (mode_arg) {
		char *end;
		unsigned long mode;

		errno = 0;
		mode = strtoul(mode_arg, &end, 8);
		if (!*mode_arg || *end || errno || mode > 0777 || mode_arg[0] == '-' ||
		    mode_arg[0] == '+')
			return usage_error(ctx, "--mode '%s' is not an octal mode 0..0777",
					   mode_arg);
		m.mode = (uint32_t)mode;
	} else {
		m.mode = 0600;
	}
	m.uid = geteuid();
	m.gid = getegid();
	if (owner && !parse_id(owner, false, &m.uid))
		return fail_msg("ns mount: no such user '%s'", owner);
	if (group && !parse_id(group, true, &m.gid))
		return fail_msg("ns mount: no such group '%s'", group);
	if (!kmod_ns_name_ok(name))
		return bad_ns_name("ns mount", name);
	memcpy(m.name, name, strlen(name) + 1);

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail_sys(errno, "ns mount: %s", dir);
	if (!realpath(dir, path))
		snprintf(path, sizeof(path), "%s", dir);
	err = kmod_control_open(&fd);
	if (err) {
		close(dfd);
		return err;
	}
	m.dirfd = dfd;
	if (ioctl(fd, WOOF_IOC_NS_MOUNT, &m) < 0) {
		struct woof_version v = { .size = sizeof(v) };

		err = errno;
		/* ENOSPC: the namespace table, or DIR's file system (the trigger log)? */
		if (err == ENOSPC && ioctl(fd, WOOF_IOC_VERSION, &v) == 0 && v.ns_count < v.ns_max)
			err = -ENOSPC;
		close(fd);
		close(dfd);
		switch (err) {
		case EPERM:
			return fail_msg("ns mount %s %s: %s: needs CAP_SYS_ADMIN (run as root)",
					dir, name, strerror(err));
		case EEXIST:
			return fail_msg("ns mount %s %s: a namespace named '%s' is mounted "
					"already", dir, name, name);
		case EBUSY:
			return fail_msg("ns mount %s %s: %s is mounted already under another "
					"name (see woofctl ns ls)", dir, name, path);
		case ENOSPC:
			return fail_msg("ns mount %s %s: too many namespaces mounted (%u)", dir,
					name, v.ns_count);
		case -ENOSPC:
			return fail_msg("ns mount %s %s: %s: the file system of %s has no room for "
					"the trigger log %s/%s (%llu bytes)", dir, name,
					strerror(ENOSPC), path, WOOF_NS_META_DIR, WOOF_TRIGGERS_FILE,
					(unsigned long long)WOOF_FILE_SIZE(sizeof(struct woof_trigger),
									   WOOF_TRIGGERS_HISTORY));
		case EOPNOTSUPP:
			return fail_msg("ns mount %s %s: woof.ko cannot serve this file system",
					dir, name);
		case EBADMSG:
			return fail_msg("ns mount %s %s: %s/.woof or .woof/triggers is not what it "
					"should be", dir, name, path);
		default:
			return fail_sys(err, "ns mount %s %s", dir, name);
		}
	}
	close(fd);
	close(dfd);
	snprintf(dev, sizeof(dev), "%s/%s", WOOF_DEV_DIR, name);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);
		char ms[8];

		snprintf(ms, sizeof(ms), "%04o", m.mode);
		json_kv_str(j, "name", name);
		json_kv_str(j, "path", path);
		json_kv_str(j, "device", dev);
		json_kv_u64(j, "dev_major", m.dev_major);
		json_kv_u64(j, "dev_minor", m.dev_minor);
		json_kv_u64(j, "uid", m.uid);
		json_kv_u64(j, "gid", m.gid);
		json_kv_u64(j, "mode", m.mode);
		json_kv_str(j, "mode_string", ms);
		out_json_end(ctx);
	} else {
		printf("mounted %s as %s (device %u:%u, mode %04o, owner %u, group %u)\n",
		       path, dev, m.dev_major, m.dev_minor, m.mode, m.uid, m.gid);
	}
	return EXIT_OK;
}

/* ---- ns umount --------------------------------------------------------------------------- */

/* woofctl ns umount NAME [--detach] */
int cmd_ns_umount(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct woof_ns_umount u = { .size = sizeof(u) };
	const char *name;
	int c, fd, err;

	while ((c = cmd_getopt(ctx, argc, argv, "", longopts)) != -1) {
		switch (c) {
		case 'd':
			u.flags |= WOOF_UMOUNT_DETACH;
			break;
		case OPT_HELP:
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	name = argv[optind];
	if (!kmod_ns_name_ok(name))
		return bad_ns_name("ns umount", name);
	memcpy(u.name, name, strlen(name) + 1);
	err = kmod_control_open(&fd);
	if (err)
		return err;
	if (ioctl(fd, WOOF_IOC_NS_UMOUNT, &u) < 0) {
		err = errno;
		close(fd);
		switch (err) {
		case EPERM:
			return fail_msg("ns umount %s: %s: needs CAP_SYS_ADMIN (run as root)",
					name, strerror(err));
		case ENOENT:
			return fail_msg("ns umount %s: no namespace of that name is mounted",
					name);
		case EBUSY:
			return fail_msg("ns umount %s: in use (open descriptors of %s/%s or of "
					"its WOOFs); close them or use --detach",
					name, WOOF_DEV_DIR, name);
		default:
			return fail_sys(err, "ns umount %s", name);
		}
	}
	close(fd);
	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "name", name);
		json_kv_bool(j, "detach", u.flags & WOOF_UMOUNT_DETACH);
		out_json_end(ctx);
	} else {
		printf("unmounted %s\n", name);
	}
	return EXIT_OK;
}

/* ---- ns ls ----------------------------------------------------------------------------- */

/*
 * Entries asked for in the first WOOF_IOC_NS_LIST; when the count it
 * returns says more are mounted, the array grows and the call is repeated.
 */
#define NS_LIST_FIRST	4

/* All mounted namespaces into *@vp (malloc'd), their number in *@np. */
static int ns_list(int fd, struct woof_ns_info **vp, uint32_t *np)
{
	struct woof_ns_info *v = NULL;
	uint32_t cap = NS_LIST_FIRST;

	for (;;) {
		struct woof_ns_list l = {
			.size = sizeof(l),
			.count = cap,
			.entry_size = sizeof(*v),
		};
		struct woof_ns_info *nv = realloc(v, (size_t)cap * sizeof(*v));

		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		v = nv;
		l.entries = (uint64_t)(uintptr_t)v;
		if (ioctl(fd, WOOF_IOC_NS_LIST, &l) < 0) {
			int err = -errno;

			free(v);
			return err;
		}
		if (l.count <= cap) {
			*vp = v;
			*np = l.count;
			return 0;
		}
		/* more were mounted than fit: room for them and a few more */
		cap = l.count + NS_LIST_FIRST;
	}
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct woof_ns_info *)a)->name,
		      ((const struct woof_ns_info *)b)->name);
}

/* woofctl ns ls */
int cmd_ns_ls(struct woofctl *ctx, int argc, char **argv)
{
	struct woof_ns_info *v = NULL;
	uint32_t n = 0;
	int ret = cmd_no_options(ctx, argc, argv);
	int fd, err;

	if (ret >= 0)
		return ret;
	if (!cmd_nargs(ctx, argc - optind, 0, 0))
		return EXIT_USAGE;
	ret = kmod_control_open(&fd);
	if (ret)
		return ret;
	err = ns_list(fd, &v, &n);
	close(fd);
	if (err)
		return fail_sys(err, "ns ls: WOOF_IOC_NS_LIST on %s", WOOF_CONTROL_DEV);
	qsort(v, n, sizeof(*v), cmp_info);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_key(j, "namespaces");
		json_arr_open(j);
		for (uint32_t i = 0; i < n; i++) {
			const struct woof_ns_info *e = &v[i];
			const char *un = user_name(e->uid), *gn = group_name(e->gid);
			char dev[sizeof(WOOF_DEV_DIR) + WOOF_NS_NAME_MAX + 1], ms[8];

			snprintf(dev, sizeof(dev), "%s/%.*s", WOOF_DEV_DIR,
				 (int)WOOF_NS_NAME_MAX, e->name);
			snprintf(ms, sizeof(ms), "%04o", e->mode & 07777);
			json_obj_open(j);
			json_kv_str(j, "name", e->name);
			json_kv_str(j, "path", e->path);
			json_kv_bool(j, "path_truncated", e->flags & WOOF_NSI_PATH_TRUNC);
			json_kv_str(j, "device", dev);
			json_kv_u64(j, "dev_major", e->dev_major);
			json_kv_u64(j, "dev_minor", e->dev_minor);
			json_kv_u64(j, "uid", e->uid);
			json_key(j, "owner");
			un ? json_str(j, un) : json_null(j);
			json_kv_u64(j, "gid", e->gid);
			json_key(j, "group");
			gn ? json_str(j, gn) : json_null(j);
			json_kv_u64(j, "mode", e->mode);
			json_kv_str(j, "mode_string", ms);
			json_kv_u64(j, "woofs", e->woofs);
			json_kv_u64(j, "users", e->users);
			json_obj_close(j);
		}
		json_arr_close(j);
		json_kv_u64(j, "count", n);
		out_json_end(ctx);
	} else if (n) {	/* nothing at all when none is mounted, like woof ls */
		printf("%-16s %-8s %-5s %-10s %-10s %6s %6s  %s\n", "NAME", "DEVICE", "MODE",
		       "OWNER", "GROUP", "WOOFS", "USERS", "DIR");
		for (uint32_t i = 0; i < n; i++) {
			const struct woof_ns_info *e = &v[i];
			const char *un = user_name(e->uid), *gn = group_name(e->gid);
			char dev[24], ub[16], gb[16];

			snprintf(dev, sizeof(dev), "%u:%u", e->dev_major, e->dev_minor);
			snprintf(ub, sizeof(ub), "%u", e->uid);
			snprintf(gb, sizeof(gb), "%u", e->gid);
			printf("%-16s %-8s %04o  %-10s %-10s %6" PRIu64 " %6" PRIu64 "  %s%s\n",
			       e->name, dev, e->mode & 07777, un ? un : ub, gn ? gn : gb,
			       (uint64_t)e->woofs, (uint64_t)e->users, e->path,
			       e->flags & WOOF_NSI_PATH_TRUNC ? "..." : "");
		}
	}
	free(v);
	return EXIT_OK;
}
