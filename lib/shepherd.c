/* SPDX-License-Identifier: MIT */
/*
 * shepherd.c - main() for handler programs (libwoof-shepherd.a), CSPOT's
 * woofc-shepherd.c re-done: it turns a CSPOT handler function into the
 * program dispatcherd's exec runtime runs.
 *
 *     cc hw.c $(pkg-config --cflags --libs woof-handler) -o hw
 *
 * links hw() with this main(). When dispatcherd runs the program for a
 * call, main():
 *   1. finds the handler function by name with dlsym(): the name is
 *      $WOOF_HANDLER, else basename(argv[0]) (CSPOT's convention: the file
 *      hw holds the function hw). The program must export its symbols
 *      (-Wl,--export-dynamic, which woof-handler.pc adds), and the
 *      function must be in the program itself, not in a library;
 *   2. reads the element from fd $WOOF_CALL_FD (3), a read-only copy of
 *      the claimed element that dispatcherd made;
 *   3. opens the WOOF $WOOF_CALL_WOOF in the namespace $WOOFC_DIR with
 *      WooFOpen(), so the handler gets a real WOOF * (wf->shared->filename
 *      and the other header fields work as in CSPOT);
 *   4. calls handler(wf, $WOOF_CALL_SEQ, element) and exits 0 if it
 *      returned >= 0, 1 if it returned < 0.
 * Its own failures exit 2 (bad environment, no element) or 127 (no such
 * function) with a one-line reason on stderr, which dispatcherd logs.
 *
 * dispatcherd may also start the program before its call (a "spare",
 * woof-shepherd.h): main() then does step 1 and opens the WOOF of the
 * last call, and waits for the call's environment and element on
 * $WOOF_SPARE_FD, so a call skips the fork, exec and dynamic linking.
 *
 * Steps 1, 3 and 4 are functions (woof-shepherd.h) that dispatcherd's
 * woof-runner shares for the zygote and warm runtimes, where the function
 * lives in a shared object NAME.so and is called in a forked child or in
 * a long-lived worker: the same look-up rules, the same WOOF * and the
 * same exit convention in every runtime. Built with
 * -DWOOF_SHEPHERD_NO_MAIN, this file is just those functions.
 *
 * This is a program's main() and its helpers, not library code: it may
 * print (to stderr, which dispatcherd logs).
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "woofc.h"
#include "woof-shepherd.h"

int woof_shepherd_find(struct woof_shepherd *s, void *dl, const char *name, char *why,
		       size_t why_len)
{
	struct link_map *lm = NULL, *own = NULL;
	char none[1];
	Dl_info info;
	void *sym;

	if (!why || !why_len) {
		why = none;
		why_len = sizeof(none);
	}
	s->fn = NULL;
	dlerror();
	sym = dlsym(dl ? dl : RTLD_DEFAULT, name);
	if (!sym) {
		if (dl)
			snprintf(why, why_len, "no function '%s' in the handler's shared object "
				 "(name the function like the handler; build with -fPIC -shared)",
				 name);
		else
			snprintf(why, why_len, "no function '%s' in this program (name it like the "
				 "handler file, or set WOOF_HANDLER; link with -Wl,--export-dynamic: "
				 "pkg-config --libs woof-handler)", name);
		return WOOF_SHEPHERD_NOFN;
	}
	if (!dladdr1(sym, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm) {
		snprintf(why, why_len, "'%s': cannot tell where it is defined", name);
		return WOOF_SHEPHERD_NOFN;
	}
	if (dl) {
		/* in that object itself, not in libwoof, libc or another dependency */
		if (dlinfo(dl, RTLD_DI_LINKMAP, &own) != 0 || !own || own != lm) {
			snprintf(why, why_len, "'%s' is not defined in %s but in %s", name,
				 own && own->l_name ? own->l_name : "the handler's shared object",
				 lm->l_name && lm->l_name[0] ? lm->l_name : "the program");
			return WOOF_SHEPHERD_NOFN;
		}
	} else if (lm->l_name && lm->l_name[0]) {
		/* the program itself has the empty name */
		snprintf(why, why_len, "'%s' is not defined in this program but in %s", name,
			 lm->l_name);
		return WOOF_SHEPHERD_NOFN;
	}
	s->fn = (woof_handler_fn)sym;
	return WOOF_SHEPHERD_OK;
}

void woof_shepherd_close(struct woof_shepherd *s)
{
	if (s->wf)
		WooFFree(s->wf);
	s->wf = NULL;
	s->woof[0] = '\0';
}

/* The WOOF for a call: the kept one if it still is that WOOF's file. */
static WOOF *open_woof(struct woof_shepherd *s, const char *woof)
{
	WOOF *wf;

	if (s->wf && strcmp(s->woof, woof) == 0 &&
	    !(__atomic_load_n(&s->wf->shared->state, __ATOMIC_ACQUIRE) &
	      (WOOF_STATE_REPLACED | WOOF_STATE_REMOVED)))
		return s->wf;
	woof_shepherd_close(s);
	wf = WooFOpen(woof);
	if (wf && s->keep_open) {
		s->wf = wf;
		snprintf(s->woof, sizeof(s->woof), "%s", woof);
	}
	return wf;
}

int woof_shepherd_open(struct woof_shepherd *s, const char *woof)
{
	s->keep_open = true;
	return open_woof(s, woof) ? 0 : -(errno ? errno : ENOENT);
}

int woof_shepherd_call(struct woof_shepherd *s, const char *woof, unsigned long seq,
		       void *el, int *ret)
{
	WOOF *wf;
	int r;

	/* 3. the WOOF, as CSPOT's handlers see it */
	wf = open_woof(s, woof);
	if (!wf) {
		fprintf(stderr, "%s: cannot open WOOF '%s': %s\n", s->prog ? s->prog : "woof",
			woof, strerror(errno));
		fflush(stderr);
		return WOOF_SHEPHERD_SETUP;
	}

	/* 4. the call */
	r = s->fn(wf, seq, el);
	fflush(stdout);
	fflush(stderr);
	if (wf != s->wf)
		WooFFree(wf);
	if (ret)
		*ret = r;
	return r >= 0 ? WOOF_SHEPHERD_OK : WOOF_SHEPHERD_FAILED;
}

/* Read the whole element from @fd (from offset 0). */
int woof_shepherd_read_element(int fd, void **el, size_t *size)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < 0)
		return -EINVAL;
	*size = (size_t)st.st_size;
	buf = malloc(*size ? *size : 1);
	if (!buf)
		return -ENOMEM;
	while (got < *size) {
		ssize_t r = pread(fd, buf + got, *size - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;

			free(buf);
			return -e;
		}
		got += (size_t)r;
	}
	*el = buf;
	return 0;
}

#ifndef WOOF_SHEPHERD_NO_MAIN
#include <sys/socket.h>

/*
 * The note that lets dispatcherd start this program before its call
 * (woof-shepherd.h, "Spares"). retain: kept even with --gc-sections.
 */
#ifndef __has_attribute
#define __has_attribute(x) 0
#endif
#if __has_attribute(retain)
#define WOOF_RETAIN __attribute__((retain))
#else
#define WOOF_RETAIN
#endif
static const struct {
	unsigned int namesz, descsz, type;
	char name[8];
	char desc[8];
} spare_note __attribute__((used, aligned(4), section(".note.woof.spare"))) WOOF_RETAIN = {
	sizeof(WOOF_SPARE_NOTE_NAME), sizeof(WOOF_SPARE_NOTE_DESC), WOOF_SPARE_NOTE_TYPE,
	WOOF_SPARE_NOTE_NAME, WOOF_SPARE_NOTE_DESC,
};

static const char *prog = "woof-shepherd";

static int die(int status, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return status;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/*
 * A spare: wait on @sfd for the call. Returns 0 with the call's variables
 * in the environment and its element on fd 3, 1 when dispatcherd retired
 * the spare (end of file), or an exit status after printing why.
 */
static int spare_wait(int sfd)
{
	char buf[WOOF_SPARE_PACKET_MAX + 1];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { buf, WOOF_SPARE_PACKET_MAX };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t n;
	int elfd = -1;

	do
		n = recvmsg(sfd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return 1;
	if (n < 0)
		return die(2, "waiting for the call (spare): %s%s", strerror(errno), "");
	cm = CMSG_FIRSTHDR(&msg);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&elfd, CMSG_DATA(cm), sizeof(int));
	if (elfd < 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || buf[n - 1] != '\0') {
		if (elfd >= 0)
			close(elfd);
		return die(2, "malformed call packet from dispatcherd (spare)%s%s", "", "");
	}
	buf[n] = '\0';
	for (char *e = buf; e < buf + n; e += strlen(e) + 1) {
		char *eq = strchr(e, '=');

		/* only the call's own variables */
		if (strncmp(e, "WOOF_CALL_", 10) != 0 || !eq || eq == e + 10)
			return die(2, "malformed call packet from dispatcherd (spare)%s%s", "", "");
		*eq = '\0';
		if (setenv(e, eq + 1, 1) < 0)
			return die(2, "setenv: %s%s", strerror(errno), "");
		*eq = '=';
	}
	/* the element becomes fd 3, as for a program started for its call */
	if (elfd != 3) {
		if (dup2(elfd, 3) < 0)
			return die(2, "dup2: %s%s", strerror(errno), "");
		close(elfd);
	}
	if (sfd != 3)
		close(sfd);
	return 0;
}

int main(int argc, char **argv)
{
	struct woof_shepherd sh = { 0 };
	const char *name, *woof, *seq_s, *fd_s, *spare_s;
	int found = -1;
	unsigned long seq;
	size_t size = 0;
	char why[512];
	char *end;
	void *el = NULL;
	int fd, ret;

	(void)argc;
	name = getenv("WOOF_HANDLER");
	if (!name || !*name)
		name = argv[0] ? base_name(argv[0]) : "";
	prog = name[0] ? name : prog;
	sh.prog = prog;

	/* a spare (dispatcherd started it ahead of its call): load, then wait */
	spare_s = getenv("WOOF_SPARE_FD");
	if (spare_s && *spare_s && !getenv("WOOF_CALL_WOOF")) {
		int sfd = atoi(spare_s);
		const char *hint = getenv("WOOF_SPARE_WOOF");

		found = woof_shepherd_find(&sh, NULL, name, why, sizeof(why));
		if (found == WOOF_SHEPHERD_OK && hint && *hint)
			woof_shepherd_open(&sh, hint);	/* most calls go to the last one's WOOF */
		ret = spare_wait(sfd);
		if (ret)
			return ret == 1 ? 0 : ret;
		unsetenv("WOOF_SPARE_FD");
		unsetenv("WOOF_SPARE_WOOF");
	}

	woof = getenv("WOOF_CALL_WOOF");
	seq_s = getenv("WOOF_CALL_SEQ");
	if (!woof || !seq_s)
		return die(2, "%s%sthis program is a woof handler: dispatcherd runs it when a put "
			   "names it (WOOF_CALL_WOOF and WOOF_CALL_SEQ are not set)", "", "");
	errno = 0;
	seq = strtoul(seq_s, &end, 10);
	if (errno || *end || !*seq_s)
		return die(2, "bad WOOF_CALL_SEQ '%s'%s", seq_s, "");

	/* 1. the function, in this program (not a same-named library function) */
	if (found < 0)
		found = woof_shepherd_find(&sh, NULL, name, why, sizeof(why));
	if (found != WOOF_SHEPHERD_OK)
		return die(127, "%s%s", why, "");

	/* 2. the element dispatcherd claimed for this call */
	fd_s = getenv("WOOF_CALL_FD");
	fd = fd_s && *fd_s ? atoi(fd_s) : 3;
	ret = woof_shepherd_read_element(fd, &el, &size);
	if (ret)
		return die(2, "cannot read the element from fd %s: %s", fd_s ? fd_s : "3",
			   strerror(-ret));
	close(fd);

	/* 3. + 4. the WOOF, as CSPOT's handlers see it, and the call */
	ret = woof_shepherd_call(&sh, woof, seq, el, NULL);
	free(el);
	return ret;
}
#endif /* WOOF_SHEPHERD_NO_MAIN */
