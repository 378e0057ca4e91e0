package analysis

import (
	"bytes"
	"container/list"
	"errors"
	"github.com/tlsdiag/tlsdiag/quic"
	"net/netip"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
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
	// MaxPending caps the finished connections held back, without Done,
	// because an earlier one is still open; beyond it the oldest are let
	// go first (SequenceStats.Late). 0 means DefaultMaxPending.
	MaxPending int
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
	// ignored counts the connections live mode (Options.Done) did not
	// report.
	ignored int
	// recent remembers the address pairs of connections finalized early
	// that the capture then expired as idle, so that their later packets,
	// seen as a new mid-stream connection, are not reported again. Oldest
	// first in recentOrder.
	recent      map[[2]netip.AddrPort]*list.Element
	recentOrder list.List
	certs       certCache
	// quic follows the QUIC connections of the UDP datagrams, and
	// quicOpen holds their entries among the open connections.
	quic     *quic.Tracker
	quicOpen map[*quic.Conn]*openEntry
}

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

func newBuilder(opt Options) *Builder {
	if opt.MaxTraceFrames == 0 {
		opt.MaxTraceFrames = 1000
	}
	return &Builder{opt: opt}
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
	t := &tracker{b: b, conn: c, now: c.First.Number}
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

// materialize makes the connection's record from what Open and the SYNs
// before told. From then on the connection holds back, in read, the
// connections that began after it until it ends: unanswered SYNs do not.
func (t *tracker) materialize() {
	if t.c != nil {
		return
	}
	t.c = newRecord(t.conn, t.syns, t.lastSYN)
	if t.b.opt.Done == nil {
		t.open = t.b.seq.opened(t.conn.First.Number)
	}
}

// newRecord is the record of a connection of which Open and syns SYNs, the
// last in frame lastSYN, were seen.
func newRecord(c capture.Conn, syns int, lastSYN capture.Frame) *Connection {
	r := &Connection{
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
	t.dirs = new([2]direction)
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
	return b.done
}

// Stats says what the Builder ignored, held or moved; it is final once
// Connections was called. In live mode (Options.Done) only Ignored counts.
func (b *Builder) Stats() SequenceStats {
	if b.opt.Done != nil {
		return SequenceStats{Ignored: b.ignored}
	}
	b.seq.mu.Lock()
	defer b.seq.mu.Unlock()
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

func (t *tracker) finish() {
	b, c := t.b, t.c
	if b.opt.Done == nil {
		b.seq.finished(c, t.now, t.open)
		return
	}
	b.seq.mu.Lock()
	wanted := b.seq.wanted(c, t.now)
	b.seq.mu.Unlock()
	if wanted {
		b.opt.Done(c)
	} else {
		b.ignored++
	}
}

// CarriesTLS reports whether any TLS was seen on the connection: a hello,
// an alert, application data, a Finished or a ChangeCipherSpec (a
// connection caught after its handshake shows only the later records).
func (c *Connection) CarriesTLS() bool {
	return c.ClientHello != nil || c.ServerHello != nil || c.HelloRetry != nil ||
		len(c.Alerts) > 0 || c.AppData[0].Records > 0 || c.AppData[1].Records > 0 ||
		c.Finished[0].Number != 0 || c.Finished[1].Number != 0 ||
		c.ChangeCipherSpec[0].Number != 0 || c.ChangeCipherSpec[1].Number != 0
}

// refused reports whether the server answered the SYN with a RST: nothing
// listened on its port.
func (c *Connection) refused() bool {
	t := &c.TCP
	return t.SYN.Number != 0 && t.SYNACK.Number == 0 && t.RST.Number != 0 && t.RSTFrom == capture.ServerToClient &&
		c.Bytes[0] == 0 && c.Bytes[1] == 0
}

// wellKnownTLSPorts are the IANA ports of protocols that start with TLS.
// They only decide whether a connection without any TLS is reported (it
// was meant to be TLS); roles come from the SYN or the ClientHello, never
// from ports.
var wellKnownTLSPorts = []uint16{
	443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 3269, 4433,
	5061, 5223, 5349, 6514, 6697, 8443, 8883, 9443,
}

// tracker follows one connection; it implements capture.Stream.
type tracker struct {
	b *Builder
	// c is the record, made (with dirs) by materialize once more than
	// SYNs came; until then conn, syns and lastSYN are all there is.
	c       *Connection
	conn    capture.Conn
	syns    int
	lastSYN capture.Frame
	// flip is set when capture's guess of the client turned out wrong: it
	// maps capture directions to the record's directions.
	flip bool
	dirs *[2]direction
	// hsDone is set once the handshake is over and only record headers
	// matter.
	hsDone bool
	// tls13ClientFinished is set when the client's first encrypted record
	// after the server's flight was seen (TLS 1.3).
	tls13ClientFinished bool
	// serverRecordsAfterDone counts the server's records after the
	// handshake, and serverAlertAfterDone says whether the first of them
	// had the size of an encrypted alert (TLS 1.3).
	serverRecordsAfterDone int
	serverAlertAfterDone   bool
	// late is the state of what follows the handshake, allocated when
	// first needed: most connections of a large capture never need it.
	late *lateState
	// keyLog is set when a key log with secrets was there as the
	// connection began; keys decrypt each record direction, when the key
	// log has them; pending12 are the keys a TLS ≤ 1.2 side switches to
	// at its ChangeCipherSpec; renegotiationRandom is the random of a
	// renegotiating ClientHello.
	keyLog              bool
	keys                [2]*sideKeys
	pending12           [2]*decrypt.Decrypter12
	renegotiationRandom []byte
	// reported is set once the connection was finalized early; later
	// traffic is ignored.
	reported bool
	// now is the number of the latest frame of the connection handled;
	// open is its entry among the open connections (not in live mode);
	// sawTLS is set once the sequencer knows it carries TLS.
	now    int64
	open   *openEntry
	sawTLS bool
	// proxy holds the first bytes while the connection may open with a
	// proxy negotiation; proxyOff is set once it cannot or did.
	proxy    *proxyHead
	proxyOff bool
	// snap is, per capture direction, the last frame cut by the snap
	// length: the Gap in that frame is the bytes it cut.
	snap *[2]snapCut
	// path holds the header facts of PathFacts (path.go).
	path pathState
}

// tunnelOf keeps a connection's tunnel, if any, out of line: most
// connections have none.
func tunnelOf(t capture.Tunnel) *capture.Tunnel {
	if t.Type == capture.TunnelNone {
		return nil
	}
	return &t
}

type snapCut struct {
	frame int64
	len   int
}

// direction is the per-direction parsing state.
type direction struct {
	dec     tlsparse.Decoder
	offset  int64   // stream bytes delivered so far
	chunks  []chunk // which frame carried which stream bytes, oldest first
	tlsSeen bool    // a valid TLS record was seen
	// pending holds items whose record is not complete yet (their Body is
	// a copy); done is the end offset of the last item handled.
	pending []tlsparse.Item
	done    int64
	// head keeps the first bytes of a stream that has shown no TLS yet,
	// to read a plaintext HTTP response head (parseHTTPResponse).
	head []byte
}

// chunk is a range of stream bytes carried by one frame.
type chunk struct {
	end   int64 // one past the last byte
	frame capture.Frame
}

// maxChunks caps the frame map of one direction; a handshake message
// spanning more segments is attributed to the oldest frames kept.
const maxChunks = 4096

func (t *tracker) dir(d capture.Direction) capture.Direction {
	if t.flip {
		return d.Reverse()
	}
	return d
}

func (t *tracker) Data(d capture.Direction, b []byte, f capture.Frame) {
	if t.reported {
		return
	}
	t.streams()
	t.c.Last = f
	t.now = max(t.now, f.Number)
	t.c.Bytes[t.dir(d)] += int64(len(b))
	t.pathData(d, f)
	ds := &t.dirs[d]
	t.watchProxy(d, b, ds.offset, f)
	ds.offset += int64(len(b))
	if len(ds.chunks) < maxChunks {
		ds.chunks = append(ds.chunks, chunk{end: ds.offset, frame: f})
	} else {
		ds.chunks[len(ds.chunks)-1] = chunk{end: ds.offset, frame: f}
	}
	if !ds.tlsSeen && len(ds.head) < httpHeadMax {
		ds.head = append(ds.head, b[:min(len(b), httpHeadMax-len(ds.head))]...)
	}
	t.drainPending(d, false)
	ds.dec.Feed(b)
	for {
		it, ok := ds.dec.Next()
		if !ok {
			break
		}
		if len(ds.pending) > 0 || it.RecordEnd > ds.offset {
			// The record is not complete yet: Wireshark shows its messages
			// in the frame that completes it, so wait for that frame.
			it.Body = bytes.Clone(it.Body)
			ds.pending = append(ds.pending, it)
			continue
		}
		t.item(d, &it)
		ds.done = it.End
	}
	t.drainPending(d, false)
	keep := ds.done
	if len(ds.pending) > 0 {
		keep = min(keep, ds.pending[0].Start)
	}
	ds.trim(keep)
	t.reportIfKnown()
}

// reportIfKnown finalizes the connection early (Options.Early) once its
// outcome cannot change any more.
func (t *tracker) reportIfKnown() {
	c := t.c
	if !t.b.opt.Early || t.reported {
		return
	}
	known := c.TCP.RST.Number != 0 || c.NonTLS[0] != nil || c.NonTLS[1] != nil || c.proxyDecided()
	for _, a := range c.Alerts {
		known = known || a.Encrypted || a.Level == tlsparse.AlertLevelFatal
	}
	if t.hsDone && c.AppData[capture.ClientToServer].Records > 0 {
		// The client sending data shows it accepted the handshake (curl
		// checks the name only after it, and hangs up without data).
		// TLS 1.3: the server's first record after the client's Finished
		// tells acceptance (a ticket or data) from rejection (an alert).
		known = known || !c.Version.IsTLS13() || t.serverRecordsAfterDone > 0 || c.Decrypted
	}
	if !known {
		return
	}
	t.reported = true
	t.finalize()
	t.b.remember(c)
	t.finish()
}

// drainPending handles the items whose record is now complete, or all of
// them when the stream will not grow (a gap or the end).
func (t *tracker) drainPending(d capture.Direction, all bool) {
	if t.dirs == nil {
		return // no bytes came
	}
	ds := &t.dirs[d]
	n := 0
	for n < len(ds.pending) && (all || ds.pending[n].RecordEnd <= ds.offset) {
		it := &ds.pending[n]
		t.item(d, it)
		ds.done = it.End
		n++
	}
	ds.pending = ds.pending[:copy(ds.pending, ds.pending[n:])]
}

// unfinishedTail records the bytes of direction d that never completed
// a TLS record, and lists the frames that carried them in the trace:
// without them a server that answers one byte a second would look as if
// it never answered. Bytes that are no TLS record, a connection with a
// side that is not TLS (or SSLv2), and a direction that lost bytes are
// explained by their NonTLS, prelude or gaps instead.
func (t *tracker) unfinishedTail(d capture.Direction) {
	if t.dirs == nil {
		return
	}
	ds, rd, c := &t.dirs[d], t.dir(d), t.c
	if ds.offset <= ds.done || !ds.dec.InRecord() || c.NonTLS[0] != nil || c.NonTLS[1] != nil || c.ClientHelloSSLv2 || len(ds.chunks) == 0 ||
		slices.ContainsFunc(c.TCP.Gaps, func(g Gap) bool { return g.Dir == rd }) {
		return
	}
	u := Unfinished{Bytes: ds.offset - ds.done}
	var listed map[int64]bool
	for _, ch := range ds.chunks {
		if ch.end <= ds.done {
			continue
		}
		if u.Frames == 0 {
			u.First = ch.frame
			listed = t.tracedSince(rd, ch.frame.Number)
		}
		u.Frames++
		u.Last = ch.frame
		if t.b.opt.Trace && !listed[ch.frame.Number] {
			t.trace(rd, ch.frame, TraceItem{Segment: true})
		}
	}
	if u != (Unfinished{}) {
		if c.Unfinished == nil {
			c.Unfinished = new([2]Unfinished)
		}
		c.Unfinished[rd] = u
	}
}

// tracedSince returns the frames of direction d from frame n on that the
// trace lists already (a frame that completed one record and began the
// unfinished one).
func (t *tracker) tracedSince(d capture.Direction, n int64) map[int64]bool {
	m := map[int64]bool{}
	tr := t.c.Trace
	for i := len(tr) - 1; i >= 0 && tr[i].Frame.Number >= n; i-- {
		if tr[i].Dir == d {
			m[tr[i].Frame.Number] = true
		}
	}
	return m
}

// trim forgets the frames of bytes before off.
func (ds *direction) trim(off int64) {
	i := 0
	for i < len(ds.chunks) && ds.chunks[i].end <= off {
		i++
	}
	if i > 0 {
		n := copy(ds.chunks, ds.chunks[i:])
		ds.chunks = ds.chunks[:n]
	}
}

// completedAt returns the frame that completed the stream bytes [from, to):
// the latest of the frames that carried them, which is not the frame of the
// last byte when an earlier hole was filled by a retransmission. Wireshark
// shows a reassembled record in that frame.
func (ds *direction) completedAt(from, to int64) capture.Frame {
	var f capture.Frame
	start := int64(-1 << 62)
	for _, c := range ds.chunks {
		if c.end > from && start < to && c.frame.Number > f.Number {
			f = c.frame
		}
		start = c.end
		if start >= to {
			break
		}
	}
	if f.Number == 0 {
		return ds.frameAt(to - 1)
	}
	return f
}

// frameAt returns the frame that carried stream byte off.
func (ds *direction) frameAt(off int64) capture.Frame {
	for _, c := range ds.chunks {
		if off < c.end {
			return c.frame
		}
	}
	if len(ds.chunks) > 0 {
		return ds.chunks[len(ds.chunks)-1].frame
	}
	return capture.Frame{}
}

func (t *tracker) Gap(d capture.Direction, n int, f capture.Frame) {
	if t.reported {
		return
	}
	t.streams()
	t.now = max(t.now, f.Number)
	t.drainPending(d, true)
	t.pathGap(d)
	ds := &t.dirs[d]
	g := Gap{Dir: t.dir(d), Offset: ds.offset, Size: n, Frame: f}
	if t.snap != nil && t.snap[d].frame == f.Number {
		g.SnapLen = t.snap[d].len
	}
	t.c.TCP.Gaps = appendCapped(t.c.TCP.Gaps, g, maxGaps)
	ds.offset += int64(n)
	ds.dec.Gap(n)
	if it, ok := ds.dec.Next(); ok && it.Missing > 0 {
		t.cutClientHello(d, &it, ds.frameAt(it.End-1))
	}
	ds.chunks = ds.chunks[:0]
}

const maxGaps = 64

func appendCapped[T any](s []T, v T, max int) []T {
	if len(s) >= max {
		return s
	}
	return append(s, v)
}

func (t *tracker) Event(ev capture.Event) {
	if t.reported {
		return
	}
	t.pathEvent(ev)
	if ev.Kind == capture.EventSYN && t.c == nil {
		t.syns++
		t.lastSYN = ev.Frame
		t.now = max(t.now, ev.Frame.Number)
		return
	}
	t.materialize()
	defer t.reportIfKnown()
	c := &t.c.TCP
	t.c.Last = ev.Frame
	t.now = max(t.now, ev.Frame.Number)
	d := t.dir(ev.Dir)
	switch ev.Kind {
	case capture.EventSYN:
		if c.SYN.Number == 0 {
			c.SYN = ev.Frame
		}
		c.SYNCount++
	case capture.EventSYNACK:
		if c.SYNACK.Number == 0 {
			c.SYNACK = ev.Frame
		}
	case capture.EventRST:
		if c.RST.Number == 0 {
			c.RST, c.RSTFrom = ev.Frame, d
		}
	case capture.EventFIN:
		if c.FIN[d].Number == 0 {
			c.FIN[d] = ev.Frame
		}
	case capture.EventRetransmission:
		c.Retransmissions++
	case capture.EventZeroWindow:
		c.ZeroWindow++
	case capture.EventConflict:
		c.Conflicts++
		t.anomaly(tlsparse.AnomalyTCPOverlapConflict)
	case capture.EventSnapCut:
		if t.snap == nil {
			t.snap = new([2]snapCut)
		}
		t.snap[ev.Dir] = snapCut{frame: ev.Frame.Number, len: ev.Snap}
	}
}

func (t *tracker) Close(reason capture.CloseReason, last capture.Frame) {
	if t.c == nil && t.b.opt.Done == nil {
		// Only SYNs, never answered: the sequencer keeps a small note of
		// it and lists it at the end.
		t.b.seq.unanswered(unansweredConn{conn: t.conn, syns: t.syns, lastSYN: t.lastSYN,
			reason: reason, end: max(t.now, last.Number)})
		return
	}
	t.materialize()
	if t.reported {
		if reason != capture.ClosedIdle && reason != capture.ClosedEvicted {
			// Really over: the capture absorbs its last packets itself.
			t.b.forget(t.c)
		}
		return
	}
	t.drainPending(capture.ClientToServer, true)
	t.drainPending(capture.ServerToClient, true)
	t.unfinishedTail(capture.ClientToServer)
	t.unfinishedTail(capture.ServerToClient)
	c := t.c
	c.TCP.Close = reason
	if last.Number > c.Last.Number {
		c.Last = last
	}
	t.now = max(t.now, last.Number)
	t.finalize()
	t.finish()
}

func (t *tracker) anomaly(id tlsparse.Anomaly) {
	if slices.Contains(t.c.Anomalies, id) {
		return
	}
	t.c.Anomalies = appendCapped(t.c.Anomalies, id, maxAnomalies)
}

const maxAnomalies = 32

// item records one decoded record or handshake message. d is the capture
// direction it came from.
func (t *tracker) item(d capture.Direction, it *tlsparse.Item) {
	ds := &t.dirs[d]
	end := min(it.RecordEnd, ds.offset)
	last := ds.completedAt(end-5-int64(it.Record.Length), end)
	if it.Kind != tlsparse.KindNonTLS && it.Kind != tlsparse.KindMalformed {
		ds.tlsSeen, ds.head = true, nil
	}
	t.decideRoles(d, it)
	t.pathHello(d, it)
	if ds.tlsSeen && !t.sawTLS {
		// After decideRoles: the server may have been the other end.
		t.sawTLS = true
		t.b.seq.sawTLS(t.c.Server, t.now)
	}
	rd := t.dir(d)
	c := t.c
	if t.openRecord(rd, it, last) {
		return
	}
	ti := TraceItem{Kind: it.Kind}
	switch it.Kind {
	case tlsparse.KindHandshake:
		ti.Handshake = it.HandshakeType
		t.handshake(rd, it, last, &ti)
	case tlsparse.KindSSLv2ClientHello:
		if ch, err := tlsparse.ParseSSLv2ClientHello(it.Body); err == nil && c.ClientHello == nil {
			c.ClientHello, c.ClientHelloFrame, c.ClientHelloSSLv2 = ch, last, true
		} else if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedSSLv2ClientHello)
		}
	case tlsparse.KindSSLv2ServerHello:
		t.sslv2ServerHello(it, last)
	case tlsparse.KindSSLv2Record:
		t.sslv2Record(rd, it, last, &ti)
	case tlsparse.KindChangeCipherSpec:
		if c.ChangeCipherSpec[rd].Number == 0 {
			c.ChangeCipherSpec[rd] = last
		}
		t.changeCipherSpec(rd)
	case tlsparse.KindEncryptedHandshake:
		if c.Finished[rd].Number == 0 {
			c.Finished[rd] = last
		}
		t.checkDone(last)
	case tlsparse.KindAlert:
		ti.Alert, ti.Encrypted = it.Alert, it.Encrypted
		t.alert(rd, it.Alert, it.Encrypted, last)
	case tlsparse.KindApplicationData:
		t.appData(rd, it, last, &ti)
	case tlsparse.KindHeartbeat:
		t.anomaly(tlsparse.AnomalyHeartbeat)
	case tlsparse.KindNonTLS:
		ti.NonTLS = it.NonTLS
		if c.Proxy != nil {
			// The proxy negotiation, not a peer speaking something else.
			if c.Prelude[rd] == nil {
				c.Prelude[rd] = &NonTLS{Frame: last, Looks: it.NonTLS}
			}
		} else if c.NonTLS[rd] == nil {
			c.NonTLS[rd] = &NonTLS{Frame: last, Looks: it.NonTLS}
		}
	case tlsparse.KindMalformed:
		if errors.Is(it.Err, tlsparse.ErrOversized) {
			t.anomaly(tlsparse.AnomalyOversizedHandshakeMessage)
		} else {
			t.anomaly(tlsparse.AnomalyMalformedRecord)
		}
	}
	t.trace(rd, last, ti)
}

// decideRoles settles who the client is from the first hello, when the
// SYN was not captured.
func (t *tracker) decideRoles(d capture.Direction, it *tlsparse.Item) {
	c := t.c
	if c.Roles != RolesGuessed {
		return
	}
	var fromClient bool
	switch {
	case it.Kind == tlsparse.KindSSLv2ClientHello,
		it.Kind == tlsparse.KindHandshake && it.HandshakeType == tlsparse.HandshakeTypeClientHello:
		fromClient = true
	case it.Kind == tlsparse.KindSSLv2ServerHello,
		it.Kind == tlsparse.KindHandshake && it.HandshakeType == tlsparse.HandshakeTypeServerHello:
		fromClient = false
	default:
		return
	}
	c.Roles = RolesFromClientHello
	if fromClient == (d == capture.ClientToServer) {
		return
	}
	t.flip = true
	c.Client, c.Server = c.Server, c.Client
	t.flipFacts()
}

// flipFacts swaps the per-direction facts recorded before the roles were
// known.
func (t *tracker) flipFacts() {
	c := t.c
	c.ChangeCipherSpec[0], c.ChangeCipherSpec[1] = c.ChangeCipherSpec[1], c.ChangeCipherSpec[0]
	c.Finished[0], c.Finished[1] = c.Finished[1], c.Finished[0]
	c.NonTLS[0], c.NonTLS[1] = c.NonTLS[1], c.NonTLS[0]
	c.AppData[0], c.AppData[1] = c.AppData[1], c.AppData[0]
	c.Bytes[0], c.Bytes[1] = c.Bytes[1], c.Bytes[0]
	c.TCP.FIN[0], c.TCP.FIN[1] = c.TCP.FIN[1], c.TCP.FIN[0]
	c.TCP.RSTFrom = c.TCP.RSTFrom.Reverse()
	for i := range c.Alerts {
		c.Alerts[i].Sender = c.Alerts[i].Sender.Reverse()
	}
	for i := range c.TCP.Gaps {
		c.TCP.Gaps[i].Dir = c.TCP.Gaps[i].Dir.Reverse()
	}
	for i := range c.Trace {
		c.Trace[i].Dir = c.Trace[i].Dir.Reverse()
	}
}

// cutClientHello keeps the readable start of a ClientHello that a gap cut
// short, unless a whole one was seen. It is no trace item: Wireshark does
// not dissect a message it could not reassemble either.
func (t *tracker) cutClientHello(d capture.Direction, it *tlsparse.Item, f capture.Frame) {
	c := t.c
	ch, err := tlsparse.ParseClientHelloPrefix(it.Body)
	if err != nil {
		return
	}
	t.decideRoles(d, it)
	if c.ClientHello == nil && c.CutClientHello == nil {
		c.CutClientHello, c.CutClientHelloFrame, c.CutClientHelloSize = ch, f, len(it.Body)+it.Missing
	}
}

func (t *tracker) trace(d capture.Direction, f capture.Frame, ti TraceItem) {
	c := t.c
	if !t.b.opt.Trace {
		return
	}
	if n := len(c.Trace); n > 0 && c.Trace[n-1].Frame.Number == f.Number && c.Trace[n-1].Dir == d {
		c.Trace[n-1].Items = append(c.Trace[n-1].Items, ti)
		return
	}
	if len(c.Trace) >= t.b.opt.MaxTraceFrames {
		c.TraceOmitted++
		return
	}
	c.Trace = append(c.Trace, TraceFrame{Frame: f, Dir: d, Items: []TraceItem{ti}})
}

func (t *tracker) handshake(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) {
	c := t.c
	switch it.HandshakeType {
	case tlsparse.HandshakeTypeClientHello:
		ch, err := tlsparse.ParseClientHello(it.Body)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedClientHello)
			return
		}
		ti.SNI = ch.ServerName
		t.promotePrelude()
		switch {
		case c.ClientHello == nil:
			c.ClientHello, c.ClientHelloFrame = ch, f
		case c.HelloRetry != nil && c.RetryClientHello == nil:
			c.RetryClientHello, c.RetryClientHelloFrame = ch, f
		default:
			t.anomaly(tlsparse.AnomalyRepeatedClientHello)
		}
		for _, a := range ch.Anomalies {
			t.anomaly(a)
		}
	case tlsparse.HandshakeTypeServerHello:
		sh, err := tlsparse.ParseServerHello(it.Body)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedServerHello)
			return
		}
		t.promotePrelude()
		for _, a := range sh.Anomalies {
			t.anomaly(a)
		}
		if sh.HelloRetryRequest {
			ti.HelloRetry = true
			if c.HelloRetry == nil {
				c.HelloRetry, c.HelloRetryFrame = sh, f
			}
			return
		}
		if c.ServerHello != nil {
			t.anomaly(tlsparse.AnomalyRepeatedServerHello)
			return
		}
		c.ServerHello, c.ServerHelloFrame = sh, f
		c.Version = sh.NegotiatedVersion()
		c.Cipher = sh.CipherSuite
		c.ALPN = sh.ALPN
		if c.Version.IsTLS13() {
			c.Group = sh.KeyShare
			c.Resumed = sh.PreSharedKey
			// Everything after the ServerHello is encrypted in TLS 1.3.
			t.dirs[t.captureDir(capture.ServerToClient)].dec.SetEncrypted()
			t.setupDecryption()
		} else {
			if c.ClientHello != nil && len(sh.SessionID) > 0 && string(sh.SessionID) == string(c.ClientHello.SessionID) {
				c.Resumed = true
			}
			if c.ClientHello != nil {
				t.setupDecryption12(c.ClientHello.Random, sh)
			}
		}
	case tlsparse.HandshakeTypeCertificate:
		cert, err := tlsparse.ParseCertificate(it.Body, c.Version)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedCertificate)
			return
		}
		if d == capture.ClientToServer {
			c.ClientCertificates, c.ClientCertificateFrame = len(cert.Certificates), f
			return
		}
		if c.Certificates != nil {
			return
		}
		c.CertificateFrame = f
		c.Certificates = make([]Certificate, 0, len(cert.Certificates))
		for _, der := range cert.Certificates {
			c.Certificates = append(c.Certificates, t.b.certs.get(der))
		}
	case tlsparse.HandshakeTypeServerKeyExchange:
		ske, err := tlsparse.ParseServerKeyExchange(it.Body, c.Cipher)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedServerKeyExchange)
			return
		}
		c.ServerKeyExchange, c.ServerKeyExchangeFrame = ske, f
		if ske.Group != 0 {
			c.Group = ske.Group
		}
	case tlsparse.HandshakeTypeCertificateRequest:
		cr, err := tlsparse.ParseCertificateRequest(it.Body, c.Version)
		if err != nil {
			t.anomaly(tlsparse.AnomalyMalformedCertificateRequest)
			return
		}
		c.CertificateRequest, c.CertificateRequestFrame = cr, f
	case tlsparse.HandshakeTypeServerHelloDone:
		c.ServerHelloDoneFrame = f
	}
}

// sslv2ServerHello records a server that answered in SSLv2: the version it
// chose and its certificate. SSLv2 has no server-side negotiation of a
// cipher; the client picks one of the server's in CLIENT-MASTER-KEY.
func (t *tracker) sslv2ServerHello(it *tlsparse.Item, f capture.Frame) {
	c := t.c
	sh, err := tlsparse.ParseSSLv2ServerHello(it.Body)
	if err != nil {
		t.anomaly(tlsparse.AnomalyMalformedSSLv2ServerHello)
		return
	}
	if c.ServerHello != nil {
		t.anomaly(tlsparse.AnomalyRepeatedServerHello)
		return
	}
	t.promotePrelude()
	c.ServerHelloSSLv2, c.ServerHelloFrame = sh, f
	c.ServerHello = &tlsparse.ServerHello{Raw: sh.Raw, Version: sh.Version}
	c.Version = sh.Version
	c.Resumed = sh.SessionIDHit
	if len(sh.Certificate) > 0 && c.Certificates == nil {
		c.CertificateFrame = f
		c.Certificates = []Certificate{t.b.certs.get(sh.Certificate)}
	}
}

// sslv2Record follows an SSLv2 handshake past the hellos
// (draft-hickman-netscape-ssl-00): the client sends CLIENT-MASTER-KEY (in
// plaintext; none on a session-id hit) and CLIENT-FINISHED, the server
// SERVER-VERIFY and SERVER-FINISHED, all but the first encrypted. The
// handshake is over with the server's second record after its hello;
// records after that are application data.
func (t *tracker) sslv2Record(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) {
	c := t.c
	if c.ServerHelloSSLv2 == nil {
		return // an SSLv2-compatible hello answered by something else
	}
	if t.hsDone {
		t.countAppData(d, it, f, nil)
		return
	}
	l := t.lateFacts()
	l.sslv2Records[d]++
	if d == capture.ClientToServer && l.sslv2Records[d] == 1 {
		if cs, ok := tlsparse.SSLv2ClientMasterKeyCipher(it.Body); ok {
			c.SSLv2Cipher, ti.SSLv2MasterKey = cs, true
			return
		}
	}
	if c.Finished[d].Number == 0 || d == capture.ServerToClient {
		c.Finished[d] = f
	}
	if d == capture.ServerToClient && l.sslv2Records[d] >= 2 && l.sslv2Records[capture.ClientToServer] >= 1 {
		t.hsDone = true
		c.HandshakeDone = f
	}
}

// promotePrelude moves plaintext seen before the hellos to Prelude: the
// connection upgraded to TLS (STARTTLS and friends), the peer was not
// speaking something else instead of TLS.
func (t *tracker) promotePrelude() {
	c := t.c
	for i, n := range c.NonTLS {
		if n != nil {
			c.Prelude[i], c.NonTLS[i] = n, nil
		}
	}
}

// captureDir maps a record direction back to capture's direction.
func (t *tracker) captureDir(d capture.Direction) capture.Direction { return t.dir(d) }

func (t *tracker) alert(d capture.Direction, a tlsparse.Alert, encrypted bool, f capture.Frame) {
	c := t.c
	if len(c.Alerts) >= maxAlerts {
		t.anomaly(tlsparse.AnomalyTooManyAlerts)
		return
	}
	al := Alert{Frame: f, Sender: d, Encrypted: encrypted}
	if !encrypted {
		al.Level, al.Description = a.Level, a.Description
	}
	c.Alerts = append(c.Alerts, al)
}

const maxAlerts = 16

// appData handles a record of type application_data. In TLS 1.3 the
// handshake after the ServerHello travels in such records too, so until the
// client's Finished they are the encrypted handshake.
func (t *tracker) appData(d capture.Direction, it *tlsparse.Item, f capture.Frame, ti *TraceItem) {
	c := t.c
	if c.Version.IsTLS13() && !t.hsDone {
		alertSized := it.Record.Length == encryptedAlertLength(c.Cipher)
		if d == capture.ServerToClient {
			if c.Finished[d].Number == 0 {
				c.Finished[d] = f
			}
			ti.Kind = tlsparse.KindEncryptedHandshake
			return
		}
		if alertSized {
			// A TLS 1.3 client that rejects the server's flight sends one
			// short encrypted alert and closes; its Finished is longer.
			ti.Kind, ti.Encrypted = tlsparse.KindAlert, true
			t.alert(d, tlsparse.Alert{}, true, f)
			return
		}
		if c.Finished[d].Number == 0 {
			c.Finished[d] = f
			c.ClientFlightRecords = append(c.ClientFlightRecords, int(it.Record.Length))
			ti.Kind = tlsparse.KindEncryptedHandshake
			t.tls13ClientFinished = true
			t.checkDone(f)
			return
		}
	}
	if c.Version.IsTLS13() && d == capture.ClientToServer && len(c.ClientFlightRecords) == 1 {
		c.ClientFlightRecords = append(c.ClientFlightRecords, int(it.Record.Length))
	}
	if c.Version.IsTLS13() && d == capture.ServerToClient {
		if t.serverRecordsAfterDone == 0 {
			t.serverAlertAfterDone = it.Record.Length == encryptedAlertLength(c.Cipher)
		}
		t.serverRecordsAfterDone++
	}
	t.countAppData(d, it, f, nil)
}

// countAppData counts an application data record; plain is its
// decrypted content, or nil.
func (t *tracker) countAppData(d capture.Direction, it *tlsparse.Item, f capture.Frame, plain []byte) {
	a := &t.c.AppData[d]
	if a.Records == 0 {
		a.First = f
	}
	a.Records++
	a.Bytes += int64(it.Record.Length)
	if t.hsDone {
		t.afterHandshake(d, it, f, plain)
	}
}

// afterHandshake follows the request and the answer (see AfterHandshake).
// Server records after the request that look like session tickets are
// held back in ticketLike until finalize settles whether they were.
func (t *tracker) afterHandshake(d capture.Direction, it *tlsparse.Item, f capture.Frame, plain []byte) {
	c := t.c
	if c.After == nil {
		c.After = &AfterHandshake{}
	}
	a := c.After
	l := t.lateFacts()
	if plain != nil && a.Request.Number == 0 && d == capture.ClientToServer && bytes.HasPrefix(plain, []byte(http2Preface)) {
		l.http2 = true
	}
	line := firstLine
	if l.http2 && plain != nil {
		// HTTP/2: the records that carry only the connection's own
		// frames (the preface, SETTINGS) are neither the request nor
		// its answer.
		exchange, block := h2Exchange(plain)
		if !exchange {
			return
		}
		line = func([]byte) string { return h2Line(block) }
	}
	switch {
	case d == capture.ClientToServer:
		if a.Request.Number == 0 {
			a.Request, a.RequestLine = f, line(plain)
		}
	case a.Request.Number == 0:
		a.ServerFirst++
	case a.Response.Number != 0 || l.afterNext.Number != 0:
	case plain == nil && t.ticketLike(it, f):
		if len(l.ticketLikes) < maxTicketLike {
			l.ticketLikes = append(l.ticketLikes, f)
		} else {
			l.afterNext = f
		}
	case plain != nil:
		// Decrypted: tickets never get here, this is the answer.
		a.Response, a.ResponseLine = f, line(plain)
	default:
		l.afterNext = f
	}
}

// lateState follows a connection past its hellos.
type lateState struct {
	// ticketLikes are the server's records after the request that have
	// the size and timing of session tickets, and afterNext its first
	// record after the request that does not (see settleAfter).
	ticketLikes []capture.Frame
	afterNext   capture.Frame
	// sslv2Records counts each direction's SSLv2 records after an SSLv2
	// SERVER-HELLO.
	sslv2Records [2]int
	// http2 is set when the client's first decrypted data is the HTTP/2
	// connection preface.
	http2 bool
}

// lateFacts returns t.late, allocating it.
func (t *tracker) lateFacts() *lateState {
	if t.late == nil {
		t.late = &lateState{}
	}
	return t.late
}

// maxTicketLike bounds the ticket-sized records held back; servers send
// one or two tickets.
const maxTicketLike = 4

// TicketSilence is how long the server must stay silent after records of
// session-ticket size that followed the request before they are taken for
// tickets rather than a short, quick answer.
const TicketSilence = time.Second

// settleAfter decides, once the connection is over, whether the
// ticket-sized records after the request were session tickets: only when
// the server then stayed silent for TicketSilence or more (until its next
// record, a FIN or RST, or the connection's last frame). Otherwise the
// first of them was the answer.
func (t *tracker) settleAfter() {
	c := t.c
	a := c.After
	if a == nil || a.Response.Number != 0 || a.Request.Number == 0 {
		return
	}
	l := t.lateFacts()
	if len(l.ticketLikes) == 0 {
		a.Response = l.afterNext
		return
	}
	last := l.ticketLikes[len(l.ticketLikes)-1]
	end := l.afterNext
	if end.Number == 0 {
		end = c.Last
		for _, f := range []capture.Frame{c.TCP.RST, c.TCP.FIN[0], c.TCP.FIN[1]} {
			if f.Number > last.Number && f.Number < end.Number {
				end = f
			}
		}
	}
	if end.Time.Sub(last.Time) >= TicketSilence {
		a.Tickets, a.Response = len(l.ticketLikes), l.afterNext
		a.TicketFrames = slices.Clone(l.ticketLikes)
		return
	}
	a.Response = l.ticketLikes[0]
}

// ticketLike reports whether a TLS 1.3 server record that could not be
// opened looks like a NewSessionTicket by size and timing.
func (t *tracker) ticketLike(it *tlsparse.Item, f capture.Frame) bool {
	c := t.c
	fin := c.Finished[capture.ClientToServer]
	if !c.Version.IsTLS13() || it.Record.Length > TicketMaxLength || fin.Number == 0 {
		return false
	}
	window := 10 * time.Millisecond
	if c.ServerHelloFrame.Number != 0 && c.ClientHelloFrame.Number != 0 {
		window = max(window, 2*c.ServerHelloFrame.Time.Sub(c.ClientHelloFrame.Time))
	}
	return f.Time.Sub(fin.Time) <= window
}

// firstLine returns the first line of decrypted application data when it
// is printable text (an HTTP/1.x request or status line), cut to
// MaxLineLength bytes; "" otherwise.
func firstLine(plain []byte) string {
	if i := bytes.IndexByte(plain, '\n'); i >= 0 {
		plain = plain[:i]
	}
	plain = bytes.TrimRight(plain, "\r")
	if len(plain) > MaxLineLength {
		plain = plain[:MaxLineLength]
	}
	for _, b := range plain {
		if b < 0x20 || b > 0x7e {
			return ""
		}
	}
	return string(plain)
}

// encryptedAlertLength is the record length of an encrypted TLS 1.3 alert:
// two alert bytes, the inner content type and the AEAD tag.
func encryptedAlertLength(cs tlsparse.CipherSuite) int {
	const tlsAES128CCM8SHA256 tlsparse.CipherSuite = 0x1305 // the only TLS 1.3 suite with an 8-byte tag
	if cs == tlsAES128CCM8SHA256 {
		return 2 + 1 + 8
	}
	return 2 + 1 + 16
}

// checkDone marks the handshake complete once both Finished are seen.
func (t *tracker) checkDone(f capture.Frame) {
	c := t.c
	if t.hsDone {
		return
	}
	switch {
	case c.Version.IsTLS13() && t.tls13ClientFinished:
	case !c.Version.IsTLS13() && c.Finished[0].Number != 0 && c.Finished[1].Number != 0:
	default:
		return
	}
	t.hsDone = true
	c.HandshakeDone = f
}

// finalize derives what can only be known at the end.
func (t *tracker) finalize() {
	c := t.c
	if c.ClientHello != nil {
		_, c.prints().JA3 = fingerprint.JA3(c.ClientHello)
		ja4 := fingerprint.JA4(c.ClientHello, fingerprint.TCP)
		c.prints().JA4, c.prints().JA4R, c.prints().JA4O, c.prints().JA4RO = ja4.JA4, ja4.JA4R, ja4.JA4O, ja4.JA4RO
	}
	if c.ServerHello != nil && c.ServerHelloSSLv2 == nil {
		_, c.prints().JA3S = fingerprint.JA3S(c.ServerHello)
	}
	serverGap := slices.ContainsFunc(c.TCP.Gaps, func(g Gap) bool { return g.Dir == capture.ServerToClient })
	if !c.Version.IsTLS13() && c.ServerHello != nil && c.ChangeCipherSpec[capture.ServerToClient].Number != 0 &&
		c.Certificates == nil && c.ServerHelloDoneFrame.Number == 0 && !serverGap {
		// An abbreviated handshake: the server went straight from its
		// hello to ChangeCipherSpec (RFC 5246, Section 7.3). Not when a
		// hole in the server's stream may hold its Certificate.
		c.Resumed = true
	}
	t.settleAfter()
	c.Established = t.hsDone && !t.fatalAlertBeforeData()
	c.Path = t.pathRecord()
	t.plaintextResponse()
	if c.Version.IsTLS13() && !c.Decrypted && t.hsDone && t.serverRecordsAfterDone == 1 && t.serverAlertAfterDone && !serverGap {
		// The server's only answer to the client's Finished was one
		// alert-sized record: it rejected the client (e.g.
		// certificate_required). A server that accepts sends a
		// NewSessionTicket or data first — unless the capture lost it.
		c.Established = false
		c.Alerts = append(c.Alerts, Alert{Frame: c.AppData[capture.ServerToClient].First, Sender: capture.ServerToClient, Encrypted: true})
	}
}

// fatalAlertBeforeData reports whether a fatal plaintext (or decrypted)
// alert ended the handshake: one sent before the handshake completed, or
// one from the server before it sent any data — in TLS 1.3 the server
// judges the client's certificate only after the client's Finished
// (certificate_required, RFC 8446 Section 4.4.2.4).
func (t *tracker) fatalAlertBeforeData() bool {
	c := t.c
	serverData := c.AppData[capture.ServerToClient]
	for _, a := range c.Alerts {
		if a.Level != tlsparse.AlertLevelFatal {
			continue
		}
		if a.Frame.Number <= c.HandshakeDone.Number {
			return true
		}
		if a.Sender == capture.ServerToClient && (serverData.Records == 0 || a.Frame.Number <= serverData.First.Number) {
			return true
		}
	}
	return false
}

var _ capture.Handler = (*Builder)(nil)
