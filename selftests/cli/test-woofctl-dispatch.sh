#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-woofctl-dispatch.sh - woofctl's dispatcherd commands against a real
# dispatcherd from the build tree: handler ls|info, trigger ls, logs [-f],
# status. In a temporary namespace with the hello-world handler hw (from
# build/apps/hello-world), a shell-script handler "slow" that runs until a
# file "go" appears and then exits 3, and puts naming a handler that does
# not exist, it checks every command's human and JSON output, the exit
# statuses 0/1/2, every trigger state (pending - also "queued" behind
# max_concurrent 1 - running, redelivered after a SIGKILL of dispatcherd,
# done, failed), the counts, logs -f receiving the output of calls made
# after it started (also when it started before any dispatcherd created the
# log), and that the read-only commands create nothing in the namespace.
#
# Usage: test-woofctl-dispatch.sh PATH-TO-WOOFCTL BUILD-ROOT
# Prints one line per check and "N passed, N failed"; exits 1 if any
# failed, 77 (skip) when the build has no dispatcherd or hw.

set -u

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
	echo "usage: $0 PATH-TO-WOOFCTL BUILD-ROOT" >&2
	exit 2
fi
WOOFCTL=$(realpath "$1")
BUILD=$(realpath "$2")
DISPATCHERD=$BUILD/dispatcherd/dispatcherd
HWDIR=$BUILD/apps/hello-world
for f in "$DISPATCHERD" "$HWDIR/hw" "$HWDIR/hw-start" "$HWDIR/hw-client"; do
	[ -x "$f" ] || { echo "SKIP: $f was not built"; exit 77; }
done
command -v python3 >/dev/null || { echo "SKIP: python3 is needed"; exit 77; }
unset WOOFC_DIR
export WOOF_QUIET=1

T=$(mktemp -d "${TMPDIR:-/tmp}/test-woofctl-dispatch.XXXXXX") || exit 1
chmod 755 "$T"
NS=$T/ns
DLOG=$T/dispatcherd.log
OUT=$T/out
ERR=$T/err
DPID=
BG_PIDS=()

# Run as root, dispatcherd starts handlers as the namespace's owner: make
# the namespace nobody's, and put as nobody (as its user would).
AS=()
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || { echo "SKIP: root without setpriv(1)"; exit 77; }
	AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
as_user() { "${AS[@]}" "$@"; }

cleanup() {
	touch "$NS/go" 2>/dev/null	# lets "slow" handlers end
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		# the second one kills running calls, once the first was taken
		for _ in $(seq 100); do
			grep -qE '^state (stopping|stopped)' "$NS/.woof/status" 2>/dev/null && break
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.05
		done
		kill -TERM "$DPID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ "${WOOF_TEST_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

passed=0
failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL - $1${2:+ ($2)}"
	failed=$((failed + 1))
	if [ -s "$ERR" ]; then sed 's/^/       stderr: /' "$ERR" | head -5; fi
}

rc=0
run_w() { "$WOOFCTL" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
# expect RC DESCRIPTION ARGS...: run woofctl ARGS, check the exit status
expect() {
	local want=$1 desc=$2; shift 2
	run_w "$@"
	if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc" "exit $rc, want $want"; fi
}
out_has() {
	if grep -Eq -- "$2" "$OUT"; then pass "$1"; else fail "$1" "stdout lacks /$2/"; fi
}
out_lacks() {
	if ! grep -Eq -- "$2" "$OUT"; then pass "$1"; else fail "$1" "stdout has /$2/"; fi
}
err_has() {
	if grep -Eq -- "$2" "$ERR"; then pass "$1"; else fail "$1" "stderr lacks /$2/"; fi
}
out_empty() {
	if [ ! -s "$OUT" ]; then pass "$1"; else fail "$1" "stdout: $(head -c 200 "$OUT")"; fi
}
# json_ok DESCRIPTION PYTHON-EXPR: stdout is one JSON document, d, and EXPR holds
json_ok() {
	if python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, dict) and d.get("schema") == 1, "no schema 1"
assert ('"$2"'), "expression is false"
' <"$OUT" 2>"$T/pyerr"; then pass "$1"; else fail "$1" "$(tail -1 "$T/pyerr")"; fi
}
# jsonl_ok DESCRIPTION FILE PYTHON-EXPR: FILE is JSON Lines, ds, each with schema 1
jsonl_ok() {
	if python3 -c '
import json, sys
ds = [json.loads(l) for l in sys.stdin.read().splitlines()]
assert ds, "no lines"
assert all(d.get("schema") == 1 for d in ds), "no schema 1"
assert ('"$3"'), "expression is false"
' <"$2" 2>"$T/pyerr"; then pass "$1"; else fail "$1" "$(tail -1 "$T/pyerr")"; fi
}
# wait_until SECONDS CMD...: until CMD succeeds (the test polls; woofctl never does)
wait_until() {
	local deadline=$((SECONDS + $1))
	until "${@:2}" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}
# the state of trigger $1 per "woofctl -j trigger ls" ("none" if not listed)
tstate() {
	"$WOOFCTL" -j -N "$NS" trigger ls 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next((t["state"] for t in d["triggers"] if t["trigger"] == '"$1"'), "none"))'
}
state_is() { [ "$(tstate "$1")" = "$2" ]; }
# queue_state_is T S: the status file lists trigger T as waiting in state S
queue_state_is() {
	"$WOOFCTL" -j -N "$NS" trigger ls 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = [t for t in d["triggers"] if t["trigger"] == '"$1"']
sys.exit(0 if t and t[0]["queue_state"] == "'"$2"'" else 1)'
}
file_has() { grep -Eq -- "$2" "$1"; }
daemon_ready() { grep -q "ready: pid $DPID" "$DLOG"; }
start_daemon() {
	"$DISPATCHERD" -N "$NS" -v >>"$DLOG" 2>&1 &
	DPID=$!
	if wait_until 10 daemon_ready; then pass "dispatcherd started (pid $DPID)"
	else fail "dispatcherd started" "$(tail -3 "$DLOG")"; fi
}

echo "# woofctl: $WOOFCTL"
echo "# dispatcherd: $DISPATCHERD"

# ---- help ---------------------------------------------------------------------------------

expect 0 "woofctl help" help
out_has "help lists handler ls" "handler ls"
out_has "help lists handler info" "handler info NAME"
out_has "help lists trigger ls" "trigger ls \[--state"
out_has "help lists logs" "logs \[-f\] \[-n N\] \[--trigger T\] \[NS\]"
out_has "help lists status" "^  status$"
expect 0 "woofctl handler help" handler help
out_has "handler help lists info" "handler info NAME"
expect 0 "woofctl trigger ls --help" trigger ls --help
out_has "trigger ls --help shows --state" "--state S"
expect 0 "woofctl logs help" logs help
out_has "logs help shows --follow" "--follow"
expect 0 "woofctl help status" help status
out_has "help status shows its usage" "^Usage: woofctl \[OPTIONS\] status"
expect 2 "unknown handler command" handler frob
expect 2 "trigger without a command" trigger

# ---- a namespace no dispatcherd has served -------------------------------------------------

mkdir "$NS" && chmod 755 "$NS"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS"
as_user "$WOOFCTL" ns init "$NS" >/dev/null || fail "ns init"
before=$(cd "$NS" && ls -A . .woof)

expect 0 "status without dispatcherd exits 0" -N "$NS" status
out_has "status says dispatcherd is not running" "^dispatcherd: +not running$"
out_has "status says there is no status file" "^status file: +none"
out_has "status says there is no trigger log" "^trigger log: +none"
expect 0 "status -j without dispatcherd" -j -N "$NS" status
json_ok "status JSON without dispatcherd" 'd["dispatcherd"]["running"] is False and d["dispatcherd"]["pid"] is None and d["status"] is None and d["trigger_log"]["present"] is False and d["namespace"] == "'"$NS"'"'
expect 0 "trigger ls of an empty namespace" -N "$NS" trigger ls
out_has "trigger ls counts nothing" "^0 triggers .*: 0 pending, 0 running, 0 redelivered, 0 done, 0 failed, 0 orphan$"
expect 0 "trigger ls -j of an empty namespace" -j -N "$NS" trigger ls
json_ok "trigger ls JSON of an empty namespace" 'd["triggers"] == [] and d["counts"]["total"] == 0 and d["trigger_log"] is False'
expect 0 "handler ls of an empty namespace" -N "$NS" handler ls
out_empty "handler ls prints nothing without handlers"
expect 0 "logs before any dispatcherd" -N "$NS" logs
out_empty "logs prints nothing before any dispatcherd"
after=$(cd "$NS" && ls -A . .woof)
if [ "$before" = "$after" ]; then pass "status, trigger ls, handler ls, logs created nothing"
else fail "status, trigger ls, handler ls, logs created nothing" "$(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"; fi

# the handlers: hw, and "slow" (runs until $NS/go exists, then exits 3)
cp "$HWDIR/hw" "$NS/hw"
cat >"$NS/slow" <<'EOF'
#!/bin/sh
echo "slow started, attempt $WOOF_CALL_ATTEMPT"
while [ ! -e "$WOOFC_DIR/go" ]; do sleep 0.05; done
echo "slow done" >&2
exit 3
EOF
chmod 755 "$NS/hw" "$NS/slow"
printf 'not a handler\n' >"$NS/notes.txt"	# a plain file is no handler
cat >"$NS/woof.conf" <<'EOF'
[namespace]
max_concurrent = 1       # so that a second call queues behind "slow"
timeout = 60s
memory_max = 64M         # asked for; the status says whether this host enforces it

[handler hw]
runtime = exec
timeout = 10s

[handler slow]
timeout = 30s

[handler ghost]          # configured, no file
runtime = warm
EOF
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS/hw" "$NS/slow" "$NS/notes.txt" "$NS/woof.conf"
hw_size=$(stat -c %s "$NS/hw")

expect 0 "handler ls" -N "$NS" handler ls
out_has "handler ls shows hw (executable, exec, 10s)" "^hw +executable +exec +10s +0 +0 +- +- +-$"
out_has "handler ls shows slow with its timeout" "^slow +executable +exec +30s "
out_has "handler ls shows ghost (configured, no file, warm)" "^ghost +missing +warm +60s "
out_lacks "handler ls leaves out plain files" "^notes.txt"
out_lacks "handler ls leaves out woof.conf" "^woof.conf"
expect 0 "handler ls -j" -j -N "$NS" handler ls
json_ok "handler ls JSON" '[h["name"] for h in d["handlers"]] == ["ghost", "hw", "slow"] and d["config"]["found"] is True and d["config"]["error"] is None and d["dispatcherd_running"] is False'
json_ok "handler ls JSON: runtimes, timeouts, files" '{h["name"]: (h["file"], h["runtime"], h["timeout_ms"], h["timeout_from"], h["configured"]) for h in d["handlers"]} == {"ghost": ("missing", "warm", 60000, "namespace", True), "hw": ("executable", "exec", 10000, "handler", True), "slow": ("executable", "exec", 30000, "handler", True)}'
json_ok "handler ls JSON: no calls, nothing running" 'all(h["calls"] == 0 and h["failures"] == 0 and h["last_call"] is None and h["running"] is None for h in d["handlers"])'

# logs -f before any dispatcherd created .woof/log: it waits for the log to appear
timeout 60 "$WOOFCTL" -j logs -f "$NS" >"$T/lf1" 2>"$T/lf1.err" &
lf1=$!; BG_PIDS+=("$lf1")

# a put with no dispatcherd running: pending
(cd "$NS" && as_user "$HWDIR/hw-start" -W hello) >"$T/hwstart" 2>&1
if grep -q "at seq_no 1" "$T/hwstart"; then pass "hw-start put seq 1 with handler hw"; else fail "hw-start" "$(cat "$T/hwstart")"; fi
expect 0 "trigger ls --state pending" -N "$NS" trigger ls --state pending
out_has "trigger 1 is pending" "^ +1 +hello +1 +hw +pending +- +- +- "
out_has "summary counts the pending trigger" "^1 trigger: 1 pending, 0 running, 0 redelivered, 0 done, 0 failed, 0 orphan$"
expect 0 "trigger ls -j, trigger pending" -j -N "$NS" trigger ls
json_ok "pending trigger in JSON" 'd["counts"]["pending"] == 1 and d["counts"]["total"] == 1 and d["triggers"][0]["state"] == "pending" and d["triggers"][0]["recorded"] is False and d["triggers"][0]["attempt"] is None and d["latest"] == 1 and d["done_floor"] == 0 and d["dispatcherd_running"] is False'
expect 0 "status -j with a trigger waiting" -j -N "$NS" status
json_ok "status shows the backlog" 'd["trigger_log"]["present"] is True and d["trigger_log"]["latest"] == 1 and d["trigger_log"]["done_floor"] == 0 and d["trigger_log"]["backlog"] == 1'
expect 0 "status, human, with a trigger waiting" -N "$NS" status
out_has "status shows latest, done_floor, backlog" "^trigger log: +latest 1, done_floor 0, backlog 1 "

# ---- dispatcherd running -------------------------------------------------------------------

start_daemon
if wait_until 20 state_is 1 done; then pass "trigger 1 ran: done"; else fail "trigger 1 ran: done" "state $(tstate 1)"; fi
if wait_until 10 file_has "$T/lf1" '"text":"hello world"'; then pass "logs -f started before the log existed gets hw's output"
else fail "logs -f started before the log existed gets hw's output" "$(head -c 300 "$T/lf1") $(cat "$T/lf1.err")"; fi

expect 0 "status with dispatcherd" -N "$NS" status
cp "$OUT" "$T/status.human"
out_has "status names the running dispatcherd and its pid" "^dispatcherd: +running, pid $DPID$"
out_has "status shows max_concurrent" "^calls: +0 running \(max_concurrent 1\), 0 queued"
out_has "status lists memory.max as asked" "^  memory.max +64.0 MiB "
out_has "status lists the timeout limit" "^  timeout +- +enforced"
out_has "status shows the handler hw" "^  hw +exec +0 +0 +1 +0 +- +10s$"
expect 0 "status -j with dispatcherd" -j -N "$NS" status
cp "$OUT" "$T/status.json"
json_ok "status JSON: dispatcherd running" 'd["dispatcherd"]["running"] is True and d["dispatcherd"]["pid"] == '"$DPID"' and d["status"]["pid"] == '"$DPID"' and d["status"]["state"] == "running" and d["status"]["complete"] is True'
json_ok "status JSON: settings from woof.conf" 'd["status"]["max_concurrent"] == 1 and d["status"]["timeout_ms"] == 60000 and {h["name"]: h["timeout_ms"] for h in d["status"]["handlers"]}["hw"] == 10000'
json_ok "status JSON: the limits" '[l["name"] for l in d["status"]["limits"]] == ["memory.max", "pids.max", "cpu.max", "timeout"] and d["status"]["limits"][0]["value"] == "67108864" and d["status"]["limits"][0]["enforced"] in ("yes", "no") and d["status"]["limits"][1]["enforced"] == "n/a"'
json_ok "status JSON: every limit not enforced is explained" 'all(any(n.startswith(l["name"] + " ") for n in d["status"]["not_enforced"]) for l in d["status"]["limits"] if l["enforced"] == "no")'
json_ok "status JSON: counters and trigger log" 'd["status"]["counters"]["done"] == 1 and d["status"]["counters"]["failed"] == 0 and d["trigger_log"]["done_floor"] == 1 and d["trigger_log"]["backlog"] == 0'
# what the status file says, read independently of woofctl
if python3 - "$NS/.woof/status" "$T/status.json" "$T/status.human" <<'EOF' 2>"$T/pyerr"
import json, sys
raw = open(sys.argv[1]).read().splitlines()
d = json.load(open(sys.argv[2]))["status"]
human = open(sys.argv[3]).read()
sandbox = [l[len("sandbox "):] for l in raw if l.startswith("sandbox ")]
assert d["sandbox"] == sandbox, "sandbox lines differ"
ne = [s.strip()[2:] for s in sandbox if s.strip().startswith("- ")]
assert d["not_enforced"] == ne, "not_enforced %r != %r" % (d["not_enforced"], ne)
for n in ne:
    assert "  - " + n in human, "human output lacks: " + n
no = [l.split()[1].split("=")[0] for l in raw if l.startswith("limit ") and "enforced=no" in l]
assert human.count("NOT ENFORCED on this host") == len(no), "NOT ENFORCED count"
EOF
then pass "status shows exactly the status file's sandbox lines and what is not enforced"
else fail "status shows exactly the status file's sandbox lines and what is not enforced" "$(tail -1 "$T/pyerr")"; fi

# logs -f started now: it must get the output of the calls made from here on
timeout 60 "$WOOFCTL" -N "$NS" logs -f -n 0 >"$T/lf2" 2>"$T/lf2.err" &
lf2=$!; BG_PIDS+=("$lf2")
# ... so the calls come once it follows: the woofctl under timeout sleeps in
# woof_wait (a futex), having flagged .woof/log's header (wait_flag, byte 84)
following_log() {
	local p
	p=$(pgrep -P "$lf2" -x woofctl) || return 1
	[ "$(sed 's/.*) //' "/proc/$p/stat" | cut -d' ' -f1)" = S ] &&
		grep -q futex "/proc/$p/wchan" &&
		[ "$(od -An -t u4 -j 84 -N 4 "$NS/.woof/log" | tr -d ' ')" = 1 ]
}
if wait_until 10 following_log; then pass "logs -f -n 0 waits in woof_wait"; else fail "logs -f -n 0 waits in woof_wait" "$(cat "$T/lf2.err")"; fi

as_user "$WOOFCTL" -N "$NS" woof put hello --handler slow --hex 00 >"$OUT" 2>"$ERR"
out_has "put for slow: seq 2" "^appended seq 2$"
if wait_until 20 state_is 2 running; then pass "trigger 2 (slow) is running"; else fail "trigger 2 (slow) is running" "state $(tstate 2)"; fi
(cd "$NS" && as_user "$HWDIR/hw-client" -W hello) >/dev/null 2>&1 || fail "hw-client"
as_user "$WOOFCTL" -N "$NS" woof put hello --handler nosuch --hex 00 >/dev/null || fail "put for nosuch"
if wait_until 10 queue_state_is 3 queued; then pass "trigger 3 waits: queued behind max_concurrent 1"; else fail "trigger 3 waits: queued" "state $(tstate 3)"; fi

expect 0 "trigger ls while slow runs" -N "$NS" trigger ls
out_has "trigger 2 shows running with a pid" "^ +2 +hello +2 +slow +running +1 +pid [0-9]+ "
out_has "trigger 3 shows pending, queued" "^ +3 +hello +3 +hw +pending +- +queued "
out_has "trigger 4 shows pending" "^ +4 +hello +4 +nosuch +pending "
out_has "summary while slow runs" "^4 triggers: 2 pending, 1 running, 0 redelivered, 1 done, 0 failed, 0 orphan$"
expect 0 "trigger ls -j while slow runs" -j -N "$NS" trigger ls
json_ok "running trigger in JSON" '[(t["trigger"], t["state"]) for t in d["triggers"]] == [(1, "done"), (2, "running"), (3, "pending"), (4, "pending")] and d["triggers"][1]["attempt"] == 1 and d["triggers"][1]["recorded"] is True and d["triggers"][2]["queue_state"] == "queued"'
expect 0 "trigger ls --state running" -j -N "$NS" trigger ls --state running
json_ok "--state running selects trigger 2" '[t["trigger"] for t in d["triggers"]] == [2] and d["shown"] == 1 and d["counts"]["total"] == 4'
expect 0 "status -j while slow runs" -j -N "$NS" status
json_ok "status lists the running and the queued calls" '[(c["trigger"], c["state"]) for c in d["status"]["calls"]][:2] == [(2, "running"), (3, "queued")] and d["status"]["calls"][0]["pid"] > 0 and d["status"]["running"] == 1 and d["status"]["queued"] >= 1'
json_ok "status shows slow running, hw queued" '{h["name"]: (h["running"], h["queued"]) for h in d["status"]["handlers"]}["slow"] == (1, 0) and {h["name"]: (h["running"], h["queued"]) for h in d["status"]["handlers"]}["hw"] == (0, 1)'
expect 0 "status while slow runs" -N "$NS" status
out_has "status lists the running call" "^ +2 +running +1 +slow +hello +2 +[0-9]+ "
out_has "status lists the queued call" "^ +3 +queued +1 +hw +hello +3 +- "
expect 0 "handler ls while slow runs" -N "$NS" handler ls
out_has "handler ls: slow has 1 running" "^slow +executable +exec +30s +1 +0 +1 +0 "
out_has "handler ls: hw has 1 queued" "^hw +executable +exec +10s +1 +0 +0 +1 "

touch "$NS/go"
for t in 2 3 4; do wait_until 20 eval "! state_is $t running && ! state_is $t pending"; done
expect 0 "trigger ls after the calls ended" -N "$NS" trigger ls
out_has "summary: 2 done, 2 failed" "^4 triggers: 0 pending, 0 running, 0 redelivered, 2 done, 2 failed, 0 orphan$"
out_has "slow failed with exit 3" "^ +2 +hello +2 +slow +failed +1 +exit 3 +[0-9.]+(ms|s) "
out_has "hw (trigger 3) done with exit 0" "^ +3 +hello +3 +hw +done +1 +exit 0 +[0-9.]+(us|ms|s) "
out_has "nosuch failed: no handler file" "^ +4 +hello +4 +nosuch +failed +1 +no handler file +- "
expect 0 "trigger ls -j --state failed" -j -N "$NS" trigger ls --state failed
json_ok "--state failed selects 2 and 4" '[t["trigger"] for t in d["triggers"]] == [2, 4] and d["counts"] == {"total": 4, "pending": 0, "running": 0, "redelivered": 0, "done": 2, "failed": 2, "orphan": 0, "attempts_gt_1": 0}'
json_ok "the failures' reasons" '(d["triggers"][0]["reason"], d["triggers"][0]["exit_status"], d["triggers"][0]["result"]) == ("exit", 3, "exit 3") and (d["triggers"][1]["reason"], d["triggers"][1]["result"], d["triggers"][1]["exit_status"], d["triggers"][1]["start"]) == ("nohandler", "no handler file", None, None)'
json_ok "the call's times and output" 'd["triggers"][0]["duration_ns"] > 0 and d["triggers"][0]["end_ns"] >= d["triggers"][0]["start_ns"] > 0 and d["triggers"][0]["output_bytes"] > 0 and d["triggers"][0]["pid"] > 0'
expect 0 "trigger ls -j --state done,pending" -j -N "$NS" trigger ls --state done,pending
json_ok "--state done,pending selects 1 and 3" '[t["trigger"] for t in d["triggers"]] == [1, 3]'
expect 0 "trigger ls -n 1" -j -N "$NS" trigger ls -n 1
json_ok "-n 1 shows the last trigger, counts all" '[t["trigger"] for t in d["triggers"]] == [4] and d["counts"]["total"] == 4'
expect 0 "trigger ls --state failed -n 1" -N "$NS" trigger ls --state failed -n 1
if [ "$(grep -Ec '^ +[0-9]+ ' "$OUT")" = 1 ] && grep -Eq '^ +4 ' "$OUT"; then pass "--state failed -n 1: the last failed one only"; else fail "--state failed -n 1: the last failed one only"; fi
expect 2 "trigger ls --state bogus" -N "$NS" trigger ls --state bogus
err_has "the bad state is named" "unknown state in 'bogus'"
expect 2 "trigger ls -n x" -N "$NS" trigger ls -n x
expect 2 "trigger ls with an argument" -N "$NS" trigger ls extra

# logs -f (started before these calls) got their output
if wait_until 10 file_has "$T/lf2" '^T4 note failed: '; then pass "logs -f gets the note of a failed call made after it started"; else fail "logs -f gets the note of a failed call made after it started" "$(cat "$T/lf2")"; fi
if grep -qx "T3 out hello world" "$T/lf2" && grep -qx "T3 out from woof hello at 3 with string: my second bark" "$T/lf2"; then pass "logs -f gets hw's output of a call made after it started"; else fail "logs -f gets hw's output of a call made after it started" "$(cat "$T/lf2")"; fi
if grep -qx "T2 out slow started, attempt 1" "$T/lf2" && grep -qx "T2 err slow done" "$T/lf2"; then pass "logs -f gets stdout and stderr"; else fail "logs -f gets stdout and stderr" "$(cat "$T/lf2")"; fi
if ! grep -q "^T1 " "$T/lf2"; then pass "logs -f -n 0 printed no old lines"; else fail "logs -f -n 0 printed no old lines"; fi
alive=no; kill -0 "$lf2" 2>/dev/null && alive=yes
kill -INT "$lf2"; wait "$lf2"; st=$?
if [ "$alive" = yes ] && [ "$st" -eq 0 ]; then pass "logs -f runs until SIGINT, then exits 0"; else fail "logs -f runs until SIGINT, then exits 0" "running $alive, exit $st"; fi
jsonl_ok "logs -f -j (started before the log existed) got later calls too" "$T/lf1" '("out", 3, "hello world") in [(d["stream"], d["trigger"], d["text"]) for d in ds] and any(d["stream"] == "note" and d["trigger"] == 4 for d in ds)'
alive=no; kill -0 "$lf1" 2>/dev/null && alive=yes
kill -TERM "$lf1"; wait "$lf1"; st=$?
if [ "$alive" = yes ] && [ "$st" -eq 0 ]; then pass "logs -f runs until SIGTERM, then exits 0"; else fail "logs -f runs until SIGTERM, then exits 0" "running $alive, exit $st"; fi

expect 0 "logs" -N "$NS" logs
cp "$OUT" "$T/logs.all"
out_has "logs: hw's output of trigger 1" "^T1 out hello world$"
out_has "logs: hw's second line" "^T1 out from woof hello at 1 with string: my first bark$"
out_has "logs: slow's stderr" "^T2 err slow done$"
out_has "logs: dispatcherd's note on the missing handler" "^T4 note failed: .*nosuch.*no handler file"
out_has "logs: the note on slow's exit" "^T2 note failed: exit status 3$"
if [ "$(grep -Evc '^T[0-9]+ (out|err|note) ' "$OUT")" = 0 ]; then pass "every line is 'T<n> <stream> <text>'"; else fail "every line is 'T<n> <stream> <text>'"; fi
expect 0 "logs --trigger 3" -N "$NS" logs --trigger 3
if [ "$(wc -l <"$OUT")" = 2 ] && [ "$(grep -c '^T3 out ' "$OUT")" = 2 ]; then pass "--trigger 3: its two lines only"; else fail "--trigger 3: its two lines only" "$(cat "$OUT")"; fi
expect 0 "logs -n 1" -N "$NS" logs -n 1
if [ "$(wc -l <"$OUT")" = 1 ] && [ "$(cat "$OUT")" = "$(tail -n 1 "$T/logs.all")" ]; then pass "-n 1: the last line"; else fail "-n 1: the last line" "$(cat "$OUT")"; fi
expect 0 "logs -j" -j -N "$NS" logs
jsonl_ok "logs JSON Lines" "$OUT" 'len(ds) == '"$(wc -l <"$T/logs.all")"' and all(set(d) >= {"trigger", "attempt", "stream", "pid", "time_ns", "time", "text"} for d in ds) and ds[0]["trigger"] == 1 and ds[0]["stream"] == "out" and ds[0]["text"] == "hello world" and ds[0]["pid"] > 0'
(cd "$T" && "$WOOFCTL" logs "$NS" >"$OUT" 2>"$ERR"); rc=$?
if [ "$rc" = 0 ] && cmp -s "$OUT" "$T/logs.all"; then pass "logs NS (namespace as the argument)"; else fail "logs NS (namespace as the argument)" "exit $rc"; fi
(cd "$NS" && "$WOOFCTL" logs --trigger 1 >"$OUT" 2>"$ERR"); rc=$?
if [ "$rc" = 0 ] && [ "$(wc -l <"$OUT")" = 2 ]; then pass "logs in the namespace as the current directory"; else fail "logs in the namespace as the current directory" "exit $rc"; fi
expect 2 "logs -n x" -N "$NS" logs -n x
expect 2 "logs --trigger 0" -N "$NS" logs --trigger 0
expect 2 "logs with two namespaces" logs "$NS" "$NS"
expect 1 "logs of a missing namespace" logs "$T/missing"
err_has "error message format" "^woofctl: .+: .+"

expect 0 "handler ls after the calls" -j -N "$NS" handler ls
json_ok "handler ls: calls and failures per handler" '{h["name"]: (h["file"], h["calls"], h["failures"]) for h in d["handlers"]} == {"ghost": ("missing", 0, 0), "hw": ("executable", 2, 0), "nosuch": ("missing", 1, 1), "slow": ("executable", 1, 1)} and d["dispatcherd_running"] is True'
json_ok "handler ls: last call times, running/queued now" 'all((h["last_call_ns"] is not None) == (h["calls"] > 0) for h in d["handlers"]) and all(h["running"] == 0 and h["queued"] == 0 for h in d["handlers"])'
expect 0 "handler ls, human" -N "$NS" handler ls
out_has "handler ls: nosuch, missing, 1 failed" "^nosuch +missing +exec +60s +1 +1 +0 +0 +[0-9]{4}-"
out_has "handler ls: hw, 2 calls" "^hw +executable +exec +10s +2 +0 +0 +0 +[0-9]{4}-"
expect 2 "handler ls with an argument" -N "$NS" handler ls extra

expect 0 "handler info hw" -N "$NS" handler info hw
out_has "handler info: size" "^size: +$hw_size bytes$"
out_has "handler info: mode" "^mode: +0755 \(-rwxr-xr-x\)"
out_has "handler info: executable" "^executable: +yes$"
out_has "handler info: runtime and timeout from woof.conf" "^timeout: +10s \(its \[handler\] section\)$"
out_has "handler info: calls" "^calls: +2 recorded, 0 failed$"
out_has "handler info: its last calls" "^ +3 +hello +3 +done +1 +exit 0 "
expect 0 "handler info -j hw" -j -N "$NS" handler info hw
json_ok "handler info JSON" 'd["name"] == "hw" and d["executable"] is True and d["stat"]["size"] == '"$hw_size"' and d["stat"]["mode"] == "0755" and d["runtime"] == "exec" and d["timeout_ms"] == 10000 and [c["trigger"] for c in d["last_calls"]] == [1, 3] and all(c["state"] == "done" for c in d["last_calls"]) and d["path"] == "'"$NS"'/hw"'
expect 0 "handler info -n 1" -j -N "$NS" handler info hw -n 1
json_ok "handler info -n 1: the last call only" '[c["trigger"] for c in d["last_calls"]] == [3]'
expect 0 "handler info of a handler without a file" -j -N "$NS" handler info nosuch
json_ok "handler info nosuch: missing, 1 failed call" 'd["file"] == "missing" and d["stat"] is None and d["failures"] == 1 and d["last_calls"][0]["reason"] == "nohandler"'
expect 0 "handler info of a configured handler without a file" -N "$NS" handler info ghost
out_has "handler info ghost: warm from woof.conf" "^runtime: +warm$"
expect 1 "handler info of an unknown handler" -N "$NS" handler info zzz
err_has "unknown handler is explained" "no such handler"
expect 1 "handler info of a WOOF" -N "$NS" handler info hello
expect 1 "handler info of a bad name" -N "$NS" handler info a/b
expect 2 "handler info without NAME" -N "$NS" handler info
expect 2 "handler info -n x" -N "$NS" handler info hw -n x
printf '[handler hw]\nbogus = 1\n' >"$T/bad.conf"
cp "$NS/woof.conf" "$T/good.conf"; cp "$T/bad.conf" "$NS/woof.conf"
expect 1 "handler ls with a bad woof.conf" -j -N "$NS" handler ls
err_has "the bad line is named" "woof.conf:2: unknown key 'bogus'"
json_ok "a bad woof.conf is in the JSON; handlers still listed" '"woof.conf:2" in d["config"]["error"] and "hw" in [h["name"] for h in d["handlers"]]'
cp "$T/good.conf" "$NS/woof.conf"

# ---- SIGKILL of dispatcherd while slow runs: running, then redelivered ------------------------

rm -f "$NS/go"
as_user "$WOOFCTL" -N "$NS" woof put hello --handler slow --hex 00 >/dev/null || fail "put for slow (2)"
if wait_until 20 state_is 5 running; then pass "trigger 5 (slow) is running"; else fail "trigger 5 (slow) is running" "state $(tstate 5)"; fi
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; killed=$DPID; DPID=
expect 0 "status after SIGKILL exits 0" -N "$NS" status
out_has "status: not running, last pid" "^dispatcherd: +not running \(last served by pid $killed\)$"
out_has "status: the last one did not stop cleanly" "did not stop cleanly"
expect 0 "status -j after SIGKILL" -j -N "$NS" status
json_ok "status JSON after SIGKILL" 'd["dispatcherd"]["running"] is False and d["dispatcherd"]["pid"] == '"$killed"' and d["status"]["state"] == "running" and d["trigger_log"]["backlog"] == 1'
expect 0 "trigger ls after SIGKILL" -N "$NS" trigger ls
out_has "trigger 5 still shows running" "^ +5 +hello +5 +slow +running +1 "
out_has "trigger ls says the running call was interrupted" "^note: no dispatcherd serves this namespace: its 1 running call was interrupted; it runs again at its next start$"
expect 0 "trigger ls -j after SIGKILL" -j -N "$NS" trigger ls
json_ok "trigger ls JSON: no dispatcherd" 'd["dispatcherd_running"] is False and d["counts"]["running"] == 1'

start_daemon
if wait_until 20 state_is 5 redelivered; then pass "trigger 5 runs again: redelivered"; else fail "trigger 5 runs again: redelivered" "state $(tstate 5)"; fi
expect 0 "trigger ls --state redelivered" -j -N "$NS" trigger ls --state redelivered
json_ok "--state redelivered selects trigger 5, attempt 2" '[(t["trigger"], t["attempt"]) for t in d["triggers"]] == [(5, 2)] and d["counts"]["redelivered"] == 1'
expect 0 "trigger ls, human, redelivered" -N "$NS" trigger ls
out_has "trigger 5 shows redelivered, attempt 2" "^ +5 +hello +5 +slow +redelivered +2 "
if wait_until 10 eval '"$WOOFCTL" -N "$NS" logs --trigger 5 | grep -qx "T5#2 out slow started, attempt 2"'; then pass "logs marks the second attempt (T5#2)"; else fail "logs marks the second attempt (T5#2)" "$("$WOOFCTL" -N "$NS" logs --trigger 5)"; fi
touch "$NS/go"
if wait_until 20 state_is 5 failed; then pass "redelivered trigger 5 ended (failed, exit 3)"; else fail "redelivered trigger 5 ended" "state $(tstate 5)"; fi
expect 0 "trigger ls -j at the end" -j -N "$NS" trigger ls
json_ok "counts at the end" 'd["counts"] == {"total": 5, "pending": 0, "running": 0, "redelivered": 0, "done": 2, "failed": 3, "orphan": 0, "attempts_gt_1": 1} and d["triggers"][4]["attempt"] == 2'
expect 0 "trigger ls at the end" -N "$NS" trigger ls
out_has "summary at the end" "^5 triggers: 0 pending, 0 running, 0 redelivered, 2 done, 3 failed, 0 orphan \(1 ran more than once\)$"

# ---- a clean stop ------------------------------------------------------------------------------

kill -TERM "$DPID"; wait "$DPID"; st=$?; stopped=$DPID; DPID=
[ "$st" = 0 ] || fail "dispatcherd stopped cleanly" "exit $st"
expect 0 "status after a clean stop" -j -N "$NS" status
json_ok "status JSON after a clean stop" 'd["dispatcherd"]["running"] is False and d["dispatcherd"]["pid"] == '"$stopped"' and d["status"]["state"] == "stopped" and d["trigger_log"]["backlog"] == 0'
expect 0 "status, human, after a clean stop" -N "$NS" status
out_has "status: it stopped cleanly" "it stopped cleanly"
# without call records (as when .woof/calls no longer holds a trigger's records),
# triggers at or below done_floor are done, "(no record)"
mv "$NS/.woof/calls" "$T/calls.saved"
expect 0 "trigger ls without call records" -N "$NS" trigger ls
out_has "a finished trigger without records shows done, (no record)" "^ +4 +hello +4 +nosuch +done +- +\(no record\) "
out_has "summary without call records" "^5 triggers: 0 pending, 0 running, 0 redelivered, 5 done, 0 failed, 0 orphan$"
expect 0 "trigger ls -j without call records" -j -N "$NS" trigger ls
json_ok "JSON without call records" 'd["call_log"] is False and all(t["state"] == "done" and t["recorded"] is False for t in d["triggers"]) and d["done_floor"] == 5'
mv "$T/calls.saved" "$NS/.woof/calls"

expect 1 "status of a missing namespace" -N "$T/missing" status
err_has "status error message" "^woofctl: namespace .*missing: "
expect 2 "status with an argument" -N "$NS" status extra
expect 1 "trigger ls of a missing namespace" -N "$T/missing" trigger ls
expect 1 "handler ls of a missing namespace" -N "$T/missing" handler ls

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
