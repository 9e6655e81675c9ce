#!/usr/bin/env bash
# The conntrack window after attaching ends by itself: once conntrack's UDP
# stream timeout (+5 s) has passed, a watch sets its end to 0, however long
# its interval, so that a new flow's first packet no longer reads the
# clock; a new flow is still judged as before. The end is read from the
# pinned pw_decl, where ct_udp_until_ns follows the 131,072 16-bit port
# indexes (byte 262144, include/pw_ports.h).
. "$(dirname "$0")/lib.sh"
setup_pair
command -v bpftool > /dev/null || fail "bpftool is missing (make installs it)"
in_server sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=1 ||
	fail "cannot set the UDP stream timeout in the server namespace"

pins=/sys/fs/bpf/portwitness/$DEV_S
window_end() {	# the 8 bytes of ct_udp_until_ns, as hex
	bpftool -j map lookup pinned "$pins/pw_decl" key 0 0 0 0 |
		jq -r '.value[262144:262152] | map(ltrimstr("0x")) | join("")'
}

bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" --ports 'media=50000:50010/udp' \
	--no-textfile --interval 3600 -v > "$TMP/watch.out" 2> "$TMP/watch.err"
wait_attached "$TMP/watch.err"
grep -q "ask conntrack for the next 6 s" "$TMP/watch.err" ||
	fail "expected a conntrack window of 1 + 5 s: $(cat "$TMP/watch.err")"
open=$(window_end)
[ -n "$open" ] && [ "$open" != 0000000000000000 ] ||
	fail "the window's end is not set while it is open: '$open'"

# 6 s after attaching, plus the margin the watch wakes with.
ended=
for i in $(seq 40); do
	sleep 0.25
	[ "$(window_end)" = 0000000000000000 ] && { ended=1; break; }
done
[ -n "$ended" ] || fail "the window's end is still $(window_end) 16 s after attaching (interval 3600 s)"

# A client's datagrams are still unsolicited, the server's answer a
# remote flow's.
in_client "$SEND" udp $S4 50003 50003 3 41003 > /dev/null
expect "$(pw show -i "$DEV_S" --json | jq '[.ports[] | select(.port == 50003) | .packets] | add')" 3 \
	"a client's datagrams after the window"
