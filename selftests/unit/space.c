/*
 * space.c - every file libwoof writes through a mapping has all its blocks
 * when it is made (format.md, "Space"): a WOOF, the owner table at the
 * first append, the trigger log at the first put naming a handler - also
 * on a filesystem without fallocate(2), where the library writes zeros
 * instead (simulated with a seccomp filter that fails fallocate with
 * EOPNOTSUPP). An owner table an older version left sparse gets its holes
 * filled. (A full filesystem itself: disp-disk-full, as root.)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "testutil.h"

TestSuite(space, .init = tu_setup, .fini = tu_teardown, .timeout = 60);

struct el { uint64_t v[8]; };

/* Is every byte of @path up to its size backed by an allocated block? */
static void assert_allocated(const char *path, long long want_size)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert(st.st_size >= want_size, "%s: %lld bytes, want %lld", path,
		  (long long)st.st_size, want_size);
	cr_assert((long long)st.st_blocks * 512 >= (long long)st.st_size,
		  "%s is sparse: %lld of %lld bytes allocated", path,
		  (long long)st.st_blocks * 512, (long long)st.st_size);
}

/* From now on fallocate(2) fails with EOPNOTSUPP in this process. */
static void no_fallocate(void)
{
#if defined(__x86_64__)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fallocate, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	int fd;

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0,
		     "seccomp: %s", strerror(errno));
	fd = open(tu_path(tu_dir, "probe"), O_RDWR | O_CREAT, 0600);
	cr_assert(fd >= 0);
	cr_assert(fallocate(fd, 0, 0, 4096) < 0 && errno == EOPNOTSUPP,
		  "the filter does not work");
	close(fd);
	unlink(tu_path(tu_dir, "probe"));
#else
	tu_skip("the seccomp filter is written for x86_64");
#endif
}

static void files_are_allocated(void)
{
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 3000);
	struct el e = { { 1 } };
	uint64_t seq;

	assert_allocated(tu_path(tu_dir, "w"),
			 4096 + 3001 * (long long)(16 + sizeof(struct el)));
	tu_assert_ok(woof_append(w, &e, NULL, &seq));
	assert_allocated(tu_path(tu_dir, ".woof/owners"), sizeof(struct woof_owners));
	tu_assert_ok(woof_append(w, &e, "h", &seq));
	assert_allocated(tu_path(tu_dir, ".woof/triggers"),
			 4096 + (WOOF_TRIGGERS_HISTORY + 1) * (long long)sizeof(struct woof_trigger));
	woof_close(w);
}

Test(space, files_are_allocated_when_made)
{
	tu_skip_kernel("woof.ko makes the files");
	files_are_allocated();
}

Test(space, without_fallocate_zeros_are_written)
{
	tu_skip_kernel("woof.ko makes the files");
	no_fallocate();
	files_are_allocated();
}

Test(space, a_sparse_owner_table_is_filled)
{
	tu_skip_kernel("the owner table is the user-space engine's");
	struct woof *w = tu_create(tu_ns, "w", sizeof(struct el), 4);
	struct el e = { { 1 } };
	uint64_t seq;
	int fd;

	/* what an older version made: the table's size, no blocks */
	fd = open(tu_path(tu_dir, ".woof/owners"), O_RDWR | O_CREAT, 0664);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, sizeof(struct woof_owners)), 0);
	close(fd);
	/* this process's first append maps the table */
	tu_assert_ok(woof_append(w, &e, NULL, &seq));
	assert_allocated(tu_path(tu_dir, ".woof/owners"), sizeof(struct woof_owners));
	woof_close(w);
}
