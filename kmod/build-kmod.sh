#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# build-kmod.sh - build kmod/woof.ko with Kbuild, for Meson's custom_target.
# Kbuild (before 6.13) writes its objects next to the sources, so the
# sources and the uapi header are copied into a private directory and the
# module is built there; the source tree is never written to.
# Usage: build-kmod.sh KDIR SRCDIR PRIVDIR OUTPUT
#   KDIR     kernel build directory ('' = see below)
#   SRCDIR   the source tree (has kmod/ and include/uapi/linux/woof.h)
#   PRIVDIR  a directory of our own (Meson's @PRIVATE_DIR@)
#   OUTPUT   where woof.ko goes
# Environment: WOOF_KMOD_W (default 1) is passed as Kbuild's W=.
#        build-kmod.sh --find-kdir KDIR
#   prints the kernel build directory that would be used (exit 1: none)
# Without KDIR: /lib/modules/$(uname -r)/build, else the newest
# /lib/modules/*/build (the running kernel may have no headers, e.g. on a
# host that only builds the module for a VM).
set -eu

find_kdir() {
	local d
	if [ -n "$1" ]; then
		[ -e "$1/Makefile" ] && { echo "$1"; return 0; }
		return 1
	fi
	d=/lib/modules/$(uname -r)/build
	[ -e "$d/Makefile" ] && { echo "$d"; return 0; }
	for d in /lib/modules/*/build; do
		[ -e "$d/Makefile" ] && echo "$d"
	done | sort -V | tail -n 1 | grep . && return 0
	return 1
}

if [ "${1:-}" = --find-kdir ]; then
	find_kdir "${2:-}"
	exit
fi
[ $# -eq 4 ] || { echo "usage: $0 KDIR SRCDIR PRIVDIR OUTPUT" >&2; exit 2; }
src=$2 priv=$3 out=$4
if ! kdir=$(find_kdir "$1"); then
	echo "build-kmod: no kernel build directory${1:+ at $1} (install linux-headers-amd64, or set -Dkernel_dir=)" >&2
	exit 1
fi
mkdir -p "$priv/include/uapi/linux"
# cp -p keeps the sources' times, so make rebuilds only what changed
cp -p "$src"/kmod/Kbuild "$src"/kmod/*.c "$src"/kmod/*.h "$priv/"
cp -p "$src"/include/uapi/linux/woof.h "$priv/include/uapi/linux/woof.h"
make -s -C "$kdir" M="$(cd "$priv" && pwd)" W="${WOOF_KMOD_W:-1}" modules 2>&1 |
	grep -v 'Skipping BTF generation' >&2 || true
[ -s "$priv/woof.ko" ] || { echo "build-kmod: woof.ko was not built" >&2; exit 1; }
cp "$priv/woof.ko" "$out"
