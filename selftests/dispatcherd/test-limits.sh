#!/bin/bash
# SPDX-License-Identifier: MIT
# test-limits.sh - memory_max and pids_max from woof.conf reach the call's
# cgroup: a handler touching 512 MiB under memory_max = 64M is killed
# (signal 9), then one forking 64 children under pids_max = 16 sees forks
# fail; then new limits in woof.conf reach the namespace's cgroup on SIGHUP.
# Needs cgroup v2 with the memory and pids controllers: on a host without
# them (cgroup v2 with no controllers) it is skipped with the reason that
# dispatcherd itself reports in .woof/status.
. "$(dirname "$0")/test_common.sh"

install_handler hog forker
printf '[namespace]\nmemory_max = 64M\npids_max = 16\ntimeout = 30s\n' >"$NS/woof.conf"
tool create w 64 || fail "create"
start_daemon
wait_for 5 grep -q '^limit memory.max=67108864 ' "$NS/.woof/status" || fail "memory_max not in status"
if ! grep -q '^limit memory.max=67108864 enforced=yes' "$NS/.woof/status" ||
   ! grep -q '^limit pids.max=16 enforced=yes' "$NS/.woof/status"; then
	why=$(grep -E '^sandbox .*(memory|pids)\.max not enforced' "$NS/.woof/status" | sed 's/^sandbox *- *//' | tr '\n' ';')
	skip "limits not enforced on this host: ${why:-see .woof/status}"
fi
# One after the other: both calls share the namespace's memory.max, and
# the OOM killer may pick the forker while the hog runs.
tool put w hog 1 1 || fail "put hog"
wait_final 1 60 || fail "the hog's call did not end"
tool put w forker 2 2 || fail "put forker"
wait_final 2 60 || fail "the forker's call did not end"
[ "$(count_records 'trigger=1 .*state=failed reason=signal .*signal=9 .*handler=hog$')" = 1 ] ||
	fail "the memory hog was not killed by the memory limit"
[ "$(count_records 'trigger=2 .*state=failed reason=exit exit=1 .*handler=forker$')" = 1 ] ||
	fail "the forker did not see its forks fail under pids_max"
ok "memory_max killed the hog; pids_max stopped the forks"

# A reload (SIGHUP) writes changed limits to the namespace's cgroup at once.
cgroot=$(sed -n 's/^sandbox cgroups: v2 at \([^;]*\);.*/\1/p' "$NS/.woof/status")
cgs=("$cgroot/woof-$(basename "$NS")-"????????)
[ ${#cgs[@]} = 1 ] && [ -d "${cgs[0]}" ] || fail "namespace cgroup not found: ${cgs[*]}"
[ "$(cat "${cgs[0]}/pids.max")" = 16 ] || fail "pids.max is $(cat "${cgs[0]}/pids.max"), not 16"
printf '[namespace]\nmemory_max = 96M\npids_max = 24\ntimeout = 30s\n' >"$NS/woof.conf"
kill -HUP "$DPID"
wait_for 10 grep -q '^limit memory.max=100663296 enforced=yes' "$NS/.woof/status" ||
	fail "the reloaded memory_max is not in the status"
wait_for 5 eval '[ "$(cat "${cgs[0]}/memory.max")" = 100663296 ]' ||
	fail "memory.max is $(cat "${cgs[0]}/memory.max") after the reload, not 100663296"
[ "$(cat "${cgs[0]}/pids.max")" = 24 ] || fail "pids.max is $(cat "${cgs[0]}/pids.max") after the reload, not 24"
grep -q "limits now memory_max=100663296 pids_max=24" "$DLOG" || fail "the reload did not log the new limits"
ok "SIGHUP: new memory_max and pids_max reach the namespace's cgroup at once"
stop_daemon || fail "exit status $?"
