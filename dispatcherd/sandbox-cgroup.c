/* SPDX-License-Identifier: MIT */
/*
 * sandbox-cgroup.c - the cgroup v2 side of dispatcherd's handler sandbox:
 * find the cgroup2 mount and our own cgroup, decide where the sandbox's
 * cgroups go (our delegated cgroup, or <mount>/woof when we sit in the
 * root cgroup as root), move the daemon into a "supervisor" leaf when
 * controllers must be enabled (the no-internal-processes rule), enable
 * memory/pids/cpu where the hierarchy has them, and check cgroup.kill and
 * clone3(CLONE_INTO_CGROUP) by trying them (and the device filter,
 * sandbox-devices.c, by attaching it). Everything missing becomes one
 * line of caps->why_not. Also small cgroupfs file helpers.
 */
#include "sandbox-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int sbx_write_at(int dirfd, const char *name, const char *val)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = strlen(val);
	ssize_t w = write(fd, val, n);
	int err = w < 0 ? -errno : ((size_t)w != n ? -EIO : 0);
	close(fd);
	return err;
}

ssize_t sbx_read_at(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got + 1 < len) {
		ssize_t r = read(fd, buf + got, len - 1 - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;
			close(fd);
			return err;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	return (ssize_t)got;
}

/* Is @word one of the space/newline/comma separated items of @list? */
bool sbx_word_in(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == '\n' || *p == ',' || *p == '\t')
			p++;
		const char *e = p;
		while (*e && *e != ' ' && *e != '\n' && *e != ',' && *e != '\t')
			e++;
		if ((size_t)(e - p) == wl && memcmp(p, word, wl) == 0)
			return true;
		p = e;
	}
	return false;
}

void sbx_why(struct sandbox_caps *caps, const char *fmt, ...)
{
	size_t used = strlen(caps->why_not);
	if (used + 2 >= sizeof caps->why_not)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(caps->why_not + used, sizeof caps->why_not - used - 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		caps->why_not[used] = '\0';
		return;
	}
	used = strlen(caps->why_not);
	caps->why_not[used] = '\n';
	caps->why_not[used + 1] = '\0';
}

static const char *const wanted_ctl[] = { "memory", "pids", "cpu" };
static const char *const ctl_file[] = { "memory.max", "pids.max", "cpu.max" };

/* Undo mountinfo's octal escapes (\040 etc.) in place. */
static void unescape(char *s)
{
	char *d = s;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

/*
 * Walk /proc/self/mountinfo. For the first cgroup2 mount: its mount point
 * into @v2 (and its root into @v2root). For @v1ctl (may be NULL): the
 * mount point of a cgroup v1 hierarchy that has that controller, into @v1.
 */
static void scan_mountinfo(char *v2, size_t v2len, char *v2root, size_t v2rootlen,
			   const char *v1ctl, char *v1, size_t v1len)
{
	if (v2 && v2len)
		v2[0] = '\0';
	if (v1 && v1len)
		v1[0] = '\0';
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		char *tail = sep + 3;
		char *fstype = strtok(tail, " \n");
		char *source = fstype ? strtok(NULL, " \n") : NULL;
		char *super = source ? strtok(NULL, " \n") : NULL;
		if (!fstype)
			continue;
		char *save = NULL;
		strtok_r(line, " ", &save);		/* id */
		strtok_r(NULL, " ", &save);		/* parent */
		strtok_r(NULL, " ", &save);		/* maj:min */
		char *root = strtok_r(NULL, " ", &save);
		char *mnt = strtok_r(NULL, " ", &save);
		if (!root || !mnt)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && v2 && v2len && !v2[0]) {
			unescape(mnt);
			unescape(root);
			snprintf(v2, v2len, "%s", mnt);
			if (v2root)
				snprintf(v2root, v2rootlen, "%s", root);
		} else if (strcmp(fstype, "cgroup") == 0 && v1ctl && v1 && v1len && !v1[0] &&
			   super && sbx_word_in(super, v1ctl)) {
			unescape(mnt);
			snprintf(v1, v1len, "%s", mnt);
		}
	}
	free(line);
	fclose(f);
}

/* Our cgroup v2 path from /proc/self/cgroup ("0::/path"). */
static int own_cgroup(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line + 3);
			err = 0;
			break;
		}
	}
	free(line);
	fclose(f);
	return err;
}


static bool *ctl_flag(struct sandbox_caps *caps, int i)
{
	return i == 0 ? &caps->ctl_memory : i == 1 ? &caps->ctl_pids : &caps->ctl_cpu;
}

/* Try clone3(CLONE_INTO_CGROUP) once with a child that _exits at once. */
static int try_clone_into(int cgfd)
{
	struct sbx_clone_args ca = {
		.flags = SBX_CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)cgfd,
	};
	long pid = sbx_clone3(&ca);
	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return (int)pid;
	int st;
	while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/*
 * The limits cannot be set because we have no cgroup of our own: one line
 * per limit, precise about the hierarchy where we can tell.
 */
static void limits_off(struct sandbox_caps *caps, const char *mnt, const char *reason)
{
	char rootctl[256] = "";
	if (mnt && mnt[0]) {
		char p[300];
		snprintf(p, sizeof p, "%s/cgroup.controllers", mnt);
		sbx_read_at(AT_FDCWD, p, rootctl, sizeof rootctl);
	}
	for (int i = 0; i < 3; i++) {
		const char *c = wanted_ctl[i];
		char v1[256];
		scan_mountinfo(NULL, 0, NULL, 0, c, v1, sizeof v1);
		if (mnt && mnt[0] && !sbx_word_in(rootctl, c))
			sbx_why(caps, "%s not enforced: cgroup v2 at %s has no %s controller%s%s%s",
				ctl_file[i], mnt, c, v1[0] ? " (it is bound to cgroup v1 at " : "",
				v1[0] ? v1 : "", v1[0] ? ")" : "");
		else
			sbx_why(caps, "%s not enforced: %s", ctl_file[i], reason);
	}
}

void sbx_probe_cgroups(struct sandbox_caps *caps)
{
	char mnt[256], mroot[256], own[512];
	scan_mountinfo(mnt, sizeof mnt, mroot, sizeof mroot, NULL, NULL, 0);
	if (!mnt[0]) {
		sbx_why(caps, "cgroups: no cgroup v2 hierarchy is mounted (no cgroup2 line in "
			      "/proc/self/mountinfo): no call cgroups, a call is killed through its "
			      "process group");
		limits_off(caps, NULL, "no cgroup v2 hierarchy is mounted");
		return;
	}
	int err = own_cgroup(own, sizeof own);
	if (err) {
		sbx_why(caps, "cgroups: no \"0::\" line in /proc/self/cgroup (%s): no call cgroups",
			strerror(-err));
		limits_off(caps, mnt, "we have no cgroup v2 of our own");
		return;
	}
	/* Inside a cgroup namespace the path is relative to the mount's root. */
	const char *rel = own;
	if (strcmp(mroot, "/") != 0 && strncmp(own, mroot, strlen(mroot)) == 0)
		rel = own + strlen(mroot);
	bool in_root = rel[0] == '\0' || strcmp(rel, "/") == 0;

	char base[sizeof caps->cgroup_root];
	int n;
	if (in_root)
		n = snprintf(base, sizeof base, "%s/woof", mnt);
	else
		n = snprintf(base, sizeof base, "%s%s", mnt, rel);
	if (n < 0 || (size_t)n >= sizeof base) {
		sbx_why(caps, "cgroups: cgroup path %s%s too long: no call cgroups", mnt, rel);
		limits_off(caps, mnt, "our cgroup path is too long");
		return;
	}
	if (in_root && mkdir(base, 0755) < 0 && errno != EEXIST) {
		sbx_why(caps, "cgroups: cannot create %s (%s; we are in the root cgroup of %s%s): "
			      "no call cgroups, a call is killed through its process group",
			base, strerror(errno), mnt, caps->root ? "" : " and not root");
		limits_off(caps, mnt, "we cannot create cgroups (see the cgroups line)");
		return;
	}
	int basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (basefd < 0) {
		sbx_why(caps, "cgroups: cannot open %s (%s): no call cgroups", base, strerror(errno));
		limits_off(caps, mnt, "we cannot create cgroups (see the cgroups line)");
		return;
	}
	char probe[64];
	snprintf(probe, sizeof probe, ".probe-%d", (int)getpid());
	if (mkdirat(basefd, probe, 0755) < 0 && errno != EEXIST) {
		sbx_why(caps, "cgroups: cannot create cgroups under %s (%s: %s): no call cgroups, "
			      "a call is killed through its process group",
			base, strerror(errno),
			caps->root ? "even as root" : "not root and the cgroup is not delegated to us");
		close(basefd);
		limits_off(caps, mnt, "we cannot create cgroups (see the cgroups line)");
		return;
	}
	caps->cgroup2 = true;
	snprintf(caps->cgroup_root, sizeof caps->cgroup_root, "%s", base);

	/* Controllers: what the hierarchy has, what our parent gives us, what we enable. */
	char rootctl[256] = "", avail[256] = "", sub[256] = "";
	int mntfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mntfd >= 0)
		sbx_read_at(mntfd, "cgroup.controllers", rootctl, sizeof rootctl);
	sbx_read_at(basefd, "cgroup.controllers", avail, sizeof avail);
	sbx_read_at(basefd, "cgroup.subtree_control", sub, sizeof sub);
	bool moved = false;
	for (int i = 0; i < 3; i++) {
		const char *c = wanted_ctl[i];
		char plus[32];
		snprintf(plus, sizeof plus, "+%s", c);
		if (!sbx_word_in(rootctl, c)) {
			char v1[256];
			scan_mountinfo(NULL, 0, NULL, 0, c, v1, sizeof v1);
			if (v1[0])
				sbx_why(caps, "%s not enforced: cgroup v2 at %s has no %s controller "
					      "(it is bound to cgroup v1 at %s)", ctl_file[i], mnt, c, v1);
			else
				sbx_why(caps, "%s not enforced: cgroup v2 at %s has no %s controller "
					      "(not built into this kernel or disabled on its command line)",
					ctl_file[i], mnt, c);
			continue;
		}
		if (!sbx_word_in(avail, c) && in_root && mntfd >= 0) {
			/* We own <mount>/woof; the root cgroup has no process rule. */
			int e = sbx_write_at(mntfd, "cgroup.subtree_control", plus);
			if (e == 0)
				sbx_read_at(basefd, "cgroup.controllers", avail, sizeof avail);
		}
		if (!sbx_word_in(avail, c)) {
			sbx_why(caps, "%s not enforced: the %s controller is not enabled for %s by its "
				      "parent (cgroup not delegated with that controller)",
				ctl_file[i], c, base);
			continue;
		}
		if (!sbx_word_in(sub, c)) {
			/* No internal processes: leave base before enabling in it. */
			if (!in_root && !moved) {
				char procs[64];
				if (sbx_read_at(basefd, "cgroup.procs", procs, sizeof procs) > 0) {
					if (mkdirat(basefd, "supervisor", 0755) < 0 && errno != EEXIST) {
						sbx_why(caps, "%s not enforced: cannot create %s/supervisor to move "
							      "the daemon out of %s (%s)",
							ctl_file[i], base, base, strerror(errno));
						continue;
					}
					int sfd = openat(basefd, "supervisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
					int e = sfd < 0 ? -errno : sbx_write_at(sfd, "cgroup.procs", "0");
					if (sfd >= 0)
						close(sfd);
					if (e) {
						sbx_why(caps, "%s not enforced: cannot move the daemon into "
							      "%s/supervisor (%s)",
							ctl_file[i], base, strerror(-e));
						continue;
					}
				}
				moved = true;
			}
			int e = sbx_write_at(basefd, "cgroup.subtree_control", plus);
			if (e) {
				sbx_why(caps, "%s not enforced: cannot enable %s in %s/cgroup.subtree_control (%s%s)",
					ctl_file[i], c, base, strerror(-e),
					e == -EBUSY ? ": other processes are still in that cgroup" : "");
				continue;
			}
		}
		*ctl_flag(caps, i) = true;
	}
	if (mntfd >= 0)
		close(mntfd);

	int pfd = openat(basefd, probe, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		caps->cgroup_kill = faccessat(pfd, "cgroup.kill", F_OK, 0) == 0;
		if (!caps->cgroup_kill)
			sbx_why(caps, "cgroup.kill: missing in %s (kernel older than 5.14): a call is killed "
				      "by signalling the processes listed in its cgroup.procs", base);
		int e = try_clone_into(pfd);
		caps->clone_into_cgroup = e == 0;
		if (e)
			sbx_why(caps, "clone3(CLONE_INTO_CGROUP) failed (%s): handlers join their call cgroup "
				      "themselves just before exec", strerror(-e));
		/* the device filter goes where the namespaces' cgroups go */
		sbx_dev_probe(caps, pfd);
		close(pfd);
	}
	/* The probe child has been reaped; the cgroup empties at once. */
	for (int i = 0; i < 100 && unlinkat(basefd, probe, AT_REMOVEDIR) < 0 && errno == EBUSY; i++)
		usleep(1000);
	close(basefd);
}

/* rmdir @name under @parentfd; if it still has processes, kill them first. */
int sbx_cg_remove(int parentfd, const char *name)
{
	if (unlinkat(parentfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY)
		return -errno;
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long delay = 50000; /* ns */
	for (int i = 0; i < 110; i++) {
		if (fd >= 0 && sbx_write_at(fd, "cgroup.kill", "1") == -ENOENT) {
			char procs[4096];
			if (sbx_read_at(fd, "cgroup.procs", procs, sizeof procs) > 0) {
				for (char *p = procs; *p;) {
					long pid = strtol(p, &p, 10);
					if (pid > 0)
						kill((pid_t)pid, SIGKILL);
					while (*p == '\n')
						p++;
				}
			}
		}
		if (unlinkat(parentfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		if (errno != EBUSY)
			break;
		struct timespec ts = { 0, delay };
		nanosleep(&ts, NULL);
		if (delay < 20000000)
			delay *= 2;
	}
	int err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}
