package capture

import (
	"bytes"
	"net/netip"
	"testing"
)

// TestTZSPHeader reads TZSP headers as Wireshark's dissector does: the
// Ethernet frame after the END tag, past padding and tags with a length;
// other TZSP types left as UDP; a cut header or another encapsulation
// named.
func TestTZSPHeader(t *testing.T) {
	frame := []byte("ETHERNET FRAME")
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for _, tt := range []struct {
		name   string
		header []byte
		ok     bool
		skip   string // the skip's What, when not ok
	}{
		{"END only", []byte{1, 0, 0, 1, 1}, true, ""},
		{"padding, END", []byte{1, 0, 0, 1, 0, 1}, true, ""},
		{"RSSI and channel tags", []byte{1, 0, 0, 1, 10, 1, 0xd0, 18, 1, 6, 0, 1}, true, ""},
		{"a frame to send", []byte{1, 1, 0, 1, 1}, false, ""},
		{"version 2", []byte{2, 0, 0, 1, 1}, false, ""},
		{"802.11", []byte{1, 0, 0, 18, 1}, false, "TZSP carrying encapsulation 18"},
	} {
		var st Stats
		d := newDecoder(&st)
		p, payload, ok := d.tzsp(append(bytes.Clone(tt.header), frame...), src, dst)
		if ok != tt.ok || d.skip.What != tt.skip {
			t.Errorf("%s: ok %v, skip %q; want %v, %q", tt.name, ok, d.skip.What, tt.ok, tt.skip)
			continue
		}
		if ok && (p != d.ethP || !bytes.Equal(payload, frame) || d.tun != (Tunnel{Type: TunnelTZSP, Src: src, Dst: dst})) {
			t.Errorf("%s: payload %q, tunnel %+v", tt.name, payload, d.tun)
		}
	}
	// Cut anywhere before the END tag's end, a header is named as cut.
	header := []byte{1, 0, 0, 1, 10, 1, 0xd0, 0, 1}
	for n := 4; n < len(header); n++ {
		var st Stats
		d := newDecoder(&st)
		if _, _, ok := d.tzsp(header[:n], src, dst); ok || d.skip.What != "TZSP tagged fields cut short" {
			t.Errorf("cut at %d: ok %v, skip %q", n, ok, d.skip.What)
		}
	}
}
