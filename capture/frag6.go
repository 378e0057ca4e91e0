package capture

import (
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IPv6 fragment reassembly (RFC 8200, Section 4.5), on packet time and
// within the same bounds as IPv4's: fragTimeout of capture time and
// maxFragBytes held. gopacket's ip6defrag reads the wall clock, which
// would make a replay depend on how fast it is read.

// frag6Key identifies the fragments of one datagram.
type frag6Key struct {
	src, dst [16]byte
	id       uint32
}

type frag6Datagram struct {
	first  time.Time // the first fragment's capture time
	pieces []frag6Piece
	total  int // the datagram's payload length, once the last fragment came; -1 before
	next   layers.IPProtocol
	bytes  int
}

type frag6Piece struct {
	off  int
	data []byte
}

// fragment6 holds an IPv6 fragment, and when it completes a datagram
// decodes the TCP segment in it into seg. Overlapping fragments drop the
// datagram (RFC 5722).
func (d *decoder) fragment6(ts time.Time, seg *Segment) (frameKind, error) {
	st := d.stats
	st.IPv6Fragments++
	if d.frags6 == nil {
		d.frags6 = make(map[frag6Key]*frag6Datagram)
	}
	if ts.Sub(d.frag6Sweep) > fragTimeout || ts.Before(d.frag6Sweep) {
		for k, dg := range d.frags6 {
			if ts.Sub(dg.first) > fragTimeout {
				d.drop6(k, dg)
			}
		}
		d.frag6Sweep = ts
	}
	f := &d.frag6
	k := frag6Key{src: [16]byte(d.ip6.SrcIP), dst: [16]byte(d.ip6.DstIP), id: f.Identification}
	data := f.Payload
	off := int(f.FragmentOffset) * 8
	if d.frag6Bytes+len(data) > maxFragBytes {
		for k, dg := range d.frags6 {
			d.drop6(k, dg)
		}
	}
	dg := d.frags6[k]
	if dg == nil {
		dg = &frag6Datagram{first: ts, total: -1}
		d.frags6[k] = dg
	}
	end := off + len(data)
	overlaps := slices.ContainsFunc(dg.pieces, func(p frag6Piece) bool { return off < p.off+len(p.data) && p.off < end })
	switch {
	case overlaps, f.MoreFragments && len(data)%8 != 0, dg.total >= 0 && end > dg.total, !f.MoreFragments && dg.total >= 0:
		st.IPv6FragmentsDropped++
		d.drop6(k, dg)
		return kindFragment6, nil
	}
	if !f.MoreFragments {
		dg.total = end
	}
	if off == 0 {
		dg.next = f.NextHeader
	}
	dg.pieces = append(dg.pieces, frag6Piece{off: off, data: append([]byte(nil), data...)})
	dg.bytes += len(data)
	d.frag6Bytes += len(data)
	if dg.total < 0 || dg.bytes != dg.total {
		return kindFragment6, nil
	}
	// Complete: no overlap and as many bytes as the total means no hole.
	slices.SortFunc(dg.pieces, func(a, b frag6Piece) int { return a.off - b.off })
	buf := make([]byte, 0, dg.total)
	for _, p := range dg.pieces {
		buf = append(buf, p.data...)
	}
	next := dg.next
	delete(d.frags6, k)
	d.frag6Bytes -= dg.bytes
	st.IPv6Reassembled++
	if next == layers.IPProtocolUDP {
		// A DNS answer larger than the path's MTU (DNSSEC, EDNS0).
		if d.udpDatagram(seg, netip.AddrFrom16(k.src), netip.AddrFrom16(k.dst), buf) {
			return kindUDP, nil
		}
		return kindNonTCP, nil
	}
	if next != layers.IPProtocolTCP {
		return kindNonTCP, nil
	}
	if err := d.tcp.DecodeFromBytes(buf, gopacket.NilDecodeFeedback); err != nil {
		return kindMalformed, nil
	}
	seg.Src = netip.AddrPortFrom(netip.AddrFrom16(k.src), uint16(d.tcp.SrcPort))
	seg.Dst = netip.AddrPortFrom(netip.AddrFrom16(k.dst), uint16(d.tcp.DstPort))
	seg.IP = IPHeader{TTL: d.ip6.IPv6.HopLimit, DF: true, V6: true}
	d.fillTCP(seg, len(buf), buf)
	seg.Tunnel = d.tunnel()
	return kindTCP, nil
}

// drop6 forgets a datagram in progress; its fragments count as dropped.
func (d *decoder) drop6(k frag6Key, dg *frag6Datagram) {
	d.stats.IPv6FragmentsDropped += int64(len(dg.pieces))
	d.frag6Bytes -= dg.bytes
	delete(d.frags6, k)
}
