package capture

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestBlockFramesBounded fills blocks from a capture of tiny frames, as a
// file (read straight into blocks) and as any other Source (copied): no
// block holds more than maxBlockFrames, and every frame comes out once,
// in order, with its bytes — also the ones a full block carried over to
// the next after the file's end was read.
func TestBlockFramesBounded(t *testing.T) {
	const n = 3*maxBlockFrames + 17
	frames := make([]frameRec, n)
	for i := range frames {
		data := []byte{byte(i), byte(i >> 8), byte(i >> 16), 0xee}
		frames[i] = frameRec{ci: gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)), CaptureLength: len(data), Length: len(data)}, data: data}
	}
	raw := writeFrames(t, layers.LinkTypeEthernet, frames)
	for _, tt := range []struct {
		name string
		fill func(f *File) filler
	}{
		{"file", func(f *File) filler { return fillerFor(f) }},
		{"copy", func(f *File) filler { return &copyFiller{src: f} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewReader("tiny.pcap", bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			fill := tt.fill(f)
			got, blocks := 0, 0
			for {
				b := &block{buf: make([]byte, 0, blockSize)}
				err := fill.fill(b)
				if len(b.frames) > maxBlockFrames {
					t.Fatalf("block %d holds %d frames, want at most %d", blocks, len(b.frames), maxBlockFrames)
				}
				for _, fr := range b.frames {
					if got >= n || !bytes.Equal(fr.data, frames[got].data) {
						t.Fatalf("frame %d is % x, want % x", got+1, fr.data, frames[min(got, n-1)].data)
					}
					got++
				}
				blocks++
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if got != n || blocks < 4 {
				t.Errorf("%d frames in %d blocks, want %d in at least 4", got, blocks, n)
			}
		})
	}
}
