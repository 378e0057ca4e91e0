package capture

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// TestGTPFrames decodes a TCP segment in GTP-U as 4G and 5G carry it (a
// G-PDU, and one with a PDU Session Container), and what is not a user's
// packet or cannot be read: GTP-U's own messages and GTPv2 stay UDP
// datagrams; an extension header chain that runs past the packet or has
// a zero length, and a payload of another IP version, are named.
func TestGTPFrames(t *testing.T) {
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	plain, want := frames[0].data, frames[0].seg
	wrap := func(k encap.Kind) []byte {
		b, err := (&encap.Wrapper{Kind: k}).Wrap(plain)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	g4, g5 := wrap(encap.GTP), wrap(encap.GTP5G)
	const gtp = 14 + 20 + 8 // after Ethernet, IPv4 and UDP
	edit := func(b []byte, f func(b []byte)) []byte { c := bytes.Clone(b); f(c); return c }
	eth := layers.LinkTypeEthernet
	checkFrameCases(t, want, []frameCase{
		{"G-PDU", eth, g4, kindTCP, Skip{}},
		{"PDU Session Container", eth, g5, kindTCP, Skip{}},
		{"echo request", eth, edit(g4, func(b []byte) { b[gtp+1] = 1 }), kindUDP, Skip{}},
		{"GTPv2", eth, edit(g4, func(b []byte) { b[gtp] = 0x48 }), kindUDP, Skip{}},
		{"extension chain past the packet", eth, edit(g5, func(b []byte) { b[gtp+15] = 0x85 }), kindSkipped, Skip{SkipEncapsulation, "GTP-U extension header cut short"}},
		{"zero-length extension header", eth, edit(g5, func(b []byte) { b[gtp+12] = 0 }), kindSkipped, Skip{SkipEncapsulation, "GTP-U extension header of length 0"}},
		{"IP version 5", eth, edit(g4, func(b []byte) { b[gtp+8] = 0x55 }), kindSkipped, Skip{SkipEncapsulation, "GTP-U carrying a packet of IP version 5"}},
		{"G-PDU again", eth, g5, kindTCP, Skip{}},
	})
}
