#!/bin/sh
# install-deps.sh - install what building and testing woof needs on Debian 12.
# Usage: tools/install-deps.sh [demo|test]
#   demo: the build (compiler, Meson, liburing, libnl-genl for woofctl monitor,
#         scdoc)
#   test: also Criterion and, for the kernel tests, qemu and Debian's 6.1
#         kernel image and headers (selftests/vm/install-vm-deps.sh)
# Installs only what is missing; needs root (or sudo) only when it installs.
set -eu
what=${1:-demo}
here=$(cd "$(dirname "$0")" && pwd)
pkgs="gcc libc6-dev make meson ninja-build pkg-config python3 scdoc liburing-dev libbpf-dev"
pkgs="$pkgs libnl-3-dev libnl-genl-3-dev"
[ "$what" = test ] && pkgs="$pkgs libcriterion-dev"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "$what" = test ]; then
	# the VM harness skips (exit 77) on its own if this cannot be done
	"$here/../selftests/vm/install-vm-deps.sh" ||
		echo "install-deps: the kernel tests' packages could not be installed" >&2
fi
exit 0
