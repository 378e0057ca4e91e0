#!/bin/sh
# Captures a few refused TCP connections on an NFLOG interface (link type 239) inside a
# network namespace of its own, for make.sh to merge with an Ethernet
# capture. Needs root, ip, iptables (NFLOG target), tcpdump, bash (/dev/tcp).
set -eu
cd "$(dirname "$0")"
NS=tlsdiag-nflog
ip netns add $NS
trap 'kill $TCPDUMP 2>/dev/null; ip netns del $NS' EXIT
ip -n $NS link set lo up
ip netns exec $NS iptables -A OUTPUT -o lo -j NFLOG --nflog-group 5
ip netns exec $NS tcpdump -q -i nflog:5 -w nflog.cap 2>/dev/null &
TCPDUMP=$!
sleep 1
for i in 1 2 3; do ip netns exec $NS bash -c "echo > /dev/tcp/127.0.0.1/9" 2>/dev/null || true; done
sleep 1
