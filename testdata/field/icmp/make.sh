#!/usr/bin/env bash
# Regenerates the ICMP captures in this directory (run as root): a client,
# a router and a server, each in a network namespace of its own, joined by
# two veth pairs; tcpdump on the client's interface, as a user captures on
# the client. Needs iproute2, iptables, tcpdump, curl and openssl.
#
#   bash testdata/field/icmp/make.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
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
ls -l "$here"/*.pcap
