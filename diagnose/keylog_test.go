package diagnose

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
)

// TestKeyLogRefinesTLS13Rejection reads gnutls-cli rejecting an expired
// certificate over TLS 1.3. Without the key log only the rejection is
// visible (cert_rejected); with it the chain and the decrypted alert give
// the exact cause, and the summary names the alert as decrypted.
func TestKeyLogRefinesTLS13Rejection(t *testing.T) {
	ca, err := os.ReadFile("../testdata/certs/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	roots, err := LoadRoots(false, ca)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/captures/cert_rejected.keylog")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kl, err := decrypt.ParseKeyLog(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		keyLog  *decrypt.KeyLog
		want    Category
		summary string
	}{
		{nil, CertRejected, "encrypted"},
		{kl, CertExpired, "bad_certificate (decrypted)"},
	} {
		src, err := capture.OpenFile("../testdata/captures/cert_rejected.pcap")
		if err != nil {
			t.Fatal(err)
		}
		b := analysis.NewBuilder(analysis.Options{KeyLog: tt.keyLog})
		if _, err := capture.Run(context.Background(), src, b, capture.Options{}); err != nil {
			t.Fatal(err)
		}
		src.Close()
		conns := b.Connections()
		if len(conns) != 1 {
			t.Fatalf("%d connections, want 1", len(conns))
		}
		v := Diagnose(conns[0], Config{Roots: roots})
		if v.Category != tt.want || !strings.Contains(v.Summary, tt.summary) {
			t.Errorf("key log %v: %s: %s; want %s, summary mentioning %q", tt.keyLog != nil, v.Category, v.Summary, tt.want, tt.summary)
		}
	}
}
