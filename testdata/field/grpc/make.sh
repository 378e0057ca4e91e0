#!/usr/bin/env bash
# Regenerates the gRPC-Go captures in this directory (run as root): the
# client in one network namespace, the servers in another, joined by a veth
# pair; tcpdump on the client's interface. Needs go, iproute2, tcpdump,
# openssl and nginx. CI does not run it; see README.md.
#
#   bash testdata/field/grpc/make.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
C=grpcC S=grpcS
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	for ns in $C $S; do ip netns del $ns 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
for ns in $C $S; do ip netns del $ns 2>/dev/null || true; done
for ns in $C $S; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add gc netns $C type veth peer name gs netns $S
ip -n $C addr add 10.78.0.1/24 dev gc
ip -n $S addr add 10.78.0.2/24 dev gs
ip -n $C link set gc up
ip -n $S link set gs up

(cd gen && go build -o "$work/gen" .)
gen=$work/gen
"$gen" certs "$work"

server() { # port mode [args]
	local port=$1; shift
	ip netns exec $S "$gen" server "$1" -listen 10.78.0.2:$port -certs "$work" "${@:2}" &
	pids+=($!)
}
server 50061 terminator -tls 12
server 50062 terminator -tls 13
server 50063 http11 -tls 12
server 50064 http11 -tls 13
server 50065 h2c
server 50066 grpctls
cat > "$work/nginx.conf" <<NGINX
pid $work/nginx.pid;
error_log $work/nginx.err;
events {}
http {
	access_log off;
	client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
	server {
		listen 10.78.0.2:50067 ssl;
		ssl_certificate $work/cert.pem;
		ssl_certificate_key $work/key.pem;
		location / { return 200 "HTTP/1.1 only\n"; }
	}
}
NGINX
ip netns exec $S nginx -c "$work/nginx.conf"
sleep 1

capture() { # file port command...
	local file=$1 port=$2; shift 2
	ip netns exec $C tcpdump -q -i gc -s 0 -U -w "$here/$file" "tcp port $port" 2>/dev/null &
	local td=$!
	sleep 1
	echo "== $file: $*"
	ip netns exec $C "$@" || true
	sleep 1
	kill $td; wait $td || true
}
client="$gen client"
certs="-certs $work"
capture noalpn_tls12.pcap 50061 $client tls -target 10.78.0.2:50061 $certs
capture noalpn_tls13.pcap 50062 $client tls -target 10.78.0.2:50062 $certs -keylog "$here/noalpn_tls13.keylog"
capture http11_tls12.pcap 50063 $client tls -target 10.78.0.2:50063 $certs
capture http11_tls13.pcap 50064 $client tls -target 10.78.0.2:50064 $certs
capture http11_nginx.pcap 50067 $client tls -target 10.78.0.2:50067 $certs
capture tls_to_h2c.pcap 50065 $client tls -target 10.78.0.2:50065 $certs
capture insecure_to_tls.pcap 50066 $client insecure -target 10.78.0.2:50066
capture noalpn_enforce_off_tls12.pcap 50061 env GRPC_ENFORCE_ALPN_ENABLED=false $client tls -target 10.78.0.2:50061 $certs
capture grpc_ok_tls13.pcap 50066 $client tls -target 10.78.0.2:50066 $certs
# Controls: clients that offer h2 alone (or h2 first) and close right after
# the handshake for harmless reasons must stay ok.
capture openssl_h2_noalpn_tls13.pcap 50062 sh -c "openssl s_client -connect 10.78.0.2:50062 -servername grpc.test -alpn h2 </dev/null"
capture openssl_h2_noalpn_tls12.pcap 50061 sh -c "openssl s_client -connect 10.78.0.2:50061 -servername grpc.test -alpn h2 </dev/null"
capture curl_noalpn_tls13.pcap 50062 curl -sS --http2 --cacert "$work/ca.pem" --resolve grpc.test:50062:10.78.0.2 https://grpc.test:50062/
ls -l "$here"/*.pcap
