/* SPDX-License-Identifier: MIT */
/*
 * names.c - what a WOOF name may be, and how CSPOT-style names resolve.
 *
 * A name is one path component of the namespace directory: it can never
 * contain '/', so no name reaches outside its namespace. Names beginning
 * with '.' are reserved for the namespace's own files (.woof/), and so are
 * the plain names of the files a namespace directory holds by design
 * (woof.conf).
 *
 * A woof:// URI names a namespace by absolute path on a host. The host is
 * this host when it is empty, "localhost", a loopback address, this host's
 * name, or one of its interface addresses; no DNS look-up is ever made, so
 * resolving a name never blocks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "woof-internal.h"

#define URI_PREFIX "woof://"
#define URI_PREFIX_LEN 7

/*
 * Plain names the namespace directory holds by design: a WOOF or a handler
 * of one of these names would be taken for (or would shadow) the
 * namespace's own file. Names beginning with '.' are refused as a whole.
 */
static const char *const own_files[] = {
	WOOF_NS_CONF_FILE,	/* dispatcherd's configuration */
};

/* The rule @name breaks, with its errno in *@err; NULL for a valid name. */
static const char *name_fault(const char *name, int *err)
{
	size_t n, i;

	*err = -EINVAL;
	if (!name)
		return "no name (NULL)";
	if (!name[0])
		return "the name is empty";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "\".\" and \"..\" are not names";
	if (woof_name_reserved(name))
		return "names beginning with '.' are reserved for the namespace's own files (.woof/)";
	for (i = 0; i < sizeof(own_files) / sizeof(own_files[0]); i++)
		if (!strcmp(name, own_files[i]))
			return "the name of the namespace's own file (woof.conf: dispatcherd's configuration)";
	for (n = 0; name[n]; n++) {
		unsigned char c = (unsigned char)name[n];

		if (n >= WOOF_NAME_MAX) {
			*err = -ENAMETOOLONG;
			return "longer than 255 bytes";
		}
		if (c == '/')
			return "contains '/' (a name is one path component)";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character (0x00-0x1f or 0x7f)";
	}
	*err = 0;
	return NULL;
}

int woof_name_check(const char *name)
{
	int err;

	name_fault(name, &err);
	return err;
}

const char *woof_name_fault(const char *name)
{
	int err;

	return name_fault(name, &err);
}

/* ---- this host's addresses, read once ---- */

struct local_addrs {
	int n;
	struct { int family; unsigned char a[16]; } addr[64];
	char hostname[256];
};
static struct local_addrs local;
static pthread_once_t local_once = PTHREAD_ONCE_INIT;

static void local_load(void)
{
	struct ifaddrs *ifa, *i;

	if (gethostname(local.hostname, sizeof(local.hostname) - 1) < 0)
		local.hostname[0] = 0;
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i && local.n < 64; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			local.addr[local.n].family = AF_INET;
			memcpy(local.addr[local.n++].a,
			       &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			local.addr[local.n].family = AF_INET6;
			memcpy(local.addr[local.n++].a,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
}

static bool addr_is_local(int family, const unsigned char *a)
{
	int i;

	if (family == AF_INET && a[0] == 127)
		return true;
	if (family == AF_INET6 && IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)a))
		return true;
	pthread_once(&local_once, local_load);
	for (i = 0; i < local.n; i++)
		if (local.addr[i].family == family &&
		    !memcmp(local.addr[i].a, a, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

int woof_uri_is_local_host(const char *host, size_t len)
{
	char buf[256];
	unsigned char a[16];
	size_t hl;

	if (len == 0)
		return 1;
	if (len >= sizeof(buf))
		return 0;
	if (host[0] == '[') {		/* [IPv6] */
		if (len < 3 || host[len - 1] != ']')
			return -EINVAL;
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = 0;
		if (inet_pton(AF_INET6, buf, a) != 1)
			return -EINVAL;
		return addr_is_local(AF_INET6, a);
	}
	memcpy(buf, host, len);
	buf[len] = 0;
	if (inet_pton(AF_INET, buf, a) == 1)
		return addr_is_local(AF_INET, a);
	if (!strcasecmp(buf, "localhost") || !strcasecmp(buf, "localhost.localdomain") ||
	    !strcasecmp(buf, "ip6-localhost"))
		return 1;
	pthread_once(&local_once, local_load);
	hl = strcspn(local.hostname, ".");
	if (local.hostname[0] &&
	    (!strcasecmp(buf, local.hostname) ||
	     (strlen(buf) == hl && !strncasecmp(buf, local.hostname, hl))))
		return 1;
	return 0;
}

/* Copy @src[0..len) to @dst (size @cap) with NUL, or -ENAMETOOLONG. */
static int copy_out(char *dst, size_t cap, const char *src, size_t len)
{
	if (len + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, len);
	dst[len] = 0;
	return 0;
}

/* Normalise an absolute URI path into @dst: collapse "//", refuse "." and
 * ".." components and control characters. */
static int uri_path(const char *p, size_t len, char *dst, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t start, clen;

		while (i < len && p[i] == '/')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && p[i] != '/') {
			unsigned char c = (unsigned char)p[i];

			if (c < 0x20 || c == 0x7f)
				return -EINVAL;
			i++;
		}
		clen = i - start;
		if ((clen == 1 && p[start] == '.') ||
		    (clen == 2 && p[start] == '.' && p[start + 1] == '.'))
			return -EINVAL;
		if (o + 1 + clen + 1 > cap)
			return -ENAMETOOLONG;
		dst[o++] = '/';
		memcpy(dst + o, p + start, clen);
		o += clen;
	}
	if (o == 0)
		return -EINVAL;
	dst[o] = 0;
	return 0;
}

int woof_resolve(const char *def_dir, const char *woof_name,
		 char *nsdir, size_t nsdir_len, char *name, size_t name_len)
{
	const char *host, *slash;
	char path[4096];
	char *last;
	size_t hlen;
	int ret;

	if (!woof_name || !nsdir || !name)
		return -EINVAL;
	if (strncasecmp(woof_name, URI_PREFIX, URI_PREFIX_LEN) != 0) {
		const char *dir = def_dir;

		ret = woof_name_check(woof_name);
		if (ret)
			return ret;
		if (!dir)
			dir = getenv("WOOFC_DIR");
		if (!dir || !dir[0])
			dir = ".";
		ret = copy_out(nsdir, nsdir_len, dir, strlen(dir));
		return ret ? ret : copy_out(name, name_len, woof_name, strlen(woof_name));
	}

	host = woof_name + URI_PREFIX_LEN;
	slash = strchr(host, '/');
	if (!slash)
		return -EINVAL;		/* "woof://host": no path */
	hlen = (size_t)(slash - host);
	if (slash[strlen(slash) - 1] == '/')
		return -EINVAL;		/* "woof://host/dir/": no name */
	ret = uri_path(slash, strlen(slash), path, sizeof(path));
	if (ret)
		return ret;
	last = strrchr(path, '/');
	if (last == path)
		return -EINVAL;		/* "woof://host/name": no namespace */
	*last = 0;
	ret = woof_name_check(last + 1);
	if (ret)
		return ret;
	ret = woof_uri_is_local_host(host, hlen);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return -EREMOTE;
	ret = copy_out(nsdir, nsdir_len, path, strlen(path));
	return ret ? ret : copy_out(name, name_len, last + 1, strlen(last + 1));
}
