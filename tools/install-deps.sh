#!/bin/sh
# install-deps.sh - install what building and testing woof needs on Debian 12.
# Usage: tools/install-deps.sh [demo|test|--check [demo|test]|--wait-locks]
#   demo: the build (compiler, Meson, liburing, libnl-genl for woofctl monitor,
#         scdoc)
#   test: also Criterion and, for the kernel tests, qemu and Debian's 6.1
#         kernel image and headers (selftests/vm/install-vm-deps.sh)
#   --check [demo|test]: install nothing; list what is missing (exit 1 if
#         anything is)
#   --wait-locks: install nothing; wait for apt's locks like an install
#         would (exit 0 when free, 1 after WOOF_APT_LOCK_WAIT seconds)
# Installs only what is missing; needs root (or sudo) only when it installs.
# When another apt (unattended-upgrades on a fresh machine) holds apt's
# locks it waits, saying who holds them (tools/apt-lock.sh), and then shows
# apt-get's own progress lines.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/apt-lock.sh
. "$here/apt-lock.sh"

check=false
case ${1:-} in
--wait-locks)
	apt_wait_locks install-deps
	exit $?
	;;
--check)
	check=true
	shift
	;;
esac
what=${1:-demo}
pkgs="gcc libc6-dev make meson ninja-build pkg-config python3 scdoc liburing-dev libbpf-dev"
pkgs="$pkgs libnl-3-dev libnl-genl-3-dev"
[ "$what" = test ] && pkgs="$pkgs libcriterion-dev dkms"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if $check; then
	rc=0
	if [ -n "$missing" ]; then
		echo "install-deps: missing:$missing" >&2
		rc=1
	fi
	if [ "$what" = test ]; then
		"$here/../selftests/vm/install-vm-deps.sh" --check || rc=1
	fi
	exit $rc
fi
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	apt_wait_locks install-deps || exit 1
	echo "install-deps: apt-get update" >&2
	# shellcheck disable=SC2086
	$SUDO apt-get $APT_LOCK_OPTS -q update
	echo "install-deps: apt-get install (a few minutes on a fresh machine)" >&2
	# shellcheck disable=SC2086
	$SUDO apt-get $APT_LOCK_OPTS -o Dpkg::Use-Pty=0 -q install -y --no-install-recommends $missing
fi
if [ "$what" = test ]; then
	# the VM harness skips (exit 77) on its own if this cannot be done
	"$here/../selftests/vm/install-vm-deps.sh" ||
		echo "install-deps: the kernel tests' packages could not be installed" >&2
fi
exit 0
