package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

// maxRSS is the memory a read may take, whatever the capture (the bound
// SECURITY.md promises).
const maxRSS = 64 << 20

// TestHostileCaptures streams each of tlsgen's hostile captures into
// `tlsdiag read -` (a binary built without the race detector, whose
// memory is that of the product) and checks that it stays within 64 MiB
// of peak RSS, exits 1 (failures found, no error), reports what the
// capture holds and says in the summary what its caps cut.
func TestHostileCaptures(t *testing.T) {
	bin := buildTlsdiag(t)
	type summary struct {
		Connections int      `json:"connections"`
		Notes       []string `json:"notes"`
	}
	type conn struct {
		SNI         string   `json:"sni"`
		ALPNOffered []string `json:"alpn_offered"`
		Alerts      []any    `json:"alerts"`
		Anomalies   []string `json:"anomalies"`
		Verdict     struct {
			Category string `json:"category"`
		} `json:"verdict"`
	}
	type document struct {
		Connections []conn  `json:"connections"`
		Summary     summary `json:"summary"`
	}
	categories := func(cs []conn) map[string]int {
		m := map[string]int{}
		for _, c := range cs {
			m[c.Verdict.Category]++
		}
		return m
	}
	note := func(t *testing.T, d document, want string) {
		t.Helper()
		if !slices.ContainsFunc(d.Summary.Notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("no summary note says %q; notes: %q", want, d.Summary.Notes)
		}
	}
	tests := []struct {
		kind  tlsgen.Hostile
		check func(t *testing.T, truth *tlsgen.HostileTruth, d document)
	}{
		{tlsgen.HugeHandshake, func(t *testing.T, truth *tlsgen.HostileTruth, d document) {
			got := categories(d.Connections)
			if len(d.Connections) != truth.Connections || got["not_tls_client"] != truth.Connections-1 {
				t.Errorf("%d connections, verdicts %v; want %d, all but the one with a 65,535-byte record not_tls_client", len(d.Connections), got, truth.Connections)
			}
			if !slices.Contains(d.Connections[0].Anomalies, "oversized_handshake_message") {
				t.Errorf("first connection's anomalies %q lack oversized_handshake_message", d.Connections[0].Anomalies)
			}
		}},
		{tlsgen.BigClientHello, func(t *testing.T, truth *tlsgen.HostileTruth, d document) {
			for i, c := range d.Connections {
				if c.Verdict.Category != "ok" || c.SNI != truth.SNI || len(c.ALPNOffered) != 254 {
					t.Fatalf("connection %d: verdict %s, SNI %q, %d ALPN names; want ok, %q, 254", i+1, c.Verdict.Category, c.SNI, len(c.ALPNOffered), truth.SNI)
				}
			}
			if len(d.Connections) != truth.Connections {
				t.Errorf("%d connections, want %d", len(d.Connections), truth.Connections)
			}
		}},
		{tlsgen.SYNFlood, func(t *testing.T, truth *tlsgen.HostileTruth, d document) {
			// Only the SYNs to well-known TLS ports are reported: a
			// million SYNs over 65,535 ports hit each about 15 times.
			got := categories(d.Connections)
			if n := len(d.Connections); n < 15*10 || got["no_tcp_answer"] != n {
				t.Errorf("%d connections, verdicts %v; want every SYN to a TLS port as no_tcp_answer", n, got)
			}
			note(t, d, "closed early by the connection cap")
		}},
		{tlsgen.EndlessOutOfOrder, func(t *testing.T, truth *tlsgen.HostileTruth, d document) {
			if len(d.Connections) != truth.Connections {
				t.Errorf("%d connections, want %d", len(d.Connections), truth.Connections)
			}
			for _, c := range d.Connections {
				if c.SNI != truth.SNI {
					t.Fatalf("a connection's SNI is %q, want %q: the ClientHello before the holes was lost", c.SNI, truth.SNI)
				}
			}
			note(t, d, "declared lost because out-of-order buffers were full")
		}},
		{tlsgen.ConflictingOverlap, func(t *testing.T, truth *tlsgen.HostileTruth, d document) {
			for _, c := range d.Connections {
				if c.SNI != truth.SNI || !slices.Contains(c.Anomalies, "tcp_overlap_conflict") {
					t.Fatalf("connection with SNI %q and anomalies %q; want the original ClientHello's %q and tcp_overlap_conflict", c.SNI, c.Anomalies, truth.SNI)
				}
			}
			if len(d.Connections) != truth.Connections {
				t.Errorf("%d connections, want %d", len(d.Connections), truth.Connections)
			}
			note(t, d, "1000 retransmitted segments carried different bytes")
		}},
		{tlsgen.AlertFlood, func(t *testing.T, truth *tlsgen.HostileTruth, d document) {
			for _, c := range d.Connections {
				// The hello is crypto/tls's (no RSA key exchange) and the
				// first alert a handshake_failure: an RSA-only server.
				if c.Verdict.Category != "no_shared_cipher" || len(c.Alerts) > 16 || !slices.Contains(c.Anomalies, "too_many_alerts") {
					t.Fatalf("verdict %s, %d alerts kept, anomalies %q; want no_shared_cipher, at most 16, too_many_alerts", c.Verdict.Category, len(c.Alerts), c.Anomalies)
				}
			}
			if len(d.Connections) != truth.Connections {
				t.Errorf("%d connections, want %d", len(d.Connections), truth.Connections)
			}
		}},
		{tlsgen.SSLv2Garbage, func(t *testing.T, truth *tlsgen.HostileTruth, d document) {
			got := categories(d.Connections)
			if len(d.Connections) != truth.Connections || got["ok"] != 0 || got["not_tls_client"] < truth.Connections*99/100 {
				t.Errorf("%d connections, verdicts %v; want %d, (nearly) all not_tls_client", len(d.Connections), got, truth.Connections)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			status := 1 // failures found
			if tt.kind == tlsgen.BigClientHello {
				status = 0
			}
			out, truth, rss := readHostile(t, bin, tt.kind, "json", status)
			var d document
			if err := json.Unmarshal(out, &d); err != nil {
				t.Fatalf("output is not JSON: %v", err)
			}
			t.Logf("%s: %d frames, %d bytes: %d connections reported, peak RSS %.1f MiB", tt.kind, truth.Frames, truth.Bytes, len(d.Connections), float64(rss)/(1<<20))
			tt.check(t, truth, d)
		})
	}
	t.Run(string(tlsgen.OneByte), func(t *testing.T) {
		// 100,000 connections to report: CSV keeps the test's own work
		// small.
		out, truth, rss := readHostile(t, bin, tlsgen.OneByte, "csv", 1)
		rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d frames: %d rows, peak RSS %.1f MiB", truth.Frames, len(rows)-1, float64(rss)/(1<<20))
		col := slices.Index(rows[0], "verdict")
		if col < 0 {
			t.Fatalf("no verdict column in %q", rows[0])
		}
		got := map[string]int{}
		for _, r := range rows[1:] {
			got[r[col]]++
		}
		if len(rows)-1 != truth.Connections || got["not_tls_client"] != truth.Connections {
			t.Errorf("%d connections, verdicts %v; want %d, all not_tls_client", len(rows)-1, got, truth.Connections)
		}
	})
}

// readHostile generates the hostile capture kind straight into the
// standard input of `bin read --format format -`, checks its exit status
// and peak RSS (runMeasured) and returns the output, the capture's truth
// and the peak RSS of the read.
func readHostile(t *testing.T, bin string, kind tlsgen.Hostile, format string, wantStatus int) ([]byte, *tlsgen.HostileTruth, int64) {
	t.Helper()
	cmd := exec.Command(bin, "read", "--format", format, "-")
	pr, pw := io.Pipe()
	defer pr.Close() // ends the generator if the read stopped early
	cmd.Stdin = pr
	var truth *tlsgen.HostileTruth
	var genErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		truth, genErr = tlsgen.GenerateHostile(pw, kind, 1)
		pw.CloseWithError(genErr)
	})
	out, rss := runMeasured(t, cmd, wantStatus)
	pr.Close()
	wg.Wait()
	if genErr != nil {
		t.Fatalf("generating: %v", genErr)
	}
	return out, truth, rss
}

// runMeasured runs cmd, checks that it exits with wantStatus and that its
// peak RSS is within maxRSS, and returns its standard output and peak RSS.
// Not wait4's ru_maxrss: Linux carries the parent's high-water mark (this
// test process, which may have generated the capture) into the child at
// exec. VmHWM is that of the child's own memory.
func runMeasured(t *testing.T, cmd *exec.Cmd, wantStatus int) ([]byte, int64) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	rss := peak()
	if code := cmd.ProcessState.ExitCode(); code != wantStatus {
		t.Fatalf("exit status %d (%v), want %d; stderr:\n%s", code, err, wantStatus, stderr.Bytes())
	}
	if rss > maxRSS {
		t.Errorf("peak RSS %.1f MiB, want at most %d MiB", float64(rss)/(1<<20), maxRSS>>20)
	}
	return stdout.Bytes(), rss
}

// watchPeakRSS samples the peak RSS (VmHWM) of process pid every few
// milliseconds until the returned function is called (after the process
// ended) and returns the highest value seen.
func watchPeakRSS(pid int) func() int64 {
	var (
		mu   sync.Mutex
		peak int64
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	status := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(done)
		for {
			if b, err := os.ReadFile(status); err == nil {
				if kb := vmHWM(b); kb > 0 {
					mu.Lock()
					peak = max(peak, kb<<10)
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// vmHWM returns the VmHWM line of a /proc/PID/status, in KiB.
func vmHWM(status []byte) int64 {
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// buildTlsdiag builds tlsdiag with this test's build tags and, through the
// environment, its CGO_ENABLED: the libpcap build, whose shared libraries
// add to the RSS, or the static one. It leaves out the race detector, whose
// instrumentation would multiply the memory measured.
func buildTlsdiag(t *testing.T) string {
	t.Helper()
	return buildCommand(t, "tlsdiag", ".")
}

// buildCommand builds the command of package pkg with this test's build
// tags, without the race detector, into a temporary directory.
func buildCommand(t *testing.T, name, pkg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	args := []string{"build", "-o", path}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-tags" && s.Value != "" {
				args = append(args, "-tags", s.Value)
			}
		}
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return path
}

// TestLargeCaptureMemory reads a 1 GB capture of handshakes only (60,784
// connections, the densest tlsgen makes), with its CA, on one core and on
// every core, and checks that each read stays within the 64 MiB a read of
// any size may take and reports every connection: memory must not grow
// with the capture.
func TestLargeCaptureMemory(t *testing.T) {
	bin := buildTlsdiag(t)
	// The tlsgen command, not the race-instrumented test, writes the
	// gigabyte: 3 s instead of 25.
	gen := buildCommand(t, "tlsgen", "../../internal/tlsgen/cmd/tlsgen")
	dir := t.TempDir()
	pcap, ca, truthFile := filepath.Join(dir, "handshakes.pcap"), filepath.Join(dir, "ca.pem"), filepath.Join(dir, "truth.json")
	if out, err := exec.Command(gen, "-o", pcap, "-size", "1GB", "-seed", "1", "-handshakes-only", "-truth", truthFile, "-ca", ca).CombinedOutput(); err != nil {
		t.Fatalf("tlsgen: %v\n%s", err, out)
	}
	var truth tlsgen.Truth
	if b, err := os.ReadFile(truthFile); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	want := len(truth.Connections) - truth.Ignored
	cores := []int{1}
	if n := runtime.NumCPU(); n > 1 {
		cores = append(cores, n)
	}
	for _, procs := range cores {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			cmd := exec.Command(bin, "read", "--format", "csv", "--cacert", ca, pcap)
			cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", procs))
			out, rss := runMeasured(t, cmd, 1)
			rows := bytes.Count(out, []byte("\n")) - 1
			t.Logf("%d frames, %d bytes: %d connections reported, peak RSS %.1f MiB", truth.Frames, truth.Bytes, rows, float64(rss)/(1<<20))
			if rows != want {
				t.Errorf("%d connections reported, the truth has %d", rows, want)
			}
		})
	}
}
