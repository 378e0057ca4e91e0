package capture

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// TestMACsecFrames decodes frames behind a MACsec security tag: the packet
// of an integrity-only frame (with or without the SCI, under a VLAN tag),
// and what cannot be read, named: an encrypted or changed payload, another
// version, a tag cut short. ARP inside is not IP.
func TestMACsecFrames(t *testing.T) {
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	plain, want := frames[0].data, frames[0].seg
	ms, err := (&encap.Wrapper{Kind: encap.MACsec}).Wrap(plain)
	if err != nil {
		t.Fatal(err)
	}
	const tci = 14 // the TCI follows the MACsec EtherType
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(ms)) }
	noSCI := edit(func(b []byte) []byte {
		b[tci] &^= macsecSC
		return append(b[:tci+6], b[tci+14:]...)
	})
	vlan := edit(func(b []byte) []byte {
		return append(b[:tci+14], append([]byte{0x81, 0x00, 0x00, 0x07}, b[tci+14:]...)...)
	})
	arp := edit(func(b []byte) []byte { b[tci+14], b[tci+15] = 0x08, 0x06; return b })
	// MACsec inside MACsec, 100 deep: each tag's EtherType says another
	// follows.
	nested := bytes.Clone(ms[:tci])
	for range 100 {
		nested = append(nested, 0x20, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x88, 0xe5)
	}
	nested = append(nested, ms[tci:]...)
	eth := layers.LinkTypeEthernet
	checkFrameCases(t, want, []frameCase{
		{"integrity only", eth, ms, kindTCP, Skip{}},
		{"without SCI", eth, noSCI, kindTCP, Skip{}},
		{"VLAN inside", eth, vlan, kindTCP, Skip{}},
		{"ARP inside", eth, arp, kindNonIP, Skip{}},
		{"encrypted", eth, edit(func(b []byte) []byte { b[tci] |= macsecE | macsecC; return b }), kindSkipped, skipMACsecEncrypted},
		{"changed", eth, edit(func(b []byte) []byte { b[tci] |= macsecC; return b }), kindSkipped, skipMACsecEncrypted},
		{"version 1", eth, edit(func(b []byte) []byte { b[tci] |= macsecVersion; return b }), kindSkipped, Skip{SkipEncapsulation, "MACsec version 1"}},
		{"tag cut short", eth, ms[:tci+10], kindSkipped, Skip{SkipEncapsulation, "MACsec security tag cut short"}},
		{"nested too deep", eth, nested, kindSkipped, Skip{SkipEncapsulation, "more than 8 headers after the Ethernet addresses"}},
		{"integrity only, after the nested one", eth, ms, kindTCP, Skip{}},
	})
}
