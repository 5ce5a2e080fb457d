#!/bin/bash
# test-vm-smoke.sh - smoke test of the VM harness (run-vm.sh): boots the guest
# and checks, inside it, that it runs Debian's 6.1 kernel with cgroup v2
# memory/pids/cpu controllers usable, that the host root is read-only and /tmp
# a writable tmpfs, that the workdir share is writable (and the file shows up
# on the host afterwards), that the caller's cwd under /tmp is visible, that
# host programs (python3) run and a stock module loads; then that exit
# statuses come out (3 -> 3), that a WARNING in the guest kernel log fails the
# run (123), that a timeout gives 124 and a guest kernel panic 125; and it
# tests the kernel log scanner on saved logs. Prints the measured times.
# Usage: test-vm-smoke.sh [WORKDIR]   (meson passes <builddir>/selftests/vm/work)
# Exit: 0 pass, 1 fail, 77 skip (qemu cannot run here).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
run_vm=$here/run-vm.sh
scan=$here/scan-kernel-log.sh
workdir=${1:-${WOOF_VM_WORKDIR:-${TMPDIR:-/tmp}/woof-vm-$(id -u)}}
mkdir -p "$workdir"
workdir=$(cd "$workdir" && pwd -P)

failed=0 passed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/woof-vm-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
t0=$(now)

# ---- 1. the kernel log scanner, on saved logs (no VM needed)
printf '[    0.1] Linux version 6.1.0\n[    4.2] woof-vm: command start\n' >"$tmp/clean.log"
if "$scan" "$tmp/clean.log" >/dev/null; then pass "scanner: clean log passes"; else fail "scanner: clean log flagged"; fi
for bad in 'WARNING: CPU: 1 PID: 33 at kmod/woof.c:12 woof_append+0x1/0x2 [woof]' \
	'BUG: unable to handle page fault for address: 0000000000000008' \
	'Oops: 0002 [#1] PREEMPT SMP NOPTI' \
	'general protection fault, probably for non-canonical address 0xdead000000000100' \
	'Kernel panic - not syncing: Fatal exception' \
	'list_del corruption. prev->next should be ffff888003f0c2a8' \
	'BUG: KASAN: use-after-free in woof_release+0x2/0x4' \
	'UBSAN: shift-out-of-bounds in kmod/woof.c:99:5' \
	'refcount_t: underflow; use-after-free.' \
	'INFO: task woofctl:77 blocked for more than 120 seconds.'; do
	{ cat "$tmp/clean.log"; echo "[    5.0] $bad"; echo '[    5.1] Call Trace:'; } >"$tmp/bad.log"
	if "$scan" "$tmp/bad.log" >"$tmp/scan.out"; then
		fail "scanner: did not flag '$bad'"
	elif grep -qF ">> [    5.0] $bad" "$tmp/scan.out"; then
		pass "scanner: flags '$(echo "$bad" | cut -d' ' -f1-3) ...'"
	else
		fail "scanner: exit 1 but no excerpt for '$bad'"
	fi
done
printf '[    5.0] WARNING: woof-vm smoke test\n' >>"$tmp/clean.log"
if "$scan" --allow 'woof-vm smoke test' "$tmp/clean.log" >/dev/null; then
	pass "scanner: --allow suppresses a known line"
else
	fail "scanner: --allow did not suppress a known line"
fi

# ---- 2. one boot: the guest environment, exit status 3 when all is well
kver=$(for d in /lib/modules/*-amd64; do
	[ -e "/boot/vmlinuz-${d##*/}" ] && [ -e "$d/build/Makefile" ] && echo "${d##*/}"
done | sort -V | tail -n 1)
token=smoke-$$-$RANDOM
mkdir -p "$tmp/cwd" && echo "host file" >"$tmp/cwd/hostfile"
cat >"$tmp/cwd/guest-checks.sh" <<'EOF'
# runs in the guest: one line per check, exit 3 if all passed, 1 if not
bad=0
ok() { echo "guest ok: $*"; }
no() { echo "guest NOT OK: $*"; bad=1; }
r=$(uname -r)
case $r in 6.1.*) ok "uname -r is $r" ;; *) no "uname -r is $r, want 6.1.x" ;; esac
[ -z "${SMOKE_KVER:-}" ] || [ "$r" = "$SMOKE_KVER" ] || no "kernel $r is not the host's newest -amd64 ($SMOKE_KVER)"
[ "${WOOF_VM:-}" = 1 ] && ok "WOOF_VM=1 is set" || no "WOOF_VM is not 1"
[ "$(id -u)" = 0 ] && ok "runs as root" || no "uid is $(id -u)"
ctl=$(cat /sys/fs/cgroup/cgroup.controllers)
for c in memory pids cpu; do
	case " $ctl " in *" $c "*) ok "cgroup2 controller $c available" ;; *) no "controller $c missing from '$ctl'" ;; esac
done
g=/sys/fs/cgroup/woof-smoke
if mkdir "$g" && echo 64M >"$g/memory.max" && echo 16 >"$g/pids.max" &&
	echo "50000 100000" >"$g/cpu.max" && [ "$(cat "$g/memory.max")" = 67108864 ] &&
	[ "$(cat "$g/pids.max")" = 16 ] && sh -c "echo \$\$ >$g/cgroup.procs && grep -qx '0::/woof-smoke' /proc/self/cgroup"; then
	ok "a child cgroup takes memory.max, pids.max, cpu.max and a process"
else
	no "child cgroup with memory/pids/cpu limits"
fi
rmdir "$g" 2>/dev/null
if touch /usr/.woof-vm-probe 2>/dev/null; then no "writing /usr succeeded"; else ok "host root is read-only (/usr not writable)"; fi
[ "$(stat -f -c %T /tmp)" = tmpfs ] && echo x >/tmp/probe && [ "$(cat /tmp/probe)" = x ] &&
	ok "/tmp is a writable tmpfs" || no "/tmp is not a writable tmpfs"
echo "$SMOKE_TOKEN" >"$SMOKE_WORKDIR/$SMOKE_TOKEN.txt" && ok "wrote into the workdir share" || no "cannot write into $SMOKE_WORKDIR"
[ "$(pwd)" = "$SMOKE_CWD" ] && [ "$(cat hostfile)" = "host file" ] &&
	ok "cwd $SMOKE_CWD (below /tmp) is visible" || no "cwd is $(pwd), want $SMOKE_CWD with hostfile"
[ "$(python3 -c 'print(1)')" = 1 ] && ok "python3 (dynamically linked host program) runs" || no "python3 -c 'print(1)'"
if modprobe dummy numdummies=0 && grep -q '^dummy ' /proc/modules && rmmod dummy; then
	ok "a stock module loads and unloads (modprobe dummy)"
else
	no "modprobe/rmmod dummy"
fi
[ "$bad" = 0 ] && exit 3
exit 1
EOF
t1=$(now)
(cd "$tmp/cwd" && SMOKE_KVER=$kver SMOKE_TOKEN=$token SMOKE_WORKDIR=$workdir SMOKE_CWD=$(pwd -P) \
	"$run_vm" --workdir "$workdir" --timeout 120 -- bash guest-checks.sh) >"$tmp/out1" 2>&1
rc=$?
t2=$(now)
sed 's/^/  | /' "$tmp/out1"
if [ "$rc" = 77 ]; then
	grep -m1 "SKIP" "$tmp/out1" | sed "s/.*SKIP: /SKIP: /"
	exit 77
fi
grep -q 'guest NOT OK' "$tmp/out1" && fail "checks inside the guest (see above)"
if [ "$rc" = 3 ]; then
	pass "guest checks passed and their exit status 3 came out as 3"
else
	fail "run-vm.sh exit status $rc, want 3"
fi
if [ "$(cat "$workdir/$token.txt" 2>/dev/null)" = "$token" ]; then
	pass "the file written in the guest's workdir share is on the host"
else
	fail "no $workdir/$token.txt on the host"
fi
rm -f "$workdir/$token.txt"
boot=$(sed -n 's/.*command started at guest uptime \([0-9.]*\) s.*/\1/p' "$tmp/out1")

# ---- 3. a WARNING in the guest kernel log fails the run
t3=$(now)
"$run_vm" --workdir "$workdir" --timeout 120 -- \
	sh -c 'echo "<4>WARNING: woof-vm smoke test, deliberate" >/dev/kmsg' >"$tmp/out2" 2>&1
rc=$?
t4=$(now)
if [ "$rc" = 123 ] && grep -q '>> .*WARNING: woof-vm smoke test, deliberate' "$tmp/out2"; then
	pass "a WARNING in the guest kernel log fails the run (exit 123, excerpt shown)"
else
	sed 's/^/  | /' "$tmp/out2"
	fail "kernel log WARNING: exit $rc, want 123 with the line in the excerpt"
fi
# ... unless it is allowed
"$run_vm" --workdir "$workdir" --timeout 120 --allow-log 'woof-vm smoke test' -- \
	sh -c 'echo "<4>WARNING: woof-vm smoke test, deliberate" >/dev/kmsg' >"$tmp/out3" 2>&1
rc=$?
if [ "$rc" = 0 ]; then
	pass "--allow-log lets a known kernel log line through"
else
	sed 's/^/  | /' "$tmp/out3"
	fail "--allow-log: exit $rc, want 0"
fi

# ---- 4. timeout -> 124, guest kernel panic -> 125
"$run_vm" --workdir "$workdir" --timeout 8 -- sleep 60 >"$tmp/out4" 2>&1
rc=$?
if [ "$rc" = 124 ]; then pass "a guest that runs too long gives 124"; else
	sed 's/^/  | /' "$tmp/out4"
	fail "timeout: exit $rc, want 124"
fi
"$run_vm" --workdir "$workdir" --timeout 120 -- sh -c 'echo c >/proc/sysrq-trigger' >"$tmp/out5" 2>&1
rc=$?
if [ "$rc" = 125 ] && grep -q 'GUEST PANIC' "$tmp/out5"; then pass "a guest kernel panic gives 125"; else
	sed 's/^/  | /' "$tmp/out5"
	fail "panic: exit $rc, want 125 with GUEST PANIC"
fi
t5=$(now)

echo "times: boot to command ${boot:-?} s (guest uptime); one full run $(secs "$t1" "$t2") s" \
	"(checks), $(secs "$t3" "$t4") s (WARNING run); whole smoke test $(secs "$t0" "$t5") s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
