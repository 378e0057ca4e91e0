package capture

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"time"
)

// connKey is a connection's 4-tuple, normalised so that both directions
// map to the same key: the lower (address, port) first. Fixed-size bytes
// hash and compare faster than strings or netip values.
//
//	[0:16] low address  [16:32] high address (IPv4 as ::ffff:a.b.c.d)
//	[32:34] low port    [34:36] high port     [36] 4 or 6   [37] 0
type connKey [38]byte

func makeKey(src, dst netip.AddrPort) (k connKey, srcLow bool) {
	// The addresses compare as two big-endian halves each, as their
	// bytes would: no bytes.Compare call, and no copy of As16's array
	// through the stack for an IPv4 address.
	sh, sl := addrHalves(src.Addr())
	dh, dl := addrHalves(dst.Addr())
	sp, dp := src.Port(), dst.Port()
	srcLow = sh < dh || sh == dh && (sl < dl || sl == dl && sp <= dp)
	if !srcLow {
		sh, sl, dh, dl, sp, dp = dh, dl, sh, sl, dp, sp
	}
	binary.BigEndian.PutUint64(k[0:], sh)
	binary.BigEndian.PutUint64(k[8:], sl)
	binary.BigEndian.PutUint64(k[16:], dh)
	binary.BigEndian.PutUint64(k[24:], dl)
	binary.BigEndian.PutUint16(k[32:], sp)
	binary.BigEndian.PutUint16(k[34:], dp)
	k[36] = 6
	if src.Addr().Is4() {
		k[36] = 4
	}
	return k, srcLow
}

// addrHalves returns a's 16 bytes (an IPv4 address as ::ffff:a.b.c.d) as
// two big-endian numbers.
func addrHalves(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		b := a.As4()
		return 0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// seqDiff is a-b in serial-number arithmetic (RFC 1982): positive when a
// is after b, correct across the 2^32 wrap for distances below 2^31.
func seqDiff(a, b uint32) int { return int(int32(a - b)) }

// half flags
const (
	hKnown   uint8 = 1 << iota // next is valid
	hISN                       // isn is valid (SYN seen, or the SYN-ACK acknowledged it)
	hFIN                       // a FIN was seen at finSeq
	hFINDone                   // the FIN was reached in order and reported
	hZeroWin                   // the last window advertised was zero
	hAcked                     // the peer acknowledged up to acked
	hUnseen                    // not known, but the peer acknowledged from unseenBase to unseenTop
	hSeen                      // a packet of this direction was captured
)

// half is the state of one direction of a connection.
type half struct {
	next   uint32 // next sequence number to deliver
	isn    uint32
	finSeq uint32
	acked  uint32 // the highest acknowledgment the peer sent for this direction
	base   uint32 // the sequence number of stream offset 0
	// unseenBase and unseenTop are the first and the highest
	// acknowledgment the peer sent for this direction while none of its
	// packets had been seen (hUnseen): a capture of one direction only
	// shows the other's bytes there alone.
	unseenBase, unseenTop uint32
	flags                 uint8
	finFrame              frameRef
	ackFrame              frameRef // the frame that first acknowledged up to acked
	ooo                   []oooSeg // out-of-order bytes: sorted, disjoint, all after next
}

// oooSeg is a copy of out-of-order bytes and the frame that carried them:
// they are delivered with the frame that fills the hole before them (the
// frame in which Wireshark shows the message they complete), or with
// their own when the hole is declared lost.
type oooSeg struct {
	seq   uint32
	data  []byte
	frame Frame
}

func (s *oooSeg) end() uint32 { return s.seq + uint32(len(s.data)) }

// conn is one tracked connection.
type conn struct {
	key        connKey
	stream     Stream
	half       [2]half  // by Direction
	last       frameRef // the connection's latest frame
	seen       int64    // capture clock (ns) at the last packet: orders the LRU list
	prev, next *conn    // LRU list, least recently seen first
	buffered   int32    // out-of-order bytes held, both directions
	// staleAck is the acknowledgment number of the server's stale ACK
	// (EventStaleACK), when stale is set: the client's reset of it
	// carries it as its sequence number. Beside buffered, so that the
	// small fields below share one word and conn stays 288 bytes.
	staleAck    uint32
	reset       uint8 // bit d: direction d sent a RST
	dataAcked   uint8 // bit d: the first acknowledgment of direction d's bytes was reported
	lowIsClient bool
	clientKnown bool
	lingering   bool // on the linger list (reset) rather than the LRU list
	// overTomb is set when a SYN opened the connection: its 4-tuple may
	// still have the tombstone of an earlier connection, which finish
	// replaces or deletes.
	overTomb bool
	stale    bool // the server's stale ACK was seen (staleAck)
}

func (c *conn) dirOf(srcLow bool) Direction {
	if srcLow == c.lowIsClient {
		return ClientToServer
	}
	return ServerToClient
}

// tombKey stands for a closed connection's key in the tombstones: a
// 64-bit hash of it, a third of the key's size. Two 4-tuples that
// share one (a chance of about one in 2^48 among 65,536 tombstones) would
// let a segment of the second count as a straggler of the first.
type tombKey uint64

// tomb hashes the key eight bytes at a time: each step, a multiplication
// by an odd number and a shift of the high bits down, mixes what came
// before into the rest. FNV-1a, a byte at a time, was a chain of 38
// multiplications.
func (k *connKey) tomb() tombKey {
	const m = 0x9e3779b97f4a7c15
	h := uint64(k[36])
	for i := 0; i < 32; i += 8 {
		h = (h ^ binary.LittleEndian.Uint64(k[i:])) * m
		h ^= h >> 29
	}
	h = (h ^ uint64(binary.LittleEndian.Uint32(k[32:]))) * m
	// MurmurHash3's finaliser: without it, keys that differ in their
	// ports alone differed in few of the low bits.
	h = (h ^ h>>33) * 0xff51afd7ed558ccd
	h = (h ^ h>>33) * 0xc4ceb9fe1a85ec53
	return tombKey(h ^ h>>33)
}

type tombstone struct {
	key tombKey
	at  int64
}

// Assembler reassembles TCP streams from frames (Packet) or decoded
// segments (Segment) and drives a Handler. It is not safe for concurrent
// use; run one Assembler per capture.
//
// Only out-of-order bytes are copied: in-order payload goes to Stream.Data
// straight from the frame's buffer. Overlapping bytes are compared with
// buffered out-of-order bytes, and a difference is an EventConflict (the
// first copy wins); bytes already delivered are not kept, so a
// retransmission of them is reported but cannot be compared.
type Assembler struct {
	h     Handler
	dh    DatagramHandler // h, if it wants UDP datagrams
	ex    Expirer         // h, if its connections end by the clock
	opt   Options
	dec   *decoder
	conns map[connKey]*conn
	live  connList // open connections, least recently seen first
	reset connList // connections a RST ended, waiting for in-flight bytes

	copies  copyBook // of a capture on several interfaces
	nat     natBook  // likewise, for the Run path (RunSharded's reader has its own)
	several bool     // the frame fed comes from a pcapng file of several interfaces
	tombs   map[tombKey]int64
	// tombRing holds the tombstones in the order they were made, in
	// chunks of tombChunk, up to maxTombs: once it is full (tombsWrapped),
	// each new one replaces the oldest, at tombPos.
	tombRing     [][]tombstone
	maxTombs     int // the most tombstones kept
	tombPos      int
	tombsWrapped bool

	buffered int   // out-of-order bytes held by all connections
	now      int64 // capture clock: the latest packet time seen (ns)
	idle     int64
	frames   int64
	prevTime time.Time // the previous frame's timestamp (Run), to count steps back
	// splitSource is set for a source of a split capture (RunFanout), whose
	// clock the other sources move too: a frame behind it is not a step
	// of the capture's clock, and no EventClockBack is sent.
	splitSource bool
	// clocks, when set (RunSharded), is the capture clock after each
	// frame of the block being read, whose first frame is clocksFirst: a
	// shard sees only its own frames, and finds in it the frame at which
	// the clock passed a deadline (closedBy).
	clocks      []int64
	clocksFirst int64
	// expireBy is closedByTime, made once: what ex's Expire gets.
	expireBy func(deadline time.Time) int64
	// progress, when set (Run), is told after every frame that the capture
	// was read that far.
	progress Progresser
	stats    Stats
	recent   [recentConns]lastConn // connections looked up first, by their ports
	spare    []*conn               // closed connections, for open to reuse
	seg      Segment
	pieces   []piece
	cur      SegmentFacts // the segment being handled, for its events
}

// frameRef is a Frame in 16 bytes instead of 32, for what every
// connection keeps: 200,000 connections must fit in 64 MiB.
type frameRef struct{ num, ns int64 }

// noTime marks a frame without a timestamp (pcapng simple packet blocks).
const noTime = math.MinInt64

func refOf(f Frame) frameRef {
	if f.Time.IsZero() {
		return frameRef{f.Number, noTime}
	}
	return frameRef{f.Number, f.Time.UnixNano()}
}

func (r frameRef) frame() Frame {
	if r.ns == noTime {
		return Frame{Number: r.num}
	}
	return Frame{Number: r.num, Time: time.Unix(0, r.ns).UTC()}
}

// connList is an intrusive doubly linked list of connections in the order
// they were last seen.
type connList struct{ head, tail *conn }

func (l *connList) push(c *conn) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *connList) remove(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// resetLinger is how long (in capture time) a connection stays open after
// its first RST, to collect the bytes the other side had in flight: Zeek
// finds Heartbleed in server records that arrive after the client's RST.
// It is longer than any round trip worth capturing.
const resetLinger = 3 * time.Second

// resetLingerFrames bounds the linger in frames too: on a busy link 3 s
// are thousands of connections, and one that stays open holds back the
// report of every connection that began after it. Counted in frame
// numbers, which every shard shares, the bytes that make it into the
// connection do not depend on how the capture is split.
const resetLingerFrames = 4096

// piece is a range of a segment's payload not yet buffered.
type piece struct{ off, n int }

// NewAssembler returns an Assembler that reports connections to h.
func NewAssembler(h Handler, opt Options) *Assembler {
	opt = opt.withDefaults()
	a := &Assembler{
		h:        h,
		opt:      opt,
		conns:    make(map[connKey]*conn),
		tombs:    make(map[tombKey]int64),
		maxTombs: tombstonesPerConnection * opt.MaxConnections,
		idle:     int64(opt.IdleTimeout),
		now:      -1 << 63,
		copies:   newCopyBook(),
		nat:      newNATBook(),
	}
	a.dec = newDecoder(&a.stats)
	a.dh, _ = h.(DatagramHandler)
	if a.ex, _ = h.(Expirer); a.ex != nil {
		a.expireBy = a.closedByTime
	}
	return a
}

// Stats returns the counts so far.
func (a *Assembler) Stats() Stats { return a.stats }

// Open returns the number of connections currently tracked.
func (a *Assembler) Open() int { return len(a.conns) }

// advance moves the capture clock to ns (t.UnixNano() of a frame's time t)
// and closes connections idle for longer than IdleTimeout. The LRU list is
// ordered by last packet time, so this costs one comparison when nothing
// expires. It takes nanoseconds, the clock's unit: a shard's clock is
// nothing else, and a time.Time made of them only to be read back cost a
// conversion each way for every segment.
func (a *Assembler) advance(ns int64) {
	if ns > a.now {
		a.now = ns
		if a.ex != nil {
			a.ex.Expire(time.Unix(0, ns), a.expireBy)
		}
	}
	for a.reset.head != nil && a.now-a.reset.head.seen > int64(resetLinger) {
		// A shard sees the clock pass the deadline at its own next frame,
		// maybe after the frame that ended the linger by count.
		c := a.reset.head
		a.endLinger(c, min(a.closedBy(c.seen+int64(resetLinger)), lingerEnd(c)))
	}
	if a.idle <= 0 {
		return
	}
	for a.live.head != nil && a.now-a.live.head.seen > a.idle {
		c := a.live.head
		a.stats.ConnsIdle++
		a.flushAll(c, c.last.frame())
		a.finish(c, ClosedIdle, c.last.frame(), a.closedBy(c.seen+a.idle))
	}
}

// closedBy returns the number of the frame at which the capture clock
// passed deadline (ns): the frame being read, or in a shard the first
// frame of the block whose clock is past it. Every shard, and Run, close
// a connection whose deadline passed by the same frame.
func (a *Assembler) closedBy(deadline int64) int64 {
	if len(a.clocks) == 0 {
		return a.frames
	}
	i, _ := slices.BinarySearch(a.clocks, deadline+1)
	if i == len(a.clocks) {
		i-- // not reached: only a clock past the deadline ends a connection
	}
	return a.clocksFirst + int64(i)
}

// closedByTime is closedBy for a deadline in time.
func (a *Assembler) closedByTime(deadline time.Time) int64 {
	return a.closedBy(deadline.UnixNano())
}

// endLingers ends the lingering connections whose last frame is more than
// resetLingerFrames before frame n: they are closed by lingerEnd,
// whichever frame is read then.
func (a *Assembler) endLingers(n int64) {
	// The frame number alone: the whole Frame costs a time.Unix, and
	// while a connection lingers this runs for every segment.
	for a.reset.head != nil && n-a.reset.head.last.num > resetLingerFrames {
		c := a.reset.head
		a.endLinger(c, lingerEnd(c))
	}
}

// lingerEnd is the frame that ends a reset connection's linger by count:
// the first more than resetLingerFrames after its last.
func lingerEnd(c *conn) int64 { return c.last.num + resetLingerFrames + 1 }

// endLinger closes a reset connection that was lingering, as of its last
// frame, by frame closedBy.
func (a *Assembler) endLinger(c *conn, closedBy int64) {
	a.flushAll(c, c.last.frame())
	a.finish(c, ClosedRST, c.last.frame(), closedBy)
}

// Flush moves the capture clock to t (if later) and closes every
// connection idle since before t-IdleTimeout. A live capture may call it
// when no packet arrives for a while.
func (a *Assembler) Flush(t time.Time) { a.advance(t.UnixNano()) }

// Close ends every remaining connection, oldest first: holes become gaps,
// and each stream is closed with ClosedFIN if either side sent a FIN,
// otherwise ClosedEOF. It returns the final counts.
func (a *Assembler) Close() Stats {
	if e, ok := a.h.(EndObserver); ok && a.frames > 0 {
		end := Frame{Number: a.frames}
		if a.now != -1<<63 {
			end.Time = time.Unix(0, a.now)
		}
		e.CaptureEnd(end)
	}
	for {
		c := a.live.head
		if r := a.reset.head; c == nil || r != nil && r.seen < c.seen {
			c = r
		}
		if c == nil {
			if a.dh != nil {
				a.dh.EndDatagrams()
				a.dh = nil
			}
			a.nat.addTo(&a.stats)
			return a.stats
		}
		a.flushAll(c, c.last.frame())
		reason := ClosedEOF
		switch {
		case c.reset != 0:
			reason = ClosedRST
		case c.half[0].flags&hFINDone != 0 || c.half[1].flags&hFINDone != 0:
			reason = ClosedFIN
		}
		a.finish(c, reason, c.last.frame(), math.MaxInt64)
	}
}

// Segment feeds one decoded TCP segment carried by frame f.
func (a *Assembler) Segment(s *Segment, f Frame) {
	ns := f.Time.UnixNano()
	var behind time.Duration
	if a.now != -1<<63 && !f.Time.IsZero() && !a.splitSource {
		behind = time.Duration(a.now - ns)
	}
	a.advance(ns)
	a.endLingers(f.Number)
	a.stats.Segments++
	a.stats.PayloadBytes += int64(len(s.Payload))
	var key connKey // the key of s, when no connection has it
	c, srcLow := a.lookup(s, &key)
	if s.Interface != 0 {
		k := &key
		if c != nil {
			k = &c.key
		}
		if a.copies.isCopy(k, srcLow, s, ns) {
			a.stats.InterfaceCopies++
			return
		}
	}
	synOnly := s.SYN && !s.ACK && !s.RST
	if c != nil && synOnly && c.reset != 0 {
		// A new connection after a reset one that was still lingering.
		key = c.key
		a.endLinger(c, f.Number)
		c = nil
	}
	if c != nil && synOnly && a.isNewSYN(c, c.dirOf(srcLow), s) {
		a.stats.ConnsReused++
		key = c.key
		a.flushAll(c, f)
		a.finish(c, ClosedReused, c.last.frame(), f.Number)
		c = nil
	}
	if c == nil {
		// A SYN opens a connection even on a tombstoned 4-tuple; the
		// tombstone goes when the connection does (finish), as no
		// segment consults it while the connection is open: deleting it
		// here cost a map lookup for every SYN.
		if !synOnly && a.tombstoned(key.tomb()) {
			a.stats.AfterClose++
			return
		}
		c = a.open(key, srcLow, s, f)
		c.overTomb = synOnly
	}
	dir := c.dirOf(srcLow)
	if c.reset&(1<<dir) != 0 {
		// The sender reset the connection: what it sends now is not part
		// of it (repeated RSTs, late ACKs).
		a.stats.AfterClose++
		return
	}
	c.last = refOf(f)
	a.touch(c)
	h := &c.half[dir]
	h.flags |= hSeen
	if behind > 0 {
		c.stream.Event(Event{Kind: EventClockBack, Dir: dir, Frame: f, Behind: behind})
	}
	// Field by field: a composite literal was built on the stack and
	// copied, in overlapping moves that stalled.
	a.cur.IP, a.cur.Window, a.cur.Len, a.cur.Offset = s.IP, s.Window, len(s.Payload), 0
	if h.flags&hKnown != 0 {
		a.cur.Offset = int64(seqDiff(s.Seq, h.base))
	}

	if c.awaitingSYNACK() && a.staleAnswer(c, dir, s, f) {
		return
	}
	if s.RST {
		a.rst(c, dir, s.Payload, f)
		return
	}
	seq := s.Seq
	if s.SYN {
		a.syn(c, dir, s, f)
		seq++ // the SYN takes one sequence number; TFO data follows it
	} else {
		a.window(c, dir, s.Window, f)
	}
	if len(s.Payload) > 0 || s.FIN || s.Missing > 0 {
		if h.flags&hKnown == 0 {
			// No SYN seen: the stream starts at the first byte captured.
			h.next, h.base = seq, seq
			h.flags |= hKnown
		}
		if s.Missing > 0 && s.Snap > 0 {
			c.stream.Event(Event{Kind: EventSnapCut, Dir: dir, Frame: f, Snap: s.Snap})
		}
		a.data(c, dir, seq, s.Payload, s.Missing, s.FIN, f)
	}
	if s.ACK {
		a.acked(c, dir.Reverse(), s.Ack, f)
	}
	if c.half[0].flags&c.half[1].flags&hFINDone != 0 {
		reason := ClosedFIN
		if c.reset != 0 {
			reason = ClosedRST
		}
		a.finish(c, reason, f, f.Number)
	}
}

// lookup returns the connection s belongs to, or nil and s's key in *key
// if none is open, and whether s comes from the key's low end (the key
// of a connection found is its own: it is not copied). The connection of
// the last segment between the same two ports is checked first, by
// comparing addresses, which costs neither makeKey nor a map lookup: with
// the last connection alone, two in five segments of a capture of
// handshakes (whose connections take turns) went through the map, with
// recentConns of them one a connection. Any other goes through the map,
// and takes its ports' place.
func (a *Assembler) lookup(s *Segment, key *connKey) (c *conn, srcLow bool) {
	if l := &a.recent[recentSlot(s.Src.Port(), s.Dst.Port())]; l.c != nil {
		switch {
		case s.Src == l.src && s.Dst == l.dst:
			return l.c, l.srcLow
		case s.Src == l.dst && s.Dst == l.src && l.rev:
			return l.c, l.revLow
		}
	}
	*key, srcLow = makeKey(s.Src, s.Dst)
	if c = a.conns[*key]; c != nil {
		a.remember(c, s, srcLow)
	}
	return c, srcLow
}

// recentConns is the number of connections lookup finds without the map,
// one for the segments between each pair of ports that share a slot.
const recentConns = 256

// recentSlot is the slot of Assembler.recent for a segment between ports p
// and q, either way.
func recentSlot(p, q uint16) int {
	h := p ^ q
	return int(h^h>>8) % recentConns
}

// lastConn is a recent connection and the addresses of its last segment.
type lastConn struct {
	c        *conn
	src, dst netip.AddrPort
	// srcLow is makeKey's for src to dst, revLow for dst to src: its
	// opposite, unless both ends are equal in the key. rev is set when
	// dst to src has the same key: not when one end is IPv4 and the other
	// IPv6 (which only a caller of Segment can make).
	srcLow, revLow, rev bool
}

// remember makes c, which s belongs to, the recent connection of its
// ports.
func (a *Assembler) remember(c *conn, s *Segment, srcLow bool) {
	a.recent[recentSlot(s.Src.Port(), s.Dst.Port())] = lastConn{c: c, src: s.Src, dst: s.Dst, srcLow: srcLow,
		revLow: !srcLow || c.key.endsEqual(), rev: s.Src.Addr().Is4() == s.Dst.Addr().Is4()}
}

// forget takes c, which is closing, out of the recent connections.
func (a *Assembler) forget(c *conn) {
	slot := &a.recent[recentSlot(binary.BigEndian.Uint16(c.key[32:]), binary.BigEndian.Uint16(c.key[34:]))]
	if slot.c == c {
		*slot = lastConn{}
	}
}

// endsEqual reports whether both ends of the key are the same address and
// port: makeKey then calls the source low in both directions.
func (k *connKey) endsEqual() bool {
	return [16]byte(k[0:16]) == [16]byte(k[16:32]) && k[32] == k[34] && k[33] == k[35]
}

// rst handles the first RST from dir: dir's stream ends (its holes are
// lost), and the connection lingers for the bytes the other side had in
// flight, unless that side reset it too.
func (a *Assembler) rst(c *conn, dir Direction, payload []byte, f Frame) {
	h := &c.half[dir]
	for len(h.ooo) > 0 {
		a.fillHole(c, dir, f)
	}
	if h.flags&(hFIN|hFINDone) == hFIN {
		a.fillHole(c, dir, f)
	}
	c.reset |= 1 << dir
	c.stream.Event(Event{Kind: EventRST, Dir: dir, Frame: f, Seg: a.cur, Payload: payload})
	if c.reset == 3 {
		a.flushAll(c, f)
		a.finish(c, ClosedRST, f, f.Number)
		return
	}
	a.live.remove(c)
	c.lingering = true
	a.reset.push(c)
}

// staleAnswer handles, and reports, the two segments of a SYN that met an
// older connection between the same ports, one the client had forgotten
// and the server still held: the server answers the SYN not with a
// SYN-ACK but with an ACK of that connection's sequence numbers (RFC
// 793, Section 3.4; a challenge ACK, RFC 5961 Section 4), and the client
// answers that with a reset whose sequence number is the ACK's
// acknowledgment number. The reset ends the old connection at the
// server; the client's connection is still opening (RFC 793: it stays in
// SYN-SENT) and its SYN, sent again, gets the SYN-ACK. Neither segment
// belongs to the client's stream: the ACK acknowledges none of its
// bytes, and the reset does not end it.
// It is called only while awaitingSYNACK.
func (a *Assembler) staleAnswer(c *conn, dir Direction, s *Segment, f Frame) bool {
	cl := &c.half[ClientToServer]
	if cl.flags&hISN == 0 || cl.next != cl.base {
		// Not a client that has sent SYNs alone: after a SYN-ACK the
		// capture missed, its data would show.
		return false
	}
	switch {
	case dir == ServerToClient && s.ACK && !s.SYN && !s.RST && !s.FIN && len(s.Payload) == 0 && s.Ack != cl.base:
		c.staleAck, c.stale = s.Ack, true
		c.stream.Event(Event{Kind: EventStaleACK, Dir: dir, Frame: f, Seg: a.cur})
		return true
	case dir == ClientToServer && s.RST && !s.ACK && c.stale && s.Seq == c.staleAck:
		c.stream.Event(Event{Kind: EventStaleReset, Dir: dir, Frame: f, Seg: a.cur})
		return true
	}
	return false
}

// awaitingSYNACK reports whether c was opened by a SYN and nothing of
// the server's has shown yet: no SYN-ACK, no bytes, no acknowledgment of
// them by the client. Inlined, it keeps staleAnswer's call off the path
// of every segment after the handshake.
func (c *conn) awaitingSYNACK() bool {
	return c.clientKnown && c.half[ServerToClient].flags&(hISN|hKnown|hUnseen|hAcked) == 0
}

// isNewSYN reports whether a SYN on a tracked 4-tuple starts a new
// connection (port reuse) rather than repeating the SYN of this one.
func (a *Assembler) isNewSYN(c *conn, dir Direction, s *Segment) bool {
	h := &c.half[dir]
	if h.flags&hISN != 0 {
		return s.Seq != h.isn
	}
	// Picked up mid-stream: a SYN can only start something new. Otherwise
	// it is the server's SYN of a simultaneous open.
	return !c.clientKnown
}

func (a *Assembler) open(key connKey, srcLow bool, s *Segment, f Frame) *conn {
	for len(a.conns) >= a.opt.MaxConnections {
		// A reset connection waiting for stray bytes goes first, for what
		// it is: reset. Then the one idle the longest.
		if old := a.reset.head; old != nil {
			a.flushAll(old, old.last.frame())
			a.finish(old, ClosedRST, old.last.frame(), f.Number)
			continue
		}
		old := a.live.head
		if old == nil {
			break
		}
		a.stats.ConnsEvicted++
		a.flushAll(old, old.last.frame())
		a.finish(old, ClosedEvicted, old.last.frame(), f.Number)
	}
	var c *conn
	if n := len(a.spare); n > 0 {
		c, a.spare = a.spare[n-1], a.spare[:n-1]
		*c = conn{key: key, lowIsClient: srcLow}
	} else {
		c = &conn{key: key, lowIsClient: srcLow}
	}
	var isn uint32
	switch {
	case s.SYN && !s.ACK:
		c.clientKnown = true
		isn = s.Seq
	case s.SYN && s.ACK:
		c.clientKnown = true
		c.lowIsClient = !srcLow
		isn = s.Ack - 1
	}
	client, server := s.Src, s.Dst
	if c.lowIsClient != srcLow {
		client, server = server, client
	}
	cn := Conn{Client: client, Server: server, ClientKnown: c.clientKnown, First: f, ISN: isn}
	if s.Tunnel != nil {
		cn.Tunnel = *s.Tunnel
	}
	c.stream = a.h.Open(cn)
	if c.stream == nil {
		c.stream = discard{}
	}
	a.conns[key] = c
	a.stats.ConnsOpened++
	a.remember(c, s, srcLow)
	return c
}

// syn handles the SYN flag of a segment from dir.
func (a *Assembler) syn(c *conn, dir Direction, s *Segment, f Frame) {
	h := &c.half[dir]
	if h.flags&hISN == 0 {
		h.isn = s.Seq
		h.flags |= hISN
	}
	if h.flags&hKnown == 0 {
		h.next, h.base = s.Seq+1, s.Seq+1
		h.flags |= hKnown
	}
	kind := EventSYN
	if s.ACK {
		kind = EventSYNACK
		// The SYN-ACK acknowledges the client's ISN: its stream starts
		// there even if the SYN was not captured.
		p := &c.half[dir.Reverse()]
		if p.flags&hKnown == 0 {
			p.next, p.base = s.Ack, s.Ack
			p.isn = s.Ack - 1
			p.flags |= hKnown | hISN
		}
	}
	c.stream.Event(Event{Kind: kind, Dir: dir, Frame: f, Seg: a.cur})
}

// window reports a sender's receive window closing.
func (a *Assembler) window(c *conn, dir Direction, win uint16, f Frame) {
	h := &c.half[dir]
	if win != 0 {
		h.flags &^= hZeroWin
		return
	}
	if h.flags&hZeroWin == 0 {
		h.flags |= hZeroWin
		c.stream.Event(Event{Kind: EventZeroWindow, Dir: dir, Frame: f})
	}
}

// data handles the payload (p, then missing bytes the capture cut off) and
// FIN of a segment from dir starting at seq.
func (a *Assembler) data(c *conn, dir Direction, seq uint32, p []byte, missing int, fin bool, f Frame) {
	h := &c.half[dir]
	if fin && len(p)+missing == 0 && h.flags&hFINDone != 0 && seq == h.finSeq {
		// The FIN alone, sent again: the first was not acknowledged. It
		// counts as a retransmission, as Wireshark counts it, with no
		// bytes.
		var once bool
		a.retransmitted(c, dir, 0, f, &once)
		return
	}
	if fin && h.flags&hFIN == 0 {
		h.finSeq = seq + uint32(len(p)+missing)
		h.finFrame = refOf(f)
		h.flags |= hFIN
	}
	if h.flags&hFIN != 0 {
		// Nothing after the FIN is stream data.
		room := seqDiff(h.finSeq, seq)
		switch {
		case room <= 0:
			p, missing = nil, 0
		case room < len(p):
			p, missing = p[:room], 0
		case room < len(p)+missing:
			missing = room - len(p)
		}
	}
	rel := seqDiff(seq, h.next)
	if rel == -1 && len(p) == 1 && missing == 0 && !fin {
		// A keep-alive or window probe repeats the last byte acknowledged
		// (RFC 9293 3.8.4): not data, not a conflict.
		a.stats.KeepAlives++
		return
	}
	var retrans bool
	if rel < 0 && len(p)+missing > 0 {
		old := min(-rel, len(p)+missing)
		a.retransmitted(c, dir, old, f, &retrans)
		if old >= len(p) {
			missing -= old - len(p)
			p = nil
		} else {
			p = p[old:]
		}
		seq += uint32(old)
		rel = 0
	}
	if len(p)+missing > 0 {
		if rel == 0 {
			a.deliver(c, dir, seq, p, missing, f, &retrans)
		} else {
			a.buffer(c, dir, seq, p, f, &retrans)
		}
	}
	a.checkFIN(c, dir)
}

func (a *Assembler) retransmitted(c *conn, dir Direction, n int, f Frame, once *bool) {
	a.stats.RetransmittedBytes += int64(n)
	if !*once {
		*once = true
		a.stats.Retransmissions++
		c.stream.Event(Event{Kind: EventRetransmission, Dir: dir, Frame: f, Seg: a.cur})
	}
}

// deliver hands over a segment that starts at h.next: its bytes from the
// frame's buffer (without copying), buffered bytes wherever they overlap
// it (the first copy wins), gaps for the bytes the capture cut off, then
// every buffered segment that became contiguous.
func (a *Assembler) deliver(c *conn, dir Direction, seq uint32, p []byte, missing int, f Frame, retrans *bool) {
	h := &c.half[dir]
	end := seq + uint32(len(p)+missing)
	popped := 0
	for {
		if popped < len(h.ooo) {
			s := &h.ooo[popped]
			if d := seqDiff(s.seq, h.next); d <= 0 {
				if a.trimStale(c, s, -d) {
					popped++
					continue
				}
				if off := seqDiff(h.next, seq); off < len(p) {
					n := min(len(p)-off, len(s.data))
					a.retransmitted(c, dir, n, f, retrans)
					if !bytes.Equal(p[off:off+n], s.data[:n]) {
						a.conflict(c, dir, f)
					}
				}
				a.emit(c, dir, s.data, f)
				a.unbuffer(c, len(s.data))
				popped++
				continue
			}
		}
		rem := seqDiff(end, h.next)
		if rem <= 0 {
			break
		}
		n := rem
		if popped < len(h.ooo) {
			n = min(n, seqDiff(h.ooo[popped].seq, h.next))
		}
		if off := seqDiff(h.next, seq); off < len(p) {
			n = min(n, len(p)-off)
			a.emit(c, dir, p[off:off+n], f)
		} else {
			// The bytes the IP header announces and the snap length cut.
			a.stats.SnapGaps++
			a.stats.SnapGapBytes += int64(n)
			a.gap(c, dir, n, f)
		}
	}
	a.dropBuffered(h, popped)
}

// trimStale drops the first n bytes of a buffered segment that are no
// longer after h.next (possible only with contradictory FINs); it reports
// whether nothing is left of it.
func (a *Assembler) trimStale(c *conn, s *oooSeg, n int) bool {
	if n == 0 {
		return false
	}
	n = min(n, len(s.data))
	a.unbuffer(c, n)
	s.data = s.data[n:]
	s.seq += uint32(n)
	return len(s.data) == 0
}

func (a *Assembler) emit(c *conn, dir Direction, b []byte, f Frame) {
	c.half[dir].next += uint32(len(b))
	a.stats.DeliveredBytes += int64(len(b))
	c.stream.Data(dir, b, f)
}

func (a *Assembler) gap(c *conn, dir Direction, n int, f Frame) {
	c.half[dir].next += uint32(n)
	a.stats.Gaps++
	a.stats.GapBytes += int64(n)
	c.stream.Gap(dir, n, f)
}

func (a *Assembler) conflict(c *conn, dir Direction, f Frame) {
	a.stats.Conflicts++
	c.stream.Event(Event{Kind: EventConflict, Dir: dir, Frame: f})
}

func (a *Assembler) unbuffer(c *conn, n int) {
	c.buffered -= int32(n)
	a.buffered -= n
}

// dropBuffered forgets the first n buffered segments (already delivered).
func (a *Assembler) dropBuffered(h *half, n int) {
	if n == 0 {
		return
	}
	h.ooo = slices.Delete(h.ooo, 0, n)
	if len(h.ooo) == 0 && cap(h.ooo) > 16 {
		h.ooo = nil
	}
}

// buffer keeps a copy of the bytes of an out-of-order segment (seq after
// h.next) that are not buffered yet, and compares those that are. When
// they do not fit under the bounds, the holes before the segment are
// declared lost, oldest first, until it fits or is in order.
func (a *Assembler) buffer(c *conn, dir Direction, seq uint32, p []byte, f Frame, retrans *bool) {
	h := &c.half[dir]
	for {
		rel := seqDiff(seq, h.next)
		if rel < 0 {
			// A hole given up below delivered buffered bytes that this
			// segment repeats.
			old := min(-rel, len(p))
			p, seq, rel = p[old:], seq+uint32(old), 0
		}
		if len(p) == 0 {
			return
		}
		if rel == 0 {
			a.deliver(c, dir, seq, p, 0, f, retrans)
			return
		}
		fresh := a.split(c, dir, seq, p, f, nil)
		if int(c.buffered)+fresh <= a.opt.MaxBufferedBytesPerConn && a.buffered+fresh <= a.opt.MaxBufferedBytes {
			break
		}
		a.stats.CapGaps++
		if len(h.ooo) > 0 && seqDiff(h.ooo[0].seq, seq) < 0 {
			a.stats.CapGapBytes += int64(seqDiff(h.ooo[0].seq, h.next))
			a.fillHole(c, dir, f)
			continue
		}
		a.stats.CapGapBytes += int64(rel)
		a.gap(c, dir, rel, f)
		a.deliver(c, dir, seq, p, 0, f, retrans)
		return
	}
	fresh := a.split(c, dir, seq, p, f, retrans)
	if fresh == 0 {
		return
	}
	a.stats.OutOfOrderSegments++
	a.stats.OutOfOrderBytes += int64(fresh)
	for _, pc := range a.pieces {
		s := oooSeg{seq: seq + uint32(pc.off), data: append([]byte(nil), p[pc.off:pc.off+pc.n]...), frame: f}
		k, _ := slices.BinarySearchFunc(h.ooo, s.seq, func(o oooSeg, seq uint32) int {
			return cmp.Compare(seqDiff(o.seq, seq), 0)
		})
		h.ooo = slices.Insert(h.ooo, k, s)
	}
	c.buffered += int32(fresh)
	a.buffered += fresh
	a.stats.MaxBuffered = max(a.stats.MaxBuffered, int64(a.buffered))
}

// split cuts the segment (seq, p) of dir into a.pieces that no buffered
// segment covers and returns their total size. With retrans set it also
// compares the covered bytes, reporting the retransmission and any
// conflict.
func (a *Assembler) split(c *conn, dir Direction, seq uint32, p []byte, f Frame, retrans *bool) int {
	h := &c.half[dir]
	a.pieces = a.pieces[:0]
	end := seq + uint32(len(p))
	// The first buffered segment that ends after seq.
	i, _ := slices.BinarySearchFunc(h.ooo, seq, func(s oooSeg, seq uint32) int {
		if seqDiff(s.end(), seq) > 0 {
			return 1
		}
		return -1
	})
	cur, fresh := seq, 0
	for j := i; j < len(h.ooo) && seqDiff(h.ooo[j].seq, end) < 0; j++ {
		s := &h.ooo[j]
		if d := seqDiff(s.seq, cur); d > 0 {
			a.pieces = append(a.pieces, piece{seqDiff(cur, seq), d})
			fresh += d
			cur = s.seq
		}
		oe := s.end()
		if seqDiff(end, oe) < 0 {
			oe = end
		}
		if n := seqDiff(oe, cur); n > 0 {
			if retrans != nil {
				po, so := seqDiff(cur, seq), seqDiff(cur, s.seq)
				a.retransmitted(c, dir, n, f, retrans)
				if !bytes.Equal(p[po:po+n], s.data[so:so+n]) {
					a.conflict(c, dir, f)
				}
			}
			cur = oe
		}
	}
	if d := seqDiff(end, cur); d > 0 {
		a.pieces = append(a.pieces, piece{seqDiff(cur, seq), d})
		fresh += d
	}
	return fresh
}

// fillHole declares the first hole of dir lost (a Gap proven by frame f)
// and delivers the buffered bytes that follow it.
func (a *Assembler) fillHole(c *conn, dir Direction, f Frame) {
	h := &c.half[dir]
	for len(h.ooo) > 0 {
		d := seqDiff(h.ooo[0].seq, h.next)
		if d >= 0 || !a.trimStale(c, &h.ooo[0], -d) {
			break
		}
		a.dropBuffered(h, 1)
	}
	var n int
	switch {
	case len(h.ooo) > 0:
		n = seqDiff(h.ooo[0].seq, h.next)
	case h.flags&(hFIN|hFINDone) == hFIN:
		n = seqDiff(h.finSeq, h.next)
	}
	if n > 0 {
		a.gap(c, dir, n, f)
	}
	popped := 0
	for popped < len(h.ooo) && h.ooo[popped].seq == h.next {
		s := &h.ooo[popped]
		a.emit(c, dir, s.data, s.frame)
		a.unbuffer(c, len(s.data))
		popped++
	}
	a.dropBuffered(h, popped)
	a.checkFIN(c, dir)
}

// checkFIN reports dir's FIN once every byte before it was delivered or
// declared lost.
func (a *Assembler) checkFIN(c *conn, dir Direction) {
	h := &c.half[dir]
	if h.flags&(hFIN|hFINDone) != hFIN || seqDiff(h.finSeq, h.next) > 0 {
		return
	}
	h.flags |= hFINDone
	if seqDiff(h.finSeq, h.next) >= 0 {
		h.next = h.finSeq + 1 // the FIN takes one sequence number
	}
	c.stream.Event(Event{Kind: EventFIN, Dir: dir, Frame: h.finFrame.frame()})
}

// acked uses an acknowledgment of dir's bytes: when the receiver
// acknowledges a hole and the buffered segment after it, it got them all,
// so the capture missed the hole and no retransmission will come; the hole
// is lost now, not at the end. (An acknowledgment of the hole alone is not
// proof enough: merged or multi-CPU captures can show an ACK just before
// the segment it acknowledges.)
func (a *Assembler) acked(c *conn, dir Direction, ack uint32, f Frame) {
	h := &c.half[dir]
	if h.flags&hKnown == 0 {
		switch {
		case h.flags&hUnseen == 0:
			h.unseenBase, h.unseenTop = ack, ack
			h.flags |= hUnseen
		case seqDiff(ack, h.unseenTop) > 0:
			h.unseenTop = ack
		}
		return
	}
	if h.flags&hAcked == 0 || seqDiff(ack, h.acked) > 0 {
		h.acked, h.ackFrame = ack, refOf(f)
		h.flags |= hAcked
		if bit := uint8(1) << dir; c.dataAcked&bit == 0 && seqDiff(ack, h.base) > 0 {
			c.dataAcked |= bit
			if o, ok := c.stream.(FirstAckObserver); ok {
				o.FirstAcked(dir, int64(seqDiff(ack, h.base)), f)
			}
		}
	}
	for len(h.ooo) > 0 && seqDiff(ack, h.ooo[0].end()) >= 0 {
		a.fillHole(c, dir, f)
	}
	if len(h.ooo) == 0 && h.flags&(hFIN|hFINDone) == hFIN && seqDiff(ack, h.finSeq) > 0 {
		a.fillHole(c, dir, f)
	}
}

// flushAll declares every remaining hole of c lost (frame f proved it) and
// delivers what was buffered, with any FIN behind it. Bytes the peer
// acknowledged that the capture never saw at the end of a direction are a
// gap too, proved by the end of the connection (f): a lost last flight (a server's
// whole answer, a client's alert) must not read as silence.
func (a *Assembler) flushAll(c *conn, f Frame) {
	for d := range c.half {
		h := &c.half[d]
		for len(h.ooo) > 0 {
			a.fillHole(c, Direction(d), f)
		}
		if h.flags&(hFIN|hFINDone) == hFIN {
			a.fillHole(c, Direction(d), f)
		}
		// More than one byte: an acknowledgment one past the last byte
		// seen is that of a FIN the capture missed.
		n := 0
		switch {
		case h.flags&(hKnown|hAcked|hFINDone) == hKnown|hAcked && seqDiff(h.acked, h.next) > 1:
			n = seqDiff(h.acked, h.next)
		case h.flags&(hKnown|hUnseen) == hUnseen && seqDiff(h.unseenTop, h.unseenBase) > 1:
			// Not one of the direction's bytes was captured, but the peer
			// acknowledged them.
			n = seqDiff(h.unseenTop, h.unseenBase)
		}
		if n == 0 {
			continue
		}
		if h.flags&hSeen == 0 {
			// Nor any of its packets: the capture holds the other
			// direction only.
			c.stream.Event(Event{Kind: EventUnseen, Dir: Direction(d), Frame: f})
		}
		a.gap(c, Direction(d), n, f)
	}
}

// finish closes c's stream and forgets it. A connection that ended with
// FIN or RST leaves a tombstone, so that its last ACKs do not look like a
// new connection picked up mid-stream.
func (a *Assembler) finish(c *conn, reason CloseReason, last Frame, closedBy int64) {
	if o, ok := c.stream.(AckObserver); ok {
		for d := range c.half {
			if h := &c.half[d]; h.flags&(hKnown|hAcked) == hKnown|hAcked {
				o.Acked(Direction(d), int64(seqDiff(h.acked, h.base)), h.ackFrame.frame())
			}
		}
	}
	for d := range c.half {
		h := &c.half[d]
		for _, s := range h.ooo {
			a.unbuffer(c, len(s.data))
		}
		h.ooo = nil
	}
	if c.lingering {
		a.reset.remove(c)
	} else if c.prev != nil || a.live.head == c {
		a.live.remove(c)
	}
	delete(a.conns, c.key)
	a.forget(c)
	a.stats.ConnsClosed++
	if reason == ClosedFIN || reason == ClosedRST {
		a.bury(c.key)
	} else if c.overTomb && len(a.tombs) > 0 {
		delete(a.tombs, c.key.tomb())
	}
	c.stream.Close(reason, last, closedBy)
	c.stream = nil
	if len(a.spare) < maxSpareConns {
		a.spare = append(a.spare, c)
	}
}

// maxSpareConns bounds the closed connections kept for open to reuse: a
// capture of short connections opens one about as often as it closes
// one, and a new conn was a cold allocation of 300 bytes to clear.
const maxSpareConns = 64

// tombChunk is the size of the pieces of the tombstone ring, allocated as
// it fills: one slice grown by append was copied at every doubling, half
// the cost of burying on a capture of short connections.
const tombChunk = 1024

func (a *Assembler) bury(k connKey) {
	t := tombstone{key: k.tomb(), at: a.now}
	n, i := a.tombPos/tombChunk, a.tombPos%tombChunk
	if n == len(a.tombRing) {
		a.tombRing = append(a.tombRing, make([]tombstone, min(tombChunk, a.maxTombs-n*tombChunk)))
	}
	slot := &a.tombRing[n][i]
	if a.tombsWrapped {
		// The oldest tombstone goes, unless its 4-tuple was buried again since.
		if at, ok := a.tombs[slot.key]; ok && at == slot.at {
			delete(a.tombs, slot.key)
		}
	}
	*slot = t
	if a.tombPos++; a.tombPos == a.maxTombs {
		a.tombPos, a.tombsWrapped = 0, true
	}
	a.tombs[t.key] = a.now
}

func (a *Assembler) tombstoned(k tombKey) bool {
	at, ok := a.tombs[k]
	if !ok {
		return false
	}
	if a.now-at > int64(tombstoneTTL) {
		delete(a.tombs, k)
		return false
	}
	return true
}

// touch marks c as seen now: it moves to the tail of its list.
func (a *Assembler) touch(c *conn) {
	c.seen = a.now
	l := &a.live
	if c.lingering {
		l = &a.reset
	}
	if l.tail == c {
		return
	}
	if c.prev != nil || l.head == c {
		l.remove(c)
	}
	l.push(c)
}

// discard is the Stream of a connection the Handler did not want.
type discard struct{}

func (discard) Data(Direction, []byte, Frame)   {}
func (discard) Gap(Direction, int, Frame)       {}
func (discard) Event(Event)                     {}
func (discard) Close(CloseReason, Frame, int64) {}
