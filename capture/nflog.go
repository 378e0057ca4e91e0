package capture

import (
	"encoding/binary"

	"github.com/gopacket/gopacket/layers"
)

// linkTypeNFLOG is Linux's netfilter log (LINKTYPE_NFLOG): what tcpdump
// -i nflog:GROUP writes of the packets iptables' NFLOG target logs.
const linkTypeNFLOG layers.LinkType = 239

// NFLOG attribute types (linux/netfilter/nfnetlink_log.h). An attribute's
// type carries two flag bits above its number.
const (
	nflogPacketHeader = 1 // NFULA_PACKET_HDR, always the first
	nflogPayload      = 9 // NFULA_PAYLOAD: the packet, from its network header
	nflogTypeMask     = 0x3fff
)

// nflogPacket returns the packet an NFLOG frame carries: a 4-byte header
// (address family, version, group), then type-length-value attributes,
// each padded to 4 bytes, one of which is the packet. The attributes'
// lengths and types are in the byte order of the machine that logged
// them, which the frame does not say: it is the order in which the first
// attribute is the packet header, as the kernel writes it, little-endian
// when neither is. A packet cut by the snap length is returned as far as
// it was captured.
func nflogPacket(data []byte) ([]byte, bool) {
	if len(data) < 8 {
		return nil, false
	}
	attrs := data[4:]
	var bo binary.ByteOrder = binary.LittleEndian
	if bo.Uint16(attrs[2:])&nflogTypeMask != nflogPacketHeader &&
		binary.BigEndian.Uint16(attrs[2:])&nflogTypeMask == nflogPacketHeader {
		bo = binary.BigEndian
	}
	return nflogAttrs(attrs, bo)
}

// nflogAttrs walks the attributes in b, read in order bo, to the packet.
func nflogAttrs(b []byte, bo binary.ByteOrder) ([]byte, bool) {
	for len(b) >= 4 {
		n := int(bo.Uint16(b))
		if n < 4 {
			return nil, false
		}
		if bo.Uint16(b[2:])&nflogTypeMask == nflogPayload {
			return b[4:min(n, len(b))], true
		}
		n = (n + 3) &^ 3
		if n > len(b) {
			return nil, false
		}
		b = b[n:]
	}
	return nil, false
}
