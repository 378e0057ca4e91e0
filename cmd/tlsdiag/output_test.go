package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
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
