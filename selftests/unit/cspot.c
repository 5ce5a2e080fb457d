/* SPDX-License-Identifier: MIT */
/*
 * cspot.c - the CSPOT-compatible API of include/woofc.h.
 *
 * WooFCreate/Put/Get/GetLatestSeqno/GetElSize/Open/Append/Read/Free/Remove
 * with the namespace taken from $WOOFC_DIR or the current directory, with
 * and without WooFInit(); CSPOT's error conventions ((unsigned long)-1 and
 * WooFInvalid() for sequence numbers, < 0 for ints, NULL for WooFOpen) with
 * errno set; WooFCreate on an existing WOOF resets it (seq restarts at 1);
 * wf->shared (filename, element_size, history_size, seq_no); woof:// URIs
 * that name this host reach a namespace other than $WOOFC_DIR; and the
 * one-line stderr message of a failing call (silenced by WOOF_QUIET=1).
 */
#include "testutil.h"

#include <woofc.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static void cspot_setup(void)
{
	tu_setup();
	setenv("WOOFC_DIR", tu_dir, 1);
}

TestSuite(cspot, .init = cspot_setup, .fini = tu_teardown, .timeout = 30);

typedef struct {
	char string[255];
} EL;	/* hello-world's HW_EL: an odd size on purpose */

static EL mkel(const char *s)
{
	EL e;
	memset(&e, 0, sizeof(e));
	snprintf(e.string, sizeof(e.string), "%s", s);
	return e;
}

#define BAD ((unsigned long)-1)

Test(cspot, create_put_get_with_woofc_dir)
{
	EL e = mkel("one"), got;

	cr_assert(WooFCreate("cw", sizeof(EL), 5) >= 0);
	cr_assert(tu_exists(tu_path(tu_dir, "cw")), "WooFCreate did not create $WOOFC_DIR/cw");
	tu_assert_u64(WooFGetElSize("cw"), sizeof(EL));
	tu_assert_u64(WooFGetLatestSeqno("cw"), 0);
	tu_assert_u64(WooFPut("cw", NULL, &e), 1);
	e = mkel("two");
	tu_assert_u64(WooFPut("cw", NULL, &e), 2);
	e = mkel("three");
	tu_assert_u64(WooFPut("cw", "hw", &e), 3);
	tu_assert_u64(WooFGetLatestSeqno("cw"), 3);

	memset(&got, 0, sizeof(got));
	cr_assert(WooFGet("cw", &got, 2) >= 0);
	cr_assert_str_eq(got.string, "two");
	cr_assert(WooFGet("cw", &got, 0) >= 0);
	cr_assert_str_eq(got.string, "three");
	cr_assert(WooFGet("cw", &got, 1) >= 0);
	cr_assert_str_eq(got.string, "one");
}

Test(cspot, works_with_woofinit)
{
	EL e = mkel("x"), got;

	cr_assert(WooFInit() >= 0, "WooFInit failed with WOOFC_DIR set");
	cr_assert(WooFCreate("wi", sizeof(EL), 5) >= 0);
	tu_assert_u64(WooFPut("wi", NULL, &e), 1);
	cr_assert(WooFGet("wi", &got, 1) >= 0);
	cr_assert_str_eq(got.string, "x");
	cr_assert(tu_exists(tu_path(tu_dir, "wi")));
	/* twice is fine */
	cr_assert(WooFInit() >= 0);
	tu_assert_u64(WooFPut("wi", NULL, &e), 2);
}

/* Documentation/libwoof.md: $WOOFC_DIR is read on first use and again by WooFInit(). */
Test(cspot, woofinit_rereads_woofc_dir)
{
	char *other = tu_make_ns(NULL);
	EL e = mkel("x");

	cr_assert(WooFCreate("first", sizeof(EL), 5) >= 0);
	cr_assert(tu_exists(tu_path(tu_dir, "first")));
	setenv("WOOFC_DIR", other, 1);
	cr_assert(WooFInit() >= 0);
	cr_assert(WooFCreate("second", sizeof(EL), 5) >= 0);
	cr_assert(tu_exists(tu_path(other, "second")), "WooFInit did not switch to the new $WOOFC_DIR");
	cr_assert(!tu_exists(tu_path(tu_dir, "second")));
	tu_assert_u64(WooFPut("second", NULL, &e), 1);
	tu_assert_u64(WooFPut("first", NULL, &e), BAD);
}

Test(cspot, cwd_namespace_without_woofc_dir)
{
	EL e = mkel("cwd"), got;
	char *dir = tu_make_ns(NULL);

	unsetenv("WOOFC_DIR");
	cr_assert(chdir(dir) == 0);
	cr_assert(WooFCreate("here", sizeof(EL), 5) >= 0);
	cr_assert(tu_exists(tu_path(dir, "here")), "WOOF not created in the current directory");
	cr_assert(!tu_exists(tu_path(tu_dir, "here")));
	tu_assert_u64(WooFPut("here", NULL, &e), 1);
	cr_assert(WooFGet("here", &got, 0) >= 0);
	cr_assert_str_eq(got.string, "cwd");
}

Test(cspot, cwd_namespace_with_woofinit)
{
	EL e = mkel("cwd");
	char *dir = tu_make_ns(NULL);

	unsetenv("WOOFC_DIR");
	cr_assert(chdir(dir) == 0);
	cr_assert(WooFInit() >= 0, "WooFInit failed in a namespace directory");
	cr_assert(WooFCreate("here", sizeof(EL), 5) >= 0);
	cr_assert(tu_exists(tu_path(dir, "here")));
	tu_assert_u64(WooFPut("here", NULL, &e), 1);
}

Test(cspot, put_to_missing_woof_fails_cspot_style)
{
	EL e = mkel("x");

	errno = 0;
	unsigned long s = WooFPut("nosuch", NULL, &e);
	int err = errno;
	tu_assert_u64(s, BAD);
	cr_assert(WooFInvalid(s), "WooFInvalid((unsigned long)-1) is false");
	tu_assert_rc(err, ENOENT);
	cr_assert(!WooFInvalid(1) && !WooFInvalid(2) && !WooFInvalid(123456789UL),
		  "WooFInvalid() true for a valid seq_no");
	cr_assert(!tu_exists(tu_path(tu_dir, "nosuch")), "WooFPut created a WOOF");
}

Test(cspot, get_failures_return_negative_and_set_errno)
{
	EL e = mkel("x"), got;

	errno = 0;
	cr_assert(WooFGet("nosuch", &got, 1) < 0);
	tu_assert_rc(errno, ENOENT);

	cr_assert(WooFCreate("g", sizeof(EL), 3) >= 0);
	errno = 0;
	cr_assert(WooFGet("g", &got, 0) < 0, "WooFGet latest of an empty WOOF succeeded");
	tu_assert_rc(errno, ENODATA);
	tu_assert_u64(WooFPut("g", NULL, &e), 1);
	errno = 0;
	cr_assert(WooFGet("g", &got, 2) < 0, "WooFGet beyond latest succeeded");
	tu_assert_rc(errno, ERANGE);

	/* overwritten elements */
	for (int i = 0; i < 5; i++)
		cr_assert(!WooFInvalid(WooFPut("g", NULL, &e)));
	errno = 0;
	cr_assert(WooFGet("g", &got, 1) < 0, "WooFGet of an overwritten element succeeded");
	tu_assert_rc(errno, ENODATA);
	cr_assert(WooFGet("g", &got, 4) >= 0);
	cr_assert(WooFGet("g", &got, 6) >= 0);
}

Test(cspot, latest_and_elsize_failures)
{
	errno = 0;
	tu_assert_u64(WooFGetLatestSeqno("nosuch"), BAD);
	tu_assert_rc(errno, ENOENT);
	errno = 0;
	tu_assert_u64(WooFGetElSize("nosuch"), BAD);
	tu_assert_rc(errno, ENOENT);
}

Test(cspot, create_failures)
{
	errno = 0;
	cr_assert(WooFCreate("z", 0, 5) < 0, "element_size 0 accepted");
	tu_assert_rc(errno, EINVAL);
	errno = 0;
	cr_assert(WooFCreate("z", 8, 0) < 0, "history_size 0 accepted");
	tu_assert_rc(errno, EINVAL);
	cr_assert(!tu_exists(tu_path(tu_dir, "z")));
}

Test(cspot, create_on_existing_resets)
{
	EL e = mkel("old"), got;

	cr_assert(WooFCreate("r", sizeof(EL), 5) >= 0);
	for (unsigned long i = 1; i <= 3; i++)
		tu_assert_u64(WooFPut("r", NULL, &e), i);
	WOOF *wf = WooFOpen("r");
	cr_assert_not_null(wf);

	cr_assert(WooFCreate("r", sizeof(EL), 5) >= 0, "WooFCreate on an existing WOOF failed");
	tu_assert_u64(WooFGetLatestSeqno("r"), 0);
	cr_assert(WooFGet("r", &got, 1) < 0, "old element readable after the reset");
	e = mkel("new");
	tu_assert_u64(WooFPut("r", NULL, &e), 1);
	cr_assert(WooFGet("r", &got, 1) >= 0);
	cr_assert_str_eq(got.string, "new");

	/* the old handle is stale */
	errno = 0;
	tu_assert_u64(WooFAppend(wf, NULL, &e), BAD);
	tu_assert_rc(errno, ESTALE);
	WooFFree(wf);

	/* and the sizes may change (CSPOT's grow/shrink by re-creating) */
	cr_assert(WooFCreate("r", 16, 9) >= 0);
	tu_assert_u64(WooFGetElSize("r"), 16);
	wf = WooFOpen("r");
	cr_assert_not_null(wf);
	tu_assert_u64(wf->shared->history_size, 9);
	WooFFree(wf);
}

Test(cspot, create_does_not_replace_non_woof)
{
	char *p = tu_path(tu_dir, "data.txt");
	tu_assert_ok(tu_write_file(p, "precious", 8));
	errno = 0;
	cr_assert(WooFCreate("data.txt", 8, 4) < 0, "WooFCreate replaced a file that is not a WOOF");
	tu_assert_rc(errno, EEXIST);
	char buf[16] = "";
	tu_assert_rc(tu_pread_file(p, buf, sizeof(buf), 0), 8);
	cr_assert(memcmp(buf, "precious", 8) == 0);
	cr_assert(WooFRemove("data.txt") < 0, "WooFRemove removed a file that is not a WOOF");
	cr_assert(tu_exists(p));
}

Test(cspot, open_shared_header)
{
	EL e = mkel("s");
	struct stat st;

	cr_assert(WooFCreate("hello-woof", sizeof(EL), 5) >= 0);
	WOOF *wf = WooFOpen("hello-woof");
	cr_assert_not_null(wf);
	cr_assert_not_null(wf->shared);
	cr_assert_not_null(wf->handle);
	cr_assert_str_eq(wf->shared->filename, "hello-woof");
	tu_assert_u64(wf->shared->element_size, sizeof(EL));
	tu_assert_u64(wf->shared->history_size, 5);
	tu_assert_u64(wf->shared->seq_no, 0);
	cr_assert(stat(tu_path(tu_dir, "hello-woof"), &st) == 0);
	tu_assert_u64(wf->ino, st.st_ino);

	/* seq_no tracks appends, by name and by handle */
	tu_assert_u64(WooFPut("hello-woof", NULL, &e), 1);
	tu_assert_u64(wf->shared->seq_no, 1);
	tu_assert_u64(WooFAppend(wf, NULL, &e), 2);
	tu_assert_u64(wf->shared->seq_no, 2);
	for (int i = 0; i < 8; i++)
		WooFAppend(wf, NULL, &e);
	tu_assert_u64(wf->shared->seq_no, 10);
	tu_assert_u64(WooFGetLatestSeqno("hello-woof"), 10);
	WooFFree(wf);
}

Test(cspot, append_read_by_handle)
{
	EL e, got;

	cr_assert(WooFCreate("ar", sizeof(EL), 4) >= 0);
	WOOF *wf = WooFOpen("ar");
	cr_assert_not_null(wf);
	for (unsigned long i = 1; i <= 6; i++) {
		char s[32];
		snprintf(s, sizeof(s), "bark %lu", i);
		e = mkel(s);
		/* one handler, on an element the wrap below does not overwrite */
		tu_assert_u64(WooFAppend(wf, i == 4 ? "hw" : NULL, &e), i);
	}
	cr_assert(WooFRead(wf, &got, 5) >= 0);
	cr_assert_str_eq(got.string, "bark 5");
	cr_assert(WooFRead(wf, &got, 0) >= 0);
	cr_assert_str_eq(got.string, "bark 6");
	errno = 0;
	cr_assert(WooFRead(wf, &got, 7) < 0, "WooFRead beyond latest succeeded");
	tu_assert_rc(errno, ERANGE);
	errno = 0;
	cr_assert(WooFRead(wf, &got, 2) < 0, "WooFRead of an overwritten element succeeded");
	tu_assert_rc(errno, ENODATA);
	/* a bad handler name is refused and nothing is appended */
	errno = 0;
	tu_assert_u64(WooFAppend(wf, "../bad", &e), BAD);
	tu_assert_rc(errno, EINVAL);
	tu_assert_u64(WooFGetLatestSeqno("ar"), 6);
	WooFFree(wf);
	/* by name too */
	errno = 0;
	tu_assert_u64(WooFPut("ar", ".bad", &e), BAD);
	tu_assert_rc(errno, EINVAL);
	tu_assert_u64(WooFGetLatestSeqno("ar"), 6);
}

Test(cspot, open_missing_is_null)
{
	errno = 0;
	WOOF *wf = WooFOpen("nosuch");
	cr_assert_null(wf);
	tu_assert_rc(errno, ENOENT);
}

Test(cspot, many_open_free)
{
	cr_assert(WooFCreate("of", 8, 4) >= 0);
	uint64_t x = 3;
	for (int i = 0; i < 5000; i++) {
		WOOF *wf = WooFOpen("of");
		cr_assert_not_null(wf, "WooFOpen failed after %d open/free pairs", i);
		if (i % 1000 == 0)
			cr_assert(!WooFInvalid(WooFAppend(wf, NULL, &x)));
		WooFFree(wf);
	}
	tu_assert_u64(WooFGetLatestSeqno("of"), 5);
}

Test(cspot, remove)
{
	EL e = mkel("x"), got;

	cr_assert(WooFCreate("rm", sizeof(EL), 4) >= 0);
	tu_assert_u64(WooFPut("rm", NULL, &e), 1);
	WOOF *wf = WooFOpen("rm");
	cr_assert_not_null(wf);
	cr_assert(WooFRemove("rm") >= 0);
	cr_assert(!tu_exists(tu_path(tu_dir, "rm")));
	errno = 0;
	cr_assert(WooFGet("rm", &got, 1) < 0);
	tu_assert_rc(errno, ENOENT);
	tu_assert_u64(WooFPut("rm", NULL, &e), BAD);
	cr_assert_null(WooFOpen("rm"));
	errno = 0;
	cr_assert(WooFRemove("rm") < 0, "second WooFRemove succeeded");
	tu_assert_rc(errno, ENOENT);
	errno = 0;
	tu_assert_u64(WooFAppend(wf, NULL, &e), BAD);
	tu_assert_rc(errno, ESTALE);
	WooFFree(wf);
	/* and it can be created again */
	cr_assert(WooFCreate("rm", sizeof(EL), 4) >= 0);
	tu_assert_u64(WooFPut("rm", NULL, &e), 1);
}

Test(cspot, local_uris_reach_another_namespace)
{
	char *other = tu_make_ns(NULL);	/* not $WOOFC_DIR */
	char *u1 = tu_printf("woof://%s/u", other);
	char *u2 = tu_printf("woof://localhost%s/u", other);
	char *u3 = tu_printf("woof://127.0.0.1%s/u", other);
	EL e = mkel("uri"), got;

	cr_assert(WooFValidURI(u1));
	cr_assert(WooFCreate(u1, sizeof(EL), 5) >= 0, "WooFCreate(%s) failed", u1);
	cr_assert(tu_exists(tu_path(other, "u")), "WooFCreate(%s) did not create %s/u", u1, other);
	cr_assert(!tu_exists(tu_path(tu_dir, "u")), "WooFCreate(%s) created in $WOOFC_DIR", u1);
	tu_assert_u64(WooFPut(u2, NULL, &e), 1);
	tu_assert_u64(WooFPut(u3, "hw", &e), 2);
	tu_assert_u64(WooFGetLatestSeqno(u1), 2);
	tu_assert_u64(WooFGetElSize(u3), sizeof(EL));
	cr_assert(WooFGet(u2, &got, 1) >= 0);
	cr_assert_str_eq(got.string, "uri");
	WOOF *wf = WooFOpen(u3);
	cr_assert_not_null(wf);
	cr_assert_str_eq(wf->shared->filename, "u");
	tu_assert_u64(WooFAppend(wf, NULL, &e), 3);
	WooFFree(wf);
	/* the plain name is not the same WOOF */
	tu_assert_u64(WooFPut("u", NULL, &e), BAD);
	cr_assert(WooFRemove(u1) >= 0);
	cr_assert(!tu_exists(tu_path(other, "u")));
}

Test(cspot, remote_uri_fails)
{
	EL e = mkel("x");
	tu_assert_u64(WooFPut("woof://example.invalid/tmp/ns/x", NULL, &e), BAD);
	cr_assert(WooFCreate("woof://example.invalid/tmp/ns/x", 8, 4) < 0);
	cr_assert_null(WooFOpen("woof://example.invalid/tmp/ns/x"));
}

/*
 * Run @fn in a child whose stderr is a pipe; return what it wrote. The
 * child's WOOF_QUIET is set to @quiet (NULL: unset).
 */
static char *child_stderr(void (*fn)(void), const char *quiet, int *status)
{
	int p[2];
	static char buf[4096];
	size_t len = 0;

	cr_assert(pipe(p) == 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		if (quiet)
			setenv("WOOF_QUIET", quiet, 1);
		else
			unsetenv("WOOF_QUIET");
		fn();
		_exit(0);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	buf[len] = 0;
	*status = tu_wait(pid, 10000);
	return buf;
}

static void failing_put(void)
{
	EL e = mkel("x");
	if (!WooFInvalid(WooFPut("nosuch", NULL, &e)))
		_exit(3);
}

static void good_calls(void)
{
	EL e = mkel("x");
	if (WooFCreate("ok", sizeof(EL), 4) < 0 || WooFInvalid(WooFPut("ok", NULL, &e)) ||
	    WooFGet("ok", &e, 1) < 0)
		_exit(3);
}

Test(cspot, failure_message_on_stderr)
{
	int st;
	char *out = child_stderr(failing_put, NULL, &st);

	tu_assert_rc(st, 0);
	cr_assert(strncmp(out, "woof: WooFPut(nosuch): ", 23) == 0,
		  "stderr of a failing WooFPut is \"%s\", expected \"woof: WooFPut(nosuch): <reason>\\n\"",
		  out);
	size_t len = strlen(out);
	cr_assert(len > 23 && out[len - 1] == '\n' && strchr(out, '\n') == out + len - 1,
		  "not exactly one line: \"%s\"", out);

	out = child_stderr(failing_put, "1", &st);
	tu_assert_rc(st, 0);
	cr_assert(out[0] == 0, "WOOF_QUIET=1 but stderr has \"%s\"", out);

	/* successful calls are silent */
	out = child_stderr(good_calls, NULL, &st);
	tu_assert_rc(st, 0);
	cr_assert(out[0] == 0, "successful calls wrote \"%s\" to stderr", out);
}
