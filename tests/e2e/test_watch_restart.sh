#!/usr/bin/env bash
# watch pins its counters: a restarted watch continues them (after SIGTERM
# and after SIGKILL), verify and show read a running watch without
# attaching twice, a second watch is refused, detach removes everything.
. "$(dirname "$0")/lib.sh"
setup_pair

pins=/sys/fs/bpf/portwitness/$DEV_S
packets_5000() {
	pw show -i "$DEV_S" --json > "$TMP/show.json" || fail "show failed"
	jqf '[.ports[] | select(.proto=="udp" and .port==5000)][0].packets // 0' "$TMP/show.json"
}

bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" --ports 'x=5000/udp' > "$TMP/watch1.out"
watch=$BG
wait_attached
in_client "$SEND" udp $S4 5000 5000 5 > /dev/null
expect "$(packets_5000)" 5 "packets while the first watch runs"
expect "$(jqf '.attached' "$TMP/show.json")" true "show: attached"
expect "$(jqf '.owner_pid' "$TMP/show.json")" "$watch" "show: the watch's pid"
total=$(jqf '.memory_bytes.total' "$TMP/show.json")
budget=$(jqf '.memory_bytes.budget' "$TMP/show.json")
[ "$total" -gt 4000000 ] && [ "$total" -le "$budget" ] || fail "map memory $total not within (4 MB, budget $budget]"

pw watch -i "$DEV_S" > /dev/null 2> "$TMP/err"
expect $? 3 "a second watch on the same interface"
grep -q "already counts on $DEV_S" "$TMP/err" || fail "second watch message: $(cat "$TMP/err")"

kill -TERM $watch
wait $watch
expect $? 0 "watch exit on SIGTERM"
grep -q '^x .*5000 .*no-listener' "$TMP/watch1.out" || fail "watch summary: $(cat "$TMP/watch1.out")"
expect "$(pw_filters ingress)" 0 "filters after the watch stopped"
[ -e "$pins/pw_counts" ] || fail "counters not kept pinned at $pins"
expect "$(jq -r '.attached' <(pw show -i "$DEV_S" --json))" false "show after stop: attached"

# A restart continues the counters.
bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" > /dev/null
watch=$BG
wait_attached
in_client "$SEND" udp $S4 5000 5000 3 > /dev/null
expect "$(packets_5000)" 8 "packets after a restart"
# A closed terminal does not stop a watch.
kill -HUP $watch
settle 0.3
kill -0 $watch 2>/dev/null || fail "watch ended on SIGHUP"
expect "$(pw_filters ingress)" 1 "filters after SIGHUP to the watch"

# verify reads the running watch: deltas, no second attach.
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'x=5000/udp' -d 2 --json > "$TMP/verify.json"
vpid=$BG
sleep 0.5
expect "$(pw_filters ingress)" 1 "ingress filters while verify reads the watch"
in_client "$SEND" udp $S4 5000 5000 2 > /dev/null
wait $vpid
expect $? 0 "verify over a running watch"
expect "$(jqf '.ranges[0].packets' "$TMP/verify.json")" 2 "verify counts only its window"
expect "$(pw_filters ingress)" 1 "the watch's filter after verify"

# verify declares what the watch does not: its ports are classified from
# then on, in the watch's own maps.
in_client "$SEND" udp $S4 5001 5001 4 > /dev/null	# undeclared until now
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'y=5001/udp' -d 2 --json > "$TMP/verify2.json"
vpid=$BG
sleep 0.5
in_client "$SEND" udp $S4 5001 5001 3 > /dev/null
wait $vpid
expect $? 0 "verify of a port only it declared"
expect "$(jqf '.ranges[0].packets' "$TMP/verify2.json")" 3 "verify's own port, its window"
pw show -i "$DEV_S" --json > "$TMP/show2.json" || fail "show failed"
expect "$(jqf '[.ports[] | select(.proto=="udp" and .port==5001)][0].declared' "$TMP/show2.json")" true "5001 declared for good"
expect "$(jqf '[.ports[] | select(.proto=="udp" and .port==5001)][0].unclassified' "$TMP/show2.json")" 4 "5001 before it was declared"

# SIGKILL leaves the programs counting; the next watch takes them over.
kill -KILL $watch
wait $watch 2>/dev/null
expect "$(pw_filters ingress)" 1 "filters after SIGKILL (still counting)"
in_client "$SEND" udp $S4 5000 5000 1 > /dev/null
bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" > /dev/null
watch=$BG
sleep 0.5
expect "$(pw_filters ingress)" 1 "filters after a watch took over"
in_client "$SEND" udp $S4 5000 5000 1 > /dev/null
expect "$(packets_5000)" 12 "packets across SIGKILL and takeover"
kill -TERM $watch
wait $watch

pw detach -i "$DEV_S" 2> /dev/null
expect $? 0 "detach"
[ -e "$pins" ] && fail "pins left after detach: $(ls "$pins")"
expect "$(pw_filters ingress)" 0 "filters after detach"
pw show -i "$DEV_S" > /dev/null 2>&1
expect $? 3 "show with nothing pinned"
pw detach -i "$DEV_S" 2> /dev/null
expect $? 0 "detach again (nothing to do)"
echo "PASS $(basename "$0")"
