#!/usr/bin/env bash
# A live TCP and UDP service keeps answering every request while
# portwitness attaches, counts and detaches, in tc and in xdp mode.
. "$(dirname "$0")/lib.sh"
setup_pair

bg "${IN_S[@]}" socat -T 10 TCP4-LISTEN:5222,fork,reuseaddr EXEC:/bin/cat
bg "${IN_S[@]}" "$SEND" udp-serve 3478 $((40 * SCALE))
wait_listening "$NS_S" tcp:5222 udp:3478
for mode in tc xdp; do
	# Clients that run across the whole verify, attach to detach: 100
	# round trips 40 ms apart on one TCP connection, 60 UDP ones (times
	# SCALE: a slow guest attaches slowly).
	bg "${IN_C[@]}" env PW_SEND_SCALE=$SCALE "$SEND" tcp-echo $S4 5222 $((100 * SCALE)) 40 > /dev/null
	tcp_client=$BG
	bg "${IN_C[@]}" bash -c "lost=0; for i in \$(seq $((60 * SCALE))); do PW_SEND_SCALE=$SCALE $SEND udp-echo $S4 3478 1 > /dev/null || lost=\$((lost + 1)); sleep 0.05; done; echo \$lost > $TMP/udp.lost"
	udp_client=$BG
	settle 0.3
	pw verify -i "$DEV_S" --ports 'xmpp=5222/tcp' --ports 'turn=3478/udp' -d 1 \
		--mode $mode --json > "$TMP/$mode.json" 2> "$TMP/$mode.err"
	expect $? 0 "$mode: verify beside the live service: $(cat "$TMP/$mode.json" "$TMP/$mode.err")"
	wait $tcp_client
	expect $? 0 "$mode: every tcp round trip answered while attaching and detaching"
	wait $udp_client
	expect "$(cat "$TMP/udp.lost")" 0 "$mode: udp round trips lost while attaching and detaching"
	p=$(jqf '.ranges[] | select(.service=="xmpp") | .packets' "$TMP/$mode.json")
	[ "$p" -ge 5 ] || fail "$mode: expected the running tcp session's packets counted, got $p"
	expect "$(jqf '.ranges[] | select(.service=="xmpp") | .replies' "$TMP/$mode.json")" 0 "$mode: xmpp replies"
done
expect "$(pw_filters ingress)" 0 "filters left"
ip -n "$NS_S" link show dev "$DEV_S" | grep -q 'prog/xdp' && fail "an XDP program was left"
echo "PASS $(basename "$0")"
