#!/bin/bash
# SPDX-License-Identifier: MIT
# test-output.sh - output is bounded per call: with output_max = 2K a
# handler writing 10,000 bytes has 2,048 of them in .woof/log, its record
# counts all 10,000 and carries OUTPUT_TRUNC, and a note says so.
. "$(dirname "$0")/test_common.sh"

install_handler chatty
printf '[namespace]\noutput_max = 2K\n' >"$NS/woof.conf"
tool create w 64 || fail "create"
start_daemon
tool put w chatty 10000 10000 || fail "put"
wait_final 1 20 || fail "the call did not end"
[ "$(count_records 'trigger=1 .*state=done .*output=10000 .*flags=1 ')" = 1 ] ||
	fail "record does not count 10000 bytes with OUTPUT_TRUNC"
logged=$("$DISPATCHERD_DUMP" -N "$NS" log -t 1 | sed -n 's/^T1 out //p' | tr -d '\n' | wc -c)
[ "$logged" = 2048 ] || fail "$logged bytes logged, expected 2048"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T1 note output beyond output_max (2048 bytes) is not logged" ||
	fail "no truncation note"
ok "output bounded at output_max: 2048 of 10000 bytes logged, truncation recorded"
stop_daemon || fail "exit status $?"
