# SPDX-License-Identifier: MIT
# lib-kmod.sh - what the woof.ko test scripts (test-kmod.sh,
# test-unit-kernel.sh, test-woofctl-kmod.sh) share; sourced, not run:
#   . "$(dirname "$0")/lib-kmod.sh" || exit 1
# The scripts run as root inside the qemu guest (selftests/vm/run-vm.sh),
# which sees the source tree read-only at its host path, so this file is
# found beside the script on the host and in the guest alike.
# Before sourcing, the script sets ko (the module). It uses, and may
# redefine after sourcing: say, pass, fail; the counters passed, failed and
# the array failures.
# shellcheck shell=bash disable=SC2154 # ko, passed, failed, failures: the script's

# the messages' prefix: test-kmod, test-unit-kernel, test-woofctl-kmod
kt_name=$(basename "$0" .sh)

say() { printf '%s: %s\n' "$kt_name" "$*"; }
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); printf 'FAIL %s\n' "$*"; }

# kt_need_guest: skip (77) unless root on a kernel that loads modules; the
# module must be readable (else exit 1)
kt_need_guest() {
	if [ "$(id -u)" != 0 ]; then
		say "SKIP: must run as root (inside the VM: selftests/vm/run-vm.sh)"
		exit 77
	fi
	if [ ! -e /proc/modules ]; then
		say "SKIP: this kernel cannot load modules (run it through selftests/vm/run-vm.sh)"
		exit 77
	fi
	[ -r "$ko" ] || { say "no module at $ko"; exit 1; }
}

# kt_mark: a line in the kernel log from which kt_check_log reads
kt_mark() { echo "$kt_name: start $(date +%s)" >/dev/kmsg; }

# kt_rmmod_stale: no woof module loaded (exit 1 if one cannot be removed)
kt_rmmod_stale() {
	if grep -q '^woof ' /proc/modules; then
		rmmod woof || { say "a woof module is loaded and cannot be removed"; exit 1; }
	fi
}

# kt_insmod: load $ko; true when /dev/woof/control is there
kt_insmod() { insmod "$ko" && [ -c /dev/woof/control ]; }

# kt_tap TAG DESCRIPTION COMMAND [ARG...]: run a TAP program; its lines
# other than "ok ..." are shown tagged [TAG]; one PASS with the number of
# checks, or one FAIL with the exit status
kt_tap() {
	local tag=$1 desc=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^ok ' | sed "s/^/  [$tag] /"
	if [ "$rc" = 0 ]; then
		pass "$desc ($(printf '%s\n' "$out" | grep -c '^ok ') checks)"
	else
		fail "$desc (exit $rc)"
	fi
}

# kt_check_log: the kernel log since kt_mark has no WARNING/BUG/Oops-class
# lines
kt_check_log() {
	local log bad
	log=$(dmesg | sed -n "/$kt_name: start/,\$p")
	bad=$(printf '%s\n' "$log" | grep -E 'WARNING:|BUG:|kernel BUG|Oops|general protection|Call Trace:|refcount_t:|list_(add|del) corruption|KASAN|UBSAN|woof.*(leak|error)' || true)
	if [ -z "$bad" ]; then
		pass "kernel log clean since the start ($(printf '%s\n' "$log" | wc -l) lines)"
	else
		fail "kernel log has flagged lines:"
		printf '%s\n' "$bad" | head -20 | sed 's/^/  | /'
	fi
}

# kt_finish: the summary and the exit status (0 all passed, 1 not)
kt_finish() {
	echo
	if [ "$failed" = 0 ]; then
		say "$passed passed, 0 failed"
		exit 0
	fi
	say "$passed passed, $failed failed:"
	printf '  %s\n' "${failures[@]}"
	exit 1
}
