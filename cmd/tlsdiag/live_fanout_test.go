package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// TestLiveFanoutMatchesRead replays a generated capture of a few hundred
// TLS connections (real crypto/tls handshakes, certificates valid now)
// with tcpreplay from one network namespace over a veth pair, and
// captures it with live in the other, with one socket and with a fan-out
// group of two: every connection live reports has the verdict read gives
// it from live's -w file, live reports every connection read does, and
// with two sockets both got a share. Needs root, iproute2 and tcpreplay
// (CI has them).
func TestLiveFanoutMatchesRead(t *testing.T) {
	requireRoot(t)
	for _, tool := range []string{"ip", "tcpreplay"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; CI installs it: %v", tool, err)
		}
	}
	dir := t.TempDir()
	replay := dir + "/replay.pcap"
	f, err := os.Create(replay)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := tlsgen.Generate(f, tlsgen.Config{Seed: 7, Size: 3e6, HandshakesOnly: true, Start: time.Now()})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	ca := dir + "/ca.pem"
	if err := os.WriteFile(ca, []byte(truth.CAPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	reported := len(truth.Connections) - truth.Ignored
	if reported < 100 {
		t.Fatalf("the generated capture has %d connections to report, want at least 100", reported)
	}
	v, err := tlslab.NewVethPair(context.Background(), "tldfan", 1500)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	for _, fanout := range []int{1, 2} {
		t.Run(fmt.Sprintf("fanout%d", fanout), func(t *testing.T) {
			written := fmt.Sprintf("%s/live%d.pcap", dir, fanout)
			cmd := exec.Command("ip", "netns", "exec", v.ClientNS, os.Args[0], "live", "-i", v.ClientIface,
				"-f", "tcp", "--fanout", fmt.Sprint(fanout), "--format", "ndjson", "-w", written,
				"--user", "", "--cacert", ca, "--handshake-timeout", "3s")
			cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1")
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on") })
			wantPath := "one socket"
			if fanout > 1 {
				wantPath = fmt.Sprintf("fan-out by flow over %d sockets", fanout)
			}
			if !strings.Contains(stderr.String(), wantPath) {
				t.Errorf("the start line does not say %q:\n%s", wantPath, stderr.String())
			}
			out, err := exec.Command("ip", "netns", "exec", v.ServerNS, "tcpreplay", "-q", "-i", v.ServerIface, "--mbps", "100", replay).CombinedOutput()
			if err != nil {
				t.Fatalf("tcpreplay: %v\n%s", err, out)
			}
			time.Sleep(time.Second)
			cmd.Process.Signal(os.Interrupt)
			if err := cmd.Wait(); cmd.ProcessState.ExitCode() > 1 {
				t.Fatalf("live: exit status %d (%v); stderr:\n%s", cmd.ProcessState.ExitCode(), err, stderr.String())
			}
			fromLive := verdictsByConn(t, strings.NewReader(stdout.String()))
			var readOut, readErr bytes.Buffer
			run([]string{"read", "--format", "ndjson", "--no-system-roots", "--cacert", ca, written}, &readOut, &readErr)
			fromRead := verdictsByConn(t, &readOut)
			if len(fromRead) != reported {
				t.Errorf("read of live's -w file reports %d connections, the replayed capture has %d; stderr:\n%s", len(fromRead), reported, readErr.String())
			}
			for k, want := range fromRead {
				if got, ok := fromLive[k]; !ok {
					t.Errorf("%s: read says %q, live did not report it", k, want)
				} else if got != want {
					t.Errorf("%s: live says %q, read of its -w file %q", k, got, want)
				}
			}
			for k, got := range fromLive {
				if _, ok := fromRead[k]; !ok {
					t.Errorf("%s: live says %q, read of its -w file does not report it", k, got)
				}
			}
			t.Logf("fanout %d: live reported %d connections, read %d; %s", fanout, len(fromLive), len(fromRead), lastLines(stderr.String(), 3))
		})
	}
}

// verdictsByConn decodes ndjson connection lines into their verdict
// category by "client server".
func verdictsByConn(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c struct {
			Type    string `json:"type"`
			Client  string `json:"client"`
			Server  string `json:"server"`
			Verdict struct {
				Category string `json:"category"`
			} `json:"verdict"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		if c.Type == "summary" {
			continue
		}
		k := c.Client + " " + c.Server
		if _, dup := out[k]; dup {
			t.Errorf("%s reported twice", k)
		}
		out[k] = c.Verdict.Category
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], " | ")
}
