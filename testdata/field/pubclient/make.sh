#!/usr/bin/env bash
# Regenerates the public-client captures in this directory (run as root):
# openssl s_server, nginx and a Go crypto/tls server on loopback, each
# requiring a client certificate from "Test Public Root X1"; curl, openssl
# s_client and a Go net/http client presenting a "public-like" TLS server
# certificate as their client certificate; tcpdump on lo. Needs go,
# tcpdump, openssl, curl and nginx. CI does not run it; see README.md. The
# clients' and servers' messages go to OUT/logs/ (default
# /tmp/pubclient-logs). The Go server and client are ../mtls/peer.
#
#   bash testdata/field/pubclient/make.sh [OUT]
#
# ONLY=REGEXP makes only the captures whose names match (new certificates
# each run: the others keep theirs).
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
logs=${1:-/tmp/pubclient-logs}
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$logs"
C=$work/certs
mkdir -p "$C"
go run gen/main.go "$C"
go build -o "$work/peer" ../mtls/peer
# The root of the servers' certificate, which the tests trust.
cp "$C/server-root.pem" "$here/server-root.pem"

# openssl s_server: refuses on a verification error (-verify_return_error).
openssl s_server -quiet -www -accept 127.0.0.1:9721 -cert $C/server.pem -key $C/server.key \
	-Verify 2 -verify_return_error -CAfile $C/client-root.pem </dev/null >"$logs/s_server.log" 2>&1 &
pids+=($!)
# nginx: ssl_verify_client on, the root as ssl_client_certificate.
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGX
daemon off;
master_process off;
user root;
error_log $logs/nginx-error.log info;
pid $work/nginx/nginx.pid;
events {}
http {
	access_log $logs/nginx-access.log;
	server {
		listen 127.0.0.1:9722 ssl;
		server_name test.example;
		ssl_certificate $C/server.pem;
		ssl_certificate_key $C/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_verify_client on;
		ssl_client_certificate $C/client-root.pem;
		location / { return 200 "hello\n"; }
	}
}
NGX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
# Go: RequireAndVerifyClientCert, ClientCAs the root.
"$work/peer" server 127.0.0.1:9723 $C/server.pem $C/server.key $C/client-root.pem 13 2>"$logs/go-server.log" &
pids+=($!)
sleep 1

cap() { # NAME PORT COMMAND...: captures COMMAND's connection to PORT as NAME.pcap
	local name=$1 port=$2
	shift 2
	[[ $name =~ ${ONLY:-.} ]] || return 0
	tcpdump -i lo -U -w "$here/$name.pcap" "tcp port $port" 2>/dev/null &
	local tp=$!
	sleep 0.5
	echo "== $name: $*" >>"$logs/clients.log"
	"$@" >>"$logs/clients.log" 2>&1 || true
	sleep 0.5
	kill $tp
	wait $tp 2>/dev/null || true
}
curlc() { # PORT TLSMAX LEAF [KEYLOG]
	SSLKEYLOGFILE=${4:-} curl -sS --max-time 5 --tls-max "$2" --cacert $C/server-root.pem \
		--resolve test.example:$1:127.0.0.1 --cert $C/$3-chain.pem --key $C/$3.key https://test.example:$1/
}
sclient() { # PORT -tls1_2|-tls1_3 LEAF [KEYLOG]
	printf 'GET / HTTP/1.1\r\nHost: test.example\r\nConnection: close\r\n\r\n' |
		openssl s_client -quiet -ign_eof -connect 127.0.0.1:$1 -servername test.example $2 \
			-CAfile $C/server-root.pem -cert $C/$3.pem -cert_chain $C/r99.pem -key $C/$3.key ${4:+-keylogfile $4}
}
goc() { # PORT 12|13 LEAF [KEYLOG]
	"$work/peer" client https://127.0.0.1:$1/ $C/$3-chain.pem $C/$3.key $C/server-root.pem $2 ${4:-} 2>&1
}
kl() { echo "$here/$1.keylog"; }

# dv: serverAuth only with the CA/Browser Forum's domain-validated policy,
# as a public CA's certificate renewed since 2026: every server refuses it.
cap s_server_curl_dv_12 9721 curlc 9721 1.2 dv
cap s_server_curl_dv_13 9721 curlc 9721 1.3 dv "$(kl s_server_curl_dv_13)"
cap nginx_curl_dv_12 9722 curlc 9722 1.2 dv
cap nginx_sclient_dv_13 9722 sclient 9722 -tls1_3 dv "$(kl nginx_sclient_dv_13)"
cap go_server_go_dv_12 9723 goc 9723 12 dv
cap go_server_go_dv_13 9723 goc 9723 13 dv "$(kl go_server_go_dv_13)"
# dvboth: serverAuth and clientAuth with the same policy, as issued
# before: accepted.
cap s_server_curl_dvboth_12 9721 curlc 9721 1.2 dvboth
cap nginx_curl_dvboth_13 9722 curlc 9722 1.3 dvboth "$(kl nginx_curl_dvboth_13)"
cap go_server_go_dvboth_13 9723 goc 9723 13 dvboth "$(kl go_server_go_dvboth_13)"
# private: serverAuth only without a CA/Browser Forum policy (a private
# CA's): refused as any certificate without clientAuth.
cap s_server_curl_private_12 9721 curlc 9721 1.2 private
cap go_server_go_private_12 9723 goc 9723 12 private
