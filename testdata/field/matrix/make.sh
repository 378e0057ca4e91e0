#!/usr/bin/env bash
# Makes the client x failure matrix captures of this directory (run
# as root): nginx and every client in one network namespace of its own,
# tcpdump on its loopback, one capture per client and row. Needs go,
# iproute2, tcpdump, nginx, openssl, gnutls-cli, curl, wget, python3 with
# requests, node, java 17, chromium and certutil (libnss3-tools). CI does
# not run it; see README.md. The captures a test keeps are listed in
# expected.tsv; every capture is written to OUT (default /tmp/tlsdiag-matrix).
#
#   bash testdata/field/matrix/make.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")"
out=$(realpath -m "${1:-/tmp/tlsdiag-matrix}")
mkdir -p "$out"
work=$(mktemp -d)
NS=${NS:-tlsmatrix}
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip netns del $NS 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null || true
ip netns add $NS
ip -n $NS link set lo up
X() { ip netns exec $NS "$@"; }

c=$work/certs
mkdir -p "$c"
# CERTS=DIR: the certificates of an earlier run (its certs), to add captures
# that its root.pem verifies.
if [ -n "${CERTS:-}" ]; then
	cp "$CERTS"/*.pem "$CERTS"/*.key "$c"/
else
	go run gen/main.go "$c"
fi
cp "$c/trusted-root.pem" "$out/root.pem"
cat "$c/trusted-leaf.pem" "$c/trusted-int.pem" >"$c/chain.pem"
cat "$c/untrusted-leaf.pem" "$c/untrusted-int.pem" >"$c/untrusted-chain.pem"
for l in expired notyet other rsa-leaf; do cat "$c/$l.pem" "$c/trusted-int.pem" >"$c/$l-chain.pem"; done

# One nginx, a server block per row.
srv() { # port cert key extra...
	local port=$1 cert=$2 key=$3
	shift 3
	cat <<EON
server {
	listen 127.0.0.1:$port ssl;
	server_name localhost;
	ssl_certificate $c/$cert;
	ssl_certificate_key $c/$key;
	${*:-$defproto}
	location / { return 200 "ok\n"; }
}
EON
}
# nginx 1.22 (Debian 12) offers TLS 1.0-1.2 unless told otherwise; with
# TLS13=1 the servers of the certificate rows offer TLS 1.2 and 1.3, and
# the captures' names end in _tls13.
defproto= sfx=
[ -z "${TLS13:-}" ] || { defproto="ssl_protocols TLSv1.2 TLSv1.3;"; sfx=_tls13; }
mkdir -p "$work/nginx"
{
	echo "pid $work/nginx/pid; error_log $work/nginx/error.log info; daemon off; events {}"
	echo "http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;"
	srv 8441 chain.pem trusted-leaf.key
	srv 8442 untrusted-chain.pem untrusted-leaf.key
	srv 8443 selfsigned.pem selfsigned.key
	srv 8444 expired-chain.pem expired.key
	srv 8445 notyet-chain.pem notyet.key
	srv 8446 other-chain.pem other.key
	srv 8447 trusted-leaf.pem trusted-leaf.key
	srv 8448 chain.pem trusted-leaf.key "ssl_protocols TLSv1.3;"
	srv 8449 chain.pem trusted-leaf.key "ssl_protocols TLSv1.2;"
	srv 8450 rsa-leaf-chain.pem rsa-leaf.key "ssl_protocols TLSv1.2; ssl_ciphers ECDHE-RSA-CAMELLIA256-SHA384;"
	srv 8451 chain.pem trusted-leaf.key "ssl_verify_client on; ssl_client_certificate $c/trusted-root.pem;"
	echo "}"
} >"$work/nginx/nginx.conf"
ip netns exec $NS nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)

# Client stores: Java's trust store, Chromium's NSS database (in the HOME
# it runs with), the Go client.
keytool -importcert -noprompt -alias matrix -file "$c/trusted-root.pem" -keystore "$work/trust.p12" -storetype PKCS12 -storepass changeit >/dev/null 2>&1
export HOME=$work/home
mkdir -p "$HOME/.pki/nssdb"
certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password
certutil -d "sql:$HOME/.pki/nssdb" -A -n "Matrix Root CA" -t "C,," -i "$c/trusted-root.pem"
(cd client && go build -o "$work/goclient" .)
export SSL_CERT_FILE=$c/trusted-root.pem NODE_EXTRA_CA_CERTS=$c/trusted-root.pem
sleep 1

req() { printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1"; sleep 2; }

# client NAME MODE HOST PORT: one attempt of client NAME at https://HOST:PORT/
# with MODE normal, max12 (TLS 1.2 at most) or min13 (TLS 1.3 at least).
# Returns 3 when the client cannot be set to MODE.
client() {
	local name=$1 mode=$2 host=$3 port=$4 url=https://$3:$4/
	case $name in
	go)
		local o=(); [ $mode = normal ] || o=(-$mode)
		X "$work/goclient" "${o[@]}" "$url" ;;
	curl)
		local o=(); [ $mode = max12 ] && o=(--tls-max 1.2); [ $mode = min13 ] && o=(--tlsv1.3)
		X curl -sS --cacert "$c/trusted-root.pem" "${o[@]}" "$url" ;;
	wget)
		local o=(); [ $mode = max12 ] && o=(--ciphers=NORMAL:-VERS-TLS1.3); [ $mode = min13 ] && o=(--secure-protocol=TLSv1_3)
		X wget -q -O - --tries=1 --ca-certificate="$c/trusted-root.pem" "${o[@]}" "$url" ;;
	openssl)
		local o=(); [ $mode = max12 ] && o=(-tls1_2); [ $mode = min13 ] && o=(-tls1_3)
		local v=(-verify_hostname "$host"); [ "$host" = 127.0.0.1 ] && v=(-verify_ip "$host")
		req "$host" | X openssl s_client -quiet -connect "$host:$port" -CAfile "$c/trusted-root.pem" -verify_return_error "${v[@]}" "${o[@]}" ;;
	gnutls)
		local p=NORMAL; [ $mode = max12 ] && p=NORMAL:-VERS-TLS1.3; [ $mode = min13 ] && p=NORMAL:-VERS-ALL:+VERS-TLS1.3
		req "$host" | X gnutls-cli --x509cafile "$c/trusted-root.pem" --priority "$p" --port "$port" "$host" ;;
	requests|urllib)
		X python3 client/get.py $name "$c/trusted-root.pem" $mode "$url" ;;
	node-https|node-fetch)
		local o=(); [ $mode = max12 ] && o=(--tls-max-v1.2); [ $mode = min13 ] && o=(--tls-min-v1.3)
		X node "${o[@]}" client/get.js ${name#node-} "$url" ;;
	java)
		local p=TLSv1.3,TLSv1.2; [ $mode = max12 ] && p=TLSv1.2; [ $mode = min13 ] && p=TLSv1.3
		X java -Djavax.net.ssl.trustStore="$work/trust.p12" -Djavax.net.ssl.trustStorePassword=changeit -Djdk.tls.client.protocols=$p client/Get.java "$url" ;;
	chromium)
		[ $mode = normal ] || return 3
		X chromium --headless --disable-gpu --no-sandbox --user-data-dir="$work/chrome" --dump-dom "$url" ;;
	esac
}

# capture FILE PORT CLIENT MODE HOST
capture() {
	local f=$1 port=$2 name=$3 mode=$4 host=$5
	ip netns exec $NS tcpdump -i lo --immediate-mode -U -s 0 -w "$f" "tcp port $port" 2>"$work/tcpdump.err" &
	local tp=$! i
	# Wait for tcpdump to listen, lest the first packets go uncaptured.
	for i in $(seq 50); do grep -q listening "$work/tcpdump.err" && break; sleep 0.1; done
	sleep 0.2
	local rc=0
	timeout 40 bash -c "$(declare -f client req X); $(declare -p c work); NS=$NS; client $name $mode $host $port" >"$f.out" 2>&1 || rc=$?
	sleep 1.5
	kill -INT $tp; wait $tp 2>/dev/null || true
	echo "rc=$rc" >>"$f.out"
	[ $rc -ne 3 ] || rm -f "$f"
}

clients=${CLIENTS:-"go curl wget openssl gnutls requests urllib node-https node-fetch java chromium"}
# row port mode host
rows="ok:8441:normal:localhost untrusted_ca:8442:normal:localhost selfsigned:8443:normal:localhost
expired:8444:normal:localhost notyet:8445:normal:localhost mismatch:8446:normal:localhost
ip_dns_only:8441:normal:127.0.0.1 incomplete_chain:8447:normal:localhost
tls13only_max12:8448:max12:localhost tls12only_min13:8449:min13:localhost
no_shared_cipher:8450:normal:localhost client_cert:8451:normal:localhost"
for r in ${ROWS:-$rows}; do
	IFS=: read -r row port mode host <<<"$r"
	for cl in $clients; do
		capture "$out/${row}_$cl$sfx.pcap" $port $cl $mode $host
		echo "$row $cl$sfx $(tail -1 "$out/${row}_$cl$sfx.pcap.out")"
	done
done
