package capture

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/gopacket/gopacket/layers"
)

// ICMPError is an ICMP (RFC 792) or ICMPv6 (RFC 4443) error about one
// packet of a connection: a host or router on the path, or the
// destination's own firewall, saying why it did not deliver the packet.
type ICMPError struct {
	// From is the address that sent the error: the destination itself, or
	// a router (or firewall) on the way to it.
	From netip.Addr
	// V6 is set for ICMPv6. Type and Code are the message's own: ICMP
	// type 3 (destination unreachable), 11 (time exceeded); ICMPv6 type 1
	// (destination unreachable), 2 (packet too big), 3 (time exceeded).
	V6         bool
	Type, Code uint8
	// MTU is the next hop's MTU that a "fragmentation needed" (ICMP type
	// 3, code 4) or "packet too big" (ICMPv6 type 2) announces; 0 for the
	// other errors, or when a router sent 0.
	MTU int
	// IP is what the error's own IP header says: its TTL tells how far
	// away its sender is.
	IP IPHeader
}

// ICMP and ICMPv6 error types and codes (RFC 792, RFC 1812, RFC 4443).
const (
	icmpDestUnreachable   = 3
	icmpTimeExceeded      = 11
	icmpCodeNet           = 0
	icmpCodeHost          = 1
	icmpCodePort          = 3
	icmpCodeFragNeeded    = 4
	icmpCodeNetProhibited = 9
	icmpCodeHostProhib    = 10
	icmpCodeFiltered      = 13
	icmp6DestUnreachable  = 1
	icmp6PacketTooBig     = 2
	icmp6TimeExceeded     = 3
	icmp6CodeNoRoute      = 0
	icmp6CodeProhibited   = 1
	icmp6CodeAddress      = 3
	icmp6CodePort         = 4
	icmp6CodePolicy       = 5
	icmp6CodeRejectRoute  = 6

	icmpErrorHeader = 8  // type, code, checksum, and 4 bytes (unused, or the MTU)
	ip4HeaderMin    = 20 // an IPv4 header without options
	ip6Header       = 40
	quotedMin       = 8 // what RFC 792 promises of the packet: its ports (and a TCP sequence number)
)

// ICMPMeaning is what an ICMP error says happened to the packet.
type ICMPMeaning uint8

const (
	ICMPOther ICMPMeaning = iota
	// ICMPPortUnreachable: a firewall's REJECT rule (iptables' default
	// answer), or, for UDP, nothing listening on the port; a TCP port
	// without a listener answers with a reset instead.
	ICMPPortUnreachable
	// ICMPProhibited: administratively prohibited, a firewall rule
	// (firewalld's default REJECT) or a router's access list.
	ICMPProhibited
	// ICMPHostUnreachable: the last router could not reach the host (no
	// ARP or neighbour answer), or a route or rule rejects it.
	ICMPHostUnreachable
	// ICMPNetUnreachable: a router has no route to the network.
	ICMPNetUnreachable
	// ICMPTooBig: the packet was larger than the next link's MTU and
	// could not be fragmented (fragmentation needed, packet too big).
	ICMPTooBig
	// ICMPTimeExceeded: its TTL (hop limit) ran out: a routing loop, or a
	// path longer than the sender allows.
	ICMPTimeExceeded
)

// Meaning says what the error reports.
func (e ICMPError) Meaning() ICMPMeaning {
	if e.V6 {
		switch {
		case e.Type == icmp6PacketTooBig:
			return ICMPTooBig
		case e.Type == icmp6TimeExceeded:
			return ICMPTimeExceeded
		case e.Type != icmp6DestUnreachable:
			return ICMPOther
		}
		switch e.Code {
		case icmp6CodePort:
			return ICMPPortUnreachable
		case icmp6CodeProhibited, icmp6CodePolicy, icmp6CodeRejectRoute:
			return ICMPProhibited
		case icmp6CodeAddress:
			return ICMPHostUnreachable
		case icmp6CodeNoRoute:
			return ICMPNetUnreachable
		}
		return ICMPOther
	}
	switch {
	case e.Type == icmpTimeExceeded:
		return ICMPTimeExceeded
	case e.Type != icmpDestUnreachable:
		return ICMPOther
	}
	switch e.Code {
	case icmpCodePort:
		return ICMPPortUnreachable
	case icmpCodeNetProhibited, icmpCodeHostProhib, icmpCodeFiltered:
		return ICMPProhibited
	case icmpCodeHost:
		return ICMPHostUnreachable
	case icmpCodeNet:
		return ICMPNetUnreachable
	case icmpCodeFragNeeded:
		return ICMPTooBig
	}
	return ICMPOther
}

// String names the error as Wireshark does: "Destination unreachable
// (Port unreachable)".
func (e ICMPError) String() string {
	var kind string
	var codes map[uint8]string
	switch {
	case !e.V6 && e.Type == icmpDestUnreachable:
		kind, codes = "Destination unreachable", icmpUnreachableCodes
	case !e.V6 && e.Type == icmpTimeExceeded:
		kind, codes = "Time-to-live exceeded", map[uint8]string{0: "Time to live exceeded in transit", 1: "Fragment reassembly time exceeded"}
	case e.V6 && e.Type == icmp6DestUnreachable:
		kind, codes = "Destination Unreachable", icmp6UnreachableCodes
	case e.V6 && e.Type == icmp6PacketTooBig:
		kind = "Packet Too Big"
	case e.V6 && e.Type == icmp6TimeExceeded:
		kind, codes = "Time Exceeded", map[uint8]string{0: "hop limit exceeded in transit", 1: "fragment reassembly time exceeded"}
	default:
		return "ICMP error"
	}
	if codes == nil {
		return kind
	}
	if c, ok := codes[e.Code]; ok {
		return kind + " (" + c + ")"
	}
	return kind + " (code " + strconv.Itoa(int(e.Code)) + ")"
}

var icmpUnreachableCodes = map[uint8]string{
	0: "Network unreachable", 1: "Host unreachable", 2: "Protocol unreachable", 3: "Port unreachable",
	4: "Fragmentation needed", 5: "Source route failed", 6: "Destination network unknown",
	7: "Destination host unknown", 8: "Source host isolated", 9: "Network administratively prohibited",
	10: "Host administratively prohibited", 11: "Network unreachable for TOS", 12: "Host unreachable for TOS",
	13: "Communication administratively filtered",
}

var icmp6UnreachableCodes = map[uint8]string{
	0: "no route to destination", 1: "Administratively prohibited",
	2: "Beyond scope of source address", 3: "address unreachable", 4: "Port unreachable",
	5: "Source address failed ingress/egress policy", 6: "Reject route to destination",
}

// icmpError fills seg from the ICMP or ICMPv6 error the parser stopped
// at, if the frame's innermost packet is one about a TCP segment or a UDP
// datagram: Src and Dst are then that packet's, and ICMP says what
// happened to it. Errors whose quoted packet is cut before its ports
// (RFC 792 promises 8 bytes of it) are not.
func (d *decoder) icmpError(seg *Segment) bool {
	t, ok := d.transport()
	if !ok {
		return false
	}
	var e ICMPError
	var quoted []byte
	switch {
	case t.proto == layers.IPProtocolICMPv4 && !t.v6:
		b := t.payload
		if len(b) < icmpErrorHeader || b[0] != icmpDestUnreachable && b[0] != icmpTimeExceeded {
			return false
		}
		e = ICMPError{Type: b[0], Code: b[1]}
		if e.Meaning() == ICMPTooBig {
			e.MTU = int(binary.BigEndian.Uint16(b[6:]))
		}
		quoted = b[icmpErrorHeader:]
	case t.proto == layers.IPProtocolICMPv6 && t.v6:
		b := t.payload
		if len(b) < icmpErrorHeader || b[0] < icmp6DestUnreachable || b[0] > icmp6TimeExceeded {
			return false
		}
		e = ICMPError{V6: true, Type: b[0], Code: b[1]}
		if e.Meaning() == ICMPTooBig {
			e.MTU = int(binary.BigEndian.Uint32(b[4:]))
		}
		quoted = b[icmpErrorHeader:]
	default:
		return false
	}
	proto, src, dst, rest, ok := quotedPacket(quoted, e.V6)
	if !ok || proto != layers.IPProtocolTCP && proto != layers.IPProtocolUDP || len(rest) < quotedMin {
		return false
	}
	e.From, e.IP = t.src, t.hdr
	*seg = Segment{
		Src:    netip.AddrPortFrom(src, binary.BigEndian.Uint16(rest[0:])),
		Dst:    netip.AddrPortFrom(dst, binary.BigEndian.Uint16(rest[2:])),
		Tunnel: d.tunnel(),
		UDP:    proto == layers.IPProtocolUDP,
		IP:     t.hdr,
		ICMP:   &e,
	}
	return true
}

// quotedPacket reads the IP header an ICMP error quotes: the protocol,
// the addresses and what follows the header. An IPv6 header followed by
// extension headers is not read.
func quotedPacket(b []byte, v6 bool) (proto layers.IPProtocol, src, dst netip.Addr, rest []byte, ok bool) {
	if !v6 {
		if len(b) < ip4HeaderMin || b[0]>>4 != 4 {
			return 0, src, dst, nil, false
		}
		ihl := int(b[0]&0x0f) * 4
		frag := binary.BigEndian.Uint16(b[6:]) & 0x1fff
		if ihl < ip4HeaderMin || len(b) < ihl || frag != 0 {
			return 0, src, dst, nil, false
		}
		return layers.IPProtocol(b[9]), netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20])), b[ihl:], true
	}
	if len(b) < ip6Header || b[0]>>4 != 6 {
		return 0, src, dst, nil, false
	}
	return layers.IPProtocol(b[6]), netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40])), b[ip6Header:], true
}

// innerPacket is the frame's innermost IP packet, as far as the parser
// decoded it: the transport protocol and its bytes.
type innerPacket struct {
	proto    layers.IPProtocol
	payload  []byte
	src, dst netip.Addr
	hdr      IPHeader
	v6       bool
}

// transport returns the frame's innermost IP packet, if the parser
// stopped at one that is not a fragment.
func (d *decoder) transport() (innerPacket, bool) {
	if len(d.decoded) == 0 {
		return innerPacket{}, false
	}
	switch last := d.decoded[len(d.decoded)-1]; {
	case last == layers.LayerTypeIPv4:
		ip := &d.ip4
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return innerPacket{}, false
		}
		return innerPacket{
			proto: ip.Protocol, payload: ip.Payload,
			src: netip.AddrFrom4([4]byte(ip.SrcIP)), dst: netip.AddrFrom4([4]byte(ip.DstIP)),
			hdr: IPHeader{TTL: ip.TTL, ID: ip.Id, DF: ip.Flags&layers.IPv4DontFragment != 0},
		}, true
	case last == layers.LayerTypeIPv6:
		p := innerPacket{proto: d.ip6.NextHeader, payload: d.ip6.Payload, src: d.ip6Src(), dst: d.ip6Dst(),
			hdr: IPHeader{TTL: d.ip6.HopLimit, DF: true, V6: true}, v6: true}
		if d.ip6.HopByHop != nil {
			p.proto = d.ip6.HopByHop.NextHeader
		}
		return p, true
	case layers.LayerClassIPv6Extension.Contains(last) && last != layers.LayerTypeIPv6Fragment:
		return innerPacket{proto: d.ext.NextHeader, payload: d.ext.Payload, src: d.ip6Src(), dst: d.ip6Dst(),
			hdr: IPHeader{TTL: d.ip6.HopLimit, DF: true, V6: true}, v6: true}, true
	}
	return innerPacket{}, false
}

// icmp hands an ICMP error about one of the connection's packets to its
// Stream as an EventICMP, once the clock moved to its time: the direction
// is the quoted packet's. An error about a datagram goes to the Handler
// if it is an ICMPDatagramHandler. Errors about connections not open (or
// not in the capture) are counted, not delivered.
func (a *Assembler) icmp(seg *Segment, f Frame) {
	a.advance(f.Time.UnixNano())
	a.endLingers(f.Number)
	a.stats.ICMPErrors++
	if seg.UDP {
		if h, ok := a.dh.(ICMPDatagramHandler); ok {
			h.DatagramError(seg.Src, seg.Dst, *seg.ICMP, f)
			return
		}
		a.stats.ICMPUnmatched++
		return
	}
	key, srcLow := makeKey(seg.Src, seg.Dst)
	c := a.conns[key]
	if c == nil {
		a.stats.ICMPUnmatched++
		return
	}
	dir := c.dirOf(srcLow)
	e := *seg.ICMP
	c.stream.Event(Event{Kind: EventICMP, Dir: dir, Frame: f, ICMP: &e})
}

// ICMPDatagramHandler is a DatagramHandler that also wants the ICMP
// errors about its datagrams (a QUIC Initial answered by "port
// unreachable"), in frame order with the datagrams. src and dst are the
// quoted datagram's.
type ICMPDatagramHandler interface {
	DatagramHandler
	DatagramError(src, dst netip.AddrPort, e ICMPError, f Frame)
}
