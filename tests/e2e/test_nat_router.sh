#!/usr/bin/env bash
# The real shape: clients outside, a NAT router that forwards only part of
# the declared media range to the server (the other part dropped), and the
# server's own exchanges going out through the router's masquerade. verify
# on the server names exactly the forwarded ports; the answers to the
# server's own requests are replies, whatever port they land on.
. "$(dirname "$0")/lib.sh"
command -v nft > /dev/null || fail "nft is missing (make installs nftables)"

NS_R=pwR$ID
ip netns add "$NS_S" && ip netns add "$NS_C" && ip netns add "$NS_R" || fail "namespaces"
trap 'ip netns del "$NS_R" 2>/dev/null; cleanup' EXIT
# server 198.18.1.2 -- 198.18.1.1 router 198.19.0.1 -- 198.19.0.2 client
ip link add "$DEV_S" netns "$NS_S" type veth peer name lan0 netns "$NS_R"
ip link add "$DEV_C" netns "$NS_C" type veth peer name wan0 netns "$NS_R"
ip -n "$NS_S" addr add 198.18.1.2/24 dev "$DEV_S"
ip -n "$NS_R" addr add 198.18.1.1/24 dev lan0
ip -n "$NS_R" addr add 198.19.0.1/24 dev wan0
ip -n "$NS_C" addr add 198.19.0.2/24 dev "$DEV_C"
for ns in "$NS_S" "$NS_R" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$DEV_S" up
ip -n "$NS_C" link set "$DEV_C" up
ip -n "$NS_R" link set lan0 up
ip -n "$NS_R" link set wan0 up
ip -n "$NS_S" route add default via 198.18.1.1
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$NS_R" nft -f - <<'NFT' || fail "cannot load the router's NAT ruleset"
table ip router {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" udp dport 50000-50049 dnat to 198.18.1.2
		iifname "wan0" tcp dport { 443, 5222 } dnat to 198.18.1.2
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "lan0" oifname "wan0" accept
		ct status dnat accept
	}
}
NFT
ip netns exec "$NS_S" ping -c1 -W2 198.19.0.2 > /dev/null || fail "no route out through the router"

# Outside: a service the server calls (answers land on the server's
# ephemeral port, inside the media range), and a TCP service.
bg "${IN_C[@]}" "$SEND" udp-serve 53 $((30 * SCALE))
bg "${IN_C[@]}" socat -T 3 TCP4-LISTEN:8443,fork,reuseaddr EXEC:/bin/cat
bg "${IN_S[@]}" socat -T 3 TCP4-LISTEN:5222,fork,reuseaddr EXEC:/bin/cat
wait_listening "$NS_C" udp:53 tcp:8443
wait_listening "$NS_S" tcp:5222

json=$TMP/nat.json
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'media=50000:50099/udp' \
	--ports 'xmpp=5222/tcp|443/tcp' --ports 'stun=3478/udp' -d 4 --json > "$json"
vpid=$BG
wait_attached
# The clients send to the router's public address, every declared port.
in_client "$SEND" udp 198.19.0.1 50000 50099 2 > /dev/null
expect "$(in_client "$SEND" tcp 198.19.0.1 5222)" connected "xmpp through the router"
in_client "$SEND" udp 198.19.0.1 3478 3478 2 > /dev/null
# The server's own requests out, from ports inside the media range.
expect "$(in_server "$SEND" udp-echo 198.19.0.2 53 2 50077)" "replies 2" "server's request through the router"
expect "$(in_server "$SEND" tcp 198.19.0.2 8443 50088)" connected "server's tcp connection out"
wait $vpid
expect $? 1 "exit: stun is not forwarded"

expect "$(jqf '.ranges[] | select(.service=="media") | .ports_hit' "$json")" 50 "media ports hit"
expect "$(jqf '.ranges[] | select(.service=="media") | .hit_ports | join(",")' "$json")" \
	"$(seq -s, 50000 50049)" "exactly the forwarded media ports"
expect "$(jqf '.ranges[] | select(.service=="media") | .packets' "$json")" 100 "media unsolicited packets"
expect "$(jqf '.ranges[] | select(.service=="media") | .replies' "$json")" 2 "answers to the server's request"
expect "$(jqf '.ranges[] | select(.service=="xmpp" and .first==5222) | .status' "$json")" reached "5222 forwarded"
expect "$(jqf '.ranges[] | select(.service=="xmpp" and .first==443) | .status' "$json")" silent "443 forwarded but nobody came"
expect "$(jqf '.ranges[] | select(.service=="stun") | .status' "$json")" silent "3478 not forwarded"
echo "PASS $(basename "$0")"
