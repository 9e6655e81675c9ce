#!/usr/bin/env bash
# make bench, part 2: the cost on the wire. A veth pair between two
# namespaces of our own (198.18.9.0/24); wire_gen sends from one, pinned to
# CPU 0; the other receives, its packets steered to CPU 1 (RPS), where the
# observers run too. So what CPU 1 spends (precise idle time from
# /proc/stat) is the receiver's cost: softirq plus the observer's own
# process. It is divided by the generator's own CPU per packet in the same
# run, since this machine's speed drifts.
#
# Observers, interleaved (the order turns every round): none, portwitness
# tc, portwitness xdp, the bench's minimal TC port counter (wire_ref),
# tcpdump counting per port with a port filter (into awk), nftables per-port
# counters (a dynamic set with counters). Workloads: media at a fixed rate
# and at the maximum rate, its flows opened and answered once before the
# clock starts, as a call server answers them: at a fixed rate delivered
# to the media sockets of wire_sink, as on a call server; at the maximum
# rate with nothing listening (every packet dropped, as while the media
# service is down). Spray at the maximum rate, to ports nothing listens
# on, as a scan or flood.
#
# Prints a table and "result wire.*" lines for run.sh. Bounded: every run
# lasts BENCH_WIRE_S seconds (default 5).
set -u
if [ -z "${PW_WIRE_PRIVATE_MNT:-}" ]; then
	export PW_WIRE_PRIVATE_MNT=1
	exec unshare --mount --propagation private bash "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { echo "wire: cannot mount a private bpffs" >&2; exit 1; }

OUT=${OUT:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PW=$ROOT/$OUT/portwitness
GEN=$ROOT/$OUT/bench/wire_gen
SINK=$ROOT/$OUT/bench/wire_sink
REF=$ROOT/$OUT/bench/wire_ref
RUN_S=${BENCH_WIRE_S:-5}
ROUNDS=${BENCH_WIRE_ROUNDS:-3}
FIXED_PPS=${BENCH_WIRE_PPS:-200000}
read -r -a OBSERVERS <<< "${BENCH_WIRE_OBSERVERS:-none pw_tc pw_xdp ref_tc tcpdump nft}"
G=pwwG$$
R=pwwR$$
TMP=$(mktemp -d /tmp/pwwire.XXXXXX)
PIDS=()
DECLS=(--ports 'media=50000:60000/udp' --ports 'web=443/tcp' --ports 'rtc=7881/tcp')

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$G" 2>/dev/null
	ip netns del "$R" 2>/dev/null
	[ -n "$STATS_WAS" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	rm -rf "$TMP"
}
STATS_WAS=
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(nproc)" -lt 2 ]; then
	echo "wire: needs two CPUs (sender and receiver apart)" >&2
	exit 1
fi
IN_R=(nsenter --net="/run/netns/$R")
# The kernel's own time per BPF program run: what the observer's programs
# spend per packet on this wire, beside the busy time of the whole
# receiving CPU, whose spread over runs is wider than the differences
# between BPF observers. The accounting reads the clock twice around every
# program run (about 70 ns a run on this VM), so it is on only for a
# second run of its own after the timed one (kernel.bpf_stats_enabled,
# off while the busy time is taken, restored at exit).
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled) && sysctl -qw kernel.bpf_stats_enabled=0 ||
	{ echo "wire: cannot set kernel.bpf_stats_enabled" >&2; exit 1; }
STATS_S=1
ip netns add "$G" && ip netns add "$R" || exit 1
ip link add wg0 netns "$G" type veth peer name wr0 netns "$R" || exit 1
ip -n "$G" addr add 198.18.9.2/24 dev wg0
ip -n "$R" addr add 198.18.9.1/24 dev wr0
ip netns exec "$G" sysctl -qw net.ipv6.conf.wg0.disable_ipv6=1 2>/dev/null
ip netns exec "$R" sysctl -qw net.ipv6.conf.wr0.disable_ipv6=1 2>/dev/null
ip -n "$G" link set wg0 up
ip -n "$R" link set wr0 up
ip -n "$R" link set lo up
ip netns exec "$R" sh -c 'echo 2 > /sys/class/net/wr0/queues/rx-0/rps_cpus' ||
	{ echo "wire: cannot steer wr0's packets to CPU 1" >&2; exit 1; }
# Nothing but the generator's frames may arrive on wr0 during a run, so
# that what an observer counts compares with wr0's rx_packets: no IPv6
# (router solicitations, MLD), and a permanent neighbour entry, so that the
# receiver's RSTs and port-unreachables need no ARP.
for ns in "$G" "$R"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$R" neigh replace 198.18.9.2 lladdr 02:00:00:00:00:01 dev wr0 nud permanent
# portwitness asks conntrack about unknown UDP flows for conntrack's UDP
# stream timeout after attaching; with 1 s that window closes 6 s after
# attaching, and spray measures the steady state after it.
"${IN_R[@]}" sh -c 'echo 1 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream' 2>/dev/null
CT_WINDOW_S=6.5
MAC=$(ip -n "$R" -j link show wr0 | jq -r '.[0].address')
GMAC=$(ip -n "$G" -j link show wg0 | jq -r '.[0].address')

rx_packets() { ip netns exec "$R" cat /sys/class/net/wr0/statistics/rx_packets; }
# The highest BPF program id now; and the run time (ns) of the observers'
# programs (pw_*, ref_*) loaded after that id.
prog_id_max() { bpftool -j prog show | jq '[.[].id] | max // 0'; }
prog_ns() { bpftool -j prog show | jq --argjson min "$1" '[.[] | select(.id > $min and (.name // "" | test("^(pw_|ref_)"))) | .run_time_ns // 0] | add // 0'; }
# "NOW_NS IDLE0 IDLE1": idle + iowait of each CPU, in USER_HZ ticks.
cpu_idle() {
	awk -v t="$(date +%s%N)" '/^cpu0 / { a = $5 + $6 } /^cpu1 / { b = $5 + $6 }
		END { print t, a, b }' /proc/stat
}

bg() { "$@" & BG=$!; PIDS+=("$BG"); }

wait_for() {	# wait_for SECONDS COMMAND...: until COMMAND succeeds
	local i n=$(( $1 * 10 ))
	shift
	for i in $(seq "$n"); do "$@" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

pw_attached() { [ "$("${IN_R[@]}" "$PW" show -i wr0 --json 2>/dev/null | jq -r .attached)" = true ]; }

OBS_PID= TCPDUMP_AWK=
observer_start() {	# OBS WORKLOAD
	case $1 in
	pw_tc|pw_xdp)
		bg "${IN_R[@]}" taskset -c 1 "$PW" watch -i wr0 --mode "${1#pw_}" "${DECLS[@]}" \
			--no-textfile --interval 3600 > "$TMP/obs.out" 2> "$TMP/obs.err"
		OBS_PID=$BG
		wait_for 10 pw_attached || { echo "wire: portwitness did not attach: $(cat "$TMP/obs.err")" >&2; exit 1; }
		[ "$2" = spray ] && sleep "$CT_WINDOW_S"
		;;
	ref_tc)
		bg "${IN_R[@]}" taskset -c 1 "$REF" wr0 > "$TMP/obs.out" 2> "$TMP/obs.err"
		OBS_PID=$BG
		wait_for 10 grep -q ready "$TMP/obs.out" || { echo "wire: wire_ref: $(cat "$TMP/obs.err")" >&2; exit 1; }
		;;
	tcpdump)
		rm -f "$TMP/fifo"; mkfifo "$TMP/fifo"
		# What an admin would type: a port filter, per-port counts.
		# (Started directly, not through bg: the fifo is opened by the
		# child, never by this shell.)
		taskset -c 1 awk '{ p = $5; sub(/:$/, "", p); n = split(p, a, "."); c[a[n]]++; t++ }
			END { print "counted", t + 0; print "ports", length(c) }' < "$TMP/fifo" > "$TMP/obs.out" &
		TCPDUMP_AWK=$!
		PIDS+=("$TCPDUMP_AWK")
		"${IN_R[@]}" taskset -c 1 tcpdump -i wr0 -nn -q -l \
			'udp dst portrange 50000-60000 or tcp dst port 443 or tcp dst port 7881' \
			> "$TMP/fifo" 2> "$TMP/obs.err" &
		OBS_PID=$!
		PIDS+=("$OBS_PID")
		wait_for 10 grep -q 'listening on' "$TMP/obs.err" || { echo "wire: tcpdump: $(cat "$TMP/obs.err")" >&2; exit 1; }
		;;
	nft)
		"${IN_R[@]}" nft -f - <<'NFT' || { echo "wire: nft failed" >&2; exit 1; }
table inet pwbench {
	set udp_ports { type inet_service; size 65536; flags dynamic; counter; }
	set tcp_ports { type inet_service; size 65536; flags dynamic; counter; }
	chain in {
		type filter hook input priority 0;
		udp dport 50000-60000 update @udp_ports { udp dport }
		tcp dport { 443, 7881 } update @tcp_ports { tcp dport }
	}
}
NFT
		;;
	esac
}

# Stops OBS and sets COUNT to what it counted ("-" for none). Not run in
# a subshell: it must wait for its own children.
observer_stop() {
	local set n
	case $1 in
	none) COUNT=- ;;
	pw_tc|pw_xdp)
		# Every frame, also those without a port (none are expected).
		COUNT=$("${IN_R[@]}" "$PW" show -i wr0 --json | jq '([.ports[] | (.packets // 0) + (.replies // 0) + (.unclassified // 0)] | add // 0) + ([.stats | .fragments, .malformed, .not_ip, .other_l4] | add)')
		kill -TERM "$OBS_PID"; wait "$OBS_PID" 2>/dev/null
		"${IN_R[@]}" "$PW" detach -i wr0 > /dev/null 2>&1
		;;
	ref_tc)
		kill -TERM "$OBS_PID"; wait "$OBS_PID" 2>/dev/null
		COUNT=$(awk '$1 == "counted" { print $2 }' "$TMP/obs.out")
		;;
	tcpdump)
		kill -INT "$OBS_PID"; wait "$OBS_PID" 2>/dev/null
		wait "$TCPDUMP_AWK" 2>/dev/null
		COUNT=$(awk '$1 == "counted" { print $2 }' "$TMP/obs.out")
		;;
	nft)
		COUNT=0
		for set in udp_ports tcp_ports; do
			n=$("${IN_R[@]}" nft -j list set inet pwbench $set |
				jq '[.nftables[] | .set? | select(.) | .elem[]? | .elem.counter.packets] | add // 0')
			COUNT=$((COUNT + n))
		done
		"${IN_R[@]}" nft delete table inet pwbench
		;;
	esac
	[ -n "$COUNT" ] || { echo "wire: $1 said nothing of its count" >&2; exit 1; }
}

DATA=$TMP/data
: > "$DATA"
measure() {	# WORKLOAD PPS ROUND OBS
	local w=$1 pps=$2 round=$3 obs=$4 rxs rx0 rx1 rx2 rx3 t0 a0 b0 t1 a1 b1 sent secs gcpu pmin p0=0 p1=0
	pmin=$(prog_id_max)
	observer_start "$obs" "$w"
	rxs=$(rx_packets)	# what the observer may count from here on
	SINK_PID=
	if [ "$w" = media ]; then
		# A call server's media sockets on the flows' ports (wire_gen's
		# layout: 50000, 50020, ... 59980), on the receiving CPU. At
		# the maximum rate they would starve there (and overflow, or
		# not, from one run to the next): that run has no listener.
		if [ "$pps" != 0 ]; then
			bg "${IN_R[@]}" taskset -c 1 "$SINK" 198.18.9.1 50000 20 500 $((RUN_S + 30)) > "$TMP/sink.out"
			SINK_PID=$BG
			wait_for 10 grep -q ready "$TMP/sink.out" || { echo "wire: wire_sink did not bind its ports" >&2; exit 1; }
		fi
		# The flows: opened by the clients, answered by the server
		# once, before the clock starts.
		ip netns exec "$G" "$GEN" wg0 "$MAC" 198.18.9.2 198.18.9.1 media-open 0 1 > /dev/null &&
		ip netns exec "$R" "$GEN" wr0 "$GMAC" 198.18.9.1 198.18.9.2 media-answer 0 1 > /dev/null ||
			{ echo "wire: opening the media flows failed" >&2; exit 1; }
		sleep 0.2	# what the answers stir up settles first
	fi
	rx0=$(rx_packets); read -r t0 a0 b0 < <(cpu_idle)
	ip netns exec "$G" taskset -c 0 "$GEN" wg0 "$MAC" 198.18.9.2 198.18.9.1 "$w" "$pps" "$RUN_S" > "$TMP/gen.out" ||
		{ echo "wire: wire_gen failed" >&2; exit 1; }
	rx1=$(rx_packets); read -r t1 a1 b1 < <(cpu_idle)
	rx2=$rx1 rx3=$rx1
	case $obs in
	pw_*|ref_*)
		sysctl -qw kernel.bpf_stats_enabled=1
		p0=$(prog_ns "$pmin"); rx2=$(rx_packets)
		ip netns exec "$G" taskset -c 0 "$GEN" wg0 "$MAC" 198.18.9.2 198.18.9.1 "$w" "$pps" "$STATS_S" > /dev/null ||
			{ echo "wire: wire_gen failed" >&2; exit 1; }
		rx3=$(rx_packets); p1=$(prog_ns "$pmin")
		sysctl -qw kernel.bpf_stats_enabled=0
		;;
	esac
	observer_stop "$obs"
	if [ -n "$SINK_PID" ]; then
		kill -TERM "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
	fi
	sent=$(awk '$1 == "sent" { print $2 }' "$TMP/gen.out")
	secs=$(awk '$1 == "seconds" { print $2 }' "$TMP/gen.out")
	gcpu=$(awk '$1 == "cpu_ns" { print $2 }' "$TMP/gen.out")
	# busy ns of CPU 1 (receiver) and of both = wall - idle
	awk -v w="$w" -v pps="$pps" -v r="$round" -v o="$obs" -v rx=$((rx1 - rx0)) -v seen=$((rx3 - rxs)) -v sent="$sent" \
	    -v secs="$secs" -v gcpu="$gcpu" -v wall=$((t1 - t0)) -v i0=$((a1 - a0)) -v i1=$((b1 - b0)) \
	    -v hz="$(getconf CLK_TCK)" -v count="$COUNT" -v prog=$((p1 - p0)) -v prx=$((rx3 - rx2)) 'BEGIN {
		tick = 1e9 / hz
		busy1 = wall - i1 * tick; if (busy1 < 0) busy1 = 0
		busy0 = wall - i0 * tick; if (busy0 < 0) busy0 = 0
		rcv = busy1 / rx; all = (busy0 + busy1) / rx; gen = gcpu / sent
		bpf = (o ~ /^(pw_|ref_)/ && prx > 0) ? sprintf("%.1f", prog / prx) : "-"
		printf "%s %s %d %s %.0f %.1f %.1f %.1f %.4f %s %s\n", w, pps, r, o, rx / secs,
		       rcv, all, gen, rcv / gen, count == "-" ? "-" : sprintf("%.6f", count / seen), bpf
	}' >> "$DATA"
}

COMBOS=("media $FIXED_PPS" "media 0" "spray 0")
for combo in "${COMBOS[@]}"; do
	read -r w pps <<< "$combo"
	for round in $(seq "$ROUNDS"); do
		n=${#OBSERVERS[@]}
		for k in $(seq 0 $((n - 1))); do
			measure "$w" "$pps" "$round" "${OBSERVERS[$(( (k + round - 1) % n ))]}"
		done
	done
done

# Medians over the rounds; per round, the receiver's CPU per packet
# relative to no observer's in the same round.
awk -v fixed="$FIXED_PPS" -v s="$RUN_S" -v stats_s="$STATS_S" -v rounds="$ROUNDS" -v observers="${OBSERVERS[*]}" '
function median(arr, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && arr[j - 1] > arr[j]; j--) { t = arr[j]; arr[j] = arr[j - 1]; arr[j - 1] = t }
	return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
{ key = $1 " " $2; obs[$4] = 1; combo[key] = 1
  pps[key, $4, $3] = $5; rcv[key, $4, $3] = $6; all[key, $4, $3] = $7; rel[key, $4, $3] = $9; share[key, $4, $3] = $10
  prog[key, $4, $3] = $11 }
END {
	nobs = split(observers, O, " ")
	split("media " fixed " media 0 spray 0", C, " ")
	for (c = 1; c <= 5; c += 2) {
		key = C[c] " " C[c + 1]
		printf "\n%s at %s, %s, %d runs of %d s each (medians):\n", C[c],
		       C[c + 1] == 0 ? "the maximum rate" : C[c + 1] " packets/s",
		       C[c + 1] == 0 ? "nothing listening" : "delivered to the media sockets", rounds, s
		printf "%-8s %12s %10s %10s %9s %9s %9s %9s %8s\n", "observer", "received/s", "rcv ns/pk", "all ns/pk", "rcv/gen", "vs none", "counted", "bpf ns/pk", "bpf pts"
		for (i = 1; i <= nobs; i++) {
			o = O[i]
			for (r = 1; r <= rounds; r++) {
				a[r] = pps[key, o, r]; b[r] = rcv[key, o, r]; d[r] = all[key, o, r]; e[r] = rel[key, o, r]
				f[r] = (rel[key, "none", r] > 0) ? (rel[key, o, r] / rel[key, "none", r] - 1) * 100 : 0
				g[r] = share[key, o, r] == "-" ? -1 : share[key, o, r]
				x[r] = rcv[key, o, r] - rcv[key, "none", r]
				nn[r] = rcv[key, "none", r]
				# The run time of the programs, in points of no
				# observer receive CPU per packet in the round.
				h[r] = prog[key, o, r] == "-" ? -1 : prog[key, o, r]
				q[r] = h[r] < 0 || nn[r] <= 0 ? -1 : h[r] / nn[r] * 100
			}
			mh = median(h, rounds); mq = median(q, rounds)
			mp = median(a, rounds); mb = median(b, rounds); md = median(d, rounds); me = median(e, rounds)
			mf = median(f, rounds); mx = median(x, rounds)
			lo = 2; for (r = 1; r <= rounds; r++) if (g[r] < lo) lo = g[r]
			printf "%-8s %12.0f %10.1f %10.1f %9.3f %+8.1f%% %9s %9s %8s\n", o, mp, mb, md, me, mf,
			       lo < 0 ? "-" : sprintf("%.2f%%", lo * 100),
			       mh < 0 ? "-" : sprintf("%.1f", mh), mq < 0 ? "-" : sprintf("%+.1f", mq)
			tag = C[c] (C[c + 1] == 0 ? "_max" : "_fixed")
			printf "result wire.%s.%s.points %.2f\n", tag, o, mf > "/dev/stderr"
			printf "result wire.%s.%s.extra_ns %.1f\n", tag, o, mx > "/dev/stderr"
			printf "result wire.%s.%s.pps %.0f\n", tag, o, mp > "/dev/stderr"
			if (mq >= 0) {
				printf "result wire.%s.%s.bpf_ns %.1f\n", tag, o, mh > "/dev/stderr"
				printf "result wire.%s.%s.bpf_points %.2f\n", tag, o, mq > "/dev/stderr"
			}
			if (lo >= 0) printf "result wire.%s.%s.min_share %.6f\n", tag, o, lo > "/dev/stderr"
		}
		# What this combination can resolve: the spread of no observer
		# over the rounds.
		mn = 1e18; mxn = 0
		for (r = 1; r <= rounds; r++) { if (nn[r] < mn) mn = nn[r]; if (nn[r] > mxn) mxn = nn[r] }
		pct = (mn > 0) ? (mxn - mn) / mn * 100 : 0
		printf "spread of no observer over the rounds: %.0f ns/packet (%.0f%%)\n", mxn - mn, pct
		printf "result wire.%s.noise_ns %.1f\n", tag, (mxn - mn) > "/dev/stderr"
		printf "result wire.%s.noise_pct %.1f\n", tag, pct > "/dev/stderr"
	}
	printf "result wire.fixed_pps %d\n", fixed > "/dev/stderr"
	print "\nrcv: CPU 1 (softirq + observer) per packet received; all: both CPUs;"
	print "rcv/gen: that over the generator'"'"'s own CPU per packet; vs none: rcv/gen"
	print "against no observer in the same round; counted: the least share of"
	print "the packets that reached wr0 that the observer counted, over the rounds;"
	print "bpf ns/pk: the kernel'"'"'s run time of the observer'"'"'s BPF programs per"
	print "packet received, from a second run of " stats_s " s with kernel.bpf_stats_enabled"
	print "on (off in the timed run: its clock reads cost every program run),"
	print "including that accounting'"'"'s own cost; bpf pts: that in points of no"
	print "observer'"'"'s receive CPU per packet in the same round."
}' "$DATA" 2> "$TMP/results"
cat "$TMP/results"	# the "result" lines, after the table
