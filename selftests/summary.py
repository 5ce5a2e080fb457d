#!/usr/bin/env python3
"""summary.py - count test cases in meson's testlog.json.

TAP tests count one case per 'ok'/'not ok' line; tests that print their own
'N passed, N failed' line count those; any other test counts as one case.
Prints 'N passed, N failed, N skipped' and exits 1 if anything failed or
nothing ran."""
import json
import re
import sys

passed = failed = skipped = 0
count_re = re.compile(r'^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$', re.M)
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        out = t.get('stdout') or ''
        result = t.get('result')
        if result == 'SKIP':
            skipped += 1
            continue
        tap = re.findall(r'^(not ok|ok)\b(.*)$', out, re.M)
        own = count_re.findall(out)
        if tap and result in ('OK', 'FAIL', 'EXPECTEDFAIL'):
            for status, rest in tap:
                if '# SKIP' in rest.upper():
                    skipped += 1
                elif status == 'ok':
                    passed += 1
                else:
                    failed += 1
            if result == 'FAIL' and not any(s == 'not ok' for s, _ in tap):
                failed += 1   # crashed or timed out after its last case
        elif own and result in ('OK', 'FAIL'):
            p, fl, s = own[-1]
            passed += int(p)
            failed += int(fl)
            skipped += int(s or 0)
            if result == 'FAIL' and int(fl) == 0:
                failed += 1
        elif result == 'OK':
            passed += 1
        else:
            failed += 1
print(f'{passed} passed, {failed} failed, {skipped} skipped')
sys.exit(1 if failed or passed == 0 else 0)
