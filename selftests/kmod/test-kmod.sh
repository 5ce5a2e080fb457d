#!/bin/bash
# SPDX-License-Identifier: MIT
# test-kmod.sh - the ioctl-level tests of woof.ko, run as root inside the
# test VM (selftests/vm/run-vm.sh); it builds nothing. In order:
#   1. insmod; /dev/woof/control appears;
#   2. the test programs on a tmpfs namespace (with test-genl: the generic
#      netlink family and its events; and the woof:* tracepoints); test-fs:
#      NS_MOUNT refuses a writable 9p mount (the harness's workdir share,
#      cache=mmap) and ramfs with EOPNOTSUPP and a read-only tmpfs with
#      EROFS, then a tmpfs namespace mounts and the module unloads; and on
#      ext4 (loop devices):
#      4 KiB blocks (the in-place fast path; test-concurrent and test-append
#      again while a loop of sync(1) forces writeback, so appends race with
#      pages being cleaned) and 1 KiB blocks (always ->write_begin);
#   3. data across rmmod/insmod: test-persist write, rmmod, the ext4 file
#      system unmounted and mounted again, test-persist unloaded (the files
#      as the user-space engine sees them), insmod, test-persist verify;
#   4. three more rmmod/insmod cycles with a namespace mounted;
#   5. bench-kmod (reported, not judged);
#   6. the kernel log since the start: no WARNING/BUG/Oops and the like.
# Usage: test-kmod.sh WOOF_KO BINDIR
#   WOOF_KO  the module; BINDIR  where the test programs are
# Exit: 0 all passed, 1 something failed, 77 skipped (not root, or modules
# cannot be loaded here: run it through run-vm.sh).
set -u
ko=${1:?usage: test-kmod.sh WOOF_KO BINDIR}
bin=${2:?usage: test-kmod.sh WOOF_KO BINDIR}
work=$(mktemp -d /tmp/woof-kmod.XXXXXX)
passed=0 failed=0 failures=()
# shellcheck source=selftests/kmod/lib-kmod.sh
. "$(dirname "$0")/lib-kmod.sh" || exit 1

kt_need_guest
for t in test-append test-ioctl test-triggers test-concurrent test-persist test-genl test-fs \
	test-inode bench-kmod; do
	[ -x "$bin/$t" ] || { say "missing test program $bin/$t"; exit 1; }
done

kt_mark
kt_rmmod_stale

# run PROGRAM [ARGS...]: one TAP program; its "not ok" lines are shown
run() { kt_tap "$1" "$1 ${*:2}" "$bin/$1" "${@:2}"; }

load() {
	kt_insmod && return 0
	fail "insmod $ko"
	return 1
}

unload() {
	if rmmod woof && [ ! -e /dev/woof/control ]; then
		return 0
	fi
	fail "rmmod woof"
	return 1
}

# ---- 1. load
if ! load; then
	say "cannot go on without the module"
	exit 1
fi
pass "insmod: /dev/woof/control is $(stat -c '%A %t:%T' /dev/woof/control)"

# ---- 2. the tests on tmpfs and on ext4
mkdir -p "$work/tmpfs"
mount -t tmpfs -o size=256M tmpfs "$work/tmpfs" || fail "mount tmpfs"
for t in test-append test-ioctl test-triggers test-concurrent test-genl test-inode; do
	WOOF_KT_DIR=$work/tmpfs run "$t"
done

# file systems the module is not tested on, and read-only mounts: refused
# (EOPNOTSUPP, EROFS), nothing made in them; a good mount after them works
# (test-fs), and the module unloads (no refusal left a lock held)
mkdir -p "$work/ramfs" "$work/rofs"
mount -t ramfs ramfs "$work/ramfs" || fail "mount ramfs"
mount -t tmpfs -o ro,size=1M tmpfs "$work/rofs" || fail "mount read-only tmpfs"
fsargs=("$work/ramfs" EOPNOTSUPP "$work/rofs" EROFS)
# the workdir share: 9p, cache=mmap, writable (selftests/vm/initramfs-init.sh)
p9=$(awk '$3 == "9p" && $4 ~ /^rw(,|$)/ { print $2; exit }' /proc/mounts)
d9=""
if [ -n "$p9" ] && d9=$(mktemp -d "$p9/kt-9p.XXXXXX"); then
	fsargs=("$d9" EOPNOTSUPP "${fsargs[@]}")
else
	fail "no writable 9p mount in the guest to refuse"
fi
WOOF_KT_DIR=$work/tmpfs run test-fs "${fsargs[@]}"
[ -n "$d9" ] && rm -rf "$d9"
umount "$work/ramfs" "$work/rofs"
if unload && load; then
	pass "rmmod and insmod after the refused mounts"
fi

# mkext4 NAME BLOCKSIZE: an ext4 file system on a loop device at $work/NAME
mkext4() {
	truncate -s 384M "$work/$1.img" &&
		mkfs.ext4 -q -F -b "$2" "$work/$1.img" &&
		mkdir -p "$work/$1" &&
		mount -o loop "$work/$1.img" "$work/$1"
}
# tracepoints: woof:woof_append, woof:woof_trigger, woof:woof_trigger_claim
tr=/sys/kernel/tracing
[ -d $tr/events ] || tr=/sys/kernel/debug/tracing
if [ -d $tr/events/woof ]; then
	echo > $tr/trace
	echo 1 > $tr/events/woof/enable
	WOOF_KT_DIR=$work/tmpfs "$bin/test-triggers" >/dev/null 2>&1
	echo 0 > $tr/events/woof/enable
	n_app=$(grep -c 'woof_append: ns=kt-trig-[0-9]* woof=tw seq=1 size=16 trigger=[1-9]' $tr/trace)
	n_trg=$(grep -c 'woof_trigger: ns=kt-trig-[0-9]* trigger=[0-9]* woof=race seq=[0-9]* handler=\(odd\|even\)' $tr/trace)
	n_clm=$(grep -c 'woof_trigger_claim: ns=.* result=0 already=1' $tr/trace)
	if [ "$n_app" -ge 1 ] && [ "$n_trg" -ge 200 ] && [ "$n_clm" -ge 1 ]; then
		pass "tracepoints: woof_append, woof_trigger ($n_trg), woof_trigger_claim seen with their fields"
	else
		fail "tracepoints (append $n_app, trigger $n_trg, claim $n_clm)"
		grep woof_ $tr/trace | head -5 | sed 's/^/  | /'
	fi
	echo > $tr/trace
else
	fail "no tracepoints under $tr/events/woof"
fi

ext4="" ext4k1=""
if modprobe -q ext4 && modprobe -q loop && command -v mkfs.ext4 >/dev/null; then
	mkext4 ext4 4096 && ext4=$work/ext4
	# 1 KiB blocks: pages with several buffer heads, always written through
	# ->write_begin (woof-file.c)
	mkext4 ext4k1 1024 && ext4k1=$work/ext4k1
fi
if [ -n "$ext4" ]; then
	for t in test-append test-ioctl test-triggers test-inode; do
		WOOF_KT_DIR=$ext4 run "$t"
	done
	(while :; do sync; sleep 0.05; done) &
	syncer=$!
	WOOF_KT_DIR=$ext4 run test-concurrent
	WOOF_KT_DIR=$ext4 run test-append
	kill "$syncer"
	wait "$syncer" 2>/dev/null
	say "(test-concurrent and test-append ran again while sync(1) looped)"
else
	say "no ext4 here (modprobe ext4/loop or mkfs.ext4 missing): tmpfs only"
fi
if [ -n "$ext4k1" ]; then
	for t in test-append test-triggers test-concurrent; do
		WOOF_KT_DIR=$ext4k1 run "$t"
	done
	umount "$ext4k1"
fi

# ---- 3. data across rmmod/insmod (and an unmount of the file system)
pdir=${ext4:-$work/tmpfs}/persist
mkdir -p "$pdir"
run test-persist write "$pdir"
if unload; then
	if [ -n "$ext4" ]; then
		umount "$ext4" && mount -o loop "$work/ext4.img" "$ext4" ||
			fail "remount ext4"
	fi
	run test-persist unloaded "$pdir"
	load && run test-persist verify "$pdir"
fi

# ---- 4. reload cycles with a namespace mounted
cyc=$work/tmpfs/cycles
mkdir -p "$cyc"
ok=1
for i in 1 2 3; do
	grep -q '^woof ' /proc/modules || load || { ok=0; break; }
	python3 - "$cyc" "cyc$i" <<'EOF' || ok=0
import fcntl, os, struct, sys
# WOOF_IOC_NS_MOUNT = _IOWR(0xB9, 0x01, struct woof_ns_mount) (128 bytes)
IOC = (3 << 30) | (128 << 16) | (0xB9 << 8) | 0x01
fd = os.open("/dev/woof/control", os.O_RDWR)
d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
arg = bytearray(struct.pack("IIiIII", 128, 0, d, 0o600, 0, 0) + bytes(128 - 24))
name = sys.argv[2].encode()
arg[64:64 + len(name)] = name
fcntl.ioctl(fd, IOC, arg)
assert os.path.exists("/dev/woof/" + sys.argv[2])
EOF
	unload || { ok=0; break; }
done
[ "$ok" = 1 ] && pass "3 rmmod/insmod cycles with a namespace mounted" ||
	fail "rmmod/insmod cycles"
grep -q '^woof ' /proc/modules || load

# ---- 5. benchmark
say "benchmark (ratios to getppid in the same run; TCG makes absolute times meaningless)"
WOOF_KT_DIR=$work/tmpfs "$bin/bench-kmod" | sed 's/^/  /'

# ---- 6. clean up and read the kernel log
unload
[ -n "$ext4" ] && umount "$ext4"
umount "$work/tmpfs"
kt_check_log
rm -rf "$work"
kt_finish
