#!/bin/bash
# SPDX-License-Identifier: MIT
# test-timeout.sh - a handler past its timeout ([handler sleepy] timeout =
# 1s in woof.conf) is killed, whole, and recorded failed reason timeout;
# the process is gone; other handlers keep the namespace default.
. "$(dirname "$0")/test_common.sh"

install_handler sleepy rec
cat >"$NS/woof.conf" <<CONF
[namespace]
max_concurrent = 4
timeout = 30s

[handler sleepy]
timeout = 1s
CONF
tool create w 64 && tool create results 64 || fail "create"
start_daemon
t0=$(date +%s%N)
tool put w sleepy 1 1 && tool put w rec 2 2 || fail "put"
wait_final 2 15 || fail "calls did not end within 15 s"
t1=$(date +%s%N)
[ "$(count_records 'trigger=1 .*state=failed reason=timeout .*signal=9 .*handler=sleepy$')" = 1 ] ||
	fail "sleepy not recorded failed/timeout with signal 9"
pid=$("$DISPATCHERD_DUMP" -N "$NS" calls -t 1 | sed -n 's/.*state=failed .* pid=\([0-9]*\) .*/\1/p')
[ -n "$pid" ] && [ "$pid" != 0 ] || fail "no pid in sleepy's final record"
[ "$(count_records 'trigger=2 .*state=done ')" = 1 ] || fail "rec did not run"
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -lt 8000 ] || fail "timeout took $ms ms (limit 1 s)"
kill -0 "$pid" 2>/dev/null && fail "sleepy (pid $pid) is still alive"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T1 out sleepy handler at w 1" || fail "sleepy's output lost"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T1 note failed: killed after its timeout of 1000 ms" ||
	fail "no timeout note"
ok "handler past its 1 s timeout killed after $ms ms and recorded"
stop_daemon || fail "exit status $?"
