package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Links whose frame is a short header before the IP packet: PPP, as BSD
// and macOS write it (dial-up, PPTP and L2TP VPNs, PPPoE's ppp0), Cisco
// HDLC of router serial lines, and IP over InfiniBand (tcpdump -i ib0).
const (
	linkTypePPP     layers.LinkType = 9   // PPP, with or without the HDLC address and control bytes
	linkTypePPPHDLC layers.LinkType = 50  // PPP in HDLC-like framing, or Cisco HDLC (PPP_SERIAL)
	linkTypeCHDLC   layers.LinkType = 104 // Cisco HDLC
	linkTypeIPoIB   layers.LinkType = 242 // IP over InfiniBand, behind a 44-byte pseudo-header
)

// PPP protocol numbers (RFC 1661; the IANA registry) and HDLC addresses.
const (
	pppIPv4         = 0x0021
	pppIPv6         = 0x0057
	pppVJCompressed = 0x002d // Van Jacobson compressed TCP/IP (RFC 1144)
	pppVJPlain      = 0x002f // Van Jacobson uncompressed TCP/IP: the IP protocol byte is the slot
	pppMPLS         = 0x0281
	pppMPLSMulti    = 0x0283
	pppCompressed   = 0x00fd // a CCP datagram: compressed or encrypted (MPPE)
	pppCompressed1  = 0x00fb // the same on one link of a multilink bundle

	hdlcAllStations = 0xff // PPP's address byte, followed by control 0x03
	chdlcUnicast    = 0x0f
	chdlcBroadcast  = 0x8f

	ipoibHeader = 44 // 20-byte destination address, 20 reserved, EtherType, 2 reserved
)

var (
	skipPPPVJ         = Skip{Reason: SkipEncapsulation, What: "PPP with Van Jacobson-compressed TCP/IP headers"}
	skipPPPCompressed = Skip{Reason: SkipEncapsulation, What: "PPP compressed or encrypted (CCP, MPPE)"}
)

// linkParser returns the parser of the packet in a frame of one of these
// links and the packet, or a nil parser and the frame's kind (with d.skip
// set for kindSkipped).
func (d *decoder) linkParser(data []byte, lt layers.LinkType) (*gopacket.DecodingLayerParser, []byte, frameKind) {
	switch lt {
	case linkTypePPPHDLC:
		if len(data) > 0 && (data[0] == chdlcUnicast || data[0] == chdlcBroadcast) {
			return d.chdlc(data)
		}
	case linkTypeCHDLC:
		return d.chdlc(data)
	case linkTypeIPoIB:
		if len(data) < ipoibHeader {
			return nil, nil, kindMalformed
		}
		return d.byLinkEtherType(binary.BigEndian.Uint16(data[40:]), data[ipoibHeader:])
	}
	// PPP: the HDLC address and control bytes when present, then the
	// protocol, one byte when compressed (RFC 1661, 6.5: an odd first
	// byte).
	if len(data) >= 2 && data[0] == hdlcAllStations && data[1] == 0x03 {
		data = data[2:]
	}
	if len(data) == 0 {
		return nil, nil, kindMalformed
	}
	proto := uint16(data[0])
	if proto&1 == 0 {
		if len(data) < 2 {
			return nil, nil, kindMalformed
		}
		proto = binary.BigEndian.Uint16(data)
		data = data[2:]
	} else {
		data = data[1:]
	}
	switch proto {
	case pppIPv4:
		return d.ip4P, data, 0
	case pppIPv6:
		return d.ip6P, data, 0
	case pppMPLS, pppMPLSMulti:
		return d.byLinkEtherType(etherTypeMPLS, data)
	case pppVJCompressed, pppVJPlain:
		d.skip = skipPPPVJ
		return nil, nil, kindSkipped
	case pppCompressed, pppCompressed1:
		d.skip = skipPPPCompressed
		return nil, nil, kindSkipped
	}
	return nil, nil, kindNonIP // PPP's own control protocols
}

// chdlc reads a Cisco HDLC frame: address, control, EtherType.
func (d *decoder) chdlc(data []byte) (*gopacket.DecodingLayerParser, []byte, frameKind) {
	if len(data) < 4 {
		return nil, nil, kindMalformed
	}
	return d.byLinkEtherType(binary.BigEndian.Uint16(data[2:]), data[4:])
}

// byLinkEtherType follows the EtherType of a link's frame: IP, or what
// Ethernet may carry (MPLS, VLAN tags, PPPoE).
func (d *decoder) byLinkEtherType(et uint16, data []byte) (*gopacket.DecodingLayerParser, []byte, frameKind) {
	d.skip = Skip{}
	if p, b, ok := d.byEtherTypeOrTag(et, data); ok {
		return p, b, 0
	}
	if d.skip.Reason != 0 {
		return nil, nil, kindSkipped
	}
	return nil, nil, kindNonIP
}
