#!/bin/bash
# scan-kernel-log.sh - look for signs of kernel trouble in a saved guest kernel
# log (the dmesg that run-vm.sh collects after the command ran): WARNING:,
# BUG:, kernel BUG at, Oops, general protection, Kernel panic, list_del /
# list_add corruption, KASAN, UBSAN, refcount_t:, hung tasks, RCU stalls and
# stack dumps (Call Trace:).
# Usage: scan-kernel-log.sh [--allow ERE] LOGFILE
#   --allow ERE (or $WOOF_VM_LOG_ALLOW): lines matching ERE are not flagged,
#   for tests that provoke a known message on purpose. A sanitizer report
#   ("BUG: KASAN: ...", "UBSAN: ...", KFENCE) is flagged all the same: no
#   provoked message may hide a memory error.
# Exit: 0 clean; 1 something was flagged (the flagged lines and up to 12
# lines after each are printed on stdout); 2 usage error or unreadable log.
set -u
allow=${WOOF_VM_LOG_ALLOW:-}
if [ "${1:-}" = --allow ]; then
	[ $# -ge 2 ] || { echo "usage: $0 [--allow ERE] LOGFILE" >&2; exit 2; }
	allow=$2
	shift 2
fi
[ $# -eq 1 ] || { echo "usage: $0 [--allow ERE] LOGFILE" >&2; exit 2; }
log=$1
[ -r "$log" ] || { echo "scan-kernel-log: cannot read $log" >&2; exit 2; }

bad='WARNING:|BUG:|kernel BUG at|Oops|general protection|Kernel panic|list_del corruption|list_add corruption|KASAN|UBSAN|refcount_t:|INFO: task .* blocked for more than|rcu: INFO:|detected stalls? on CPU|Call Trace:'

# never allowed
sanitizer='KASAN:|UBSAN:|KFENCE:'

awk -v bad="$bad" -v allow="$allow" -v never="$sanitizer" '
	{ sub(/\r$/, "") }
	$0 ~ never || ($0 ~ bad && !(allow != "" && $0 ~ allow)) {
		if (!found) print "---- flagged kernel log lines (with context) ----"
		else if (NR > last + 1) print "   ..."
		found++
		print ">> " $0
		last = NR + 12
		next
	}
	NR <= last { print "   " $0 }
	END {
		if (found) {
			print "---- " found " flagged line(s) ----"
			exit 1
		}
	}
' "$log"
