#!/bin/sh
# Regenerates the byte fixtures in this directory: real handshakes between
# openssl and gnutls tools on 127.0.0.1, captured with tcpdump, reduced with
# tshark to the TCP payload of each direction (hex, 64 characters a line).
# Also cuts streams out of the public captures (../../testdata/public).
#
# Needs root (tcpdump on lo), openssl, gnutls-bin, tcpdump and tshark.
# Usage: sh make-fixtures.sh   (from anywhere; writes next to this script)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED:-$here/../../testdata/public}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
	-subj /CN=example.test -addext subjectAltName=DNS:example.test -days 2 2>/dev/null

# payload PCAP PORT DIR: concatenated TCP payload of one direction, as hex.
payload() {
	tshark -r "$1" -Y "tcp.$3port==$2 && tcp.len>0" -T fields -e tcp.payload | tr -d '\n' | fold -w 64
	echo
}

# capture NAME PORT SERVER-CMD CLIENT-CMD: runs one exchange under tcpdump.
capture() {
	name=$1 port=$2
	tcpdump -i lo -U -w "$name.pcap" "tcp port $port" 2>/dev/null &
	dump=$!
	sleep 1
	sh -c "$3" >/dev/null 2>&1 &
	srv=$!
	sleep 1
	sh -c "$4" >/dev/null 2>&1 || true
	sleep 1
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	kill "$dump"
	wait "$dump" 2>/dev/null || true
	payload "$name.pcap" "$port" dst >"$here/$name.client.hex"
	payload "$name.pcap" "$port" src >"$here/$name.server.hex"
}

req='printf "GET / HTTP/1.0\r\n\r\n"'

# TLS 1.0 with an RSA certificate (OpenSSL 3 needs security level 0 for it).
capture openssl-tls10 44310 \
	"openssl s_server -accept 127.0.0.1:44310 -cert cert.pem -key key.pem -tls1 -cipher DEFAULT:@SECLEVEL=0 -www" \
	"$req | timeout 5 openssl s_client -connect 127.0.0.1:44310 -servername example.test -tls1 -cipher DEFAULT:@SECLEVEL=0 -ign_eof"

# TLS 1.2 with server records of at most 512 bytes: the Certificate spans
# several records.
capture openssl-fragmented 44311 \
	"openssl s_server -accept 127.0.0.1:44311 -cert cert.pem -key key.pem -max_send_frag 512 -www" \
	"$req | timeout 5 openssl s_client -connect 127.0.0.1:44311 -servername example.test -tls1_2 -ign_eof"

# TLS 1.3 ClientHello split over 512-byte records: its ffdhe8192 key share
# alone is 1024 bytes.
capture openssl-fragmented-hello 44314 \
	"openssl s_server -accept 127.0.0.1:44314 -cert cert.pem -key key.pem -www" \
	"$req | timeout 5 openssl s_client -connect 127.0.0.1:44314 -servername example.test -tls1_3 -groups ffdhe8192:X25519 -max_send_frag 512 -ign_eof"

# Version mismatch: a TLS 1.3-only server answers a TLS 1.2-only client
# with a plaintext protocol_version alert.
capture openssl-alert 44312 \
	"openssl s_server -accept 127.0.0.1:44312 -cert cert.pem -key key.pem -tls1_3 -www" \
	"$req | timeout 5 openssl s_client -connect 127.0.0.1:44312 -servername example.test -tls1_2"

# GnuTLS on both ends, TLS 1.3.
capture gnutls-tls13 44313 \
	"gnutls-serv --port 44313 --x509certfile cert.pem --x509keyfile key.pem --http" \
	"$req | timeout 5 gnutls-cli --port 44313 --insecure --sni-hostname example.test 127.0.0.1"

# No tool installed here still sends an SSLv2-compatible ClientHello, so
# that fixture comes from Zeek's public trace.
payload "$shared/zeek/ssl-v2.pcap" 443 dst >"$here/sslv2-hello.client.hex"

# A Chrome 125 ClientHello with X25519Kyber768 (about 18 extensions), for
# the parse benchmark.
tshark -r "$shared/zeek/chrome-1250-tls-x25519-kyber.pcap" -Y 'tls.handshake.type==1' -T fields -e tcp.payload \
	| head -1 | fold -w 64 >"$here/chrome-hello.client.hex"

# A DHE_RSA server flight (TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA).
payload "$shared/zeek/dhe.pcap" 443 src >"$here/dhe.server.hex"

# SMTP STARTTLS: a plaintext prelude before the TLS handshake.
payload "$shared/zeek/smtp-starttls.pcap" 25 dst >"$here/smtp-starttls.client.hex"
payload "$shared/zeek/smtp-starttls.pcap" 25 src >"$here/smtp-starttls.server.hex"

# A TLS 1.3 draft-18 ServerHello record (no session ID, key share as
# extension 40), from Arkime's curl capture.
tshark -r "$shared/arkime/tls13.pcap" -Y 'tls.handshake.type==2' -T fields -e tcp.payload \
	| head -1 | cut -c1-174 >"$here/draft18-server-hello.server.hex"

# A load balancer's PROXY protocol header, then the client's ClientHello,
# as the backend reads them (testdata/field/proxyproto): nginx's stream
# module (version 1, IPv4) before curl's, and the proxyproto lb (version 2,
# IPv6, two TLVs) before curl's. Up to the ClientHello's end.
field=$here/../../testdata/field/proxyproto
for f in expected_v1_curl expected_v2_ipv6_curl; do
	tshark -r "$field/${f}_backend.pcap" -Y "tcp.dstport==9601 && tcp.len>0" -T fields -e tcp.payload \
		| head -2 | tr -d '\n' | fold -w 64 >"$here/proxy-${f#expected_}.client.hex"
	echo >>"$here/proxy-${f#expected_}.client.hex"
done

ls -l "$here"/*.hex
