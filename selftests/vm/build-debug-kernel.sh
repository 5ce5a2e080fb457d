#!/bin/bash
# build-debug-kernel.sh - build a KASAN + UBSAN guest kernel for run-vm.sh from
# Debian's kernel source (package linux-source-6.1), so that memory errors
# and undefined behaviour in woof.ko that do not crash show up in the guest's
# kernel log (which run-vm.sh scans).
#
# Usage: build-debug-kernel.sh [--print] DIR
#   DIR      the build directory (created): the source is unpacked into
#            DIR/linux-source-6.1 and built there; DIR/modroot holds the
#            installed module tree (DIR/modroot/lib/modules/KVER).
#   --print  only print the variables below for an existing, current build
#            (exit 1 if there is none); no build.
# On success the last lines of stdout are, for the caller to eval:
#   WOOF_VM_KERNEL=DIR/linux-source-6.1/arch/x86/boot/bzImage  (the image to
#        boot: a KASAN vmlinux cannot boot through its PVH entry)
#   WOOF_VM_MODROOT=DIR/modroot                   (its module tree)
#   WOOF_DEBUG_KDIR=DIR/linux-source-6.1          (for -Dkernel_dir=, M=)
#   WOOF_DEBUG_KVER=KVER
# The build is cached: it is redone only when the source package, this
# script (its configuration) or the compiler changes; an unchanged tree
# returns at once. The configuration starts from x86_64 defconfig and adds
# generic inline KASAN (with vmalloc), UBSAN, and everything the guest needs
# built in (virtio-pci, 9p over virtio, ext4, loop, tmpfs, devtmpfs, cgroup
# v2 controllers, io_uring, BPF, namespaces, PVH boot), with modules and
# module unloading; no debug info (that only costs build time here), and
# without what the guest has no use for (disks, NICs, sound, graphics, USB,
# netfilter, SELinux, suspend), which only costs build time.
# A first build takes an hour or more on two shared cores; it runs under
# nice -n 19 (WOOF_DEBUG_KERNEL_NICE=N for another niceness).
# Needs: linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz), gcc, make, bc,
# flex, bison, libelf-dev, libssl-dev, cpio, xz.
set -euo pipefail

src_tar=${WOOF_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
say() { printf 'build-debug-kernel: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

print_only=0
if [ "${1:-}" = --print ]; then
	print_only=1
	shift
fi
[ $# -eq 1 ] || { echo "usage: $0 [--print] DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd -P)
ksrc=$dir/linux-source-6.1
modroot=$dir/modroot

# The options set on top of defconfig. "y" and "n" lines; scripts/config
# applies them, olddefconfig resolves dependencies, and every one is checked
# afterwards (a silently dropped option fails the build).
options_y='
KASAN KASAN_GENERIC KASAN_INLINE KASAN_VMALLOC
UBSAN UBSAN_BOUNDS UBSAN_SHIFT UBSAN_DIV_ZERO UBSAN_BOOL UBSAN_ENUM UBSAN_SANITIZE_ALL
DEBUG_KERNEL DEBUG_INFO_NONE SLUB_DEBUG DEBUG_LIST DEBUG_ATOMIC_SLEEP STACKTRACE
MODULES MODULE_UNLOAD MODULE_FORCE_UNLOAD
PVH PARAVIRT HYPERVISOR_GUEST KVM_GUEST SERIAL_8250 SERIAL_8250_CONSOLE
BLK_DEV_INITRD RD_GZIP DEVTMPFS DEVTMPFS_MOUNT TMPFS TMPFS_POSIX_ACL TMPFS_XATTR
PCI VIRTIO_MENU VIRTIO VIRTIO_PCI VIRTIO_PCI_LEGACY
NET_9P NET_9P_VIRTIO 9P_FS 9P_FS_POSIX_ACL 9P_FS_SECURITY
EXT4_FS EXT4_FS_POSIX_ACL EXT4_FS_SECURITY BLK_DEV BLK_DEV_LOOP
CGROUPS CGROUP_BPF MEMCG CGROUP_PIDS CGROUP_SCHED FAIR_GROUP_SCHED CFS_BANDWIDTH
BLK_CGROUP CGROUP_FREEZER CPUSETS CGROUP_DEVICE
IO_URING BPF BPF_SYSCALL BPF_JIT
NAMESPACES USER_NS PID_NS NET_NS UTS_NS IPC_NS
NET UNIX INET SHMEM SYSVIPC POSIX_MQUEUE FHANDLE EPOLL SIGNALFD TIMERFD EVENTFD
FILE_LOCKING INOTIFY_USER FANOTIFY AIO MEMFD_CREATE
'
options_n='
KASAN_OUTLINE KCSAN UBSAN_TRAP UBSAN_ALIGNMENT PANIC_ON_WARN PANIC_ON_OOPS
DEBUG_INFO DEBUG_INFO_DWARF4 DEBUG_INFO_DWARF5 DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT
DEBUG_INFO_BTF LOCALVERSION_AUTO WERROR MODULE_SIG RANDSTRUCT_FULL RANDSTRUCT_PERFORMANCE
DRM SOUND WLAN WIRELESS CFG80211 MAC80211 USB_SUPPORT NFS_FS NFSD
NETFILTER NET_SCHED ETHERNET PCCARD SCSI ATA MD HID AGP SECURITY_SELINUX
HIBERNATION SUSPEND ISO9660_FS MSDOS_FS VFAT_FS INPUT_MOUSE INPUT_JOYSTICK INPUT_TABLET
INPUT_TOUCHSCREEN INPUT_MISC EDAC DMADEVICES WATCHDOG RFKILL
NETLABEL IP_PNP XFRM_USER NET_KEY IP_ADVANCED_ROUTER IP_MROUTE
'
localversion=-woof-kasan

gcc_ver=$(gcc --version | head -n 1)
[ -r "$src_tar" ] || die "no kernel source at $src_tar (apt-get install linux-source-6.1)"
src_stamp=$(stat -L -c '%n %s %Y' "$src_tar")
cfg_stamp=$({ echo "$options_y $options_n $localversion"; echo "$gcc_ver"; } | cksum | cut -d' ' -f1)
stamp="$src_stamp cfg=$cfg_stamp"

print_vars() {
	local kver
	kver=$(cat "$ksrc/include/config/kernel.release")
	echo "WOOF_VM_KERNEL=$ksrc/arch/x86/boot/bzImage"
	echo "WOOF_VM_MODROOT=$modroot"
	echo "WOOF_DEBUG_KDIR=$ksrc"
	echo "WOOF_DEBUG_KVER=$kver"
}

if [ -s "$dir/stamp.done" ] && [ "$(cat "$dir/stamp.done")" = "$stamp" ] &&
	[ -s "$ksrc/arch/x86/boot/bzImage" ] && [ -s "$ksrc/Module.symvers" ]; then
	say "cached: $ksrc (built $(date -r "$dir/stamp.done" '+%F %T'))"
	print_vars
	exit 0
fi
[ "$print_only" = 0 ] || die "no current debug kernel build in $dir"

for p in make gcc bc flex bison xz cpio; do
	command -v "$p" >/dev/null || die "missing program: $p (apt-get install bc flex bison libelf-dev libssl-dev cpio xz-utils)"
done
for h in /usr/include/gelf.h /usr/include/openssl/ssl.h; do
	[ -e "$h" ] || die "missing $h (apt-get install libelf-dev libssl-dev)"
done

t0=$(date +%s)
# A new source package: start from a clean unpack. Same source, new options:
# reconfigure and let make rebuild what changed.
if [ "$(cat "$dir/stamp.src" 2>/dev/null)" != "$src_stamp" ] || [ ! -e "$ksrc/Makefile" ]; then
	say "unpacking $src_tar into $dir"
	rm -rf "$ksrc" "$modroot" "$dir/stamp.done"
	tar -xJf "$src_tar" -C "$dir"
	[ -e "$ksrc/Makefile" ] || die "$src_tar did not unpack to $ksrc"
	echo "$src_stamp" >"$dir/stamp.src"
fi
rm -f "$dir/stamp.done"

say "configuring (x86_64 defconfig + KASAN/UBSAN + guest needs)"
mk=(nice -n "${WOOF_DEBUG_KERNEL_NICE:-19}" make -C "$ksrc" -s "LOCALVERSION=$localversion")
"${mk[@]}" x86_64_defconfig
cfg_args=()
for o in $options_y; do cfg_args+=(--enable "$o"); done
for o in $options_n; do cfg_args+=(--disable "$o"); done
"$ksrc/scripts/config" --file "$ksrc/.config" "${cfg_args[@]}" \
	--set-str LOCALVERSION "" --set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS ""
"${mk[@]}" olddefconfig
missing=''
for o in $options_y; do
	grep -qx "CONFIG_$o=y" "$ksrc/.config" || missing="$missing $o"
done
for o in $options_n; do
	! grep -q "^CONFIG_$o=y" "$ksrc/.config" || missing="$missing !$o"
done
[ -z "$missing" ] || die "configuration did not take:$missing (see $ksrc/.config)"

jobs=$(nproc)
say "building bzImage, vmlinux and modules with -j$jobs under nice -n ${WOOF_DEBUG_KERNEL_NICE:-19} (log: $dir/build.log)"
if ! "${mk[@]}" -j"$jobs" bzImage modules >"$dir/build.log" 2>&1; then
	tail -n 40 "$dir/build.log" >&2
	die "kernel build failed (log: $dir/build.log)"
fi
rm -rf "$modroot"
"${mk[@]}" INSTALL_MOD_PATH="$modroot" modules_install >>"$dir/build.log" 2>&1 ||
	die "modules_install failed (log: $dir/build.log)"
echo "$stamp" >"$dir/stamp.done"
say "built $(cat "$ksrc/include/config/kernel.release") in $(($(date +%s) - t0)) s"
print_vars
