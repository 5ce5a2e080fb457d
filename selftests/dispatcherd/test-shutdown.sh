#!/bin/bash
# SPDX-License-Identifier: MIT
# test-shutdown.sh - SIGTERM: dispatcherd takes no new calls, waits for the
# running one, exits 0, and loses no accepted trigger: with
# max_concurrent = 1 and five calls of rec that wait at a gate (a file the
# test makes), the first one is running when SIGTERM comes; the gate opens
# once the daemon says it is stopping; exactly that call finishes, the other
# four stay in the log and run after a restart, none twice. (No timing
# window: with calls of a fixed length, a put slowed down in the TCG guest
# on a loaded host let all of them end before the test looked.)
. "$(dirname "$0")/test_common.sh"

install_handler rec
printf '[namespace]\nmax_concurrent = 1\n' >"$NS/woof.conf"
tool create w 64 && tool create results 64 || fail "create"
start_daemon
t=30
[ -n "${WOOF_VM:-}" ] && t=180
tool put w rec 1 5 gate || fail "put"
wait_for $t grep -q "^running 1$" "$NS/.woof/status" || fail "no call running"
t0=$(date +%s%N)
kill -TERM "$DPID"
wait_for $t grep -q "^state stopping$" "$NS/.woof/status" || fail "the status does not say stopping"
touch "$NS/gate" || fail "cannot open the gate"
wait "$DPID"
rc=$?
DPID=
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 0 ] || fail "exit status $rc after SIGTERM"
done1=$(count_records 'state=done ')
echo "    stopped after $ms ms with $done1 call(s) done"
[ "$done1" -ge 1 ] || fail "the running call did not finish before the exit"
[ "$done1" = 1 ] || fail "$done1 calls ran: the stop did not stop taking calls"
grep -q "^state stopped$" "$NS/.woof/status" || fail "status does not say stopped"
start_daemon
tool wait results 5 30 || fail "accepted triggers lost over the stop"
out=$(tool check 5) || fail "$out"
case $out in *"duplicates=0 redelivered=0"*) ;; *) fail "clean stop caused reruns: $out" ;; esac
ok "SIGTERM waited for the running call; the 4 queued ran after the restart, none twice"
stop_daemon || fail "exit status $?"
