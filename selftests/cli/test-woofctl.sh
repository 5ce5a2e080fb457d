#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-woofctl.sh - behaviour tests of the woofctl CLI: every command, the
# exit statuses (0 ok, 1 failure, 2 usage), help at every level, the JSON
# output, put/get round trips, padding and oversize input, tail -f across
# processes, and the rejection of bad names.
#
# Usage: test-woofctl.sh PATH-TO-WOOFCTL
# Prints one line per check and "N passed, N failed"; exits 1 if any failed.

set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 PATH-TO-WOOFCTL" >&2
	exit 2
fi
WOOFCTL=$(realpath "$1")
unset WOOFC_DIR

T=$(mktemp -d "${TMPDIR:-/tmp}/test-woofctl.XXXXXX") || exit 1
BG_PIDS=()
cleanup() {
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

NS=$T/ns
OUT=$T/out
ERR=$T/err
passed=0
failed=0

pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() {
	echo "FAIL - $1${2:+ ($2)}"
	failed=$((failed + 1))
	if [ -s "$ERR" ]; then sed 's/^/       stderr: /' "$ERR" | head -5; fi
}

# run_w: run woofctl with stdout in $OUT, stderr in $ERR, status in $rc
rc=0
run_w() { "$WOOFCTL" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
# run_in FILE ARGS...: the same with stdin from FILE
run_in() { local in=$1; shift; "$WOOFCTL" "$@" <"$in" >"$OUT" 2>"$ERR"; rc=$?; }

# expect RC DESCRIPTION ARGS...: run woofctl ARGS, check the exit status
expect() {
	local want=$1 desc=$2; shift 2
	run_w "$@"
	if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc" "exit $rc, want $want"; fi
}
# out_has DESCRIPTION REGEX: stdout of the last run matches
out_has() {
	if grep -Eq -- "$2" "$OUT"; then pass "$1"; else fail "$1" "stdout lacks /$2/"; fi
}
err_has() {
	if grep -Eq -- "$2" "$ERR"; then pass "$1"; else fail "$1" "stderr lacks /$2/"; fi
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
# jsonl_ok DESCRIPTION COUNT PYTHON-EXPR: stdout is COUNT JSON lines, ds, and EXPR holds
jsonl_ok() {
	if python3 -c '
import json, sys
ds = [json.loads(l) for l in sys.stdin.read().splitlines()]
assert len(ds) == '"$2"', "%d lines" % len(ds)
assert all(d.get("schema") == 1 for d in ds), "no schema 1"
assert ('"$3"'), "expression is false"
' <"$OUT" 2>"$T/pyerr"; then pass "$1"; else fail "$1" "$(tail -1 "$T/pyerr")"; fi
}
# same_bytes DESCRIPTION FILE-A FILE-B
same_bytes() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$(cmp "$2" "$3" 2>&1 | head -1)"; fi
}
# the latest sequence number of WOOF $1 in $NS
latest() { "$WOOFCTL" -j -N "$NS" woof stat "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["latest"])'; }
# wait_for FILE REGEX SECONDS: until FILE matches
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

echo "# woofctl: $WOOFCTL"

# ---- usage, help, version ---------------------------------------------------------

expect 2 "no arguments is a usage error"			# exit 2
err_has "no arguments prints the usage on stderr" "Usage: woofctl"
expect 0 "woofctl help" help
out_has "woofctl help lists woof put" "woof put NAME"
out_has "woofctl help lists ns init" "ns init DIR"
expect 0 "woofctl --help" --help
out_has "woofctl --help prints the usage" "^Usage: woofctl"
expect 0 "woofctl -h" -h
expect 0 "woofctl woof help" woof help
out_has "woof help lists its commands" "woof tail NAME"
expect 0 "woofctl woof --help" woof --help
expect 0 "woofctl ns help" ns help
out_has "ns help lists init" "ns init DIR"
expect 0 "woofctl namespace help (alias)" namespace help
expect 0 "woofctl woof put help" woof put help
out_has "woof put help shows its usage" "Usage: woofctl \[OPTIONS\] woof put NAME"
out_has "woof put help shows its options" "--hex HEX"
expect 0 "woofctl woof put --help" woof put --help
out_has "woof put --help shows its usage" "Usage: woofctl \[OPTIONS\] woof put NAME"
expect 0 "woofctl woof tail -h" woof tail -h
out_has "woof tail -h shows -f" "--follow"
expect 0 "woofctl ns init help" ns init help
out_has "ns init help shows its usage" "ns init DIR"
expect 0 "woofctl help woof get" help woof get
out_has "help woof get shows its usage" "woof get NAME \[SEQ\]"
expect 2 "help for an unknown command" help woof frob
expect 2 "unknown object" frob
err_has "unknown object is named on stderr" "unknown object 'frob'"
err_has "unknown object shows the usage line" "^Usage: woofctl \[OPTIONS\] OBJECT COMMAND \[ARGS\]$"
err_has "unknown object says where help is" "^Try 'woofctl help'\.$"
n=$(wc -l <"$ERR")
[ "$n" -eq 3 ] && pass "unknown object: three lines, not the whole help" ||
	fail "unknown object: three lines, not the whole help" "$n lines"
expect 2 "unknown command" woof frob
err_has "unknown command is named on stderr" "unknown command 'frob'"
err_has "unknown command shows the object's usage line" "^Usage: woofctl \[OPTIONS\] woof COMMAND"
err_has "unknown command says where help is" "^Try 'woofctl help woof'\.$"
n=$(wc -l <"$ERR")
[ "$n" -eq 3 ] && pass "unknown command: three lines" || fail "unknown command: three lines" "$n lines"
expect 2 "unknown object with -j" -j frob
json_ok "unknown object with -j: a JSON error object" \
	'd["error"]["message"].startswith("unknown object") and "frob" in d["error"]["message"] and d["error"]["exit_status"] == 2 and d["error"]["help"] == "woofctl help"'
[ ! -s "$ERR" ] && pass "unknown object with -j: nothing on stderr" ||
	fail "unknown object with -j: nothing on stderr"
expect 2 "object without a command" woof
expect 2 "unknown global option" --frob woof ls
expect 2 "unknown command option" -N "$T" woof ls --frob
err_has "unknown option is named on stderr" "unknown option '--frob'"
expect 2 "global option without its argument" -N
expect 2 "extra argument" -N "$T" woof ls extra
expect 0 "woofctl --version" --version
out_has "--version names woofctl" "^woofctl [^ ]+ \(libwoof [0-9]+\.[0-9]+\.[0-9]+"
expect 0 "woofctl -V" -V
out_has "-V names woofctl" "^woofctl "
expect 0 "woofctl version" version
out_has "version names libwoof" "libwoof"
expect 0 "woofctl -j version" -j version
json_ok "version JSON" '"woofctl" in d and "libwoof" in d'
expect 2 "version takes no arguments" version extra

# ---- ns init ---------------------------------------------------------------------

expect 0 "ns init" ns init "$NS"
out_has "ns init prints the namespace" "$NS"
if [ -d "$NS/.woof" ]; then pass "ns init made .woof/"; else fail "ns init made .woof/"; fi
expect 0 "ns init again (idempotent)" ns init "$NS"
expect 0 "ns init -j" -j ns init "$NS"
json_ok "ns init JSON" 'd["namespace"] == "'"$NS"'"'
expect 1 "ns init below a missing directory" ns init "$T/missing/deeper"
expect 2 "ns init without DIR" ns init
expect 1 "a missing namespace" -N "$T/nonexistent" woof ls
err_has "error message format" "^woofctl: .+: .+"

# ---- woof create --------------------------------------------------------------------

expect 0 "create" -N "$NS" woof create w16 --element-size 16 --history 4
out_has "create says created" "^created"
expect 0 "create again, same geometry" -N "$NS" woof create w16 --element-size 16 --history 4
out_has "create again says opened" "^opened"
expect 1 "create again, other geometry" -N "$NS" woof create w16 --element-size 32 --history 4
err_has "other geometry is explained" "element size 16, history 4"
expect 1 "create --excl of an existing WOOF" -N "$NS" woof create w16 --element-size 16 --history 4 --excl
expect 0 "create --excl of a new WOOF" -N "$NS" woof create big --element-size 100 --history 10 --excl
expect 0 "create -j" -j -N "$NS" woof create d8 --element-size 8 --history 100 --durable
json_ok "create JSON" 'd["action"] == "created" and d["element_size"] == 8 and d["history_size"] == 100 and d["durable"] is True'
expect 2 "create without --element-size" -N "$NS" woof create x --history 4
expect 2 "create without --history" -N "$NS" woof create x --element-size 4
expect 2 "create with a malformed size" -N "$NS" woof create x --element-size 12abc --history 4
expect 2 "create with a negative size" -N "$NS" woof create x --element-size -1 --history 4
expect 2 "create --excl --reset" -N "$NS" woof create x --element-size 4 --history 4 --excl --reset
expect 1 "create with element size 0" -N "$NS" woof create x --element-size 0 --history 4
expect 1 "create with history 0" -N "$NS" woof create x --element-size 4 --history 0
expect 2 "create without NAME" -N "$NS" woof create --element-size 4 --history 4

# ---- bad names ------------------------------------------------------------------------

for name in "" ".." "." "a/b" ".hidden" "$(printf 'x%.0s' {1..256})"; do
	shown=${name:0:12}
	expect 1 "create rejects name '$shown'" -N "$NS" woof create "$name" --element-size 4 --history 4
done
for name in "" ".." "a/b" ".woof"; do
	expect 1 "put rejects name '$name'" -N "$NS" woof put "$name" --hex 00
	expect 1 "get rejects name '$name'" -N "$NS" woof get "$name"
done
# the message names the rule the name broke
expect 1 "create rejects the name woof.conf" -N "$NS" woof create woof.conf --element-size 4 --history 4
err_has "woof.conf: the namespace's own file" "invalid WOOF name 'woof.conf': .*namespace's own file"
[ ! -e "$NS/woof.conf" ] && pass "no woof.conf was created" || fail "no woof.conf was created"
expect 1 "create rejects '.hidden'" -N "$NS" woof create .hidden --element-size 4 --history 4
err_has "'.hidden': names beginning with '.' are reserved" "invalid WOOF name '.hidden': names beginning with '.' are reserved"
expect 1 "get rejects 'a/b'" -N "$NS" woof get a/b
err_has "'a/b': contains '/'" "invalid WOOF name 'a/b': contains '/'"
expect 1 "stat rejects a control character" -N "$NS" woof stat "$(printf 'a\tb')"
err_has "a tab: contains a control character" "contains a control character"
expect 1 "create rejects 256 bytes" -N "$NS" woof create "$(printf 'x%.0s' {1..256})" --element-size 4 --history 4
err_has "256 bytes: longer than 255" "longer than 255 bytes"
expect 1 "a URI's bad name is explained" -N "$NS" woof get "woof://localhost$NS/.x"
err_has "a URI's bad name: reserved" "invalid WOOF name '.x': names beginning"
expect 1 "bad name with -j" -j -N "$NS" woof stat a/b
json_ok "bad name with -j: a JSON error object with errno" \
	'"contains" in d["error"]["message"] and d["error"]["errno_name"] == "EINVAL" and d["error"]["errno"] == 22 and d["error"]["exit_status"] == 1'
[ ! -s "$ERR" ] && pass "bad name with -j: nothing on stderr" || fail "bad name with -j: nothing on stderr"
expect 1 "rm rejects name '..'" -N "$NS" woof rm ..
expect 1 "stat rejects name 'a/b'" -N "$NS" woof stat a/b
if [ ! -e "$NS/a" ] && [ -d "$NS/.woof" ]; then pass "bad names left the namespace alone"; else fail "bad names left the namespace alone"; fi

# ---- put / get ---------------------------------------------------------------------

expect 0 "put --hex" -N "$NS" woof put w16 --hex "68 65 6c 6c 6f"
out_has "put prints the seq" "^appended seq 1$"
printf 'hello\0\0\0\0\0\0\0\0\0\0\0' >"$T/hello16"
run_w -N "$NS" woof get w16 1 --raw
if [ "$rc" -eq 0 ]; then pass "get --raw"; else fail "get --raw" "exit $rc"; fi
same_bytes "put --hex / get --raw round trip (zero padded)" "$OUT" "$T/hello16"
expect 0 "get SEQ, human" -N "$NS" woof get w16 1
printf 'seq 1\n00000000  68 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |hello...........|\n00000010\n' >"$T/dump"
same_bytes "get prints a seq line and a hex+ASCII dump" "$OUT" "$T/dump"
expect 0 "get -j" -j -N "$NS" woof get w16 1
json_ok "get JSON carries the element as hex" 'd["seq"] == 1 and d["hex"] == "68656c6c6f" + "00" * 11 and d["name"] == "w16"'

head -c 16 /dev/urandom >"$T/rand16"
expect 0 "put --file" -N "$NS" woof put w16 --file "$T/rand16"
out_has "put --file prints seq 2" "^appended seq 2$"
run_w -N "$NS" woof get w16 2 --raw
same_bytes "put --file / get --raw round trip" "$OUT" "$T/rand16"

head -c 16 /dev/urandom >"$T/rand16b"
run_in "$T/rand16b" -j -N "$NS" woof put w16
if [ "$rc" -eq 0 ]; then pass "put from stdin -j"; else fail "put from stdin -j" "exit $rc"; fi
json_ok "put JSON is {schema, seq}" 'd == {"schema": 1, "seq": 3}'
run_w -N "$NS" woof get w16 --raw
same_bytes "put stdin / get (latest) round trip" "$OUT" "$T/rand16b"
run_w -N "$NS" woof get w16 0 --raw
same_bytes "get SEQ 0 is the latest" "$OUT" "$T/rand16b"
run_in "$T/rand16" -N "$NS" woof put w16 --file -
out_has "put --file - reads stdin" "^appended seq 4$"

printf 'hi' >"$T/hi"
expect 0 "put short input" -N "$NS" woof put w16 --file "$T/hi"
printf 'hi\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >"$T/hi16"
run_w -N "$NS" woof get w16 --raw
same_bytes "short input is zero padded" "$OUT" "$T/hi16"
before=$(latest w16)
head -c 17 /dev/zero >"$T/z17"
expect 1 "put oversize file" -N "$NS" woof put w16 --file "$T/z17"
err_has "oversize is explained" "17 bytes.*16"
run_in "$T/z17" -N "$NS" woof put w16
if [ "$rc" -eq 1 ]; then pass "put oversize stdin"; else fail "put oversize stdin" "exit $rc"; fi
expect 1 "put oversize --hex" -N "$NS" woof put w16 --hex "$(printf '00%.0s' {1..17})"
if [ -n "$before" ] && [ "$(latest w16)" = "$before" ]; then pass "oversize input appended nothing"; else fail "oversize input appended nothing"; fi
expect 1 "put --hex with a bad digit" -N "$NS" woof put w16 --hex "zz"
expect 1 "put --hex with an odd digit count" -N "$NS" woof put w16 --hex "abc"
expect 2 "put --hex and --file" -N "$NS" woof put w16 --hex 00 --file "$T/hi"
expect 1 "put --file of a missing file" -N "$NS" woof put w16 --file "$T/nonexistent"
expect 1 "put with a bad handler name" -N "$NS" woof put w16 --hex 00 --handler a/b
err_has "a bad handler name is explained" "invalid handler name 'a/b': contains '/'"
expect 1 "put with the handler name woof.conf" -N "$NS" woof put w16 --hex 00 --handler woof.conf
err_has "handler woof.conf is explained" "invalid handler name 'woof.conf': .*own file"
"$WOOFCTL" -N "$NS" woof create hx --element-size 4 --history 8 >/dev/null
expect 2 "put --hex '' is refused" -N "$NS" woof put hx --hex ""
err_has "put --hex '' says why" "--hex: no hex digits"
expect 2 "put --hex ' ' is refused" -N "$NS" woof put hx --hex " "
expect 2 "put --hex '' -j" -j -N "$NS" woof put hx --hex ""
[ "$(latest hx)" = 0 ] && pass "put --hex '' appended nothing" ||
	fail "put --hex '' appended nothing" "latest $(latest hx)"
"$WOOFCTL" -N "$NS" woof rm hx >/dev/null
json_ok "a usage error with -j: JSON with the usage line" \
	'd["error"]["exit_status"] == 2 and d["error"]["usage"].startswith("woofctl [OPTIONS] woof put NAME") and d["error"]["help"] == "woofctl help woof put"'
expect 1 "a missing WOOF with -j" -j -N "$NS" woof get nosuch
json_ok "a missing WOOF with -j: ENOENT in JSON" 'd["error"]["errno_name"] == "ENOENT" and "nosuch" in d["error"]["message"]'
expect 0 "put with a handler" -N "$NS" woof put w16 --hex 00 --handler on_put
out_has "put with a handler appends" "^appended seq 6$"
expect 1 "put to a missing WOOF" -N "$NS" woof put nosuch --hex 00

# w16 keeps 4: seq 1 is gone by now
expect 1 "get an overwritten element" -N "$NS" woof get w16 1
expect 1 "get a seq not assigned yet" -N "$NS" woof get w16 1000
expect 2 "get a malformed seq" -N "$NS" woof get w16 x1
expect 1 "get from an empty WOOF" -N "$NS" woof get big
expect 1 "get from a missing WOOF" -N "$NS" woof get nosuch
expect 2 "get --raw -j" -j -N "$NS" woof get w16 --raw

# ---- ls / stat ------------------------------------------------------------------------

expect 0 "ls" -N "$NS" woof ls
out_has "ls lists w16" "^w16 +16 +4 "
out_has "ls lists d8 as durable" "^d8 .*durable"
if [ -s "$OUT" ] && ! grep -q "^\.woof" "$OUT"; then pass "ls hides .woof"; else fail "ls hides .woof"; fi
expect 0 "ls -j" -j -N "$NS" woof ls
json_ok "ls JSON" 'sorted(w["name"] for w in d["woofs"]) == ["big", "d8", "w16"] and d["namespace"] == "'"$NS"'"'
expect 0 "ls -p (pretty JSON)" -p -N "$NS" woof ls
json_ok "pretty JSON is valid" 'len(d["woofs"]) == 3'
if [ "$(wc -l <"$OUT")" -gt 3 ]; then pass "pretty JSON is indented"; else fail "pretty JSON is indented"; fi
expect 0 "ls with -N after the command" woof ls -N "$NS" -j
json_ok "ls -N after the command" 'len(d["woofs"]) == 3'
(cd "$NS" && "$WOOFCTL" -j woof ls >"$OUT" 2>"$ERR"); rc=$?
json_ok "ls in the current directory" 'len(d["woofs"]) == 3'
WOOFC_DIR=$NS "$WOOFCTL" -j woof ls >"$OUT" 2>"$ERR"
json_ok "ls in \$WOOFC_DIR" 'len(d["woofs"]) == 3'
mkdir "$T/empty"
expect 0 "ls of an empty namespace" -j woof ls -N "$T/empty"
json_ok "ls JSON of an empty namespace" 'd["woofs"] == []'

expect 0 "stat" -N "$NS" woof stat w16
out_has "stat shows the element size" "element size: +16"
out_has "stat shows the latest seq" "latest seq: +6"
expect 0 "stat -j" -j -N "$NS" woof stat w16
json_ok "stat JSON" 'd["element_size"] == 16 and d["history_size"] == 4 and d["latest"] == 6 and d["oldest"] == 3 and d["count"] == 4 and d["durable"] is False and d["flags"] == []'
expect 0 "stat -j of a durable WOOF" -j -N "$NS" woof stat d8
json_ok "stat JSON shows durable" 'd["durable"] is True and d["flags"] == ["durable"] and d["latest"] == 0'
expect 1 "stat of a missing WOOF" -N "$NS" woof stat nosuch

# JSON string escaping: a name with a quote, a backslash and UTF-8
odd='q"b\s ü'
expect 0 "create a WOOF with quote and backslash in its name" -N "$NS" woof create "$odd" --element-size 4 --history 2
expect 0 "stat -j of it" -j -N "$NS" woof stat "$odd"
json_ok "JSON escapes quote and backslash" 'd["name"] == "q\"b\\s \u00fc"'
expect 0 "rm it" -N "$NS" woof rm "$odd"

# ---- create --reset -------------------------------------------------------------------

expect 0 "create --reset" -N "$NS" woof create w16 --element-size 16 --history 4 --reset
out_has "create --reset says reset" "^reset"
if [ "$(latest w16)" = 0 ]; then pass "reset WOOF is empty"; else fail "reset WOOF is empty"; fi
expect 0 "create --reset to another geometry" -j -N "$NS" woof create big --element-size 50 --history 3 --reset
json_ok "reset changed the geometry" 'd["action"] == "reset" and d["element_size"] == 50 and d["history_size"] == 3'

# ---- tail -----------------------------------------------------------------------------

for i in 1 2 3 4 5 6; do "$WOOFCTL" -N "$NS" woof put w16 --hex "0$i" >/dev/null; done
expect 0 "tail" -N "$NS" woof tail w16
if [ "$(grep -c '^seq ' "$OUT")" -eq 4 ]; then pass "tail prints what is retained (4)"; else fail "tail prints what is retained (4)"; fi
expect 0 "tail -n 2" -N "$NS" woof tail w16 -n 2
if [ "$(grep '^seq ' "$OUT" | tr '\n' ' ')" = "seq 5 seq 6 " ]; then pass "tail -n 2 prints the last two, oldest first"; else fail "tail -n 2 prints the last two, oldest first" "$(grep '^seq' "$OUT" | tr '\n' ' ')"; fi
expect 0 "tail -j -n 3" -j -N "$NS" woof tail w16 -n 3
jsonl_ok "tail JSON Lines" 3 '[d["seq"] for d in ds] == [4, 5, 6] and ds[2]["hex"] == "06" + "00" * 15'
expect 0 "tail --raw -n 2" -N "$NS" woof tail w16 -n 2 --raw
if [ "$(stat -c %s "$OUT")" -eq 32 ]; then pass "tail --raw writes whole elements"; else fail "tail --raw writes whole elements"; fi
expect 0 "tail -n 0" -N "$NS" woof tail w16 -n 0
if [ ! -s "$OUT" ]; then pass "tail -n 0 prints nothing"; else fail "tail -n 0 prints nothing"; fi
expect 2 "tail -n with a bad number" -N "$NS" woof tail w16 -n x
expect 1 "tail of a missing WOOF" -N "$NS" woof tail nosuch

# woofctl_below PID: the woofctl process PID is or runs (through timeout, a subshell)
woofctl_below() {
	local c
	if [ "$(cat "/proc/$1/comm" 2>/dev/null)" = woofctl ]; then echo "$1"; return 0; fi
	for c in $(pgrep -P "$1"); do woofctl_below "$c" && return 0; done
	return 1
}
# following PID WOOF: the woofctl below PID sleeps in woof_wait - in a futex
# (state S), having flagged WOOF's header for a wake-up (wait_flag, the
# 32-bit word at byte 84) - so tail -f -n 0 cannot miss the next put
following() {
	local p
	p=$(woofctl_below "$1") || return 1
	[ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" = S ] || return 1
	grep -q futex "/proc/$p/wchan" 2>/dev/null || return 1
	[ "$(od -An -t u4 -j 84 -N 4 "$NS/$2" | tr -d ' ')" = 1 ]
}
# gone PID: PID has exited (no process, or a zombie)
gone() {
	[ ! -e "/proc/$1" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]
}
# until_true SECONDS CMD...: run CMD until it succeeds, at most SECONDS
until_true() {
	local i n=$(( $1 * 20 ))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# tail -f gets an element appended by another process, then stops on SIGINT
timeout 20 "$WOOFCTL" -j -N "$NS" woof tail -n 0 -f w16 >"$T/follow" 2>"$T/follow.err" &
tpid=$!; BG_PIDS+=("$tpid")
if until_true 10 following "$tpid" w16; then pass "tail -f -n 0 waits in woof_wait"; else fail "tail -f -n 0 waits in woof_wait" "$(cat "$T/follow.err")"; fi
"$WOOFCTL" -N "$NS" woof put w16 --hex "ab cd" >/dev/null
if wait_for "$T/follow" '"seq":7' 5; then pass "tail -f receives an element from another process"; else fail "tail -f receives an element from another process"; fi
"$WOOFCTL" -N "$NS" woof put w16 --hex "ef" >/dev/null
if wait_for "$T/follow" '"seq":8' 5; then pass "tail -f receives a second element"; else fail "tail -f receives a second element"; fi
OUT=$T/follow jsonl_ok "tail -f JSON Lines" 2 'ds[0]["hex"] == "abcd" + "00" * 14 and ds[1]["seq"] == 8'
alive=no; kill -0 "$tpid" 2>/dev/null && alive=yes
kill -INT "$tpid"
wait "$tpid"; st=$?
if [ "$alive" = yes ] && [ "$st" -eq 0 ]; then pass "tail -f runs until SIGINT, then exits 0"; else fail "tail -f runs until SIGINT, then exits 0" "running $alive, exit $st"; fi

# ... on SIGTERM, in human format
timeout 20 "$WOOFCTL" -N "$NS" woof tail -n 1 -f w16 >"$T/follow" 2>"$T/follow.err" &
tpid=$!; BG_PIDS+=("$tpid")
if wait_for "$T/follow" '^seq 8$' 5; then pass "tail -f -n 1 prints the latest first"; else fail "tail -f -n 1 prints the latest first"; fi
"$WOOFCTL" -N "$NS" woof put w16 --hex "41 42 43" >/dev/null
if wait_for "$T/follow" '\|ABC\.+\|' 5; then pass "tail -f prints new elements as a dump"; else fail "tail -f prints new elements as a dump"; fi
alive=no; kill -0 "$tpid" 2>/dev/null && alive=yes
kill -TERM "$tpid"
wait "$tpid"; st=$?
if [ "$alive" = yes ] && [ "$st" -eq 0 ]; then pass "tail -f runs until SIGTERM, then exits 0"; else fail "tail -f runs until SIGTERM, then exits 0" "running $alive, exit $st"; fi

# ... and when its reader goes away (EPIPE)
( timeout 20 "$WOOFCTL" -N "$NS" woof tail -n 0 -f --raw w16 |
	sh -c 'echo $$ >"$1"; exec head -c 1' sh "$T/head.pid" >"$T/one"
  echo "${PIPESTATUS[0]}" >"$T/pipestatus" ) &
ppid=$!; BG_PIDS+=("$ppid")
until_true 10 following "$ppid" w16 || fail "tail -f --raw into a pipe waits in woof_wait"
"$WOOFCTL" -N "$NS" woof put w16 --hex "5a" >/dev/null
wait_for "$T/one" 'Z' 5
# the reader is gone before the next element comes
hpid=$(cat "$T/head.pid")
until_true 10 gone "$hpid" || fail "head -c 1 did not exit after one byte"
"$WOOFCTL" -N "$NS" woof put w16 --hex "5b" >/dev/null	# this write meets EPIPE
wait "$ppid"
if grep -q Z "$T/one" && [ "$(cat "$T/pipestatus" 2>/dev/null)" = 0 ]; then pass "tail -f exits 0 on EPIPE"; else fail "tail -f exits 0 on EPIPE" "status $(cat "$T/pipestatus" 2>/dev/null)"; fi

# ---- woof:// URIs -----------------------------------------------------------------------

expect 0 "get by woof://localhost URI" woof get "woof://localhost$NS/w16" --raw
if [ "$(stat -c %s "$OUT")" -eq 16 ]; then pass "URI get returns an element"; else fail "URI get returns an element"; fi
expect 0 "stat by woof:/// URI (empty host)" -j woof stat "woof://$NS/w16"
json_ok "URI stat names the WOOF" 'd["name"] == "w16" and d["namespace"] == "'"$NS"'"'
expect 1 "a remote URI is refused" woof get "woof://192.0.2.1$NS/w16"
expect 1 "a malformed URI is refused" woof get "woof://"

# ---- rm -----------------------------------------------------------------------------------

expect 0 "rm" -N "$NS" woof rm d8
out_has "rm says removed" "^removed d8$"
expect 1 "stat after rm" -N "$NS" woof stat d8
expect 1 "rm of a missing WOOF" -N "$NS" woof rm d8
echo "not a woof" >"$NS/plain"
expect 1 "rm of a file that is not a WOOF" -N "$NS" woof rm plain
if [ -f "$NS/plain" ]; then pass "a file that is not a WOOF is kept"; else fail "a file that is not a WOOF is kept"; fi
expect 1 "create over a file that is not a WOOF" -N "$NS" woof create plain --element-size 4 --history 4 --reset
expect 0 "rm -j" -j -N "$NS" woof rm big
json_ok "rm JSON" 'd["removed"] == "big"'
expect 0 "ls after rm" -j -N "$NS" woof ls
json_ok "ls after rm lists what is left" '[w["name"] for w in d["woofs"]] == ["w16"]'

# ---- woof.conf: a handler cannot be named after the namespace's own file ----------------
# (woofctl handler ls reads woof.conf with dispatcherd's own parser)

CNS=$T/confns
"$WOOFCTL" ns init "$CNS" >/dev/null
printf '[handler woof.conf]\ntimeout = 5s\n' >"$CNS/woof.conf"
expect 1 "a [handler woof.conf] section is refused" -N "$CNS" handler ls
err_has "the refusal names the line and the rule" "woof.conf:1: bad handler name 'woof.conf': .*own file"
printf '[handler .x]\n' >"$CNS/woof.conf"
expect 1 "a [handler .x] section is refused" -N "$CNS" handler ls
err_has "the refusal of .x says names beginning with '.' are reserved" "bad handler name '.x': names beginning with '.' are reserved"
# a WOOF named woof.conf, made before the name was refused: the parser says
# what it is and how to move it away (dispatcherd said "line longer than ...")
"$WOOFCTL" -N "$CNS" woof create wc --element-size 8 --history 4 >/dev/null
cp "$CNS/wc" "$CNS/woof.conf"
expect 1 "a WOOF named woof.conf is refused as configuration" -N "$CNS" handler ls
err_has "it says it is a WOOF and how to move it away" "woof.conf is a WOOF, not a configuration file .*mv "
printf '[handler .x]\n' >"$CNS/woof.conf"

# -j: a command that prints its JSON and fails (a bad woof.conf is shown) keeps
# its one JSON document; the error goes to stderr as text
expect 1 "handler ls -j with a bad woof.conf" -j -N "$CNS" handler ls
json_ok "its JSON is one document, without an error object" '"error" not in d and ".x" in d["config"]["error"]'
err_has "the error is on stderr" "bad handler name '.x'"

# ---- dispatcherd says what this host does not enforce, once per line ---------------------
# (its binary sits beside woofctl's in the build tree)

DISPATCHERD=$(dirname "$WOOFCTL")/../../dispatcherd/dispatcherd
if [ -x "$DISPATCHERD" ]; then
	DNS=$T/dns
	"$WOOFCTL" ns init "$DNS" >/dev/null
	"$DISPATCHERD" -N "$DNS" 2>"$T/dlog" &
	dpid=$!
	BG_PIDS+=("$dpid")
	if wait_for "$T/dlog" "notice: ready" 20; then pass "dispatcherd started"; else fail "dispatcherd started"; fi
	kill -TERM "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	if ! grep -q "not enforced" "$T/dlog"; then
		echo "# this host enforces every limit: no 'not enforced' line to check"
	elif grep -E "not enforced.*not enforced" "$T/dlog" >"$T/dup"; then
		fail "dispatcherd's 'not enforced' lines say it once" "$(head -1 "$T/dup")"
	else
		pass "dispatcherd's 'not enforced' lines say it once"
	fi
fi

# ---- woof.ko commands without the module (features, ns mount/umount/ls, monitor) ---------
# (in the VM, with the module: selftests/kmod/test-woofctl-kmod.sh)

expect 0 "woofctl help lists features" help
out_has "help lists features" "^  features$"
out_has "help lists monitor" "^  monitor \[-n COUNT\] \[--timeout SEC\]$"
out_has "help lists ns mount" "^  ns mount DIR NAME \[--mode MODE\] \[--owner USER\] \[--group GROUP\]$"
out_has "help lists ns umount" "^  ns umount NAME \[--detach\]$"
out_has "help lists ns ls" "^  ns ls$"
expect 0 "ns help" ns help
out_has "ns help lists mount" "ns mount DIR NAME"
expect 0 "features help" features help
out_has "features help describes the feature bits" "WOOF_FEAT_NS"
expect 0 "monitor --help" monitor --help
out_has "monitor --help shows --timeout" "--timeout SEC"
expect 0 "ns mount help" ns mount help
out_has "ns mount help shows --owner" "--owner USER"
expect 0 "ns umount -h" ns umount -h
out_has "ns umount -h shows --detach" "--detach"
expect 0 "help ns ls" help ns ls

expect 2 "features with an argument is a usage error" features extra
expect 2 "features with an unknown option is a usage error" features --bogus
expect 2 "ns ls with an argument is a usage error" ns ls extra
expect 2 "ns mount without arguments is a usage error" ns mount
expect 2 "ns mount without NAME is a usage error" ns mount "$T"
expect 2 "ns mount with a third argument is a usage error" ns mount "$T" a b
expect 2 "ns mount with a mode that is not octal is a usage error" ns mount "$T" kt --mode 8
expect 2 "ns mount with a mode beyond 0777 is a usage error" ns mount "$T" kt --mode 01777
expect 2 "ns mount --mode without a value is a usage error" ns mount "$T" kt --mode
expect 2 "ns umount without NAME is a usage error" ns umount
expect 2 "ns umount with an unknown option is a usage error" ns umount kt --force
expect 2 "monitor with an argument is a usage error" monitor extra
expect 2 "monitor -n 0 is a usage error" monitor -n 0
expect 2 "monitor -n x is a usage error" monitor -n x
expect 2 "monitor --timeout 0 is a usage error" monitor --timeout 0
expect 2 "monitor --timeout x is a usage error" monitor --timeout 1s

# bad names are refused before anything is asked of the module (exit 1)
for bad in "a/b" ".hidden" "-x" "control" "sp ace" "" \
	"$(printf 'n%.0s' $(seq 64))"; do
	expect 1 "ns mount refuses the name '${bad:0:12}'" ns mount "$T" -- "$bad"
	err_has "ns mount says the name '${bad:0:12}' is invalid" "invalid namespace name"
done
expect 1 "ns umount refuses a bad name" ns umount "a/b"
err_has "ns umount says the name is invalid" "invalid namespace name 'a/b'"
expect 1 "ns mount of a directory that does not exist fails" ns mount "$T/nonexistent" kt
expect 1 "ns mount for an unknown user fails" ns mount "$T" kt --owner no-such-user-xyz
err_has "ns mount says the user is unknown" "no such user 'no-such-user-xyz'"
expect 1 "ns mount for an unknown group fails" ns mount "$T" kt --group no-such-group-xyz
err_has "ns mount says the group is unknown" "no such group 'no-such-group-xyz'"

if [ -e /dev/woof/control ]; then
	echo "# woof.ko is loaded here: skipping the checks of its absence"
else
	# the advice is what is true of this host: modprobe when a woof.ko is
	# installed for the running kernel, how to install it when none is, and
	# that it cannot be loaded when the kernel has no module support
	KR=$T/kroot
	rel=$(uname -r)
	mkdir -p "$KR/proc" "$KR/lib/modules/$rel"
	: >"$KR/proc/modules"
	printf 'kernel/fs/other.ko:\nupdates/dkms/woof.ko:\n' >"$KR/lib/modules/$rel/modules.dep"
	WOOFCTL_KMOD_ROOT=$KR expect 1 "features without woof.ko fails" features
	err_has "woof.ko installed: the advice is modprobe" \
		"^woofctl: /dev/woof/control not found: load woof.ko \(modprobe woof\)$"
	printf 'kernel/fs/other.ko:\nupdates/woof.ko.xz:\n' >"$KR/lib/modules/$rel/modules.dep"
	WOOFCTL_KMOD_ROOT=$KR expect 1 "features without woof.ko fails (compressed module)" features
	err_has "woof.ko.xz installed: the advice is modprobe" "load woof.ko \(modprobe woof\)$"
	printf 'kernel/fs/other.ko:\nextra/woofer.ko:\n' >"$KR/lib/modules/$rel/modules.dep"
	WOOFCTL_KMOD_ROOT=$KR expect 1 "features, no woof.ko installed" features
	err_has "no woof.ko installed: the advice is how to install it" \
		"woof.ko is not installed for this kernel \($rel\): install it \(make install-kmod, or DKMS"
	rm "$KR/proc/modules"
	WOOFCTL_KMOD_ROOT=$KR expect 1 "features, a kernel without modules" features
	err_has "no module support: the advice says so" "this kernel \($rel\) cannot load modules \(CONFIG_MODULES is off\)"
	if [ -e /proc/modules ]; then
		expect 1 "features without woof.ko fails" features
		err_has "features without woof.ko says what to do" "^woofctl: /dev/woof/control not found: (load woof.ko|woof.ko is not installed)"
	else
		expect 1 "features without woof.ko fails" features
		err_has "features here: this kernel cannot load modules" "^woofctl: /dev/woof/control not found: this kernel .* cannot load modules"
	fi
	[ ! -s "$OUT" ] && pass "features without woof.ko prints nothing on stdout" ||
		fail "features without woof.ko prints nothing on stdout"
	expect 1 "features -j without woof.ko fails" -j features
	json_ok "features -j without woof.ko says what to do, in JSON" \
		'"woof.ko" in d["error"]["message"] and d["error"]["exit_status"] == 1' 
	expect 1 "ns ls without woof.ko fails" ns ls
	err_has "ns ls without woof.ko says what to do" "/dev/woof/control not found: .*woof.ko"
	expect 1 "ns ls -j without woof.ko fails" -j ns ls
	expect 1 "ns mount without woof.ko fails" ns mount "$T" kt
	err_has "ns mount without woof.ko says what to do" "not found: .*woof.ko"
	expect 1 "ns umount without woof.ko fails" ns umount kt
	err_has "ns umount without woof.ko says what to do" "not found: .*woof.ko"
	expect 1 "monitor without woof.ko fails" monitor
	err_has "monitor without woof.ko says what to do" \
		"generic netlink family \"woof\" not found: .*woof.ko"
	WOOFCTL_KMOD_ROOT=$KR expect 1 "monitor, a kernel without modules" monitor
	err_has "monitor's advice is the same" "not found: this kernel \($rel\) cannot load modules"
	expect 1 "monitor -j -n 1 --timeout 5 without woof.ko fails at once" -j monitor -n 1 --timeout 5
	json_ok "monitor -j without woof.ko says what to do, in JSON" '"woof.ko" in d["error"]["message"]' 
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
