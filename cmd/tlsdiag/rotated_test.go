package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/internal/tlslab"
)

// readRecords runs read with args and returns its ndjson records (the
// summary line left out) and standard error.
func readRecords(t *testing.T, args ...string) ([]map[string]any, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if status := run(append([]string{"read", "--format", "ndjson"}, args...), &stdout, &stderr); status > 1 {
		t.Fatalf("read %v: status %d\n%s", args, status, stderr.String())
	}
	var recs []map[string]any
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if _, ok := r["summary"]; !ok {
			recs = append(recs, r)
		}
	}
	return recs, stderr.String()
}

// ecsIDs runs read --format ecs and returns the event.id of each record.
func ecsIDs(t *testing.T, args ...string) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if status := run(append([]string{"read", "--format", "ecs"}, args...), &stdout, &stderr); status > 1 {
		t.Fatalf("read %v: status %d\n%s", args, status, stderr.String())
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var d struct {
			Event struct{ ID string } `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil || d.Event.ID == "" {
			t.Fatalf("ecs line %q: %v", line, err)
		}
		ids = append(ids, d.Event.ID)
	}
	return ids
}

// withoutSource is a record with its source left out, as JSON.
func withoutSource(r map[string]any) string {
	r = maps.Clone(r)
	delete(r, "source")
	b, _ := json.Marshal(r)
	return string(b)
}

// A real rotated set: tcpdump -C 1 on loopback while one TLS connection
// carries HTTP requests through two rotations, with a short connection
// before and after it. read finds the set by its names and reads it as one
// capture: three records, the long connection one record whose frames run
// from the first file into the last, equal to what read makes of the
// files merged by mergecap -a, with the same record IDs (ecs event.id)
// on every reading. Each file read alone cuts the long connection apart.
func TestReadRotatedTcpdumpSet(t *testing.T) {
	requireRoot(t)
	srv, err := tlslab.Start(tlslab.OK)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	base := filepath.Join(dir, "rot.pcap")
	// A large buffer: on a busy machine tcpdump's default 2 MiB dropped
	// packets of the long connection.
	td := exec.Command("tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "65536", "-Z", "root", "-C", "1", "-w", base,
		fmt.Sprintf("tcp port %d", srv.Addr().Port()))
	var tdErr syncBuffer
	td.Stderr = &tdErr
	if err := td.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	defer td.Process.Kill()
	waitFor(t, "tcpdump to listen", func() bool { return strings.Contains(tdErr.String(), "listening on") })

	url := "https://" + srv.Addr().String() + "/"
	short := func() {
		tr := &http.Transport{TLSClientConfig: srv.Lab().ClientConfig(), DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	short()
	// One connection, until tcpdump has opened its third file: requests
	// written on it one after the other (an http.Transport may open
	// another connection on a busy machine).
	conn, err := tls.Dial("tcp", srv.Addr().String(), srv.Lab().ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	deadline := time.Now().Add(60 * time.Second)
	requests := 0
	for {
		if _, err := os.Stat(base + "2"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tcpdump did not rotate twice after %d requests: %s", requests, tdErr.String())
		}
		for range 200 {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := req.Write(conn); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			requests++
		}
	}
	conn.Close()
	short()
	// tcpdump -U writes each packet as it takes it: stop it once the
	// files stop growing (a busy machine schedules it late).
	size := func() (n int64) {
		fs, _ := filepath.Glob(base + "*")
		for _, f := range fs {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	for last, still := size(), 0; still < 5; {
		time.Sleep(200 * time.Millisecond)
		if n := size(); n != last {
			last, still = n, 0
		} else {
			still++
		}
	}
	td.Process.Signal(syscall.SIGINT)
	td.Wait()

	files, err := filepath.Glob(base + "*")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	if len(files) < 3 || files[0] != base || files[1] != base+"1" || files[2] != base+"2" {
		t.Fatalf("tcpdump -C wrote %v, want rot.pcap, rot.pcap1, rot.pcap2…", files)
	}

	// The shell's order, rot.pcap rot.pcap1 rot.pcap10 rot.pcap2…, is not
	// the rotation's: read orders the set itself.
	recs, _ := readRecords(t, files...)
	if len(recs) != 3 {
		for _, r := range recs {
			t.Logf("%v → %v frames %v–%v %v", r["client"], r["server"], r["first_frame"], r["last_frame"], r["verdict"])
		}
		t.Fatalf("%d records from the rotated set, want 3 (one per connection); tcpdump: %s", len(recs), tdErr.String())
	}
	var js, stderr bytes.Buffer
	run(append([]string{"read", "--format", "json"}, files...), &js, &stderr)
	if !regexp.MustCompile(`rot\.pcap: \d+ files read as one rotated capture`).MatchString(js.String()) {
		t.Errorf("no note on the rotated set in the summary: %s", stderr.String())
	}
	long := recs[1]
	v := long["verdict"].(map[string]any)
	if v["category"] != "ok" || long["source"] != base {
		t.Errorf("the long connection: %v, source %v; tcpdump: %s", v, long["source"], tdErr.String())
	}
	firstFrames := func(path string) int {
		out, err := exec.Command("capinfos", "-T", "-r", "-c", path).Output()
		if err != nil {
			t.Fatalf("capinfos %s: %v", path, err)
		}
		var name string
		var n int
		if _, err := fmt.Sscanf(string(out), "%s\t%d", &name, &n); err != nil {
			t.Fatalf("capinfos %s: %q: %v", path, out, err)
		}
		return n
	}
	inFirst := firstFrames(files[0])
	if ff, lf := long["first_frame"].(float64), long["last_frame"].(float64); int(ff) > inFirst || int(lf) <= inFirst+firstFrames(files[1]) {
		t.Errorf("the long connection runs from frame %v to %v: want it to start in the first file (%d frames) and end after the second", ff, lf, inFirst)
	}
	if ab := long["app_bytes"].(map[string]any); ab["server"].(float64) < float64(requests*len(tlslab.Body)) {
		t.Errorf("the long connection's server bytes %v: fewer than its %d answers' bodies", ab["server"], requests)
	}

	// The same records as the files merged into one capture.
	merged := filepath.Join(t.TempDir(), "merged.pcap")
	if out, err := exec.Command("mergecap", append([]string{"-a", "-F", "pcap", "-w", merged}, rotationOrder(base, len(files))...)...).CombinedOutput(); err != nil {
		t.Fatalf("mergecap: %v\n%s", err, out)
	}
	whole, _ := readRecords(t, merged)
	if len(whole) != len(recs) {
		t.Fatalf("merged capture: %d records, the set %d", len(whole), len(recs))
	}
	for i := range whole {
		if a, b := withoutSource(recs[i]), withoutSource(whole[i]); a != b {
			t.Errorf("record %d differs from the merged capture's:\nset    %s\nmerged %s", i+1, a, b)
		}
	}

	// The record ID is the same on every reading, of the set (in any
	// order) or of the merged file.
	ids := ecsIDs(t, files...)
	reversed := slices.Clone(files)
	slices.Reverse(reversed)
	for _, again := range [][]string{ecsIDs(t, reversed...), ecsIDs(t, "--continuous", merged)} {
		if !slices.Equal(ids, again) {
			t.Errorf("record IDs %v, then %v", ids, again)
		}
	}

	// --continuous takes any names: the same files under -G-like ones.
	renamed := t.TempDir()
	var named []string
	for i, f := range rotationOrder(base, len(files)) {
		n := filepath.Join(renamed, fmt.Sprintf("sensor-2026120%d.pcap", 9-i)) // names against the frames' order
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(n, b, 0o644); err != nil {
			t.Fatal(err)
		}
		named = append(named, n)
	}
	if apart, _ := readRecords(t, named...); len(apart) <= len(recs) {
		t.Errorf("files read apart: %d records, want the long connection cut into several (more than %d)", len(apart), len(recs))
	}
	cont, _ := readRecords(t, append([]string{"--continuous"}, named...)...)
	if len(cont) != len(recs) {
		t.Fatalf("--continuous: %d records, want %d", len(cont), len(recs))
	}
	for i := range cont {
		if a, b := withoutSource(recs[i]), withoutSource(cont[i]); a != b {
			t.Errorf("--continuous record %d differs:\n%s\n%s", i+1, b, a)
		}
	}
	t.Logf("%d files, %d requests on the long connection (frames %v–%v), record IDs %v", len(files), requests, long["first_frame"], long["last_frame"], ids)
}

// rotationOrder is tcpdump -C's file order: NAME, NAME1, NAME2…
func rotationOrder(base string, n int) []string {
	out := []string{base}
	for i := 1; i < n; i++ {
		out = append(out, fmt.Sprintf("%s%d", base, i))
	}
	return out
}
