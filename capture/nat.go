package capture

import "net/netip"

// A capture on several interfaces of a host that translates addresses (a
// Docker host publishing a container's port: DNAT, then MASQUERADE into
// the bridge) holds each packet of a connection under two or three pairs
// of addresses: the client's link before the NAT, the bridge and the
// container's veth after it, and, with br_netfilter, the bridge's own
// receive path half-way, the destination translated back and the source
// not yet. Left apart, one connection reads as two or three, one of which
// holds a single direction ("the capture holds the server's packets
// only").
//
// A NAT changes addresses and ports and nothing the print of copies.go
// holds besides: the sequence and acknowledgment numbers, the IP ID and
// the flags stay. natBook remembers the SYNs and SYN-ACKs of a capture on
// several interfaces; one that repeats another captured on another
// interface within maxCopyDelay under other addresses marks its addresses
// as an alias of those seen first, and from then on every segment under
// the alias is read under the addresses seen first, so the copies.go
// check drops it as the copy it is. Only handshakes are remembered, so the
// segments other than SYNs cost one look at an empty map until a NAT is
// seen; a connection whose handshake the capture missed stays apart.

// natBookSize bounds the SYNs remembered, and natAliasSize the
// connections whose other addresses are remembered.
const (
	natBookSize  = 4096
	natAliasSize = 1 << 16
)

// natPair is a segment's addresses, source first.
type natPair struct{ src, dst netip.AddrPort }

// natPrint identifies a SYN or SYN-ACK whatever its addresses.
type natPrint struct {
	seq, ack uint32
	length   int32
	ipID     uint16
	synACK   bool
	v6       bool
}

type natSeen struct {
	pair  natPair // the addresses it was read under
	iface uint64
	ns    int64
}

// natBook tells the addresses of a connection seen on both sides of a NAT.
type natBook struct {
	seen fifoMap[natPrint, natSeen]
	// aliases maps the addresses of segments past the NAT to those
	// their connection is read under.
	aliases fifoMap[natPair, natPair]
	targets map[natPair]bool // the connections found, by the addresses they are read under
	// Conns counts the connections found under other addresses, Copies
	// the segments read under the addresses seen first; Example is the
	// first connection found so: its addresses after the NAT, then
	// those it is read under.
	Conns, Copies int64
	Example       [2]natPair
}

// wants reports whether see has anything to do with s: a SYN, or any
// segment once a NAT was found. (A check the compiler inlines: the
// other segments of a capture without a NAT cost no call.)
func (b *natBook) wants(s *Segment) bool { return s.SYN || b.aliases.len() > 0 }

func newNATBook() natBook {
	return natBook{seen: newFIFOMap[natPrint, natSeen](natBookSize), aliases: newFIFOMap[natPair, natPair](natAliasSize)}
}

// see reads s, captured at ns, under the addresses its connection was
// first seen with, and reports whether s is a copy to drop. In a capture
// that does not say which interface saw a packet (pcap, Linux cooked v1;
// s.Interface 0) every segment under other addresses than those seen
// first is dropped: copies.go cannot tell it from a retransmission, and
// dumpcap's batches put a whole connection of one interface before the
// first copy of the other's, so the connection is read as seen on the
// side whose packets came first. In one that says, the segment is read
// under the first addresses and copies.go drops it when it repeats one.
func (b *natBook) see(s *Segment, ns int64) (drop bool) {
	pair := natPair{s.Src, s.Dst}
	var to natPair
	aliased := false
	if b.aliases.len() > 0 {
		to, aliased = b.aliases.get(pair)
	}
	if s.SYN && !s.RST {
		b.syn(s, ns, pair, &to, &aliased)
	}
	if !aliased {
		return false
	}
	b.Copies++
	if s.Interface == 0 {
		return true
	}
	s.Src, s.Dst = to.src, to.dst
	return false
}

// syn checks the SYN or SYN-ACK s against those remembered, and
// remembers it.
func (b *natBook) syn(s *Segment, ns int64, pair natPair, to *natPair, aliased *bool) {
	p := natPrint{seq: s.Seq, ack: s.Ack, length: int32(len(s.Payload) + s.Missing), ipID: s.IP.ID, synACK: s.ACK, v6: s.IP.V6}
	cur := pair
	if *aliased {
		cur = *to
	}
	e, ok := b.seen.get(p)
	// Where the capture does not say the interface (both 0), other
	// addresses are what tell a copy from a retransmission.
	if ok && (e.iface != s.Interface || s.Interface == 0) && ns-e.ns <= maxCopyDelay && e.ns-ns <= maxCopyDelay {
		if e.pair != cur && e.pair != (natPair{cur.dst, cur.src}) {
			if s.ACK { // a SYN-ACK: name the client first
				b.alias(natPair{pair.dst, pair.src}, natPair{e.pair.dst, e.pair.src})
			} else {
				b.alias(pair, e.pair)
			}
			*to, *aliased = b.aliases.get(pair)
		}
		return
	}
	if *aliased && !s.ACK {
		// A new connection on these addresses, no copy of another:
		// they stand for themselves again.
		b.aliases.delete(pair)
		b.aliases.delete(natPair{pair.dst, pair.src})
		*aliased = false
		cur = pair
	}
	b.seen.put(p, natSeen{pair: cur, iface: s.Interface, ns: ns})
}

// alias reads the segments under from, and those of the other direction,
// under the addresses to.
func (b *natBook) alias(from, to natPair) {
	if b.Conns == 0 {
		b.Example = [2]natPair{from, to}
	}
	if t := min2(to); !b.targets[t] {
		if b.targets == nil || len(b.targets) >= natAliasSize {
			b.targets = make(map[natPair]bool)
		}
		b.targets[t] = true
		b.Conns++
	}
	b.aliases.put(from, to)
	b.aliases.put(natPair{from.dst, from.src}, natPair{to.dst, to.src})
}

// min2 is p or its reverse, the same for both directions.
func min2(p natPair) natPair {
	if c := p.src.Compare(p.dst); c > 0 {
		return natPair{p.dst, p.src}
	}
	return p
}

// addTo writes what b found into st.
func (b *natBook) addTo(st *Stats) {
	st.NATConns, st.NATCopies = b.Conns, b.Copies
	if b.Conns > 0 {
		st.NATFrom = [2]netip.AddrPort{b.Example[0].src, b.Example[0].dst}
		st.NATTo = [2]netip.AddrPort{b.Example[1].src, b.Example[1].dst}
	}
}
