#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# install-kmod.sh - install woof.ko for a kernel, or woof's DKMS source tree
# (Documentation/kmod-install.md).
#
# Usage: install-kmod.sh module WOOF_KO SRCDIR [KVER]
#   Installs WOOF_KO as /lib/modules/KVER/updates/woof.ko, the udev rule as
#   /etc/udev/rules.d/60-woof.rules, and runs depmod KVER, so that
#   "modprobe woof" loads it. KVER (also $KVER): the kernel the module was
#   built for, by default read from the module's vermagic.
# Usage: install-kmod.sh dkms-source SRCDIR VERSION
#   Installs the module's source as /usr/src/woof-VERSION/ (dkms.conf,
#   kmod/Kbuild and sources, include/uapi/linux/woof.h) and the udev rule;
#   then: dkms install woof/VERSION (add, build, install; -k KVER for a
#   kernel other than the running one).
# DESTDIR (environment): a staging root to install into instead of /;
# depmod then runs as depmod -b DESTDIR KVER.
set -eu
root=${DESTDIR:-}
root=${root%/}

install_rule() {
	install -D -m 0644 "$1/kmod/60-woof.rules" "$root/etc/udev/rules.d/60-woof.rules"
	echo "install-kmod: $root/etc/udev/rules.d/60-woof.rules"
	if [ -z "$root" ] && command -v udevadm >/dev/null 2>&1; then
		udevadm control --reload 2>/dev/null || true
	fi
}

case ${1:-} in
module)
	[ $# -ge 3 ] || { echo "usage: $0 module WOOF_KO SRCDIR [KVER]" >&2; exit 2; }
	ko=$2
	src=$3
	kver=${4:-${KVER:-}}
	[ -s "$ko" ] || { echo "install-kmod: no module at $ko (build it first: ninja -C build)" >&2; exit 1; }
	if [ -z "$kver" ]; then
		kver=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
		[ -n "$kver" ] || { echo "install-kmod: cannot read the vermagic of $ko; give KVER" >&2; exit 1; }
	fi
	dir=$root/lib/modules/$kver/updates
	install -D -m 0644 "$ko" "$dir/woof.ko"
	echo "install-kmod: $dir/woof.ko (kernel $kver)"
	install_rule "$src"
	if [ -n "$root" ]; then
		depmod -b "$root" "$kver"
	else
		depmod "$kver"
	fi
	echo "install-kmod: depmod $kver done${root:+ (in $root)}; load it with: modprobe woof"
	if [ -z "$root" ] && [ "$(uname -r)" != "$kver" ]; then
		echo "install-kmod: note: the running kernel is $(uname -r), not $kver" >&2
	fi
	;;
dkms-source)
	[ $# -eq 3 ] || { echo "usage: $0 dkms-source SRCDIR VERSION" >&2; exit 2; }
	src=$2
	ver=$3
	dest=$root/usr/src/woof-$ver
	rm -rf "$dest"
	mkdir -p "$dest/kmod" "$dest/include/uapi/linux"
	for f in "$src"/kmod/Kbuild "$src"/kmod/*.c "$src"/kmod/*.h; do
		install -m 0644 "$f" "$dest/kmod/"
	done
	install -m 0644 "$src/include/uapi/linux/woof.h" "$dest/include/uapi/linux/woof.h"
	sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$ver\"/" "$src/kmod/dkms.conf" >"$dest/dkms.conf"
	chmod 0644 "$dest/dkms.conf"
	echo "install-kmod: DKMS source in $dest"
	install_rule "$src"
	echo "install-kmod: now: dkms install woof/$ver [-k KVER]; then: modprobe woof"
	;;
*)
	echo "usage: $0 module WOOF_KO SRCDIR [KVER] | dkms-source SRCDIR VERSION" >&2
	exit 2
	;;
esac
