#!/bin/bash
# SPDX-License-Identifier: MIT
# test-devices.sh - the sandbox's device filter (a BPF cgroup-device
# program on the namespace's cgroup): .woof/status says "device filter:
# on"; a handler opens /dev/null but cannot make /dev/mem (char 1:1) in its
# namespace directory (EPERM); and, what only the filter refuses, root
# itself cannot mknod 1:1 from a cgroup below the namespace's while it can
# outside. Skipped (77, with the reason dispatcherd reports) where the
# filter is off - except in the test VM (WOOF_VM=1), where it must be on.
. "$(dirname "$0")/test_common.sh"

install_handler devprobe
tool create w 64 || fail "create"
start_daemon
wait_for 5 grep -q '^sandbox device filter: ' "$NS/.woof/status" || fail "no device filter line in the status"
if ! grep -q '^sandbox device filter: on$' "$NS/.woof/status"; then
	line=$(grep '^sandbox device filter: ' "$NS/.woof/status" | sed 's/^sandbox //')
	[ -n "${WOOF_VM:-}" ] && fail "in the VM: $line"
	skip "$line"
fi
ok "status: device filter: on"

tool put w devprobe 1 1 || fail "put"
wait_final 1 30 || fail "devprobe did not end"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "devprobe null=ok mknod_mem=Operation not permitted" ||
	fail "devprobe output: $("$DISPATCHERD_DUMP" -N "$NS" log | grep devprobe)"
[ "$(count_records 'trigger=1 .*state=done ')" = 1 ] || fail "devprobe not done"
ok "handler: /dev/null opens, mknod of 1:1 is EPERM"

# The namespace's cgroup: <cgroup root>/woof-<basename>-<hash>.
[ "$(id -u)" = 0 ] || { stop_daemon; skip "the cgroup check needs root"; }
cgroot=$(sed -n 's/^sandbox cgroups: v2 at \([^;]*\);.*/\1/p' "$NS/.woof/status")
[ -n "$cgroot" ] || fail "no cgroup root in the status"
cgs=("$cgroot/woof-$(basename "$NS")-"????????)
[ ${#cgs[@]} = 1 ] && [ -d "${cgs[0]}" ] || fail "namespace cgroup not found: ${cgs[*]}"
cg=${cgs[0]}
mkdir "$cg/devtest" || fail "mkdir $cg/devtest"
out=$(bash -c 'echo $$ >"$1/devtest/cgroup.procs" || exit 9; mknod "$2/mem-in" c 1 1 2>&1; echo "rc=$?"; cat /dev/null && echo null=ok' \
	_ "$cg" "$NS")
rmdir "$cg/devtest" 2>/dev/null
rm -f "$NS/mem-in"
case $out in
*"Operation not permitted"*"rc=1"*"null=ok"*) ;;
*) fail "root in the namespace's cgroup: $out" ;;
esac
mknod "$NS/mem-out" c 1 1 || fail "root outside the namespace's cgroup cannot mknod 1:1"
rm -f "$NS/mem-out"
ok "root in $cg cannot mknod 1:1, outside it can"
stop_daemon || fail "exit status $?"
