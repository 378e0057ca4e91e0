#!/usr/bin/env bash
# Regenerates nflog-tls.pcap (run as root): iptables and ip6tables rules
# in a network namespace of their own send every TCP packet on ports 44310
# and 44311 to NFLOG group 7, and tcpdump captures the group (`-i nflog:7`,
# link type NFLOG, 239) while Go's crypto/tls completes a TLS 1.3 handshake over 127.0.0.1 and
# OpenSSL a TLS 1.2 handshake over ::1. The rules sit in OUTPUT, which both
# directions of a loopback connection cross once. Traffic stays inside the
# namespace. Needs tcpdump, iptables, openssl, iproute2 and go.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
ns=tlsdiag-nflog

cleanup() {
	kill $(jobs -p) 2>/dev/null || true
	ip netns del $ns 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 3650 -subj /CN=capture.test -addext subjectAltName=DNS:capture.test 2>/dev/null
(cd "$here/../.." && go build -o "$work/tlspeer" ./capture/testdata/tlspeer)

ip netns add $ns
ip -n $ns link set lo up
in_ns() { ip netns exec $ns "$@"; }
for ipt in iptables ip6tables; do
	in_ns $ipt -A OUTPUT -p tcp -m multiport --ports 44310,44311 -j NFLOG --nflog-group 7
done

ip netns exec $ns tcpdump -i nflog:7 -s 0 -U -w "$work/nflog-tls.pcap" 2>/dev/null &
dump=$!
sleep 1

in_ns "$work/tlspeer" -listen 127.0.0.1:44310 -cert "$work/cert.pem" -key "$work/key.pem" &
srv=$!
sleep 0.5
in_ns "$work/tlspeer" -connect 127.0.0.1:44310 -n 3000 -max 1.3
wait $srv

in_ns openssl s_server -quiet -naccept 1 -accept '[::1]:44311' -cert "$work/cert.pem" -key "$work/key.pem" </dev/null >/dev/null 2>&1 &
srv=$!
sleep 0.5
in_ns openssl s_client -tls1_2 -connect '[::1]:44311' -servername capture.test </dev/null >/dev/null 2>&1
wait $srv || true

sleep 1
kill -TERM $dump # a background job of a script ignores SIGINT
wait $dump || true
cp "$work/nflog-tls.pcap" "$here/"
chmod 644 "$here/nflog-tls.pcap"
ls -l "$here/nflog-tls.pcap"
