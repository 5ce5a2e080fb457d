/* SPDX-License-Identifier: MIT */
/*
 * notify.c - the sd_notify protocol, without libsystemd: one datagram of
 * "KEY=VALUE\n" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a
 * path, or "@name" for the abstract namespace). Used for READY=1,
 * STATUS=..., RELOADING=1 and STOPPING=1. Nothing happens when the
 * variable is unset (not started by systemd with Type=notify).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dispatcherd.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

int notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");
	size_t len;

	if (!s || !*s)
		return 0;
	len = strlen(s);
	if ((s[0] != '/' && s[0] != '@') || len >= sizeof(notify_addr.sun_path)) {
		log_warn("NOTIFY_SOCKET=%s: not a socket path; not notifying systemd", s);
		return 0;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, s, len);
	if (s[0] == '@')
		notify_addr.sun_path[0] = '\0';	/* abstract: no trailing NUL counted */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				 (s[0] == '/' ? 1 : 0));
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0) {
		log_warn("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return -errno;
	}
	/* children (handlers) must not talk to systemd as us */
	unsetenv("NOTIFY_SOCKET");
	return 1;
}

void notify_send(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (sendto(notify_fd, buf, (size_t)n, MSG_NOSIGNAL,
		   (struct sockaddr *)&notify_addr, notify_len) < 0)
		dbg("sd_notify: sendto: %s", strerror(errno));
}
