#!/usr/bin/env bash
# A live TCP and UDP service keeps answering every request while
# portwitness attaches, counts and detaches, in tc and in xdp mode.
. "$(dirname "$0")/lib.sh"
setup_pair

bg "${IN_S[@]}" socat -T 10 TCP4-LISTEN:5222,fork,reuseaddr EXEC:/bin/cat
bg "${IN_S[@]}" socat -T 3 UDP4-RECVFROM:3478,fork EXEC:/bin/cat
sleep 0.3
# 100 round trips 40 ms apart (4 s) on one TCP connection, and 40 UDP ones.
bg "${IN_C[@]}" "$SEND" tcp-echo $S4 5222 100 40 > /dev/null
tcp_client=$BG
bg "${IN_C[@]}" bash -c "for i in \$(seq 40); do $SEND udp-echo $S4 3478 1 > /dev/null || exit 1; sleep 0.05; done"
udp_client=$BG

sleep 0.3
pw verify -i "$DEV_S" --ports 'xmpp=5222/tcp' --ports 'turn=3478/udp' -d 1 --json > "$TMP/tc.json"
expect $? 0 "verify in tc mode beside the live service"
pw verify -i "$DEV_S" --ports 'xmpp=5222/tcp' --ports 'turn=3478/udp' -d 1 --mode xdp --json > "$TMP/xdp.json"
expect $? 0 "verify in xdp mode beside the live service"

wait $tcp_client
expect $? 0 "every tcp round trip answered while attaching and detaching"
wait $udp_client
expect $? 0 "every udp round trip answered while attaching and detaching"
for m in tc xdp; do
	p=$(jqf '.ranges[] | select(.service=="xmpp") | .packets' "$TMP/$m.json")
	[ "$p" -ge 5 ] || fail "$m: expected the running tcp session's packets counted, got $p"
	expect "$(jqf '.ranges[] | select(.service=="xmpp") | .replies' "$TMP/$m.json")" 0 "$m: xmpp replies"
done
expect "$(pw_filters ingress)" 0 "filters left"
ip -n "$NS_S" link show dev "$DEV_S" | grep -q 'prog/xdp' && fail "an XDP program was left"
echo "PASS $(basename "$0")"
