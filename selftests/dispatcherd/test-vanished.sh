#!/bin/bash
# SPDX-License-Identifier: MIT
# test-vanished.sh - triggers whose WOOF went away before dispatcherd read
# them are failed calls with the reason, not silent skips: puts made while
# no dispatcherd runs, then one WOOF removed and one re-created.
. "$(dirname "$0")/test_common.sh"

install_handler rec
tool create gone 16 && tool create renewed 16 && tool create kept 16 && tool create results 64 ||
	fail "create"
tool put gone rec 1 1 && tool put renewed rec 2 2 && tool put kept rec 3 3 || fail "put"
tool remove gone || fail "remove"
tool create renewed 16 || fail "re-create"
start_daemon
wait_final 3 20 || fail "three calls did not end"
[ "$(count_records 'trigger=1 .*state=failed reason=removed .*woof=gone ')" = 1 ] ||
	fail "trigger of the removed WOOF not recorded failed/removed"
[ "$(count_records 'trigger=2 .*state=failed reason=stale .*woof=renewed ')" = 1 ] ||
	fail "trigger of the re-created WOOF not recorded failed/stale"
[ "$(count_records 'trigger=3 .*state=done ')" = 1 ] || fail "the intact trigger did not run"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T1 note failed: the WOOF was removed" || fail "no note"
grep -q '^triggers latest=3 done_floor=3 ' "$NS/.woof/status" || fail "done_floor did not pass them"
ok "removed and re-created WOOFs: failed with reasons; done_floor moved past them"
stop_daemon || fail "exit status $?"
