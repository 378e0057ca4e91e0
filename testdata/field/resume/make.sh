#!/usr/bin/env bash
# Makes the resumption captures of this directory (run as root): the
# servers (nginx, openssl s_server, a Go server) in the network namespace
# NS at 10.84.0.2, the clients (Go, curl, openssl s_client, gnutls-cli,
# Chromium) on the host at 10.84.0.1 over a veth pair, tcpdump on the
# host's end, one capture per scenario, with the clients' key logs beside
# them. Needs go, iproute2, tcpdump, nginx, openssl, gnutls-cli, curl,
# and chromium. CI does not run it; see
# README.md. Every capture is written to OUT (default /tmp/tlsdiag-resume);
# all of them, with their key logs and root.pem, are kept here.
#
#   bash testdata/field/resume/make.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")"
out=$(realpath -m "${1:-/tmp/tlsdiag-resume}")
mkdir -p "$out"
work=$(mktemp -d)
NS=${NS:-resns} H=${H:-resH} N=${N:-resN}
SRV=10.84.0.2
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip link del $H 2>/dev/null || true
	ip netns del $NS 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null || true
ip link del $H 2>/dev/null || true
ip netns add $NS
ip link add $H type veth peer name $N
ip link set $N netns $NS
ip addr add 10.84.0.1/24 dev $H
ip link set $H up
ip -n $NS addr add $SRV/24 dev $N
ip -n $NS link set $N up
ip -n $NS link set lo up
X() { ip netns exec $NS "$@"; }
XB() { exec ip netns exec $NS "$@"; } # for servers in the background: $! is the server

# Certificates: a trusted root and an untrusted one, each signing a P-256
# leaf for res.test and 10.84.0.2; a client certificate from the trusted
# root.
c=$work/certs
mkdir -p "$c"
ca() { # name cn
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$c/$1.key" \
		-out "$c/$1.pem" -days 3650 -subj "/CN=$2" 2>/dev/null
}
leaf() { # name ca cn ext
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$c/$1.key" \
		-out "$c/$1.csr" -subj "/CN=$3" 2>/dev/null
	printf '%s\n' "$4" >"$c/$1.ext"
	openssl x509 -req -in "$c/$1.csr" -CA "$c/$2.pem" -CAkey "$c/$2.key" -CAcreateserial \
		-days 825 -extfile "$c/$1.ext" -out "$c/$1.pem" 2>/dev/null
}
ca root "Resume Root CA"
ca other-root "Resume Untrusted Root CA"
leaf trusted root res.test "subjectAltName=DNS:res.test,IP:$SRV"
leaf untrusted other-root res.test "subjectAltName=DNS:res.test,IP:$SRV"
leaf client root "resume client" "extendedKeyUsage=clientAuth"
cp "$c/root.pem" "$out/root.pem"

# One nginx, a server block per scenario; each block has its own ticket
# keys (nginx makes them at start), one session cache for all.
srv() { # port cert extra...
	local port=$1 cert=$2
	shift 2
	cat <<EON
server {
	listen $SRV:$port ssl;
	server_name res.test;
	ssl_certificate $c/$cert.pem;
	ssl_certificate_key $c/$cert.key;
	ssl_session_cache shared:SSL:1m;
	$*
	location / { return 200 "ok\n"; }
}
EON
}
mkdir -p "$work/nginx"
{
	echo "pid $work/nginx/pid; error_log $work/nginx/error.log info; daemon off; events {}"
	echo "http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;"
	srv 9501 trusted "ssl_protocols TLSv1.2;"
	srv 9502 trusted "ssl_protocols TLSv1.2; ssl_session_tickets off;"
	srv 9503 trusted "ssl_protocols TLSv1.2 TLSv1.3;"
	srv 9504 trusted "ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve secp384r1;"
	srv 9505 untrusted "ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve secp384r1;"
	srv 9506 trusted "ssl_protocols TLSv1.2; ssl_verify_client on; ssl_client_certificate $c/root.pem;"
	srv 9507 trusted "ssl_protocols TLSv1.2 TLSv1.3; ssl_verify_client on; ssl_client_certificate $c/root.pem;"
	srv 9508 untrusted "ssl_protocols TLSv1.2;"
	srv 9509 trusted "ssl_protocols TLSv1.3; ssl_early_data on;"
	echo "}"
} >"$work/nginx/nginx.conf"
XB nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)
# openssl s_server: TLS 1.3 with 0-RTT accepted (9510), the same without
# -early_data (9511), TLS 1.2 for renegotiation (9512).
# -early_data cannot go with -www: these two echo what they get and answer
# nothing (their stdin, a fifo, stays open).
mkfifo "$work/stdin"
exec 9<>"$work/stdin"
sserv() { # port args...
	local port=$1
	shift
	XB openssl s_server -accept $SRV:$port -cert "$c/trusted.pem" -key "$c/trusted.key" "$@" >"$work/s_server.$port.log" 2>&1 <"$work/stdin" &
	pids+=($!)
}
sserv 9510 -tls1_3 -early_data
sserv 9511 -tls1_3
sserv 9512 -tls1_2 -rev -client_renegotiation
sserv 9513 -tls1_2 -rev
# The Go server: defaults (tickets, TLS 1.2-1.3, 9520); TLS 1.2 only
# (9521); P-384 only, forcing a HelloRetryRequest of Go's client (9522);
# client certificate required (9523).
(cd server && go build -o "$work/goserver" .)
(cd client && go build -o "$work/goclient" .)
gserv() { # port args...
	local port=$1
	shift
	XB "$work/goserver" -addr $SRV:$port -cert "$c/trusted.pem" -key "$c/trusted.key" "$@" >"$work/goserver.$port.log" 2>&1 &
	pids+=($!)
}
gserv 9520
gserv 9521 -max12
gserv 9522 -groups p384
gserv 9523 -clientca "$c/root.pem"
sleep 1

export SSL_CERT_FILE=$c/root.pem
export HOME=$work/home
mkdir -p "$HOME"
# Chromium trusts the trusted leaf by its key's hash (no NSS database).
spki=$(openssl x509 -in "$c/trusted.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)

# capture NAME PORT CMD...: runs CMD with tcpdump on the host's end of the
# veth, filtered to PORT; the key log of CMD (the SSLKEYLOGFILE it was
# given, $KL) is kept beside the capture when not empty.
capture() {
	local name=$1 port=$2
	shift 2
	local f=$out/$name.pcap
	KL=$out/$name.keylog
	rm -f "$KL"
	tcpdump -i $H --immediate-mode -U -s 0 -w "$f" "tcp port $port" 2>"$work/tcpdump.err" &
	local tp=$!
	for i in $(seq 50); do grep -q listening "$work/tcpdump.err" && break; sleep 0.1; done
	echo "== $name" >&2
	SSLKEYLOGFILE=$KL "$@" >&2 || echo "($name: client exit $?)" >&2
	sleep 1
	kill $tp
	wait $tp 2>/dev/null || true
	[ -s "$KL" ] || rm -f "$KL"
}
U=https://$SRV
# Connection: close, lest curl send its second request on the same
# connection.
CA=(--cacert "$c/root.pem" -H "Connection: close")
# s_client, each with its own session file: sc NAME PORT SESSFILE in|out [args...]
req() { printf 'GET / HTTP/1.1\r\nHost: res.test\r\nConnection: close\r\n\r\n'; sleep 1; }
sc() {
	local port=$1 sess=$2 io=$3
	shift 3
	req | openssl s_client -connect $SRV:$port -servername res.test -CAfile "$c/root.pem" \
		-verify_return_error -keylogfile "$SSLKEYLOGFILE" -sess_$io "$work/$sess.sess" -quiet -no_ign_eof "$@"
}

# TLS 1.2 session-ticket and session-id resumption; TLS 1.3 PSK.
capture ticket12_curl 9501 curl -sS "${CA[@]}" $U:9501/a $U:9501/b
capture sessionid12_curl 9502 curl -sS "${CA[@]}" $U:9502/a $U:9502/b
capture nosessionid12_curl 9501 curl -sS --no-sessionid "${CA[@]}" $U:9501/a $U:9501/b
capture psk13_curl 9503 curl -sS "${CA[@]}" $U:9503/a $U:9503/b
capture ticket12_go 9521 "$work/goclient" -max12 $U:9521/
capture psk13_go 9520 "$work/goclient" $U:9520/
capture psk13_gnutls 9503 sh -c "req() { printf 'GET / HTTP/1.1\r\nHost: res.test\r\n\r\n'; sleep 2; }; req | gnutls-cli --x509cafile '$c/root.pem' --resume --port 9503 $SRV"
capture reconnect12_openssl 9501 sh -c "openssl s_client -connect $SRV:9501 -CAfile '$c/root.pem' -reconnect -keylogfile \"\$SSLKEYLOGFILE\" </dev/null" 2>/dev/null
# HelloRetryRequest: Go's X25519MLKEM768/x25519 shares against P-384 only;
# then the same against an untrusted chain; curl's x25519 share likewise.
capture hrr_go_nginx 9504 "$work/goclient" $U:9504/
capture hrr_go_goserver 9522 "$work/goclient" $U:9522/
capture hrr_untrusted_go 9505 "$work/goclient" -n 1 $U:9505/
capture hrr_curl 9504 curl -sS "${CA[@]}" $U:9504/a $U:9504/b
# A ticket the server refuses: openssl's session of 9501 offered to 9508,
# whose ticket keys differ and whose chain the client does not trust.
sess() { # port name args: make a session file
	req | openssl s_client -connect $SRV:$1 -servername res.test -CAfile "$c/root.pem" -sess_out "$work/$2.sess" -quiet -no_ign_eof "${@:3}" >/dev/null 2>&1 || true
}
sess 9501 s12 -tls1_2
capture ticket_refused_untrusted_openssl 9508 sc 9508 s12 in
capture ticket_refused_ok_openssl 9503 sc 9503 s12 in -tls1_2
# Client certificates: a resumed session to a server that requires one.
capture clientcert12_curl 9506 curl -sS "${CA[@]}" $U:9506/a $U:9506/b
capture clientcert13_curl 9507 curl -sS "${CA[@]}" $U:9507/a $U:9507/b
capture clientcert12_go 9506 "$work/goclient" $U:9506/
capture clientcert12_go_goserver 9523 "$work/goclient" -max12 $U:9523/
capture clientcert12_chromium 9506 chromium --ignore-certificate-errors-spki-list="$spki" --headless --disable-gpu --no-sandbox --user-data-dir="$work/chrome" --dump-dom $U:9506/
capture clientcert13_chromium 9507 chromium --ignore-certificate-errors-spki-list="$spki" --headless --disable-gpu --no-sandbox --user-data-dir="$work/chrome2" --dump-dom $U:9507/
# 0-RTT: a session with early data allowed, then early data on resumption,
# accepted (9510, nginx 9509) and refused (the session offered to 9511).
printf 'GET / HTTP/1.1\r\nHost: res.test\r\n\r\n' >"$work/early.txt"
sess 9510 e10
sess 9509 e09
cp "$work/e10.sess" "$work/e10b.sess"
capture early_accepted_openssl 9510 sc 9510 e10 in -early_data "$work/early.txt"
capture early_accepted_nginx 9509 sc 9509 e09 in -early_data "$work/early.txt"
capture early_rejected_openssl 9511 sc 9511 e10b in -early_data "$work/early.txt"
# TLS 1.2 renegotiation: s_client's R command, to s_server, which allows
# it (9512) or, as OpenSSL 3.0 does by default, refuses it (9513).
for p in 9512:reneg12_openssl 9513:reneg12_refused_openssl; do capture ${p#*:} ${p%:*} sh -c "(printf 'hello\n'; sleep 1; printf 'R\n'; sleep 1; printf 'again\n'; sleep 1) | openssl s_client -connect $SRV:${p%:*} -CAfile '$c/root.pem' -tls1_2 -keylogfile \"\$SSLKEYLOGFILE\""; done
ls -l "$out"
