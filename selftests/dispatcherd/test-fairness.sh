#!/bin/bash
# SPDX-License-Identifier: MIT
# test-fairness.sh - with max_concurrent = 1 and six calls queued for each
# of two handlers (all of rec_a's put first), dispatch alternates between
# the handlers (round-robin over per-handler queues) instead of draining
# rec_a's queue first; and every call runs once.
. "$(dirname "$0")/test_common.sh"

install_handler rec_a rec_b
printf '[namespace]\nmax_concurrent = 1\n' >"$NS/woof.conf"
tool create w 64 && tool create results 64 || fail "create"
# queued before the daemon starts: it finds all twelve at once
tool put w rec_a 1 6 && tool put w rec_b 7 12 || fail "put"
start_daemon
tool wait results 12 30 || fail "not all 12 calls ran"
wait_final 12 10 || fail "not all 12 calls recorded"
order=$("$DISPATCHERD_DUMP" -N "$NS" calls | sed -n 's/.*state=running .*handler=\(rec_[ab]\)$/\1/p' | tr '\n' ' ')
echo "    start order: $order"
[ "$order" = "rec_a rec_b rec_a rec_b rec_a rec_b rec_a rec_b rec_a rec_b rec_a rec_b " ] ||
	fail "calls did not alternate between the handlers"
out=$(tool check 12) || fail "$out"
ok "round-robin between handlers: $order"
stop_daemon || fail "exit status $?"
