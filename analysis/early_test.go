package analysis_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
)

func run(t *testing.T, path string, opt analysis.Options) []*analysis.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var streamed []*analysis.Connection
	if opt.Early {
		opt.Done = func(c *analysis.Connection) { streamed = append(streamed, c) }
	}
	b := analysis.NewBuilder(opt)
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	if opt.Early {
		analysis.SortConnections(streamed)
		return streamed
	}
	return b.Connections()
}

// TestEarlyMatchesFinal checks live mode's early finalization against the
// file path on every lab capture: the same connections get the same
// verdicts, and each is finalized no later than its last frame.
func TestEarlyMatchesFinal(t *testing.T) {
	root := "../testdata"
	tsv, err := os.ReadFile(filepath.Join(root, "captures", "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string][]uint16{}
	for _, line := range strings.Split(string(tsv), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || strings.HasPrefix(line, "#") {
			continue
		}
		p, _ := strconv.Atoi(f[1])
		ports[f[0]] = append(ports[f[0]], uint16(p))
	}
	roots, err := diagnose.LoadRoots(false, mustRead(t, filepath.Join(root, "certs", "ca.pem")))
	if err != nil {
		t.Fatal(err)
	}
	cfg := diagnose.Config{Roots: roots}
	for file, ps := range ports {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(root, file)
			final := run(t, path, analysis.Options{TLSPorts: ps})
			early := run(t, path, analysis.Options{TLSPorts: ps, Early: true})
			if len(final) != len(early) {
				t.Fatalf("early mode gave %d connections, final %d", len(early), len(final))
			}
			for i := range final {
				f, e := diagnose.Diagnose(final[i], cfg), diagnose.Diagnose(early[i], cfg)
				if f.Category != e.Category {
					t.Errorf("%v: early verdict %s, final %s (%s)", final[i].Client, e.Category, f.Category, e.Summary)
				}
				if file == "captures/ok.pcap" && early[i].Last.Number >= final[i].Last.Number {
					t.Errorf("%v: a successful connection was finalized at its last frame %d, not as soon as data flowed", final[i].Client, early[i].Last.Number)
				}
				if early[i].Last.Number > final[i].Last.Number {
					t.Errorf("%v: finalized early at frame %d, after the last frame %d", final[i].Client, early[i].Last.Number, final[i].Last.Number)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
