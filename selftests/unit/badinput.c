/* SPDX-License-Identifier: MIT */
/*
 * badinput.c - hostile and malformed input.
 *
 * Options structs of the wrong size; NULL names and options (the header
 * does not allow them; the library must say -EINVAL, not crash) and the
 * NULL out-parameters it does allow; WOOF files truncated or with corrupted
 * header fields (open/put/get say -EBADMSG - never SIGBUS - remove refuses,
 * create does not replace them, they are not listed); symlinks named like
 * WOOFs that point outside the namespace (refused, never written, created
 * or removed through); FIFOs and directories named like WOOFs (no hang, not
 * replaced); a header marked as served by the kernel; a lock word left by
 * an owner that never existed.
 */
#include "testutil.h"

#include <woofc.h>

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

TestSuite(badinput, .init = tu_setup, .fini = tu_teardown, .timeout = 30);

/* ---- options struct size ----------------------------------------------------- */

Test(badinput, opts_larger_with_zero_tail_ok)
{
	struct {
		struct woof_create_opts o;
		uint64_t tail[4];
	} big;

	memset(&big, 0, sizeof(big));
	big.o = tu_opts(8, 4, WOOF_CREATE_EXCL);
	big.o.sz = sizeof(big);
	tu_assert_ok(woof_create(tu_ns, "a", &big.o, NULL));
}

Test(badinput, opts_larger_with_nonzero_tail_rejected)
{
	struct {
		struct woof_create_opts o;
		uint64_t tail[4];
	} big;

	memset(&big, 0, sizeof(big));
	big.o = tu_opts(8, 4, WOOF_CREATE_EXCL);
	big.o.sz = sizeof(big);
	big.tail[3] = 1;
	tu_assert_rc2(woof_create(tu_ns, "a", &big.o, NULL), -E2BIG, -EINVAL);
	cr_assert(!tu_exists(tu_path(tu_dir, "a")));
}

/* ---- NULL ------------------------------------------------------------------ */

Test(badinput, null_names_and_opts)
{
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_EXCL);
	struct woof *w;
	uint64_t x = 0;
	char dir[64], name[64];

	tu_assert_rc(woof_name_check(NULL), -EINVAL);
	tu_assert_rc(woof_create(tu_ns, NULL, &o, NULL), -EINVAL);
	tu_assert_rc(woof_create(tu_ns, "n", NULL, NULL), -EINVAL);
	tu_assert_rc(woof_open(tu_ns, NULL, &w), -EINVAL);
	tu_assert_rc(woof_remove(tu_ns, NULL), -EINVAL);
	tu_assert_rc(woof_put(tu_ns, NULL, NULL, &x, NULL), -EINVAL);
	tu_assert_rc(woof_get(tu_ns, NULL, 0, &x, NULL), -EINVAL);
	tu_assert_rc(woof_resolve(NULL, NULL, dir, sizeof(dir), name, sizeof(name)), -EINVAL);
	cr_assert(!tu_exists(tu_path(tu_dir, "n")));
}

Test(badinput, cspot_null_names)
{
	uint64_t x = 0;

	setenv("WOOFC_DIR", tu_dir, 1);
	cr_assert(WooFCreate(NULL, 8, 4) < 0);
	cr_assert(WooFInvalid(WooFPut(NULL, NULL, &x)));
	cr_assert(WooFGet(NULL, &x, 0) < 0);
	cr_assert(WooFInvalid(WooFGetLatestSeqno(NULL)));
	cr_assert_null(WooFOpen(NULL));
	cr_assert(WooFRemove(NULL) < 0);
	cr_assert(!WooFValidURI(NULL));
	cr_assert(WooFInvalid(WooFAppend(NULL, NULL, &x)));
	cr_assert(WooFRead(NULL, &x, 0) < 0);
	WooFFree(NULL);
}

Test(badinput, documented_null_out_parameters)
{
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_EXCL);
	uint64_t x = 11, y = 0;

	tu_assert_ok(woof_create(tu_ns, "d", &o, NULL));		/* wp */
	struct woof *w;
	tu_assert_ok(woof_open(tu_ns, "d", &w));
	tu_assert_ok(woof_append(w, &x, NULL, NULL));		/* handler, seq */
	tu_assert_ok(woof_read(w, 1, &y, NULL));		/* seq_read */
	tu_assert_u64(y, 11);
	tu_assert_ok(woof_put(tu_ns, "d", NULL, &x, NULL));	/* seq */
	tu_assert_ok(woof_get(tu_ns, "d", 2, &y, NULL));	/* seq_read */
	tu_assert_u64(woof_latest(w), 2);
	woof_close(w);
}

/* ---- sizes and paths ------------------------------------------------------ */

Test(badinput, ns_paths)
{
	struct woof_ns *ns;
	char *longp = malloc(PATH_MAX + 100);

	memset(longp, 'p', PATH_MAX + 99);
	longp[0] = '/';
	longp[PATH_MAX + 99] = 0;
	tu_assert_rc(woof_ns_open(longp, &ns), -ENAMETOOLONG);
	free(longp);

	char *f = tu_path(tu_dir, "afile");
	tu_assert_ok(tu_write_file(f, "abc", 3));
	cr_assert(woof_ns_init(f, 0) < 0, "woof_ns_init on a regular file succeeded");
	tu_assert_rc(tu_file_size(f), 3);
	cr_assert(woof_ns_init(tu_printf("%s/sub", f), 0) < 0);
	tu_assert_rc(woof_ns_open(tu_printf("%s/sub", f), &ns), -ENOTDIR);
	/* like open(2): the empty path names no directory */
	tu_assert_rc(woof_ns_open("", &ns), -ENOENT);
}

Test(badinput, huge_seq_numbers)
{
	struct woof *w = tu_create(tu_ns, "h", 8, 4);
	uint64_t x = 1;

	tu_assert_ok(woof_append(w, &x, NULL, NULL));
	tu_assert_rc(woof_read(w, UINT64_MAX, &x, NULL), -ERANGE);
	tu_assert_rc(woof_read(w, UINT64_MAX - 1, &x, NULL), -ERANGE);
	tu_assert_rc(woof_get(tu_ns, "h", UINT64_MAX, &x, NULL), -ERANGE);
	tu_assert_rc(woof_wait(w, UINT64_MAX, 20), -ETIMEDOUT);
	tu_assert_rc(woof_wait(w, UINT64_MAX - 1, 20), -ETIMEDOUT);
	woof_close(w);
}

/* ---- damaged WOOF files ------------------------------------------------------ */

/*
 * @name is damaged: every call refuses it with -EBADMSG (remove too), create
 * does not replace it, it is not listed, and its bytes are unchanged.
 */
static int find_name(const char *name, void *arg)
{
	return strcmp(name, arg) == 0 ? 1 : 0;
}

static void check_damaged(const char *name, const char *what)
{
	char *path = tu_path(tu_dir, name);
	long long size = tu_file_size(path);
	unsigned char *before = malloc((size_t)size + 1), *after = malloc((size_t)size + 1);
	struct woof *w = NULL;
	uint64_t x[64] = {0};
	int rc;

	cr_assert(size >= 0);
	tu_assert_rc(tu_pread_file(path, before, (size_t)size, 0), size);

	rc = woof_open(tu_ns, name, &w);
	cr_assert(rc == -EBADMSG, "%s: woof_open: expected -EBADMSG, got %s", what, tu_err(rc));
	rc = woof_put(tu_ns, name, NULL, x, NULL);
	cr_assert(rc == -EBADMSG, "%s: woof_put: expected -EBADMSG, got %s", what, tu_err(rc));
	rc = woof_get(tu_ns, name, 0, x, NULL);
	cr_assert(rc == -EBADMSG, "%s: woof_get: expected -EBADMSG, got %s", what, tu_err(rc));
	rc = woof_remove(tu_ns, name);
	cr_assert(rc == -EBADMSG, "%s: woof_remove: expected -EBADMSG, got %s", what, tu_err(rc));
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_RESET);
	rc = woof_create(tu_ns, name, &o, NULL);
	cr_assert(rc == -EEXIST, "%s: woof_create(RESET): expected -EEXIST, got %s", what, tu_err(rc));
	rc = woof_ns_list(tu_ns, find_name, (void *)name);
	cr_assert(rc == 0, "%s: listed by woof_ns_list (%s)", what, tu_err(rc));

	setenv("WOOFC_DIR", tu_dir, 1);
	cr_assert(WooFGet(name, x, 0) < 0, "%s: WooFGet succeeded", what);
	cr_assert(WooFInvalid(WooFPut(name, NULL, x)), "%s: WooFPut succeeded", what);
	cr_assert_null(WooFOpen(name), "%s: WooFOpen succeeded", what);
	cr_assert(WooFCreate(name, 8, 4) < 0, "%s: WooFCreate replaced it", what);

	tu_assert_rc(tu_file_size(path), size);
	tu_assert_rc(tu_pread_file(path, after, (size_t)size, 0), size);
	cr_assert(memcmp(before, after, (size_t)size) == 0, "%s: the file was modified", what);
	free(before);
	free(after);
}

struct mk_args {
	const char *dir, *name;
	uint64_t es, hs;
};

static int make_woof_child(int idx, void *arg)
{
	struct mk_args *a = arg;
	struct woof_create_opts o = tu_opts(a->es, a->hs, WOOF_CREATE_EXCL);
	struct woof_ns *ns;
	struct woof *w;
	uint64_t x[8] = {1, 2, 3};
	(void)idx;
	if (woof_ns_open(a->dir, &ns) || woof_create(ns, a->name, &o, &w))
		return 1;
	return woof_append(w, x, NULL, NULL) ? 2 : 0;
}

/*
 * Create @name with one element in another process, so that this process
 * has never mapped it: the damage done next is seen as a fresh process
 * would see it (the cached case is damaged_while_cached).
 */
static void make_woof(const char *name, uint64_t es, uint64_t hs)
{
	struct mk_args a = { tu_dir, name, es, hs };
	tu_assert_rc(tu_wait(tu_fork(make_woof_child, 0, &a), 10000), 0);
}

static void truncate_to(const char *name, off_t len)
{
	cr_assert(truncate(tu_path(tu_dir, name), len) == 0);
}

Test(badinput, truncated_files)
{
	make_woof("t100", 8, 4);
	truncate_to("t100", 100);
	check_damaged("t100", "truncated to 100 bytes");

	make_woof("t0", 8, 4);
	truncate_to("t0", 0);
	check_damaged("t0", "truncated to 0 bytes");

	make_woof("thdr", 8, 4);
	truncate_to("thdr", WOOF_HEADER_SIZE);
	check_damaged("thdr", "truncated to the header");

	make_woof("tshort", 64, 100);
	truncate_to("tshort", (off_t)WOOF_FILE_SIZE(64, 100) - 1);
	check_damaged("tshort", "one byte short");

	make_woof("tnoredo", 64, 100);
	truncate_to("tnoredo", (off_t)WOOF_FILE_SIZE(64, 99));
	check_damaged("tnoredo", "without its redo slot");
}

static void corrupt(const char *name, size_t off, const void *val, size_t len)
{
	tu_assert_ok(tu_pwrite_file(tu_path(tu_dir, name), val, len, (off_t)off));
}

#define CORRUPT_U64(name, field, v) do {						\
	uint64_t v_ = (v);								\
	make_woof(name, 8, 4);								\
	corrupt(name, offsetof(struct woof_header, field), &v_, sizeof(v_));		\
	check_damaged(name, #field " = " #v);						\
} while (0)
#define CORRUPT_U32(name, field, v) do {						\
	uint32_t v_ = (v);								\
	make_woof(name, 8, 4);								\
	corrupt(name, offsetof(struct woof_header, field), &v_, sizeof(v_));		\
	check_damaged(name, #field " = " #v);						\
} while (0)

Test(badinput, corrupted_headers)
{
	CORRUPT_U64("magic", magic, 0x4141414141414141ULL);
	CORRUPT_U64("magic1", magic, WOOF_FORMAT_MAGIC ^ 1);
	CORRUPT_U32("ver99", version, 99);
	CORRUPT_U32("ver0", version, 0);
	CORRUPT_U32("hsize", header_size, 8192);
	CORRUPT_U64("slot", slot_size, WOOF_SLOT_SIZE(8) + 8);
	CORRUPT_U64("slot0", slot_size, 0);
	CORRUPT_U64("es0", element_size, 0);
	CORRUPT_U64("es16", element_size, 16);	/* slot_size and file size disagree */
	CORRUPT_U64("esbig", element_size, WOOF_ELEMENT_SIZE_MAX + 1);
	CORRUPT_U64("hs0", history_size, 0);
	CORRUPT_U64("hs5", history_size, 5);	/* file size disagrees */
	CORRUPT_U64("hsbig", history_size, 1ULL << 60);
}

Test(badinput, garbage_with_magic_only)
{
	/* a page that starts with the magic but is otherwise random */
	unsigned char buf[WOOF_HEADER_SIZE * 2];
	uint64_t r = 12345, magic = WOOF_FORMAT_MAGIC;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)tu_rand(&r);
	memcpy(buf, &magic, sizeof(magic));
	tu_assert_ok(tu_write_file(tu_path(tu_dir, "mg"), buf, sizeof(buf)));
	check_damaged("mg", "random bytes after the magic");
}

/*
 * A WOOF this process has mapped (by-name cache) is truncated behind its
 * back: opening it again must notice (-EBADMSG), and by-name calls must
 * fail rather than die of SIGBUS.
 */
static int damaged_while_cached_child(int idx, void *arg)
{
	struct woof_create_opts o = tu_opts(64, 8, WOOF_CREATE_EXCL);
	struct woof *w;
	uint64_t x[8] = {1}, seq;
	const char *dir = arg;
	struct woof_ns *ns;
	char *path = tu_path(dir, "cached");
	(void)idx;

	if (woof_ns_open(dir, &ns) || woof_create(ns, "cached", &o, NULL))
		return 1;
	if (woof_put(ns, "cached", NULL, x, &seq) || woof_get(ns, "cached", 1, x, NULL))
		return 2;
	if (truncate(path, 100))
		return 3;
	int bad = 0;
	if (woof_open(ns, "cached", &w) != -EBADMSG)
		bad |= 4;
	if (woof_get(ns, "cached", 1, x, NULL) != -EBADMSG)
		bad |= 8;
	if (woof_put(ns, "cached", NULL, x, &seq) != -EBADMSG)
		bad |= 16;
	return bad;
}

Test(badinput, damaged_while_cached)
{
	int rc = tu_wait(tu_fork(damaged_while_cached_child, 0, tu_dir), 10000);
	cr_assert(rc == 0, "a cached WOOF truncated to 100 bytes: %s%s%s%s",
		  rc < 0 ? "timed out" :
		  rc == 128 + SIGBUS ? "the process died of SIGBUS" :
		  rc > 128 ? "the process died of a signal" : rc < 4 ? "setup failed" : "",
		  rc > 0 && rc < 128 && (rc & 4) ? "woof_open did not say -EBADMSG; " : "",
		  rc > 0 && rc < 128 && (rc & 8) ? "woof_get did not say -EBADMSG; " : "",
		  rc > 0 && rc < 128 && (rc & 16) ? "woof_put did not say -EBADMSG" : "");
}

/* ---- symlinks ---------------------------------------------------------------- */

struct outside {
	char *dir;
	char *target;		/* a real WOOF outside the namespace */
	char *garbage;		/* a plain file outside the namespace */
	struct woof *tw;
	unsigned char *tbytes;
	long long tsize;
};

static void outside_setup(struct outside *o)
{
	struct woof_ns *ons;
	uint64_t x = 77;

	o->dir = tu_make_dir();
	tu_assert_ok(woof_ns_init(o->dir, 0));
	tu_assert_ok(woof_ns_open(o->dir, &ons));
	o->tw = tu_create(ons, "target", 8, 4);
	tu_assert_ok(woof_append(o->tw, &x, NULL, NULL));
	o->target = tu_path(o->dir, "target");
	o->garbage = tu_path(o->dir, "garbage");
	tu_assert_ok(tu_write_file(o->garbage, "do not touch", 12));
	o->tsize = tu_file_size(o->target);
	o->tbytes = malloc((size_t)o->tsize);
	tu_assert_rc(tu_pread_file(o->target, o->tbytes, (size_t)o->tsize, 0), o->tsize);
}

static void outside_check(struct outside *o, const char *what)
{
	unsigned char *now = malloc((size_t)o->tsize);
	char g[16] = "";

	cr_assert(tu_count_entries(o->dir) == 3, "%s: files appeared or vanished outside the namespace",
		  what);
	cr_assert(tu_file_size(o->target) == o->tsize, "%s: the outside WOOF changed size", what);
	tu_assert_rc(tu_pread_file(o->target, now, (size_t)o->tsize, 0), o->tsize);
	cr_assert(memcmp(now, o->tbytes, (size_t)o->tsize) == 0,
		  "%s: the outside WOOF was written through the symlink", what);
	tu_assert_rc(tu_pread_file(o->garbage, g, sizeof(g), 0), 12);
	cr_assert(memcmp(g, "do not touch", 12) == 0, "%s: the outside file was written", what);
	free(now);
}

Test(badinput, symlink_to_outside_woof)
{
	struct outside o;
	struct woof *w = NULL;
	uint64_t x = 5;
	int rc;

	outside_setup(&o);
	cr_assert(symlink(o.target, tu_path(tu_dir, "lnk")) == 0);

	rc = woof_open(tu_ns, "lnk", &w);
	cr_assert(rc == -ELOOP || rc == -EBADMSG,
		  "woof_open of a symlink to an outside WOOF: expected -ELOOP or -EBADMSG, got %s",
		  tu_err(rc));
	rc = woof_put(tu_ns, "lnk", NULL, &x, NULL);
	cr_assert(rc < 0, "woof_put through a symlink succeeded");
	outside_check(&o, "woof_put");
	rc = woof_get(tu_ns, "lnk", 0, &x, NULL);
	cr_assert(rc < 0, "woof_get through a symlink succeeded");
	tu_assert_rc(woof_ns_list(tu_ns, find_name, "lnk"), 0);

	static const uint32_t modes[] = { WOOF_CREATE_EXCL, WOOF_CREATE_OPEN, WOOF_CREATE_RESET };
	for (int m = 0; m < 3; m++) {
		struct woof_create_opts opts = tu_opts(8, 4, modes[m]);
		w = NULL;
		rc = woof_create(tu_ns, "lnk", &opts, &w);
		outside_check(&o, "woof_create over a symlink");
		if (rc == 0) {
			/* if it made a WOOF, it is a new file in the namespace */
			struct stat st;
			cr_assert(lstat(tu_path(tu_dir, "lnk"), &st) == 0 && S_ISREG(st.st_mode),
				  "woof_create(mode %d) over a symlink succeeded but left no regular file", m);
			tu_assert_ok(woof_append(w, &x, NULL, NULL));
			outside_check(&o, "append after woof_create over a symlink");
			woof_close(w);
			break;
		}
	}

	setenv("WOOFC_DIR", tu_dir, 1);
	cr_assert(symlink(o.target, tu_path(tu_dir, "lnk2")) == 0);
	cr_assert(WooFInvalid(WooFPut("lnk2", NULL, &x)), "WooFPut through a symlink succeeded");
	cr_assert_null(WooFOpen("lnk2"));
	WooFCreate("lnk2", 8, 4);
	outside_check(&o, "WooFCreate over a symlink");

	/* removing the name must not remove the target */
	woof_remove(tu_ns, "lnk2");
	WooFRemove("lnk2");
	outside_check(&o, "remove of a symlink");
	tu_assert_u64(woof_latest(o.tw), 1);
}

Test(badinput, symlink_to_outside_garbage_and_dangling)
{
	struct outside o;
	struct woof *w;
	uint64_t x = 5;

	outside_setup(&o);
	cr_assert(symlink(o.garbage, tu_path(tu_dir, "glnk")) == 0);
	char *missing = tu_path(o.dir, "missing");
	cr_assert(symlink(missing, tu_path(tu_dir, "dangle")) == 0);

	int rc = woof_open(tu_ns, "glnk", &w);
	cr_assert(rc == -ELOOP || rc == -EBADMSG, "woof_open(glnk): %s", tu_err(rc));
	static const uint32_t modes[] = { WOOF_CREATE_EXCL, WOOF_CREATE_OPEN, WOOF_CREATE_RESET };
	for (int m = 0; m < 3; m++) {
		struct woof_create_opts opts = tu_opts(8, 4, modes[m]);
		woof_create(tu_ns, "glnk", &opts, NULL);
		outside_check(&o, "woof_create over a symlink to a file");
		rc = woof_create(tu_ns, "dangle", &opts, NULL);
		cr_assert(!tu_exists(missing),
			  "woof_create(mode %d) created the target of a dangling symlink", m);
		outside_check(&o, "woof_create over a dangling symlink");
		if (rc == 0)
			break;
	}
	woof_put(tu_ns, "glnk", NULL, &x, NULL);
	outside_check(&o, "woof_put to a symlink to a file");
	woof_remove(tu_ns, "glnk");
	outside_check(&o, "woof_remove of a symlink to a file");
}

/* ---- FIFOs and directories --------------------------------------------------- */

static int fifo_child(int idx, void *arg)
{
	struct woof_ns *ns;
	struct woof *w;
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_RESET);
	uint64_t x = 0;
	(void)idx;

	if (woof_ns_open(arg, &ns))
		return 10;
	if (woof_open(ns, "fifo", &w) == 0)
		return 11;
	if (woof_get(ns, "fifo", 0, &x, NULL) == 0)
		return 12;
	if (woof_put(ns, "fifo", NULL, &x, NULL) == 0)
		return 13;
	if (woof_ns_list(ns, find_name, "fifo") != 0)
		return 14;
	if (woof_create(ns, "fifo", &o, NULL) != -EEXIST)
		return 15;
	if (woof_remove(ns, "fifo") == 0)
		return 16;
	return 0;
}

Test(badinput, fifo_named_like_a_woof)
{
	char *p = tu_path(tu_dir, "fifo");
	struct stat st;

	cr_assert(mkfifo(p, 0644) == 0);
	int rc = tu_wait(tu_fork(fifo_child, 0, tu_dir), 5000);
	cr_assert(rc != -1, "a call on a FIFO named like a WOOF hung");
	cr_assert(rc == 0, "a call on a FIFO misbehaved (step %d; 11 open, 12 get, 13 put, "
		  "14 listed, 15 create did not say -EEXIST, 16 remove)", rc);
	cr_assert(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced or removed");
}

Test(badinput, directory_named_like_a_woof)
{
	char *p = tu_path(tu_dir, "dir");
	struct woof *w;
	struct stat st;
	uint64_t x = 0;

	cr_assert(mkdir(p, 0755) == 0);
	cr_assert(tu_write_file(tu_path(p, "inner"), "x", 1) == 0);
	cr_assert(woof_open(tu_ns, "dir", &w) < 0);
	cr_assert(woof_put(tu_ns, "dir", NULL, &x, NULL) < 0);
	cr_assert(woof_get(tu_ns, "dir", 0, &x, NULL) < 0);
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_RESET);
	cr_assert(woof_create(tu_ns, "dir", &o, NULL) < 0, "woof_create(RESET) replaced a directory");
	cr_assert(woof_remove(tu_ns, "dir") < 0, "woof_remove removed a directory");
	tu_assert_rc(woof_ns_list(tu_ns, find_name, "dir"), 0);
	cr_assert(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	cr_assert(tu_exists(tu_path(p, "inner")));
}

/* ---- header state left by others ------------------------------------------ */

/*
 * WOOF_STATE_KERNEL left in a file by a machine that went down while woof.ko
 * served the namespace: no module serves the directory now, so the bit is
 * stale and appends go on (the user-space engine clears it). On the kernel
 * engine the module serves the file anyway and the bit is its own.
 */
Test(badinput, stale_kernel_state_bit_does_not_block_appends)
{
	struct woof *w;
	uint64_t x = 7, seq = 0;
	struct woof_header h;

	make_woof("kst", 8, 4);
	uint32_t state = WOOF_STATE_KERNEL;
	corrupt("kst", offsetof(struct woof_header, state), &state, sizeof(state));
	tu_assert_ok(woof_open(tu_ns, "kst", &w));
	tu_assert_ok(woof_append(w, &x, NULL, &seq));
	tu_assert_u64(seq, 2);
	tu_assert_ok(woof_put(tu_ns, "kst", NULL, &x, &seq));
	tu_assert_u64(seq, 3);
	tu_assert_ok(woof_read(w, 2, &x, NULL));
	tu_assert_u64(x, 7);
	woof_close(w);
	tu_assert_rc(tu_pread_file(tu_path(tu_dir, "kst"), &h, sizeof(h), 0), sizeof(h));
	tu_assert_u64(h.seq_no, 3);
	if (woof_ns_engine(tu_ns) == WOOF_ENGINE_USER)
		tu_assert_u64(h.state & WOOF_STATE_KERNEL, 0);
	else
		tu_assert_u64(h.state & WOOF_STATE_KERNEL, WOOF_STATE_KERNEL);
}

/* The same for the namespace trigger log: puts with a handler go on. */
Test(badinput, stale_kernel_state_bit_in_trigger_log)
{
	struct woof *w = tu_create(tu_ns, "tk", 8, 4);
	uint64_t x = 1, seq = 0;

	tu_assert_ok(woof_append(w, &x, "h", &seq));	/* makes the log */
	if (woof_ns_engine(tu_ns) == WOOF_ENGINE_USER) {
		uint32_t state = WOOF_STATE_KERNEL;

		tu_assert_ok(tu_pwrite_file(tu_path(tu_dir, ".woof/triggers"), &state,
					    sizeof(state), offsetof(struct woof_header, state)));
	}
	tu_assert_ok(woof_append(w, &x, "h", &seq));
	tu_assert_u64(seq, 2);
	woof_close(w);
}

Test(badinput, lock_of_dead_owner_is_recovered)
{
	struct woof *w;
	uint64_t x = 1, seq = 0;

	if (woof_ns_engine(tu_ns) != WOOF_ENGINE_USER)
		tu_skip("the lock word belongs to the user-space engine");
	make_woof("lk", 8, 4);
	/* owner id 77, generation 12345: never registered, so not alive */
	uint64_t tok = (12345ULL << 16) | 77;
	corrupt("lk", offsetof(struct woof_header, lock), &tok, sizeof(tok));
	tu_assert_ok(woof_open(tu_ns, "lk", &w));
	uint64_t t0 = tu_now_ns();
	tu_assert_ok(woof_append(w, &x, NULL, &seq));
	cr_assert(tu_ms_since(t0) < 3000, "append behind a dead owner's lock took %.0f ms",
		  tu_ms_since(t0));
	tu_assert_u64(seq, 2);
	tu_assert_ok(woof_read(w, 1, &x, NULL));
	tu_assert_u64(x, 1);
	woof_close(w);
}
