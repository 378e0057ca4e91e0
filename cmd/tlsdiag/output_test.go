package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// read --output sends one ECS document per connection to the _bulk API,
// each keyed by its event.id, and says how many it sent.
func TestReadOutputToBulkAPI(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the sink's spool
	var mu sync.Mutex
	ids := map[string]string{} // _id → event.id
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil || r.URL.Path != "/_bulk" {
			http.Error(w, "want gzip on /_bulk", 400)
			return
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		mu.Lock()
		defer mu.Unlock()
		for sc.Scan() {
			var action struct {
				Index struct {
					ID    string `json:"_id"`
					Index string `json:"_index"`
				} `json:"index"`
			}
			if err := json.Unmarshal(sc.Bytes(), &action); err != nil || action.Index.Index != "tlsdiag" || !sc.Scan() {
				http.Error(w, "bad action line", 400)
				return
			}
			var doc struct {
				Event struct{ ID string } `json:"event"`
			}
			json.Unmarshal(sc.Bytes(), &doc)
			ids[action.Index.ID] = doc.Event.ID
		}
		w.Write([]byte(`{"errors":false,"items":[]}`))
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	status := run([]string{"read", "--output", "es+" + srv.URL + "/tlsdiag", "../../testdata/demo.pcap"}, &stdout, &stderr)
	if status != 1 { // demo.pcap has failed connections
		t.Fatalf("status %d, stderr %q", status, stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing: the records went to the store", stdout.String())
	}
	if len(ids) != 6 {
		t.Errorf("%d documents arrived, want demo.pcap's 6", len(ids))
	}
	for id, eventID := range ids {
		if id == "" || id != eventID {
			t.Errorf("_id %q, event.id %q: want equal and set", id, eventID)
		}
	}
	if !strings.Contains(stderr.String(), "6 records sent to es+http://") {
		t.Errorf("stderr %q does not say what was sent", stderr.String())
	}
}

// Ctrl-C while read --output cannot reach the store: the records found so
// far go to the spool, stderr says so, and the next run to the same store
// sends them, each once.
func TestReadOutputCtrlCSpools(t *testing.T) {
	cache := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there for the first run
	store := "es+http://" + addr + "/tlsdiag"

	pcap, err := os.ReadFile("../../testdata/demo.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "read", "--output", store, "-")
	cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1", "XDG_CACHE_HOME="+cache)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The whole capture, then 300 KiB of frames that are no IP (to push
	// the reader's block through), with standard input left open: read
	// waits for more, as it does behind tcpdump -w -.
	if binary.LittleEndian.Uint32(pcap) != 0xa1b2c3d4 {
		t.Fatal("demo.pcap is not a little-endian microsecond pcap")
	}
	last := uint32(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC).Unix())
	for range 300 {
		rec := make([]byte, 16+1024)
		binary.LittleEndian.PutUint32(rec[0:], last)
		binary.LittleEndian.PutUint32(rec[8:], 1024)
		binary.LittleEndian.PutUint32(rec[12:], 1024)
		pcap = append(pcap, rec...)
	}
	if _, err := stdin.Write(pcap); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(cache, "tlsdiag", "spool", strings.ReplaceAll(addr, ":", "_")+"-tlsdiag.ndjson")
	waitFor(t, "the records to reach the spool", func() bool {
		b, _ := os.ReadFile(spool)
		return bytes.Count(b, []byte("\n")) >= 5 // all but the last connection, still open to the reader
	})
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("after Ctrl-C: %v, want exit status 130", err)
	}
	if !strings.Contains(stderr.String(), "spooled") || !strings.Contains(stderr.String(), spool) {
		t.Errorf("stderr does not say where the records are: %q", stderr.String())
	}
	b, _ := os.ReadFile(spool)
	spooled := bytes.Count(b, []byte("\n"))

	// The store is back: the next run sends the spool first.
	var mu sync.Mutex
	got := map[string]int{}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, _ := gzip.NewReader(r.Body)
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		mu.Lock()
		defer mu.Unlock()
		for sc.Scan() {
			var a struct {
				Index struct {
					ID string `json:"_id"`
				} `json:"index"`
			}
			json.Unmarshal(sc.Bytes(), &a)
			sc.Scan()
			got[a.Index.ID]++
		}
		w.Write([]byte(`{"errors":false,"items":[]}`))
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	t.Setenv("XDG_CACHE_HOME", cache)
	var out, errOut bytes.Buffer
	if status := run([]string{"read", "--output", store, "../../testdata/demo.pcap"}, &out, &errOut); status != 1 {
		t.Fatalf("second run: status %d: %s", status, errOut.String())
	}
	// Documents written while the spool still holds older ones queue
	// behind them in it (order is kept), so this run's own may be
	// replayed too.
	var sent, replayed int
	if _, err := fmt.Sscanf(errOut.String(), "tlsdiag: %d records sent to "+store+" (", &sent); err != nil {
		t.Fatalf("second run's stderr %q: %v", errOut.String(), err)
	}
	m := regexp.MustCompile(`(\d+) replayed from the spool`).FindStringSubmatch(errOut.String())
	if m != nil {
		replayed, _ = strconv.Atoi(m[1])
	}
	if sent != spooled+6 || replayed < spooled {
		t.Errorf("second run: %d sent, %d replayed, want %d sent (the %d spooled and demo.pcap's 6), at least %d replayed: %q", sent, replayed, spooled+6, spooled, spooled, errOut.String())
	}
	// demo.pcap's 6 records: those spooled and those of this run share
	// their IDs (the same connections), so each ID came twice at most, and
	// none is missing.
	if len(got) != 6 {
		t.Errorf("%d record IDs arrived, want demo.pcap's 6", len(got))
	}
	twice := 0
	for _, n := range got {
		if n == 2 {
			twice++
		}
	}
	if twice != spooled {
		t.Errorf("%d IDs arrived twice, want the %d spooled ones (again in this run)", twice, spooled)
	}
	if fi, err := os.Stat(spool); err != nil || fi.Size() != 0 {
		t.Errorf("spool after the replay: %v %v, want empty", fi, err)
	}
	t.Logf("Ctrl-C with the store down: %d records spooled, replayed on the next run", spooled)
}

// live --output ships each connection's ECS document to the store as the
// handshake ends, not at the end of the capture; Ctrl-C sends what is
// left and says how many records went.
func TestLiveOutputToBulkAPI(t *testing.T) {
	requireRoot(t)
	servers, caFile := startLab(t, "127.0.0.1:0")
	var mu sync.Mutex
	var docs []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<20)
		mu.Lock()
		defer mu.Unlock()
		// Action lines name the operation; the documents follow them.
		for sc.Scan() {
			var d map[string]any
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				d = map[string]any{"unparsed": sc.Text()}
			}
			if _, ok := d["create"]; ok {
				continue
			}
			if _, ok := d["index"]; ok {
				continue
			}
			docs = append(docs, d)
		}
		w.Write([]byte(`{"errors":false,"items":[]}`))
	}))
	defer srv.Close()
	cmd := exec.Command(os.Args[0], "live", "-i", "lo", "-f", portFilter(servers[:2]), "--user", "", "--cacert", caFile,
		"--output", "es+"+srv.URL+"/tlsdiag")
	cmd.Env = append(os.Environ(), "TLSDIAG_TEST_MAIN=1", "XDG_CACHE_HOME="+t.TempDir())
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "the capture to start", func() bool { return strings.Contains(stderr.String(), "capturing on") })
	request(servers[0], liveCases[0])
	request(servers[1], liveCases[1])
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(docs) }
	waitFor(t, "both documents in the store while live runs", func() bool { return count() >= 2 })
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	got := map[string]string{}
	for _, d := range docs {
		tl, _ := d["tlsdiag"].(map[string]any)
		verdict, _ := tl["verdict"].(map[string]any)
		ev, _ := d["event"].(map[string]any)
		network, _ := d["network"].(map[string]any)
		if verdict == nil || ev == nil || network == nil {
			t.Errorf("not an ECS document with a verdict: %v", d)
			continue
		}
		got[fmt.Sprint(verdict["category"])] = fmt.Sprint(ev["outcome"])
		if ev["id"] == "" || network["community_id"] == "" {
			t.Errorf("document without a record ID or Community ID: %v", d)
		}
	}
	if len(docs) != 2 || got["ok"] != "success" || got["cert_expired"] != "failure" {
		t.Errorf("documents %v, want one ok (success) and one cert_expired (failure)", got)
	}
	if stdout.String() != "" {
		t.Errorf("stdout %q: the records went to the store", stdout.String())
	}
	if !strings.Contains(stderr.String(), "2 records sent to es+http://") {
		t.Errorf("stderr does not say what was sent: %q", stderr.String())
	}
}
