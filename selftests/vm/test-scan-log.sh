#!/bin/bash
# test-scan-log.sh - scan-kernel-log.sh on fake guest kernel logs (suite
# 'unit', no VM): a boot log of the KASAN + UBSAN kernel (build-debug-kernel.sh)
# is clean, and whole KASAN and UBSAN reports in woof.ko as those kernels
# print them are flagged, with their lines quoted, even when the run allows
# another message (--allow) that a report line also matches.
# Usage: test-scan-log.sh
# Exit: 0 pass, 1 fail.
set -u
scan=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scan-kernel-log.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/woof-scan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# the boot of the sanitizer kernel says "kasan:" and "KernelAddressSanitizer"
cat >"$tmp/boot.log" <<'LOG'
[    0.000000] Linux version 6.1.192-woof-kasan (root@host) (gcc (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC
[    0.000000] Command line: console=ttyS0 panic=-1 quiet kasan_multi_shot log_buf_len=8M
[    0.000000] kasan: KernelAddressSanitizer initialized (generic)
[    1.402113] printk: log_buf_len: 8388608 bytes
[    6.120000] woof-vm: command start
[    6.900000] woof: /dev/woof/control ready (api 1, format 1)
LOG
if "$scan" "$tmp/boot.log" >"$tmp/out"; then
	pass "the KASAN kernel's boot log is clean"
else
	fail "the KASAN kernel's boot log was flagged:"
	cat "$tmp/out"
fi

# a KASAN report as 6.1 prints it
{
	cat "$tmp/boot.log"
	cat <<'LOG'
[   42.318190] ==================================================================
[   42.318930] BUG: KASAN: slab-out-of-bounds in woof_ioc_append+0x3a1/0x5c0 [woof]
[   42.319450] Write of size 8 at addr ffff888004c1a940 by task fuzz-ioctl/151
[   42.320002] CPU: 1 PID: 151 Comm: fuzz-ioctl Tainted: G           OE      6.1.192-woof-kasan #1
[   42.320900] Call Trace:
[   42.321100]  <TASK>
[   42.321300]  dump_stack_lvl+0x49/0x63
[   42.321500]  print_report+0x171/0x49b
[   42.321700]  kasan_report+0xb2/0x130
[   42.321900]  woof_ioc_append+0x3a1/0x5c0 [woof]
[   42.322500] ==================================================================
LOG
} >"$tmp/kasan.log"
if "$scan" "$tmp/kasan.log" >"$tmp/out"; then
	fail "a KASAN report was not flagged"
elif grep -qF '>> [   42.318930] BUG: KASAN: slab-out-of-bounds in woof_ioc_append' "$tmp/out" &&
	grep -qF 'Write of size 8 at addr' "$tmp/out"; then
	pass "a KASAN report is flagged and quoted with its context"
else
	fail "a KASAN report: exit 1 but not quoted:"
	cat "$tmp/out"
fi
# ... also when the run allows a BUG: line it provokes on purpose
if "$scan" --allow 'BUG: ' "$tmp/kasan.log" >"$tmp/out"; then
	fail "--allow 'BUG: ' hid a KASAN report"
else
	pass "--allow cannot hide a KASAN report"
fi

# a UBSAN report as 6.1 prints it (no BUG:, no WARNING: on its first line)
{
	cat "$tmp/boot.log"
	cat <<'LOG'
[   50.100000] ================================================================================
[   50.100100] UBSAN: shift-out-of-bounds in /tmp/woof/kmod/woof-engine.c:231:29
[   50.100200] shift exponent 64 is too large for 64-bit type 'long long unsigned int'
[   50.100300] CPU: 0 PID: 160 Comm: fuzz-ioctl Tainted: G           OE      6.1.192-woof-kasan #1
[   50.100900] ================================================================================
LOG
} >"$tmp/ubsan.log"
if "$scan" "$tmp/ubsan.log" >"$tmp/out"; then
	fail "a UBSAN report was not flagged"
elif grep -qF '>> [   50.100100] UBSAN: shift-out-of-bounds in /tmp/woof/kmod/woof-engine.c:231:29' "$tmp/out"; then
	pass "a UBSAN report is flagged and quoted"
else
	fail "a UBSAN report: exit 1 but not quoted:"
	cat "$tmp/out"
fi
if "$scan" --allow 'UBSAN|shift' "$tmp/ubsan.log" >/dev/null; then
	fail "--allow hid a UBSAN report"
else
	pass "--allow cannot hide a UBSAN report"
fi

echo "test-scan-log: $passed passed, $failed failed"
[ "$failed" = 0 ]
