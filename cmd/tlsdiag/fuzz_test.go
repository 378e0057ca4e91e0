package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/report"
)

// FuzzPipeline feeds arbitrary bytes as a capture file through the whole
// pipeline — capture, analysis, diagnose, every report format — seeded with
// the lab captures. Properties: no panic, and the same bytes give the same
// output.
func FuzzPipeline(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/captures/*.pcap")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		first := pipelineOutput(data)
		if second := pipelineOutput(data); !bytes.Equal(first, second) {
			t.Fatalf("the same capture gave different output:\n%s\n---\n%s", first, second)
		}
	})
}

func pipelineOutput(data []byte) []byte {
	var out bytes.Buffer
	src, err := capture.NewReader("fuzz.pcap", bytes.NewReader(data))
	if err != nil {
		return []byte(err.Error())
	}
	results, _, runErr := pipeline.Collect(context.Background(), src, pipeline.Config{Analysis: analysis.Options{Trace: true}})
	for _, f := range report.Formats {
		if err := report.Write(&out, f, results, report.Options{}); err != nil {
			io.WriteString(&out, err.Error())
		}
	}
	if runErr != nil {
		io.WriteString(&out, runErr.Error())
	}
	return out.Bytes()
}
