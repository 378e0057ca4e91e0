package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// jobScript is the shell script of the Indexed Job in
// deploy/k8s-indexed-job.yaml (the block under "args: - |").
func jobScript(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/k8s-indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "- |" || !strings.HasSuffix(strings.TrimSpace(lines[i-1]), "args:") {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " ")) + 2
		var script []string
		for _, s := range lines[i+1:] {
			if strings.TrimSpace(s) != "" && len(s)-len(strings.TrimLeft(s, " ")) < indent {
				break
			}
			script = append(script, strings.TrimPrefix(s, strings.Repeat(" ", indent)))
		}
		return strings.Join(script, "\n")
	}
	t.Fatal("no args: - | block in deploy/k8s-indexed-job.yaml")
	return ""
}

// The Indexed Job's script, run here for each pod index with this test
// binary as tlsdiag and a _bulk endpoint as the store: every connection of
// every sensor arrives once, keyed by its record ID, a sensor's capture
// rotated into files with -G-like names included (one record per
// connection, not one per piece); running a pod again stores nothing new.
func TestDeployIndexedJob(t *testing.T) {
	script := jobScript(t)
	root := t.TempDir()
	script = strings.ReplaceAll(script, "/captures/", root+"/")

	// sensor-a: ok.pcap rotated into pieces named by time, as tcpdump -G
	// names them; sensor-b: one file.
	pieces := t.TempDir()
	if out, err := exec.Command("editcap", "-c", "7", "../../testdata/captures/ok.pcap", filepath.Join(pieces, "ok.pcap")).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, out)
	}
	split, _ := filepath.Glob(filepath.Join(pieces, "*"))
	slices.Sort(split)
	if len(split) < 3 {
		t.Fatalf("editcap made %v", split)
	}
	for i, f := range split {
		copyFile(t, f, filepath.Join(root, "sensor-a", fmt.Sprintf("a-20261203-10%02d.pcap", i)))
	}
	copyFile(t, "../../testdata/demo.pcap", filepath.Join(root, "sensor-b", "b.pcap"))

	var want []string
	for _, f := range []string{"../../testdata/captures/ok.pcap", "../../testdata/demo.pcap"} {
		want = append(want, ecsIDs(t, f)...)
	}
	slices.Sort(want)

	var mu sync.Mutex
	got := map[string]int{} // _id → documents
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
		for sc.Scan() {
			var a struct {
				Index struct {
					ID string `json:"_id"`
				} `json:"index"`
			}
			if json.Unmarshal(sc.Bytes(), &a) != nil || a.Index.ID == "" || !sc.Scan() {
				http.Error(w, "bad action", 400)
				return
			}
			got[a.Index.ID]++
		}
		w.Write([]byte(`{"errors":false,"items":[]}`))
	}))
	defer srv.Close()

	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nTLSDIAG_TEST_MAIN=1 exec %q \"$@\"\n", self)
	if err := os.WriteFile(filepath.Join(bin, "tlsdiag"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	pod := func(i int) {
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "SHARDS=2",
			fmt.Sprintf("JOB_COMPLETION_INDEX=%d", i), "STORE=es+"+srv.URL+"/tlsdiag", "XDG_CACHE_HOME="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pod %d: %v\n%s", i, err, out)
		}
	}
	// stored returns a copy of what the store holds: _id → documents.
	stored := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(got)
	}
	pod(0)
	pod(1)
	first := stored()
	ids := slices.Sorted(maps.Keys(first))
	if !slices.Equal(ids, want) {
		t.Fatalf("the store holds %d record IDs %v\nwant the %d of reading the captures whole %v", len(ids), ids, len(want), want)
	}
	for id, n := range first {
		if n != 1 {
			t.Errorf("record %s sent %d times by one run of the job", id, n)
		}
	}
	pod(0) // a pod run again: the same IDs, nothing new
	if again := stored(); len(again) != len(want) {
		t.Errorf("after a pod ran again the store holds %d IDs, want %d", len(again), len(want))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
