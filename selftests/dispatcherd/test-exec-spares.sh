#!/bin/bash
# SPDX-License-Identifier: MIT
# test-exec-spares.sh - exec handlers started ahead of their calls
# (dispatcherd/exec.c, "spares"; lib/shepherd.c's spare mode):
#   1. a program linked with the shepherd is started ahead: the second
#      call runs in a process older than its put, with the call's own
#      variables and element; the status file counts waiting spares;
#   2. a replaced handler file is never served by a spare of the old one
#      (a script now: it runs, and is not started ahead);
#   3. timeouts kill a call that runs in a spare;
#   4. spares = 0 (SIGHUP) retires the waiting ones and starts per call;
#   5. SIGTERM and SIGKILL of dispatcherd leave no spare behind;
#   6. malformed ELF files as handlers fail their calls, and the daemon
#      goes on.
. "$(dirname "$0")/test_common.sh"

install_handler spare sleepy
cat >"$NS/woof.conf" <<CONF
[handler sleepy]
timeout = 1s
CONF
tool create w 64 && tool create results 64 || fail "create"

status_spares() { sed -n "s/^handler $1 .* spares=\([0-9]*\).*/\1/p" "$NS/.woof/status"; }
has_spares() { [ "$(status_spares "$1")" = "$2" ]; }
# the spare processes of this daemon (its children named spare, or $1)
spare_pids() { pgrep -P "$DPID" -x "${1:-spare}"; }
no_spare_pids() { [ -z "$(spare_pids)" ]; }
# spares_ready NAME N: N spares of NAME wait for their call: they sleep in a
# recv() on their socket (linked, function found, WOOF open)
spares_ready() {
	local p n=0
	for p in $(spare_pids "$1"); do
		[ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" = S ] &&
			grep -q skb_wait_for_more_packets "/proc/$p/wchan" 2>/dev/null || return 1
		n=$((n + 1))
	done
	[ "$n" = "$2" ]
}
# field=value of the log line of trigger $1
log_field() {
	"$DISPATCHERD_DUMP" -N "$NS" log | sed -n "s/^T$1 out spare .*\b$2=\([^ ]*\).*/\1/p" | head -1
}

# A spare serves a put that came while it waited: its pid is one of the
# spares seen waiting before the put. A program started for its call is
# younger than the put (put_ms: how long the put and the call took,
# measured around them).
W=20
[ -n "${WOOF_VM:-}" ] && W=120	# the TCG guest on a busy host
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# A process's start time (/proc/PID/stat) counts clock ticks of 10 ms: a
# program started for its call may look up to one tick older than the put.
TICK_MS=10
# timed_put N: put N to spare, wait for its end; sets put_ms
timed_put() {
	local t0
	t0=$(now_ms)
	tool put w spare "$1" "$1" || fail "put $1"
	wait_final "$1" $W || fail "call $1 did not end"
	put_ms=$(( $(now_ms) - t0 ))
}

start_daemon
tool put w spare 1 1 || fail "put 1"
wait_final 1 $W || fail "call 1 did not end"
wait_for $W has_spares spare 2 || fail "status does not show 2 waiting spares: $(grep '^handler spare' "$NS/.woof/status")"
[ "$(spare_pids | wc -l)" = 2 ] || fail "expected 2 spare processes, have: $(spare_pids | tr '\n' ' ')"
if [ -n "${WOOFCTL:-}" ]; then
	"$WOOFCTL" -N "$NS" handler info spare | grep -q "^now: .* 2 started ahead" ||
		fail "woofctl handler info does not show 2 spares: $("$WOOFCTL" -N "$NS" handler info spare)"
	"$WOOFCTL" -j -N "$NS" handler info spare | grep -q '"spares":2' ||
		fail "woofctl handler info -j has no \"spares\":2"
fi
wait_for $W spares_ready spare 2 || fail "the 2 spares do not wait for a call: $(spare_pids | tr '\n' ' ')"
waiting=" $(spare_pids | tr '\n' ' ')"
timed_put 2
[ "$(count_records 'trigger=2 .*state=done ')" = 1 ] || fail "call 2 not done"
age=$(log_field 2 age_ms)
[ -n "$age" ] || fail "call 2 printed no age"
for kv in trigger=2 call_seq=2 attempt=1 redelivered=0 spare_fd=- n=2 seq=2 woof=w; do
	[ "$(log_field 2 "${kv%%=*}")" = "${kv#*=}" ] || fail "call 2: ${kv%%=*} is '$(log_field 2 "${kv%%=*}")', not '${kv#*=}'"
done
pid2=$("$DISPATCHERD_DUMP" -N "$NS" calls -t 2 | sed -n 's/.*state=done .* pid=\([0-9]*\) .*/\1/p')
[ -n "$pid2" ] && [ "$pid2" != 0 ] || fail "no pid in call 2's record"
case "$waiting " in *" $pid2 "*) ;;
*) fail "call 2 ran in pid $pid2 ($age ms old), not in a spare waiting before its put:$waiting" ;;
esac
wait_for $W has_spares spare 2 || fail "the taken spare was not replaced"
ok "1. call 2 ran in a program started $age ms before (pid $pid2), with its own variables and element"

# 2. the handler file replaced by a script: the old spares must not serve it
old=$(spare_pids | tr '\n' ' ')
rm -f "$NS/spare"
printf '#!/bin/sh\necho "script ran trigger=$WOOF_CALL_TRIGGER"\n' >"$NS/spare"
chmod 755 "$NS/spare"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/spare"
tool put w spare 3 3 || fail "put 3"
wait_final 3 $W || fail "call 3 did not end"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T3 out script ran trigger=3" ||
	fail "call 3 did not run the new file (a spare of the old one served it?)"
wait_for $W no_spare_pids || fail "spares of the replaced file still run: $(spare_pids | tr '\n' ' ') (were: $old)"
# (the status file is rewritten at most every 50 ms: wait for the write that
# follows the retirement; a script with spares would keep them there)
wait_for $W has_spares spare 0 || fail "a script got spares: $(grep '^handler spare' "$NS/.woof/status")"
# and back to a program: started per call first, then spares again
install_handler spare
timed_put 4
age=$(log_field 4 age_ms)
[ -n "$age" ] && [ "$age" -le $((put_ms + TICK_MS)) ] ||
	fail "call 4 ran in a process $age ms old, older than its put ($put_ms ms ago)"
wait_for $W has_spares spare 2 || fail "no spares for the new program"
ok "2. a replaced handler file is never served by a spare of the old one"

# 3. a call in a spare past its timeout is killed
tool put w sleepy 5 5 || fail "put 5"
wait_final 5 $W || fail "call 5 did not end"
wait_for $W has_spares sleepy 2 || fail "no spares for sleepy"
wait_for $W spares_ready sleepy 2 || fail "sleepy's spares do not wait for a call"	# before its 1 s timeout starts
tool put w sleepy 6 6 || fail "put 6"
wait_final 6 $W || fail "call 6 did not end"
[ "$(count_records 'trigger=6 .*state=failed reason=timeout .*signal=9 ')" = 1 ] ||
	fail "call 6 (in a spare) not recorded failed/timeout"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T6 out sleepy handler at w 6" || fail "call 6's output lost"
ok "3. a call in a spare is killed at its timeout"

# 4. spares = 0 by SIGHUP: the waiting ones go, calls start per call
cat >"$NS/woof.conf" <<CONF
[handler sleepy]
timeout = 1s
spares = 0

[handler spare]
spares = 0
CONF
kill -HUP "$DPID"
wait_for $W has_spares spare 0 || fail "spares = 0 did not retire spare's spares"
wait_for $W no_spare_pids || fail "retired spares still run: $(spare_pids | tr '\n' ' ')"
timed_put 7
age=$(log_field 7 age_ms)
[ -n "$age" ] && [ "$age" -le $((put_ms + TICK_MS)) ] ||
	fail "call 7 ran in a process $age ms old, older than its put ($put_ms ms ago), with spares = 0"
has_spares spare 0 || fail "spares started with spares = 0"
ok "4. spares = 0 retires the waiting spares; calls start per call"

# 5. SIGTERM, then SIGKILL: no spare outlives dispatcherd
printf '[handler spare]\nspares = 3\n' >"$NS/woof.conf"
kill -HUP "$DPID"
tool put w spare 8 8 || fail "put 8"
wait_final 8 $W || fail "call 8 did not end"
wait_for $W has_spares spare 3 || fail "spares = 3 not honoured"
pids=$(spare_pids | tr '\n' ' ')
stop_daemon || fail "dispatcherd exit status $?"
for p in $pids; do kill -0 "$p" 2>/dev/null && fail "spare $p outlived dispatcherd's SIGTERM"; done
start_daemon
tool put w spare 9 9 || fail "put 9"
wait_final 9 $W || fail "call 9 did not end"
wait_for $W has_spares spare 3 || fail "no spares after the restart"
pids=$(spare_pids | tr '\n' ' ')
[ -n "$pids" ] || fail "no spare processes"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=
gone() { for p in $pids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
wait_for $W gone || fail "spares $pids outlived dispatcherd's SIGKILL"
ok "5. no spare outlives dispatcherd (SIGTERM: $(echo $pids | wc -w) stopped; SIGKILL: gone)"

# 6. files that look like ELF but are not whole: their calls fail, the daemon goes on
printf '\177ELF\002\001\001\000garbage' >"$NS/badelf"
head -c 3000 "$DISP_HANDLERS" >"$NS/trunc"
chmod 755 "$NS/badelf" "$NS/trunc"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/badelf" "$NS/trunc"
start_daemon
tool put w badelf 10 10 && tool put w trunc 11 11 && tool put w spare 12 12 || fail "puts 10-12"
wait_final 12 $W || fail "calls 10-12 did not end"
[ "$(count_records 'trigger=1[01] .*state=failed ')" = 2 ] || fail "the malformed programs' calls not failed"
[ "$(count_records 'trigger=12 .*state=done ')" = 1 ] || fail "call 12 not done after the malformed ones"
# (their handler lines appear with the next status write, 50 ms at most)
no_bad_spares() { has_spares badelf 0 && has_spares trunc 0; }
wait_for $W no_bad_spares || fail "malformed programs got spares: $(grep -E '^handler (badelf|trunc)' "$NS/.woof/status")"
kill -0 "$DPID" || fail "dispatcherd died"
ok "6. malformed ELF handler files fail their calls; dispatcherd goes on"
stop_daemon || fail "exit status $?"
