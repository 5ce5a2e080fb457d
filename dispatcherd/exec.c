/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the exec runtime (the cosmos seed's "hostexec"): a call is one
 * run of the handler program, the file named like the handler in the
 * namespace directory. For CSPOT handlers that program is the handler
 * function linked with libwoof's shepherd main() (lib/shepherd.c); any
 * other executable (a script with #!) works too and finds its call in the
 * environment and its element on fd 3.
 *
 * What the program gets:
 *   argv      { HANDLER }
 *   fd 0      /dev/null
 *   fd 1, 2   pipes into the namespace's .woof/log
 *   fd 3      the element (a read-only spool file; read it from offset 0)
 *   env       WOOFC_DIR, WOOF_HANDLER, WOOF_CALL_WOOF, WOOF_CALL_SEQ,
 *             WOOF_CALL_TRIGGER, WOOF_CALL_ATTEMPT, WOOF_CALL_REDELIVERED,
 *             WOOF_CALL_FD, WOOF_CALL_SIZE, and PATH, HOME (the namespace),
 *             WOOF_NS_DEVICE when woof.ko serves the namespace, plus LANG, LC_ALL, TZ, LD_LIBRARY_PATH when dispatcherd has them
 *
 * Cost: one fork+exec of the program (0.8-0.9 ms for a dynamic glibc
 * program on the reference machine) plus the sandbox's clone flags - or,
 * for a program linked with libwoof-shepherd's main(), one packet to a
 * "spare" started ahead of the call (exec-spares.c), and the replacing
 * spare's start after the call has begun.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dispatcherd.h"

int handler_file_check(struct nsd *n, const char *handler, char *path, size_t len)
{
	struct stat st;

	if ((size_t)snprintf(path, len, "%s/%s", n->path, handler) >= len)
		return -ENAMETOOLONG;
	if (woof_name_check(handler))
		return -ENOENT;
	/*
	 * lstat: a handler's user may have made the file a link (to a device,
	 * to a root-only file); dispatcherd, which may be root, follows none.
	 */
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	if (access(path, X_OK) < 0)
		return -EACCES;
	return 0;
}

/* Append "NAME=VALUE" to @envp, the text going to @store. */
int exec_env_add(char **envp, size_t *n, size_t max, char **store, size_t *left,
		   const char *name, const char *value)
{
	int len;

	if (*n + 1 >= max)
		return -E2BIG;
	len = snprintf(*store, *left, "%s=%s", name, value);
	if (len < 0 || (size_t)len >= *left)
		return -E2BIG;
	envp[(*n)++] = *store;
	envp[*n] = NULL;
	*store += len + 1;
	*left -= (size_t)len + 1;
	return 0;
}

/* The variables of call @c, "NAME=VALUE" each ending in NUL, into @buf: bytes used or -E2BIG. */
int exec_call_vars(const struct call *c, char *buf, size_t len)
{
	int k = snprintf(buf, len,
			 "WOOF_CALL_WOOF=%s%cWOOF_CALL_SEQ=%llu%cWOOF_CALL_TRIGGER=%llu%c"
			 "WOOF_CALL_ATTEMPT=%u%cWOOF_CALL_REDELIVERED=%s%cWOOF_CALL_FD=3%c"
			 "WOOF_CALL_SIZE=%llu%c",
			 c->tr.woof, 0, (unsigned long long)c->tr.woof_seq, 0,
			 (unsigned long long)c->tseq, 0, c->attempt, 0, c->attempt > 1 ? "1" : "0", 0,
			 0, (unsigned long long)c->el_size, 0);

	return k < 0 || (size_t)k >= len ? -E2BIG : k;
}

/* What every program of @n's handler @handler gets, call or spare. */
int exec_env_base(struct nsd *n, const char *handler, char **envp, size_t *k, size_t max,
		    char **store, size_t *left)
{
	static const char *const pass[] = { "LANG", "LC_ALL", "TZ", "LD_LIBRARY_PATH", NULL };
	int ret = 0;

	envp[0] = NULL;
	ret |= exec_env_add(envp, k, max, store, left, "PATH", "/usr/local/bin:/usr/bin:/bin");
	ret |= exec_env_add(envp, k, max, store, left, "HOME", n->path);
	ret |= exec_env_add(envp, k, max, store, left, "WOOFC_DIR", n->path);
	ret |= exec_env_add(envp, k, max, store, left, "WOOF_HANDLER", handler);
	if (sandbox_ns_woof_device(n->sns))	/* the kernel engine in the handler */
		ret |= exec_env_add(envp, k, max, store, left, "WOOF_NS_DEVICE",
			       sandbox_ns_woof_device(n->sns));
	for (const char *const *p = pass; *p; p++) {
		const char *v = getenv(*p);

		if (v)
			ret |= exec_env_add(envp, k, max, store, left, *p, v);
	}
	return ret ? -E2BIG : 0;
}

int exec_build_env(struct nsd *n, const struct call *c, char **envp, size_t max,
		   char *store, size_t store_len)
{
	size_t k = 0;
	int len;

	if (exec_env_base(n, c->tr.handler, envp, &k, max, &store, &store_len))
		return -E2BIG;
	len = exec_call_vars(c, store, store_len);
	if (len < 0)
		return len;
	for (char *v = store; v < store + len; v += strlen(v) + 1) {
		if (k + 1 >= max)
			return -E2BIG;
		envp[k++] = v;
		envp[k] = NULL;
	}
	return 0;
}

static int exec_start(struct nsd *n, struct call *c)
{
	char path[PATH_MAX];
	char store[4096 + 3 * PATH_MAX];
	char *envp[32];
	char *argv[2];
	struct stat st;
	bool ahead;
	int ret;

	/* the core checked the file (handler_file_check) just before */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", n->path, c->tr.handler) >= sizeof(path))
		return -ENAMETOOLONG;

	/* a program started ahead of this call, from this very file (exec-spares.c) */
	ret = exec_spare_try(n, c, path, &st, &ahead);
	if (ret)
		return ret == 1 ? 0 : ret;

	ret = exec_build_env(n, c, envp, sizeof(envp) / sizeof(envp[0]), store, sizeof(store));
	if (ret)
		return ret;
	argv[0] = c->tr.handler;
	argv[1] = NULL;

	struct sandbox_spawn sp = {
		.path = path,
		.argv = argv,
		.envp = envp,
		.stdin_fd = n->d->devnull,
		.stdout_fd = c->out_w,
		.stderr_fd = c->err_w,
		.keep_fds = &c->spool_fd,
		.nkeep = 1,
	};
	ret = sandbox_spawn(n->sns, &sp, &c->sc);
	if (!ret && ahead)
		exec_spares_top_up(n, c->h, path, &st);
	return ret;
}

static void exec_kill(struct nsd *n, struct call *c)
{
	int ret = sandbox_kill(&c->sc);

	if (ret)
		log_warn("%s: trigger %llu: kill pid %d: %s", n->path,
			 (unsigned long long)c->tseq, (int)c->sc.pid, strerror(-ret));
}

const struct runtime_ops runtime_exec = {
	.name = "exec",
	.start = exec_start,
	.kill = exec_kill,
	.release = NULL,
};
