#!/usr/bin/env bash
# verify's exit codes: 0 every required range reached (an optional one may
# stay silent), 1 a required range silent, 2 usage or declaration errors,
# 3 runtime errors, each with a message that says what to do.
. "$(dirname "$0")/lib.sh"
setup_pair

# 1: one required range silent
json=$TMP/silent.json
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'a=5000/udp|8000/udp' -d 2 --json > "$json"
vpid=$BG
wait_attached
in_client "$SEND" udp $S4 5000 5000 1 >/dev/null
wait $vpid
expect $? 1 "exit code with 8000/udp silent"
expect "$(jqf '.ok' "$json")" false "ok"
expect "$(jqf '.ranges[] | select(.first==8000) | .status' "$json")" silent "8000/udp status"

# 0: plugnmeet's web and TURN ports reached (listening), its media range
# refused (nothing listens there between calls), its optional 443/udp silent
for p in 80 443 7881; do
	bg "${IN_S[@]}" socat -T 3 TCP-LISTEN:$p,fork,reuseaddr EXEC:/bin/true
done
wait_listening "$NS_S" tcp:80 tcp:443 tcp:7881
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" -p plugnmeet -d 2 > "$TMP/table.txt"
vpid=$BG
wait_attached
for p in 80 443 7881; do in_client "$SEND" tcp $S4 $p >/dev/null; done
in_client "$SEND" udp $S4 55555 55555 1 >/dev/null
wait $vpid
expect $? 0 "exit code with a media range refused and an optional range silent"
grep -q '443 .* optional .* silent' "$TMP/table.txt" || fail "table does not show 443/udp optional and silent: $(cat "$TMP/table.txt")"
grep -q '^3 of 4 required ranges reached; no-listener: plugnmeet 50000-60000/udp$' "$TMP/table.txt" || fail "table summary: $(cat "$TMP/table.txt")"
grep -q '^warning' "$TMP/table.txt" && fail "a warning for a media range: $(cat "$TMP/table.txt")"

# 2: usage and declaration errors, before anything is attached
usage() {
	local want_msg=$1
	shift
	pw "$@" > /dev/null 2> "$TMP/err"
	local rc=$?
	expect $rc 2 "exit code of: portwitness $*"
	grep -q -- "$want_msg" "$TMP/err" || fail "portwitness $*: stderr lacks '$want_msg': $(cat "$TMP/err")"
}
usage "no interface" verify -p snikket
usage "nothing declared" verify -i "$DEV_S"
usage "--ports:1: port 0 is out of range" verify -i "$DEV_S" --ports 'x=0/udp'
usage "--ports:2: unknown protocol 'icmp'" verify -i "$DEV_S" --ports 'x=1/udp' --ports 'y=1/icmp'
usage "/nonexistent:0: cannot read" verify -i "$DEV_S" -c /nonexistent
printf '[a]\nports=80/tcp\n\nports=1\n' > "$TMP/dup.ufw"
usage "dup.ufw:4: \[a\] has a second ports= line" verify -i "$DEV_S" -c "$TMP/dup.ufw"
usage "no such profile" verify -i "$DEV_S" -p jitsy
usage "--duration takes whole seconds" verify -i "$DEV_S" -p snikket --duration 0
usage "--duration takes whole seconds" verify -i "$DEV_S" -p snikket --duration 5x
usage "--mode is tc or xdp" verify -i "$DEV_S" -p snikket --mode bpf
usage "unrecognized option" verify -i "$DEV_S" -p snikket --frobnicate
usage "unexpected argument" verify -i "$DEV_S" -p snikket extra
usage "loopback" verify -i lo -p snikket
usage "not an interface name" verify -i ../../etc -p snikket
# Conf files and the services' configs name their lines, chained.
printf 'SNIKKET_TWEAK_TURNSERVER_MIN_PORT=70000\n' > "$TMP/snikket.conf"
printf '# conf\nprofile snikket\n\nfrom-snikket %s\n' "$TMP/snikket.conf" > "$TMP/a.conf"
usage "a.conf:4: $TMP/snikket.conf:1: SNIKKET_TWEAK_TURNSERVER_MIN_PORT must be a port number" verify -i "$DEV_S" -f "$TMP/a.conf"
printf 'profile snikket\ninterval 5\n' > "$TMP/b.conf"
usage "b.conf:2: 'interval' is no setting of portwitness verify" verify -i "$DEV_S" -f "$TMP/b.conf"
printf 'duration\n' > "$TMP/c.conf"
usage "c.conf:1: 'duration' needs a value" verify -i "$DEV_S" -f "$TMP/c.conf"
printf 'ports x=0/udp\n' > "$TMP/d.conf"
usage "d.conf:1: port 0 is out of range" verify -i "$DEV_S" -f "$TMP/d.conf"
printf 'interface eth0\n' > "$TMP/e.conf"
usage "e.conf:1: 'interface' is no setting" watch -i "$DEV_S" -f "$TMP/e.conf"
printf 'rtc:\n  port_range_start: 60000\n  port_range_end: 50000\n' > "$TMP/livekit.yaml"
usage "livekit.yaml:3: rtc.port_range_end is below rtc.port_range_start" verify -i "$DEV_S" --from-livekit "$TMP/livekit.yaml"
printf 'min-port=60000\nmax-port=50000\n' > "$TMP/turnserver.conf"
usage "turnserver.conf:2: min-port (60000) is above max-port (50000)" show -i "$DEV_S" --from-coturn "$TMP/turnserver.conf"
mkdir -p "$TMP/ufw"
printf '[Other]\nports=80/tcp\n' > "$TMP/ufw/other"
export PORTWITNESS_UFW_DIR=$TMP/ufw
usage "no application profile \[nope\] in $TMP/ufw" verify -i "$DEV_S" --from-ufw nope
unset PORTWITNESS_UFW_DIR
usage "--interval is whole seconds" watch -i "$DEV_S" --interval 0
usage "--heatmap draws declared ranges" show -i "$DEV_S" --heatmap
usage "--headroom sizes declared ranges" show -i "$DEV_S" --headroom
usage "three views" show -i "$DEV_S" -p snikket --headroom --json
usage "active-window is whole seconds" watch -i "$DEV_S" --active-window 0
usage "got 'x'" verify -i "$DEV_S" -p snikket --strict --duration x
usage "unknown or ambiguous command" frobnicate
usage "no profile 'x'" profiles x
expect "$(pw_filters ingress)" 0 "filters after usage errors"

# 3: runtime errors
pw verify -i nosuchdev0 -p snikket -d 1 > /dev/null 2> "$TMP/err"
expect $? 3 "exit code for a missing interface"
grep -q "no interface nosuchdev0" "$TMP/err" || fail "missing interface message: $(cat "$TMP/err")"
in_server setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$PW" verify -i "$DEV_S" -p snikket -d 1 > /dev/null 2> "$TMP/err"
expect $? 3 "exit code without privilege"
grep -q "needs root" "$TMP/err" || fail "no-privilege message: $(cat "$TMP/err")"

# A closed terminal (SIGHUP) ends a verify early, reported and detached.
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'a=5000/udp' -d 60 --json > "$TMP/hup.json"
vpid=$BG
wait_attached
in_client "$SEND" udp $S4 5000 5000 1 > /dev/null
kill -HUP $vpid
timeout 5 tail --pid=$vpid -f /dev/null || fail "verify still runs 5 s after SIGHUP"
wait $vpid
expect $? 0 "exit code of a verify ended by SIGHUP"
expect "$(jqf '.ranges[0].packets' "$TMP/hup.json")" 1 "packets before SIGHUP"
expect "$(pw_filters ingress)" 0 "filters after SIGHUP"

# 0 for help and version, the command found by a prefix
pw --version | grep -q '^portwitness [0-9]' || fail "--version"
pw verify --help | grep -q 'EXIT:' || fail "verify --help"
pw ver --help | grep -q 'usage: portwitness verify' || fail "prefix 'ver' is verify"
pw profiles snikket | grep -q '^ports=80/tcp|' || fail "profiles snikket"
echo "PASS $(basename "$0")"
