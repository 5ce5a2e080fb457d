/* SPDX-License-Identifier: MIT */
/*
 * guard.c - a fault on a namespace file's mapping fences that namespace.
 *
 * dispatcherd reads and writes the trigger log, the WOOFs it claims from,
 * .woof/calls, .woof/log, .woof/owners and its spool ring through shared
 * mappings (libwoof's and its own). Whoever may write a namespace's files
 * - its handlers, its owner - can truncate one of them, and the next access
 * beyond the new end of file raises SIGBUS. Without this file that killed
 * the daemon and every namespace it served.
 *
 * Now: the main loop sets a recovery point (sigsetjmp) before each turn
 * and arms the guard. The handler of SIGBUS and SIGSEGV looks up the
 * faulting address in /proc/self/maps (open/read/close only: async-signal
 * safe); when it lies in a mapping of a file below one of the served
 * namespaces' directories, it notes which namespace and jumps back to the
 * recovery point, where main.c fences that namespace (nsd_fence) and goes
 * on with the others. A fault anywhere else - a bug of the daemon - keeps
 * its default action: the handler restores SIG_DFL and returns, the
 * instruction faults again and the daemon dies with a core dump at the
 * real place.
 *
 * Why jumping out is safe here: the loop consumes each completion before
 * its callback runs (loop.c), so the next turn goes on with the rest; the
 * daemon is one thread; the state of the fenced namespace is torn down and
 * never used again; what libwoof held for that namespace - its cached
 * maps, the trigger log, the owner token whose OFD lock names this
 * process as the holder of any append lock it held - is dropped by
 * woof_ns_reset(), so an append lock left held in a surviving header is a
 * dead holder's that the next appender takes over. libwoof takes its
 * process-wide map_lock only around its hash table, never while it
 * touches a mapping (lib/map.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatcherd.h"
#include "guard.h"

static struct daemon *gd;
static pid_t gpid;		/* a forked child keeps the handler until it execs: not ours */
static sigjmp_buf *volatile armed;
static struct guard_fault last;
static char linebuf[4096 + 512];

static bool hexval(const char **p, uintptr_t *v)
{
	const char *s = *p;
	uintptr_t x = 0;
	bool any = false;

	for (;; s++) {
		char c = *s;

		if (c >= '0' && c <= '9')
			x = x * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x = x * 16 + (uintptr_t)(c - 'a' + 10);
		else
			break;
		any = true;
	}
	*p = s;
	*v = x;
	return any;
}

/* One line of /proc/self/maps: does it hold @addr? Then its file name in last.file. */
static bool line_holds(const char *l, uintptr_t addr)
{
	uintptr_t lo, hi;
	const char *p = l;
	int field;

	if (!hexval(&p, &lo) || *p++ != '-' || !hexval(&p, &hi))
		return false;
	if (addr < lo || addr >= hi)
		return false;
	/* perms, offset, dev, inode, then the path after spaces */
	last.ino = 0;
	for (field = 0; field < 4; field++) {
		while (*p == ' ')
			p++;
		if (field == 3)
			for (; *p >= '0' && *p <= '9'; p++)
				last.ino = last.ino * 10 + (unsigned long long)(*p - '0');
		while (*p && *p != ' ')
			p++;
	}
	while (*p == ' ')
		p++;
	{
		size_t k = 0;

		while (p[k] && k < sizeof(last.file) - 1) {
			last.file[k] = p[k];
			k++;
		}
		last.file[k] = '\0';
	}
	return true;
}

/* The file mapped at @addr, into last.file ("" if none). Async-signal safe. */
static void file_at(uintptr_t addr)
{
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	last.file[0] = '\0';
	if (fd < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, linebuf + have, sizeof(linebuf) - 1 - have);
		char *s, *nl;

		if (r <= 0)
			break;
		have += (size_t)r;
		linebuf[have] = '\0';
		for (s = linebuf; (nl = strchr(s, '\n')); s = nl + 1) {
			*nl = '\0';
			if (line_holds(s, addr)) {
				close(fd);
				return;
			}
		}
		/* keep the partial last line */
		have = strlen(s);
		memmove(linebuf, s, have);
		if (have >= sizeof(linebuf) - 1)
			have = 0;	/* a line longer than the buffer: not ours */
	}
	close(fd);
}

/* The namespace whose directory holds last.file, or -1. */
static int ns_of_file(void)
{
	int best = -1;
	size_t best_len = 0;

	if (!gd || last.file[0] != '/')
		return -1;
	for (unsigned i = 0; i < gd->nns_max; i++) {
		const char *p = gd->guard_paths[i];
		size_t k = strlen(p);

		if (k && k > best_len && strncmp(last.file, p, k) == 0 && last.file[k] == '/') {
			best = (int)i;
			best_len = k;
		}
	}
	return best;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *jb = armed;

	(void)uc;
	if (jb && getpid() == gpid) {
		last.sig = sig;
		last.code = si->si_code;
		last.addr = (uintptr_t)si->si_addr;
		file_at(last.addr);
		last.ns = ns_of_file();
		if (last.ns >= 0) {
			armed = NULL;
			siglongjmp(*jb, 1);
		}
	}
	/* not a namespace file: the default action, at the faulting instruction */
	signal(sig, SIG_DFL);
}

int guard_init(struct daemon *d)
{
	struct sigaction sa;

	gd = d;
	gpid = getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0 || sigaction(SIGSEGV, &sa, NULL) < 0)
		return -errno;
	return 0;
}

void guard_arm(sigjmp_buf *jb)
{
	armed = jb;
}

void guard_disarm(void)
{
	armed = NULL;
}

const struct guard_fault *guard_last(void)
{
	return &last;
}

/*
 * The name the faulting file has now, below @nspath or its .woof/: a file
 * is mapped by the name it had then (a WOOF is built as .woof-tmp.* and
 * linked into place), and /proc/self/maps shows that one.
 */
static bool name_of_ino(const char *nspath, unsigned long long ino, char *out, size_t len)
{
	static const char *const sub[] = { "", "/" WOOF_NS_META_DIR,
					   "/" WOOF_NS_META_DIR "/" WOOF_SPOOL_DIR };
	char dir[PATH_MAX];

	for (size_t i = 0; ino && i < sizeof(sub) / sizeof(sub[0]); i++) {
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s%s", nspath, sub[i]);
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_ino != ino || !strncmp(de->d_name, ".woof-tmp.", 10))
				continue;
			snprintf(out, len, "%s%s%s", sub[i][0] ? sub[i] + 1 : "", sub[i][0] ? "/" : "",
				 de->d_name);
			closedir(d);
			return true;
		}
		closedir(d);
	}
	return false;
}

void guard_describe(const struct guard_fault *f, const char *nspath, char *buf, size_t len)
{
	size_t k = strlen(nspath);
	const char *file = f->file;
	char now[WOOF_NAME_MAX + 32];

	if (name_of_ino(nspath, f->ino, now, sizeof(now)))
		file = now;
	else if (strncmp(file, nspath, k) == 0 && file[k] == '/')
		file += k + 1;
	snprintf(buf, len, "%s (%s) at 0x%llx in its mapping of %s: the file was cut "
		 "short or changed under the daemon",
		 f->sig == SIGBUS ? "SIGBUS" : "SIGSEGV",
		 f->sig == SIGBUS ? (f->code == BUS_ADRERR ? "beyond the end of the file"
				     : "bus error")
				  : "invalid access",
		 (unsigned long long)f->addr, file);
}
