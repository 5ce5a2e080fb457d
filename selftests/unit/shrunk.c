/* SPDX-License-Identifier: MIT */
/*
 * shrunk.c - a WOOF (or the trigger log) cut short under a client that has
 * it mapped: where libwoof looks at the file (woof_open, and by-name calls
 * once the re-check interval has passed; $WOOF_MAP_RECHECK_MS=0 makes that
 * every call) the client gets an error - -EIO for a file cut shorter than
 * its mapping, -EBADMSG at open - instead of SIGBUS. Each test first uses
 * the file, so the mapping is cached when the file is cut. Criterion runs
 * each test in a process of its own: a SIGBUS fails the test.
 */
#include "testutil.h"

#include <woofc.h>
#include <woof-dispatch.h>

#include <fcntl.h>
#include <sys/stat.h>

static void setup(void)
{
	/* before any libwoof call of this process: it is read once */
	setenv("WOOF_MAP_RECHECK_MS", "0", 1);
	tu_setup();
}

TestSuite(shrunk, .init = setup, .fini = tu_teardown, .timeout = 30);

static void cut(const char *rel, off_t len)
{
	cr_assert(truncate(tu_path(tu_dir, rel), len) == 0, "truncate %s: %s", rel,
		  strerror(errno));
}

Test(shrunk, get_and_put_by_name)
{
	uint64_t v = 7, got = 0;
	struct woof *w;

	tu_skip_kernel("woof.ko keeps its own state of the file");
	w = tu_create(tu_ns, "w", sizeof(v), 64);

	woof_close(w);
	tu_assert_ok(woof_put(tu_ns, "w", NULL, &v, NULL));
	tu_assert_ok(woof_get(tu_ns, "w", 1, &got, NULL));
	tu_assert_u64(got, 7);
	cut("w", WOOF_HEADER_SIZE);	/* header kept, every slot gone */
	tu_assert_rc(woof_get(tu_ns, "w", 1, &got, NULL), -EIO);
	/* the map was dropped: the name is looked at afresh - not a WOOF any more */
	tu_assert_rc(woof_put(tu_ns, "w", NULL, &v, NULL), -EBADMSG);
	tu_assert_rc(woof_get(tu_ns, "w", 1, &got, NULL), -EBADMSG);
	tu_assert_rc(woof_open(tu_ns, "w", &w), -EBADMSG);
}

Test(shrunk, put_by_name)
{
	uint64_t v = 7;
	struct woof *w;

	tu_skip_kernel("woof.ko keeps its own state of the file");
	w = tu_create(tu_ns, "w", sizeof(v), 64);

	woof_close(w);
	tu_assert_ok(woof_put(tu_ns, "w", NULL, &v, NULL));
	cut("w", WOOF_HEADER_SIZE + 16);
	tu_assert_rc(woof_put(tu_ns, "w", NULL, &v, NULL), -EIO);
}

Test(shrunk, cut_to_nothing)
{
	uint64_t v = 1, got;
	struct woof *w;

	tu_skip_kernel("woof.ko keeps its own state of the file");
	w = tu_create(tu_ns, "w", sizeof(v), 8);

	woof_close(w);
	tu_assert_ok(woof_put(tu_ns, "w", NULL, &v, NULL));
	cut("w", 0);
	tu_assert_rc(woof_get(tu_ns, "w", 0, &got, NULL), -EIO);
	tu_assert_rc(woof_put(tu_ns, "w", NULL, &v, NULL), -EBADMSG);
}

Test(shrunk, cspot_calls)
{
	uint64_t v = 3, got = 0;
	struct woof *w;

	tu_skip_kernel("woof.ko keeps its own state of the file");

	setenv("WOOFC_DIR", tu_dir, 1);
	w = tu_create(tu_ns, "cw", sizeof(v), 16);
	woof_close(w);
	cr_assert(!WooFInvalid(WooFPut("cw", NULL, &v)));
	cr_assert(WooFGet("cw", &got, 1) == 1);
	cut("cw", WOOF_HEADER_SIZE + 8);
	cr_assert(WooFGet("cw", &got, 1) < 0, "WooFGet of a WOOF cut short succeeded");
	cr_assert(WooFInvalid(WooFPut("cw", NULL, &v)), "WooFPut to a WOOF cut short succeeded");
}

Test(shrunk, trigger_log_cut_under_a_putter)
{
	uint64_t v = 5;
	struct woof *w;

	tu_skip_kernel("woof.ko keeps its own state of the file");
	w = tu_create(tu_ns, "w", sizeof(v), 64);

	woof_close(w);
	tu_assert_ok(woof_put(tu_ns, "w", "h", &v, NULL));	/* maps .woof/triggers */
	cut(".woof/triggers", 0);
	tu_assert_rc(woof_put(tu_ns, "w", "h", &v, NULL), -EIO);
	/* a put without a handler does not need the log */
	tu_assert_ok(woof_put(tu_ns, "w", NULL, &v, NULL));
}
