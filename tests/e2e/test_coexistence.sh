#!/usr/bin/env bash
# Never someone else's program: an existing XDP program is not replaced
# (xdp mode refuses, exit 3, and tc mode counts beside it), and another TC
# filter on the interface stays in place and keeps seeing packets.
. "$(dirname "$0")/lib.sh"
setup_pair

clang -O2 -g -target bpf -I"$(dirname "$0")/../../vmlinux" -c "$(dirname "$0")/xdp_other.bpf.c" -o "$TMP/other.o" ||
	fail "cannot build the other XDP program"
ip -n "$NS_S" link set dev "$DEV_S" xdpdrv obj "$TMP/other.o" sec xdp || fail "cannot attach the other XDP program"
other_id() { ip -n "$NS_S" -j link show dev "$DEV_S" | jq -r '.[0].xdp.prog.id // empty'; }
before=$(other_id)
[ -n "$before" ] || fail "the other XDP program is not attached"

pw verify -i "$DEV_S" --ports 'x=5000/udp' -d 1 --mode xdp > /dev/null 2> "$TMP/err"
expect $? 3 "xdp mode over another XDP program"
grep -q "already has an XDP program (id $before)" "$TMP/err" || fail "message: $(cat "$TMP/err")"
grep -q "never replaces it" "$TMP/err" || fail "message: $(cat "$TMP/err")"
expect "$(other_id)" "$before" "the other XDP program after the refusal"
expect "$(pw_filters egress)" 0 "egress filter left after the refusal"

# Someone's TC filter, first in line at priority 1, counting what it sees.
ip netns exec "$NS_S" tc qdisc replace dev "$DEV_S" clsact
ip netns exec "$NS_S" tc filter add dev "$DEV_S" ingress prio 1 bpf da \
	obj "$TMP/other.o" sec tc || fail "cannot add the other tc filter"
other_seen() {
	bpftool -j map dump name other_seen | jq -r '.[0].formatted.value'
}
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'x=5000/udp' -d 2 --json > "$TMP/tc.json"
vpid=$BG
wait_attached
ip netns exec "$NS_S" tc filter show dev "$DEV_S" ingress | grep -q 'other_count' ||
	fail "the other filter is gone while portwitness is attached"
seen_before=$(other_seen)
in_client "$SEND" udp $S4 5000 5000 4 > /dev/null
wait $vpid
expect $? 0 "tc mode beside another XDP program and another filter"
expect "$(jqf '.ranges[0].packets' "$TMP/tc.json")" 4 "packets counted beside the others"
expect "$(other_id)" "$before" "the other XDP program after tc mode"
seen=$(( $(other_seen) - seen_before ))
[ "$seen" -ge 4 ] || fail "the other filter saw $seen packets, expected >= 4: portwitness must hand every packet on"
ip netns exec "$NS_S" tc filter show dev "$DEV_S" ingress | grep -q 'other_count' ||
	fail "the other filter is gone after portwitness detached"
expect "$(pw_filters ingress)" 0 "portwitness filters left"

# A verify killed with SIGKILL leaves its filters, which nothing records:
# detach finds them by name and removes only those.
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'x=5000/udp' -d 60
wait_attached
kill -KILL $BG
wait $BG 2>/dev/null
expect "$(pw_filters ingress)" 1 "filters a killed verify left"
pw detach -i "$DEV_S" 2> "$TMP/err"
expect $? 0 "detach of a killed verify's filters"
grep -q "removed 2 portwitness programs" "$TMP/err" || fail "detach message: $(cat "$TMP/err")"
expect "$(pw_filters ingress)" 0 "ingress filters after detach"
expect "$(pw_filters egress)" 0 "egress filters after detach"
ip netns exec "$NS_S" tc filter show dev "$DEV_S" ingress | grep -q 'other_count' ||
	fail "detach took the other filter too"

# The same in xdp mode, once the other XDP program is gone.
ip -n "$NS_S" link set dev "$DEV_S" xdpdrv off
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'x=5000/udp' -d 60 --mode xdp
wait_attached
kill -KILL $BG
wait $BG 2>/dev/null
pw detach -i "$DEV_S" 2> "$TMP/err"
grep -q "removed 2 portwitness programs" "$TMP/err" || fail "detach message (xdp): $(cat "$TMP/err")"
ip -n "$NS_S" link show dev "$DEV_S" | grep -q 'prog/xdp' && fail "the killed verify's XDP program is still attached"
pw detach -i "$DEV_S" 2> "$TMP/err"
grep -q "nothing of portwitness on $DEV_S" "$TMP/err" || fail "detach with nothing left: $(cat "$TMP/err")"
echo "PASS $(basename "$0")"
