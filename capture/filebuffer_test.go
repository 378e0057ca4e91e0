package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// filledFrame is a frame as a filler or ReadPacketData gave it, copied.
type filledFrame struct {
	data    []byte
	ci      gopacket.CaptureInfo
	lt      layers.LinkType
	several bool
}

func (f filledFrame) String() string {
	return fmt.Sprintf("%d bytes %08x.. %v len %d/%d if %d lt %v several %v", len(f.data), f.data[:min(4, len(f.data))],
		f.ci.Timestamp.UnixNano(), f.ci.CaptureLength, f.ci.Length, f.ci.InterfaceIndex, f.lt, f.several)
}

func (f filledFrame) equal(g filledFrame) bool {
	return bytes.Equal(f.data, g.data) && f.ci.Timestamp.Equal(g.ci.Timestamp) &&
		f.ci.CaptureLength == g.ci.CaptureLength && f.ci.Length == g.ci.Length &&
		f.ci.InterfaceIndex == g.ci.InterfaceIndex && f.lt == g.lt && f.several == g.several
}

// readEachFrame reads data frame by frame with ReadPacketData, to its first
// error.
func readEachFrame(r io.Reader) ([]filledFrame, error) {
	f, err := NewReader("x", r)
	if err != nil {
		return nil, err
	}
	var frames []filledFrame
	for {
		d, ci, err := f.ReadPacketData()
		if err != nil {
			return frames, err
		}
		frames = append(frames, filledFrame{bytes.Clone(d), ci, f.LinkType(), f.severalInterfaces()})
	}
}

// fillFrames reads r, which gives data, with fillerFor into two blocks of
// capacity bytes in turn, as RunSharded's reader reuses its blocks, and checks after
// each fill that the other block's frames still hold their bytes: frames
// read straight into a block stay valid while the next one is filled.
func fillFrames(t *testing.T, data []byte, r io.Reader, capacity int) ([]filledFrame, error) {
	t.Helper()
	f, err := NewReader("x", r)
	if err != nil {
		return nil, err
	}
	fill := fillerFor(f)
	if _, ok := fill.(*fileFiller); !ok {
		t.Fatalf("filler %T for a File", fill)
	}
	blocks := [2]*block{{buf: make([]byte, 0, capacity)}, {buf: make([]byte, 0, capacity)}}
	var kept [2][]filledFrame // copies of each block's frames as filled
	var frames []filledFrame
	for i := 0; ; i++ {
		b := blocks[i%2]
		b.buf, b.frames = b.buf[:0], b.frames[:0]
		err := fill.fill(b)
		kept[i%2] = kept[i%2][:0]
		for _, fr := range b.frames {
			c := filledFrame{bytes.Clone(fr.data), fr.captureInfo(), fr.lt, fr.several}
			kept[i%2] = append(kept[i%2], c)
			frames = append(frames, c)
		}
		other := blocks[(i+1)%2]
		for j, fr := range other.frames {
			if !bytes.Equal(fr.data, kept[(i+1)%2][j].data) {
				t.Fatalf("capacity %d: filling block %d changed frame %d of the block before", capacity, i+1, j+1)
			}
		}
		if err != nil {
			return frames, err
		}
		if i > len(data) {
			t.Fatalf("capacity %d: %d fills of a %d-byte file", capacity, i, len(data))
		}
	}
}

// checkFillMatchesRead fails unless filling blocks of each capacity gives
// the frames and the error ReadPacketData gives.
func checkFillMatchesRead(t *testing.T, name string, data []byte, capacities ...int) {
	t.Helper()
	want, wantErr := readEachFrame(bytes.NewReader(data))
	check := func(how string, got []filledFrame, gotErr error) {
		t.Helper()
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%s, %s: error %v after %d frames, ReadPacketData %v after %d", name, how, gotErr, len(got), wantErr, len(want))
		}
		if len(got) != len(want) {
			t.Errorf("%s, %s: %d frames, ReadPacketData %d", name, how, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if !got[i].equal(want[i]) {
				t.Errorf("%s, %s: frame %d is %v, ReadPacketData %v", name, how, i+1, got[i], want[i])
				break
			}
		}
	}
	for _, c := range capacities {
		got, gotErr := fillFrames(t, data, bytes.NewReader(data), c)
		check(fmt.Sprintf("blocks of %d bytes", c), got, gotErr)
	}
	// Through a pipe (tcpdump -w - | tlsdiag read -), whose reads return
	// what was written, a little at a time.
	got, gotErr := readEachFrame(&trickle{data: data})
	check("read from a pipe", got, gotErr)
	got, gotErr = fillFrames(t, data, &trickle{data: data}, 1500)
	check("blocks of 1500 bytes from a pipe", got, gotErr)
}

// trickle is a pipe's reader: each Read returns from 1 to 1,500 of the
// bytes left, as many as a pseudo-random sequence says.
type trickle struct {
	data []byte
	seed uint32
}

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	r.seed = r.seed*1664525 + 1013904223
	n := copy(p, r.data[:min(len(r.data), 1+int(r.seed>>16)%1500)])
	r.data = r.data[n:]
	return n, nil
}

// TestFillerMatchesReader reads every pcapng of the repository and the
// pcap captures of capture/testdata, plain and gzipped, the same cut
// short at several places, and pcapng files of blocks larger than a
// block or than the read buffer, into blocks of a few sizes: the same
// frames, interfaces and link types as ReadPacketData, the same error
// naming the same frame and offset.
func TestFillerMatchesReader(t *testing.T) {
	capacities := []int{64, 1500, 64 << 10, blockSize}
	files := repoPcapngs(t)
	for _, p := range testCaptures(t) {
		files[p] = readFile(t, p)
	}
	files["bench.pcap.gz"] = gz(makeBenchCapture(t, 20, 4<<10).pcap)
	for p, data := range files {
		if len(data) > 4<<20 {
			continue
		}
		checkFillMatchesRead(t, p, data, capacities...)
		for _, cut := range []int{len(data) / 3, len(data)/2 + 1, len(data) - 3} {
			checkFillMatchesRead(t, fmt.Sprintf("%s cut at %d", p, cut), data[:cut], capacities...)
		}
	}

	le := binary.LittleEndian
	idb := ngIDB(le, 1, 0, 6)
	frame := func(i, n int) []byte { return bytes.Repeat([]byte{byte(i)}, n) }
	// Packet blocks of a frame and options past the read buffer's size.
	withOptions := func(i int) []byte {
		b := le.AppendUint32(nil, 0)
		b = le.AppendUint32(b, 0)
		b = le.AppendUint32(b, uint32(i))
		b = le.AppendUint32(b, 100)
		b = le.AppendUint32(b, 100)
		b = append(b, frame(i, 100)...)
		b = le.AppendUint16(b, 1) // opt_comment
		b = le.AppendUint16(b, 60000)
		b = append(b, make([]byte, 60000)...)
		for range 20 {
			b = append(b, b[len(b)-60004:]...)
		}
		return ngBlock(le, ngBlockEnhancedPacket, b)
	}
	huge := ngFile(le, idb, ngEPB(le, 1, 300, frame(1, 300)), withOptions(2), ngEPB(le, 3, 70000, frame(3, 70000)), withOptions(4), ngSPB(le, frame(5, 10)))
	if len(withOptions(2)) <= readBufferSize {
		t.Fatalf("the packet block with options is %d bytes, not over the read buffer's %d", len(withOptions(2)), readBufferSize)
	}
	// Many frames, a second interface and section, a statistics block and
	// a secrets block between them.
	var many [][]byte
	for i := range 3000 {
		many = append(many, ngEPB(le, uint64(i), uint32(i%700), frame(i, i%700)))
	}
	secrets := ngBlock(le, ngBlockSecrets, append(le.AppendUint32(le.AppendUint32(nil, 0x544c534b), 4), "keys"...))
	mixed := ngFile(le, append(append([][]byte{idb, ngIDB(le, 101, 0, 9)}, many[:1500]...), secrets)...)
	mixed = append(mixed, ngFile(binary.BigEndian, ngIDB(binary.BigEndian, 1, 0, 6), ngEPB(binary.BigEndian, 7, 5, []byte("other")))...)
	mixed = append(mixed, ngFile(le, append([][]byte{idb}, many[1500:]...)...)...)
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"packet blocks over the read buffer", huge},
		{"the same cut in the last large block", huge[:len(huge)-200000]},
		{"sections, interfaces and secrets between 3,000 frames", mixed},
		{"the same cut in a frame", mixed[:len(mixed)-1000]},
	} {
		checkFillMatchesRead(t, tt.name, tt.data, 64, 1500, 64<<10, blockSize)
	}
}

// FuzzFiller fills blocks of a size the fuzzer picks from arbitrary
// bytes: never a panic, and the frames and error ReadPacketData gives.
func FuzzFiller(f *testing.F) {
	for _, p := range []string{"testdata/two-interfaces.pcapng", keysDir + "/tls13_curl_dsb.pcapng", "testdata/lo-tls12-openssl.pcap"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 4000)], uint16(200))
		}
	}
	le := binary.LittleEndian
	f.Add(ngFile(le, ngIDB(le, 1, 0, 6), ngEPB(le, 0, 5, []byte("frame")), ngSPB(le, []byte("simple"))), uint16(40))
	f.Fuzz(func(t *testing.T, data []byte, capacity uint16) {
		checkFillMatchesRead(t, "fuzz", data, int(capacity))
	})
}

// TestFileBufferDiscardsPastBuffer skips more than the buffer holds, lent
// and not: the bytes after come out right.
func TestFileBufferDiscardsPastBuffer(t *testing.T) {
	data := make([]byte, 3*readBufferSize)
	for i := range data {
		data[i] = byte(i / 7)
	}
	for _, lent := range []bool{false, true} {
		b := newFileBuffer(bytes.NewReader(data))
		if lent {
			b.lend(make([]byte, 0, 100))
		}
		if _, err := b.Peek(20); err != nil {
			t.Fatal(err)
		}
		skip := readBufferSize + 12345
		if n, err := b.Discard(skip); n != skip || err != nil {
			t.Fatalf("lent %v: Discard(%d) = %d, %v", lent, skip, n, err)
		}
		got, err := b.Peek(50)
		if lent && err == errBlockFull { // the block is full: the next is lent
			b.lend(make([]byte, 0, 100))
			got, err = b.Peek(50)
		}
		if err != nil || !bytes.Equal(got, data[skip:skip+50]) {
			t.Fatalf("lent %v: after the skip % x, %v; want % x", lent, got, err, data[skip:skip+50])
		}
		n, err := b.Discard(len(data))
		if n != len(data)-skip || err != io.EOF {
			t.Errorf("lent %v: Discard past the end = %d, %v; want %d, EOF", lent, n, err, len(data)-skip)
		}
	}
}
