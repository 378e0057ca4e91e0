#!/usr/bin/env bash
# Regenerates the browser captures in this directory (run as root):
# Chromium headless in one network namespace, openssl s_server in another,
# joined by a veth pair; tcpdump on the client's interface, as a user
# captures next to the browser. Needs go, iproute2, tcpdump, tshark,
# openssl, chromium and certutil (libnss3-tools). CI does not run it; see
# README.md.
#
#   bash testdata/field/browser/make.sh [CAPTURE.pcap...]
#
# Names given: only those captures are written.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
only=" $* "
work=$(mktemp -d)
C=brwC S=brwS
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	for ns in $C $S; do ip netns del $ns 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
for ns in $C $S; do ip netns del $ns 2>/dev/null || true; done
for ns in $C $S; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add bc netns $C type veth peer name bs netns $S
ip -n $C addr add 10.79.0.1/24 dev bc
ip -n $S addr add 10.79.0.2/24 dev bs
ip -n $C link set bc up
ip -n $S link set bs up

certs=$work/certs
mkdir -p "$certs"
go run gen/main.go "$certs"
# Chromium's own NSS database (in the HOME it runs with) trusts the
# trusted root only; the untrusted root is in no store.
export HOME=$work/home
mkdir -p "$HOME/.pki/nssdb"
certutil -d "sql:$HOME/.pki/nssdb" -N --empty-password
certutil -d "sql:$HOME/.pki/nssdb" -A -n "Browser Trusted Root CA" -t "C,," -i "$certs/trusted-root.pem"

server() { # port leaf chain-or-"" [s_server args]
	local port=$1 leaf=$2 chain=$3
	shift 3
	ip netns exec $S openssl s_server -quiet -www -accept 10.79.0.2:$port \
		-cert "$certs/$leaf.pem" -key "$certs/$leaf.key" ${chain:+-cert_chain "$certs/$chain.pem"} "$@" \
		</dev/null >/dev/null 2>"$work/server-$port.err" &
	pids+=($!)
}
server 8701 untrusted-leaf untrusted-int
server 8702 trusted-expired trusted-int
server 8703 trusted-other trusted-int
server 8704 trusted-leaf ""
server 8705 trusted-leaf trusted-int -min_protocol TLSv1 -max_protocol TLSv1.1 -cipher 'DEFAULT:@SECLEVEL=0'
server 8706 trusted-rsa trusted-int -max_protocol TLSv1.2 -cipher 'AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:AES256-SHA'
server 8707 trusted-leaf trusted-int
server 8708 trusted-rsa trusted-int -max_protocol TLSv1.2 -cipher 'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384'
# The certificate cases again with TLS 1.2 at most: the certificate and the
# client's alert are in the clear.
tls12="-max_protocol TLSv1.2"
server 8711 untrusted-leaf untrusted-int $tls12
server 8712 trusted-expired trusted-int $tls12
server 8713 trusted-other trusted-int $tls12
server 8714 trusted-leaf "" $tls12
sleep 1

# capture OUT PORT [CHROMIUM-FLAG...]: Chromium opens
# https://test.example:PORT/ while tcpdump writes OUT; Chromium writes its
# TLS secrets to OUT's .keylog (kept for the TLS 1.3 captures) and prints
# its net::ERR_ error.
capture() {
	local out=$1 port=$2
	shift 2
	[ "$only" = "  " ] || [[ $only == *" $out "* ]] || return 0
	ip netns exec $C tcpdump -i bc -s 0 -U -w "$work/$out" "tcp port $port" 2>/dev/null &
	local dump=$!
	sleep 1
	rm -f "$work/keys.log"
	ip netns exec $C env SSLKEYLOGFILE="$work/keys.log" timeout 20 chromium --headless --no-sandbox --user-data-dir="$work/profile-$port" \
		--host-resolver-rules="MAP test.example 10.79.0.2" "$@" \
		--dump-dom "https://test.example:$port/" >"$work/$out.out" 2>"$work/$out.err" || true
	sleep 1
	kill -INT $dump
	wait $dump || true
	grep -o 'net::ERR_[A-Z_]*' "$work/$out.err" | sort -u | sed "s/^/$out: /" || echo "$out: no net:: error"
	cp "$work/$out" "$here/$out"
	case $out in *_tls12.pcap | tls11_only.pcap | rsa_kx_only*.pcap | dhe_only.pcap) ;; *) cp "$work/keys.log" "$here/${out%.pcap}.keylog"; chmod 644 "$here/${out%.pcap}.keylog" ;; esac
}
capture untrusted_ca.pcap 8701
capture expired.pcap 8702
capture hostname_mismatch.pcap 8703
capture incomplete_chain.pcap 8704
capture tls11_only.pcap 8705
capture rsa_kx_only.pcap 8706
# Chrome 131 and later no longer offer RSA key exchange; this Chromium
# still does, so its four TLS_RSA suites are switched off by hand.
capture rsa_kx_only_dropped.pcap 8706 --cipher-suite-blacklist=0x009c,0x009d,0x002f,0x0035
capture ok.pcap 8707
capture dhe_only.pcap 8708
capture untrusted_ca_tls12.pcap 8711
capture expired_tls12.pcap 8712
capture hostname_mismatch_tls12.pcap 8713
capture incomplete_chain_tls12.pcap 8714
if [ -n "${KEEP:-}" ]; then cp -r "$work" "$KEEP"; fi
