/* SPDX-License-Identifier: MIT */
/*
 * sandbox-devices.c - the device filter of dispatcherd's handler sandbox:
 * a BPF_PROG_TYPE_CGROUP_DEVICE program attached to each namespace's
 * cgroup that lets the processes of its calls open (or mknod) only
 *
 *   char 1:3 /dev/null, 1:5 /dev/zero, 1:7 /dev/full, 1:8 /dev/random,
 *   1:9 /dev/urandom, 5:0 /dev/tty          (what the sandbox's /dev holds)
 *   the namespace's own /dev/woof/<ns>      (when woof.ko serves it)
 *
 * and nothing else: every other character device and every block device
 * is EPERM, whatever the file system or the process's privileges. The
 * sandbox gives handlers no pseudo-terminals (no /dev/pts, no /dev/ptmx),
 * so none are allowed.
 *
 * Why the namespace's cgroup and not each call's: cgroup BPF programs of
 * a cgroup apply to every descendant, including those made after the
 * attach, so one attach per namespace covers every call cgroup (new or
 * recycled) at no cost per call; the allow list is per namespace anyway
 * (its woof device). BPF_F_ALLOW_MULTI keeps programs of the cgroups
 * above (systemd's DevicePolicy=, a container runtime's) in force: a
 * device must pass all of them.
 *
 * The program is a handful of instructions written out as struct bpf_insn
 * (no compiler for BPF needed) and loaded with libbpf's bpf_prog_load().
 * Built without libbpf, the filter is reported off.
 */
#include "sandbox-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/woof.h>

#ifdef HAVE_LIBBPF
#include <bpf/bpf.h>
#include <linux/bpf.h>
#endif

/* Test hook: one more device allowed in every namespace (major 0: none). */
struct sbx_devnum sbx_test_dev_extra;

/* One WOOF_IOC_NS_LIST call with room for @have entries at @v. */
static int ns_list(int fd, struct woof_ns_info *v, uint32_t have, uint32_t *count)
{
	struct woof_ns_list l;
	memset(&l, 0, sizeof l);
	l.size = sizeof l;
	l.count = have;
	l.entry_size = sizeof *v;
	l.entries = (uint64_t)(uintptr_t)v;
	if (ioctl(fd, WOOF_IOC_NS_LIST, &l) < 0)
		return -errno;
	*count = l.count;
	return 0;
}

int sbx_dev_woof_lookup(const char *ns_dir, struct sbx_devnum *out)
{
	struct stat want, st;
	if (stat(ns_dir, &want) < 0)
		return -errno;
	int fd = open(WOOF_CONTROL_DEV, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENODEV || errno == ENXIO ? 0 : -errno;
	struct woof_ns_info *v = NULL;
	uint32_t n = 0;
	int found = ns_list(fd, NULL, 0, &n);
	/* a few spare entries for namespaces mounted in between */
	for (int round = 0; !found && n && round < 4; round++) {
		uint32_t have = n + 4, got = 0;
		free(v);
		v = calloc(have, sizeof *v);
		if (!v) {
			found = -ENOMEM;
			break;
		}
		found = ns_list(fd, v, have, &got);
		if (found)
			break;
		if (got > have) {
			n = got;
			continue;
		}
		for (uint32_t i = 0; i < got; i++) {
			if (v[i].flags & WOOF_NSI_PATH_TRUNC)
				continue;
			v[i].path[sizeof v[i].path - 1] = '\0';
			if (stat(v[i].path, &st) == 0 && st.st_dev == want.st_dev &&
			    st.st_ino == want.st_ino) {
				out->major = v[i].dev_major;
				out->minor = v[i].dev_minor;
				found = 1;
				break;
			}
		}
		break;
	}
	free(v);
	close(fd);
	return found;
}

#ifdef HAVE_LIBBPF

/* What every namespace may open: the nodes of the sandbox's /dev. */
static const struct sbx_devnum base_allow[] = {
	{ 1, 3 },	/* null */
	{ 1, 5 },	/* zero */
	{ 1, 7 },	/* full */
	{ 1, 8 },	/* random */
	{ 1, 9 },	/* urandom */
	{ 5, 0 },	/* tty */
};
#define NBASE (sizeof base_allow / sizeof base_allow[0])

/* Raw BPF instructions (the fields of struct bpf_insn). */
#define SBX_INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define I_LDX_W(dst, src, off)	SBX_INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define I_AND_K(dst, k)		SBX_INSN(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, k)
#define I_MOV_K(dst, k)		SBX_INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, k)
#define I_JNE_K(dst, k, off)	SBX_INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, k)
#define I_JEQ_K(dst, k, off)	SBX_INSN(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, k)
#define I_EXIT()		SBX_INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define SBX_DEV_MAX 16	/* allowed devices per program */

/*
 * r1 = ctx (struct bpf_cgroup_dev_ctx)
 *	r2 = ctx->access_type & 0xffff		the device type
 *	r3 = ctx->major; r4 = ctx->minor
 *	if r2 != CHAR goto deny
 *	for each allowed: if r3 == major && r4 == minor goto allow
 * deny:  r0 = 0; exit
 * allow: r0 = 1; exit
 * Returns the number of instructions.
 */
static int build_prog(const struct sbx_devnum *dev, int n, struct bpf_insn *p)
{
	int i = 0, jallow[SBX_DEV_MAX];
	p[i++] = I_LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[i++] = I_AND_K(BPF_REG_2, 0xffff);
	p[i++] = I_LDX_W(BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[i++] = I_LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));
	int jdeny = i;
	p[i++] = I_JNE_K(BPF_REG_2, BPF_DEVCG_DEV_CHAR, 0);
	for (int k = 0; k < n; k++) {
		p[i++] = I_JNE_K(BPF_REG_3, (int32_t)dev[k].major, 1);
		jallow[k] = i;
		p[i++] = I_JEQ_K(BPF_REG_4, (int32_t)dev[k].minor, 0);
	}
	int deny = i;
	p[i++] = I_MOV_K(BPF_REG_0, 0);
	p[i++] = I_EXIT();
	int allow = i;
	p[i++] = I_MOV_K(BPF_REG_0, 1);
	p[i++] = I_EXIT();
	p[jdeny].off = (int16_t)(deny - jdeny - 1);
	for (int k = 0; k < n; k++)
		p[jallow[k]].off = (int16_t)(allow - jallow[k] - 1);
	return i;
}

/* Load the filter allowing the base list plus @extra: a program fd or -errno. */
static int load_filter(const struct sbx_devnum *extra, int nextra, char *log, size_t loglen)
{
	struct sbx_devnum dev[SBX_DEV_MAX];
	int n = 0;
	for (size_t k = 0; k < NBASE; k++)
		dev[n++] = base_allow[k];
	for (int k = 0; k < nextra && n < SBX_DEV_MAX; k++)
		if (extra[k].major)
			dev[n++] = extra[k];
	if (sbx_test_dev_extra.major && n < SBX_DEV_MAX)
		dev[n++] = sbx_test_dev_extra;
	struct bpf_insn prog[8 + 2 * SBX_DEV_MAX];
	int cnt = build_prog(dev, n, prog);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = (unsigned)loglen,
		    .log_level = log ? 1 : 0);
	if (log && loglen)
		log[0] = '\0';
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE, "woof_devices", "MIT", prog,
			       (size_t)cnt, log ? &opts : NULL);
	return fd < 0 ? (errno ? -errno : fd) : fd;
}

/* Detach the device programs @ids (attached to @cgfd itself). */
static void detach_old(int cgfd, const uint32_t *ids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		int pfd = bpf_prog_get_fd_by_id(ids[i]);
		if (pfd < 0)
			continue;
		bpf_prog_detach2(pfd, cgfd, BPF_CGROUP_DEVICE);
		close(pfd);
	}
}

int sbx_dev_attach(int cgfd, const struct sbx_devnum *extra, int nextra)
{
	uint32_t ids[64], nids = 64, aflags = 0;
	/* Left by an earlier run on a cgroup that was not removed: replaced. */
	if (bpf_prog_query(cgfd, BPF_CGROUP_DEVICE, 0, &aflags, ids, &nids) < 0)
		nids = 0;
	int pfd = load_filter(extra, nextra, NULL, 0);
	if (pfd < 0)
		return pfd;
	int err = 0;
	if (bpf_prog_attach(pfd, cgfd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) < 0)
		err = errno ? -errno : -EPERM;
	close(pfd);	/* the attachment holds the program */
	if (!err)
		detach_old(cgfd, ids, nids);
	return err;
}

void sbx_dev_probe(struct sandbox_caps *caps, int cgfd)
{
	const char *why = NULL;
	char buf[200];
	if (!caps->root) {
		why = "not root: loading a BPF program needs CAP_BPF or CAP_SYS_ADMIN";
	} else if (cgfd < 0) {
		why = "no call cgroups";
	} else {
		int pfd = load_filter(NULL, 0, NULL, 0);
		if (pfd < 0) {
			snprintf(buf, sizeof buf, "cannot load a BPF cgroup-device program: %s%s",
				 strerror(-pfd),
				 pfd == -EINVAL ? " (kernel without CONFIG_CGROUP_BPF?)" : "");
			why = buf;
		} else {
			if (bpf_prog_attach(pfd, cgfd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) < 0) {
				int e = errno;
				snprintf(buf, sizeof buf,
					 "cannot attach a BPF cgroup-device program below %.60s: %s%s",
					 caps->cgroup_root, strerror(e),
					 e == EPERM ? " (a program above it does not allow more)" : "");
				why = buf;
			} else {
				bpf_prog_detach2(pfd, cgfd, BPF_CGROUP_DEVICE);
				caps->dev_filter = true;
			}
			close(pfd);
		}
	}
	if (why) {
		snprintf(caps->dev_filter_why, sizeof caps->dev_filter_why, "%s", why);
		sbx_why(caps, "device filter: off - %s; handlers can open every device node they "
			      "can reach", why);
	}
}

#else /* !HAVE_LIBBPF */

int sbx_dev_attach(int cgfd, const struct sbx_devnum *extra, int nextra)
{
	(void)cgfd;
	(void)extra;
	(void)nextra;
	return -ENOSYS;
}

void sbx_dev_probe(struct sandbox_caps *caps, int cgfd)
{
	(void)cgfd;
	snprintf(caps->dev_filter_why, sizeof caps->dev_filter_why,
		 "dispatcherd was built without libbpf");
	sbx_why(caps, "device filter: off - %s; handlers can open every device node they can "
		      "reach", caps->dev_filter_why);
}

#endif
