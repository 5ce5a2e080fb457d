#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test_common.sh - shared by the dispatcherd tests (sourced): a fresh
# namespace per test, starting and stopping the real daemon, waiting with a
# deadline, and failing with the daemon's log and records attached.
#
# The programs come from the environment meson sets (selftests/dispatcherd/
# meson.build): DISPATCHERD, DISPATCHERD_DUMP, DISP_TOOL, DISP_HANDLERS,
# HW_DIR. Exit codes: 0 pass, 1 fail, 77 skip.
set -u

: "${DISPATCHERD:?set DISPATCHERD (run through meson test)}"
: "${DISPATCHERD_DUMP:?}" "${DISP_TOOL:?}" "${DISP_HANDLERS:?}"

NS=$(mktemp -d "${TMPDIR:-/tmp}/woof-disp-XXXXXX") || exit 1
DLOG=$NS.dispatcherd.log
DPID=
# Run as root, dispatcherd starts handlers as the namespace's owner: make
# the namespace nobody's, and be nobody when putting (as its user would be).
AS=()
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "SKIP: root without setpriv(1)"; exit 77; }
	AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	chown 65534:65534 "$NS"
fi
chmod 755 "$NS"
export WOOF_QUIET=1
unset WOOFC_DIR

skip() { echo "SKIP: $*"; exit 77; }

show_state() {
	echo "---- $NS"
	ls -la "$NS" "$NS/.woof" 2>&1 | head -n 30
	echo "---- dispatcherd log ($DLOG)"
	tail -n 40 "$DLOG" 2>/dev/null
	echo "---- .woof/status"
	head -n 40 "$NS/.woof/status" 2>&1
	echo "---- last call records"
	"$DISPATCHERD_DUMP" -N "$NS" calls 2>&1 | tail -n 20
}

fail() {
	echo "FAIL: $*"
	show_state
	exit 1
}

ok() { echo "ok - $*"; }

# pids of handlers the status file lists as running
running_pids() {
	sed -n 's/^call .* state=running .*pid=\([0-9]*\) .*/\1/p' "$NS/.woof/status" 2>/dev/null
}

cleanup() {
	local pids
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		pids=$(running_pids)
		# twice: the second SIGTERM makes dispatcherd kill its running calls
		kill -TERM "$DPID" 2>/dev/null
		# the second one counts once the first was taken (state stopping)
		wait_for 5 eval "grep -qE '^state (stopping|stopped)' '$NS/.woof/status' || ! kill -0 $DPID"
		kill -TERM "$DPID" 2>/dev/null
		wait_for 5 eval "! kill -0 $DPID"
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		# handlers of a daemon that did not get to kill them: by pid
		for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	fi
	if [ "${WOOF_TEST_KEEP:-0}" = 1 ]; then
		echo "kept $NS and $DLOG"
	else
		rm -rf "$NS" "$DLOG"
	fi
}
trap cleanup EXIT

# install_handler NAME...: the test handler program as NAME in the namespace
install_handler() {
	for h in "$@"; do
		cp "$DISP_HANDLERS" "$NS/$h" || fail "cannot install handler $h"
		[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/$h"
	done
}

# as_user CMD...: run CMD as the namespace's user
as_user() { "${AS[@]}" "$@"; }

# wait_for SECONDS CMD...: run CMD until it succeeds (tests may poll; the daemon never does)
wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
		sleep 0.05
	done
}

daemon_ready() { grep -q "ready: pid $DPID" "$DLOG"; }

# start_daemon [ARGS...]: dispatcherd for $NS in the background, wait for READY
start_daemon() {
	# DISP_DAEMON_ARGS: e.g. --io-fallback (the kernel 6.1 paths)
	# shellcheck disable=SC2086
	"$DISPATCHERD" -N "$NS" -v ${DISP_DAEMON_ARGS:-} "$@" >>"$DLOG" 2>&1 &
	DPID=$!
	# in the TCG guest (WOOF_VM=1) creating the record WOOFs alone can take
	# tens of seconds on a busy host
	local t=30
	[ -n "${WOOF_VM:-}" ] && t=180
	wait_for $t daemon_ready || fail "dispatcherd did not get ready within $t s"
}

# stop_daemon: SIGTERM and wait; prints nothing, returns its exit status
stop_daemon() {
	local rc
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	rc=$?
	DPID=
	return $rc
}

# count_records PATTERN: call records (dispatcherd-dump calls) matching an ERE
count_records() {
	"$DISPATCHERD_DUMP" -N "$NS" calls | grep -cE "$1"
}

# final_records: records that end a call
final_records() {
	count_records 'state=(done|failed|orphan) '
}

# wait_final N SECONDS: until N calls have ended
wait_final() {
	local n=$1
	have_final() { [ "$(final_records)" -ge "$n" ]; }
	wait_for "$2" have_final
}

tool() { "${AS[@]}" "$DISP_TOOL" -N "$NS" "$@"; }
