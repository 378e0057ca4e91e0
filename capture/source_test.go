package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
)

// testConversation is a short TLS-port conversation as raw IPv4 packets.
func testConversation(t testing.TB) [][]byte {
	return [][]byte{
		tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 100, syn: true, noACK: true}),
		tcpIP(t, tcpSeg{src: v4b, dst: v4a, seq: 500, ack: 101, syn: true}),
		tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 101, ack: 501}),
		tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 101, ack: 501, psh: true, payload: []byte("client hello")}),
		tcpIP(t, tcpSeg{src: v4b, dst: v4a, seq: 501, ack: 113, psh: true, payload: []byte("server hello")}),
		tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 113, ack: 513, fin: true}),
		tcpIP(t, tcpSeg{src: v4b, dst: v4a, seq: 513, ack: 114, fin: true}),
		tcpIP(t, tcpSeg{src: v4a, dst: v4b, seq: 114, ack: 514}),
	}
}

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func records(pkts [][]byte, wrap func([]byte) []byte) []pcapRec {
	var recs []pcapRec
	for i, p := range pkts {
		if wrap != nil {
			p = wrap(p)
		}
		recs = append(recs, pcapRec{data: p, ts: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	return recs
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// ngTwoInterfaces writes a pcapng whose frames alternate between an
// Ethernet interface and a raw-IP one.
func ngTwoInterfaces(t testing.TB, pkts [][]byte) []byte {
	var b bytes.Buffer
	intf := pcapgo.DefaultNgInterface
	intf.LinkType = layers.LinkTypeEthernet
	w, err := pcapgo.NewNgWriterInterface(&b, intf, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	raw := pcapgo.DefaultNgInterface
	raw.Name, raw.LinkType = "tun0", layers.LinkTypeRaw
	id, err := w.AddInterface(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), InterfaceIndex: 0}
		if i%2 == 1 {
			ci.InterfaceIndex = id
		} else {
			p = ethernet(t, p)
		}
		ci.CaptureLength, ci.Length = len(p), len(p)
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// onlyReader hides every method but Read: a pipe, as stdin is.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestFileFormats(t *testing.T) {
	pkts := testConversation(t)
	eth := func(p []byte) []byte { return ethernet(t, p) }
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name   string
		data   []byte
		format Format
		nano   bool
	}{
		{"pcap little endian µs", writePcap(layers.LinkTypeEthernet, le, false, records(pkts, eth)), FormatPcap, false},
		{"pcap big endian µs", writePcap(layers.LinkTypeEthernet, be, false, records(pkts, eth)), FormatPcap, false},
		{"pcap little endian ns", writePcap(layers.LinkTypeEthernet, le, true, records(pkts, eth)), FormatPcap, true},
		{"pcap big endian ns", writePcap(layers.LinkTypeEthernet, be, true, records(pkts, eth)), FormatPcap, true},
		{"pcap raw", writePcap(layers.LinkTypeRaw, le, false, records(pkts, nil)), FormatPcap, false},
		{"pcap sll2", writePcap(layers.LinkTypeLinuxSLL2, le, true, records(pkts, sll2)), FormatPcap, true},
		{"pcap gzip", gz(writePcap(layers.LinkTypeLinuxSLL, be, true, records(pkts, sll))), FormatPcap, true},
		{"pcapng two interfaces", ngTwoInterfaces(t, pkts), FormatPcapng, true},
		{"pcapng gzip", gz(ngTwoInterfaces(t, pkts)), FormatPcapng, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewReader("test", onlyReader{bytes.NewReader(tt.data)})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Format() != tt.format {
				t.Errorf("format %s, want %s", f.Format(), tt.format)
			}
			rec := newRecorder(t)
			st, err := Run(context.Background(), f, rec, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Frames != int64(len(pkts)) || st.Segments != int64(len(pkts)) {
				t.Errorf("frames %d segments %d, want %d", st.Frames, st.Segments, len(pkts))
			}
			s := rec.only()
			if got := s.data[ClientToServer].String() + "|" + s.data[ServerToClient].String(); got != "client hello|server hello" {
				t.Errorf("streams %q", got)
			}
			if got := s.frames(ServerToClient); got != "0:12@5" {
				t.Errorf("server frames %s, want 0:12@5", got)
			}
			want := t0.Add(4 * time.Millisecond)
			if !tt.nano {
				want = want.Truncate(time.Microsecond)
			}
			if got := s.chunkTime(ServerToClient); !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("frame 5 time %v, want %v UTC", got, want)
			}
			if s.reason != ClosedFIN || s.last.Number != 7 || st.AfterClose != 1 {
				t.Errorf("closed %s at %d, after close %d; want fin at 7, 1", s.reason, s.last.Number, st.AfterClose)
			}
		})
	}
}

// chunkTime is the time of the first frame that delivered bytes of d.
func (s *recStream) chunkTime(d Direction) time.Time { return s.firstTime[d] }

func TestOpenFileErrors(t *testing.T) {
	pkts := testConversation(t)
	good := writePcap(layers.LinkTypeRaw, binary.LittleEndian, false, records(pkts, nil))
	// Record offsets: 24, then 16+len of each packet.
	offs := []int{24}
	for _, p := range pkts {
		offs = append(offs, offs[len(offs)-1]+16+len(p))
	}
	usb := bytes.Clone(good)
	binary.LittleEndian.PutUint32(usb[20:], uint32(layers.LinkTypeLinuxUSB))
	tests := []struct {
		name    string
		data    []byte
		openErr string // error from NewReader
		runErr  string // error from Run
		frames  int64  // frames read before the error
	}{
		{name: "empty", data: nil, openErr: "capture: x.pcap: empty file"},
		{name: "too short", data: []byte{0xd4, 0xc3}, openErr: "not a pcap or pcapng file (only 2 bytes)"},
		{name: "not a capture", data: []byte("hello\x00, world\n"), openErr: "not a pcap or pcapng file (magic 0x68656c6c)"},
		{name: "header cut", data: good[:20], openErr: "pcap header: truncated file header"},
		{name: "unsupported link type", data: usb, openErr: "capture: x.pcap: link type USB (220) is not supported"},
		{name: "clean", data: good, frames: 8},
		{name: "record header cut", data: good[:offs[3]+5], frames: 3,
			runErr: "capture: x.pcap: frame 4 at offset " + itoa(offs[3]) + ": truncated record: 5 of 16 header bytes"},
		{name: "record data cut", data: good[:offs[4]+16+10], frames: 4,
			runErr: "capture: x.pcap: frame 5 at offset " + itoa(offs[4]) + ": truncated record: caplen " + itoa(len(pkts[4])) + ", 10 bytes left"},
		{name: "record data absent", data: good[:offs[4]+16], frames: 4,
			runErr: "frame 5 at offset " + itoa(offs[4]) + ": truncated record: caplen " + itoa(len(pkts[4])) + ", 0 bytes left"},
		{name: "gzip cut", data: gz(good)[:len(gz(good))-30], frames: -1, runErr: "capture: x.pcap: frame "},
		{name: "bzip2", data: []byte("BZh91AY&SY\x00\x00"), openErr: "capture: x.pcap: bzip2-compressed: not read"},
		{name: "xz", data: []byte("\xfd7zXZ\x00\x00\x04"), openErr: "capture: x.pcap: xz-compressed: not read"},
		{name: "zstd garbage", data: []byte("\x28\xb5\x2f\xfd\xff\xff\xff\xff"), openErr: "capture: x.pcap: "},
		{name: "gzip corrupt", data: []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage"), openErr: "capture: x.pcap: gzip: flate: corrupt input"},
		{name: "gzip of nothing", data: gz(nil), openErr: "capture: x.pcap: gzip-compressed, but only 0 bytes decompress: empty, or cut short"},
		{name: "zstd cut short", data: zstdOf(t, good)[:len(zstdOf(t, good))-3], openErr: "capture: x.pcap: zstd-compressed, but only 0 bytes decompress: empty, or cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewReader("x.pcap", bytes.NewReader(tt.data))
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) {
					t.Fatalf("open error %v, want %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := newRecorder(t)
			st, err := Run(context.Background(), f, rec, Options{})
			if tt.runErr == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				t.Logf("error: %v", err)
				var re *ReadError
				if err == nil || !strings.Contains(err.Error(), tt.runErr) || !errors.As(err, &re) {
					t.Fatalf("run error %v, want a *ReadError containing %q", err, tt.runErr)
				}
			}
			if tt.frames >= 0 && st.Frames != tt.frames {
				t.Errorf("%d frames, want %d", st.Frames, tt.frames)
			}
			// What was read before the error is reported and closed.
			for _, s := range rec.streams {
				if !s.closed {
					t.Error("a connection was left open")
				}
			}
			if _, _, err := f.ReadPacketData(); err != io.EOF {
				t.Errorf("read after the end: %v, want io.EOF", err)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// zstdOf compresses b with zstd, as the zstd tool would.
func zstdOf(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	pkts := testConversation(t)
	path := filepath.Join(dir, "conv.cap") // the extension means nothing
	if err := os.WriteFile(path, gz(ngTwoInterfaces(t, pkts)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Format() != FormatPcapng || !f.Gzipped() || f.Name() != path {
		t.Errorf("format %s gzipped %v name %s", f.Format(), f.Gzipped(), f.Name())
	}
	n := 0
	var lts []layers.LinkType
	for {
		_, _, err := f.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		lts = append(lts, f.LinkType())
	}
	if n != len(pkts) || lts[0] != layers.LinkTypeEthernet || lts[1] != layers.LinkTypeRaw {
		t.Errorf("%d frames, link types %v", n, lts[:2])
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if _, err := OpenFile(filepath.Join(dir, "missing.pcap")); err == nil || !strings.Contains(err.Error(), "missing.pcap") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRunCancelled(t *testing.T) {
	pkts := testConversation(t)
	f, err := NewReader("x", bytes.NewReader(writePcap(layers.LinkTypeRaw, binary.LittleEndian, false, records(pkts, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, f, newRecorder(t), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// A pcap whose records give an original length below the captured one
// (0, or one byte short) is read whole, as libpcap and Wireshark read it,
// by Run and RunSharded alike.
func TestPcapOriginalLengthShort(t *testing.T) {
	path := filepath.Join("testdata", "lo-tls12-openssl.pcap")
	frames, lt := readFrames(t, path)
	want := summary(runFile(t, path))
	b := writeFrames(t, lt, frames) // little-endian
	off := 24
	for i, fr := range frames {
		binary.LittleEndian.PutUint32(b[off+12:], uint32(i%2*(len(fr.data)-1)))
		off += 16 + len(fr.data)
	}
	file := filepath.Join(t.TempDir(), "length0.pcap")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := summary(runFile(t, file)); got != want {
		t.Errorf("summary differs from the original's:\n--- got\n%s--- want\n%s", got, want)
	}
	f, err := OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := RunSharded(context.Background(), f, []Handler{noStreams{}, noStreams{}}, Options{})
	if err != nil || st.Frames != int64(len(frames)) || st.Truncated != 0 {
		t.Errorf("RunSharded: %d frames, %d truncated (%v), want %d, 0 and no error", st.Frames, st.Truncated, err, len(frames))
	}
}
