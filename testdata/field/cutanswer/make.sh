#!/bin/bash
# Makes the captures of testdata/field/cutanswer (run as root): a request
# answered 1.5 s late with a 200 KB body, captured in a network namespace
# whose loopback has an Ethernet MTU (so TLS records span segments), then
# cut inside the answer's first record.
set -euo pipefail
cd "$(dirname "$0")"
out=$(realpath -m "${1:-/tmp/tlsdiag-cutanswer}")
mkdir -p "$out"
work=$(mktemp -d)
ns=tlsdiag-cutanswer
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo mtu 1500 up
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
	-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
ip netns exec "$ns" python3 server.py "$work/cert.pem" "$work/key.pem" 127.0.0.1 9782 1.5 200000 &
pids+=($!)
sleep 1
ip netns exec "$ns" tcpdump -i lo -U -w "$work/whole.pcap" "tcp port 9782" 2>/dev/null &
dump=$!
pids+=($dump)
sleep 1
ip netns exec "$ns" curl -sS --tls-max 1.2 --cacert "$work/cert.pem" -o /dev/null https://127.0.0.1:9782/
sleep 1
kill "$dump"
wait "$dump" || true
# Keep the frames up to the answer's first segment, which carries part of
# its first record.
req=$(tshark -r "$work/whole.pcap" -Y 'tcp.srcport != 9782 && tls.record.content_type == 23' -T fields -e frame.number | head -1)
last=$(tshark -r "$work/whole.pcap" -Y "tcp.srcport == 9782 && tcp.len > 0 && frame.number > $req" -T fields -e frame.number | head -1)
editcap -r "$work/whole.pcap" "$out/curl_late_answer_cut.pcap" "1-$last"
ls -l "$out"
