package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
)

// Arista switches used as tap aggregators (DANZ) can stamp each frame with
// the time it arrived: a header of Arista's own EtherType after the
// source address, then the frame's own EtherType and packet.
const (
	etherTypeArista        = 0xd28b
	aristaSubtypeTimestamp = 0x0001
	aristaHeader           = 4 // subtype, version (timescale, format, hardware)
)

// arista decodes an Arista timestamp header: 8 bytes of timestamp in the
// 64-bit format, 6 in the 48-bit one.
func (d *decoder) arista(b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < aristaHeader {
		return d.unsupported("Arista header cut short")
	}
	if sub := binary.BigEndian.Uint16(b); sub != aristaSubtypeTimestamp {
		return d.unsupported("Arista subtype 0x%04x", sub)
	}
	n := aristaHeader
	switch format := b[3] >> 4; format {
	case 1:
		n += 8
	case 2:
		n += 6
	default:
		return d.unsupported("Arista timestamp format %d", format)
	}
	if len(b) < n+2 {
		return d.unsupported("Arista header cut short")
	}
	return d.byEtherTypeOrTag(binary.BigEndian.Uint16(b[n:]), b[n+2:])
}
