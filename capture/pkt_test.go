package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tcpSeg describes a TCP segment to build.
type tcpSeg struct {
	src, dst           netip.AddrPort
	seq, ack           uint32
	syn, fin, rst, psh bool
	noACK              bool
	win                uint16
	payload            []byte
}

// tcpIP builds an IPv4 or IPv6 packet (by the address family) carrying s,
// with gopacket's serializer, checksums included.
func tcpIP(t testing.TB, s tcpSeg) []byte {
	t.Helper()
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(s.src.Port()), DstPort: layers.TCPPort(s.dst.Port()),
		Seq: s.seq, Ack: s.ack, SYN: s.syn, FIN: s.fin, RST: s.rst, PSH: s.psh, ACK: !s.noACK,
		Window: s.win,
	}
	if s.win == 0 && !s.rst {
		tcp.Window = 65535
	}
	var ip gopacket.SerializableLayer
	if s.src.Addr().Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: s.src.Addr().AsSlice(), DstIP: s.dst.Addr().AsSlice(), Flags: layers.IPv4DontFragment}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.IP(s.src.Addr().AsSlice()), DstIP: net.IP(s.dst.Addr().AsSlice())}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(s.payload)); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// ethernet wraps an IP packet in an Ethernet frame, with 802.1Q tags when
// vlans are given (the first with the 802.1ad QinQ type when there are two).
func ethernet(t testing.TB, ipPkt []byte, vlans ...uint16) []byte {
	t.Helper()
	typ := layers.EthernetTypeIPv4
	if ipPkt[0]>>4 == 6 {
		typ = layers.EthernetTypeIPv6
	}
	var ls []gopacket.SerializableLayer
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: typ}
	ls = append(ls, eth)
	for i, v := range vlans {
		tagType := layers.EthernetTypeDot1Q
		if i == 0 && len(vlans) > 1 {
			tagType = layers.EthernetTypeQinQ
		}
		if i == 0 {
			eth.EthernetType = tagType
		} else {
			ls[len(ls)-1].(*layers.Dot1Q).Type = layers.EthernetTypeDot1Q
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: v, Type: typ})
	}
	ls = append(ls, gopacket.Payload(ipPkt))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// sll and sll2 prepend Linux cooked headers (gopacket cannot write them).
func sll(ipPkt []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 4)   // sent by us
	binary.BigEndian.PutUint16(h[2:], 772) // ARPHRD_LOOPBACK
	binary.BigEndian.PutUint16(h[4:], 6)   // address length
	binary.BigEndian.PutUint16(h[14:], etype(ipPkt))
	return append(h, ipPkt...)
}

func sll2(ipPkt []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], etype(ipPkt))
	binary.BigEndian.PutUint32(h[4:], 1)   // interface index
	binary.BigEndian.PutUint16(h[8:], 772) // ARPHRD_LOOPBACK
	h[10] = 0                              // to us
	h[11] = 6
	return append(h, ipPkt...)
}

func etype(ipPkt []byte) uint16 {
	if ipPkt[0]>>4 == 6 {
		return uint16(layers.EthernetTypeIPv6)
	}
	return uint16(layers.EthernetTypeIPv4)
}

// loopback prepends a BSD null header (host byte order: little endian).
func loopback(ipPkt []byte) []byte {
	h := make([]byte, 4)
	fam := uint32(layers.ProtocolFamilyIPv4)
	if ipPkt[0]>>4 == 6 {
		fam = uint32(layers.ProtocolFamilyIPv6BSD)
	}
	binary.LittleEndian.PutUint32(h, fam)
	return append(h, ipPkt...)
}

// withIPv6Extensions rewrites an IPv6 packet so that hop-by-hop, routing,
// destination options and an atomic fragment header sit between the IPv6
// header and the TCP header.
func withIPv6Extensions(p []byte) []byte {
	ext := []byte{
		43, 0, 1, 4, 0, 0, 0, 0, // hop-by-hop → routing; PadN
		60, 0, 0, 0, 0, 0, 0, 0, // routing (type 0, 0 segments left) → destination options
		44, 0, 1, 4, 0, 0, 0, 0, // destination options → fragment; PadN
		6, 0, 0, 0, 0, 0, 0, 42, // atomic fragment (offset 0, M=0) → TCP
	}
	out := append([]byte(nil), p[:40]...)
	out[6] = 0 // next header: hop-by-hop
	binary.BigEndian.PutUint16(out[4:], uint16(len(p)-40+len(ext)))
	out = append(out, ext...)
	return append(out, p[40:]...)
}

// fragmentIPv4 splits an IPv4 packet (20-byte header) into fragments whose
// payloads are at most size bytes (a multiple of 8).
func fragmentIPv4(p []byte, size int) [][]byte {
	hdr, payload := p[:20], p[20:]
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		f := append(append([]byte(nil), hdr...), payload[off:end]...)
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		ff := uint16(off / 8)
		if end < len(payload) {
			ff |= 0x2000 // more fragments
		}
		binary.BigEndian.PutUint16(f[6:], ff)
		f[10], f[11] = 0, 0
		out = append(out, f)
	}
	return out
}

// pcapRec is a frame to write into a test capture.
type pcapRec struct {
	data    []byte
	ts      time.Time
	origLen int // 0: len(data)
}

// writePcap writes a classic pcap with the given byte order and time
// resolution, by hand, so every variant can be produced.
func writePcap(lt layers.LinkType, order binary.ByteOrder, nano bool, recs []pcapRec) []byte {
	var b bytes.Buffer
	h := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 262144)
	order.PutUint32(h[20:], uint32(lt))
	b.Write(h)
	for _, r := range recs {
		rh := make([]byte, 16)
		order.PutUint32(rh[0:], uint32(r.ts.Unix()))
		frac := uint32(r.ts.Nanosecond() / 1000)
		if nano {
			frac = uint32(r.ts.Nanosecond())
		}
		order.PutUint32(rh[4:], frac)
		order.PutUint32(rh[8:], uint32(len(r.data)))
		ol := r.origLen
		if ol == 0 {
			ol = len(r.data)
		}
		order.PutUint32(rh[12:], uint32(ol))
		b.Write(rh)
		b.Write(r.data)
	}
	return b.Bytes()
}
