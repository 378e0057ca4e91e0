package report

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/tsharktest"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The spec's own reference data: every flow, both directions, seed 0 and 1.
func TestCommunityIDSpecBaseline(t *testing.T) {
	for _, tc := range []struct {
		file string
		seed uint16
	}{
		{"testdata/communityid/baseline_deflt.json", 0},
		{"testdata/communityid/baseline_seed1.json", 1},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		var flows []struct {
			Proto        uint8
			Saddr, Daddr string
			Sport, Dport *uint16
			CommunityID  string
		}
		if err := json.Unmarshal(b, &flows); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(flows) < 20 {
			t.Fatalf("%s: %d flows, want the spec's 23", tc.file, len(flows))
		}
		for _, f := range flows {
			sa, da := netip.MustParseAddr(f.Saddr), netip.MustParseAddr(f.Daddr)
			var got string
			if f.Sport == nil {
				got = communityID(tc.seed, f.Proto, sa, da, 0, 0, false)
			} else {
				got = CommunityID(tc.seed, f.Proto, netip.AddrPortFrom(sa, *f.Sport), netip.AddrPortFrom(da, *f.Dport))
			}
			if got != f.CommunityID {
				t.Errorf("%s: proto %d %s → %s: got %s, want %s", tc.file, f.Proto, f.Saddr, f.Daddr, got, f.CommunityID)
			}
		}
	}
}

func TestCommunityIDMixedFamilies(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:1234")
	b := netip.MustParseAddrPort("[2001:db8::1]:443")
	if got := CommunityID(0, ProtoTCP, a, b); got != "" {
		t.Errorf("mixed families: got %q, want \"\"", got)
	}
	mapped := netip.MustParseAddrPort("[::ffff:10.0.0.2]:443")
	plain := netip.MustParseAddrPort("10.0.0.2:443")
	if CommunityID(0, ProtoTCP, a, mapped) != CommunityID(0, ProtoTCP, a, plain) {
		t.Error("an IPv4-mapped address hashes differently from its IPv4 address")
	}
}

// The Community ID of every connection equals the one Wireshark's
// communityid dissector gives the connection's first frame, with the
// default seed and another.
func TestCommunityIDMatchesTshark(t *testing.T) {
	tsharktest.Path(t, "its communityid dissector is the independent reading")
	files := []string{
		"../testdata/demo.pcap",
		"../testdata/captures/ok.pcap",
		"../testdata/public/zeek/tls-early-alert.pcap",
		"../testdata/public/zeek/client-certificate.pcap",
		"../testdata/public/arkime/smtp-starttls.pcap",
		"../testdata/public/ja4/tls-handshake.pcapng",
		"../testdata/public/ja4/ipv6.pcapng",
		"../testdata/public/ja4/quic-tls-handshake.pcapng", // QUIC: the UDP flow
	}
	ipv6 := false
	for _, file := range files {
		for _, seed := range []uint16{0, 4242} {
			t.Run(filepath.Base(file)+"/seed="+strconv.Itoa(int(seed)), func(t *testing.T) {
				want := map[int64]string{}
				out := tsharktest.Output(t, "-r", file, "--enable-protocol", "communityid",
					"-o", "communityid.seed:"+strconv.Itoa(int(seed)), "-T", "fields", "-e", "frame.number", "-e", "communityid", "-Y", "tcp or udp")
				for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					n, id, _ := strings.Cut(line, "\t")
					f, err := strconv.ParseInt(n, 10, 64)
					if err != nil {
						t.Fatalf("tshark line %q", line)
					}
					want[f] = id
				}
				rs := pipelineResults(t, file)
				if len(rs) == 0 {
					t.Fatal("no connections")
				}
				var b bytes.Buffer
				if err := Write(&b, FormatNDJSON, rs, Options{CommunityIDSeed: seed}); err != nil {
					t.Fatal(err)
				}
				dec := json.NewDecoder(&b)
				for dec.More() {
					var c Connection
					if err := dec.Decode(&c); err != nil {
						t.Fatal(err)
					}
					ipv6 = ipv6 || strings.HasPrefix(c.Client, "[")
					if w := want[c.FirstFrame]; c.CommunityID != w || w == "" {
						t.Errorf("%s → %s (frame %d): community_id %q, tshark %q", c.Client, c.Server, c.FirstFrame, c.CommunityID, w)
					}
				}
			})
		}
	}
	if !ipv6 {
		t.Error("no IPv6 connection among the captures compared")
	}
}

// pipelineResults reads file through capture, analysis and diagnose.
func pipelineResults(t *testing.T, file string) []pipeline.Result {
	t.Helper()
	src, err := capture.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rs, _, err := pipeline.Collect(context.Background(), src, pipeline.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
