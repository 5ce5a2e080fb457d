#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-handler-prefix.sh - woof installed under a prefix outside /usr runs
# handlers built the documented way.
#
# Configures this source tree with --prefix=/tmp/woofprefix.XXXXXX (a real
# prefix: the files live there, not in a DESTDIR), builds and installs it,
# builds apps/hello-world/hw.c with that prefix's pkg-config,
#   cc hw.c $(pkg-config --cflags --libs woof-handler) -o hw
# and runs it through that prefix's dispatcherd (as root; the handler runs
# as nobody, the namespace's owner). dispatcherd's sandbox shows handlers
# /usr, /lib, /etc and their namespace only, so the handler must not need
# the prefix's libwoof.so: woof-handler.pc links libwoof statically. Also
# checks that the installed woofctl and dispatcherd find the prefix's
# libwoof.so (rpath) without LD_LIBRARY_PATH.
#
# Usage: test-handler-prefix.sh SOURCE_DIR
# Exit 0 pass, 1 fail, 77 skip (not root, no cc/pkg-config).
set -u

skip() { echo "SKIP: $*"; exit 77; }
[ $# -eq 1 ] || { echo "usage: $0 SOURCE_DIR" >&2; exit 2; }
SRC=$(realpath "$1")
[ "$(id -u)" = 0 ] || skip "needs root (dispatcherd as root)"
command -v cc >/dev/null || skip "no cc"
command -v pkg-config >/dev/null || skip "no pkg-config"
command -v setpriv >/dev/null || skip "no setpriv"

P=$(mktemp -d /tmp/woofprefix.XXXXXX) || exit 1
chmod 755 "$P"
B=$P.build
T=$P.test
mkdir -p "$T"
chmod 755 "$T"
DPID=
cleanup() {
	if [ -n "$DPID" ]; then kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; fi
	if [ "${WOOF_TEST_KEEP:-0}" = 1 ]; then echo "kept $P $B $T"; else rm -rf "$P" "$B" "$T"; fi
}
trap cleanup EXIT

passed=0
failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1${2:+ ($2)}"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
wait_until() {	# SECONDS CMD...: until CMD succeeds
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

echo "# prefix $P"
if meson setup "$B" "$SRC" --prefix="$P" -Dtests=false -Ddocs=disabled -Dkmod=disabled \
	>"$T/setup.log" 2>&1 && nice ninja -C "$B" >"$T/build.log" 2>&1 &&
	meson install -C "$B" --quiet >"$T/install.log" 2>&1; then
	pass "configure, build and install with --prefix=$P"
else
	tail -20 "$T"/*.log
	fail "configure, build and install with --prefix=$P"
	finish
fi

WOOFCTL=$P/bin/woofctl
DISPATCHERD=$P/sbin/dispatcherd
pcdir=$(dirname "$(find "$P" -name woof-handler.pc | head -1)")
[ -f "$pcdir/woof-handler.pc" ] && pass "woof-handler.pc is installed" || fail "woof-handler.pc is installed"
export PKG_CONFIG_PATH=$pcdir
unset LD_LIBRARY_PATH WOOFC_DIR

# the installed programs find the prefix's libwoof.so by themselves
if "$WOOFCTL" version >"$T/v" 2>&1; then pass "the installed woofctl runs"; else fail "the installed woofctl runs" "$(head -1 "$T/v")"; fi
lib=$(ldd "$DISPATCHERD" | awk '/libwoof\.so/ { print $3 }')
case $lib in
"$P"/*) pass "dispatcherd loads the prefix's libwoof.so ($lib)" ;;
*) fail "dispatcherd loads the prefix's libwoof.so" "ldd says '$lib'" ;;
esac

# the documented one-line build of a handler
NS=$T/ns
"$WOOFCTL" ns init "$NS" >/dev/null || fail "ns init"
# shellcheck disable=SC2046
if cc -I"$SRC/apps/hello-world" "$SRC/apps/hello-world/hw.c" \
	$(pkg-config --cflags --libs woof-handler) -o "$NS/hw" 2>"$T/cc.log"; then
	pass "cc hw.c \$(pkg-config --cflags --libs woof-handler) -o hw"
else
	fail "cc hw.c \$(pkg-config --cflags --libs woof-handler) -o hw" "$(head -3 "$T/cc.log")"
	finish
fi
if ldd "$NS/hw" | grep -q libwoof; then
	fail "the handler needs no libwoof.so at run time" "$(ldd "$NS/hw" | grep libwoof)"
else
	pass "the handler needs no libwoof.so at run time"
fi

# run it through the prefix's dispatcherd: the handler runs as nobody
"$WOOFCTL" -N "$NS" woof create hello --element-size 255 --history 16 >/dev/null ||
	fail "woof create"
chown -R 65534:65534 "$NS"
"$DISPATCHERD" -N "$NS" 2>"$T/dispatcherd.log" &
DPID=$!
if wait_until 30 grep -q "notice: ready" "$T/dispatcherd.log"; then
	pass "the prefix's dispatcherd is ready"
else
	fail "the prefix's dispatcherd is ready" "$(tail -3 "$T/dispatcherd.log")"
	finish
fi
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$WOOFCTL" -N "$NS" woof put hello --handler hw --hex "$(printf 'from-prefix' | od -An -tx1)" \
	>/dev/null || fail "put with the handler hw"
call_done() {
	"$WOOFCTL" -j -N "$NS" trigger ls >"$T/triggers" 2>/dev/null &&
		python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["counts"].get("done",0)+d["counts"].get("failed",0) >= 1 else 1)' <"$T/triggers"
}
if wait_until 60 call_done; then pass "the call ended"; else fail "the call ended" "$(cat "$T/triggers")"; fi
"$WOOFCTL" -N "$NS" logs >"$T/logs" 2>&1
if grep -q "hello world" "$T/logs" && grep -q "with string: from-prefix" "$T/logs"; then
	pass "the handler ran and printed its greeting"
else
	fail "the handler ran and printed its greeting" "$(head -5 "$T/logs")"
fi
if grep -q "cannot open shared object file" "$T/logs"; then
	fail "no 'cannot open shared object file'" "$(grep -m1 'cannot open' "$T/logs")"
else
	pass "no 'cannot open shared object file'"
fi
python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["counts"].get("done",0) == 1 else 1)' \
	<"$T/triggers" && pass "the call is done, not failed" || fail "the call is done, not failed" "$(cat "$T/triggers")"
finish
