#!/usr/bin/env bash
# Flows under way before portwitness attached: where the host runs
# conntrack, it tells who began them. A client's media flow that the server
# speaks in first after attaching stays unsolicited; the late answer to
# the server's own earlier datagram is a reply. Without conntrack the
# first of these is taken for the server's own flow (docs/design.md).
. "$(dirname "$0")/lib.sh"
setup_pair
command -v nft > /dev/null || fail "nft is missing (make installs nftables)"

# The client answers 3 s late (times SCALE: a slow guest attaches slowly):
# the answer lands after portwitness attached.
bg "${IN_C[@]}" "$SEND" udp-serve 9007 $((40 * SCALE)) $((3000 * SCALE))

# scenario PORT CLIENT_PORT: the client's first datagram, then the server
# speaks first once portwitness is attached, then three from the client.
scenario() {
	local port=$1 cport=$2 out=$3
	in_client "$SEND" udp $S4 $port $port 1 $cport > /dev/null
	bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports "turn=$port/udp" -d 2 --json > "$out"
	local vpid=$BG
	wait_attached
	in_server "$SEND" udp $C4 $cport $cport 1 $port > /dev/null
	in_client "$SEND" udp $S4 $port $port 3 $cport > /dev/null
	wait $vpid
}

# Without conntrack in the namespace.
scenario 3480 41001 "$TMP/plain.json"
expect "$(jqf '.ranges[0].packets' "$TMP/plain.json")" 0 "no conntrack: unsolicited"
expect "$(jqf '.ranges[0].replies' "$TMP/plain.json")" 3 "no conntrack: taken for replies"

# A ruleset that looks at ct state turns conntrack on in the namespace.
in_server nft -f - <<'NFT' || fail "cannot load the nftables ruleset"
table inet pwtest {
	chain input {
		type filter hook input priority 0; policy accept;
		ct state established,related counter accept
	}
}
NFT
scenario 3478 41000 "$TMP/ct.json"
expect "$(jqf '.ranges[0].packets' "$TMP/ct.json")" 3 "conntrack: the client's packets stay unsolicited"
expect "$(jqf '.ranges[0].replies' "$TMP/ct.json")" 0 "conntrack: replies"
expect "$(jqf '.ok' "$TMP/ct.json")" true "conntrack: turn reached"

# The server's own datagram before attaching, its answer after.
in_server "$SEND" udp $C4 9007 9007 1 50500 > /dev/null
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'media=50000:60000/udp' -d $((5 * SCALE)) --json > "$TMP/late.json"
vpid=$BG
wait_attached
wait $vpid
expect $? 1 "a late answer alone leaves media silent"
expect "$(jqf '.ranges[0].replies' "$TMP/late.json")" 1 "the late answer is a reply"
expect "$(jqf '.ranges[0].packets' "$TMP/late.json")" 0 "the late answer is not unsolicited"
echo "PASS $(basename "$0")"
