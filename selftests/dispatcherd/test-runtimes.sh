#!/bin/bash
# SPDX-License-Identifier: MIT
# test-runtimes.sh - the zygote and warm handler runtimes with the real
# daemon, woof-runner and real handler processes. The handlers are shared
# objects NAME.so in the namespace (the test handlers built as one .so,
# copied under each name; hw.so from apps/hello-world).
#
#   1. hello-world via zygote, then via warm: the handler's lines are in the
#      log, the calls are recorded done with runtime zygote (1) / warm (2)
#   2. zygote: 3 segfaulting calls among 18 others fail alone (signal 11);
#      the zygote survives them (started once)
#   3. zygote: its process killed mid-call: that call fails reason crash,
#      a new zygote runs the next call
#   4. warm: a worker that segfaults is replaced, that call is recorded
#      failed reason crash, the later calls of the same handler succeed
#   5. timeout under zygote and warm: killed after 1 s, recorded timeout
#   6. a burst of 200 calls for each runtime (exec, zygote, warm): 0 lost
#   7. a warm handler writing malformed reports on its worker's socket and
#      breaking its answer ring: refused and logged, the worker killed and
#      replaced, dispatcherd unharmed
. "$(dirname "$0")/test_common.sh"
: "${DISP_RT_HANDLERS:?set DISP_RT_HANDLERS (the test handlers as a .so)}" "${HW_DIR:?}"

[ -r "$DISP_RT_HANDLERS" ] || fail "no $DISP_RT_HANDLERS"

# install_so NAME...: the test handlers' shared object as NAME.so
install_so() {
	for h in "$@"; do
		cp "$DISP_RT_HANDLERS" "$NS/$h.so" || fail "cannot install $h.so"
		[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/$h.so"
	done
}

# records_since T0 ERE: call records of triggers > T0 matching ERE
records_since() {
	"$DISPATCHERD_DUMP" -N "$NS" calls |
		awk -v t0="$1" '{ t = $1; sub(/^trigger=/, "", t); if (t + 0 > t0) print }' |
		grep -cE "$2"
}

# started NAME KIND: how many times the daemon log says a KIND of NAME started
started() { grep -c "handler $1: $2 started, pid" "$DLOG"; }

# runner_pids NAME KIND: the pids of every KIND (zygote, warm worker) of NAME started
runner_pids() {
	sed -n "s/.*handler $1: $2 started, pid \([0-9]*\).*/\1/p" "$DLOG"
}

# died NAME KIND: how many KIND of NAME the daemon log says died
died() { grep -c "handler $1: $2 pid [0-9]* died" "$DLOG"; }

cat >"$NS/woof.conf" <<CONF
[namespace]
max_concurrent = 8
timeout = 30s

[handler hw]
runtime = zygote

[handler rec_a]
runtime = zygote

[handler crash]
runtime = zygote

[handler sleepy]
runtime = zygote
timeout = 1s

[handler rec_b]
runtime = warm
workers = 2

[handler flaky]
runtime = warm
workers = 1

[handler nap]
runtime = warm
timeout = 1s

[handler whoami]
runtime = warm

[handler rogue]
runtime = warm
workers = 1
CONF
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/woof.conf"
install_handler rec
install_so rec_a rec_b crash flaky sleepy nap whoami rogue
cp "$HW_DIR/hw.so" "$NS/hw.so" || fail "no hw.so in $HW_DIR"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/hw.so"

# ---- 1. hello-world via zygote, then via warm ----------------------------
start_daemon
cd "$NS" || fail "cd"
as_user "$HW_DIR/hw-start" -W hello-woof | grep -q "at seq_no 1" || fail "hw-start"
as_user "$HW_DIR/hw-client" -W hello-woof | grep -q "at seq_no 2" || fail "hw-client"
wait_final 2 20 || fail "two zygote hello-world calls did not end within 20 s"
log=$("$DISPATCHERD_DUMP" -N "$NS" log -r)
[ "$(echo "$log" | grep -c '^hello world$')" = 2 ] || fail "'hello world' not twice in the log (zygote)"
echo "$log" | grep -qx "from woof hello-woof at 2 with string: my second bark" ||
	fail "second bark missing from the log (zygote)"
[ "$(records_since 0 'state=done reason=none exit=0 .*runtime=1 .*handler=hw$')" = 2 ] ||
	fail "hello-world calls not recorded done with runtime zygote"
# one zygote per CPU (at most 8), all started at the handler's first call
nz=$(nproc); [ "$nz" -gt 8 ] && nz=8
[ "$(started hw zygote)" = "$nz" ] || fail "expected $nz zygotes for hw, log says $(started hw zygote)"
wait_for 5 grep -q "^handler hw runtime=zygote .* done=2 failed=0" "$NS/.woof/status" ||
	fail "status file does not show hw (zygote) with 2 done"
ok "hello-world through the zygote runtime"
stop_daemon || fail "dispatcherd exit status $? after SIGTERM"

sed -i '/^\[handler hw\]/,/^$/s/^runtime = zygote/runtime = warm/' "$NS/woof.conf"
start_daemon
as_user "$HW_DIR/hw-client" -W hello-woof | grep -q "at seq_no 3" || fail "hw-client (warm)"
as_user "$HW_DIR/hw-client" -W hello-woof | grep -q "at seq_no 4" || fail "hw-client (warm) 2"
wait_final 4 20 || fail "two warm hello-world calls did not end within 20 s"
log=$("$DISPATCHERD_DUMP" -N "$NS" log -r)
[ "$(echo "$log" | grep -c '^hello world$')" = 4 ] || fail "'hello world' not 4 times in the log"
echo "$log" | grep -qx "from woof hello-woof at 4 with string: my second bark" ||
	fail "bark 4 missing from the log (warm)"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T4 out from woof hello-woof at 4 " ||
	fail "warm output not logged under its call's trigger"
[ "$(records_since 2 'state=done reason=none exit=0 .*runtime=2 .*handler=hw$')" = 2 ] ||
	fail "hello-world calls not recorded done with runtime warm"
ok "hello-world through the warm runtime"

# the documented one-line build of a shared object (pkg-config woof), put
# in place of the running hw.so: the warm workers load the new file
pcdir=$(cd "$(dirname "$HW_DIR")/.." && pwd)/meson-uninstalled
src=$(dirname "$0")/../../apps/hello-world
if [ -r "$pcdir/woof-uninstalled.pc" ] && command -v "${CC:-cc}" >/dev/null; then
	flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs woof) || fail "pkg-config woof"
	# shellcheck disable=SC2086
	"${CC:-cc}" -shared -fPIC "$src/hw.c" $flags -o "$NS/hw.so.new" ||
		fail "one-line build: cc -shared -fPIC hw.c \$(pkg-config --cflags --libs woof)"
	[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/hw.so.new"
	mv "$NS/hw.so.new" "$NS/hw.so"
	# dispatcherd looks at NAME.so again at a call's start, at most once a
	# second (RT_SO_RECHECK_NS): call until a call's start noticed the new
	# file (its log says so), at most 10 s; that call runs in a new worker
	replaced() { grep -q "handler hw: .*hw.so was replaced; new warm workers load it" "$DLOG"; }
	workers_before=$(started hw "warm worker")
	s=4 t_end=$(( $(date +%s) + 10 ))
	until replaced; do
		[ "$(date +%s)" -le "$t_end" ] || fail "the replaced hw.so was not noticed in 10 s ($((s - 4)) calls)"
		s=$((s + 1))
		as_user "$HW_DIR/hw-client" -W hello-woof | grep -q "at seq_no $s" || fail "hw-client (new hw.so)"
		wait_final $s 20 || fail "call $s (after hw.so was replaced) did not end"
	done
	echo "    noticed at call $s ($((s - 4)) calls after the replacement)"
	[ "$(started hw "warm worker")" -gt "$workers_before" ] ||
		fail "no new warm worker for hw after hw.so was replaced"
	"$DISPATCHERD_DUMP" -N "$NS" log -r | grep -qx "from woof hello-woof at $s with string: my second bark" ||
		fail "the pkg-config-built hw.so did not print"
	ok "hw.so built with pkg-config woof replaces the running one"
else
	echo "note: no uninstalled woof.pc; the one-line .so build is not checked"
fi

# ---- woof_call_current() and the process, in a warm worker --------------
T0=$(final_records)
tool create w 1024 && tool create results 1024 || fail "create"
tool put w whoami 1 2 || fail "put whoami"
wait_final $((T0 + 2)) 20 || fail "whoami calls did not end"
wlog=$("$DISPATCHERD_DUMP" -N "$NS" log -r | grep '^whoami ')
echo "$wlog" | sed 's/^/    /'
for t in $((T0 + 1)) $((T0 + 2)); do
	echo "$wlog" | grep -q "^whoami pid=[0-9]* trigger=$t attempt=1 woof=w " ||
		fail "woof_call_current() in the warm worker did not say trigger $t"
done
[ "$(echo "$wlog" | sed 's/ trigger.*//' | sort -u | wc -l)" = 1 ] ||
	fail "two warm calls of a 1-worker handler ran in different processes"
ok "warm calls see their own trigger (woof_call_current) in one long-lived worker"

# ---- 2. zygote: segfaults fail only their own calls ----------------------
# (each phase starts with fresh WOOFs: tool check wants seq == n)
T0=$(final_records)
tool create w 1024 && tool create results 1024 || fail "create"
for i in 1 2 3; do
	tool put w rec_a $(( (i - 1) * 7 + 1 )) $(( i * 7 - 1 )) || fail "put rec_a"
	tool put w crash $(( i * 7 )) $(( i * 7 )) || fail "put crash"
done
wait_final $((T0 + 21)) 30 || fail "21 calls did not end"
n=$(records_since "$T0" 'state=failed reason=signal exit=0 signal=11 .*runtime=1 .*handler=crash$')
[ "$n" = 3 ] || fail "expected 3 zygote crash records with signal 11, found $n"
n=$(records_since "$T0" 'state=done .*runtime=1 .*handler=rec_a$')
[ "$n" = 18 ] || fail "expected 18 rec_a calls done under zygote, found $n"
out=$(tool check 21 2>/dev/null)
case $out in *"present=18 missing=3 duplicates=0"*) ;; *) fail "rec_a results: $out" ;; esac
[ "$("$DISPATCHERD_DUMP" -N "$NS" log | grep -c '^T[0-9]* out crash handler at w')" = 3 ] ||
	fail "the crashing calls' output before the crash is not in the log"
[ "$(died crash zygote)" = 0 ] || fail "a zygote of the crash handler died"
for zpid in $(runner_pids crash zygote); do
	kill -0 "$zpid" 2>/dev/null || fail "a zygote of the crash handler (pid $zpid) is gone"
done
ok "3 segfaults under zygote recorded with signal 11; 18 other calls unaffected; zygotes alive"

# ---- 3. zygote: the zygote dies mid-call ---------------------------------
T0=$(final_records)
tool create w 1024 && tool create results 1024 || fail "create"
tool put w rec_a 1 1 3000000 || fail "put rec_a (3 s)"
wait_for 10 grep -q "^call $((T0 + 1)) state=running" "$NS/.woof/status" ||
	fail "rec_a never showed as running"
zpids=$(runner_pids rec_a zygote)
[ -n "$zpids" ] || fail "no zygote pid for rec_a in the log"
n0=$(started rec_a zygote)
# every zygote of rec_a: the call runs in a child of one of them
# shellcheck disable=SC2086
kill -KILL $zpids || fail "cannot kill the zygotes $zpids"
wait_final $((T0 + 1)) 10 || fail "the call of the killed zygote did not end"
[ "$(records_since "$T0" 'state=failed reason=crash .*runtime=1 .*handler=rec_a$')" = 1 ] ||
	fail "the call of the killed zygote is not recorded failed reason crash"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T$((T0 + 1)) note failed: .*zygote.* died" ||
	fail "no note on the crash"
tool put w rec_a 2 2 || fail "put rec_a"
wait_final $((T0 + 2)) 20 || fail "the call after the zygote's death did not end"
[ "$(records_since $((T0 + 1)) 'state=done .*runtime=1 .*handler=rec_a$')" = 1 ] ||
	fail "the call after the zygote's death did not succeed"
[ "$(started rec_a zygote)" -gt "$n0" ] || fail "no new zygote for rec_a"
ok "a killed zygote fails its running call (crash); a new zygote runs the next one"

# ---- 4. warm: a crashing worker is replaced ------------------------------
T0=$(final_records)
tool create w 1024 && tool create results 1024 || fail "create"
tool put w flaky 1 12 || fail "put flaky"
wait_final $((T0 + 12)) 30 || fail "12 flaky calls did not end"
n=$(records_since "$T0" 'state=failed reason=crash exit=0 signal=11 .*runtime=2 .*handler=flaky$')
[ "$n" = 2 ] || fail "expected 2 warm crash records (n=5, n=10) with signal 11, found $n"
n=$(records_since "$T0" 'state=done .*runtime=2 .*handler=flaky$')
[ "$n" = 10 ] || fail "expected 10 flaky calls done, found $n"
out=$(tool check 12 2>/dev/null)
case $out in *"present=10 missing=2 duplicates=0"*) ;; *) fail "flaky results: $out" ;; esac
# n=11 and 12 ran after the second crash, on the third worker
for t in $((T0 + 11)) $((T0 + 12)); do
	[ "$(records_since $((t - 1)) "^trigger=$t .*state=done .*runtime=2 ")" = 1 ] ||
		fail "flaky call after the crashes (trigger $t) did not succeed"
done
[ "$(started flaky 'warm worker')" = 3 ] ||
	fail "expected 3 warm workers for flaky (one + two replacements), log says $(started flaky 'warm worker')"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T$((T0 + 5)) out flaky crashes at n=5" ||
	fail "the crashing warm call's output is not logged under its trigger"
ok "warm: 2 crashing calls recorded crash, workers replaced, later calls succeed"

# ---- 5. timeouts under zygote and warm -----------------------------------
T0=$(final_records)
t0=$(date +%s%N)
tool put w sleepy 1 1 && tool put w nap 2 2 || fail "put sleepy/nap"
wait_final $((T0 + 2)) 15 || fail "sleepy/nap did not end within 15 s"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(records_since "$T0" 'state=failed reason=timeout .*signal=9 .*runtime=1 .*handler=sleepy$')" = 1 ] ||
	fail "sleepy (zygote) not recorded failed/timeout with signal 9"
[ "$(records_since "$T0" 'state=failed reason=timeout .*signal=9 .*runtime=2 .*handler=nap$')" = 1 ] ||
	fail "nap (warm) not recorded failed/timeout with signal 9"
[ $ms -lt 8000 ] || fail "the timeouts took $ms ms (limit 1 s)"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T$((T0 + 1)) note failed: killed after its timeout of 1000 ms" ||
	fail "no timeout note for sleepy"
[ "$(died sleepy zygote)" = 0 ] || fail "a zygote of sleepy died with its call"
wait_for 5 eval '[ "$(started nap "warm worker")" = 2 ]' || fail "the killed warm worker of nap was not replaced"
ok "timeouts: zygote child and warm worker killed after 1 s ($ms ms), recorded timeout"

# ---- 6. 200 calls for each runtime, 0 lost -------------------------------
T0=$(final_records)
tool create w 1024 && tool create results 1024 || fail "create"
# one after the other into one WOOF (tool check wants seq == n); the three
# runtimes' calls run at the same time all the same
tool put w rec 1 200 && tool put w rec_a 201 400 && tool put w rec_b 401 600 ||
	fail "the burst of puts failed"
tool wait results 600 120 || fail "not every handler of the burst ran"
wait_final $((T0 + 600)) 30 || fail "not all 600 calls recorded"
out=$(tool check 600) || fail "check: $out"
echo "    $out"
case $out in *"present=600 missing=0 duplicates=0"*) ;; *) fail "$out" ;; esac
for rt in "0 rec" "1 rec_a" "2 rec_b"; do
	set -- $rt
	n=$(records_since "$T0" "state=done .*runtime=$1 .*handler=$2\$")
	[ "$n" = 200 ] || fail "$2: $n of 200 calls done with runtime $1"
done
[ "$(records_since "$T0" 'state=(failed|orphan) ')" = 0 ] || fail "failed calls in the burst"
ok "200 calls each through exec, zygote and warm: 600 ran, 0 lost, 0 failed"

# ---- 7. a handler attacking its warm worker's channels ----------------------
# n=1 writes malformed reports on the worker's socket, then succeeds; n=2
# breaks its answer ring and is killed for it (crash); n=3 runs on the
# replacement. dispatcherd survives all of it and logs what it refused.
T0=$(final_records)
tool create w 1024 && tool create results 1024 || fail "create"
# one at a time: the ring breaker must not share its worker with another call
for i in 1 2 3; do
	tool put w rogue $i $i || fail "put rogue $i"
	wait_final $((T0 + i)) 30 || fail "rogue call $i did not end"
done
kill -0 "$DPID" || fail "dispatcherd died of a rogue warm handler"
[ "$(records_since "$T0" "^trigger=$((T0 + 1)) .*state=done .*runtime=2 .*handler=rogue\$")" = 1 ] ||
	fail "the call that sent malformed reports was not recorded done"
[ "$(records_since "$T0" "^trigger=$((T0 + 2)) .*state=failed reason=crash .*signal=9 .*handler=rogue\$")" = 1 ] ||
	fail "the call that broke its answer ring was not recorded failed (crash, signal 9)"
[ "$(records_since "$T0" "^trigger=$((T0 + 3)) .*state=done .*runtime=2 .*handler=rogue\$")" = 1 ] ||
	fail "the call after the ring breaker was not recorded done"
for m in "malformed report at byte 0" "bad report" "answered trigger 999999999, which it was not serving" \
	"unexpected report type 77" "output report claims 1073741824 bytes" "broke its answer ring; killing it"; do
	grep -qF "$m" "$DLOG" || fail "dispatcherd's log does not say: $m"
done
[ "$(started rogue 'warm worker')" = 2 ] || fail "the ring breaker's worker was not replaced"
"$DISPATCHERD_DUMP" -N "$NS" log | grep -q "^T$((T0 + 1)) out rogue sent its malformed reports" ||
	fail "the rogue call's own output is not logged under its trigger"
ok "warm: malformed reports refused, a broken answer ring kills its worker, dispatcherd runs on"

kill -0 "$DPID" || fail "dispatcherd died"
stop_daemon || fail "dispatcherd exit status $? after SIGTERM"
ok "clean stop"
