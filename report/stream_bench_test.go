package report

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// BenchmarkStreamCapture writes the connections of the capture named by
// $TLSDIAG_BENCH_PCAP in the json and ndjson formats to io.Discard, in
// batches as read hands them over (pipeline.Captures), for profiling the
// writing alone.
func BenchmarkStreamCapture(b *testing.B) {
	pcap := os.Getenv("TLSDIAG_BENCH_PCAP")
	if pcap == "" {
		b.Skip("set TLSDIAG_BENCH_PCAP to a capture")
	}
	src, err := capture.OpenFile(pcap)
	if err != nil {
		b.Fatal(err)
	}
	rs, _, err := pipeline.Collect(context.Background(), src, pipeline.Config{Diagnose: diagnose.Config{Cache: diagnose.NewChainCache(0)}})
	src.Close()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []Format{FormatJSON, FormatNDJSON} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w, err := NewWriter(io.Discard, f, Options{}, 1)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < len(rs); i += 256 {
					if err := w.Connections(rs[i:min(i+256, len(rs))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
