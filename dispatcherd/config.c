/* SPDX-License-Identifier: MIT */
/*
 * config.c - parse a namespace's woof.conf (format in config.h and
 * Documentation/dispatcherd.md). Pure: no logging, no global state; errors
 * come back as "FILE:LINE: reason".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <woof.h>
#include "config.h"

void conf_defaults(struct ns_conf *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	c->max_concurrent = n > 0 ? 2 * (unsigned)n : 2;
	c->timeout_ns = CONF_DEFAULT_TIMEOUT_NS;
	c->cpu_period_us = 100000;
	c->output_max = CONF_DEFAULT_OUTPUT_MAX;
	c->spool_max = CONF_DEFAULT_SPOOL_MAX;
}

void conf_free(struct ns_conf *c)
{
	struct handler_conf *h, *next;

	for (h = c->handlers; h; h = next) {
		next = h->next;
		free(h);
	}
	c->handlers = NULL;
}

const struct handler_conf *conf_handler(const struct ns_conf *c, const char *name)
{
	for (const struct handler_conf *h = c->handlers; h; h = h->next)
		if (strcmp(h->name, name) == 0)
			return h;
	return NULL;
}

const char *conf_runtime_name(enum runtime_kind k)
{
	switch (k) {
	case RT_EXEC: return "exec";
	case RT_ZYGOTE: return "zygote";
	case RT_WARM: return "warm";
	}
	return "?";
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* a decimal number with an optional unit from @units (multipliers) */
struct unit {
	const char *suffix;
	uint64_t mult;
};

static int parse_scaled(const char *v, const struct unit *units, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	if (!*end) {
		*out = n * units[0].mult;
		return 0;
	}
	for (const struct unit *u = units; u->suffix; u++) {
		if (strcasecmp(end, u->suffix) == 0) {
			if (u->mult && n > UINT64_MAX / u->mult)
				return -ERANGE;
			*out = n * u->mult;
			return 0;
		}
	}
	return -EINVAL;
}

static const struct unit time_units[] = {
	{ "s", 1000000000ULL },		/* the first entry is the default unit */
	{ "ms", 1000000ULL },
	{ "us", 1000ULL },
	{ "sec", 1000000000ULL },
	{ "m", 60ULL * 1000000000ULL },
	{ "min", 60ULL * 1000000000ULL },
	{ "h", 3600ULL * 1000000000ULL },
	{ NULL, 0 },
};

static const struct unit size_units[] = {
	{ "", 1 },
	{ "k", 1ULL << 10 }, { "kib", 1ULL << 10 }, { "kb", 1ULL << 10 },
	{ "m", 1ULL << 20 }, { "mib", 1ULL << 20 }, { "mb", 1ULL << 20 },
	{ "g", 1ULL << 30 }, { "gib", 1ULL << 30 }, { "gb", 1ULL << 30 },
	{ "t", 1ULL << 40 }, { "tib", 1ULL << 40 },
	{ NULL, 0 },
};

static bool is_none(const char *v)
{
	return !strcasecmp(v, "max") || !strcasecmp(v, "none") || !strcasecmp(v, "off") ||
	       !strcasecmp(v, "unlimited");
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_duration(const char *v, uint64_t *ns)
{
	if (is_none(v)) {
		*ns = 0;
		return 0;
	}
	return parse_scaled(v, time_units, ns);
}

static int parse_size(const char *v, uint64_t *n)
{
	if (is_none(v)) {
		*n = 0;
		return 0;
	}
	return parse_scaled(v, size_units, n);
}

static int parse_uint(const char *v, uint64_t max, uint64_t *n)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return -ERANGE;
	*n = x;
	return 0;
}

/* cpu_max: "50%" (of one CPU, period 100 ms), "QUOTA PERIOD" in us, or max */
static int parse_cpu(const char *v, uint32_t *quota, uint32_t *period)
{
	unsigned long q, p;
	char *end;

	if (is_none(v)) {
		*quota = 0;
		*period = 100000;
		return 0;
	}
	errno = 0;
	q = strtoul(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	if (*end == '%' && !end[1]) {
		if (q == 0 || q > 100000)
			return -ERANGE;
		*period = 100000;
		*quota = (uint32_t)(q * 1000);
		return 0;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (!*end) {
		p = 100000;
	} else {
		const char *ps = end;

		p = strtoul(ps, &end, 10);
		if (errno || end == ps || *end)
			return -EINVAL;
	}
	if (q < 1000 || p < 1000 || p > 1000000 || q > UINT32_MAX)
		return -ERANGE;
	*quota = (uint32_t)q;
	*period = (uint32_t)p;
	return 0;
}

static int parse_user(const char *v, struct ns_conf *c)
{
	char buf[64];
	char *colon, *end;

	if (strlen(v) >= sizeof(c->user))
		return -ENAMETOOLONG;
	snprintf(c->user, sizeof(c->user), "%s", v);
	snprintf(buf, sizeof(buf), "%s", v);
	colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	if (isdigit((unsigned char)buf[0])) {
		unsigned long u = strtoul(buf, &end, 10);

		if (*end)
			return -EINVAL;
		c->uid = (uid_t)u;
		c->gid = (gid_t)u;
	} else {
		struct passwd *pw = getpwnam(buf);

		if (!pw)
			return -ESRCH;
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
	}
	if (colon) {
		if (!*colon)
			return -EINVAL;
		if (isdigit((unsigned char)colon[0])) {
			unsigned long g = strtoul(colon, &end, 10);

			if (*end)
				return -EINVAL;
			c->gid = (gid_t)g;
		} else {
			struct group *gr = getgrnam(colon);

			if (!gr)
				return -ESRCH;
			c->gid = gr->gr_gid;
		}
	}
	/* handlers never run as root, nor with root's group */
	if (c->uid == 0 || (colon && c->gid == 0))
		return -EPERM;
	c->user_set = true;
	c->group_set = colon != NULL;
	return 0;
}

static int errf(char *err, size_t len, const char *path, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int errf(char *err, size_t len, const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, len, "%s:%u: ", path, line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(err + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int set_ns_key(struct ns_conf *c, const char *k, const char *v, const char **why)
{
	uint64_t n;
	int ret;

	*why = NULL;
	if (!strcmp(k, "max_concurrent")) {
		ret = parse_uint(v, 65536, &n);
		if (!ret && n == 0)
			ret = -ERANGE;
		if (!ret)
			c->max_concurrent = (unsigned)n;
		*why = "a number from 1 to 65536";
	} else if (!strcmp(k, "timeout")) {
		ret = parse_duration(v, &c->timeout_ns);
		*why = "a duration like 30s, 500ms, 2m or 0 (none)";
	} else if (!strcmp(k, "memory_max")) {
		ret = parse_size(v, &c->memory_max);
		*why = "a size like 256M, 1G, or max";
	} else if (!strcmp(k, "pids_max")) {
		ret = is_none(v) ? (c->pids_max = 0, 0) : parse_uint(v, 1u << 22, &c->pids_max);
		*why = "a number or max";
	} else if (!strcmp(k, "cpu_max")) {
		ret = parse_cpu(v, &c->cpu_quota_us, &c->cpu_period_us);
		*why = "a percentage of one CPU (50%), \"QUOTA_US PERIOD_US\" (quota >= 1000, "
		       "period 1000..1000000), or max";
	} else if (!strcmp(k, "network")) {
		ret = parse_bool(v, &c->network);
		*why = "yes or no";
	} else if (!strcmp(k, "user")) {
		ret = parse_user(v, c);
		*why = ret == -ESRCH ? "no such user or group" :
		       ret == -EPERM ? "not root (uid 0) nor root's group: handlers never run as "
				       "root; name an unprivileged user, e.g. user = nobody" :
				       "a user name or UID, optionally :GROUP or :GID";
	} else if (!strcmp(k, "output_max")) {
		ret = parse_size(v, &c->output_max);
		if (!ret && c->output_max == 0)
			c->output_max = UINT64_MAX;
		*why = "a size like 64K, 1M, or max";
	} else if (!strcmp(k, "spool_max")) {
		ret = parse_size(v, &c->spool_max);
		if (!ret && c->spool_max == 0)
			c->spool_max = UINT64_MAX;
		*why = "a size like 64M, 1G, or max";
	} else {
		return -ENOENT;
	}
	return ret;
}

static int set_handler_key(struct handler_conf *h, const char *k, const char *v,
			   const char **why)
{
	uint64_t n;
	int ret;

	if (!strcmp(k, "runtime")) {
		*why = "exec, zygote or warm";
		if (!strcmp(v, "exec"))
			h->runtime = RT_EXEC;
		else if (!strcmp(v, "zygote"))
			h->runtime = RT_ZYGOTE;
		else if (!strcmp(v, "warm"))
			h->runtime = RT_WARM;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(k, "timeout")) {
		*why = "a duration like 30s, 500ms, 2m or 0 (none)";
		ret = parse_duration(v, &h->timeout_ns);
		if (!ret)
			h->timeout_set = true;
		return ret;
	}
	if (!strcmp(k, "workers")) {
		*why = "a number from 1 to 4096";
		ret = parse_uint(v, 4096, &n);
		if (!ret && n == 0)
			ret = -ERANGE;
		if (!ret)
			h->workers = (unsigned)n;
		return ret;
	}
	if (!strcmp(k, "spares")) {
		*why = "a number from 0 to 8";
		ret = parse_uint(v, CONF_MAX_SPARES, &n);
		if (!ret) {
			h->spares = (unsigned)n;
			h->spares_set = true;
		}
		return ret;
	}
	return -ENOENT;
}

int conf_load(const char *path, struct ns_conf *c, bool *found, char *err, size_t errlen)
{
	struct handler_conf *cur = NULL, **tail;
	bool in_ns = false;
	char line[1024];
	unsigned lineno = 0;
	FILE *f;
	int ret = 0;

	conf_defaults(c);
	tail = &c->handlers;
	*found = false;
	/*
	 * woof.conf lives in the namespace, whose owner (maybe the handlers'
	 * user) could make it a link to any file, or a FIFO: a link is
	 * followed only when root made it, and only a regular file is read.
	 */
	{
		struct stat st;
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

		if (fd < 0 && errno == ELOOP && lstat(path, &st) == 0 && st.st_uid == 0)
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			if (errno == ENOENT)
				return 0;
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
				 "a symbolic link that root did not make: not followed" :
				 strerror(errno));
			return ret;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			snprintf(err, errlen, "%s: not a regular file", path);
			return -EINVAL;
		}
		f = fdopen(fd, "re");
		if (!f) {
			ret = -errno;
			close(fd);
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			return ret;
		}
	}
	*found = true;
	{
		/* a WOOF named woof.conf, made before the name was refused */
		uint64_t magic = 0;

		if (fread(&magic, sizeof(magic), 1, f) == 1 && magic == WOOF_FORMAT_MAGIC) {
			ret = -EINVAL;
			snprintf(err, errlen, "%s is a WOOF, not a configuration file (made "
				 "before woof.conf was refused as a WOOF name): move it away, "
				 "e.g. mv %s %s.woof", path, path, path);
			goto out;
		}
		rewind(f);
	}

	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *k, *v;
		const char *why = NULL;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			ret = errf(err, errlen, path, lineno, "line longer than %zu bytes",
				   sizeof(line) - 2);
			goto out;
		}
		/* comments: '#' or ';' at the start or after whitespace */
		for (s = line; *s; s++) {
			if ((*s == '#' || *s == ';') &&
			    (s == line || isspace((unsigned char)s[-1]))) {
				*s = '\0';
				break;
			}
		}
		s = trim(line);
		if (!*s)
			continue;

		if (*s == '[') {
			char *close = strchr(s, ']');
			char *sec;

			if (!close || trim(close + 1)[0]) {
				ret = errf(err, errlen, path, lineno, "malformed section header");
				goto out;
			}
			*close = '\0';
			sec = trim(s + 1);
			if (!strcmp(sec, "namespace")) {
				in_ns = true;
				cur = NULL;
				continue;
			}
			if (!strncmp(sec, "handler", 7) && isspace((unsigned char)sec[7])) {
				char *name = trim(sec + 8);
				int nret = woof_name_check(name);

				if (nret) {
					ret = errf(err, errlen, path, lineno,
						   "bad handler name '%s': %s", name,
						   woof_name_fault(name));
					goto out;
				}
				if (conf_handler(c, name)) {
					ret = errf(err, errlen, path, lineno,
						   "second [handler %s] section", name);
					goto out;
				}
				cur = calloc(1, sizeof(*cur));
				if (!cur) {
					ret = -ENOMEM;
					snprintf(err, errlen, "%s: out of memory", path);
					goto out;
				}
				snprintf(cur->name, sizeof(cur->name), "%s", name);
				cur->runtime = RT_EXEC;
				*tail = cur;
				tail = &cur->next;
				in_ns = false;
				continue;
			}
			ret = errf(err, errlen, path, lineno,
				   "unknown section [%s] (expected [namespace] or [handler NAME])",
				   sec);
			goto out;
		}

		eq = strchr(s, '=');
		if (!eq) {
			ret = errf(err, errlen, path, lineno, "expected 'key = value'");
			goto out;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (!*k || !*v) {
			ret = errf(err, errlen, path, lineno, "expected 'key = value'");
			goto out;
		}
		/* allow "quoted values" */
		if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		if (in_ns) {
			int r = set_ns_key(c, k, v, &why);

			if (r == -ENOENT) {
				ret = errf(err, errlen, path, lineno,
					   "unknown key '%s' in [namespace] (known: max_concurrent, "
					   "timeout, memory_max, pids_max, cpu_max, network, user, "
					   "output_max, spool_max)", k);
				goto out;
			}
			if (r) {
				ret = errf(err, errlen, path, lineno, "bad value '%s' for %s: %s",
					   v, k, why ? why : strerror(-r));
				goto out;
			}
		} else if (cur) {
			int r = set_handler_key(cur, k, v, &why);

			if (r == -ENOENT) {
				ret = errf(err, errlen, path, lineno,
					   "unknown key '%s' in [handler %s] (known: runtime, "
					   "timeout, workers, spares)", k, cur->name);
				goto out;
			}
			if (r) {
				ret = errf(err, errlen, path, lineno, "bad value '%s' for %s: %s",
					   v, k, why ? why : strerror(-r));
				goto out;
			}
		} else {
			ret = errf(err, errlen, path, lineno,
				   "'%s' outside a section (start with [namespace])", k);
			goto out;
		}
	}
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
out:
	fclose(f);
	if (ret)
		conf_free(c);
	return ret;
}
