/* SPDX-License-Identifier: MIT */
/*
 * api.c - the modern API of include/woof.h, behaviour by behaviour.
 *
 * Namespaces (open, init, list, path), woof_create's EXCL/OPEN/RESET modes
 * and its argument checks, files that are not WOOFs, append/read round
 * trips, sequence numbering, seq 0 = latest, -ERANGE/-ENODATA, wrap-around,
 * woof_stat and woof_latest, remove (-ENOENT, -ESTALE), woof_wait
 * (immediate, timeout, woken by another process), sync and durability,
 * by-name put/get across a reset, handler-name checks, woof_strerror.
 */
#include "testutil.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

TestSuite(api, .init = tu_setup, .fini = tu_teardown, .timeout = 30);

/* Calls of the trigger path that may not be in the library yet: skip then. */
#pragma weak woof_append_flags
#pragma weak woof_put_flags
#pragma weak woof_call_current

struct el64 {
	uint64_t v[8];
};

static struct el64 mk(uint64_t x)
{
	struct el64 e;
	for (int i = 0; i < 8; i++)
		e.v[i] = x * 1000 + (uint64_t)i;
	return e;
}

static void assert_el(const struct el64 *e, uint64_t x)
{
	for (int i = 0; i < 8; i++)
		cr_assert(e->v[i] == x * 1000 + (uint64_t)i,
			  "element %llu word %d: got %llu", (unsigned long long)x, i,
			  (unsigned long long)e->v[i]);
}

static void append_n(struct woof *w, uint64_t first, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct el64 e = mk(first + i);
		uint64_t seq = 0;
		tu_assert_ok(woof_append(w, &e, NULL, &seq));
		tu_assert_u64(seq, first + i);
	}
}

/* ---- namespaces ------------------------------------------------------------ */

Test(api, ns_open_missing_dir_is_enoent)
{
	struct woof_ns *ns = (struct woof_ns *)0x1;
	tu_assert_rc(woof_ns_open(tu_path(tu_dir, "nope"), &ns), -ENOENT);
}

Test(api, ns_open_file_is_enotdir)
{
	struct woof_ns *ns;
	char *f = tu_path(tu_dir, "plainfile");
	tu_assert_ok(tu_write_file(f, "x", 1));
	tu_assert_rc(woof_ns_open(f, &ns), -ENOTDIR);
}

Test(api, ns_open_same_dir_twice_is_same_object)
{
	struct woof_ns *a, *b;
	char *dir = tu_make_ns(NULL);

	tu_assert_ok(woof_ns_open(dir, &a));
	tu_assert_ok(woof_ns_open(dir, &b));
	cr_assert(a == b, "opening %s twice gave two objects", dir);
	/* also through a different spelling of the same path */
	struct woof_ns *c;
	tu_assert_ok(woof_ns_open(tu_printf("%s/./", dir), &c));
	cr_assert(c == a, "%s/./ gave another object", dir);
	woof_ns_close(c);
	woof_ns_close(b);
	/* still usable after one close */
	tu_assert_ok(woof_create(a, "x", &(struct woof_create_opts){
		.sz = sizeof(struct woof_create_opts), .element_size = 8,
		.history_size = 2 }, NULL));
	woof_ns_close(a);
}

/* A namespace's .woof/ opened as a namespace (dispatcherd's calls, log) grows no .woof/.woof/ */
Test(api, meta_ns_shares_its_parents_owner_table)
{
	tu_skip_kernel("the owner table belongs to the user-space engine");
	char *dir = tu_make_ns(NULL), *meta = tu_printf("%s/.woof", dir);
	struct woof_ns *ns;
	struct woof *w;
	struct stat st;
	uint64_t v = 7, seq;

	mkdir(meta, 0775);
	tu_assert_ok(woof_ns_open(meta, &ns));
	tu_assert_ok(woof_create(ns, "calls", &(struct woof_create_opts){
		.sz = sizeof(struct woof_create_opts), .element_size = 8,
		.history_size = 4 }, &w));
	tu_assert_ok(woof_append(w, &v, NULL, &seq));
	tu_assert_u64(seq, 1);
	cr_assert(stat(tu_printf("%s/.woof", meta), &st) < 0 && errno == ENOENT,
		  "%s/.woof was created", meta);
	cr_assert(stat(tu_printf("%s/owners", meta), &st) == 0 && S_ISREG(st.st_mode),
		  "no owner table at %s/owners", meta);
	woof_close(w);
	woof_ns_close(ns);
}

Test(api, ns_path_is_absolute_for_relative_open)
{
	char *dir = tu_make_ns(NULL);
	char *slash = strrchr(dir, '/');
	struct woof_ns *ns;

	cr_assert_not_null(slash);
	*slash = 0;
	cr_assert(chdir(dir) == 0);
	tu_assert_ok(woof_ns_open(slash + 1, &ns));
	*slash = '/';
	cr_assert_str_eq(woof_ns_path(ns), dir);
	/* resolved at open: changing directory later does not matter */
	cr_assert(chdir("/") == 0);
	tu_assert_ok(woof_create(ns, "rel", &(struct woof_create_opts){
		.sz = sizeof(struct woof_create_opts), .element_size = 8,
		.history_size = 2 }, NULL));
	cr_assert(tu_exists(tu_path(dir, "rel")), "WOOF not created in %s", dir);
	woof_ns_close(ns);
}

Test(api, ns_open_null_uses_woofc_dir_then_cwd)
{
	char *d1 = tu_make_ns(NULL), *d2 = tu_make_ns(NULL);
	struct woof_ns *ns;

	setenv("WOOFC_DIR", d1, 1);
	tu_assert_ok(woof_ns_open(NULL, &ns));
	cr_assert_str_eq(woof_ns_path(ns), d1);
	woof_ns_close(ns);

	unsetenv("WOOFC_DIR");
	cr_assert(chdir(d2) == 0);
	tu_assert_ok(woof_ns_open(NULL, &ns));
	cr_assert_str_eq(woof_ns_path(ns), d2);
	woof_ns_close(ns);
}

Test(api, ns_init_creates_and_is_idempotent)
{
	char *base = tu_make_dir();
	char *dir = tu_path(base, "newns");
	struct stat st;

	tu_assert_ok(woof_ns_init(dir, 0));
	cr_assert(stat(dir, &st) == 0 && S_ISDIR(st.st_mode), "%s not created", dir);
	char *meta = tu_path(dir, WOOF_NS_META_DIR);
	cr_assert(stat(meta, &st) == 0 && S_ISDIR(st.st_mode), "%s not created", meta);
	tu_assert_ok(woof_ns_init(dir, 0));
	tu_assert_ok(woof_ns_init(dir, 0755));

	/* existing contents survive a second init */
	struct woof_ns *ns;
	tu_assert_ok(woof_ns_open(dir, &ns));
	struct woof *w = tu_create(ns, "keep", 8, 4);
	uint64_t x = 5;
	tu_assert_ok(woof_append(w, &x, NULL, NULL));
	tu_assert_ok(woof_ns_init(dir, 0));
	tu_assert_u64(woof_latest(w), 1);
	woof_close(w);
	woof_ns_close(ns);

	/* one level only */
	tu_assert_rc(woof_ns_init(tu_printf("%s/a/b", base), 0), -ENOENT);
	cr_assert(!tu_exists(tu_path(base, "a")), "woof_ns_init created two levels");
}

Test(api, ns_init_mode)
{
	char *base = tu_make_dir();
	char *dir = tu_path(base, "m");
	struct stat st;
	mode_t old = umask(0);

	tu_assert_ok(woof_ns_init(dir, 0700));
	umask(old);
	cr_assert(stat(dir, &st) == 0);
	cr_assert((st.st_mode & 0777) == 0700, "mode %o, wanted 0700", st.st_mode & 0777);
}

struct names {
	int n;
	char seen[16][32];
};

static int collect(const char *name, void *arg)
{
	struct names *ns = arg;
	if (ns->n < 16)
		snprintf(ns->seen[ns->n], sizeof(ns->seen[0]), "%s", name);
	ns->n++;
	return 0;
}

static int count_names(struct names *n, const char *name)
{
	int c = 0;
	for (int i = 0; i < n->n && i < 16; i++)
		c += strcmp(n->seen[i], name) == 0;
	return c;
}

Test(api, ns_list_lists_exactly_the_woofs)
{
	struct names n = {0};

	tu_assert_ok(woof_ns_list(tu_ns, collect, &n));
	tu_assert_rc(n.n, 0);

	woof_close(tu_create(tu_ns, "alpha", 8, 4));
	woof_close(tu_create(tu_ns, "beta", 100, 2));
	woof_close(tu_create(tu_ns, "gamma", 1, 1));
	tu_assert_ok(tu_write_file(tu_path(tu_dir, "junk"), "not a woof at all", 17));
	char big[8192];
	memset(big, 0x5a, sizeof(big));
	tu_assert_ok(tu_write_file(tu_path(tu_dir, "bigjunk"), big, sizeof(big)));
	tu_assert_ok(tu_write_file(tu_path(tu_dir, "empty"), "", 0));
	cr_assert(mkdir(tu_path(tu_dir, "subdir"), 0755) == 0);
	/* a valid WOOF file under a reserved (dot) name is not a WOOF name */
	char copy[WOOF_FILE_SIZE(8, 4)];
	tu_assert_rc(tu_pread_file(tu_path(tu_dir, "gamma"), copy, sizeof(copy), 0),
		     (long long)WOOF_FILE_SIZE(1, 1));
	tu_assert_ok(tu_write_file(tu_path(tu_dir, ".hidden-copy"), copy,
				   WOOF_FILE_SIZE(1, 1)));

	tu_assert_ok(woof_ns_list(tu_ns, collect, &n));
	tu_assert_rc(n.n, 3);
	tu_assert_rc(count_names(&n, "alpha"), 1);
	tu_assert_rc(count_names(&n, "beta"), 1);
	tu_assert_rc(count_names(&n, "gamma"), 1);

	/* removed ones disappear */
	tu_assert_ok(woof_remove(tu_ns, "beta"));
	memset(&n, 0, sizeof(n));
	tu_assert_ok(woof_ns_list(tu_ns, collect, &n));
	tu_assert_rc(n.n, 2);
	tu_assert_rc(count_names(&n, "beta"), 0);
}

static int stop_at_first(const char *name, void *arg)
{
	(void)name;
	(*(int *)arg)++;
	return 7;
}

Test(api, ns_list_stops_early)
{
	int calls = 0;
	woof_close(tu_create(tu_ns, "a", 8, 4));
	woof_close(tu_create(tu_ns, "b", 8, 4));
	woof_close(tu_create(tu_ns, "c", 8, 4));
	tu_assert_rc(woof_ns_list(tu_ns, stop_at_first, &calls), 7);
	tu_assert_rc(calls, 1);
}

Test(api, same_name_in_two_namespaces)
{
	struct woof_ns *b;
	char *bdir = tu_make_ns(&b);
	struct el64 e = mk(1), got;
	uint64_t seq;

	woof_close(tu_create(tu_ns, "same", sizeof(struct el64), 4));
	woof_close(tu_create(b, "same", sizeof(struct el64), 4));
	tu_assert_ok(woof_put(tu_ns, "same", NULL, &e, &seq));
	tu_assert_ok(woof_put(tu_ns, "same", NULL, &e, &seq));
	tu_assert_u64(seq, 2);
	e = mk(2);
	tu_assert_ok(woof_put(b, "same", NULL, &e, &seq));
	tu_assert_u64(seq, 1);
	tu_assert_ok(woof_get(b, "same", 0, &got, &seq));
	tu_assert_u64(seq, 1);
	assert_el(&got, 2);
	tu_assert_ok(woof_get(tu_ns, "same", 0, &got, &seq));
	tu_assert_u64(seq, 2);
	assert_el(&got, 1);
	tu_assert_ok(woof_remove(b, "same"));
	cr_assert(tu_exists(tu_path(tu_dir, "same")));
	cr_assert(!tu_exists(tu_path(bdir, "same")));
	tu_assert_ok(woof_put(tu_ns, "same", NULL, &e, &seq));
	woof_ns_close(b);
}

/* ---- woof_create modes ---------------------------------------------------- */

Test(api, create_excl_on_existing_is_eexist)
{
	struct woof_create_opts o = tu_opts(16, 8, WOOF_CREATE_EXCL);
	struct woof *w = NULL;

	tu_assert_ok(woof_create(tu_ns, "x", &o, &w));
	append_n(w, 1, 3);
	tu_assert_rc(woof_create(tu_ns, "x", &o, NULL), -EEXIST);
	/* the failed create left the WOOF alone */
	tu_assert_u64(woof_latest(w), 3);
	tu_assert_ok(woof_append(w, &(struct el64){{0}}, NULL, NULL));
	woof_close(w);
}

Test(api, create_open_same_geometry_keeps_contents)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 8, WOOF_CREATE_OPEN);
	struct woof *w1, *w2;
	struct el64 e;

	tu_assert_ok(woof_create(tu_ns, "x", &o, &w1));
	append_n(w1, 1, 3);
	tu_assert_ok(woof_create(tu_ns, "x", &o, &w2));
	tu_assert_u64(woof_latest(w2), 3);
	tu_assert_ok(woof_read(w2, 2, &e, NULL));
	assert_el(&e, 2);
	/* both handles append to the same WOOF */
	append_n(w2, 4, 1);
	append_n(w1, 5, 1);
	woof_close(w1);
	woof_close(w2);
}

Test(api, create_open_different_geometry_is_eexist)
{
	struct woof_create_opts o = tu_opts(16, 8, WOOF_CREATE_OPEN);

	tu_assert_ok(woof_create(tu_ns, "x", &o, NULL));
	o.element_size = 32;
	tu_assert_rc(woof_create(tu_ns, "x", &o, NULL), -EEXIST);
	o.element_size = 16;
	o.history_size = 9;
	tu_assert_rc(woof_create(tu_ns, "x", &o, NULL), -EEXIST);
	o.history_size = 8;
	tu_assert_ok(woof_create(tu_ns, "x", &o, NULL));
}

Test(api, create_open_or_reset_creates_missing)
{
	struct woof_create_opts o = tu_opts(16, 8, WOOF_CREATE_OPEN);
	tu_assert_ok(woof_create(tu_ns, "o", &o, NULL));
	cr_assert(tu_exists(tu_path(tu_dir, "o")));
	o.create = WOOF_CREATE_RESET;
	tu_assert_ok(woof_create(tu_ns, "r", &o, NULL));
	cr_assert(tu_exists(tu_path(tu_dir, "r")));
}

Test(api, create_reset_empties_and_stales_old_handles)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 4, WOOF_CREATE_EXCL);
	struct woof *old, *fresh;
	struct el64 e = mk(1);
	uint64_t seq;

	tu_assert_ok(woof_create(tu_ns, "r", &o, &old));
	append_n(old, 1, 3);
	o.create = WOOF_CREATE_RESET;
	tu_assert_ok(woof_create(tu_ns, "r", &o, &fresh));
	tu_assert_u64(woof_latest(fresh), 0);
	tu_assert_rc(woof_read(fresh, 0, &e, NULL), -ENODATA);

	tu_assert_rc(woof_append(old, &e, NULL, &seq), -ESTALE);
	tu_assert_rc(woof_read(old, 1, &e, NULL), -ESTALE);
	tu_assert_rc(woof_read(old, 0, &e, NULL), -ESTALE);
	tu_assert_rc(woof_wait(old, 3, 10), -ESTALE);

	/* the failed append on the old handle did not reach the new WOOF */
	tu_assert_u64(woof_latest(fresh), 0);
	append_n(fresh, 1, 1);

	/* reopening by name gives the new WOOF */
	woof_close(old);
	tu_assert_ok(woof_open(tu_ns, "r", &old));
	tu_assert_u64(woof_latest(old), 1);
	woof_close(old);
	woof_close(fresh);
}

Test(api, create_reset_may_change_geometry)
{
	struct woof_create_opts o = tu_opts(16, 4, WOOF_CREATE_EXCL);
	struct woof_stat st;
	struct woof *w;

	tu_assert_ok(woof_create(tu_ns, "g", &o, NULL));
	o = tu_opts(100, 10, WOOF_CREATE_RESET);
	tu_assert_ok(woof_create(tu_ns, "g", &o, &w));
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.element_size, 100);
	tu_assert_u64(st.history_size, 10);
	tu_assert_u64(tu_file_size(tu_path(tu_dir, "g")), WOOF_FILE_SIZE(100, 10));
	woof_close(w);
}

Test(api, by_name_calls_survive_reset_by_another_handle)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 4, WOOF_CREATE_EXCL);
	struct el64 e = mk(7), got;
	uint64_t seq = 0, sr = 0;

	tu_assert_ok(woof_create(tu_ns, "bn", &o, NULL));
	/* populate the by-name cache */
	tu_assert_ok(woof_put(tu_ns, "bn", NULL, &e, &seq));
	tu_assert_u64(seq, 1);
	tu_assert_ok(woof_put(tu_ns, "bn", NULL, &e, &seq));
	tu_assert_u64(seq, 2);
	tu_assert_ok(woof_get(tu_ns, "bn", 0, &got, &sr));
	tu_assert_u64(sr, 2);

	o.create = WOOF_CREATE_RESET;
	tu_assert_ok(woof_create(tu_ns, "bn", &o, NULL));
	tu_assert_rc(woof_get(tu_ns, "bn", 0, &got, NULL), -ENODATA);
	e = mk(9);
	tu_assert_ok(woof_put(tu_ns, "bn", NULL, &e, &seq));
	tu_assert_u64(seq, 1);
	tu_assert_ok(woof_get(tu_ns, "bn", 1, &got, &sr));
	tu_assert_u64(sr, 1);
	assert_el(&got, 9);
}

static int reset_in_child(int idx, void *arg)
{
	(void)idx;
	struct woof_ns *ns;
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 4, WOOF_CREATE_RESET);
	if (woof_ns_open(arg, &ns))
		return 1;
	return woof_create(ns, "xr", &o, NULL) ? 2 : 0;
}

Test(api, reset_by_another_process_stales_handles)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 4, WOOF_CREATE_EXCL);
	struct woof *w;
	struct el64 e = mk(1);
	uint64_t seq;

	tu_assert_ok(woof_create(tu_ns, "xr", &o, &w));
	append_n(w, 1, 2);
	tu_assert_ok(woof_put(tu_ns, "xr", NULL, &e, &seq));
	tu_assert_rc(tu_wait(tu_fork(reset_in_child, 0, tu_dir), 10000), 0);
	tu_assert_rc(woof_append(w, &e, NULL, &seq), -ESTALE);
	/* by name: reopened transparently */
	tu_assert_ok(woof_put(tu_ns, "xr", NULL, &e, &seq));
	tu_assert_u64(seq, 1);
	woof_close(w);
}

Test(api, create_without_handle)
{
	struct woof_create_opts o = tu_opts(8, 2, WOOF_CREATE_EXCL);
	tu_assert_ok(woof_create(tu_ns, "nohandle", &o, NULL));
	struct woof *w;
	tu_assert_ok(woof_open(tu_ns, "nohandle", &w));
	woof_close(w);
}

/* ---- woof_create argument checks ------------------------------------------ */

static void assert_create_fails(struct woof_create_opts o, int want, const char *what)
{
	struct woof *w = NULL;
	int rc = woof_create(tu_ns, "bad", &o, &w);
	cr_assert(rc == want, "create with %s: expected %s, got %s", what,
		  tu_err(want), tu_err(rc));
	cr_assert(!tu_exists(tu_path(tu_dir, "bad")),
		  "create with %s failed but left a file", what);
}

Test(api, create_rejects_bad_sizes)
{
	assert_create_fails(tu_opts(0, 4, 0), -EINVAL, "element_size 0");
	assert_create_fails(tu_opts(8, 0, 0), -EINVAL, "history_size 0");
	assert_create_fails(tu_opts(WOOF_ELEMENT_SIZE_MAX + 1, 1, 0), -EINVAL,
			    "element_size > WOOF_ELEMENT_SIZE_MAX");
	assert_create_fails(tu_opts(1, WOOF_HISTORY_MAX + 1, 0), -EINVAL,
			    "history_size > WOOF_HISTORY_MAX");
	assert_create_fails(tu_opts(UINT64_MAX, 1, 0), -EINVAL, "element_size ~0");
	assert_create_fails(tu_opts(1, UINT64_MAX, 0), -EINVAL, "history_size ~0");
	/* each alone in range, product too large */
	assert_create_fails(tu_opts(WOOF_ELEMENT_SIZE_MAX, 1ULL << 17, 0), -EFBIG,
			    "element_size * history_size > WOOF_FILE_SIZE_MAX");
	assert_create_fails(tu_opts(1ULL << 20, WOOF_HISTORY_MAX, 0), -EFBIG,
			    "1 MiB x 2^40");
}

Test(api, create_rejects_bad_flags_and_reserved)
{
	struct woof_create_opts o = tu_opts(8, 4, 0);

	o.flags = 1U << 7;
	assert_create_fails(o, -EINVAL, "unknown flag bit 7");
	o.flags = 1U << 31;
	assert_create_fails(o, -EINVAL, "unknown flag bit 31");
	o.flags = WOOF_F_ALL + 1 + WOOF_F_ALL;	/* 7: bit 2 unknown */
	assert_create_fails(o, -EINVAL, "flags 7");
	o = tu_opts(8, 4, 1U << 5);
	assert_create_fails(o, -EINVAL, "unknown create mode bit 5");
	o = tu_opts(8, 4, 0);
	o.reserved = 1;
	assert_create_fails(o, -EINVAL, "reserved = 1");
	o.reserved = 0x80000000U;
	assert_create_fails(o, -EINVAL, "reserved = 0x80000000");
}

Test(api, create_rejects_small_opts_sz)
{
	struct woof_create_opts o = tu_opts(8, 4, 0);

	o.sz = 0;
	assert_create_fails(o, -EINVAL, "opts.sz 0");
	o.sz = sizeof(size_t);
	assert_create_fails(o, -EINVAL, "opts.sz 8");
	o.sz = offsetof(struct woof_create_opts, history_size);
	assert_create_fails(o, -EINVAL, "opts.sz up to element_size");
	/* the exact size works */
	o.sz = sizeof(o);
	tu_assert_ok(woof_create(tu_ns, "good", &o, NULL));
}

/* ---- files that are not WOOFs ---------------------------------------------- */

static void check_not_a_woof(const char *name, const void *data, size_t len)
{
	char *path = tu_path(tu_dir, name);
	struct woof_create_opts o;
	struct woof *w = NULL;
	char *back = malloc(len + 1);

	tu_assert_ok(tu_write_file(path, data, len));
	tu_assert_rc(woof_open(tu_ns, name, &w), -EBADMSG);
	o = tu_opts(8, 4, WOOF_CREATE_RESET);
	tu_assert_rc(woof_create(tu_ns, name, &o, NULL), -EEXIST);
	o.create = WOOF_CREATE_OPEN;
	tu_assert_rc(woof_create(tu_ns, name, &o, NULL), -EEXIST);
	o.create = WOOF_CREATE_EXCL;
	tu_assert_rc(woof_create(tu_ns, name, &o, NULL), -EEXIST);
	tu_assert_rc(woof_remove(tu_ns, name), -EBADMSG);
	uint64_t x = 1;
	tu_assert_rc(woof_put(tu_ns, name, NULL, &x, NULL), -EBADMSG);
	tu_assert_rc(woof_get(tu_ns, name, 0, &x, NULL), -EBADMSG);

	/* untouched */
	tu_assert_rc(tu_file_size(path), (long long)len);
	tu_assert_rc(tu_pread_file(path, back, len + 1, 0), (long long)len);
	cr_assert(memcmp(back, data, len) == 0, "%s was modified", name);
	free(back);
}

Test(api, garbage_file_is_not_a_woof)
{
	char buf[6000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	check_not_a_woof("x", buf, sizeof(buf));
	check_not_a_woof("short", "hello\n", 6);
	check_not_a_woof("empty", "", 0);
	memset(buf, 0, sizeof(buf));
	check_not_a_woof("zeros", buf, sizeof(buf));
}

/* ---- append and read -------------------------------------------------------- */

Test(api, append_read_round_trip_sizes)
{
	static const uint64_t sizes[] = {1, 7, 8, 9, 255, 4096, 4097, 100000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t es = sizes[i];
		unsigned char *in = malloc(es), *out = malloc(es);
		char name[32];
		uint64_t seq, sr;

		snprintf(name, sizeof(name), "s%llu", (unsigned long long)es);
		struct woof *w = tu_create(tu_ns, name, es, 3);
		for (uint64_t k = 1; k <= 4; k++) {
			for (uint64_t b = 0; b < es; b++)
				in[b] = (unsigned char)(b * 31 + k * 17 + es);
			tu_assert_ok(woof_append(w, in, NULL, &seq));
			tu_assert_u64(seq, k);
			memset(out, 0xee, es);
			tu_assert_ok(woof_read(w, k, out, &sr));
			tu_assert_u64(sr, k);
			cr_assert(memcmp(in, out, es) == 0,
				  "element size %llu seq %llu differs",
				  (unsigned long long)es, (unsigned long long)k);
		}
		woof_close(w);
		free(in);
		free(out);
	}
}

Test(api, read_does_not_write_past_element)
{
	unsigned char buf[32];
	struct woof *w = tu_create(tu_ns, "n", 5, 2);

	tu_assert_ok(woof_append(w, "abcde", NULL, NULL));
	memset(buf, 0xcc, sizeof(buf));
	tu_assert_ok(woof_read(w, 1, buf, NULL));
	cr_assert(memcmp(buf, "abcde", 5) == 0);
	for (size_t i = 5; i < sizeof(buf); i++)
		cr_assert(buf[i] == 0xcc, "woof_read wrote byte %zu beyond element_size", i);
	woof_close(w);
}

Test(api, seq_numbers_start_at_one_and_increase_by_one)
{
	struct woof *w = tu_create(tu_ns, "seq", sizeof(struct el64), 1000);
	tu_assert_u64(woof_latest(w), 0);
	for (uint64_t i = 1; i <= 500; i++) {
		struct el64 e = mk(i);
		uint64_t seq = 0;
		tu_assert_ok(woof_append(w, &e, NULL, &seq));
		tu_assert_u64(seq, i);
		tu_assert_u64(woof_latest(w), i);
	}
	/* appends with seq == NULL count too */
	struct el64 e = mk(501);
	tu_assert_ok(woof_append(w, &e, NULL, NULL));
	tu_assert_u64(woof_latest(w), 501);
	woof_close(w);
}

Test(api, seq_zero_reads_latest)
{
	struct woof *w = tu_create(tu_ns, "z", sizeof(struct el64), 4);
	struct el64 e;
	uint64_t sr = 0;

	append_n(w, 1, 3);
	tu_assert_ok(woof_read(w, 0, &e, &sr));
	tu_assert_u64(sr, 3);
	assert_el(&e, 3);
	append_n(w, 4, 3);	/* wrapped */
	tu_assert_ok(woof_read(w, 0, &e, &sr));
	tu_assert_u64(sr, 6);
	assert_el(&e, 6);
	tu_assert_ok(woof_read(w, 0, &e, NULL));
	assert_el(&e, 6);
	woof_close(w);
}

Test(api, read_beyond_latest_is_erange)
{
	struct woof *w = tu_create(tu_ns, "r", sizeof(struct el64), 4);
	struct el64 e;

	tu_assert_rc(woof_read(w, 1, &e, NULL), -ERANGE);
	append_n(w, 1, 2);
	tu_assert_rc(woof_read(w, 3, &e, NULL), -ERANGE);
	tu_assert_rc(woof_read(w, 1000, &e, NULL), -ERANGE);
	tu_assert_rc(woof_read(w, UINT64_MAX, &e, NULL), -ERANGE);
	woof_close(w);
}

Test(api, empty_read_latest_is_enodata)
{
	struct woof *w = tu_create(tu_ns, "e", sizeof(struct el64), 4);
	struct el64 e;
	tu_assert_rc(woof_read(w, 0, &e, NULL), -ENODATA);
	uint64_t x;
	tu_assert_rc(woof_get(tu_ns, "e", 0, &x, NULL), -ENODATA);
	woof_close(w);
}

Test(api, wrap_around)
{
	struct woof *w = tu_create(tu_ns, "wrap", sizeof(struct el64), 4);
	struct el64 e;
	uint64_t sr;

	append_n(w, 1, 10);
	tu_assert_u64(woof_latest(w), 10);
	for (uint64_t s = 7; s <= 10; s++) {
		tu_assert_ok(woof_read(w, s, &e, &sr));
		tu_assert_u64(sr, s);
		assert_el(&e, s);
	}
	for (uint64_t s = 1; s <= 6; s++)
		tu_assert_rc(woof_read(w, s, &e, NULL), -ENODATA);
	tu_assert_rc(woof_read(w, 11, &e, NULL), -ERANGE);
	woof_close(w);
}

Test(api, history_one)
{
	struct woof *w = tu_create(tu_ns, "one", sizeof(struct el64), 1);
	struct el64 e;

	append_n(w, 1, 5);
	tu_assert_ok(woof_read(w, 5, &e, NULL));
	assert_el(&e, 5);
	tu_assert_rc(woof_read(w, 4, &e, NULL), -ENODATA);
	woof_close(w);
}

Test(api, stat_fields)
{
	struct woof *w = tu_create(tu_ns, "st", sizeof(struct el64), 4);
	struct woof_stat st;

	memset(&st, 0xcc, sizeof(st));
	tu_assert_ok(woof_stat(w, &st));
	cr_assert_str_eq(st.name, "st");
	tu_assert_u64(st.element_size, sizeof(struct el64));
	tu_assert_u64(st.history_size, 4);
	tu_assert_u64(st.latest, 0);
	tu_assert_u64(st.oldest, 0);
	tu_assert_u64(st.file_size, WOOF_FILE_SIZE(sizeof(struct el64), 4));
	tu_assert_u64(st.flags, 0);
	tu_assert_u64(st.state, tu_kernel() ? WOOF_STATE_KERNEL : 0);	/* served by woof.ko */
	cr_assert(st.create_time_ns > 1600000000ULL * 1000000000ULL,
		  "create_time_ns %llu is not a CLOCK_REALTIME time",
		  (unsigned long long)st.create_time_ns);

	append_n(w, 1, 3);
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.latest, 3);
	tu_assert_u64(st.oldest, 1);
	append_n(w, 4, 7);
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.latest, 10);
	tu_assert_u64(st.oldest, 7);
	tu_assert_u64(woof_latest(w), 10);
	woof_close(w);
}

Test(api, header_view_tracks_appends)
{
	struct woof *w = tu_create(tu_ns, "hv", sizeof(struct el64), 4);
	const struct woof_header *h = woof_header(w);

	cr_assert_not_null(h);
	cr_assert_str_eq(h->filename, "hv");
	tu_assert_u64(h->element_size, sizeof(struct el64));
	tu_assert_u64(h->history_size, 4);
	tu_assert_u64(h->seq_no, 0);
	append_n(w, 1, 6);
	tu_assert_u64(__atomic_load_n(&h->seq_no, __ATOMIC_ACQUIRE), 6);
	woof_close(w);
}

Test(api, handle_survives_fork)
{
	struct woof *w = tu_create(tu_ns, "fk", sizeof(struct el64), 16);
	append_n(w, 1, 2);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct el64 e = mk(3), got;
		uint64_t seq = 0;
		if (woof_read(w, 2, &got, NULL) || got.v[0] != 2000)
			_exit(1);
		if (woof_append(w, &e, NULL, &seq) || seq != 3)
			_exit(2);
		_exit(0);
	}
	tu_assert_rc(tu_wait(pid, 10000), 0);
	tu_assert_u64(woof_latest(w), 3);
	struct el64 e;
	tu_assert_ok(woof_read(w, 3, &e, NULL));
	assert_el(&e, 3);
	append_n(w, 4, 1);
	woof_close(w);
}

/* ---- by name --------------------------------------------------------------- */

Test(api, put_get_by_name)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 8, WOOF_CREATE_EXCL);
	struct el64 e, got;
	uint64_t seq, sr;

	tu_assert_ok(woof_create(tu_ns, "pg", &o, NULL));
	for (uint64_t i = 1; i <= 5; i++) {
		e = mk(i);
		tu_assert_ok(woof_put(tu_ns, "pg", NULL, &e, &seq));
		tu_assert_u64(seq, i);
	}
	tu_assert_ok(woof_put(tu_ns, "pg", NULL, &e, NULL));
	tu_assert_ok(woof_get(tu_ns, "pg", 3, &got, &sr));
	tu_assert_u64(sr, 3);
	assert_el(&got, 3);
	tu_assert_ok(woof_get(tu_ns, "pg", 0, &got, &sr));
	tu_assert_u64(sr, 6);
	tu_assert_rc(woof_get(tu_ns, "pg", 7, &got, NULL), -ERANGE);
	tu_assert_rc(woof_put(tu_ns, "missing", NULL, &e, &seq), -ENOENT);
	tu_assert_rc(woof_get(tu_ns, "missing", 0, &got, NULL), -ENOENT);
}

/* ---- remove ---------------------------------------------------------------- */

Test(api, remove_then_open_is_enoent_and_handle_stale)
{
	struct woof *w = tu_create(tu_ns, "rm", sizeof(struct el64), 4);
	struct el64 e = mk(1);
	uint64_t seq;

	append_n(w, 1, 2);
	tu_assert_ok(woof_remove(tu_ns, "rm"));
	cr_assert(!tu_exists(tu_path(tu_dir, "rm")), "file still exists after woof_remove");
	struct woof *w2;
	tu_assert_rc(woof_open(tu_ns, "rm", &w2), -ENOENT);
	tu_assert_rc(woof_append(w, &e, NULL, &seq), -ESTALE);
	tu_assert_rc(woof_read(w, 1, &e, NULL), -ESTALE);
	tu_assert_rc(woof_wait(w, 2, 10), -ESTALE);
	tu_assert_rc(woof_put(tu_ns, "rm", NULL, &e, NULL), -ENOENT);
	tu_assert_rc(woof_get(tu_ns, "rm", 0, &e, NULL), -ENOENT);
	tu_assert_rc(woof_remove(tu_ns, "rm"), -ENOENT);
	woof_close(w);

	/* the name can be created again, fresh */
	w = tu_create(tu_ns, "rm", sizeof(struct el64), 4);
	tu_assert_u64(woof_latest(w), 0);
	append_n(w, 1, 1);
	woof_close(w);
}

Test(api, remove_missing_is_enoent)
{
	tu_assert_rc(woof_remove(tu_ns, "never"), -ENOENT);
}

static int remove_in_child(int idx, void *arg)
{
	(void)idx;
	struct woof_ns *ns;
	if (woof_ns_open(arg, &ns))
		return 1;
	return woof_remove(ns, "rx") ? 2 : 0;
}

Test(api, remove_by_another_process_stales_handles)
{
	struct woof *w = tu_create(tu_ns, "rx", sizeof(struct el64), 4);
	struct el64 e = mk(1);
	uint64_t seq;

	append_n(w, 1, 1);
	tu_assert_ok(woof_put(tu_ns, "rx", NULL, &e, &seq));	/* cache it */
	tu_assert_rc(tu_wait(tu_fork(remove_in_child, 0, tu_dir), 10000), 0);
	tu_assert_rc(woof_append(w, &e, NULL, &seq), -ESTALE);
	tu_assert_rc(woof_put(tu_ns, "rx", NULL, &e, &seq), -ENOENT);
	woof_close(w);
}

/* ---- wait ---------------------------------------------------------------- */

/*
 * A stale handle says -ESTALE to woof_wait whatever @seq is - also when the
 * old file holds elements newer than @seq (they can no longer be read).
 */
Test(api, wait_on_stale_handle_is_estale)
{
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 4, WOOF_CREATE_RESET);
	struct woof *a = tu_create(tu_ns, "a", sizeof(struct el64), 4);
	struct woof *b = tu_create(tu_ns, "b", sizeof(struct el64), 4);

	append_n(a, 1, 3);
	append_n(b, 1, 3);
	tu_assert_ok(woof_create(tu_ns, "a", &o, NULL));
	tu_assert_ok(woof_remove(tu_ns, "b"));
	tu_assert_rc(woof_wait(a, 3, 10), -ESTALE);
	tu_assert_rc(woof_wait(b, 3, 10), -ESTALE);
	tu_assert_rc(woof_wait(a, 1, 10), -ESTALE);
	tu_assert_rc(woof_wait(b, 1, 10), -ESTALE);
	tu_assert_rc(woof_wait(a, 0, 10), -ESTALE);
	tu_assert_rc(woof_wait(b, 0, 10), -ESTALE);
	woof_close(a);
	woof_close(b);
}

Test(api, wait_returns_at_once_when_newer_exists)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);
	append_n(w, 1, 3);
	uint64_t t0 = tu_now_ns();
	tu_assert_ok(woof_wait(w, 2, 5000));
	tu_assert_ok(woof_wait(w, 0, 5000));
	tu_assert_ok(woof_wait(w, 0, 0));
	double ms = tu_ms_since(t0);
	cr_assert(ms < 500, "woof_wait took %.1f ms although newer elements existed", ms);
	woof_close(w);
}

Test(api, wait_times_out)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);
	append_n(w, 1, 3);
	uint64_t t0 = tu_now_ns();
	tu_assert_rc(woof_wait(w, 3, 200), -ETIMEDOUT);
	double ms = tu_ms_since(t0);
	cr_assert(ms >= 190 && ms < 2000, "woof_wait(200 ms) returned after %.1f ms", ms);
	t0 = tu_now_ns();
	tu_assert_rc(woof_wait(w, 3, 0), -ETIMEDOUT);
	cr_assert(tu_ms_since(t0) < 100, "woof_wait(0 ms) blocked");
	/* a seq far ahead of latest also just waits */
	tu_assert_rc(woof_wait(w, 100, 50), -ETIMEDOUT);
	woof_close(w);
}

struct waker {
	const char *dir;
	pid_t waiter;
	uint64_t put_ns;	/* when the append started */
};

/* Append once @wk->waiter sleeps in woof_wait; 3 when it never did. */
static int append_when_asleep(int idx, void *arg)
{
	struct waker *wk = arg;
	struct woof_ns *ns;
	struct el64 e = mk(99);
	(void)idx;
	if (woof_ns_open(wk->dir, &ns))
		return 1;
	if (tu_wait_asleep(wk->waiter, TU_IN_WAIT, 10000, NULL))
		return 3;
	__atomic_store_n(&wk->put_ns, tu_now_ns(), __ATOMIC_SEQ_CST);
	return woof_put(ns, "w", NULL, &e, NULL) ? 2 : 0;
}

/* woof_wait(w, seq) in this process, woken by an append of a child that saw it asleep */
static void wait_woken_by_child(struct woof *w, uint64_t seq)
{
	struct waker *wk = tu_shared(sizeof(*wk));

	wk->dir = tu_dir;
	wk->waiter = getpid();
	pid_t pid = tu_fork(append_when_asleep, 0, wk);
	int rc = woof_wait(w, seq, 20000);
	uint64_t woke = tu_now_ns();
	int st = tu_wait(pid, 10000);

	cr_assert(st != 3, "the appender never saw woof_wait asleep (it returned %s)", tu_err(rc));
	tu_assert_rc(st, 0);
	tu_assert_rc(rc, 0);
	cr_assert(wk->put_ns && woke > wk->put_ns, "woof_wait returned before the append");
	double ms = (double)(woke - wk->put_ns) / 1e6;
	cr_assert(ms < 2000, "woof_wait woke %.1f ms after the append: too late", ms);
	tu_assert_u64(woof_latest(w), seq + 1);
}

Test(api, wait_wakes_on_append_by_another_process)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);

	append_n(w, 1, 1);
	wait_woken_by_child(w, 1);
	woof_close(w);
}

Test(api, wait_on_empty_wakes_on_first_append)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);

	wait_woken_by_child(w, 0);
	woof_close(w);
}

/* A child about to wait on a WOOF it inherited; @going set just before woof_wait. */
struct sleeper {
	struct woof *w;
	int going[4];
};

static int wait_in_child(int idx, void *arg)
{
	struct sleeper *sl = arg;
	struct woof *w = sl->w;

	__atomic_store_n(&sl->going[idx], 1, __ATOMIC_SEQ_CST);
	return woof_wait(w, 1, 20000) == 0 && woof_latest(w) >= 2 ? 0 : 1;
}

/*
 * Know that child @idx (@pid) sleeps in woof_wait: it said it is going
 * there, and it sleeps in the kernel in a futex or woof.ko. On the
 * user-space engine a sleeping waiter has also flagged the header.
 */
static void assert_waiting(struct woof *w, struct sleeper *sl, int idx, pid_t pid)
{
	cr_assert(tu_wait_flag(&sl->going[idx], 10000), "waiter %d never started", idx);
	tu_assert_asleep(pid, "a waiter");
	if (!tu_kernel())
		cr_assert(__atomic_load_n(&woof_header(w)->wait_flag, __ATOMIC_SEQ_CST) == 1,
			  "waiter %d sleeps but the header's wait_flag is not set", idx);
}

Test(api, wait_wakes_many_waiters)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);
	struct sleeper *sl = tu_shared(sizeof(*sl));
	pid_t pids[4];

	append_n(w, 1, 1);
	sl->w = w;
	for (int i = 0; i < 4; i++)
		pids[i] = tu_fork(wait_in_child, i, sl);
	for (int i = 0; i < 4; i++)
		assert_waiting(w, sl, i, pids[i]);
	uint64_t t0 = tu_now_ns();
	append_n(w, 2, 1);
	for (int i = 0; i < 4; i++)
		tu_assert_rc(tu_wait(pids[i], 10000), 0);
	double ms = tu_ms_since(t0);
	cr_assert(ms < 2000, "waiters took %.1f ms to wake", ms);
	woof_close(w);
}

static void on_alarm(int sig)
{
	(void)sig;
}

Test(api, wait_interrupted_by_signal_is_eintr)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 150000 } };

	sigemptyset(&sa.sa_mask);
	cr_assert(sigaction(SIGALRM, &sa, NULL) == 0);
	cr_assert(setitimer(ITIMER_REAL, &it, NULL) == 0);
	uint64_t t0 = tu_now_ns();
	int rc = woof_wait(w, 0, 5000);
	double ms = tu_ms_since(t0);
	tu_assert_rc(rc, -EINTR);
	cr_assert(ms >= 100 && ms < 2000, "woof_wait returned -EINTR after %.1f ms (signal at 150 ms)", ms);
	woof_close(w);
}

static int wait_for_stale(int idx, void *arg)
{
	struct sleeper *sl = arg;
	struct woof *w = sl->w;
	uint64_t t0 = tu_now_ns();

	__atomic_store_n(&sl->going[idx], 1, __ATOMIC_SEQ_CST);
	int rc = woof_wait(w, woof_latest(w), 10000);
	if (rc != -ESTALE) {
		fprintf(stderr, "woof_wait after remove: %s\n", tu_err(rc));
		return 1;
	}
	return tu_ms_since(t0) < 5000 ? 0 : 2;
}

Test(api, wait_wakes_on_remove)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);

	struct sleeper *sl = tu_shared(sizeof(*sl));

	append_n(w, 1, 1);
	sl->w = w;
	pid_t pid = tu_fork(wait_for_stale, 0, sl);
	assert_waiting(w, sl, 0, pid);
	tu_assert_ok(woof_remove(tu_ns, "w"));
	int rc = tu_wait(pid, 8000);
	cr_assert(rc == 0, "a process sleeping in woof_wait %s when the WOOF was removed",
		  rc == 1 ? "did not get -ESTALE" : "was not woken");
	woof_close(w);
}

Test(api, wait_wakes_on_reset)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el64), 4);
	struct woof_create_opts o = tu_opts(sizeof(struct el64), 4, WOOF_CREATE_RESET);

	struct sleeper *sl = tu_shared(sizeof(*sl));

	append_n(w, 1, 1);
	sl->w = w;
	pid_t pid = tu_fork(wait_for_stale, 0, sl);
	assert_waiting(w, sl, 0, pid);
	tu_assert_ok(woof_create(tu_ns, "w", &o, NULL));
	int rc = tu_wait(pid, 8000);
	cr_assert(rc == 0, "a process sleeping in woof_wait %s when the WOOF was re-created",
		  rc == 1 ? "did not get -ESTALE" : "was not woken");
	woof_close(w);
}

/* ---- file mode ------------------------------------------------------------ */

Test(api, create_file_mode)
{
	struct woof_create_opts o = tu_opts(8, 2, WOOF_CREATE_EXCL);
	struct stat st;

	umask(0);
	tu_assert_ok(woof_create(tu_ns, "m0", &o, NULL));
	cr_assert(stat(tu_path(tu_dir, "m0"), &st) == 0);
	cr_assert((st.st_mode & 07777) == 0664, "mode 0 gave %o, expected 0664", st.st_mode & 07777);
	o.mode = 0600;
	tu_assert_ok(woof_create(tu_ns, "m600", &o, NULL));
	cr_assert(stat(tu_path(tu_dir, "m600"), &st) == 0);
	cr_assert((st.st_mode & 07777) == 0600, "mode 0600 gave %o", st.st_mode & 07777);
	/*
	 * The user-space engine: the umask does not apply, every file gets the
	 * model's mode whoever makes it. woof.ko creates with the caller's
	 * umask (userspace-api.md).
	 */
	if (tu_kernel()) {
		umask(022);
		return;
	}
	umask(022);
	o.mode = 0666;
	tu_assert_ok(woof_create(tu_ns, "mumask", &o, NULL));
	cr_assert(stat(tu_path(tu_dir, "mumask"), &st) == 0);
	cr_assert((st.st_mode & 07777) == 0666, "mode 0666 with umask 022 gave %o", st.st_mode & 07777);
	cr_assert(S_ISREG(st.st_mode));
	umask(077);
	o.mode = 0;
	tu_assert_ok(woof_create(tu_ns, "mdefault", &o, NULL));
	cr_assert(stat(tu_path(tu_dir, "mdefault"), &st) == 0);
	cr_assert((st.st_mode & 07777) == 0664, "mode 0 with umask 077 gave %o", st.st_mode & 07777);
	umask(022);
}

/* ---- durability ---------------------------------------------------------- */

Test(api, sync_calls)
{
	struct woof *w = tu_create(tu_ns, "s", sizeof(struct el64), 4);
	tu_assert_ok(woof_sync(w));
	append_n(w, 1, 3);
	tu_assert_ok(woof_sync(w));
	tu_assert_ok(woof_ns_sync(tu_ns));
	tu_assert_ok(woof_ns_sync(NULL));
	woof_close(w);
}

Test(api, set_durable_persists)
{
	struct woof *w = tu_create(tu_ns, "d", sizeof(struct el64), 4);
	struct woof_header h;
	struct woof_stat st;

	tu_assert_ok(woof_set_durable(w, true));
	tu_assert_u64(woof_header(w)->flags & WOOF_F_DURABLE, WOOF_F_DURABLE);
	tu_assert_rc(tu_pread_file(tu_path(tu_dir, "d"), &h, sizeof(h), 0), sizeof(h));
	tu_assert_u64(h.flags & WOOF_F_DURABLE, WOOF_F_DURABLE);
	append_n(w, 1, 3);
	woof_close(w);

	tu_assert_ok(woof_open(tu_ns, "d", &w));
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.flags & WOOF_F_DURABLE, WOOF_F_DURABLE);
	tu_assert_u64(st.latest, 3);
	append_n(w, 4, 1);

	tu_assert_ok(woof_set_durable(w, false));
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.flags & WOOF_F_DURABLE, 0);
	tu_assert_rc(tu_pread_file(tu_path(tu_dir, "d"), &h, sizeof(h), 0), sizeof(h));
	tu_assert_u64(h.flags & WOOF_F_DURABLE, 0);
	append_n(w, 5, 1);
	woof_close(w);
}

Test(api, set_durable_keeps_other_flags)
{
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_EXCL);
	struct woof *w;
	struct woof_stat st;

	o.flags = WOOF_F_OVERWRITE;
	tu_assert_ok(woof_create(tu_ns, "f", &o, &w));
	tu_assert_ok(woof_set_durable(w, true));
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.flags, WOOF_F_OVERWRITE | WOOF_F_DURABLE);
	tu_assert_ok(woof_set_durable(w, false));
	tu_assert_ok(woof_stat(w, &st));
	tu_assert_u64(st.flags, WOOF_F_OVERWRITE);
	woof_close(w);
}

/* ---- handler names ------------------------------------------------------- */

Test(api, append_checks_handler_name)
{
	static const char *bad[] = { "", ".", "..", ".hidden", "a/b", "/abs", "h\n",
				     "h\x01", "h\x7f" };
	struct woof *w = tu_create(tu_ns, "h", sizeof(struct el64), 4);
	struct el64 e = mk(1);
	uint64_t seq = 12345;
	char longname[WOOF_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = woof_append(w, &e, bad[i], &seq);
		cr_assert(rc == -EINVAL, "handler \"%s\": expected -EINVAL, got %s",
			  bad[i], tu_err(rc));
		tu_assert_u64(woof_latest(w), 0);
		rc = woof_put(tu_ns, "h", bad[i], &e, &seq);
		cr_assert(rc == -EINVAL, "woof_put handler \"%s\": expected -EINVAL, got %s",
			  bad[i], tu_err(rc));
		tu_assert_u64(woof_latest(w), 0);
	}
	memset(longname, 'h', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	tu_assert_rc2(woof_append(w, &e, longname, &seq), -EINVAL, -ENAMETOOLONG);
	tu_assert_u64(woof_latest(w), 0);

	/* a valid handler name is accepted */
	tu_assert_ok(woof_append(w, &e, "hw", &seq));
	tu_assert_u64(seq, 1);
	longname[WOOF_NAME_MAX] = 0;
	tu_assert_ok(woof_append(w, &e, longname, &seq));
	tu_assert_u64(seq, 2);
	woof_close(w);
}

/* ---- errors and version ---------------------------------------------------- */

Test(api, strerror_covers_every_code)
{
	static const int codes[] = { EEXIST, EINVAL, ENOENT, EBADMSG, ESTALE, ERANGE,
				     ENODATA, ETIMEDOUT, EINTR, EIO, EFBIG, ENOSPC,
				     EACCES, ENOTDIR, ENAMETOOLONG, ENOMEM, EREMOTE,
				     ELOOP };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *m = woof_strerror(-codes[i]);
		cr_assert(m && *m, "woof_strerror(-%s) is empty", strerrorname_np(codes[i]));
		for (size_t j = 0; j < i; j++)
			cr_assert(strcmp(m, woof_strerror(-codes[j])) != 0,
				  "woof_strerror(-%s) == woof_strerror(-%s) == \"%s\"",
				  strerrorname_np(codes[i]), strerrorname_np(codes[j]), m);
	}
	const char *m = woof_strerror(0);
	cr_assert(m && *m, "woof_strerror(0) is empty");
	m = woof_strerror(-99999);
	cr_assert(m && *m, "woof_strerror(-99999) is empty");
	m = woof_strerror(12345);
	cr_assert(m != NULL, "woof_strerror(12345) is NULL");
}

Test(api, version_string)
{
	const char *v = woof_version();
	unsigned a, b, c;
	char extra;
	cr_assert_not_null(v);
	cr_assert(sscanf(v, "%u.%u.%u%c", &a, &b, &c, &extra) == 3,
		  "woof_version() = \"%s\", not MAJOR.MINOR.PATCH", v);
}

Test(api, engine_is_user_without_test_root)
{
	const char *root = getenv("WOOF_TEST_NS_ROOT");
	if (root && *root)
		tu_skip("WOOF_TEST_NS_ROOT is set: the engine may be the kernel's");
	tu_assert_rc(woof_ns_engine(tu_ns), WOOF_ENGINE_USER);
}

/* WOOF_ENGINE forces an engine; a directory woof.ko does not serve has no kernel engine. */
Test(api, woof_engine_env_chooses_or_refuses)
{
	struct woof_ns *ns;
	char *d1 = tu_make_dir(), *d2 = tu_make_dir(), *d3 = tu_make_dir();

	setenv("WOOF_ENGINE", "kernel", 1);
	tu_assert_rc(woof_ns_open(d1, &ns), -ENODEV);		/* not mounted */
	setenv("WOOF_ENGINE", "fast", 1);
	tu_assert_rc(woof_ns_open(d2, &ns), -EINVAL);		/* neither user nor kernel */
	setenv("WOOF_ENGINE", "user", 1);
	tu_assert_ok(woof_ns_open(d3, &ns));
	tu_assert_rc(woof_ns_engine(ns), WOOF_ENGINE_USER);
	woof_ns_close(ns);
	unsetenv("WOOF_ENGINE");
	tu_assert_ok(woof_ns_open(d1, &ns));			/* refused opens were not kept */
	tu_assert_rc(woof_ns_engine(ns), WOOF_ENGINE_USER);
	woof_ns_close(ns);
	tu_assert_rc(woof_ns_engine(tu_ns), tu_kernel() ? WOOF_ENGINE_KERNEL : WOOF_ENGINE_USER);
}

/* ---- backpressure (the trigger path) ------------------------------------------ */

static int blocking_append(int idx, void *arg)
{
	(void)idx;
	uint64_t x = 3, seq;
	/* must wait: it would overwrite an element no handler has read */
	woof_append(arg, &x, NULL, &seq);
	return 0;
}

Test(api, backpressure_waits_or_says_eagain)
{
	if (!woof_append_flags || !woof_put_flags)
		tu_skip("woof_append_flags/woof_put_flags are not in the library yet");
	struct woof *w = tu_create(tu_ns, "bp", 8, 2);
	uint64_t x = 1, seq = 0;

	tu_assert_ok(woof_append(w, &x, "hw", &seq));
	tu_assert_ok(woof_append(w, &x, "hw", &seq));
	/* no dispatcher here: seq 1 stays unread, so wrapping over it must not happen */
	tu_assert_rc(woof_append_flags(w, &x, NULL, WOOF_PUT_NONBLOCK, &seq), -EAGAIN);
	tu_assert_rc(woof_put_flags(tu_ns, "bp", "hw", &x, WOOF_PUT_NONBLOCK, &seq), -EAGAIN);
	tu_assert_u64(woof_latest(w), 2);
	tu_assert_rc(woof_append_flags(w, &x, NULL, 1U << 9, &seq), -EINVAL);

	pid_t pid = tu_fork(blocking_append, 0, w);
	int rc = tu_wait(pid, 300);
	cr_assert(rc == -1, "woof_append over an unread triggered element returned (status %d) "
		  "instead of waiting", rc);
	tu_assert_u64(woof_latest(w), 2);
	/* the killed waiter wedged nothing: reads work, NONBLOCK still says -EAGAIN */
	tu_assert_ok(woof_read(w, 1, &x, NULL));
	tu_assert_rc(woof_append_flags(w, &x, NULL, WOOF_PUT_NONBLOCK, &seq), -EAGAIN);
	woof_close(w);
}

Test(api, overwrite_flag_does_not_wait)
{
	if (!woof_append_flags)
		tu_skip("woof_append_flags is not in the library yet");
	struct woof_create_opts o = tu_opts(8, 2, WOOF_CREATE_EXCL);
	struct woof *w;
	uint64_t x = 1, seq = 0;

	o.flags = WOOF_F_OVERWRITE;
	tu_assert_ok(woof_create(tu_ns, "ow", &o, &w));
	for (int i = 0; i < 6; i++)
		tu_assert_ok(woof_append_flags(w, &x, "hw", WOOF_PUT_NONBLOCK, &seq));
	tu_assert_u64(seq, 6);
	woof_close(w);
}

Test(api, call_current_outside_a_handler)
{
	struct woof_call c;

	if (!woof_call_current)
		tu_skip("woof_call_current is not in the library yet");
	memset(&c, 0, sizeof(c));
	c.sz = sizeof(c);
	tu_assert_rc(woof_call_current(&c), -ENOENT);
}

/*
 * A reader that may not write the WOOF file (woofctl tail -f as another
 * user) cannot set wait_flag; woof_wait must still return when an element
 * arrives, and must not fault on the read-only mapping.
 *
 * The reader must be a fresh process: a forked child would share the
 * test's namespace and its cached, writable mapping (lib/map.c) and so
 * wait as a writer. The test runs this binary again as nobody with
 * API_RO_WAITER=DIR,FD in the environment; this constructor then runs
 * before Criterion's main, writes a byte to FD just before woof_wait, and
 * exits with 0 when the wait saw the element.
 */
__attribute__((constructor)) static void readonly_waiter(void)
{
	const char *env = getenv("API_RO_WAITER");
	char dir[4096];
	struct woof_ns *ns;
	struct woof *w;
	int fd;

	if (!env || sscanf(env, "%4095[^,],%d", dir, &fd) != 2)
		return;
	if (woof_ns_open(dir, &ns) || woof_open(ns, "ro", &w))
		_exit(11);
	if (write(fd, "w", 1) != 1)
		_exit(13);
	_exit(woof_wait(w, 1, 20000) == 0 && woof_latest(w) >= 2 ? 0 : 12);
}

Test(api, wait_without_write_access)
{
	struct woof *w = tu_create(tu_ns, "ro", 8, 4);
	uint64_t x = 1, seq;
	struct pollfd pfd;
	int pfds[2];
	char b;
	pid_t pid;

	if (geteuid() != 0)
		tu_skip("needs root to drop to another user");
	tu_assert_ok(woof_append(w, &x, NULL, &seq));
	chmod(tu_dir, 0755);
	chmod(tu_path(tu_dir, "ro"), 0644);
	cr_assert(pipe(pfds) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char env[4200];

		close(pfds[0]);
		snprintf(env, sizeof(env), "%s,%d", tu_dir, pfds[1]);
		if (setgid(65534) || setuid(65534))
			_exit(10);
		setenv("API_RO_WAITER", env, 1);
		execl("/proc/self/exe", "test-api", (char *)NULL);
		_exit(14);
	}
	close(pfds[1]);
	pfd = (struct pollfd){ .fd = pfds[0], .events = POLLIN };
	cr_assert(poll(&pfd, 1, 10000) == 1 && read(pfds[0], &b, 1) == 1,
		  "the read-only waiter never got to woof_wait (exit %d)", tu_wait(pid, 1000));
	tu_assert_asleep(pid, "the read-only waiter");
	/* it sleeps without the header's flag (it cannot write it): the case of this test */
	if (!tu_kernel())
		tu_assert_u64(__atomic_load_n(&woof_header(w)->wait_flag, __ATOMIC_SEQ_CST), 0);
	tu_assert_ok(woof_append(w, &x, NULL, &seq));
	tu_assert_rc(tu_wait(pid, 20000), 0);
	close(pfds[0]);
	woof_close(w);
}
