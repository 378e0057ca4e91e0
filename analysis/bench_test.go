//go:debug cryptocustomrand=1

package analysis_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"reflect"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

// benchCaptures are generated in memory: one mostly bulk data, one only
// handshakes (with one request and response each).
var benchCaptures = []struct {
	name string
	cfg  tlsgen.Config
}{
	{"bulk", tlsgen.Config{Seed: 1, Size: 50e6}},
	{"handshakes", tlsgen.Config{Seed: 1, Size: 10e6, HandshakesOnly: true}},
}

func genCapture(tb testing.TB, cfg tlsgen.Config) ([]byte, *tlsgen.Truth) {
	tb.Helper()
	var b bytes.Buffer
	truth, err := tlsgen.Generate(&b, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes(), truth
}

// analyseBytes runs capture and the Builder over a pcap in memory.
func analyseBytes(tb testing.TB, pcap []byte) []*analysis.Connection {
	src, err := capture.NewReader("bench", bytes.NewReader(pcap))
	if err != nil {
		tb.Fatal(err)
	}
	b := analysis.NewBuilder(analysis.Options{})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		tb.Fatal(err)
	}
	return b.Connections()
}

// BenchmarkBuilder measures capture and analysis: frames to Connection
// records.
func BenchmarkBuilder(b *testing.B) {
	for _, bc := range benchCaptures {
		b.Run(bc.name, func(b *testing.B) {
			pcap, truth := genCapture(b, bc.cfg)
			b.SetBytes(int64(len(pcap)))
			b.ReportAllocs()
			for b.Loop() {
				analyseBytes(b, pcap)
			}
			b.ReportMetric(float64(truth.Frames)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

// BenchmarkPipeline measures what `tlsdiag read` does before writing:
// capture, analysis and a diagnosis of every connection, with the chain
// cache the command uses.
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range benchCaptures {
		b.Run(bc.name, func(b *testing.B) {
			pcap, truth := genCapture(b, bc.cfg)
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM([]byte(truth.CAPEM))
			b.SetBytes(int64(len(pcap)))
			b.ReportAllocs()
			for b.Loop() {
				cfg := diagnose.Config{Roots: diagnose.PoolRoots(roots), Cache: diagnose.NewChainCache(0)}
				for _, c := range analyseBytes(b, pcap) {
					diagnose.Diagnose(c, cfg)
				}
			}
			b.ReportMetric(float64(truth.Frames)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

// TestPipelineMatchesTruth checks the verdict of every connection of a
// generated capture against its ground truth, below the command line.
func TestPipelineMatchesTruth(t *testing.T) {
	pcap, truth := genCapture(t, tlsgen.Config{Seed: 11, Size: 4e6, MaxBulk: 256 << 10})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(truth.CAPEM))
	cfg := diagnose.Config{Roots: diagnose.PoolRoots(roots), Cache: diagnose.NewChainCache(0)}
	conns := analyseBytes(t, pcap)
	var want []tlsgen.Conn
	for _, c := range truth.Connections {
		if c.Reported() {
			want = append(want, c)
		}
	}
	if len(conns) != len(want) {
		t.Fatalf("%d connections, truth has %d", len(conns), len(want))
	}
	pair := tlsgen.Pair(want, len(conns), func(i int) (string, string) { return conns[i].Client.String(), conns[i].Server.String() })
	for i, c := range conns {
		got := string(diagnose.Diagnose(c, cfg).Category)
		w := pair[i]
		if w == nil {
			t.Errorf("connection %d: %s → %s %s is not in the truth", i+1, c.Client, c.Server, got)
			continue
		}
		if got != w.Category {
			t.Errorf("connection %d (%s): %s → %s %s, want %s", i+1, w.Scenario, c.Client, c.Server, got, w.Category)
		}
	}
}

// TestAnalyseShardsMatchOne checks that splitting a capture between
// Builders gives the same connections, in the same order, as one Builder:
// on a generated capture where connections without TLS to an unlisted
// port are reported only because other connections, in other shards,
// carried TLS on it.
func TestAnalyseShardsMatchOne(t *testing.T) {
	pcap, truth := genCapture(t, tlsgen.Config{Seed: 1, Size: 3e6, HandshakesOnly: true})
	byPort := 0
	for _, c := range truth.Connections {
		if c.Reported() && strings.HasSuffix(c.Server, ":10443") && (c.Scenario == "refused" || c.Scenario == "no_answer" || c.Scenario == "http_client") {
			byPort++
		}
	}
	if byPort == 0 {
		t.Fatal("the capture has no connection reported for its port alone")
	}
	for _, maxPending := range []int{0, 64, 16} {
		workers := []int{1, 2, 2, 2, 7, 16, 64}
		if testing.Short() {
			workers = workers[:4]
		}
		shardsMatchOne(t, pcap, maxPending, workers)
	}
}

// shardsMatchOne analyses pcap with one Builder, then with each number of
// workers, and checks that every run gives the same connections in the
// same order, and lets the same number go late; it returns one Builder's.
// With a maxPending, connections are let go before earlier ones: which,
// and when, must not depend on the Builders either, nor on how their work
// interleaves from one run to the next.
func shardsMatchOne(t *testing.T, pcap []byte, maxPending int, workers []int) []*analysis.Connection {
	t.Helper()
	analyse := func(workers int) ([]*analysis.Connection, analysis.SequenceStats) {
		src, err := capture.NewReader("test", bytes.NewReader(pcap))
		if err != nil {
			t.Fatal(err)
		}
		conns, st, err := analysis.Analyse(context.Background(), src, analysis.Options{MaxPending: maxPending}, capture.Options{}, workers)
		if err != nil {
			t.Fatal(err)
		}
		return conns, st.SequenceStats
	}
	want, wantStats := analyse(0)
	if maxPending > 0 && wantStats.Late == 0 {
		t.Errorf("MaxPending %d: no connection was let go late: the cap is not tested", maxPending)
	}
	for _, w := range workers {
		got, gotStats := analyse(w)
		if gotStats.Late != wantStats.Late || gotStats.MaxPending != wantStats.MaxPending {
			t.Errorf("MaxPending %d, %d workers: %d late, at most %d pending; one Builder: %d, %d",
				maxPending, w, gotStats.Late, gotStats.MaxPending, wantStats.Late, wantStats.MaxPending)
		}
		if len(got) != len(want) {
			t.Errorf("MaxPending %d, %d workers: %d connections, one Builder %d", maxPending, w, len(got), len(want))
			continue
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("MaxPending %d, %d workers: connection %d (%s → %s) differs from one Builder's (%s → %s)",
					maxPending, w, i+1, got[i].Client, got[i].Server, want[i].Client, want[i].Server)
				break
			}
		}
	}
	return want
}
