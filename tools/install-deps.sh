#!/bin/sh
# install-deps.sh - install what building and testing woof needs on Debian 12.
# Usage: tools/install-deps.sh [demo|test]   (test adds the test-only packages)
# Installs only what is missing; needs root (or sudo) only when it installs.
set -eu
what=${1:-demo}
pkgs="gcc libc6-dev make meson ninja-build pkg-config python3 scdoc"
[ "$what" = test ] && pkgs="$pkgs libcriterion-dev"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
