#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-disk-full.sh - a full filesystem fails the creation of a file with
# ENOSPC and a clear message, never a later store through a mapping with
# SIGBUS (Documentation/format.md, "Space"). In a private mount namespace
# the namespace directory is a 64 MiB tmpfs; before each step the test
# fills it to the last page and checks that
#   - woofctl woof create fails (exit 1, "No space left on device"),
#   - the first put of a process, which makes .woof/owners, fails so,
#   - the first put naming a handler, which makes .woof/triggers, fails so,
#   - dispatcherd, making .woof/calls, and then the spool ring
#     .woof/spool/ring-v1, logs which file and exits 1,
# that none of them dies of a signal, and that with room again everything
# works: the put, a call of a handler, the records.
#
# Needs root (unshare -m, mount); exit 77 otherwise.
set -u

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (a private mount namespace with a small tmpfs)"
	exit 77
fi
command -v unshare >/dev/null || { echo "SKIP: no unshare(1)"; exit 77; }
if [ -z "${WOOF_DISK_FULL_INNER:-}" ]; then
	export WOOF_DISK_FULL_INNER=1
	exec unshare -m --propagation private "$0" "$@"
fi

. "$(dirname "$0")/test_common.sh"
: "${WOOFCTL:?}"

mount -t tmpfs -o size=64m,mode=755,uid=65534,gid=65534 woof-disk-full "$NS" ||
	skip "cannot mount a tmpfs on $NS"
trap 'cleanup 2>/dev/null; umount "$NS"; rmdir "$NS"; rm -f "$OUT"' EXIT
OUT=$NS.out

fill() {
	dd if=/dev/zero of="$NS/fill" bs=4k >/dev/null 2>&1
	[ "$(stat -f -c %a "$NS")" = 0 ] || fail "could not fill $NS"
}
unfill() { rm -f "$NS/fill"; }

# expect_enospc WHAT CMD...: CMD fails with exit 1 and ENOSPC on stderr
expect_enospc() {
	local what=$1 rc
	shift
	"$@" >"$OUT" 2>&1
	rc=$?
	[ $rc -ge 128 ] && fail "$what: killed by signal $((rc - 128)) on a full disk: $(cat "$OUT")"
	[ $rc = 1 ] || fail "$what: exit $rc on a full disk, not 1: $(cat "$OUT")"
	grep -q "No space left on device" "$OUT" || fail "$what: no clear error: $(cat "$OUT")"
	ok "$what: $(head -n 1 "$OUT")"
}

wctl() { as_user "$WOOFCTL" -N "$NS" "$@"; }

install_handler spare
# 1. creating a WOOF
fill
expect_enospc "woof create" wctl woof create w --element-size 64 --history 4
ls -A "$NS" | grep -q '^\.woof-tmp' && fail "a temporary file was left behind"
unfill
wctl woof create w --element-size 64 --history 4 >/dev/null || fail "create with room"

# 2. the first put: .woof/owners
fill
expect_enospc "first put (.woof/owners)" wctl woof put w --hex 01
unfill
wctl woof put w --hex 01 >/dev/null || fail "put with room"

# 3. the first put naming a handler: .woof/triggers
fill
expect_enospc "first put with a handler (.woof/triggers)" wctl woof put w --handler spare --hex 02
unfill

# 4. dispatcherd: .woof/calls (its first file)
fill
"$DISPATCHERD" -N "$NS" -v >"$DLOG" 2>&1
rc=$?
[ $rc -ge 128 ] && fail "dispatcherd killed by signal $((rc - 128)) on a full disk"
[ $rc = 1 ] || fail "dispatcherd: exit $rc on a full disk, not 1"
grep -q "\.woof/calls: No space left on device" "$DLOG" || fail "dispatcherd did not say which file"
ok "dispatcherd, .woof/calls: $(grep -m1 'calls: No space' "$DLOG")"
unfill

# 5. dispatcherd: the spool ring (with calls, log and triggers already made)
start_daemon
stop_daemon || fail "dispatcherd did not stop cleanly"
[ -f "$NS/.woof/spool/ring-v1" ] || fail "no spool ring"
rm -f "$NS/.woof/spool/ring-v1"
fill
: >"$DLOG"
"$DISPATCHERD" -N "$NS" -v >>"$DLOG" 2>&1 &
DPID=$!
# Without the ring's blocks reserved, dispatcherd starts and dies of SIGBUS
# at its first copy to the ring: give it one (the put itself needs no new
# block: the WOOF, the trigger log and the owners table are all allocated).
wait_for 30 eval "daemon_ready || ! kill -0 $DPID" || fail "dispatcherd neither ready nor gone"
if daemon_ready; then
	wctl woof put w --handler spare --hex 03 >/dev/null || fail "put to allocated files"
	wait_for 30 eval "! kill -0 $DPID" || fail "dispatcherd started on a full disk (sparse spool ring)"
fi
wait "$DPID"
rc=$?
DPID=
[ $rc -ge 128 ] && fail "dispatcherd killed by signal $((rc - 128)) on a full disk"
[ $rc = 1 ] || fail "dispatcherd: exit $rc on a full disk, not 1"
grep -q "spool: No space left on device" "$DLOG" || fail "dispatcherd did not say which file"
ok "dispatcherd, spool ring: $(grep -m1 'No space' "$DLOG")"
unfill

# 6. with room again everything works
start_daemon
wctl woof put w --handler spare --hex 04 >/dev/null || fail "put with a handler, with room"
wait_final 1 30 || fail "the call did not end"
[ "$(count_records 'state=done ')" -ge 1 ] || fail "the call did not succeed"
ok "with room: put, call and records work"
echo "PASS"
