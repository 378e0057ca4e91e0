#!/usr/bin/env bash
# Regenerates the captures in this directory (run as root): a probe
# (probe.py: Python's ssl ClientHello, then it reads the server's flight and
# closes without an alert) against openssl s_server in a network namespace
# behind a veth pair of MTU 1500, so that the server's flight (an RSA leaf
# and intermediate) spans several TCP segments; tcpdump on the host's end.
# The probe closes first, the server's FIN answers it. Then one server
# segment in the middle of its flight is dropped from the capture (editcap),
# as a capture that lost a packet shows it. Needs iproute2, openssl,
# python3, tcpdump and editcap. CI does not run it; see README.md.
#
#   bash testdata/field/gapclose/make.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
S=gapcloseS
pids=()
cleanup() {
	[ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	ip netns del $S 2>/dev/null || true
	ip link del gch 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ip netns del $S 2>/dev/null || true
ip link del gch 2>/dev/null || true
ip netns add $S
ip -n $S link set lo up
ip link add gch type veth peer name gcs netns $S
ip addr add 10.80.0.1/24 dev gch
ip -n $S addr add 10.80.0.2/24 dev gcs
ip link set gch mtu 1500 up
ip -n $S link set gcs mtu 1500 up
# One segment a packet (no segmentation offload): the capture shows the
# segments of the wire.
ip link set gch gso_max_segs 1 gro_max_size 1500 2>/dev/null || ip link set gch gso_max_segs 1
ip -n $S link set gcs gso_max_segs 1
cd "$work"

openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -subj "/CN=Gap Close Field Root CA" -days 3650 -out root.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout int.key -subj "/CN=Gap Close Field Intermediate CA" -out int.csr 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3650 -extfile int.ext -out int.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -subj "/CN=gap.test" -out leaf.csr 2>/dev/null
printf 'subjectAltName=DNS:gap.test\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 825 -extfile leaf.ext -out leaf.pem 2>/dev/null

cat leaf.pem int.pem >chain.pem
cat >nginx.conf <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log info;
events {}
http {
	access_log off;
	ssl_protocols TLSv1.2;
	server { listen 10.80.0.2:8741 ssl; ssl_certificate $work/chain.pem; ssl_certificate_key $work/leaf.key; location / { return 200 "ok\n"; } }
}
CONF
ip netns exec $S nginx -c "$work/nginx.conf"
sleep 1

tcpdump -i gch -s 0 -U -w "$work/full.pcap" "tcp port 8741" 2>/dev/null &
dump=$!
sleep 1
timeout 20 python3 "$here/probe.py" 10.80.0.2 8741 gap.test
sleep 1
kill $dump; wait $dump 2>/dev/null || true
tcpdump -r full.pcap -nn -tt 2>/dev/null | cat -n
tail -n 1 error.log
cp full.pcap "$here/probe_full.pcap"
# Frame 8 is the server's second segment (the rest of its Certificate,
# ServerKeyExchange, ServerHelloDone), which the client acknowledged
# (frame 9) before it closed (frame 10), as frames 1-12 of the run that
# made these captures were; check the listing above if a rerun differs.
editcap "$here/probe_full.pcap" "$here/probe_lost_server_segment.pcap" 8
