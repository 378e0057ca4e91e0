// Package encap wraps Ethernet frames of real captures in tunnels and
// other encapsulations, as cloud traffic mirrors, overlays, SPAN sessions,
// access networks and Wi-Fi in monitor mode deliver them, for tests that
// compare tlsdiag's reading of the wrapped capture with tshark's.
package encap

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Kind is an encapsulation.
type Kind string

const (
	VXLAN      Kind = "vxlan"      // UDP 4789, VNI 42, the Ethernet frame inside
	VXLANLinux Kind = "vxlan-8472" // UDP 8472 (Linux's default: Flannel, Cilium), VNI 42; tshark is told (DecodeAs)
	GENEVE     Kind = "geneve"     // UDP 6081, VNI 42, the Ethernet frame inside
	GREIP      Kind = "gre-ip"     // GRE with key 7, the IP packet inside
	GRETEB     Kind = "gre-teb"    // GRE, transparent Ethernet bridging (0x6558)
	ERSPAN2    Kind = "erspan2"    // GRE with a sequence number, ERSPAN type II, session 5
	ERSPAN3    Kind = "erspan3"    // GRE with a sequence number, ERSPAN type III, session 5
	MPLS       Kind = "mpls"       // two labels, 100 and 200 (bottom), the IP packet inside
	PPPoE      Kind = "pppoe"      // PPPoE session 0x1234, PPP, the IP packet inside
	VLAN9100   Kind = "vlan9100"   // an outer tag with TPID 0x9100 (VLAN 10) over 802.1Q (VLAN 20)
	IPinIP     Kind = "ipip"       // the IP packet inside an outer IPv4 or IPv6 header (6in4 is protocol 41)
	Frag6      Kind = "frag6"      // IPv6 packets of more than 400 bytes split into fragments (IPv4 ones unchanged)
	CMD        Kind = "cmd"        // Cisco MetaData (TrustSec's inline SGT 100) after the Ethernet addresses
	GRECMD     Kind = "gre-cmd"    // GRE carrying Cisco MetaData (0x8909), the IP packet inside, as DMVPN with TrustSec
	WCCP       Kind = "wccp"       // GRE carrying WCCP (0x883e): a version 2 redirect header (service 0, bucket 72), the IP packet inside, as a router redirects it to a web cache
	MACsec     Kind = "macsec"     // an 802.1AE security tag with an SCI, integrity only (not encrypted), a 16-byte ICV
	Radiotap   Kind = "radiotap"   // 802.11 QoS data frames behind radiotap (FCS, padding), as a monitor-mode capture has them
	Dot11      Kind = "dot11"      // 802.11 data frames without radiotap, some between access points (four addresses)
	GTP        Kind = "gtp"        // GTP-U (UDP 2152), a G-PDU of TEID 42, the IP packet inside, as 4G's S1-U carries it
	GTP5G      Kind = "gtp-5g"     // GTP-U with a PDU Session Container extension header (QFI 9), as 5G's N3 carries it
	TZSP       Kind = "tzsp"       // TZSP (UDP 37008), a received Ethernet frame behind a padding and an END tag, as a MikroTik router streams it
	CAPWAP     Kind = "capwap"     // CAPWAP data (UDP 5247), an 802.11 data frame with its frame control bytes swapped, as Cisco's access points tunnel it to their controller
	CAPWAPStd  Kind = "capwap-std" // CAPWAP data (UDP 5247), an 802.11 data frame as RFC 5416 has it (frame control not swapped); tshark is told
	None       Kind = "none"       // unchanged
	outerMAC        = "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
)

// Kinds lists every encapsulation.
var Kinds = []Kind{VXLAN, VXLANLinux, GENEVE, GREIP, GRETEB, ERSPAN2, ERSPAN3, MPLS, PPPoE, VLAN9100, IPinIP, CMD, GRECMD, WCCP, MACsec, Radiotap, Dot11, GTP, GTP5G, TZSP, CAPWAP, CAPWAPStd}

// LinkType is the link type of the wrapped frames.
func (k Kind) LinkType() layers.LinkType {
	switch k {
	case Radiotap:
		return layers.LinkTypeIEEE80211Radio
	case Dot11:
		return layers.LinkTypeIEEE802_11
	}
	return layers.LinkTypeEthernet
}

// DecodeAs is what tshark must be told to read the encapsulation (its
// -d option), if anything.
func (k Kind) DecodeAs() []string {
	switch k {
	case VXLANLinux:
		return []string{"-d", "udp.port==8472,vxlan"}
	case CAPWAPStd:
		return []string{"-o", "capwap.swap_fc:FALSE"}
	}
	return nil
}

// HasOuterIP reports whether the encapsulation runs over IP (so has an
// IPv4 and an IPv6 form).
func (k Kind) HasOuterIP() bool {
	switch k {
	case MPLS, PPPoE, VLAN9100, CMD, MACsec, Radiotap, Dot11:
		return false
	}
	return true
}

// Outer addresses of the tunnels.
var (
	Outer4 = [2]netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")}
	Outer6 = [2]netip.Addr{netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")}
)

// Wrapper wraps frames of one capture.
type Wrapper struct {
	Kind   Kind
	Outer6 bool // the outer IP header is IPv6
	seq    uint32
}

// Wrap returns frame, an Ethernet II frame (optionally 802.1Q tagged),
// inside the encapsulation.
func (w *Wrapper) Wrap(frame []byte) ([]byte, error) {
	if len(frame) < 14 {
		return nil, fmt.Errorf("encap: frame of %d bytes is not Ethernet", len(frame))
	}
	et := binary.BigEndian.Uint16(frame[12:])
	ip := frame[14:]
	if et == 0x8100 && len(frame) >= 18 {
		et, ip = binary.BigEndian.Uint16(frame[16:]), frame[18:]
	}
	w.seq++
	switch w.Kind {
	case None:
		return frame, nil
	case VXLAN:
		return w.udp(4789, cat([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, frame)), nil
	case VXLANLinux:
		return w.udp(8472, cat([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, frame)), nil
	case GTP:
		return w.udp(2152, cat([]byte{0x30, 0xff, byte(len(ip) >> 8), byte(len(ip)), 0, 0, 0, 42}, ip)), nil
	case GTP5G:
		n := 8 + len(ip)
		// Sequence number 0, N-PDU number 0, next: a PDU Session
		// Container (0x85) of 4 bytes: UL PDU session information, QFI 9.
		h := []byte{0x34, 0xff, byte(n >> 8), byte(n), 0, 0, 0, 42, 0, 0, 0, 0x85, 1, 0x10, 9, 0}
		return w.udp(2152, cat(h, ip)), nil
	case TZSP:
		return w.udp(37008, cat([]byte{1, 0, 0, 1, 0, 1}, frame)), nil
	case CAPWAP, CAPWAPStd:
		f := w.wifi(frame[:12], et, ip)
		if w.Kind == CAPWAP {
			f[0], f[1] = f[1], f[0]
		}
		// Preamble (version 0, type 0), HLEN 2 words, RID 0, WBID 1
		// (802.11), T (native frame); no fragment.
		return w.udp(5247, cat([]byte{0, 0x10, 0x03, 0, 0, 0, 0, 0}, f)), nil
	case GENEVE:
		return w.udp(6081, cat([]byte{0, 0, 0x65, 0x58, 0, 0, 42, 0}, frame)), nil
	case GRETEB:
		return w.ip(47, cat([]byte{0, 0, 0x65, 0x58}, frame)), nil
	case GREIP:
		h := []byte{0x20, 0, byte(et >> 8), byte(et), 0, 0, 0, 7}
		return w.ip(47, cat(h, ip)), nil
	case ERSPAN2:
		gre := binary.BigEndian.AppendUint32([]byte{0x10, 0, 0x88, 0xbe}, w.seq)
		// Version 1, VLAN 0; COS 0, En 0, T 0, session 5; index 0.
		return w.ip(47, cat(gre, []byte{0x10, 0, 0, 5, 0, 0, 0, 0}, frame)), nil
	case ERSPAN3:
		gre := binary.BigEndian.AppendUint32([]byte{0x10, 0, 0x22, 0xeb}, w.seq)
		// Version 2, VLAN 0; session 5; timestamp; SGT 0; P/FT/HW ID/D/Gra/O all 0 (FT 0: Ethernet).
		h := []byte{0x20, 0, 0, 5}
		h = binary.BigEndian.AppendUint32(h, w.seq*1000)
		h = append(h, 0, 0, 0, 0)
		return w.ip(47, cat(gre, h, frame)), nil
	case MPLS:
		return cat([]byte(outerMAC), []byte{0x88, 0x47, 0x00, 0x06, 0x40, 0x40, 0x00, 0x0c, 0x81, 0x40}, ip), nil
	case PPPoE:
		proto := []byte{0x00, 0x21}
		if et == 0x86dd {
			proto = []byte{0x00, 0x57}
		}
		n := len(ip) + 2
		h := []byte{0x88, 0x64, 0x11, 0x00, 0x12, 0x34, byte(n >> 8), byte(n)}
		return cat([]byte(outerMAC), h, proto, ip), nil
	case VLAN9100:
		return cat([]byte(outerMAC), []byte{0x91, 0x00, 0x00, 10, 0x81, 0x00, 0x00, 20, byte(et >> 8), byte(et)}, ip), nil
	case IPinIP:
		proto := byte(4)
		if et == 0x86dd {
			proto = 41
		}
		return w.ip(proto, ip), nil
	case CMD:
		// Version 1, length 1, option 1 (the SGT), SGT 100.
		return cat(frame[:12], []byte{0x89, 0x09, 1, 1, 0, 1, 0, 100}, frame[12:]), nil
	case WCCP:
		return w.ip(47, cat([]byte{0, 0, 0x88, 0x3e, 0, 0, 0, 72}, ip)), nil
	case GRECMD:
		return w.ip(47, cat([]byte{0, 0, 0x89, 0x09, byte(et >> 8), byte(et), 1, 1, 0, 1, 0, 100}, ip)), nil
	case MACsec:
		user := frame[12:] // the EtherType (or the VLAN tag) and the rest
		sl := byte(0)      // the short length, for user data under 48 bytes
		if len(user) < 48 {
			sl = byte(len(user))
		}
		tag := binary.BigEndian.AppendUint32([]byte{0x88, 0xe5, 0x20, sl}, w.seq)
		sci := cat(frame[6:12], []byte{0, 1}) // the sender's address, port 1
		return cat(frame[:12], tag, sci, user, make([]byte, 16)), nil
	case Radiotap, Dot11:
		return w.wifi(frame[:12], et, ip), nil
	}
	return nil, fmt.Errorf("encap: unknown encapsulation %q", w.Kind)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// udp wraps payload in UDP to port dst (source port fixed, checksum 0:
// RFC 6935 allows it for tunnels over IPv6 too) and IP.
func (w *Wrapper) udp(dst uint16, payload []byte) []byte {
	n := 8 + len(payload)
	h := []byte{0xc0, 0x00, byte(dst >> 8), byte(dst), byte(n >> 8), byte(n), 0, 0}
	return w.ip(17, cat(h, payload))
}

// ip wraps payload in an outer IPv4 or IPv6 header and Ethernet.
func (w *Wrapper) ip(proto byte, payload []byte) []byte {
	if w.Outer6 {
		n := len(payload)
		h := []byte{0x60, 0, 0, 0, byte(n >> 8), byte(n), proto, 64}
		s, d := Outer6[0].As16(), Outer6[1].As16()
		h = cat(h, s[:], d[:])
		return cat([]byte(outerMAC), []byte{0x86, 0xdd}, h, payload)
	}
	n := 20 + len(payload)
	s, d := Outer4[0].As4(), Outer4[1].As4()
	h := cat([]byte{0x45, 0, byte(n >> 8), byte(n), byte(w.seq >> 8), byte(w.seq), 0x40, 0, 64, proto, 0, 0}, s[:], d[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	return cat([]byte(outerMAC), []byte{0x08, 0x00}, h, payload)
}

// wifi returns the packet ip of EtherType et as an 802.11 data frame to
// an access point from the source of macs (an Ethernet frame's
// destination and source), with an LLC/SNAP header. Radiotap frames are
// QoS data behind a radiotap header of TSFT, Flags (FCS at the end, the
// 802.11 header padded to 4 bytes), Rate and Channel; plain 802.11
// frames alternate between data to an access point and data between
// access points (four addresses, no QoS).
func (w *Wrapper) wifi(macs []byte, et uint16, ip []byte) []byte {
	bssid := []byte{0x02, 0, 0, 0, 0, 0xaa}
	var h []byte
	switch {
	case w.Kind == Radiotap:
		h = []byte{0x88, 0x01, 0x2c, 0x00} // QoS data, to DS; duration
		h = cat(h, bssid, macs[6:12], macs[:6])
		h = binary.LittleEndian.AppendUint16(h, uint16(w.seq<<4))
		h = append(h, 0x00, 0x00, 0, 0) // QoS control (TID 0), then the padding to 28 bytes
	case w.seq%2 == 0:
		h = []byte{0x08, 0x03, 0x2c, 0x00} // data, to and from DS
		h = cat(h, bssid, []byte{0x02, 0, 0, 0, 0, 0xbb}, macs[:6])
		h = binary.LittleEndian.AppendUint16(h, uint16(w.seq<<4))
		h = append(h, macs[6:12]...)
	default:
		h = []byte{0x08, 0x01, 0x2c, 0x00} // data, to DS
		h = cat(h, bssid, macs[6:12], macs[:6])
		h = binary.LittleEndian.AppendUint16(h, uint16(w.seq<<4))
	}
	frame := cat(h, []byte{0xaa, 0xaa, 0x03, 0, 0, 0, byte(et >> 8), byte(et)}, ip)
	if w.Kind != Radiotap {
		return frame
	}
	frame = binary.LittleEndian.AppendUint32(frame, crc32.ChecksumIEEE(frame))
	rt := []byte{0, 0, 24, 0, 0x0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	rt = binary.LittleEndian.AppendUint64(rt[:8], uint64(w.seq)*1000)
	// Flags: FCS at the end, data padding; rate 24 Mbit/s; channel 1
	// (2412 MHz, 2 GHz OFDM); then padding to 24 bytes.
	rt = append(rt, 0x30, 48, 0x6c, 0x09, 0xc0, 0x00, 0, 0)
	return cat(rt, frame)
}

// Capture wraps every frame of a pcap capture of Ethernet frames read
// from r and writes the result, a pcap of the kind's link type, to out. Frame
// numbers and timestamps are kept.
func (w *Wrapper) Capture(r io.Reader, out io.Writer) error {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return fmt.Errorf("encap: %w", err)
	}
	if pr.LinkType() != layers.LinkTypeEthernet {
		return fmt.Errorf("encap: link type %s, want Ethernet", pr.LinkType())
	}
	pw := pcapgo.NewWriterNanos(out)
	if err := pw.WriteFileHeader(262144, w.Kind.LinkType()); err != nil {
		return fmt.Errorf("encap: %w", err)
	}
	for {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("encap: %w", err)
		}
		if ci.CaptureLength < ci.Length {
			return fmt.Errorf("encap: frame cut by the snap length")
		}
		frames := [][]byte{data}
		if w.Kind == Frag6 {
			w.seq++
			frames = Fragment6(data, 400, w.seq)
		} else {
			wrapped, err := w.Wrap(data)
			if err != nil {
				return err
			}
			frames[0] = wrapped
		}
		for _, f := range frames {
			ci.CaptureLength, ci.Length = len(f), len(f)
			if err := pw.WritePacket(ci, f); err != nil {
				return fmt.Errorf("encap: %w", err)
			}
		}
	}
}

// Fragment6 splits the IPv6 packet in an Ethernet frame (without
// extension headers) into fragments of at most size payload bytes (RFC
// 8200, Section 4.5), with identification id, as a sender whose path MTU
// is small would. Other frames come back unchanged.
func Fragment6(frame []byte, size int, id uint32) [][]byte {
	if len(frame) < 54 || binary.BigEndian.Uint16(frame[12:]) != 0x86dd {
		return [][]byte{frame}
	}
	hdr, payload := frame[14:54], frame[54:14+40+int(binary.BigEndian.Uint16(frame[18:]))]
	if len(payload) <= size {
		return [][]byte{frame}
	}
	size &^= 7
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		more := uint16(0)
		if end < len(payload) {
			more = 1
		}
		h := append([]byte(nil), hdr...)
		binary.BigEndian.PutUint16(h[4:], uint16(8+end-off))
		next := h[6]
		h[6] = 44
		fh := []byte{next, 0, 0, 0}
		binary.BigEndian.PutUint16(fh[2:], uint16(off)|more)
		fh = binary.BigEndian.AppendUint32(fh, id)
		out = append(out, cat(frame[:14], h, fh, payload[off:end]))
	}
	return out
}
