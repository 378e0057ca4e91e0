#!/bin/sh
# Regenerates the key log test captures in this directory: real TLS 1.0-1.3
# handshakes on loopback between openssl s_server and clients that write
# their secrets (openssl s_client -keylogfile, curl and gnutls-cli with
# SSLKEYLOGFILE, Go's KeyLogWriter, Python's keylog_filename), captured by
# tcpdump, plus pcapng copies with the secrets embedded by
# `editcap --inject-secrets`. Needs root (tcpdump on lo).
#
#   sudo sh testdata/keys/make.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
cd "$tmp"

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
	-subj /CN=good.test -addext subjectAltName=DNS:good.test 2>/dev/null
printf 'hello from the key log tests\n' >hello.txt
(cd "$repo/testdata/keys/goclient" && go build -o "$tmp/goclient" .)

port=45001
# capture NAME SERVER-ARGS -- CLIENT COMMAND...: one connection to a fresh
# s_server, captured to NAME.pcap, the client's key log in NAME.keylog.
capture() {
	name=$1; shift
	sargs=$1; shift
	port=$((port + 1))
	tcpdump -i lo -U -s 0 -w "$here/$name.pcap" "tcp port $port" 2>/dev/null &
	tpid=$!
	# shellcheck disable=SC2086
	# s_server ends a connection when its standard input ends: keep it open.
	sleep 20 | openssl s_server -accept "127.0.0.1:$port" -cert cert.pem -key key.pem $sargs >server.out 2>&1 &
	spid=$!
	sleep 1
	SSLKEYLOGFILE="$here/$name.keylog" PORT=$port "$@" >client.out 2>&1 || true
	sleep 1
	kill $spid 2>/dev/null || true
	wait $spid 2>/dev/null || true
	kill -INT $tpid
	wait $tpid || true
	chmod 644 "$here/$name.pcap" "$here/$name.keylog"
	echo "$name: $(stat -c %s "$here/$name.pcap") bytes"
}
get() { printf 'GET /hello.txt HTTP/1.0\r\n\r\n'; sleep 1; }
sclient() { get | openssl s_client -connect "127.0.0.1:$PORT" -keylogfile "$SSLKEYLOGFILE" -ign_eof "$@"; }
curlget() { curl -sk --resolve "good.test:$PORT:127.0.0.1" "https://good.test:$PORT/hello.txt" "$@"; }
rm -f "$here"/*.pcap "$here"/*.pcapng "$here"/*.keylog

# AES-GCM with the SHA-384 PRF.
capture tls12_openssl_gcm384 "-WWW" sclient -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
# AES-CCM_8 (RSA key exchange).
capture tls12_openssl_ccm8 "-WWW -cipher AES128-CCM8" sclient -tls1_2 -cipher AES128-CCM8
# TLS 1.0 CBC: the IV chains from record to record.
capture tls10_openssl_cbc "-WWW -cipher AES128-SHA:@SECLEVEL=0" sclient -tls1 -cipher AES128-SHA:@SECLEVEL=0
# TLS 1.1 CBC: an explicit IV per record.
capture tls11_openssl_cbc "-WWW -cipher AES256-SHA:@SECLEVEL=0" sclient -tls1_1 -cipher AES256-SHA:@SECLEVEL=0
# A renegotiation the server refuses (OpenSSL 3 refuses client-initiated
# renegotiation): its warning no_renegotiation, the client's fatal alert.
reneg() { (sleep 0.5; printf 'hello\n'; sleep 0.5; printf 'R\n'; sleep 1) | openssl s_client -connect "127.0.0.1:$PORT" -keylogfile "$SSLKEYLOGFILE" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256; }
capture tls12_openssl_reneg_refused "" reneg
# A renegotiation the server accepts: a second handshake under the first
# one's keys, then the second one's.
capture tls12_openssl_reneg "-client_renegotiation" reneg
# curl: ChaCha20-Poly1305, and AES-CBC with HMAC-SHA256 with
# encrypt-then-MAC (OpenSSL negotiates it for CBC suites).
capture tls12_curl_chacha "-WWW" curlget --tls-max 1.2 --ciphers ECDHE-RSA-CHACHA20-POLY1305
capture tls12_curl_cbc256_etm "-WWW" curlget --tls-max 1.2 --ciphers ECDHE-RSA-AES128-SHA256
# GnuTLS: AES-128-CCM (RSA key exchange).
gnutls() { get | gnutls-cli --insecure --port "$PORT" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA:-CIPHER-ALL:+AES-128-CCM' 127.0.0.1; }
capture tls12_gnutls_ccm "-WWW -cipher AES128-CCM" gnutls
# Go: AES-CBC with HMAC-SHA1, MAC-then-encrypt (Go does not do
# encrypt-then-MAC), and AES-128-GCM.
goclient() { "$tmp/goclient" "127.0.0.1:$PORT" "$1" "$SSLKEYLOGFILE"; }
capture tls12_go_cbc "-WWW" goclient 0xC013
capture tls12_go_gcm "-WWW" goclient 0xC02F
# Python: AES-256-CBC with HMAC-SHA384 (and encrypt-then-MAC).
python() {
	python3 - "$PORT" "$SSLKEYLOGFILE" <<'PY'
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("ECDHE-RSA-AES256-SHA384")
ctx.keylog_filename = sys.argv[2]
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as s:
    with ctx.wrap_socket(s, server_hostname="good.test") as t:
        t.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
        while t.recv(4096):
            pass
PY
}
capture tls12_python_cbc384 "-WWW" python
# TLS 1.3 for the secrets embedded in pcapng.
capture tls13_curl "-WWW" curlget --tlsv1.3
# TLS 1.3 0-RTT accepted: a first connection (not captured) gets a
# ticket, the captured one resumes it with early data before its
# ServerHello, then EndOfEarlyData under the early secret. Both connect to
# the same s_server, which alone can open its ticket.
port=$((port + 1))
sleep 20 | openssl s_server -accept "127.0.0.1:$port" -cert cert.pem -key key.pem -early_data >server.out 2>&1 &
spid=$!
sleep 1
printf 'hello early\n' >early.txt
(sleep 1) | openssl s_client -connect "127.0.0.1:$port" -sess_out sess.pem >client.out 2>&1
tcpdump -i lo -U -s 0 -w "$here/tls13_openssl_early.pcap" "tcp port $port" 2>/dev/null &
tpid=$!
sleep 1
(sleep 0.5; printf 'hello\n'; sleep 0.5) | openssl s_client -connect "127.0.0.1:$port" -sess_in sess.pem -early_data early.txt \
	-keylogfile "$here/tls13_openssl_early.keylog" >client.out 2>&1
grep -q 'Early data was accepted' client.out || echo "tls13_openssl_early: early data not accepted" >&2
sleep 1
kill $spid 2>/dev/null || true
kill -INT $tpid
wait $tpid || true
chmod 644 "$here/tls13_openssl_early.pcap" "$here/tls13_openssl_early.keylog"

# The secrets embedded in pcapng, as Wireshark users ship them.
for n in tls12_openssl_gcm384 tls13_curl; do
	editcap --inject-secrets "tls,$here/$n.keylog" "$here/$n.pcap" "$here/${n}_dsb.pcapng"
	chmod 644 "$here/${n}_dsb.pcapng"
done
