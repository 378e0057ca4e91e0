package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TunnelType is an encapsulation that carried a connection's packets.
type TunnelType uint8

const (
	TunnelNone   TunnelType = iota
	TunnelVXLAN             // VXLAN, UDP port 4789 (RFC 7348) or 8472 (Linux's default)
	TunnelGENEVE            // GENEVE, UDP port 6081 (RFC 8926)
	TunnelGRE               // GRE with an IP or Ethernet payload (RFC 2784, 2890)
	TunnelERSPAN            // ERSPAN type I, II or III, in GRE
	TunnelMPLS              // an MPLS label stack (RFC 3032)
	TunnelPPPoE             // a PPPoE session (RFC 2516)
	TunnelIPinIP            // IPv4 or IPv6 inside IPv4 or IPv6 (RFC 2003, 4213, 2473)
	TunnelGTP               // GTP-U, UDP port 2152: a mobile network's user plane (3GPP TS 29.281)
	TunnelTZSP              // TZSP, UDP port 37008: frames a MikroTik router streams from its packet sniffer
	TunnelCAPWAP            // CAPWAP's data channel, UDP port 5247: a wireless LAN controller's tunnel to its access points (RFC 5415)
)

// TunnelTypes lists every tunnel type.
var TunnelTypes = []TunnelType{TunnelVXLAN, TunnelGENEVE, TunnelGRE, TunnelERSPAN, TunnelMPLS, TunnelPPPoE, TunnelIPinIP, TunnelGTP, TunnelTZSP, TunnelCAPWAP}

var tunnelNames = [...]string{
	TunnelVXLAN: "vxlan", TunnelGENEVE: "geneve", TunnelGRE: "gre", TunnelERSPAN: "erspan",
	TunnelMPLS: "mpls", TunnelPPPoE: "pppoe", TunnelIPinIP: "ipip", TunnelGTP: "gtp",
	TunnelTZSP: "tzsp", TunnelCAPWAP: "capwap",
}

func (t TunnelType) String() string {
	if int(t) < len(tunnelNames) && tunnelNames[t] != "" {
		return tunnelNames[t]
	}
	return "tunnel(" + strconv.Itoa(int(t)) + ")"
}

// IDName names what Tunnel.ID is for this type of tunnel.
func (t TunnelType) IDName() string {
	switch t {
	case TunnelVXLAN, TunnelGENEVE:
		return "vni"
	case TunnelGRE:
		return "key"
	case TunnelERSPAN, TunnelPPPoE:
		return "session"
	case TunnelMPLS:
		return "label"
	case TunnelGTP:
		return "teid"
	}
	return ""
}

// Tunnel is the outermost encapsulation of a frame: the connection's
// addresses are those of the packet inside it.
type Tunnel struct {
	Type TunnelType
	// ID is the VXLAN or GENEVE VNI, the GRE key, the ERSPAN or PPPoE
	// session, the top MPLS label or the GTP-U TEID; HasID says whether
	// there is one.
	ID    uint32
	HasID bool
	// Src and Dst are the outer IP addresses; invalid for MPLS and PPPoE,
	// which have none.
	Src, Dst netip.Addr
}

// maxEncapsulations bounds the headers one frame may nest: a frame of
// tunnels inside tunnels must not loop for long.
const maxEncapsulations = 8

// UDP ports of UDP tunnels: IANA's, which Wireshark decodes, and Linux's for VXLAN.
const (
	portVXLAN = 4789
	// portVXLANLinux is the port the Linux kernel's VXLAN devices use
	// unless told otherwise, and so Flannel's and Cilium's in Kubernetes;
	// IANA gave it to Cisco's OTV, whose header is VXLAN's.
	portVXLANLinux = 8472
	portGENEVE     = 6081
)

// EtherTypes and protocol numbers of the encapsulations.
const (
	etherTypeIPv4      = 0x0800
	etherTypeIPv6      = 0x86dd
	etherTypeTEB       = 0x6558 // transparent Ethernet bridging
	etherTypeERSPAN2   = 0x88be // also ERSPAN type I, without a sequence number
	etherTypeERSPAN3   = 0x22eb
	etherTypeWCCP      = 0x883e // WCCP redirection in GRE: a router sends a web cache (Squid, Blue Coat) the packets it intercepts
	etherTypeMPLS      = 0x8847
	etherTypeMPLSMulti = 0x8848
	etherTypePPPoE     = 0x8864
	etherTypeVLAN      = 0x8100
	etherTypeQinQ      = 0x88a8
	etherTypeVLAN9100  = 0x9100 // an old, non-standard TPID for stacked VLANs
)

// ip4Layer and ip6Layer stop the parser at a tunnel: the packet inside
// is decoded by the decoder itself (outer addresses would be overwritten,
// or mixed with the inner ports, if the same structs decoded it).
type ip4Layer struct{ layers.IPv4 }

func (l *ip4Layer) NextLayerType() gopacket.LayerType {
	if isTunnelProto(l.Protocol) {
		return gopacket.LayerTypeZero
	}
	return l.IPv4.NextLayerType()
}

type ip6Layer struct{ layers.IPv6 }

func (l *ip6Layer) NextLayerType() gopacket.LayerType {
	nh := l.NextHeader
	if l.HopByHop != nil {
		nh = l.HopByHop.NextHeader
	}
	if isTunnelProto(nh) {
		return gopacket.LayerTypeZero
	}
	return l.IPv6.NextLayerType()
}

type ip6ExtLayer struct{ layers.IPv6ExtensionSkipper }

func (l *ip6ExtLayer) NextLayerType() gopacket.LayerType {
	if isTunnelProto(l.NextHeader) {
		return gopacket.LayerTypeZero
	}
	return l.IPv6ExtensionSkipper.NextLayerType()
}

func isTunnelProto(p layers.IPProtocol) bool {
	return p == layers.IPProtocolIPv4 || p == layers.IPProtocolIPv6 || p == layers.IPProtocolGRE
}

// inner finds the encapsulated packet after the parser stopped: it
// returns the parser for the inner packet and its bytes, with ok false
// when the frame holds no tunnel. A tunnel whose payload is not decoded
// sets d.skip and returns ok false.
func (d *decoder) inner() (p *gopacket.DecodingLayerParser, data []byte, ok bool) {
	if len(d.decoded) == 0 {
		return nil, nil, false
	}
	switch last := d.decoded[len(d.decoded)-1]; last {
	case layers.LayerTypeEthernet:
		return d.etherPayload(uint16(d.eth.EthernetType), d.eth.Payload)
	case layers.LayerTypeDot1Q:
		return d.etherPayload(uint16(d.dot1q.Type), d.dot1q.Payload)
	case layers.LayerTypeLinuxSLL:
		return d.etherPayload(uint16(d.sll.EthernetType), d.sll.Payload)
	case layers.LayerTypeLinuxSLL2:
		return d.etherPayload(uint16(d.sll2.ProtocolType), d.sll2.Payload)
	case layers.LayerTypeIPv4:
		ip := &d.ip4
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return nil, nil, false
		}
		src, dst := netip.AddrFrom4([4]byte(ip.SrcIP)), netip.AddrFrom4([4]byte(ip.DstIP))
		return d.ipPayload(ip.Protocol, ip.Payload, src, dst)
	case layers.LayerTypeIPv6:
		nh := d.ip6.NextHeader
		if d.ip6.HopByHop != nil {
			nh = d.ip6.HopByHop.NextHeader
		}
		return d.ipPayload(nh, d.ip6.Payload, d.ip6Src(), d.ip6Dst())
	default:
		if layers.LayerClassIPv6Extension.Contains(last) && last != layers.LayerTypeIPv6Fragment {
			return d.ipPayload(d.ext.NextHeader, d.ext.Payload, d.ip6Src(), d.ip6Dst())
		}
	}
	return nil, nil, false
}

func (d *decoder) ip6Src() netip.Addr { return netip.AddrFrom16([16]byte(d.ip6.SrcIP)) }
func (d *decoder) ip6Dst() netip.Addr { return netip.AddrFrom16([16]byte(d.ip6.DstIP)) }

// enter records t as the frame's tunnel if it is the outermost.
func (d *decoder) enter(t Tunnel) {
	if d.tun.Type == TunnelNone {
		d.tun = t
	}
}

// tunnel is the frame's outermost tunnel for its Segment, nil for none:
// the decoder's, valid until the next frame is decoded.
func (d *decoder) tunnel() *Tunnel {
	if d.tun.Type == TunnelNone {
		return nil
	}
	return &d.tun
}

// unsupported notes that the frame is inside an encapsulation whose
// payload is not decoded.
func (d *decoder) unsupported(format string, args ...any) (*gopacket.DecodingLayerParser, []byte, bool) {
	d.skip = Skip{Reason: SkipEncapsulation, What: fmt.Sprintf(format, args...)}
	return nil, nil, false
}

// etherPayload follows an EtherType the parser does not decode.
func (d *decoder) etherPayload(et uint16, b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	switch et {
	case etherTypeVLAN9100:
		// The same 4-byte tag as 802.1Q.
		return d.dot1qP, b, true
	case etherTypeTEB:
		return d.ethP, b, true
	case etherTypeMPLS, etherTypeMPLSMulti:
		return d.mpls(b)
	case etherTypePPPoE:
		return d.pppoe(b)
	case etherTypeMACsec:
		return d.macsec(b)
	case etherTypeArista:
		return d.arista(b)
	case etherTypeCiscoMeta:
		return d.ciscoMeta(b)
	}
	return nil, nil, false
}

// byEtherTypeOrTag follows the EtherType of a header that stands between
// an Ethernet frame's addresses and its own EtherType: IP, a VLAN tag, or
// what else Ethernet may carry; ok false for what is not IP (ARP, LLDP).
func (d *decoder) byEtherTypeOrTag(et uint16, b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	// Such headers may nest (MACsec inside MACsec): as many as
	// encapsulations may.
	if d.tagged++; d.tagged > maxEncapsulations {
		return d.unsupported("more than %d headers after the Ethernet addresses", maxEncapsulations)
	}
	switch et {
	case etherTypeIPv4:
		return d.ip4P, b, true
	case etherTypeIPv6:
		return d.ip6P, b, true
	case etherTypeVLAN, etherTypeQinQ:
		return d.dot1qP, b, true
	}
	return d.etherPayload(et, b)
}

// ipPayload follows an IP protocol the parser stopped at.
func (d *decoder) ipPayload(proto layers.IPProtocol, b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	switch proto {
	case layers.IPProtocolIPv4:
		d.enter(Tunnel{Type: TunnelIPinIP, Src: src, Dst: dst})
		return d.ip4P, b, true
	case layers.IPProtocolIPv6:
		d.enter(Tunnel{Type: TunnelIPinIP, Src: src, Dst: dst})
		return d.ip6P, b, true
	case layers.IPProtocolGRE:
		return d.gre(b, src, dst)
	case layers.IPProtocolUDP:
		// RFC 768: ports, length, checksum.
		if len(b) < 8 {
			return nil, nil, false
		}
		switch binary.BigEndian.Uint16(b[2:]) {
		case portVXLAN:
			return d.vxlan(b[8:], src, dst)
		case portVXLANLinux:
			// Not IANA's VXLAN port: without the I flag, not VXLAN.
			if len(b) > 8 && b[8]&0x08 != 0 {
				return d.vxlan(b[8:], src, dst)
			}
		case portGENEVE:
			return d.geneve(b[8:], src, dst)
		case portGTPU:
			return d.gtpU(b[8:], src, dst)
		case portTZSP:
			return d.tzsp(b[8:], src, dst)
		case portCAPWAPData:
			return d.capwap(b[8:], src, dst)
		}
		if binary.BigEndian.Uint16(b) == portCAPWAPData {
			// A controller's data to an access point, whose port is its own.
			return d.capwap(b[8:], src, dst)
		}
		if espInUDP(b) {
			d.skip = skipIPsecESP
		}
	case layers.IPProtocolESP:
		d.skip = skipIPsecESP
	case layers.IPProtocolAH:
		return d.ah(b, src, dst)
	}
	return nil, nil, false
}

// vxlan decodes a VXLAN header (RFC 7348, Section 5): flags with the I
// bit, 24 reserved bits, the 24-bit VNI, 8 reserved bits; then Ethernet.
func (d *decoder) vxlan(b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 8 {
		return d.unsupported("VXLAN header cut short")
	}
	t := Tunnel{Type: TunnelVXLAN, Src: src, Dst: dst}
	if b[0]&0x08 != 0 {
		t.ID, t.HasID = uint32(b[4])<<16|uint32(b[5])<<8|uint32(b[6]), true
	}
	d.enter(t)
	return d.ethP, b[8:], true
}

// geneve decodes a GENEVE header (RFC 8926, Section 3.4): version and
// option length, flags, protocol type, VNI, then the options.
func (d *decoder) geneve(b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 8 {
		return d.unsupported("GENEVE header cut short")
	}
	if v := b[0] >> 6; v != 0 {
		return d.unsupported("GENEVE version %d", v)
	}
	n := 8 + int(b[0]&0x3f)*4
	if len(b) < n {
		return d.unsupported("GENEVE options cut short")
	}
	d.enter(Tunnel{Type: TunnelGENEVE, Src: src, Dst: dst, ID: uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6]), HasID: true})
	return d.byEtherType("GENEVE", binary.BigEndian.Uint16(b[2:]), b[n:])
}

// byEtherType picks the parser for a tunnel's payload protocol.
func (d *decoder) byEtherType(tunnel string, et uint16, b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	switch et {
	case etherTypeIPv4:
		return d.ip4P, b, true
	case etherTypeIPv6:
		return d.ip6P, b, true
	case etherTypeTEB:
		return d.ethP, b, true
	}
	return d.unsupported("%s carrying protocol 0x%04x", tunnel, et)
}

// gre decodes a GRE header (RFC 2784, with the key and sequence number of
// RFC 2890), and the ERSPAN headers that follow some.
func (d *decoder) gre(b []byte, src, dst netip.Addr) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 4 {
		return d.unsupported("GRE header cut short")
	}
	flags, et := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	if v := flags & 7; v != 0 {
		return d.unsupported("GRE version %d", v) // version 1 is PPTP's, with PPP inside
	}
	if flags&0x4000 != 0 {
		return d.unsupported("GRE with source routing")
	}
	n := 4
	t := Tunnel{Type: TunnelGRE, Src: src, Dst: dst}
	if flags&0x8000 != 0 { // checksum present
		n += 4
	}
	if flags&0x2000 != 0 { // key present
		if len(b) < n+4 {
			return d.unsupported("GRE header cut short")
		}
		t.ID, t.HasID = binary.BigEndian.Uint32(b[n:]), true
		n += 4
	}
	seq := flags&0x1000 != 0
	if seq {
		n += 4
	}
	if len(b) < n {
		return d.unsupported("GRE header cut short")
	}
	b = b[n:]
	switch et {
	case etherTypeERSPAN2:
		if !seq {
			// ERSPAN type I: no header, the mirrored Ethernet frame.
			d.enter(Tunnel{Type: TunnelERSPAN, Src: src, Dst: dst})
			return d.ethP, b, true
		}
		// Type II: version and VLAN; COS, encapsulation, truncated flag
		// and the 10-bit session ID; index.
		if len(b) < 8 {
			return d.unsupported("ERSPAN header cut short")
		}
		d.enter(Tunnel{Type: TunnelERSPAN, Src: src, Dst: dst, ID: uint32(binary.BigEndian.Uint16(b[2:]) & 0x3ff), HasID: true})
		return d.ethP, b[8:], true
	case etherTypeERSPAN3:
		// Type III: as type II plus a timestamp, the security group tag
		// and flags, of which O announces an 8-byte platform subheader
		// and FT the frame type (0: Ethernet).
		if len(b) < 12 {
			return d.unsupported("ERSPAN header cut short")
		}
		d.enter(Tunnel{Type: TunnelERSPAN, Src: src, Dst: dst, ID: uint32(binary.BigEndian.Uint16(b[2:]) & 0x3ff), HasID: true})
		n := 12
		if b[11]&0x01 != 0 {
			n += 8
		}
		if ft := b[10] >> 2 & 0x1f; ft != 0 {
			return d.unsupported("ERSPAN frame type %d", ft)
		}
		if len(b) < n {
			return d.unsupported("ERSPAN header cut short")
		}
		return d.ethP, b[n:], true
	}
	d.enter(t)
	switch et {
	case etherTypeCiscoMeta:
		return d.ciscoMetaGRE(b)
	case etherTypeWCCP:
		return d.wccp(b)
	}
	return d.byEtherType("GRE", et, b)
}

// wccp reads the packet a WCCP router redirected to a cache in GRE
// (draft-wilson-wrec-wccp-v2, Section 4.12): WCCP version 2 puts a 4-byte
// redirect header (flags, service ID, buckets) before the IPv4 or IPv6
// packet, version 1 none. As Wireshark and tcpdump do, a first nibble of 4
// is taken for an IPv4 header, so version 1; anything else for the
// redirect header.
func (d *decoder) wccp(b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) > 0 && b[0]>>4 != 4 {
		if len(b) < 4 {
			return d.unsupported("WCCP redirect header cut short")
		}
		b = b[4:]
	}
	if p := d.byIPVersion(b); p != nil {
		return p, b, true
	}
	return d.unsupported("WCCP redirect carrying no IP packet")
}

// mpls skips an MPLS label stack (RFC 3032, Section 2.1) to the packet
// under the bottom label, which says its version in its first nibble.
func (d *decoder) mpls(b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	for i := 0; ; i++ {
		if len(b) < 4 {
			return d.unsupported("MPLS label stack cut short")
		}
		if i == 0 {
			d.enter(Tunnel{Type: TunnelMPLS, ID: binary.BigEndian.Uint32(b) >> 12, HasID: true})
		}
		bottom := b[2]&0x01 != 0
		b = b[4:]
		if bottom {
			break
		}
		if i == maxEncapsulations {
			return d.unsupported("MPLS label stack deeper than %d", maxEncapsulations)
		}
	}
	if p := d.byIPVersion(b); p != nil {
		return p, b, true
	}
	if len(b) == 0 {
		return d.unsupported("MPLS without payload")
	}
	return d.unsupported("MPLS carrying a pseudowire")
}

// byIPVersion picks the parser for b by its IP version, for the
// encapsulations that do not say what they carry (MPLS, GTP-U); nil when
// b is not IPv4 or IPv6.
func (d *decoder) byIPVersion(b []byte) *gopacket.DecodingLayerParser {
	if len(b) > 0 {
		switch b[0] >> 4 {
		case 4:
			return d.ip4P
		case 6:
			return d.ip6P
		}
	}
	return nil
}

// pppoe decodes a PPPoE session header (RFC 2516, Section 4) and the PPP
// protocol field after it (RFC 1661).
func (d *decoder) pppoe(b []byte) (*gopacket.DecodingLayerParser, []byte, bool) {
	if len(b) < 8 {
		return d.unsupported("PPPoE header cut short")
	}
	d.enter(Tunnel{Type: TunnelPPPoE, ID: uint32(binary.BigEndian.Uint16(b[2:])), HasID: true})
	n := min(int(binary.BigEndian.Uint16(b[4:])), len(b)-6)
	switch binary.BigEndian.Uint16(b[6:]) {
	case 0x0021:
		return d.ip4P, b[8 : 6+max(n, 2)], true
	case 0x0057:
		return d.ip6P, b[8 : 6+max(n, 2)], true
	}
	return nil, nil, false // PPP's own control protocols: not IP
}
