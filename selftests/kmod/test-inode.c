// SPDX-License-Identifier: MIT
/*
 * test-inode.c - one WOOF file, one sequence: the kernel serves a file (an
 * inode) once, whichever namespace directory it is reached through.
 *   - a hard-linked WOOF is never served: OPEN, CREATE and REMOVE of
 *     either name are EMLINK, in the namespace that served it and in the
 *     one the link is in; appends through fds opened before the link go
 *     on with one sequence; once the extra link is gone it opens again;
 *   - with fs.protected_hardlinks=0 an unprivileged user who links root's
 *     WOOF into the namespace it may use gets EMLINK, not an fd that
 *     appends with the mounter's credentials;
 *   - a WOOF renamed from namespace A into namespace B while A serves it:
 *     B's OPEN, CREATE (plain and RESET) and REMOVE are EBUSY, A's appends
 *     go on (1..8, the file says 8); after A is unmounted B serves it and
 *     goes on at 9;
 *   - a trigger log (.woof) renamed from a mounted namespace into another
 *     directory: NS_MOUNT of that directory is EBUSY; hard-linked into
 *     one: EMLINK.
 * Both namespaces are below $WOOF_KT_DIR (one file system).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* setresuid */
#endif
#include <grp.h>

#include "kmod-test.h"

static void path_of(char *buf, size_t n, const struct kt_ns *ns, const char *name)
{
	snprintf(buf, n, "%s/%s", ns->dir, name);
}

static int remove_woof(int nsfd, const char *name)
{
	struct woof_remove r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	snprintf(r.name, sizeof(r.name), "%s", name);
	return ioctl(nsfd, WOOF_IOC_REMOVE, &r);
}

/* The sequence number in the file's header, as a reader of the file sees it. */
static uint64_t file_seq(const char *path)
{
	struct woof_header h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return (uint64_t)-1;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	return n == (ssize_t)sizeof(h) ? h.seq_no : (uint64_t)-1;
}

static void test_hard_link(struct kt_ns *a, struct kt_ns *b)
{
	char pa[512], pb[512];
	struct woof_open o;
	uint64_t el = 7, seq, i;
	int afd = kt_ns_open(a, O_RDWR), bfd = kt_ns_open(b, O_RDWR), w, ok = 1;

	w = kt_create(afd, "hl", 8, 16, 0, 0, &o);
	KT_OK(w >= 0, "hard link: CREATE hl in A");
	path_of(pa, sizeof(pa), a, "hl");
	path_of(pb, sizeof(pb), b, "hl");
	KT_ZERO(link(pa, pb), "link A/hl to B/hl");
	KT_ERR(kt_open(bfd, "hl", 0, NULL), EMLINK, "OPEN of the link in B: EMLINK");
	KT_ERR(kt_open(bfd, "hl", WOOF_OPEN_RDONLY, NULL), EMLINK, "read-only OPEN in B: EMLINK");
	KT_ERR(kt_create(bfd, "hl", 8, 16, 0, 0, NULL), EMLINK,
	       "CREATE (same geometry) in B: EMLINK");
	KT_ERR(kt_open(afd, "hl", 0, NULL), EMLINK, "OPEN of the served name in A: EMLINK too");
	KT_ERR(remove_woof(bfd, "hl"), EMLINK, "REMOVE in B: EMLINK (the file stays)");
	for (i = 1; i <= 8; i++) {
		seq = 0;
		if (kt_append(w, &el, 8, NULL, 0, &seq) || seq != i)
			ok = 0;
	}
	KT_OK(ok, "A's fd opened before the link appends 1..8");
	KT_OK(file_seq(pb) == 8, "... the file (through B's name) says 8");
	KT_ZERO(unlink(pb), "unlink B/hl");
	KT_ERR(kt_open(bfd, "hl", 0, NULL), ENOENT, "OPEN in B: ENOENT");
	KT_OK(kt_open(afd, "hl", 0, &o) >= 0 && o.latest == 8,
	      "one link again: OPEN in A works, latest 8");
	close(o.fd);
	close(w);
	close(bfd);
	close(afd);
}

/*
 * With fs.protected_hardlinks=0, nobody links root's 0644 WOOF into a
 * directory of its own that root mounted for it, and opens it there.
 */
static void test_hard_link_attack(struct kt_ns *a)
{
	char dir[512], victim[512], link_path[600], prot[8] = "";
	struct woof_open o;
	int afd, pfd, st, w, sdir, ddir;
	pid_t pid;
	ssize_t n;

	afd = kt_ns_open(a, O_RDWR);
	w = kt_create(afd, "secret", 8, 4, 0, 0, &o);
	KT_OK(w >= 0, "attack: root's WOOF A/secret");
	close(w);
	close(afd);
	path_of(victim, sizeof(victim), a, "secret");
	chmod(a->dir, 0755);
	chmod(victim, 0644);

	snprintf(dir, sizeof(dir), "%s-nobody", a->dir);
	if (mkdir(dir, 0755) < 0 || chown(dir, 65534, 65534) < 0)
		kt_die("mkdir/chown the attacker's directory");
	KT_ZERO(kt_mount(a->ctl, "kt-inode-nobody", dir, 0600, 65534, 65534),
		"NS_MOUNT (by root) of nobody's directory, device owned by nobody");

	pfd = open("/proc/sys/fs/protected_hardlinks", O_RDWR);
	if (pfd >= 0) {
		n = read(pfd, prot, sizeof(prot) - 1);
		prot[n > 0 ? n : 0] = 0;
		if (pwrite(pfd, "0\n", 2, 0) != 2)
			kt_die("fs.protected_hardlinks=0");
	}
	snprintf(link_path, sizeof(link_path), "%s/mine", dir);
	/* directory fds: nobody cannot search the test's parent directories */
	sdir = open(a->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ddir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (sdir < 0 || ddir < 0)
		kt_die("open the directories");
	pid = fork();
	if (pid < 0)
		kt_die("fork");
	if (pid == 0) {
		int nfd, fd, bad = 0;
		uint64_t el = 666, seq;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		if (linkat(sdir, "secret", ddir, "mine", 0) < 0)
			_exit(11);	/* the kernel did not let the link happen: no attack */
		nfd = open(WOOF_DEV_DIR "/kt-inode-nobody", O_RDWR);
		if (nfd < 0)
			_exit(12);
		fd = kt_open(nfd, "mine", 0, NULL);
		if (fd >= 0) {
			bad = 1;
			if (!kt_append(fd, &el, 8, NULL, 0, &seq))
				bad = 2;
		} else if (errno != EMLINK) {
			bad = 3;
		}
		_exit(bad);
	}
	if (waitpid(pid, &st, 0) < 0)
		kt_die("waitpid");
	if (pfd >= 0) {
		if (pwrite(pfd, prot, strlen(prot), 0) < 0)
			kt_diag("could not restore fs.protected_hardlinks to %s", prot);
		close(pfd);
	}
	KT_OK(WIFEXITED(st) && WEXITSTATUS(st) != 11, "nobody linked root's WOOF into its directory");
	KT_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "... and its OPEN there is EMLINK (exit %d: 1 opened, 2 appended as the mounter)",
	      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(sdir);
	close(ddir);
	KT_OK(file_seq(victim) == 0, "root's WOOF has no element from nobody");
	unlink(link_path);
	KT_ZERO(kt_umount(a->ctl, "kt-inode-nobody", 0), "NS_UMOUNT nobody's namespace");
}

static void test_rename(struct kt_ns *a, struct kt_ns *b)
{
	char pa[512], pb[512];
	struct woof_open o;
	uint64_t el = 9, seq = 0, i;
	int afd = kt_ns_open(a, O_RDWR), bfd = kt_ns_open(b, O_RDWR), w, ok = 1;

	w = kt_create(afd, "mv", 8, 16, 0, 0, &o);
	KT_OK(w >= 0, "rename: CREATE mv in A");
	for (i = 1; i <= 4; i++)
		if (kt_append(w, &el, 8, NULL, 0, &seq) || seq != i)
			ok = 0;
	KT_OK(ok, "appends 1..4 through A");
	path_of(pa, sizeof(pa), a, "mv");
	path_of(pb, sizeof(pb), b, "mv");
	KT_ZERO(rename(pa, pb), "rename A/mv to B/mv while A serves it");
	KT_ERR(kt_open(bfd, "mv", 0, NULL), EBUSY, "OPEN in B: EBUSY (A serves the file)");
	KT_ERR(kt_open(bfd, "mv", WOOF_OPEN_RDONLY, NULL), EBUSY, "read-only OPEN in B: EBUSY");
	KT_ERR(kt_create(bfd, "mv", 8, 16, 0, 0, NULL), EBUSY, "CREATE (same geometry) in B: EBUSY");
	KT_ERR(kt_create(bfd, "mv", 8, 16, WOOF_CREATE_F_RESET, 0, NULL), EBUSY,
	       "CREATE RESET in B: EBUSY (not replaced)");
	KT_ERR(remove_woof(bfd, "mv"), EBUSY, "REMOVE in B: EBUSY (not removed)");
	for (i = 5; i <= 8; i++)
		if (kt_append(w, &el, 8, NULL, 0, &seq) || seq != i)
			ok = 0;
	KT_OK(ok, "appends 5..8 through A's fd");
	KT_OK(file_seq(pb) == 8, "the file says 8 after 8 appends");
	close(w);
	close(afd);
	KT_ZERO(kt_umount(a->ctl, a->name, 0), "NS_UMOUNT A");
	w = kt_open(bfd, "mv", 0, &o);
	KT_OK(w >= 0 && o.latest == 8, "A unmounted: OPEN in B works, latest 8");
	seq = 0;
	KT_ZERO(kt_append(w, &el, 8, NULL, 0, &seq), "APPEND through B");
	KT_OK(seq == 9, "... seq 9 (one sequence)");
	if (w >= 0)
		close(w);
	close(bfd);
	KT_ZERO(kt_mount(a->ctl, a->name, a->dir, 0660, 0, 0), "NS_MOUNT A again");
}

static void test_log_rename(struct kt_ns *a)
{
	char from[512], dir[512], to[600];

	snprintf(dir, sizeof(dir), "%s-log", a->dir);
	if (mkdir(dir, 0755) < 0)
		kt_die("mkdir");
	path_of(from, sizeof(from), a, WOOF_NS_META_DIR);
	snprintf(to, sizeof(to), "%s/" WOOF_NS_META_DIR, dir);
	KT_ZERO(rename(from, to), "rename A/.woof (A mounted) into another directory");
	KT_ERR(kt_mount(a->ctl, "kt-inode-log", dir, 0600, 0, 0), EBUSY,
	       "NS_MOUNT of that directory: EBUSY (its trigger log is A's)");
	KT_ZERO(rename(to, from), "... renamed back");

	/* a trigger log with a second link: refused, the first name goes on */
	snprintf(to, sizeof(to), "%s/" WOOF_NS_META_DIR, dir);
	if (mkdir(to, 0755) < 0)
		kt_die("mkdir");
	path_of(from, sizeof(from), a, WOOF_NS_META_DIR "/" WOOF_TRIGGERS_FILE);
	snprintf(to, sizeof(to), "%s/" WOOF_NS_META_DIR "/" WOOF_TRIGGERS_FILE, dir);
	KT_ZERO(link(from, to), "hard link A's trigger log into another directory's .woof");
	KT_ERR(kt_mount(a->ctl, "kt-inode-log", dir, 0600, 0, 0), EMLINK,
	       "NS_MOUNT of that directory: EMLINK");
	KT_ZERO(unlink(to), "... link removed");
}

int main(void)
{
	struct kt_ns a, b;

	kt_prog = "test-inode";
	setvbuf(stdout, NULL, _IOLBF, 0);
	kt_ns_setup(&a, "inoa");
	kt_ns_setup(&b, "inob");
	test_hard_link(&a, &b);
	test_hard_link_attack(&a);
	test_rename(&a, &b);
	test_log_rename(&a);
	kt_ns_teardown(&b);
	kt_ns_teardown(&a);
	return kt_done();
}
