#!/usr/bin/env bash
# Regenerates the HTTP/2 and gRPC captures in this directory (run as root):
# the servers on the host end of a veth pair (10.87.0.1), the clients in a
# network namespace (10.87.0.2) with no other route; tcpdump on the
# client's interface. Needs go, node and npm, python3-grpcio (Debian),
# iproute2, tcpdump, nginx, curl and chromium. CI does not run it; see
# README.md.
#
#   bash testdata/field/h2/make.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
NS=h2ns
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	ip link del h2H 2>/dev/null || true
	ip netns del $NS 2>/dev/null || true
	rm -rf "$work" /etc/netns/$NS
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null || true
ip link del h2H 2>/dev/null || true
ip netns add $NS
ip -n $NS link set lo up
ip link add h2H type veth peer name h2N netns $NS
ip addr add 10.87.0.1/24 dev h2H
ip link set h2H up
ip -n $NS addr add 10.87.0.2/24 dev h2N
ip -n $NS link set h2N up
S=10.87.0.1
# The namespace's own /etc/hosts (ip netns exec mounts /etc/netns/NAME/*
# over /etc): the clients resolve the servers' names as they usually do,
# through their own default dialers.
mkdir -p /etc/netns/$NS
echo "$S h2.test grpc.test" > /etc/netns/$NS/hosts

# The gRPC servers are those of ../grpc (gen/ there); this directory's gen
# has the HTTP/2 clients, the h2-only server and an RSA certificate.
(cd ../grpc/gen && go build -o "$work/grpcgen" .)
(cd gen && go build -o "$work/gen" .)
(cd gen/node && npm install --no-audit --no-fund >/dev/null)
mkdir -p "$work/grpc" "$work/h2"
"$work/grpcgen" certs "$work/grpc"
"$work/gen" certs "$work/h2"
# The two private roots, which the tests read the captures with.
cat "$work/grpc/ca.pem" "$work/h2/ca.pem" > "$here/roots.pem"

grpcserver() { # port mode [args]
	local port=$1; shift
	"$work/grpcgen" server "$1" -listen $S:$port -certs "$work/grpc" "${@:2}" &
	pids+=($!)
}
grpcserver 9701 terminator -tls 12
grpcserver 9702 terminator -tls 13
grpcserver 9703 http11 -tls 12
grpcserver 9704 http11 -tls 13
grpcserver 9705 h2c
grpcserver 9706 grpctls
"$work/gen" server h2only -listen $S:9712 -certs "$work/h2" &
pids+=($!)
cat > "$work/nginx.conf" <<NGINX
pid $work/nginx.pid;
error_log $work/nginx.err;
events {}
http {
	access_log off;
	client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
	ssl_certificate $work/h2/cert.pem;
	ssl_certificate_key $work/h2/key.pem;
	ssl_protocols TLSv1.2;
	server {
		# HTTP/2 with only a suite RFC 9113 forbids (CBC, no AEAD).
		listen $S:9710 ssl http2;
		ssl_ciphers ECDHE-RSA-AES256-SHA;
		location / { return 200 "h2 with a forbidden suite\n"; }
	}
	server {
		# Control: the same with an AEAD suite.
		listen $S:9711 ssl http2;
		ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
		location / { return 200 "h2 with an AEAD suite\n"; }
	}
	server {
		# HTTP/1.1 only: nginx without http2 in front of a gRPC backend.
		listen $S:9707 ssl;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_certificate $work/grpc/cert.pem;
		ssl_certificate_key $work/grpc/key.pem;
		location / { return 200 "HTTP/1.1 only\n"; }
	}
}
NGINX
nginx -c "$work/nginx.conf"
sleep 1

capture() { # file port command...
	local file=$1 port=$2; shift 2
	ip netns exec $NS tcpdump -q -i h2N -s 0 -U -w "$here/$file" "tcp port $port" 2>/dev/null &
	local td=$!
	sleep 1
	echo "== $file: $*"
	ip netns exec $NS "$@" || true
	sleep 1
	kill $td; wait $td || true
}
# keep_busiest FILE: Chromium opens a spare connection next to the one it
# uses and closes it unused; FILE keeps the connection whose client sent
# the most segments with data, the others go to FILE's name + _spare.
keep_busiest() {
	local f=$1 best= max=-1 p n
	for p in $(tcpdump -nr "$f" 'src host 10.87.0.2 and tcp[tcpflags] == tcp-syn' 2>/dev/null | awk '{print $3}' | awk -F. '{print $NF}'); do
		n=$(tcpdump -nr "$f" "src host 10.87.0.2 and src port $p and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) != 0" 2>/dev/null | wc -l)
		if [ "$n" -gt "$max" ]; then best=$p max=$n; fi
	done
	tcpdump -r "$f" -w "${f%.pcap}_spare.pcap" "not port $best" 2>/dev/null
	tcpdump -r "$f" -w "$f.tmp" "port $best" 2>/dev/null
	mv "$f.tmp" "$f"
}
gca=$work/grpc/ca.pem
hca=$work/h2/ca.pem
node=(node "$here/gen/node/grpc_check.js")
py=(/usr/bin/python3 "$here/gen/grpc_check.py")

# 1. gRPC clients other than gRPC-Go.
capture node_grpc_noalpn_tls12.pcap 9701 "${node[@]}" $S:9701 "$gca"
capture node_grpc_noalpn_tls13.pcap 9702 node --tls-keylog="$here/node_grpc_noalpn_tls13.keylog" "$here/gen/node/grpc_check.js" $S:9702 "$gca"
capture node_grpc_http11_tls12.pcap 9703 "${node[@]}" $S:9703 "$gca"
capture node_grpc_http11_nginx.pcap 9707 "${node[@]}" $S:9707 "$gca"
capture node_grpc_to_h2c.pcap 9705 "${node[@]}" $S:9705 "$gca"
capture node_grpc_ok_tls13.pcap 9706 "${node[@]}" $S:9706 "$gca"
capture python_grpc_noalpn_tls12.pcap 9701 "${py[@]}" $S:9701 "$gca"
capture python_grpc_noalpn_tls13.pcap 9702 "${py[@]}" $S:9702 "$gca"
capture python_grpc_http11_tls12.pcap 9703 "${py[@]}" $S:9703 "$gca"
capture python_grpc_http11_nginx.pcap 9707 "${py[@]}" $S:9707 "$gca"
capture python_grpc_to_h2c.pcap 9705 "${py[@]}" $S:9705 "$gca"
capture python_grpc_ok_tls13.pcap 9706 "${py[@]}" $S:9706 "$gca"

# 2. HTTP/2 over TLS 1.2 with a suite RFC 9113 forbids.
resolve="--resolve h2.test:9710:$S --resolve h2.test:9711:$S"
capture go_http2_badcipher.pcap 9710 "$work/gen" client http2 -url https://h2.test:9710/ -certs "$work/h2" -keylog "$here/go_http2_badcipher.keylog"
capture go_nethttp_badcipher.pcap 9710 "$work/gen" client nethttp -url https://h2.test:9710/ -certs "$work/h2"
capture curl_h2_badcipher.pcap 9710 env SSLKEYLOGFILE="$here/curl_h2_badcipher.keylog" curl -sS --http2 --cacert "$hca" $resolve https://h2.test:9710/
capture node_h2_badcipher.pcap 9710 node --tls-keylog="$here/node_h2_badcipher.keylog" "$here/gen/node/h2_get.js" https://$S:9710/ h2.test "$hca"
capture chromium_badcipher.pcap 9710 chromium --headless --no-sandbox --disable-gpu --disable-background-networking --ignore-certificate-errors \
	--ssl-key-log-file="$here/chromium_badcipher.keylog" --host-resolver-rules="MAP h2.test $S" --dump-dom https://h2.test:9710/
keep_busiest "$here/chromium_badcipher.pcap"
capture go_http2_aead_ok.pcap 9711 "$work/gen" client http2 -url https://h2.test:9711/ -certs "$work/h2"
capture chromium_aead_ok.pcap 9711 chromium --headless --no-sandbox --disable-gpu --disable-background-networking --ignore-certificate-errors \
	--host-resolver-rules="MAP h2.test $S" --dump-dom https://h2.test:9711/

# 3. ALPN: h2-only clients to servers without h2, an http/1.1-only client
# to an h2-only server.
capture go_http2_noalpn_tls12.pcap 9701 "$work/gen" client http2 -url https://grpc.test:9701/ -certs "$work/grpc"
capture go_http2_http11_tls13.pcap 9704 "$work/gen" client http2 -url https://grpc.test:9704/ -certs "$work/grpc"
capture curl_prior_knowledge_noalpn_tls12.pcap 9701 curl -sS --http2-prior-knowledge --cacert "$gca" --resolve grpc.test:9701:$S https://grpc.test:9701/
capture curl_prior_knowledge_http11_nginx.pcap 9707 curl -sS --http2-prior-knowledge --cacert "$gca" --resolve grpc.test:9707:$S https://grpc.test:9707/
capture go_http11_to_h2only.pcap 9712 "$work/gen" client http11 -url https://h2.test:9712/ -certs "$work/h2"
ls -l "$here"/*.pcap
