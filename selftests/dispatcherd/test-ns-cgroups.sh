#!/bin/bash
# SPDX-License-Identifier: MIT
# test-ns-cgroups.sh - two namespace directories with the same basename
# (.../x/same and .../y/same), served at once by two dispatcherd: each
# gets a cgroup of its own (woof-same-<hash of its path>), and a call
# killed at its timeout in one leaves the other's running call alone.
# (With cgroups named after the basename alone the second daemon removed
# the first one's call cgroups at start, and both used call-1.)
. "$(dirname "$0")/test_common.sh"

[ "$(id -u)" = 0 ] || skip "needs root (the namespaces' cgroups)"
X=$NS/x/same
Y=$NS/y/same
mkdir -p "$X" "$Y" || fail "mkdir"
chmod 755 "$NS/x" "$NS/y" "$X" "$Y"
chown 65534:65534 "$X" "$Y"
for d in "$X" "$Y"; do
	cp "$DISP_HANDLERS" "$d/sleepy" && chown 65534:65534 "$d/sleepy" || fail "install"
	as_user "$DISP_TOOL" -N "$d" create w 64 || fail "create in $d"
done
printf '[namespace]\ntimeout = 30s\n[handler sleepy]\ntimeout = 2s\n' >"$X/woof.conf"
printf '[namespace]\ntimeout = 60s\n' >"$Y/woof.conf"

YPID=
stop_y() {
	if [ -n "$YPID" ] && kill -0 "$YPID" 2>/dev/null; then
		kill -TERM "$YPID"
		wait_for 5 eval "grep -qE '^state (stopping|stopped)' '$Y/.woof/status' || ! kill -0 $YPID"
		kill -TERM "$YPID" 2>/dev/null
		wait_for 5 eval "! kill -0 $YPID"
		kill -KILL "$YPID" 2>/dev/null
		wait "$YPID" 2>/dev/null
	fi
	YPID=
}
trap 'stop_y; cleanup' EXIT

# $NS itself is not served: the two daemons serve X (as DPID) and Y
"$DISPATCHERD" -N "$Y" -v ${DISP_DAEMON_ARGS:-} >>"$DLOG.y" 2>&1 &
YPID=$!
t=30
[ -n "${WOOF_VM:-}" ] && t=180
wait_for $t grep -q "ready: pid $YPID" "$DLOG.y" || fail "daemon for $Y not ready: $(tail -5 "$DLOG.y")"
as_user "$DISP_TOOL" -N "$Y" put w sleepy 1 1 || fail "put in Y"
ypid_of() { sed -n 's/^call .* state=running .*pid=\([0-9]*\) .*/\1/p' "$Y/.woof/status"; }
wait_for 20 eval '[ -n "$(ypid_of)" ]' || fail "Y's call is not running"
ypid=$(ypid_of)

"$DISPATCHERD" -N "$X" -v ${DISP_DAEMON_ARGS:-} >>"$DLOG" 2>&1 &
DPID=$!
wait_for $t daemon_ready || fail "daemon for $X not ready"
kill -0 "$ypid" 2>/dev/null || fail "starting X's daemon killed Y's call (pid $ypid)"
as_user "$DISP_TOOL" -N "$X" put w sleepy 1 1 || fail "put in X"
xpid_of() { sed -n 's/^call .* state=running .*pid=\([0-9]*\) .*/\1/p' "$X/.woof/status"; }
wait_for 20 eval '[ -n "$(xpid_of)" ]' || fail "X's call is not running"
xpid=$(xpid_of)
cgx=$(sed -n 's/^0:://p' "/proc/$xpid/cgroup")
cgy=$(sed -n 's/^0:://p' "/proc/$ypid/cgroup")
[ -n "$cgx" ] && [ -n "$cgy" ] || fail "no cgroups: x '$cgx' y '$cgy'"
nsx=${cgx%/call-*} nsy=${cgy%/call-*}
[[ ${nsx##*/} =~ ^woof-same-[0-9a-f]{8}$ ]] || fail "X's namespace cgroup is ${nsx##*/}"
[[ ${nsy##*/} =~ ^woof-same-[0-9a-f]{8}$ ]] || fail "Y's namespace cgroup is ${nsy##*/}"
[ "$nsx" != "$nsy" ] || fail "both namespaces in $nsx"
ok "two namespaces named 'same': cgroups ${nsx##*/} and ${nsy##*/}"

# X's call passes its 2 s timeout and is killed (cgroup.kill); Y's goes on
x_failed() { "$DISPATCHERD_DUMP" -N "$X" calls | grep -q 'state=failed reason=timeout'; }
wait_for 20 x_failed || fail "X's call was not killed at its timeout"
# the kill is done once X's call process is gone; only then look at Y's
x_gone() { [ ! -e "/proc/$xpid" ] || grep -q '^State:.*Z' "/proc/$xpid/status"; }
wait_for 10 x_gone || fail "X's call (pid $xpid) still alive after its timeout"
kill -0 "$ypid" 2>/dev/null || fail "X's timeout kill also killed Y's call (pid $ypid)"
grep -q "^call .* state=running .*pid=$ypid " "$Y/.woof/status" || fail "Y's call is no longer running"
"$DISPATCHERD_DUMP" -N "$Y" calls | grep -q 'state=failed' && fail "Y has a failed call"
ok "X's timeout kill left Y's call running"
stop_daemon || fail "X's daemon exit status $?"
stop_y
rm -f "$DLOG.y"
