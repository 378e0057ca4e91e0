package analysis_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// TestReusedRecordsMatchNew reads the lab captures (real stacks, every
// kind of failure) one after the other with one Records, handing each
// record back as soon as it is emitted, as the read command does once a
// connection is written: the records are overwritten for later
// connections, of other captures too, and each must equal the record a
// read without reuse makes (nothing of the connection it held before may
// stay in it).
func TestReusedRecordsMatchNew(t *testing.T) {
	files, err := filepath.Glob("../testdata/captures/*.pcap")
	if err != nil || len(files) < 20 {
		t.Fatalf("lab captures: %v, %d", err, len(files))
	}
	for _, shards := range []int{0, 1} {
		reuse := analysis.NewRecords(4)
		seen := map[*analysis.Connection]bool{}
		n := 0
		for _, f := range files {
			want := analyseFile(t, f, analysis.Options{}, shards)
			i := 0
			analyseFile(t, f, analysis.Options{Reuse: reuse, Emit: func(c *analysis.Connection) {
				if i >= len(want) {
					t.Errorf("%s, %d shards: more connections with reused records than %d", f, shards, len(want))
				} else if !reflect.DeepEqual(c, want[i]) {
					t.Errorf("%s, %d shards: connection %d (%s → %s) differs with a reused record", f, shards, i+1, c.Client, c.Server)
				}
				i++
				seen[c] = true
				reuse.Done(c)
			}}, shards)
			if i != len(want) {
				t.Errorf("%s, %d shards: %d connections with reused records, %d without", f, shards, i, len(want))
			}
			n += i
		}
		if len(seen) >= n/2 {
			t.Errorf("%d shards: %d records for %d connections: records were not reused", shards, len(seen), n)
		}
	}
}

func analyseFile(t *testing.T, path string, opt analysis.Options, shards int) []*analysis.Connection {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	conns, _, err := analysis.Analyse(context.Background(), src, opt, capture.Options{}, shards)
	if err != nil {
		t.Fatal(err)
	}
	return conns
}
