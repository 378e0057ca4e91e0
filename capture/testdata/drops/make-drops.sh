#!/usr/bin/env bash
# Regenerates dumpcap-drops.pcapng (run as root): dumpcap on loopback with a
# 1 MiB buffer records a TLS 1.3 handshake (openssl s_server, curl), then is
# stopped (SIGSTOP) while 20,000 small UDP datagrams arrive, so that the
# kernel drops most of them, and dumpcap writes the drops in its Interface
# Statistics Block. Traffic stays on loopback. Needs dumpcap
# (wireshark-common), openssl, curl and python3.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 3650 -subj /CN=drops.test -addext subjectAltName=DNS:drops.test 2>/dev/null
openssl s_server -accept 127.0.0.1:9446 -cert "$work/cert.pem" -key "$work/key.pem" -www -quiet >/dev/null 2>&1 &
dumpcap -q -i lo -B 1 -f 'udp port 9999 or tcp port 9446' -w "$work/drops.pcapng" >/dev/null 2>&1 &
dc=$!
sleep 2
curl -s --cacert "$work/cert.pem" --connect-to drops.test:9446:127.0.0.1:9446 https://drops.test:9446/ -o /dev/null
sleep 0.5
kill -STOP $dc
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(b"x", ("127.0.0.1", 9999))
'
kill -CONT $dc
sleep 1
kill -INT $dc
wait $dc || true
cp "$work/drops.pcapng" "$here/dumpcap-drops.pcapng"
chmod 644 "$here/dumpcap-drops.pcapng"
