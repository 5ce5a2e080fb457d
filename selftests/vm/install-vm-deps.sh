#!/bin/sh
# install-vm-deps.sh - install what the kernel-test VM harness (run-vm.sh) needs
# on Debian 12: qemu (TCG), Debian's own 6.1 kernel image and its headers (to
# build and load the module in the guest), a static busybox and cpio for the
# guest's initramfs, kmod (modprobe --show-depends) and xz (to extract vmlinux).
# Usage: selftests/vm/install-vm-deps.sh [--check]
#   --check: install nothing; list what is missing and exit 1 if anything is.
# Installs only what is missing; needs root (or sudo) only when it installs.
# Installing linux-image-amd64 runs update-initramfs (~30 s); that is harmless.
set -eu

pkgs="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static cpio kmod xz-utils"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	exit 0
fi
if [ "${1:-}" = --check ]; then
	echo "install-vm-deps: missing:$missing" >&2
	exit 1
fi
echo "install-vm-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "install-vm-deps: not root and no sudo; install:$missing" >&2
		exit 1
	}
	SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
