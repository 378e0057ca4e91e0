package diagnose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// The real captures of testdata/captures are made by
// internal/tlslab/mkcaptures: one scenario each, named after the category
// every connection in it must get (testdata/README.md), with the lab's
// root in testdata/certs/ca.pem.
const (
	capturesDir = "../testdata/captures"
	labCAFile   = "../testdata/certs/ca.pem"
)

// fileCategory returns the category a capture's name starts with:
// "cert_expired_tls13.pcap" is cert_expired. The longest match wins, so
// that no category is mistaken for another's prefix.
func fileCategory(name string) (Category, bool) {
	base := strings.TrimSuffix(name, filepath.Ext(name))
	var best Category
	for _, c := range Categories {
		if (base == string(c) || strings.HasPrefix(base, string(c)+"_")) && len(c) > len(best) {
			best = c
		}
	}
	return best, best != ""
}

func TestFileCategory(t *testing.T) {
	for name, want := range map[string]Category{
		"ok.pcap": OK, "ok_mtu576.pcap": OK, "cert_expired_tls13.pcap": CertExpired,
		"cert_rejected_go.pcap": CertRejected, "not_tls_client.pcap": NotTLSClient,
		"version_mismatch_tls10.pcap": VersionMismatch, "handshake_failure_tls12.pcap": HandshakeFailure,
	} {
		if got, _ := fileCategory(name); got != want {
			t.Errorf("fileCategory(%q) = %q, want %q", name, got, want)
		}
	}
	if got, ok := fileCategory("okay.pcap"); ok {
		t.Errorf("okay.pcap has category %q", got)
	}
}

// TestCaptures runs every capture through capture, analysis and Diagnose:
// each connection must get the category of its file's name.
func TestCaptures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(capturesDir, "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no captures in %s yet (go run ./internal/tlslab/mkcaptures makes them)", capturesDir)
	}
	ca, err := os.ReadFile(labCAFile)
	if err != nil {
		t.Fatalf("the captures need the lab's root: %v", err)
	}
	roots, err := LoadRoots(false, ca)
	if err != nil {
		t.Fatalf("%s: %v", labCAFile, err)
	}
	seen := map[Category]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		want, ok := fileCategory(name)
		if !ok {
			t.Errorf("%s: the name starts with no category", name)
			continue
		}
		seen[want] = true
		t.Run(strings.TrimSuffix(name, ".pcap"), func(t *testing.T) {
			conns := analyseCapture(t, path)
			if len(conns) == 0 {
				t.Fatalf("no connection reported")
			}
			for i, c := range conns {
				v := Diagnose(c, Config{Roots: roots})
				if testing.Verbose() {
					t.Logf("connection %d %s → %s: %s: %s | fix: %s | evidence %v | warnings %q", i, c.Client, c.Server, v.Category, v.Summary, v.Fix, v.Evidence, v.Warnings)
				}
				if v.Category != want {
					t.Errorf("connection %d (%s → %s) is %s, want %s: %s", i, c.Client, c.Server, v.Category, want, v.Summary)
				}
				if want != OK && len(v.Evidence) == 0 {
					t.Errorf("connection %d: %s without evidence frames", i, v.Category)
				}
				if i := slices.IndexFunc(v.Evidence, func(n int64) bool { return n > c.Last.Number }); i >= 0 {
					t.Errorf("evidence frame %d is after the connection's last frame %d", v.Evidence[i], c.Last.Number)
				}
			}
		})
	}
	if len(files) > 1 {
		for _, c := range Categories {
			if !seen[c] {
				t.Errorf("no capture for category %s", c)
			}
		}
	}
}

// analyseCapture runs one capture file through capture and the Builder.
func analyseCapture(t *testing.T, path string) []*analysis.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	b := analysis.NewBuilder(analysis.Options{})
	if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
		t.Fatalf("analyse %s: %v", path, err)
	}
	return b.Connections()
}
