package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
)

// portTZSP is the UDP port of TZSP, the TaZmen Sniffer Protocol, in which
// MikroTik routers (Tools, Packet Sniffer, Streaming) and some access
// points send the frames they capture to a collector.
const portTZSP = 37008

// tzspEthernet is TZSP's encapsulation number for Ethernet frames.
const tzspEthernet = 1

// tzsp decodes a TZSP header, as Wireshark's dissector reads it: version
// 1, type 0 (a received frame), the encapsulation, then tagged fields up
// to the END tag (1): PADDING (0) is one byte, every other tag a type, a
// length and that many bytes. An Ethernet frame follows. Other types
// (frames for the sensor to send, its configuration) are left as UDP.
func (d *decoder) tzsp(b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 4 || b[0] != 1 || b[1] != 0 {
		return nil, nil, false
	}
	n := 4
	for {
		if n >= len(b) {
			return d.unsupported("TZSP tagged fields cut short")
		}
		tag := b[n]
		n++
		if tag == 1 { // END
			break
		}
		if tag == 0 { // PADDING
			continue
		}
		if n >= len(b) {
			return d.unsupported("TZSP tagged fields cut short")
		}
		n += 1 + int(b[n])
	}
	d.enter(Tunnel{Type: TunnelTZSP, Src: src, Dst: dst})
	if e := binary.BigEndian.Uint16(b[2:]); e != tzspEthernet {
		return d.unsupported("TZSP carrying encapsulation %d", e)
	}
	return d.ethP, b[n:], true
}
