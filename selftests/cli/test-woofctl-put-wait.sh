#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-woofctl-put-wait.sh - a put that must wait for room (the slot it
# would overwrite holds an element whose handler call nobody claimed: no
# dispatcherd runs) says within a second, on stderr, what it waits for and
# keeps waiting; with --timeout SEC it fails after SEC seconds with exit 1,
# the same words, and nothing appended.
#
# Usage: test-woofctl-put-wait.sh PATH-TO-WOOFCTL
# Prints one line per check and "N passed, N failed"; exits 1 if any failed.

set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 PATH-TO-WOOFCTL" >&2
	exit 2
fi
WOOFCTL=$(realpath "$1")
unset WOOFC_DIR

T=$(mktemp -d "${TMPDIR:-/tmp}/test-woofctl-put-wait.XXXXXX") || exit 1
BG=
cleanup() {
	[ -n "$BG" ] && kill "$BG" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

NS=$T/ns
OUT=$T/out
ERR=$T/err
passed=0
failed=0

pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL - $1${2:+ ($2)}"
	failed=$((failed + 1))
	if [ -s "$ERR" ]; then sed 's/^/       stderr: /' "$ERR" | head -5; fi
}
rc=0
run_w() { "$WOOFCTL" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
expect() {
	local want=$1 desc=$2; shift 2
	run_w "$@"
	if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc" "exit $rc, want $want"; fi
}
err_has() {
	if grep -Eq -- "$2" "$ERR"; then pass "$1"; else fail "$1" "stderr lacks /$2/"; fi
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
latest() { "$WOOFCTL" -j -N "$NS" woof stat w | python3 -c 'import json,sys; print(json.load(sys.stdin)["latest"])'; }

WAITING='waiting for room: the slot of seq 1 is still pending its handler call \(trigger 1\); is dispatcherd running for .*/ns\?'

expect 0 "ns init" ns init "$NS"
expect 0 "create w (history 2)" -N "$NS" woof create w --element-size 8 --history 2
expect 0 "put with a handler (trigger 1, no dispatcherd)" -N "$NS" woof put w --handler h --hex 01
expect 0 "put without a handler" -N "$NS" woof put w --hex 02

# --timeout 1: exit 1 after about a second, saying what it waited for
t0=$(now_ms)
expect 1 "put --timeout 1 over a pending slot fails" -N "$NS" woof put w --hex 03 --timeout 1
ms=$(( $(now_ms) - t0 ))
if [ $ms -ge 1000 ] && [ $ms -lt 5000 ]; then
	pass "it gave up after $ms ms"
else
	fail "it gave up after $ms ms, not 1-5 s"
fi
err_has "it said what it waits for, within the second" "^woofctl: put w: $WAITING"
err_has "its error names the timeout" "^woofctl: put w: timed out after 1 s, nothing appended: $WAITING"
[ "$(latest)" = 2 ] && pass "nothing appended" || fail "latest is $(latest), not 2"

# a short timeout fails before the note: only the error, which says it all
expect 1 "put --timeout 0.2 fails" -N "$NS" woof put w --hex 03 --timeout 0.2
[ "$(grep -c . "$ERR")" = 1 ] && pass "one line on stderr" || fail "$(grep -c . "$ERR") lines on stderr"
err_has "the error says what it waited for" "timed out after 0.2 s, nothing appended: $WAITING"

# without --timeout: the note comes within a second, and it keeps waiting
"$WOOFCTL" -N "$NS" woof put w --hex 03 >"$OUT" 2>"$ERR" &
BG=$!
t0=$(now_ms)
while ! grep -q "waiting for room" "$ERR" && [ $(( $(now_ms) - t0 )) -lt 5000 ]; do
	sleep 0.02
done
ms=$(( $(now_ms) - t0 ))
if grep -Eq "^woofctl: put w: $WAITING" "$ERR" && [ $ms -lt 1000 ]; then
	pass "a put without --timeout said what it waits for after $ms ms"
else
	fail "no 'waiting for' note within a second ($ms ms)"
fi
kill -0 "$BG" 2>/dev/null && pass "and it keeps waiting" || fail "it did not keep waiting"
kill "$BG"
wait "$BG" 2>/dev/null
BG=
[ "$(latest)" = 2 ] && pass "nothing appended" || fail "latest is $(latest), not 2"

# a put that does not wait is not bounded by anything
expect 0 "create v" -N "$NS" woof create v --element-size 8 --history 2
expect 0 "put --timeout 0 with room" -N "$NS" woof put v --hex 01 --timeout 0
[ -s "$ERR" ] && fail "a put with room wrote to stderr" || pass "and said nothing on stderr"

# bad values
expect 2 "--timeout abc is a usage error" -N "$NS" woof put v --hex 01 --timeout abc
expect 2 "--timeout -1 is a usage error" -N "$NS" woof put v --hex 01 --timeout -1
expect 2 "--timeout '' is a usage error" -N "$NS" woof put v --hex 01 --timeout ''

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
