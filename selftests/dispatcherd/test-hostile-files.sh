#!/bin/bash
# SPDX-License-Identifier: MIT
# test-hostile-files.sh - whoever may write a namespace's files (its
# handlers, its owner) cuts one short under root dispatcherd, which serves
# two namespaces A and B: the trigger log (by a hostile handler), a WOOF
# that dispatcherd is about to claim from, .woof/calls, the spool ring
# (root's). Each time
# dispatcherd survives (it used to die of SIGBUS, and then refused to
# start), fences A - status file, woofctl status (text and JSON), log -,
# ends A's calls and removes A's cgroup, and B goes on running handlers.
# A restart with A still damaged starts fenced and serves B. After
# `woofctl ns repair A` (which sends the fenced daemon SIGHUP) A serves
# again: every element that survived is there and every trigger that can
# be known runs (counted). Cases 4 and 7: the trigger log lost, or cut
# after its first entries, while no dispatcherd ran. Case 6: the trigger
# log replaced under dispatcherd.
. "$(dirname "$0")/test_common.sh"

[ "$(id -u)" = 0 ] || skip "needs root (as CI runs dispatcherd; the namespaces' cgroups)"
: "${WOOFCTL:?}"

# pair K: namespaces $NS/aK and $NS/bK, owned by the namespace user
A= B=
pair() {
	A=$NS/a$1 B=$NS/b$1
	mkdir "$A" "$B" && chown 65534:65534 "$A" "$B" && chmod 755 "$A" "$B" || fail "mkdir"
	for d in "$A" "$B"; do
		for h in rec hostile; do
			cp "$DISP_HANDLERS" "$d/$h" && chown 65534:65534 "$d/$h" || fail "install $h"
		done
	done
}
ta() { as_user "$DISP_TOOL" -N "$A" "$@"; }
tb() { as_user "$DISP_TOOL" -N "$B" "$@"; }

start_ab() {
	"$DISPATCHERD" -N "$A" -N "$B" -v ${DISP_DAEMON_ARGS:-} "$@" >>"$DLOG" 2>&1 &
	DPID=$!
	local t=30
	[ -n "${WOOF_VM:-}" ] && t=180
	wait_for $t daemon_ready || fail "dispatcherd did not get ready within $t s"
}

fenced() { grep -q '^state fenced$' "$A/.woof/status"; }
serving() { grep -q '^state running$' "$A/.woof/status"; }
running_in() {	# pid of a running call in namespace $1
	sed -n 's/^call .* state=running .*pid=\([0-9]*\) .*/\1/p' "$1/.woof/status" 2>/dev/null | head -n 1
}
finals_in() {	# $1 calls of namespace $2 have a final record
	[ "$("$DISPATCHERD_DUMP" -N "$2" calls | grep -cE 'state=(done|failed|orphan) ')" -ge "$1" ]
}
ns_cgroup() {	# the namespace cgroup directory of pid $1 (empty without cgroup v2)
	local cg root
	cg=$(sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null)
	root=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
	[[ $cg == */call-* ]] && [ -n "$root" ] && echo "$root${cg%/call-*}"
}

# the checks every case makes once A is fenced; $1: what the reason names
check_fenced() {
	wait_for 20 fenced || fail "A is not fenced"
	kill -0 "$DPID" 2>/dev/null || fail "dispatcherd died"
	grep -qE "^fence_reason .*$1" "$A/.woof/status" ||
		fail "fence reason does not name $1: $(grep fence_reason "$A/.woof/status")"
	grep -qE "FENCED: .*$1" "$DLOG" || fail "no FENCED line naming $1 in the log"
	wait_for 20 grep -q '^fence_calls ended$' "$A/.woof/status" || fail "A's calls did not end"
	out=$(WOOFC_DIR= "$WOOFCTL" -N "$A" status 2>&1)
	grep -qE "^FENCED: .*$1" <<<"$out" || fail "woofctl status does not say FENCED: $out"
	grep -q "woofctl ns repair $A" <<<"$out" || fail "woofctl status does not name the repair"
	out=$("$WOOFCTL" -N "$A" -j status 2>/dev/null)
	python3 -c 'import json,re,sys; s=json.load(sys.stdin)["status"]; assert s["state"]=="fenced", s; assert re.search(sys.argv[1], s["fence"]["reason"]), s' "$1" <<<"$out" ||
		fail "woofctl -j status: $out"
	# B goes on
	tb put w rec "$2" "$2" || fail "put in B"
	tb wait results "$2" 20 || fail "B no longer runs handlers"
}

# ---- 1. a hostile handler truncates .woof/triggers ---------------------------
pair 1
ta create w 64 && ta create h 8 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
# rec runs one call at a time: 1 runs (waiting for the gate), 2..4 wait queued
printf '[handler rec]\nworkers = 1\n' >"$A/woof.conf"
start_ab
ta put w rec 1 4 gate || fail "put rec"
wait_for 20 eval '[ -n "$(running_in "$A")" ]' || fail "rec 1 is not running"
wait_for 20 grep -q '^queued 3$' "$A/.woof/status" || fail "rec 2..4 not queued"
rpid=$(running_in "$A")
cg=$(ns_cgroup "$rpid")
[ -z "$cg" ] || [ -d "$cg" ] || fail "A's cgroup $cg of pid $rpid is not where the test looks"
as_user sh -c "echo '.woof/triggers 0' >'$A/hostile-target'" || fail "target"
ta put h hostile 1 1 || fail "put hostile"
check_fenced "triggers" 1
wait_for 10 eval "! kill -0 $rpid" || fail "A's running call (pid $rpid) was not killed"
if [ -n "$cg" ]; then
	wait_for 10 eval "[ ! -d '$cg' ]" || fail "A's cgroup $cg is still there"
	ok "A's cgroup ${cg##*/} removed"
fi
grep -q '^trigger 1 state=running.* handler=rec woof=w$' "$A/.woof/recovery" &&
	[ "$(grep -c '^trigger [234] state=waiting' "$A/.woof/recovery")" = 3 ] ||
	fail "the 4 unfinished triggers are not in .woof/recovery: $(cat "$A/.woof/recovery")"
ok "truncated trigger log: dispatcherd lives, A fenced, B served"

# a restart with A still damaged starts, A fenced, B served
stop_daemon || fail "exit status $? with A fenced"
# (alone, A leaves nothing to serve: exit 1, the status file says why)
"$DISPATCHERD" -N "$A" >>"$DLOG" 2>&1
rc=$?
[ $rc = 1 ] || fail "dispatcherd for the damaged A alone: exit $rc, not 1"
grep -q '^state fenced$' "$A/.woof/status" || fail "A alone: its status does not say fenced"
start_ab
wait_for 20 fenced || fail "A not fenced after the restart"
grep -q '^fence_reason cannot be opened: trigger log' "$A/.woof/status" ||
	fail "restart: $(grep fence_reason "$A/.woof/status")"
check_fenced "trigger log" 2
ok "restart with A damaged: A fenced, B served"

# repair: the four rec triggers run (1 redelivered), the hostile one was done
as_user touch "$A/gate"
out=$(WOOFC_DIR= "$WOOFCTL" ns repair "$A" 2>&1) || fail "repair: $out"
echo "$out"
# 4 rec triggers, and the hostile one when the fence caught it running
grep -qE '(4|5) triggers put back' <<<"$out" || fail "repair did not put back the 4 rec triggers"
wait_for 20 serving || fail "A is not served after the repair"
ta wait results 4 30 || fail "A's triggers did not run after the repair"
out=$(ta check 4) || fail "A after repair: $out"
[[ $out == *"present=4 missing=0 duplicates=0 redelivered=1 "* ]] || fail "A: $out"
ta wait w 4 1 && ta wait h 1 1 || fail "elements of A lost"
tb put w rec 3 3 && tb wait results 3 20 || fail "B after the repair"
ok "repair: 4 triggers ran (1 redelivered), w and h kept, B served"
stop_daemon || fail "exit status $?"

# ---- 2. a WOOF cut short while dispatcherd claims from it ---------------------
pair 2
# 8 KiB elements: the cut falls inside element 4, its slot header intact
ta create w 16 8192 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
start_ab
ta put w rec 1 3 || fail "put 1..3"
ta wait results 3 20 || fail "A does not run handlers"
wait_for 20 finals_in 3 "$A" || fail "calls 1..3 did not end"
kill -STOP "$DPID"
ta put w rec 4 4 || { kill -CONT "$DPID"; fail "put 4"; }
# slot 3 (element 4) starts at 4096 + 3 * 8208 = 28720: cut at 32768
as_user truncate -s 32768 "$A/w" || { kill -CONT "$DPID"; fail "truncate"; }
kill -CONT "$DPID"
check_fenced "(mapping of w:|WOOF w )" 1
ok "WOOF cut short under a claim: dispatcherd lives, A fenced, B served"
out=$(WOOFC_DIR= "$WOOFCTL" ns repair "$A" 2>&1) || fail "repair: $out"
echo "$out"
grep -q 'WOOF w: was cut' <<<"$out" || fail "repair did not extend w"
wait_for 20 serving || fail "A is not served after the repair"
ta wait results 4 30 || fail "trigger 4 did not run after the repair"
out=$(ta check 4) || fail "A after repair: $out"
[[ $out == *"present=4 missing=0 duplicates=0 "* ]] || fail "A: $out"
ok "repair: w extended, its 4 elements kept, trigger 4 ran ($out)"
stop_daemon || fail "exit status $?"

# ---- 3. .woof/calls cut to nothing ----------------------------------------------
pair 3
ta create w 64 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
start_ab
ta put w rec 1 1 && ta wait results 1 20 || fail "A does not run handlers"
wait_for 20 finals_in 1 "$A" || fail "call 1 did not end"
truncate -s 0 "$A/.woof/calls" || fail "truncate calls"
ta put w rec 2 2 || fail "put 2"
check_fenced "\\.woof/calls" 1
ok ".woof/calls cut to nothing: dispatcherd lives, A fenced, B served"
out=$(WOOFC_DIR= "$WOOFCTL" ns repair "$A" 2>&1) || fail "repair: $out"
echo "$out"
grep -q 'calls: not a WOOF any more: moved' <<<"$out" || fail "repair did not move calls aside"
wait_for 20 serving || fail "A is not served after the repair"
ta wait results 2 30 || fail "trigger 2 did not run after the repair"
out=$(ta check 2) || fail "A after repair: $out"
[[ $out == *"present=2 missing=0 duplicates=0 "* ]] || fail "A: $out"
ok "repair: a new .woof/calls, trigger 2 ran ($out)"
stop_daemon || fail "exit status $?"

# ---- 4. the trigger log cut to nothing while no dispatcherd runs ---------------
# The entries were never read: only the PENDING elements are left. w's run
# the handler named with --handler; v's are released (a put that would
# overwrite them does not wait forever); their numbers become holes.
pair 4
ta create w 64 && ta create v 4 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
ta put w rec 1 3 && ta put v rec 1 2 || fail "put"
as_user truncate -s 0 "$A/.woof/triggers" || fail "truncate"
out=$(WOOFC_DIR= "$WOOFCTL" ns repair "$A" --handler w=rec 2>&1) || fail "repair: $out"
echo "$out"
grep -q 'latest 5: 3 triggers put back .* 3 pending elements with --handler), 2 lost (holes), 2 pending elements released' <<<"$out" ||
	fail "repair did not put back w's 3 and release v's 2"
timeout 20 "${AS[@]}" "$DISP_TOOL" -N "$A" put v - 3 6 || fail "a put over v's released elements waits"
start_ab
ta wait results 3 30 || fail "w's triggers did not run after the repair"
out=$(ta check 3) || fail "A after repair: $out"
[[ $out == *"present=3 missing=0 duplicates=0 redelivered=0 "* ]] || fail "A: $out"
wait_for 20 finals_in 3 "$A" || fail "w's calls did not end"
serving || fail "A is not served"
ok "trigger log lost while stopped: 3 triggers from --handler ran, 2 released ($out)"
stop_daemon || fail "exit status $?"

# ---- 5. the spool ring cut to nothing (root may; the ring is root's) ---------
pair 5
ta create w 64 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
start_ab
ta put w rec 1 1 gate || fail "put 1"
wait_for 20 eval '[ -n "$(running_in "$A")" ]' || fail "rec 1 is not running"
truncate -s 0 "$A/.woof/spool/ring-v1" || fail "truncate the ring"
ta put w rec 2 2 || fail "put 2"
check_fenced "spool/ring-v1" 1
ok "spool ring cut: dispatcherd lives, A fenced, B served"
as_user touch "$A/gate"
out=$(WOOFC_DIR= "$WOOFCTL" ns repair "$A" 2>&1) || fail "repair: $out"
wait_for 20 serving || fail "A is not served after the repair"
ta wait results 2 30 || fail "A's triggers did not run after the repair"
out=$(ta check 2) || fail "A after repair: $out"
[[ $out == *"present=2 missing=0 duplicates=0 redelivered=1 "* ]] || fail "A: $out"
ok "repair: a new ring, both triggers ran, the started one redelivered ($out)"
stop_daemon || fail "exit status $?"

# ---- 6. the trigger log replaced (renamed over) under dispatcherd -------------
# Puts go to the new file, which dispatcherd does not read: it notices at
# its next turn after a second and fences A; the repair finds the new log
# whole, and the put runs once A is served again.
pair 6
ta create w 64 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
start_ab
ta put w rec 1 1 && ta wait results 1 20 || fail "A does not run handlers"
wait_for 20 finals_in 1 "$A" || fail "call 1 did not end"
# (as root: .woof is sticky, so the handlers' user may not rename over the
# log - the namespace's owner may, and so may root)
sh -c "cp -p '$A/.woof/triggers' '$A/.woof/t.new' && mv '$A/.woof/t.new' '$A/.woof/triggers'" ||
	fail "replace"
ta put w rec 2 2 || fail "put 2"
# dispatcherd looks at the log at most once a second, when it has work:
# give it turns - calls in B, of a handler that does nothing - until it
# has looked (not SIGHUP: that would open a fenced A again)
poke() { tb put w hostile 1 1 >/dev/null; fenced; }
wait_for 20 poke || fail "A not fenced after its trigger log was replaced"
check_fenced "replaced" 1
out=$(WOOFC_DIR= "$WOOFCTL" ns repair "$A" 2>&1) || fail "repair: $out"
grep -q 'trigger log: whole' <<<"$out" || fail "repair: $out"
wait_for 20 serving || fail "A is not served after the repair"
ta wait results 2 30 || fail "the put into the new log did not run"
out=$(ta check 2) || fail "A after repair: $out"
[[ $out == *"present=2 missing=0 duplicates=0 "* ]] || fail "A: $out"
ok "trigger log replaced: A fenced, after the repair the put into the new log ran"
stop_daemon || fail "exit status $?"

# ---- 7. the trigger log cut after its first entries, no dispatcherd running ----
# The entries that survive are put back as they were; the ones cut off are
# known only by their PENDING elements: without --handler, released.
pair 7
ta create w 64 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
ta put w rec 1 9 || fail "put"
# entry T lives at 4096 + (T - 1) * slot (16,384 slots and the undo slot):
# cut at the end of the page that holds entry 6
slot=$(( ($(stat -c %s "$A/.woof/triggers") - 4096) / 16385 ))
keep=$(( (4096 + 6 * slot + 4095) / 4096 * 4096 ))
[ $(( (keep - 4096) / slot )) -ge 6 ] && [ $(( (keep - 4096) / slot )) -lt 9 ] || fail "slot $slot"
as_user truncate -s "$keep" "$A/.woof/triggers" || fail "truncate"
out=$(WOOFC_DIR= "$WOOFCTL" ns repair "$A" 2>&1) || fail "repair: $out"
echo "$out"
k=$(( (keep - 4096) / slot ))
grep -q "latest 9: $k triggers put back ($k surviving entries.* $((9 - k)) pending elements released" <<<"$out" ||
	fail "repair did not keep the $k surviving entries"
start_ab
ta wait results "$k" 30 || fail "the surviving triggers did not run"
out=$(ta check 9)
[[ $out == *"present=$k missing=$((9 - k)) duplicates=0 "* ]] || fail "A: $out"
ok "trigger log cut after entry $k: its $k entries ran, $((9 - k)) released ($out)"
stop_daemon || fail "exit status $?"

# ---- 8. what a handler leaves for the next start ------------------------------
# .woof replaced by a link, woof.conf garbled, the lock held by the
# namespace's user: at the next start A is fenced with the reason, and B is
# served (before, each made dispatcherd exit at start, B with it).
pair 8
ta create w 64 && ta create results 64 || fail "create A"
tb create w 64 && tb create results 64 || fail "create B"
start_ab		# makes A's .woof
stop_daemon
PLAIN=$(mktemp -d "${TMPDIR:-/tmp}/woof-disp-plain-XXXXXX") || fail "mktemp"
mv "$A/.woof" "$A/.woof.moved" && as_user ln -s "$PLAIN" "$A/.woof" || fail "link .woof"
: >"$DLOG"
start_ab
wait_for 20 grep -qE "$A: FENCED: .*\.woof is a symbolic link" "$DLOG" || fail "A not fenced for its .woof link"
tb put w rec 1 1 && tb wait results 1 20 || fail "B not served while A's .woof is a link"
[ -z "$(ls -A "$PLAIN")" ] || fail "dispatcherd wrote in the link's target: $(ls -A "$PLAIN")"
stop_daemon
rm -f "$A/.woof" && rmdir "$PLAIN" && mv "$A/.woof.moved" "$A/.woof" || fail "restore .woof"
ok ".woof a link at start: A fenced, nothing written through it, B served"

printf '[namespace]\nmax_concurrent = lots\n' >"$A/woof.conf" && chown 65534:65534 "$A/woof.conf" || fail "woof.conf"
: >"$DLOG"
start_ab
wait_for 20 fenced || fail "A not fenced for its woof.conf"
grep -qE "^fence_reason .*woof.conf" "$A/.woof/status" || fail "reason: $(grep fence_reason "$A/.woof/status")"
tb put w rec 2 2 && tb wait results 2 20 || fail "B not served while A's woof.conf is bad"
rm -f "$A/woof.conf"
kill -HUP "$DPID"
wait_for 20 serving || fail "A not served after woof.conf was fixed and SIGHUP"
ta put w rec 1 1 && ta wait results 1 20 || fail "A does not run handlers after SIGHUP"
stop_daemon
ok "bad woof.conf at start: A fenced, B served; fixed and SIGHUP: A served"

# the namespace's user holds the lock (flock needs only a read-only open)
( exec "${AS[@]}" flock "$A/.woof/dispatcherd.lock" sleep 600 ) &
HOLDER=$!	# flock itself (the subshell and setpriv exec it); its child sleeps
wait_for 10 eval "grep -q \"FLOCK.*\$(stat -c %i \"$A/.woof/dispatcherd.lock\")\" /proc/locks" ||
	fail "the lock was not taken"
: >"$DLOG"
start_ab
wait_for 20 grep -qE "$A: FENCED: .*dispatcherd.lock" "$DLOG" || fail "A not fenced while its lock is held"
tb put w rec 3 3 && tb wait results 3 20 || fail "B not served while A's lock is held"
stop_daemon
pkill -P "$HOLDER" sleep; kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null
ok "lock held by the namespace's user: A fenced, B served"
