/* SPDX-License-Identifier: MIT */
/*
 * test-ioctl.c - every error path of woof.ko's ioctls, with the output
 * structs poisoned (0xcc) first: a failing call must leave them untouched,
 * a succeeding one must write its out fields. Also: size rules (too small,
 * too large, non-zero tail), unknown flags, non-zero reserved fields, bad
 * names (empty, '.', '..', '/', control characters, too long), wrong
 * element size, bad pointers, permissions (non-root, read-only fds, device
 * node mode), non-WOOF files and symbolic links in the namespace, the
 * behaviour of fds after a detaching unmount, and taking a file over from
 * a user-space appender holding its lock word (dead: repaired; alive: EBUSY).
 */
#include "kmod-test.h"

#define POISON32 0xccccccccU
#define POISON64 0xccccccccccccccccULL

static struct kt_ns ns;

/* @s with control characters as \xNN, for test descriptions. */
static const char *vis(const char *s)
{
	static char buf[4][64];
	static int k;
	char *o = buf[k++ & 3];
	size_t n = 0;

	for (; *s && n < 56; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			n += snprintf(o + n, 64 - n, "\\x%02x", (unsigned char)*s);
		else
			o[n++] = *s;
	}
	o[n] = 0;
	return o;
}

/* ---- control device ---- */

static void test_version(int ctl)
{
	struct { struct woof_version v; uint64_t tail[4]; } big;
	struct woof_version v;

	KT_ERR(ioctl(ctl, _IOWR(WOOF_IOC_TYPE, 0x3f, struct woof_version), &v), ENOTTY,
	       "unknown ioctl on the control device: ENOTTY");
	KT_ERR(ioctl(ctl, WOOF_IOC_VERSION, NULL), EFAULT, "VERSION NULL: EFAULT");

	kt_poison(&v, sizeof(v));
	v.size = sizeof(v) - 8;
	v.flags = 0;
	memset(v.reserved, 0, sizeof(v.reserved));
	KT_ERR(ioctl(ctl, WOOF_IOC_VERSION, &v), EINVAL, "VERSION size too small: EINVAL");
	KT_OK(v.api_version == POISON32 && v.features == POISON64, "... output untouched");
	v.size = 8192;
	KT_ERR(ioctl(ctl, WOOF_IOC_VERSION, &v), E2BIG, "VERSION size > page: E2BIG");
	v.size = sizeof(v);
	v.flags = 1;
	KT_ERR(ioctl(ctl, WOOF_IOC_VERSION, &v), EINVAL, "VERSION flags: EINVAL");
	v.flags = 0;
	v.reserved[3] = 1;
	KT_ERR(ioctl(ctl, WOOF_IOC_VERSION, &v), EINVAL, "VERSION reserved: EINVAL");
	KT_OK(v.api_version == POISON32 && v.ns_count == POISON32, "... output untouched");

	kt_poison(&big, sizeof(big));
	big.v.size = sizeof(big);
	big.v.flags = 0;
	memset(big.v.reserved, 0, sizeof(big.v.reserved));
	memset(big.tail, 0, sizeof(big.tail));
	big.tail[2] = 1;
	KT_ERR(ioctl(ctl, WOOF_IOC_VERSION, &big), E2BIG, "VERSION larger struct, non-zero tail: E2BIG");
	big.tail[2] = 0;
	KT_ZERO(ioctl(ctl, WOOF_IOC_VERSION, &big), "VERSION larger struct, zero tail: ok");
	KT_OK(big.v.api_version == WOOF_KAPI_VERSION && big.tail[0] == 0 && big.tail[3] == 0,
	      "... known part written, tail left alone");
	KT_OK(big.v.reserved[0] == 0 && big.v.reserved[3] == 0, "... reserved written as zero");
}

static int as_nobody(void *arg, int i)
{
	struct kt_ns *n = arg;
	struct woof_ns_mount m;
	int ctl, fd;

	(void)i;
	if (setgid(65534) || setuid(65534))
		return 10;
	ctl = open(WOOF_CONTROL_DEV, O_RDWR);
	if (ctl < 0)
		return 11;			/* control is 0666 */
	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.dirfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	strcpy(m.name, "nobody");
	if (ioctl(ctl, WOOF_IOC_NS_MOUNT, &m) != -1 || errno != EPERM)
		return 12;
	if (kt_umount(ctl, n->name, WOOF_UMOUNT_DETACH) != -1 || errno != EPERM)
		return 13;
	fd = open(n->dev, O_RDONLY);
	if (fd >= 0 || errno != EACCES)
		return 14;			/* the namespace node is 0660 root:root */
	return 0;
}

static void test_mount(int ctl)
{
	struct woof_ns_mount m;
	char dir2[300], file[300], long_name[64];
	struct stat st;
	int dfd, ffd;

	snprintf(dir2, sizeof(dir2), "%s/sub", ns.dir);
	mkdir(dir2, 0755);
	snprintf(file, sizeof(file), "%s/plain", ns.dir);
	ffd = open(file, O_RDWR | O_CREAT, 0644);
	dfd = open(dir2, O_RDONLY | O_DIRECTORY);

#define MOUNT_INIT(nm)                                                           \
	do {                                                                     \
		kt_poison(&m, sizeof(m));                                        \
		m.size = sizeof(m);                                              \
		m.flags = 0;                                                     \
		m.dirfd = dfd;                                                   \
		m.mode = 0640;                                                   \
		m.uid = 0;                                                       \
		m.gid = 0;                                                       \
		memset(m.reserved, 0, sizeof(m.reserved));                      \
		memset(m.name, 0, sizeof(m.name));                              \
		memcpy(m.name, nm, strnlen(nm, sizeof(m.name) - 1));            \
	} while (0)

	MOUNT_INIT("kt-m1");
	m.size = 16;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EINVAL, "NS_MOUNT size 16: EINVAL");
	KT_OK(m.dev_major == POISON32 && m.dev_minor == POISON32, "... dev out fields untouched");
	MOUNT_INIT("kt-m1");
	m.flags = 4;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EINVAL, "NS_MOUNT flags: EINVAL");
	MOUNT_INIT("kt-m1");
	m.reserved[1] = 9;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EINVAL, "NS_MOUNT reserved: EINVAL");
	MOUNT_INIT("kt-m1");
	m.mode = 01777;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EINVAL, "NS_MOUNT mode with sticky bit: EINVAL");
	MOUNT_INIT("kt-m1");
	m.uid = (uint32_t)-1;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EINVAL, "NS_MOUNT uid -1: EINVAL");
	MOUNT_INIT("kt-m1");
	m.dirfd = -1;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EBADF, "NS_MOUNT dirfd -1: EBADF");
	MOUNT_INIT("kt-m1");
	m.dirfd = ffd;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), ENOTDIR, "NS_MOUNT dirfd of a file: ENOTDIR");
	{
		static const char *bad[] = { "", ".hidden", "..", "-dash", "control", "a/b",
					     "a b", "tab\t", "semi;colon" };
		unsigned int i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			MOUNT_INIT(bad[i]);
			KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EINVAL,
			       "NS_MOUNT name \"%s\": EINVAL", vis(bad[i]));
		}
	}
	MOUNT_INIT("x");
	memset(m.name, 'n', sizeof(m.name));
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), ENAMETOOLONG,
	       "NS_MOUNT name without NUL: ENAMETOOLONG");
	memset(long_name, 'n', 63);
	long_name[63] = 0;
	MOUNT_INIT(long_name);
	KT_ZERO(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), "NS_MOUNT 63-byte name, mode 0640");
	KT_OK(m.dev_major != POISON32 && m.dev_minor != POISON32, "... dev out fields written");
	snprintf(file, sizeof(file), WOOF_DEV_DIR "/%s", long_name);
	KT_OK(stat(file, &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0640 &&
	      major(st.st_rdev) == m.dev_major && minor(st.st_rdev) == m.dev_minor,
	      "/dev/woof/<name> exists: char device, mode 0640, the numbers returned");
	MOUNT_INIT("kt-other");
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EBUSY,
	       "NS_MOUNT of a directory already mounted: EBUSY");
	close(dfd);
	dfd = open(ns.dir, O_RDONLY | O_DIRECTORY);
	MOUNT_INIT(long_name);
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), EEXIST, "NS_MOUNT of a name in use: EEXIST");
	KT_ZERO(kt_umount(ctl, long_name, 0), "NS_UMOUNT of an idle namespace");
	KT_OK(stat(file, &st) < 0 && errno == ENOENT, "... its device node is gone");

	/* owner and group from the mount */
	close(dfd);
	dfd = open(dir2, O_PATH | O_DIRECTORY);
	MOUNT_INIT("kt-owned");
	m.uid = 65534;
	m.gid = 65534;
	m.mode = 0;
	KT_ZERO(ioctl(ctl, WOOF_IOC_NS_MOUNT, &m), "NS_MOUNT with an O_PATH dirfd, uid/gid 65534, mode 0");
	KT_OK(stat(WOOF_DEV_DIR "/kt-owned", &st) == 0 && st.st_uid == 65534 &&
	      st.st_gid == 65534 && (st.st_mode & 07777) == 0600,
	      "device node owned 65534:65534, mode 0 means 0600");
	KT_ZERO(kt_umount(ctl, "kt-owned", 0), "NS_UMOUNT kt-owned");
	close(dfd);
	close(ffd);

	KT_OK(kt_children(1, as_nobody, &ns) == 0,
	      "as uid 65534: NS_MOUNT and NS_UMOUNT EPERM, the 0660 node EACCES");
#undef MOUNT_INIT
}

static void test_umount_list(int ctl)
{
	struct woof_ns_umount u;
	struct woof_ns_list l;
	struct woof_ns_info info[4];
	int i, found = -1, nsfd;
	uint32_t total;

	kt_poison(&u, sizeof(u));
	u.size = sizeof(u);
	u.flags = 0;
	memset(u.reserved, 0, sizeof(u.reserved));
	memset(u.name, 0, sizeof(u.name));
	strcpy(u.name, "kt-no-such");
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_UMOUNT, &u), ENOENT, "NS_UMOUNT unknown name: ENOENT");
	u.flags = 2;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_UMOUNT, &u), EINVAL, "NS_UMOUNT flags: EINVAL");
	u.flags = 0;
	u.reserved[2] = 1;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_UMOUNT, &u), EINVAL, "NS_UMOUNT reserved: EINVAL");
	u.reserved[2] = 0;
	strcpy(u.name, "a/b");
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_UMOUNT, &u), EINVAL, "NS_UMOUNT bad name: EINVAL");
	nsfd = kt_ns_open(&ns, O_RDONLY);
	strcpy(u.name, ns.name);
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_UMOUNT, &u), EBUSY, "NS_UMOUNT while the device is open: EBUSY");
	close(nsfd);

	kt_poison(&l, sizeof(l));
	l.size = sizeof(l);
	l.flags = 0;
	l.count = 0;
	l.entry_size = 0;
	l.entries = 0;
	l.reserved[0] = l.reserved[1] = 0;
	KT_ZERO(ioctl(ctl, WOOF_IOC_NS_LIST, &l), "NS_LIST count 0: how many");
	KT_OK(l.count >= 1 && l.count != POISON32, "... %u namespaces", l.count);
	total = l.count;
	l.count = 4;
	l.entry_size = sizeof(struct woof_ns_info) - 8;
	l.entries = (uintptr_t)info;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_LIST, &l), EINVAL, "NS_LIST entry_size too small: EINVAL");
	l.entry_size = sizeof(struct woof_ns_info);
	l.entries = 8;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_LIST, &l), EFAULT, "NS_LIST bad pointer: EFAULT");
	l.flags = 1;
	l.entries = (uintptr_t)info;
	KT_ERR(ioctl(ctl, WOOF_IOC_NS_LIST, &l), EINVAL, "NS_LIST flags: EINVAL");
	l.flags = 0;
	kt_poison(info, sizeof(info));
	KT_ZERO(ioctl(ctl, WOOF_IOC_NS_LIST, &l), "NS_LIST into 4 entries");
	KT_OK(l.count == total, "... count %u", l.count);
	for (i = 0; i < 4 && i < (int)l.count; i++)
		if (!strcmp(info[i].name, ns.name))
			found = i;
	KT_OK(found >= 0, "our namespace is listed");
	if (found >= 0) {
		KT_OK(!strcmp(info[found].path, ns.dir) && info[found].mode == 0660 &&
		      info[found].uid == 0 && info[found].flags == 0 &&
		      info[found].reserved[0] == 0,
		      "its entry: path %s, mode 0%o", info[found].path, info[found].mode);
	}
	if (l.count < 4)
		KT_OK(kt_is_poison(&info[l.count], sizeof(info[0])), "entries past count untouched");
}

/* ---- namespace device ---- */

static void open_init(struct woof_open *o, const char *name, uint32_t flags)
{
	kt_poison(o, sizeof(*o));
	o->size = sizeof(*o);
	o->flags = flags;
	o->element_size = 8;
	o->history_size = 4;
	o->woof_flags = 0;
	o->mode = 0;
	memset(o->reserved, 0, sizeof(o->reserved));
	memset(o->name, 0, sizeof(o->name));
	snprintf(o->name, sizeof(o->name), "%s", name);
}

static void test_create_open(int nsfd, int ronsfd)
{
	static const char *bad[] = { "", ".", "..", ".woof", ".hidden", "a/b", "/abs", "../up",
				     "ctl\x01", "del\x7f", "new\nline", WOOF_NS_CONF_FILE };
	char path[512], target[512];
	struct woof_open o;
	unsigned int i;
	int fd;

	KT_ERR(ioctl(nsfd, _IOWR(WOOF_IOC_TYPE, 0x2f, struct woof_open), &o), ENOTTY,
	       "unknown ioctl on a namespace device: ENOTTY");
	KT_ERR(ioctl(nsfd, WOOF_IOC_NS_MOUNT, &o), ENOTTY, "control ioctl on a namespace: ENOTTY");

#define CREATE_FAILS(err, ...)                                                        \
	do {                                                                          \
		KT_ERR(ioctl(nsfd, WOOF_IOC_CREATE, &o), err, __VA_ARGS__);           \
		if (o.fd != (int32_t)POISON32 || o.latest != POISON64)                \
			KT_OK(0, "... output written on failure");                    \
	} while (0)

	open_init(&o, "w", 0);
	o.size = sizeof(o) - 4;
	CREATE_FAILS(EINVAL, "CREATE size too small: EINVAL");
	open_init(&o, "w", 1U << 5);
	CREATE_FAILS(EINVAL, "CREATE unknown flag: EINVAL");
	open_init(&o, "w", WOOF_CREATE_F_EXCL | WOOF_CREATE_F_RESET);
	CREATE_FAILS(EINVAL, "CREATE EXCL|RESET: EINVAL");
	open_init(&o, "w", 0);
	o.reserved[3] = 1;
	CREATE_FAILS(EINVAL, "CREATE reserved: EINVAL");
	open_init(&o, "w", 0);
	o.woof_flags = 1U << 7;
	CREATE_FAILS(EINVAL, "CREATE unknown WOOF_F_ flag: EINVAL");
	open_init(&o, "w", 0);
	o.mode = 04644;
	CREATE_FAILS(EINVAL, "CREATE setuid mode: EINVAL");
	open_init(&o, "w", 0);
	o.element_size = 0;
	CREATE_FAILS(EINVAL, "CREATE element_size 0: EINVAL");
	open_init(&o, "w", 0);
	o.element_size = WOOF_ELEMENT_SIZE_MAX + 1;
	CREATE_FAILS(EINVAL, "CREATE element_size > max: EINVAL");
	open_init(&o, "w", 0);
	o.history_size = 0;
	CREATE_FAILS(EINVAL, "CREATE history 0: EINVAL");
	open_init(&o, "w", 0);
	o.history_size = WOOF_HISTORY_MAX + 1;
	CREATE_FAILS(EINVAL, "CREATE history > max: EINVAL");
	open_init(&o, "w", 0);
	o.element_size = WOOF_ELEMENT_SIZE_MAX;
	o.history_size = WOOF_HISTORY_MAX;
	CREATE_FAILS(EFBIG, "CREATE 1 GiB x 2^40: EFBIG");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		open_init(&o, bad[i], 0);
		CREATE_FAILS(EINVAL, "CREATE name \"%s\": EINVAL", vis(bad[i]));
	}
	open_init(&o, "x", 0);
	memset(o.name, 'x', sizeof(o.name));
	CREATE_FAILS(ENAMETOOLONG, "CREATE 256-byte name (no NUL): ENAMETOOLONG");
	open_init(&o, "w", 0);
	KT_ERR(ioctl(ronsfd, WOOF_IOC_CREATE, &o), EBADF, "CREATE on a read-only namespace fd: EBADF");
	KT_ERR(ioctl(nsfd, WOOF_IOC_CREATE, (void *)8), EFAULT, "CREATE bad pointer: EFAULT");

	/* what is already in the directory */
	snprintf(path, sizeof(path), "%s/notawoof", ns.dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	open_init(&o, "notawoof", 0);
	CREATE_FAILS(EEXIST, "CREATE over a file that is not a WOOF: EEXIST");
	open_init(&o, "notawoof", WOOF_CREATE_F_RESET);
	CREATE_FAILS(EEXIST, "CREATE RESET over a file that is not a WOOF: EEXIST");
	snprintf(path, sizeof(path), "%s/adir", ns.dir);
	mkdir(path, 0755);
	open_init(&o, "adir", 0);
	CREATE_FAILS(EEXIST, "CREATE over a directory: EEXIST");
	open_init(&o, "real", 0);
	fd = -1;
	KT_ZERO((fd = ioctl(nsfd, WOOF_IOC_CREATE, &o)), "CREATE real");
	fd = o.fd;
	KT_OK(o.fd >= 0 && o.element_size == 8 && o.history_size == 4 && o.latest == 0 &&
	      o.file_size == WOOF_FILE_SIZE(8, 4) && o.create_time_ns != POISON64 &&
	      o.reserved[0] == 0 && o.mode == 0,
	      "CREATE wrote every out field");
	KT_OK(fcntl(o.fd, F_GETFD) == 0, "without WOOF_OPEN_CLOEXEC the fd is not close-on-exec");
	close(fd);
	snprintf(path, sizeof(path), "%s/link", ns.dir);
	snprintf(target, sizeof(target), "%s/real", ns.dir);
	symlink(target, path);
	open_init(&o, "link", 0);
	CREATE_FAILS(EEXIST, "CREATE over a symbolic link (to a WOOF): EEXIST");

	/* OPEN */
#define OPEN_FAILS(err, ...)                                                          \
	do {                                                                          \
		KT_ERR(ioctl(nsfd, WOOF_IOC_OPEN, &o), err, __VA_ARGS__);             \
		if (o.fd != (int32_t)POISON32)                                        \
			KT_OK(0, "... output written on failure");                    \
	} while (0)
	open_init(&o, "real", 0);
	OPEN_FAILS(EINVAL, "OPEN with element_size set: EINVAL");
	open_init(&o, "real", 0);
	o.element_size = o.history_size = 0;
	o.mode = 0644;
	OPEN_FAILS(EINVAL, "OPEN with mode set: EINVAL");
	open_init(&o, "real", WOOF_CREATE_F_EXCL);
	o.element_size = o.history_size = 0;
	OPEN_FAILS(EINVAL, "OPEN with a CREATE flag: EINVAL");
	open_init(&o, "nosuch", 0);
	o.element_size = o.history_size = 0;
	OPEN_FAILS(ENOENT, "OPEN of a missing name: ENOENT");
	open_init(&o, "notawoof", 0);
	o.element_size = o.history_size = 0;
	OPEN_FAILS(EBADMSG, "OPEN of a file that is not a WOOF: EBADMSG");
	open_init(&o, "adir", 0);
	o.element_size = o.history_size = 0;
	OPEN_FAILS(EBADMSG, "OPEN of a directory: EBADMSG");
	open_init(&o, "link", 0);
	o.element_size = o.history_size = 0;
	OPEN_FAILS(ELOOP, "OPEN of a symbolic link: ELOOP (never followed)");
	open_init(&o, "..", 0);
	o.element_size = o.history_size = 0;
	OPEN_FAILS(EINVAL, "OPEN \"..\": EINVAL");
	open_init(&o, "real", 0);
	o.element_size = o.history_size = 0;
	KT_ERR(ioctl(ronsfd, WOOF_IOC_OPEN, &o), EBADF,
	       "OPEN for writing on a read-only namespace fd: EBADF");

	/* a WOOF whose file was cut short behind the kernel's back */
	{
		int cfd;
		struct woof_open c;

		fd = kt_create(nsfd, "cut", 64, 16, 0, 0, &c);
		close(fd);
		snprintf(path, sizeof(path), "%s/cut2", ns.dir);
		snprintf(target, sizeof(target), "%s/cut", ns.dir);
		/* a copy of its header with a short file */
		cfd = open(path, O_CREAT | O_RDWR, 0644);
		{
			struct woof_header h;
			int sfd = open(target, O_RDONLY);

			pread(sfd, &h, sizeof(h), 0);
			close(sfd);
			strcpy(h.filename, "cut2");
			h.state = 0;
			pwrite(cfd, &h, sizeof(h), 0);
			ftruncate(cfd, WOOF_FILE_SIZE(64, 16) - 1);
		}
		close(cfd);
		open_init(&o, "cut2", 0);
		o.element_size = o.history_size = 0;
		OPEN_FAILS(EBADMSG, "OPEN of a WOOF file shorter than its geometry: EBADMSG");
	}
#undef CREATE_FAILS
#undef OPEN_FAILS
}

static void test_remove(int nsfd, int ronsfd)
{
	struct woof_remove r;
	struct stat st;
	char path[512];

	kt_poison(&r, sizeof(r));
	r.size = sizeof(r);
	r.flags = 0;
	memset(r.reserved, 0, sizeof(r.reserved));
	memset(r.name, 0, sizeof(r.name));
	strcpy(r.name, "notawoof");
	KT_ERR(ioctl(nsfd, WOOF_IOC_REMOVE, &r), EBADMSG, "REMOVE of a file that is not a WOOF: EBADMSG");
	snprintf(path, sizeof(path), "%s/notawoof", ns.dir);
	KT_OK(stat(path, &st) == 0, "... and it is still there");
	strcpy(r.name, "link");
	KT_ERR(ioctl(nsfd, WOOF_IOC_REMOVE, &r), ELOOP, "REMOVE of a symbolic link: ELOOP");
	strcpy(r.name, "../x");
	KT_ERR(ioctl(nsfd, WOOF_IOC_REMOVE, &r), EINVAL, "REMOVE \"../x\": EINVAL");
	strcpy(r.name, "real");
	r.flags = 1;
	KT_ERR(ioctl(nsfd, WOOF_IOC_REMOVE, &r), EINVAL, "REMOVE flags: EINVAL");
	r.flags = 0;
	r.reserved[1] = 1;
	KT_ERR(ioctl(nsfd, WOOF_IOC_REMOVE, &r), EINVAL, "REMOVE reserved: EINVAL");
	r.reserved[1] = 0;
	KT_ERR(ioctl(ronsfd, WOOF_IOC_REMOVE, &r), EBADF, "REMOVE on a read-only namespace fd: EBADF");
	r.size = 8;
	KT_ERR(ioctl(nsfd, WOOF_IOC_REMOVE, &r), EINVAL, "REMOVE size 8: EINVAL");
}

static void test_triggers_errors(int nsfd, int ronsfd)
{
	struct woof_trigger_record rec;
	struct woof_trigger_claim c;
	struct woof_trigger_done d;
	struct woof_trigger_info ti;
	char buf[64];
	uint64_t el = 1;

	KT_ERR(read(nsfd, buf, sizeof(buf)), EINVAL, "read() of less than a trigger record: EINVAL");
	KT_ERR(read(ronsfd, &rec, sizeof(rec)), EBADF, "read() of triggers on a read-only fd: EBADF");
	fcntl(nsfd, F_SETFL, O_NONBLOCK);
	KT_ERR(read(nsfd, &rec, sizeof(rec)), EAGAIN, "O_NONBLOCK read() without triggers: EAGAIN");
	fcntl(nsfd, F_SETFL, 0);

	kt_poison(&ti, sizeof(ti));
	ti.size = sizeof(ti);
	ti.flags = 0;
	ti.reserved0 = 0;
	memset(ti.reserved, 0, sizeof(ti.reserved));
	KT_ZERO(ioctl(ronsfd, WOOF_IOC_TRIGGER_INFO, &ti), "TRIGGER_INFO on a read-only fd");
	KT_OK(ti.latest == 0 && ti.done_floor == 0 && ti.history == WOOF_TRIGGERS_HISTORY &&
	      ti.next == 1, "... empty log, history %llu, next 1", (unsigned long long)ti.history);
	ti.flags = 1;
	KT_ERR(ioctl(nsfd, WOOF_IOC_TRIGGER_INFO, &ti), EINVAL, "TRIGGER_INFO flags: EINVAL");

	kt_poison(&d, sizeof(d));
	d.size = sizeof(d);
	d.flags = 0;
	d.floor = 1;
	d.reserved[0] = d.reserved[1] = 0;
	KT_ERR(ioctl(nsfd, WOOF_IOC_TRIGGER_DONE, &d), ERANGE, "TRIGGER_DONE beyond latest: ERANGE");
	KT_ERR(ioctl(ronsfd, WOOF_IOC_TRIGGER_DONE, &d), EBADF, "TRIGGER_DONE on a read-only fd: EBADF");
	d.floor = 0;
	d.reserved[1] = 3;
	KT_ERR(ioctl(nsfd, WOOF_IOC_TRIGGER_DONE, &d), EINVAL, "TRIGGER_DONE reserved: EINVAL");

	kt_poison(&c, sizeof(c));
	c.size = sizeof(c);
	c.flags = 0;
	c.trigger = 0;
	c.element = (uintptr_t)&el;
	c.element_size = 8;
	c.reserved0 = 0;
	c.reserved[0] = c.reserved[1] = 0;
	KT_ERR(ioctl(nsfd, WOOF_IOC_TRIGGER_CLAIM, &c), EINVAL, "TRIGGER_CLAIM trigger 0: EINVAL");
	c.trigger = 5;
	KT_ERR(ioctl(nsfd, WOOF_IOC_TRIGGER_CLAIM, &c), ERANGE, "TRIGGER_CLAIM unknown trigger: ERANGE");
	KT_ERR(ioctl(ronsfd, WOOF_IOC_TRIGGER_CLAIM, &c), EBADF, "TRIGGER_CLAIM on a read-only fd: EBADF");
	c.reserved0 = 1;
	KT_ERR(ioctl(nsfd, WOOF_IOC_TRIGGER_CLAIM, &c), EINVAL, "TRIGGER_CLAIM reserved0: EINVAL");
	KT_OK(c.woof_seq == POISON64 && c.result == POISON32, "... claim output untouched");
}

/* NS_STAT: every field, on a read-write and a read-only device fd. */
static void test_ns_stat(int nsfd, int ronsfd)
{
	struct { struct woof_ns_stat s; uint64_t tail[2]; } big;
	struct woof_ns_stat s;
	struct stat dst, nst;

	if (stat(ns.dir, &dst) < 0 || fstat(nsfd, &nst) < 0)
		kt_die("stat the namespace");
	KT_ERR(ioctl(nsfd, WOOF_IOC_NS_STAT, NULL), EFAULT, "NS_STAT NULL: EFAULT");
	kt_poison(&s, sizeof(s));
	s.size = sizeof(s) - 8;
	s.flags = 0;
	memset(s.reserved, 0, sizeof(s.reserved));
	KT_ERR(ioctl(nsfd, WOOF_IOC_NS_STAT, &s), EINVAL, "NS_STAT size too small: EINVAL");
	s.size = 8192;
	KT_ERR(ioctl(nsfd, WOOF_IOC_NS_STAT, &s), E2BIG, "NS_STAT size > page: E2BIG");
	s.size = sizeof(s);
	s.flags = 1;
	KT_ERR(ioctl(nsfd, WOOF_IOC_NS_STAT, &s), EINVAL, "NS_STAT flags: EINVAL");
	s.flags = 0;
	for (int i = 0; i < 4; i++) {
		s.reserved[i] = 1;
		KT_ERR(ioctl(nsfd, WOOF_IOC_NS_STAT, &s), EINVAL, "NS_STAT reserved[%d]: EINVAL", i);
		s.reserved[i] = 0;
	}
	KT_OK(s.dir_ino == POISON64 && s.dir_dev_major == POISON32 && s.dir_dev_minor == POISON32 &&
	      s.dev_major == POISON32 && s.dev_minor == POISON32 && (unsigned char)s.name[0] == 0xcc,
	      "... NS_STAT output untouched by failures");
	memset(&big, 0, sizeof(big));
	big.s.size = sizeof(big);
	big.tail[1] = 1;
	KT_ERR(ioctl(nsfd, WOOF_IOC_NS_STAT, &big), E2BIG, "NS_STAT non-zero tail: E2BIG");
	big.tail[1] = 0;
	KT_ZERO(ioctl(nsfd, WOOF_IOC_NS_STAT, &big), "NS_STAT larger struct, zero tail");

	KT_ZERO(ioctl(ronsfd, WOOF_IOC_NS_STAT, &s), "NS_STAT on a read-only fd");
	KT_OK(s.size == sizeof(s) && s.flags == 0, "... size and flags as given");
	KT_OK(makedev(s.dir_dev_major, s.dir_dev_minor) == dst.st_dev,
	      "... dir_dev %u:%u is the directory's st_dev", s.dir_dev_major, s.dir_dev_minor);
	KT_OK(s.dir_ino == (uint64_t)dst.st_ino, "... dir_ino %llu is the directory's st_ino",
	      (unsigned long long)s.dir_ino);
	KT_OK(makedev(s.dev_major, s.dev_minor) == nst.st_rdev,
	      "... dev %u:%u is the node's st_rdev", s.dev_major, s.dev_minor);
	KT_OK(!strcmp(s.name, ns.name), "... name '%.63s'", s.name);
	KT_OK(s.reserved[0] == 0 && s.reserved[1] == 0 && s.reserved[2] == 0 && s.reserved[3] == 0,
	      "... reserved left 0");
	KT_OK(big.s.dir_ino == s.dir_ino && !strcmp(big.s.name, s.name) && big.tail[0] == 0,
	      "... the larger struct got the same, its tail untouched");
	kt_poison(&s, sizeof(s));
	s.size = sizeof(s);
	s.flags = 0;
	memset(s.reserved, 0, sizeof(s.reserved));
	KT_ZERO(ioctl(nsfd, WOOF_IOC_NS_STAT, &s), "NS_STAT on a read-write fd");
	KT_OK(s.dir_ino == (uint64_t)dst.st_ino && strnlen(s.name, sizeof(s.name)) < sizeof(s.name),
	      "... same answer, name NUL-terminated (padding zeroed)");
	KT_OK(s.name[sizeof(s.name) - 1] == 0 && (unsigned char)s.name[strlen(s.name) + 1] == 0,
	      "... the name array's tail is zeroed, not left poisoned");
	KT_ERR(ioctl(ns.ctl, WOOF_IOC_NS_STAT, &s), ENOTTY, "NS_STAT on the control device: ENOTTY");
}

/* ---- WOOF fds ---- */

static void append_init(struct woof_append *a, const void *el, uint64_t esize)
{
	kt_poison(a, sizeof(*a));
	a->size = sizeof(*a);
	a->flags = 0;
	a->element = (uintptr_t)el;
	a->element_size = esize;
	a->handler = 0;
	memset(a->reserved, 0, sizeof(a->reserved));
}

static void test_woof_fd(int nsfd)
{
	char longname[400], hname[300];
	struct woof_append_batch b;
	struct woof_append a;
	struct woof_wait w;
	struct woof_open o;
	uint64_t el[4] = { 1, 2, 3, 4 };
	int fd;

	fd = kt_open(nsfd, "real", 0, &o);
	KT_OK(fd >= 0, "OPEN real");
	KT_ERR(ioctl(fd, WOOF_IOC_CREATE, &o), ENOTTY, "namespace ioctl on a WOOF fd: ENOTTY");
	KT_ERR(ioctl(fd, _IO(WOOF_IOC_TYPE, 0x3e)), ENOTTY, "unknown ioctl on a WOOF fd: ENOTTY");

#define APPEND_FAILS(err, ...)                                                        \
	do {                                                                          \
		KT_ERR(ioctl(fd, WOOF_IOC_APPEND, &a), err, __VA_ARGS__);             \
		if (a.seq != POISON64)                                                \
			KT_OK(0, "... seq written on failure");                       \
	} while (0)
	append_init(&a, el, 16);
	APPEND_FAILS(EINVAL, "APPEND element_size 16 to a WOOF of 8: EINVAL");
	append_init(&a, el, 0);
	APPEND_FAILS(EINVAL, "APPEND element_size 0: EINVAL");
	append_init(&a, el, 8);
	a.flags = 2;
	APPEND_FAILS(EINVAL, "APPEND unknown flag: EINVAL");
	append_init(&a, el, 8);
	a.reserved[2] = 1;
	APPEND_FAILS(EINVAL, "APPEND reserved: EINVAL");
	append_init(&a, el, 8);
	a.size = 40;
	APPEND_FAILS(EINVAL, "APPEND size 40: EINVAL");
	append_init(&a, NULL, 8);
	APPEND_FAILS(EFAULT, "APPEND NULL element: EFAULT");
	append_init(&a, (void *)-4096L, 8);
	APPEND_FAILS(EFAULT, "APPEND kernel-space element pointer: EFAULT");
	append_init(&a, el, 8);
	a.handler = 16;
	APPEND_FAILS(EFAULT, "APPEND bad handler pointer: EFAULT");
	append_init(&a, el, 8);
	a.handler = (uintptr_t)"";
	APPEND_FAILS(EINVAL, "APPEND handler \"\": EINVAL");
	append_init(&a, el, 8);
	a.handler = (uintptr_t)".h";
	APPEND_FAILS(EINVAL, "APPEND handler \".h\": EINVAL");
	append_init(&a, el, 8);
	a.handler = (uintptr_t)"../h";
	APPEND_FAILS(EINVAL, "APPEND handler \"../h\": EINVAL");
	memset(longname, 'h', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	append_init(&a, el, 8);
	a.handler = (uintptr_t)longname;
	APPEND_FAILS(ENAMETOOLONG, "APPEND 399-byte handler name: ENAMETOOLONG");
	memset(hname, 'h', 255);
	hname[255] = 0;
	append_init(&a, el, 8);
	KT_ZERO(ioctl(fd, WOOF_IOC_APPEND, &a), "APPEND without handler");
	KT_OK(a.seq == 1 && a.reserved[0] == 0 && a.element_size == 8, "... seq 1, nothing else written");
	append_init(&a, el, 8);
	a.handler = (uintptr_t)hname;
	KT_ZERO(ioctl(fd, WOOF_IOC_APPEND, &a), "APPEND with a 255-byte handler name");
	KT_OK(a.seq == 2, "... seq 2");

	kt_poison(&b, sizeof(b));
	b.size = sizeof(b);
	b.flags = 0;
	b.elements = (uintptr_t)el;
	b.element_size = 8;
	b.handler = 0;
	b.count = 0;
	b.reserved[0] = b.reserved[1] = 0;
	KT_ERR(ioctl(fd, WOOF_IOC_APPEND_BATCH, &b), EINVAL, "APPEND_BATCH count 0: EINVAL");
	b.count = WOOF_BATCH_MAX + 1;
	KT_ERR(ioctl(fd, WOOF_IOC_APPEND_BATCH, &b), EINVAL, "APPEND_BATCH count > max: EINVAL");
	b.count = 4;
	b.element_size = 4;
	KT_ERR(ioctl(fd, WOOF_IOC_APPEND_BATCH, &b), EINVAL, "APPEND_BATCH wrong element size: EINVAL");
	b.element_size = 8;
	b.elements = 0;
	KT_ERR(ioctl(fd, WOOF_IOC_APPEND_BATCH, &b), EFAULT, "APPEND_BATCH NULL elements: EFAULT");
	KT_OK(b.done == POISON32 && b.first_seq == POISON64, "... batch output untouched");

	kt_poison(&w, sizeof(w));
	w.size = sizeof(w);
	w.flags = 1;
	w.seq = 0;
	w.timeout_ns = 0;
	w.reserved[0] = w.reserved[1] = 0;
	KT_ERR(ioctl(fd, WOOF_IOC_WAIT, &w), EINVAL, "WAIT flags: EINVAL");
	w.flags = 0;
	w.reserved[0] = 1;
	KT_ERR(ioctl(fd, WOOF_IOC_WAIT, &w), EINVAL, "WAIT reserved: EINVAL");
	KT_OK(w.latest == POISON64, "... latest untouched");
	close(fd);
#undef APPEND_FAILS
}

/*
 * After REMOVE (userspace-api.md, "WOOF fds"): what was appended stays
 * readable, so WAIT for a seq below the latest returns 0 with latest,
 * read() returns the latest once, and poll() reports EPOLLIN with
 * EPOLLERR|EPOLLHUP while the fd's mark is below the latest; anything that
 * would have to wait for more is ESTALE, and poll() says ERR|HUP alone.
 */
static void test_after_remove(int nsfd)
{
	struct pollfd p[2];
	struct woof_remove r;
	struct woof_wait w;
	struct woof_open o;
	struct kt_map m;
	uint64_t el = 5, seq = 0, val = 0, got = 0, buf = 0;
	int early, late, fd, i;

	fd = kt_create(nsfd, "gone", 8, 4, WOOF_CREATE_F_EXCL, 0, &o);
	KT_OK(fd >= 0, "CREATE gone");
	early = kt_open(nsfd, "gone", WOOF_OPEN_RDONLY, NULL);	/* mark 0 */
	for (i = 0; i < 3; i++)
		kt_append(fd, &el, 8, NULL, 0, &seq);
	late = kt_open(nsfd, "gone", WOOF_OPEN_RDONLY, NULL);	/* mark 3 */
	KT_OK(early >= 0 && late >= 0 && seq == 3, "3 appends, fds opened before and after");
	KT_ZERO(kt_map(fd, o.file_size, &m), "mmap gone");
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	snprintf(r.name, sizeof(r.name), "gone");
	KT_ZERO(ioctl(nsfd, WOOF_IOC_REMOVE, &r), "REMOVE gone");

	p[0].fd = early;
	p[1].fd = late;
	p[0].events = p[1].events = POLLIN;
	KT_OK(poll(p, 2, 0) == 2, "poll after REMOVE: both fds ready");
	KT_OK(p[0].revents == (POLLIN | POLLERR | POLLHUP),
	      "... mark below latest: POLLIN|POLLERR|POLLHUP (revents %#x)", p[0].revents);
	KT_OK(p[1].revents == (POLLERR | POLLHUP),
	      "... mark at latest: POLLERR|POLLHUP, no POLLIN (revents %#x)", p[1].revents);
	KT_OK(read(early, &buf, sizeof(buf)) == 8 && buf == 3, "read() after REMOVE: latest 3 once");
	KT_ERR(read(early, &buf, sizeof(buf)), ESTALE, "... then ESTALE");

	kt_poison(&w, sizeof(w));
	w.size = sizeof(w);
	w.flags = 0;
	w.seq = 1;
	w.timeout_ns = -1;
	w.reserved[0] = w.reserved[1] = 0;
	KT_ZERO(ioctl(fd, WOOF_IOC_WAIT, &w), "WAIT seq 1 after REMOVE: 0 (2 and 3 are there)");
	KT_OK(w.latest == 3, "... latest 3");
	w.seq = 3;
	KT_ERR(ioctl(fd, WOOF_IOC_WAIT, &w), ESTALE, "WAIT seq 3 (no limit) after REMOVE: ESTALE");
	KT_ERR(kt_append(fd, &el, 8, NULL, 0, &seq), ESTALE, "APPEND after REMOVE: ESTALE");
	KT_OK(kt_read(&m, 2, &val, &got) == 0 && got == 2 && val == 5,
	      "element 2 still readable from the mapping");
	munmap((void *)m.h, m.len);
	close(late);
	close(early);
	close(fd);
}

/* Mappings of a WOOF fd are never writable and never executable. */
static void test_mmap_prot(int nsfd)
{
	struct woof_open o;
	void *p;
	int fd;

	fd = kt_create(nsfd, "prot", 8, 4, 0, 0, &o);
	KT_OK(fd >= 0, "CREATE prot");
	KT_OK(mmap(NULL, o.file_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EPERM, "mmap PROT_READ|PROT_EXEC, MAP_SHARED: EPERM");
	KT_OK(mmap(NULL, o.file_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED &&
	      errno == EPERM, "mmap PROT_READ|PROT_EXEC, MAP_PRIVATE: EPERM");
	KT_OK(mmap(NULL, o.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EACCES, "mmap PROT_WRITE, MAP_SHARED: EACCES");
	p = mmap(NULL, o.file_size, PROT_READ, MAP_SHARED, fd, 0);
	KT_OK(p != MAP_FAILED, "mmap PROT_READ");
	if (p != MAP_FAILED) {
		KT_ERR(mprotect(p, o.file_size, PROT_READ | PROT_EXEC), EACCES,
		       "mprotect to PROT_EXEC later: EACCES");
		KT_ERR(mprotect(p, o.file_size, PROT_READ | PROT_WRITE), EACCES,
		       "mprotect to PROT_WRITE later: EACCES");
		munmap(p, o.file_size);
	}
	close(fd);
}

/* After a detaching unmount, open fds fail with ENODEV; the mapping stays. */
static void test_detach(void)
{
	struct kt_ns n2;
	struct woof_open o, o2;
	struct woof_wait w;
	struct kt_map m;
	uint64_t el = 42, seq, rd;
	int nsfd, fd;

	kt_ns_setup(&n2, "detach");
	nsfd = kt_ns_open(&n2, O_RDWR);
	fd = kt_create(nsfd, "d", 8, 4, 0, 0, &o);
	kt_append(fd, &el, 8, NULL, 0, &seq);
	if (fd < 0 || kt_map(fd, o.file_size, &m) < 0)
		kt_die("map d");
	KT_ERR(kt_umount(n2.ctl, n2.name, 0), EBUSY, "NS_UMOUNT with open fds: EBUSY");
	KT_ZERO(kt_umount(n2.ctl, n2.name, WOOF_UMOUNT_DETACH), "NS_UMOUNT DETACH with open fds");
	KT_ERR(kt_append(fd, &el, 8, NULL, 0, &seq), ENODEV, "APPEND after detach: ENODEV");
	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.seq = 5;
	w.timeout_ns = -1;
	KT_ERR(ioctl(fd, WOOF_IOC_WAIT, &w), ENODEV, "WAIT after detach: ENODEV (no hang)");
	KT_ERR(kt_open(nsfd, "d", 0, &o2), ENODEV, "OPEN on a detached namespace fd: ENODEV");
	{
		struct woof_ns_stat st = { .size = sizeof(st) };

		KT_ERR(ioctl(nsfd, WOOF_IOC_NS_STAT, &st), ENODEV,
		       "NS_STAT on a detached namespace fd: ENODEV");
	}
	KT_OK(kt_read(&m, 1, &rd, NULL) == 0 && rd == 42, "the mapping still reads");
	KT_OK(m.h->state == 0, "the header's WOOF_STATE_KERNEL is cleared");
	munmap((void *)m.h, m.len);
	close(fd);
	close(nsfd);
	close(n2.ctl);
}

/* A WOOF file as the user-space engine leaves it, with @lock in its lock word. */
static void write_woof_file(const char *dir, const char *name, uint64_t lock)
{
	struct woof_header *h = calloc(1, sizeof(*h));
	char path[512];
	int fd;

	h->magic = WOOF_FORMAT_MAGIC;
	h->version = WOOF_FORMAT_VERSION;
	h->header_size = WOOF_HEADER_SIZE;
	h->element_size = 8;
	h->history_size = 4;
	h->slot_size = WOOF_SLOT_SIZE(8);
	h->lock = lock;
	strcpy(h->filename, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_RDWR, 0664);
	if (fd < 0 || pwrite(fd, h, sizeof(*h), 0) != sizeof(*h) ||
	    ftruncate(fd, WOOF_FILE_SIZE(8, 4)))
		kt_die("write woof file");
	close(fd);
	free(h);
}

static struct woof_header read_header(const char *dir, const char *name)
{
	struct woof_header h;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, &h, sizeof(h), 0) != sizeof(h))
		kt_die("read header");
	close(fd);
	return h;
}

/*
 * Taking a file over from the user-space engine: a lock word held by a dead
 * owner (no live OFD lock in .woof/owners) is repaired and freed; one held
 * by a live owner makes OPEN wait, then fail with EBUSY, leaving the file
 * as it was.
 */
static void test_takeover(void)
{
	struct woof_header h;
	struct woof_open o;
	struct flock fl;
	struct kt_ns n;
	char path[512];
	uint64_t t0, magic = WOOF_OWNERS_MAGIC, gen = 1;
	int ofd, nsfd, fd;

	snprintf(n.dir, sizeof(n.dir), "%s/kt-take-XXXXXX",
		 getenv("WOOF_KT_DIR") ? getenv("WOOF_KT_DIR") : "/tmp");
	if (!mkdtemp(n.dir))
		kt_die("mkdtemp");
	snprintf(path, sizeof(path), "%s/.woof", n.dir);
	mkdir(path, 0775);
	/* owner id 6 is alive (we hold its OFD lock), id 5 never was */
	snprintf(path, sizeof(path), "%s/.woof/owners", n.dir);
	ofd = open(path, O_CREAT | O_RDWR, 0664);
	if (ofd < 0 || ftruncate(ofd, sizeof(struct woof_owners)) ||
	    pwrite(ofd, &magic, 8, 0) != 8 ||
	    pwrite(ofd, &gen, 8, offsetof(struct woof_owners, gen) + 8 * 6) != 8)
		kt_die("owners");
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)(WOOF_OWNER_LOCK_BASE + 6);
	fl.l_len = 1;
	if (fcntl(ofd, F_OFD_SETLK, &fl) < 0)
		kt_die("F_OFD_SETLK");
	write_woof_file(n.dir, "dead", (1ULL << 16) | 5);
	write_woof_file(n.dir, "alive", (1ULL << 16) | 6);

	snprintf(n.name, sizeof(n.name), "kt-take-%d", (int)getpid());
	snprintf(n.dev, sizeof(n.dev), WOOF_DEV_DIR "/%s", n.name);
	n.ctl = kt_control();
	if (kt_mount(n.ctl, n.name, n.dir, 0600, 0, 0))
		kt_die("mount take");
	nsfd = kt_ns_open(&n, O_RDWR);

	fd = kt_open(nsfd, "dead", 0, &o);
	h = read_header(n.dir, "dead");
	KT_OK(fd >= 0 && h.lock == 0 && h.state == WOOF_STATE_KERNEL,
	      "OPEN of a file whose lock word a dead appender holds: taken over, lock freed");
	close(fd);
	t0 = kt_now_ns();
	KT_ERR(kt_open(nsfd, "alive", 0, &o), EBUSY,
	       "OPEN of a file whose lock word a live appender holds: EBUSY");
	h = read_header(n.dir, "alive");
	KT_OK(kt_now_ns() - t0 >= 1500ULL * 1000 * 1000 && h.lock == ((1ULL << 16) | 6) &&
	      h.state == 0, "... after waiting ~2 s, the file left as it was (%.1f s)",
	      (kt_now_ns() - t0) / 1e9);
	close(ofd);	/* the appender "dies": its OFD lock goes */
	fd = kt_open(nsfd, "alive", 0, &o);
	h = read_header(n.dir, "alive");
	KT_OK(fd >= 0 && h.lock == 0, "once it died: taken over");
	close(fd);
	close(nsfd);
	kt_ns_teardown(&n);
}

int main(void)
{
	int nsfd, ronsfd;

	kt_prog = "test-ioctl";
	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_ns_setup(&ns, "ioctl");
	test_version(ns.ctl);
	test_mount(ns.ctl);
	test_umount_list(ns.ctl);
	nsfd = kt_ns_open(&ns, O_RDWR);
	ronsfd = kt_ns_open(&ns, O_RDONLY);
	test_create_open(nsfd, ronsfd);
	test_remove(nsfd, ronsfd);
	test_triggers_errors(nsfd, ronsfd);
	test_ns_stat(nsfd, ronsfd);
	test_woof_fd(nsfd);
	test_after_remove(nsfd);
	test_mmap_prot(nsfd);
	close(ronsfd);
	close(nsfd);
	test_detach();
	test_takeover();
	kt_ns_teardown(&ns);
	return kt_done();
}
