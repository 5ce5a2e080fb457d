#!/bin/bash
# SPDX-License-Identifier: MIT
# test-fuzz.sh - fuzz-ioctl (random and mutated ioctls, mmap, read, fd and
# namespace churn from several threads) against woof.ko, run as root inside
# the test VM (selftests/vm/run-vm.sh): insmod, the fuzzer on a tmpfs
# namespace directory (and on ext4 when WOOF_FUZZ_FS says so), then rmmod
# (a reference leaked by any call keeps the module in) and the kernel log
# since the start (no WARNING/BUG/Oops/KASAN/UBSAN and the like; run-vm.sh
# scans the whole log again).
# Usage: test-fuzz.sh WOOF_KO BINDIR [SECONDS]
#   SECONDS per file system (default $WOOF_FUZZ_SECONDS, else 25)
# Environment: WOOF_FUZZ_SEED (default: a new one, printed; the fuzzer's -s),
#   WOOF_FUZZ_THREADS (default 4), WOOF_FUZZ_FILES=1 (also truncate, overwrite
#   and rename the files under the module: fuzz-ioctl -F),
#   WOOF_FUZZ_FS (default "tmpfs"; "tmpfs ext4" adds an ext4 loop mount).
# Exit: 0 all passed, 1 something failed, 77 skipped.
set -u
ko=${1:?usage: test-fuzz.sh WOOF_KO BINDIR [SECONDS]}
bin=${2:?usage: test-fuzz.sh WOOF_KO BINDIR [SECONDS]}
secs=${3:-${WOOF_FUZZ_SECONDS:-25}}
threads=${WOOF_FUZZ_THREADS:-4}
work=$(mktemp -d /tmp/woof-fuzz.XXXXXX)
passed=0 failed=0 failures=() busy=()
# shellcheck source=selftests/kmod/lib-kmod.sh
. "$(dirname "$0")/lib-kmod.sh" || exit 1

kt_need_guest
[ -x "$bin/fuzz-ioctl" ] || { say "missing $bin/fuzz-ioctl"; exit 1; }
kt_mark
kt_rmmod_stale
kt_insmod || { fail "insmod $ko"; kt_finish; }
pass "insmod"

seed=${WOOF_FUZZ_SEED:-$(od -An -tu8 -N8 /dev/urandom | tr -d ' ')}
fargs=(-s "$seed" -t "$secs" -j "$threads")
[ "${WOOF_FUZZ_FILES:-0}" = 1 ] && fargs+=(-F)
say "fuzz-ioctl ${fargs[*]} (repeat with WOOF_FUZZ_SEED=$seed)"

for fs in ${WOOF_FUZZ_FS:-tmpfs}; do
	dir=$work/$fs
	mkdir -p "$dir"
	case $fs in
	tmpfs) mount -t tmpfs -o size=128M tmpfs "$dir" || { fail "mount tmpfs"; continue; } ;;
	ext4)
		if ! { modprobe -q ext4 && modprobe -q loop && command -v mkfs.ext4 >/dev/null; }; then
			say "no ext4 here: skipped"
			continue
		fi
		if ! { truncate -s 256M "$work/ext4.img" && mkfs.ext4 -q -F "$work/ext4.img" &&
			mount -o loop "$work/ext4.img" "$dir"; }; then
			fail "mount ext4"
			continue
		fi
		;;
	*) fail "unknown file system in WOOF_FUZZ_FS: $fs"; continue ;;
	esac
	kt_tap "fuzz-$fs" "fuzz-ioctl on $fs, ${secs}s" "$bin/fuzz-ioctl" "${fargs[@]}" "$dir"
	# Nothing may keep the file system busy once the fuzzer is gone and
	# its namespaces are unmounted (a reference the module leaked would).
	if umount "$dir" 2>/dev/null; then
		pass "umount $fs after the fuzzer"
	else
		fail "umount $fs after the fuzzer: busy with every namespace unmounted and no process left"
		grep -l "$dir" /proc/[0-9]*/maps 2>/dev/null | sed 's/^/  | mapped by /'
		find /proc/[0-9]*/fd -lname "$dir*" 2>/dev/null | sed 's/^/  | open as /'
		busy+=("$dir")
	fi
done

if rmmod woof && [ ! -e /dev/woof/control ]; then
	pass "rmmod after the fuzzer (no reference left behind)"
else
	fail "rmmod after the fuzzer: $(grep '^woof ' /proc/modules)"
fi
for dir in "${busy[@]}"; do
	if umount "$dir"; then
		say "$dir unmounts after rmmod woof: the module held a reference into it"
	else
		say "$dir stays busy after rmmod woof too"
	fi
done
kt_check_log
rm -rf "$work"
kt_finish
