package capture

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestHugeRecordNotAllocated: a file whose header claims a 4 GB snap length
// and whose second record claims 3.75 GB, though 600 KB follow (more than
// RunSharded reads into a block at once). Both readers (Run's and
// RunSharded's) refuse the record, naming its frame and offset, after the
// first frame was handed on, and without allocating what it claims: a
// record is read into memory whole.
func TestHugeRecordNotAllocated(t *testing.T) {
	frames, _ := readFrames(t, "../testdata/demo.pcap")
	first := frames[0].data
	data := writePcap(1, binary.LittleEndian, false, []pcapRec{{data: first}})
	binary.LittleEndian.PutUint32(data[16:], 0xffffffff) // the snap length
	rh := make([]byte, 16)
	binary.LittleEndian.PutUint32(rh[8:], 0xf0000000)
	binary.LittleEndian.PutUint32(rh[12:], 0xf0000000)
	data = append(append(data, rh...), make([]byte, 600<<10)...)
	path := filepath.Join(t.TempDir(), "huge.pcap")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, shards := range []int{1, 2} {
		src, err := OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		hs := make([]Handler, shards)
		for i := range hs {
			hs[i] = newRecorder(t)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		st, err := RunSharded(context.Background(), src, hs, Options{})
		runtime.ReadMemStats(&after)
		src.Close()
		offset := 24 + 16 + len(first)
		if err == nil || !strings.Contains(err.Error(), "frame 2") || !strings.Contains(err.Error(), "262144") {
			t.Errorf("%d shards: error %v, want frame 2 over the largest record", shards, err)
		}
		if want := "offset " + strconv.Itoa(offset); err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("%d shards: error %v, want %s", shards, err, want)
		}
		if st.Frames != 1 {
			t.Errorf("%d shards: %d frames read before the error, want 1", shards, st.Frames)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
			t.Errorf("%d shards: allocated %d MB reading a %d-byte file", shards, got>>20, len(data))
		}
	}
}
