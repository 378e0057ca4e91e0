#!/bin/sh
# Rebuilds the captures of this directory (see README.md): clients that do
# not read the system trust store refusing a chain whose root that store
# holds. Run as root from this directory; needs openssl, tcpdump, curl, Go
# and Python 3 with requests (and its certifi bundle).
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$work"' EXIT
port=9711

# The chain: a root that stands for a publicly trusted one (the reader's
# system store holds it in the test), an intermediate, a leaf for sys.test.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/O=Sysroots Test/CN=Sysroots Test Public Root" -keyout "$work/root.key" -out root.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/O=Sysroots Test/CN=Sysroots Test Issuing CA" -keyout "$work/inter.key" -out "$work/inter.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$work/inter.ext"
openssl x509 -req -in "$work/inter.csr" -CA root.pem -CAkey "$work/root.key" -CAserial "$work/serial" -CAcreateserial -days 3000 \
	-extfile "$work/inter.ext" -out "$work/inter.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=sys.test" \
	-keyout "$work/leaf.key" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:sys.test\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >"$work/leaf.ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/inter.pem" -CAkey "$work/inter.key" -CAserial "$work/serial" -CAcreateserial -days 825 \
	-extfile "$work/leaf.ext" -out "$work/leaf.pem" 2>/dev/null

# The server sends leaf and intermediate, TLS 1.2 so that the chain is in
# the clear.
openssl s_server -quiet -accept 127.0.0.1:$port -tls1_2 -www -cert "$work/leaf.pem" \
	-key "$work/leaf.key" -cert_chain "$work/inter.pem" >/dev/null 2>&1 &
srv=$!
sleep 1
url=https://sys.test:$port/

capture() { # name command...
	name=$1
	shift
	tcpdump -i lo -U -w "$name.pcap" "tcp port $port" 2>/dev/null &
	dump=$!
	sleep 1
	echo "== $name: $*"
	"$@" || true
	sleep 1
	kill $dump
	wait $dump || true
}

# Go with no trust store at all, as in a FROM scratch or distroless image
# without CA certificates: crypto/x509 finds no roots.
go build -o "$work/goclient" ../matrix/client
capture go_no_store env SSL_CERT_FILE=/nonexistent SSL_CERT_DIR=/nonexistent \
	"$work/goclient" "$url"
# Python requests reads certifi's bundle, not the system store.
capture python_requests_certifi python3 -c '
import requests, sys
try:
    print(requests.get(sys.argv[1]).status_code)
except Exception as e:
    print(e)
' "$url"
# curl given a CA file of its own that lacks the root.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj "/CN=Some Other Root" -keyout "$work/other.key" -out "$work/other.pem" 2>/dev/null
capture curl_own_cafile curl -sS --cacert "$work/other.pem" --resolve sys.test:$port:127.0.0.1 -o /dev/null "$url"
