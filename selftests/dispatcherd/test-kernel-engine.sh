#!/bin/bash
# SPDX-License-Identifier: MIT
# test-kernel-engine.sh - CSPOT's hello-world on the kernel engine, through
# dispatcherd; run as root inside the qemu guest (run-in-vm.sh), where
# woof.ko can be loaded. In order:
#   1. insmod woof.ko; two namespaces, $NS ("kdisp", the one dispatcherd
#      serves) and $NS2 ("kother"), mounted with NS_MOUNT;
#   2. libwoof without /dev/woof/control (hidden in a private mount
#      namespace): $WOOF_NS_DEVICE gives the kernel engine for the
#      directory its device serves (NS_STAT), and only for it: another
#      namespace, or the variable naming another namespace's device, keep
#      the user-space engine; WOOF_ENGINE=kernel there is ENODEV;
#   3. dispatcherd on $NS: hw-start and hw-client put with handler hw (the
#      CSPOT hello-world), both calls done, the handler's lines in the log;
#   4. a burst of 200 triggered puts with handler kengine (test-handlers.c):
#      each call checks that libwoof in the sandboxed handler uses the
#      kernel engine for its namespace, that neither /dev/woof/control nor
#      the other namespace's device can be opened, and appends to "results"
#      through the kernel; all 200 done, every result present;
#   5. the same check through the zygote and the warm runtime (kengine_z,
#      kengine_w: NAME.so from the runtime tests' shared object), 50 calls
#      each, when this build has woof-runner (DISP_RT_HANDLERS set);
#   6. stop, unmount, rmmod. run-vm.sh scans the guest's kernel log.
# Environment (meson): WOOF_KO, WOOFCTL, DISP_RT_HANDLERS, and test_common.sh's.
. "$(dirname "$0")/test_common.sh"
: "${HW_DIR:?}" "${WOOF_KO:?}" "${WOOFCTL:?}"
W=$WOOFCTL

[ "$(id -u)" = 0 ] || skip "must run as root (inside the VM: selftests/vm/run-vm.sh)"
[ -e /proc/modules ] || skip "this kernel cannot load modules (run it through run-vm.sh)"
command -v unshare >/dev/null || skip "no unshare(1)"

NS2=$(mktemp -d "${TMPDIR:-/tmp}/woof-disp2-XXXXXX") || fail "mktemp"
chmod 755 "$NS2"
chown 65534:65534 "$NS2"
mounted=()
kcleanup() {
	cleanup
	for n in "${mounted[@]}"; do "$W" ns umount "$n" >/dev/null 2>&1; done
	rm -rf "$NS2"
	grep -q '^woof ' /proc/modules && rmmod woof
}
trap kcleanup EXIT

if grep -q '^woof ' /proc/modules; then
	rmmod woof || fail "a woof module is loaded and cannot be removed"
fi
insmod "$WOOF_KO" && [ -c /dev/woof/control ] || fail "insmod $WOOF_KO"

# ---- 1. two mounted namespaces
as_user "$W" ns init "$NS" >/dev/null || fail "ns init $NS"
as_user "$W" ns init "$NS2" >/dev/null || fail "ns init $NS2"
"$W" ns mount "$NS" kdisp --mode 0666 >/dev/null || fail "ns mount kdisp"
mounted+=(kdisp)
"$W" ns mount "$NS2" kother --mode 0666 >/dev/null || fail "ns mount kother"
mounted+=(kother)
as_user "$W" -N "$NS" woof create probe --element-size 8 --history 4 >/dev/null || fail "create probe"
as_user "$W" -N "$NS2" woof create probe --element-size 8 --history 4 >/dev/null || fail "create probe 2"
"$W" -N "$NS" woof stat probe | grep -Eq 'engine: *kernel' || fail "host: $NS not on the kernel engine"

# ---- 2. WOOF_NS_DEVICE without the control device
# nocontrol CMD...: CMD where /dev/woof holds kdisp and kother but no
# control (as in the sandbox, which holds only the namespace's own node)
nocontrol() {
	unshare -m --propagation private sh -c '
		d=$(mktemp -d) && touch "$d/kdisp" "$d/kother" &&
		mount --bind /dev/woof/kdisp "$d/kdisp" && mount --bind /dev/woof/kother "$d/kother" &&
		mount -t tmpfs -o mode=755 tmpfs /dev/woof && touch /dev/woof/kdisp /dev/woof/kother &&
		mount --bind "$d/kdisp" /dev/woof/kdisp && mount --bind "$d/kother" /dev/woof/kother &&
		[ ! -e /dev/woof/control ] && exec "$@"' sh "$@"
}
engine_of() { # engine_of DIR [ENV...]: the engine woofctl reports for DIR's probe
	local dir=$1
	shift
	nocontrol env "$@" "$W" -N "$dir" woof stat probe 2>&1 | sed -n 's/^engine: *//p'
}
e=$(engine_of "$NS")
[ "$e" = user ] || fail "no control device, no WOOF_NS_DEVICE: engine '$e', want user"
e=$(engine_of "$NS" WOOF_NS_DEVICE=/dev/woof/kdisp)
[ "$e" = kernel ] || fail "WOOF_NS_DEVICE=/dev/woof/kdisp on $NS: engine '$e', want kernel"
e=$(engine_of "$NS2" WOOF_NS_DEVICE=/dev/woof/kdisp)
[ "$e" = user ] || fail "WOOF_NS_DEVICE=/dev/woof/kdisp on $NS2: engine '$e', want user"
e=$(engine_of "$NS" WOOF_NS_DEVICE=/dev/woof/kother)
[ "$e" = user ] || fail "WOOF_NS_DEVICE=/dev/woof/kother on $NS: engine '$e', want user"
e=$(engine_of "$NS" WOOF_NS_DEVICE=/dev/null)
[ "$e" = user ] || fail "WOOF_NS_DEVICE=/dev/null: engine '$e', want user"
out=$(nocontrol env WOOF_NS_DEVICE=/dev/woof/kother WOOF_ENGINE=kernel "$W" -N "$NS" woof stat probe 2>&1) &&
	fail "WOOF_ENGINE=kernel with another namespace's device succeeded: $out"
echo "$out" | grep -qi "no such device\|ENODEV\|not serve" ||
	fail "WOOF_ENGINE=kernel with another namespace's device: '$out', want ENODEV"
# through a symlink to the directory: compared by device and inode, not path
ln -s "$NS" "$NS.link"
e=$(engine_of "$NS.link" WOOF_NS_DEVICE=/dev/woof/kdisp)
rm -f "$NS.link"
[ "$e" = kernel ] || fail "WOOF_NS_DEVICE on a symlink to $NS: engine '$e', want kernel"
out=$(printf 'x' | nocontrol env WOOF_NS_DEVICE=/dev/woof/kdisp "${AS[@]}" "$W" -N "$NS" woof put probe 2>&1) ||
	fail "put through WOOF_NS_DEVICE as the namespace's user: $out"
ok "WOOF_NS_DEVICE: the kernel engine for its own directory only"

# ---- 3. hello-world through dispatcherd
cp "$HW_DIR/hw" "$NS/hw" || fail "no hw handler program in $HW_DIR"
chown 65534:65534 "$NS/hw"
install_handler kengine
if [ -n "${DISP_RT_HANDLERS:-}" ]; then
	for h in kengine_z kengine_w; do
		cp "$DISP_RT_HANDLERS" "$NS/$h.so" && chown 65534:65534 "$NS/$h.so" || fail "install $h.so"
	done
	printf '[handler kengine_z]\nruntime = zygote\n[handler kengine_w]\nruntime = warm\nworkers = 2\n' \
		>"$NS/woof.conf"
	chown 65534:65534 "$NS/woof.conf"
fi
echo kother >"$NS/other-ns"
chown 65534:65534 "$NS/other-ns"
tool create kw 64 && tool create results 4096 || fail "create kw, results"
start_daemon
cd "$NS" || fail "cd"
as_user "$HW_DIR/hw-start" -W hello-woof | grep -q "at seq_no 1" || fail "hw-start"
as_user "$HW_DIR/hw-client" -W hello-woof | grep -q "at seq_no 2" || fail "hw-client"
"$W" -N "$NS" woof stat hello-woof | grep -Eq 'engine: *kernel' || fail "hello-woof is not kernel-served"
wait_final 2 60 || fail "two calls did not end within 60 s"
log=$("$DISPATCHERD_DUMP" -N "$NS" log -r)
echo "$log" | sed 's/^/    log: /'
[ "$(echo "$log" | grep -c '^hello world$')" = 2 ] || fail "'hello world' not twice in the log"
echo "$log" | grep -qx "from woof hello-woof at 1 with string: my first bark" ||
	fail "first bark missing from the log"
echo "$log" | grep -qx "from woof hello-woof at 2 with string: my second bark" ||
	fail "second bark missing from the log"
[ "$(count_records 'trigger=[12] .*state=done reason=none exit=0 ')" = 2 ] ||
	fail "the two calls are not recorded done with exit 0"
ok "hello-world through dispatcherd on a kernel-served namespace"

# ---- 4. 200 triggered puts; each handler on the kernel engine, confined
N=200
tool put kw kengine 1 $N || fail "the burst of puts failed"
tool wait results $N 300 || fail "not every kengine call appended its result"
wait_final $((N + 2)) 60 || fail "not all $N kengine calls recorded"
out=$(tool check $N) || fail "check: $out"
echo "    $out"
[ "$(count_records 'state=done ')" = $((N + 2)) ] || fail "not $((N + 2)) done records"
[ "$(count_records 'state=(failed|orphan) ')" = 0 ] || fail "failed or orphan calls"
want="engine=kernel control=No such file or directory other=No such file or directory put=0"
good=$("$DISPATCHERD_DUMP" -N "$NS" log -r | grep -c "^kengine n=[0-9]* $want\$")
[ "$good" = $N ] || fail "$good of $N kengine calls report '$want'; e.g. $("$DISPATCHERD_DUMP" -N "$NS" log -r | grep '^kengine' | grep -v "$want" | head -n 2)"
ok "$N triggered puts: every handler ran on the kernel engine, without the control or another namespace's device"

# ---- 5. the zygote and warm runtimes on the kernel engine
if [ -n "${DISP_RT_HANDLERS:-}" ]; then
	T0=$((N + 2))
	tool create kw 64 && tool create results 4096 || fail "re-create kw, results"
	tool put kw kengine_z 1 50 && tool put kw kengine_w 51 100 || fail "the zygote/warm puts failed"
	tool wait results 100 300 || fail "not every zygote/warm kengine call appended its result"
	wait_final $((T0 + 100)) 60 || fail "not all 100 zygote/warm calls recorded"
	out=$(tool check 100) || fail "check: $out"
	echo "    $out"
	[ "$(count_records 'state=done .*runtime=1 .*handler=kengine_z$')" = 50 ] ||
		fail "not 50 kengine_z calls done with runtime zygote"
	[ "$(count_records 'state=done .*runtime=2 .*handler=kengine_w$')" = 50 ] ||
		fail "not 50 kengine_w calls done with runtime warm"
	good=$("$DISPATCHERD_DUMP" -N "$NS" log -r | grep -c "^kengine n=[0-9]* $want\$")
	[ "$good" = $((N + 100)) ] || fail "$((good - N)) of 100 zygote/warm kengine calls report '$want'"
	ok "zygote and warm: 100 calls, each on the kernel engine and confined"
else
	echo "    (no woof-runner in this build: zygote and warm not checked)"
fi

# ---- 6. clean stop
stop_daemon || fail "dispatcherd exit status $? after SIGTERM"
cd / || fail "cd /"
for n in "${mounted[@]}"; do "$W" ns umount "$n" >/dev/null || fail "ns umount $n"; done
mounted=()
rmmod woof || fail "rmmod woof"
ok "clean stop, unmount, rmmod"
