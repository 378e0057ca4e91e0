#!/usr/bin/env bash
# Makes the captures of this directory (run as root; needs go, curl,
# tcpdump and tshark). The lab captures: the Go server of lab/ on
# loopback, holding each ClientHello for a while before it answers, and a
# Go client that cancels its request, a Go client whose Client.Timeout
# runs out, and curl with a 50 ms --max-time. The browser captures are
# cut from nDPI's test captures (see README.md) when NDPI names the
# directory that holds them (tests/cfgs/default/pcap of a clone of
# https://github.com/ntop/nDPI). Captures go to OUT (default
# /tmp/tlsdiag-abandon).
#
#   [NDPI=.../nDPI/tests/cfgs/default/pcap] bash testdata/field/abandon/make.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")"
out=$(realpath -m "${1:-/tmp/tlsdiag-abandon}")
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/lab" ./lab
"$work/lab" -serve 127.0.0.1:9760 -delay 200ms &
pids+=($!)
"$work/lab" -serve 127.0.0.1:9761 -delay 1s &
pids+=($!)
sleep 1

# capture NAME PORT COMMAND...: tcpdump on lo around one client run.
capture() {
	local name=$1 port=$2
	shift 2
	tcpdump -i lo -U -w "$out/$name" "tcp port $port" 2>/dev/null &
	local dump=$!
	sleep 1
	"$@" || true
	sleep 1.5 # the server's late answer and the resets that meet it
	kill "$dump"
	wait "$dump" || true
}
capture go_request_cancelled.pcap 9760 "$work/lab" -get https://127.0.0.1:9760/ -cancel 20ms
capture go_timeout_300ms.pcap 9761 "$work/lab" -get https://127.0.0.1:9761/ -timeout 300ms
capture curl_max_time_50ms.pcap 9760 curl -sk --max-time 0.05 -o /dev/null https://127.0.0.1:9760/

# The browsers' extra connections, cut from nDPI's captures by their
# client ports (tshark -w keeps the frames' bytes and times).
if [ -n "${NDPI:-}" ]; then
	cut() { tshark -r "$NDPI/$1" -Y "$3" -w "$out/$2" -F pcap; }
	cut reddit.pcap chrome_reddit_spares.pcap 'tcp.port in {56562, 56566, 56568, 56570, 56572}'
	cut reddit.pcap chrome_reddit_spare_after_hello.pcap 'tcp.port == 56580'
	cut pinterest.pcap chrome_pinterest_spares.pcap 'tcp.port in {38514, 38516, 38518, 38520, 38522}'
	cut android.pcap chrome_android_spares.pcap 'tcp.port in {32998, 43634}'
fi
ls -l "$out"
