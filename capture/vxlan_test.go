package capture

import (
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// TestVXLANLinuxPort: port 8472, not IANA's, is VXLAN only with the I
// flag; on 4789 the header is read without it (no VNI).
func TestVXLANLinuxPort(t *testing.T) {
	frames, _ := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	plain, want := frames[0].data, frames[0].seg
	wrap := func(k encap.Kind, flags byte) []byte {
		b, err := (&encap.Wrapper{Kind: k}).Wrap(plain)
		if err != nil {
			t.Fatal(err)
		}
		b[14+20+8] = flags // the VXLAN flags, after Ethernet, IPv4 and UDP
		return b
	}
	eth := layers.LinkTypeEthernet
	checkFrameCases(t, want, []frameCase{
		{"8472, I flag", eth, wrap(encap.VXLANLinux, 0x08), kindTCP, Skip{}},
		{"8472, no I flag", eth, wrap(encap.VXLANLinux, 0), kindUDP, Skip{}},
		{"4789, no I flag", eth, wrap(encap.VXLAN, 0), kindTCP, Skip{}},
	})
}
