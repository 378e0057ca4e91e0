#!/bin/sh
# Derives captures from the real captures of testdata/captures: frames
# dropped (editcap), cut by a snap length (editcap -s, as tcpdump -s does),
# interfaces of several link types merged (mergecap), compressed (zstd, lz4,
# bzip2, xz). Every derived capture is listed in expected.tsv with the
# category and a phrase its verdict must have (diagnose's TestDerivedCaptures).
# Needs editcap, mergecap (Wireshark), tcpdump, zstd, lz4, bzip2, xz. Run from
# anywhere: sh testdata/derived/make.sh
set -eu
cd "$(dirname "$0")"
C=../captures

# A TLS 1.2 handshake whose ServerHello frame (6) the capture lost.
editcap "$C/ok_mtu576.pcap" lost_server_hello.pcap 6
# The client's CKE/CCS/Finished (frame 14) lost: its data after the server's
# Finished, answered by the server, shows the handshake completed; its
# encrypted alert after that must not read as a rejected certificate.
editcap "$C/ok_mtu576.pcap" lost_client_flight.pcap 14
# The server's last TLS 1.2 flight (CertificateRequest etc. answered by an
# alert, frame 9) lost: its FIN must not read as a silent abort.
editcap "$C/client_cert_required.pcap" lost_server_alert.pcap 9
# A TLS 1.3 server's flight (frame 6) lost with nothing after it from the
# server: only the client's acknowledgment shows the bytes existed.
editcap "$C/cert_rejected.pcap" lost_server_flight.pcap 6

# An Ethernet interface and an NFLOG one (link type 239) in one pcapng: the
# NFLOG frames are skipped and counted, the TLS connections analysed.
# nflog.cap is made by make-nflog.sh (root).
mergecap -F pcapng -w ethernet_and_nflog.pcapng "$C/ok.pcap" nflog.cap

# Compressed captures, read by magic like gzip: zstd and the LZ4 frame
# format (a pcap and a pcapng).
zstd -q -f -o ok.pcap.zst "$C/ok.pcap"
lz4 -q -f "$C/ok.pcap" ok.pcap.lz4
zstd -q -f -o ethernet_and_nflog.pcapng.zst ethernet_and_nflog.pcapng
lz4 -q -f ethernet_and_nflog.pcapng ethernet_and_nflog.pcapng.lz4

# Cut by a snap length, as tcpdump -s cuts them.
editcap -s 200 "$C/cert_hostname_mismatch.pcap" cert_hostname_mismatch_snap200.pcap
editcap -s 200 "$C/ok.pcap" ok_snap200.pcap
editcap -s 1500 "$C/cert_rejected.pcap" cert_rejected_snap1500.pcap
# A ClientHello cut short: Go's hello with a post-quantum key share (about
# 1.5 KB) by the snap length of 1500 bytes, curl's by 300 bytes. The record
# shows what was read before the cut (SNI, versions, suites).
editcap -s 1500 "$C/cert_untrusted_ca_go.pcap" cert_untrusted_ca_go_snap1500.pcap
editcap -s 300 "$C/ok.pcap" ok_snap300.pcap
# tcpdump -s 96: the connections' start is there, their handshakes are cut.
editcap -s 96 "$C/ok.pcap" ok_snap96.pcap
editcap -s 96 "$C/cert_untrusted_ca.pcap" cert_untrusted_ca_snap96.pcap

# One direction only, as tcpdump -Q or a mirror port of one direction
# captures it: the peer's acknowledgments alone show the other's bytes.
tcpdump -r "$C/ok.pcap" -w ok_client_only.pcap 'tcp dst port 4431'
tcpdump -r "$C/ok.pcap" -w ok_server_only.pcap 'tcp src port 4431'

# The SNI drop captured at the server, with the completed connection moved
# to the dropped one's port (4493 → 4492): the silent connection is then to
# a port that carries TLS later in the capture, and is reported without
# --tls-port (analysis's TestSilentConnectionReported).
tcprewrite --portmap=4493:4492 --fixcsum -i ../path_sni_filter_server.pcap -o silent_then_tls_same_port.pcap
# The SNI drop captured at the client with the dropped hello and its
# retransmissions (frames 4-8 and 26) cut out: at the client's end, a connection
# silent after its TCP handshake is a client that sent nothing.
editcap ../path_sni_filter.pcap silent_at_client.pcap 4-8 26

# The capture's clock set back an hour half-way, as an NTP step while
# capturing, or mergecap -a of two hosts' files, gives: frames 77-153 of
# the field capture clients_node_java.pcap an hour earlier. The verdicts
# must be the original's (diagnose's TestClockStepKeepsVerdicts); the
# certificates, minutes old, must not read as not yet valid.
T=$(mktemp -d)
editcap -r ../field/clients_node_java.pcap "$T/before.pcap" 1-76
editcap -r -t -3600 ../field/clients_node_java.pcap "$T/after.pcap" 77-153
mergecap -F pcap -a -w clients_node_java_back.pcap "$T/before.pcap" "$T/after.pcap"
rm -r "$T"
# The same step back, between the client's last SYN and the server's late
# SYN-ACK (frames 4-5 of the field capture syn_ack_after_timeout.pcapng an
# hour earlier): the SYNs sent again still say the client gave up, and the
# wait is not printed as if the timestamps were right.
T=$(mktemp -d)
editcap -r ../field/syn_ack_after_timeout.pcapng "$T/before.pcapng" 1-3
editcap -r -t -3600 ../field/syn_ack_after_timeout.pcapng "$T/after.pcapng" 4-5
mergecap -F pcapng -a -w syn_ack_after_timeout_back.pcapng "$T/before.pcapng" "$T/after.pcapng"
rm -r "$T"
# Every frame twice (mergecap of a capture with itself, as a SPAN port or
# a capture on two interfaces gives): a copy microseconds after a segment
# is no loss. The close_notify of a good exchange, lost and sent again
# after the FIN, must still get no loss warning; the request lost while
# the client waited still must.
mergecap -F pcap -w loss_close_notify_resent_dup.pcap ../field/loss_close_notify_resent.pcap ../field/loss_close_notify_resent.pcap
mergecap -F pcap -w loss_unacked_after_settings_dup.pcap ../field/loss_unacked_after_settings.pcap ../field/loss_unacked_after_settings.pcap
# The capture's clock set back an hour, as above, between the client's
# resends of its request (frames 24-28 of the field capture
# loss_resent_3s.pcap an hour earlier): the bytes sent again still say
# packets were lost, over a time the capture does not know, not over the
# negative span of the timestamps.
T=$(mktemp -d)
editcap -r ../field/loss_resent_3s.pcap "$T/before.pcap" 1-23
editcap -r -t -3600 ../field/loss_resent_3s.pcap "$T/after.pcap" 24-28
mergecap -F pcap -a -w loss_resent_3s_back.pcap "$T/before.pcap" "$T/after.pcap"
rm -r "$T"
