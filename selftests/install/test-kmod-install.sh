#!/bin/bash
# SPDX-License-Identifier: MIT
#
# test-kmod-install.sh - woof.ko's install paths, into a staging root (this
# host need not be able to load modules):
#   1. install-kmod.sh module (what "ninja install-kmod" and "make
#      install-kmod" run) with DESTDIR: woof.ko in
#      lib/modules/KVER/updates/ (KVER read from its vermagic), the udev
#      rule, and depmod -b: modules.dep lists it, and modprobe -d resolves
#      "woof" to it;
#   2. the DKMS flow from the installed source tree (install-kmod.sh
#      dkms-source, then dkms add / build -k KVER / install), all in the
#      staging root (--sourcetree, --dkmstree, --installtree, --no-depmod;
#      depmod -b after), when dkms is installed and we are root.
#
# Usage: test-kmod-install.sh SOURCE_DIR WOOF_KO VERSION
set -u
[ $# -eq 3 ] || { echo "usage: $0 SOURCE_DIR WOOF_KO VERSION" >&2; exit 2; }
SRC=$(realpath "$1")
KO=$(realpath "$2")
VER=$3
command -v depmod >/dev/null || { echo "SKIP: no depmod (kmod)"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/test-kmod-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
pass() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1${2:+ ($2)}"; failed=$((failed + 1)); }

KVER=$(modinfo -F vermagic "$KO" | cut -d' ' -f1)
echo "# woof.ko built for $KVER"

# ---- 1. install-kmod.sh module into a staging root ---------------------------------------
S=$T/stage
if DESTDIR=$S "$SRC/kmod/install-kmod.sh" module "$KO" "$SRC" >"$T/inst.log" 2>&1; then
	pass "install-kmod.sh module with DESTDIR"
else
	fail "install-kmod.sh module with DESTDIR" "$(tail -3 "$T/inst.log")"
fi
cmp -s "$KO" "$S/lib/modules/$KVER/updates/woof.ko" &&
	pass "woof.ko is lib/modules/$KVER/updates/woof.ko" || fail "woof.ko is lib/modules/$KVER/updates/woof.ko"
cmp -s "$SRC/kmod/60-woof.rules" "$S/etc/udev/rules.d/60-woof.rules" &&
	pass "the udev rule is etc/udev/rules.d/60-woof.rules" || fail "the udev rule is etc/udev/rules.d/60-woof.rules"
grep -q "^updates/woof.ko:" "$S/lib/modules/$KVER/modules.dep" 2>/dev/null &&
	pass "depmod -b: modules.dep lists updates/woof.ko" ||
	fail "depmod -b: modules.dep lists updates/woof.ko" "$(cat "$S/lib/modules/$KVER/modules.dep" 2>&1 | head -3)"
if command -v modprobe >/dev/null; then
	modprobe -d "$S" -S "$KVER" --show-depends woof >"$T/show" 2>&1
	grep -q "^insmod $S/lib/modules/$KVER/updates/woof.ko" "$T/show" &&
		pass "modprobe woof finds it (modprobe -d STAGE -S $KVER --show-depends)" ||
		fail "modprobe woof finds it" "$(cat "$T/show")"
fi
grep -q "load it with: modprobe woof" "$T/inst.log" && pass "it says how to load it" || fail "it says how to load it"

# ---- 2. DKMS from the installed source tree ------------------------------------------------
if ! command -v dkms >/dev/null; then
	echo "# no dkms: the DKMS flow is not tested here (apt-get install dkms)"
elif [ "$(id -u)" != 0 ]; then
	echo "# not root: the DKMS flow is not tested here"
elif [ ! -e "/lib/modules/$KVER/build/Makefile" ]; then
	echo "# no headers for $KVER: the DKMS flow is not tested here"
else
	D=$T/dkms
	mkdir -p "$D/var/lib/dkms" "$D/lib/modules/$KVER"
	if DESTDIR=$D "$SRC/kmod/install-kmod.sh" dkms-source "$SRC" "$VER" >"$T/src.log" 2>&1; then
		pass "install-kmod.sh dkms-source"
	else
		fail "install-kmod.sh dkms-source" "$(tail -3 "$T/src.log")"
	fi
	u=$D/usr/src/woof-$VER
	[ -f "$u/dkms.conf" ] && [ -f "$u/kmod/Kbuild" ] && [ -f "$u/kmod/woof-main.c" ] &&
		[ -f "$u/include/uapi/linux/woof.h" ] &&
		pass "usr/src/woof-$VER holds dkms.conf, kmod/ and the uapi header" ||
		fail "usr/src/woof-$VER holds dkms.conf, kmod/ and the uapi header"
	grep -q "^PACKAGE_VERSION=\"$VER\"$" "$u/dkms.conf" && pass "dkms.conf says version $VER" ||
		fail "dkms.conf says version $VER" "$(grep PACKAGE_VERSION "$u/dkms.conf")"
	opts=(--sourcetree "$D/usr/src" --dkmstree "$D/var/lib/dkms" -m woof -v "$VER")
	dkms add "${opts[@]}" >"$T/dkms.log" 2>&1 && pass "dkms add" || fail "dkms add" "$(tail -3 "$T/dkms.log")"
	nice dkms build "${opts[@]}" -k "$KVER" >>"$T/dkms.log" 2>&1 && pass "dkms build -k $KVER" ||
		fail "dkms build -k $KVER" "$(tail -5 "$T/dkms.log")"
	dkms install "${opts[@]}" -k "$KVER" --installtree "$D/lib/modules" --no-depmod >>"$T/dkms.log" 2>&1 &&
		pass "dkms install -k $KVER" || fail "dkms install -k $KVER" "$(tail -5 "$T/dkms.log")"
	m=$(find "$D/lib/modules/$KVER" -name 'woof.ko*' | head -1)
	if [ -n "$m" ] && [ "$(modinfo -F vermagic "$m" | cut -d' ' -f1)" = "$KVER" ]; then
		pass "DKMS installed a woof.ko for $KVER (${m#"$D"/})"
	else
		fail "DKMS installed a woof.ko for $KVER" "$m"
	fi
	[ -n "$m" ] && [ "$(modinfo -F name "$m")" = woof ] &&
		[ "$(modinfo -F description "$m")" = "$(modinfo -F description "$KO")" ] &&
		pass "it is woof (name, description)" || fail "it is woof (name, description)"
	depmod -b "$D" "$KVER" 2>/dev/null
	grep -q "^updates/dkms/woof.ko" "$D/lib/modules/$KVER/modules.dep" &&
		pass "depmod: modules.dep lists updates/dkms/woof.ko" || fail "depmod: modules.dep lists updates/dkms/woof.ko"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
