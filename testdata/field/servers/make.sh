#!/usr/bin/env bash
# Makes the server x failure captures of this directory (run as root):
# six TLS servers (Go net/http, Node.js https, Python ssl + http.server,
# gnutls-serv, openssl s_server, Java HttpsServer) in the network
# namespace srvns (10.83.0.2, veth srvN), each made to fail in one way
# per port; the clients (Go net/http, curl, openssl s_client, Python ssl)
# on the host end srvH (10.83.0.1), where tcpdump captures, one capture per
# server, row and client. Needs go, iproute2, tcpdump, openssl, gnutls-bin,
# curl, python3, node and a JDK 17. CI does not run it; see README.md. The
# captures a test keeps are listed in expected.tsv; every capture is
# written to OUT (default /tmp/tlsdiag-servers).
#
#   bash testdata/field/servers/make.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
out=$(realpath -m "${1:-/tmp/tlsdiag-servers}")
mkdir -p "$out"
work=$(mktemp -d)
NS=srvns SRV=10.83.0.2
cleanup() {
	# The servers: every process left in the namespace.
	local p
	for p in $(ip netns pids $NS 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	ip netns del $NS 2>/dev/null || true
	ip link del srvH 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns del $NS 2>/dev/null || true
ip link del srvH 2>/dev/null || true
ip netns add $NS
ip link add srvH type veth peer name srvN
ip link set srvN netns $NS
ip addr add 10.83.0.1/24 dev srvH
ip link set srvH up
ip -n $NS addr add $SRV/24 dev srvN
ip -n $NS link set srvN up
ip -n $NS link set lo up
# No segmentation offload: the capture shows the segments on the wire.
ethtool -K srvH tso off gso off gro off >/dev/null 2>&1 || true
X() { ip netns exec $NS "$@"; }

c=$work/certs
mkdir -p "$c"
if [ -n "${CERTS:-}" ]; then
	cp "$CERTS"/*.pem "$CERTS"/*.key "$c"/
else
	go run gen/main.go "$c"
fi
cp "$c/trusted-root.pem" "$out/root.pem"
mkdir -p "$out/certs"
cp "$c"/*.pem "$c"/*.key "$out/certs/"
# Certificate variants: the chain (leaf first) and the key of each.
cat "$c/trusted-leaf.pem" "$c/trusted-int.pem" >"$c/chain.pem"
cat "$c/untrusted-leaf.pem" "$c/untrusted-int.pem" >"$c/untrusted.pem"
cat "$c/expired.pem" "$c/trusted-int.pem" >"$c/expired-chain.pem"
cat "$c/other.pem" "$c/trusted-int.pem" >"$c/other-chain.pem"
declare -A chainf=([chain]=chain.pem [untrusted]=untrusted.pem [expired]=expired-chain.pem [other]=other-chain.pem [leafonly]=trusted-leaf.pem)
# The intermediate each variant's chain holds, for servers that take it apart from the leaf.
declare -A intf=([chain]=trusted-int.pem [untrusted]=untrusted-int.pem [expired]=trusted-int.pem [other]=trusted-int.pem)
declare -A keyf=([chain]=trusted-leaf.key [untrusted]=untrusted-leaf.key [expired]=expired.key [other]=other.key [leafonly]=trusted-leaf.key)
for v in "${!chainf[@]}"; do
	openssl pkcs12 -export -in "$c/${chainf[$v]}" -inkey "$c/${keyf[$v]}" -name server -out "$c/$v.p12" -passout pass:changeit
done
keytool -importcert -noprompt -alias root -file "$c/trusted-root.pem" -keystore "$c/trust.p12" -storetype PKCS12 -storepass changeit >/dev/null 2>&1

(cd server && go build -o "$work/goserver" . && javac -d "$work/java" Server.java)
(cd client && go build -o "$work/goclient" .)

# Rows: name, port offset, certificate variant, server mode.
rows=${ROWS:-"ok:0:chain: untrusted:1:untrusted: expired:2:expired: mismatch:3:other: nochain:4:leafonly: tls13only:5:chain:min13 tls12only:6:chain:max12 cipher:7:chain:cipher clientcert:8:chain:clientca alpn:9:chain:alpn sni:10:chain:sni plainsrv:11:chain:plain"}
declare -A base=([go]=9400 [node]=9416 [python]=9432 [gnutls]=9448 [openssl]=9464 [java]=9480)

# server NAME PORT VARIANT MODE: starts server NAME on PORT in the
# namespace; returns 3 when it cannot be made to fail so.
server() {
	local name=$1 port=$2 v=$3 mode=$4 cert=$c/${chainf[$3]} key=$c/${keyf[$3]}
	case $name in
	go)
		local o=()
		case $mode in
		min13|max12|cipher|alpn|plain) o=(-$mode) ;;
		clientca) o=(-clientca "$c/trusted-root.pem") ;;
		sni) o=(-sni srv.test) ;;
		esac
		X "$work/goserver" -addr $SRV:$port -cert "$cert" -key "$key" "${o[@]}" ;;
	node|python)
		local m=$mode
		[ $mode = clientca ] && m=clientca=$c/trusted-root.pem
		[ $mode = sni ] && m=sni=srv.test
		[ $name = python ] && [ $mode = alpn ] && return 3 # its ALPN callback never refuses
		if [ $name = node ]; then X node server/server.js $SRV $port "$cert" "$key" $m
		else X python3 server/server.py $SRV $port "$cert" "$key" $m; fi ;;
	gnutls)
		local p=NORMAL o=()
		case $mode in
		plain) return 3 ;;
		min13) p=NORMAL:-VERS-ALL:+VERS-TLS1.3 ;;
		max12) p=NORMAL:-VERS-TLS1.3 ;;
		cipher) p=NORMAL:-VERS-TLS1.3:-CIPHER-ALL:+CAMELLIA-256-GCM ;;
		clientca) o=(--require-client-cert --verify-client-cert --x509cafile "$c/trusted-root.pem") ;;
		alpn) o=(--alpn h2 --alpn-fatal) ;;
		sni) o=(--sni-hostname srv.test --sni-hostname-fatal) ;;
		esac
		X gnutls-serv --http --port $port --x509certfile "$cert" --x509keyfile "$key" --priority "$p" "${o[@]}" ;;
	openssl)
		local o=()
		case $mode in
		plain|alpn) return 3 ;; # no plain mode; its ALPN never refuses
		min13) o=(-tls1_3) ;;
		max12) o=(-no_tls1_3) ;;
		cipher) o=(-no_tls1_3 -cipher ECDHE-ECDSA-CAMELLIA256-SHA384) ;;
		clientca) o=(-Verify 1 -verify_return_error -CAfile "$c/trusted-root.pem") ;;
		sni) o=(-servername srv.test -servername_fatal -cert2 "$cert" -key2 "$key") ;;
		esac
		# -cert sends the first certificate of its file only: the
		# intermediate goes in -cert_chain.
		[ -z "${intf[$v]:-}" ] || o+=(-cert_chain "$c/${intf[$v]}")
		X openssl s_server -quiet -www -accept $SRV:$port -cert "$cert" -key "$key" "${o[@]}" ;;
	java)
		local m=$mode
		[ $mode = clientca ] && m=clientca=$c/trust.p12
		[ $mode = sni ] && m=sni=srv.test
		X java -cp "$work/java" Server $SRV $port "$c/$v.p12" $m ;;
	esac
}

servers=${SERVERS:-"go node python gnutls openssl java"}
declare -A up=()
for s in $servers; do
	for r in $rows; do
		IFS=: read -r row off v mode <<<"$r"
		port=$((base[$s] + off))
		(server $s $port $v "$mode" && echo rc=0 || echo rc=$?) >"$work/server_${s}_$row.log" 2>&1 &
		up[$s:$row]=$port
	done
done
# Wait for every server to listen (or to have said it cannot play its row).
for i in $(seq 120); do
	missing=0
	for k in "${!up[@]}"; do
		s=${k%%:*} row=${k#*:}
		if grep -q "^rc=3" "$work/server_${s}_$row.log"; then unset "up[$k]"; continue; fi
		X ss -ltnH "sport = :${up[$k]}" | grep -q . || missing=1
	done
	[ $missing = 1 ] || break
	sleep 1
done

req() { printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$1"; sleep 2; }

# client NAME PLAY PORT: one attempt of client NAME at the server of a row
# on PORT, as PLAY says (the row's name, or a variant of it: clientcert
# without a certificate and with one from the untrusted root, each also
# at TLS 1.2 at most; plainreq, plain HTTP to the ok row's port); returns
# 3 when the client cannot play it.
client() {
	local name=$1 row=$2 port=$3 host=srv.test tls=(normal) cert=()
	case $row in
	tls13only) tls=(max12) ;;
	tls12only) tls=(min13) ;;
	alpn) tls=(h1) ;;
	sni) host=unknown.test ;;
	plainreq) tls=(plain) ;;
	clientcert_untrusted) cert=("$c/untrusted-client.pem" "$c/untrusted-client.key") ;;
	clientcert12_none) tls=(max12) ;;
	clientcert12_untrusted) tls=(max12) cert=("$c/untrusted-client.pem" "$c/untrusted-client.key") ;;
	esac
	case $name in
	go)
		local o=() u=https
		case $tls in max12|min13|h1) o=(-$tls) ;; plain) u=http ;; esac
		[ ${#cert[@]} -eq 0 ] || o+=(-cert "${cert[0]}" -key "${cert[1]}")
		"$work/goclient" -ca "$c/trusted-root.pem" -connect $SRV:$port "${o[@]}" $u://$host:$port/ ;;
	curl)
		local o=() u=https
		case $tls in max12) o=(--tls-max 1.2) ;; min13) o=(--tlsv1.3) ;; h1) o=(--http1.1) ;; plain) u=http ;; esac
		[ ${#cert[@]} -eq 0 ] || o+=(--cert "${cert[0]}" --key "${cert[1]}")
		curl -sS --max-time 10 --resolve $host:$port:$SRV --cacert "$c/trusted-root.pem" "${o[@]}" $u://$host:$port/ ;;
	openssl)
		local o=()
		case $tls in max12) o=(-tls1_2) ;; min13) o=(-tls1_3) ;; h1) o=(-alpn http/1.1) ;; plain) return 3 ;; esac
		[ ${#cert[@]} -eq 0 ] || o+=(-cert "${cert[0]}" -key "${cert[1]}")
		req $host | openssl s_client -quiet -connect $SRV:$port -servername $host -verify_hostname $host -CAfile "$c/trusted-root.pem" -verify_return_error "${o[@]}" ;;
	python)
		local o=($tls)
		[ ${#cert[@]} -eq 0 ] || o+=("cert=${cert[0]},key=${cert[1]}")
		python3 client/get.py $SRV $port $host "$c/trusted-root.pem" "${o[@]}" ;;
	esac
}

# capture FILE PORT CLIENT PLAY
capture() {
	local f=$1 port=$2 name=$3 row=$4
	tcpdump -i srvH --immediate-mode -U -s 0 -w "$f" "tcp port $port" 2>"$work/tcpdump.err" &
	local tp=$! i
	for i in $(seq 50); do grep -q listening "$work/tcpdump.err" && break; sleep 0.1; done
	sleep 0.2
	local rc=0
	timeout 15 bash -c "$(declare -f client req); $(declare -p c work); SRV=$SRV; client $name $row $port" >"$f.out" 2>&1 || rc=$?
	sleep 1
	kill -INT $tp; wait $tp 2>/dev/null || true
	echo "rc=$rc" >>"$f.out"
	[ $rc -ne 3 ] || rm -f "$f" "$f.out"
}

clients=${CLIENTS:-"go curl openssl python"}
for s in $servers; do
	for r in $rows; do
		IFS=: read -r row off v mode <<<"$r"
		port=${up[$s:$row]:-}
		[ -n "$port" ] || continue
		plays=$row
		[ $row = clientcert ] && plays="clientcert_none clientcert_untrusted clientcert12_none clientcert12_untrusted"
		[ $row = ok ] && plays="ok plainreq"
		for p in $plays; do
			for cl in $clients; do
				capture "$out/${s}_${p}_$cl.pcap" $port $cl $p
			done
		done
	done
done
