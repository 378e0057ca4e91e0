#!/usr/bin/env bash
# Regenerates the captures in this directory (run as root): nginx on
# loopback serving a leaf whose certificate file also holds its
# intermediate and a few CA certificates from the system's bundle: a
# chain of 16, 17 or 20 certificates, each message far under every
# client's size limit. Clients: gnutls-cli, curl, openssl s_client and
# Go's crypto/tls (../bigchain/client); tcpdump on lo, one capture per
# client and chain. Needs go, nginx, openssl, curl, gnutls-cli and
# tcpdump. CI does not run it; see README.md.
#
#   bash testdata/field/longchain/make.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# A private root, an intermediate and a leaf for long.test and 127.0.0.1.
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
ec root.key; ec int.key; ec leaf.key
openssl req -x509 -new -key root.key -subj "/CN=Long Chain Field Root CA" -days 3650 -out root.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -new -key int.key -subj "/CN=Long Chain Field Intermediate CA" -out int.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -extfile int.ext -out int.pem
openssl req -new -key leaf.key -subj "/CN=long.test" -out leaf.csr
printf 'subjectAltName=DNS:long.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 825 -extfile leaf.ext -out leaf.pem

# chainN.pem: leaf, intermediate and the bundle's first N-2 certificates
# (CA certificates appended to the server's certificate file: they do
# not continue the leaf's path).
bundle=/etc/ssl/certs/ca-certificates.crt
for n in 16 17 20; do
	cat leaf.pem int.pem >chain$n.pem
	awk -v m=$((n - 2)) '/BEGIN CERT/{k++} k && k <= m' "$bundle" >>chain$n.pem
	echo "chain$n: $(grep -c BEGIN chain$n.pem) certificates, $(cat chain$n.pem | openssl crl2pkcs7 -nocrl -certfile /dev/stdin -outform DER | wc -c) bytes as PKCS#7"
done | tee sizes.txt

cat >nginx.conf <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log info;
events {}
http {
	access_log off;
	ssl_protocols TLSv1.2;
	ssl_certificate_key $work/leaf.key;
	server { listen 127.0.0.1:8731 ssl; ssl_certificate $work/chain17.pem; location / { return 200 "ok\n"; } }
	server { listen 127.0.0.1:8732 ssl; ssl_certificate $work/chain20.pem; location / { return 200 "ok\n"; } }
	server { listen 127.0.0.1:8733 ssl; ssl_certificate $work/chain16.pem; location / { return 200 "ok\n"; } }
}
CONF
nginx -c "$work/nginx.conf"
(cd "$here/../bigchain/client" && go build -o "$work/goclient" .)
sleep 1

run() { # name port command...
	local name=$1 port=$2; shift 2
	tcpdump -i lo -s 0 -U -w "$here/$name.pcap" "tcp port $port" 2>/dev/null &
	local dump=$!
	sleep 1
	echo "== $name: $*"
	timeout 20 "$@" </dev/null 2>&1 | tail -n 8 || true
	sleep 1
	kill $dump; wait $dump 2>/dev/null || true
}
for pair in 17:8731 20:8732 16:8733; do
	n=${pair%:*} port=${pair#*:}
	run chain${n}_gnutls $port gnutls-cli --x509cafile root.pem -p $port 127.0.0.1
	run chain${n}_curl $port curl -sS --cacert root.pem --resolve long.test:$port:127.0.0.1 https://long.test:$port/
	run chain${n}_openssl $port openssl s_client -connect 127.0.0.1:$port -servername long.test -CAfile root.pem -verify_return_error -brief
	run chain${n}_go $port "$work/goclient" root.pem 127.0.0.1:$port long.test
done
cp root.pem "$here/root.pem"
cat sizes.txt
# Keep one capture of each behaviour, compressed (README.md lists the
# results of all).
cd "$here"
keep="chain17_gnutls chain17_curl chain17_go chain20_gnutls chain16_gnutls"
for f in *.pcap; do
	case " $keep " in
	*" ${f%.pcap} "*) gzip -9 -n -f "$f" ;;
	*) rm -f "$f" ;;
	esac
done
