#!/usr/bin/env bash
# The textfile as Prometheus sees it: a real node_exporter (Debian's
# prometheus-node-exporter) serves every portwitness family with
# node_textfile_scrape_error 0 after real traffic, and a real Prometheus
# server scraping it answers a query with the count the test sent. Both
# listen on the server namespace's loopback only.
. "$(dirname "$0")/lib.sh"
setup_pair
for b in prometheus prometheus-node-exporter curl; do
	command -v $b > /dev/null || fail "$b missing (make deps installs Debian's prometheus, prometheus-node-exporter, curl)"
done

dir=$TMP/textfiles
mkdir -p "$dir"
prom=$dir/portwitness.prom
L() { echo "interface=\"$DEV_S\",service=\"$1\",proto=\"$2\",ports=\"$3\""; }

bg "${IN_S[@]}" "$PW" watch -i "$DEV_S" -p snikket --ports 'media=50000:50199/udp' \
	--textfile "$prom" --interval 1 > /dev/null 2> "$TMP/watch.err"
wait_attached "$TMP/watch.err"
in_client "$SEND" udp $S4 50000 50006 2 > /dev/null
in_client "$SEND" udp $S4 3478 3478 4 > /dev/null
wait_metric portwitness_ports_hit "$(L media udp 50000-50199)" "$prom" 7
wait_metric portwitness_packets_total "$(L snikket udp 3478-3479)" "$prom" 4

bg "${IN_S[@]}" prometheus-node-exporter --web.listen-address=127.0.0.1:19100 \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$dir" > "$TMP/node.log" 2>&1
scrape=$TMP/scrape.txt
for i in $(seq 50); do
	in_server curl -sf http://127.0.0.1:19100/metrics > "$scrape" 2>/dev/null && break
	sleep 0.1
done
[ -s "$scrape" ] || fail "node_exporter did not answer: $(tail -5 "$TMP/node.log")"
expect "$(awk '$1 == "node_textfile_scrape_error" { print $2 }' "$scrape")" 0 "node_textfile_scrape_error"
for f in portwitness_packets_total portwitness_replies_total portwitness_bytes_total \
	portwitness_ports_declared portwitness_ports_hit \
	portwitness_last_packet_timestamp_seconds portwitness_port_packets_total \
	portwitness_fragments_total portwitness_malformed_total \
	portwitness_last_export_timestamp_seconds portwitness_info; do
	grep -q "^# TYPE $f " "$scrape" || fail "node_exporter does not serve $f"
	grep -q "^$f{" "$scrape" || fail "node_exporter serves no sample of $f"
done
expect "$(awk -v w="portwitness_port_packets_total{interface=\"$DEV_S\",port=\"3478\",ports=\"3478-3479\",proto=\"udp\",service=\"snikket\"}" '$1 == w { print $2 }' "$scrape")" 4 "3478 through node_exporter"

cat > "$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:19100']
YML
bg "${IN_S[@]}" prometheus --config.file="$TMP/prometheus.yml" \
	--storage.tsdb.path="$TMP/tsdb" --web.listen-address=127.0.0.1:19090 \
	> "$TMP/prometheus.log" 2>&1
# Bounded: Prometheus starts, scrapes, and the query answers (30 s).
got=
for i in $(seq 150); do
	got=$(in_server curl -sf http://127.0.0.1:19090/api/v1/query \
		--data-urlencode 'query=portwitness_ports_hit{ports="50000-50199"}' 2>/dev/null |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	[ -n "$got" ] && break
	sleep 0.2
done
[ -n "$got" ] || fail "Prometheus gave no answer within 30 s: $(tail -5 "$TMP/prometheus.log")"
expect "$got" 7 "portwitness_ports_hit{ports=\"50000-50199\"} through Prometheus"
got=$(in_server curl -sf http://127.0.0.1:19090/api/v1/query \
	--data-urlencode "query=portwitness_packets_total{interface=\"$DEV_S\",service=\"snikket\",ports=\"3478-3479\",proto=\"udp\"}" |
	jq -r '.data.result[0].value[1] // empty')
expect "$got" 4 "portwitness_packets_total of 3478-3479/udp through Prometheus"
echo "PASS $(basename "$0")"
