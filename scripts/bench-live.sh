#!/bin/sh
# Measures live capture (make bench-live): replays a generated TLS capture
# with tcpreplay from one network namespace over a veth pair and captures
# it with `tlsdiag live` in the other, through each capture path of the
# build (AF_PACKET, and libpcap when built with it), at each rate in RATES
# (Mbit/s; "top" is as fast as tcpreplay can). Prints per run: packets
# sent, received by the filter, dropped by the kernel, connections
# reported vs `read` of the same file, CPU seconds and peak RSS of
# tlsdiag. Needs root, iproute2 and tcpreplay.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
SIZE=${SIZE:-100MB}
KIND=${KIND:-handshakes}
RATES=${RATES:-500 1000 2000 top}
RUNS=${RUNS:-3}
PATHS=${PATHS:-afpacket libpcap}
dir=${DIR:-testdata/bench}
mkdir -p "$dir" bin
$GO build -o bin/tlsgen ./internal/tlsgen/cmd/tlsgen
$GO build -tags libpcap -o bin/tlsdiag ./cmd/tlsdiag 2>/dev/null || $GO build -o bin/tlsdiag ./cmd/tlsdiag
extra=""
[ "$KIND" = handshakes ] && extra=-handshakes-only
pcap="$dir/live-$KIND-$SIZE.pcap"
[ -s "$pcap" ] || ./bin/tlsgen -o "$pcap" -size "$SIZE" -seed 1 -truth "$pcap.json" -ca "$pcap.ca.pem" $extra
summary() { python3 -c 'import json, re, sys
d = json.load(open(sys.argv[1]))["summary"]
recv = drop = "?"
for n in d.get("notes", []):
    m = re.search(r"(\d+) packets received by the filter, (\d+) dropped by the kernel", n)
    if m:
        recv, drop = m.groups()
bad = sum(v["count"] for v in d.get("verdicts", []) if v["name"] == "incomplete_capture")
print(d["connections"], recv, drop, bad)' "$1"; }
./bin/tlsdiag read --format json --cacert "$pcap.ca.pem" "$pcap" >"$pcap.read.json" 2>/dev/null || true
read -r frames _ _ readbad <<EOS
$(summary "$pcap.read.json")
EOS

a=tldbench-a b=tldbench-b
cleanup() { ip netns del $a 2>/dev/null || true; ip netns del $b 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $a
ip netns add $b
ip link add tldba netns $a type veth peer name tldbb netns $b
ip -n $a link set tldba up
ip -n $b link set tldbb up
ip -n $a link set lo up
ip -n $b link set lo up

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "capture: $pcap ($(capinfos -c "$pcap" 2>/dev/null | awk '/Number of packets/ {print $4, $5}') packets); read reports $frames connections"
printf '%-9s %6s %4s %10s %10s %9s %8s %12s %11s %7s %8s\n' path rate run sent received dropped drop% connections incomplete cpu_s rss_MiB
tmp=$(mktemp -d)
for path in $PATHS; do
	if ! ./bin/tlsdiag version | grep -q "$( [ $path = libpcap ] && echo 'libpcap version' || echo AF_PACKET)"; then
		echo "$path: not in this build" >&2
		continue
	fi
	for rate in $RATES; do
		for run in $(seq 1 "$RUNS"); do
			ip netns exec $b /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" ./bin/tlsdiag live -i tldbb -f tcp --capture $path \
				--user "" --cacert "$pcap.ca.pem" --format json --handshake-timeout 2s >"$tmp/out.json" 2>"$tmp/err" &
			pid=$!
			for _ in $(seq 50); do grep -q "capturing on" "$tmp/err" 2>/dev/null && break; sleep 0.1; done
			if [ "$rate" = top ]; then speed=--topspeed; else speed="--mbps=$rate"; fi
			ip netns exec $a tcpreplay -q -i tldba $speed "$pcap" >"$tmp/replay" 2>&1 || true
			sleep 1
			# time(1) ignores SIGINT: interrupt tlsdiag, its child.
			kill -INT "$(pgrep -P $pid)" 2>/dev/null || kill -INT $pid
			wait $pid || true
			sent=$(awk '/Actual:/ {print $2}' "$tmp/replay")
			read -r conns recv drop bad <<EOS
$(summary "$tmp/out.json")
EOS
			read -r _ user sys rss <<EOS
$(tail -1 "$tmp/time")
EOS
			pct=$(awk -v d="${drop:-0}" -v r="${recv:-0}" 'BEGIN { if (r > 0) printf "%.2f", 100*d/r; else print "-" }')
			printf '%-9s %6s %4s %10s %10s %9s %8s %5s/%-6s %5s/%-5s %7.2f %8.1f\n' $path $rate $run "${sent:-?}" "${recv:-?}" "${drop:-?}" "$pct" \
				"$conns" "$frames" "$bad" "$readbad" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc -l)"
		done
	done
done
rm -rf "$tmp"
