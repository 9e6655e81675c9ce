#!/usr/bin/env bash
# portwitness probe, from the client namespace and unprivileged: the token
# line first, the plan on stderr before anything is sent, each declared
# port (or an even sample, both ends included) sent to once per protocol,
# no faster than the rate asked, TCP results as the server answers them;
# the server's verify counts exactly the ports probed. It refuses to send
# without a HOST or to a group address.
. "$(dirname "$0")/lib.sh"
setup_pair
bg "${IN_S[@]}" socat -T 3 TCP-LISTEN:5222,fork,reuseaddr EXEC:/bin/true
wait_listening "$NS_S" tcp:5222
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

json=$TMP/verify.json
bg "${IN_S[@]}" "$PW" verify -i "$DEV_S" --ports 'xmpp=5222/tcp|5269/tcp' \
	--ports 'turn=49152:65535/udp' --ports 'dup=5222/tcp' -d 5 --json > "$json"
vpid=$BG
wait_attached
out=$TMP/probe.out
in_client "${NOBODY[@]}" "$PW" probe $S4 --ports 'xmpp=5222/tcp|5269/tcp' \
	--ports 'turn=49152:65535/udp' --ports 'dup=5222/tcp' --sample 5 --rate 500 \
	--token tok-1 --json > "$out" 2> "$TMP/probe.err"
expect $? 0 "probe exit code"
expect "$(head -1 "$out")" "token tok-1" "the first line of stdout"
grep -q "^portwitness: probing $S4 ($S4): 5 UDP datagrams of 24 bytes and 2 TCP connection attempts, 500 per second" \
	"$TMP/probe.err" || fail "the plan: $(cat "$TMP/probe.err")"
grep -q "turn 49152-65535/udp: 5 of 16384 ports (sampled)" "$TMP/probe.err" || fail "the plan of the sampled range: $(cat "$TMP/probe.err")"
grep -q "dup 5222/tcp: 0 of 1 port (the others under an earlier range)" "$TMP/probe.err" ||
	fail "the plan of a port declared twice: $(cat "$TMP/probe.err")"
sed -n 2p "$out" > "$TMP/probe.json"
expect "$(jqf '.token' "$TMP/probe.json")" tok-1 "JSON token"
expect "$(jqf '.sent | length' "$TMP/probe.json")" 7 "JSON: ports sent to"
expect "$(jqf '[.sent[] | select(.proto=="udp") | .port] | join(",")' "$TMP/probe.json")" \
	49152,53248,57344,61439,65535 "JSON: the sample, both ends included"
expect "$(jqf '[.sent[] | select(.proto=="udp") | .result] | unique | join(",")' "$TMP/probe.json")" sent "JSON: UDP results"
expect "$(jqf '.sent[] | select(.port==5222) | .result' "$TMP/probe.json")" connected "JSON: 5222/tcp with a listener"
expect "$(jqf '.sent[] | select(.port==5269) | .result' "$TMP/probe.json")" refused "JSON: 5269/tcp without one"
wait $vpid
expect "$(jqf '.ranges[] | select(.service=="turn") | .hit_ports | join(",")' "$json")" \
	49152,53248,57344,61439,65535 "verify: the ports probed"
expect "$(jqf '.ranges[] | select(.service=="turn") | .packets' "$json")" 5 "verify: one datagram each"
expect "$(jqf '.ranges[] | select(.service=="turn") | .bytes' "$json")" $((5 * (20 + 8 + 24))) "verify: datagram size"
expect "$(jqf '.ranges[] | select(.first==5269) | .status' "$json")" no-listener "verify: 5269/tcp"

# The rate holds: 200 datagrams at 100 per second take 2 s at least.
t0=$(date +%s%N)
in_client "${NOBODY[@]}" "$PW" probe $S6 --ports 'r=40000:40199/udp' --rate 100 > "$TMP/rate.out" 2>&1 ||
	fail "probe at a rate: $(cat "$TMP/rate.out")"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -ge 1950 ] || fail "200 datagrams at 100/s took $(( (t1 - t0) / 1000000 )) ms"
grep -q '^token [0-9a-f]\{16\}$' "$TMP/rate.out" || fail "a random token: $(head -2 "$TMP/rate.out")"
grep -q '^r 40000-40199/udp: 200 datagrams sent$' "$TMP/rate.out" || fail "the text result: $(cat "$TMP/rate.out")"

refused() {
	local want=$1
	shift
	in_client "${NOBODY[@]}" "$PW" probe "$@" > "$TMP/ref.out" 2> "$TMP/ref.err"
	expect $? 2 "exit code of: probe $*"
	grep -q -- "$want" "$TMP/ref.err" || fail "probe $*: stderr lacks '$want': $(cat "$TMP/ref.err")"
	[ -s "$TMP/ref.out" ] && fail "probe $*: printed on stdout when refusing: $(cat "$TMP/ref.out")"
	return 0
}
refused "no HOST" --ports 'x=5000/udp'
refused "no single host" 224.0.0.1 --ports 'x=5000/udp'
refused "no single host" :: --ports 'x=5000/udp'
refused "nothing declared" $S4
refused "token is 1 to 16" $S4 --ports 'x=5000/udp' --token 'a b'
refused "rate takes" $S4 --ports 'x=5000/udp' --rate 0
echo "PASS $(basename "$0")"
