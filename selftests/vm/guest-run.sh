#!/bin/bash
# guest-run.sh - stage 2 of the woof test VM: runs as PID 1 inside the guest,
# under the host's own bash, after initramfs-init.sh switch_root'ed into the
# host's root filesystem (read-only over 9p; stage 1 already mounted
# everything else). It runs the caller's command from the job directory (argv,
# env, cwd, nonce written by run-vm.sh) as root, with stdin from /dev/null,
# in the caller's environment plus WOOF_VM=1, then prints
# the guest kernel log and the command's exit status between nonce-tagged
# markers on the serial console and powers the guest off.
# Usage (by initramfs-init.sh only): guest-run.sh JOBDIR
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
job=$1
nonce=$(<"$job/nonce")

echo "woof-vm: stage2: start" >/dev/kmsg
say() { printf 'woof-vm: %s\n' "$*"; }

finish() { # exit status -> markers on the console, then power off
	local rc=$1
	sync
	printf '\n@@woof-vm:%s:dmesg-begin\n' "$nonce"
	if ! dmesg --color=never 2>/dev/null; then
		busybox dmesg
	fi
	printf '\n@@woof-vm:%s:dmesg-end\n' "$nonce"
	printf '@@woof-vm:%s:exit=%d\n' "$nonce" "$rc"
	sync
	busybox poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 30
}

cwd=$(<"$job/cwd")
mapfile -d '' -t argv <"$job/argv"
mapfile -d '' -t envv <"$job/env"
for kv in "${envv[@]}"; do # a TMPDIR below the guest's fresh /tmp may be missing
	case $kv in TMPDIR=/tmp/* | TMPDIR=/run/* | TMPDIR=/var/tmp/*) mkdir -p "${kv#TMPDIR=}" ;; esac
done
echo "woof-vm: command start" >/dev/kmsg
rc=0
if cd "$cwd"; then
	env -i "${envv[@]}" WOOF_VM=1 "${argv[@]}" </dev/null || rc=$?
else
	say "cannot cd to $cwd in the guest"
	rc=125
fi
echo "woof-vm: command end, exit status $rc" >/dev/kmsg
finish "$rc"
