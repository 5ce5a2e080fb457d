#!/bin/bash
# SPDX-License-Identifier: MIT
# test-missing-handler.sh - a put naming a handler that has no file in the
# namespace, and one whose file is not executable, are failed calls with
# the reason recorded (never silent), and the daemon goes on serving.
. "$(dirname "$0")/test_common.sh"

install_handler rec
printf 'not a program\n' >"$NS/noexec"
chmod 644 "$NS/noexec"
tool create w 64 && tool create results 256 || fail "create"
start_daemon
tool put w nosuch 1 1 && tool put w noexec 2 2 && tool put w rec 3 3 || fail "put"
wait_final 3 20 || fail "three calls did not end"
[ "$(count_records 'trigger=1 .*state=failed reason=nohandler .*handler=nosuch$')" = 1 ] ||
	fail "missing handler not recorded as failed/nohandler"
[ "$(count_records 'trigger=2 .*state=failed reason=noexec .*handler=noexec$')" = 1 ] ||
	fail "non-executable handler not recorded as failed/noexec"
[ "$(count_records 'trigger=3 .*state=done ')" = 1 ] || fail "rec after them did not run"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T1 note failed: .*/nosuch: no handler file" ||
	fail "no note about the missing handler in the log"
grep -q "failed: .*nosuch" "$DLOG" || fail "daemon did not log the failure"
ok "missing and non-executable handler files are recorded failures"
stop_daemon || fail "exit status $?"

# a handler file that is a symbolic link (here to a real handler, beside it)
# is refused, not followed: a handler's user could point it at a device or
# a root-only file, and dispatcherd may be root
ln -s rec "$NS/linked" || fail "ln"
: >"$DLOG"
start_daemon
tool put w linked 4 4 || fail "put linked"
wait_final 4 20 || fail "the call of linked did not end"
[ "$(count_records 'trigger=4 .*state=failed reason=noexec .*handler=linked$')" = 1 ] ||
	fail "a linked handler file was not refused: $("$DISPATCHERD_DUMP" -N "$NS" calls | tail -n 2)"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T4 note failed: .*/linked: not a regular file (a symbolic link is not followed)" ||
	fail "no note about the link in the log"
ok "a handler file that is a symbolic link is refused, not followed"
stop_daemon || fail "exit status $?"
