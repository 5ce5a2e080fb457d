#!/bin/sh
# install-vm-deps.sh - install what the kernel-test VM harness (run-vm.sh) needs
# on Debian 12: qemu (TCG), Debian's own 6.1 kernel image and its headers (to
# build and load the module in the guest), a static busybox and cpio for the
# guest's initramfs, kmod (modprobe --show-depends) and xz (to extract vmlinux).
# Usage: selftests/vm/install-vm-deps.sh [--check]
#   --check: install nothing; list what is missing and exit 1 if anything is.
# Installs only what is missing; needs root (or sudo) only when it installs.
# Installing linux-image-amd64 runs update-initramfs (~30 s); that is harmless.
# Waits for apt's locks (tools/apt-lock.sh) and shows apt-get's progress.
set -eu
# shellcheck source=tools/apt-lock.sh
. "$(cd "$(dirname "$0")" && pwd)/../../tools/apt-lock.sh"

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
apt_wait_locks install-vm-deps || exit 1
echo "install-vm-deps: apt-get update" >&2
# shellcheck disable=SC2086
$SUDO apt-get $APT_LOCK_OPTS -q update
echo "install-vm-deps: apt-get install (qemu and a kernel: a few minutes)" >&2
# shellcheck disable=SC2086
$SUDO apt-get $APT_LOCK_OPTS -o Dpkg::Use-Pty=0 -q install -y --no-install-recommends $missing
