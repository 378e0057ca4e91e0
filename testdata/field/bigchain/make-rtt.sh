#!/usr/bin/env bash
# Regenerates rtt_*.pcap.gz (run as root): the "mid" chain of make.sh
# (leaf, intermediate, the system CA bundle's first 104 certificates:
# a Certificate message of about 112 KiB, which tlsdiag reads) served by openssl s_server
# in a network namespace behind a veth pair whose server side sends at
# 2 Mbit/s, so that the client's refusal reaches the server while the
# message is still being sent; tcpdump on the client's end of the veth.
# Needs iproute2 (tc), openssl, curl and tcpdump. CI does not run it; see
# README.md.
#
#   bash testdata/field/bigchain/make-rtt.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
S=bigchainS
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip netns del $S 2>/dev/null || true
	ip link del bch 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns del $S 2>/dev/null || true
ip link del bch 2>/dev/null || true
ip netns add $S
ip -n $S link set lo up
ip link add bch type veth peer name bcs netns $S
ip addr add 10.79.0.1/24 dev bch
ip -n $S addr add 10.79.0.2/24 dev bcs
ip link set bch up
ip -n $S link set bcs up
# The server's side sends at 2 Mbit/s (a token bucket): its flight takes
# most of a second, and the client's refusal reaches it meanwhile.
ip netns exec $S tc qdisc add dev bcs root tbf rate 2mbit burst 16kb latency 2s
cd "$work"

ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
ec root.key; ec int.key; ec leaf.key
openssl req -x509 -new -key root.key -subj "/CN=Big Chain Field Root CA" -days 3650 -out root.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -new -key int.key -subj "/CN=Big Chain Field Intermediate CA" -out int.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -extfile int.ext -out int.pem
openssl req -new -key leaf.key -subj "/CN=big.test" -out leaf.csr
printf 'subjectAltName=DNS:big.test,IP:10.79.0.2\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 825 -extfile leaf.ext -out leaf.pem
cp int.pem chain.pem
awk '/BEGIN CERT/{n++} n && n <= 104' /etc/ssl/certs/ca-certificates.crt >>chain.pem

ip netns exec $S openssl s_server -accept 10.79.0.2:8725 -tls1_2 -cert leaf.pem -key leaf.key -cert_chain chain.pem -www -quiet &
pids+=($!)
sleep 1

run() { # name command...
	local name=$1; shift
	tcpdump -i bch -s 0 -U -w "$here/$name.pcap" "tcp port 8725" 2>/dev/null &
	local dump=$!
	sleep 1
	echo "== $name: $*"
	timeout 20 "$@" </dev/null 2>&1 | tail -n 3 || true
	sleep 1
	kill $dump; wait $dump 2>/dev/null || true
	gzip -9 -n -f "$here/$name.pcap"
}
run rtt_curl curl -sS --cacert root.pem --resolve big.test:8725:10.79.0.2 https://big.test:8725/
