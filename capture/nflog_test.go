package capture

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"
)

// nflogCapture is tcpdump -i nflog:7 of a TLS 1.3 connection over IPv4 and
// a TLS 1.2 connection over IPv6 (testdata/make-nflog.sh).
var nflogCapture = filepath.Join("testdata", "nflog-tls.pcap")

// swapNFLOG rewrites a little-endian NFLOG frame as a big-endian machine
// logs it: each attribute's length and type byte-swapped.
func swapNFLOG(t *testing.T, frame []byte) []byte {
	t.Helper()
	out := bytes.Clone(frame)
	for b := out[4:]; len(b) >= 4; {
		n := int(binary.LittleEndian.Uint16(b))
		typ := binary.LittleEndian.Uint16(b[2:])
		binary.BigEndian.PutUint16(b, uint16(n))
		binary.BigEndian.PutUint16(b[2:], typ)
		n = (n + 3) &^ 3
		if n < 4 || n > len(b) {
			break
		}
		b = b[n:]
	}
	return out
}

// Every frame of a real NFLOG capture decodes to its TCP segment, in the
// byte order it was logged in and in the other one, and frames cut or
// without the packet are malformed, not misread.
func TestNFLOGFrames(t *testing.T) {
	frames, lt := readFrames(t, nflogCapture)
	if lt != linkTypeNFLOG {
		t.Fatalf("link type %v, want NFLOG", lt)
	}
	var v4, v6 int
	for i, fr := range frames {
		if fr.seg == nil {
			t.Fatalf("frame %d: no TCP segment", i+1)
		}
		if fr.seg.Src.Addr().Is4() {
			v4++
		} else {
			v6++
		}
		var st Stats
		d := newDecoder(&st)
		var seg Segment
		kind, _ := d.decode(swapNFLOG(t, fr.data), time.Time{}, lt, &seg)
		if kind != kindTCP || seg.Src != fr.seg.Src || seg.Dst != fr.seg.Dst || seg.Seq != fr.seg.Seq ||
			!bytes.Equal(seg.Payload, fr.seg.Payload) {
			t.Errorf("frame %d big-endian: kind %d %v→%v seq %d %d bytes, want %v→%v seq %d %d bytes",
				i+1, kind, seg.Src, seg.Dst, seg.Seq, len(seg.Payload), fr.seg.Src, fr.seg.Dst, fr.seg.Seq, len(fr.seg.Payload))
		}
	}
	if v4 == 0 || v6 == 0 {
		t.Errorf("%d IPv4 and %d IPv6 segments, want both", v4, v6)
	}

	// The ClientHello's frame, cut by a snap length inside the payload,
	// keeps what was captured and counts the rest as missing.
	hello := frames[3]
	if len(hello.seg.Payload) < 500 {
		t.Fatalf("frame 4 carries %d bytes, want the ClientHello", len(hello.seg.Payload))
	}
	var st Stats
	d := newDecoder(&st)
	var seg Segment
	cut := len(hello.data) - 400
	if kind, _ := d.decode(hello.data[:cut], time.Time{}, lt, &seg); kind != kindTCP ||
		len(seg.Payload) != len(hello.seg.Payload)-400 || seg.Missing != 400 {
		t.Errorf("frame 4 cut: kind %d payload %d missing %d, want TCP, %d and 400", kind, len(seg.Payload), seg.Missing, len(hello.seg.Payload)-400)
	}

	packet, _ := nflogPacket(hello.data)
	attrs := len(hello.data) - len(packet) - 4 // up to the packet's attribute
	malformed := map[string][]byte{
		"header only":         hello.data[:4],
		"cut in an attribute": hello.data[:10],
		"no packet attribute": hello.data[:attrs],
		"zero length":         append(bytes.Clone(hello.data[:4]), 0, 0, 1, 0, 9, 0, 0, 0),
	}
	for name, data := range malformed {
		if kind, _ := newDecoder(&st).decode(data, time.Time{}, lt, &seg); kind != kindMalformed {
			t.Errorf("%s: kind %d, want malformed", name, kind)
		}
	}
}
