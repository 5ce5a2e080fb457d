#!/bin/bash
# SPDX-License-Identifier: MIT
# test-limits.sh - memory_max and pids_max from woof.conf reach the call's
# cgroup: a handler touching 512 MiB under memory_max = 64M is killed
# (signal 9), then one forking 64 children under pids_max = 16 sees forks fail.
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
stop_daemon || fail "exit status $?"
