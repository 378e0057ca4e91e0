package analysis

import (
	"container/list"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/quic"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/fingerprint"
)

// Options tune what the Builder records.
type Options struct {
	// Trace records every TLS-bearing frame in Connection.Trace.
	Trace bool
	// MaxTraceFrames caps Connection.Trace per connection; 0 means 1000.
	MaxTraceFrames int
	// TLSPorts are server ports, besides the well-known TLS ports and the
	// ports on which the capture shows TLS, where a connection without any
	// TLS (refused, unanswered, plaintext) is still reported: it was meant
	// to be TLS.
	TLSPorts []uint16
	// KeyLog, when set and not empty as a connection begins, decrypts the
	// connection's records (TLS 1.0 to 1.3) when it holds their secrets,
	// revealing certificates, ALPN, alerts, Finished messages and the
	// first application data. It makes the decoders keep encrypted
	// payloads, which costs a copy of every record. Secrets added while
	// the capture is read (a pcapng Decryption Secrets Block) open the
	// connections that begin after them.
	KeyLog *decrypt.KeyLog
	// Done, when set, receives each connection as soon as it is finalized
	// (live mode); the Builder then does not keep it.
	Done func(*Connection)
	// Early finalizes a connection as soon as its outcome is known — the
	// handshake completed, an alert, a reset, a non-TLS answer — instead of
	// at its close; the rest of it is then ignored. For live mode.
	Early bool
	// Emit, when set, receives the connections in first-frame order, each
	// as soon as no earlier one can still finish: the Builder keeps none
	// (Connections returns none), so memory does not grow with the
	// capture. Calls are never concurrent. Without Done.
	Emit func(*Connection)
	// IdleTimeout is the capture's (capture.Options.IdleTimeout, with its
	// default): with Done and NewBuilders, a connection that went idle
	// takes its place in the order at its deadline.
	IdleTimeout time.Duration
	// MaxPending caps the finished connections held back, without Done,
	// because an earlier one is still open; beyond it the oldest are let
	// go first (SequenceStats.Late). 0 means DefaultMaxPending.
	MaxPending int
	// Reuse, when set, supplies the records of a capture read from a
	// file: the caller hands back those it is done with (Records.Done).
	Reuse *Records
	// NamesOtherNames, when set, reports whether the verdict of c, a
	// connection whose named ClientHello got nothing back, names the
	// other names its server host completed handshakes under
	// (Connection.OtherNames). Only those are held until the capture's end
	// to find them all; nil holds every such connection. It is called
	// with the Builders' lock held and must not call back.
	NamesOtherNames func(c *Connection) bool
}

// Builder is a capture.Handler that builds a Connection for every TCP
// connection that carries TLS or was meant to.
type Builder struct {
	opt Options
	// seq orders the finished connections, and shard is this Builder's
	// index among those that share it; done collects what it emits when
	// Options.Emit is not set.
	seq   *sequencer
	shard int
	done  []*Connection
	// recent remembers the address pairs of connections finalized early
	// that the capture then expired as idle, so that their later packets,
	// seen as a new mid-stream connection, are not reported again. Oldest
	// first in recentOrder.
	recent      map[[2]netip.AddrPort]*list.Element
	recentOrder list.List
	certs       certCache
	// prints computes the connections' fingerprints, remembering those
	// of the hellos seen (a few clients open most connections).
	prints fingerprint.Memo
	// printsSeen are recent connections' fingerprints, which the next
	// connections with the same share (setPrints).
	printsSeen []*Fingerprints
	printsNext int
	// freeDirs are the parsing states of finished connections, for the
	// next ones (at most maxFreeDirs): a connection's two are 1.4 KiB, a
	// ninth of the bytes a read of many short connections allocated.
	freeDirs []*[2]direction
	// freeTrackers are the trackers of finished connections, for the next
	// ones (at most maxFreeDirs): a tracker per connection was a twentieth
	// of the bytes such a read allocated.
	freeTrackers []*tracker
	// quic follows the QUIC connections of the UDP datagrams, and
	// quicOpen holds their entries among the open connections.
	quic     *quic.Tracker
	quicOpen map[*quic.Conn]*openEntry
	// quicFrame is the frame by which the QUIC connections quic ends now
	// are closed: the datagram being read (it replaced one, or made room
	// for itself), or math.MaxInt64 at the capture's end. quicClosedBy is
	// set while Expire ends the idle ones: each is closed by the frame
	// whose time passed its deadline.
	quicFrame    int64
	quicClosedBy func(deadline time.Time) int64
	// dtls counts the DTLS seen, which is not analysed.
	dtls dtlsFlows
	// end is the capture's last frame, once the capture is over
	// (CaptureEnd).
	end capture.Frame
	// cur is the capture time of the frame being handled (Clock), and
	// ending is set once the capture ended (live mode's order).
	cur    int64
	ending bool
}

// CaptureEnd implements capture.EndObserver: the connections closed from
// now on were open when the capture ended.
func (b *Builder) CaptureEnd(last capture.Frame) {
	b.end = last
	b.seq.dns.captureEnd(last)
}

// setPrints sets c's fingerprints: its ClientHello's, if it has one,
// and its ServerHello's JA3S when server. Connections with the same
// fingerprints share them (they are never written once set): a few
// clients and servers make most connections, and an allocation per
// connection was ~10% of the allocations of a read of many short ones.
func (b *Builder) setPrints(c *Connection, transport byte, server bool) {
	if c.ClientHello == nil && !server {
		return
	}
	var p Fingerprints
	if c.Prints != nil {
		p = *c.Prints
	}
	if c.ClientHello != nil {
		_, p.JA3 = b.prints.JA3(c.ClientHello)
		ja4 := b.prints.JA4(c.ClientHello, transport)
		p.JA4, p.JA4R, p.JA4O, p.JA4RO = ja4.JA4, ja4.JA4R, ja4.JA4O, ja4.JA4RO
	}
	if server {
		_, p.JA3S = b.prints.JA3S(c.ServerHello)
	}
	for _, s := range b.printsSeen {
		// The strings come from b.prints, shared too: equal ones
		// compare at the cost of their pointers.
		if *s == p {
			c.Prints = s
			return
		}
	}
	s := new(Fingerprints)
	*s = p
	if len(b.printsSeen) < maxPrintsSeen {
		b.printsSeen = append(b.printsSeen, s)
	} else {
		b.printsSeen[b.printsNext] = s
		b.printsNext = (b.printsNext + 1) % maxPrintsSeen
	}
	c.Prints = s
}

// maxPrintsSeen bounds Builder.printsSeen.
const maxPrintsSeen = 16

// maxFreeDirs bounds Builder.freeDirs.
const maxFreeDirs = 64

// maxRecent bounds Builder.recent.
const maxRecent = 1 << 14

func pairKey(a, b netip.AddrPort) [2]netip.AddrPort {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}

func (b *Builder) remember(c *Connection) {
	if b.recent == nil {
		b.recent = make(map[[2]netip.AddrPort]*list.Element)
	}
	k := pairKey(c.Client, c.Server)
	if _, ok := b.recent[k]; ok {
		return
	}
	if b.recentOrder.Len() >= maxRecent {
		oldest := b.recentOrder.Front()
		delete(b.recent, oldest.Value.([2]netip.AddrPort))
		b.recentOrder.Remove(oldest)
	}
	b.recent[k] = b.recentOrder.PushBack(k)
}

func (b *Builder) forget(c *Connection) {
	k := pairKey(c.Client, c.Server)
	if e, ok := b.recent[k]; ok {
		b.recentOrder.Remove(e)
		delete(b.recent, k)
	}
}

// NewBuilder returns a Builder with the given options.
func NewBuilder(opt Options) *Builder {
	b := newBuilder(opt)
	b.seq = newSequencer(1, opt, b.emitter())
	return b
}

// NewBuilders returns n Builders for the parts of one capture split by
// connection (capture.RunFanout), for live mode (Options.Done): they share
// what the capture showed (the ports that carried TLS). They hand their
// connections to Done in the order of the capture time at which each
// outcome became known, whatever the number of parts and however their
// reads interleave (capture.Clocker), and call it from one goroutine at a
// time. Connections ends the capture: call it once RunFanout returned.
func NewBuilders(opt Options, n int) []*Builder {
	seq := newSequencer(n, opt, nil)
	if opt.Done != nil {
		seq.live = newLiveOrder(n, opt.Done)
	}
	bs := make([]*Builder, n)
	for i := range bs {
		b := newBuilder(opt)
		b.seq, b.shard = seq, i
		bs[i] = b
	}
	// Without Done, the first Builder's Connections returns them all.
	seq.emit = bs[0].emitter()
	return bs
}

func newBuilder(opt Options) *Builder {
	if opt.MaxTraceFrames == 0 {
		opt.MaxTraceFrames = 1000
	}
	return &Builder{opt: opt, cur: math.MinInt64}
}

// Clock implements capture.Clocker.
func (b *Builder) Clock(now, done int64) {
	if b.seq.live == nil {
		return
	}
	if now == math.MaxInt64 {
		b.ending = true
	} else {
		b.cur = max(b.cur, now)
	}
	b.seq.live.clock(b.shard, done)
}

// decided hands on a connection (live mode) decided at capture time at.
func (b *Builder) decided(c *Connection, at int64) {
	b.seq.dns.link(c)
	if b.seq.live == nil {
		b.opt.Done(c)
		return
	}
	if b.ending {
		at = math.MaxInt64
	}
	b.seq.live.report(c, at)
}

// emitter is where the Builder's connections go: Options.Emit, or done.
func (b *Builder) emitter() func(*Connection) {
	if b.opt.Emit != nil {
		return b.opt.Emit
	}
	return func(c *Connection) { b.done = append(b.done, c) }
}

// Progress implements capture.Progresser.
func (b *Builder) Progress(n int64) { b.seq.progress(b.shard, n) }

// Open implements capture.Handler. A connection that starts with a SYN
// costs little until something else than SYNs comes: a SYN flood must
// not fill memory with records of connections that never were.
func (b *Builder) Open(c capture.Conn) capture.Stream {
	if c.Server.Port() == DNSPort || !c.ClientKnown && c.Client.Port() == DNSPort {
		if c.Server.Port() != DNSPort {
			return &dnsStream{book: b.seq.dns, client: c.Server, server: c.Client, swapped: true}
		}
		return &dnsStream{book: b.seq.dns, client: c.Client, server: c.Server}
	}
	t := b.newTracker()
	late := t.late
	*t = tracker{b: b, conn: c, now: c.First.Number}
	if late != nil {
		// The state a finished connection kept past its hellos, emptied:
		// nothing in it reached that connection's record (settleAfter
		// copies the ticket frames out), and most connections need one.
		*late = lateState{ticketLikes: late.ticketLikes[:0]}
		t.late = late
	}
	if _, seen := b.recent[pairKey(c.Client, c.Server)]; seen && !c.ClientKnown {
		// The tail of a connection already reported (live mode).
		t.materialize()
		t.reported = true
		return t
	}
	if !c.ClientKnown {
		t.streams()
	}
	return t
}

// newTracker returns a tracker to overwrite: one a finished connection
// left (release), or a new one.
func (b *Builder) newTracker() *tracker {
	n := len(b.freeTrackers)
	if n == 0 {
		return new(tracker)
	}
	t := b.freeTrackers[n-1]
	b.freeTrackers[n-1] = nil
	b.freeTrackers = b.freeTrackers[:n-1]
	return t
}

// release keeps t, whose connection the capture closed, for the next
// one: after Close the capture never calls a Stream again (it forgets
// it), and nothing else holds a tracker. Live mode keeps none, as
// freeDirs.
func (t *tracker) release() {
	b := t.b
	if b.opt.Done == nil && len(b.freeTrackers) < maxFreeDirs {
		b.freeTrackers = append(b.freeTrackers, t)
	}
}

// materialize makes the connection's record from what Open and the SYNs
// before told. From then on the connection holds back, in read, the
// connections that began after it until it ends: unanswered SYNs do not.
func (t *tracker) materialize() {
	if t.c != nil {
		return
	}
	t.c = newRecord(t.b.reuse(), t.conn, int(t.syns), t.lastSYN)
	t.c.TCP.ClockBack, t.c.TCP.ClockBehind = t.clockBack, t.clockBehind
	if t.b.opt.Done == nil {
		t.open = t.b.seq.openedBy(t.conn.First.Number, t.now, t.conn.Client, t.conn.Server)
	}
}

// reuse is where the Builder takes its records from: Options.Reuse when
// a file is read. Live mode hands its records on before their connection
// is over (Done, Early), and keeps none.
func (b *Builder) reuse() *Records {
	if b.opt.Done != nil || b.opt.Early {
		return nil
	}
	return b.opt.Reuse
}

// newRecord is the record of a connection of which Open and syns SYNs, the
// last in frame lastSYN, were seen, made from one of from.
func newRecord(from *Records, c capture.Conn, syns int, lastSYN capture.Frame) *Connection {
	r := from.take()
	*r = Connection{
		Client:             c.Client,
		Server:             c.Server,
		First:              c.First,
		Last:               c.First,
		Partial:            !c.ClientKnown,
		Tunnel:             tunnelOf(c.Tunnel),
		ClientCertificates: -1,
		Roles:              RolesGuessed,
	}
	if c.ClientKnown {
		r.Roles = RolesFromSYN
		r.TCP.ClientISN = c.ISN
	}
	if syns > 0 {
		// Open came with the first SYN.
		r.TCP.SYN, r.TCP.SYNCount, r.Last = c.First, syns, lastSYN
	}
	return r
}

// streams makes the record and the parsing state of both directions, for
// the first bytes.
func (t *tracker) streams() {
	t.materialize()
	if t.dirs != nil {
		return
	}
	if n := len(t.b.freeDirs); n > 0 {
		t.dirs, t.b.freeDirs[n-1] = t.b.freeDirs[n-1], nil
		t.b.freeDirs = t.b.freeDirs[:n-1]
		t.dirs[0].reset()
		t.dirs[1].reset()
	} else {
		t.dirs = new([2]direction)
		for i := range t.dirs {
			t.dirs[i].chunks = t.dirs[i].small[:0]
		}
	}
	if !t.conn.ClientKnown {
		// The capture began mid-connection: the first bytes may be in the
		// middle of a record, so find the next record boundary instead of
		// calling them non-TLS.
		t.dirs[0].dec.Resync()
		t.dirs[1].dec.Resync()
	}
	if t.b.keyLogActive() {
		t.keyLog = true
		t.dirs[0].dec.KeepPayloads()
		t.dirs[1].dec.KeepPayloads()
	}
}

// Connections ends the capture for a Builder made by NewBuilder and
// returns the connections that carried TLS or were meant to, in
// first-frame order (then by client and server address): none when
// Options.Emit or Done took them.
func (b *Builder) Connections() []*Connection {
	b.seq.end()
	if b.seq.live != nil {
		b.seq.live.end()
	}
	return b.done
}

// Stats says what the Builder, with the others of its NewBuilders call,
// ignored, held or moved; it is final once Connections was called. Live
// mode (Options.Done) holds and moves nothing: it counts what was ignored,
// the DTLS, and the DNS not kept or malformed.
func (b *Builder) Stats() SequenceStats {
	b.seq.mu.Lock()
	defer b.seq.mu.Unlock()
	if b.opt.Done != nil {
		st := SequenceStats{Ignored: b.seq.stats.Ignored, DTLS: b.seq.stats.DTLS}
		st.DNSNotKept, st.DNSMalformed = b.seq.dns.counts()
		return st
	}
	return b.seq.stats
}

// SortConnections sorts connections by first frame, then by client and
// server address: the order Connections and Options.Emit give.
func SortConnections(cs []*Connection) {
	slices.SortStableFunc(cs, func(x, y *Connection) int {
		switch {
		case connLess(x, y):
			return -1
		case connLess(y, x):
			return 1
		}
		return 0
	})
}

// CarriesTLS reports whether any TLS was seen on the connection: a hello,
// an alert, application data, a Finished or a ChangeCipherSpec (a
// connection caught after its handshake shows only the later records).
func (c *Connection) CarriesTLS() bool {
	return c.ClientHello != nil || c.ServerHello != nil || c.HelloRetry != nil ||
		len(c.Alerts) > 0 || c.ClientSide.AppData.Records > 0 || c.ServerSide.AppData.Records > 0 ||
		c.ClientSide.Finished.Number != 0 || c.ServerSide.Finished.Number != 0 ||
		c.ClientSide.ChangeCipherSpec.Number != 0 || c.ServerSide.ChangeCipherSpec.Number != 0
}

// refused reports whether the server answered the SYN with a RST: nothing
// listened on its port.
func (c *Connection) refused() bool {
	t := &c.TCP
	return t.SYN.Number != 0 && t.SYNACK.Number == 0 && t.RST.Number != 0 && t.RSTFrom == capture.ServerToClient &&
		c.ClientSide.Bytes == 0 && c.ServerSide.Bytes == 0
}

// SilentAtEnd reports whether the connection's TCP handshake completed and
// then neither end sent a byte, a FIN or a RST until the capture ended:
// from the server's side of a path that dropped the client's hello, that
// is all there is to see.
func (c *Connection) SilentAtEnd() bool {
	t := &c.TCP
	return c.CaptureEnd.Number != 0 && t.SYN.Number != 0 && t.SYNACK.Number != 0 && c.Last.Number > t.SYNACK.Number &&
		c.ClientSide.Bytes == 0 && c.ServerSide.Bytes == 0 && len(t.Gaps) == 0 &&
		t.RST.Number == 0 && t.FIN[0].Number == 0 && t.FIN[1].Number == 0
}

// wellKnownTLSPorts are the IANA ports of protocols that start with TLS.
// They only decide whether a connection without any TLS is reported (it
// was meant to be TLS); roles come from the SYN or the ClientHello, never
// from ports.
var wellKnownTLSPorts = []uint16{
	443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 3269, 4433,
	5061, 5223, 5349, 6514, 6697, 8443, 8883, 9443,
}

// tunnelOf keeps a connection's tunnel, if any, out of line: most
// connections have none. It copies t into a new value rather than
// returning &t, which would move the parameter to the heap on every call,
// tunnel or not (an allocation per connection).
func tunnelOf(t capture.Tunnel) *capture.Tunnel {
	if t.Type == capture.TunnelNone {
		return nil
	}
	p := new(capture.Tunnel)
	*p = t
	return p
}

var _ capture.Handler = (*Builder)(nil)
