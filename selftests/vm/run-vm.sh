#!/bin/bash
# run-vm.sh - run one command as root inside a throw-away qemu (TCG) guest
# booting Debian's own kernel (linux-image-amd64, 6.1), for the tests that need
# a loadable kernel module or cgroup v2 controllers, which this host lacks.
#
# The guest sees the host's root filesystem read-only over virtio-9p (so the
# build tree, python3, bash and the Criterion tests run unchanged), a tmpfs on
# /tmp, /run and /var/tmp, the workdir writable at its host path (results
# written there are visible on the host afterwards), /proc, /sys, /dev, and
# cgroup2 at /sys/fs/cgroup with the cpu, memory, pids and io controllers
# enabled below the root. The command runs in the caller's cwd with the
# caller's environment plus WOOF_VM=1; its output appears on stdout.
# Afterwards the guest's kernel log is scanned (scan-kernel-log.sh) for
# WARNING:, BUG:, Oops, panics, list corruption, KASAN/UBSAN and the like.
#
# Usage: run-vm.sh [OPTIONS] -- COMMAND [ARG...]
#   --workdir DIR   writable share + cache of vmlinux/initramfs (default
#                   $WOOF_VM_WORKDIR or ${TMPDIR:-/tmp}/woof-vm-$UID)
#   --timeout S     wall-clock limit for the whole guest run (default 300)
#   --mem M         guest memory, qemu syntax (default 1G)
#   --smp N         guest vCPUs (default 2)
#   --rw DIR        also share DIR writable at its host path (repeatable)
#   --ro DIR        make DIR visible even if it is below /tmp, /run or
#                   /var/tmp, which are tmpfs in the guest (repeatable; the
#                   caller's cwd is handled so automatically)
#   --allow-log ERE kernel log lines matching ERE are not flagged
#   --append ARGS   extra kernel command line arguments
#   --keep          keep the job directory (console.log, dmesg.log) on success
#   -q, --quiet     do not copy the guest's console to stdout
# Environment: WOOF_VM_WORKDIR (default workdir), WOOF_VM_KVER (kernel version
# to boot instead of the newest -amd64 one with headers), WOOF_VM_LOG_ALLOW
# (like --allow-log); WOOF_VM_KERNEL and WOOF_VM_MODROOT (opt-in, both):
# boot that kernel image (an ELF vmlinux, or a bzImage, booted as it is)
# instead of Debian's, with the module tree installed under
# WOOF_VM_MODROOT/lib/modules/KVER (modules_install INSTALL_MOD_PATH=),
# which the guest then sees as /lib/modules; the virtio and 9p drivers must
# be built in or be there (build-debug-kernel.sh builds such a kernel:
# KASAN + UBSAN).
# Only the workdir, --rw dirs and the cwd are visible below /tmp, /run and
# /var/tmp in the guest: pass files there by path at your peril.
# Exit status: the command's own exit status, or
#   77  skipped: qemu cannot run on this machine at all (reason on stderr)
#   123 the command ran, but the guest kernel log has flagged lines
#   124 timeout
#   125 no result: the guest crashed, panicked or printed no exit marker, or
#       the host could not prepare the guest (message on stderr)
#   2   usage error
# Missing packages are installed with install-vm-deps.sh (needs root or sudo).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
t_start=$(date +%s.%N)

say() { printf 'run-vm: %s\n' "$*" >&2; }
die() { # status message
	local rc=$1
	shift
	say "$*"
	exit "$rc"
}
usage() {
	sed -n '/^# Usage:/,/^# Missing/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

workdir=${WOOF_VM_WORKDIR:-${TMPDIR:-/tmp}/woof-vm-$(id -u)}
timeout_s=300 mem=1G smp=2 allow=${WOOF_VM_LOG_ALLOW:-} extra_append='' keep=0 quiet=0
rw_dirs=() ro_dirs=()
while [ $# -gt 0 ]; do
	case $1 in
	--workdir | --timeout | --mem | --smp | --rw | --ro | --allow-log | --append)
		[ $# -ge 2 ] || die 2 "$1 needs an argument" ;;
	esac
	case $1 in
	--workdir) workdir=${2:?}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--rw) rw_dirs+=("${2:?}"); shift 2 ;;
	--ro) ro_dirs+=("${2:?}"); shift 2 ;;
	--allow-log) allow=${2:?}; shift 2 ;;
	--append) extra_append=${2:?}; shift 2 ;;
	--keep) keep=1; shift ;;
	-q | --quiet) quiet=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) say "unknown option: $1"; usage ;;
	esac
done
[ $# -gt 0 ] || { say "no command given"; usage; }
[[ $timeout_s =~ ^[0-9]+$ ]] || die 2 "--timeout wants whole seconds, not '$timeout_s'"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die 2 "--smp wants a number, not '$smp'"

# ---------------------------------------------------------------- host checks
have_deps() {
	command -v qemu-system-x86_64 >/dev/null && command -v cpio >/dev/null &&
		command -v xz >/dev/null && command -v modprobe >/dev/null &&
		[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 && [ -n "$(find_kver)" ]
}
find_kver() { # newest Debian -amd64 kernel with both image and headers
	local d
	for d in /lib/modules/*-amd64; do
		[ -e "/boot/vmlinuz-${d##*/}" ] && [ -e "$d/build/Makefile" ] && echo "${d##*/}"
	done | sort -V | tail -n 1
}
if ! have_deps; then
	say "installing missing packages (selftests/vm/install-vm-deps.sh)"
	"$here/install-vm-deps.sh" >&2 || say "install-vm-deps.sh failed"
fi
command -v qemu-system-x86_64 >/dev/null ||
	die 77 "SKIP: qemu-system-x86_64 is not installed and could not be installed (apt-get install qemu-system-x86)"
# Can qemu run at all here (TCG needs a large executable code buffer)?
if ! qerr=$(echo quit | timeout 30 qemu-system-x86_64 -machine none -accel tcg -nodefaults \
	-no-user-config -display none -monitor stdio 2>&1 >/dev/null); then
	die 77 "SKIP: qemu-system-x86_64 cannot run on this machine: ${qerr:-no message}"
fi
have_deps || die 125 "missing packages (need qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static (a static /bin/busybox) cpio kmod xz-utils); run selftests/vm/install-vm-deps.sh as root"
kver=${WOOF_VM_KVER:-$(find_kver)}
alt_kernel=${WOOF_VM_KERNEL:-} alt_modroot=${WOOF_VM_MODROOT:-} modprobe_d=()
if [ -n "$alt_kernel$alt_modroot" ]; then # another kernel (opt-in)
	[ -s "$alt_kernel" ] || die 125 "WOOF_VM_KERNEL=$alt_kernel: no kernel image there"
	kver=$(find "$alt_modroot/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | head -n 1)
	[ -n "$kver" ] || die 125 "WOOF_VM_MODROOT=$alt_modroot: no module tree lib/modules/KVER there"
	alt_modroot=$(cd "$alt_modroot" && pwd -P)
	modprobe_d=(-d "$alt_modroot")
elif [ ! -e "/boot/vmlinuz-$kver" ]; then
	die 125 "no kernel image /boot/vmlinuz-$kver"
fi

# Paths become 9p mount points, qemu option values and kernel command line
# words: keep them simple.
check_path() {
	[[ $1 == /* && $1 != *[[:space:],]* ]] ||
		die 2 "path '$1' must be absolute and contain no spaces or commas"
}
mkdir -p "$workdir" || die 125 "cannot create workdir $workdir"
workdir=$(cd "$workdir" && pwd -P)
check_path "$workdir"
cwd=$(pwd -P)
check_path "$cwd"
for i in "${!rw_dirs[@]}"; do
	[ -d "${rw_dirs[$i]}" ] || die 2 "--rw ${rw_dirs[$i]}: not a directory"
	rw_dirs[i]=$(cd "${rw_dirs[$i]}" && pwd -P)
	check_path "${rw_dirs[$i]}"
done
for i in "${!ro_dirs[@]}"; do
	[ -d "${ro_dirs[$i]}" ] || die 2 "--ro ${ro_dirs[$i]}: not a directory"
	ro_dirs[i]=$(cd "${ro_dirs[$i]}" && pwd -P)
	check_path "${ro_dirs[$i]}"
done

# ------------------------------------------- cached vmlinux and initramfs
# Both are keyed by kernel version (the initramfs also by a hash of what goes
# into it) and written atomically, so concurrent runs can share a workdir.
extract_vmlinux() { # bzImage -> uncompressed ELF vmlinux (qemu boots it via PVH)
	local img=$1 out=$2 tmp setup_sects payload_off payload_len start magic
	tmp=$(mktemp "$out.XXXXXX")
	setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$img" | tr -d ' ')
	payload_off=$(od -An -tu4 -j $((0x248)) -N4 "$img" | tr -d ' ')
	payload_len=$(od -An -tu4 -j $((0x24c)) -N4 "$img" | tr -d ' ')
	[ "$setup_sects" -eq 0 ] && setup_sects=4
	start=$(((setup_sects + 1) * 512 + payload_off))
	magic=$(od -An -tx1 -j "$start" -N4 "$img" | tr -d ' \n')
	local dec
	case $magic in
	fd377a58) dec="xz -dc" ;;
	1f8b*) dec="gzip -dc" ;;
	28b52ffd) dec="zstd -dcq" ;;
	*) dec="" ;;
	esac
	# The payload may carry trailing bytes (its size field); decompressors
	# that complain about them still produced the whole ELF.
	if [ -n "$dec" ]; then
		dd if="$img" iflag=skip_bytes,count_bytes skip="$start" count="$payload_len" bs=1M status=none |
			$dec >"$tmp" 2>/dev/null || true
	fi
	if [ "$(od -An -tx1 -N4 "$tmp" | tr -d ' \n')" = 7f454c46 ]; then
		mv -f "$tmp" "$out"
	else
		say "could not extract an ELF vmlinux from $img (payload magic '$magic'); booting the bzImage (slower)"
		rm -f "$tmp"
		cp "$img" "$out"
	fi
}
# A package update can replace an image without changing its version string:
# the size and mtime of the source are recorded beside the cached copy.
vmlinux=$workdir/vmlinux-$kver
kimage=${alt_kernel:-/boot/vmlinuz-$kver}
src_stamp=$(stat -L -c '%s %Y' "$kimage")
if [ -n "$alt_kernel" ]; then
	# as given: an ELF vmlinux boots through its PVH note, a bzImage through
	# the boot protocol (a KASAN kernel must: its PVH entry code runs
	# instrumented before KASAN's shadow memory exists, and the guest dies
	# without a word)
	vmlinux=$alt_kernel
elif [ ! -s "$vmlinux" ] || [ "$(cat "$vmlinux.src" 2>/dev/null)" != "$src_stamp" ]; then
	say "extracting $vmlinux from $kimage"
	extract_vmlinux "$kimage" "$vmlinux"
	echo "$src_stamp" >"$vmlinux.src"
fi

# The 9p modules in load order: dependencies first, each once. modprobe
# prints the chain of each module; for 6.1 the result is virtio_ring virtio
# virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio
# netfs fscache 9p.
mods=$(for m in virtio_pci 9pnet_virtio 9p; do
	modprobe "${modprobe_d[@]}" -S "$kver" --show-depends "$m" || exit 1
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }') ||
	die 125 "modprobe --show-depends failed for kernel $kver"
# (none when another kernel builds them all in)
[ -n "$mods" ] || [ -n "$alt_kernel" ] || die 125 "no 9p modules found for kernel $kver"
# shellcheck disable=SC2086 # $mods is a list of paths without blanks
ihash=$({ cat "$here/initramfs-init.sh"; stat -L -c '%n %s %Y' $mods /bin/busybox; } | cksum | cut -d' ' -f1)
initramfs=$workdir/initramfs-$kver-$ihash.cpio.gz
if [ ! -s "$initramfs" ]; then
	say "building $initramfs"
	r=$(mktemp -d "$workdir/initramfs-build.XXXXXX")
	mkdir -p "$r"/{bin,dev,proc,sys,lib/modules}
	cp /bin/busybox "$r/bin/busybox"
	cp "$here/initramfs-init.sh" "$r/init"
	chmod 755 "$r/init"
	: >"$r/lib/modules/order"
	for ko in $mods; do
		name=${ko##*/}
		case $ko in
		*.ko.xz) name=${name%.xz}; xz -dc "$ko" >"$r/lib/modules/$name" ;;
		*.ko.zst) name=${name%.zst}; zstd -dcq "$ko" >"$r/lib/modules/$name" ;;
		*.ko.gz) name=${name%.gz}; gzip -dc "$ko" >"$r/lib/modules/$name" ;;
		*) cp "$ko" "$r/lib/modules/$name" ;;
		esac
		echo "$name" >>"$r/lib/modules/order"
	done
	tmp=$(mktemp "$initramfs.XXXXXX")
	(cd "$r" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp"
	mv -f "$tmp" "$initramfs"
	rm -rf "$r"
	# initramfs images of older harness versions (an hour old: not in use)
	find "$workdir" -maxdepth 1 -name 'initramfs-*.cpio.gz' ! -name "${initramfs##*/}" -mmin +60 -delete 2>/dev/null || true
fi

# ------------------------------------------------------------------ the job
# Another kernel's module tree is the guest's /lib/modules (modprobe finds
# what it builds in there, and its modules).
if [ -n "$alt_modroot" ]; then
	# shellcheck disable=SC2016 # expanded by the guest's sh
	set -- /bin/sh -c 'mount --bind "$0" /lib/modules && exec "$@"' "$alt_modroot/lib/modules" "$@"
fi
mkdir -p "$workdir/jobs"
# Failed jobs are kept for inspection; a day later they go.
find "$workdir/jobs" -mindepth 1 -maxdepth 1 -name 'job.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
job=$(mktemp -d "$workdir/jobs/job.XXXXXX")
nonce=$(od -An -tx8 -N8 /dev/urandom | tr -d ' \n')
echo "$nonce" >"$job/nonce"
echo "$cwd" >"$job/cwd"
printf '%s\0' "$@" >"$job/argv"
while IFS= read -r -d '' kv; do
	case ${kv%%=*} in
	PWD | OLDPWD | SHLVL | _ | WOOF_VM) ;;
	*) printf '%s\0' "$kv" ;;
	esac
done < <(env -0) >"$job/env"
cp "$here/guest-run.sh" "$job/guest-run.sh"
{
	echo "ro - $cwd"
	for d in "${ro_dirs[@]}"; do echo "ro - $d"; done
	echo "rw work $workdir"
	for i in "${!rw_dirs[@]}"; do echo "rw rw$i ${rw_dirs[$i]}"; done
} >"$job/mounts"

qemu=(qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m "$mem"
	-nodefaults -no-user-config -display none -no-reboot
	-serial stdio -monitor none
	-kernel "$vmlinux" -initrd "$initramfs"
	# TCG runs the guest 10-50x slower than hardware and the host may be busy:
	# give RCU and the soft-lockup watchdog the slack real hardware would not need
	# (300 s is RCU's maximum: a CI run saw a vCPU make no progress for 120 s
	# while zeroing a page, all tests passing - the host, not the guest, stalled)
	-append "console=ttyS0 panic=-1 quiet rcupdate.rcu_cpu_stall_timeout=300 watchdog_thresh=60 woofvm.work=$workdir woofvm.job=$job $extra_append"
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot"
	-virtfs "local,path=$workdir,mount_tag=work,security_model=none,multidevs=remap,id=work")
for i in "${!rw_dirs[@]}"; do
	qemu+=(-virtfs "local,path=${rw_dirs[$i]},mount_tag=rw$i,security_model=none,multidevs=remap,id=rw$i")
done

# Copy the console to stdout as it arrives, leaving out the kernel log dump
# the markers and what follows the exit marker (power-off); keep all of it in
# console.log.
show() {
	if [ "$quiet" = 1 ]; then
		cat >/dev/null
		return
	fi
	# An empty line is held back: the guest prints one before its markers.
	awk -v m="@@woof-vm:$nonce:" '
		index($0, m "dmesg-begin") { skip = 1; held = 0; next }
		index($0, m "dmesg-end") { skip = 0; next }
		index($0, m "exit=") { done = 1 }
		index($0, m) || skip || done { next }
		$0 == "" && !held { held = 1; next }
		{ if (held) print ""; held = 0; print; fflush() }'
}
t_boot=$(date +%s.%N)
set +e
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>"$job/qemu.stderr" |
	tr -d '\r' | tee "$job/console.log" | show
qrc=${PIPESTATUS[0]}
set -e
t_end=$(date +%s.%N)

console_tail() {
	say "last lines of the guest console ($job/console.log):"
	tail -n 40 "$job/console.log" | sed 's/^/  | /' >&2
	if [ -s "$job/qemu.stderr" ]; then
		say "qemu said:"
		sed 's/^/  | /' "$job/qemu.stderr" >&2
	fi
}
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	console_tail
	die 124 "TIMEOUT: the guest did not finish within ${timeout_s}s (job kept: $job)"
fi
exit_line=$(grep -ao "@@woof-vm:$nonce:exit=[0-9]*" "$job/console.log" | tail -n 1 || true)
if [ -z "$exit_line" ]; then
	console_tail
	if grep -aq 'Kernel panic' "$job/console.log"; then
		die 125 "GUEST PANIC: the guest kernel panicked (qemu exit $qrc; job kept: $job)"
	fi
	die 125 "GUEST FAILURE: the guest printed no exit marker (qemu exit $qrc; job kept: $job)"
fi
rc=${exit_line##*=}
awk -v m="@@woof-vm:$nonce:" '
	index($0, m "dmesg-begin") { on = 1; next }
	index($0, m "dmesg-end") { on = 0 }
	on && $0 != ""' "$job/console.log" >"$job/dmesg.log"
boot_s=$(sed -n 's/^\[ *\([0-9.]*\)\] woof-vm: command start.*/\1/p' "$job/dmesg.log" | head -n 1)
timing=$(awk -v a="$t_start" -v b="$t_boot" -v c="$t_end" -v g="${boot_s:-?}" \
	'BEGIN { printf "prepare %.1f s, guest run %.1f s (command started at guest uptime %s s)", b - a, c - b, g }')

grep -q 'woof-vm: command start' "$job/dmesg.log" ||
	die 125 "the guest's kernel log was not collected (job kept: $job)"
if ! scan=$(WOOF_VM_LOG_ALLOW=$allow "$here/scan-kernel-log.sh" "$job/dmesg.log"); then
	printf '%s\n' "$scan" >&2
	die 123 "KERNEL LOG: the guest kernel log has WARNING/BUG/Oops-class lines (command exit status $rc; full log $job/dmesg.log)"
fi
say "kernel $kver, exit status $rc; $timing"
if [ "$keep" = 1 ]; then
	say "job directory kept: $job"
else
	rm -rf "$job"
fi
exit "$rc"
