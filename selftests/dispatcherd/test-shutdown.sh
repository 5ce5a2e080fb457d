#!/bin/bash
# SPDX-License-Identifier: MIT
# test-shutdown.sh - SIGTERM: dispatcherd takes no new calls, waits for the
# running one, exits 0, and loses no accepted trigger: with
# max_concurrent = 1 and five 1.5 s calls, one finishes during the stop,
# the other four stay in the log and run after a restart, none twice.
. "$(dirname "$0")/test_common.sh"

install_handler rec
printf '[namespace]\nmax_concurrent = 1\n' >"$NS/woof.conf"
tool create w 64 && tool create results 64 || fail "create"
start_daemon
# 1.5 s calls: the window in which one runs (7.5 s) must outlast a slow
# put on a loaded host in the TCG guest (with 0.4 s calls all five once
# ended before the put command returned)
tp=$(date +%s%N)
tool put w rec 1 5 1500000 || fail "put"
tw=$(date +%s%N)
wait_for 10 grep -q "^running 1$" "$NS/.woof/status" || fail "no call running"
echo "    the put took $(( (tw - tp) / 1000000 )) ms; the status said running 1 after $(( ($(date +%s%N) - tp) / 1000000 )) ms"
t0=$(date +%s%N)
stop_daemon
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 0 ] || fail "exit status $rc after SIGTERM"
done1=$(count_records 'state=done ')
echo "    stopped after $ms ms with $done1 call(s) done"
[ "$done1" -ge 1 ] || fail "the running call did not finish before the exit"
[ "$done1" -lt 5 ] || fail "all calls ran: the stop did not stop taking calls"
grep -q "^state stopped$" "$NS/.woof/status" || fail "status does not say stopped"
start_daemon
tool wait results 5 30 || fail "accepted triggers lost over the stop"
out=$(tool check 5) || fail "$out"
case $out in *"duplicates=0 redelivered=0"*) ;; *) fail "clean stop caused reruns: $out" ;; esac
ok "SIGTERM waited for the running call; the 4 queued ran after the restart, none twice"
stop_daemon || fail "exit status $?"
