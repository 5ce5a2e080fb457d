#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-runs-test-sim.sh - the runs-test handlers against runstat-local,
# without dispatcherd: runstat-start creates a run in a fresh namespace,
# runstat-sim calls RHandler, SHandler and KHandler in-process (in
# shuffled order, with some calls delivered twice), runstat-wait reads the
# result; its output (every sample's statistic and the KS result) must be
# identical to runstat-local's for the same options. Also: runstat-wait
# times out with a progress report when nothing runs.
#
# Usage: test-runs-test-sim.sh DIR   (DIR holds runstat-start, runstat-sim,
#                                     runstat-wait and runstat-local)
# Prints one line per check and "N passed, N failed"; exits 1 if any failed.
#
# Keep the runs small: nothing serves the namespace's trigger log here, and
# its puts would wait once it is full (16384 triggers).

set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 DIR-WITH-RUNSTAT-PROGRAMS" >&2
	exit 2
fi
D=$(realpath "$1")
for p in runstat-start runstat-sim runstat-wait runstat-local; do
	[ -x "$D/$p" ] || { echo "$0: $D/$p is missing" >&2; exit 2; }
done
unset WOOFC_DIR
T=$(mktemp -d "${TMPDIR:-/tmp}/test-runs-sim.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

passed=0
failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1${2:+ ($2)}"; failed=$((failed + 1)); }

# run NAME SIM-ARGS -- START-ARGS: one run, compared with runstat-local
n=0
run() {
	local sim_args=() start_args=() local_args=() ns
	while [ "$1" != "--" ]; do sim_args+=("$1"); shift; done
	shift
	start_args=("$@")
	while [ $# -gt 0 ]; do
		case $1 in
		-b) shift 2 ;;
		*) local_args+=("$1"); shift ;;
		esac
	done
	n=$((n + 1))
	ns=$T/ns$n
	mkdir "$ns"
	local desc="start ${start_args[*]}, sim ${sim_args[*]}"
	if ! "$D/runstat-start" -N "$ns" -W run "${start_args[@]}" >"$T/start" 2>"$T/err" ||
	   ! "$D/runstat-sim" -N "$ns" -W run "${sim_args[@]}" >"$T/sim" 2>>"$T/err" ||
	   ! "$D/runstat-wait" -N "$ns" -W run -t 5 -v >"$T/pipe" 2>>"$T/err"; then
		fail "$desc" "a program failed"
		sed 's/^/       /' "$T/err" | head -5
		return
	fi
	"$D/runstat-local" -v "${local_args[@]}" >"$T/local"
	if cmp -s "$T/pipe" "$T/local"; then
		pass "$desc: identical to runstat-local ($(awk '$1 == "ks:" { print $3, $NF }' "$T/local"))"
	else
		fail "$desc" "differs from runstat-local"
		diff "$T/local" "$T/pipe" | head -6 | sed 's/^/       /'
	fi
}

run -- -s 100 -c 20 -S 1
run -r 1 -d 20 -- -s 100 -c 20 -S 1
run -r 2 -d 30 -- -s 37 -c 25 -S 9 -b 13
run -r 3 -d 10 -- -s 10 -c 60 -S 3 -b 1
run -r 4 -d 25 -- -s 10 -c 150 -S 5 -b 1500
run -r 5 -d 20 -- -s 1000 -c 5 -S 77 -b 333
run -r 6 -d 20 -- -s 50 -c 30 -S 11 -B
run -r 7 -- -s 64 -c 20 -S 0

# the result is there exactly once, whatever was delivered twice
if "$D/runstat-wait" -N "$T/ns2" -W run -t 0 >/dev/null 2>&1; then
	pass "runstat-wait on a finished run returns at once"
else
	fail "runstat-wait on a finished run returns at once"
fi

# nothing runs the handlers: runstat-wait gives up and says how far it got
mkdir "$T/idle"
"$D/runstat-start" -N "$T/idle" -W idle -s 10 -c 3 >/dev/null
"$D/runstat-wait" -N "$T/idle" -W idle -t 1 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'no result after 1 s' "$T/err" && grep -q 'idle.sample 0 numbers' "$T/err"; then
	pass "runstat-wait times out with a progress report"
else
	fail "runstat-wait times out with a progress report" "exit $rc: $(head -1 "$T/err")"
fi

# runstat-wait on something that is not a run
"$D/runstat-wait" -N "$T/idle" -W nothing -t 0 >/dev/null 2>&1
rc=$?
if [ $rc -eq 1 ]; then pass "runstat-wait on a missing run: exit 1"; else fail "runstat-wait on a missing run: exit 1" "exit $rc"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
