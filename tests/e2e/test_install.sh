#!/usr/bin/env bash
# make install / uninstall, and the service as the unit runs it: the unit
# passes systemd-analyze verify with an exposure of at most 2.5; the
# watch it starts works with only the unit's capabilities and no new
# privileges, reads its declarations from IFACE.conf and Snikket's own
# snikket.conf, and a reload (SIGHUP) follows a change of the TURN range.
. "$(dirname "$0")/lib.sh"
setup_pair

root=$TMP/root
make -s install DESTDIR="$root" PREFIX=/usr OUT="$OUT" > "$TMP/install.log" 2>&1 ||
	fail "make install: $(tail -5 "$TMP/install.log")"
unit=$root/usr/lib/systemd/system/portwitness@.service
for f in usr/sbin/portwitness:755 usr/share/man/man8/portwitness.8:644 \
	usr/lib/systemd/system/portwitness@.service:644 \
	usr/share/doc/portwitness/example.conf:644; do
	[ -f "$root/${f%:*}" ] || fail "make install did not install /${f%:*}"
	expect "$(stat -c %a "$root/${f%:*}")" "${f#*:}" "mode of /${f%:*}"
done
grep -q 'exec /usr/sbin/portwitness watch' "$unit" || fail "the unit does not run /usr/sbin/portwitness: $(grep ExecStart "$unit")"
warnings=$(man --warnings -E UTF-8 -l "$root/usr/share/man/man8/portwitness.8" 2>&1 > /dev/null)
expect "$warnings" "" "groff warnings on portwitness(8)"

systemd-analyze verify --man=no "$unit" > "$TMP/verify.log" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$TMP/verify.log")"
systemd-analyze security --offline=true "$unit" > "$TMP/security.log" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$TMP/security.log")
[ -n "$exposure" ] || fail "no exposure level: $(tail -3 "$TMP/security.log")"
awk -v e="$exposure" 'BEGIN { exit !(e <= 2.5) }' || fail "exposure $exposure is above 2.5"
expect "$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")" "CAP_BPF CAP_NET_ADMIN CAP_PERFMON" "the unit's capabilities"

# The service as the unit starts it: the conf it reads, the capabilities
# it keeps, no new privileges.
mkdir -p "$TMP/etc" "$TMP/tf"
snikket=$TMP/etc/snikket.conf
printf 'SNIKKET_DOMAIN=chat.example\nSNIKKET_TWEAK_TURNSERVER_MIN_PORT=60000\nSNIKKET_TWEAK_TURNSERVER_MAX_PORT=60099\n' > "$snikket"
conf=$TMP/etc/$DEV_S.conf
printf '# as in /etc/portwitness/IFACE.conf\nfrom-snikket %s\ninterval 1\ntextfile %s\n' \
	"$snikket" "$TMP/tf/portwitness.prom" > "$conf"
prom=$TMP/tf/portwitness.prom
L() { echo "interface=\"$DEV_S\",service=\"snikket\",proto=\"$1\",ports=\"$2\""; }
bg "${IN_S[@]}" setpriv --no-new-privs --bounding-set=-all,+bpf,+net_admin,+perfmon \
	--inh-caps=-all -- "$PW" watch -i "$DEV_S" --conf "$conf" \
	> /dev/null 2> "$TMP/watch.err"
watch=$BG
wait_attached "$TMP/watch.err"
caps=$(awk '/^CapEff:/ { print $2 }' /proc/$watch/status)
# CAP_NET_ADMIN (12), CAP_PERFMON (38), CAP_BPF (39): nothing else.
expect "$caps" "000000c000001000" "the watch's effective capabilities"
in_client "$SEND" udp $S4 60005 60005 2 > /dev/null
in_client "$SEND" udp $S4 60150 60150 1 > /dev/null	# not declared yet
wait_metric portwitness_ports_hit "$(L udp 60000-60099)" "$prom" 1
expect "$(metric portwitness_ports_declared "$(L udp 60000-60099)" "$prom")" 100 "TURN range from snikket.conf"
expect "$(metric portwitness_ports_declared "$(L tcp 5222)" "$prom")" 1 "Snikket's XMPP port"

# The admin widens the TURN range in snikket.conf and reloads.
sed -i 's/MAX_PORT=60099/MAX_PORT=60199/' "$snikket"
kill -HUP $watch
wait_metric portwitness_ports_declared "$(L udp 60000-60199)" "$prom" 200
in_client "$SEND" udp $S4 60150 60150 1 > /dev/null
wait_metric portwitness_ports_hit "$(L udp 60000-60199)" "$prom" 2
expect "$(metric portwitness_packets_total "$(L udp 60000-60199)" "$prom")" 3 "packets after the reload (60005 twice, 60150 once declared)"
expect "$(grep -c 'ports="60000-60099"' "$prom")" 0 "the old range's series after the reload"
kill -TERM $watch
wait $watch
expect $? 0 "watch exit under the unit's capabilities"

# The unit's own ExecStart, with /etc under TMP: without IFACE.conf it
# falls back to /etc/default/portwitness.
mkdir -p "$TMP/etc/default" "$TMP/etc/portwitness"
printf 'ports fallback=7000/udp\ntextfile %s\ninterval 1\n' "$prom" > "$TMP/etc/default/portwitness"
cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed -e "s|/etc/|$TMP/etc/|g" \
	-e "s|/usr/sbin/portwitness|$PW|" -e "s|%i|$DEV_S|")
eval "bg ${IN_S[*]} $cmd" > /dev/null 2> "$TMP/unit.err"
watch=$BG
wait_attached "$TMP/unit.err"
wait_metric portwitness_ports_declared "interface=\"$DEV_S\",service=\"fallback\",proto=\"udp\",ports=\"7000\"" "$prom" 1
kill -TERM $watch
wait $watch
expect $? 0 "the unit's command, on /etc/default/portwitness"

make -s uninstall DESTDIR="$root" PREFIX=/usr OUT="$OUT" > /dev/null 2>&1 || fail "make uninstall"
expect "$(find "$root" -type f | wc -l)" 0 "files left after make uninstall"
echo "PASS $(basename "$0")"
