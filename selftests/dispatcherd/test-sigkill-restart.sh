#!/bin/bash
# SPDX-License-Identifier: MIT
# test-sigkill-restart.sh - at-least-once across a crash: dispatcherd is
# SIGKILLed in the middle of a burst of 500 triggered puts (into a WOOF of
# history 32, so claimed elements get overwritten while it is down), then
# restarted. Every put's handler must have run at least once; calls that
# had started before the kill run again as attempt 2 and know it
# (woof_call_current().redelivered, checked by disp-tool check).
. "$(dirname "$0")/test_common.sh"

N=500
install_handler rec
tool create w 32 && tool create results 4096 || fail "create"
start_daemon
# each handler sleeps 5 ms so that calls are running when the kill lands
tool put w rec 1 $N 5000 &
putter=$!
have_100() { tool wait results 100 1; }
wait_for 60 have_100 || fail "no 100 results within 60 s"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
killed_at=$(count_records 'state=done ')
echo "    killed dispatcherd after $killed_at calls were done"
sleep 0.5
start_daemon
wait "$putter" || fail "the putter failed"
tool wait results $N 120 || fail "fewer than $N results after the restart"
# every trigger ends exactly once in the records, after the restart too
wait_final $N 60 || fail "not all $N calls ended"
out=$(tool check $N) || fail "check: $out"
echo "    $out"
case $out in *"present=$N missing=0"*) ;; *) fail "$out" ;; esac
redelivered=$(count_records 'state=redelivered ')
echo "    $redelivered redelivered calls (attempt 2), $(count_records 'flags=[23] ') from the spool copy"
[ "$redelivered" -ge 1 ] || fail "no call was redelivered: the kill did not land while calls ran?"
[ "$(count_records 'state=redelivered attempt=1 ')" = 0 ] || fail "redelivered record with attempt 1"
[ "$(count_records 'state=(failed|orphan) ')" = 0 ] || fail "failed calls after the restart"
res_re=$(echo "$out" | sed -n 's/.*redelivered=\([0-9]*\).*/\1/p')
[ "$res_re" -ge 1 ] || fail "no handler saw redelivered=true"
ok "SIGKILL mid-burst: all $N handlers ran; $redelivered redelivered, $res_re results marked redelivered"
stop_daemon || fail "exit status $?"
