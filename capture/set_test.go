package capture

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// splitCapture cuts a capture into files of n frames with editcap -c, as
// a ring buffer does: dumpcap's names, PREFIX_00000_DATE.EXT.
func splitCapture(t *testing.T, path string, n int) []string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, filepath.Base(path))
	if b, err := exec.Command("editcap", "-c", fmt.Sprint(n), path, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap (Wireshark's; scripts/install-deps.sh installs it): %v\n%s", err, b)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) < 2 {
		t.Fatalf("editcap -c %d %s made %d files: %v", n, path, len(files), err)
	}
	slices.Sort(files)
	return files
}

// logSet runs a set of files through Run (shards 1) or RunSharded, as
// runLoggedErr does one file.
func logSet(t *testing.T, files []string, shards int) (map[string]string, Stats, *Set) {
	t.Helper()
	s, err := OpenSet(files)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := &callLog{}
	var st Stats
	if shards == 0 {
		st, err = Run(context.Background(), s, l, Options{})
	} else {
		hs := make([]Handler, shards)
		for i := range hs {
			hs[i] = l
		}
		st, err = RunSharded(context.Background(), s, hs, Options{})
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, b := range l.logs {
		out[k] = b.String()
	}
	return out, st, s
}

// A capture cut into pieces and read as a Set gives every Stream the
// calls the whole file gives it, frame numbers and times included: a
// connection that runs across pieces is one connection. Read with Run and
// with RunSharded, and in whatever order the pieces are named.
func TestSetMatchesWholeFile(t *testing.T) {
	bench := filepath.Join(t.TempDir(), "bench.pcap")
	if err := os.WriteFile(bench, makeBenchCapture(t, 40, 6<<10).pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		n    int
	}{
		{"testdata/lo-tls12-openssl.pcap", 3},
		{"testdata/veth576-tls13-go.pcap", 5},
		{"testdata/two-interfaces.pcapng", 4},
		{bench, 97},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			want, wst := runLogged(t, readFile(t, tc.path), Options{}, 0)
			files := splitCapture(t, tc.path, tc.n)
			// A ring buffer that wrapped: the names' order is not the
			// frames' order.
			rotated := append(slices.Clone(files[len(files)/2:]), files[:len(files)/2]...)
			for _, shards := range []int{0, 1, 3} {
				got, gst, s := logSet(t, rotated, shards)
				if !maps.Equal(want, got) {
					t.Errorf("%d shards: streams differ from the whole file's: %s", shards, firstLogDiff(want, got))
				}
				if gst.Frames != wst.Frames || gst.Segments != wst.Segments || gst.ConnsClosed != wst.ConnsClosed {
					t.Errorf("%d shards: stats %+v\nwhole file %+v", shards, gst, wst)
				}
				if !slices.Equal(s.Files(), files) {
					t.Errorf("read in the order %v, want the frames' order %v", s.Files(), files)
				}
				for _, n := range []int64{1, int64(tc.n), int64(tc.n) + 1, wst.Frames} {
					file, local := s.FileOf(n)
					i := int((n - 1) / int64(tc.n))
					if file != files[i] || local != (n-1)%int64(tc.n)+1 {
						t.Errorf("frame %d: in %s as frame %d, want %s frame %d", n, file, local, files[i], (n-1)%int64(tc.n)+1)
					}
				}
			}
		})
	}
}

// A file of a set without frames (tcpdump's newest file, just opened)
// changes nothing; a broken file is named in the error with the frame's
// number in it.
func TestSetEmptyAndBrokenFiles(t *testing.T) {
	files := splitCapture(t, "testdata/lo-tls12-openssl.pcap", 4)
	whole := readFile(t, "testdata/lo-tls12-openssl.pcap")
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(empty, whole[:pcapHeaderLen], 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := runLogged(t, whole, Options{}, 0)
	got, _, s := logSet(t, append([]string{empty}, files...), 0)
	if !maps.Equal(want, got) {
		t.Errorf("with an empty file: %s", firstLogDiff(want, got))
	}
	if f := s.Files(); f[len(f)-1] != empty {
		t.Errorf("the empty file is read at %v, want last", f)
	}

	b := readFile(t, files[1])
	if err := os.WriteFile(files[1], b[:len(b)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, shards := range []int{1, 2} {
		set, err := OpenSet(files)
		if err != nil {
			t.Fatal(err)
		}
		hs := []Handler{&callLog{}, &callLog{}}[:shards]
		if shards == 1 {
			_, err = Run(context.Background(), set, hs[0], Options{})
		} else {
			_, err = RunSharded(context.Background(), set, hs, Options{})
		}
		set.Close()
		var re *ReadError
		if !errors.As(err, &re) || re.File != files[1] || re.Frame != 4 {
			t.Errorf("%d shards: a cut second file: %v, want a ReadError naming %s frame 4", shards, err, files[1])
		}
	}
	if _, err := OpenSet([]string{files[0], "testdata/README.md"}); err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Errorf("a set with a file that is no capture: %v", err)
	}
}

func TestRotatedSets(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want [][]string
	}{
		// tcpdump -C/-G: NAME, then NAME1, NAME2… (numbers, not names, order)
		{[]string{"d/t.pcap10", "d/t.pcap", "d/t.pcap2", "d/t.pcap1"}, [][]string{{"d/t.pcap", "d/t.pcap1", "d/t.pcap2", "d/t.pcap10"}}},
		// -W: NAME0, NAME1… padded; -z gzip compresses the closed ones
		{[]string{"ring.pcap00", "ring.pcap01.gz", "ring.pcap02"}, [][]string{{"ring.pcap00", "ring.pcap01.gz", "ring.pcap02"}}},
		// dumpcap -b
		{[]string{"x/cap_00002_20261203101500.pcapng", "x/cap_00001_20261203101000.pcapng", "other.pcap"},
			[][]string{{"x/cap_00001_20261203101000.pcapng", "x/cap_00002_20261203101500.pcapng"}, {"other.pcap"}}},
		// Different captures that happen to be numbered, and a lone file
		// with a number: separate.
		{[]string{"case1.pcap", "case2.pcap", "a.pcap1", "b.pcap1"}, [][]string{{"case1.pcap"}, {"case2.pcap"}, {"a.pcap1"}, {"b.pcap1"}}},
		// The same rotation stem in two directories: two sets.
		{[]string{"a/t.pcap", "a/t.pcap1", "b/t.pcap", "b/t.pcap1"}, [][]string{{"a/t.pcap", "a/t.pcap1"}, {"b/t.pcap", "b/t.pcap1"}}},
		// A name given twice is not a set.
		{[]string{"t.pcap", "t.pcap"}, [][]string{{"t.pcap"}, {"t.pcap"}}},
		{[]string{"-", "t.pcap"}, [][]string{{"-"}, {"t.pcap"}}},
		// One file, named as a member of a set, is a capture of its own
		// (the names are not matched at all).
		{[]string{"d/t.pcap1"}, [][]string{{"d/t.pcap1"}}},
		{[]string{"x/cap_00002_20261203101500.pcapng"}, [][]string{{"x/cap_00002_20261203101500.pcapng"}}},
	} {
		got := RotatedSets(tc.in)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("RotatedSets(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// startAsker is a Handler and Progresser that asks a Set for its start
// whenever a shard says how far it read, as a consumer writing out
// connections on a shard's goroutine does.
type startAsker struct {
	s     *Set
	mu    sync.Mutex
	start time.Time
}

func (a *startAsker) Open(Conn) Stream { return nil }
func (a *startAsker) Progress(int64) {
	st := a.s.Start()
	a.mu.Lock()
	a.start = st
	a.mu.Unlock()
}

// A Set's start may be asked for on another goroutine than the one
// reading it, once a frame was handed on (run it under the race
// detector, as CI does): the reader takes it from the first file before
// handing on the first block.
func TestSetStartFromShards(t *testing.T) {
	bench := filepath.Join(t.TempDir(), "bench.pcap")
	if err := os.WriteFile(bench, makeBenchCapture(t, 40, 64<<10).pcap, 0o644); err != nil {
		t.Fatal(err)
	}
	// pcap files, as tcpdump -C writes them: they are read straight into
	// the blocks, not frame by frame, and the first spans several blocks.
	out := filepath.Join(t.TempDir(), "bench.pcap")
	if b, err := exec.Command("editcap", "-F", "pcap", "-c", "1500", bench, out).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v\n%s", err, b)
	}
	files, err := filepath.Glob(filepath.Join(filepath.Dir(out), "*"))
	if err != nil || len(files) < 2 {
		t.Fatalf("editcap made %d files: %v", len(files), err)
	}
	s, err := OpenSet(files)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !ClassicPcap(files[0]) {
		t.Fatalf("%s is not a classic pcap file", files[0])
	}
	a := &startAsker{s: s}
	if _, err := RunSharded(context.Background(), s, []Handler{a, a}, Options{}); err != nil {
		t.Fatal(err)
	}
	want, err := OpenFile(bench)
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if _, _, err := want.ReadPacketData(); err != nil {
		t.Fatal(err)
	}
	if !a.start.Equal(want.Start()) {
		t.Errorf("the set's start, asked for from the shards: %v, want the first frame's %v", a.start, want.Start())
	}
}
