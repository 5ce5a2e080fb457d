#!/bin/bash
# SPDX-License-Identifier: MIT
# test-lock.sh - two dispatcherds cannot serve one namespace: the second
# exits 1 naming the pid that holds .woof/dispatcherd.lock; after the
# first stops, a new one starts.
. "$(dirname "$0")/test_common.sh"

start_daemon
"$DISPATCHERD" -N "$NS" >"$NS.out" 2>&1
rc=$?
sed 's/^/    /' "$NS.out"
[ $rc = 1 ] || fail "second dispatcherd: exit status $rc, expected 1"
grep -q "already served by dispatcherd pid $DPID" "$NS.out" || fail "holder pid not named"
rm -f "$NS.out"
stop_daemon || fail "exit status $?"
start_daemon
ok "lock held by pid, released on exit"
stop_daemon || fail "exit status $?"
