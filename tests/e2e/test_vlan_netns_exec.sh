#!/usr/bin/env bash
# Tagged frames on the wire (802.1Q, and 802.1ad outside 802.1Q): both
# modes count them on the right port with the IP length as bytes, the
# same as untagged ones; jumbo frames too (XDP needs a frags-aware program
# there), also with only the Ethernet header in the skb's linear part. Run
# under 'ip netns exec', which remounts /sys: portwitness mounts bpffs
# itself. The server has no VLAN device: the kernel drops tagged frames,
# and verify says so (blocked on the host, by reason), where the untagged
# ones are refused for no listener.
. "$(dirname "$0")/lib.sh"
setup_pair

mac=$(ip -n "$NS_S" -j link show dev "$DEV_S" | jq -r '.[0].address')
raw() { in_client "$SEND" raw-udp "$DEV_C" "$mac" $C4 $S4 "$@" > /dev/null || fail "raw send $*"; }

for mode in tc xdp; do
	ip netns exec "$NS_S" "$PW" verify -i "$DEV_S" --ports 'v=7000/udp|7100/udp|7200/udp' \
		-d 2 --mode $mode --json > "$TMP/$mode.json" 2> "$TMP/$mode.err" &
	vpid=$!
	PIDS+=($vpid)
	wait_attached
	raw 7000 4
	raw 7100 3 8100:100
	raw 7200 2 88a8:300 8100:200
	wait $vpid
	expect $? 1 "$mode: verify of tagged frames under ip netns exec ($(cat "$TMP/$mode.err"))"
	for want in 7000:4 7100:3 7200:2; do
		port=${want%:*}
		n=${want#*:}
		expect "$(jqf ".ranges[] | select(.first==$port) | .packets" "$TMP/$mode.json")" $n "$mode: packets to $port"
		expect "$(jqf ".ranges[] | select(.first==$port) | .bytes" "$TMP/$mode.json")" $((n * 44)) "$mode: bytes to $port"
	done
	expect "$(jqf '.ranges[] | select(.first==7000) | .status' "$TMP/$mode.json")" no-listener "$mode: untagged, no listener"
	# One tag: taken off, and the frame is not for this host. Two: the
	# outer one taken off, the inner one a protocol nothing handles.
	for want in 7100:3:otherhost 7200:2:unhandled_proto; do
		IFS=: read -r port n reason <<< "$want"
		expect "$(jqf ".ranges[] | select(.first==$port) | .status" "$TMP/$mode.json")" \
			blocked-host-firewall "$mode: tagged frames to $port with no VLAN device"
		expect "$(jqf ".ranges[] | select(.first==$port) | .other_drops.$reason" "$TMP/$mode.json")" \
			$n "$mode: tagged frames to $port dropped as $reason"
	done
	expect "$(jqf '.malformed' "$TMP/$mode.json")" 0 "$mode: malformed"
done
# Jumbo frames: an MTU of 9000 and an 8,000-byte datagram.
ip -n "$NS_S" link set dev "$DEV_S" mtu 9000
ip -n "$NS_C" link set dev "$DEV_C" mtu 9000
for mode in tc xdp; do
	ip netns exec "$NS_S" "$PW" verify -i "$DEV_S" --ports 'j=7300/udp|7301/udp|7302/udp' -d 2 \
		--mode $mode --json > "$TMP/jumbo-$mode.json" 2> "$TMP/jumbo-$mode.err" &
	vpid=$!
	PIDS+=($vpid)
	wait_attached
	in_client "$SEND" udp $S4 7300 7300 2 40000 8000 > /dev/null || fail "jumbo send"
	# Frames whose skb carries only the Ethernet header in its linear
	# part: TC must pull the rest in to find the ports.
	raw 7301 3 size=5000 nonlinear
	raw 7302 2 8100:100 size=5000 nonlinear
	wait $vpid
	expect $? 1 "$mode: verify with jumbo frames, 7302's tagged ($(cat "$TMP/jumbo-$mode.err"))"
	for want in 7300:2:8028 7301:3:5028 7302:2:5028; do
		IFS=: read -r port n len <<< "$want"
		expect "$(jqf ".ranges[] | select(.first==$port) | .packets" "$TMP/jumbo-$mode.json")" $n "$mode: jumbo packets to $port"
		expect "$(jqf ".ranges[] | select(.first==$port) | .bytes" "$TMP/jumbo-$mode.json")" $((n * len)) "$mode: jumbo bytes to $port"
		expect "$(jqf ".ranges[] | select(.first==$port) | .delivered" "$TMP/jumbo-$mode.json")" 0 "$mode: jumbo delivered to $port"
	done
	expect "$(jqf '.malformed' "$TMP/jumbo-$mode.json")" 0 "$mode: malformed among jumbo frames"
done
expect "$(pw_filters ingress)" 0 "filters left"
echo "PASS $(basename "$0")"
