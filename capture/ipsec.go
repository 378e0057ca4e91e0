package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// skipIPsecESP marks the frames of IPsec's encrypted tunnels: they cannot
// be read, so they are counted and a note says to capture inside the
// tunnel.
var skipIPsecESP = Skip{Reason: SkipEncrypted, What: "IPsec ESP"}

// portNATT is IPsec's port through NAT (RFC 3948): ESP in UDP, and IKE
// behind four zero bytes.
const portNATT = 4500

// espInUDP reports whether the UDP datagram b (its header included) is
// ESP through NAT (RFC 3948, Section 2): from or to port 4500, beginning
// with the SPI, which is never zero (RFC 4303, Section 2.1). IKE begins
// with four zero bytes, a NAT keepalive is the one byte 0xff.
func espInUDP(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	if binary.BigEndian.Uint16(b[0:]) != portNATT && binary.BigEndian.Uint16(b[2:]) != portNATT {
		return false
	}
	payload := b[8:]
	if n := int(binary.BigEndian.Uint16(b[4:])); n >= 8 && n-8 < len(payload) {
		payload = payload[:n-8]
	}
	return len(payload) >= 8 && binary.BigEndian.Uint32(payload) != 0
}

// ah follows an IPsec Authentication Header (RFC 4302, Section 2): next
// header, length in 4-byte units minus 2, SPI, sequence number, ICV. AH
// signs without encrypting: in tunnel mode the packet inside is read; in
// transport mode a TCP or UDP header follows, which is not decoded there
// and is skipped by name; other protocols (OSPF, …) are not IP traffic to
// read.
func (d *decoder) ah(b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 12 || len(b) < (int(b[1])+2)*4 {
		return d.unsupported("IPsec AH cut short")
	}
	next, payload := layers.IPProtocol(b[0]), b[(int(b[1])+2)*4:]
	switch next {
	case layers.IPProtocolIPv4, layers.IPProtocolIPv6:
		return d.ipPayload(next, payload, src, dst)
	case layers.IPProtocolTCP, layers.IPProtocolUDP:
		return d.unsupported("IPsec AH in transport mode")
	}
	return nil, nil, false
}
