package capture

// A capture on several interfaces can hold each packet more than once: a
// Linux bridge under tcpdump -i any shows it on the port it came in by and
// on the one it left by; dumpcap (Wireshark) capturing two interfaces a
// packet crosses writes it for both, often a batch of one interface's
// packets before the other's. Left in, every copy reads as a
// retransmission ("8 SYNs" for 4, twice the retransmissions), and a copy
// written after its connection closed reads as the same connection again.
//
// The Assembler drops a segment that repeats one it kept in the last
// copyBookSize segments, from another interface, within maxCopyDelay of
// it: the same connection, direction, IP ID and TCP sequence, ack, flags
// and length. A retransmission leaves by the interface the original did,
// and no sooner than 10 ms after it; a copy is the same packet, seen
// microseconds apart. Only captures that can tell interfaces apart are
// checked (Segment.Interface not 0): a pcapng file describing several, and
// Linux cooked v2 headers, which carry the interface index.

// maxCopyDelay bounds the time between a packet and its copy on another
// interface: a bridge or router forwards in microseconds, and a sender
// retransmits no sooner than 10 ms (Linux's shortest tail-loss probe).
const maxCopyDelay = 5e6 // 5 ms, in ns

// copyBookSize bounds the segments remembered: a few of dumpcap's batches.
const copyBookSize = 4096

// copyBook remembers the last segments kept of a capture on several
// interfaces.
type copyBook struct {
	seen fifoMap[segPrint, copySeen]
}

func newCopyBook() copyBook {
	return copyBook{seen: newFIFOMap[segPrint, copySeen](copyBookSize)}
}

// segPrint identifies a segment among those of its connection and
// direction sent moments apart.
type segPrint struct {
	conn     tombKey
	seq, ack uint32
	length   int32 // payload bytes, captured or not
	ipID     uint16
	flags    uint8 // SYN, ACK, FIN, RST and the direction
}

type copySeen struct {
	iface    uint64
	copiedTo uint64 // the interface a copy was last dropped for
	ns       int64  // capture time
}

// isCopy reports whether s, captured at ns, copies a segment kept moments
// before from another interface; if not, it remembers s.
func (b *copyBook) isCopy(key *connKey, srcLow bool, s *Segment, ns int64) bool {
	p := segPrint{conn: key.tomb(), seq: s.Seq, ack: s.Ack, length: int32(len(s.Payload) + s.Missing), ipID: s.IP.ID}
	for i, set := range [...]bool{s.SYN, s.ACK, s.FIN, s.RST, srcLow} {
		if set {
			p.flags |= 1 << i
		}
	}
	if e, ok := b.seen.get(p); ok && e.iface != s.Interface && e.copiedTo != s.Interface &&
		ns-e.ns <= maxCopyDelay && e.ns-ns <= maxCopyDelay {
		e.copiedTo = s.Interface
		b.seen.replace(p, e)
		return true
	}
	b.seen.put(p, copySeen{iface: s.Interface, ns: ns})
	return false
}
