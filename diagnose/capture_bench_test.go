package diagnose_test

import (
	"context"
	"os"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// BenchmarkDiagnoseCapture diagnoses every connection of the capture
// named by $TLSDIAG_BENCH_PCAP (with $TLSDIAG_BENCH_CA as --cacert and
// the system roots, as read does), one after the other, for profiling
// the diagnosis alone. The chain cache is warm after the first round.
func BenchmarkDiagnoseCapture(b *testing.B) {
	pcap := os.Getenv("TLSDIAG_BENCH_PCAP")
	if pcap == "" {
		b.Skip("set TLSDIAG_BENCH_PCAP to a capture")
	}
	var pems [][]byte
	if ca := os.Getenv("TLSDIAG_BENCH_CA"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			b.Fatal(err)
		}
		pems = append(pems, pem)
	}
	roots, err := diagnose.LoadRoots(true, pems...)
	if err != nil {
		b.Fatal(err)
	}
	src, err := capture.OpenFile(pcap)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	cfg := pipeline.Config{Diagnose: diagnose.Config{Roots: roots, Cache: diagnose.NewChainCache(0)}}
	rs, _, err := pipeline.Collect(context.Background(), src, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range rs {
			diagnose.Diagnose(r.Conn, cfg.Diagnose)
		}
	}
}
