//go:debug cryptocustomrand=1

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

// generated is a capture made by tlsgen, with its ground truth.
type generated struct {
	pcap, ca string
	truth    *tlsgen.Truth
}

func generate(tb testing.TB, cfg tlsgen.Config) generated {
	tb.Helper()
	dir := tb.TempDir()
	g := generated{pcap: filepath.Join(dir, "gen.pcap"), ca: filepath.Join(dir, "ca.pem")}
	f, err := os.Create(g.pcap)
	if err != nil {
		tb.Fatal(err)
	}
	g.truth, err = tlsgen.Generate(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(g.ca, []byte(g.truth.CAPEM), 0o644); err != nil {
		tb.Fatal(err)
	}
	return g
}

// jsonReport is the part of `read --format json` the truth speaks about.
type jsonReport struct {
	Connections []struct {
		Client, Server, SNI, Version, Cipher string
		Resumed, Partial                     bool
		Verdict                              struct{ Category string }
	}
	Summary struct{ Connections int }
}

// TestGeneratedCaptureMatchesTruth runs `tlsdiag read` on captures made by
// tlsgen — real crypto/tls handshakes on many interleaved connections, with
// bulk data, reordering, retransmissions and connections without their SYN
// — and checks every reported connection, in order, against the truth.
func TestGeneratedCaptureMatchesTruth(t *testing.T) {
	cases := []struct {
		name string
		cfg  tlsgen.Config
	}{
		{"bulk", tlsgen.Config{Seed: 5, Size: 6e6, MaxBulk: 256 << 10}},
		{"handshakes", tlsgen.Config{Seed: 1, Size: 3e6, HandshakesOnly: true}},
	}
	// What the captures must cover between them, so that a change of the
	// generator cannot quietly leave a case out.
	seen := map[string]int{}
	defer func() {
		for _, c := range []string{"ok", "version_mismatch", "no_shared_cipher", "cert_expired", "cert_self_signed",
			"cert_untrusted_ca", "cert_hostname_mismatch", "cert_rejected", "client_cert_required", "alpn_mismatch",
			"not_tls_server", "not_tls_client", "server_no_response", "connection_refused", "connection_reset",
			"no_tcp_answer", "incomplete_capture", "partial", "resumed", "ignored", "reported by port"} {
			if seen[c] == 0 {
				t.Errorf("no %s connection in the generated captures", c)
			}
		}
	}()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := generate(t, tc.cfg)
			var stdout, stderr bytes.Buffer
			status := run([]string{"read", "--format", "json", "--cacert", g.ca, g.pcap}, &stdout, &stderr)
			if status == 2 {
				t.Fatalf("exit status 2: %s", stderr.String())
			}
			for _, c := range g.truth.Connections {
				seen[c.Category]++
				if c.Partial {
					seen["partial"]++
				}
				if c.Resumed {
					seen["resumed"]++
				}
				if c.Reported() && strings.HasSuffix(c.Server, ":10443") && (c.Scenario == "refused" || c.Scenario == "no_answer" || c.Scenario == "http_client") {
					// Reported only because TLS ran on that port in
					// another connection, maybe in another shard.
					seen["reported by port"]++
				}
			}
			seen["ignored"] += g.truth.Ignored
			t.Logf("%d bytes, %d frames, %d connections, categories %v", g.truth.Bytes, g.truth.Frames, len(g.truth.Connections), g.truth.Categories)
			checkTruth(t, g.truth, stdout.Bytes())
		})
	}
}

// TestReadParallelMatchesSequential checks that `tlsdiag read` gives the
// same bytes with one core as with several (captures split between shards,
// verdicts diagnosed concurrently), in every format that lists
// connections, on generated captures and on the lab's.
func TestReadParallelMatchesSequential(t *testing.T) {
	bulk := generate(t, tlsgen.Config{Seed: 4, Size: 8e6, MaxBulk: 512 << 10})
	hs := generate(t, tlsgen.Config{Seed: 5, Size: 2e6, HandshakesOnly: true})
	labs, err := filepath.Glob("../../testdata/captures/*.pcap")
	if err != nil || len(labs) == 0 {
		t.Fatalf("no lab captures (%v)", err)
	}
	// A capture cut in the middle of a record, for an error in the middle
	// of several files.
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	data, err := os.ReadFile(hs.pcap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, data[:len(data)/2+7], 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := [][]string{
		{"--cacert", bulk.ca, bulk.pcap},
		{"--cacert", hs.ca, hs.pcap},
		{"--cacert", bulk.ca, bulk.pcap, hs.pcap},
		append([]string{"--cacert", "../../testdata/certs/ca.pem"}, labs...),
		// Last: the one with errors.
		{"--cacert", bulk.ca, hs.pcap, filepath.Join(t.TempDir(), "missing.pcap"), cut, bulk.pcap},
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for i, in := range inputs {
		for _, format := range []string{"json", "trace"} {
			args := append([]string{"read", "--format", format}, in...)
			var want, wantErr []byte
			var wantStatus int
			for _, procs := range []int{1, 2, 3, 8} {
				runtime.GOMAXPROCS(procs)
				var stdout, stderr bytes.Buffer
				status := run(args, &stdout, &stderr)
				if status == 2 && i < len(inputs)-1 {
					t.Fatalf("input %d, %d procs: exit status 2: %s", i, procs, stderr.String())
				}
				if procs == 1 {
					want, wantErr, wantStatus = stdout.Bytes(), stderr.Bytes(), status
					continue
				}
				if !bytes.Equal(stdout.Bytes(), want) {
					t.Errorf("input %d, --format %s: %d procs differ from one at byte %d", i, format, procs, firstDiff(want, stdout.Bytes()))
				}
				if !bytes.Equal(stderr.Bytes(), wantErr) || status != wantStatus {
					t.Errorf("input %d, --format %s, %d procs: status %d, stderr\n%s\none proc: status %d, stderr\n%s", i, format, procs, status, stderr.Bytes(), wantStatus, wantErr)
				}
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func checkTruth(t *testing.T, truth *tlsgen.Truth, out []byte) {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	var want []tlsgen.Conn
	for _, c := range truth.Connections {
		if c.Reported() {
			want = append(want, c)
		}
	}
	if len(rep.Connections) != len(want) || rep.Summary.Connections != len(want) {
		t.Errorf("%d connections reported (summary %d), truth has %d (and %d not to report)",
			len(rep.Connections), rep.Summary.Connections, len(want), truth.Ignored)
	}
	bad := 0
	pair := tlsgen.Pair(want, len(rep.Connections), func(i int) (string, string) { return rep.Connections[i].Client, rep.Connections[i].Server })
	for i, w := range pair {
		g := rep.Connections[i]
		if w == nil {
			w = &tlsgen.Conn{Scenario: "not in the truth"}
		}
		if g.Verdict.Category != w.Category || g.Version != w.Version ||
			g.Cipher != w.Cipher || g.SNI != w.SNI || g.Resumed != w.Resumed || g.Partial != w.Partial {
			if bad++; bad <= 10 {
				t.Errorf("connection %d (%s):\n got %s → %s %s %q %q %q resumed=%v partial=%v\nwant %s → %s %s %q %q %q resumed=%v partial=%v",
					i+1, w.Scenario, g.Client, g.Server, g.Verdict.Category, g.Version, g.Cipher, g.SNI, g.Resumed, g.Partial,
					w.Client, w.Server, w.Category, w.Version, w.Cipher, w.SNI, w.Resumed, w.Partial)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d connections differ from the truth", bad, len(want))
	}
}

// BenchmarkRead runs `tlsdiag read --format json` (capture, analysis,
// diagnosis and report, as the command does) on generated captures: one
// mostly bulk data, one only handshakes.
func BenchmarkRead(b *testing.B) {
	caps := []struct {
		name string
		cfg  tlsgen.Config
	}{
		{"bulk", tlsgen.Config{Seed: 1, Size: 100e6}},
		{"handshakes", tlsgen.Config{Seed: 1, Size: 20e6, HandshakesOnly: true}},
	}
	for _, c := range caps {
		b.Run(c.name, func(b *testing.B) {
			g := generate(b, c.cfg)
			b.SetBytes(g.truth.Bytes)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if status := run([]string{"read", "--format", "json", "--cacert", g.ca, g.pcap}, io.Discard, io.Discard); status == 2 {
					b.Fatalf("exit status %d", status)
				}
			}
			b.ReportMetric(float64(g.truth.Frames)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

// BenchmarkReadFile runs `tlsdiag read` in each human or machine format
// on the capture named by $TLSDIAG_BENCH_PCAP (with $TLSDIAG_BENCH_CA as
// --cacert), e.g. one of those make bench leaves in testdata/bench, for
// profiling:
//
//	TLSDIAG_BENCH_PCAP=$PWD/testdata/bench/bulk-….pcap go test ./cmd/tlsdiag -run - -bench ReadFile/table -cpuprofile cpu.prof
func BenchmarkReadFile(b *testing.B) {
	pcap := os.Getenv("TLSDIAG_BENCH_PCAP")
	if pcap == "" {
		b.Skip("set TLSDIAG_BENCH_PCAP to a capture")
	}
	var ca []string
	if c := os.Getenv("TLSDIAG_BENCH_CA"); c != "" {
		ca = []string{"--cacert", c}
	}
	fi, err := os.Stat(pcap)
	if err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"json", "table", "wide", "markdown"} {
		b.Run(format, func(b *testing.B) {
			args := append(append([]string{"read", "--format", format}, ca...), pcap)
			b.SetBytes(fi.Size())
			b.ReportAllocs()
			for b.Loop() {
				var stderr bytes.Buffer
				if status := run(args, io.Discard, &stderr); status == 2 {
					b.Fatalf("exit status %d: %s", status, stderr.String())
				}
			}
		})
	}
}
