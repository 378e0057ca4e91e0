package tlsgen

import (
	"net/netip"
	"time"
)

// openKind is how a flow's TCP connection starts.
type openKind uint8

const (
	openHandshake openKind = iota // SYN, SYN-ACK, ACK
	openNoSYN                     // the capture begins after the handshake
	openRefused                   // SYN answered by RST
	openNoAnswer                  // three SYNs, no answer
)

// closeKind is how it ends.
type closeKind uint8

const (
	closeFIN  closeKind = iota // the closer's FIN, the peer's FIN, the last ACK
	closeRST                   // the closer resets
	closeNone                  // nobody: the capture ends first
)

// flow is one planned connection: a conversation and how TCP carries it.
type flow struct {
	truth          int  // index in Truth.Connections; -1 until the first frame, untracked for none
	tc             Conn // its entry
	client, server netip.AddrPort
	chunks         []chunk
	bulkAt         int   // chunk index before which bulk goes, -1 for none
	bulk           int64 // bulk bytes the server still sends
	queued         int64 // bulk bytes queued and not yet written
	recLen         int   // full application_data record length
	open           openKind
	close          closeKind
	closer         side
	// midstream hides the flow until its bulk has sent hidden more
	// segments: a capture that began mid-connection.
	midstream bool
	hidden    int
	wasBulk   bool    // the last fill was a bulk unit
	spoke     [2]bool // by side: it sent data
	// closeDelay holds the flow this long after its last chunk before
	// it closes (a client waiting for an answer that never comes), from
	// holdUntil on.
	closeDelay time.Duration
	holdUntil  time.Time

	stage int // 0 open, 1 conversation, 2 close, 3 done
	next  int // next chunk
	seq   [2]uint32
	queue []segment
	qpos  int
	buf   []byte // bulk records being sent; the queue aliases it
	mss   int
}

// pull returns the flow's next segment, or false when it is done.
func (f *flow) pull(g *generator) (segment, bool) {
	for f.qpos >= len(f.queue) {
		f.queue, f.qpos = f.queue[:0], 0
		if !f.fill(g) {
			return segment{}, false
		}
		if f.midstream {
			if !f.wasBulk {
				f.qpos = len(f.queue)
				continue
			}
			f.midstream = false
			f.qpos = min(f.hidden, len(f.queue))
		}
	}
	s := f.queue[f.qpos]
	f.qpos++
	return s, true
}

// fill queues the segments of the next step; false when there is none.
func (f *flow) fill(g *generator) bool {
	f.wasBulk = false
	switch f.stage {
	case 0:
		f.stage = 1
		f.openTCP(g)
		if f.open == openRefused || f.open == openNoAnswer {
			f.stage = 3
		}
	case 1:
		switch {
		case f.next == f.bulkAt && f.bulk > 0:
			f.bulkUnit(g)
		case f.next < len(f.chunks):
			c := f.chunks[f.next]
			f.next++
			f.send(g, c.from, c.data, f.next == len(f.chunks) || f.chunks[f.next].from == c.from)
		default:
			if f.closeDelay > 0 && f.holdUntil.IsZero() {
				f.holdUntil = g.clock.Add(f.closeDelay)
			}
			if f.held(g) {
				return false // the run loop comes back once the clock passed holdUntil
			}
			f.stage = 2
			return f.fill(g)
		}
	case 2:
		f.stage = 3
		f.closeTCP()
	default:
		return false
	}
	return true
}

func (f *flow) push(s segment) { f.queue = append(f.queue, s) }

// held reports whether the flow waits for the clock to reach holdUntil.
func (f *flow) held(g *generator) bool { return g.clock.Before(f.holdUntil) }

// ackOf returns the acknowledgment number side s sends: everything the
// other side sent so far.
func (f *flow) ackOf(s side) uint32 { return f.seq[s.other()] }

func (f *flow) openTCP(g *generator) {
	f.seq[clientSide] = g.rng.Uint32()
	f.seq[serverSide] = g.rng.Uint32()
	mss := uint16(f.mss)
	switch f.open {
	case openNoSYN:
		return
	case openRefused:
		f.push(segment{from: clientSide, flags: flagSYN, seq: f.seq[0], mss: mss})
		f.push(segment{from: serverSide, flags: flagRST | flagACK, ack: f.seq[0] + 1})
		return
	case openNoAnswer:
		for range 3 {
			f.push(segment{from: clientSide, flags: flagSYN, seq: f.seq[0], mss: mss})
		}
		return
	}
	f.push(segment{from: clientSide, flags: flagSYN, seq: f.seq[0], mss: mss})
	f.seq[0]++
	f.push(segment{from: serverSide, flags: flagSYN | flagACK, seq: f.seq[1], ack: f.seq[0], mss: mss})
	f.seq[1]++
	f.push(segment{from: clientSide, flags: flagACK, seq: f.seq[0], ack: f.seq[1]})
}

// send queues data from one side cut into MSS-sized segments, with the
// receiver's ACK after every second segment and, unless it answers next
// (and so acknowledges with its answer), at the end.
func (f *flow) send(g *generator, from side, data []byte, ackAtEnd bool) {
	start := len(f.queue)
	segs := 0
	for len(data) > 0 {
		n := min(len(data), f.mss)
		flags := uint8(flagACK)
		if n == len(data) {
			flags |= flagPSH
		}
		f.push(segment{from: from, flags: flags, seq: f.seq[from], ack: f.ackOf(from), payload: data[:n]})
		f.seq[from] += uint32(n)
		data = data[n:]
		if segs++; segs%2 == 0 && len(data) > 0 {
			f.push(segment{from: from.other(), flags: flagACK, seq: f.seq[from.other()], ack: f.seq[from]})
		}
	}
	if ackAtEnd {
		f.push(segment{from: from.other(), flags: flagACK, seq: f.seq[from.other()], ack: f.seq[from]})
	}
	if f.open == openNoSYN && !f.spoke[from] {
		// Without the SYN, a stream starts at its first segment captured:
		// were that one out of order, no reader (tlsdiag or Wireshark)
		// could tell that the segment after it came first.
		f.spoke[from] = true
		return
	}
	f.spoke[from] = true
	g.disorder(f, start)
}

// bulkUnit queues one request from the client and a response of full
// application_data records (the last one shorter) from the server.
func (f *flow) bulkUnit(g *generator) {
	overhead := f.recLen - maxPlaintext
	req := 200 + g.rng.IntN(500) + overhead
	n := int64(16+g.rng.IntN(17)) * int64(f.recLen)
	resp := int(min(f.bulk, n))
	f.bulk -= int64(resp)
	f.queued += int64(resp + req)
	f.buf = f.buf[:0]
	f.buf = g.appendRecords(f.buf, req, f.recLen)
	cut := len(f.buf)
	f.buf = g.appendRecords(f.buf, resp, f.recLen)
	f.send(g, clientSide, f.buf[:cut], false)
	f.send(g, serverSide, f.buf[cut:], true)
	f.wasBulk = true
}

// maxPlaintext is the most plaintext a TLS record carries (RFC 8446,
// Section 5.1).
const maxPlaintext = 1 << 14

func (f *flow) closeTCP() {
	c, o := f.closer, f.closer.other()
	if f.close == closeNone {
		return
	}
	if f.close == closeRST {
		f.push(segment{from: c, flags: flagRST | flagACK, seq: f.seq[c], ack: f.ackOf(c)})
		return
	}
	if f.open == openRefused || f.open == openNoAnswer {
		return
	}
	f.push(segment{from: c, flags: flagFIN | flagACK, seq: f.seq[c], ack: f.ackOf(c)})
	f.seq[c]++
	f.push(segment{from: o, flags: flagFIN | flagACK, seq: f.seq[o], ack: f.ackOf(o)})
	f.seq[o]++
	f.push(segment{from: c, flags: flagACK, seq: f.seq[c], ack: f.ackOf(c)})
}

// disorder swaps and repeats a few data segments queued from index start
// on, as captures of real networks show: reordering and retransmissions.
func (g *generator) disorder(f *flow, start int) {
	q := f.queue
	for i := start; i+1 < len(q); i++ {
		a, b := &q[i], &q[i+1]
		if len(a.payload) == 0 || len(b.payload) == 0 || a.from != b.from {
			continue
		}
		switch r := g.rng.Float64(); {
		case r < g.cfg.Reorder:
			*a, *b = *b, *a
			i++
		case r < g.cfg.Reorder+g.cfg.Duplicate:
			dup := *a
			at := min(i+3, len(q))
			q = append(q, segment{})
			copy(q[at+1:], q[at:])
			q[at] = dup
			i++
		}
	}
	f.queue = q
}

// appendRecords appends application_data records with n bytes of payload
// in total, cut into records of at most recLen, filled with random bytes.
func (g *generator) appendRecords(b []byte, n, recLen int) []byte {
	for n > 0 {
		m := min(n, recLen)
		b = append(b, 23, 3, 3, byte(m>>8), byte(m))
		off := g.rng.IntN(len(g.noise) - m)
		b = append(b, g.noise[off:off+m]...)
		n -= m
	}
	return b
}
