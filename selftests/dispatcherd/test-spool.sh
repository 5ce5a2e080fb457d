#!/bin/bash
# SPDX-License-Identifier: MIT
# test-spool.sh - claimed elements survive a SIGKILL of dispatcherd after
# their slots were overwritten: a call that was running (attempt 2) and one
# still queued (attempt 1) run from the spool ring's copy, an element too
# big for the ring (8 KiB) from its spool file; each handler gets its own
# element (disp-tool check: the n in the element matches its seq), the
# final records carry the SPOOLED flag, and no spool file is left behind.
. "$(dirname "$0")/test_common.sh"

install_handler rec
printf '[namespace]\nmax_concurrent = 1\n' >"$NS/woof.conf"
tool create w 2 && tool create big 2 8192 && tool create results 64 || fail "create"
# big: seq 1 and 2 without a handler, so that the triggered put n=3 is seq 3
tool put big - 1 2 || fail "put big fillers"
start_daemon
# n=1 holds the only call slot for 15 s; n=2 and n=3 are claimed and queue
tool put w rec 1 1 15000000 || fail "put 1"
running1() { count_records 'trigger=1 .*state=running ' | grep -qx 1; }
wait_for 30 running1 || fail "the first call did not start"
tool put w rec 2 2 && tool put big rec 3 3 || fail "put 2, 3"
queued() { grep -Eq '^handler rec .*queued=2 ' "$NS/.woof/status"; }
wait_for 30 queued || fail "calls 2 and 3 were not claimed and queued"
# the big element's copy is a file, the 64-byte ones sit in the ring
[ -f "$NS/.woof/spool/3" ] || fail "no spool file for the 8 KiB element"
[ -e "$NS/.woof/spool/1" ] || [ -e "$NS/.woof/spool/2" ] && fail "64-byte elements went to spool files"
[ -f "$NS/.woof/spool/ring-v1" ] || fail "no spool ring"
# overwrite every claimed slot, then kill the daemon and its running call
tool put w - 0 3 && tool put big - 0 2 || fail "overwriting puts"
pids=$(running_pids)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
for p in $pids; do kill -KILL "$p" 2>/dev/null; done
start_daemon
wait_final 3 60 || fail "the three calls did not end after the restart"
out=$(tool check 3) || fail "check: $out"
echo "    $out"
for t in 1 2 3; do
	[ "$(count_records "trigger=$t .*state=done .*flags=[23] ")" = 1 ] ||
		fail "trigger $t did not end done from the spool copy"
done
[ "$(count_records 'trigger=1 .*attempt=2 state=redelivered ')" = 1 ] || fail "trigger 1 was not redelivered"
[ "$(count_records 'trigger=2 .*attempt=1 state=running ')" = 1 ] || fail "trigger 2 did not run as attempt 1"
left=$(cd "$NS/.woof/spool" && ls | grep -v '^ring-v1$')
[ -z "$left" ] || fail "spool files left: $left"
ok "a running and a queued call ran from the ring, a big one from its file, after SIGKILL"
stop_daemon || fail "exit status $?"
