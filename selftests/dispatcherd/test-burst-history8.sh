#!/bin/bash
# SPDX-License-Identifier: MIT
# test-burst-history8.sh - CSPOT ran 8 of 2,000 handlers here and skipped
# 1,992 silently. 2,000 triggered puts into a WOOF of history 8: every
# handler must run (each appends its n to "results"), no call may fail,
# and nothing is skipped: the puts wait (backpressure) instead.
. "$(dirname "$0")/test_common.sh"

N=${DISP_BURST_N:-2000}
install_handler rec
tool create h8 8 && tool create results 4096 || fail "create"
start_daemon
t0=$(date +%s%N)
tool put h8 rec 1 "$N" || fail "the burst of puts failed"
t1=$(date +%s%N)
tool wait results "$N" 240 || fail "not every handler ran"
t2=$(date +%s%N)
wait_final "$N" 30 || fail "not all $N calls recorded"
out=$(tool check "$N") || fail "check: $out"
echo "    $out"
case $out in *"present=$N missing=0"*) ;; *) fail "$out" ;; esac
[ "$(count_records 'state=done ')" = "$N" ] || fail "not $N done records"
[ "$(count_records 'state=(failed|orphan) ')" = 0 ] || fail "failed or orphan calls in the burst"
ok "$N triggered puts into history 8: $N handlers ran, 0 skipped (puts took $(( (t1 - t0) / 1000000 )) ms, all handlers $(( (t2 - t0) / 1000000 )) ms)"
stop_daemon || fail "exit status $?"
