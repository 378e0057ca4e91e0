package analysis

import (
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// PathFacts are what the packet headers tell about the path between the
// two ends, beyond TCP's own events: which device a packet came from (its
// IP TTL and ID, its window), how far each side's bytes were acknowledged
// by the other, and which were sent again. A reset forged by a firewall,
// a hello dropped on the way and a path that swallows large segments are
// read from them.
type PathFacts struct {
	// SYN, SYNACK and RST are the first SYN, the SYN-ACK and the first RST
	// (its sender is TCP.RSTFrom); a zero Frame when not captured.
	SYN, SYNACK, RST Packet
	// Acked is, per direction, the stream offset up to which (exclusive)
	// the other side acknowledged that direction's bytes, and AckedFrame
	// the frame that first acknowledged that far; Acked is -1 when no
	// acknowledgment was seen (or, in live mode, the connection was
	// reported before it closed).
	Acked      [2]int64
	AckedFrame [2]capture.Frame
	// HelloAcked is the frame in which the server's end first acknowledged
	// all of the first ClientHello; zero when the capture shows no such
	// acknowledgment.
	HelloAcked capture.Frame
	// Resent lists, per direction, the payload segments sent again: one
	// entry per offset, the first maxResent offsets.
	Resent [2][]Resend
	// FINResent is, per direction, the FIN sent again (alone, without
	// bytes): its offset, first and last repeat and how many; zero
	// Count when it was not.
	FINResent [2]Resend
	// AfterGap is, per direction, the first frame whose bytes arrived
	// after the direction's first gap: a segment that passed where the
	// ones before it did not.
	AfterGap [2]capture.Frame
	// ICMP lists the ICMP errors about the connection's packets (a
	// firewall's REJECT, a router without a route, "fragmentation
	// needed"), the first MaxICMP of them, in frame order.
	ICMP []ICMPReport
	// Retry is, for a connection whose SYN got an ICMP error and no
	// SYN-ACK, the first TCP connection from the same client host to the
	// same server address and port that began after it and that the
	// server accepted (SYN-ACK): the client (or its user) tried again, from
	// the same source port or another, and got through. Reading a file
	// fills it (the connection is held until the capture's end); live
	// reading does not.
	Retry *Fallback
	// HelloStart and HelloEnd are the stream range of the client's first
	// ClientHello, its record header included (zero when none was seen);
	// HelloFirst is the frame that carried its first byte.
	HelloStart, HelloEnd int64
	HelloFirst           capture.Frame
	// StaleACK is the server's answer to the SYN with an acknowledgment of
	// an older connection between the same ports that it still held (a
	// challenge ACK, RFC 5961), and StaleReset the client's reset of it,
	// which ended that connection at the server; the client's SYN, sent
	// again, then opened this one (capture.EventStaleACK,
	// capture.EventStaleReset). Zero Frames when there was none.
	StaleACK, StaleReset capture.Frame
}

// Packet is one segment's header facts.
type Packet struct {
	Frame  capture.Frame
	IP     capture.IPHeader
	Window uint16
}

// Resend is a segment sent more than once: its stream offset and length,
// its first and last retransmission and how many retransmissions there
// were.
type Resend struct {
	Offset int64
	Len    int
	// DF is set when the retransmissions forbade fragmentation (always
	// for IPv6): a router with a smaller MTU must drop them and say so
	// with ICMP.
	DF          bool
	First, Last capture.Frame
	Count       int
}

// maxResent bounds Resent: the handshake's segments are the first.
const maxResent = 16

// pathState gathers PathFacts by capture direction while the roles may
// still change. Every connection keeps the few bytes of hdr and the
// hello's span; the rest (more) only when a RST or a retransmission
// makes it worth keeping: a capture of 100,000 connections must not pay
// for what few of them need.
type pathState struct {
	syn, synack header
	helloStart  int64
	helloEnd    int64
	helloFirst  capture.Frame
	// helloAcked is the frame that first acknowledged all of the first
	// ClientHello, and helloDir the hello's capture direction: kept for
	// every connection, so that a server silent after acknowledging the
	// hello is told from one the hello never reached.
	helloAcked capture.Frame
	helloDir   capture.Direction
	// afterGap is set, per capture direction, from a gap until the next
	// bytes arrive.
	afterGap [2]bool
	more     *PathFacts
}

// header is an IP header and window in 8 bytes.
type header struct {
	ip     capture.IPHeader
	window uint16
}

func (t *tracker) pathMore() *PathFacts {
	if t.path.more == nil {
		t.path.more = &PathFacts{Acked: [2]int64{-1, -1}}
	}
	return t.path.more
}

// pathEvent records the header facts of a SYN, SYN-ACK, RST or
// retransmission, and the frames of a stale acknowledgment and its reset.
func (t *tracker) pathEvent(ev capture.Event) {
	h := header{ip: ev.Seg.IP, window: ev.Seg.Window}
	p := &t.path
	switch ev.Kind {
	case capture.EventSYN:
		if p.syn.ip.TTL == 0 {
			p.syn = h
		}
	case capture.EventSYNACK:
		if p.synack.ip.TTL == 0 {
			p.synack = h
		}
	case capture.EventRST:
		if m := t.pathMore(); m.RST.Frame.Number == 0 {
			m.RST = Packet{Frame: ev.Frame, IP: h.ip, Window: h.window}
		}
	case capture.EventStaleACK:
		if m := t.pathMore(); m.StaleACK.Number == 0 {
			m.StaleACK = ev.Frame
		}
	case capture.EventStaleReset:
		if m := t.pathMore(); m.StaleReset.Number == 0 {
			m.StaleReset = ev.Frame
		}
	case capture.EventRetransmission:
		if ev.Seg.Len == 0 {
			// Only a FIN is sent again without bytes.
			m := t.pathMore()
			r := &m.FINResent[ev.Dir]
			if r.Count == 0 {
				*r = Resend{Offset: ev.Seg.Offset, DF: ev.Seg.IP.DF, First: ev.Frame}
			}
			r.Count++
			r.Last = ev.Frame
			return
		}
		m := t.pathMore()
		rs := m.Resent[ev.Dir]
		for i := range rs {
			if rs[i].Offset == ev.Seg.Offset {
				rs[i].Count++
				rs[i].Last = ev.Frame
				rs[i].Len = max(rs[i].Len, ev.Seg.Len)
				rs[i].DF = rs[i].DF && ev.Seg.IP.DF
				return
			}
		}
		if len(rs) < maxResent {
			m.Resent[ev.Dir] = append(rs, Resend{Offset: ev.Seg.Offset, Len: ev.Seg.Len, DF: ev.Seg.IP.DF, First: ev.Frame, Last: ev.Frame, Count: 1})
		}
	}
}

// Acked implements capture.AckObserver. Each direction notes whether it
// covers all of its bytes (TCPFacts.Unacked); the path facts keep it only
// for a connection that had a RST, a retransmission or a gap.
func (t *tracker) Acked(d capture.Direction, offset int64, f capture.Frame) {
	if t.dirs != nil {
		ds := &t.dirs[d]
		ds.ackSeen, ds.ackedAll = true, offset >= ds.offset
	}
	p := &t.path
	if m := p.more; m != nil {
		m.Acked[d], m.AckedFrame[d] = offset, f
	}
	t.noteHelloAck(d, offset, f)
}

// FirstAcked implements capture.FirstAckObserver: the first acknowledgment
// of the hello's direction usually covers the whole hello.
func (t *tracker) FirstAcked(d capture.Direction, offset int64, f capture.Frame) {
	t.noteHelloAck(d, offset, f)
}

// noteHelloAck notes f as the frame that acknowledged the first
// ClientHello when it is the first seen to acknowledge all of it.
func (t *tracker) noteHelloAck(d capture.Direction, offset int64, f capture.Frame) {
	if p := &t.path; p.helloEnd != 0 && p.helloAcked.Number == 0 && d == p.helloDir && offset >= p.helloEnd {
		p.helloAcked = f
	}
}

// pathGap notes a gap in capture direction d: the frame of the bytes
// after it is worth keeping.
func (t *tracker) pathGap(d capture.Direction) {
	if m := t.pathMore(); m.AfterGap[d].Number == 0 {
		t.path.afterGap[d] = true
	}
}

// pathData notes the frame of the first bytes after a gap.
func (t *tracker) pathData(d capture.Direction, f capture.Frame) {
	if t.path.afterGap[d] {
		t.path.afterGap[d] = false
		t.path.more.AfterGap[d] = f
	}
}

// pathHello notes where the first ClientHello lies in capture direction
// d's stream.
func (t *tracker) pathHello(d capture.Direction, it *tlsparse.Item) {
	if it.Kind != tlsparse.KindHandshake || it.HandshakeType != tlsparse.HandshakeTypeClientHello || t.path.helloEnd != 0 {
		return
	}
	// A hello in one record (nearly all) starts a record header before
	// its message; one spread over several records starts earlier by
	// their headers, which the span then leaves out.
	start := max(it.RecordEnd-int64(len(it.Body))-4-5, 0)
	t.path.helloStart, t.path.helloEnd, t.path.helloDir = start, it.RecordEnd, d
	t.path.helloFirst = t.dirs[d].frameAt(start)
}

// pathRecord returns the facts, with directions as the record has them,
// or nil when nothing was kept. It is called once, by finalize, after
// which nothing adds to the facts (a reported tracker ignores its
// connection's packets): the record takes the tracker's PathFacts itself
// rather than a copy.
func (t *tracker) pathRecord() *PathFacts {
	p := &t.path
	unanswered := p.helloAcked.Number != 0 && t.c.ServerHello == nil && t.c.HelloRetry == nil
	if p.more == nil && !t.c.SilentAtEnd() && !unanswered {
		return nil
	}
	// A connection silent after its TCP handshake keeps its facts too:
	// the SYN's and SYN-ACK's hop counts tell which end the capture was
	// taken at.
	f := t.pathMore()
	p.more = nil
	f.HelloAcked = p.helloAcked
	c := t.c
	f.SYN = Packet{Frame: c.TCP.SYN, IP: p.syn.ip, Window: p.syn.window}
	f.SYNACK = Packet{Frame: c.TCP.SYNACK, IP: p.synack.ip, Window: p.synack.window}
	f.HelloStart, f.HelloEnd, f.HelloFirst = p.helloStart, p.helloEnd, p.helloFirst
	if t.flip {
		f.Acked[0], f.Acked[1] = f.Acked[1], f.Acked[0]
		f.AckedFrame[0], f.AckedFrame[1] = f.AckedFrame[1], f.AckedFrame[0]
		f.Resent[0], f.Resent[1] = f.Resent[1], f.Resent[0]
		f.FINResent[0], f.FINResent[1] = f.FINResent[1], f.FINResent[0]
		f.AfterGap[0], f.AfterGap[1] = f.AfterGap[1], f.AfterGap[0]
		for i := range f.ICMP {
			f.ICMP[i].About = f.ICMP[i].About.Reverse()
		}
	}
	return f
}

// icmp notes an ICMP error about one of the connection's packets. It is a
// fact about the path, not a packet of the connection: the connection's
// last frame stays its own.
func (t *tracker) icmp(ev capture.Event) {
	t.now = max(t.now, ev.Frame.Number)
	// A SYN answered by ICMP was answered: its record is made as for a
	// SYN-ACK, not kept as a note of an unanswered one.
	t.materialize()
	if m := t.pathMore(); len(m.ICMP) < MaxICMP {
		m.ICMP = append(m.ICMP, ICMPReport{Frame: ev.Frame, About: ev.Dir, ICMPError: *ev.ICMP})
	}
}
