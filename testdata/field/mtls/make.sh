#!/usr/bin/env bash
# Regenerates the mutual-TLS captures in this directory (run as root):
# openssl s_server, nginx and a Go crypto/tls server on loopback, each
# requiring a client certificate from "mTLS Client Root CA"; curl, openssl
# s_client and a Go net/http client presenting refused certificates;
# tcpdump on lo. Needs go, tcpdump, openssl, curl and nginx. CI does not
# run it; see README.md. The clients' and servers' messages go to
# OUT/logs/ (default /tmp/mtls-logs).
#
#   bash testdata/field/mtls/make.sh [OUT]
#
# ONLY=REGEXP makes only the captures whose names match (new certificates
# each run: the others keep theirs).
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
logs=${1:-/tmp/mtls-logs}
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$logs"
certs=$work/certs
mkdir -p "$certs"
go run gen/main.go "$certs"
go build -o "$work/peer" ./peer
C=$certs

# openssl s_server: refuses on a verification error (-verify_return_error).
openssl s_server -quiet -www -accept 127.0.0.1:8601 -cert $C/server.pem -key $C/server.key \
	-Verify 2 -verify_return_error -CAfile $C/client-root.pem </dev/null >"$logs/s_server.log" 2>&1 &
pids+=($!)
# nginx: ssl_verify_client on with the root as ssl_client_certificate;
# on 8602 with ssl_verify_depth 2, on 8604 with nginx's default depth (1),
# on 8605 likewise, with the root and an intermediate
# ("mTLS Client Policy CA") as ssl_client_certificate.
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
		listen 127.0.0.1:8602 ssl;
		server_name test.example;
		ssl_certificate $C/server.pem;
		ssl_certificate_key $C/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_verify_client on;
		ssl_client_certificate $C/client-root.pem;
		ssl_verify_depth 2;
		location / { return 200 "hello\n"; }
	}
	server {
		listen 127.0.0.1:8604 ssl;
		server_name test.example;
		ssl_certificate $C/server.pem;
		ssl_certificate_key $C/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_verify_client on;
		ssl_client_certificate $C/client-root.pem;
		location / { return 200 "hello\n"; }
	}
	server {
		listen 127.0.0.1:8605 ssl;
		server_name test.example;
		ssl_certificate $C/server.pem;
		ssl_certificate_key $C/server.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_verify_client on;
		ssl_client_certificate $C/client-root-policy.pem;
		location / { return 200 "hello\n"; }
	}
}
NGX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
# Go: RequireAndVerifyClientCert, ClientCAs the root.
"$work/peer" server 127.0.0.1:8603 $C/server.pem $C/server.key $C/client-root.pem 13 2>"$logs/go-server.log" &
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
curlc() { # PORT TLSMAX CHAIN KEY [KEYLOG]
	SSLKEYLOGFILE=${5:-} curl -sS --max-time 5 --tls-max "$2" --cacert $C/server-root.pem \
		--resolve test.example:$1:127.0.0.1 --cert $C/$3.pem --key $C/$4.key https://test.example:$1/
}
sclient() { # PORT -tls1_2|-tls1_3 CHAIN KEY
	printf 'GET / HTTP/1.1\r\nHost: test.example\r\nConnection: close\r\n\r\n' |
		openssl s_client -quiet -ign_eof -connect 127.0.0.1:$1 -servername test.example $2 \
			-CAfile $C/server-root.pem -cert $C/$3.pem -key $C/$4.key
}
goc() { # PORT 12|13 CHAIN KEY [KEYLOG]
	"$work/peer" client https://127.0.0.1:$1/ $C/$3.pem $C/$4.key $C/server-root.pem $2 ${5:-} 2>&1
}
kl() { echo "$here/$1.keylog"; }

# TLS 1.2: the client's Certificate is in the clear.
cap s_server_curl_untrusted_12 8601 curlc 8601 1.2 untrusted untrusted
cap s_server_curl_expired_12 8601 curlc 8601 1.2 expired-chain expired
cap s_server_curl_notyet_12 8601 curlc 8601 1.2 notyet-chain notyet
cap s_server_curl_serverauth_12 8601 curlc 8601 1.2 serverauth-chain serverauth
cap s_server_curl_selfsigned_12 8601 curlc 8601 1.2 selfsigned selfsigned
cap s_server_curl_leafonly_12 8601 curlc 8601 1.2 good good
cap s_server_go_wrongkey_12 8601 goc 8601 12 other-chain other
cap s_server_sclient_expired_leafonly_12 8601 sclient 8601 -tls1_2 expired-chain expired
cap nginx_curl_untrusted_12 8602 curlc 8602 1.2 untrusted untrusted
cap nginx_curl_expired_12 8602 curlc 8602 1.2 expired-chain expired
cap nginx_sclient_leafonly_12 8602 sclient 8602 -tls1_2 good good
cap nginx_go_wrongkey_12 8602 goc 8602 12 other-chain other
cap go_server_go_expired_12 8603 goc 8603 12 expired-chain expired
cap go_server_go_serverauth_12 8603 goc 8603 12 serverauth-chain serverauth
cap go_server_go_wrongkey_12 8603 goc 8603 12 other-chain other
cap go_server_curl_untrusted_12 8603 curlc 8603 1.2 untrusted untrusted
cap go_server_curl_notyet_12 8603 curlc 8603 1.2 notyet-chain notyet
# TLS 1.3: encrypted; each with the client's key log beside it.
cap s_server_curl_untrusted_13 8601 curlc 8601 1.3 untrusted untrusted "$(kl s_server_curl_untrusted_13)"
cap s_server_curl_expired_13 8601 curlc 8601 1.3 expired-chain expired "$(kl s_server_curl_expired_13)"
cap s_server_curl_serverauth_13 8601 curlc 8601 1.3 serverauth-chain serverauth "$(kl s_server_curl_serverauth_13)"
cap nginx_curl_untrusted_13 8602 curlc 8602 1.3 untrusted untrusted "$(kl nginx_curl_untrusted_13)"
cap nginx_curl_expired_13 8602 curlc 8602 1.3 expired-chain expired "$(kl nginx_curl_expired_13)"
cap go_server_go_expired_13 8603 goc 8603 13 expired-chain expired "$(kl go_server_go_expired_13)"
cap go_server_go_wrongkey_13 8603 goc 8603 13 other-chain other "$(kl go_server_go_wrongkey_13)"
cap go_server_curl_selfsigned_13 8603 curlc 8603 1.3 selfsigned selfsigned "$(kl go_server_curl_selfsigned_13)"
# nginx's default ssl_verify_depth (1): leaf → intermediate → root passes
# (OpenSSL's depth counts the CAs above the leaf, the root excluded);
# leaf → two intermediates → root is refused, in TLS 1.2 and 1.3, each
# with the client's key log beside it.
cap nginx_curl_onedepth_ok_13 8604 curlc 8604 1.3 good-chain good "$(kl nginx_curl_onedepth_ok_13)"
cap nginx_curl_depth_12 8604 curlc 8604 1.2 deep-chain deep "$(kl nginx_curl_depth_12)"
cap nginx_curl_depth_13 8604 curlc 8604 1.3 deep-chain deep "$(kl nginx_curl_depth_13)"
cap nginx_go_depth_12 8604 goc 8604 12 deep-chain deep "$(kl nginx_go_depth_12)"
cap nginx_go_depth_13 8604 goc 8604 13 deep-chain deep "$(kl nginx_go_depth_13)"
# The same with the upper intermediate in the server's client-CA file
# (named in its CertificateRequest) and the client sending the leaf and
# the lower one.
cap nginx_curl_depth_cachain_13 8605 curlc 8605 1.3 deep-mid deep "$(kl nginx_curl_depth_cachain_13)"
