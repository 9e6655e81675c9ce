#!/usr/bin/env bash
# A service in a container behind the server's DNAT (docker's published
# ports): a packet for a port nobody listens on in the container is
# dropped in the container's namespace, where the drop tracer does not
# look. The refusal that leaves on the watched interface's egress (an
# ICMP port unreachable for UDP, a TCP RST for a SYN) still says "no
# listener"; a port with a listener is reached and sent no refusal.
. "$(dirname "$0")/lib.sh"
command -v nft > /dev/null || fail "nft is missing (make installs nftables)"
setup_pair
NS_K=pwK$ID
ip netns add "$NS_K" || fail "cannot add the container's namespace"
trap 'ip netns del "$NS_K" 2>/dev/null; cleanup' EXIT
# server 198.18.0.1 (the watched veth), container 198.18.2.2 behind
# the server's bridge-like veth 198.18.2.1
ip link add ctr$ID netns "$NS_S" type veth peer name eth0 netns "$NS_K"
ip -n "$NS_S" addr add 198.18.2.1/24 dev ctr$ID
ip -n "$NS_K" addr add 198.18.2.2/24 dev eth0
ip -n "$NS_S" link set ctr$ID up
ip -n "$NS_K" link set eth0 up
ip -n "$NS_K" link set lo up
ip -n "$NS_K" route add default via 198.18.2.1
ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NS_S" nft -f - <<NFT || fail "cannot load the server's DNAT"
table ip docker {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$DEV_S" udp dport 6000-6003 dnat to 198.18.2.2
		iifname "$DEV_S" tcp dport { 7000, 7001 } dnat to 198.18.2.2
	}
}
NFT
bg ip netns exec "$NS_K" socat -T 20 TCP4-LISTEN:7001,fork,reuseaddr EXEC:/bin/true
wait_listening "$NS_K" tcp:7001

json=$TMP/ctr.json
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'udpc=6000:6003/udp' \
	--ports 'tcpc=7000/tcp' --ports 'ok=7001/tcp' -d 3 --json > "$json" 2> "$TMP/verify.err"
vpid=$BG
wait_attached
settle 0.3
in_client "$SEND" udp $S4 6000 6003 1 > /dev/null
expect "$(in_client "$SEND" tcp $S4 7000)" refused "7000/tcp: nobody listens in the container"
expect "$(in_client "$SEND" tcp $S4 7001)" connected "7001/tcp: the container's listener"
wait $vpid
expect $? 0 "exit code: no listener on a few ports is a warning"
grep -q "warning: udpc 6000-6003/udp: packets got past the firewall but nothing listens there" "$TMP/verify.err" ||
	fail "the warning: $(cat "$TMP/verify.err")"
expect "$(jqf '.drops_traced' "$json")" true "drops traced"
r() { echo ".ranges[] | select(.service==\"$1\")"; }
expect "$(jqf "$(r udpc) | .packets" "$json")" 4 "udpc: arrived"
expect "$(jqf "$(r udpc) | .refusals_sent" "$json")" 4 "udpc: ICMP port unreachables sent"
expect "$(jqf "$(r udpc) | .status" "$json")" no-listener "udpc: status"
expect "$(jqf "$(r udpc) | .no_listener" "$json")" 4 "udpc: no_listener"
expect "$(jqf "$(r udpc) | .delivered" "$json")" 0 "udpc: delivered"
expect "$(jqf "$(r tcpc) | .refusals_sent" "$json")" 1 "tcpc: the RST"
expect "$(jqf "$(r tcpc) | .status" "$json")" no-listener "tcpc: status"
expect "$(jqf "$(r ok) | .status" "$json")" reached "ok: status"
expect "$(jqf "$(r ok) | .refusals_sent" "$json")" 0 "ok: no refusal"
echo "PASS $(basename "$0")"
