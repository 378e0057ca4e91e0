#!/usr/bin/env bash
# Regenerates the bridge captures in this directory (run as root): two
# network namespaces joined by a Linux bridge, a client and a server, and the
# host capturing every packet twice, on the bridge port it came in by and on
# the one it left by:
#
#   bridge-any.pcap      tcpdump -i any (Linux cooked v2: the interface index
#                        in each header)
#   bridge-ports.pcapng  dumpcap on both bridge ports (two interfaces; dumpcap
#                        writes a few packets of one before the other's)
#
# Each holds three connections: a TLS 1.3 handshake curl completes, one it
# aborts (unknown CA), and SYNs to a port the server drops (curl gives up after
# 3.5 s). Traffic stays inside the namespaces. Needs iproute2, iptables,
# tcpdump, dumpcap (wireshark-common), openssl and curl.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
nsA=tlsdiag-brA
nsB=tlsdiag-brB
br=tlsdiag-br0

cleanup() {
	ip netns del $nsA 2>/dev/null || true
	ip netns del $nsB 2>/dev/null || true
	ip link del $br 2>/dev/null || true
	kill $(jobs -p) 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" \
	-days 3650 -subj "/CN=Bridge Test CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/leaf.csr" \
	-subj /CN=bridge.test 2>/dev/null
printf 'subjectAltName=DNS:bridge.test\n' > "$work/ext.cnf"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
	-out "$work/cert.pem" -days 3650 -extfile "$work/ext.cnf" 2>/dev/null

ip netns add $nsA
ip netns add $nsB
ip link add $br type bridge
ip link set $br up
for ns in A B; do
	ip link add brv$ns type veth peer name brv$ns-port
	ip link set brv$ns netns tlsdiag-br$ns
	ip link set brv$ns-port master $br up
done
ip -n $nsA addr add 10.77.0.1/24 dev brvA
ip -n $nsB addr add 10.77.0.2/24 dev brvB
for ns in $nsA $nsB; do
	ip -n $ns link set lo up
	ip -n $ns link set brv${ns#tlsdiag-br} up
done
ip netns exec $nsA iptables -A INPUT -p tcp --dport 8445 -j DROP
ip netns exec $nsA openssl s_server -accept 10.77.0.1:8443 -cert "$work/cert.pem" -key "$work/key.pem" \
	-www -quiet >/dev/null 2>&1 &
sleep 1

# run CAPTURER...: runs the three connections while CAPTURER writes.
run() {
	"$@" >/dev/null 2>&1 &
	local cap=$!
	sleep 2
	ip netns exec $nsB curl -s --cacert "$work/ca.pem" --connect-to bridge.test:8443:10.77.0.1:8443 \
		https://bridge.test:8443/ -o /dev/null || true
	ip netns exec $nsB curl -s --connect-to bridge.test:8443:10.77.0.1:8443 \
		https://bridge.test:8443/ -o /dev/null || true
	ip netns exec $nsB curl -s --connect-timeout 3.5 https://10.77.0.1:8445/ -o /dev/null || true
	sleep 2
	kill -INT $cap
	wait $cap || true
}
run tcpdump -i any -y LINUX_SLL2 -w "$here/bridge-any.pcap" 'tcp port 8443 or tcp port 8445'
run dumpcap -q -i brvA-port -i brvB-port -f 'tcp port 8443 or tcp port 8445' -w "$here/bridge-ports.pcapng"
chmod 644 "$here/bridge-any.pcap" "$here/bridge-ports.pcapng"
