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
sleep 0.3

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
