package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
)

// labCaptures are the lab's captures, a pcap per verdict.
func labCaptures(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../testdata/captures/*.pcap")
	if err != nil || len(paths) < 20 {
		t.Fatalf("lab captures: %d found, %v", len(paths), err)
	}
	return paths
}

func collect(t *testing.T, path string) []Result {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rs, _, err := Collect(context.Background(), src, Config{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rs
}

// key is what identifies a connection and what was said about it.
type key struct {
	client, server string
	first          int64
	category       diagnose.Category
	summary        string
}

func keyOf(r Result) key {
	return key{r.Conn.Client.String(), r.Conn.Server.String(), r.Conn.First.Number, r.Verdict.Category, r.Verdict.Summary}
}

// outcomeOf is key without the summary.
func outcomeOf(r Result) key {
	k := keyOf(r)
	k.summary = ""
	return k
}

// Files gives, file after file, what Collect gives for each file alone,
// in the same order, whether a file is read on one core or split between
// several, and names the file each connection came from.
func TestFilesAsCollect(t *testing.T) {
	paths := labCaptures(t)
	var want []key
	for _, p := range paths {
		for _, r := range collect(t, p) {
			want = append(want, keyOf(r))
		}
	}
	for _, n := range []int{1, len(paths)} { // one file has every core to itself
		var got []key
		sources := map[string]int{}
		outcomes, err := Files(context.Background(), paths[:n], Config{}, func(rs []Result) error {
			for _, r := range rs {
				if r.SourceStart.IsZero() || r.Conn.First.Time.Before(r.SourceStart) {
					t.Errorf("%s: source start %v, first frame at %v", r.Source, r.SourceStart, r.Conn.First.Time)
				}
				sources[r.Source]++
				got = append(got, keyOf(r))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantN := 0
		for i, o := range outcomes {
			if o.Err != nil || o.Reported != sources[paths[i]] || o.Stats.Frames == 0 {
				t.Errorf("%s: outcome %+v, %d connections seen", paths[i], o, sources[paths[i]])
			}
			wantN += len(collect(t, paths[i]))
		}
		if !slices.Equal(got, want[:wantN]) {
			t.Errorf("%d files: got\n%v\nwant\n%v", n, got, want[:wantN])
		}
	}
}

// An output that fails stops the reading: Files returns its error, and
// no more batches come.
func TestFilesStopsOnOutputError(t *testing.T) {
	paths := labCaptures(t)
	stop := errors.New("output closed")
	calls := 0
	_, err := Files(context.Background(), paths, Config{}, func([]Result) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("error %v after %d calls; want %v after 1", err, calls, stop)
	}
}

// A file that cannot be read is that file's outcome; the others are read.
func TestFilesMissingFile(t *testing.T) {
	paths := append(labCaptures(t)[:1], filepath.Join(t.TempDir(), "missing.pcap"))
	n := 0
	outcomes, err := Files(context.Background(), paths, Config{}, func(rs []Result) error {
		n += len(rs)
		return nil
	})
	if err != nil || outcomes[0].Err != nil || n == 0 || outcomes[1].Err == nil || outcomes[1].Reported != 0 {
		t.Errorf("error %v, outcomes %+v, %d connections", err, outcomes, n)
	}
}

// Live reports each connection with its verdict as its outcome is known:
// the same connections as Collect, in the same categories for these lab
// captures, whose outcome is decided before they close. The summaries may
// differ: Live does not wait for what follows a completed handshake.
func TestLiveAsCollect(t *testing.T) {
	for _, path := range labCaptures(t) {
		var want []key
		for _, r := range collect(t, path) {
			want = append(want, outcomeOf(r))
		}
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []key
		_, err = Live(context.Background(), []capture.SplitSource{capture.Unsplit(src)}, Config{}, func(r Result) { got = append(got, outcomeOf(r)) })
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: live\n%v\ncollect\n%v", filepath.Base(path), got, want)
		}
	}
}
