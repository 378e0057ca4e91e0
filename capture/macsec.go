package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
)

// MACsec (IEEE 802.1AE): Ethernet frames protected hop by hop between two
// switches or a host and its switch. A tap or mirror port on such a link
// sees every frame behind a security tag; with confidentiality (the usual
// setting) the payload is encrypted, and only integrity-protected frames
// carry their EtherType and packet in the clear, an ICV after them.
const (
	etherTypeMACsec = 0x88e5

	macsecSecTAG  = 6    // TCI and association number, short length, packet number
	macsecSCI     = 8    // the secure channel identifier, when the TCI's SC bit says so
	macsecVersion = 0x80 // the TCI's V bit: 0 is the only version
	macsecSC      = 0x20 // an SCI follows the packet number
	macsecE       = 0x08 // encrypted
	macsecC       = 0x04 // changed: the payload is not the frame's own
)

var skipMACsecEncrypted = Skip{Reason: SkipEncrypted, What: "MACsec (802.1AE)"}

// macsec decodes a MACsec security tag and, when the frame is only
// integrity-protected, the packet behind it.
func (d *decoder) macsec(b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < macsecSecTAG {
		return d.unsupported("MACsec security tag cut short")
	}
	tci := b[0]
	if tci&macsecVersion != 0 {
		return d.unsupported("MACsec version 1")
	}
	if tci&(macsecE|macsecC) != 0 {
		d.skip = skipMACsecEncrypted
		return nil, nil, false
	}
	n := macsecSecTAG
	if tci&macsecSC != 0 {
		n += macsecSCI
	}
	if len(b) < n+2 {
		return d.unsupported("MACsec security tag cut short")
	}
	return d.byEtherTypeOrTag(binary.BigEndian.Uint16(b[n:]), b[n+2:])
}
