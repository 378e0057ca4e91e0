#!/usr/bin/env bash
# Regenerates the dual-stack captures of this directory (run as root): a
# client and an nginx server, each in a network namespace of its own,
# joined by a veth pair that carries IPv4 and IPv6; the name ds.test has
# an IPv6 and an IPv4 address in the client's /etc/hosts
# (/etc/netns/ds-cli/hosts, IPv6 first), and ip6tables or iptables in the
# server's namespace break one family or both. tcpdump runs on the
# client's interface, as a user captures on the client. Needs iproute2,
# iptables, tcpdump, nginx, openssl, go, curl, node, python3 with
# requests, and chromium.
#
#   bash testdata/field/dualstack/make.sh [CAPTURE.pcap...]
#
# Names given: only those captures are written (the others are left as
# they are; each run's ports, timing and keys differ). root.pem and root.key
# are made only when missing; the server's certificate each run.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
only=" $* "
work=$(mktemp -d)
chmod 755 "$work"
C=ds-cli S=ds-srv
servers=()
cleanup() {
	[ ${#servers[@]} -eq 0 ] || kill "${servers[@]}" 2>/dev/null || true
	for ns in $C $S; do ip netns del $ns 2>/dev/null || true; done
	rm -rf "$work" /etc/netns/$C
}
trap cleanup EXIT
for ns in $C $S; do ip netns del $ns 2>/dev/null || true; done

for ns in $C $S; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add dsA netns $C type veth peer name dsB netns $S
ip -n $C addr add 10.81.0.1/24 dev dsA
ip -n $C addr add fd81::1/64 dev dsA nodad
ip -n $S addr add 10.81.0.2/24 dev dsB
ip -n $S addr add fd81::2/64 dev dsB nodad
ip -n $C link set dsA up
ip -n $S link set dsB up
# A default IPv6 route, as a host with global IPv6 has: Chromium uses
# AAAA answers only when it finds a route to the IPv6 Internet.
ip -n $C -6 route add default via fd81::2 dev dsA
mkdir -p /etc/netns/$C
printf 'fd81::2 ds.test\n10.81.0.2 ds.test\n' >/etc/netns/$C/hosts
# glibc ranks a unique local IPv6 address (fd81::) below IPv4 (RFC 6724);
# give it a global address's rank, so that clients that sort by it
# (curl, Node.js, Python, Chromium) try IPv6 first, as on a host with
# global IPv6. Go keeps the order of /etc/hosts.
printf 'precedence ::1/128 50\nprecedence ::/0 40\nprecedence ::ffff:0:0/96 35\n' >/etc/netns/$C/gai.conf

# A private root (kept with its key, root.key, a test key that guards
# nothing, so that one capture can be made again under the same root) and
# a certificate for ds.test under it.
if [ ! -f root.pem ] || [ ! -f root.key ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
		-days 3650 -subj "/CN=Dualstack Test Root" -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi
cp root.key "$work/root.key"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/leaf.key" -out "$work/leaf.csr" -subj /CN=ds.test 2>/dev/null
openssl x509 -req -in "$work/leaf.csr" -CA root.pem -CAkey "$work/root.key" -set_serial 0x$(openssl rand -hex 8) -days 3650 \
	-extfile <(printf 'subjectAltName=DNS:ds.test\nextendedKeyUsage=serverAuth\n') -out "$work/leaf.pem" 2>/dev/null
cp root.pem "$work/root.pem"

# nginx on every port of the run, over both families, but 8483, which
# it serves over IPv4 only.
mkdir -p "$work/nginx"
{
	echo "daemon off; pid $work/nginx.pid; error_log stderr; worker_processes 1; events {}"
	echo "http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;"
	echo " server { server_name ds.test; ssl_certificate $work/leaf.pem; ssl_certificate_key $work/leaf.key;"
	for p in 8480 8481 8482 8484 8485 8486 8487; do echo "  listen 10.81.0.2:$p ssl; listen [fd81::2]:$p ssl;"; done
	echo "  listen 10.81.0.2:8483 ssl;"
	echo "  location / { return 200 \"ok\\n\"; } } }"
} >"$work/nginx.conf"
ip netns exec $S nginx -c "$work/nginx.conf" 2>/dev/null &
servers+=($!)

# The server's firewall, per port:
#  8480 IPv6 dropped (black hole)        8481 IPv6 rejected (icmp6-adm-prohibited)
#  8482 IPv6 reset (REJECT tcp-reset)    8483 no IPv6 listener (the kernel resets)
#  8484 IPv4 dropped, IPv6 fine          8485 both dropped
#  8486 both rejected (ICMP)             8487 both fine
ip netns exec $S ip6tables -A INPUT -p tcp --dport 8480 -j DROP
ip netns exec $S ip6tables -A INPUT -p tcp --dport 8481 -j REJECT --reject-with icmp6-adm-prohibited
ip netns exec $S ip6tables -A INPUT -p tcp --dport 8482 -j REJECT --reject-with tcp-reset
ip netns exec $S iptables -A INPUT -p tcp --dport 8484 -j DROP
ip netns exec $S iptables -A INPUT -p tcp --dport 8485 -j DROP
ip netns exec $S ip6tables -A INPUT -p tcp --dport 8485 -j DROP
ip netns exec $S iptables -A INPUT -p tcp --dport 8486 -j REJECT --reject-with icmp-admin-prohibited
ip netns exec $S ip6tables -A INPUT -p tcp --dport 8486 -j REJECT --reject-with icmp6-adm-prohibited

(cd client && go build -o "$work/goclient" .)
cp client/get.js client/get.py "$work/"
sleep 1

# capture OUT -- COMMAND...: runs COMMAND in the client's namespace while
# tcpdump writes OUT there: TCP to the run's ports and ICMP errors.
capture() {
	local out=$1
	shift 2
	[ "$only" = "  " ] || [[ $only == *" $out "* ]] || return 0
	ip netns exec $C tcpdump -i dsA -s 0 -U -w "$work/$out" \
		'tcp portrange 8480-8489 or (icmp and icmp[0] != 8 and icmp[0] != 0) or (icmp6 and ip6[40] < 128)' 2>/dev/null &
	local dump=$!
	sleep 1
	ip netns exec $C "$@" || true
	sleep 1
	kill -INT $dump
	wait $dump || true
	cp "$work/$out" "$here/$out"
}
url() { echo "https://ds.test:$1/"; }
spki=$(openssl x509 -in "$work/leaf.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
cat >"$work/chromium_get" <<EOS
#!/bin/sh
timeout 20 chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$work/chromium" \\
	--ignore-certificate-errors-spki-list="$spki" --no-first-run --disable-background-networking \\
	--dump-dom "\$1" 2>/dev/null | head -c 100
echo
EOS
chmod +x "$work/chromium_get"

for p in 8480:v6drop 8481:v6reject 8482:v6reset 8483:v6nolisten 8484:v4drop 8485:bothdrop 8486:bothreject; do
	port=${p%%:*} name=${p#*:}
	capture ${name}_go.pcap -- "$work/goclient" "$work/root.pem" "$(url $port)"
	capture ${name}_curl.pcap -- curl -sS -m 6 --cacert "$work/root.pem" -o /dev/null -w "curl: %{http_code} %{remote_ip} %{time_connect}\n" "$(url $port)"
	capture ${name}_node.pcap -- node "$work/get.js" "$work/root.pem" "$(url $port)"
	capture ${name}_requests.pcap -- python3 "$work/get.py" "$work/root.pem" "$(url $port)"
	capture ${name}_chromium.pcap -- "$work/chromium_get" "$(url $port)"
done
