#!/usr/bin/env bash
# Regenerates the real captures in this directory (run as root):
#
#   bash capture/testdata/make-captures.sh
#
# Traffic goes only over loopback and over a veth pair between two network
# namespaces this script creates and removes. Needs tcpdump, openssl,
# editcap and mergecap (wireshark-common), iproute2 and go.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
nsA=tlsdiag-capA
nsB=tlsdiag-capB

cleanup() {
	ip netns del $nsA 2>/dev/null || true
	ip netns del $nsB 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:4096 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 3650 -subj /CN=capture.test -addext subjectAltName=DNS:capture.test 2>/dev/null
(cd "$here/../.." && go build -o "$work/tlspeer" ./capture/testdata/tlspeer)
peer=$work/tlspeer

# capture NETNS IFACE OUT TCPDUMP-ARGS -- COMMAND...: runs COMMAND while
# tcpdump writes OUT.
capture() {
	local ns=$1 iface=$2 out=$3
	shift 3
	local args=()
	while [ "$1" != "--" ]; do args+=("$1"); shift; done
	shift
	local run=()
	[ -n "$ns" ] && run=(ip netns exec "$ns")
	"${run[@]}" tcpdump -i "$iface" -s 0 -U -w "$work/$out" "${args[@]}" 2>/dev/null &
	local dump=$!
	sleep 1
	"$@"
	sleep 1
	kill -INT $dump
	wait $dump || true
	cp "$work/$out" "$here/$out"
}

go_pair() { # NS-SERVER NS-CLIENT ADDR N MAX
	local srvns=() clins=()
	[ -n "$1" ] && srvns=(ip netns exec "$1")
	[ -n "$2" ] && clins=(ip netns exec "$2")
	"${srvns[@]}" "$peer" -listen "$3" -cert "$work/cert.pem" -key "$work/key.pem" &
	local s=$!
	sleep 0.5 # a client faster than the listener would add a refused attempt
	"${clins[@]}" "$peer" -connect "$3" -n "$4" -max "$5"
	wait $s
}

openssl_pair() { # NS-SERVER NS-CLIENT HOST PORT
	local srvns=() clins=()
	[ -n "$1" ] && srvns=(ip netns exec "$1")
	[ -n "$2" ] && clins=(ip netns exec "$2")
	"${srvns[@]}" openssl s_server -quiet -naccept 1 -accept "$3:$4" -cert "$work/cert.pem" -key "$work/key.pem" </dev/null >/dev/null 2>&1 &
	local s=$!
	sleep 0.5
	"${clins[@]}" openssl s_client -tls1_2 -connect "$3:$4" -servername capture.test </dev/null >/dev/null 2>&1
	wait $s || true
}

# Loopback, Ethernet link type: TLS 1.2, OpenSSL on both ends.
capture "" lo lo-tls12-openssl.pcap tcp port 44301 -- openssl_pair "" "" 127.0.0.1 44301
# IPv6 loopback, Go on both ends (TLS 1.3).
capture "" lo lo6-tls13-go.pcap tcp port 44302 -- go_pair "" "" "[::1]:44302" 3000 1.3
# The 'any' pseudo-interface: Linux cooked v2 headers.
capture "" any any-sll2-tls13-go.pcap -y LINUX_SLL2 tcp port 44303 -- go_pair "" "" 127.0.0.1:44303 3000 1.3

# The 'any' pseudo-interface again, a datagram first: a UDP query to a port
# where nothing listens (answered by ICMP port unreachable), then TLS 1.2.
udp_then_openssl_pair() { # HOST UDP-PORT TLS-PORT
	echo query >"/dev/udp/$1/$2"
	sleep 0.2
	openssl_pair "" "" "$1" "$3"
}
capture "" any any-sll2-udp-tls12-openssl.pcap -y LINUX_SLL2 udp port 44353 or icmp or tcp port 44306 -- udp_then_openssl_pair 127.0.0.1 44353 44306

# Two namespaces joined by a veth pair with MTU 576: the ClientHello (with
# an ML-KEM key share) and the server's flight span several segments.
ip netns add $nsA
ip netns add $nsB
ip link add capA netns $nsA type veth peer name capB netns $nsB
ip -n $nsA addr add 10.231.0.1/24 dev capA
ip -n $nsB addr add 10.231.0.2/24 dev capB
for ns in $nsA $nsB; do
	ip -n $ns link set lo up
done
# gso_max_segs 1: no segmentation offload, so that tcpdump sees the
# segments that go on the wire rather than 64 KB super-segments.
ip -n $nsA link set dev capA mtu 576 gso_max_segs 1 up
ip -n $nsB link set dev capB mtu 576 gso_max_segs 1 up
capture $nsA capA veth576-tls13-go.pcap tcp port 44304 -- go_pair $nsB $nsA 10.231.0.2:44304 20000 1.3
capture $nsA capA veth576-tls12-openssl.pcap tcp port 44305 -- openssl_pair $nsB $nsA 10.231.0.2 44305

# Derived files.
mergecap -F pcapng -w two-interfaces.pcapng lo-tls12-openssl.pcap any-sll2-tls13-go.pcap
# Started mid-connection: without the three-way handshake.
editcap -F pcap -r veth576-tls13-go.pcap midstream.pcap 4-100000
gzip -9 -n -c veth576-tls12-openssl.pcap >veth576-tls12-openssl.pcap.gz
ls -l "$here"/*.pcap "$here"/*.pcapng "$here"/*.gz
echo "now run: go test ./capture -run TestRealCapturesGolden -update, and read the diff" >&2
