#!/usr/bin/env bash
# Regenerates the ICMP captures in this directory (run as root): a client,
# a router and a server, each in a network namespace of its own, joined by
# two veth pairs; tcpdump on the client's interface, as a user captures on
# the client. Needs iproute2, iptables, tcpdump, curl and openssl.
#
#   bash testdata/field/icmp/make.sh [CAPTURE.pcap...]
#
# Names given: only those captures are written (the others are left as
# they are; each run's addresses, ports and timing differ).
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
only=" $* "
work=$(mktemp -d)
C=icmpC R=icmpR S=icmpS
servers=()
cleanup() {
	[ ${#servers[@]} -eq 0 ] || kill "${servers[@]}" 2>/dev/null || true
	for ns in $C $R $S; do ip netns del $ns 2>/dev/null || true; done
	rm -rf "$work" /etc/netns/$C
}
trap cleanup EXIT
for ns in $C $R $S; do ip netns del $ns 2>/dev/null || true; done

for ns in $C $R $S; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add vc netns $C type veth peer name rc netns $R
ip link add vs netns $S type veth peer name rs netns $R
ip -n $C addr add 10.61.1.2/24 dev vc
ip -n $C addr add fd61:1::2/64 dev vc nodad
ip -n $R addr add 10.61.1.1/24 dev rc
ip -n $R addr add fd61:1::1/64 dev rc nodad
ip -n $R addr add 10.61.2.1/24 dev rs
ip -n $R addr add fd61:2::1/64 dev rs nodad
ip -n $S addr add 10.61.2.2/24 dev vs
ip -n $S addr add fd61:2::2/64 dev vs nodad
for l in "$C vc" "$R rc" "$R rs" "$S vs"; do set -- $l; ip -n $1 link set $2 up; done
ip -n $C route add default via 10.61.1.1
ip -n $C -6 route add default via fd61:1::1
ip -n $S route add default via 10.61.2.1
ip -n $S -6 route add default via fd61:2::1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 3650 -subj /CN=icmp.test 2>/dev/null
ip netns exec $S openssl s_server -quiet -accept 443 -cert "$work/cert.pem" -key "$work/key.pem" -www </dev/null >/dev/null 2>&1 &
servers+=($!)
sleep 0.5

# capture OUT FILTER -- COMMAND...: runs COMMAND while tcpdump writes OUT
# in the client's namespace (or NS's on IFACE, when set).
capture() {
	local out=$1 filter=$2
	shift 3
	[ "$only" = "  " ] || [[ $only == *" $out "* ]] || return 0
	ip netns exec "${NS:-$C}" tcpdump -i "${IFACE:-vc}" -s 0 -U -w "$work/$out" "$filter" 2>/dev/null &
	local dump=$!
	sleep 1
	"$@" || true
	sleep 1
	kill -INT $dump
	wait $dump || true
	cp "$work/$out" "$here/$out"
}
curl_to() { ip netns exec $C curl -sS -m 8 -k "https://$1/" -o /dev/null; }

# The server's host rejects port 443 as firewalld does (icmp-host-prohibited).
ip netns exec $S iptables -A INPUT -p tcp --dport 443 -j REJECT --reject-with icmp-host-prohibited
capture server_rejects_host_prohibited.pcap 'tcp or icmp' -- curl_to 10.61.2.2
ip netns exec $S iptables -F
# … with iptables' default REJECT (port unreachable).
ip netns exec $S iptables -A INPUT -p tcp --dport 443 -j REJECT
capture server_rejects_port_unreachable.pcap 'tcp or icmp' -- curl_to 10.61.2.2
ip netns exec $S iptables -F
# … over IPv6, as firewalld rejects there (icmp6-adm-prohibited).
ip netns exec $S ip6tables -A INPUT -p tcp --dport 443 -j REJECT --reject-with icmp6-adm-prohibited
capture server_rejects_adm_prohibited6.pcap 'tcp or icmp6' -- curl_to '[fd61:2::2]'
ip netns exec $S ip6tables -F
# The router's firewall rejects port 443 to the server.
ip netns exec $R iptables -A FORWARD -p tcp --dport 443 -j REJECT --reject-with icmp-admin-prohibited
capture router_rejects_admin_prohibited.pcap 'tcp or icmp' -- curl_to 10.61.2.2
ip netns exec $R iptables -F
# No host has the address on the server's link: the router's ARP fails.
capture router_host_unreachable.pcap 'tcp or icmp' -- curl_to 10.61.2.99
# The router has no route to the server's network.
capture router_net_unreachable.pcap 'tcp or icmp' -- curl_to 10.61.9.9
# A routing loop between the router and the server's host: the SYN's TTL
# runs out.
ip -n $R route add 10.61.8.0/24 via 10.61.2.2
ip -n $S route add 10.61.8.0/24 via 10.61.2.1
ip netns exec $S sysctl -qw net.ipv4.ip_forward=1
capture routing_loop_time_exceeded.pcap 'tcp or icmp' -- curl_to 10.61.8.8
ip netns exec $S sysctl -qw net.ipv4.ip_forward=0
# The router's link to the client has an MTU of 1000 (the client's own
# interface keeps 1500, so it asks for full-size segments), and the
# server's host drops the
# router's "fragmentation needed" after tcpdump saw it: its 4096-bit RSA
# certificate's full-size segments never get through. Captured on the
# server's interface.
openssl req -x509 -newkey rsa:4096 -nodes -keyout "$work/big-key.pem" -out "$work/big-cert.pem" \
	-days 3650 -subj /CN=icmp.test 2>/dev/null
ip netns exec $S openssl s_server -quiet -accept 8443 -cert "$work/big-cert.pem" -key "$work/big-key.pem" -www </dev/null >/dev/null 2>&1 &
servers+=($!)
sleep 0.5
ip -n $R link set rc mtu 1000
ip -n $S link set vs gso_max_segs 1 # segments as they go on the wire
ip netns exec $S iptables -A INPUT -p icmp --icmp-type fragmentation-needed -j DROP
curl_8443() { ip netns exec $C curl -sS -m 5 -k https://10.61.2.2:8443/ -o /dev/null; }
NS=$S IFACE=vs capture server_ignores_frag_needed.pcap 'tcp port 8443 or icmp' -- curl_8443
ip netns exec $S iptables -F
ip -n $R link set rc mtu 1500
# Name lookups: the client's resolver (ip netns exec reads
# /etc/netns/NS/resolv.conf) is the server's host, where nothing listens
# on port 53, then an address the router has no route to.
mkdir -p /etc/netns/$C
echo "nameserver 10.61.2.2" >/etc/netns/$C/resolv.conf
capture dns_resolver_port_unreachable.pcap 'port 53 or icmp' -- curl_to www.icmp.test
echo "nameserver 10.61.9.53" >/etc/netns/$C/resolv.conf
capture dns_resolver_net_unreachable.pcap 'port 53 or icmp' -- curl_to www.icmp.test
rm -r /etc/netns/$C
# The server answers: an ICMP-free handshake, for contrast.
capture server_answers.pcap 'tcp or icmp' -- curl_to 10.61.2.2

# ICMP errors about a connection the server accepted. Each case has a
# server port of its own, and its capture holds only that port's packets
# and the ICMP errors about them (icmp[28:2], icmp[30:2]: the quoted TCP
# header's ports): a client that gave up with bytes unacknowledged
# keeps sending them again long after, and openssl s_server serves one
# connection at a time.
for port in 4441 4442 4443 4444 4445; do
	ip netns exec $S openssl s_server -quiet -accept $port -cert "$work/cert.pem" -key "$work/key.pem" -www </dev/null >/dev/null 2>&1 &
	servers+=($!)
done
sleep 0.5
only_port() { echo "tcp port $1 or (icmp and (icmp[28:2] = $1 or icmp[30:2] = $1))"; }
# A client that sends its request 2 s after the handshake (openssl
# s_client reading it from a slow standard input), killed 8 s after it
# started.
slow_request() {
	(sleep 2; printf 'GET / HTTP/1.0\r\n\r\n'; sleep 10) |
		ip netns exec $C timeout 8 openssl s_client -quiet -connect 10.61.2.2:$1 -servername icmp.test >/dev/null 2>&1
}
# The router loses its route to the server 1 s after the handshake (an
# unreachable route, as a routing daemon installs for a withdrawn
# prefix): the request and its retransmissions get host unreachable until
# the client is killed.
route_lost() {
	(sleep 1; ip -n $R route add unreachable 10.61.2.2/32) &
	local flip=$!
	slow_request 4441
	wait $flip
}
capture established_route_lost.pcap "$(only_port 4441)" -- route_lost
ip -n $R route del unreachable 10.61.2.2/32 2>/dev/null || true
# The route flaps: lost 1.5 s after the handshake, back 0.6 s later. The
# request's first copy gets host unreachable, its retransmission passes
# and the server answers.
route_flap() {
	(sleep 1.5; ip -n $R route add unreachable 10.61.2.2/32; sleep 0.6; ip -n $R route del unreachable 10.61.2.2/32) &
	local flip=$!
	slow_request 4442
	wait $flip
}
capture established_route_flap.pcap "$(only_port 4442)" -- route_flap
# The router's firewall lets the ClientHello and the server's flight
# through, then rejects the client's ChangeCipherSpec flight (the bytes of
# a ChangeCipherSpec record) with admin prohibited, as a firewall that
# decides on the server's certificate would: curl with TLS 1.2. With TLS
# 1.3 the server's own flight carries a ChangeCipherSpec: the rule
# rejects it, and the ICMP errors go to the server, captured on its
# interface.
ip netns exec $R iptables -A FORWARD -p tcp -m string --algo bm --hex-string '|140303000101|' \
	-j REJECT --reject-with icmp-admin-prohibited
curl_tls() { ip netns exec $C curl -sS -m 6 -k "${@:2}" "https://10.61.2.2:$1/" -o /dev/null; }
capture handshake_rejected_admin_prohibited12.pcap "$(only_port 4443)" -- curl_tls 4443 --tls-max 1.2
NS=$S IFACE=vs capture handshake_rejected_admin_prohibited13.pcap "$(only_port 4444)" -- curl_tls 4444 --tlsv1.3
ip netns exec $R iptables -F
# A good exchange whose last bytes are rejected: the router rejects the
# client's TLS 1.3 close_notify (its only 76-byte IP packet, a 24-byte
# record) with admin prohibited, after the server answered; its FIN
# passes.
ip netns exec $R iptables -A FORWARD -p tcp --dport 4445 -m length --length 76 -j REJECT --reject-with icmp-admin-prohibited
quick_request() {
	printf 'GET / HTTP/1.0\r\n\r\n' |
		ip netns exec $C timeout 8 openssl s_client -quiet -connect 10.61.2.2:4445 -servername icmp.test >/dev/null 2>&1
	sleep 3 # the client's kernel sends the close_notify again meanwhile
}
capture established_close_rejected.pcap "$(only_port 4445)" -- quick_request
ip netns exec $R iptables -F
# A rejection that does not last: only the first SYN to port 443 is
# rejected (-m statistic matches the rule's first packet only), and the
# client tries again 1 s later, as a retry loop does. Linux gives up a
# connect on the ICMP error, so each try is a new connection: from a new
# source port, or from the same one (curl --local-port).
first_syn() { echo "-p tcp --dport 443 --syn -m statistic --mode nth --every 1000000 --packet 0 -j REJECT --reject-with $1"; }
retry_curl() {
	ip netns exec $C curl -sS -m 8 -k "$@" https://10.61.2.2/ -o /dev/null ||
		{ sleep 1; ip netns exec $C curl -sS -m 8 -k "$@" https://10.61.2.2/ -o /dev/null; }
}
ip netns exec $S iptables -A INPUT $(first_syn icmp-port-unreachable)
capture server_rejects_first_syn_retry.pcap "$(only_port 443)" -- retry_curl
ip netns exec $S iptables -F
ip netns exec $R iptables -A FORWARD $(first_syn icmp-admin-prohibited)
capture router_rejects_first_syn_same_port.pcap "$(only_port 443)" -- retry_curl --local-port 40443
ip netns exec $R iptables -F
ip netns exec $R iptables -A FORWARD $(first_syn icmp-net-unreachable)
capture router_net_unreachable_then_retry.pcap "$(only_port 443)" -- retry_curl
ip netns exec $R iptables -F
ls -l "$here"/*.pcap
