package capture

import (
	"net/netip"
	"time"
)

// Defaults for Options fields left zero.
const (
	// DefaultIdleTimeout ends a connection after two minutes of capture
	// time without a packet.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxConnections keeps the assembler's own state under ~5 MiB
	// (about 300 bytes a connection with the map), so that with what the
	// Streams keep a whole read stays within 64 MiB even under a SYN
	// flood.
	DefaultMaxConnections = 16_384
	// DefaultMaxBufferedBytesPerConn bounds the out-of-order bytes one
	// connection (both directions) may hold while waiting for a hole to
	// fill: a few round trips at a typical window.
	DefaultMaxBufferedBytesPerConn = 256 << 10
	// DefaultMaxBufferedBytes bounds the out-of-order bytes of all
	// connections together: 64 connections with full buffers at once.
	DefaultMaxBufferedBytes = 16 << 20
)

// tombstoneTTL is how long a closed connection's 4-tuple keeps absorbing
// stray segments (the last ACK, retransmitted FINs, RSTs). Linux keeps a
// closed socket in TIME_WAIT for 60 s.
const tombstoneTTL = 60 * time.Second

// tombstonesPerConnection bounds the set of recently closed 4-tuples
// (~40 bytes each) by Options.MaxConnections: 65,536 by default, and the
// shards of a capture divide them as they divide the connections.
const tombstonesPerConnection = 4

// Options tune Run and the Assembler. The zero value means every default.
type Options struct {
	// IdleTimeout ends (ClosedIdle) a connection that saw no packet for
	// this much capture time. Zero means DefaultIdleTimeout; negative
	// means never.
	IdleTimeout time.Duration
	// MaxConnections is the most connections tracked at once; beyond it
	// the one idle the longest is closed (ClosedEvicted). Zero means
	// DefaultMaxConnections.
	MaxConnections int
	// MaxBufferedBytesPerConn and MaxBufferedBytes bound the out-of-order
	// bytes held per connection and in total. When a segment would exceed
	// either, the connection's oldest hole is declared lost (a Gap) and
	// the bytes after it are delivered, so nothing captured is dropped.
	// Zero means DefaultMaxBufferedBytesPerConn / DefaultMaxBufferedBytes.
	MaxBufferedBytesPerConn int
	MaxBufferedBytes        int
}

func (o Options) withDefaults() Options {
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxBufferedBytesPerConn <= 0 {
		o.MaxBufferedBytesPerConn = DefaultMaxBufferedBytesPerConn
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	return o
}

// Stats counts what Run and the Assembler saw. Every frame is counted in
// Frames and in at most one of NonIP, NonTCP, Malformed, IPv4Fragments
// (while held) and IPv6Fragments, or else it is a TCP segment.
type Stats struct {
	Frames    int64     // frames read: the number of the last frame
	Start     time.Time // timestamp of frame 1: Wireshark's relative times count from it
	Bytes     int64     // captured bytes of all frames
	Truncated int64     // frames cut short by the snap length

	NonIP  int64 // frames without IPv4 or IPv6 (ARP, LLDP, …)
	NonTCP int64 // IP packets that are not TCP (UDP, ICMP, …)
	UDP    int64 // … of which UDP datagrams (handed to a DatagramHandler)
	// UDPCut counts the UDP datagrams whose payload the snap length cut,
	// UDPCutBytes the payload bytes cut (a QUIC packet cut so cannot be
	// decrypted).
	UDPCut, UDPCutBytes int64
	Malformed           int64 // frames whose headers could not be decoded
	// Skipped counts the frames not decoded, by why: an interface of a
	// link type not decoded, an encapsulation whose payload is not.
	Skipped map[Skip]int64

	IPv4Fragments        int64 // IPv4 fragments seen
	IPv4Reassembled      int64 // datagrams reassembled from them
	IPv4FragmentsDropped int64 // fragments given up (overlap, timeout, memory bound)
	IPv6Fragments        int64 // IPv6 fragments seen
	IPv6Reassembled      int64 // datagrams reassembled from them
	IPv6FragmentsDropped int64 // fragments given up (overlap, timeout, memory bound)

	// ICMPErrors counts the ICMP errors about a TCP segment or a UDP
	// datagram (counted in NonTCP too); ICMPUnmatched those about a
	// connection the capture does not hold open (before its start, after
	// its end) or a datagram nobody wanted.
	ICMPErrors, ICMPUnmatched int64

	Segments       int64 // TCP segments
	PayloadBytes   int64 // TCP payload bytes captured
	DeliveredBytes int64 // bytes passed to Stream.Data (each stream byte once)

	ConnsOpened  int64 // connections opened (Handler.Open calls)
	ConnsClosed  int64 // connections closed (Stream.Close calls), whatever the reason
	ConnsIdle    int64 // … of which for IdleTimeout
	ConnsEvicted int64 // … of which for MaxConnections
	ConnsReused  int64 // … of which because a new SYN took the 4-tuple
	AfterClose   int64 // segments of a just-closed connection ignored (final ACKs, retransmitted FINs, RSTs)
	// InterfaceCopies counts segments dropped as copies of one just kept
	// that another interface captured (a bridge under tcpdump -i any sees
	// each packet on the port it came in by and the one it left by).
	InterfaceCopies int64
	// NATConns counts the connections a capture on several interfaces
	// holds under two or more pairs of addresses, before and after a
	// NAT between the interfaces (nat.go): each is read as one, under
	// the addresses it was seen with first, and NATCopies counts the
	// segments read so. NATFrom is the first such connection's client
	// and server after the NAT, NATTo the addresses it is read under.
	NATConns, NATCopies int64
	NATFrom, NATTo      [2]netip.AddrPort
	// RecordedDrops is the number of packets the capture file says the
	// capturing tool dropped (pcapng interface statistics, as dumpcap
	// writes them); 0 when it says none, or nothing.
	RecordedDrops int64
	// JoinedFiles is the number of pcap files a capture file holds
	// joined to its end, each with its own file header (cat a.pcap
	// b.pcap > c.pcap): their records are read on as one capture.
	JoinedFiles int64
	// ClockSteps counts the frames timestamped earlier than the frame
	// before them: the capture's clock stepped back (an NTP step while
	// capturing, files of two hosts joined with mergecap -a, frames of
	// several NIC queues written out of order). ClockStepMax is the
	// largest step and ClockStepMaxFrame the first frame that stepped
	// back that far: interfaces and NIC queues step back by micro- to
	// milliseconds again and again, so the first step is often not the
	// one that matters.
	ClockSteps        int64
	ClockStepMax      time.Duration
	ClockStepMaxFrame int64

	OutOfOrderSegments int64 // segments buffered until a hole filled
	OutOfOrderBytes    int64 // bytes buffered
	MaxBuffered        int64 // the most out-of-order bytes held at once
	CapGaps            int64 // holes declared lost early because a buffer bound was hit
	CapGapBytes        int64 // their size
	SnapGaps           int64 // holes of bytes cut off by the snap length (counted in Gaps too)
	SnapGapBytes       int64 // their size

	Gaps               int64 // Stream.Gap calls (including CapGaps)
	GapBytes           int64 // bytes never captured
	Retransmissions    int64 // segments repeating bytes already received
	RetransmittedBytes int64 // the repeated bytes
	Conflicts          int64 // segments whose repeated bytes differed from the original
	KeepAlives         int64 // keep-alives and window probes (one byte below the next sequence number)
}

// clock notes frame n's timestamp t, after prev, the previous frame's:
// a step back is counted. Frames without a timestamp are not.
func (st *Stats) clock(n int64, t time.Time, prev *time.Time) {
	if t.IsZero() {
		return
	}
	if !prev.IsZero() && t.Before(*prev) {
		st.ClockSteps++
		if step := prev.Sub(t); step > st.ClockStepMax {
			st.ClockStepMax, st.ClockStepMaxFrame = step, n
		}
	}
	*prev = t
}

// interfaceCopy counts segment s, dropped as a copy another interface
// (or the other side of a NAT) already gave.
func (st *Stats) interfaceCopy(s *Segment) {
	st.Segments++
	st.PayloadBytes += int64(len(s.Payload))
	st.InterfaceCopies++
}

// skipped counts a skipped frame.
func (st *Stats) skipped(k Skip) {
	if st.Skipped == nil {
		st.Skipped = make(map[Skip]int64)
	}
	if _, ok := st.Skipped[k]; !ok && len(st.Skipped) >= maxSkipKinds {
		k.What = "other"
	}
	st.Skipped[k]++
}
