/* SPDX-License-Identifier: MIT */
/*
 * paths.c - paths under a namespace (issue 11, items 2 and 3).
 *
 * Nothing below a namespace directory is reached through a symbolic link:
 * a .woof that is a link (to another namespace's .woof or to any
 * directory), a .woof/owners or .woof/triggers that is a link, and a
 * namespace's .woof opened as a namespace of its own (dispatcherd's calls
 * and log) are refused, and nothing is created or written in the link's
 * target. And every file libwoof creates gets the model's mode whatever
 * the umask, and the namespace directory's group.
 */
#include "testutil.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>

TestSuite(paths, .init = tu_setup, .fini = tu_teardown, .timeout = 30);

/* A namespace directory without .woof/ yet, opened; @target: an empty directory. */
static char *bare_ns(struct woof_ns **nsp, char **target)
{
	char *dir = tu_make_dir();

	*target = tu_make_dir();
	tu_assert_ok(woof_ns_open(dir, nsp));
	return dir;
}

static struct woof *mk(struct woof_ns *ns, const char *name)
{
	struct woof_create_opts o = tu_opts(8, 4, WOOF_CREATE_EXCL);
	struct woof *w;

	tu_assert_ok(woof_create(ns, name, &o, &w));
	return w;
}

Test(paths, symlinked_meta_dir_is_refused)
{
	struct woof_ns *ns, *meta;
	char *target, *dir = bare_ns(&ns, &target);
	struct woof *w;
	uint64_t x = 1;
	int rc;

	tu_skip_kernel("the module makes .woof/ when it mounts");
	cr_assert(symlink(target, tu_path(dir, ".woof")) == 0);
	w = mk(ns, "w");
	rc = woof_append(w, &x, NULL, NULL);
	cr_assert(rc < 0, "put without a handler through a symlinked .woof succeeded");
	rc = woof_append(w, &x, "h", NULL);
	cr_assert(rc < 0, "put with a handler through a symlinked .woof succeeded");
	tu_assert_rc(woof_ns_init(dir, 0), -ELOOP);
	tu_assert_rc(woof_ns_open(tu_path(dir, ".woof"), &meta), -ELOOP);
	tu_assert_rc(woof_ns_open(tu_printf("%s/.woof/", dir), &meta), -ELOOP);
	cr_assert(tu_count_entries(target) == 0, "%d files made in the symlink's target",
		  tu_count_entries(target));
	woof_close(w);
}

/* Another namespace's .woof: nothing of ours lands in it. */
Test(paths, symlink_to_another_namespaces_meta_dir)
{
	struct woof_ns *ns, *other;
	char *target, *dir = bare_ns(&ns, &target);
	char *odir = tu_make_ns(&other);
	struct woof *w;
	uint64_t x = 1;

	tu_skip_kernel("the module makes .woof/ when it mounts");
	cr_assert(symlink(tu_path(odir, ".woof"), tu_path(dir, ".woof")) == 0);
	w = mk(ns, "w");
	cr_assert(woof_append(w, &x, "h", NULL) < 0);
	cr_assert(!tu_exists(tu_path(odir, ".woof/owners")), "owners made in the other namespace");
	cr_assert(!tu_exists(tu_path(odir, ".woof/triggers")), "triggers made in the other namespace");
	woof_close(w);
}

Test(paths, symlinked_owners_and_trigger_log_are_refused)
{
	struct woof_ns *ns;
	char *target, *dir = bare_ns(&ns, &target);
	struct woof *w;
	uint64_t x = 1;

	tu_skip_kernel("the module keeps the trigger log");
	tu_assert_ok(woof_ns_init(dir, 0));
	cr_assert(symlink(tu_path(target, "o"), tu_path(dir, ".woof/owners")) == 0);
	cr_assert(symlink(tu_path(target, "t"), tu_path(dir, ".woof/triggers")) == 0);
	w = mk(ns, "w");
	tu_assert_rc(woof_append(w, &x, NULL, NULL), -ELOOP);
	cr_assert(woof_append(w, &x, "h", NULL) < 0);
	cr_assert(tu_count_entries(target) == 0, "owners or triggers made through a symlink");
	woof_close(w);
}

/* .woof opened as a namespace (dispatcherd's calls and log) when it is real */
Test(paths, meta_dir_as_namespace)
{
	struct woof_ns *meta;

	tu_assert_ok(woof_ns_open(tu_path(tu_dir, ".woof"), &meta));
	cr_assert_str_eq(woof_ns_path(meta), tu_path(woof_ns_path(tu_ns), ".woof"));
	woof_ns_close(meta);
}

/* What libwoof creates gets the model's modes whatever the umask. */
Test(paths, bookkeeping_modes_ignore_umask)
{
	struct woof_ns *ns;
	char *target, *dir = bare_ns(&ns, &target);
	struct woof *w;
	struct stat st;
	uint64_t x = 1;

	tu_skip_kernel("the module makes the bookkeeping files");
	umask(077);
	w = mk(ns, "w");
	tu_assert_ok(woof_append(w, &x, "h", NULL));
	cr_assert(stat(tu_path(dir, "w"), &st) == 0);
	cr_assert((st.st_mode & 07777) == 0664, "WOOF mode %o", st.st_mode & 07777);
	cr_assert(stat(tu_path(dir, ".woof"), &st) == 0);
	cr_assert((st.st_mode & 07770) == 03770, ".woof mode %o", st.st_mode & 07777);
	cr_assert(stat(tu_path(dir, ".woof/owners"), &st) == 0);
	cr_assert((st.st_mode & 07777) == 0664, "owners mode %o", st.st_mode & 07777);
	cr_assert(stat(tu_path(dir, ".woof/triggers"), &st) == 0);
	cr_assert((st.st_mode & 07777) == 0664, "triggers mode %o", st.st_mode & 07777);
	umask(022);
	woof_close(w);
}

/* Root's files get the namespace's group (so its handlers can put). */
Test(paths, root_creates_files_in_the_namespace_group)
{
	struct woof_ns *ns;
	char *target, *dir = bare_ns(&ns, &target);
	const gid_t g = 4242;
	struct woof *w;
	struct stat st;
	uint64_t x = 1;

	if (geteuid() != 0)
		tu_skip("needs root (to give the namespace a group root is not in)");
	tu_skip_kernel("the module makes the bookkeeping files");
	cr_assert(chown(dir, 0, g) == 0 && chmod(dir, 0770) == 0);	/* no setgid bit */
	w = mk(ns, "w");
	tu_assert_ok(woof_append(w, &x, "h", NULL));
	const char *files[] = { "w", ".woof", ".woof/owners", ".woof/triggers" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cr_assert(stat(tu_path(dir, files[i]), &st) == 0);
		cr_assert(st.st_gid == g, "%s: group %u, want %u", files[i],
			  (unsigned)st.st_gid, (unsigned)g);
		cr_assert((st.st_mode & 060) == 060, "%s: mode %o", files[i], st.st_mode & 07777);
	}
	woof_close(w);
}
