#!/bin/bash
# SPDX-License-Identifier: MIT
# run-in-vm.sh - run dispatcherd tests by name (test-NAME.sh) one after the
# other; meant to run inside the qemu guest (selftests/vm/run-vm.sh), where
# the kernel is Debian's 6.1 (no IORING_OP_WAITID: the pidfd-poll path) and
# cgroup v2 has the memory, pids and cpu controllers (test-limits runs).
# The programs come from the environment meson sets, which run-vm.sh
# passes into the guest. Exit status: 1 if a test failed, 0 otherwise
# (77 when every test was skipped).
set -u
here=$(cd "$(dirname "$0")" && pwd)
echo "kernel $(uname -r)"
rc=0 ran=0
for t in "$@"; do
	echo "=== $t"
	bash "$here/test-$t.sh"
	r=$?
	echo "=== $t: exit $r"
	case $r in
	0) ran=1 ;;
	77) ;;
	*) rc=1 ;;
	esac
done
[ $rc = 0 ] && [ $ran = 0 ] && exit 77
exit $rc
