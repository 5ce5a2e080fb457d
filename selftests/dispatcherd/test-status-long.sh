#!/bin/bash
# SPDX-License-Identifier: MIT
# test-status-long.sh - the status file keeps long lines whole: dispatcherd
# started in a cgroup with a path of about 200 bytes (call cgroups go below
# it; the sandbox takes paths up to 255 bytes) reports that path in its
# "sandbox cgroups:" line of over 255 bytes, and the line ends as it should
# (it used to be cut at 255 bytes, losing the end of what is enforced).
. "$(dirname "$0")/test_common.sh"

[ "$(id -u)" = 0 ] || skip "needs root (a cgroup of its own to start dispatcherd in)"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$cg2" ] || skip "no cgroup2 mount"
top=$cg2/woof-status-long-$$-$(printf 'a%.0s' $(seq 80))
long=$top/$(printf 'b%.0s' $(seq 80))
mkdir -p "$long" || skip "cannot make a cgroup under $cg2"
trap 'stop_daemon >/dev/null 2>&1; find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null; cleanup' EXIT

# shellcheck disable=SC2016
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$long" \
	"$DISPATCHERD" -N "$NS" -v >>"$DLOG" 2>&1 &
DPID=$!
t=30
[ -n "${WOOF_VM:-}" ] && t=180
wait_for $t daemon_ready || fail "dispatcherd did not get ready within $t s"
grep -qx "0::${long#"$cg2"}" "/proc/$DPID/cgroup" ||
	grep -q "^0::${long#"$cg2"}/" "/proc/$DPID/cgroup" || fail "dispatcherd is not in $long"

wait_for 5 grep -q '^sandbox cgroups: ' "$NS/.woof/status" || fail "no cgroups line in the status"
line=$(grep '^sandbox cgroups: ' "$NS/.woof/status")
echo "    ${#line} bytes: ${line:0:60}...${line: -40}"
[ ${#line} -gt 255 ] || fail "the cgroups line is only ${#line} bytes: $line"
case $line in
*"$long"*) ;;
*) fail "the cgroups line does not name $long: $line" ;;
esac
case $line in
*"clone3 into cgroup yes" | *"clone3 into cgroup no"*) ;;
*) fail "the cgroups line is cut: ...${line: -60}" ;;
esac
ok "a status line of ${#line} bytes is kept whole"
stop_daemon || fail "dispatcherd exit status $? after SIGTERM"
