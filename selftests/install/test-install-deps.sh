#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-install-deps.sh - tools/install-deps.sh waits for apt's locks and
# shows apt-get's progress, without installing anything.
#
# A holder takes the lock with flock(1) - /var/lib/dpkg/lock-frontend
# itself when run as root, else a file of the test's own (WOOF_APT_LOCKS) -
# and says so through a file; then:
#   1. install-deps.sh --wait-locks says it waits, naming the holder's pid
#      and program, is still waiting, and goes on (exit 0) once the holder
#      lets go;
#   2. with WOOF_APT_LOCK_WAIT=1 it gives up (exit 1) and says who holds it;
#   3. a full run with stand-in apt-get and dpkg-query early in PATH (every
#      package "missing"): apt-get is not called while the lock is held, is
#      called after, with -o DPkg::Lock::Timeout and without -qq, and its
#      output (the progress lines) reaches the terminal.
# Every step synchronises on what the scripts write, not on sleeps.
#
# Usage: test-install-deps.sh SOURCE_DIR
set -u
[ $# -eq 1 ] || { echo "usage: $0 SOURCE_DIR" >&2; exit 2; }
SRC=$(realpath "$1")
command -v flock >/dev/null || { echo "SKIP: no flock(1)"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/test-install-deps.XXXXXX") || exit 1
HOLDER=
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

passed=0
failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1${2:+ ($2)}"; failed=$((failed + 1)); }
# wait_for FILE REGEX SECONDS: until FILE matches (polls the file)
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

if [ "$(id -u)" = 0 ] && [ -e /var/lib/dpkg/lock-frontend ]; then
	LOCK=/var/lib/dpkg/lock-frontend
	unset WOOF_APT_LOCKS	# the real list
else
	LOCK=$T/lock-frontend
	: >"$LOCK"
	export WOOF_APT_LOCKS="$LOCK"
fi
echo "# lock: $LOCK"

# hold LOCK until "$T/release" is written
hold() {
	rm -f "$T/held" "$T/release"
	mkfifo "$T/release"
	flock "$LOCK" sh -c 'echo "$PPID" >"$1/held"; read -r x <"$1/release"' sh "$T" &
	HOLDER=$!
	wait_for "$T/held" . 10 || { fail "the holder took the lock"; return 1; }
}
release() {
	echo go >"$T/release"
	wait "$HOLDER" 2>/dev/null
	HOLDER=
}

# ---- 1. --wait-locks waits, names the holder, goes on -------------------------------
hold || exit 1
WOOF_APT_LOCK_WAIT=120 "$SRC/tools/install-deps.sh" --wait-locks 2>"$T/wait.log" &
W=$!
if wait_for "$T/wait.log" "waiting for apt's locks" 10; then
	pass "install-deps says it waits for apt's locks"
else
	fail "install-deps says it waits for apt's locks" "$(cat "$T/wait.log")"
fi
hpid=$(cat "$T/held")
grep -q "$LOCK: pid $hpid (flock)" "$T/wait.log" &&
	pass "it names the lock file, the holder's pid and program" ||
	fail "it names the lock file, the holder's pid and program" "$(cat "$T/wait.log")"
kill -0 "$W" 2>/dev/null && pass "it is still waiting while the lock is held" ||
	fail "it is still waiting while the lock is held"
release
wait "$W"
rc=$?
[ "$rc" = 0 ] && pass "it goes on (exit 0) once the lock is free" ||
	fail "it goes on (exit 0) once the lock is free" "exit $rc"
grep -q "apt's locks are free after" "$T/wait.log" && pass "it says the locks are free" ||
	fail "it says the locks are free" "$(cat "$T/wait.log")"

# ---- 2. it gives up after WOOF_APT_LOCK_WAIT seconds -----------------------------------
hold || exit 1
WOOF_APT_LOCK_WAIT=1 "$SRC/tools/install-deps.sh" --wait-locks 2>"$T/giveup.log"
rc=$?
[ "$rc" = 1 ] && pass "it gives up after WOOF_APT_LOCK_WAIT (exit 1)" ||
	fail "it gives up after WOOF_APT_LOCK_WAIT (exit 1)" "exit $rc"
grep -q "gave up after .* held by" "$T/giveup.log" && grep -q "pid $(cat "$T/held") (flock)" "$T/giveup.log" &&
	pass "giving up, it says who holds the lock" ||
	fail "giving up, it says who holds the lock" "$(cat "$T/giveup.log")"

# ---- 3. a run with stand-in apt-get and dpkg-query: nothing is installed ----------------
mkdir -p "$T/bin"
cat >"$T/bin/dpkg-query" <<'EOS'
#!/bin/sh
exit 1
EOS
cat >"$T/bin/apt-get" <<EOS
#!/bin/sh
echo "\$*" >>"$T/apt-get.calls"
echo "Unpacking stand-in-package ..."
echo "Setting up stand-in-package ..."
EOS
cat >"$T/bin/sudo" <<'EOS'
#!/bin/sh
exec "$@"
EOS
chmod +x "$T/bin/"*
PATH="$T/bin:$PATH" WOOF_APT_LOCK_WAIT=120 "$SRC/tools/install-deps.sh" demo >"$T/run.out" 2>"$T/run.log" &
W=$!
wait_for "$T/run.log" "waiting for apt's locks" 10 && pass "a run waits for apt's locks" ||
	fail "a run waits for apt's locks" "$(cat "$T/run.log")"
[ ! -e "$T/apt-get.calls" ] && pass "apt-get is not called while the lock is held" ||
	fail "apt-get is not called while the lock is held" "$(cat "$T/apt-get.calls")"
release
wait "$W"
rc=$?
[ "$rc" = 0 ] && pass "the run goes on once the lock is free" || fail "the run goes on once the lock is free" "exit $rc"
if grep -q "DPkg::Lock::Timeout=" "$T/apt-get.calls" 2>/dev/null &&
	[ "$(grep -c . "$T/apt-get.calls")" = 2 ]; then
	pass "apt-get update and install, each with DPkg::Lock::Timeout"
else
	fail "apt-get update and install, each with DPkg::Lock::Timeout" "$(cat "$T/apt-get.calls" 2>/dev/null)"
fi
! grep -q -- "-qq" "$T/apt-get.calls" 2>/dev/null && pass "apt-get is not silenced (-qq)" ||
	fail "apt-get is not silenced (-qq)"
grep -q "Unpacking stand-in-package" "$T/run.out" "$T/run.log" && pass "apt-get's progress is shown" ||
	fail "apt-get's progress is shown"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
