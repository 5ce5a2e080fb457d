#!/bin/bash
# SPDX-License-Identifier: MIT
# test-ns-perms.sh - one permission model (issue 11, items 3 and 4).
#
#  1. user = root, 0 and 0:0 in woof.conf are refused at start, with a
#     clear message; status says truthfully whom handlers run as.
#  2. woofctl ns init --owner/--group sets a namespace up: directory and
#     .woof/ root:4242 3770. A root client creates WOOFs and makes the first
#     put (so it creates .woof/owners and the trigger log); the handler,
#     run as uid 65534 with the namespace group, puts to root's WOOF.
#  3. The handlers' user cannot rename .woof (sticky namespace directory
#     that the handlers' user does not own).
#  4. dispatcherd's start-up check brings its bookkeeping files into the
#     model, names the WOOFs handlers cannot write and prints the command
#     that fixes them; that command does.
. "$(dirname "$0")/test_common.sh"

[ "$(id -u)" = 0 ] || skip "needs root (handlers run as another user)"
: "${WOOFCTL:?}"
G=4242

# ---- 1. user = root refused
for u in root 0 0:0 nobody:0; do
	printf '[namespace]\nuser = %s\n' "$u" >"$NS/woof.conf"
	"$DISPATCHERD" -N "$NS" >"$NS.out" 2>&1
	rc=$?
	[ $rc = 1 ] || { cat "$NS.out"; fail "user = $u: exit status $rc, expected 1"; }
	grep -q "woof.conf:2: .*handlers never run as root" "$NS.out" ||
		{ cat "$NS.out"; fail "user = $u: no clear error"; }
done
rm -f "$NS.out"
ok "user = root, 0, 0:0, nobody:0 refused with a clear error"

# ---- 2. the model, set up by ns init
"$WOOFCTL" ns init --owner 0 --group $G "$NS" >/dev/null || fail "ns init --owner --group"
[ "$(stat -c '%u:%g %a' "$NS")" = "0:$G 3770" ] || [ "$(stat -c '%u:%g %a' "$NS")" = "0:$G 3775" ] ||
	fail "namespace directory: $(stat -c '%u:%g %a' "$NS"), want 0:$G 3770"
[ "$(stat -c '%u:%g' "$NS/.woof")" = "0:$G" ] || fail ".woof: $(stat -c '%u:%g' "$NS/.woof")"
printf '[namespace]\nuser = 65534\n' >"$NS/woof.conf"
cp "$DISP_HANDLERS" "$NS/rec" && chmod 755 "$NS/rec" || fail "install rec"
cat >"$NS/mover" <<'SH'
#!/bin/sh
# as the handlers' user: try to move .woof away
cd "$WOOFC_DIR" || exit 1
if mv .woof .woof.moved 2>/dev/null; then echo moved >mover.out; else echo refused >mover.out; fi
SH
chmod 755 "$NS/mover"
umask 077	# root's umask does not decide the modes
"$DISP_TOOL" -N "$NS" create w 8 && "$DISP_TOOL" -N "$NS" create results 8 || fail "create as root"
"$DISP_TOOL" -N "$NS" put w rec 1 1 || fail "first put as root"
umask 022
for f in w results .woof/owners .woof/triggers; do
	s=$(stat -c '%g %a' "$NS/$f")
	[ "${s%% *}" = $G ] && [ $(( 0${s#* } & 060 )) = $(( 060 )) ] ||
		fail "$f made by root: group/mode $s, want group $G and g+rw"
done
start_daemon
grep -q "handlers run as uid 65534 gid $G" "$DLOG" || fail "handlers not 65534:$G"
"$DISP_TOOL" -N "$NS" wait results 1 20 || fail "the handler could not put to root's WOOF"
ok "root created the WOOFs and made the first put; the handler (65534:$G) put to them"
wait_for 5 grep -q "^handler_user uid=65534 gid=$G" "$NS/.woof/status" || fail "status: handler_user"
"$WOOFCTL" -N "$NS" status | grep -q "handler user: *uid 65534, gid $G" ||
	fail "woofctl status: $("$WOOFCTL" -N "$NS" status | grep "handler user")"
ok "status: handler user uid 65534, gid $G"

# ---- 3. the handlers' user cannot move .woof
"$DISP_TOOL" -N "$NS" put w mover 2 2 || fail "put mover"
wait_for 20 test -s "$NS/mover.out" || fail "mover did not run"
[ "$(cat "$NS/mover.out")" = refused ] || fail "the handlers' user moved .woof"
[ -d "$NS/.woof" ] && [ ! -L "$NS/.woof" ] && [ ! -e "$NS/.woof.moved" ] || fail ".woof moved"
ok "the handlers' user cannot rename .woof"
stop_daemon || fail "exit status $?"

# ---- 4. the start-up check names files and the fix
chgrp 0 "$NS/w" && chmod 644 "$NS/w" || fail "break w"
chgrp 0 "$NS/.woof/owners" && chmod 600 "$NS/.woof/owners" || fail "break owners"
: >"$DLOG"
start_daemon
[ "$(stat -c '%g %a' "$NS/.woof/owners")" = "$G 664" ] ||
	fail "dispatcherd did not bring .woof/owners into the model: $(stat -c '%g %a' "$NS/.woof/owners")"
grep -q "without the namespace's group ($G) .*: w\. Fix: woofctl ns init --owner root --group $G $NS" "$DLOG" ||
	fail "no warning naming w and the fix"
fix=$(sed -n 's/.*without the namespace.*Fix: \(woofctl ns init .*\)$/\1/p' "$DLOG" | head -n1)
stop_daemon || fail "exit status $?"
"$WOOFCTL" ${fix#woofctl } >/dev/null || fail "the printed fix failed: $fix"
[ "$(stat -c '%g' "$NS/w")" = $G ] && [ $(( 0$(stat -c '%a' "$NS/w") & 060 )) = $(( 060 )) ] ||
	fail "the printed fix did not fix w: $(stat -c '%g %a' "$NS/w")"
: >"$DLOG"
start_daemon
! grep -q "without the namespace's group" "$DLOG" || fail "warning after the fix"
ok "start-up check names the file and the fix ('$fix'), which works"
stop_daemon || fail "exit status $?"
