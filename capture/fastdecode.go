package capture

import (
	"encoding/binary"
	"net/netip"
)

// decodeFast decodes the frames that make up nearly every capture —
// Ethernet II, IPv4 without options or fragmentation or IPv6 without
// extension headers, TCP, nothing cut short — straight into seg, and
// reports whether it did. Everything else (and anything the slightest bit
// odd) is left to the DecodingLayerParser, whose results decodeFast's
// must equal exactly: TestDecodeFastMatchesParser and FuzzDecodeFast
// check that on every frame they are given. The parser took a third of
// the reading goroutine's time on a capture of bulk data.
func decodeFast(data []byte, seg *Segment) bool {
	const ethLen = 14
	if len(data) < ethLen {
		return false
	}
	ip := data[ethLen:]
	var tcp []byte
	var src, dst netip.Addr
	var iph IPHeader
	switch binary.BigEndian.Uint16(data[12:]) {
	case 0x0800: // IPv4 (RFC 791)
		if len(ip) < 20 || ip[0]&0x0f != 5 {
			return false // options: the parser checks them
		}
		length := int(binary.BigEndian.Uint16(ip[2:]))
		flagsFrag := binary.BigEndian.Uint16(ip[6:])
		if length < 20 || length > len(ip) || flagsFrag&0x3fff != 0 || ip[9] != 6 {
			// TSO's zero length, truncation, a fragment, not TCP.
			return false
		}
		tcp = ip[20:length]
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		iph = IPHeader{TTL: ip[8], ID: binary.BigEndian.Uint16(ip[4:]), DF: flagsFrag&0x4000 != 0}
	case 0x86dd: // IPv6 (RFC 8200)
		if len(ip) < 40 || ip[6] != 6 {
			return false // an extension header, or not TCP
		}
		length := int(binary.BigEndian.Uint16(ip[4:]))
		if length == 0 || 40+length > len(ip) {
			return false // a jumbogram, or truncation
		}
		tcp = ip[40 : 40+length]
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
		iph = IPHeader{TTL: ip[7], DF: true, V6: true}
	default:
		return false
	}
	// TCP (RFC 9293, Section 3.1). Options need no look: the parser never
	// fails on them.
	if len(tcp) < 20 {
		return false
	}
	off := int(tcp[12]>>4) * 4
	if off < 20 || off > len(tcp) {
		return false
	}
	flags := tcp[13]
	// Cleared, then set field by field: a composite literal is built on
	// the stack and copied, twice the stores of this.
	*seg = Segment{}
	seg.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(tcp[0:]))
	seg.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(tcp[2:]))
	seg.Seq = binary.BigEndian.Uint32(tcp[4:])
	seg.Ack = binary.BigEndian.Uint32(tcp[8:])
	seg.FIN = flags&0x01 != 0
	seg.SYN = flags&0x02 != 0
	seg.RST = flags&0x04 != 0
	seg.ACK = flags&0x10 != 0
	seg.Window = binary.BigEndian.Uint16(tcp[14:])
	seg.Payload = tcp[off:len(tcp):len(tcp)]
	seg.IP = iph
	return true
}

// decodeFastVXLAN is decodeFast for the Ethernet frames a VXLAN traffic
// mirror delivers: Ethernet, IPv4 without options or fragmentation (or
// IPv6 without extension headers), UDP to port 4789 or 8472, a VXLAN header with
// its VNI, then a frame decodeFast takes. Anything else is left to the
// parser, whose results it must equal (TestDecodeFastVXLANMatchesParser).
// The tunnel is written to tun, which seg.Tunnel then points to.
func decodeFastVXLAN(data []byte, seg *Segment, tun *Tunnel) bool {
	const ethLen = 14
	if len(data) < ethLen {
		return false
	}
	ip := data[ethLen:]
	var udp []byte
	var src, dst netip.Addr
	switch binary.BigEndian.Uint16(data[12:]) {
	case 0x0800:
		if len(ip) < 20 || ip[0] != 0x45 || ip[9] != 17 {
			return false
		}
		length := int(binary.BigEndian.Uint16(ip[2:]))
		if length < 28 || length > len(ip) || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return false
		}
		udp = ip[20:length]
		src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	case 0x86dd:
		if len(ip) < 40 || ip[6] != 17 {
			return false
		}
		length := int(binary.BigEndian.Uint16(ip[4:]))
		if length < 8 || 40+length > len(ip) {
			return false
		}
		udp = ip[40 : 40+length]
		src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	default:
		return false
	}
	// UDP (RFC 768) to a VXLAN port, then the VXLAN header (RFC 7348)
	// with the I flag.
	if len(udp) < 16 || udp[8]&0x08 == 0 {
		return false
	}
	if port := binary.BigEndian.Uint16(udp[2:]); port != portVXLAN && port != portVXLANLinux {
		return false
	}
	if !decodeFast(udp[16:], seg) {
		return false
	}
	*tun = Tunnel{Type: TunnelVXLAN, ID: uint32(udp[12])<<16 | uint32(udp[13])<<8 | uint32(udp[14]), HasID: true, Src: src, Dst: dst}
	seg.Tunnel = tun
	return true
}
