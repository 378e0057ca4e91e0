package capture

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
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

// BenchmarkFill reads the generated bench capture into blocks, as pcap
// and as pcapng (each read straight into blocks) and as pcapng copied
// frame by frame: what RunSharded's reading goroutine costs, without the
// kernel's copy.
func BenchmarkFill(b *testing.B) {
	bc := getBenchCapture(b)
	ng := toPcapng(b, bc.pcap)
	for _, bb := range []struct {
		name string
		data []byte
		fill func(f *File) filler
	}{
		{"pcap", bc.pcap, func(f *File) filler { return fillerFor(f) }},
		{"pcapng", ng, func(f *File) filler { return fillerFor(f) }},
		{"pcapng-copied", ng, func(f *File) filler { return &copyFiller{src: f} }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.data)))
			b.ReportAllocs()
			blk := &block{buf: make([]byte, 0, blockSize)}
			for b.Loop() {
				f, err := NewReader("bench", bytes.NewReader(bb.data))
				if err != nil {
					b.Fatal(err)
				}
				fill, frames := bb.fill(f), 0
				for {
					blk.buf, blk.frames = blk.buf[:0], blk.frames[:0]
					err := fill.fill(blk)
					frames += len(blk.frames)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if frames != len(bc.frames) {
					b.Fatalf("%d frames, want %d", frames, len(bc.frames))
				}
			}
		})
	}
}

// toPcapng writes the frames of a pcap capture as pcapng, as editcap
// would.
func toPcapng(tb testing.TB, pcap []byte) []byte {
	tb.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	w, err := pcapgo.NewNgWriter(&out, r.LinkType())
	if err != nil {
		tb.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkFillFile reads the capture named by $TLSDIAG_BENCH_PCAP into
// blocks as RunSharded's reading goroutine does, nothing else: how long
// the other goroutines wait for it on a large capture.
//
//	TLSDIAG_BENCH_PCAP=$PWD/testdata/bench/bulk-….pcap go test ./capture -run - -bench FillFile
func BenchmarkFillFile(b *testing.B) {
	path := os.Getenv("TLSDIAG_BENCH_PCAP")
	if path == "" {
		b.Skip("set TLSDIAG_BENCH_PCAP to a capture")
	}
	var blocks [blocksInFlight]*block
	for i := range blocks {
		blocks[i] = &block{buf: make([]byte, 0, blockSize)}
	}
	for b.Loop() {
		f, err := OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		fill := fillerFor(f)
		for i := 0; ; i++ {
			blk := blocks[i%len(blocks)]
			blk.buf, blk.frames = blk.buf[:0], blk.frames[:0]
			err := fill.fill(blk)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(f.raw.n)
		f.Close()
	}
}
