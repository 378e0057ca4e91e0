package vantage

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// labPorts are the ports of the lab's two-point captures: every
// connection to them was meant to be TLS.
var labPorts = []uint16{4500, 4501, 4502, 4503, 4504, 4505}

func read(t *testing.T, path string) []*analysis.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	conns, _, err := analysis.Analyse(context.Background(), src, analysis.Options{TLSPorts: labPorts}, capture.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return conns
}

// want is one expected pair: the server port of the connection at the
// client's side, how it is matched and the kinds of its differences.
type want struct {
	port  uint16
	match Match
	kinds []Kind
}

// TestAlignLab aligns the lab's captures made at the client's and the
// server's link at once (testdata/vantage, internal/tlslab/mkcaptures):
// a transparent TLS-inspecting proxy (the connection it intercepts
// reaches the server as its own, with its own hello, while the client
// got a certificate minted by the proxy's CA), an SNI filter that drops
// the hello, and one that resets after it. Each pair, in both argument
// orders: the client's side is found by the SYN-ACK's delay, and the
// frames go with their capture.
func TestAlignLab(t *testing.T) {
	for _, tt := range []struct {
		name  string
		pairs []want
	}{
		{"intercepted", []want{
			{4500, MatchSame, nil},
			{4501, MatchNameTime, []Kind{AddressesTranslated, JA4Changed, CertificateChanged}},
		}},
		{"sni_filter", []want{
			{4502, MatchSame, []Kind{HelloLost}},
			{4503, MatchSame, nil},
		}},
		{"reset", []want{
			{4504, MatchSame, []Kind{HelloLost, ResetOnPath}},
			{4505, MatchSame, nil},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := read(t, "../testdata/vantage/"+tt.name+"_client.pcap")
			server := read(t, "../testdata/vantage/"+tt.name+"_server.pcap")
			for _, swapped := range []bool{false, true} {
				a, b := client, server
				if swapped {
					a, b = server, client
				}
				al := Align(a, b)
				if al.ClientSideB != swapped || strings.HasPrefix(al.ClientSideBasis, "assumed") {
					t.Errorf("swapped %v: client side B = %v (%s)", swapped, al.ClientSideB, al.ClientSideBasis)
				}
				if len(al.Pairs) != len(tt.pairs) {
					t.Fatalf("swapped %v: %d pairs, want %d", swapped, len(al.Pairs), len(tt.pairs))
				}
				for i, w := range tt.pairs {
					p := al.Pairs[i]
					near, far := p.A, p.B
					if swapped {
						near, far = p.B, p.A
					}
					if near == nil || far == nil || near.Server.Port() != w.port || far.Server.Port() != w.port || p.Match != w.match {
						t.Errorf("swapped %v: pair %d: %v, want port %d %v", swapped, i+1, p, w.port, w.match)
						continue
					}
					var kinds []Kind
					for _, d := range p.Differences {
						kinds = append(kinds, d.Kind)
						if len(d.AFrames) == 0 || len(d.BFrames) == 0 || d.Summary == "" {
							t.Errorf("swapped %v: pair %d: %v without frames at both points or words: %+v", swapped, i+1, d.Kind, d)
						}
						nearFrames, farFrames := d.AFrames, d.BFrames
						if swapped {
							nearFrames, farFrames = farFrames, nearFrames
						}
						if slices.ContainsFunc(nearFrames, func(n int64) bool { return n < near.First.Number || n > near.Last.Number }) ||
							slices.ContainsFunc(farFrames, func(n int64) bool { return n < far.First.Number || n > far.Last.Number }) {
							t.Errorf("swapped %v: pair %d: %v cites frames outside its connections: %v / %v", swapped, i+1, d.Kind, nearFrames, farFrames)
						}
					}
					if !slices.Equal(kinds, w.kinds) {
						t.Errorf("swapped %v: pair %d (port %d): differences %v, want %v", swapped, i+1, w.port, kinds, w.kinds)
					}
				}
			}
		})
	}
}

// TestAlignUnpaired aligns a capture with one of other connections: every
// connection is in one capture only, said once, and nothing is paired.
func TestAlignUnpaired(t *testing.T) {
	a := read(t, "../testdata/vantage/sni_filter_client.pcap")
	b := read(t, "../testdata/vantage/reset_server.pcap")
	al := Align(a, b)
	if len(al.Pairs) != len(a)+len(b) {
		t.Fatalf("%d pairs, want %d", len(al.Pairs), len(a)+len(b))
	}
	for _, p := range al.Pairs {
		if p.Match != 0 || len(p.Differences) != 1 || p.Differences[0].Kind != NotSeen || (p.A == nil) == (p.B == nil) {
			t.Errorf("pair %+v", p)
		}
	}
	if !strings.HasPrefix(al.ClientSideBasis, "assumed") {
		t.Errorf("client side: %s", al.ClientSideBasis)
	}
}

// TestVocabulary checks that every Match and Kind has its own name.
func TestVocabulary(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range Matches {
		seen[m.String()] = true
	}
	for _, k := range Kinds {
		seen[k.String()] = true
	}
	if len(seen) != len(Matches)+len(Kinds) {
		t.Errorf("%d names for %d values", len(seen), len(Matches)+len(Kinds))
	}
	for n := range seen {
		if strings.Contains(n, "(") {
			t.Errorf("value without a name: %s", n)
		}
	}
	if len(Kinds) != len(kindNames)-1 || len(Matches) != len(matchNames)-1 {
		t.Errorf("Kinds or Matches misses a value")
	}
}
