/* SPDX-License-Identifier: MIT */
/*
 * config.h - a namespace's woof.conf: what dispatcherd may do there.
 *
 * The file is INI-like (see Documentation/dispatcherd.md for the full
 * reference):
 *
 *     [namespace]
 *     max_concurrent = 8        # calls running at once (default 2 * nproc)
 *     timeout = 30s             # per call; 0 = none (default 300s)
 *     memory_max = 256M         # cgroup memory.max; 0 or max = no limit
 *     pids_max = 64             # cgroup pids.max
 *     cpu_max = 50%             # or "QUOTA_US PERIOD_US", or max
 *     network = no              # a network namespace per call (0.6 ms)
 *     user = nobody             # or UID, with :GROUP or :GID; never root; root only
 *     output_max = 1M           # output bytes per call kept in .woof/log
 *     spool_max = 256M          # claimed elements waiting or running, on disk
 *
 *     [handler hw]
 *     runtime = exec            # exec | zygote | warm
 *     timeout = 5s
 *     workers = 2               # warm workers; for exec/zygote a per-handler cap
 *     spares = 2                # exec: programs started ahead of calls (0-8)
 *
 * A missing file means the defaults; a bad one is refused with
 * "FILE:LINE: reason" and nothing of it is used.
 */
#ifndef WOOF_DISPATCHERD_CONFIG_H
#define WOOF_DISPATCHERD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/woof.h>

#define WOOF_CONF_FILE WOOF_NS_CONF_FILE

enum runtime_kind {
	RT_EXEC = WOOF_RUNTIME_EXEC,
	RT_ZYGOTE = WOOF_RUNTIME_ZYGOTE,
	RT_WARM = WOOF_RUNTIME_WARM,
};

struct handler_conf {
	char name[WOOF_NAME_MAX + 1];
	enum runtime_kind runtime;
	bool timeout_set;
	uint64_t timeout_ns;		/* 0 = none */
	unsigned workers;		/* 0 = unset */
	bool spares_set;
	unsigned spares;		/* exec: spares to keep waiting */
	struct handler_conf *next;
};

struct ns_conf {
	unsigned max_concurrent;	/* >= 1 */
	uint64_t timeout_ns;		/* 0 = none */
	uint64_t memory_max;		/* bytes, 0 = no limit */
	uint64_t pids_max;		/* 0 = no limit */
	uint32_t cpu_quota_us;		/* 0 = no limit */
	uint32_t cpu_period_us;
	bool network;
	bool user_set;
	bool group_set;			/* user = U:G named the group */
	uid_t uid;
	gid_t gid;
	char user[64];			/* as written, for messages */
	uint64_t output_max;		/* bytes per call kept in the log */
	uint64_t spool_max;		/* bytes of claimed, unfinished elements */
	struct handler_conf *handlers;
};

#define CONF_DEFAULT_SPARES		2U
#define CONF_MAX_SPARES			8U
#define CONF_DEFAULT_TIMEOUT_NS		(300ULL * 1000000000ULL)
#define CONF_DEFAULT_OUTPUT_MAX		(1ULL << 20)
#define CONF_DEFAULT_SPOOL_MAX		(256ULL << 20)

/* Fill @c with the defaults. */
void conf_defaults(struct ns_conf *c);
/*
 * Read @path into @c. Returns 0 (also when the file does not exist: then
 * @c holds the defaults and *@found is false), or -EINVAL / -errno with a
 * message "PATH:LINE: reason" in @err. On failure @c is left empty.
 */
int conf_load(const char *path, struct ns_conf *c, bool *found, char *err, size_t errlen);
void conf_free(struct ns_conf *c);
/* The [handler NAME] section of @name, or NULL. */
const struct handler_conf *conf_handler(const struct ns_conf *c, const char *name);
const char *conf_runtime_name(enum runtime_kind k);

#endif
