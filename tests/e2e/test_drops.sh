#!/usr/bin/env bash
# What the host did with what arrived, from the kernel's drops: a real
# nftables ruleset drops one declared range (UDP and TCP), another range
# and a service port have no listener, one range has listeners and one
# gets nothing. verify gives each its status, names the ports of each
# kind, exits as the rules say (a service port with no listener: a
# warning, a failure with --strict), in tc and xdp mode; the watch exports
# the drops by reason, also when the interface becomes a bridge port.
. "$(dirname "$0")/lib.sh"
setup_pair

in_server nft -f - <<NFT || fail "nft ruleset"
table inet pwtest {
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 7000-7009 drop
		tcp dport 7100 drop
	}
}
NFT
bg "${IN_S[@]}" "$SEND" udp-serve 5000 $((50 * SCALE))
bg "${IN_S[@]}" socat -T 3 TCP6-LISTEN:5001,ipv6only=0,fork,reuseaddr EXEC:/bin/cat
wait_listening "$NS_S" udp:5000 tcp:5001

DECL=(--ports 'svc=5000/udp|5001/tcp' --ports 'fw=7000:7009/udp|7100/tcp'
      --ports 'relay=6000:6099/udp' --ports 'down=5002/tcp')
traffic() {
	in_client "$SEND" udp-echo $S4 5000 3 >/dev/null || fail "udp to a listener"
	in_client "$SEND" udp-echo $S6 5000 1 >/dev/null || fail "udp6 to a listener"
	expect "$(in_client "$SEND" tcp $S4 5001)" connected "tcp to a listener"
	in_client "$SEND" udp $S4 7000 7004 2 >/dev/null || fail "udp to the dropped range"
	in_client "$SEND" udp $S6 7009 7009 1 >/dev/null || fail "udp6 to the dropped range"
	expect "$(in_client "$SEND" tcp $S4 7100)" timeout "tcp to a dropped port"
	in_client "$SEND" udp $S4 6000 6009 1 >/dev/null || fail "udp to the relay range"
	in_client "$SEND" udp $S6 6050 6050 1 >/dev/null || fail "udp6 to the relay range"
	expect "$(in_client "$SEND" tcp $S6 5002)" refused "tcp6 to no listener"
}
range() {	# range SERVICE FIRST KEY FILE
	jqf "[.ranges[] | select(.service==\"$1\" and .first==$2)][0].$3" "$4"
}

for mode in tc xdp; do
	# 1. Everything, and a range that gets nothing: exit 1, every status.
	json=$TMP/all-$mode.json
	bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" -m $mode "${DECL[@]}" \
		--ports 'quiet=8000/udp' -d 5 --json > "$json" 2> "$TMP/all-$mode.err"
	vpid=$BG
	wait_attached "$TMP/all-$mode.err"
	traffic
	wait $vpid
	expect $? 1 "$mode: exit code with a range silent and one blocked"
	expect "$(jqf .drops_traced "$json")" true "$mode: drops traced"

	expect "$(range svc 5000 status "$json")" reached "$mode: 5000/udp with a listener"
	expect "$(range svc 5000 packets "$json")" 4 "$mode: 5000/udp packets"
	expect "$(range svc 5000 delivered "$json")" 4 "$mode: 5000/udp delivered"
	expect "$(range svc 5001 status "$json")" reached "$mode: 5001/tcp with a listener"

	expect "$(range fw 7000 status "$json")" blocked-host-firewall "$mode: 7000-7009/udp dropped by nftables"
	expect "$(range fw 7000 packets "$json")" 11 "$mode: 7000-7009/udp packets"
	expect "$(range fw 7000 firewall_dropped "$json")" 11 "$mode: 7000-7009/udp dropped by the firewall"
	expect "$(range fw 7000 delivered "$json")" 0 "$mode: 7000-7009/udp delivered"
	expect "$(range fw 7000 '"ports_by_status"."blocked-host-firewall" | join(",")' "$json")" \
		7000,7001,7002,7003,7004,7009 "$mode: 7000-7009/udp ports blocked"
	expect "$(range fw 7100 status "$json")" blocked-host-firewall "$mode: 7100/tcp dropped by nftables"
	p=$(range fw 7100 packets "$json")
	[ "$p" -ge 2 ] || fail "$mode: 7100/tcp: a SYN and its retransmission expected, got $p"
	expect "$(range fw 7100 firewall_dropped "$json")" "$p" "$mode: 7100/tcp every SYN dropped"

	expect "$(range relay 6000 status "$json")" no-listener "$mode: 6000-6099/udp without a listener"
	expect "$(range relay 6000 no_listener "$json")" 11 "$mode: 6000-6099/udp refused"
	expect "$(range relay 6000 '"ports_by_status"."no-listener" | join(",")' "$json")" \
		"$(seq -s, 6000 6009),6050" "$mode: 6000-6099/udp ports with no listener"
	expect "$(range down 5002 status "$json")" no-listener "$mode: 5002/tcp without a listener"
	expect "$(range down 5002 no_listener "$json")" 1 "$mode: 5002/tcp refused"
	expect "$(range quiet 8000 status "$json")" silent "$mode: 8000/udp with nothing sent"
	expect "$(range svc 5000 'other_drops | length' "$json")" 0 "$mode: no other drops"
	grep -q "warning: down 5002/tcp: .*nothing listens" "$TMP/all-$mode.err" ||
		fail "$mode: no warning for the service port without a listener: $(cat "$TMP/all-$mode.err")"
	grep -q "warning: relay" "$TMP/all-$mode.err" &&
		fail "$mode: a warning for the relay range: $(cat "$TMP/all-$mode.err")"
	expect "$(pw_filters ingress)" 0 "$mode: ingress filters left after verify"
done

# 2. No silent or blocked range: exit 0 with a warning for the service
# port, in the table; --strict fails on it.
table=$TMP/table.txt
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'svc=5000/udp|5001/tcp' \
	--ports 'relay=6000:6099/udp' --ports 'down=5002/tcp' -d 4 > "$table" 2>&1
vpid=$BG
wait_attached "$table"
traffic
wait $vpid
expect $? 0 "exit code with a service port without a listener"
grep -q "^warning: down 5002/tcp: .*service down.*" "$table" || grep -q "^warning: down 5002/tcp" "$table" ||
	fail "table: no warning: $(cat "$table")"
grep -q '^2 of 4 required ranges reached; no-listener: relay 6000-6099/udp, down 5002/tcp' "$table" ||
	fail "table summary: $(cat "$table")"
grep -Eq '^ +no-listener: 6000-6009,6050$' "$table" || fail "table: relay ports: $(cat "$table")"

bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'svc=5000/udp' --ports 'down=5002/tcp' \
	--strict -d 3 --json > "$TMP/strict.json" 2>/dev/null
vpid=$BG
wait_attached
in_client "$SEND" udp-echo $S4 5000 1 >/dev/null || fail "udp to a listener"
expect "$(in_client "$SEND" tcp $S4 5002)" refused "tcp to no listener"
wait $vpid
expect $? 1 "--strict: exit code with a service port without a listener"
expect "$(jqf .strict "$TMP/strict.json")" true "--strict in the JSON"

# 3. The watch exports the drops by reason; a drop of a reply is none.
prom=$TMP/pw.prom
bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" "${DECL[@]}" --textfile "$prom" --interval 1
wait_attached
traffic
L='interface="'$DEV_S'",service="fw",proto="udp",ports="7000-7009"'
wait_metric portwitness_drops_total "$L,reason=\"netfilter_drop\"" "$prom" 11
wait_metric portwitness_drops_total "$L,reason=\"no_socket\"" "$prom" 0
L='interface="'$DEV_S'",service="relay",proto="udp",ports="6000-6099"'
wait_metric portwitness_drops_total "$L,reason=\"no_socket\"" "$prom" 11
L='interface="'$DEV_S'",service="svc",proto="udp",ports="5000"'
wait_metric portwitness_drops_total "$L,reason=\"netfilter_drop\"" "$prom" 0
promtool check metrics < "$prom" >/dev/null 2>&1 || fail "promtool: $(promtool check metrics < "$prom" 2>&1 | head -5)"
# A verify beside the watch reads its maps, drops included, over its own
# window: traffic sent as it starts is counted whole or not at all.
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'relay=6000:6099/udp' --ports 'fw=7000:7009/udp' \
	-d 3 --json > "$TMP/beside.json" 2> "$TMP/beside.err"
vpid=$BG
# "counting on" is said once the window is open.
for i in $(seq 50); do grep -q "a running watch" "$TMP/beside.err" && break; sleep 0.1; done
grep -q "a running watch" "$TMP/beside.err" || fail "verify beside the watch did not start: $(cat "$TMP/beside.err")"
in_client "$SEND" udp $S4 6000 6019 1 >/dev/null || fail "udp to the relay range beside the watch"
in_client "$SEND" udp $S4 7000 7004 1 >/dev/null || fail "udp to the dropped range beside the watch"
wait $vpid
expect $? 1 "verify beside the watch: exit code with a range blocked"
expect "$(range relay 6000 status "$TMP/beside.json")" no-listener "beside the watch: relay"
expect "$(range relay 6000 delivered "$TMP/beside.json")" 0 "beside the watch: relay delivered"
expect "$(range fw 7000 status "$TMP/beside.json")" blocked-host-firewall "beside the watch: fw"
expect "$(range fw 7000 delivered "$TMP/beside.json")" 0 "beside the watch: fw delivered"
expect "$(jqf '[.ranges[].packets] | add' "$TMP/beside.json")" 25 "beside the watch: packets in the window"

# 4. The interface made a bridge port while the watch runs: the IP layer
# now sees the packets arrive on the bridge, and their drops still count.
ip -n "$NS_S" link add br-pw type bridge || fail "bridge"
ip -n "$NS_S" link set "$DEV_S" master br-pw
ip -n "$NS_S" addr flush dev "$DEV_S"
ip -n "$NS_S" addr add $S4/24 dev br-pw
ip -n "$NS_S" addr add $S6/64 dev br-pw nodad
ip -n "$NS_S" link set br-pw up
sleep 2.5	# a tick or two of the watch, which looks for it
in_client ping -c1 -W2 $S4 >/dev/null || fail "no IPv4 path through the bridge"
in_client "$SEND" udp $S4 6000 6009 1 >/dev/null || fail "udp to the relay range through the bridge"
in_client "$SEND" udp $S4 7000 7000 1 >/dev/null || fail "udp to the dropped range through the bridge"
L='interface="'$DEV_S'",service="relay",proto="udp",ports="6000-6099"'
wait_metric portwitness_drops_total "$L,reason=\"no_socket\"" "$prom" 41
L='interface="'$DEV_S'",service="fw",proto="udp",ports="7000-7009"'
wait_metric portwitness_drops_total "$L,reason=\"netfilter_drop\"" "$prom" 17
pw show -i "$DEV_S" "${DECL[@]}" --json > "$TMP/show.json" || fail "show"
expect "$(range relay 6000 status "$TMP/show.json")" no-listener "show: relay"
expect "$(range fw 7000 status "$TMP/show.json")" blocked-host-firewall "show: fw"
echo "PASS $(basename "$0")"
