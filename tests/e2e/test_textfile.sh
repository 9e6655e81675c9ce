#!/usr/bin/env bash
# watch --textfile: every family in a file promtool accepts, the values
# the traffic gave, counters monotonic across a restart, SIGHUP reloads
# the declarations without losing a count, and a full disk or a read-only
# directory is logged while the previous file stays whole.
. "$(dirname "$0")/lib.sh"
setup_pair
command -v promtool > /dev/null || fail "promtool missing (Debian package prometheus; make deps installs it)"

dir=$TMP/tf
mkdir -p "$dir"
# A small filesystem of our own (private mount namespace) to fill up.
mount -t tmpfs -o size=256k tmpfs "$dir" || fail "cannot mount a tmpfs"
prom=$dir/portwitness.prom
app=$TMP/chat.ufw
printf '[chat]\nports=5222/tcp\n' > "$app"
L() { echo "interface=\"$DEV_S\",service=\"$1\",proto=\"$2\",ports=\"$3\""; }

start_watch() {
	bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" -c "$app" --ports 'turn=3478/udp' \
		--ports 'media=50000:50199/udp' --textfile "$prom" --interval 1 \
		> "$TMP/watch.out" 2> "$TMP/watch.err"
	watch=$BG
	wait_attached "$TMP/watch.err"
}
start_watch
in_client "$SEND" udp $S4 3478 3478 3 > /dev/null
in_client "$SEND" udp $S4 50000 50009 2 > /dev/null
in_client "$SEND" tcp $S4 5222 > /dev/null
wait_metric portwitness_ports_hit "$(L media udp 50000-50199)" "$prom" 10
wait_metric portwitness_packets_total "$(L turn udp 3478)" "$prom" 3
expect "$(metric portwitness_packets_total "$(L media udp 50000-50199)" "$prom")" 20 "media packets"
expect "$(metric portwitness_ports_declared "$(L media udp 50000-50199)" "$prom")" 200 "media ports declared"
expect "$(metric portwitness_packets_total "$(L chat tcp 5222)" "$prom")" 1 "one SYN to 5222"
expect "$(metric portwitness_port_packets_total "$(L turn udp 3478),port=\"3478\"" "$prom")" 3 "per-port series of 3478"
expect "$(grep -c '^portwitness_port_packets_total{.*ports="50000-50199"' "$prom")" 0 "no per-port series for 200 ports"
expect "$(metric portwitness_bytes_total "$(L turn udp 3478)" "$prom")" $((3 * 44)) "bytes: IP length of 3 datagrams of 16 bytes"
expect "$(metric portwitness_info "interface=\"$DEV_S\",version=\"$(cat VERSION)\",mode=\"tc\"" "$prom")" 1 "info"
last=$(metric portwitness_last_packet_timestamp_seconds "$(L turn udp 3478)" "$prom")
now=$(date +%s)
[ -n "$last" ] && [ "${last%.*}" -le "$now" ] && [ "${last%.*}" -ge $((now - 10)) ] ||
	fail "last packet timestamp '$last' not within 10 s before $now"
exported=$(metric portwitness_last_export_timestamp_seconds "interface=\"$DEV_S\"" "$prom")
[ "${exported%.*}" -ge $((now - 3)) ] || fail "last export '$exported' older than 3 s at $now"
expect "$(stat -c %a "$prom")" 644 "textfile mode"
promtool check metrics < "$prom" > "$TMP/promtool.out" 2>&1 || fail "promtool: $(cat "$TMP/promtool.out")"

# Read while it is rewritten (every second): always a whole file.
for i in $(seq 25); do
	cp "$prom" "$TMP/read.prom"
	tail -n1 "$TMP/read.prom" | grep -q '^portwitness_info{' || fail "read $i: a file cut short"
	promtool check metrics < "$TMP/read.prom" > "$TMP/promtool.out" 2>&1 ||
		fail "read $i: promtool: $(cat "$TMP/promtool.out")"
	sleep 0.1
done

# SIGHUP: the ufw profile changed; its new range is watched, the old
# counts stay. Then a broken profile: logged, the previous ones kept.
printf '[chat]\nports=5222/tcp|5269/tcp\n' > "$app"
kill -HUP $watch
wait_metric portwitness_ports_declared "$(L chat tcp 5269)" "$prom" 1
in_client "$SEND" tcp $S4 5269 > /dev/null
wait_metric portwitness_packets_total "$(L chat tcp 5269)" "$prom" 1
expect "$(metric portwitness_packets_total "$(L chat tcp 5222)" "$prom")" 1 "5222 after the reload"
printf '[chat]\nports=5222/tcp|99999/tcp\n' > "$app"
kill -HUP $watch
sleep 1.5
kill -0 $watch 2>/dev/null || fail "watch ended on a bad reload"
grep -q "reload: the declarations above do not parse" "$TMP/watch.err" || fail "bad reload not reported: $(cat "$TMP/watch.err")"
grep -q "chat.ufw:2:" "$TMP/watch.err" || fail "bad reload does not name the line: $(cat "$TMP/watch.err")"
expect "$(metric portwitness_ports_declared "$(L chat tcp 5269)" "$prom")" 1 "5269 still declared after a bad reload"

# Full disk: the error is logged once, the previous file stays intact, no
# temporary file is left; with room again it is written again.
dd if=/dev/zero of="$dir/fill" bs=4k 2>/dev/null
cp "$prom" "$TMP/before.prom"
in_client "$SEND" udp $S4 3478 3478 2 > /dev/null
sleep 2.5
grep -q "No space left on device" "$TMP/watch.err" || fail "full disk not logged: $(cat "$TMP/watch.err")"
expect "$(grep -c 'No space left' "$TMP/watch.err")" 1 "the full-disk error said once"
cmp -s "$prom" "$TMP/before.prom" || fail "the textfile changed on a full disk"
expect "$(ls "$dir" | grep -cv '^fill$\|^portwitness.prom$')" 0 "temporary files left on a full disk"
rm -f "$dir/fill"
wait_metric portwitness_packets_total "$(L turn udp 3478)" "$prom" 5
grep -q "written again" "$TMP/watch.err" || fail "recovery not logged"

# A read-only directory: the same.
mount -o remount,ro "$dir" || fail "cannot remount read-only"
cp "$prom" "$TMP/before.prom"
in_client "$SEND" udp $S4 3478 3478 1 > /dev/null
sleep 2.5
grep -q "Read-only file system" "$TMP/watch.err" || fail "read-only directory not logged: $(cat "$TMP/watch.err")"
cmp -s "$prom" "$TMP/before.prom" || fail "the textfile changed in a read-only directory"
mount -o remount,rw "$dir"
wait_metric portwitness_packets_total "$(L turn udp 3478)" "$prom" 6

# A restart continues the counters (the fold is pinned).
kill -TERM $watch
wait $watch
expect $? 0 "watch exit"
printf '[chat]\nports=5222/tcp|5269/tcp\n' > "$app"
start_watch
in_client "$SEND" udp $S4 3478 3478 1 > /dev/null
wait_metric portwitness_packets_total "$(L turn udp 3478)" "$prom" 7
expect "$(metric portwitness_packets_total "$(L media udp 50000-50199)" "$prom")" 20 "media after a restart"
# show reads the same 64-bit totals.
pw show -i "$DEV_S" --json > "$TMP/show.json" || fail "show failed"
expect "$(jqf '[.ports[] | select(.proto=="udp" and .port==3478)][0].packets' "$TMP/show.json")" 7 "show after a restart"
# The heatmap of the media range: one cell per port at 80 columns.
LC_ALL=C pw show -i "$DEV_S" --ports 'media=50000:50199/udp' --heatmap > "$TMP/heatmap.txt" ||
	fail "show --heatmap failed"
grep -q '^media 50000-50199/udp: 10 of 200 ports hit, 20 unsolicited packets; a cell is 1 port$' "$TMP/heatmap.txt" ||
	fail "heatmap header: $(cat "$TMP/heatmap.txt")"
grep -q '^50000 |##########  ' "$TMP/heatmap.txt" || fail "heatmap row of 50000: $(cat "$TMP/heatmap.txt")"
kill -TERM $watch
wait $watch
# Not a terminal: one log line per interval.
grep -q "required ranges reached; +[0-9]* unsolicited" "$TMP/watch.out" || fail "no interval log line: $(head -5 "$TMP/watch.out")"
# On a terminal: a table redrawn in place (home, clear) every interval.
# Loading takes up to 2 s on this VM (times SCALE in a slow guest); the
# watch then redraws each second.
in_server script -qfec "timeout -s INT $((5 * SCALE)) $PW watch -i $DEV_S --ports turn=3478/udp --no-textfile --interval 1" \
	"$TMP/tty.out" > /dev/null 2>&1
redraws=$(grep -o $'\e\[H\e\[2J' "$TMP/tty.out" | wc -l)
[ "$redraws" -ge 2 ] && [ "$redraws" -le $((5 * SCALE + 1)) ] ||
	fail "table redraws on a terminal in $((5 * SCALE)) s at 1 s intervals: $redraws"
grep -q '^turn .*3478 .*no-listener' "$TMP/tty.out" || fail "live table: $(tail -5 "$TMP/tty.out")"
grep -q 'required ranges reached; +' "$TMP/tty.out" && fail "log lines on a terminal"
umount "$dir"
echo "PASS $(basename "$0")"
