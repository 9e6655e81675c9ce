#!/usr/bin/env bash
# An aggregate counts as the wire packets it stands for, at ingress and in
# the drop tracer alike. A TCP sender on veth hands over GSO buffers of up
# to a congestion window of segments; the server's nftables drops every
# packet of the connection after the SYN, so every segment the client
# sends arrives, is counted once at TC ingress by its gso_segs, and is
# dropped: the range's firewall drops equal its packets less the SYN.
. "$(dirname "$0")/lib.sh"
setup_pair
command -v socat > /dev/null || fail "socat is missing (make installs it)"

in_server nft -f - <<NFT || fail "nft ruleset"
table inet pwtest {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 5201 ct state established drop
	}
}
NFT
bg "${IN_S[@]}" socat -u TCP4-LISTEN:5201,reuseaddr OPEN:/dev/null
wait_listening "$NS_S" tcp:5201

json=$TMP/gso.json
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'bulk=5201/tcp' -d 4 --json \
	> "$json" 2> "$TMP/verify.err"
vpid=$BG
wait_attached "$TMP/verify.err"
# 256 KiB in one write: the first flight leaves as one GSO buffer of the
# initial window (10 segments); retransmissions follow one by one.
head -c 262144 /dev/zero | in_client timeout 3 socat -u - TCP4:$S4:5201 2> /dev/null
wait $vpid

packets=$(jqf '.ranges[0].packets' "$json")
dropped=$(jqf '.ranges[0].firewall_dropped' "$json")
[ "$packets" -ge 12 ] ||
	fail "expected the SYN, the handshake's ACK and at least a first flight of 10 segments, got $packets packets"
expect "$dropped" $((packets - 1)) "segments dropped by nftables, of $packets counted (all but the SYN)"
echo "counted $packets packets, $dropped dropped by the firewall"

# A GSO buffer a VM hands over (tap, vhost-net) carries gso_segs 0 until
# the kernel checks it (SKB_GSO_DODGY); its wire packets are its payload
# over gso_size. Here such buffers are written to a tap device in the
# server's namespace, as a VM's virtio-net would hand them over: 4 TCP
# buffers of 2500 bytes of payload in segments of 1000 (the last of 500),
# to a port nothing listens on. Every segment counts, with its own
# headers, and each is refused for no listener (the drop tracer sees the
# buffer whole too). XDP on a tap sees the buffer linearized, with no
# segment count (docs/design.md): it only warns.
TAP=pwt$ID
ip -n "$NS_S" tuntap add dev "$TAP" mode tap vnet_hdr || fail "cannot add a tap device"
ip -n "$NS_S" addr add 198.18.1.1/24 dev "$TAP"
ip -n "$NS_S" link set "$TAP" up
tapmac=$(ip -n "$NS_S" -j link show dev "$TAP" | jq -r '.[0].address')
json=$TMP/dodgy.json
bg "${IN_S[@]}" "$PW" verify -i "$TAP" --ports 'vm=5301/tcp' -d 2 --json \
	> "$json" 2> "$TMP/dodgy.err"
vpid=$BG
wait_attached "$TMP/dodgy.err" "$TAP"
in_server "$SEND" raw-udp "$TAP" "$tapmac" 198.18.1.2 198.18.1.1 5301 4 tap tcp gso=1000 size=2500 \
	> /dev/null || fail "writing GSO buffers to the tap"
wait $vpid
expect "$(jqf '.ranges[0].packets' "$json")" 12 "packets of 4 buffers of 3 segments ($(cat "$TMP/dodgy.err"))"
expect "$(jqf '.ranges[0].bytes' "$json")" $((4 * (2500 + 3 * 40))) \
	"bytes of 4 buffers of 2500 bytes of payload, 40 of headers a segment"
expect "$(jqf '.ranges[0].no_listener' "$json")" 12 "segments refused for no listener"
expect "$(jqf '.malformed' "$json")" 0 "malformed"
# A payload that is an exact multiple of gso_size: the segments are
# counted from the payload alone (2000 / 1000), not from the IP length,
# which holds the headers too (2040 would make 3).
json=$TMP/dodgy2.json
bg "${IN_S[@]}" "$PW" verify -i "$TAP" --ports 'vm=5302/tcp' -d 2 --json \
	> "$json" 2> "$TMP/dodgy2.err"
vpid=$BG
wait_attached "$TMP/dodgy2.err" "$TAP"
in_server "$SEND" raw-udp "$TAP" "$tapmac" 198.18.1.2 198.18.1.1 5302 2 tap tcp gso=1000 size=2000 \
	> /dev/null || fail "writing GSO buffers to the tap"
wait $vpid
expect "$(jqf '.ranges[0].packets' "$json")" 4 "packets of 2 buffers of 2 full segments"
expect "$(jqf '.ranges[0].no_listener' "$json")" 4 \
	"segments of 2 buffers of 2 full segments refused for no listener (the drop tracer's count)"
# XDP on the tap: it would count each buffer once, and says so.
in_server "$PW" verify -i "$TAP" --ports 'vm=5301/tcp' -d 1 --mode xdp > /dev/null 2> "$TMP/xdp.err"
grep -q "is a tun/tap device: XDP there sees a GSO buffer .* as one frame" "$TMP/xdp.err" ||
	fail "xdp mode on a tap device should warn that it counts a GSO buffer once: $(cat "$TMP/xdp.err")"
echo "PASS $(basename "$0")"
