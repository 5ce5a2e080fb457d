#!/bin/bash
# run-all.sh - run every test suite of a built tree and print one count line.
# Usage: selftests/run-all.sh BUILDDIR
# Runs meson's suites (unit, integration, compat; the kernel suite in the VM
# once it exists), then prints "N passed, N failed, N skipped" counted over
# individual test cases (TAP subtests), and exits non-zero if any failed.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
rc=0
# suite 'fuzz' (kmod-fuzz) is run by hand or by make test-kasan while the
# crash it found is open (Documentation/testing.md, "Memory errors")
meson test -C "$build" --print-errorlogs --num-processes 2 --no-suite fuzz || rc=$?
python3 "$here/summary.py" "$build/meson-logs/testlog.json" || rc=1
exit $rc
