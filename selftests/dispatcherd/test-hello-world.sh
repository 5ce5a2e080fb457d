#!/bin/bash
# SPDX-License-Identifier: MIT
# test-hello-world.sh - CSPOT's hello-world end to end through dispatcherd:
# hw (hw.c linked with the shepherd) is the handler file "hw" in the
# namespace; hw-start and hw-client put with "hw" named; the handler's two
# lines must appear in the namespace log (.woof/log) for seq 1 and 2, and
# both calls must be recorded done. Also builds hw.c with the documented
# one-liner (pkg-config woof-handler) when the uninstalled .pc is there.
. "$(dirname "$0")/test_common.sh"
: "${HW_DIR:?}"

cp "$HW_DIR/hw" "$NS/hw" || fail "no hw handler program in $HW_DIR"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/hw"
start_daemon
cd "$NS" || fail "cd"
as_user "$HW_DIR/hw-start" -W hello-woof | grep -q "at seq_no 1" || fail "hw-start"
as_user "$HW_DIR/hw-client" -W hello-woof | grep -q "at seq_no 2" || fail "hw-client"
wait_final 2 20 || fail "two calls did not end within 20 s"

log=$("$DISPATCHERD_DUMP" -N "$NS" log -r)
echo "$log" | sed 's/^/    log: /'
[ "$(echo "$log" | grep -c '^hello world$')" = 2 ] || fail "'hello world' not twice in the log"
echo "$log" | grep -qx "from woof hello-woof at 1 with string: my first bark" ||
	fail "first bark missing from the log"
echo "$log" | grep -qx "from woof hello-woof at 2 with string: my second bark" ||
	fail "second bark missing from the log"
[ "$(count_records 'trigger=[12] .*state=done reason=none exit=0 ')" = 2 ] ||
	fail "the two calls are not recorded done with exit 0"
# the status file is rewritten at most every 50 ms after a change: wait for it
wait_for 10 grep -q "^handler hw runtime=exec .* done=2 failed=0" "$NS/.woof/status" ||
	fail "status file does not show hw with 2 done: $(grep '^handler hw' "$NS/.woof/status")"
ok "hello-world through dispatcherd"

# the one-line build of a handler (Documentation/dispatcherd.md)
build=$(dirname "$HW_DIR")/..
pcdir=$(cd "$build" && pwd)/meson-uninstalled
src=$(dirname "$0")/../../apps/hello-world
if [ -r "$pcdir/woof-handler-uninstalled.pc" ] && command -v "${CC:-cc}" >/dev/null; then
	flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs woof-handler) ||
		fail "pkg-config woof-handler"
	# the sandbox shows handlers /usr and the namespace, not this build tree:
	# the uninstalled libwoof.so goes next to the handler ($ORIGIN)
	cp -P "$WOOF_LIBDIR"/libwoof.so.0 "$WOOF_LIBDIR"/libwoof.so.0.*[0-9] "$NS/" || fail "copy libwoof.so"
	# shellcheck disable=SC2086
	"${CC:-cc}" "$src/hw.c" $flags -Wl,-rpath,'$ORIGIN' -o "$NS/hw" ||
		fail "one-line build: cc hw.c \$(pkg-config --cflags --libs woof-handler)"
	as_user "$HW_DIR/hw-client" -W hello-woof >/dev/null || fail "hw-client (2)"
	wait_final 3 20 || fail "third call did not end"
	"$DISPATCHERD_DUMP" -N "$NS" log -r | grep -qx "from woof hello-woof at 3 with string: my second bark" ||
		fail "the pkg-config-built hw did not print"
	ok "hw built with pkg-config woof-handler runs"
else
	echo "note: no uninstalled woof-handler.pc; one-line build not checked"
fi
stop_daemon || fail "dispatcherd exit status $? after SIGTERM"
ok "clean stop"
