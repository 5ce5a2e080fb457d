#!/bin/busybox sh
# initramfs-init.sh - stage 1 of the woof test VM: the /init of the guest's
# busybox initramfs (run-vm.sh packs it with a static busybox and the virtio/9p
# modules). It loads the modules, mounts the host's root filesystem read-only
# over virtio-9p at /newroot, puts tmpfs on /tmp, /run and /var/tmp, mounts the
# writable 9p shares (the workdir and any --rw dirs) at their host paths, makes
# host paths hidden by those tmpfs mounts (the caller's cwd, --ro dirs) visible
# again, mounts devpts, /dev/shm, mqueue, cgroup2 (enabling the cpu, memory,
# pids and io controllers below the root), debugfs, tracefs and bpffs, brings
# up loopback, and switch_roots into the host root, running stage 2
# (guest-run.sh from the job directory) as PID 1 under the host's own bash.
# Parameters come on the kernel command line: woofvm.work=DIR woofvm.job=DIR;
# the job directory holds "mounts" (lines: "rw TAG PATH" or "ro - PATH").
# Any failure here prints "woof-vm: stage1: ..." and powers off without an
# exit marker, which run-vm.sh reports as a guest failure (exit 125).
# shellcheck shell=ash

PATH=/bin
export PATH
/bin/busybox --install -s /bin

die() {
	echo "woof-vm: stage1: $*"
	poweroff -f
	sleep 10
}

mount -t proc proc /proc || die "mount /proc"
mount -t sysfs sysfs /sys || die "mount /sys"
mount -t devtmpfs devtmpfs /dev || die "mount /dev"

work='' job=''
read -r cmdline </proc/cmdline
for w in $cmdline; do
	case $w in
	woofvm.work=*) work=${w#woofvm.work=} ;;
	woofvm.job=*) job=${w#woofvm.job=} ;;
	esac
done
if [ -z "$work" ] || [ -z "$job" ]; then
	die "woofvm.work= or woofvm.job= missing on the kernel command line"
fi

while read -r m; do
	insmod "/lib/modules/$m" || die "insmod $m failed"
done </lib/modules/order

echo "woof-vm: stage1: modules loaded" >/dev/kmsg
p9="trans=virtio,version=9p2000.L,msize=512000"
mkdir -p /newroot /hostroot
# cache=loose: the host root does not change under a test run; caching makes
# exec and library loading much faster.
mount -t 9p -o "$p9,cache=loose,ro" hostroot /newroot || die "mount host root over 9p failed"
# A plain (non-recursive) bind keeps the host's view of the directories that
# get a tmpfs below, so paths in there can be made visible again.
mount --bind /newroot /hostroot || die "bind host root"

mount -t tmpfs -o mode=1777,size=50% tmpfs /newroot/tmp || die "tmpfs /tmp"
mount -t tmpfs -o mode=0755,size=10% tmpfs /newroot/run || die "tmpfs /run"
if [ -d /newroot/var/tmp ]; then
	mount -t tmpfs -o mode=1777,size=10% tmpfs /newroot/var/tmp || die "tmpfs /var/tmp"
fi

under_tmpfs() { # /tmp itself stays the guest's own tmpfs
	case $1 in
	/tmp/* | /run/* | /var/tmp/*) return 0 ;;
	esac
	return 1
}

# The job directory is in the workdir share (tag "work"), which may itself be
# hidden under a tmpfs in the host view: mount the share here first and read
# the mount list through it; it is moved to its place below.
mkdir -p /share
mount -t 9p -o "$p9,cache=mmap" work /share || die "mount of the workdir share failed"
cp "/share/${job#"$work"/}/mounts" /mounts || die "no mounts file in job $job"

# Read-only binds first (a writable share mounted inside one of them later
# wins), then the writable shares.
while read -r kind tag path; do
	[ "$kind" = ro ] || continue
	under_tmpfs "$path" || continue
	[ -d "/hostroot$path" ] || die "host directory $path does not exist"
	mkdir -p "/newroot$path" || die "mkdir $path"
	mount --bind "/hostroot$path" "/newroot$path" || die "bind $path"
done </mounts
while read -r kind tag path; do
	[ "$kind" = rw ] || continue
	mkdir -p "/newroot$path" 2>/dev/null
	[ -d "/newroot$path" ] || die "cannot create mount point $path in the guest"
	if [ "$tag" = work ]; then
		mount --move /share "/newroot$path" || die "move the workdir share to $path"
	else
		mount -t 9p -o "$p9,cache=mmap" "$tag" "/newroot$path" || die "mount 9p share $tag at $path failed"
	fi
done </mounts
umount /hostroot || die "umount /hostroot"

# The rest of a normal system, mounted here with the static busybox (stage 2
# runs from 9p, where every exec of a dynamically linked tool is slow).
# Submounts of /dev and /sys move along with them.
m() { # fstype target options
	mkdir -p "$2" 2>/dev/null
	mount -t "$1" -o "$3" "$1" "$2" || echo "woof-vm: stage1: warning: mount -t $1 on $2 failed"
}
m devpts /dev/pts gid=5,mode=620,ptmxmode=666
m tmpfs /dev/shm mode=1777
m mqueue /dev/mqueue rw
m cgroup2 /sys/fs/cgroup nsdelegate
m debugfs /sys/kernel/debug rw
m tracefs /sys/kernel/tracing rw
m bpf /sys/fs/bpf mode=700
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
# Like systemd: the controllers are enabled below the root cgroup, so a test
# can create a child cgroup and set memory.max / pids.max / cpu.max there.
for c in cpu memory pids io; do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control ||
		echo "woof-vm: stage1: warning: cannot enable the $c cgroup controller"
done
hostname woof-vm
ip link set lo up || echo "woof-vm: stage1: warning: cannot bring up lo"

mount --move /proc /newroot/proc || die "move /proc"
mount --move /sys /newroot/sys || die "move /sys"
mount --move /dev /newroot/dev || die "move /dev"

echo "woof-vm: stage1: mounts done, switch_root" >/dev/kmsg
[ -r "/newroot$job/guest-run.sh" ] || die "$job/guest-run.sh is not visible in the guest"
# shellcheck disable=SC2093 # the line after it runs only if exec fails
exec switch_root /newroot /bin/bash "$job/guest-run.sh" "$job"
die "switch_root failed"
