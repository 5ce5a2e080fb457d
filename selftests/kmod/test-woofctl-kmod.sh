#!/bin/bash
# SPDX-License-Identifier: MIT
# test-woofctl-kmod.sh - woofctl's woof.ko commands, run as root inside the
# test VM (selftests/vm/run-vm.sh):
#   - features: the API/format versions and every feature bit by name (text
#     and JSON);
#   - ns mount: /dev/woof/NAME appears with the mode, owner and group asked
#     for; a second name on the same directory, a name mounted already, a
#     bad name and a caller without CAP_SYS_ADMIN fail with exit 1 and say
#     why; usage errors exit 2;
#   - ns ls (text and JSON): the namespaces with directory, device numbers,
#     owner/mode, WOOFs and users; more namespaces than woofctl's first
#     NS_LIST call asks for (4) are all listed;
#   - ns umount: the device goes; a namespace in use is refused unless
#     --detach; an unknown name fails;
#   - monitor (libnl): started in the background before the commands, it
#     prints "mounted", "created", "removed", "unmounted" for what woofctl
#     (and the namespace device) did, as text and as JSON Lines; -n COUNT
#     stops it after COUNT events, --timeout with too few events is exit 1,
#     SIGTERM is exit 0.
# Usage: test-woofctl-kmod.sh WOOF_KO WOOFCTL
# Exit: 0 all passed, 1 something failed, 77 skipped (not root, or modules
# cannot be loaded here: run it through run-vm.sh).
set -u
ko=${1:?usage: test-woofctl-kmod.sh WOOF_KO WOOFCTL}
W=${2:?usage: test-woofctl-kmod.sh WOOF_KO WOOFCTL}
work=$(mktemp -d /tmp/woof-ctlk.XXXXXX)
passed=0 failed=0 failures=()
OUT=$work/out ERR=$work/err rc=0
BG=()
# shellcheck source=selftests/kmod/lib-kmod.sh
. "$(dirname "$0")/lib-kmod.sh" || exit 1

# fail DESCRIPTION [DETAIL]: also shows the last command's stderr
fail() {
	failed=$((failed + 1))
	failures+=("$1")
	printf 'FAIL %s%s\n' "$1" "${2:+ ($2)}"
	[ -s "$ERR" ] && sed 's/^/  stderr: /' "$ERR" | head -5
}
cleanup() {
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	for n in $(ls /dev/woof 2>/dev/null); do
		[ "$n" = control ] || "$W" ns umount --detach "$n" >/dev/null 2>&1
	done
	grep -q '^woof ' /proc/modules && rmmod woof
	mountpoint -q "$work/fs" && umount "$work/fs"
	rm -rf "$work"
}

kt_need_guest
[ -x "$W" ] || { say "no woofctl at $W"; exit 1; }
trap cleanup EXIT

# run_w ARGS: woofctl ARGS with stdout in $OUT, stderr in $ERR, status in $rc
run_w() { "$W" "$@" >"$OUT" 2>"$ERR"; rc=$?; }
# expect RC DESCRIPTION ARGS...
expect() {
	local want=$1 desc=$2
	shift 2
	run_w "$@"
	if [ "$rc" -eq "$want" ]; then pass "$desc"; else fail "$desc" "exit $rc, want $want"; fi
}
out_has() { if grep -Eq -- "$2" "$OUT"; then pass "$1"; else fail "$1" "stdout lacks /$2/"; fi; }
err_has() { if grep -Eq -- "$2" "$ERR"; then pass "$1"; else fail "$1" "stderr lacks /$2/"; fi; }
# The JSON checks run together at the end, in one python3 (which starts
# slowly in the guest, reading its library over 9p): $work/checks.py.
CHECKS=$work/checks.py nj=0
cat >"$CHECKS" <<'PYEOF'
import json, sys
res = [0, 0]
def check(desc, path, f, lines=False):
    try:
        text = open(path).read()
        if lines:
            d = [json.loads(l) for l in text.splitlines()]
            assert all(e.get("schema") == 1 for e in d), "no schema 1"
        else:
            d = json.loads(text)
            assert d.get("schema") == 1, "no schema 1"
        assert f(d), "expression is false: %r" % (d,)
        print("PASS " + desc)
        res[0] += 1
    except Exception as e:
        print("FAIL %s (%s)" % (desc, e))
        res[1] += 1
def in_order(seq, want):
    i = 0
    for x in seq:
        if i < len(want) and x.startswith(want[i]):
            i += 1
    assert i == len(want), "missing, in order: %r" % want[i]
    return True
def text_check(desc, path, want):
    try:
        in_order(open(path).read().splitlines(), want)
        print("PASS " + desc)
        res[0] += 1
    except Exception as e:
        print("FAIL %s (%s)" % (desc, e))
        res[1] += 1
PYEOF
# json_ok DESCRIPTION PYTHON-EXPR: stdout of the last run is one JSON object d
# with "schema": 1, and EXPR holds (checked at the end)
json_ok() {
	nj=$((nj + 1))
	cp "$OUT" "$work/j.$nj"
	printf "check(r'''%s''', '%s', lambda d: (%s))\n" "$1" "$work/j.$nj" "$2" >>"$CHECKS"
}
wait_for() { # FILE REGEX SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

kt_rmmod_stale

# ---- without the module ------------------------------------------------------------
# the advice is what is true here: modprobe only when a woof.ko is installed
# for this kernel (its modules.dep lists one), else how to install it
if grep -Eq '(^|/)woof\.ko(\.[a-z]+)?:' "/lib/modules/$(uname -r)/modules.dep" 2>/dev/null; then
	advice="load woof.ko \(modprobe woof\)"
else
	advice="woof.ko is not installed for this kernel \($(uname -r)\): install it"
fi
expect 1 "features without woof.ko: exit 1" features
err_has "features without woof.ko says what to do" "/dev/woof/control not found: $advice"
expect 1 "monitor without woof.ko: exit 1" monitor
err_has "monitor without woof.ko says what to do" "not found: $advice"

if ! kt_insmod; then
	fail "insmod $ko"
	exit 1
fi
pass "insmod"

# ---- features ------------------------------------------------------------------------
# every feature bit the uapi header defines, in bit order, and their mask
uapi=$(dirname "$(realpath "$0")")/../../include/uapi/linux/woof.h
feats=$(sed -n 's/^#define \(WOOF_FEAT_[A-Z_]*\)[[:space:]]*(1ULL << \([0-9]*\)).*/\2 \1/p' "$uapi" |
	sort -n | cut -d' ' -f2 | tr '\n' ' ')
mask=$(sed -n 's/^#define WOOF_FEAT_[A-Z_]*[[:space:]]*(1ULL << \([0-9]*\)).*/\1/p' "$uapi" |
	while read -r b; do echo $((1 << b)); done | paste -sd'|')
mask=$((mask))
say "the uapi header's features: $feats(mask $mask)"
[ -n "$feats" ] || fail "no WOOF_FEAT_* in $uapi"
expect 0 "features" features
out_has "features: api and format versions" "^woof.ko api 1, format 1, 0 of 1024 namespaces mounted$"
missing=""
for f in $feats; do grep -qx "$f" "$OUT" || missing="$missing $f"; done
[ -z "$missing" ] && pass "features lists every feature by name, one per line" ||
	fail "features lists every feature" "missing:$missing"
expect 0 "features -j" -j features
json_ok "features -j: versions, names, mask, no unknown bits" \
	'd["api_version"] == 1 and d["format_version"] == 1 and d["ns_max"] == 1024 and
	 d["features"] == "'"$feats"'".split() and d["features_mask"] == '"$mask"' and
	 d["unknown_bits"] == []'
setpriv --reuid=65534 --regid=65534 --clear-groups "$W" features >"$OUT" 2>"$ERR"
[ $? = 0 ] && grep -qx WOOF_FEAT_GENL "$OUT" && pass "features as nobody" ||
	fail "features as nobody"

# ---- the monitors, listening before anything happens -------------------------------------
"$W" -j monitor --timeout 300 >"$work/mon.json" 2>"$work/mon.json.err" &
mon_json=$!
BG+=("$mon_json")
"$W" monitor --timeout 300 >"$work/mon.txt" 2>"$work/mon.txt.err" &
mon_txt=$!
BG+=("$mon_txt")
"$W" monitor -n 1 --timeout 120 >"$work/mon.one" 2>"$work/mon.one.err" &
mon_one=$!
BG+=("$mon_one")
ok=1
for f in mon.json.err mon.txt.err mon.one.err; do
	wait_for "$work/$f" "listening" 30 || { ok=0; cat "$work/$f"; }
done
[ $ok = 1 ] && pass "monitor says on stderr when it listens" || fail "monitor listening"

# ---- ns mount -------------------------------------------------------------------------------
mkdir -p "$work/fs"
mount -t tmpfs -o size=512M tmpfs "$work/fs" || fail "mount tmpfs"
D1=$work/fs/d1 D2=$work/fs/d2
mkdir -p "$D1" "$D2" "$work/fs/other"
expect 0 "ns mount DIR kt1 --mode 0640 --owner nobody --group 65534" \
	ns mount "$D1" kt1 --mode 0640 --owner nobody --group 65534
out_has "ns mount says what it mounted" "^mounted $D1 as /dev/woof/kt1 \(device [0-9]+:[0-9]+, mode 0640"
st=$(stat -c '%F %a %u %g' /dev/woof/kt1 2>&1)
[ "$st" = "character special file 640 65534 65534" ] &&
	pass "/dev/woof/kt1: char device, mode 640, owner 65534:65534" ||
	fail "/dev/woof/kt1 mode/owner" "$st"
devnum=$(stat -c '%t:%T' /dev/woof/kt1)
maj=$((16#${devnum%:*})) min=$((16#${devnum#*:}))

expect 0 "ns mount -j DIR kt2 (defaults)" -j ns mount "$D2" kt2
json_ok "ns mount -j: name, path, device, mode 0600, owner root" \
	'd["name"] == "kt2" and d["path"] == "'"$D2"'" and d["device"] == "/dev/woof/kt2" and
	 d["mode"] == 0o600 and d["mode_string"] == "0600" and d["uid"] == 0 and d["gid"] == 0 and
	 d["dev_major"] > 0'
st=$(stat -c '%a %u %g' /dev/woof/kt2 2>&1)
[ "$st" = "600 0 0" ] && pass "/dev/woof/kt2: mode 600, root:root" || fail "/dev/woof/kt2" "$st"

expect 1 "ns mount: a second name on the same directory fails" ns mount "$D1" kt9
err_has "ns mount same directory: says so" "mounted already under another name"
[ ! -e /dev/woof/kt9 ] && pass "no /dev/woof/kt9 after the refused mount" || fail "/dev/woof/kt9 exists"
expect 1 "ns mount: a name mounted already fails" ns mount "$work/fs/other" kt1
err_has "ns mount name taken: says so" "a namespace named 'kt1' is mounted already"
expect 1 "ns mount: bad name fails" ns mount "$work/fs/other" "bad/name"
err_has "ns mount bad name: says why" "invalid namespace name 'bad/name'"
expect 1 "ns mount: name 'control' fails" ns mount "$work/fs/other" control
expect 1 "ns mount: name starting with '-' fails" ns mount "$work/fs/other" -- -x
expect 1 "ns mount: a missing directory fails" ns mount "$work/fs/nonexistent" kt8
expect 1 "ns mount: unknown user fails" ns mount "$work/fs/other" kt8 --owner no-such-user-xyz
mkdir -p "$work/small"
mount -t tmpfs -o size=1M tmpfs "$work/small" || fail "mount a 1 MiB tmpfs"
expect 1 "ns mount: a file system without room for the trigger log fails" ns mount "$work/small" kt8
err_has "ns mount without room: says why" "No space left on device: the file system of $work/small has no room for the trigger log"
umount "$work/small"
expect 2 "ns mount: bad mode is a usage error" ns mount "$work/fs/other" kt8 --mode 0999
expect 2 "ns mount: missing NAME is a usage error" ns mount "$work/fs/other"
expect 2 "ns umount: missing NAME is a usage error" ns umount
expect 2 "ns ls: an argument is a usage error" ns ls extra
chmod 0755 "$work"
chmod 0777 "$work/fs/other"
setpriv --reuid=65534 --regid=65534 --clear-groups "$W" ns mount "$work/fs/other" kt8 \
	>"$OUT" 2>"$ERR"
rc=$?
[ $rc = 1 ] && pass "ns mount as nobody: exit 1" || fail "ns mount as nobody" "exit $rc"
err_has "ns mount as nobody: needs CAP_SYS_ADMIN" "Operation not permitted: needs CAP_SYS_ADMIN"
setpriv --reuid=65534 --regid=65534 --clear-groups "$W" ns umount kt1 >"$OUT" 2>"$ERR"
rc=$?
[ $rc = 1 ] && pass "ns umount as nobody: exit 1" || fail "ns umount as nobody" "exit $rc"
err_has "ns umount as nobody: needs CAP_SYS_ADMIN" "needs CAP_SYS_ADMIN"
[ -c /dev/woof/kt1 ] && pass "kt1 still mounted after the refused umount" || fail "kt1 gone"

# ---- WOOFs created and removed in kt1 (events) ---------------------------------------------
# woofctl woof create/rm cause the kernel's events when libwoof serves the
# namespace through woof.ko; with the user-space engine they do not reach
# the module, and the WOOF is created and removed through /dev/woof/kt1.
expect 0 "woof create in the mounted namespace" -N "$D1" woof create w1 --element-size 16 --history 8
run_w -j -N "$D1" woof stat w1
engine=$(grep -o '"engine": *"[a-z]*"' "$OUT" | grep -o '[a-z]*"$' | tr -d '"')
say "libwoof's engine in the mounted namespace: ${engine:-?}"
if [ "$engine" = kernel ]; then
	wname=w1
	expect 0 "woof rm in the mounted namespace" -N "$D1" woof rm w1
else
	wname=w2
	python3 - /dev/woof/kt1 w2 <<'EOF' || fail "CREATE/REMOVE through /dev/woof/kt1"
import fcntl, os, struct, sys
# WOOF_IOC_CREATE = _IOWR(0xB9, 0x10, struct woof_open) (352 bytes)
CREATE = (3 << 30) | (352 << 16) | (0xB9 << 8) | 0x10
# WOOF_IOC_REMOVE = _IOW(0xB9, 0x12, struct woof_remove) (288 bytes)
REMOVE = (1 << 30) | (288 << 16) | (0xB9 << 8) | 0x12
fd = os.open(sys.argv[1], os.O_RDWR)
name = sys.argv[2].encode()
a = bytearray(352)
struct.pack_into("IIQQ", a, 0, 352, 2, 32, 4)	# WOOF_OPEN_CLOEXEC, 32-byte elements, 4
a[96:96 + len(name)] = name
fcntl.ioctl(fd, CREATE, a)
os.close(struct.unpack_from("i", a, 32)[0])
r = bytearray(288)
struct.pack_into("II", r, 0, 288, 0)
r[32:32 + len(name)] = name
fcntl.ioctl(fd, REMOVE, r)
os.close(fd)
EOF
	expect 0 "woof rm in the mounted namespace" -N "$D1" woof rm w1
fi

# ---- ns ls ----------------------------------------------------------------------------------
expect 0 "ns ls" ns ls
out_has "ns ls: a header" "^NAME +DEVICE +MODE +OWNER +GROUP +WOOFS +USERS +DIR$"
out_has "ns ls: kt1 with device, mode, owner, group, dir" \
	"^kt1 +$maj:$min +0640 +nobody +nogroup +[0-9]+ +0 +$D1$"
out_has "ns ls: kt2" "^kt2 .* 0600 +root +root .* $D2$"
expect 0 "ns ls -j" -j ns ls
json_ok "ns ls -j: both namespaces with their fields" \
	'd["count"] == 2 and [e["name"] for e in d["namespaces"]] == ["kt1", "kt2"] and
	 d["namespaces"][0]["path"] == "'"$D1"'" and d["namespaces"][0]["mode"] == 0o640 and
	 d["namespaces"][0]["uid"] == 65534 and d["namespaces"][0]["owner"] == "nobody" and
	 d["namespaces"][0]["gid"] == 65534 and d["namespaces"][0]["device"] == "/dev/woof/kt1" and
	 d["namespaces"][0]["dev_major"] == '"$maj"' and d["namespaces"][0]["dev_minor"] == '"$min"' and
	 d["namespaces"][0]["users"] == 0 and d["namespaces"][0]["path_truncated"] is False and
	 isinstance(d["namespaces"][0]["woofs"], int)'
setpriv --reuid=65534 --regid=65534 --clear-groups "$W" ns ls >"$OUT" 2>"$ERR"
[ $? = 0 ] && grep -q "^kt1 " "$OUT" && pass "ns ls as nobody" || fail "ns ls as nobody"

# users: an open descriptor of /dev/woof/kt2 is counted, and keeps it mounted
exec 7</dev/woof/kt2
run_w -j ns ls
json_ok "ns ls -j: an open descriptor of kt2 counts as a user" \
	'[e["users"] for e in d["namespaces"] if e["name"] == "kt2"] == [1]'
expect 1 "ns umount of a namespace in use fails" ns umount kt2
err_has "ns umount in use: says to close or --detach" "in use .*--detach"
[ -c /dev/woof/kt2 ] && pass "kt2 still mounted" || fail "kt2 gone after a refused umount"
expect 0 "ns umount --detach of a namespace in use" ns umount --detach kt2
[ ! -e /dev/woof/kt2 ] && pass "/dev/woof/kt2 gone after --detach" || fail "/dev/woof/kt2 still there"
exec 7<&-

# more namespaces than the first NS_LIST asks for (4)
for i in 3 4 5 6 7; do
	mkdir -p "$work/fs/d$i"
	"$W" ns mount "$work/fs/d$i" "kt$i" >/dev/null 2>"$ERR" || fail "ns mount kt$i"
done
expect 0 "ns ls with 6 namespaces" ns ls
n=$(grep -c '^kt[0-9] ' "$OUT")
[ "$n" = 6 ] && pass "ns ls lists all 6 namespaces (the array grows)" || fail "ns ls lists $n of 6"
run_w -j ns ls
json_ok "ns ls -j lists all 6" 'd["count"] == 6 and len(d["namespaces"]) == 6'
run_w -j features
json_ok "features -j: ns_count 6" 'd["ns_count"] == 6'
for i in 3 4 5 6 7; do "$W" ns umount "kt$i" >/dev/null 2>"$ERR" || fail "ns umount kt$i"; done

# ---- ns umount --------------------------------------------------------------------------------
expect 0 "ns umount kt1" ns umount kt1
out_has "ns umount says so" "^unmounted kt1$"
[ ! -e /dev/woof/kt1 ] && pass "/dev/woof/kt1 gone after umount" || fail "/dev/woof/kt1 still there"
expect 1 "ns umount of a name not mounted fails" ns umount kt1
err_has "ns umount unknown: says so" "no namespace of that name is mounted"
expect 1 "ns umount of a bad name fails" ns umount "a b"
expect 0 "ns ls with none mounted" ns ls
[ ! -s "$OUT" ] && pass "ns ls prints nothing when none is mounted" || fail "ns ls output with none"
run_w -j ns ls
json_ok "ns ls -j with none mounted" 'd["count"] == 0 and d["namespaces"] == []'

# ---- what the monitors saw ----------------------------------------------------------------------
wait_for "$work/mon.txt" "^unmounted ns=kt1$" 30
kill -TERM "$mon_json" "$mon_txt"
wait "$mon_json"
rc=$?
[ $rc = 0 ] && pass "monitor -j: SIGTERM is exit 0" || fail "monitor -j exit" "exit $rc"
wait "$mon_txt"
rc=$?
[ $rc = 0 ] && pass "monitor: SIGTERM is exit 0" || fail "monitor exit" "exit $rc"
wait "$mon_one"
rc=$?
[ $rc = 0 ] && pass "monitor -n 1: exit 0 after one event" || fail "monitor -n 1" "exit $rc"
[ "$(wc -l <"$work/mon.one")" = 1 ] && grep -q "^mounted ns=kt1 " "$work/mon.one" &&
	pass "monitor -n 1 printed exactly the first event" ||
	{ fail "monitor -n 1 output"; sed 's/^/  | /' "$work/mon.one"; }

sed 's/^/  [monitor] /' "$work/mon.txt"
cat >>"$CHECKS" <<PYEOF
text_check("monitor: mounted, created, removed, unmounted, in order, with their fields",
           "$work/mon.txt",
           ["mounted ns=kt1 path=$D1 dev=$maj:$min", "created ns=kt1 woof=$wname element_size=",
            "removed ns=kt1 woof=$wname", "unmounted ns=kt2", "unmounted ns=kt1"])
def mon_json(ds):
    d1, maj, mn, w = "$D1", $maj, $min, "$wname"
    assert all(isinstance(d["time_ns"], int) and d["time"] for d in ds), "time_ns"
    ev = [(d["event"], d.get("ns"), d.get("woof")) for d in ds]
    m = [d for d in ds if d["event"] == "mounted" and d["ns"] == "kt1"]
    assert m and m[0]["path"] == d1 and m[0]["dev_major"] == maj and m[0]["dev_minor"] == mn, m
    c = [d for d in ds if d["event"] == "created" and d["woof"] == w]
    assert c and c[0]["ns"] == "kt1" and c[0]["replaced"] is False and \
        c[0]["element_size"] > 0 and c[0]["history_size"] > 0, c
    order = [ev.index(("mounted", "kt1", None)), ev.index(("created", "kt1", w)),
             ev.index(("removed", "kt1", w)), ev.index(("unmounted", "kt1", None))]
    assert order == sorted(order), ev
    mounted = sum(1 for e in ev if e[0] == "mounted")
    assert mounted == 7, "%d mounted events, want 7: %r" % (mounted, ev)
    return True
check("monitor -j: JSON Lines with the events and their fields", "$work/mon.json", mon_json,
      lines=True)
PYEOF

# --timeout with fewer events than -n: exit 1 and say so
expect 1 "monitor -n 5 --timeout 1 without events: exit 1" monitor -n 5 --timeout 1
err_has "monitor timeout says how many were seen" "timeout: 0 of 5 events"
expect 0 "monitor --timeout 1 without -n: exit 0" monitor --timeout 1
expect 2 "monitor -n x is a usage error" monitor -n x

# ---- done -------------------------------------------------------------------------------------------
rmmod woof || fail "rmmod woof"
echo 'print("checks %d %d" % tuple(res))' >>"$CHECKS"
python3 "$CHECKS" >"$work/checks.out" 2>&1
grep -v '^checks ' "$work/checks.out"
read -r _ p f < <(grep '^checks ' "$work/checks.out")
if [ -n "${p:-}" ]; then
	passed=$((passed + p)) failed=$((failed + f))
	while read -r l; do failures+=("${l#FAIL }"); done < <(grep '^FAIL ' "$work/checks.out")
else
	fail "the JSON checks did not run"
fi
say "took $SECONDS s"
kt_finish
