#!/usr/bin/env bash
# Makes the captures of this directory (run as root): real TLS between
# namespaces, captured the ways people capture on real hosts. See
# README.md for what each one shows. Needs go, iproute2, iptables, tcpdump,
# dumpcap/editcap (Wireshark), nginx, openssl, curl and ethtool.
# CI does not run it. Captures go to OUT (default /tmp/tlsdiag-shapes).
#
#   bash testdata/field/shapes/make.sh [OUT]
#
# Network: namespaces shpA (clients), shpB (nginx, "the container") and
# shpH ("the Docker host": bridge shpbr0, NAT), veths shp*, 10.85.0.0/24,
# 10.86.0.0/24, fd85::/64, ports 9600-9699.
set -euo pipefail
cd "$(dirname "$0")"
out=$(realpath -m "${1:-/tmp/tlsdiag-shapes}")
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	for n in shpA shpB shpH; do ip netns del $n 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
for n in shpA shpB shpH; do ip netns del $n 2>/dev/null || true; ip netns add $n; ip -n $n link set lo up; done
A() { ip netns exec shpA "$@"; }
B() { ip netns exec shpB "$@"; }
H() { ip netns exec shpH "$@"; }

# Docker-like host shpH: the server's namespace shpB hangs off bridge
# shpbr0 (10.85.0.0/24) by veth shpb0/shpb1; the client's namespace shpA
# reaches shpH by veth shpa0/shpa1 (10.86.0.0/24). Ports 9600-9602 of
# 10.86.0.1 are published: DNAT to 10.85.0.2:9610-9612, and MASQUERADE
# into the bridge, so the connection has other addresses and ports on
# each side of the NAT.
H ip link add shpbr0 type bridge
H ip link set shpbr0 up
H ip addr add 10.85.0.1/24 dev shpbr0
H ip link add shpb1 type veth peer name shpb0 netns shpB
H ip link set shpb1 master shpbr0 up
B ip addr add 10.85.0.2/24 dev shpb0
B ip link set shpb0 up
B ip route add default via 10.85.0.1
H ip link add shpa1 type veth peer name shpa0 netns shpA
H ip addr add 10.86.0.1/24 dev shpa1
H ip link set shpa1 up
A ip addr add 10.86.0.2/24 dev shpa0
A ip link set shpa0 up
A ip route add 10.85.0.0/24 via 10.86.0.1
H sysctl -qw net.ipv4.ip_forward=1
for i in 0 1 2; do
	H iptables -t nat -A PREROUTING -p tcp -d 10.86.0.1 --dport 960$i -j DNAT --to-destination 10.85.0.2:961$i
done
H iptables -t nat -A POSTROUTING -o shpbr0 -s 10.86.0.0/24 -j MASQUERADE

# A direct link shpv0 (shpA) / shpv1 (shpB) for IPv6, with link-local
# and global addresses inside fd85::/64. (VLAN devices, tc's vlan action
# and bridge VLAN filtering are all missing from the kernel these were
# made on, so there is no capture with a real 802.1Q tag here.)
A ip link add shpv0 type veth peer name shpv1 netns shpB
A ip link set shpv0 up
B ip link set shpv1 up
A ip addr add fd85::10:a/112 dev shpv0 nodad
B ip addr add fd85::10:b/112 dev shpv1 nodad
sleep 2 # link-local addresses

# Certificates: a root, two 4096-bit intermediates (a chain of ~5 KB, so
# the server's flight is several MTUs), a leaf for every address used;
# an untrusted root and its leaf.
c=$work/certs
mkdir -p "$c"
cd "$c"
san="subjectAltName=DNS:shapes.test,IP:10.86.0.1,IP:10.85.0.2,IP:fd85::10:b,IP:fd85::85:b"
ossl() { openssl "$@" 2>/dev/null; }
ca() { # name subject [issuer]
	ossl req -newkey rsa:4096 -nodes -keyout $1.key -subj "/CN=$2" -out $1.csr
	if [ -z "${3:-}" ]; then
		ossl x509 -req -in $1.csr -signkey $1.key -days 3650 -extfile <(echo "basicConstraints=critical,CA:true"; echo "keyUsage=keyCertSign,cRLSign") -out $1.pem
	else
		ossl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -days 3650 -extfile <(echo "basicConstraints=critical,CA:true"; echo "keyUsage=keyCertSign,cRLSign") -out $1.pem
	fi
}
leaf() { # name issuer
	ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $1.key -subj "/CN=shapes.test" -out $1.csr
	ossl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial -days 825 -extfile <(echo "$san"; echo "extendedKeyUsage=serverAuth") -out $1.pem
}
ca root "Shapes Root CA"
ca int1 "Shapes Intermediate 1" root
ca int2 "Shapes Intermediate 2" int1
leaf leaf int2
cat leaf.pem int2.pem int1.pem >chain.pem
ca uroot "Untrusted Root CA"
leaf uleaf uroot
cat uleaf.pem >uchain.pem
cd - >/dev/null
cp "$c/root.pem" "$out/root.pem"

# nginx in shpB: 9610 good, 9611 an untrusted CA, 9612 TLS 1.3 only; the
# same on the IPv6 addresses.
mkdir -p "$work/nginx"
srv() { # port cert key extra
	cat <<EON
server {
	listen 10.85.0.2:$1 ssl; listen [::]:$1 ssl;
	ssl_certificate $c/$2; ssl_certificate_key $c/$3; ${4:-ssl_protocols TLSv1.2 TLSv1.3;}
	location / { return 200 "ok\n"; }
}
EON
}
{
	echo "pid $work/nginx/pid; error_log $work/nginx/error.log info; daemon off; events {}"
	echo "http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;"
	srv 9610 chain.pem leaf.key
	srv 9611 uchain.pem uleaf.key
	srv 9612 chain.pem leaf.key "ssl_protocols TLSv1.3;"
	echo "}"
} >"$work/nginx/nginx.conf"
B nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)
(cd client && go build -o "$work/goclient" .)
sleep 1

# The three attempts of a shape: good, untrusted CA, version mismatch
# (curl at TLS 1.2 at most against the TLS 1.3-only server), with curl or
# the Go client (CLIENT=go).
three() { # host port-base(960 or 961) [client]
	local h=$1 p=$2 cl=${3:-curl} u
	for i in 0 1 2; do
		u="https://$h:$p$i/"
		case $cl in
		curl) local o=(); [ $i = 2 ] && o=(--tls-max 1.2)
			A curl -sS -m 5 --cacert "$c/root.pem" "${o[@]}" "$u" || true ;;
		go) local o=(); [ $i = 2 ] && o=(-max12)
			A "$work/goclient" -roots "$c/root.pem" "${o[@]}" "$u" || true ;;
		esac
		sleep 0.3
	done
}

# cap NS FILE ARGS...: tcpdump in NS writing FILE until stopcap.
tpid=
cap() {
	local ns=$1 f=$2
	shift 2
	ip netns exec $ns tcpdump --immediate-mode -U -s 0 -w "$out/$f" "$@" 2>"$work/tcpdump.err" &
	tpid=$!
	local i
	for i in $(seq 50); do grep -q listening "$work/tcpdump.err" && break; sleep 0.1; done
	sleep 0.3
}
stopcap() { sleep 0.5; kill -INT $tpid; wait $tpid || true; }

# 1. tcpdump -i any on the Docker-like host: each packet on shpa1 before
# the NAT, and on shpbr0 and its port shpb1 after it (Linux cooked v2).
cap shpH any_nat_curl.pcap -i any "tcp portrange 9600-9699"
three 10.86.0.1 960
stopcap
cap shpH any_nat_go.pcap -i any "tcp portrange 9600-9699"
three 10.86.0.1 960 go
stopcap
# The same with the cooked v1 headers of tcpdump before 4.99 (-y
# LINUX_SLL), which do not say the interface.
cap shpH any_sll1_curl.pcap -y LINUX_SLL -i any "tcp portrange 9600-9699"
three 10.86.0.1 960
stopcap
# Only the bridge and its port, no NAT in view: every packet twice.
cap shpH any_bridge_curl.pcap -i any "tcp portrange 9610-9619"
three 10.86.0.1 960
stopcap

# 2. On the sending host with offloads: tcpdump in the server's namespace
# on its veth, TSO/GSO and checksum offload on (veth's default): the
# server's flight leaves as one segment larger than the MTU, and its
# checksums are left for the "hardware". Then GRO on the client's veth,
# captured there: the receiver's kernel joins segments before tcpdump.
B ethtool -k shpb0 | grep -E '^(tcp-segmentation-offload|generic-segmentation-offload|tx-checksumming):' >"$out/offload-server.txt"
cap shpB tso_server_curl.pcap -i shpb0 "tcp portrange 9610-9612"
three 10.86.0.1 960
stopcap
A ethtool -K shpa0 gro on
H ethtool -K shpa1 tso on gso on
A ethtool -k shpa0 | grep -E '^(generic-receive-offload):' >"$out/offload-client.txt"
cap shpA gro_client_curl.pcap -i shpa0 "tcp portrange 9600-9602"
three 10.86.0.1 960
stopcap

# 3. One direction only: a filter on the client's address (what leaves
# the client), and only the server's side; then a capture started after
# the handshakes of long connections (the client waits before its
# request, through openssl s_client).
cap shpA src_client_curl.pcap -i shpa0 "src host 10.86.0.2 and tcp portrange 9600-9602"
three 10.86.0.1 960
stopcap
cap shpA src_server_curl.pcap -i shpa0 "src host 10.86.0.1 and tcp portrange 9600-9602"
three 10.86.0.1 960
stopcap
( (sleep 2; printf 'GET / HTTP/1.1\r\nHost: shapes.test\r\n\r\n'; sleep 1) | A openssl s_client -quiet -connect 10.86.0.1:9600 -CAfile "$c/root.pem" >/dev/null 2>&1 || true ) &
sp=$!
sleep 1
cap shpA midconn_openssl.pcap -i shpa0 "tcp portrange 9600-9602"
wait $sp || true
stopcap

# 4. IPv6: global and link-local addresses.
ll=$(B ip -6 addr show dev shpv1 scope link | awk '/inet6/{print $2}' | cut -d/ -f1)
cap shpA ipv6_curl.pcap -i shpv0 "tcp portrange 9610-9612"
three "[fd85::10:b]" 961
A curl -sS -m 5 -k -g "https://[$ll%shpv0]:9610/" || true
stopcap

# IPv4 fragments: the client sends without don't-fragment (path MTU
# discovery off, as some hosts and VPN clients run), and shpH routes into
# a bridge whose MTU is 576 while both ends have 1500 (so the MSS does not
# shrink): the Go client's 1.4 KB ClientHello (X25519MLKEM768 key share)
# is fragmented by shpH on its way in and reaches the server in pieces.
A sysctl -qw net.ipv4.ip_no_pmtu_disc=1
H ip link set shpbr0 mtu 576
cap shpB frag_go.pcap -i shpb0 "tcp portrange 9610-9612 or (ip[6:2] & 0x1fff != 0)"
three 10.86.0.1 960 go
stopcap
H ip link set shpbr0 mtu 1500
A sysctl -qw net.ipv4.ip_no_pmtu_disc=0

# 5. dumpcap on two interfaces of the Docker-like host (the client's link
# before the NAT and the bridge after it): pcapng with an interface
# description block each, nanosecond timestamps, a capture comment; then
# editcap's conversions of it.
ip netns exec shpH dumpcap -q -i shpa1 -i shpbr0 -f "tcp portrange 9600-9699" --capture-comment "shapes: client link and bridge" -w "$out/dumpcap_two_if.pcapng" 2>"$work/tcpdump.err" &
tpid=$!
sleep 2
three 10.86.0.1 960
stopcap
# A frame comment, as Wireshark's "Packet Comment" writes one.
editcap -a "1:first SYN, before the NAT" "$out/dumpcap_two_if.pcapng" "$out/dumpcap_two_if_commented.pcapng"
# tcpdump's nanosecond pcap (-i any: cooked v2), and editcap's other
# pcap flavours of it.
cap shpH any_nano.pcap --time-stamp-precision=nano -i any "tcp portrange 9600-9699"
three 10.86.0.1 960
stopcap
editcap -F modpcap "$out/any_nano.pcap" "$out/any_modpcap.pcap"
editcap -F nsecpcap "$out/dumpcap_two_if.pcapng" "$out/dumpcap_two_if_nsec.pcap" || true
ls -l "$out"
