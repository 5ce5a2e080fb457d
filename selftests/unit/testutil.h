/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers shared by the woof Criterion suites.
 *
 * Every test runs in its own process (Criterion forks one per test) and gets
 * a fresh namespace directory: under $WOOF_TEST_NS_ROOT when it is set (so
 * the same suite can run on a mounted, kernel-served namespace), else a new
 * mktemp -d directory under /tmp. Directories made here are removed when the
 * test ends unless WOOF_TEST_KEEP=1. With WOOF_TEST_KERNEL=1 (the 'unit-kernel'
 * VM test) every namespace of tu_make_ns() is mounted with woof.ko, so the
 * same suites run on the kernel engine.
 *
 * Also here: running child processes with a deadline, MAP_SHARED anonymous
 * memory for children to report into, a clock, a checksum, a small PRNG, and
 * assertion macros that print the errno names of both sides.
 */
#ifndef WOOF_TESTUTIL_H
#define WOOF_TESTUTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <woof.h>

/* The namespace of the running test, made by tu_setup(). */
extern char *tu_dir;
extern struct woof_ns *tu_ns;

/* A fresh, empty directory; removed by tu_cleanup(). Never NULL. */
char *tu_make_dir(void);
/*
 * A fresh directory made a namespace (woof_ns_init) and opened. With
 * WOOF_TEST_KERNEL=1 it is also mounted with woof.ko (needs root and the
 * module), and opening it asserts that the kernel engine serves it.
 */
char *tu_make_ns(struct woof_ns **nsp);
/* WOOF_TEST_KERNEL=1: namespaces of tu_make_ns() are served by woof.ko. */
bool tu_kernel(void);
/* Skip the running test on the kernel engine, saying why. */
#define tu_skip_kernel(why) do { if (tu_kernel()) tu_skip("kernel engine: " why); } while (0)
/* Remove every directory made by this process (unless WOOF_TEST_KEEP=1). */
void tu_cleanup(void);

/* Criterion .init/.fini: tu_dir/tu_ns made, WOOF_QUIET=1, WOOFC_DIR unset. */
void tu_setup(void);
void tu_teardown(void);

/* "dir/name", allocated (never freed: a test is one short process). */
char *tu_path(const char *dir, const char *name);
char *tu_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Files. */
int tu_write_file(const char *path, const void *buf, size_t len);
/* Reads up to @len bytes at @off; returns bytes read or -errno. */
ssize_t tu_pread_file(const char *path, void *buf, size_t len, off_t off);
int tu_pwrite_file(const char *path, const void *buf, size_t len, off_t off);
bool tu_exists(const char *path);
/* Names in @dir other than "." and "..", or -errno. */
int tu_count_entries(const char *dir);
/* Size of @path (lstat), or -1. */
long long tu_file_size(const char *path);

/*
 * Children. tu_fork() runs fn(idx, arg) in a child that exits with its
 * return value (never returns into Criterion). tu_wait() waits for @pid up
 * to @timeout_ms (-1: forever), SIGKILLs it on timeout; returns the exit
 * status, 128 + signal when it died by a signal, or -1 on timeout.
 */
typedef int (*tu_child_fn)(int idx, void *arg);
pid_t tu_fork(tu_child_fn fn, int idx, void *arg);
int tu_wait(pid_t pid, int timeout_ms);
/* Fork @n children fn(0..n-1, arg), wait for all; returns how many failed. */
int tu_run_children(int n, tu_child_fn fn, void *arg, int timeout_ms);

/*
 * Wait (a bounded poll, up to @timeout_ms) until process @pid sleeps in the
 * kernel (state S) in a function whose name contains one of the
 * '|'-separated words of @where (/proc/PID/wchan), e.g. TU_IN_WAIT. Returns
 * 0, -ESRCH when @pid is gone or a zombie, -ETIMEDOUT; on failure @seen (if
 * not NULL, 64 bytes) says the last state and wchan seen. Tests use it to
 * know that a child really waits before they do what should wake it.
 */
int tu_wait_asleep(pid_t pid, const char *where, int timeout_ms, char *seen);
/* woof_wait or a blocking put: a futex (user engine) or woof.ko's wait queues */
#define TU_IN_WAIT "futex|woof"
/*
 * Assert that @pid comes to sleep in TU_IN_WAIT within 10 s (else kill it);
 * @what names it.
 */
#define tu_assert_asleep(pid, what) do {					\
	char tu_seen_[64];							\
	int tu_rc_ = tu_wait_asleep((pid), TU_IN_WAIT, 10000, tu_seen_);	\
	if (tu_rc_)								\
		kill((pid), SIGKILL);	/* no child left behind */		\
	cr_assert(tu_rc_ == 0, "%s:%d: %s (pid %d) never slept in %s: %s (%s)",	\
		  __FILE__, __LINE__, (what), (int)(pid), TU_IN_WAIT,		\
		  tu_err(tu_rc_), tu_seen_);					\
} while (0)
/* Wait (bounded) until the int at @p is nonzero; true when it became so. */
bool tu_wait_flag(const volatile int *p, int timeout_ms);

/* Zeroed MAP_SHARED|MAP_ANONYMOUS memory that children share with us. */
void *tu_shared(size_t size);

/* CLOCK_MONOTONIC in ns / ms. */
uint64_t tu_now_ns(void);
static inline double tu_ms_since(uint64_t t0)
{
	return (double)(tu_now_ns() - t0) / 1e6;
}

/* 64-bit FNV-1a. */
uint64_t tu_checksum(const void *buf, size_t len);

/* xorshift64*, seeded per process. */
uint64_t tu_rand(uint64_t *state);
uint64_t tu_seed(void);

/* "-EEXIST (File exists)" for -EEXIST, "0" for 0, "42" for other values. */
const char *tu_err(long long v);

/* Assert that an int-returning call returns exactly @want. */
#define tu_assert_rc(expr, want) do {						\
	long long tu_got_ = (long long)(expr);					\
	long long tu_want_ = (long long)(want);					\
	cr_assert(tu_got_ == tu_want_, "%s:%d: %s: expected %s, got %s",	\
		  __FILE__, __LINE__, #expr, tu_err(tu_want_), tu_err(tu_got_));\
} while (0)
#define tu_assert_ok(expr) tu_assert_rc(expr, 0)

/* Assert that @expr returns one of two values. */
#define tu_assert_rc2(expr, want1, want2) do {					\
	long long tu_got_ = (long long)(expr);					\
	long long tu_w1_ = (long long)(want1), tu_w2_ = (long long)(want2);	\
	cr_assert(tu_got_ == tu_w1_ || tu_got_ == tu_w2_,			\
		  "%s:%d: %s: expected %s or %s, got %s", __FILE__, __LINE__,	\
		  #expr, tu_err(tu_w1_), tu_err(tu_w2_), tu_err(tu_got_));	\
} while (0)

/* Assert two unsigned 64-bit values are equal, printing both. */
#define tu_assert_u64(got, want) do {						\
	unsigned long long tu_g_ = (unsigned long long)(got);			\
	unsigned long long tu_w_ = (unsigned long long)(want);			\
	cr_assert(tu_g_ == tu_w_, "%s:%d: %s: expected %llu, got %llu",		\
		  __FILE__, __LINE__, #got, tu_w_, tu_g_);			\
} while (0)

/* Skip the running test; cleans up first (Criterion runs no .fini on skip). */
#define tu_skip(...) do { tu_teardown(); cr_skip_test(__VA_ARGS__); } while (0)

/* Create @name in @ns with the given geometry (EXCL); asserts success. */
struct woof *tu_create(struct woof_ns *ns, const char *name,
		       uint64_t element_size, uint64_t history_size);
/* Fill a woof_create_opts. */
struct woof_create_opts tu_opts(uint64_t element_size, uint64_t history_size,
				uint32_t create);

#endif /* WOOF_TESTUTIL_H */
