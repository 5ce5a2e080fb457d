#!/bin/bash
# run-demo.sh - the README's demo: CSPOT's hello-world on the user-space
# engine (no module needed), with dispatcherd running the hw handler: the
# daemon starts in the foreground (in the background of this script), the
# hw handler program (hw.c linked with the shepherd) goes into the
# namespace, hw-start and hw-client put with "hw" named, the handler's
# output is shown from the namespace's log, and dispatcherd is stopped with
# SIGTERM. Then a look at the WOOF with woofctl.
# Usage: apps/run-demo.sh BUILDDIR
set -eu
apps=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
ns=$(mktemp -d "${TMPDIR:-/tmp}/woof-demo.XXXXXX")
dlog=$ns.dispatcherd.log
dpid=
cleanup() {
	if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
		kill -TERM "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null || true
	fi
	rm -rf "$ns" "$dlog"
}
trap cleanup EXIT
woofctl=$build/tools/woofctl/woofctl
hw=$build/apps/hello-world
dispatcherd=$build/dispatcherd/dispatcherd
dump=$build/dispatcherd/dispatcherd-dump

# wait_until SECONDS CMD...: a demo may poll (the daemon itself never does)
wait_until() {
	local tries=$(( $1 * 20 ))
	shift
	until "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || return 1
		sleep 0.05
	done
}
calls_done() { [ "$("$dump" -N "$ns" calls | grep -c 'state=done ')" -ge "$1" ]; }

echo "== namespace $ns"
"$woofctl" ns init "$ns"
# handlers run as the namespace's owner (as nobody when root owns it and
# dispatcherd runs as root): they must be able to enter the directory
chmod 755 "$ns"
echo "== the handler program: hw.c + the shepherd's main(), as the file 'hw' in the namespace"
cp "$hw/hw" "$ns/hw"

echo "== dispatcherd --foreground -N $ns   (in the background; its log: $dlog)"
"$dispatcherd" --foreground -N "$ns" >"$dlog" 2>&1 &
dpid=$!
wait_until 10 grep -q "ready: pid $dpid" "$dlog" || { cat "$dlog"; echo "demo: dispatcherd did not start"; exit 1; }

cd "$ns"
echo "== hw-start -W hello-woof   (creates the WOOF, puts with handler hw)"
"$hw/hw-start" -W hello-woof
echo "== hw-client -W hello-woof   (a plain name in the current namespace)"
"$hw/hw-client" -W hello-woof
echo "== hw-client -N $ns -W hello-woof   (a woof:// URI)"
"$hw/hw-client" -N "$ns" -W hello-woof
wait_until 20 calls_done 3 || { cat "$dlog"; "$dump" -N "$ns" calls; echo "demo: the handlers did not run"; exit 1; }

echo "== the handlers' output, from the namespace log (.woof/log)"
if "$woofctl" logs "$ns" >/dev/null 2>&1; then
	"$woofctl" logs "$ns"
else
	"$dump" -N "$ns" log
fi
echo "== the calls (.woof/calls)"
"$dump" -N "$ns" calls | grep -v 'state=running'

echo "== SIGTERM to dispatcherd"
kill -TERM "$dpid"
rc=0
wait "$dpid" || rc=$?
dpid=
echo "dispatcherd exited with status $rc"
sed 's/^/    /' "$dlog"
[ $rc = 0 ] || { echo "demo: dispatcherd did not stop cleanly"; exit 1; }

echo "== woofctl woof stat hello-woof"
"$woofctl" woof stat hello-woof
echo "== woofctl woof get hello-woof 1"
"$woofctl" woof get hello-woof 1 | head -4
echo "== woofctl -j woof ls"
"$woofctl" -j woof ls

echo
echo "== runs-test: CSPOT's pipeline (RHandler -> SHandler -> KHandler) through dispatcherd"
"$apps/runs-test/run-pipeline.sh" -t 240 "$build" -s 100 -c 10
echo "demo: ok"
