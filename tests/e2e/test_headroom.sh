#!/usr/bin/env bash
# Headroom of media ranges from real traffic over many ports: the watch
# exports the ports active in its sliding window and the peak, the window
# slides (active falls back, the peak stays, also across a restart), and
# show --headroom tells per media range the calls or participants the peak
# needs and whether the range has 10% headroom.
. "$(dirname "$0")/lib.sh"
setup_pair

prom=$TMP/pw.prom
DECL=(-p snikket -p plugnmeet --ports 'turnsmall=40000:40019/udp')
bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" "${DECL[@]}" --textfile "$prom" \
	--interval 1 --active-window 3
watch=$BG
wait_attached
S='interface="'$DEV_S'",service="snikket",proto="udp",ports="49152-65535"'
P='interface="'$DEV_S'",service="plugnmeet",proto="udp",ports="50000-60000"'
T='interface="'$DEV_S'",service="turnsmall",proto="udp",ports="40000-40019"'
wait_metric portwitness_ports_active "$S" "$prom" 0

# 40 ports of the TURN range at once, from one client port each.
in_client "$SEND" udp $S4 49152 49191 2 >/dev/null || fail "udp to 40 TURN ports"
wait_metric portwitness_ports_active "$S" "$prom" 40
wait_metric portwitness_ports_active_peak "$S" "$prom" 40
expect "$(metric portwitness_ports_active "$P" "$prom")" 0 "plugnmeet active while only TURN ports got packets"
# The window slides: nothing for 3 s and more, nothing active; the peak stays.
sleep 3
wait_metric portwitness_ports_active "$S" "$prom" 0
expect "$(metric portwitness_ports_active_peak "$S" "$prom")" 40 "peak after the window slid"

# 12 ports in both ranges (plugnmeet's lies in Snikket's), and the small
# range filled up to its last port.
in_client "$SEND" udp $S4 50000 50011 1 >/dev/null || fail "udp to 12 media ports"
in_client "$SEND" udp $S4 40000 40019 1 >/dev/null || fail "udp to the small range"
wait_metric portwitness_ports_active "$P" "$prom" 12
wait_metric portwitness_ports_active "$T" "$prom" 20
expect "$(metric portwitness_ports_active_peak "$P" "$prom")" 12 "plugnmeet peak"
expect "$(metric portwitness_ports_active_peak "$S" "$prom")" 40 "snikket peak stays at 40 with 12 active"

# Restarted, the watch keeps the peaks with the counters.
kill -TERM $watch
wait $watch
bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" "${DECL[@]}" --textfile "$prom" \
	--interval 1 --active-window 3
watch=$BG
wait_attached
sleep 1.5
wait_metric portwitness_ports_active_peak "$S" "$prom" 40

out=$TMP/headroom.txt
pw show -i "$DEV_S" "${DECL[@]}" --headroom > "$out" || fail "show --headroom: $(cat "$out")"
grep -q "ports with packets within 3 s" "$out" || fail "headroom: the window: $(cat "$out")"
grep -Eq '^snikket +udp +49152-65535 +16384 +[0-9]+ +40 .* 10 calls +yes +44 \(enough; smaller fits a tight router\)$' "$out" ||
	fail "headroom of snikket's TURN range: $(cat "$out")"
grep -Eq '^plugnmeet +udp +50000-60000 +10001 +[0-9]+ +12 .* 6 participants +yes +14 ' "$out" ||
	fail "headroom of plugnmeet's media range: $(cat "$out")"
grep -Eq '^turnsmall +udp +40000-40019 +20 +[0-9]+ +20 .* 5 calls +NO +22 \(too small: grow it\)$' "$out" ||
	fail "headroom of a range without 10% to spare: $(cat "$out")"
grep -q '^snikket .* tcp ' "$out" && fail "headroom lists a TCP range: $(cat "$out")"
pw show -i "$DEV_S" "${DECL[@]}" --json > "$TMP/show.json" || fail "show --json"
expect "$(jqf '[.ranges[] | select(.service=="snikket" and .first==49152)][0].ports_active_peak' "$TMP/show.json")" \
	40 "show --json: peak"
pw show -i "$DEV_S" --headroom > /dev/null 2>&1
expect $? 2 "show --headroom without declarations"
echo "PASS $(basename "$0")"
