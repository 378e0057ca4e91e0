package diagnose

import (
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
)

// TestAllMatchesDiagnose diagnoses the connections of the lab's and the
// field's captures, all in a row, as All does in one diagnosis (which
// keeps its texts and buffer from one connection to the next), and
// checks each verdict against Diagnose's, made in a diagnosis of its own.
// The rules that look across connections (resumedRefusals) are left out:
// they are meant to differ from Diagnose.
func TestAllMatchesDiagnose(t *testing.T) {
	var files []string
	for _, dir := range []string{capturesDir, testdataDir + "/field"} {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if ext := filepath.Ext(path); err == nil && (ext == ".pcap" || ext == ".pcapng") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 100 {
		t.Fatalf("only %d captures", len(files))
	}
	roots := rootsFile(t, labCAFile)
	cfg := Config{Roots: roots, Cache: NewChainCache(0)}
	var conns []*analysis.Connection
	for _, f := range files {
		conns = append(conns, analyseCapture(t, f, nil)...)
	}
	// Twice over, so that every text is met again after others.
	vs := all(append(conns, conns...), cfg, 1)
	fixes := 0
	for i, v := range vs {
		c := conns[i%len(conns)]
		if want := Diagnose(c, cfg); !reflect.DeepEqual(v, want) {
			t.Fatalf("connection %d (%s → %s): in a row with the others\n%+v\nalone\n%+v", i, c.Client, c.Server, v, want)
		}
		if v.Fix != "" {
			fixes++
		}
	}
	t.Logf("%d captures, %d connections, %d fixes", len(files), len(conns), fixes)
}

// TestEvidenceApart checks that the evidence of one verdict, a slice of
// the frames a diagnosis keeps, can grow without changing the next's.
func TestEvidenceApart(t *testing.T) {
	d := &diagnosis{texts: new(textMemo)}
	var vs [][]int64
	for i := range framesChunk {
		vs = append(vs, d.evidence([]capture.Frame{{Number: int64(2 * i)}, {Number: int64(2*i + 1)}}))
	}
	for i := range vs {
		vs[i] = append(vs[i], -1)
	}
	for i, v := range vs {
		if !slices.Equal(v, []int64{int64(2 * i), int64(2*i + 1), -1}) {
			t.Fatalf("verdict %d: evidence %v", i, v)
		}
	}
}

// TestCaptureBatchesDoNotMatter diagnoses the connections of the resume
// captures, whose later connections are judged by earlier ones, in one
// batch and one connection at a time, as read's batches may break
// anywhere, and checks that the verdicts are the same.
func TestCaptureBatchesDoNotMatter(t *testing.T) {
	dir := testdataDir + "/field/resume"
	files, err := filepath.Glob(dir + "/*.pcap")
	if err != nil || len(files) < 10 {
		t.Fatalf("%d captures in %s (%v)", len(files), dir, err)
	}
	cfg := Config{Roots: rootsFile(t, dir+"/root.pem"), Cache: NewChainCache(0)}
	linked := 0
	for _, f := range files {
		conns := analyseCapture(t, f, nil)
		whole := All(conns, cfg, 1)
		var cs Capture
		for i, c := range conns {
			got := cs.All([]*analysis.Connection{c}, cfg, 1)[0]
			if !reflect.DeepEqual(got, whole[i]) {
				t.Errorf("%s, connection %d: alone %s (%s), in one batch %s (%s)", filepath.Base(f), i+1, got.Category, got.Summary, whole[i].Category, whole[i].Summary)
			}
			if got.Category == ClientCertRequired && c.Resumed {
				linked++
			}
		}
	}
	if linked == 0 {
		t.Errorf("no resumed connection was judged by an earlier one: the test checks nothing")
	}
}
