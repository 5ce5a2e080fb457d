#!/bin/bash
# SPDX-License-Identifier: MIT
# test-config.sh - woof.conf: a bad file stops dispatcherd at start with
# FILE:LINE; SIGHUP with a bad file keeps the old configuration; SIGHUP
# with a good one applies it (max_concurrent in .woof/status).
. "$(dirname "$0")/test_common.sh"

cat >"$NS/woof.conf" <<CONF
[namespace]
max_concurrent = 3
bogus = 1
CONF
"$DISPATCHERD" -N "$NS" >"$NS.out" 2>&1
rc=$?
cat "$NS.out" | sed 's/^/    /'
[ $rc = 1 ] || fail "bad woof.conf: exit status $rc, expected 1"
grep -q "woof.conf:3: unknown key 'bogus' in \[namespace\]" "$NS.out" || fail "no FILE:LINE message"
rm -f "$NS.out"
ok "bad woof.conf refused with its line number"

printf '[namespace]\nmax_concurrent = 3\n' >"$NS/woof.conf"
start_daemon
wait_for 5 grep -q '^max_concurrent 3$' "$NS/.woof/status" || fail "max_concurrent 3 not in status"
printf '[namespace]\nmax_concurrent = 0\n' >"$NS/woof.conf"
kill -HUP "$DPID"
wait_for 5 grep -q "woof.conf:2: bad value '0' for max_concurrent" "$DLOG" || fail "bad reload not reported"
grep -q "keeping the previous configuration" "$DLOG" || fail "no 'keeping' message"
printf '[namespace]\nmax_concurrent = 7\ntimeout = 2m\n[handler rec]\nruntime = exec\nworkers = 2\n' >"$NS/woof.conf"
kill -HUP "$DPID"
wait_for 5 grep -q '^max_concurrent 7$' "$NS/.woof/status" || fail "reload did not apply max_concurrent 7"
grep -q '^timeout_ms 120000$' "$NS/.woof/status" || fail "timeout 2m not applied"
ok "SIGHUP reload: bad file kept the old config, good file applied"
stop_daemon || fail "exit status $?"
