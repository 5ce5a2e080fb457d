#!/bin/bash
# SPDX-License-Identifier: MIT
#
# seed-hello-world.sh - CSPOT source compatibility: build CSPOT's hello-world
# exactly as its README prints it, against woof's headers and libwoof, and
# run it the way the README does.
#
# The README (shared/seeds/000_624deabf70b8f88a.txt, scraped from the web)
# holds four code blocks in this order: hw.c (the handler), hw.h, hw-start.c
# and hw-client.c. They are cut out verbatim (only a trailing CR is dropped),
# compiled unchanged with `cc -I<include> -I<include/uapi>`, and then, in a
# fresh directory that is the namespace (WOOFC_DIR unset):
#   ./hw-start -W hello-woof             -> "... my first bark to hello-woof at seq_no 1"
#   ./hw-client -W hello-woof            -> "... my second bark to hello-woof at seq_no 2"
#   hw-client -N <nsdir> -W hello-woof   -> "... at seq_no 3" (a woof:// URI, run elsewhere)
#   ./hw-start -W hello-woof again       -> seq_no 1 (WooFCreate resets)
# hw.c is only compiled to an object: running handlers is dispatcherd's job.
#
# Usage: seed-hello-world.sh INCLUDE_DIR LIBWOOF   (LIBWOOF: the .so or its directory)
# Environment: WOOF_SEEDS (the seeds directory), CC. Exit 77 = skipped.
set -u

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ $# -ge 2 ] || { echo "usage: $0 INCLUDE_DIR LIBWOOF" >&2; exit 2; }
inc=$1
lib=$2
seeds=${WOOF_SEEDS:-$(dirname "$0")/../../../shared/seeds}
seed=$seeds/000_624deabf70b8f88a.txt
cc=${CC:-cc}

[ -r "$seed" ] || skip "the CSPOT README seed is not at $seed (set WOOF_SEEDS)"
command -v "$cc" >/dev/null 2>&1 || skip "no C compiler ($cc)"
[ -r "$inc/woofc.h" ] || fail "no woofc.h in $inc"
[ -e "$lib" ] || fail "no libwoof at $lib"
lib=$(realpath "$lib") || fail "realpath $lib"
inc=$(realpath "$inc") || fail "realpath $inc"

work=$(mktemp -d /tmp/woof-compat-XXXXXX) || fail "mktemp"
trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src" "$work/ns"

# Cut the code blocks out: a C block starts at a line "#include <stdlib.h>"
# and ends at the first line that is exactly "}"; the header block runs from
# "#ifndef HW_H" to "#endif". Blocks are numbered in order of appearance.
awk -v out="$src" '
	{ sub(/\r$/, "") }
	!inblk && $0 == "#include <stdlib.h>" { inblk = 1; kind = "c"; n++; f = out "/block" n }
	!inblk && $0 == "#ifndef HW_H"       { inblk = 1; kind = "h"; n++; f = out "/block" n }
	inblk { print > f }
	inblk && kind == "c" && $0 == "}"      { inblk = 0; close(f) }
	inblk && kind == "h" && $0 == "#endif" { inblk = 0; close(f) }
' "$seed" || fail "awk failed"

# The four blocks must be, in order, hw.c, hw.h, hw-start.c, hw-client.c.
[ -s "$src/block1" ] && [ -s "$src/block2" ] && [ -s "$src/block3" ] && [ -s "$src/block4" ] ||
	fail "could not find the four hello-world code blocks in $seed"
grep -q '^int hw(WOOF \*wf, unsigned long seq_no, void \*ptr)$' "$src/block1" ||
	fail "block 1 is not hw.c"
grep -q '^typedef struct obj_stc HW_EL;$' "$src/block2" || fail "block 2 is not hw.h"
grep -q 'my first bark' "$src/block3" || fail "block 3 is not hw-start.c"
grep -q 'my second bark' "$src/block4" || fail "block 4 is not hw-client.c"
mv "$src/block1" "$src/hw.c"
mv "$src/block2" "$src/hw.h"
mv "$src/block3" "$src/hw-start.c"
mv "$src/block4" "$src/hw-client.c"
for f in hw.c hw-start.c hw-client.c; do
	tail -n 1 "$src/$f" | grep -qx '}' || fail "$f does not end with its closing brace"
done
echo "extracted: $(wc -l "$src"/hw.c "$src"/hw.h "$src"/hw-start.c "$src"/hw-client.c | tail -n 1)"

if [ -d "$lib" ]; then
	link=(-L"$lib" -lwoof -Wl,-rpath,"$lib")
else
	link=("$lib" -Wl,-rpath,"$(dirname "$lib")")
fi
cflags=(-I"$inc" -I"$inc/uapi" -I"$src")

"$cc" "${cflags[@]}" -c "$src/hw.c" -o "$work/hw.o" || fail "hw.c does not compile"
"$cc" "${cflags[@]}" "$src/hw-start.c" -o "$work/hw-start" "${link[@]}" ||
	fail "hw-start.c does not compile and link"
"$cc" "${cflags[@]}" "$src/hw-client.c" -o "$work/hw-client" "${link[@]}" ||
	fail "hw-client.c does not compile and link"
nm "$work/hw.o" | grep -q ' T hw$' || fail "hw.o does not define the handler hw"

# Run as the README does: the programs copied into the namespace directory.
ns=$(cd "$work/ns" && pwd)
cp "$work/hw-start" "$work/hw-client" "$ns/"

run() {	# run EXPECTED_STDOUT DIR CMD...
	local want=$1 dir=$2 out err rc
	shift 2
	out=$(cd "$dir" && env -u WOOFC_DIR "$@" 2>"$work/stderr")
	rc=$?
	err=$(cat "$work/stderr")
	echo "\$ (cd $dir; $*)"
	[ -n "$out" ] && echo "$out"
	[ -n "$err" ] && echo "stderr: $err"
	[ $rc -eq 0 ] || fail "$* exited with $rc"
	[ "$out" = "$want" ] || fail "$*: expected \"$want\""
	case $err in *"woof:"*) fail "$*: the library reported an error" ;; esac
	return 0
}

run "successfully appended my first bark to hello-woof at seq_no 1" "$ns" ./hw-start -W hello-woof
[ -f "$ns/hello-woof" ] || fail "hw-start did not create the WOOF file $ns/hello-woof"
run "successfully appended my second bark to hello-woof at seq_no 2" "$ns" ./hw-client -W hello-woof
run "successfully appended my second bark to woof://$ns/hello-woof at seq_no 3" \
	"$work" "$ns/hw-client" -N "$ns" -W hello-woof
# WooFCreate over an existing WOOF resets it (CSPOT semantics)
run "successfully appended my first bark to hello-woof at seq_no 1" "$ns" ./hw-start -W hello-woof
echo "PASS: CSPOT hello-world builds unchanged and runs"
exit 0
