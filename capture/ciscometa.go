package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
)

// Cisco TrustSec carries a packet's security group tag (SGT) inline, in a
// Cisco MetaData header: after the Ethernet addresses on a link between
// TrustSec switches, or first in the payload of GRE tunnels (DMVPN).
// Either way it is 8 bytes: version, length, option, the SGT and the
// packet's EtherType, which comes first in GRE.
const (
	etherTypeCiscoMeta = 0x8909
	ciscoMetaHeader    = 8
)

// ciscoMeta decodes a Cisco MetaData header after Ethernet addresses.
func (d *decoder) ciscoMeta(b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < ciscoMetaHeader {
		return d.unsupported("Cisco MetaData header cut short")
	}
	return d.byEtherTypeOrTag(binary.BigEndian.Uint16(b[6:]), b[ciscoMetaHeader:])
}

// ciscoMetaGRE decodes a Cisco MetaData header in a GRE payload.
func (d *decoder) ciscoMetaGRE(b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < ciscoMetaHeader {
		return d.unsupported("Cisco MetaData header cut short")
	}
	return d.byEtherType("GRE with Cisco MetaData", binary.BigEndian.Uint16(b), b[ciscoMetaHeader:])
}
