package analysis_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
)

// TestDTLSAsTshark checks the DTLS counted for the note that says it was
// not analysed against Wireshark's reading, with one Builder and with
// two: the address pairs (tshark's UDP streams) on which a hello began,
// the first hello's frame and sender, and the datagrams of those pairs
// from their first hello on that begin as DTLS does. The DTLS captures
// are Zeek's (DTLS 1.0, 1.2 and 1.3, with connection IDs, and WebRTC's
// STUN and DTLS on one pair); the QUIC and DNS captures, all UDP, must
// count none.
func TestDTLSAsTshark(t *testing.T) {
	withDTLS := []string{
		"../testdata/public/zeek/dtls1_0.pcap",
		"../testdata/public/zeek/dtls1_2.pcap",
		"../testdata/public/zeek/dtls13-wolfssl.pcap",
		"../testdata/public/zeek/dtls13-cid.pcap",
		"../testdata/public/zeek/dtls-sequence-number-jumps.pcap",
		"../testdata/public/zeek/webrtc-stun.pcap",
	}
	without, err := filepath.Glob("../testdata/quic/*.pcap")
	if err != nil || len(without) == 0 {
		t.Fatalf("QUIC captures: %v %v", without, err)
	}
	without = append(without, "../testdata/public/ja4/chrome-cloudflare-quic-with-secrets.pcapng", "../testdata/captures/dns_failure_nxdomain.pcap")
	for _, path := range append(withDTLS, without...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			want := tsharkDTLS(t, path)
			if slices.Contains(withDTLS, path) != (want.Flows > 0) {
				t.Fatalf("tshark reads %d DTLS flows", want.Flows)
			}
			for _, workers := range []int{0, 1, 2} {
				src, err := capture.OpenFile(path)
				if err != nil {
					t.Fatal(err)
				}
				_, st, err := analysis.Analyse(context.Background(), src, analysis.Options{}, capture.Options{}, workers)
				src.Close()
				if err != nil {
					t.Fatal(err)
				}
				got := st.DTLS
				got.First.Time = time.Time{} // tshark's is not read
				if got != want {
					t.Errorf("%d workers: %+v, tshark %+v", workers, got, want)
				}
			}
		})
	}
}

// tsharkDTLS reads path's DTLS as DTLSStats, from tshark's dissection of
// its UDP datagrams.
func tsharkDTLS(t *testing.T, path string) analysis.DTLSStats {
	out := tsharktest.Output(t, "-r", path, "-Y", "udp", "-T", "fields", "-E", "occurrence=f",
		"-e", "frame.number", "-e", "udp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport",
		"-e", "ip.dst", "-e", "ipv6.dst", "-e", "udp.dstport", "-e", "dtls.handshake.type", "-e", "dtls.record.epoch", "-e", "udp.payload")
	var st analysis.DTLSStats
	began := map[string]bool{} // the streams on which a hello was seen
	for line := range strings.Lines(string(out)) {
		v := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(v) != 11 {
			t.Fatalf("tshark line %q", line)
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		hello := slices.Contains([]string{"1", "2", "3"}, v[8]) && v[9] == "0"
		if !began[v[1]] && hello {
			began[v[1]] = true
			st.Flows++
			if st.First.Number == 0 {
				st.First.Number = n
				st.Client = addrPort(t, v[2]+v[3], v[4])
				st.Server = addrPort(t, v[5]+v[6], v[7])
			}
		}
		// RFC 7983's range of DTLS's first byte: tshark's dissector
		// does not read DTLS 1.3's encrypted records.
		if first, err := strconv.ParseUint(v[10][:min(2, len(v[10]))], 16, 8); began[v[1]] && err == nil && first >= 20 && first <= 63 {
			st.Datagrams++
		}
	}
	return st
}

// addrPort parses tshark's address and port fields.
func addrPort(t *testing.T, addr, port string) netip.AddrPort {
	t.Helper()
	a, err := netip.ParseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return netip.AddrPortFrom(a, uint16(p))
}
