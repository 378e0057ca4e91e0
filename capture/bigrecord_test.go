package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
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

// TestHugePacketBlockNotAllocated: pcapng packet blocks that claim
// 3.75 GB, followed by 40 MB of bytes, which gopacket's reader would read
// into a buffer growing to hold them all. Reading stops at the block with
// an error naming its frame and offsets, after the frames before it, and
// without allocating what it claims: in the first MiB read (the reader's
// buffer holds it before any check can run) and far beyond it; an
// Enhanced and a Simple Packet Block.
func TestHugePacketBlockNotAllocated(t *testing.T) {
	frames, _ := readFrames(t, "../testdata/demo.pcap")
	first := frames[0].data
	for _, tc := range []struct {
		name   string
		before int    // frames before the huge block
		typ    uint32 // its block type
	}{
		{"enhanced, in the first MiB", 1, 6},
		{"enhanced, after 2 MiB", 2 << 20 / (len(first) + 32), 6},
		{"simple, after 2 MiB", 2 << 20 / (len(first) + 32), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.before {
				ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(first), Length: len(first)}
				if err := w.WritePacket(ci, first); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			blockAt := buf.Len()
			const body = 40 << 20
			var h []byte
			if tc.typ == 6 {
				h = make([]byte, 28) // type, length, interface, time, captured and original lengths
				binary.LittleEndian.PutUint32(h[20:], 0xf0000000)
				binary.LittleEndian.PutUint32(h[24:], 0xf0000000)
			} else {
				h = make([]byte, 12) // type, length, original length
				binary.LittleEndian.PutUint32(h[8:], 0xf0000000)
			}
			binary.LittleEndian.PutUint32(h, tc.typ)
			binary.LittleEndian.PutUint32(h[4:], uint32(len(h)+body+4))
			buf.Write(h)
			buf.Write(make([]byte, body+4))

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f, err := NewReader("huge.pcapng", &buf)
			if err != nil {
				t.Fatal(err)
			}
			for err == nil {
				_, _, err = f.ReadPacketData()
			}
			runtime.ReadMemStats(&after)
			var re *ReadError
			if !errors.As(err, &re) || re.Frame != int64(tc.before+1) || re.Offset != int64(blockAt) {
				t.Fatalf("error %v, want a ReadError for frame %d at offset %d", err, tc.before+1, blockAt)
			}
			for _, want := range []string{"block at offset " + strconv.Itoa(blockAt), "4026531840", "262144"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if f.Frames() != int64(tc.before) {
				t.Errorf("%d frames read before the error, want %d", f.Frames(), tc.before)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
				t.Errorf("allocated %d MB reading past a block that claims 3.75 GB", got>>20)
			}
		})
	}
}
