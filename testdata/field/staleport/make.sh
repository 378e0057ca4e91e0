#!/usr/bin/env bash
# Makes the captures of this directory (run as root; needs go, curl,
# tcpdump, iproute2 and iptables). In a network namespace of its own, on
# loopback: the Go server of lab/; a client that completes a handshake
# from a fixed port and resets the connection, a reset the namespace's
# firewall drops, so that the server still holds the connection; then a
# client connecting from the same port, captured: curl (--local-port) and
# a Go net/http client, and curl while the firewall still drops the
# client's resets. With SV naming a clone of suricata-verify, it also
# cuts windows_stale_ports.pcap from it (needs tshark). Captures go to OUT
# (default /tmp/tlsdiag-staleport).
#
#   [SV=.../suricata-verify] bash testdata/field/staleport/make.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")"
out=$(realpath -m "${1:-/tmp/tlsdiag-staleport}")
mkdir -p "$out"
work=$(mktemp -d)
ns=tlsdiag-staleport
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/lab" ./lab
ip netns add "$ns"
ip -n "$ns" link set lo up
run() { ip netns exec "$ns" "$@"; }
ip netns exec "$ns" "$work/lab" -serve 127.0.0.1:9770 -cert "$work/server.pem" &
pids+=($!)
sleep 1

# stale NAME PORT DROPPING COMMAND...: leaves the server a connection from
# 127.0.0.1:PORT the client forgot, then captures COMMAND, which connects
# from that port; with DROPPING "yes" the firewall still drops the
# client's resets, the one of the stale connection too.
stale() {
	local name=$1 port=$2 dropping=$3
	shift 3
	local rule=(OUTPUT -p tcp --sport "$port" --tcp-flags RST RST -j DROP)
	run iptables -A "${rule[@]}"
	run "$work/lab" -forget 127.0.0.1:9770 -from "$port"
	sleep 1 # the server's session tickets meet the reset rule too
	[ "$dropping" = yes ] || run iptables -D "${rule[@]}"
	ip netns exec "$ns" tcpdump -i lo -U -w "$out/$name" "tcp port $port" 2>/dev/null &
	local dump=$!
	sleep 1
	run "$@" || true
	sleep 1
	kill "$dump"
	wait "$dump" || true
	[ "$dropping" != yes ] || run iptables -D "${rule[@]}"
}
stale curl_stale_port.pcap 40770 no curl -sS -o /dev/null --local-port 40770 --cacert "$work/server.pem" https://127.0.0.1:9770/
stale go_stale_port.pcap 40771 no "$work/lab" -get https://127.0.0.1:9770/ -from 40771 -cacert "$work/server.pem"
stale curl_stale_port_resets_dropped.pcap 40772 yes curl -sS -o /dev/null --connect-timeout 4 --local-port 40772 --cacert "$work/server.pem" https://127.0.0.1:9770/
# Cut at the client's reset, before its SYN sent again.
editcap -r "$out/curl_stale_port.pcap" "$out/curl_stale_port_cut_at_reset.pcap" 1-3

# A real client's, cut from suricata-verify's capture by its client ports,
# and again before the second connection's SYN sent again (13 s in).
if [ -n "${SV:-}" ]; then
	tshark -r "$SV/tests/tls/tls-subjectaltname/input.pcap" -Y 'tcp.port in {59621, 59622}' -w "$out/windows_stale_ports.pcap" -F pcap
	editcap -r "$out/windows_stale_ports.pcap" "$out/windows_stale_ports_cut_before_retry.pcap" 1-18
fi
ls -l "$out"
