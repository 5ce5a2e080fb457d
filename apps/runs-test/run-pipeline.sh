#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-pipeline.sh - runs the runs-test pipeline through dispatcherd and
# checks it against runstat-local.
#
# Usage: run-pipeline.sh [-t SECONDS] BUILDDIR [NSDIR] [START-OPTIONS...]
#   BUILDDIR       a meson build directory of woof
#   NSDIR          the namespace directory to use (created if missing);
#                  default: a temporary one, removed afterwards
#   START-OPTIONS  passed to runstat-start: -s N -c N -S SEED -b N -B
#   -t SECONDS     how long to wait for the result (default 120)
#
# Steps: make NSDIR a namespace, copy the handler programs RHandler,
# SHandler and KHandler from BUILDDIR/apps/runs-test into it, start
# BUILDDIR/dispatcherd/dispatcherd -N NSDIR --foreground, run
# runstat-start, wait for BASE.result with runstat-wait, print the KS
# result, and compare the whole output (every sample's statistic and the
# result) with runstat-local's for the same options: they must be
# identical. Exit 0 when they are, 1 when not or on timeout, 2 for usage,
# 77 (skip) when dispatcherd or the handler programs are not built yet.
set -u

usage() {
	echo "usage: $0 [-t SECONDS] BUILDDIR [NSDIR] [START-OPTIONS...]" >&2
	exit 2
}

timeout=120
if [ "${1:-}" = "-t" ]; then
	[ $# -ge 2 ] || usage
	timeout=$2
	shift 2
fi
[ $# -ge 1 ] || usage
build=$(cd "$1" 2>/dev/null && pwd) || { echo "$0: no build directory $1" >&2; exit 2; }
shift
ns=
if [ $# -ge 1 ] && [ "${1#-}" = "$1" ]; then
	ns=$1
	shift
fi
start_args=("$@")

apps=$build/apps/runs-test
dispatcherd=$build/dispatcherd/dispatcherd
woofctl=$build/tools/woofctl/woofctl

skip() { echo "SKIP: $*"; exit 77; }
[ -x "$dispatcherd" ] || skip "dispatcherd is not built ($dispatcherd)"
for h in RHandler SHandler KHandler; do
	[ -x "$apps/$h" ] || skip "handler program $h is not built ($apps/$h)"
done
for p in runstat-start runstat-wait runstat-local; do
	[ -x "$apps/$p" ] || { echo "$0: $apps/$p is missing" >&2; exit 1; }
done
[ -x "$woofctl" ] || { echo "$0: $woofctl is missing" >&2; exit 1; }

# The copied handler programs cannot use their build-tree RUNPATH
# ($ORIGIN/../../lib) from the namespace directory; without this they
# would load an installed libwoof, if there is one, instead of this
# build's. dispatcherd passes LD_LIBRARY_PATH on to handlers.
export LD_LIBRARY_PATH="$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# runstat-local takes the same options except -b (the batch size does not
# change the numbers)
local_args=()
i=0
while [ $i -lt ${#start_args[@]} ]; do
	a=${start_args[$i]}
	case $a in
	-b) i=$((i + 2)); continue ;;
	-b*) i=$((i + 1)); continue ;;
	esac
	local_args+=("$a")
	i=$((i + 1))
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/runs-test.XXXXXX") || exit 1
dpid=
cleanup() {
	if [ -n "$dpid" ]; then
		kill -TERM "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "$ns" ] || ns=$tmp/ns	# removed with $tmp
mkdir -p "$ns" && ns=$(cd "$ns" && pwd) || exit 1

echo "== namespace $ns"
# As root, the namespace belongs to nobody: dispatcherd runs a namespace's
# handlers as its owner, and the handlers put to the WOOFs runstat-start
# creates, so those must be the same user's.
as_owner=()
if [ "$(id -u)" = 0 ]; then
	chmod 755 "$tmp"
	chown 65534:65534 "$ns" || exit 1
	as_owner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
"${as_owner[@]}" "$woofctl" ns init "$ns" >/dev/null || exit 1
for h in RHandler SHandler KHandler; do
	cp "$apps/$h" "$ns/$h" || exit 1
done

echo "== dispatcherd -N $ns --foreground"
"$dispatcherd" -N "$ns" --foreground >"$tmp/dispatcherd.log" 2>&1 &
dpid=$!
sleep 0.2
if ! kill -0 "$dpid" 2>/dev/null; then
	wait "$dpid"
	echo "dispatcherd exited at once (status $?):"
	sed 's/^/    /' "$tmp/dispatcherd.log"
	dpid=
	exit 1
fi

base=runstat
echo "== runstat-start -N $ns -W $base ${start_args[*]}"
"${as_owner[@]}" "$apps/runstat-start" -N "$ns" -W "$base" "${start_args[@]}" || exit 1
t0=$(date +%s.%N)
echo "== runstat-wait -N $ns -W $base -t $timeout -v"
if ! "$apps/runstat-wait" -N "$ns" -W "$base" -t "$timeout" -v >"$tmp/pipeline.out"; then
	echo "the pipeline did not finish; dispatcherd's log:"
	tail -20 "$tmp/dispatcherd.log" | sed 's/^/    /'
	exit 1
fi
t1=$(date +%s.%N)
tail -2 "$tmp/pipeline.out"
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "   (pipeline: %.2f s)\n", b - a }'

echo "== runstat-local -v ${local_args[*]}"
"$apps/runstat-local" -v "${local_args[@]}" >"$tmp/local.out" || exit 1
tail -1 "$tmp/local.out"
if ! diff -u "$tmp/local.out" "$tmp/pipeline.out" >"$tmp/diff"; then
	echo "FAIL: the pipeline's output differs from runstat-local's:"
	head -20 "$tmp/diff" | sed 's/^/    /'
	exit 1
fi
echo "runs-test pipeline: ok (identical to runstat-local, $(($(wc -l <"$tmp/local.out") - 2)) samples)"
