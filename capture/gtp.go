package capture

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
)

// portGTPU is GTP-U's UDP port (3GPP TS 29.281, Section 4.4.2), on which
// a mobile network's user plane carries its subscribers' packets: S1-U,
// S5/S8 and N3, N9.
const portGTPU = 2152

// gtpMessageGPDU is the message type of a G-PDU, a user's packet; the
// others (echo, error indication, end marker) are the tunnel's own.
const gtpMessageGPDU = 255

// gtpU decodes a GTPv1-U header (3GPP TS 29.281, Section 5.1): flags
// (version 1, protocol type GTP, and E, S, PN for the optional fields),
// message type, length, TEID; when a flag is set, the sequence number,
// N-PDU number and next extension header type, then the chain of
// extension headers (5G's PDU Session Container among them), each a
// length in 4-byte units and ending with the next one's type. A G-PDU's
// payload is the user's IPv4 or IPv6 packet. Other messages are left as
// UDP datagrams.
func (d *decoder) gtpU(b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 8 || b[0]>>5 != 1 || b[0]&0x10 == 0 || b[1] != gtpMessageGPDU {
		return nil, nil, false
	}
	n := 8
	if b[0]&0x07 != 0 {
		if len(b) < 12 {
			return d.unsupported("GTP-U header cut short")
		}
		n = 12
		for next := b[11]; next != 0; {
			switch {
			case len(b) <= n || len(b) < n+int(b[n])*4:
				return d.unsupported("GTP-U extension header cut short")
			case b[n] == 0: // it would never end the chain
				return d.unsupported("GTP-U extension header of length 0")
			}
			n += int(b[n]) * 4
			next = b[n-1]
		}
	}
	if end := 8 + int(binary.BigEndian.Uint16(b[2:])); end >= n && end < len(b) {
		b = b[:end] // what follows is not the packet's
	}
	d.enter(Tunnel{Type: TunnelGTP, Src: src, Dst: dst, ID: binary.BigEndian.Uint32(b[4:]), HasID: true})
	payload := b[n:]
	if p := d.byIPVersion(payload); p != nil {
		return p, payload, true
	}
	if len(payload) == 0 {
		return d.unsupported("GTP-U carrying no packet")
	}
	return d.unsupported("GTP-U carrying a packet of IP version %d", payload[0]>>4)
}
