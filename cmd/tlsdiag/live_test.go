package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// requireRoot skips tests that open a live capture: they need root or
// CAP_NET_RAW. CI runs as root, so there they always run.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
}

// requireTools skips tests that run these programs when one is not
// installed. CI installs them all.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; CI installs it: %v", tool, err)
		}
	}
}

// liveCase is a lab server and the client that exposes its problem.
type liveCase struct {
	scenario tlslab.Scenario
	want     string // verdict category
	client   func(cfg *tls.Config)
}

var liveCases = []liveCase{
	{tlslab.OK, "ok", nil},
	{tlslab.CertExpired, "cert_expired", func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }},
	{tlslab.VersionMismatch, "version_mismatch", func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }},
	{tlslab.NoSharedCipher, "no_shared_cipher", func(c *tls.Config) {
		c.MaxVersion = tls.VersionTLS12
		c.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}
	}},
	{tlslab.NotTLSServer, "not_tls_server", nil},
}

// startLab starts every live case's server and writes the lab's root to a
// file for --cacert.
func startLab(t *testing.T, addr string) (servers []*tlslab.Server, caFile string) {
	t.Helper()
	for _, lc := range liveCases {
		s, err := tlslab.Start(lc.scenario, tlslab.WithAddr(addr))
		if err != nil {
			t.Fatalf("start %s: %v", lc.scenario, err)
		}
		t.Cleanup(func() { s.Close() })
		servers = append(servers, s)
	}
	dir := t.TempDir()
	if err := servers[0].Lab().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	return servers, filepath.Join(dir, tlslab.CAFile)
}

// request makes one HTTPS request to s as lc's client would; errors are
// the point of most cases.
func request(s *tlslab.Server, lc liveCase) {
	cfg := s.Lab().ClientConfig()
	if lc.client != nil {
		lc.client(cfg)
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 3 * time.Second}
	resp, err := c.Get("https://" + s.Addr().String() + "/")
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func portFilter(servers []*tlslab.Server) string {
	var parts []string
	for _, s := range servers {
		parts = append(parts, fmt.Sprintf("tcp port %d", s.Addr().Port()))
	}
	return strings.Join(parts, " or ")
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLiveStreamsVerdicts captures on lo (needs root) while the lab's
// misconfigured servers are asked by Go clients, and checks that each
// connection's verdict is streamed as ndjson before the capture ends.
func TestLiveStreamsVerdicts(t *testing.T) {
	requireRoot(t)
	servers, caFile := startLab(t, "127.0.0.1:0")
	const duration = 6 * time.Second
	pr, pw := io.Pipe()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"live", "-i", "lo", "-f", portFilter(servers), "--format", "ndjson",
			"--duration", duration.String(), "--user", "", "--cacert", caFile}, pw, &stderr)
		pw.Close()
	}()
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on lo") })
	started := time.Now()

	arrivals := readVerdicts(t, pr)
	for i, s := range servers {
		request(s, liveCases[i])
	}
	got := map[string]verdictLine{}
	for l := range arrivals {
		got[l.server] = l
	}
	if status := <-done; status != 1 {
		t.Errorf("exit status %d, want 1 (some connections failed); stderr:\n%s", status, stderr.String())
	}
	checkStreamed(t, servers, got, started.Add(duration-time.Second), stderr.String())
}

// checkStreamed checks that every live case's connection got its verdict,
// before the deadline (the capture's end minus a margin): streamed as the
// handshake ended, not at the end.
func checkStreamed(t *testing.T, servers []*tlslab.Server, got map[string]verdictLine, deadline time.Time, stderr string) {
	t.Helper()
	for i, s := range servers {
		l, ok := got[s.Addr().String()]
		switch {
		case !ok:
			t.Errorf("%s: no verdict streamed for %s; stderr:\n%s", liveCases[i].scenario, s.Addr(), stderr)
		case l.category != liveCases[i].want:
			t.Errorf("%s: verdict %s, want %s", liveCases[i].scenario, l.category, liveCases[i].want)
		case !l.at.Before(deadline):
			t.Errorf("%s: verdict arrived at %v, at the end of the capture, not when the handshake ended", liveCases[i].scenario, l.at)
		}
	}
}

// startLiveProcess runs tlsdiag live in a child process (the test binary
// as tlsdiag) and waits until it captures.
func startLiveProcess(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"live"}, args...)...)
	cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on") })
	return cmd, &stdout, &stderr
}

// TestLiveSIGINT checks that Ctrl-C ends a live capture cleanly: the
// connections are reported, then the summary and the capture statistics,
// and the exit status says a connection failed.
func TestLiveSIGINT(t *testing.T) {
	requireRoot(t)
	servers, caFile := startLab(t, "127.0.0.1:0")
	cmd, stdout, stderr := startLiveProcess(t, "-i", "lo", "-f", portFilter(servers[:2]), "--user", "", "--cacert", caFile)
	request(servers[0], liveCases[0])
	request(servers[1], liveCases[1])
	waitFor(t, "both verdicts", func() bool {
		return strings.Count(stdout.String(), "cert_expired") >= 1 && strings.Contains(stdout.String(), " ok")
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 1 {
		t.Errorf("exit status %d (%v), want 1; stderr:\n%s", code, err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"2 connections, 1 failed", "dropped by the kernel", "frames read"} {
		if !strings.Contains(out, want) {
			t.Errorf("output after SIGINT lacks %q:\n%s", want, out)
		}
	}
}

// TestLiveDropsPrivileges checks that once the capture is open the process
// no longer runs as root (--user nobody is the default).
func TestLiveDropsPrivileges(t *testing.T) {
	requireRoot(t)
	cmd, _, stderr := startLiveProcess(t, "-i", "lo", "-f", "tcp port 9")
	var uids string
	waitFor(t, "the privilege drop", func() bool {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			return false
		}
		for _, l := range strings.Split(string(status), "\n") {
			if strings.HasPrefix(l, "Uid:") {
				uids = l
			}
		}
		return uids != "" && !strings.Contains(uids, "\t0\t")
	})
	if f := strings.Fields(uids); len(f) < 5 || f[1] == "0" || f[2] == "0" || f[3] == "0" || f[4] == "0" {
		t.Errorf("after start: %q, want no uid 0 (real, effective, saved, fs); stderr:\n%s", uids, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
}
