#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs as PID 1 of a vmtest guest (tests/vmtest/init hands over to it), in
# the host's / under a tmpfs overlay: the load check of every program on
# its own (portwitness check), bpf_test_run, and the e2e tests the host
# asked for. Writes results (a line each: PROGRAM/SUITE RESULT), guest.log
# and rc to /vmtest-out, then powers off.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
R=/vmtest-out

arg() {
	local a
	for a in $(cat /proc/cmdline); do
		case $a in "$1="*) echo "${a#*=}"; return ;; esac
	done
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mkdir -p /run/netns /var/run
# What udev and systemd make on a real system: /dev/fd and the std
# streams (bash's process substitution), and the nodes of modules loaded
# on demand (/dev/net/tun), from the guest kernel's modules.devname.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
# The guest kernel's own modules, where modprobe looks for them.
mods=$(arg pwmods)
kver=$(uname -r)
mkdir -p "/lib/modules/$kver"
mount --bind "$mods" "/lib/modules/$kver"
while read -r _ name dev; do
	case $dev in [cb][0-9]*:[0-9]*) ;; *) continue ;; esac
	[ -e "/dev/$name" ] && continue
	mkdir -p "$(dirname "/dev/$name")"
	mm=${dev#?}
	mknod -m 0600 "/dev/$name" "${dev%"$mm"}" "${mm%%:*}" "${mm#*:}"
done < "/lib/modules/$kver/modules.devname"
ip link set lo up
hostname vmtest

repo=$(arg pwrepo)
kernel=$(arg pwkernel)
e2e=$(arg pwe2e | tr , ' ')
ci=$(arg pwci)
export PW_TIME_SCALE
PW_TIME_SCALE=$(arg pwscale)
[ -n "$ci" ] && export CI=$ci
export OUT
OUT=$(arg pwout)
cd "$repo" || exit 1

: > $R/results
status=0
log() { echo "$*" | tee -a $R/guest.log; }

log "kernel $(uname -r) ($kernel), $(nproc) CPUs, e2e: ${e2e:-none}"
# conntrack's kfuncs live in its module's BTF: loaded, as on a server with
# a stateful firewall, so that the conntrack programs are checked too.
modprobe nf_conntrack 2>> $R/guest.log

# 1. Each program loaded on its own: verified instructions, or the
# verifier's words.
"./$OUT/portwitness" check --json > $R/check.json 2> $R/check.err
check_rc=$?
"./$OUT/portwitness" check > $R/check.txt 2>&1
sed 's/^/  /' $R/check.txt >> $R/guest.log
if jq -e . $R/check.json >/dev/null 2>&1; then
	jq -r '.programs[] | "\(.name) \(if .loaded then "loaded \(.verified_insns // "-") insns" elif .needs then "not-loaded: lacks \(.needs)" else "REFUSED: \(.error)" end)"' \
		$R/check.json >> $R/results
else
	echo "check failed(exit $check_rc: $(head -c 200 $R/check.err))" >> $R/results
	status=1
fi

# What this kernel must do. 5.10: check says what is off (exit 1), and
# verify either works or exits 3 naming the kernel feature; everywhere
# else every program loads.
case $kernel in
5.10) bash tests/vmtest/old_kernel.sh >> $R/guest.log 2>&1
	rc=$?
	echo "old-kernel $([ $rc -eq 0 ] && echo pass || echo "fail($rc)")" >> $R/results
	[ $rc -eq 0 ] || status=1 ;;
*) [ $check_rc -eq 0 ] || status=1 ;;
esac

# 2. bpf_test_run, 3. the e2e tests, through the suite runner (its
# timeouts scale with PW_TIME_SCALE).
if [ "$kernel" != 5.10 ]; then
	tests/run.sh bpf > $R/bpf.log 2>&1
	rc=$?
	cat $R/bpf.log >> $R/guest.log
	echo "bpf_test_run $([ $rc -eq 0 ] && echo pass || echo fail)" >> $R/results
	[ $rc -eq 0 ] || status=1
fi
case $e2e in
none|"") ;;
*)	[ "$e2e" = all ] && e2e=
	PW_SUITES="$e2e" tests/run.sh e2e > $R/e2e.log 2>&1
	rc=$?
	cat $R/e2e.log >> $R/guest.log
	awk '/^  (PASS|FAIL|SKIP)  / { print $2, tolower($1) }' $R/e2e.log >> $R/results
	[ $rc -eq 0 ] || status=1 ;;
esac

mkdir -p $R/logs
cp "$OUT"/tests/*.log $R/logs/ 2>/dev/null
echo $status > $R/rc
sync
echo o > /proc/sysrq-trigger
sleep 30
