#!/usr/bin/env bash
# Makes the Node.js and Python captures of this directory (run as root):
# the servers in network namespace np-srv, the clients in np-cli, joined by
# the veth pair npC/npS (10.91.0.1 client, 10.91.0.2 server), with 150 ms
# of delay from server to client so that a server's close and a client's
# request cross on the wire as they do across a WAN. The delay and the Go
# client are those of ../reuse (delay/main.go, holding the packets
# iptables queues to it; client/main.go): for captures of the client's
# side (tcpdump on npC) the server's packets are held as they leave
# (np-srv OUTPUT), for those of the server's side (*_srvside, tcpdump on
# npS) as they arrive (np-cli PREROUTING). Needs go, node, python3 with
# Flask, iproute2, iptables, tcpdump, openssl and curl. CI does not run it;
# see README.md. Captures go to OUT (default /tmp/tlsdiag-nodepy).
#
#   bash testdata/field/nodepy/make.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
out=$(realpath -m "${1:-/tmp/tlsdiag-nodepy}")
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip netns del np-cli 2>/dev/null || true
	ip netns del np-srv 2>/dev/null || true
	rm -rf "$work" /etc/netns/np-cli
}
trap cleanup EXIT
ip netns del np-cli 2>/dev/null || true
ip netns del np-srv 2>/dev/null || true
ip netns add np-cli
ip netns add np-srv
ip link add npC netns np-cli type veth peer name npS netns np-srv
C() { ip netns exec np-cli "$@"; }
S() { ip netns exec np-srv "$@"; }
mkdir -p /etc/netns/np-cli
echo "10.91.0.2 nodepy.test" >/etc/netns/np-cli/hosts
C ip addr add 10.91.0.1/24 dev npC
S ip addr add 10.91.0.2/24 dev npS
C ip link set lo up
S ip link set lo up
C ip link set npC up
S ip link set npS up
# No segmentation offload: the captures show the segments the wire carries.
C ethtool -K npC tso off gso off gro off >/dev/null 2>&1 || true
S ethtool -K npS tso off gso off gro off >/dev/null 2>&1 || true
go build -o "$work/delay" ../reuse/delay/main.go
go build -o "$work/client" ../reuse/client/main.go
ip netns exec np-srv "$work/delay" -queue 1 -delay 150ms &
pids+=($!)
ip netns exec np-cli "$work/delay" -queue 1 -delay 150ms &
pids+=($!)
# delayat cli|srv: where the server's packets are held (see above).
delayat() {
	S iptables -F OUTPUT
	C iptables -F PREROUTING -t mangle
	case $1 in
	cli) S iptables -A OUTPUT -p tcp --sport 9500:9599 -j NFQUEUE --queue-num 1 ;;
	srv) C iptables -t mangle -A PREROUTING -p tcp --sport 9500:9599 -j NFQUEUE --queue-num 1 ;;
	esac
}

# A private root and a leaf for nodepy.test (CERTS=DIR reuses an earlier
# run's, so that root.pem here still verifies new captures).
c=$work/certs
mkdir -p "$c"
if [ -n "${CERTS:-}" ]; then
	cp "$CERTS"/* "$c"/
else
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=NodePy Test Root" -keyout "$c/root.key" -out "$c/root.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=nodepy.test" \
		-keyout "$c/leaf.key" -out "$c/leaf.csr" 2>/dev/null
	printf 'subjectAltName=DNS:nodepy.test\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$c/ext"
	openssl x509 -req -in "$c/leaf.csr" -CA "$c/root.pem" -CAkey "$c/root.key" -CAcreateserial \
		-days 3650 -extfile "$c/ext" -out "$c/leaf.pem" 2>/dev/null
fi
cp "$c/root.pem" "$out/root.pem"
mkdir -p "$out/certs"
cp "$c"/* "$out/certs/"

# The servers: Node.js with its default keep-alive timeout (5 s) on 9501
# and with server.keepAliveTimeout = 1000 on 9502; Python's http.server
# with a handler timeout of 1 s on 9503; Flask's development server
# (Werkzeug) on 9504, for its Server header (it closes after each answer).
ip netns exec np-srv node server/server.js 9501 "$c/leaf.pem" "$c/leaf.key" >"$out/node9501.log" 2>&1 &
pids+=($!)
ip netns exec np-srv node server/server.js 9502 "$c/leaf.pem" "$c/leaf.key" 1000 >"$out/node9502.log" 2>&1 &
pids+=($!)
ip netns exec np-srv python3 server/server.py 9503 "$c/leaf.pem" "$c/leaf.key" http.server 1 >"$out/py9503.log" 2>&1 &
pids+=($!)
ip netns exec np-srv python3 server/server.py 9504 "$c/leaf.pem" "$c/leaf.key" werkzeug >"$out/py9504.log" 2>&1 &
pids+=($!)
sleep 5

goclient() { C "$work/client" -ca "$c/root.pem" -addr "10.91.0.2:${port}" "$@" "https://nodepy.test:${port}/"; }

# cap NAME PORT COMMAND...: one capture of the client's side (with
# SIDE=srv, of the server's: NAME_srvside.pcap) while COMMAND runs; what
# the client printed goes to NAME.txt.
cap() {
	local name=$1 t
	port=$2
	shift 2
	if [ "${SIDE:-cli}" = srv ]; then
		delayat srv
		ip netns exec np-srv tcpdump -i npS -U --immediate-mode -w "$out/${name}_srvside.pcap" "tcp port $port" 2>/dev/null &
		t=$!
		name=${name}_srvside
	else
		delayat cli
		ip netns exec np-cli tcpdump -i npC -U --immediate-mode -w "$out/$name.pcap" "tcp port $port" 2>/dev/null &
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
# EXPLORE=SECONDS: keep the servers up that long instead, to try them.
[ -z "${EXPLORE:-}" ] || { echo "servers up; sleeping"; sleep "$EXPLORE"; exit 0; }

# What each server says in its response head (curl -i, plain text).
if row heads; then
	for p in 9501 9502 9503 9504; do
		echo "== $p"
		C curl -sS -i --cacert "$c/root.pem" -d x "https://nodepy.test:$p/" | tr -d '\r' | grep -v '^Date:' || true
	done >"$out/heads.txt"
	cat "$out/heads.txt"
fi

# race NAME PORT GAP...: two POSTs GAP apart, one capture per GAP until
# the second meets the server's idle close ("request 2: error"): the delay
# tool holds packets 150 ms give or take tens of milliseconds, so one gap
# may miss. SIDE=srv as for cap.
race() {
	local name=$1 port=$2 gap side=${SIDE:-cli} txt
	shift 2
	txt=$name
	[ "$side" = cli ] || txt=${name}_srvside
	for gap in "$@"; do
		cap "$name" "$port" goclient -n 2 -gap "$gap" -keylog "$out/$txt.keylog"
		if grep -q "request 2: error" "$out/$txt.txt"; then
			echo "gap $gap" >>"$out/$txt.txt"
			return
		fi
		rm -f "$out/$txt.keylog"
	done
	echo "$txt: no gap met the close" >&2
}

# Node.js 20 closes an idle connection server.keepAliveTimeout plus one
# second (a fixed margin of its http module) after its last answer, and
# states the timeout alone ("Keep-Alive: timeout=1"). keepAliveTimeout
# 1000: the close comes 2.0 s after the answer left, which reaches the
# client 150 ms later; a POST 1.85 to 2 s after the answer reached the
# client leaves before the close reaches it and reaches the server after
# it closed.
if row node_post_idle_timeout; then
	race node_post_idle_timeout 9502 1920ms 1880ms 1960ms 1850ms 1900ms 1940ms
	SIDE=srv race node_post_idle_timeout 9502 1920ms 1880ms 1960ms 1850ms 1900ms 1940ms
fi
# The same with Node's default keepAliveTimeout (5 s: the close comes at
# 6 s).
if row node_default_idle_timeout; then
	race node_default_idle_timeout 9501 5920ms 5880ms 5960ms 5850ms 5900ms 5940ms
fi
# A control: the same client 1 s after the answer, inside Node's timeout:
# answered, no race.
if row node_reused_in_time; then
	cap node_reused_in_time 9502 goclient -n 2 -gap 1s -keylog "$out/node_reused_in_time.keylog"
fi
# Python's http.server, its handler's timeout 1 s: it closes 1.0 s after
# its answer (the handler's read times out). Its answer reaches the client
# 300 ms after it left, 150 ms behind its session tickets (the delay tool
# releases held packets one after another), hence shorter gaps.
if row python_httpserver_idle_timeout; then
	race python_httpserver_idle_timeout 9503 780ms 750ms 810ms 720ms 840ms 700ms
fi
