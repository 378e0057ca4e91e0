#!/bin/sh
# Rebuilds the captures of this directory (see README.md): curl through an
# nginx reverse proxy (proxy_pass https://…), and a Go one, to HTTPS upstreams that need
# SNI, that have a private CA, or that are reached by IP address, with
# nginx's defaults and with the settings that fix each. Run as root from
# this directory; needs ip (network namespaces), nginx 1.22, openssl,
# tcpdump, curl, Go. It makes the namespaces rp-br (a bridge), rp-cli,
# rp-prx and rp-up and removes them at the end.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
	for p in "$work"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	for n in rp-cli rp-prx rp-up rp-br; do ip netns del $n 2>/dev/null; done
	rm -rf /etc/netns/rp-cli /etc/netns/rp-prx "$work"
}
trap cleanup EXIT

# One link, as a proxy with one address has: client 10.94.0.1, proxy
# 10.94.0.2, upstream 10.94.0.3, all on a bridge in rp-br.
for n in rp-br rp-cli rp-prx rp-up; do ip netns add $n; ip -n $n link set lo up; done
ip -n rp-br link add rpbr0 type bridge
ip -n rp-br link set rpbr0 up
i=1
for n in rp-cli rp-prx rp-up; do
	ip link add rpv$i netns $n type veth peer name rpb$i netns rp-br
	ip -n rp-br link set rpb$i master rpbr0
	ip -n rp-br link set rpb$i up
	ip -n $n addr add 10.94.0.$i/24 dev rpv$i
	ip -n $n link set rpv$i up
	# Checksums are filled in by the veth's peer, not in the capture.
	ip netns exec $n ethtool -K rpv$i tx off >/dev/null 2>&1 || true
	i=$((i + 1))
done
mkdir -p /etc/netns/rp-cli /etc/netns/rp-prx
printf '10.94.0.2 rp.test\n' >/etc/netns/rp-cli/hosts
printf '10.94.0.3 up.rp.test\n' >/etc/netns/rp-prx/hosts

# A private root, a leaf for the proxy's front (rp.test) and one for the
# upstream (up.rp.test, no IP address among its names).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/O=Revproxy Test/CN=Revproxy Test Root" -keyout "$work/root.key" -out root.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
for name in rp.test up.rp.test; do
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
		-keyout "$work/$name.key" -out "$work/$name.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' $name >"$work/$name.ext"
	openssl x509 -req -in "$work/$name.csr" -CA root.pem -CAkey "$work/root.key" -CAcreateserial -CAserial "$work/serial" \
		-days 825 -extfile "$work/$name.ext" -out "$work/$name.pem" 2>/dev/null
done
chmod 644 "$work"/*.key

# The upstream: nginx, 9750 refuses a handshake without a name it serves
# (ssl_reject_handshake in its default server), 9751 serves up.rp.test
# to any client, as do 9753-9757 (one port for each case, so that nginx
# resumes no session of an earlier case); and 9752, a Go server whose
# GetCertificate refuses a ClientHello without SNI.
mkdir -p "$work/up" "$work/prx"
temps() { printf 'client_body_temp_path %s/body; proxy_temp_path %s/proxy; fastcgi_temp_path %s/fcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n' "$1" "$1" "$1" "$1" "$1"; }
cat >"$work/up.conf" <<CONF
error_log $work/up/error.log info;
pid $work/up.pid;
events {}
http {
	access_log $work/up/access.log;
	$(temps "$work/up")
	ssl_certificate $work/up.rp.test.pem;
	ssl_certificate_key $work/up.rp.test.key;
	server { listen 10.94.0.3:9750 ssl default_server; ssl_reject_handshake on; }
	server { listen 10.94.0.3:9750 ssl; server_name up.rp.test; location / { return 200 "upstream 9750\n"; } }
	server {
		listen 10.94.0.3:9751 ssl; listen 10.94.0.3:9753 ssl; listen 10.94.0.3:9754 ssl; listen 10.94.0.3:9755 ssl;
		listen 10.94.0.3:9756 ssl; listen 10.94.0.3:9757 ssl;
		location / { return 200 "upstream \$server_port\n"; }
	}
}
CONF
# The proxy: one front port for each case, all with nginx's defaults but
# for the lines shown.
front() {
	port=$1
	shift
	printf '\tserver { listen 10.94.0.2:%s ssl; location / { %s } }\n' "$port" "$*"
}
cat >"$work/prx.conf" <<CONF
error_log $work/prx/error.log info;
pid $work/prx.pid;
events {}
http {
	access_log $work/prx/access.log;
	$(temps "$work/prx")
	ssl_certificate $work/rp.test.pem;
	ssl_certificate_key $work/rp.test.key;
$(front 9740 'proxy_pass https://up.rp.test:9750;')
$(front 9741 'proxy_pass https://up.rp.test:9750; proxy_ssl_server_name on;')
$(front 9742 'proxy_pass https://up.rp.test:9752;')
$(front 9743 'proxy_pass https://up.rp.test:9752; proxy_ssl_server_name on;')
$(front 9744 'proxy_pass https://up.rp.test:9751; proxy_ssl_verify on; proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;')
$(front 9745 "proxy_pass https://up.rp.test:9753; proxy_ssl_verify on; proxy_ssl_trusted_certificate $PWD/root.pem;")
$(front 9746 "proxy_pass https://10.94.0.3:9754; proxy_ssl_verify on; proxy_ssl_trusted_certificate $PWD/root.pem;")
$(front 9747 "proxy_pass https://10.94.0.3:9755; proxy_ssl_verify on; proxy_ssl_trusted_certificate $PWD/root.pem; proxy_ssl_name up.rp.test; proxy_ssl_server_name on;")
}
CONF
chmod 755 "$PWD"
ip netns exec rp-up nginx -c "$work/up.conf"
ip netns exec rp-prx nginx -c "$work/prx.conf"
go build -o "$work/upstream" ./upstream
ip netns exec rp-up "$work/upstream" -listen 10.94.0.3:9752 -cert "$work/up.rp.test.pem" -key "$work/up.rp.test.key" 2>"$work/up/go.log" &
echo $! >"$work/go.pid"
# A Go reverse proxy (httputil.ReverseProxy), trusting the system's roots
# (9748) or root.pem (9749).
go build -o "$work/goproxy" ./goproxy
ip netns exec rp-prx "$work/goproxy" -listen 10.94.0.2:9748 -upstream https://up.rp.test:9756 \
	-cert "$work/rp.test.pem" -key "$work/rp.test.key" 2>"$work/prx/goproxy1.log" &
echo $! >"$work/goproxy1.pid"
ip netns exec rp-prx "$work/goproxy" -listen 10.94.0.2:9749 -upstream https://up.rp.test:9757 -roots root.pem \
	-cert "$work/rp.test.pem" -key "$work/rp.test.key" 2>"$work/prx/goproxy2.log" &
echo $! >"$work/goproxy2.pid"
sleep 1

# capture NAME PORT: curl to the proxy's front port PORT; NAME.pcap on the
# proxy (tcpdump -i any: both legs), NAME_upstream.pcap on the upstream's
# link (the upstream leg alone); NAME.keylog is curl's key log of the
# front leg.
capture() {
	name=$1 port=$2
	rm -f "$name.keylog"
	ip netns exec rp-prx tcpdump -i any -U -w "$name.pcap" "tcp port $port or tcp portrange 9750-9757" 2>/dev/null &
	d1=$!
	ip netns exec rp-up tcpdump -i rpv3 -U -w "${name}_upstream.pcap" "tcp portrange 9750-9757" 2>/dev/null &
	d2=$!
	sleep 1
	echo "== $name: curl https://rp.test:$port/"
	ip netns exec rp-cli env SSLKEYLOGFILE="$PWD/$name.keylog" curl -sS --http1.1 --cacert root.pem -o /dev/null \
		-w '   HTTP %{http_code}\n' "https://rp.test:$port/" 2>&1 | sed 's/^/   /' || true
	sleep 1
	kill $d1 $d2
	wait $d1 $d2 || true
}

# 1. An upstream nginx whose default server rejects the handshake.
capture nosni_nginx 9740
capture sni_nginx 9741
# 2. An upstream Go server whose GetCertificate refuses an empty name.
capture nosni_go 9742
capture sni_go 9743
# 3. An upstream with a private CA, proxy_ssl_verify on.
capture verify_wrongca 9744
capture verify_rightca 9745
# 4. An upstream reached by IP address, proxy_ssl_verify on.
capture verify_ip 9746
capture verify_ip_name 9747
# 5. A Go reverse proxy to the upstream of a private CA, without and with
#    its root.
capture goproxy_wrongca 9748
capture goproxy_rightca 9749

echo "== proxy's error log"
grep -aE 'upstream|SSL' "$work/prx/error.log" | sed 's/^/   /' || true
echo "== Go proxy's log"
sed 's/^/   /' "$work/prx/goproxy1.log"
echo "== Go upstream's log"
sed 's/^/   /' "$work/up/go.log"
