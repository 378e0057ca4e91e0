#!/usr/bin/env bash
# Regenerates the https:// proxy captures in this directory (run as root):
# gen/main.go's proxies and targets on loopback, a Go net/http client and
# curl through them, tcpdump on lo for the proxy's port only (the client's
# side). Needs go, tcpdump and curl. CI does not run it; see README.md.
#
#   bash testdata/field/https_proxy/make.sh [NAME...]
#
# Names given (captures without .pcap): only those are written.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
only=" $* "
work=$(mktemp -d)
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/gen" ./gen
"$work/gen" certs "$work"
"$work/gen" serve "$work" &
pids+=($!)
sleep 1

capture() { # name proxyport command...
	local name=$1 port=$2
	shift 2
	[ "$only" = "  " ] || [[ $only == *" $name "* ]] || return 0
	tcpdump -i lo -s 0 -U -w "$here/$name.pcap" "tcp port $port" 2>/dev/null &
	local tp=$!
	sleep 1
	"$@" || true
	sleep 1
	kill $tp
	wait $tp || true
}
goget() { # proxyport url keylog
	"$work/gen" get "$work" "$@"
}
capture go_ok 8721 goget 8721 https://test.example:8731/ "$here/go_ok.keylog"
capture go_untrusted_ca 8722 goget 8722 https://test.example:8732/ "$here/go_untrusted_ca.keylog"
capture go_expired 8723 goget 8723 https://test.example:8733/ "$here/go_expired.keylog"
capture go_hostname_mismatch_tls12 8724 goget 8724 https://test.example:8734/ "$here/go_hostname_mismatch_tls12.keylog"
capture curl_untrusted_ca 8725 env SSLKEYLOGFILE="$here/curl_untrusted_ca.keylog" \
	curl -sS --max-time 10 --proxy https://127.0.0.1:8725 --proxy-cacert "$work/root.pem" --cacert "$work/root.pem" \
	-o /dev/null https://test.example:8732/
# A proxy that speaks TLS 1.2 at most: its records open with the
# CLIENT_RANDOM line, the target's (TLS 1.3) with its own secrets.
capture go_proxy12_untrusted_ca 8727 goget 8727 https://test.example:8732/ "$here/go_proxy12_untrusted_ca.keylog"
# curl -k to the misnamed TLS 1.2 target: it completes, and the key log
# has the target's master secret too.
capture curl_insecure_tls12 8725 env SSLKEYLOGFILE="$here/curl_insecure_tls12.keylog" \
	curl -sS -k --max-time 10 --proxy https://127.0.0.1:8725 --proxy-cacert "$work/root.pem" \
	-o /dev/null https://test.example:8734/
# curl opens a tunnel (-p) for telnet:// and, with nothing on its standard
# input, closes it at once: nothing goes through.
capture curl_tunnel_unused 8725 env SSLKEYLOGFILE="$here/curl_tunnel_unused.keylog" \
	curl -sS -p --max-time 5 --proxy https://127.0.0.1:8725 --proxy-cacert "$work/root.pem" \
	telnet://test.example:8731 </dev/null
# The client's key log without the target's secrets: only the lines of the
# first client random, the proxy's handshake (Go logs it first).
capture go_expired_proxy_keys 8726 goget 8726 https://test.example:8733/ "$work/all.keylog"
if [ -s "$work/all.keylog" ]; then
	first=$(awk '{print $2; exit}' "$work/all.keylog")
	awk -v r="$first" '$2 == r' "$work/all.keylog" >"$here/go_expired_proxy_keys.keylog"
fi
