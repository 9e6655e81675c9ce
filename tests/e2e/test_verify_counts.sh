#!/usr/bin/env bash
# UDP and TCP, IPv4 and IPv6, to declared ports with and without a
# listener: verify names exactly the ports that got packets, a port of two
# services is reported under both, and nothing stays attached after.
. "$(dirname "$0")/lib.sh"
setup_pair

bg "${IN_S[@]}" socat -T 3 TCP6-LISTEN:5001,ipv6only=0,fork,reuseaddr EXEC:/bin/cat
json=$TMP/verify.json
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'svc=5000/udp|5001/tcp|6000:6099/udp|7000/tcp' \
	--ports 'other=5000/udp' -d 3 --json > "$json"
vpid=$BG
wait_attached
in_client "$SEND" udp $S4 5000 5000 3 >/dev/null || fail "udp send"
in_client "$SEND" udp $S6 6000 6049 1 >/dev/null || fail "udp6 send"
expect "$(in_client "$SEND" tcp $S4 5001)" connected "tcp to a listener"
expect "$(in_client "$SEND" tcp $S6 7000)" refused "tcp6 to no listener"
wait $vpid
expect $? 0 "verify exit code with every range reached"

expect "$(jqf '.ok' "$json")" true "ok"
expect "$(jqf '.mode' "$json")" tc "mode"
expect "$(jqf '.interface' "$json")" "$DEV_S" "interface"
expect "$(jqf '[.ranges[] | select(.service=="svc" and .first==5000)][0].packets' "$json")" 3 "5000/udp packets"
expect "$(jqf '[.ranges[] | select(.service=="svc" and .first==5000)][0].bytes' "$json")" $((3 * 44)) "5000/udp bytes (IP length)"
expect "$(jqf '[.ranges[] | select(.service=="other")][0].packets' "$json")" 3 "5000/udp under its second service"
expect "$(jqf '.ranges[] | select(.first==6000) | .ports_declared' "$json")" 100 "6000-6099 declared"
expect "$(jqf '.ranges[] | select(.first==6000) | .ports_hit' "$json")" 50 "6000-6099 hit"
expect "$(jqf '.ranges[] | select(.first==6000) | .hit_ports | join(",")' "$json")" \
	"$(seq -s, 6000 6049)" "6000-6099 hit ports, ascending"
expect "$(jqf '.ranges[] | select(.first==5001) | .status' "$json")" reached "5001/tcp with a listener"
expect "$(jqf '.ranges[] | select(.first==7000) | .status' "$json")" no-listener "7000/tcp without a listener"
expect "$(jqf '.ranges[] | select(.first==6000) | .status' "$json")" no-listener "6000-6099/udp without a listener"
expect "$(jqf '.ranges[] | select(.first==6000) | .no_listener' "$json")" 50 "6000-6099/udp refused"
expect "$(jqf '.ranges[] | select(.first==7000) | .replies' "$json")" 0 "7000/tcp replies"
expect "$(jqf '.malformed' "$json")" 0 "malformed"
expect "$(pw_filters ingress)" 0 "ingress filters left after verify"
expect "$(pw_filters egress)" 0 "egress filters left after verify"
echo "PASS $(basename "$0")"
