#!/usr/bin/env bash
# The watched interface goes down, comes up, is deleted and re-created
# while a watch runs: each is reported, the counters go on, and counting
# resumes on the new interface of the same name without a restart (tc,
# then xdp).
. "$(dirname "$0")/lib.sh"
setup_pair
prom=$TMP/portwitness.prom
L="interface=\"$DEV_S\",service=\"turn\",proto=\"udp\",ports=\"3478\""

# Re-creates the veth pair with the same names and addresses.
recreate_pair() {
	ip -n "$NS_S" link del "$DEV_S" 2>/dev/null
	ip link add "$DEV_S" netns "$NS_S" type veth peer name "$DEV_C" netns "$NS_C" ||
		fail "cannot re-create the veth pair"
	ip -n "$NS_S" addr add $S4/24 dev "$DEV_S"
	ip -n "$NS_C" addr add $C4/24 dev "$DEV_C"
	ip -n "$NS_S" link set "$DEV_S" up
	ip -n "$NS_C" link set "$DEV_C" up
	ip netns exec "$NS_C" ping -c1 -W2 $S4 > /dev/null || fail "no path after re-creating"
}

# wait_log FILE TEXT: until the watch logs TEXT (5 s).
wait_log() {
	local i
	for i in $(seq 50); do
		grep -q "$2" "$1" && return 0
		sleep 0.1
	done
	fail "the watch did not log '$2' within 5 s: $(cat "$1")"
}

for mode in tc xdp; do
	: > "$TMP/watch.err"
	bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" --mode $mode --ports 'turn=3478/udp' \
		--textfile "$prom" --interval 1 > /dev/null 2> "$TMP/watch.err"
	watch=$BG
	wait_attached "$TMP/watch.err"
	base=$(metric portwitness_packets_total "$L" "$prom")
	base=${base:-0}
	in_client "$SEND" udp $S4 3478 3478 2 > /dev/null
	wait_metric portwitness_packets_total "$L" "$prom" $((base + 2))

	ip -n "$NS_S" link set "$DEV_S" down
	wait_log "$TMP/watch.err" "$DEV_S: link down"
	ip -n "$NS_S" link set "$DEV_S" up
	wait_log "$TMP/watch.err" "$DEV_S: link up"
	ip netns exec "$NS_C" ping -c1 -W2 $S4 > /dev/null || fail "no path after link up"
	in_client "$SEND" udp $S4 3478 3478 1 > /dev/null
	wait_metric portwitness_packets_total "$L" "$prom" $((base + 3))

	ip -n "$NS_S" link del "$DEV_S"
	wait_log "$TMP/watch.err" "$DEV_S is gone"
	kill -0 $watch 2>/dev/null || fail "the watch ended when $DEV_S was deleted ($mode)"
	sleep 1.2	# an export while it is gone
	expect "$(metric portwitness_packets_total "$L" "$prom")" $((base + 3)) "counters while $DEV_S is gone ($mode)"
	recreate_pair
	wait_log "$TMP/watch.err" "$DEV_S is back"
	wait_attached "$TMP/watch.err"
	in_client "$SEND" udp $S4 3478 3478 4 > /dev/null
	wait_metric portwitness_packets_total "$L" "$prom" $((base + 7))
	expect "$(pw show -i "$DEV_S" --json | jq -r .mode)" $mode "mode after the interface came back"

	kill -TERM $watch
	wait $watch
	expect $? 0 "watch exit after the interface came back ($mode)"
	expect "$(pw_filters ingress)" 0 "filters left after the watch ($mode)"
	ip -n "$NS_S" link show dev "$DEV_S" | grep -q 'prog/xdp' && fail "XDP program left after the watch"
done
echo "PASS $(basename "$0")"
