package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
)

// Segment is one TCP segment as the assembler sees it. Payload aliases the
// frame it came from.
type Segment struct {
	Src, Dst           netip.AddrPort
	Seq, Ack           uint32
	SYN, ACK, FIN, RST bool
	Window             uint16
	// IP is what the (innermost) IP header says about the path.
	IP IPHeader
	// UDP marks a UDP datagram (for a DatagramHandler): Payload is its
	// payload and the TCP fields are zero.
	UDP     bool
	Payload []byte
	// Missing is the number of payload bytes the IP header announces after
	// Payload that the capture cut off (snap length). They become a gap.
	Missing int
	// Snap is the frame's captured length when Missing is not zero.
	Snap int
	// Tunnel is the outermost encapsulation the segment came in, nil if
	// none. Like Payload, it is valid as long as the frame. (A pointer:
	// few segments have one, and every segment is copied between
	// goroutines by RunSharded, which the 64 bytes of a Tunnel made a
	// third larger.)
	Tunnel *Tunnel
	// ICMP is set when the frame is an ICMP error about a TCP segment or
	// a UDP datagram: Src and Dst are then the quoted packet's, UDP says
	// which it was, IP is the error's own header, and nothing else is set.
	ICMP *ICMPError
	// Interface tells apart the interfaces of a capture on several, for
	// dropping the copies of a packet each captured (copies.go): the
	// pcapng interface plus 1 in the high 32 bits, for a file describing
	// several, and the interface index of a Linux cooked v2 header
	// (tcpdump -i any) in the low ones; 0 when the capture does not say.
	Interface uint64
}

// IPHeader holds the IP header fields that tell devices on the path apart:
// a reset forged by a firewall seldom has the server's hop distance or IP
// ID sequence.
type IPHeader struct {
	TTL uint8  // IPv4 TTL or IPv6 hop limit
	ID  uint16 // IPv4 identification; 0 for IPv6
	DF  bool   // IPv4 don't-fragment; always set for IPv6, which routers never fragment
	V6  bool
}

// frameKind is what the decoder made of a frame.
type frameKind uint8

const (
	kindTCP       frameKind = iota // seg holds a TCP segment
	kindNonIP                      // no IPv4/IPv6 inside
	kindNonTCP                     // IP, but not TCP
	kindFragment                   // an IPv4 fragment held for reassembly
	kindFragment6                  // an IPv6 fragment (not reassembled)
	kindMalformed                  // a header could not be decoded
	kindSkipped                    // not decoded: the decoder's skip says why
	kindUDP                        // seg holds a UDP datagram
	kindICMP                       // seg holds an ICMP error about a TCP segment or a UDP datagram
)

// SkipReason says why frames were not analysed.
type SkipReason uint8

const (
	SkipLinkType      SkipReason = iota + 1 // the interface's link type is not decoded
	SkipEncapsulation                       // an encapsulation whose payload is not decoded
	SkipEncrypted                           // encrypted below TLS: by the link layer (Wi-Fi's WPA, MACsec) or IPsec ESP
	SkipRepeat                              // a link-layer retransmission of a frame already read
	SkipLinkLayer                           // a link-layer frame not decoded: damaged, fragmented, aggregated
)

func (r SkipReason) String() string {
	switch r {
	case SkipLinkType:
		return "link_type"
	case SkipEncapsulation:
		return "encapsulation"
	case SkipEncrypted:
		return "encrypted"
	case SkipRepeat:
		return "repeat"
	case SkipLinkLayer:
		return "link_layer"
	}
	return "skip(" + strconv.Itoa(int(r)) + ")"
}

// Skip is a reason frames were skipped and what exactly: the link type
// ("USBPCAP (249)") or the encapsulation ("GRE carrying protocol 0x880b").
type Skip struct {
	Reason SkipReason
	What   string
}

// maxSkipKinds bounds the distinct Skips counted; the rest count as
// "other".
const maxSkipKinds = 32

// linkTypeName names a link type for people: gopacket's name when it
// has one, else libpcap's (what tcpdump -r prints) for the link types
// of routers, taps and other systems a capture may come from.
func linkTypeName(lt layers.LinkType) string {
	n := lt.String()
	if name, ok := pcapLinkTypeNames[lt]; ok {
		n = name
	}
	if lt >= 147 && lt <= 162 {
		n = "USER" + strconv.Itoa(int(lt)-147)
	}
	if n == "" || strings.HasPrefix(n, "Unknown") || strings.HasPrefix(n, "LinkType(") {
		n = "unknown"
	}
	return fmt.Sprintf("%s (%d)", n, uint16(lt))
}

// pcapLinkTypeNames are libpcap's names of link types gopacket does not
// name (TestLinkTypeNamesAsTcpdump holds them to tcpdump's).
var pcapLinkTypeNames = map[layers.LinkType]string{
	8: "SLIP", 50: "PPP_SERIAL", 51: "PPP_ETHER", 100: "ATM_RFC1483", 104: "C_HDLC",
	106: "ATM_CLIP", 107: "FRELAY", 123: "SUNATM", 129: "ARCNET_LINUX", 178: "JUNIPER_ETHER",
	195: "IEEE802_15_4", 226: "IPNET", 231: "DBUS", 239: "NFLOG", 240: "NETANALYZER",
	242: "IPOIB", 249: "USBPCAP", 258: "PKTAP",
}

// countOther counts a frame that carries no TCP segment to assemble, the
// same for Run and RunSharded.
func (st *Stats) countOther(kind frameKind, d *decoder) {
	switch kind {
	case kindNonIP:
		st.NonIP++
	case kindNonTCP:
		st.NonTCP++
	case kindUDP:
		st.NonTCP++
		st.UDP++
	case kindICMP:
		st.NonTCP++
	case kindMalformed:
		st.Malformed++
	case kindSkipped:
		st.skipped(d.skip)
	case kindFragment, kindFragment6:
		// counted by the decoder, which holds, reassembles or drops them
	}
}

// linkTypeSupported reports whether the decoder knows the link type.
func linkTypeSupported(lt layers.LinkType) bool {
	switch lt {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
		layers.LinkTypeNull, layers.LinkTypeLoop,
		layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, linkTypeNFLOG,
		linkTypePKTAP, linkTypeUser2, layers.LinkTypeIEEE802_11, layers.LinkTypeIEEE80211Radio,
		linkTypePPP, linkTypePPPHDLC, linkTypeCHDLC, linkTypeIPoIB:
		return true
	}
	return false
}

func unsupportedLinkType(lt layers.LinkType) error {
	return fmt.Errorf("link type %s is not supported (Ethernet, Linux cooked SLL/SLL2, BSD loopback, raw IP, NFLOG, PKTAP, 802.11, PPP, Cisco HDLC and IP over InfiniBand are)", linkTypeName(lt))
}

// tcpLayer decodes TCP and stops the parser there: the payload is ours to
// reassemble, not a layer to guess by port number.
type tcpLayer struct{ layers.TCP }

func (t *tcpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// Bounds on IPv4 fragment reassembly: Linux keeps fragments for 30 s
// (net.ipv4.ipfrag_time) and at most 4 MiB of them (ipfrag_high_thresh).
const (
	fragTimeout  = 30 * time.Second
	maxFragBytes = 4 << 20
)

// decoder turns frames into TCP segments without allocating: every layer
// is decoded in place into the same structs.
type decoder struct {
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	loop  layers.Loopback
	ip4   ip4Layer
	ip6   ip6Layer
	ext   ip6ExtLayer
	frag6 layers.IPv6Fragment
	tcp   tcpLayer

	// One parser per first layer, all sharing the layers above.
	ethP, sllP, sll2P, loopP, ip4P, ip6P, dot1qP *gopacket.DecodingLayerParser
	decoded                                      []gopacket.LayerType
	truncated                                    bool // the last frame's headers were cut short
	// tun is the last frame's outermost tunnel; skip, for kindSkipped,
	// why it was not decoded.
	tun  Tunnel
	skip Skip
	// tagged counts the last frame's headers between its Ethernet
	// addresses and its EtherType (MACsec, Arista, Cisco MetaData).
	tagged int

	// wifiSeq is the last 802.11 sequence control of each transmitter
	// and TID.
	wifiSeq map[wifiSender]uint16

	frags6     map[frag6Key]*frag6Datagram
	frag6Bytes int
	frag6Sweep time.Time
	defrag     *ip4defrag.IPv4Defragmenter
	fragBytes  int // upper bound of the bytes the defragmenter holds
	fragSweep  time.Time
	stats      *Stats
}

func newDecoder(st *Stats) *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 16), stats: st}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6, &d.ext, &d.frag6, &d.tcp}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, all...)
		// A sparse array indexed by layer type: the fastest container.
		var c gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
		for _, l := range all {
			c = c.Put(l)
		}
		p.SetDecodingLayerContainer(c)
		p.IgnoreUnsupported = true
		return p
	}
	d.ethP = mk(layers.LayerTypeEthernet)
	d.sllP = mk(layers.LayerTypeLinuxSLL)
	d.sll2P = mk(layers.LayerTypeLinuxSLL2)
	d.loopP = mk(layers.LayerTypeLoopback)
	d.ip4P = mk(layers.LayerTypeIPv4)
	d.ip6P = mk(layers.LayerTypeIPv6)
	d.dot1qP = mk(layers.LayerTypeDot1Q)
	return d
}

// decode fills seg from one frame. The returned error is only for an
// unsupported link type; everything else is a kind, counted by the caller.
func (d *decoder) decode(data []byte, ts time.Time, lt layers.LinkType, seg *Segment) (frameKind, error) {
	if lt == layers.LinkTypeEthernet && (decodeFast(data, seg) || decodeFastVXLAN(data, seg, &d.tun)) {
		d.truncated = false
		return kindTCP, nil
	}
	return d.decodeSlow(data, ts, lt, seg)
}

// decodeSlow is decode without the fast paths: the parser, and the
// decoder's own code for encapsulations.
func (d *decoder) decodeSlow(data []byte, ts time.Time, lt layers.LinkType, seg *Segment) (frameKind, error) {
	d.tun, d.tagged = Tunnel{}, 0
	// The TCP path fills seg field by field: what a datagram or an ICMP
	// error before it set must not stay.
	*seg = Segment{}
	var p *gopacket.DecodingLayerParser
	switch lt {
	case layers.LinkTypeEthernet:
		p = d.ethP
	case layers.LinkTypeLinuxSLL:
		p = d.sllP
	case layers.LinkTypeLinuxSLL2:
		p = d.sll2P
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		p = d.loopP
	case layers.LinkTypeIPv4:
		p = d.ip4P
	case layers.LinkTypeIPv6:
		p = d.ip6P
	case linkTypePPP, linkTypePPPHDLC, linkTypeCHDLC, linkTypeIPoIB:
		var kind frameKind
		if p, data, kind = d.linkParser(data, lt); p == nil {
			return kind, nil
		}
	case layers.LinkTypeRaw, linkTypeNFLOG, layers.LinkTypeIEEE802_11, layers.LinkTypeIEEE80211Radio:
		switch lt {
		case linkTypeNFLOG:
			var ok bool
			if data, ok = nflogPacket(data); !ok {
				return kindMalformed, nil
			}
		case layers.LinkTypeIEEE802_11, layers.LinkTypeIEEE80211Radio:
			from := wifiMonitor
			if lt == layers.LinkTypeIEEE80211Radio {
				from = wifiRadiotap
			}
			ip, kind, ok := d.wifiPacket(data, from)
			if !ok {
				return kind, nil
			}
			data = ip
		}
		if len(data) == 0 {
			return kindNonIP, nil
		}
		switch data[0] >> 4 {
		case 4:
			p = d.ip4P
		case 6:
			p = d.ip6P
		default:
			return kindNonIP, nil
		}
	case linkTypePKTAP, linkTypeUser2:
		frame, inner, what, ok := pktapFrame(data)
		switch {
		case ok && what == "":
			return d.decode(frame, ts, inner, seg)
		case ok:
			d.skip = Skip{Reason: SkipLinkType, What: what}
			return kindSkipped, nil
		case lt == linkTypePKTAP:
			return kindMalformed, nil
		}
		// A USER2 frame without a PKTAP header is someone else's.
		d.skip = Skip{Reason: SkipLinkType, What: linkTypeName(lt)}
		return kindSkipped, nil
	default:
		d.skip = Skip{Reason: SkipLinkType, What: linkTypeName(lt)}
		return kindSkipped, nil
	}
	err := p.DecodeLayers(data, &d.decoded)
	d.truncated = p.Truncated
	for i := 0; err == nil && i < maxEncapsulations; i++ {
		d.skip = Skip{}
		q, in, ok := d.inner()
		if !ok {
			if d.skip.Reason != 0 {
				return kindSkipped, nil
			}
			break
		}
		err = q.DecodeLayers(in, &d.decoded)
		d.truncated = d.truncated || q.Truncated
	}
	var ip4, ip6, tcp, frag6 bool
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			ip4 = true
		case layers.LayerTypeIPv6:
			ip6 = true
		case layers.LayerTypeTCP:
			tcp = true
		case layers.LayerTypeIPv6Fragment:
			frag6 = true
		}
	}
	switch {
	case !ip4 && !ip6:
		if err != nil {
			return kindMalformed, nil
		}
		return kindNonIP, nil
	case tcp && err == nil:
		if ip4 {
			d.fillIPv4(seg, &d.ip4.IPv4)
		} else {
			d.fillIPv6(seg)
		}
		seg.Tunnel = d.tunnel()
		return kindTCP, nil
	case err != nil:
		return kindMalformed, nil
	case ip4 && (d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0):
		return d.fragment(ts, seg)
	case ip6 && frag6 && (d.frag6.MoreFragments || d.frag6.FragmentOffset != 0):
		return d.fragment6(ts, seg)
	}
	if d.udp(seg) {
		return kindUDP, nil
	}
	if d.icmpError(seg) {
		return kindICMP, nil
	}
	return kindNonTCP, nil
}

// fillIPv4 copies the TCP header fields of d.tcp, carried in ip, to seg.
func (d *decoder) fillIPv4(seg *Segment, ip *layers.IPv4) {
	seg.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.SrcIP)), uint16(d.tcp.SrcPort))
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.DstIP)), uint16(d.tcp.DstPort))
	seg.IP = IPHeader{TTL: ip.TTL, ID: ip.Id, DF: ip.Flags&layers.IPv4DontFragment != 0}
	// ip.Payload starts at the TCP header (no extension headers in IPv4).
	d.fillTCP(seg, int(ip.Length)-int(ip.IHL)*4, ip.Payload)
}

func (d *decoder) fillIPv6(seg *Segment) {
	ip := &d.ip6.IPv6
	seg.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip.SrcIP)), uint16(d.tcp.SrcPort))
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip.DstIP)), uint16(d.tcp.DstPort))
	seg.IP = IPHeader{TTL: ip.HopLimit, DF: true, V6: true}
	// Length counts extension headers (and a hop-by-hop header that the
	// IPv6 layer already stripped from Payload).
	declared := int(ip.Length)
	if ip.HopByHop != nil {
		declared -= ip.HopByHop.ActualLength
	}
	d.fillTCP(seg, declared, ip.Payload)
}

// fillTCP fills seg from d.tcp. declared is the IP payload length the
// header announces; ipPayload is what was captured of it, which the TCP
// header is a sub-slice of.
func (d *decoder) fillTCP(seg *Segment, declared int, ipPayload []byte) {
	t := &d.tcp.TCP
	seg.Seq, seg.Ack = t.Seq, t.Ack
	seg.SYN, seg.ACK, seg.FIN, seg.RST = t.SYN, t.ACK, t.FIN, t.RST
	seg.Window = t.Window
	seg.Payload = t.Payload
	// Both slices end at the end of the same buffer, so the difference of
	// their capacities is the offset of the TCP header in the IP payload
	// (past any IPv6 extension headers).
	before := cap(ipPayload) - cap(t.Contents)
	want := declared - before - len(t.Contents)
	seg.Missing = max(want-len(t.Payload), 0)
	seg.Snap = 0
}

// fragment hands an IPv4 fragment to the defragmenter. The defragmenter
// keeps the layer it is given, so it gets a copy: the frame's buffer is
// reused for the next frame.
func (d *decoder) fragment(ts time.Time, seg *Segment) (frameKind, error) {
	d.stats.IPv4Fragments++
	if d.defrag == nil {
		d.defrag = ip4defrag.NewIPv4Defragmenter()
	}
	if ts.Sub(d.fragSweep) > fragTimeout || ts.Before(d.fragSweep) {
		d.defrag.DiscardOlderThan(ts.Add(-fragTimeout))
		d.fragSweep = ts
	}
	in := d.ip4.IPv4
	in.Contents = nil
	in.Options = nil
	in.Padding = nil
	in.SrcIP = append([]byte(nil), d.ip4.SrcIP...)
	in.DstIP = append([]byte(nil), d.ip4.DstIP...)
	in.Payload = append([]byte(nil), d.ip4.Payload...)
	if d.fragBytes+len(in.Payload) > maxFragBytes {
		// Forget every datagram in progress rather than grow: their
		// missing bytes will show as gaps in the TCP streams.
		d.stats.IPv4FragmentsDropped += int64(d.defrag.DiscardOlderThan(ts.Add(time.Hour)))
		d.fragBytes = 0
	}
	d.fragBytes += len(in.Payload)
	out, err := d.defrag.DefragIPv4WithTimestamp(&in, ts)
	if err != nil {
		d.stats.IPv4FragmentsDropped++
		return kindFragment, nil
	}
	if out == nil {
		return kindFragment, nil
	}
	d.fragBytes = max(d.fragBytes-len(out.Payload), 0)
	d.stats.IPv4Reassembled++
	if out.Protocol == layers.IPProtocolUDP {
		// A DNS answer larger than the path's MTU (DNSSEC, EDNS0).
		if d.udpDatagram(seg, netip.AddrFrom4([4]byte(out.SrcIP)), netip.AddrFrom4([4]byte(out.DstIP)), out.Payload) {
			return kindUDP, nil
		}
		return kindNonTCP, nil
	}
	if out.Protocol != layers.IPProtocolTCP {
		return kindNonTCP, nil
	}
	if err := d.tcp.DecodeFromBytes(out.Payload, gopacket.NilDecodeFeedback); err != nil {
		return kindMalformed, nil
	}
	d.fillIPv4(seg, out)
	seg.Tunnel = d.tunnel()
	return kindTCP, nil
}

// frameInterface is a frame's Segment.Interface: its pcapng interface
// (ifIndex, the CaptureInfo's InterfaceIndex, plus 1) when the capture
// has several, and the interface index of a
// Linux cooked v2 header.
func frameInterface(data []byte, ifIndex int, lt layers.LinkType, several bool) uint64 {
	var id uint64
	if several {
		id = uint64(uint32(ifIndex)+1) << 32
	}
	if lt == layers.LinkTypeLinuxSLL2 && len(data) >= 8 {
		id |= uint64(binary.BigEndian.Uint32(data[4:8]))
	}
	return id
}
