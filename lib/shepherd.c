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
 * This is a program's main(), not library code: it may print.
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

typedef int (*woof_handler_fn)(WOOF *wf, unsigned long seq_no, void *element);

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

/* Read the whole element from @fd (from offset 0). */
static void *read_element(int fd, size_t *size)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || st.st_size < 0)
		return NULL;
	*size = (size_t)st.st_size;
	buf = malloc(*size ? *size : 1);
	if (!buf)
		return NULL;
	while (got < *size) {
		ssize_t r = pread(fd, buf + got, *size - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)r;
	}
	return buf;
}

int main(int argc, char **argv)
{
	const char *name, *woof, *seq_s, *fd_s;
	struct link_map *lm = NULL;
	woof_handler_fn fn;
	Dl_info info;
	unsigned long seq;
	size_t size = 0;
	char *end;
	void *sym, *el;
	WOOF *wf;
	int fd, ret;

	(void)argc;
	name = getenv("WOOF_HANDLER");
	if (!name || !*name)
		name = argv[0] ? base_name(argv[0]) : "";
	prog = name[0] ? name : prog;

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
	dlerror();
	sym = dlsym(RTLD_DEFAULT, name);
	if (!sym)
		return die(127, "no function '%s' in this program (name it like the handler "
			   "file, or set WOOF_HANDLER; link with -Wl,--export-dynamic: "
			   "pkg-config --libs woof-handler)%s", name, "");
	if (!dladdr1(sym, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm ||
	    (lm->l_name && lm->l_name[0]))
		return die(127, "'%s' is not defined in this program but in %s", name,
			   lm && lm->l_name ? lm->l_name : "a library");
	fn = (woof_handler_fn)sym;

	/* 2. the element dispatcherd claimed for this call */
	fd_s = getenv("WOOF_CALL_FD");
	fd = fd_s && *fd_s ? atoi(fd_s) : 3;
	el = read_element(fd, &size);
	if (!el)
		return die(2, "cannot read the element from fd %s: %s", fd_s ? fd_s : "3",
			   strerror(errno ? errno : EIO));
	close(fd);

	/* 3. the WOOF, as CSPOT's handlers see it */
	wf = WooFOpen(woof);
	if (!wf) {
		free(el);
		return die(2, "cannot open WOOF '%s': %s", woof, strerror(errno));
	}

	/* 4. the call */
	ret = fn(wf, seq, el);
	fflush(stdout);
	fflush(stderr);
	WooFFree(wf);
	free(el);
	return ret >= 0 ? 0 : 1;
}
