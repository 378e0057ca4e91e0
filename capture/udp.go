package capture

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// DatagramHandler is a Handler that also wants the UDP datagrams of the
// capture (QUIC). Run and RunSharded hand it every UDP datagram, in frame
// order for each pair of addresses (RunSharded deals them out by
// addresses, as TCP connections), and call EndDatagrams once, after the
// last, when the capture ends.
type DatagramHandler interface {
	Handler
	// Datagram delivers one datagram's payload, valid only during the
	// call.
	Datagram(src, dst netip.AddrPort, payload []byte, f Frame)
	EndDatagrams()
}

// An Expirer is a DatagramHandler whose connections end by the capture
// clock, as QUIC's do when idle. The Assembler calls Expire each time its
// clock moves on, with the new time, before it hands on the frame that
// moved it, as it ends its own idle TCP connections: the handler ends the
// connections whose deadline now is past. closedBy gives, for a deadline,
// the frame whose time passed it, the same however the capture is split
// (Stream.Close's closedBy); Progress(n) promises the connections closed
// by frame n were ended, as it does for TCP. A shard's clock moves at its
// own frames and at the end of each block of frames, and closedBy finds
// the frame in the block all the same.
type Expirer interface {
	Expire(now time.Time, closedBy func(deadline time.Time) int64)
}

// udp fills seg with the UDP datagram the parser stopped at, if the
// frame's innermost packet is one (RFC 768: ports, length, checksum).
func (d *decoder) udp(seg *Segment) bool {
	t, ok := d.transport()
	if !ok {
		return false
	}
	if t.proto != layers.IPProtocolUDP {
		return false
	}
	return d.udpDatagram(seg, t.src, t.dst, t.payload)
}

// udpDatagram fills seg with the UDP datagram b (its header first) sent
// from src to dst, and reports whether it is one.
func (d *decoder) udpDatagram(seg *Segment, src, dst netip.Addr, b []byte) bool {
	if len(b) < 8 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < 8 {
		return false
	}
	payload := b[8:min(n, len(b))]
	if cut := n - 8 - len(payload); cut > 0 {
		d.stats.UDPCut++
		d.stats.UDPCutBytes += int64(cut)
	}
	*seg = Segment{
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:])),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:])),
		Payload: payload,
		Tunnel:  d.tunnel(),
		UDP:     true,
	}
	return true
}

// datagram hands a UDP datagram to the Handler, if it wants them, once
// the clock moved to its time, as for a TCP segment.
func (a *Assembler) datagram(seg *Segment, f Frame) {
	if a.dh == nil {
		return
	}
	a.advance(f.Time.UnixNano())
	a.dh.Datagram(seg.Src, seg.Dst, seg.Payload, f)
}
