package analysis

// The stream-event state machine: a tracker follows one TCP connection
// through capture's events (Data, Gap, Event, Close), keeps each
// direction's decoder and frame map, and finalizes the record.

import (
	"bytes"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/decrypt"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// finish hands on the finalized connection; in live mode (Options.Done)
// it was decided at capture time at.
func (t *tracker) finish(at, closedBy int64) {
	b, c := t.b, t.c
	if b.opt.Done == nil {
		end := t.now
		if c.SilentAtEnd() {
			// Judged by the whole capture: TLS on its port after its last
			// frame says it was meant to be TLS too.
			end = max(end, c.CaptureEnd.Number)
		}
		b.seq.finished(c, end, t.open, closedBy)
		return
	}
	b.seq.mu.Lock()
	wanted := b.seq.wanted(c, t.now)
	if !wanted {
		b.seq.stats.Ignored++
	}
	b.seq.mu.Unlock()
	if wanted {
		b.decided(c, at)
	}
}

// tracker follows one connection; it implements capture.Stream.
type tracker struct {
	b *Builder
	// c is the record, made (with dirs) by materialize once more than
	// SYNs came; until then conn, syns and lastSYN are all there is.
	c       *Connection
	conn    capture.Conn
	lastSYN capture.Frame
	dirs    *[2]direction

	// The small fields are kept together, so that they share words.

	// flip is set when capture's guess of the client turned out wrong: it
	// maps capture directions to the record's directions.
	flip bool
	// hsDone is set once the handshake is over and only record headers
	// matter.
	hsDone bool
	// tls13ClientFinished is set when the client's first encrypted record
	// after the server's flight was seen (TLS 1.3).
	tls13ClientFinished bool
	// serverAlertAfterDone says whether the first of the server's records
	// after the handshake (serverRecordsAfterDone) had the size of an
	// encrypted alert (TLS 1.3).
	serverAlertAfterDone bool
	// reported is set once the connection was finalized early; later
	// traffic is ignored.
	reported bool
	// keyLog is set when a key log with secrets was there as the
	// connection began (keys).
	keyLog bool
	// sawTLS is set once the sequencer knows it carries TLS.
	sawTLS bool
	// serverCertificate is set once the server sent a Certificate
	// message in the handshake, parsed or not: a full handshake, never
	// a resumed one (RFC 5246, Section 7.3).
	serverCertificate bool
	// nested is set for the tracker of an https:// proxy's tunnel, fed
	// the plaintext of the connection's TLS (nested.go): its record is
	// merged into the connection's, and it is never reported itself.
	nested bool
	// proxyOff is set once the connection cannot open, or did open, with
	// a proxy negotiation (proxy).
	proxyOff bool
	// unseen is set, per capture direction, when the capture showed none
	// of its packets (capture.EventUnseen).
	unseen [2]bool
	// earlyRecords counts the client's application_data records before
	// the ServerHello: TLS 1.3 0-RTT data, which the key log's early
	// secret numbers from 0 but which cannot be opened before the
	// ServerHello names the cipher suite.
	earlyRecords uint32
	// serverRecordsAfterDone counts the server's records after the
	// handshake.
	serverRecordsAfterDone uint32
	// syns counts the connection's SYNs (see c).
	syns int32

	// late is the state of what follows the handshake, allocated when
	// first needed: most connections of a large capture never need it.
	// A tracker used again keeps it, emptied (Builder.Open).
	late *lateState
	// keys decrypt each record direction, when the key log has them;
	// pending12 are the keys a TLS ≤ 1.2 side switches to at its
	// ChangeCipherSpec; renegotiationRandom is the random of a
	// renegotiating ClientHello.
	keys                [2]*sideKeys
	pending12           [2]*decrypt.Decrypter12
	renegotiationRandom []byte
	// now is the number of the latest frame of the connection handled;
	// open is its entry among the open connections (not in live mode).
	now  int64
	open *openEntry
	// proxy holds the first bytes while the connection may open with a
	// proxy negotiation.
	proxy *proxyHead
	// tunnelAt is the offset in the server's stream where a tunnel the
	// proxy opened starts, until its first byte was read; 0 otherwise.
	tunnelAt int64
	// snap is, per capture direction, the last frame cut by the snap
	// length: the Gap in that frame is the bytes it cut.
	snap *[2]snapCut
	// path holds the header facts of PathFacts (path.go).
	path pathState
	// clockBack and clockBehind are TCPFacts.ClockBack and ClockBehind,
	// kept here too while the record is not made (SYNs only).
	clockBack   capture.Frame
	clockBehind time.Duration
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
	// ackSeen is set once the capture reported how far the peer
	// acknowledged the direction's bytes (at the connection's close), and
	// ackedAll when that covered every byte delivered.
	ackSeen, ackedAll bool
	// pending holds items whose record is not complete yet (their Body is
	// a copy); done is the end offset of the last item handled.
	pending []tlsparse.Item
	done    int64
	// held holds, while the connection has shown no TLS, the items of a
	// record that a resynchronisation found, until the decoder confirms
	// it (their Body is a copy): bytes of another protocol pass for one
	// record header by chance (tlsparse.Item.Unconfirmed).
	held []tlsparse.Item
	// head keeps the first bytes of a stream that has shown no TLS yet,
	// to read a plaintext HTTP response head (parseHTTPResponse), when
	// they begin as one can.
	head []byte
	// small holds chunks until there are more of them: the bytes of a
	// handshake seldom wait in more than a few frames.
	small [4]chunk
}

// reset makes ds the state of a new connection's direction. It keeps the
// decoder's buffer, and the frame map when it outgrew small but not
// maxKeptChunks: the handshakes of a capture are much alike, and growing
// the map anew for each connection was 9% of the bytes a read of many
// short connections allocated.
func (ds *direction) reset() {
	chunks := ds.chunks[:0]
	ds.dec.Reset()
	*ds = direction{dec: ds.dec}
	if cap(chunks) > len(ds.small) && cap(chunks) <= maxKeptChunks {
		ds.chunks = chunks
	} else {
		ds.chunks = ds.small[:0]
	}
}

// maxKeptChunks bounds the frame map reset keeps (2.5 KiB).
const maxKeptChunks = 64

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
	t.now = max(t.now, f.Number)
	t.streams()
	t.c.Last = f
	t.c.Side(t.dir(d)).Bytes += int64(len(b))
	if !t.nested {
		t.pathData(d, f)
	}
	ds := &t.dirs[d]
	t.watchProxy(d, b, ds.offset, f)
	if t.tunnelAt > 0 && d == capture.ServerToClient {
		t.tunnelStart(b, ds.offset, f)
	}
	// Keep the head only of a stream that can be an HTTP response
	// ("HTTP/1."): copying every stream's first kilobyte just in case was
	// a tenth of the bytes a read of short connections allocated.
	keepHead := !ds.tlsSeen && len(ds.head) < httpHeadMax && len(b) > 0 &&
		(ds.offset == 0 && b[0] == 'H' || len(ds.head) > 0)
	ds.offset += int64(len(b))
	if len(ds.chunks) < maxChunks {
		ds.chunks = append(ds.chunks, chunk{end: ds.offset, frame: f})
	} else {
		ds.chunks[len(ds.chunks)-1] = chunk{end: ds.offset, frame: f}
	}
	if keepHead {
		ds.head = append(ds.head, b[:min(len(b), httpHeadMax-len(ds.head))]...)
	}
	t.drainPending(d, false)
	ds.dec.Feed(b)
	for {
		it, ok := ds.dec.Next()
		if !ok {
			break
		}
		if it.Unconfirmed && !t.sawTLS {
			t.hold(d, it)
			continue
		}
		if len(ds.held) > 0 {
			t.settleHeld(d)
		}
		t.take(d, it)
	}
	if len(ds.held) > 0 && ds.dec.Confirmed(recordStart(&ds.held[0])) {
		t.releaseHeld(d)
	}
	t.drainPending(d, false)
	t.largeAnnounced(d)
	keep := ds.done
	if len(ds.pending) > 0 {
		keep = min(keep, ds.pending[0].Start)
	}
	if len(ds.held) > 0 {
		keep = min(keep, ds.held[0].Start)
	}
	ds.trim(keep)
	t.reportIfKnown()
}

// take handles an item of direction d: at once, or once its record is
// complete.
func (t *tracker) take(d capture.Direction, it tlsparse.Item) {
	ds := &t.dirs[d]
	if len(ds.pending) > 0 || it.RecordEnd > ds.offset {
		// The record is not complete yet: Wireshark shows its messages
		// in the frame that completes it, so wait for that frame.
		it.Body = bytes.Clone(it.Body)
		ds.pending = append(ds.pending, it)
		return
	}
	t.item(d, &it)
	ds.done = it.End
}

// maxHeld bounds direction.held: a record of tiny handshake messages
// could hold thousands.
const maxHeld = 16

// hold keeps an unconfirmed item of direction d. One of a later record
// means the decoder gave up the record held before: what followed it was
// no record header, so it was not TLS.
func (t *tracker) hold(d capture.Direction, it tlsparse.Item) {
	ds := &t.dirs[d]
	if len(ds.held) > 0 && recordStart(&ds.held[0]) != recordStart(&it) {
		t.dropHeld(d)
	}
	if len(ds.held) < maxHeld {
		it.Body = bytes.Clone(it.Body)
		ds.held = append(ds.held, it)
	}
}

// settleHeld handles the held items of direction d (there are some) when
// the decoder confirmed their record, and forgets them otherwise.
func (t *tracker) settleHeld(d capture.Direction) {
	ds := &t.dirs[d]
	if ds.dec.Confirmed(recordStart(&ds.held[0])) {
		t.releaseHeld(d)
	} else {
		t.dropHeld(d)
	}
}

// endHeld settles the held items of direction d at the end of its
// stream or before a gap in it: a record that ends exactly where the
// bytes seen end is confirmed by that end, as by a header after it (a
// connection that carried one record each way).
func (t *tracker) endHeld(d capture.Direction) {
	if t.dirs == nil {
		return // no bytes came
	}
	ds := &t.dirs[d]
	if n := len(ds.held); n > 0 && ds.held[n-1].RecordEnd == ds.offset {
		t.releaseHeld(d)
	} else {
		t.dropHeld(d)
	}
}

// releaseHeld handles the held items of direction d.
func (t *tracker) releaseHeld(d capture.Direction) {
	ds := &t.dirs[d]
	for _, it := range ds.held {
		t.take(d, it)
	}
	ds.held = ds.held[:0]
}

// dropHeld forgets the held items of direction d: they were not TLS.
func (t *tracker) dropHeld(d capture.Direction) {
	if t.dirs == nil {
		return // no bytes came
	}
	ds := &t.dirs[d]
	if n := len(ds.held); n > 0 {
		ds.done = max(ds.done, ds.held[n-1].End)
		ds.held = ds.held[:0]
	}
}

// recordStart is the stream offset of the header of the record that
// carried the end of it.
func recordStart(it *tlsparse.Item) int64 {
	return it.RecordEnd - 5 - int64(it.Record.Length)
}

// largeAnnounced keeps the server's handshake message that is longer than
// LargeHandshake and still arriving as the connection's Large: a client
// that refuses it for its size does so on reading its header, and the
// rest may never be captured. Until a hello or the SYN told the roles,
// which side is the server is not known.
func (t *tracker) largeAnnounced(d capture.Direction) {
	c := t.c
	if c == nil || c.Large != nil || c.Roles == RolesGuessed || t.dir(d) != capture.ServerToClient {
		return
	}
	ds := &t.dirs[d]
	if typ, n, at, ok := ds.dec.Announced(); ok && n > LargeHandshake {
		c.Large = &LargeMessage{Type: typ, Size: n, Frame: ds.frameAt(at + 3)}
	}
}

// reportIfKnown finalizes the connection early (Options.Early) once its
// outcome cannot change any more.
func (t *tracker) reportIfKnown() {
	c := t.c
	if !t.b.opt.Early || t.reported || t.nested {
		return
	}
	if !t.outcomeKnown() {
		return
	}
	t.reported = true
	t.finalize()
	t.b.remember(c)
	t.finish(timeNS(c.Last.Time), c.Last.Number) // decided by the frame just handled
}

// outcomeKnown reports whether the connection's outcome cannot change
// any more (reportIfKnown). Through an https:// proxy's tunnel that a key
// log opened, the outcome is the tunnel's: the client's data after the
// handshake with the proxy is its CONNECT, which says nothing yet.
func (t *tracker) outcomeKnown() bool {
	c := t.c
	known := c.TCP.RST.Number != 0 || c.ClientSide.NonTLS != nil || c.ServerSide.NonTLS != nil && c.Proxy == nil || c.proxyDecided()
	for _, a := range c.Alerts {
		known = known || a.Encrypted || a.Level == tlsparse.AlertLevelFatal
	}
	if known {
		return true
	}
	if l := t.late; l != nil && (l.inTLS != nil || l.nested != nil) {
		return l.nested != nil && l.nested.outcomeKnown()
	}
	if t.hsDone && c.ClientSide.AppData.Records > 0 {
		// The client sending data shows it accepted the handshake (curl
		// checks the name only after it, and hangs up without data).
		// TLS 1.3: the server's first record after the client's Finished
		// tells acceptance (a ticket or data) from rejection (an alert).
		return !c.Version.IsTLS13() || t.serverRecordsAfterDone > 0 || c.Decrypted
	}
	return false
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
	if ds.offset <= ds.done || !ds.dec.InRecord() || c.ClientSide.NonTLS != nil || c.ServerSide.NonTLS != nil || c.ClientHelloSSLv2 || len(ds.chunks) == 0 ||
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
	t.now = max(t.now, f.Number)
	t.streams()
	t.drainPending(d, true)
	t.endHeld(d) // the bytes seen end here; their frames are forgotten below
	t.pathGap(d)
	ds := &t.dirs[d]
	g := Gap{Dir: t.dir(d), Offset: ds.offset, Size: n, Frame: f}
	if t.snap != nil && t.snap[d].frame == f.Number {
		g.SnapLen = t.snap[d].len
	}
	g.Unseen = t.unseen[d]
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
	if ev.Kind == capture.EventICMP {
		t.icmp(ev)
		return
	}
	t.pathEvent(ev)
	if ev.Kind == capture.EventClockBack {
		// A fact about the capture's time, not an event of the
		// connection's: it neither makes the record nor moves Last.
		if t.clockBack.Number == 0 {
			t.clockBack = ev.Frame
		}
		t.clockBehind = max(t.clockBehind, ev.Behind)
		if t.c != nil {
			t.c.TCP.ClockBack, t.c.TCP.ClockBehind = t.clockBack, t.clockBehind
		}
		return
	}
	if ev.Kind == capture.EventSYN && t.c == nil {
		t.syns++
		t.lastSYN = ev.Frame
		t.now = max(t.now, ev.Frame.Number)
		return
	}
	t.now = max(t.now, ev.Frame.Number)
	t.materialize()
	defer t.reportIfKnown()
	c := &t.c.TCP
	t.c.Last = ev.Frame
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
			c.RSTText = rstText(ev.Payload)
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
	case capture.EventUnseen:
		t.unseen[ev.Dir] = true
	case capture.EventSnapCut:
		if t.snap == nil {
			t.snap = new([2]snapCut)
		}
		t.snap[ev.Dir] = snapCut{frame: ev.Frame.Number, len: ev.Snap}
	}
}

func (t *tracker) Close(reason capture.CloseReason, last capture.Frame, closedBy int64) {
	if t.c == nil && t.b.opt.Done == nil {
		// Only SYNs, never answered: the sequencer keeps a small note of
		// it and lists it at the end.
		t.b.seq.unanswered(unansweredConn{conn: t.conn, syns: int(t.syns), lastSYN: t.lastSYN,
			reason: reason, end: max(t.now, last.Number)})
		t.release()
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
	t.endHeld(capture.ClientToServer)
	t.endHeld(capture.ServerToClient)
	t.drainPending(capture.ClientToServer, true)
	t.drainPending(capture.ServerToClient, true)
	t.unfinishedTail(capture.ClientToServer)
	t.unfinishedTail(capture.ServerToClient)
	c := t.c
	c.TCP.Close = reason
	if t.dirs != nil {
		for d := range t.dirs {
			ds := &t.dirs[d]
			c.TCP.Unacked[t.dir(capture.Direction(d))] = ds.offset > 0 && !(ds.ackSeen && ds.ackedAll)
		}
	}
	if last.Number > c.Last.Number {
		c.Last = last
	}
	if reason == capture.ClosedEOF || reason == capture.ClosedFIN {
		// Closed by the capture's end (a reset one lingering until then
		// was over before: how long it lingers depends on the shard).
		c.CaptureEnd = t.b.end
	}
	t.now = max(t.now, last.Number)
	t.finalize()
	at := timeNS(last.Time)
	switch {
	case reason == capture.ClosedIdle && t.b.opt.IdleTimeout > 0 && !last.Time.IsZero():
		// Idle: decided at its deadline, whichever frame then moved the
		// clock past it.
		at += int64(t.b.opt.IdleTimeout)
	case reason == capture.ClosedEvicted || reason == capture.ClosedReused:
		at = t.b.cur // by the frame being handled
	}
	t.finish(at, closedBy)
	if t.b.opt.Done == nil && t.dirs != nil && len(t.b.freeDirs) < maxFreeDirs {
		// Nothing reads a closed connection's parsing state: the record
		// holds copies of what it keeps.
		t.b.freeDirs = append(t.b.freeDirs, t.dirs)
		t.dirs = nil
	}
	t.release()
}

func (t *tracker) anomaly(id tlsparse.Anomaly) {
	if slices.Contains(t.c.Anomalies, id) {
		return
	}
	t.c.Anomalies = appendCapped(t.c.Anomalies, id, maxAnomalies)
}

const maxAnomalies = 32

// anomalies records a hello's anomalies (tlsparse lists each once). The
// first of a connection's take the hello's list itself, which nothing
// writes to (appending to it copies: its capacity is its length): most
// anomalies a capture shows, as a downgrade sentinel, are a hello's only
// one, and a list of its own was an allocation per connection.
func (t *tracker) anomalies(ids []tlsparse.Anomaly) {
	if len(t.c.Anomalies) == 0 && len(ids) > 0 && len(ids) <= maxAnomalies {
		t.c.Anomalies = ids[:len(ids):len(ids)]
		return
	}
	for _, a := range ids {
		t.anomaly(a)
	}
}

// checkDone marks the handshake complete once both Finished are seen.
func (t *tracker) checkDone(f capture.Frame) {
	c := t.c
	if t.hsDone {
		return
	}
	switch {
	case c.Version.IsTLS13() && t.tls13ClientFinished:
	case !c.Version.IsTLS13() && c.ClientSide.Finished.Number != 0 && c.ServerSide.Finished.Number != 0:
	default:
		return
	}
	t.hsDone = true
	c.HandshakeDone = f
}

// finalize derives what can only be known at the end.
func (t *tracker) finalize() {
	c := t.c
	t.b.setPrints(c, fingerprint.TCP, c.ServerHello != nil && c.ServerHelloSSLv2 == nil)
	serverGap := slices.ContainsFunc(c.TCP.Gaps, func(g Gap) bool { return g.Dir == capture.ServerToClient })
	if !c.Version.IsTLS13() && c.ServerHello != nil && c.ServerSide.ChangeCipherSpec.Number != 0 &&
		c.Certificates == nil && !t.serverCertificate && c.ServerHelloDoneFrame.Number == 0 && !serverGap {
		// An abbreviated handshake: the server went straight from its
		// hello to ChangeCipherSpec (RFC 5246, Section 7.3). Not when a
		// hole in the server's stream may hold its Certificate.
		c.Resumed = true
	}
	t.settleAfter()
	t.shortNonTLS()
	c.Established = t.hsDone && !t.fatalAlertBeforeData() || !t.hsDone && c.finishedImplied()
	c.Path = t.pathRecord()
	t.plaintextResponse()
	// A record the server sent only after the client's FIN answers the
	// close (its close_notify), not the client's Finished.
	closedFirst := c.TCP.FIN[capture.ClientToServer].Number != 0 && c.TCP.FIN[capture.ClientToServer].Number < c.ServerSide.AppData.First.Number
	// A client whose flight began with its Finished sent no Certificate:
	// no certificate was asked for, and the alert that follows is as a
	// rule the close_notify of a server application that closed at once.
	finishedAlone := c.ClientFlightRecords.First != 0 && int(c.ClientFlightRecords.First) == EncryptedFinishedLength(c.Cipher)
	if c.Version.IsTLS13() && !c.Decrypted && t.hsDone && t.serverRecordsAfterDone == 1 && t.serverAlertAfterDone && !serverGap && !closedFirst && !finishedAlone {
		// The server's only answer to the client's Finished was one
		// alert-sized record: it rejected the client (e.g.
		// certificate_required). A server that accepts sends a
		// NewSessionTicket or data first — unless the capture lost it.
		c.Established = false
		c.Alerts = append(c.Alerts, Alert{Frame: c.ServerSide.AppData.First, Sender: capture.ServerToClient, Encrypted: true})
	}
	if l := t.late; l != nil && l.nested != nil {
		t.c = t.mergeNested(l.nested)
	}
}

// finishedImplied reports whether a TLS ≤ 1.2 handshake whose client
// Finished the capture lacks (lost, or garbled: a malformed record in its
// place) completed all the same: the client sent application data after
// the server's Finished and the server answered it, with no alert before
// that answer and no fatal one at all. A client sends data only after its
// Finished, and a server answers only once it verified that Finished
// (RFC 5246, Section 7.4.9), so both sides finished the handshake; the
// frame that completed it is not in the capture (HandshakeDone stays
// zero).
func (c *Connection) finishedImplied() bool {
	cd, sd := c.ClientSide.AppData, c.ServerSide.AppData
	if c.Version.IsTLS13() || c.IsQUIC() || c.ServerHello == nil || c.ServerHelloSSLv2 != nil ||
		c.ClientSide.Finished.Number != 0 || c.ServerSide.Finished.Number == 0 ||
		cd.Records == 0 || cd.First.Number <= c.ServerSide.Finished.Number ||
		sd.Records == 0 || sd.First.Number <= cd.First.Number {
		return false
	}
	for _, a := range c.Alerts {
		if a.Frame.Number <= sd.First.Number || a.Known() && a.Level == tlsparse.AlertLevelFatal {
			return false
		}
	}
	return true
}

// FinishedImplied reports whether the connection is established only by
// finishedImplied: its client Finished is not in the capture.
func (c *Connection) FinishedImplied() bool {
	return c.Established && c.HandshakeDone.Number == 0 && c.finishedImplied()
}

// fatalAlertBeforeData reports whether a fatal plaintext (or decrypted)
// alert ended the handshake: one sent before the handshake completed, or
// one from the server before it sent any data — in TLS 1.3 the server
// judges the client's certificate only after the client's Finished
// (certificate_required, RFC 8446 Section 4.4.2.4).
func (t *tracker) fatalAlertBeforeData() bool {
	c := t.c
	serverData := c.ServerSide.AppData
	for _, a := range c.Alerts {
		if a.Level != tlsparse.AlertLevelFatal {
			continue
		}
		if a.Frame.Number <= c.HandshakeDone.Number {
			return true
		}
		if a.Sender == capture.ServerToClient && (serverData.Records == 0 || a.Frame.Number <= serverData.First.Number) && !t.renegotiationAskedBefore(a.Frame.Number) {
			return true
		}
	}
	return false
}

// renegotiationAskedBefore reports whether the server asked to
// renegotiate a TLS ≤ 1.2 handshake before frame n: its HelloRequest (a
// key log opened it) or an encrypted handshake record after the
// handshake. A fatal alert of the server after it ends the renegotiation
// (a client that refused it: Go's "tls: no renegotiation"), not the
// handshake, which had completed.
func (t *tracker) renegotiationAskedBefore(n int64) bool {
	c := t.c
	if r := c.Afterwards().Renegotiation[capture.ServerToClient]; r.Number != 0 && r.Number < n {
		return true
	}
	for _, m := range c.DecryptedMessages() {
		if m.Sender == capture.ServerToClient && m.Type == tlsparse.HandshakeTypeHelloRequest && m.Frame.Number < n {
			return true
		}
	}
	return false
}

// shortNonTLS records as the server's NonTLS the few bytes that were all
// it sent when they ended before the decoder could describe them (a
// binary answer shorter than a line): a server that answered something is
// not a silent one.
func (t *tracker) shortNonTLS() {
	c := t.c
	if t.dirs == nil || c.ServerHello != nil || c.ServerSide.NonTLS != nil || c.ServerSide.Prelude != nil || c.Proxy != nil {
		return
	}
	ds := &t.dirs[t.captureDir(capture.ServerToClient)]
	b, at := ds.dec.Unsaid()
	if len(b) == 0 || int64(len(b)) != c.ServerSide.Bytes {
		return
	}
	f := ds.frameAt(at)
	c.ServerSide.NonTLS = &NonTLS{Frame: f, First: f, Looks: tlsparse.DescribeNonTLS(b), Short: bytes.Clone(b)}
}
