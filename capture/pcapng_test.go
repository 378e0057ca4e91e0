package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ngFrame is a frame as a pcapng reader returns it.
type ngFrame struct {
	data []byte
	ci   gopacket.CaptureInfo
	lt   layers.LinkType
}

// readNg reads data with the File's pcapng reader, up to the first error.
func readNg(data []byte) (frames []ngFrame, units []uint64, err error) {
	f, err := NewReader("x.pcapng", bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	for {
		d, ci, err := f.ReadPacketData()
		if err != nil {
			return frames, units, err
		}
		frames = append(frames, ngFrame{bytes.Clone(d), ci, f.LinkType()})
		units = append(units, f.ng.ifaces[ci.InterfaceIndex].units)
	}
}

// readPcapgo reads data with gopacket's pcapng reader, as tlsdiag used
// to, up to the first error.
func readPcapgo(data []byte) (frames []ngFrame, err error) {
	r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
	if err != nil {
		return nil, err
	}
	for {
		d, ci, err := r.ReadPacketData()
		if err != nil {
			return frames, err
		}
		lt := ci.AncillaryData[0].(layers.LinkType)
		ci.AncillaryData = nil
		frames = append(frames, ngFrame{d, ci, lt})
	}
}

// sameFrame compares a frame of each reader. pcapgo converts timestamps
// in binary units (if_tsresol 2^-n) to nanoseconds with a rounded factor,
// off by up to 2^n ns for n < 30 and up to 7 % of a second above: those
// are compared to the second (TestNgTimestampUnits checks tlsdiag's
// against tshark's). It reads if_tsresol 0, seconds, as if absent
// (microseconds), where tshark reads seconds, as tlsdiag does: those
// timestamps are not compared.
func sameFrame(ours, theirs ngFrame, units uint64) bool {
	ts := ours.ci.Timestamp.Equal(theirs.ci.Timestamp.UTC()) || units == 1
	if !ts && units&(units-1) == 0 {
		d := ours.ci.Timestamp.Sub(theirs.ci.Timestamp)
		ts = d > -time.Second && d < time.Second
	}
	return ts && bytes.Equal(ours.data, theirs.data) && ours.lt == theirs.lt &&
		ours.ci.CaptureLength == theirs.ci.CaptureLength && ours.ci.Length == theirs.ci.Length &&
		ours.ci.InterfaceIndex == theirs.ci.InterfaceIndex
}

// repoPcapngs returns every pcapng file in the repository's testdata
// (outside the bench captures), by content: some are named .pcap.
func repoPcapngs(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "bench" || d.Name() == ".git"):
			return filepath.SkipDir
		case !strings.Contains(p, "testdata") || d.IsDir():
			return nil
		}
		if data, err := os.ReadFile(p); err == nil && bytes.HasPrefix(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
			files[p] = data
		}
		return nil
	})
	if len(files) < 10 {
		t.Fatalf("found %d pcapng files, want the repository's 10 or more", len(files))
	}
	return files
}

// TestNgReaderMatchesPcapgo reads every pcapng in the repository (dumpcap,
// editcap, mergecap, Wireshark and tlsdiag's own writers; two link types in
// one file; Decryption Secrets Blocks) with the File and with gopacket's
// reader: the same frames, timestamps, lengths and link types, and both end
// cleanly.
func TestNgReaderMatchesPcapgo(t *testing.T) {
	files := repoPcapngs(t)
	for p, data := range files {
		ours, units, err := readNg(data)
		if err != io.EOF {
			t.Errorf("%s: %v after %d frames", p, err, len(ours))
		}
		theirs, err := readPcapgo(data)
		if err != io.EOF {
			t.Errorf("%s: pcapgo: %v after %d frames", p, err, len(theirs))
		}
		if len(ours) != len(theirs) || len(ours) == 0 {
			t.Errorf("%s: %d frames, pcapgo %d", p, len(ours), len(theirs))
			continue
		}
		for i := range ours {
			if !sameFrame(ours[i], theirs[i], units[i]) {
				t.Errorf("%s: frame %d: %+v %v, pcapgo %+v %v", p, i+1, ours[i].ci, ours[i].lt, theirs[i].ci, theirs[i].lt)
				break
			}
		}
	}
}

// FuzzNgReader reads arbitrary bytes with the File's pcapng reader and with
// gopacket's: never a panic, and the same frames for as long as neither
// stops at an error. tlsdiag's reader stops where pcapgo guesses (a block
// length not a multiple of 4, a frame longer than its block, bounds on
// memory) and skips what pcapgo gives up on (name resolution and statistics
// blocks); it reads sections of version 1.2, which pcapgo skips.
func FuzzNgReader(f *testing.F) {
	for _, p := range []string{"testdata/two-interfaces.pcapng", keysDir + "/tls13_curl_dsb.pcapng"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b[:min(len(b), 4000)])
		}
	}
	f.Add(ngFile(binary.LittleEndian, ngIDB(binary.LittleEndian, 1, 0, 0x94), ngEPB(binary.LittleEndian, 0, 5, []byte("frame"))))
	f.Add(ngFile(binary.BigEndian, ngIDB(binary.BigEndian, 101, 64, 6), ngSPB(binary.BigEndian, []byte("a simple packet"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, units, oursErr := readNg(data)
		if len(data) >= 16 && bytes.Contains(data, []byte{0x0a, 0x0d, 0x0d, 0x0a}) && minorVersionOther(data) {
			return
		}
		theirs, theirsErr := readPcapgo(data)
		n := min(len(ours), len(theirs))
		for i := range n {
			if !sameFrame(ours[i], theirs[i], units[i]) {
				t.Fatalf("frame %d: %+v %v, pcapgo %+v %v", i+1, ours[i].ci, ours[i].lt, theirs[i].ci, theirs[i].lt)
			}
		}
		if oursErr == io.EOF && theirsErr == io.EOF && len(ours) != len(theirs) {
			t.Fatalf("%d frames, pcapgo %d, both to the end", len(ours), len(theirs))
		}
		if oursErr == io.EOF && len(ours) < len(theirs) {
			t.Fatalf("%d frames to the end, pcapgo %d (%v)", len(ours), len(theirs), theirsErr)
		}
	})
}

// minorVersionOther reports whether data may hold a Section Header Block
// of a version 1.x other than 1.0, which pcapgo skips (and tlsdiag reads,
// for 1.2).
func minorVersionOther(data []byte) bool {
	for i := 0; i+16 <= len(data); i++ {
		if binary.LittleEndian.Uint32(data[i:]) != ngBlockSection {
			continue
		}
		for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			if o.Uint32(data[i+8:]) == ngByteOrder && o.Uint16(data[i+12:]) == 1 && o.Uint16(data[i+14:]) != 0 {
				return true
			}
		}
	}
	return false
}

// ngFile, ngIDB, ngEPB, ngSPB and ngBlock write pcapng blocks, for the
// malformed and hostile files below and fuzz seeds.
type ngOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func ngFile(o ngOrder, blocks ...[]byte) []byte {
	shb := o.AppendUint32(nil, ngByteOrder)
	shb = o.AppendUint16(shb, 1)
	shb = o.AppendUint16(shb, 0)
	shb = o.AppendUint64(shb, ^uint64(0)) // section length unknown
	return bytes.Join(append([][]byte{ngBlock(o, ngBlockSection, shb)}, blocks...), nil)
}

func ngBlock(o ngOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	b := o.AppendUint32(nil, typ)
	b = o.AppendUint32(b, uint32(12+len(body)))
	b = append(b, body...)
	return o.AppendUint32(b, uint32(12+len(body)))
}

// ngIDB is an Interface Description Block with an if_tsresol option, and
// an if_tsoffset option after it when tsoffset is not 0.
func ngIDB(o ngOrder, lt uint16, snap uint32, tsresol byte, tsoffset ...int64) []byte {
	b := o.AppendUint16(nil, lt)
	b = o.AppendUint16(b, 0)
	b = o.AppendUint32(b, snap)
	b = o.AppendUint16(b, 9)
	b = o.AppendUint16(b, 1)
	b = append(b, tsresol, 0, 0, 0)
	for _, off := range tsoffset {
		b = o.AppendUint16(b, 14)
		b = o.AppendUint16(b, 8)
		b = o.AppendUint64(b, uint64(off))
	}
	b = o.AppendUint32(b, 0) // opt_endofopt
	return ngBlock(o, ngBlockInterface, b)
}

// ngEPB is an Enhanced Packet Block holding data, which claims captured
// bytes.
func ngEPB(o ngOrder, ts uint64, captured uint32, data []byte) []byte {
	b := o.AppendUint32(nil, 0)
	b = o.AppendUint32(b, uint32(ts>>32))
	b = o.AppendUint32(b, uint32(ts))
	b = o.AppendUint32(b, captured)
	b = o.AppendUint32(b, uint32(len(data)))
	return ngBlock(o, ngBlockEnhancedPacket, append(b, data...))
}

func ngSPB(o ngOrder, data []byte) []byte {
	return ngBlock(o, ngBlockSimplePacket, append(o.AppendUint32(nil, uint32(len(data))), data...))
}

// TestNgHostileBlocks: pcapng files that made gopacket's reader hold
// memory in proportion to the file (or more) are read in bounded memory,
// with an error where the file is wrong.
func TestNgHostileBlocks(t *testing.T) {
	le := binary.LittleEndian
	idb := ngIDB(le, 1, 0, 6)
	// A million Interface Description Blocks (pcapgo: 640 MB for 20 MB).
	interfaces := append(ngFile(le), bytes.Repeat(idb, 1_000_000)...)
	// Name Resolution Blocks of empty names (pcapgo keeps each name).
	nrb := le.AppendUint16(nil, 1) // nrb_record_ipv4
	nrb = le.AppendUint16(nrb, 4+60_000)
	nrb = append(nrb, 10, 0, 0, 1)
	nrb = append(nrb, make([]byte, 60_000)...)
	nrb = append(nrb, 0, 0, 0, 0) // nrb_record_end
	names := append(ngFile(le, idb), bytes.Repeat(ngBlock(le, 4, nrb), 300)...)
	names = append(names, ngEPB(le, 1e6, 5, []byte("frame"))...)
	for _, tt := range []struct {
		name   string
		data   []byte
		frames int
		err    string
	}{
		{"a million interfaces", interfaces, 0, "more than 65536 interfaces in a section"},
		{"18 MB of empty names", names, 1, ""},
		{"a frame longer than its block", ngFile(le, idb, ngEPB(le, 0, 64, []byte("short"))), 0, "claims a capture length of 64, but its 40 bytes hold at most 8"},
		{"a block length not a multiple of 4", append(ngFile(le, idb), 6, 0, 0, 0, 33, 0, 0, 0), 0, "total length 33 is not a multiple of 4"},
		{"a packet before any interface", ngFile(le, ngEPB(le, 0, 5, []byte("frame"))), 0, "interface 0 is not described (the section has 0)"},
		{"an interface's timestamp resolution of 10^-20", ngFile(le, ngIDB(le, 1, 0, 20), ngEPB(le, 0, 5, []byte("frame"))), 0, "timestamp resolution 10^-20 is not supported"},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		frames, _, err := readNg(tt.data)
		runtime.ReadMemStats(&after)
		if len(frames) != tt.frames {
			t.Errorf("%s: %d frames, want %d", tt.name, len(frames), tt.frames)
		}
		switch {
		case tt.err == "" && err != io.EOF:
			t.Errorf("%s: %v, want the end of the file", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
		var re *ReadError
		if tt.err != "" && !errors.As(err, &re) {
			t.Errorf("%s: %v is not a ReadError naming frame and offset", tt.name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
			t.Errorf("%s: allocated %d MB reading %d MB", tt.name, got>>20, len(tt.data)>>20)
		}
	}
}

// TestNgTimestampUnits: if_tsresol in powers of 10 and of 2, and
// if_tsoffset (seconds, signed), give the timestamps the pcapng
// specification defines for them.
func TestNgTimestampUnits(t *testing.T) {
	le := binary.LittleEndian
	for _, tt := range []struct {
		tsresol byte
		ts      uint64
		want    time.Time
		offset  []int64
	}{
		{6, 1_700_000_000_123_456, time.Unix(1_700_000_000, 123_456_000), nil},
		{9, 1_700_000_000_123_456_789, time.Unix(1_700_000_000, 123_456_789), nil},
		{3, 1_700_000_000_123, time.Unix(1_700_000_000, 123_000_000), nil},
		{0x80 | 20, 1_700_000_000<<20 | 1<<19, time.Unix(1_700_000_000, 500_000_000), nil},
		{0x80 | 30, 1_700_000_000<<30 | 3, time.Unix(1_700_000_000, 2), nil}, // 3 × 2^-30 s = 2.79 ns
		// 2^-34 s units (the fuzzer's input): floor(frac × 10^9 / 2^34) = 249999776 ns; pcapgo gave .252644909
		{0x80 | 34, 0x22000000fffff100, time.Unix(142_606_336, 249_999_776), nil},
		{6, 123_456, time.Unix(1_700_000_000, 123_456_000), []int64{1_700_000_000}},
		{6, 1_700_000_000_000_000, time.Unix(1_699_999_000, 0), []int64{-1000}},
		// tshark -e frame.time_epoch: 4294963456.000000000 (pcapgo reads microseconds)
		{0, 0xfffff100, time.Unix(0xfffff100, 0), nil},
		// tshark -e frame.time_epoch: 1699999000.386773109 (pcapgo gave .386499633)
		{0x80 | 20, 1_700_000_000<<20 | 405_561, time.Unix(1_699_999_000, 386_773_109), []int64{-1000}},
	} {
		frames, _, err := readNg(ngFile(le, ngIDB(le, 1, 0, tt.tsresol, tt.offset...), ngEPB(le, tt.ts, 5, []byte("frame"))))
		if err != io.EOF || len(frames) != 1 {
			t.Fatalf("if_tsresol 0x%02x: %d frames, %v", tt.tsresol, len(frames), err)
		}
		if got := frames[0].ci.Timestamp; !got.Equal(tt.want) {
			t.Errorf("if_tsresol 0x%02x, %d: %v, want %v", tt.tsresol, tt.ts, got, tt.want.UTC())
		}
	}
}

// TestRecordedDrops: dumpcap stopped while datagrams arrived recorded
// 32,292 packets dropped in the Interface Statistics Block at the end of
// testdata/drops/dumpcap-drops.pcapng (isb_ifdrop). Run and RunSharded
// report them, a Set of two such files twice as many, a pcap none.
func TestRecordedDrops(t *testing.T) {
	const drops = "testdata/drops/dumpcap-drops.pcapng"
	run := func(src Source, shards int) Stats {
		t.Helper()
		hs := make([]Handler, shards)
		for i := range hs {
			hs[i] = newRecorder(t)
		}
		st, err := RunSharded(context.Background(), src, hs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	for _, shards := range []int{1, 2} {
		f, err := OpenFile(drops)
		if err != nil {
			t.Fatal(err)
		}
		if st := run(f, shards); st.RecordedDrops != 32292 {
			t.Errorf("%d shards: %d drops recorded, want 32292", shards, st.RecordedDrops)
		}
		f.Close()
	}
	dir := t.TempDir()
	data, err := os.ReadFile(drops)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, name := range []string{"cap_00001_20261205031600.pcapng", "cap_00002_20261205031700.pcapng"} {
		files = append(files, filepath.Join(dir, name))
		if err := os.WriteFile(files[len(files)-1], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := OpenSet(files)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if st := run(set, 2); st.RecordedDrops != 2*32292 {
		t.Errorf("a set of two: %d drops recorded, want %d", st.RecordedDrops, 2*32292)
	}
	f, err := OpenFile("testdata/lo-tls12-openssl.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st := run(f, 2); st.RecordedDrops != 0 {
		t.Errorf("a pcap: %d drops recorded", st.RecordedDrops)
	}
}
