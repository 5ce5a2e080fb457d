#!/bin/bash
# SPDX-License-Identifier: MIT
# test-sigkill-restart.sh - at-least-once across a crash: dispatcherd is
# SIGKILLed in the middle of a burst of 500 triggered puts (into a WOOF of
# history 32, so claimed elements get overwritten while it is down), then
# restarted. Every put's handler must have run at least once; calls that
# had started before the kill run again as attempt 2 and know it
# (woof_call_current().redelivered, checked by disp-tool check).
#
# So that a call certainly runs when the kill lands, put 1 waits at a gate
# (a file the test makes only after the restart): the test kills only once
# that call's RUNNING record is written, checks in the frozen records that
# it had not ended, and then that it ran again as attempt 2.
. "$(dirname "$0")/test_common.sh"

N=500
install_handler rec
tool create w 32 && tool create results 4096 || fail "create"
start_daemon
tool put w rec 1 1 gate || fail "put 1 (gated)"
# each other handler sleeps 5 ms so that more calls are running at the kill
tool put w rec 2 $N 5000 &
putter=$!
have_100() { tool wait results 100 1; }
wait_for 60 have_100 || fail "no 100 results within 60 s"
# the trigger of put 1, once its call started
gated() {
	"$DISPATCHERD_DUMP" -N "$NS" calls |
		sed -n 's/^trigger=\([0-9]*\) seq=1 attempt=1 state=running .* woof=w handler=rec$/\1/p' |
		head -n 1
}
gated_running() { [ -n "$(gated)" ]; }
wait_for 60 gated_running || fail "the gated call (put 1) did not start within 60 s"
T=$(gated)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
killed_at=$(count_records 'state=done ')
# calls with a RUNNING record and no final one: those the kill interrupted
inflight=$("$DISPATCHERD_DUMP" -N "$NS" calls | awk '
	{ t = $1; sub(/^trigger=/, "", t) }
	/ state=running / { run[t] = 1 }
	/ state=(done|failed|orphan) / { fin[t] = 1 }
	END { n = 0; for (t in run) if (!(t in fin)) n++; print n }')
echo "    killed dispatcherd after $killed_at calls were done, $inflight running; the gated call is trigger $T"
[ "$(count_records "^trigger=$T .* state=(done|failed|orphan) ")" = 0 ] ||
	fail "the gated call (trigger $T) had ended before the kill"
# the killed daemon's lock is free once it and its handlers are gone
lock_free() { flock -n "$NS/.woof/dispatcherd.lock" true; }
wait_for 10 lock_free || fail "dispatcherd.lock still held 10 s after the kill"
start_daemon
touch "$NS/gate" || fail "cannot open the gate"
wait "$putter" || fail "the putter failed"
tool wait results $N 120 || fail "fewer than $N results after the restart"
# every trigger ends exactly once in the records, after the restart too
wait_final $N 60 || fail "not all $N calls ended"
out=$(tool check $N) || fail "check: $out"
echo "    $out"
case $out in *"present=$N missing=0"*) ;; *) fail "$out" ;; esac
redelivered=$(count_records 'state=redelivered ')
echo "    $redelivered redelivered calls (attempt 2), $(count_records 'flags=[23] ') from the spool copy"
[ "$(count_records "^trigger=$T seq=1 attempt=2 state=redelivered ")" = 1 ] ||
	fail "the call running at the kill (trigger $T) was not redelivered as attempt 2"
[ "$(count_records "^trigger=$T seq=1 attempt=2 state=done ")" = 1 ] ||
	fail "the redelivered call (trigger $T) did not end done"
[ "$redelivered" -ge "$inflight" ] || fail "$inflight calls ran at the kill, $redelivered redelivered"
[ "$(count_records 'state=redelivered attempt=1 ')" = 0 ] || fail "redelivered record with attempt 1"
[ "$(count_records 'state=(failed|orphan) ')" = 0 ] || fail "failed calls after the restart"
res_re=$(echo "$out" | sed -n 's/.*redelivered=\([0-9]*\).*/\1/p')
[ "$res_re" -ge 1 ] || fail "no handler saw redelivered=true"
ok "SIGKILL mid-burst: all $N handlers ran; $redelivered redelivered (trigger $T among them), $res_re results marked redelivered"
stop_daemon || fail "exit status $?"
