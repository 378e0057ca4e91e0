#!/bin/sh
# Measures live capture (make bench-live): replays a generated TLS capture
# from one network namespace over a veth pair and captures it with
# `tlsdiag live` in the other, through each capture path of the build
# (AF_PACKET with each fan-out in FANOUTS, and libpcap when built with
# it), at each rate in RATES (Mbit/s; "max" is as fast as the sender can),
# RUNS times each. Prints per run: the rate reached, packets sent,
# received by the filter, dropped by the kernel, connections reported
# against the capture's truth and how many of them have the truth's
# verdict, CPU seconds and peak RSS of tlsdiag, CPU seconds of the
# sender; then, per path, fan-out and rate, the best and the median run.
# Needs root and iproute2.
#
# BUFFER sets tlsdiag's kernel ring in KiB (-B); unset, its default.
#
# SENDER chooses the sender: replay (internal/replay: the capture in
# memory, sent through an AF_PACKET transmit ring, paced by a token
# bucket; the rate reached is the interface's byte counter over the time
# sending took) or tcpreplay (one sendto per packet; the rate it reports).
#
# The capture's certificates are valid today (tlsgen -start), so that live
# judges the replayed packets as read judges the file.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
SIZE=${SIZE:-100MB}
KIND=${KIND:-handshakes}
RATES=${RATES:-500 1000 2000 max}
SENDER=${SENDER:-replay}
# The sender runs at a higher priority than tlsdiag: traffic from a
# network comes at its own pace, however busy the receiver is.
NICE=${NICE:--10}
RUNS=${RUNS:-3}
PATHS=${PATHS:-afpacket libpcap}
FANOUTS=${FANOUTS:-1 2}
BUFFER=${BUFFER:-}
dir=${DIR:-testdata/bench}
mkdir -p "$dir" bin
$GO build -o bin/tlsgen ./internal/tlsgen/cmd/tlsgen
case $SENDER in
replay) $GO build -o bin/replay ./internal/replay/cmd/replay ;;
tcpreplay) command -v tcpreplay >/dev/null || { echo "SENDER=tcpreplay: tcpreplay is not installed" >&2; exit 1; } ;;
*) echo "SENDER=$SENDER: replay or tcpreplay" >&2; exit 2 ;;
esac
$GO build -tags libpcap -o bin/tlsdiag ./cmd/tlsdiag 2>/dev/null || $GO build -o bin/tlsdiag ./cmd/tlsdiag
extra=""
[ "$KIND" = handshakes ] && extra=-handshakes-only
day=$(date -u +%Y-%m-%d)
pcap="$dir/live-$KIND-$SIZE-$day.pcap"
[ -s "$pcap" ] || ./bin/tlsgen -o "$pcap" -size "$SIZE" -seed 1 -start "${day}T00:00:00Z" -truth "$pcap.json" -ca "$pcap.ca.pem" $extra

# score OUT.json: connections reported, received, dropped, the truth's
# connections reported with the truth's verdict, incomplete_capture.
score() { python3 - "$1" "$pcap.json" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("? ? ? ? ? ?"); sys.exit()
truth = {(c["client"], c["server"]): c["category"] for c in json.load(open(sys.argv[2]))["connections"] if c["category"]}
got = {(c["client"], c["server"]): c["verdict"]["category"] for c in d["connections"]}
# A connection that began before the capture has its roles guessed: live,
# which decides early, may guess them the other way round.
same = sum(1 for k, v in truth.items() if got.get(k, got.get((k[1], k[0]))) == v)
cap = d.get("capture", {})
bad = sum(v["count"] for v in d["summary"].get("verdicts", []) if v["name"] == "incomplete_capture")
print(d["summary"]["connections"], cap.get("received", "?"), cap.get("dropped", "?"), same, len(truth), bad)
EOF
}

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
echo "sender: $SENDER"
echo "capture: $pcap ($(capinfos -c "$pcap" 2>/dev/null | awk '/Number of packets/ {print $4, $5}') packets, $(python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(len(t["connections"]) - t["ignored"])' "$pcap.json") connections in its truth)"
printf '%-9s %3s %6s %6s %4s %10s %10s %9s %7s %13s %10s %7s %8s %8s %s\n' path fan rate Mbit/s run sent received dropped drop% 'same/truth' incomplete cpu_s rss_MiB send_cpu load
tmp=$(mktemp -d)
rows=$tmp/rows
for path in $PATHS; do
	if ! ./bin/tlsdiag version | grep -q "$( [ $path = libpcap ] && echo 'libpcap version' || echo AF_PACKET)"; then
		echo "$path: not in this build" >&2
		continue
	fi
	fans=$FANOUTS
	[ $path = libpcap ] && fans=1
	for fan in $fans; do
		for rate in $RATES; do
			for run in $(seq 1 "$RUNS"); do
				load=$(cut -d' ' -f1 /proc/loadavg)
				# The previous run's start line must not start the replay.
				rm -f "$tmp/err"
				ip netns exec $b /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" ./bin/tlsdiag live -i tldbb -f tcp --capture $path --fanout $fan ${BUFFER:+-B $BUFFER} \
					--user "" --cacert "$pcap.ca.pem" --format json --handshake-timeout 2s >"$tmp/out.json" 2>"$tmp/err" &
				pid=$!
				for _ in $(seq 50); do grep -q "capturing on" "$tmp/err" 2>/dev/null && break; sleep 0.1; done
				case $rate in top | max) mbit=0 ;; *) mbit=$rate ;; esac
				if [ "$SENDER" = replay ]; then
					ip netns exec $a nice -n "$NICE" ./bin/replay -i tldba -rate "$mbit" "$pcap" >"$tmp/replay" 2>&1 || true
					field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$tmp/replay"; }
					sent=$(field frames)
					# The rate reached: the interface's bytes over the
					# time the sending took, reading the capture not
					# counted; so is the sender's CPU.
					mbps=$(field if_mbps | awk '{printf "%.0f", $1}')
					scpu=$(field cpu_s)
				else
					if [ "$mbit" = 0 ]; then speed=--topspeed; else speed="--mbps=$mbit"; fi
					ip netns exec $a nice -n "$NICE" /usr/bin/time -f '%U %S' -o "$tmp/stime" tcpreplay -q --preload-pcap -i tldba $speed "$pcap" >"$tmp/replay" 2>&1 || true
					sent=$(awk '/Actual:/ {print $2}' "$tmp/replay")
					# The rate tcpreplay reached: on a busy machine less than asked.
					mbps=$(awk '/Rated:/ {printf "%.0f", $4}' "$tmp/replay")
					read -r suser ssys <<EOS
$(tail -1 "$tmp/stime")
EOS
					scpu=$(echo "${suser:-0} + ${ssys:-0}" | bc)
				fi
				sleep 1
				# time(1) ignores SIGINT: interrupt tlsdiag, its child.
				kill -INT "$(pgrep -P $pid)" 2>/dev/null || kill -INT $pid
				wait $pid || true
				read -r conns recv drop same truth bad <<EOS
$(score "$tmp/out.json")
EOS
				read -r _ user sys rss <<EOS
$(tail -1 "$tmp/time")
EOS
				if [ "${drop:-0}" = 0 ] && [ "$same" != "$truth" ]; then
					# No packet lost, yet a verdict differs: keep the output.
					keep="$dir/live-mismatch-$path-$fan-$rate-$run.json"
					cp "$tmp/out.json" "$keep"
					echo "run $run: $same of $truth with the truth's verdict and no drop; output kept in $keep" >&2
				fi
				pct=$(awk -v d="${drop:-0}" -v r="${recv:-0}" 'BEGIN { if (r > 0) printf "%.3f", 100*d/r; else print "-" }')
				cpu=$(echo "$user + $sys" | bc)
				mib=$(echo "scale=1; $rss / 1024" | bc -l)
				printf '%-9s %3s %6s %6s %4s %10s %10s %9s %7s %6s/%-6s %10s %7.2f %8.1f %8.2f %s\n' $path $fan $rate "${mbps:-?}" $run "${sent:-?}" "${recv:-?}" "${drop:-?}" "$pct" \
					"$same" "$truth" "$bad" "$cpu" "$mib" "$scpu" "$load"
				echo "$path $fan $rate ${mbps:-0} $drop $pct $same $truth $cpu $mib $scpu" >>"$rows"
			done
		done
	done
done
echo
echo "best and median of $RUNS runs (rate reached: highest / median; drops: fewest / median; same verdict as the truth: most / median; RSS: least / median):"
python3 - "$rows" <<'EOF'
import sys, statistics
groups = {}
for line in open(sys.argv[1]):
    path, fan, rate, mbps, drop, pct, same, truth, cpu, mib, scpu = line.split()
    groups.setdefault((path, fan, rate), []).append((float(mbps), int(drop) if drop.isdigit() else None,
        float(pct) if pct != "-" else None, int(same) if same.isdigit() else 0, truth, float(cpu), float(mib), float(scpu)))
med = lambda xs: statistics.median_low(xs) if xs else "?"
print("%-9s %3s %6s %15s %13s %19s %21s %15s %13s %15s" % ("path", "fan", "rate", "Mbit/s reached", "dropped", "drop %", "same verdict", "cpu_s", "rss_MiB", "sender cpu_s"))
for (path, fan, rate), rs in groups.items():
    mb = sorted((r[0] for r in rs), reverse=True)
    drops = sorted(r[1] for r in rs if r[1] is not None)
    pcts = sorted(r[2] for r in rs if r[2] is not None)
    sames = sorted((r[3] for r in rs), reverse=True)
    cpus = sorted(r[5] for r in rs)
    mibs = sorted(r[6] for r in rs)
    scpus = sorted(r[7] for r in rs)
    print("%-9s %3s %6s %6.0f / %-6.0f %5s / %-5s %8s / %-8s %6s / %-6s of %-5s %5.2f / %-5.2f %5.1f / %-5.1f %5.2f / %-5.2f" % (path, fan, rate,
        mb[0], med(sorted(mb)), drops[0] if drops else "?", med(drops),
        "%.3f" % pcts[0] if pcts else "?", "%.3f" % med(pcts) if pcts else "?",
        sames[0], med(sorted(sames)), rs[0][4], cpus[0], med(cpus), mibs[0], med(mibs), scpus[0], med(scpus)))
EOF
rm -rf "$tmp"
