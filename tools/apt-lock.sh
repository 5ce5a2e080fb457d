# SPDX-License-Identifier: MIT
# apt-lock.sh - sourced by tools/install-deps.sh and
# selftests/vm/install-vm-deps.sh: wait for apt's locks, saying who holds
# them, before apt-get runs.
#
# A fresh Debian machine often runs unattended-upgrades (apt.systemd.daily)
# for minutes after it boots; apt-get then fails at once ("Could not get
# lock /var/lib/dpkg/lock-frontend"). apt_wait_locks waits until none of
# apt's lock files is locked, printing what holds them (pid and program,
# read from /proc/locks, which any user may read) when it starts waiting
# and every 30 s; apt-get itself is then also given
# -o DPkg::Lock::Timeout (APT_LOCK_OPTS) for a lock taken in between.
#
# WOOF_APT_LOCKS overrides the lock files (for tests); WOOF_APT_LOCK_WAIT
# the longest wait in seconds (default 1800).

APT_LOCKS=${WOOF_APT_LOCKS:-"/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock"}
APT_LOCK_WAIT=${WOOF_APT_LOCK_WAIT:-1800}
APT_LOCK_OPTS="-o DPkg::Lock::Timeout=$APT_LOCK_WAIT"

# apt_lock_holders: "FILE: pid PID (COMM)" for each lock of apt's files
# now held; nothing when all are free.
apt_lock_holders() {
	for f in $APT_LOCKS; do
		[ -e "$f" ] || continue
		ino=$(stat -L -c %i "$f" 2>/dev/null) || continue
		# /proc/locks: "1: POSIX  ADVISORY  WRITE 1234 fe:00:5678 0 EOF"
		awk -v ino="$ino" '{
			n = split($6, d, ":"); if (d[n] == ino) print $5
		}' /proc/locks 2>/dev/null | sort -u | while read -r pid; do
			comm=""
			[ "$pid" -gt 0 ] 2>/dev/null && comm=$(cat "/proc/$pid/comm" 2>/dev/null)
			if [ "$pid" -gt 0 ] 2>/dev/null; then
				echo "$f: pid $pid (${comm:-?})"
			else
				echo "$f: an open file description lock (no pid)"
			fi
		done
	done
}

# apt_wait_locks PREFIX: wait until apt's locks are free (0), or give up
# after APT_LOCK_WAIT seconds (1). Messages go to stderr, prefixed.
apt_wait_locks() {
	prefix=$1
	start=$(date +%s)
	said=-1
	while :; do
		holders=$(apt_lock_holders)
		if [ -z "$holders" ]; then
			[ "$said" -ge 0 ] && echo "$prefix: apt's locks are free after $(($(date +%s) - start)) s; going on" >&2
			return 0
		fi
		now=$(date +%s)
		waited=$((now - start))
		if [ "$waited" -ge "$APT_LOCK_WAIT" ]; then
			echo "$prefix: gave up after $waited s waiting for apt's locks, held by:" >&2
			echo "$holders" | sed 's/^/  /' >&2
			return 1
		fi
		if [ "$said" -lt 0 ] || [ $((waited - said)) -ge 30 ]; then
			if [ "$said" -lt 0 ]; then
				echo "$prefix: waiting for apt's locks (up to $APT_LOCK_WAIT s; unattended-upgrades often holds them after a boot), held by:" >&2
			else
				echo "$prefix: still waiting for apt's locks after $waited s, held by:" >&2
			fi
			echo "$holders" | sed 's/^/  /' >&2
			said=$waited
		fi
		sleep 1
	done
}
