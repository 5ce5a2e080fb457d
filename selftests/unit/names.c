/* SPDX-License-Identifier: MIT */
/*
 * names.c - WOOF names and woof:// URIs.
 *
 * woof_name_check() accepts exactly what woof.h promises (1..255 bytes, no
 * '/', no control characters, not "." / "..", no leading '.', not the
 * namespace's own woof.conf) - UTF-8 included; woof_name_fault() names the
 * rule a bad name breaks, and so does the CSPOT API's error line; a WOOF or
 * handler named woof.conf is refused and the namespace's woof.conf is left
 * alone; every entry point of both APIs rejects the bad names and none
 * of them creates, changes or removes a file outside the namespace
 * ("../escape", "../other/victim"); woof_resolve() splits plain names and
 * woof://host/abs/dir/name URIs, treats the local host's spellings as
 * local, other hosts as -EREMOTE, and rejects malformed and over-long
 * input; WooFValidURI() on valid and invalid strings.
 */
#include "testutil.h"

#include <woofc.h>

#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/stat.h>

TestSuite(names, .init = tu_setup, .fini = tu_teardown, .timeout = 30);

static char name255[WOOF_NAME_MAX + 1];
static char name256[WOOF_NAME_MAX + 2];

static void make_long_names(void)
{
	memset(name255, 'a', WOOF_NAME_MAX);
	name255[WOOF_NAME_MAX] = 0;
	memset(name256, 'b', WOOF_NAME_MAX + 1);
	name256[WOOF_NAME_MAX + 1] = 0;
}

struct bad_name {
	const char *name;
	int err;
};

static const struct bad_name bad_names[] = {
	{ "", -EINVAL },
	{ ".", -EINVAL },
	{ "..", -EINVAL },
	{ "...", -EINVAL },
	{ ".hidden", -EINVAL },
	{ ".woof", -EINVAL },
	{ "woof.conf", -EINVAL },	/* the namespace's own configuration file */
	{ "a/b", -EINVAL },
	{ "/", -EINVAL },
	{ "a/", -EINVAL },
	{ "../escape", -EINVAL },
	{ "../other/victim", -EINVAL },
	{ "new\nline", -EINVAL },
	{ "tab\tname", -EINVAL },
	{ "ctl\x01", -EINVAL },
	{ "\x1f", -EINVAL },
	{ "del\x7f", -EINVAL },
	{ "cr\r", -EINVAL },
};
#define N_BAD (sizeof(bad_names) / sizeof(bad_names[0]))

Test(names, check_rejects_bad_names)
{
	tu_assert_rc(woof_name_check("/abs"), -EINVAL);
	tu_assert_rc(woof_name_check("/tmp/x"), -EINVAL);
	for (size_t i = 0; i < N_BAD; i++) {
		int rc = woof_name_check(bad_names[i].name);
		cr_expect(rc == bad_names[i].err, "woof_name_check(\"%s\"): expected %s, got %s",
			  bad_names[i].name, tu_err(bad_names[i].err), tu_err(rc));
	}
}

Test(names, check_length_limit)
{
	make_long_names();
	tu_assert_ok(woof_name_check(name255));
	tu_assert_rc(woof_name_check(name256), -ENAMETOOLONG);
	char *huge = malloc(100000);
	memset(huge, 'c', 99999);
	huge[99999] = 0;
	tu_assert_rc(woof_name_check(huge), -ENAMETOOLONG);
	free(huge);
	/* 255 bytes of multi-byte UTF-8 characters is fine, 256 is not */
	char u[WOOF_NAME_MAX + 4] = "";
	for (int i = 0; i < 85; i++)
		strcat(u, "\xe2\x82\xac");	/* EURO SIGN, 3 bytes: 255 bytes */
	tu_assert_rc(strlen(u), 255);
	tu_assert_ok(woof_name_check(u));
	strcat(u, "x");
	tu_assert_rc(woof_name_check(u), -ENAMETOOLONG);
}

Test(names, check_accepts_good_names)
{
	static const char *good[] = {
		"hello-woof", "a", "A_b.c-9", "a.", "a..b", "with space", "x~y",
		"h\xc3\xbcnd", "\xe7\x8a\xac", "dog-\xf0\x9f\x90\x95", "hw",
		"woof:", "0", "-",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = woof_name_check(good[i]);
		cr_expect(rc == 0, "woof_name_check(\"%s\"): expected 0, got %s",
			  good[i], tu_err(rc));
	}
}

Test(names, fault_names_the_rule)
{
	static const struct { const char *name, *says; } faults[] = {
		{ "", "empty" },
		{ ".", "not names" },
		{ "..", "not names" },
		{ ".hidden", "reserved" },
		{ ".woof", "reserved" },
		{ "woof.conf", "woof.conf" },
		{ "a/b", "'/'" },
		{ "new\nline", "control character" },
		{ "del\x7f", "control character" },
	};

	make_long_names();
	cr_assert_not_null(strstr(woof_name_fault(name256), "255"));
	cr_assert_not_null(woof_name_fault(NULL));
	cr_assert_null(woof_name_fault(name255));
	cr_assert_null(woof_name_fault("woof.conf2"));
	cr_assert_null(woof_name_fault("hello-woof"));
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		const char *why = woof_name_fault(faults[i].name);

		cr_expect(why && strstr(why, faults[i].says),
			  "woof_name_fault(\"%s\"): \"%s\", expected it to say \"%s\"",
			  faults[i].name, why ? why : "(null)", faults[i].says);
	}
}

/* A namespace's woof.conf is neither a WOOF nor a handler, and survives both attempts. */
Test(names, woof_conf_is_no_woof_and_no_handler)
{
	static const char conf[] = "[handler h]\ntimeout = 5s\n";
	char *path = tu_path(tu_dir, "woof.conf");
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_RESET);
	char buf[sizeof(conf)] = "";
	uint64_t x = 1, seq;
	struct woof *w;

	tu_assert_ok(tu_write_file(path, conf, sizeof(conf) - 1));
	tu_assert_rc(woof_create(tu_ns, "woof.conf", &o, NULL), -EINVAL);
	setenv("WOOFC_DIR", tu_dir, 1);
	setenv("WOOF_QUIET", "1", 1);
	cr_expect(WooFCreate("woof.conf", 8, 4) < 0, "WooFCreate(\"woof.conf\") succeeded");
	tu_assert_rc(tu_pread_file(path, buf, sizeof(buf), 0), sizeof(conf) - 1);
	cr_assert_str_eq(buf, conf, "the namespace's woof.conf was changed");

	w = tu_create(tu_ns, "w", 8, 4);
	tu_assert_rc(woof_put(tu_ns, "w", "woof.conf", &x, &seq), -EINVAL);
	tu_assert_rc(woof_append(w, &x, "woof.conf", &seq), -EINVAL);
	cr_expect(WooFInvalid(WooFPut("w", "woof.conf", &x)), "WooFPut with handler woof.conf");
	tu_assert_u64(woof_latest(w), 0);
	woof_close(w);
	unsetenv("WOOF_QUIET");
}

/* The CSPOT API's error line says which rule a bad WOOF or handler name broke. */
Test(names, cspot_error_line_names_the_rule)
{
	char *log = tu_path(tu_dir, "stderr.txt");
	char text[1024] = "";
	uint64_t x = 1;
	int fd, saved;

	setenv("WOOFC_DIR", tu_dir, 1);
	unsetenv("WOOF_QUIET");
	tu_create(tu_ns, "w", 8, 4);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	WooFCreate(".x", 8, 4);
	WooFCreate("woof://localhost/tmp/a/b\x01", 8, 4);
	WooFPut("w", "a/b", &x);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	cr_assert(tu_pread_file(log, text, sizeof(text) - 1, 0) > 0);
	cr_expect(strstr(text, "WooFCreate(.x): invalid WOOF name: names beginning with '.' are reserved"),
		  "stderr: %s", text);
	cr_expect(strstr(text, "invalid WOOF name: contains a control character"), "stderr: %s", text);
	cr_expect(strstr(text, "WooFPut(w): invalid handler name: contains '/'"), "stderr: %s", text);
}

Test(names, good_names_work_end_to_end)
{
	static const char *good[] = { "hello-woof", "h\xc3\xbcnd", "dog-\xf0\x9f\x90\x95",
				      "with space", "a..b" };
	make_long_names();
	for (size_t i = 0; i <= sizeof(good) / sizeof(good[0]); i++) {
		const char *n = i < sizeof(good) / sizeof(good[0]) ? good[i] : name255;
		struct woof_create_opts o = tu_opts(8, 2, WOOF_CREATE_EXCL);
		uint64_t x = i + 100, y = 0, seq = 0;
		struct woof_stat st;
		struct woof *w;

		tu_assert_ok(woof_create(tu_ns, n, &o, &w));
		cr_assert(tu_exists(tu_path(tu_dir, n)), "no file named \"%s\" in the namespace", n);
		tu_assert_ok(woof_put(tu_ns, n, NULL, &x, &seq));
		tu_assert_u64(seq, 1);
		tu_assert_ok(woof_get(tu_ns, n, 1, &y, NULL));
		tu_assert_u64(y, x);
		tu_assert_ok(woof_stat(w, &st));
		cr_assert_str_eq(st.name, n);
		woof_close(w);
		tu_assert_ok(woof_remove(tu_ns, n));
	}
}

/*
 * Layout for the escape checks: base/ns is the namespace, base/other holds a
 * WOOF "victim". Nothing in base may change, and base/ns may hold nothing
 * but .woof, after any call with a bad name.
 */
struct escape_env {
	char *base, *ns_dir, *other;
	struct woof_ns *ns;
	struct woof *victim;
};

static void escape_setup(struct escape_env *e)
{
	struct woof_ns *ons;

	e->base = tu_make_dir();
	e->ns_dir = tu_path(e->base, "ns");
	e->other = tu_path(e->base, "other");
	tu_assert_ok(woof_ns_init(e->ns_dir, 0));
	tu_assert_ok(woof_ns_init(e->other, 0));
	tu_assert_ok(woof_ns_open(e->ns_dir, &e->ns));
	tu_assert_ok(woof_ns_open(e->other, &ons));
	e->victim = tu_create(ons, "victim", 8, 4);
	uint64_t x = 42;
	tu_assert_ok(woof_append(e->victim, &x, NULL, NULL));
}

static void escape_check(struct escape_env *e, const char *what, const char *name)
{
	tu_assert_rc(tu_count_entries(e->base), 2);
	cr_assert(tu_count_entries(e->ns_dir) == 1,
		  "%s(\"%s\"): the namespace gained a file", what, name);
	cr_assert(tu_count_entries(e->other) == 2,
		  "%s(\"%s\"): the other namespace changed", what, name);
	cr_assert(woof_latest(e->victim) == 1,
		  "%s(\"%s\"): the victim WOOF outside the namespace was appended to", what, name);
	cr_assert(tu_exists(tu_path(e->other, "victim")),
		  "%s(\"%s\"): the victim WOOF outside the namespace was removed", what, name);
	cr_assert(!tu_exists(tu_path(e->base, "escape")),
		  "%s(\"%s\"): created a file outside the namespace", what, name);
}

Test(names, modern_entry_points_reject_bad_names)
{
	struct escape_env e;

	make_long_names();
	escape_setup(&e);
	char *abs_escape = tu_path(e.base, "escape");
	for (size_t i = 0; i <= N_BAD + 1; i++) {
		const char *n = i < N_BAD ? bad_names[i].name : i == N_BAD ? name256 : abs_escape;
		int want = i < N_BAD ? bad_names[i].err : i == N_BAD ? -ENAMETOOLONG : -EINVAL;
		struct woof_create_opts o;
		struct woof *w = NULL;
		uint64_t x = 7;
		int rc;

		for (int mode = 0; mode < 3; mode++) {
			static const uint32_t modes[] = { WOOF_CREATE_EXCL, WOOF_CREATE_OPEN,
							  WOOF_CREATE_RESET };
			o = tu_opts(8, 4, modes[mode]);
			rc = woof_create(e.ns, n, &o, &w);
			cr_expect(rc == want || (want == -ENAMETOOLONG && rc == -EINVAL),
				  "woof_create(\"%s\", mode %d): expected %s, got %s", n,
				  mode, tu_err(want), tu_err(rc));
			escape_check(&e, "woof_create", n);
		}
		rc = woof_open(e.ns, n, &w);
		cr_expect(rc == want || (want == -ENAMETOOLONG && rc == -EINVAL),
			  "woof_open(\"%s\"): expected %s, got %s", n, tu_err(want), tu_err(rc));
		rc = woof_put(e.ns, n, NULL, &x, NULL);
		cr_expect(rc == want || (want == -ENAMETOOLONG && rc == -EINVAL),
			  "woof_put(\"%s\"): expected %s, got %s", n, tu_err(want), tu_err(rc));
		escape_check(&e, "woof_put", n);
		rc = woof_get(e.ns, n, 0, &x, NULL);
		cr_expect(rc == want || (want == -ENAMETOOLONG && rc == -EINVAL),
			  "woof_get(\"%s\"): expected %s, got %s", n, tu_err(want), tu_err(rc));
		rc = woof_remove(e.ns, n);
		cr_expect(rc == want || (want == -ENAMETOOLONG && rc == -EINVAL),
			  "woof_remove(\"%s\"): expected %s, got %s", n, tu_err(want), tu_err(rc));
		escape_check(&e, "woof_remove", n);
	}
	/* ".woof", the bookkeeping directory, is still there and untouched */
	cr_assert(tu_exists(tu_path(e.ns_dir, WOOF_NS_META_DIR)));
}

Test(names, cspot_entry_points_reject_bad_names)
{
	struct escape_env e;
	char buf[64];

	make_long_names();
	escape_setup(&e);
	setenv("WOOFC_DIR", e.ns_dir, 1);
	/* an absolute path is neither a plain name nor a woof:// URI */
	char *abs_escape = tu_path(e.base, "escape");
	for (size_t i = 0; i <= N_BAD + 1; i++) {
		const char *n = i < N_BAD ? bad_names[i].name : i == N_BAD ? name256 : abs_escape;
		uint64_t x = 7;

		errno = 0;
		cr_expect(WooFCreate(n, 8, 4) < 0, "WooFCreate(\"%s\") succeeded", n);
		cr_expect(errno == EINVAL || errno == ENAMETOOLONG,
			  "WooFCreate(\"%s\"): errno %s", n, tu_err(-errno));
		escape_check(&e, "WooFCreate", n);
		errno = 0;
		cr_expect(WooFInvalid(WooFPut(n, NULL, &x)), "WooFPut(\"%s\") succeeded", n);
		cr_expect(errno == EINVAL || errno == ENAMETOOLONG,
			  "WooFPut(\"%s\"): errno %s", n, tu_err(-errno));
		escape_check(&e, "WooFPut", n);
		cr_expect(WooFGet(n, buf, 0) < 0, "WooFGet(\"%s\") succeeded", n);
		cr_expect(WooFGet(n, buf, 1) < 0, "WooFGet(\"%s\", 1) succeeded", n);
		cr_expect(WooFInvalid(WooFGetLatestSeqno(n)), "WooFGetLatestSeqno(\"%s\") succeeded", n);
		cr_expect(WooFInvalid(WooFGetElSize(n)), "WooFGetElSize(\"%s\") succeeded", n);
		WOOF *wf = WooFOpen(n);
		cr_expect(wf == NULL, "WooFOpen(\"%s\") succeeded", n);
		if (wf)
			WooFFree(wf);
		cr_expect(WooFRemove(n) < 0, "WooFRemove(\"%s\") succeeded", n);
		escape_check(&e, "WooFRemove", n);
	}
}

Test(names, uri_with_dotdot_does_not_escape)
{
	struct escape_env e;
	uint64_t x = 1;

	escape_setup(&e);
	setenv("WOOFC_DIR", e.ns_dir, 1);
	const char *uris[] = {
		tu_printf("woof://%s/../escape", e.ns_dir),
		tu_printf("woof://%s/../other/victim", e.ns_dir),
		tu_printf("woof://localhost%s/../other/victim", e.ns_dir),
		tu_printf("woof://%s/.hidden", e.ns_dir),
	};
	for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		cr_expect(WooFCreate(uris[i], 8, 4) < 0, "WooFCreate(\"%s\") succeeded", uris[i]);
		cr_expect(WooFInvalid(WooFPut(uris[i], NULL, &x)), "WooFPut(\"%s\") succeeded", uris[i]);
		cr_expect(WooFRemove(uris[i]) < 0, "WooFRemove(\"%s\") succeeded", uris[i]);
		escape_check(&e, "uri", uris[i]);
	}
}

/* ---- woof_resolve ----------------------------------------------------------- */

static void resolve_ok(const char *def, const char *in, const char *want_dir,
		       const char *want_name)
{
	char dir[PATH_MAX], name[WOOF_NAME_MAX + 1];

	memset(dir, 'X', sizeof(dir));
	memset(name, 'X', sizeof(name));
	int rc = woof_resolve(def, in, dir, sizeof(dir), name, sizeof(name));
	cr_assert(rc == 0, "woof_resolve(\"%s\"): expected 0, got %s", in, tu_err(rc));
	cr_assert(strcmp(dir, want_dir) == 0, "woof_resolve(\"%s\"): nsdir \"%s\", expected \"%s\"",
		  in, dir, want_dir);
	cr_assert(strcmp(name, want_name) == 0, "woof_resolve(\"%s\"): name \"%s\", expected \"%s\"",
		  in, name, want_name);
}

static void resolve_fails(const char *in, int want)
{
	char dir[PATH_MAX], name[WOOF_NAME_MAX + 1];
	int rc = woof_resolve("/tmp/def", in, dir, sizeof(dir), name, sizeof(name));
	cr_expect(rc == want, "woof_resolve(\"%s\"): expected %s, got %s", in,
		  tu_err(want), tu_err(rc));
}

Test(names, resolve_plain_names)
{
	resolve_ok("/tmp/ns", "hello", "/tmp/ns", "hello");
	resolve_ok("/some/where/deep", "hello-woof", "/some/where/deep", "hello-woof");
	resolve_fails("a/b", -EINVAL);
	resolve_fails("..", -EINVAL);
	resolve_fails("../x", -EINVAL);
	resolve_fails(".hidden", -EINVAL);
	resolve_fails("", -EINVAL);
}

Test(names, resolve_plain_default_dir)
{
	char cwd[PATH_MAX];

	setenv("WOOFC_DIR", tu_dir, 1);
	resolve_ok(NULL, "hello", tu_dir, "hello");
	unsetenv("WOOFC_DIR");
	cr_assert(chdir(tu_dir) == 0);
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	/* "the current directory": its absolute path, or "." */
	char dir[PATH_MAX], name[WOOF_NAME_MAX + 1];
	tu_assert_ok(woof_resolve(NULL, "hello", dir, sizeof(dir), name, sizeof(name)));
	cr_assert(strcmp(dir, cwd) == 0 || strcmp(dir, ".") == 0,
		  "nsdir \"%s\" is not the current directory %s", dir, cwd);
	cr_assert_str_eq(name, "hello");
}

Test(names, resolve_local_uris)
{
	char host[256], uri[512];

	resolve_ok(NULL, "woof:///tmp/ns/hello", "/tmp/ns", "hello");
	resolve_ok("/elsewhere", "woof:///tmp/ns/hello", "/tmp/ns", "hello");
	resolve_ok(NULL, "woof://localhost/tmp/ns/hello", "/tmp/ns", "hello");
	resolve_ok(NULL, "woof://127.0.0.1/tmp/ns/hello", "/tmp/ns", "hello");
	resolve_ok(NULL, "woof://127.0.0.2/tmp/ns/hello", "/tmp/ns", "hello");
	resolve_ok(NULL, "woof://[::1]/tmp/ns/hello", "/tmp/ns", "hello");
	resolve_ok(NULL, "woof:///a/b/c/d/e/x", "/a/b/c/d/e", "x");
	resolve_ok(NULL, "woof:///tmp/ns/h\xc3\xbcnd", "/tmp/ns", "h\xc3\xbcnd");

	cr_assert(gethostname(host, sizeof(host)) == 0);
	snprintf(uri, sizeof(uri), "woof://%s/tmp/ns/hello", host);
	resolve_ok(NULL, uri, "/tmp/ns", "hello");
}

Test(names, resolve_own_address_is_local)
{
	struct ifaddrs *ifa, *i;
	char addr[INET_ADDRSTRLEN] = "", uri[256];

	cr_assert(getifaddrs(&ifa) == 0);
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;
		if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		break;
	}
	freeifaddrs(ifa);
	if (!addr[0])
		tu_skip("this host has no non-loopback IPv4 address");
	snprintf(uri, sizeof(uri), "woof://%s/tmp/ns/hello", addr);
	resolve_ok(NULL, uri, "/tmp/ns", "hello");
}

Test(names, resolve_remote_is_eremote)
{
	resolve_fails("woof://example.invalid/tmp/ns/x", -EREMOTE);
	resolve_fails("woof://192.0.2.1/tmp/ns/x", -EREMOTE);	/* TEST-NET-1 */
	resolve_fails("woof://[2001:db8::1]/tmp/ns/x", -EREMOTE);	/* documentation prefix */
}

Test(names, resolve_malformed_is_einval)
{
	resolve_fails("woof://", -EINVAL);
	resolve_fails("woof://localhost", -EINVAL);
	resolve_fails("woof://localhost/", -EINVAL);
	resolve_fails("woof:///", -EINVAL);
	resolve_fails("woof:///tmp/ns/", -EINVAL);	/* no name */
	resolve_fails("woof:///tmp/../ns/x", -EINVAL);
	resolve_fails("woof:///tmp/ns/../x", -EINVAL);
	resolve_fails("woof:///tmp/ns/..", -EINVAL);
	resolve_fails("woof:///../x", -EINVAL);
	resolve_fails("woof:///tmp/ns/.hidden", -EINVAL);
	resolve_fails("woof:///tmp/ns/a\nb", -EINVAL);
	resolve_fails("woof://[::1/tmp/ns/x", -EINVAL);
}

Test(names, resolve_too_long)
{
	char dir[PATH_MAX], name[WOOF_NAME_MAX + 1];

	make_long_names();
	resolve_fails(tu_printf("woof:///tmp/ns/%s", name256), -ENAMETOOLONG);
	resolve_fails(name256, -ENAMETOOLONG);
	resolve_ok(NULL, tu_printf("woof:///tmp/ns/%s", name255), "/tmp/ns", name255);

	/* a directory longer than PATH_MAX */
	char *longdir = malloc(PATH_MAX + 64);
	strcpy(longdir, "woof://");
	size_t len = strlen(longdir);
	while (len < PATH_MAX + 20) {
		memcpy(longdir + len, "/abcdefghij", 11);
		len += 11;
	}
	strcpy(longdir + len, "/x");
	resolve_fails(longdir, -ENAMETOOLONG);
	free(longdir);

	/* buffers too small for the result */
	tu_assert_rc(woof_resolve(NULL, "woof:///tmp/namespace/x", dir, 8, name, sizeof(name)),
		     -ENAMETOOLONG);
	tu_assert_rc(woof_resolve(NULL, "woof:///tmp/ns/hello", dir, sizeof(dir), name, 3),
		     -ENAMETOOLONG);
	tu_assert_rc(woof_resolve("/tmp/a-long-default-dir", "hello", dir, 8, name, sizeof(name)),
		     -ENAMETOOLONG);
	/* exactly fitting buffers work: "/tmp/ns" is 7 bytes + NUL, "hello" 5 + NUL */
	tu_assert_ok(woof_resolve(NULL, "woof:///tmp/ns/hello", dir, 8, name, 6));
	cr_assert_str_eq(dir, "/tmp/ns");
	cr_assert_str_eq(name, "hello");
}

Test(names, valid_uri)
{
	static const char *yes[] = {
		"woof://localhost/tmp/ns/x", "woof:///tmp/ns/x", "woof://127.0.0.1/a/b",
		"woof://example.invalid/a/b", "woof://[::1]/tmp/ns/x",
	};
	static const char *no[] = {
		"hello", "", "http://localhost/tmp/ns/x", "woof:/tmp/x", "/tmp/ns/x",
		"woof:", "woo://localhost/a/b", " woof://localhost/a/b",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_expect(WooFValidURI(yes[i]), "WooFValidURI(\"%s\") is false", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect(!WooFValidURI(no[i]), "WooFValidURI(\"%s\") is true", no[i]);
}
