#!/usr/bin/env bash
# Makes the keep-alive reuse captures of this directory (run as root): an
# nginx server in network namespace ru-srv, the clients in ru-cli, joined
# by the veth pair ruA/ruB (10.82.0.1 client, 10.82.0.2 server), with
# 150 ms of delay from server to client so that a server's close and a
# client's request cross on the wire as they do across a WAN. The delay
# is delay/main.go, holding packets that iptables queues to it (NFQUEUE;
# the kernel here has no netem): for the captures of the client's side
# (tcpdump on ruA) it holds the server's packets as they leave (ru-srv
# OUTPUT), for those of the server's side (*_srvside, tcpdump on ruB) as
# they arrive (ru-cli PREROUTING), so that each capture sees the wire
# from its end. Needs go, iproute2, iptables, tcpdump, nginx, openssl,
# curl and python3 with requests. CI does not
# run it; see README.md. Captures go to OUT (default /tmp/tlsdiag-reuse);
# the kept ones are listed in expected.tsv.
#
#   bash testdata/field/reuse/make.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
out=$(realpath -m "${1:-/tmp/tlsdiag-reuse}")
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip netns del ru-cli 2>/dev/null || true
	ip netns del ru-srv 2>/dev/null || true
	rm -rf "$work" /etc/netns/ru-cli
}
trap cleanup EXIT
ip netns del ru-cli 2>/dev/null || true
ip netns del ru-srv 2>/dev/null || true
ip netns add ru-cli
ip netns add ru-srv
ip link add ruA netns ru-cli type veth peer name ruB netns ru-srv
C() { ip netns exec ru-cli "$@"; }
S() { ip netns exec ru-srv "$@"; }
# reuse.test is the server, for every client (ip netns exec mounts this
# over /etc/hosts).
mkdir -p /etc/netns/ru-cli
echo "10.82.0.2 reuse.test" >/etc/netns/ru-cli/hosts
C ip addr add 10.82.0.1/24 dev ruA
S ip addr add 10.82.0.2/24 dev ruB
C ip link set lo up
S ip link set lo up
C ip link set ruA up
S ip link set ruB up
# No segmentation offload: the captures show the segments the wire carries.
C ethtool -K ruA tso off gso off gro off >/dev/null 2>&1 || true
S ethtool -K ruB tso off gso off gro off >/dev/null 2>&1 || true
go build -o "$work/delay" delay/main.go
ip netns exec ru-srv "$work/delay" -queue 1 -delay 150ms &
pids+=($!)
ip netns exec ru-cli "$work/delay" -queue 1 -delay 150ms &
pids+=($!)
# delayat cli|srv: where the server's packets are held (see above).
delayat() {
	S iptables -F OUTPUT
	C iptables -F PREROUTING -t mangle
	case $1 in
	cli) S iptables -A OUTPUT -p tcp --sport 8490:8499 -j NFQUEUE --queue-num 1 ;;
	srv) C iptables -t mangle -A PREROUTING -p tcp --sport 8490:8499 -j NFQUEUE --queue-num 1 ;;
	esac
}

# A private root and a leaf for reuse.test (CERTS=DIR reuses an earlier
# run's, so that root.pem here still verifies new captures).
c=$work/certs
mkdir -p "$c"
if [ -n "${CERTS:-}" ]; then
	cp "$CERTS"/* "$c"/
else
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=Reuse Test Root" -keyout "$c/root.key" -out "$c/root.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=reuse.test" \
		-keyout "$c/leaf.key" -out "$c/leaf.csr" 2>/dev/null
	printf 'subjectAltName=DNS:reuse.test\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$c/ext"
	openssl x509 -req -in "$c/leaf.csr" -CA "$c/root.pem" -CAkey "$c/root.key" -CAcreateserial \
		-days 3650 -extfile "$c/ext" -out "$c/leaf.pem" 2>/dev/null
fi
cp "$c/root.pem" "$out/root.pem"
mkdir -p "$out/certs"
cp "$c"/* "$out/certs/"

# One nginx, a server block per row.
srv() { # port listen-extra directives...
	local port=$1 listen=$2
	shift 2
	cat <<EON
server {
	listen 10.82.0.2:$port ssl $listen;
	server_name reuse.test;
	ssl_certificate $c/leaf.pem;
	ssl_certificate_key $c/leaf.key;
	ssl_protocols ${PROTO:-TLSv1.2 TLSv1.3};
	$*
	location / { return 200 "ok\n"; }
}
EON
}
mkdir -p "$work/nginx"
{
	echo "pid $work/nginx/pid; error_log $work/nginx/error.log info; daemon off; events {}"
	echo "http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;"
	srv 8490 "" "keepalive_timeout 1s;"
	srv 8491 "" "keepalive_requests 3;"
	srv 8492 http2 "keepalive_timeout 1s;"
	srv 8493 http2 "keepalive_requests 3;"
	srv 8494 "" "keepalive_timeout 950ms;"
	PROTO=TLSv1.2 srv 8495 "" "keepalive_timeout 1s;"
	srv 8496 "" 'if ($connection_requests = 2) { return 444; }'
	echo "}"
} >"$work/nginx/nginx.conf"
ip netns exec ru-srv nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
pids+=($!)
sleep 1

go build -o "$work/client" client/main.go
goclient() { C "$work/client" -ca "$c/root.pem" -addr "10.82.0.2:${port}" "$@" "https://reuse.test:${port}/"; }

# cap NAME PORT COMMAND...: one capture of the client's side (with
# SIDE=srv, of the server's: NAME_srvside.pcap) while COMMAND runs; what
# the client printed goes to NAME.txt.
cap() {
	local name=$1 t
	port=$2
	shift 2
	if [ "${SIDE:-cli}" = srv ]; then
		delayat srv
		ip netns exec ru-srv tcpdump -i ruB -U --immediate-mode -w "$out/${name}_srvside.pcap" "tcp port $port" 2>/dev/null &
		t=$!
		name=${name}_srvside
	else
		delayat cli
		ip netns exec ru-cli tcpdump -i ruA -U --immediate-mode -w "$out/$name.pcap" "tcp port $port" 2>/dev/null &
		t=$!
	fi
	sleep 1
	"$@" >"$out/$name.txt" 2>&1 || true
	sleep 2
	kill $t
	wait $t 2>/dev/null || true
	echo "== $name"
	cat "$out/$name.txt"
}
ROWS=${ROWS:-all}
row() { [ "$ROWS" = all ] || [[ " $ROWS " == *" $1 "* ]]; }

# nginx keepalive_timeout 1s; the client's next POST leaves 920 ms after
# it read the last answer, which came 150 ms after nginx sent it: the
# request reaches nginx 70 ms after its timer closed the connection, and
# nginx's close reaches the client 80 ms after the request left.
if row go_post_idle_timeout; then
	cap go_post_idle_timeout 8490 goclient -n 2 -gap 920ms -keylog "$out/go_post_idle_timeout.keylog"
	SIDE=srv cap go_post_idle_timeout 8490 goclient -n 2 -gap 920ms -keylog "$out/go_post_idle_timeout_srvside.keylog"
fi

# The same race met by Python requests (a Session, which keeps the
# connection) and by curl (three POSTs a second apart on one command
# line, --rate 60/m; nginx's keepalive_timeout 950 ms, so that its close
# crosses the third).
if row python_post_idle_timeout; then
	cap python_post_idle_timeout 8490 C env REQUESTS_CA_BUNDLE="$c/root.pem" python3 client/post.py https://reuse.test:8490/ 0.92
fi
if row curl_post_idle_timeout; then
	cap curl_post_idle_timeout 8494 C curl -v -sS --cacert "$c/root.pem" --rate 60/m -d '{"order":1}' \
		-o /dev/null -o /dev/null -o /dev/null -w '%{http_code} connects=%{num_connects}\n' https://reuse.test:8494/ https://reuse.test:8494/ https://reuse.test:8494/
fi
# HTTP/2: nginx's idle timer ends the connection with a GOAWAY (its h2
# timer runs from a little before its last answer left, hence the gap of
# 780 ms); Go's
# POST whose body it cannot replay (a plain io.Reader) crosses it.
if row go_h2_idle_goaway; then
	cap go_h2_idle_goaway 8492 goclient -h2 -streaming -n 2 -gap 780ms -keylog "$out/go_h2_idle_goaway.keylog"
fi
# HTTP/2, keepalive_requests 3: a request, then four at once on the same
# connection; nginx's GOAWAY after the third stream refuses the rest.
if row go_h2_max_requests; then
	cap go_h2_max_requests 8493 goclient -h2 -streaming -parallel -n 4 -keylog "$out/go_h2_max_requests.keylog"
fi
# HTTP/1.1, keepalive_requests 3: nginx says "Connection: close" on the
# third answer, and the client takes a new connection for the fourth: no
# failure (a control: nothing here may read as a race).
if row go_keepalive_requests; then
	cap go_keepalive_requests 8491 goclient -n 4 -keylog "$out/go_keepalive_requests.keylog"
fi

# The race over TLS 1.2, where close_notify is an alert record of its own.
if row go_post_idle_timeout_tls12; then
	cap go_post_idle_timeout_tls12 8495 goclient -n 2 -gap 920ms -keylog "$out/go_post_idle_timeout_tls12.keylog"
fi
# A control: nginx closes without an answer ("return 444") on the
# connection's second request, which came after the same 920 ms of idle:
# its close comes a round trip after the request, in answer to it.
if row go_post_dropped; then
	cap go_post_dropped 8496 goclient -n 2 -gap 920ms -keylog "$out/go_post_dropped.keylog"
fi
