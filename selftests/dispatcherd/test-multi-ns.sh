#!/bin/bash
# SPDX-License-Identifier: MIT
# test-multi-ns.sh - one dispatcherd, two namespaces (-N twice): each
# namespace's handlers run with its own WOOFC_DIR, its records and log stay
# in it, and each has its own lock and status.
. "$(dirname "$0")/test_common.sh"

NS2=$NS/../$(basename "$NS")-second
mkdir "$NS2" || fail "mkdir"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS2"
chmod 755 "$NS2"
trap 'rm -rf "$NS2"; cleanup' EXIT
install_handler rec
cp "$NS/rec" "$NS2/rec"
[ ${#AS[@]} = 0 ] || chown 65534:65534 "$NS2/rec"
tool create w 64 && tool create results 64 || fail "create 1"
as_user "$DISP_TOOL" -N "$NS2" create w 64 && as_user "$DISP_TOOL" -N "$NS2" create results 64 ||
	fail "create 2"
start_daemon -N "$NS2"
tool put w rec 1 5 || fail "put 1"
as_user "$DISP_TOOL" -N "$NS2" put w rec 1 7 || fail "put 2"
tool wait results 5 20 || fail "namespace 1: results missing"
as_user "$DISP_TOOL" -N "$NS2" wait results 7 20 || fail "namespace 2: results missing"
out1=$(tool check 5) || fail "ns1: $out1"
out2=$(as_user "$DISP_TOOL" -N "$NS2" check 7) || fail "ns2: $out2"
wait_final 5 10 || fail "ns1 records"
n2=$("$DISPATCHERD_DUMP" -N "$NS2" calls | grep -c 'state=done ')
[ "$n2" = 7 ] || fail "namespace 2 has $n2 done records, expected 7"
grep -q "^pid $DPID$" "$NS2/.woof/status" || fail "no status in namespace 2"
grep -q "^$DPID$" "$NS2/.woof/dispatcherd.lock" || fail "namespace 2 not locked by $DPID"
ok "two namespaces served by one dispatcherd, each with its own records"
stop_daemon || fail "exit status $?"
