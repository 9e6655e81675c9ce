#!/usr/bin/env bash
# Replies are not evidence: answers to exchanges this host began land in
# declared ranges and are counted as replies, never hits; a client's
# packets to a declared port stay unsolicited after the server answered.
. "$(dirname "$0")/lib.sh"
setup_pair

# Echo services on the client side, for the server to call out to.
bg "${IN_C[@]}" "$SEND" udp-serve 9007 $((30 * SCALE))
bg "${IN_C[@]}" socat -T 3 TCP4-LISTEN:9008,fork,reuseaddr EXEC:/bin/cat
# A STUN-like echo on the server.
bg "${IN_S[@]}" "$SEND" udp-serve 3478 $((30 * SCALE))
wait_listening "$NS_C" udp:9007 tcp:9008
wait_listening "$NS_S" udp:3478

json=$TMP/replies.json
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'media=50000:60000/udp' \
	--ports 'ephemeral=40000:40100/tcp' --ports 'turn=3478/udp' -d 3 --json > "$json"
vpid=$BG
wait_attached
# The server begins: a UDP exchange from 50500, a TCP connection from 40050.
expect "$(in_server "$SEND" udp-echo $C4 9007 3 50500)" "replies 3" "server's udp exchange"
expect "$(in_server "$SEND" tcp $C4 9008 40050)" connected "server's tcp connection"
# The client begins: three datagrams to 3478, each answered.
expect "$(in_client "$SEND" udp-echo $S6 3478 3 41000)" "replies 3" "client's stun exchange"
wait $vpid
expect $? 1 "exit code: replies alone leave media silent"

expect "$(jqf '.ranges[] | select(.service=="media") | .status' "$json")" silent "media status"
expect "$(jqf '.ranges[] | select(.service=="media") | .packets' "$json")" 0 "media unsolicited"
expect "$(jqf '.ranges[] | select(.service=="media") | .replies' "$json")" 3 "media replies"
expect "$(jqf '.ranges[] | select(.service=="ephemeral") | .packets' "$json")" 0 "ephemeral tcp unsolicited"
r=$(jqf '.ranges[] | select(.service=="ephemeral") | .replies' "$json")
[ "$r" -ge 1 ] || fail "ephemeral tcp replies: expected >= 1 (SYN-ACK), got $r"
expect "$(jqf '.ranges[] | select(.service=="turn") | .packets' "$json")" 3 "turn unsolicited"
expect "$(jqf '.ranges[] | select(.service=="turn") | .replies' "$json")" 0 "turn replies"
expect "$(jqf '.ranges[] | select(.service=="turn") | .status' "$json")" reached "turn status"
echo "PASS $(basename "$0")"
