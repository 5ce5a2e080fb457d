/* SPDX-License-Identifier: MIT */
/*
 * testutil.c - helpers shared by the woof Criterion suites: per-test
 * namespace directories (under $WOOF_TEST_NS_ROOT or a fresh /tmp
 * directory), child processes with deadlines, shared memory, clock,
 * checksum, PRNG and errno names for assertion messages.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *tu_dir;
struct woof_ns *tu_ns;

#define TU_MAX_DIRS 32
static char *made_dirs[TU_MAX_DIRS];
static int n_made_dirs;
static pid_t made_by;	/* only the process that made them removes them */

char *tu_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

char *tu_path(const char *dir, const char *name)
{
	return tu_printf("%s/%s", dir, name);
}

char *tu_make_dir(void)
{
	const char *root = getenv("WOOF_TEST_NS_ROOT");
	char *tmpl;

	if (root && *root)
		tmpl = tu_printf("%s/wt-%d-XXXXXX", root, (int)getpid());
	else
		tmpl = tu_printf("/tmp/woof-test-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(tmpl))
		cr_assert_fail("mkdtemp(%s): %s", tmpl, strerror(errno));
	if (n_made_dirs < TU_MAX_DIRS)
		made_dirs[n_made_dirs++] = tmpl;
	made_by = getpid();
	return tmpl;
}

bool tu_kernel(void)
{
	const char *k = getenv("WOOF_TEST_KERNEL");

	return k && *k == '1';
}

/*
 * WOOF_TEST_KERNEL=1: serve @dir with woof.ko (NS_MOUNT, as root, device
 * mode 0666 so that tests that drop privileges can still reach it) under
 * the name of its last path component; tu_cleanup() unmounts it.
 */
static char *mounted[TU_MAX_DIRS];
static int n_mounted;

static void kernel_mount(const char *dir)
{
	const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	struct woof_ns_mount m;
	int ctl, dfd, rc;

	memset(&m, 0, sizeof(m));
	m.size = sizeof(m);
	m.mode = 0666;
	cr_assert(strlen(base) <= WOOF_NS_NAME_MAX, "namespace name %s too long", base);
	strcpy(m.name, base);
	ctl = open(WOOF_CONTROL_DEV, O_RDWR | O_CLOEXEC);
	cr_assert(ctl >= 0, "WOOF_TEST_KERNEL=1 but %s: %s", WOOF_CONTROL_DEV, strerror(errno));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert(dfd >= 0, "open %s: %s", dir, strerror(errno));
	m.dirfd = dfd;
	rc = ioctl(ctl, WOOF_IOC_NS_MOUNT, &m);
	cr_assert(rc == 0, "NS_MOUNT %s as %s: %s", dir, base, strerror(errno));
	close(dfd);
	close(ctl);
	if (n_mounted < TU_MAX_DIRS)
		mounted[n_mounted++] = strdup(m.name);
}

static void kernel_umount_all(void)
{
	struct woof_ns_umount u;
	int ctl = open(WOOF_CONTROL_DEV, O_RDWR | O_CLOEXEC);

	for (int i = 0; i < n_mounted; i++) {
		memset(&u, 0, sizeof(u));
		u.size = sizeof(u);
		u.flags = WOOF_UMOUNT_DETACH;
		strcpy(u.name, mounted[i]);
		if (ctl >= 0 && ioctl(ctl, WOOF_IOC_NS_UMOUNT, &u) < 0 && errno != ENOENT)
			fprintf(stderr, "testutil: NS_UMOUNT %s: %s\n", mounted[i], strerror(errno));
		free(mounted[i]);
	}
	n_mounted = 0;
	if (ctl >= 0)
		close(ctl);
}

char *tu_make_ns(struct woof_ns **nsp)
{
	char *dir = tu_make_dir();
	int rc;

	rc = woof_ns_init(dir, 0);
	cr_assert(rc == 0, "woof_ns_init(%s): %s", dir, tu_err(rc));
	if (tu_kernel())
		kernel_mount(dir);
	if (nsp) {
		rc = woof_ns_open(dir, nsp);
		cr_assert(rc == 0, "woof_ns_open(%s): %s", dir, tu_err(rc));
		/* the kernel run must not pass on the user-space engine */
		if (tu_kernel())
			cr_assert(woof_ns_engine(*nsp) == WOOF_ENGINE_KERNEL,
				  "WOOF_TEST_KERNEL=1 but %s is on the user-space engine", dir);
	}
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st; (void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void tu_cleanup(void)
{
	const char *keep = getenv("WOOF_TEST_KEEP");

	if (made_by != getpid())
		return;
	kernel_umount_all();
	for (int i = 0; i < n_made_dirs; i++) {
		if (keep && *keep == '1')
			fprintf(stderr, "testutil: kept %s\n", made_dirs[i]);
		else
			nftw(made_dirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	n_made_dirs = 0;
}

void tu_setup(void)
{
	setenv("WOOF_QUIET", "1", 1);
	unsetenv("WOOFC_DIR");
	tu_dir = tu_make_ns(&tu_ns);
}

void tu_teardown(void)
{
	if (tu_ns)
		woof_ns_close(tu_ns);
	tu_ns = NULL;
	tu_cleanup();
}

int tu_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, buf, len);
	int err = n == (ssize_t)len ? 0 : -EIO;
	close(fd);
	return err;
}

ssize_t tu_pread_file(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = pread(fd, buf, len, off);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

int tu_pwrite_file(const char *path, const void *buf, size_t len, off_t off)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = pwrite(fd, buf, len, off);
	int err = n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
	close(fd);
	return err;
}

bool tu_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

long long tu_file_size(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -1;
	return (long long)st.st_size;
}

int tu_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

pid_t tu_fork(tu_child_fn fn, int idx, void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		cr_assert_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		int rc = fn(idx, arg);
		_exit(rc & 0xff);
	}
	return pid;
}

int tu_wait(pid_t pid, int timeout_ms)
{
	uint64_t deadline = tu_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, timeout_ms < 0 ? 0 : WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (timeout_ms >= 0 && tu_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		if (r == 0)
			usleep(1000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int tu_run_children(int n, tu_child_fn fn, void *arg, int timeout_ms)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	uint64_t deadline = tu_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	int failed = 0;

	cr_assert(pids);
	for (int i = 0; i < n; i++)
		pids[i] = tu_fork(fn, i, arg);
	for (int i = 0; i < n; i++) {
		int left = -1;
		if (timeout_ms >= 0) {
			uint64_t now = tu_now_ns();
			left = now >= deadline ? 0 : (int)((deadline - now) / 1000000ULL);
		}
		int st = tu_wait(pids[i], left);
		if (st != 0) {
			fprintf(stderr, "testutil: child %d (pid %d) %s %d\n", i,
				(int)pids[i], st < 0 ? "timed out" :
				st >= 128 ? "died by signal" : "exited with",
				st < 0 ? 0 : st >= 128 ? st - 128 : st);
			failed++;
		}
	}
	free(pids);
	return failed;
}

int tu_wait_asleep(pid_t pid, const char *where, int timeout_ms, char *seen)
{
	uint64_t deadline = tu_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	char path[64], buf[512], wchan[128], state = '?';

	if (seen)
		snprintf(seen, 64, "nothing");
	for (;;) {
		char *p;
		ssize_t n;
		int fd;

		wchan[0] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -ESRCH;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		p = strrchr(buf, ')');	/* the command may hold spaces */
		state = p && p[1] == ' ' ? p[2] : '?';
		if (state == 'Z' || state == 'X')
			return -ESRCH;
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, wchan, sizeof(wchan) - 1);
			close(fd);
			wchan[n > 0 ? n : 0] = '\0';
		}
		if (seen)
			snprintf(seen, 64, "state %c, wchan %s", state, wchan[0] ? wchan : "?");
		if (state == 'S' && wchan[0]) {
			const char *w = where;

			while (*w) {
				size_t len = strcspn(w, "|");
				char word[64];

				snprintf(word, sizeof(word), "%.*s", (int)len, w);
				if (len && strstr(wchan, word))
					return 0;
				w += len;
				if (*w == '|')
					w++;
			}
		}
		if (tu_now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(1000);	/* a bounded poll of the child's state */
	}
}

bool tu_wait_flag(const volatile int *p, int timeout_ms)
{
	uint64_t deadline = tu_now_ns() + (uint64_t)timeout_ms * 1000000ULL;

	while (!__atomic_load_n(p, __ATOMIC_ACQUIRE)) {
		if (tu_now_ns() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

void *tu_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(p != MAP_FAILED, "mmap shared %zu: %s", size, strerror(errno));
	return p;
}

uint64_t tu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t tu_checksum(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t tu_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

uint64_t tu_seed(void)
{
	uint64_t s = tu_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
	return s ? s : 1;
}

const char *tu_err(long long v)
{
	static __thread char buf[4][96];
	static __thread int next;
	char *b = buf[next++ & 3];

	if (v < 0 && v > -4096) {
		const char *name = strerrorname_np((int)-v);
		snprintf(b, sizeof(buf[0]), "-%s (%s)", name ? name : "E?",
			 strerror((int)-v));
	} else {
		snprintf(b, sizeof(buf[0]), "%lld", v);
	}
	return b;
}

struct woof_create_opts tu_opts(uint64_t element_size, uint64_t history_size,
				uint32_t create)
{
	struct woof_create_opts o;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.element_size = element_size;
	o.history_size = history_size;
	o.create = create;
	return o;
}

struct woof *tu_create(struct woof_ns *ns, const char *name,
		       uint64_t element_size, uint64_t history_size)
{
	struct woof_create_opts o = tu_opts(element_size, history_size,
					    WOOF_CREATE_EXCL);
	struct woof *w = NULL;
	int rc = woof_create(ns, name, &o, &w);

	cr_assert(rc == 0, "woof_create(%s, %llu, %llu): %s", name,
		  (unsigned long long)element_size,
		  (unsigned long long)history_size, tu_err(rc));
	cr_assert(w != NULL, "woof_create(%s) returned no handle", name);
	return w;
}
