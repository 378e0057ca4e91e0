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
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
	"github.com/tlsdiag/tlsdiag/internal/tlslab"
	"github.com/tlsdiag/tlsdiag/pipeline"
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
	requireTools(t, "ip", "tcpreplay")
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
			stdout, stderr := replayLive(t, v, replay, fanout, "--format", "ndjson", "-w", written, "--cacert", ca)
			wantPath := "one socket"
			if fanout > 1 {
				wantPath = fmt.Sprintf("fan-out by flow over %d sockets", fanout)
			}
			if !strings.Contains(stderr, wantPath) {
				t.Errorf("the start line does not say %q:\n%s", wantPath, stderr)
			}
			fromLive := verdictsByConn(t, strings.NewReader(stdout))
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
			// The order is that of the same packets through the live
			// path with one reader: the capture time each outcome
			// became known. With two sockets the -w file interleaves
			// their reads, so its frames are put in time order first.
			gotOrder := connOrder(t, stdout)
			if wantOrder := liveOrderOf(t, written, 3*time.Second); !slices.Equal(gotOrder, wantOrder) {
				t.Errorf("live's order is not that of its -w file read in time order by one reader:\nlive: %v\nfile: %v", gotOrder, wantOrder)
			}
			t.Logf("fanout %d: live reported %d connections, read %d; %s", fanout, len(fromLive), len(fromRead), lastLines(stderr, 3))
			// The last line is the summary, with the kernel's counters
			// of each socket: every socket had a share.
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			var sum struct {
				Type        string `json:"type"`
				Connections int    `json:"connections"`
				Capture     struct {
					Received, Dropped, Frames int64
					Sockets                   []struct{ Received, Dropped int64 }
				} `json:"capture"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Type != "summary" {
				t.Fatalf("the last ndjson line is not the summary (%v): %s", err, lines[len(lines)-1])
			}
			checkCaptureStats(t, sum.Connections, len(fromLive), sum.Capture.Received, sum.Capture.Dropped, sum.Capture.Frames, sum.Capture.Sockets, fanout, written)
		})
	}

	// The other formats: the statistics inside the json document, on
	// standard error for csv, in the table's summary; a running line with
	// --stats-interval.
	t.Run("json", func(t *testing.T) {
		stdout, _ := replayLive(t, v, replay, 2, "--format", "json", "--cacert", ca)
		var doc struct {
			Connections []json.RawMessage
			Summary     struct{ Connections int }
			Capture     struct {
				Received, Dropped, Frames int64
				Sockets                   []struct{ Received, Dropped int64 }
			}
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("not one JSON document: %v", err)
		}
		checkCaptureStats(t, doc.Summary.Connections, len(doc.Connections), doc.Capture.Received, doc.Capture.Dropped, doc.Capture.Frames, doc.Capture.Sockets, 2, "")
	})
	t.Run("csv", func(t *testing.T) {
		stdout, stderr := replayLive(t, v, replay, 2, "--format", "csv", "--cacert", ca, "--stats-interval", "300ms")
		rows := strings.Count(stdout, "\n") - 1
		if !strings.Contains(stderr, fmt.Sprintf("summary: %d connections", rows)) {
			t.Errorf("stderr has no summary of the %d rows:\n%s", rows, stderr)
		}
		for _, want := range []string{"packets received by the filter", "socket 1: ", "socket 2: "} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
		if strings.Contains(stdout, "packets received") {
			t.Errorf("the statistics went to the csv:\n%s", stdout)
		}
		checkStatsLines(t, stderr)
	})
	t.Run("table", func(t *testing.T) {
		stdout, stderr := replayLive(t, v, replay, 1, "--format", "table", "--cacert", ca, "--stats-interval", "300ms")
		if !strings.Contains(stdout, "packets received by the filter") || !strings.Contains(stdout, "Summary: ") {
			t.Errorf("the table has no summary with the capture's statistics:\n%s", lastLines(stdout, 20))
		}
		checkStatsLines(t, stderr)
	})
}

// replayLive starts live on v's client end with --fanout fanout and args,
// replays file from the server end at 100 Mbit/s, stops live with Ctrl-C
// and returns its output.
func replayLive(t *testing.T, v *tlslab.VethPair, file string, fanout int, args ...string) (stdout, stderr string) {
	t.Helper()
	args = append([]string{"netns", "exec", v.ClientNS, os.Args[0], "live", "-i", v.ClientIface, "-f", "tcp",
		"--fanout", fmt.Sprint(fanout), "--user", "", "--handshake-timeout", "3s"}, args...)
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1")
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "the capture to start", func() bool { return strings.Contains(errOut.String(), "capturing on") })
	replayed, err := exec.Command("ip", "netns", "exec", v.ServerNS, "tcpreplay", "-q", "-i", v.ServerIface, "--mbps", "100", file).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpreplay: %v\n%s", err, replayed)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() > 1 {
		t.Fatalf("live: exit status %d (%v); stderr:\n%s", cmd.ProcessState.ExitCode(), err, errOut.String())
	}
	return out.String(), errOut.String()
}

// checkCaptureStats checks a machine format's statistics: the summary
// counts the connections written, the sockets' counts add up to the
// totals, each of fanout sockets had a share, and without drops every
// packet received was read (and is in the -w file, when written names
// one).
func checkCaptureStats(t *testing.T, summarized, written int, received, dropped, frames int64, sockets []struct{ Received, Dropped int64 }, fanout int, file string) {
	t.Helper()
	if summarized != written || written == 0 {
		t.Errorf("the summary counts %d connections, %d were written", summarized, written)
	}
	if len(sockets) != fanout {
		t.Fatalf("%d sockets in the statistics, want %d", len(sockets), fanout)
	}
	var r, d int64
	for i, s := range sockets {
		r += s.Received
		d += s.Dropped
		if s.Received == 0 {
			t.Errorf("socket %d received nothing: %+v", i+1, sockets)
		}
	}
	if r != received || d != dropped {
		t.Errorf("the sockets' counts add up to %d received, %d dropped; the totals say %d, %d", r, d, received, dropped)
	}
	if dropped == 0 && frames != received {
		t.Errorf("%d frames read of %d received, none dropped", frames, received)
	}
	if file != "" {
		src, err := capture.OpenFile(file)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var n int64
		for {
			if _, _, err := src.ReadPacketData(); err != nil {
				break
			}
			n++
		}
		if n != frames {
			t.Errorf("the -w file has %d frames, the statistics say %d were read", n, frames)
		}
	}
}

// checkStatsLines checks that --stats-interval printed running lines.
func checkStatsLines(t *testing.T, stderr string) {
	t.Helper()
	re := regexp.MustCompile(`tlsdiag: stats: (\d+) packets \(\d+/s\), \d+ dropped \(\d+ in the last 300ms\), \d+ connections \([\d.]+/s\)`)
	ms := re.FindAllStringSubmatch(stderr, -1)
	if len(ms) < 2 {
		t.Fatalf("fewer than 2 statistics lines in 2 s:\n%s", stderr)
	}
	if last := ms[len(ms)-1][1]; last == "0" {
		t.Errorf("the last statistics line counts no packet: %s", ms[len(ms)-1][0])
	}
}

// connOrder lists live's ndjson connection lines as "client server", in
// their order.
func connOrder(t *testing.T, out string) []string {
	t.Helper()
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var c struct{ Type, Client, Server string }
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		if c.Type != "summary" {
			order = append(order, c.Client+" "+c.Server)
		}
	}
	return order
}

// liveOrderOf runs the live path (one reader) over the frames of file in
// time order and lists its connections as "client server", in its order.
func liveOrderOf(t *testing.T, file string, idle time.Duration) []string {
	t.Helper()
	src, err := capture.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sorted := &frameList{lt: src.LinkType()}
	for {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sorted.frames = append(sorted.frames, storedFrame{bytes.Clone(data), ci})
	}
	slices.SortStableFunc(sorted.frames, func(a, b storedFrame) int { return a.ci.Timestamp.Compare(b.ci.Timestamp) })
	var order []string
	_, err = pipeline.Live(context.Background(), []capture.SplitSource{capture.Unsplit(sorted)},
		pipeline.Config{Capture: capture.Options{IdleTimeout: idle}}, func(r pipeline.Result) {
			order = append(order, r.Conn.Client.String()+" "+r.Conn.Server.String())
		})
	if err != nil {
		t.Fatal(err)
	}
	return order
}

type storedFrame struct {
	data []byte
	ci   gopacket.CaptureInfo
}

// frameList is a capture.Source of frames in memory.
type frameList struct {
	frames []storedFrame
	lt     layers.LinkType
}

func (l *frameList) ReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	if len(l.frames) == 0 {
		return nil, gopacket.CaptureInfo{}, io.EOF
	}
	f := l.frames[0]
	l.frames = l.frames[1:]
	return f.data, f.ci, nil
}

func (l *frameList) LinkType() layers.LinkType { return l.lt }

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
