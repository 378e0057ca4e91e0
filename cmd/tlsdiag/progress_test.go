package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestProgressOnlyOnTerminals checks the cases that draw nothing:
// standard error not a terminal, --no-progress, a small capture.
func TestProgressOnlyOnTerminals(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.pcap")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(progressMin); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	for _, tt := range []struct {
		name     string
		stderr   io.Writer
		paths    []string
		disabled bool
	}{
		{"buffer", &bytes.Buffer{}, []string{big}, false},
		{"not a terminal", devnull, []string{big}, false},
		{"disabled", devnull, []string{big}, true},
	} {
		if p := newProgress(tt.stderr, tt.paths, tt.disabled); p != nil {
			t.Errorf("%s: a progress line", tt.name)
		}
	}
	// nil draws nothing and does not fail.
	var p *progress
	p.begin()
	p.watch(nil)
	p.end()
}

// TestProgressLine checks the text: bytes read of the total, the rate
// and the time left.
func TestProgressLine(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	p := &progress{total: 4e9, now: func() time.Time { return now }}
	p.start = start
	if got, want := p.line(), "tlsdiag: reading 0 B of 4.0 GB (0%)"; got != want {
		t.Errorf("at the start %q, want %q", got, want)
	}
	now = start.Add(2 * time.Second)
	p.read.Store(1e9)
	if got, want := p.line(), "tlsdiag: reading 1.0 GB of 4.0 GB (25%), 500 MB/s, 6s left"; got != want {
		t.Errorf("after 2 s %q, want %q", got, want)
	}
	p.read.Store(5e9) // a file that grew while read
	if got, want := p.line(), "tlsdiag: reading 4.0 GB of 4.0 GB (100%), 2.0 GB/s, 0s left"; got != want {
		t.Errorf("past the end %q, want %q", got, want)
	}
}
