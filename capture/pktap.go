package capture

import (
	"encoding/binary"
	"strconv"

	"github.com/gopacket/gopacket/layers"
)

// Apple's packet tap (LINKTYPE_PKTAP): what macOS tcpdump writes of the
// pktap pseudo-interface (-i pktap, -i pktap,en0) in a pcap file. Apple's
// own libpcap calls it DLT_PKTAP, which is DLT_USER2 there, so files
// written on a Mac may carry link type USER2 instead, as tcpdump also
// reads them.
const (
	linkTypePKTAP layers.LinkType = 258
	linkTypeUser2 layers.LinkType = 149
)

// The PKTAP header: its length (the frame starts there), the record type,
// the DLT_ value of the frame, then the interface's name and the process'
// (all little-endian: only Macs write it).
const (
	pktapMinHeader  = 108
	pktapTypePacket = 1 // PTH_TYPE_PACKET
)

// pktapFrame returns the frame a PKTAP record carries and its link type,
// or ok false when data holds no plausible PKTAP header. what names the
// frame's link type when tlsdiag does not decode it.
func pktapFrame(data []byte) (frame []byte, lt layers.LinkType, what string, ok bool) {
	if len(data) < pktapMinHeader {
		return nil, 0, "", false
	}
	n := binary.LittleEndian.Uint32(data)
	if n < pktapMinHeader || n > uint32(len(data)) || binary.LittleEndian.Uint32(data[4:]) != pktapTypePacket {
		return nil, 0, "", false
	}
	dlt := binary.LittleEndian.Uint32(data[8:])
	switch dlt {
	case 0:
		lt = layers.LinkTypeNull
	case 1:
		lt = layers.LinkTypeEthernet
	case 12, 14, 101: // DLT_RAW: 12 on macOS, 14 on OpenBSD; LINKTYPE_RAW
		lt = layers.LinkTypeRaw
	case 105:
		lt = layers.LinkTypeIEEE802_11
	case 127:
		lt = layers.LinkTypeIEEE80211Radio
	default:
		return nil, 0, "PKTAP carrying DLT " + strconv.FormatUint(uint64(dlt), 10), true
	}
	return data[n:], lt, "", true
}
