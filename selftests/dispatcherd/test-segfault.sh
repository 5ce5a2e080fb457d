#!/bin/bash
# SPDX-License-Identifier: MIT
# test-segfault.sh - handlers that die of SIGSEGV are recorded failed with
# signal 11, their output before the crash is in the log, and the calls
# around them (20 rec calls interleaved) all run.
. "$(dirname "$0")/test_common.sh"

install_handler rec crash
tool create w 256 && tool create results 256 || fail "create"
start_daemon
for i in 1 2 3; do
	tool put w rec $(( (i - 1) * 7 + 1 )) $(( i * 7 - 1 )) || fail "put rec"
	tool put w crash $(( i * 7 )) $(( i * 7 )) || fail "put crash"
done
# puts n = 1..21: 7, 14, 21 went to crash, the other 18 to rec
wait_final 21 30 || fail "21 calls did not end"
crashes=$(count_records 'state=failed reason=signal exit=0 signal=11 .*handler=crash$')
[ "$crashes" = 3 ] || fail "expected 3 crash records with signal 11, found $crashes"
[ "$(count_records 'state=done .*handler=rec$')" = 18 ] || fail "not all 18 rec calls are done"
[ "$(tool check 21 2>/dev/null | sed -n 's/.*present=\([0-9]*\).*/\1/p')" = 18 ] ||
	fail "rec results: $(tool check 21 2>&1 | tail -1)"
[ "$("$DISPATCHERD_DUMP" -N "$NS" log | grep -c '^T[0-9]* out crash handler at w')" = 3 ] ||
	fail "crash handlers' output before the crash is not in the log"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "note failed: killed by signal 11" ||
	fail "no note on the crash"
kill -0 "$DPID" || fail "dispatcherd died"
ok "3 segfaults recorded with signal 11; 18 other calls unaffected"
stop_daemon || fail "exit status $?"
