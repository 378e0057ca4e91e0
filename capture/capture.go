// Package capture turns captured packets into complete, ordered TCP byte
// streams, one per direction, with the frame that carried every byte.
//
// A Source yields link-layer frames (from a pcap/pcapng file, stdin or a live
// interface); Run numbers them exactly as Wireshark does (1-based, every frame
// in the file counts), decodes Ethernet/VLAN/SLL/SLL2/raw/loopback, IPv4 (with
// fragment reassembly) and IPv6, and reassembles TCP. The consumer sees each
// connection through the Stream interface: in-order payload bytes exactly
// once, gaps where bytes never arrived, TCP events (SYN, RST, FIN, …), and a
// single Close. Time comes from packet timestamps, never from the clock.
package capture

import (
	"net/netip"
	"strconv"
	"time"
)

// Frame identifies one captured frame: its 1-based number in the capture
// (Wireshark's frame.number) and its timestamp.
type Frame struct {
	Number int64
	Time   time.Time
}

// Direction says which end of a connection sent a segment.
type Direction uint8

const (
	ClientToServer Direction = iota
	ServerToClient
)

func (d Direction) String() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return 1 - d }

// Conn describes a TCP connection as capture first saw it.
//
// Client is the end that sent the SYN. When the SYN was not captured
// (ClientKnown is false) Client is the sender of the first captured segment,
// and the consumer may decide otherwise from content (e.g. a ClientHello).
type Conn struct {
	Client, Server netip.AddrPort
	ClientKnown    bool  // the SYN or SYN-ACK was captured
	First          Frame // the first frame of the connection
	// ISN is the client's initial sequence number, when ClientKnown: with
	// the addresses, it tells one connection from another in two captures
	// of the same path.
	ISN uint32
	// Tunnel is the encapsulation the first frame came in (Type
	// TunnelNone for none); Client and Server are the inner addresses.
	Tunnel Tunnel
}

// EventKind is a TCP-level fact about a connection.
type EventKind uint8

const (
	EventSYN            EventKind = iota + 1 // connection attempt (also each SYN retransmission)
	EventSYNACK                              // the server accepted
	EventFIN                                 // the sender closed its direction
	EventRST                                 // the sender reset the connection
	EventRetransmission                      // a segment repeated bytes already received (delivered, or buffered out of order), or a FIN already reached (Seg.Len 0)
	EventZeroWindow                          // the sender advertised a zero receive window
	EventConflict                            // a retransmission carried different bytes than the original; the original was kept
	EventSnapCut                             // the frame was cut by the snap length: the Gap that follows in this frame is the bytes it cut
	EventUnseen                              // no packet of the direction was captured: the Gap that follows is the bytes the peer acknowledged (a capture of one direction)
	EventClockBack                           // the frame's timestamp is Behind the latest of the capture before it: the capture's clock stepped back
	EventICMP                                // an ICMP error about a packet Dir sent: ICMP says what (the frame is the error's, not the connection's)
	EventStaleACK                            // the server answered the SYN with an ACK of an older connection between the same ports, which it still held (a challenge ACK)
	EventStaleReset                          // the client reset that older connection (its reset of the stale ACK); its own connection goes on opening
)

var eventNames = [...]string{
	EventSYN: "syn", EventSYNACK: "syn_ack", EventFIN: "fin", EventRST: "rst",
	EventRetransmission: "retransmission", EventZeroWindow: "zero_window", EventConflict: "conflict", EventSnapCut: "snap_cut",
	EventUnseen: "unseen", EventClockBack: "clock_back", EventICMP: "icmp", EventStaleACK: "stale_ack", EventStaleReset: "stale_reset",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is a TCP-level event on one direction of a connection.
type Event struct {
	Kind  EventKind
	Dir   Direction
	Frame Frame
	// Snap is the frame's captured length, for EventSnapCut: the snap
	// length of the capture.
	Snap int
	// Behind is, for EventClockBack, how much earlier the frame is
	// timestamped than the latest frame of the capture before it.
	Behind time.Duration
	// Seg describes the segment behind EventSYN, EventSYNACK, EventRST,
	// EventRetransmission, EventStaleACK and EventStaleReset; it is zero
	// for the other kinds.
	Seg SegmentFacts
	// Payload is what an EventRST's segment carried, valid only during the
	// call: RFC 1122 (4.2.2.12) lets a RST carry text saying why, and F5
	// BIG-IP load balancers write their reason there.
	Payload []byte
	// ICMP is the error of an EventICMP.
	ICMP *ICMPError
}

// SegmentFacts are the header fields of one segment that tell who sent it
// and where it sits in its direction's stream.
type SegmentFacts struct {
	IP     IPHeader
	Window uint16
	// Offset is the stream offset of the segment's first payload byte (0
	// is the first byte after the SYN, or the first byte captured when the
	// SYN was not); Len is its payload length.
	Offset int64
	Len    int
}

// CloseReason says why a connection's stream ended.
type CloseReason uint8

const (
	ClosedFIN     CloseReason = iota + 1 // both directions sent FIN (or one FIN and the capture ended)
	ClosedRST                            // a RST ended the connection
	ClosedIdle                           // no packet for Options.IdleTimeout of capture time
	ClosedEOF                            // the capture ended with the connection open
	ClosedEvicted                        // dropped to respect Options.MaxConnections
	ClosedReused                         // a SYN with a new initial sequence number started another connection on the same 4-tuple
)

var closeNames = [...]string{
	ClosedFIN: "fin", ClosedRST: "rst", ClosedIdle: "idle", ClosedEOF: "eof", ClosedEvicted: "evicted", ClosedReused: "reused",
}

func (r CloseReason) String() string {
	if int(r) < len(closeNames) && closeNames[r] != "" {
		return closeNames[r]
	}
	return "close(" + strconv.Itoa(int(r)) + ")"
}

// Stream receives one connection's traffic. Calls for one connection are
// never concurrent and are made as the capture is read, so the frames they
// carry need not increase: bytes that waited for a hole the capture
// declared lost come with the (earlier) frame that carried them, and a FIN
// with the frame of the FIN.
type Stream interface {
	// Data delivers the next in-order payload bytes of dir, carried by frame
	// f; bytes that waited for a hole to fill come with the frame that
	// filled it, where Wireshark shows what they complete. Every byte is
	// delivered exactly once. b is only valid during the call: copy what
	// you keep.
	Data(dir Direction, b []byte, f Frame)
	// Gap reports that n bytes of dir were never captured and will never be
	// delivered; the next Data call continues after them. f is the frame
	// whose arrival (or the flush) proved the loss.
	Gap(dir Direction, n int, f Frame)
	// Event reports a TCP-level event.
	Event(ev Event)
	// Close is called exactly once, after the last other call. last is
	// the connection's last frame; closedBy the number of the frame by
	// which the capture closed it, the same however the capture is split
	// (RunSharded): the frame that closed it (a FIN, a RST, a new SYN),
	// the first frame whose time is past its idle or reset deadline, the
	// 4,097th frame after a reset one's last, or math.MaxInt64 at the
	// capture's end.
	Close(reason CloseReason, last Frame, closedBy int64)
}

// AckObserver is implemented by a Stream that wants to know how far each
// direction's bytes were acknowledged by the other side: bytes sent and
// retransmitted but never acknowledged did not arrive, whatever the
// capture shows. Acked is called at most once per direction, before Close,
// with the stream offset up to which (exclusive) the peer acknowledged
// dir's bytes and the frame that first acknowledged that far.
type AckObserver interface {
	Acked(dir Direction, offset int64, f Frame)
}

// FirstAckObserver is implemented by a Stream that wants to know when the
// peer first acknowledged any of a direction's bytes: FirstAcked is called
// at most once per direction, at that acknowledgment, with the stream
// offset up to which (exclusive) it acknowledged them and its frame.
type FirstAckObserver interface {
	FirstAcked(dir Direction, offset int64, f Frame)
}

// Handler creates a Stream for every new connection.
type Handler interface {
	Open(c Conn) Stream
}

// EndObserver is implemented by a Handler that wants to know where the
// capture ended: when the capture is over, before the connections still
// open are closed (ClosedEOF, or ClosedFIN and ClosedRST for those that
// were ending), CaptureEnd is called once with the number of the last
// frame and the latest frame time. A connection that went quiet long
// before it did not stop because the capture stopped.
type EndObserver interface {
	CaptureEnd(last Frame)
}
