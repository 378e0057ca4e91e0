#!/bin/sh
# Rebuilds the captures of this directory (see README.md): TLS through a
# load balancer that speaks the PROXY protocol to an nginx backend, with
# the header expected, sent to a backend that does not expect it, and
# expected by a backend that does not get it. Run as root from this
# directory; needs ip (network namespaces), nginx 1.22 with the stream
# module (Debian: nginx, libnginx-mod-stream), openssl, tcpdump, curl, Go.
# It makes the namespaces pp-cli, pp-lb and pp-srv and removes them at
# the end.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
	for p in "$work"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	for n in pp-cli pp-lb pp-srv; do ip netns del $n 2>/dev/null; done
	rm -rf /etc/netns/pp-cli "$work"
}
trap cleanup EXIT

# client 10.92.0.2 / fd00:92::2 — LB 10.92.0.1 / fd00:92::1 and 10.92.0.65 — backend 10.92.0.66
for n in pp-cli pp-lb pp-srv; do ip netns add $n; ip -n $n link set lo up; done
ip link add ppc0 netns pp-cli type veth peer name ppl0 netns pp-lb
ip link add pps0 netns pp-srv type veth peer name ppl1 netns pp-lb
ip -n pp-cli addr add 10.92.0.2/26 dev ppc0
ip -n pp-cli addr add fd00:92::2/64 dev ppc0 nodad
ip -n pp-lb addr add 10.92.0.1/26 dev ppl0
ip -n pp-lb addr add fd00:92::1/64 dev ppl0 nodad
ip -n pp-lb addr add 10.92.0.65/26 dev ppl1
ip -n pp-srv addr add 10.92.0.66/26 dev pps0
for l in pp-cli:ppc0 pp-lb:ppl0 pp-lb:ppl1 pp-srv:pps0; do ip -n ${l%:*} link set ${l#*:} up; done
ip -n pp-cli route add default via 10.92.0.1
ip -n pp-srv route add default via 10.92.0.65
ip netns exec pp-lb sysctl -qw net.ipv4.ip_forward=1
# Checksums are filled in by the veth's peer, not in the capture.
for l in pp-cli:ppc0 pp-lb:ppl0 pp-lb:ppl1 pp-srv:pps0; do ip netns exec ${l%:*} ethtool -K ${l#*:} tx off >/dev/null 2>&1 || true; done
mkdir -p /etc/netns/pp-cli
printf '10.92.0.1 pp.test\nfd00:92::1 pp6.test\n10.92.0.66 direct.pp.test\n' >/etc/netns/pp-cli/hosts

# A root and a leaf for pp.test and pp6.test.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/O=Proxyproto Test/CN=Proxyproto Test Root" -keyout "$work/root.key" -out root.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=pp.test" \
	-keyout "$work/leaf.key" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:pp.test,DNS:pp6.test,DNS:direct.pp.test\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >"$work/leaf.ext"
openssl x509 -req -in "$work/leaf.csr" -CA root.pem -CAkey "$work/root.key" -CAcreateserial -CAserial "$work/serial" \
	-days 825 -extfile "$work/leaf.ext" -out "$work/leaf.pem" 2>/dev/null

# The backend: nginx, 9601 expects the PROXY protocol, 9602 does not.
mkdir -p "$work/srv" "$work/lbn"
cat >"$work/srv.conf" <<CONF
error_log $work/srv/error.log info;
pid $work/srv.pid;
events {}
http {
	access_log $work/srv/access.log;
	client_body_temp_path $work/srv/body; proxy_temp_path $work/srv/proxy;
	fastcgi_temp_path $work/srv/fcgi; uwsgi_temp_path $work/srv/uwsgi; scgi_temp_path $work/srv/scgi;
	ssl_certificate $work/leaf.pem;
	ssl_certificate_key $work/leaf.key;
	server {
		listen 10.92.0.66:9601 ssl proxy_protocol;
		set_real_ip_from 10.92.0.64/26;
		set_real_ip_from 10.92.0.0/26;
		real_ip_header proxy_protocol;
		location / { return 200 "client \$proxy_protocol_addr:\$proxy_protocol_port\n"; }
	}
	server {
		listen 10.92.0.66:9602 ssl;
		location / { return 200 "hello\n"; }
	}
}
CONF
# The load balancer: nginx's stream module (version 1 headers) and lb/
# (version 2).
cat >"$work/lbn.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
error_log $work/lbn/error.log info;
pid $work/lbn.pid;
events {}
stream {
	server { listen 10.92.0.1:9610; listen [fd00:92::1]:9610; proxy_pass 10.92.0.66:9601; proxy_protocol on; }
	server { listen 10.92.0.1:9611; listen [fd00:92::1]:9611; proxy_pass 10.92.0.66:9602; proxy_protocol on; }
	server { listen 10.92.0.1:9612; proxy_pass 10.92.0.66:9601; }
}
CONF
ip netns exec pp-srv nginx -c "$work/srv.conf"
ip netns exec pp-lb nginx -c "$work/lbn.conf"
go build -o "$work/lb" ./lb
go build -o "$work/goclient" ../matrix/client
ip netns exec pp-lb "$work/lb" -listen :9620 -backend 10.92.0.66:9601 & echo $! >"$work/lb1.pid"
ip netns exec pp-lb "$work/lb" -listen :9621 -backend 10.92.0.66:9602 & echo $! >"$work/lb2.pid"
sleep 1

# capture NAME PORT(at the client) COMMAND...: NAME_backend.pcap at the
# backend's link, NAME_client.pcap at the client's.
capture() {
	name=$1 port=$2
	shift 2
	ip netns exec pp-srv tcpdump -i pps0 -U -w "${name}_backend.pcap" "tcp port 9601 or tcp port 9602" 2>/dev/null &
	d1=$!
	ip netns exec pp-cli tcpdump -i ppc0 -U -w "${name}_client.pcap" "tcp port $port" 2>/dev/null &
	d2=$!
	sleep 1
	echo "== $name: $*"
	ip netns exec pp-cli sh -c "$*" 2>&1 | sed 's/^/   /' || true
	sleep 1
	kill $d1 $d2
	wait $d1 $d2 || true
}
curl_="curl -sS --cacert root.pem"
goclient="env SSL_CERT_FILE=root.pem $work/goclient"
sclient="openssl s_client -brief -CAfile root.pem </dev/null"


# 1. The LB sends the header and the backend expects it.
capture expected_v1_curl 9610 $curl_ https://pp.test:9610/
capture expected_v1_ipv6_go 9610 $goclient https://pp6.test:9610/
capture expected_v2_openssl 9620 $sclient -connect pp.test:9620
capture expected_v2_ipv6_curl 9620 $curl_ https://pp6.test:9620/
# 2. The LB sends the header and the backend does not expect it.
capture unexpected_v1_curl 9611 $curl_ https://pp.test:9611/
capture unexpected_v1_openssl 9611 $sclient -connect pp.test:9611
capture unexpected_v2_go 9621 $goclient https://pp.test:9621/
capture unexpected_v2_ipv6_curl 9621 $curl_ https://pp6.test:9621/
#    curl itself sends a version 1 header, straight to the backend.
capture unexpected_curlhaproxy 9602 $curl_ --haproxy-protocol https://direct.pp.test:9602/
# 3. The backend expects the header and gets none.
capture missing_curl 9601 $curl_ https://direct.pp.test:9601/
capture missing_go 9601 $goclient https://direct.pp.test:9601/
capture missing_openssl 9601 $sclient -connect direct.pp.test:9601
capture missing_lb_curl 9612 $curl_ https://pp.test:9612/
#    curl sends its own version 1 header to the backend that expects one.
capture expected_curlhaproxy 9601 $curl_ --haproxy-protocol https://direct.pp.test:9601/

echo "== backend's error log"
grep -aE 'broken header|SSL_do_handshake|wrong version' "$work/srv/error.log" | sed 's/^/   /' || true
