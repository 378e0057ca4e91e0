#!/usr/bin/env bash
# Regenerates the captures in this directory (run as root): nginx on
# loopback serving a leaf whose certificate file also holds its
# intermediate and a pile of CA certificates, and five clients fetching
# from it; tcpdump on lo, one capture per client and chain. Needs go,
# nginx, openssl, curl, gnutls-cli, python3 and tcpdump. CI does not run
# it; see README.md.
#
#   bash testdata/field/bigchain/make.sh
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

# A private root, an intermediate and a leaf for big.test and 127.0.0.1.
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1"; }
ec root.key; ec int.key; ec leaf.key
openssl req -x509 -new -key root.key -subj "/CN=Big Chain Field Root CA" -days 3650 -out root.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
openssl req -new -key int.key -subj "/CN=Big Chain Field Intermediate CA" -out int.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -extfile int.ext -out int.pem
openssl req -new -key leaf.key -subj "/CN=big.test" -out leaf.csr
printf 'subjectAltName=DNS:big.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' >leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 825 -extfile leaf.ext -out leaf.pem

# The system's CA bundle, one certificate a file, and the DER size of each.
bundle=/etc/ssl/certs/ca-certificates.crt
mkdir split
awk '/BEGIN CERT/{n++} n{print > sprintf("split/%03d.pem", n)}' "$bundle"
# Certificate message body: a 3-byte list length, then 3 bytes and the DER
# of each certificate.
der() { openssl x509 -in "$1" -outform DER | wc -c; }
msgsize() { # PEM file holding a chain
	local t=3 f
	rm -rf one && mkdir one
	awk '/BEGIN CERT/{n++} n{print > sprintf("one/%03d.pem", n)}' "$1"
	for f in one/*.pem; do t=$((t + 3 + $(der "$f"))); done
	echo $t
}

# bundle: leaf, intermediate and the whole bundle appended, the mistake
# this directory is about (nginx ssl_certificate with the CA bundle
# concatenated).
cat leaf.pem int.pem "$bundle" >bundle.pem
# mid: leaf, intermediate and the bundle's first certificates, as many as
# keep the message under 112 KiB (between OpenSSL's 100 KiB and GnuTLS's
# 128 KiB).
cat leaf.pem int.pem >mid.pem
t=$(msgsize mid.pem)
for f in split/*.pem; do
	t=$((t + 3 + $(der "$f")))
	[ $t -le $((112 * 1024)) ] || break
	cat "$f" >>mid.pem
done
# huge: the bundle twice, over 256 KiB.
cat leaf.pem int.pem "$bundle" "$bundle" >huge.pem
# fits: leaf and intermediate only (the fix), a control.
cat leaf.pem int.pem >fits.pem
for c in bundle mid huge fits; do
	echo "$c: $(grep -c BEGIN $c.pem) certificates, Certificate message body $(msgsize $c.pem) bytes"
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
	server { listen 127.0.0.1:8721 ssl; ssl_certificate $work/bundle.pem; location / { return 200 "ok\n"; } }
	server { listen 127.0.0.1:8722 ssl; ssl_certificate $work/mid.pem;    location / { return 200 "ok\n"; } }
	server { listen 127.0.0.1:8723 ssl; ssl_certificate $work/huge.pem;   location / { return 200 "ok\n"; } }
	server { listen 127.0.0.1:8724 ssl; ssl_certificate $work/fits.pem;   location / { return 200 "ok\n"; } }
}
CONF
nginx -c "$work/nginx.conf"
(cd "$here/client" && go build -o "$work/goclient" .)
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
py='import ssl, socket, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as s, ctx.wrap_socket(s, server_hostname="big.test") as t:
        t.sendall(b"GET / HTTP/1.0\r\nHost: big.test\r\n\r\n"); print(t.recv(100))
except Exception as e:
    print(type(e).__name__, e)'
for pair in bundle:8721 mid:8722 huge:8723; do
	c=${pair%:*} port=${pair#*:}
	run ${c}_go $port "$work/goclient" root.pem 127.0.0.1:$port big.test
	run ${c}_openssl $port openssl s_client -connect 127.0.0.1:$port -servername big.test -CAfile root.pem -verify_return_error -brief
	run ${c}_curl $port curl -sS --cacert root.pem --resolve big.test:$port:127.0.0.1 https://big.test:$port/
	run ${c}_gnutls $port gnutls-cli --x509cafile root.pem -p $port 127.0.0.1
	run ${c}_python $port python3 -c "$py" root.pem $port
done
run fits_curl 8724 curl -sS --cacert root.pem --resolve big.test:8724:127.0.0.1 https://big.test:8724/
cp root.pem "$here/root.pem"
cat sizes.txt
# Keep one capture of each behaviour, compressed (README.md lists the
# results of all).
cd "$here"
keep="bundle_curl bundle_gnutls bundle_go mid_openssl mid_gnutls huge_go huge_python fits_curl"
for f in *.pcap; do
	case " $keep " in
	*" ${f%.pcap} "*) gzip -9 -n -f "$f" ;;
	*) rm -f "$f" ;;
	esac
done
