#!/bin/bash
# SPDX-License-Identifier: MIT
# test-unit-kernel.sh - libwoof's kernel engine, run as root inside the test
# VM (selftests/vm/run-vm.sh); it builds nothing. In order:
#   1. insmod woof.ko;
#   2. test-engine: the choice of engine, WOOF_ENGINE, the user-space engine
#      on files the module serves, a mount while a user-space appender runs,
#      read-only and closed devices, SET_FLAGS (selftests/kmod/test-engine.c);
#   3. the Criterion unit suites with WOOF_TEST_NS_ROOT on a tmpfs and
#      WOOF_TEST_KERNEL=1: every namespace a test makes is mounted with
#      NS_MOUNT and opening it asserts woof_ns_engine() == KERNEL, so no
#      test can pass on the user-space engine by accident; tests that are
#      about the user-space engine itself skip with a reason. After each
#      suite no namespace may be left mounted;
#   4. woofctl on a mounted namespace: woof create, stat (engine: kernel),
#      put, get, tail -f (woken by puts, stopped by SIGTERM), rm;
#   5. rmmod, and the kernel log since the start: no WARNING/BUG/Oops.
# Usage: test-unit-kernel.sh WOOF_KO BUILD_ROOT
# Exit: 0 all passed, 1 something failed, 77 skipped (not root, or modules
# cannot be loaded here).
set -u
ko=${1:?usage: test-unit-kernel.sh WOOF_KO BUILD_ROOT}
bld=${2:?usage: test-unit-kernel.sh WOOF_KO BUILD_ROOT}
W=$bld/tools/woofctl/woofctl
work=$(mktemp -d /tmp/woof-uk.XXXXXX)
chmod 755 "$work"	# tests that drop privileges reach their namespaces below it
passed=0 failed=0 skipped=0 failures=()
# shellcheck source=selftests/kmod/lib-kmod.sh
. "$(dirname "$0")/lib-kmod.sh" || exit 1

kt_need_guest
for p in selftests/kmod/test-engine tools/woofctl/woofctl; do
	[ -x "$bld/$p" ] || { say "missing $bld/$p"; exit 1; }
done

kt_mark
kt_rmmod_stale
if ! kt_insmod; then
	say "insmod $ko failed"
	exit 1
fi

ns_count() { # namespaces mounted now
	python3 - <<'EOF'
import fcntl, os, struct
# WOOF_IOC_NS_LIST = _IOWR(0xB9, 0x03, struct woof_ns_list) (40 bytes)
IOC = (3 << 30) | (40 << 16) | (0xB9 << 8) | 0x03
fd = os.open("/dev/woof/control", os.O_RDWR)
arg = bytearray(struct.pack("IIII", 40, 0, 0, 0) + bytes(24))
fcntl.ioctl(fd, IOC, arg)
print(struct.unpack_from("I", arg, 8)[0])
EOF
}

root=$work/ns
mkdir -p "$root"
mount -t tmpfs -o size=768M tmpfs "$root" || { say "mount tmpfs failed"; exit 1; }

# ---- 2. test-engine
WOOF_KT_DIR=$root kt_tap test-engine test-engine \
	timeout -k 5 300 "$bld/selftests/kmod/test-engine"

# ---- 3. the unit suites on the kernel engine
for s in format api names cspot badinput triggers putwait stress kill; do
	exe=$bld/selftests/test-$s
	if [ ! -x "$exe" ]; then
		fail "unit suite $s: no $exe"
		continue
	fi
	t0=$(date +%s)
	out=$(cd "$root" && WOOF_TEST_NS_ROOT=$root WOOF_TEST_KERNEL=1 \
		timeout -k 5 600 "$exe" --tap=- 2>&1)
	rc=$?
	n_ok=$(printf '%s\n' "$out" | grep -E '^ok ' | grep -vc '# SKIP')
	n_skip=$(printf '%s\n' "$out" | grep -Ec '^ok .*# SKIP')
	n_bad=$(printf '%s\n' "$out" | grep -Ec '^not ok ')
	skipped=$((skipped + n_skip))
	printf '%s\n' "$out" | grep -E '^not ok |# SKIP' | sed "s/^/  [$s] /"
	if [ "$rc" = 0 ] && [ "$n_bad" = 0 ] && [ "$n_ok" -gt 0 ]; then
		pass "unit suite $s on the kernel engine: $n_ok passed, $n_skip skipped ($(($(date +%s) - t0)) s)"
	else
		printf '%s\n' "$out" | grep -vE '^ok ' | tail -n 40 | sed "s/^/  [$s] /"
		fail "unit suite $s on the kernel engine: $n_bad failed, $n_ok passed (exit $rc)"
	fi
	left=$(ns_count)
	if [ "$left" != 0 ]; then
		fail "unit suite $s left $left namespaces mounted"
		rmmod woof && kt_insmod || { say "cannot reload the module"; break; }
	fi
done

# ---- 4. woofctl on a mounted namespace
wdir=$root/ctl
ok=1
check() { # description command...
	local d=$1
	shift
	if "$@" >"$work/out" 2>"$work/err"; then
		return 0
	fi
	fail "woofctl: $d (exit $?)"
	sed 's/^/  stderr: /' "$work/err" | head -5
	ok=0
	return 1
}
if check "ns init" "$W" ns init "$wdir" && check "ns mount" "$W" ns mount "$wdir" wctl; then
	export WOOFC_DIR=$wdir
	check "woof create" "$W" woof create temps --element-size 16 --history 100
	if check "woof stat" "$W" woof stat temps && ! grep -Eq 'engine: *kernel' "$work/out"; then
		fail "woofctl woof stat does not say engine kernel"
		sed 's/^/  | /' "$work/out"
		ok=0
	fi
	if printf '21.5C' | "$W" woof put temps >"$work/out" 2>"$work/err" &&
		grep -q 'appended seq 1' "$work/out"; then :; else
		fail "woofctl woof put: $(cat "$work/out" "$work/err")"
		ok=0
	fi
	if check "woof get" "$W" woof get temps && ! grep -q '21.5C' "$work/out"; then
		fail "woofctl woof get does not show 21.5C"
		ok=0
	fi
	"$W" woof tail -f temps >"$work/tail" 2>"$work/tail.err" &
	tpid=$!
	# the puts below must come while tail -f follows: it printed what is
	# there, and sleeps in woof.ko (WOOF_IOC_WAIT); a bounded wait
	for _ in $(seq 1 200); do
		grep -q '21.5C' "$work/tail" && [ "$(sed 's/.*) //' "/proc/$tpid/stat" | cut -d' ' -f1)" = S ] &&
			grep -q woof "/proc/$tpid/wchan" && break
		sleep 0.05
	done
	if ! grep -q woof "/proc/$tpid/wchan"; then
		fail "woofctl woof tail -f does not sleep in woof.ko ($(cat "/proc/$tpid/wchan" 2>&1))"
		ok=0
	fi
	"$W" woof put temps --hex "32 32 2e 31 43" >/dev/null 2>&1 || { fail "woofctl put --hex"; ok=0; }
	printf '23.0C' | "$W" woof put temps >/dev/null 2>&1 || { fail "woofctl put 3"; ok=0; }
	for _ in $(seq 1 200); do
		grep -q '23.0C' "$work/tail" && break
		sleep 0.1
	done
	if grep -q '21.5C' "$work/tail" && grep -q '22.1C' "$work/tail" && grep -q '23.0C' "$work/tail"; then :; else
		fail "woofctl woof tail -f did not show the new elements"
		sed 's/^/  tail: /' "$work/tail" "$work/tail.err" | head -20
		ok=0
	fi
	kill -TERM "$tpid" 2>/dev/null
	wait "$tpid"
	trc=$?
	if [ "$trc" != 0 ]; then
		fail "woofctl woof tail -f exit status $trc after SIGTERM"
		ok=0
	fi
	check "woof rm" "$W" woof rm temps
	[ -e "$wdir/temps" ] && { fail "woofctl woof rm left the file"; ok=0; }
	unset WOOFC_DIR
	check "ns umount" "$W" ns umount wctl
fi
[ "$ok" = 1 ] && pass "woofctl woof create/stat/put/get/tail -f/rm on a mounted namespace (engine kernel)"

# ---- 5. clean up and read the kernel log
rmmod woof || fail "rmmod woof"
umount "$root"
kt_check_log
rm -rf "$work"

echo
say "$passed passed, $failed failed ($skipped unit tests skipped on the kernel engine)"
if [ "$failed" = 0 ]; then
	exit 0
fi
printf '  %s\n' "${failures[@]}"
exit 1
