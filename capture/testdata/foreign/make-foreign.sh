#!/usr/bin/env bash
# Regenerates the files in this directory: the first bytes of
# ../lo-tls12-openssl.pcap converted to formats tlsdiag does not read, which
# is all it looks at to name them. Needs editcap (wireshark-common), zip,
# tar and tcpdump.
set -euo pipefail
cd "$(dirname "$0")"
src=../lo-tls12-openssl.pcap
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in snoop netmon1 netmon2 ngsniffer ngwsniffer_2_0 observer; do
	editcap -F "$f" "$src" "$work/$f"
	head -c 512 "$work/$f" > "$f.head"
done
cp "$src" "$work/capture.pcap"
(cd "$work" && zip -q capture.zip capture.pcap && tar cf capture.tar capture.pcap)
head -c 512 "$work/capture.zip" > zip.head
head -c 1024 "$work/capture.tar" > tar.head
tcpdump -nr "$src" 2>/dev/null | head -n 5 > tcpdump-text.head
