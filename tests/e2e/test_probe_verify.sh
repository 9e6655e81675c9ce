#!/usr/bin/env bash
# verify --probe through a NAT router that forwards only part of the
# declared ports, with another client outside sending to the same ports
# at the same time (no token, a wrong token, TCP attempts). verify names
# exactly the probed ports the router forwarded, what became of each on
# the server (delivered, dropped by its firewall, no listener), counts the
# probe's TCP attempts also before its first datagram, and leaves the
# other client's packets out; in tc and xdp mode, and beside a watch, one
# verify --probe at a time.
. "$(dirname "$0")/lib.sh"
command -v nft > /dev/null || fail "nft is missing (make installs nftables)"

NS_R=pwR$ID
NS_O=pwO$ID
ip netns add "$NS_S" && ip netns add "$NS_C" && ip netns add "$NS_R" &&
	ip netns add "$NS_O" || fail "namespaces"
trap 'ip netns del "$NS_R" 2>/dev/null; ip netns del "$NS_O" 2>/dev/null; cleanup' EXIT
# server 198.18.1.2 -- 198.18.1.1 router 198.19.0.1 -- 198.19.0.2 probe
#                                        198.19.1.1 -- 198.19.1.2 other client
ip link add "$DEV_S" netns "$NS_S" type veth peer name lan0 netns "$NS_R"
ip link add "$DEV_C" netns "$NS_C" type veth peer name wan0 netns "$NS_R"
ip link add pwo$ID netns "$NS_O" type veth peer name wan1 netns "$NS_R"
ip -n "$NS_S" addr add 198.18.1.2/24 dev "$DEV_S"
ip -n "$NS_R" addr add 198.18.1.1/24 dev lan0
ip -n "$NS_R" addr add 198.19.0.1/24 dev wan0
ip -n "$NS_R" addr add 198.19.1.1/24 dev wan1
ip -n "$NS_C" addr add 198.19.0.2/24 dev "$DEV_C"
ip -n "$NS_O" addr add 198.19.1.2/24 dev pwo$ID
for ns in "$NS_S" "$NS_R" "$NS_C" "$NS_O"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$DEV_S" up
ip -n "$NS_C" link set "$DEV_C" up
ip -n "$NS_O" link set pwo$ID up
for d in lan0 wan0 wan1; do ip -n "$NS_R" link set $d up; done
ip -n "$NS_S" route add default via 198.18.1.1
ip -n "$NS_C" route add default via 198.19.0.1
ip -n "$NS_O" route add default via 198.19.1.1
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
# Forwarded: half the media range, 3478/udp, and 5222, 5269 and 443/tcp
# (not 5000/tcp).
ip netns exec "$NS_R" nft -f - <<'NFT' || fail "cannot load the router's NAT ruleset"
table ip router {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 198.19.0.1 udp dport { 50000-50049, 3478 } dnat to 198.18.1.2
		ip daddr 198.19.0.1 tcp dport { 443, 5222, 5269 } dnat to 198.18.1.2
	}
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "lan0" accept
		ct status dnat accept
	}
}
NFT
# The server's own firewall drops 443/tcp and 50040-50049/udp.
ip netns exec "$NS_S" nft -f - <<'NFT' || fail "cannot load the server's ruleset"
table inet host {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 443 drop
		udp dport 50040-50049 drop
	}
}
NFT
ip netns exec "$NS_S" ping -c1 -W2 198.19.0.2 > /dev/null || fail "no route out through the router"
ip netns exec "$NS_O" ping -c1 -W2 198.19.1.1 > /dev/null || fail "no route from the other client"
bg "${IN_S[@]}" socat -T 3 TCP4-LISTEN:5222,fork,reuseaddr EXEC:/bin/true
bg "${IN_S[@]}" socat -u UDP4-RECV:3478 /dev/null
wait_listening "$NS_S" tcp:5222 udp:3478

# Declared in this order, so that the probe's first TCP attempts (443,
# 5269) go out before its first datagram and the rest after.
DECL=(--ports 'xmpp=443/tcp|5269/tcp' --ports 'media=50000:50099/udp'
      --ports 'stun=3478/udp' --ports 'xmpp=5222/tcp|5000/tcp')
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

# The other client: a wrong token, datagrams of the token's size without
# it, TCP attempts, to the same ports, while the probe runs.
other_client() {
	ip netns exec "$NS_O" "${NOBODY[@]}" "$PW" probe 198.19.0.1 "${DECL[@]}" \
		--token not-it --timeout 1 > /dev/null 2>&1
	ip netns exec "$NS_O" "$SEND" udp 198.19.0.1 50000 50049 1 0 24 > /dev/null
	ip netns exec "$NS_O" "$SEND" tcp 198.19.0.1 5269 > /dev/null
}

# probe_run MODE JSON [WATCHING]: verify --probe auto on the server, the
# probe and the other client outside; checks the result.
probe_run() {
	local mode=$1 json=$2 tok vpid i
	bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" "${DECL[@]}" --probe auto -d 6 \
		--mode "$mode" --json > "$json" 2> "$TMP/verify.err"
	vpid=$BG
	for i in $(seq 50); do
		grep -q "counting the probe's packets" "$TMP/verify.err" && break
		sleep 0.1
	done
	grep -q "counting the probe's packets" "$TMP/verify.err" ||
		fail "$mode: verify --probe did not start: $(cat "$TMP/verify.err")"
	tok=$(head -1 "$json" | sed -n 's/^token \([0-9a-f]\{16\}\)$/\1/p')
	[ -n "$tok" ] || fail "$mode: verify --probe auto: no token line first: $(head -1 "$json")"
	grep -q "portwitness probe HOST DECLARATIONS --token $tok" "$TMP/verify.err" ||
		fail "$mode: verify does not say what to run outside: $(cat "$TMP/verify.err")"
	other_client &
	PIDS+=($!)
	in_client "${NOBODY[@]}" "$PW" probe 198.19.0.1 "${DECL[@]}" --sample 10 \
		--token "$tok" --timeout 1 --json > "$TMP/probe.out" 2> "$TMP/probe.err" ||
		fail "$mode: probe: $(cat "$TMP/probe.err")"
	wait $vpid
	expect $? 1 "$mode: exit code (443/tcp blocked, 5000/tcp silent)"
	sed -n 2p "$json" > "$json.doc"
	check_result "$mode" "$json.doc" "$tok"
}

# A range by its first port.
r() { echo ".ranges[] | select(.first==$1)"; }

check_result() {
	local mode=$1 j=$2 tok=$3
	expect "$(jqf '.probe.token' "$j")" "$tok" "$mode: probe.token"
	expect "$(jqf '[.probe.hosts[].address] | join(",")' "$j")" 198.19.0.2 \
		"$mode: the probe's host, and only it (the other client's wrong token)"
	expect "$(jqf '.probe.hosts[0].datagrams' "$j")" 6 "$mode: datagrams that arrived with the token (5 media, 1 stun)"
	# The other client's TCP attempts: 443, 5269 (twice) and 5222 arrive.
	[ "$(jqf '.probe.tcp_attempts_left_out' "$j")" -ge 4 ] ||
		fail "$mode: the other client's TCP attempts left out: $(jqf '.probe' "$j")"
	expect "$(jqf '.probe.hosts_left_out' "$j")" 1 "$mode: hosts left out"

	# media: 10 probed, the 5 below 50050 forwarded; 50044 dropped by the
	# server's firewall, the others refused for no listener.
	expect "$(jqf "$(r 50000) | .hit_ports | join(\",\")" "$j")" 50000,50011,50022,50033,50044 \
		"$mode: media: exactly the forwarded probe ports"
	expect "$(jqf "$(r 50000) | .packets" "$j")" 5 "$mode: media: one datagram each, the other client's left out"
	expect "$(jqf "$(r 50000) | .status" "$j")" no-listener "$mode: media status"
	expect "$(jqf "$(r 50000) | .ports_by_status[\"no-listener\"] | join(\",\")" "$j")" 50000,50011,50022,50033 \
		"$mode: media ports refused"
	expect "$(jqf "$(r 50000) | .ports_by_status[\"blocked-host-firewall\"] | join(\",\")" "$j")" 50044 \
		"$mode: media port the server's firewall drops"
	expect "$(jqf "$(r 50000) | .probe_ports | map(\"\(.port):\(.arrived):\(.delivered):\(.firewall_dropped):\(.no_listener):\(.status)\") | join(\" \")" "$j")" \
		"50000:1:0:0:1:no-listener 50011:1:0:0:1:no-listener 50022:1:0:0:1:no-listener 50033:1:0:0:1:no-listener 50044:1:0:1:0:blocked-host-firewall" \
		"$mode: media probe_ports"
	expect "$(jqf "$(r 3478) | .probe_ports | map(\"\(.port):\(.arrived):\(.delivered):\(.status)\") | join(\" \")" "$j")" \
		"3478:1:1:reached" "$mode: stun, a listener"
	# TCP before the first datagram: 443 (dropped; the probe's SYN may be
	# sent again) and 5269 (refused); after it: 5222 (connected).
	expect "$(jqf "$(r 5222) | .probe_ports | map(\"\(.port):\(.arrived):\(.delivered):\(.status)\") | join(\" \")" "$j")" \
		"5222:1:1:reached" "$mode: 5222/tcp, after the first datagram"
	expect "$(jqf "$(r 5269) | .probe_ports | map(\"\(.port):\(.arrived):\(.no_listener):\(.status)\") | join(\" \")" "$j")" \
		"5269:1:1:no-listener" "$mode: 5269/tcp, before the first datagram"
	expect "$(jqf "$(r 443) | .status" "$j")" blocked-host-firewall "$mode: 443/tcp, before the first datagram"
	local a f
	a=$(jqf "$(r 443) | .probe_ports[0].arrived" "$j")
	f=$(jqf "$(r 443) | .probe_ports[0].firewall_dropped" "$j")
	[ "$a" -ge 1 ] && [ "$a" = "$f" ] || fail "$mode: 443/tcp: $a attempts arrived, $f dropped by the firewall"
	expect "$(jqf "$(r 5000) | .status" "$j")" silent "$mode: 5000/tcp, not forwarded"
	expect "$(jqf "$(r 5000) | .probe_ports | length" "$j")" 0 "$mode: 5000/tcp probe_ports"
}

probe_run tc "$TMP/tc.json"
probe_run xdp "$TMP/xdp.json"

# The text form names the host and the ports of each kind.
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'media=50000:50099/udp' --probe tok-text -d 3 > "$TMP/text.out" 2>&1
vpid=$BG
wait_attached
sleep 0.5
in_client "$PW" probe 198.19.0.1 --ports 'media=50000:50099/udp' --sample 10 --token tok-text > /dev/null 2>&1
wait $vpid
expect $? 0 "text: exit code"
grep -q "^probe tok-text: 5 datagrams with the token from 198.19.0.2$" "$TMP/text.out" ||
	fail "text: the probe's host: $(cat "$TMP/text.out")"
grep -q "media *50000-50099/udp: 5 probe packets at 5 ports, 0 delivered, 1 dropped by the host firewall, 4 refused: no listener" "$TMP/text.out" ||
	fail "text: what became of them: $(cat "$TMP/text.out")"
grep -q "no-listener: 50000,50011,50022,50033$" "$TMP/text.out" &&
	grep -q "blocked-host-firewall: 50044$" "$TMP/text.out" ||
	fail "text: the ports of each kind: $(cat "$TMP/text.out")"
head -1 "$TMP/text.out" | grep -q '^token' && fail "text: a token line without --probe auto"

# Beside a watch: verify --probe reads its maps, one at a time; a killed
# one is taken over.
bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" "${DECL[@]}" --interval 1 > "$TMP/watch.out" 2>&1
wpid=$BG
wait_attached "$TMP/watch.out"
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" "${DECL[@]}" --probe first -d 30 > /dev/null 2>&1
first=$BG
sleep 1
pw verify -i "$DEV_S" "${DECL[@]}" --probe second -d 1 > "$TMP/second.out" 2>&1
expect $? 3 "a second verify --probe at once: exit code"
grep -q "another verify --probe (pid $first) counts probe packets" "$TMP/second.out" ||
	fail "the second verify --probe: $(cat "$TMP/second.out")"
kill -KILL $first
wait $first 2>/dev/null
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" "${DECL[@]}" --probe third -d 4 --json > "$TMP/watch.json" 2> "$TMP/third.err"
vpid=$BG
for i in $(seq 50); do
	grep -q "counting the probe's packets" "$TMP/third.err" && break
	sleep 0.1
done
grep -q "a running watch" "$TMP/third.err" || fail "verify --probe beside a watch: $(cat "$TMP/third.err")"
other_client &
PIDS+=($!)
in_client "$PW" probe 198.19.0.1 "${DECL[@]}" --sample 10 --token third --timeout 1 > /dev/null 2>&1
wait $vpid
expect $? 1 "beside a watch: exit code"
check_result watch "$TMP/watch.json" third
kill -TERM $wpid
wait $wpid
echo "PASS $(basename "$0")"
