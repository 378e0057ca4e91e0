package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/report"
)

// victoriaLogs builds the VictoriaLogs server pinned in
// testdata/victorialogs, once per test binary.
var victoriaLogs = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tlsdiag-victorialogs-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "victoria-logs")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs")
	cmd.Dir = "testdata/victorialogs"
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building VictoriaLogs (scripts/install-deps.sh downloads its module): %v\n%s", err, out)
	}
	return bin, nil
})

// vlServer is a VictoriaLogs process on loopback.
type vlServer struct {
	t    *testing.T
	addr string // 127.0.0.1:port
	data string
	cmd  *exec.Cmd
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func startVL(t *testing.T, addr, data string) *vlServer {
	t.Helper()
	bin, err := victoriaLogs()
	if err != nil {
		t.Fatal(err)
	}
	v := &vlServer{t: t, addr: addr, data: data}
	v.cmd = exec.Command(bin, "-httpListenAddr="+addr, "-storageDataPath="+data, "-retentionPeriod=100y", "-loggerLevel=ERROR")
	var logs bytes.Buffer
	v.cmd.Stdout, v.cmd.Stderr = &logs, &logs
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("VictoriaLogs did not start on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// terminate stops the server as an operator or a supervisor does
// (SIGTERM), and waits for it: it persists what it acknowledged. (A SIGKILL
// loses the records it took in its last second, which it had acknowledged:
// no client can see that loss.)
func (v *vlServer) terminate() {
	v.cmd.Process.Signal(syscall.SIGTERM)
	v.cmd.Wait()
}

func (v *vlServer) stop() {
	if v.cmd.Process != nil && v.cmd.ProcessState == nil {
		v.cmd.Process.Kill()
		v.cmd.Wait()
	}
}

// query returns every record VictoriaLogs holds, flattened as it stores
// them, once they stop growing for a moment.
func (v *vlServer) query(t *testing.T, want int) []map[string]string {
	t.Helper()
	var recs []map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs = recs[:0]
		form := url.Values{"query": {"*"}}
		resp, err := http.PostForm("http://"+v.addr+"/select/logsql/query", form)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var r map[string]string
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("query answer %q: %v", sc.Text(), err)
			}
			recs = append(recs, r)
		}
		resp.Body.Close()
		if len(recs) >= want || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ecsDocs are the ECS documents of every connection in the lab captures.
func ecsDocs(t *testing.T) [][]byte {
	t.Helper()
	files, err := filepath.Glob("../testdata/captures/*.pcap")
	if err != nil || len(files) < 10 {
		t.Fatalf("lab captures: %v (%d files)", err, len(files))
	}
	var out [][]byte
	for _, file := range files {
		src, err := capture.OpenFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rs, _, err := pipeline.Collect(context.Background(), src, pipeline.Config{})
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			rs[i].Source = filepath.Base(file)
		}
		var buf bytes.Buffer
		if err := report.Write(&buf, report.FormatECS, rs, report.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
			if len(l) > 0 {
				out = append(out, l)
			}
		}
	}
	return out
}

// flat is a document as VictoriaLogs stores it: dotted names, every value
// a string, lists as compact JSON, empty values left out.
func flat(t *testing.T, doc []byte) map[string]string {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(string, any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(strings.TrimPrefix(prefix+"."+k, "."), e)
			}
		case []any:
			if len(x) > 0 {
				b, _ := json.Marshal(x)
				out[prefix] = string(b)
			}
		case string:
			if x != "" {
				out[prefix] = x
			}
		case json.Number:
			out[prefix] = x.String()
		case bool:
			out[prefix] = strconv.FormatBool(x)
		}
	}
	walk("", m)
	return out
}

const msgField = "tlsdiag.verdict.summary"

func sinkURL(addr string) string {
	return "es+http://" + addr + "/insert/elasticsearch/tlsdiag?_msg_field=" + msgField
}

// checkArrived compares what VictoriaLogs holds with what was sent: every
// document, every field. It returns how many arrived more than once.
func checkArrived(t *testing.T, v *vlServer, docs [][]byte) (dups int) {
	t.Helper()
	recs := v.query(t, len(docs))
	byID := map[string][]map[string]string{}
	for _, r := range recs {
		byID[r["event.id"]] = append(byID[r["event.id"]], r)
	}
	for _, doc := range docs {
		want := flat(t, doc)
		got := byID[want["event.id"]]
		if len(got) == 0 {
			t.Errorf("record %s (%s) did not arrive", want["event.id"], want["tlsdiag.capture"])
			continue
		}
		dups += len(got) - 1
		for k, w := range want {
			name := k
			if k == msgField {
				name = "_msg"
			}
			if g := got[0][name]; g != w {
				t.Errorf("record %s: %s = %q, sent %q", want["event.id"], k, g, w)
			}
		}
	}
	if len(recs) != len(docs)+dups {
		t.Errorf("VictoriaLogs holds %d records; %d were sent, %d arrived twice", len(recs), len(docs), dups)
	}
	return dups
}

// Every record the sink is given arrives in a real VictoriaLogs, field for
// field, through its Elasticsearch _bulk API.
func TestSinkToVictoriaLogs(t *testing.T) {
	docs := ecsDocs(t)
	v := startVL(t, freePort(t), t.TempDir())
	s, err := Open(sinkURL(v.addr), Options{SpoolDir: t.TempDir(), BatchBytes: 64 << 10, FlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		// One Write per line, as a report.Stream writes them, with one
		// line split across two writes.
		if _, err := s.Write(append(d[:len(d):len(d)], '\n')); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Sent != int64(len(docs)) || st.Spooled != 0 {
		t.Errorf("stats %+v, want %d sent, none spooled", st, len(docs))
	}
	if dups := checkArrived(t, v, docs); dups != 0 {
		t.Errorf("%d records arrived twice with the server up all along", dups)
	}
	t.Logf("%d records sent and read back", len(docs))
}

// VictoriaLogs stopped in the middle of the stream and started again: the
// records written meanwhile go to the spool and are sent once it is back;
// every record arrives, and the test says how many arrived twice.
func TestSinkSurvivesServerRestart(t *testing.T) {
	docs := ecsDocs(t)
	addr, data := freePort(t), t.TempDir()
	v := startVL(t, addr, data)
	spool := t.TempDir()
	s, err := Open(sinkURL(addr), Options{SpoolDir: spool, BatchBytes: 8 << 10, FlushInterval: 20 * time.Millisecond,
		QueueBytes: 16 << 10, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, CloseTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	half := len(docs) / 2
	for _, d := range docs[:half] {
		s.Write(append(d[:len(d):len(d)], '\n'))
	}
	for s.Stats().Sent == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	v.terminate()
	for _, d := range docs[half:] {
		if _, err := s.Write(append(d[:len(d):len(d)], '\n')); err != nil {
			t.Fatal(err)
		}
	}
	// Let the sender find the server gone and spill to the spool.
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Retries == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	v = startVL(t, addr, data)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Retries == 0 || st.Spooled == 0 {
		t.Errorf("stats %+v: want retries and spooled records while the server was down", st)
	}
	dups := checkArrived(t, v, docs)
	t.Logf("server killed after %d of %d records: all arrived, %d twice (at least once; a store keyed on _id keeps one), stats %+v", half, len(docs), dups, st)
}

// With the server down through Close, the records stay in the spool, and
// the next sink to the same store sends them.
func TestSinkSpoolReplayedNextTime(t *testing.T) {
	docs := ecsDocs(t)[:20]
	addr, spool := freePort(t), t.TempDir()
	s, err := Open(sinkURL(addr), Options{SpoolDir: spool, FlushInterval: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond, CloseTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		s.Write(append(d[:len(d):len(d)], '\n'))
	}
	err = s.Close()
	if err == nil || !strings.Contains(err.Error(), s.SpoolPath()) {
		t.Fatalf("Close with the server down: %v, want an error naming the spool", err)
	}
	v := startVL(t, addr, t.TempDir())
	s, err = Open(sinkURL(addr), Options{SpoolDir: spool, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Replayed != int64(len(docs)) {
		t.Errorf("replayed %d records, want %d", st.Replayed, len(docs))
	}
	checkArrived(t, v, docs)
	if fi, err := os.Stat(s.SpoolPath()); err != nil || fi.Size() != 0 {
		t.Errorf("spool after a full replay: %v, %v", fi, err)
	}
}

// A 4xx is a permanent refusal, said as such; a 503 or an item refused
// with 429 is retried.
func TestSinkErrorClasses(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case r.URL.Path != "/_bulk" || r.Header.Get("Content-Encoding") != "gzip":
			http.Error(w, "bad path or encoding "+r.URL.Path, 404)
		case n == 1:
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		case n == 2:
			fmt.Fprint(w, `{"errors":true,"items":[{"index":{"status":429,"error":{"type":"es_rejected_execution_exception"}}},{"index":{"status":201}}]}`)
		case n == 3:
			fmt.Fprint(w, `{"errors":false,"items":[{"index":{"status":201}}]}`)
		default:
			http.Error(w, `{"error":{"type":"mapper_parsing_exception"}}`, http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	s, err := Open("es+http://"+addr+"/tlsdiag", Options{SpoolDir: t.TempDir(), FlushInterval: 10 * time.Millisecond, MinBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("{\"event\":{\"id\":\"a\"}}\n{\"event\":{\"id\":\"b\"}}\n"))
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().Sent < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.Stats(); st.Sent != 2 || st.Retries < 2 {
		t.Fatalf("stats %+v: want both records sent after a 503 and a 429", st)
	}
	s.Write([]byte("{\"event\":{\"id\":\"c\"}}\n"))
	err = s.Close()
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "mapping or request error") {
		t.Fatalf("Close after a 400: %v, want the refusal named as a mapping error", err)
	}
}

func TestOpenRejectsBadAddresses(t *testing.T) {
	for _, a := range []string{"http://h:9200/x", "es+ftp://h/x", "es+http://h:9200/", "es+http://h:9200/Bad", "es+http:///x"} {
		if _, err := Open(a, Options{SpoolDir: t.TempDir()}); err == nil {
			t.Errorf("Open(%q) accepted", a)
		}
	}
	s, err := Open("es+http://127.0.0.1:1/a/b/idx?x=1", Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s.bulkURL != "http://127.0.0.1:1/a/b/_bulk?x=1" || s.index != "idx" {
		t.Errorf("bulk URL %q index %q", s.bulkURL, s.index)
	}
	s.Close()
}
