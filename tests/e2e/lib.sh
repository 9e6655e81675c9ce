# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared by the namespace tests. Sourced first thing by each test script.
#
# A test runs in a private mount namespace with a bpffs of its own, so the
# maps it pins vanish with it; a server and a client namespace joined by a
# veth pair (198.18.0.0/24, fd00::/64) carry the traffic. Everything the
# test started is ended by PID, and the namespaces removed, on any exit.

set -u
SKIP=77
# How much longer the waits below may take: more than 1 in a vmtest guest
# under software emulation (tests/run.sh).
SCALE=${PW_TIME_SCALE:-1}
if [ "$(id -u)" != 0 ]; then
	echo "SKIP $(basename "$0"): needs root (namespaces, BPF)"
	exit $SKIP
fi
if [ -z "${PW_PRIVATE_MNT:-}" ]; then
	export PW_PRIVATE_MNT=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { echo "FAIL: cannot mount a private bpffs"; exit 1; }

OUT=${OUT:-build}
PW=$(realpath "$OUT/portwitness")
SEND=$(realpath "$OUT/tests/pw_send")
ID=$$
NS_S=pwS$ID
NS_C=pwC$ID
DEV_S=pws$ID
DEV_C=pwc$ID
S4=198.18.0.1
C4=198.18.0.2
S6=fd00::1
C6=fd00::2
TMP=$(mktemp -d /tmp/pw-e2e.XXXXXX)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
	done
	# Whatever those forked (socat's children) lives in our namespaces.
	for p in $(ip netns pids "$NS_S" 2>/dev/null) $(ip netns pids "$NS_C" 2>/dev/null); do
		kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	# A test's own mounts under TMP (private to its mount namespace).
	findmnt -rn -o TARGET | grep "^$TMP/" | sort -r | while read -r m; do
		umount "$m"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL $(basename "$0"): $*" >&2
	exit 1
}

# expect ACTUAL EXPECTED WHAT
expect() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

setup_pair() {
	ip netns add "$NS_S" && ip netns add "$NS_C" || fail "cannot add namespaces"
	ip link add "$DEV_S" netns "$NS_S" type veth peer name "$DEV_C" netns "$NS_C" ||
		fail "cannot add the veth pair"
	ip -n "$NS_S" addr add $S4/24 dev "$DEV_S"
	ip -n "$NS_C" addr add $C4/24 dev "$DEV_C"
	ip -n "$NS_S" addr add $S6/64 dev "$DEV_S" nodad
	ip -n "$NS_C" addr add $C6/64 dev "$DEV_C" nodad
	ip -n "$NS_S" link set lo up
	ip -n "$NS_C" link set lo up
	ip -n "$NS_S" link set "$DEV_S" up
	ip -n "$NS_C" link set "$DEV_C" up
	# Tags stay in the frames, as xdp-tools' tests do: deterministic.
	ip netns exec "$NS_S" ethtool -K "$DEV_S" rxvlan off txvlan off >/dev/null 2>&1
	ip netns exec "$NS_C" ethtool -K "$DEV_C" rxvlan off txvlan off >/dev/null 2>&1
	# Neighbours resolved before the counting starts.
	ip netns exec "$NS_C" ping -c1 -W2 $S4 >/dev/null || fail "no IPv4 path"
	ip netns exec "$NS_C" ping -c1 -W2 $S6 >/dev/null || fail "no IPv6 path"
}

# The server side keeps the test's mount namespace (and its bpffs). Both
# exec the command, so a background PID is the command's own.
IN_S=(nsenter --net="/run/netns/$NS_S")
IN_C=(ip netns exec "$NS_C")
in_server() { "${IN_S[@]}" "$@"; }
in_client() { "${IN_C[@]}" "$@"; }
pw() { in_server "$PW" "$@"; }

# Starts a command (not a shell function) in the background, remembered
# for cleanup; its PID is in $BG.
bg() {
	case $(type -t "$1") in
	function) fail "bg $1: a function would leave its child behind" ;;
	esac
	"$@" &
	BG=$!
	PIDS+=("$BG")
}

# wait_attached [ERRFILE [DEV]]: waits (5 s at most, times SCALE) until portwitness is
# attached to the server's DEV (its veth by default): its own ingress
# program (another XDP program may be there already) and its egress
# filter. ERRFILE: what to show if it does not.
wait_attached() {
	local i dev=${2:-$DEV_S}
	for i in $(seq $((50 * SCALE))); do
		if [ "$(pw_filters ingress "$dev")" -gt 0 ] ||
		   ip -d -n "$NS_S" link show dev "$dev" | grep -q 'prog/xdp id [0-9]* name pw_xdp'; then
			[ "$(pw_filters egress "$dev")" -gt 0 ] && return 0
		fi
		sleep 0.1
	done
	fail "portwitness did not attach to $dev within $((5 * SCALE)) s${1:+: $(cat "$1" 2>/dev/null)}"
}

# pw_filters ingress|egress [DEV]: how many portwitness filters are on the
# server's DEV (its veth by default) in that direction (pw_tc_ingress /
# pw_tc_ingr_ct, pw_tc_egress / pw_tc_egr_ct).
pw_filters() {
	ip netns exec "$NS_S" tc filter show dev "${2:-$DEV_S}" "$1" | grep -c "pw_tc_${1:0:3}"
}

# settle S: a pause of S seconds, times SCALE.
settle() {
	sleep "$(awk -v s="$1" -v k="$SCALE" 'BEGIN { print s * k }')"
}

# wait_listening NS PROTO:PORT...: until a socket is bound to each in
# namespace NS (5 s at most, times SCALE): a server just started.
wait_listening() {
	local ns=$1 i p opt ok
	shift
	for i in $(seq $((50 * SCALE))); do
		ok=1
		for p in "$@"; do
			case ${p%%:*} in tcp) opt=-Hltn ;; *) opt=-Hlun ;; esac
			[ -n "$(ip netns exec "$ns" ss $opt "sport = :${p#*:}")" ] || { ok=0; break; }
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
	done
	fail "not listening in $ns within $((5 * SCALE)) s: $*"
}

# jq over a file, failing the test on a parse error.
jqf() {
	jq -r "$1" "$2" 2>/dev/null || fail "jq '$1' on $(basename "$2"): $(head -c 300 "$2")"
}

# The value of one sample in a textfile: metric NAME LABELS FILE, where
# LABELS is the exact label set without braces; empty when absent.
metric() {
	awk -v want="$1{$2}" '!/^#/ && $1 == want { print $2 }' "$3"
}

# wait_metric NAME LABELS FILE VALUE: until the textfile says VALUE (5 s,
# times SCALE).
wait_metric() {
	local i got
	for i in $(seq $((50 * SCALE))); do
		got=$(metric "$1" "$2" "$3" 2>/dev/null)
		[ "$got" = "$4" ] && return 0
		sleep 0.1
	done
	fail "$1{$2} in $(basename "$3"): expected $4 within $((5 * SCALE)) s, got '$got'"
}
