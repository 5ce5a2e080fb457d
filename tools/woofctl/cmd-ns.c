/* SPDX-License-Identifier: MIT */
/*
 * cmd-ns.c - the "ns" (namespace) object: init.
 *
 * ns init with --owner/--group also brings an existing namespace into the
 * permission model (Documentation/dispatcherd.md, "Who owns a namespace"):
 * the directory and its .woof/ get the owner, the group and mode 3770
 * (setgid, sticky; others keep their r-x bits), every WOOF and the shared
 * bookkeeping files the group and its write bit. Nothing is reached
 * through a symbolic link.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "woofctl.h"

struct ns_fix {
	unsigned int woofs, meta;
};

/* Give the regular file @name below @dirfd group @gid and at least @bits (if a WOOF, with @woof). */
static int fix_file(int dirfd, const char *name, gid_t gid, mode_t bits, bool woof_only,
		    bool *done)
{
	struct stat st;
	uint64_t magic = 0;
	int fd;

	*done = false;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? 0 : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (woof_only && (pread(fd, &magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
			  magic != WOOF_FORMAT_MAGIC)) {
		close(fd);
		return 0;
	}
	if ((st.st_gid != gid && fchown(fd, (uid_t)-1, gid) < 0) ||
	    ((st.st_mode & bits) != bits && fchmod(fd, (st.st_mode & 07777) | bits) < 0)) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	*done = true;
	return 0;
}

/* The directory @fd: owner @uid, group @gid, 3770 plus its others' r-x. */
static int fix_dir(int fd, uid_t uid, gid_t gid)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, 03770 | (st.st_mode & 0005)) < 0)
		return -errno;
	return 0;
}

static int ns_apply_model(const char *dir, const char *owner, const char *group,
			  uid_t *uidp, gid_t *gidp, struct ns_fix *fx)
{
	static const char *const meta_shared[] = { WOOF_OWNERS_FILE, WOOF_TRIGGERS_FILE, NULL };
	static const char *const meta_own[] = { WOOF_CALLS_FILE, WOOF_LOG_FILE, WOOF_STATUS_FILE,
						WOOF_DISPATCHERD_LOCK, NULL };
	struct stat st;
	struct dirent *de;
	uint32_t id;
	bool done;
	DIR *d;
	int fd, mfd, ret;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	*uidp = st.st_uid;
	*gidp = st.st_gid;
	if (owner) {
		if (!parse_id(owner, false, &id)) {
			ret = -ESRCH;
			goto out;
		}
		*uidp = id;
	}
	if (group) {
		if (!parse_id(group, true, &id)) {
			ret = -ESRCH;
			goto out;
		}
		*gidp = id;
	}
	ret = fix_dir(fd, *uidp, *gidp);
	if (ret)
		goto out;
	mfd = openat(fd, WOOF_NS_META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd < 0) {
		ret = errno == ENOTDIR ? -ELOOP : -errno;
		goto out;
	}
	ret = fix_dir(mfd, *uidp, *gidp);
	for (const char *const *f = meta_shared; !ret && *f; f++) {
		ret = fix_file(mfd, *f, *gidp, 0660, false, &done);
		fx->meta += done;
	}
	for (const char *const *f = meta_own; !ret && *f; f++) {
		ret = fix_file(mfd, *f, *gidp, 0040, false, &done);
		fx->meta += done;
	}
	if (!ret && fstatat(mfd, WOOF_DISPATCH_SOCK, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode)) {
		if (fchownat(mfd, WOOF_DISPATCH_SOCK, (uid_t)-1, *gidp, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(mfd, WOOF_DISPATCH_SOCK, 0660, AT_SYMLINK_NOFOLLOW) < 0)
			ret = -errno;
		else
			fx->meta++;
	}
	close(mfd);
	if (ret)
		goto out;
	mfd = dup(fd);
	d = mfd >= 0 ? fdopendir(mfd) : NULL;
	if (!d) {
		ret = -errno;
		if (mfd >= 0)
			close(mfd);
		goto out;
	}
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		ret = fix_file(fd, de->d_name, *gidp, 0660, true, &done);
		fx->woofs += done;
	}
	closedir(d);
out:
	close(fd);
	return ret;
}

/* woofctl ns init [--owner USER] [--group GROUP] DIR */
int cmd_ns_init(struct woofctl *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "owner", required_argument, NULL, 'o' },
		{ "group", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir, *path, *owner = NULL, *group = NULL;
	struct ns_fix fx = { 0, 0 };
	struct woof_ns *ns;
	uid_t uid = 0;
	gid_t gid = 0;
	int c, err;

	while ((c = cmd_getopt(ctx, argc, argv, "", longopts)) != -1) {
		switch (c) {
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
	if (!cmd_nargs(ctx, argc - optind, 1, 1))
		return EXIT_USAGE;
	dir = argv[optind];
	if (!*dir)
		return usage_error(ctx, "DIR is empty");
	if (owner && !*owner)
		return usage_error(ctx, "--owner is empty");
	if (group && !*group)
		return usage_error(ctx, "--group is empty");

	err = woof_ns_init(dir, 0);
	if (err == -ELOOP)
		return fail_msg("ns init %s: %s/.woof is a symbolic link: remove it (and move the "
				"real .woof back, if it was moved)", dir, dir);
	if (err)
		return fail(err, "ns init %s", dir);
	if (owner || group) {
		err = ns_apply_model(dir, owner, group, &uid, &gid, &fx);
		if (err == -ESRCH)
			return fail_msg("ns init %s: no such %s", dir,
					owner && !parse_id(owner, false, &(uint32_t){ 0 }) ?
					"user" : "group");
		if (err)
			return fail(err, "ns init %s: setting owner, group and modes", dir);
	}
	/* open it to learn (and show) the absolute path */
	err = woof_ns_open(dir, &ns);
	if (err)
		return fail(err, "ns init %s: opening the new namespace", dir);
	path = woof_ns_path(ns);

	if (ctx->json) {
		struct json *j = out_json_begin(ctx);

		json_kv_str(j, "namespace", path);
		json_kv_str(j, "engine", engine_str(woof_ns_engine(ns)));
		if (owner || group) {
			json_kv_u64(j, "owner", uid);
			json_kv_u64(j, "group", gid);
			json_kv_u64(j, "woofs_fixed", fx.woofs);
		}
		out_json_end(ctx);
	} else {
		printf("initialized namespace %s\n", path);
		if (owner || group)
			printf("owner %u, group %u, mode 3770 (.woof too); %u WOOF%s and %u "
			       "bookkeeping file%s given the group and its write bit\n",
			       (unsigned)uid, (unsigned)gid, fx.woofs, fx.woofs == 1 ? "" : "s",
			       fx.meta, fx.meta == 1 ? "" : "s");
	}
	woof_ns_close(ns);
	return EXIT_OK;
}
