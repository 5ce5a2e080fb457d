/* SPDX-License-Identifier: MIT */
/*
 * sandbox-internal.h - what the sandbox's source files share: raw system
 * call wrappers (clone3 with a child function on its own stack, the new
 * mount API, pidfds), small file helpers for cgroupfs, the cgroup part of
 * the probe, and the mount-tree builder that runs in a namespace's holder.
 * Not installed; nothing outside dispatcherd/sandbox*.c and the sandbox
 * selftests includes it.
 */
#ifndef WOOF_DISPATCHERD_SANDBOX_INTERNAL_H
#define WOOF_DISPATCHERD_SANDBOX_INTERNAL_H

#include "sandbox.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

/* clone3() argument block (struct clone_args, version 2 = 88 bytes). */
struct sbx_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};

#define SBX_CLONE_PIDFD		0x00001000ULL
#define SBX_CLONE_CLEAR_SIGHAND	0x100000000ULL
#define SBX_CLONE_INTO_CGROUP	0x200000000ULL

/*
 * Fork-like clone3 (no new stack): returns the child's pid in the parent,
 * 0 in the child, -errno on failure (never touches errno).
 */
long sbx_clone3(struct sbx_clone_args *ca);
/*
 * clone3 whose child runs fn(arg) on ca->stack and exits with its return
 * value; meant for CLONE_VM children. Returns the pid or -errno;
 * -ENOSYS where this architecture has no trampoline (see
 * sbx_have_clone_fn()).
 */
long sbx_clone3_fn(struct sbx_clone_args *ca, int (*fn)(void *), void *arg);
bool sbx_have_clone_fn(void);
/*
 * Start fn(arg) in a child: with CLONE_VM on ca->stack when the
 * trampoline exists, else fork-like (CLONE_VM and the stack dropped, the
 * child runs fn on its copy of the caller's stack).
 */
long sbx_start(struct sbx_clone_args *ca, int (*fn)(void *), void *arg);

/* Small helpers (sandbox-cgroup.c). Return 0 or -errno. */
int sbx_write_at(int dirfd, const char *name, const char *val);
ssize_t sbx_read_at(int dirfd, const char *name, char *buf, size_t len);
bool sbx_word_in(const char *list, const char *word);
void sbx_why(struct sandbox_caps *caps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The cgroup part of sandbox_probe() (sandbox-cgroup.c). */
void sbx_probe_cgroups(struct sandbox_caps *caps);
/* Remove a cgroup directory, killing what is left in it; waits <= ~2 s. */
int sbx_cg_remove(int parentfd, const char *name);

/*
 * The device filter (sandbox-devices.c): a BPF cgroup-device program on
 * the namespace's cgroup that allows only the character devices of the
 * sandbox's /dev (null zero full random urandom tty) and the namespace's
 * own woof.ko device.
 */
struct sbx_devnum {
	uint32_t major, minor;
};
/* Part of the probe: load the filter and attach it to the empty cgroup
 * @cgfd (-1: none), detach it again; sets caps->dev_filter, or
 * caps->dev_filter_why and a why_not line. */
void sbx_dev_probe(struct sandbox_caps *caps, int cgfd);
/* Attach a filter allowing the base list plus @extra (entries with major
 * 0 are skipped) to the cgroup @cgfd, replacing the device programs an
 * earlier run left on it. 0 or -errno. */
int sbx_dev_attach(int cgfd, const struct sbx_devnum *extra, int nextra);
/* The device woof.ko serves the directory @ns_dir as (matched by st_dev
 * and st_ino of the paths WOOF_IOC_NS_LIST returns): 1 and *out, 0 if
 * none (no module, not mounted), -errno. */
int sbx_dev_woof_lookup(const char *ns_dir, struct sbx_devnum *out);

/* The name of a namespace's cgroup: woof-<ns_name>-<8 hex digits of a
 * hash of its canonical directory>, so two namespace directories with one
 * basename get two cgroups. */
void sbx_ns_cgroup_name(const char *ns_dir, const char *ns_name, char *buf, size_t len);

/*
 * Build the handler's root in the calling process's (new, private) mount
 * namespace and pivot into it (sandbox-mount.c). Runs in a holder process.
 * @ns_dir is canonical; @alias (NULL if none) is the path the caller used
 * for it (through a symlink): the directory appears at both. @woofdev
 * (NULL if none) is the namespace's device node /dev/woof/<ns>, bound at
 * the same path in the new /dev.
 * On failure returns -errno and sets *step to a short name of what failed.
 */
int sbx_build_root(const char *ns_dir, const char *alias, const char *woofdev, size_t tmp_size,
		   const char **step);

/* The path of the device node through which woof.ko serves @ns_dir
 * (/dev/woof/<ns>, found by its device number): 1 and @path, 0 if not
 * served, -errno. @woofdev of sbx_build_root(): bound at that path. */
int sbx_woof_dev_path(const char *ns_dir, char *path, size_t len);

/* Test hooks (selftests only): restrict the namespace types a holder gets. */
#define SBX_NS_MOUNT	0x1u
#define SBX_NS_PID	0x2u
#define SBX_NS_IPC	0x4u
#define SBX_NS_UTS	0x8u
#define SBX_NS_ALL	0xfu
extern unsigned sbx_test_ns_mask;	/* default SBX_NS_ALL */
extern bool sbx_test_no_cgroup;		/* default false: skip call cgroups */
extern bool sbx_test_two_stage;		/* force the two-stage spawn as root */
extern struct sbx_devnum sbx_test_dev_extra;	/* one more allowed device (major 0: none) */
extern bool sbx_test_no_dev_filter;	/* default false: attach no device filter */

#endif
