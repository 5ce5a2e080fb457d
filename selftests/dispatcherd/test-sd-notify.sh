#!/bin/bash
# SPDX-License-Identifier: MIT
# test-sd-notify.sh - the Type=notify protocol: READY=1 (with STATUS=)
# once the namespace is served, STOPPING=1 on SIGTERM, received on a
# datagram socket named by NOTIFY_SOCKET like systemd's.
. "$(dirname "$0")/test_common.sh"
command -v python3 >/dev/null || skip "python3 is needed to play systemd"

sock=$NS.notify
python3 - "$sock" >"$NS.msgs" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
try:
    while True:
        m = s.recv(4096).decode()
        print(m.replace("\n", " | "), flush=True)
        if "STOPPING=1" in m:
            break
except socket.timeout:
    pass
PY
listener=$!
wait_for 5 test -S "$sock" || fail "listener socket not there"
export NOTIFY_SOCKET=$sock
start_daemon
unset NOTIFY_SOCKET
wait_for 5 grep -q "READY=1" "$NS.msgs" || fail "no READY=1"
stop_daemon || fail "exit status $?"
wait "$listener"
sed 's/^/    /' "$NS.msgs"
grep -q "STATUS=serving 1 namespace" "$NS.msgs" || fail "no STATUS="
grep -q "STOPPING=1" "$NS.msgs" || fail "no STOPPING=1"
rm -f "$NS.msgs" "$sock"
ok "READY=1, STATUS= and STOPPING=1 sent"
