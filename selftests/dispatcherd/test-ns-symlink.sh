#!/bin/bash
# SPDX-License-Identifier: MIT
# test-ns-symlink.sh - a handler that owns its namespace (the default: it
# runs as the directory's owner) renames .woof away and puts a symbolic
# link in its place - to another namespace's .woof, or to any directory.
# Restarted, dispatcherd refuses the namespace with a clear log line and
# creates or writes nothing in the link's target (issue 11, item 2). Run
# as root, also: woof.conf as the namespace user's link, and the namespace
# directory itself replaced by a link.
. "$(dirname "$0")/test_common.sh"

OTHER=$(mktemp -d "${TMPDIR:-/tmp}/woof-disp-other-XXXXXX") || fail "mktemp"
PLAIN=$(mktemp -d "${TMPDIR:-/tmp}/woof-disp-plain-XXXXXX") || fail "mktemp"
trap 'rm -rf "$OTHER" "$PLAIN"; cleanup' EXIT
"$DISP_TOOL" -N "$OTHER" create x 4 >/dev/null || fail "other namespace"
"$DISP_TOOL" -N "$OTHER" put x - 1 1 >/dev/null || fail "other namespace: put"

listing() { (cd "$1" && find . -printf '%p %s %T@\n' | sort); }

cat >"$NS/swap" <<'SH'
#!/bin/sh
# the attack: .woof away, a symbolic link in its place
cd "$WOOFC_DIR" || exit 1
mv .woof .woof.moved && ln -s "$(cat target)" .woof && echo swapped >swap.out
SH
chmod 755 "$NS/swap"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/swap"
tool create w 4 || fail "create"

attack() {	# $1: the link's target
	local before after
	echo "$1" >"$NS/target"
	[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/target"
	before=$(listing "$1")
	: >"$DLOG"
	start_daemon
	tool put w swap 1 1 || fail "put swap"
	wait_for 20 test -s "$NS/swap.out" || fail "the swap handler did not run"
	[ -L "$NS/.woof" ] || fail ".woof is not the link"
	stop_daemon
	"$DISPATCHERD" -N "$NS" >"$NS.out" 2>&1
	rc=$?
	sed 's/^/    /' "$NS.out"
	after=$(listing "$1")
	[ "$before" = "$after" ] || fail "dispatcherd created or wrote in $1:
$(diff <(echo "$before") <(echo "$after"))"
	[ $rc = 1 ] || fail "dispatcherd served a namespace whose .woof is a link (status $rc)"
	grep -q "$NS/.woof is a symbolic link, not the namespace's bookkeeping directory: refusing" "$NS.out" ||
		fail "no clear log line"
	# a client's put (libwoof) does not create owners or triggers there either
	as_user "$DISP_TOOL" -N "$NS" put w - 2 2 2>/dev/null && fail "a put through the link succeeded"
	as_user "$DISP_TOOL" -N "$NS" put w swap 3 3 2>/dev/null && fail "a put through the link succeeded"
	after=$(listing "$1")
	[ "$before" = "$after" ] || fail "libwoof wrote in $1"
	# put it back
	rm -f "$NS/.woof" "$NS/swap.out" "$NS.out" && mv "$NS/.woof.moved" "$NS/.woof" || fail "restore"
}

attack "$OTHER/.woof"
ok "link to another namespace's .woof: refused, nothing written there"
attack "$PLAIN"
ok "link to a plain directory: refused, nothing created there"

start_daemon
tool put w - 4 4 || fail "put after restoring .woof"
ok "with .woof restored the namespace is served again"
stop_daemon || fail "exit status $?"

# woof.conf as a link (to a file only root may read): not followed, nothing
# of the file shows in the log
if [ ${#AS[@]} != 0 ]; then
	SECRET=$(mktemp "${TMPDIR:-/tmp}/woof-disp-secret-XXXXXX") || fail "mktemp"
	printf '[namespace]\nsecret_line_xyzzy = 1\n' >"$SECRET" && chmod 600 "$SECRET"
	as_user ln -s "$SECRET" "$NS/woof.conf" || fail "link woof.conf"
	timeout -s KILL 15 "$DISPATCHERD" -N "$NS" >"$NS.out" 2>&1
	rc=$?
	sed 's/^/    /' "$NS.out"
	rm -f "$NS/woof.conf" "$SECRET"
	! grep -q xyzzy "$NS.out" || fail "dispatcherd read root's file through the namespace's link"
	[ $rc = 1 ] || fail "dispatcherd started with woof.conf a link (status $rc)"
	grep -q "woof.conf: a symbolic link that root did not make: not followed" "$NS.out" ||
		fail "no clear log line for woof.conf"
	rm -f "$NS.out"
	ok "woof.conf as another user's link: not followed"
fi

# The namespace's user replaces the namespace directory itself with a link
# (it owns the directory; /tmp lets it rename its own entry): a root
# dispatcherd named the old path serves nothing through a link of another
# user's to a directory that is not that user's.
if [ ${#AS[@]} != 0 ]; then
	before=$(listing "$PLAIN")
	as_user mv "$NS" "$NS.real" && as_user ln -s "$PLAIN" "$NS" || fail "replace the namespace"
	# (a dispatcherd that serves it runs until the timeout)
	timeout -s KILL 15 "$DISPATCHERD" -N "$NS" >"$NS.out" 2>&1
	rc=$?
	sed 's/^/    /' "$NS.out"
	after=$(listing "$PLAIN")
	rm -f "$NS" && mv "$NS.real" "$NS" || fail "restore the namespace"
	[ "$before" = "$after" ] || fail "dispatcherd created or wrote in $PLAIN:
$(diff <(echo "$before") <(echo "$after"))"
	[ $rc = 1 ] || fail "dispatcherd served a namespace through another user's link (status $rc)"
	grep -q "the path leads through $NS (a symbolic link of uid 65534), which is neither root's nor the namespace owner's: refusing" "$NS.out" ||
		fail "no clear log line"
	rm -f "$NS.out"
	ok "a namespace replaced by another user's link to root's directory: refused"
fi
