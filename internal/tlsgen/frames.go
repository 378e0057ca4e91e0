package tlsgen

import (
	"encoding/binary"
	"net/netip"
)

// TCP flags as they sit in the header's 13th byte.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
)

// Maximum segment sizes of a 1500-byte Ethernet path.
const (
	mss4 = 1460
	mss6 = 1440
)

// segment is one TCP segment of a flow, before it becomes a frame.
type segment struct {
	from     side
	flags    uint8
	seq, ack uint32
	payload  []byte // aliases the conversation or the bulk buffer
	mss      uint16 // sent as an option on SYNs
}

// frameBuilder writes Ethernet/IPv4|IPv6/TCP frames into one reused buffer.
type frameBuilder struct {
	buf  []byte
	ipID [2]uint16
}

var (
	macClient = [6]byte{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	macServer = [6]byte{0x02, 0x00, 0x5e, 0x10, 0x00, 0x02}
)

// frame returns the frame carrying s between client and server; it is
// valid until the next call.
func (b *frameBuilder) frame(s *segment, client, server netip.AddrPort) []byte {
	src, dst := client, server
	smac, dmac := macClient, macServer
	if s.from == serverSide {
		src, dst = server, client
		smac, dmac = macServer, macClient
	}
	v6 := src.Addr().Is6()
	tcpHdr := 20
	if s.flags&flagSYN != 0 {
		tcpHdr = 24
	}
	ipHdr := 20
	if v6 {
		ipHdr = 40
	}
	n := 14 + ipHdr + tcpHdr + len(s.payload)
	if cap(b.buf) < n {
		b.buf = make([]byte, n, max(n, 2048))
	}
	f := b.buf[:n]
	copy(f[0:6], dmac[:])
	copy(f[6:12], smac[:])
	ip := f[14 : 14+ipHdr]
	tcpLen := tcpHdr + len(s.payload)
	if v6 {
		binary.BigEndian.PutUint16(f[12:], 0x86dd)
		binary.BigEndian.PutUint32(ip[0:], 6<<28)
		binary.BigEndian.PutUint16(ip[4:], uint16(tcpLen))
		ip[6], ip[7] = 6, 64
		a, d := src.Addr().As16(), dst.Addr().As16()
		copy(ip[8:24], a[:])
		copy(ip[24:40], d[:])
	} else {
		binary.BigEndian.PutUint16(f[12:], 0x0800)
		ip[0], ip[1] = 0x45, 0
		binary.BigEndian.PutUint16(ip[2:], uint16(ipHdr+tcpLen))
		b.ipID[s.from]++
		binary.BigEndian.PutUint16(ip[4:], b.ipID[s.from])
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
		ip[8], ip[9] = 64, 6
		ip[10], ip[11] = 0, 0
		a, d := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:16], a[:])
		copy(ip[16:20], d[:])
		binary.BigEndian.PutUint16(ip[10:], ^fold(sum(0, ip)))
	}
	t := f[14+ipHdr:]
	binary.BigEndian.PutUint16(t[0:], src.Port())
	binary.BigEndian.PutUint16(t[2:], dst.Port())
	binary.BigEndian.PutUint32(t[4:], s.seq)
	ack := s.ack
	if s.flags&flagACK == 0 {
		ack = 0
	}
	binary.BigEndian.PutUint32(t[8:], ack)
	t[12] = byte(tcpHdr/4) << 4
	t[13] = s.flags
	binary.BigEndian.PutUint16(t[14:], 0xfaf0) // window (scaled by the SYN's option in a real stack; none here)
	t[16], t[17], t[18], t[19] = 0, 0, 0, 0
	if tcpHdr == 24 {
		t[20], t[21] = 2, 4 // MSS option
		binary.BigEndian.PutUint16(t[22:], s.mss)
	}
	copy(t[tcpHdr:], s.payload)
	// Checksum over the pseudo-header (RFC 9293, Section 3.1; RFC 8200,
	// Section 8.1) and the segment.
	var acc uint64
	if v6 {
		acc = sum(acc, ip[8:40])
	} else {
		acc = sum(acc, ip[12:20])
	}
	acc += 6 + uint64(tcpLen)
	acc = sum(acc, t)
	binary.BigEndian.PutUint16(t[16:], ^fold(acc))
	return f
}

// sum adds b to a one's-complement accumulator, four bytes at a time.
func sum(acc uint64, b []byte) uint64 {
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

func fold(acc uint64) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
