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

// TestGRPCNoALPNKeyLog reads gRPC-Go refusing a TLS 1.3 server that
// selected no ALPN protocol (testdata/field/grpc/noalpn_tls13.pcap) with
// and without the key log the client wrote: without it the verdict is
// inferred from the client's close and says so; with it the decrypted
// EncryptedExtensions shows no ALPN and the client's close_notify.
func TestGRPCNoALPNKeyLog(t *testing.T) {
	const pcap = "../testdata/field/grpc/noalpn_tls13.pcap"
	f, err := os.Open("../testdata/field/grpc/noalpn_tls13.keylog")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kl, err := decrypt.ParseKeyLog(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		keyLog       *decrypt.KeyLog
		want, absent string
	}{
		{nil, "so this is inferred from the client closing right after its Finished", "opened with the key log"},
		{kl, "its EncryptedExtensions, opened with the key log, has none", "inferred"},
	} {
		src, err := capture.OpenFile(pcap)
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
		v := Diagnose(conns[0], Config{})
		if v.Category != ALPNMismatch || !strings.Contains(v.Summary, tt.want) || strings.Contains(v.Summary, tt.absent) ||
			!strings.Contains(v.Fix, "GRPC_ENFORCE_ALPN_ENABLED=false") {
			t.Errorf("key log %v: %s: %s (fix %s); want %s, summary with %q and without %q, fix naming GRPC_ENFORCE_ALPN_ENABLED", tt.keyLog != nil, v.Category, v.Summary, v.Fix, ALPNMismatch, tt.want, tt.absent)
		}
	}
}
