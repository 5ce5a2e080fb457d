#!/bin/bash
# test-kasan.sh - the kernel tests, and a long run of the ioctl fuzzer, in a
# guest booting a KASAN + UBSAN kernel (make test-kasan; not part of
# make test: the first kernel build takes an hour or more).
#   1. build-debug-kernel.sh builds (or finds cached) Debian's 6.1 source
#      with generic inline KASAN and UBSAN;
#   2. kmod/build-kmod.sh builds woof.ko against it;
#   3. run-vm.sh boots that kernel (WOOF_VM_KERNEL, WOOF_VM_MODROOT) for each
#      test script of the kernel suite, and for test-fuzz.sh with a long
#      fuzz-ioctl run, with kasan_multi_shot (every report, not only the
#      first) and a large log buffer. run-vm.sh's scan of the guest's kernel
#      log (scan-kernel-log.sh) flags any "BUG: KASAN:" or "UBSAN:" report,
#      WARNING, Oops and the like: such a run fails with status 123.
# Usage: test-kasan.sh [BUILDDIR]   (a configured and built Meson tree,
#   default build; the test programs and woofctl are taken from it)
# Environment:
#   WOOF_DEBUG_KERNEL_DIR  the kernel build directory (default
#                          BUILDDIR/debug-kernel); reused while current
#   WOOF_KASAN_TESTS       which runs, in order (default
#                          "fuzz kmod woofctl-kmod unit-kernel")
#   WOOF_KASAN_FUZZ_SECONDS  fuzzer time per file system (default 300)
#   WOOF_VM_KERNEL, WOOF_VM_MODROOT, WOOF_DEBUG_KDIR  all three set: use
#                          that kernel, module tree and kernel build directory
#                          (built elsewhere) instead of building one
#   WOOF_FUZZ_SEED, WOOF_FUZZ_THREADS, WOOF_FUZZ_FILES: see test-fuzz.sh
# Exit: 0 every run passed with a clean kernel log; 1 otherwise.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd -P)
build=$(cd "${1:-build}" && pwd -P) || exit 1
kdir=${WOOF_DEBUG_KERNEL_DIR:-$build/debug-kernel}
say() { printf 'test-kasan: %s\n' "$*"; }
t0=$(date +%s)

for f in selftests/kmod/fuzz-ioctl selftests/kmod/test-append tools/woofctl/woofctl; do
	[ -x "$build/$f" ] || say "note: $build/$f is not built (ninja -C $build)"
done

# ---- 1. the kernel
if [ -n "${WOOF_VM_KERNEL:-}" ] && [ -n "${WOOF_VM_MODROOT:-}" ] && [ -n "${WOOF_DEBUG_KDIR:-}" ]; then
	say "using the given kernel $WOOF_VM_KERNEL (not building one)"
	kdir=$WOOF_VM_MODROOT
else
	vars=$("$here/build-debug-kernel.sh" "$kdir") || { say "no debug kernel"; exit 1; }
	while IFS='=' read -r k v; do
		case $k in WOOF_VM_KERNEL | WOOF_VM_MODROOT | WOOF_DEBUG_KDIR) export "$k=$v" ;; esac
	done <<<"$vars"
	[ -n "${WOOF_VM_KERNEL:-}" ] || { say "build-debug-kernel.sh printed no kernel"; exit 1; }
fi
t1=$(date +%s)
say "kernel ready ($((t1 - t0)) s): $WOOF_VM_KERNEL"

# ---- 2. woof.ko against it
kodir=$build/kasan-kmod
mkdir -p "$kodir"
if ! "$src/kmod/build-kmod.sh" "$WOOF_DEBUG_KDIR" "$src" "$kodir/private" "$kodir/woof.ko" >"$kodir/build.log" 2>&1; then
	tail -n 30 "$kodir/build.log"
	say "woof.ko did not build against $WOOF_DEBUG_KDIR"
	exit 1
fi
ko=$kodir/woof.ko

# ---- 3. the runs
woofctl=$build/tools/woofctl/woofctl
vm=("$here/run-vm.sh" --workdir "$build/selftests/vm/work-kasan" --mem 2G
	--append "kasan_multi_shot log_buf_len=8M"
	--ro "$src" --ro "$build" --ro "$kdir" --)
failed=()
for t in ${WOOF_KASAN_TESTS:-fuzz kmod woofctl-kmod unit-kernel}; do
	s=$(date +%s)
	case $t in
	fuzz)
		cmd=(env WOOF_FUZZ_FS="tmpfs ext4"
			"$src/selftests/kmod/test-fuzz.sh" "$ko" "$build/selftests/kmod"
			"${WOOF_KASAN_FUZZ_SECONDS:-300}") ;;
	kmod) cmd=("$src/selftests/kmod/test-kmod.sh" "$ko" "$build/selftests/kmod") ;;
	woofctl-kmod) cmd=("$src/selftests/kmod/test-woofctl-kmod.sh" "$ko" "$woofctl") ;;
	unit-kernel) cmd=("$src/selftests/kmod/test-unit-kernel.sh" "$ko" "$build") ;;
	*) say "unknown run '$t' in WOOF_KASAN_TESTS"; failed+=("$t"); continue ;;
	esac
	say "---- $t"
	# KASAN and TCG together: about 3-5 times the normal run time
	"${vm[0]}" --timeout 5400 "${vm[@]:1}" "${cmd[@]}"
	rc=$?
	say "---- $t: exit status $rc after $(($(date +%s) - s)) s"
	[ "$rc" = 0 ] || failed+=("$t (exit $rc)")
done

say "kernel build/check $((t1 - t0)) s, runs $(($(date +%s) - t1)) s"
if [ ${#failed[@]} -gt 0 ]; then
	say "FAILED: ${failed[*]} (exit 123: the guest kernel log has flagged lines, e.g. a KASAN or UBSAN report)"
	exit 1
fi
say "all runs passed with a clean kernel log ($WOOF_VM_KERNEL)"
