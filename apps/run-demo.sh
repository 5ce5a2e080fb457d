#!/bin/bash
# run-demo.sh - the README's demo: CSPOT's hello-world on the user-space
# engine (no module, no root), then a look at the WOOF with woofctl.
# Usage: apps/run-demo.sh BUILDDIR
set -eu
build=$(cd "${1:-build}" && pwd)
ns=$(mktemp -d "${TMPDIR:-/tmp}/woof-demo.XXXXXX")
trap 'rm -rf "$ns"' EXIT
woofctl=$build/tools/woofctl/woofctl
hw=$build/apps/hello-world

echo "== namespace $ns"
"$woofctl" ns init "$ns"
cd "$ns"
echo "== hw-start -W hello-woof   (creates the WOOF, puts with handler hw)"
"$hw/hw-start" -W hello-woof
echo "== hw-client -W hello-woof   (a plain name in the current namespace)"
"$hw/hw-client" -W hello-woof
echo "== hw-client -N $ns -W hello-woof   (a woof:// URI)"
"$hw/hw-client" -N "$ns" -W hello-woof
echo "== woofctl woof stat hello-woof"
"$woofctl" woof stat hello-woof
echo "== woofctl woof get hello-woof 1"
"$woofctl" woof get hello-woof 1 | head -4
echo "== woofctl -j woof ls"
"$woofctl" -j woof ls
echo "demo: ok"
