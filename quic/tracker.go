package quic

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/dnsparse"
)

// Defaults of Options.
const (
	// DefaultMaxConns bounds the connections followed at once.
	DefaultMaxConns = 4096
	// DefaultMaxCrypto bounds the CRYPTO bytes all connections hold.
	DefaultMaxCrypto = 32 << 20
	// DefaultIdleTimeout ends a connection without a datagram for this
	// long: QUIC's idle timeouts are commonly 30 s.
	DefaultIdleTimeout = time.Minute
	// maxDatagram is the largest UDP payload (an IPv4 datagram's bound).
	maxDatagram = 65535
	// minClientInitial is the smallest datagram that may carry a client's
	// Initial (RFC 9000, Section 14.1).
	minClientInitial = 1200
)

// Options tune a Tracker. The zero value means every default.
type Options struct {
	// Secrets looks up a TLS secret by client random and key log label;
	// when set, Handshake and 1-RTT packets are decrypted.
	Secrets func(clientRandom []byte, label string) ([]byte, bool)
	// Open, when set, is called with each connection as it is found.
	Open func(*Conn)
	// Trace fills Conn.Trace.
	Trace       bool
	MaxConns    int
	MaxCrypto   int
	IdleTimeout time.Duration
}

func (o *Options) maxCrypto() int {
	if o.MaxCrypto <= 0 {
		return DefaultMaxCrypto
	}
	return o.MaxCrypto
}

// Stats count what the Tracker saw.
type Stats struct {
	Datagrams int64 // UDP datagrams given
	QUIC      int64 // … that belonged to a QUIC connection
	Conns     int64 // connections found
	Evicted   int64 // connections ended early to respect MaxConns
	// TooLarge counts datagrams over 65,535 bytes (not read).
	TooLarge int64
	// CryptoCut counts CRYPTO bytes not read because MaxCrypto was hit.
	CryptoCut int64
}

// Tracker follows QUIC connections through UDP datagrams. It is not safe
// for concurrent use.
type Tracker struct {
	opt   Options
	conns map[[2]netip.AddrPort]*Conn
	// order lists the open connections, least recently seen first
	// (lazily: ended ones are skipped).
	order []orderEntry
	done  func(*Conn)
	held  int
	buf   []byte
	Stats Stats
}

// NewTracker returns a Tracker that hands every connection to done once,
// when it ends (idle, evicted, replaced, or at End).
func NewTracker(opt Options, done func(*Conn)) *Tracker {
	if opt.MaxConns <= 0 {
		opt.MaxConns = DefaultMaxConns
	}
	if opt.IdleTimeout == 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	return &Tracker{opt: opt, conns: make(map[[2]netip.AddrPort]*Conn), done: done}
}

func pair(a, b netip.AddrPort) [2]netip.AddrPort {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}

// Datagram takes the payload of one UDP datagram from src to dst, carried
// by frame f. payload is not kept.
func (t *Tracker) Datagram(src, dst netip.AddrPort, payload []byte, f capture.Frame) {
	t.Stats.Datagrams++
	if len(payload) > maxDatagram {
		t.Stats.TooLarge++
		return
	}
	t.Expire(f.Time)
	key := pair(src, dst)
	c := t.conns[key]
	if c != nil && c.dir(src) == capture.ClientToServer && t.restarts(c, payload) {
		t.end(c)
		c = nil
	}
	if c == nil {
		if c = t.start(src, dst, payload, f); c == nil {
			return
		}
	}
	if c.confirmed {
		t.Stats.QUIC++
	}
	// Decryption works in place: on a copy, as the frame's buffer is
	// reused.
	t.buf = append(t.buf[:0], payload...)
	c.datagram(c.dir(src), t.buf, f)
	if !c.confirmed && c.VersionNegotiation != nil {
		t.confirm(c)
	}
	t.touch(c)
}

// DatagramError takes an ICMP error, carried by frame f, about a datagram
// from src to dst: the first about a connection's client datagrams is
// kept.
func (t *Tracker) DatagramError(src, dst netip.AddrPort, e capture.ICMPError, f capture.Frame) {
	c := t.conns[pair(src, dst)]
	if c == nil || c.dir(src) != capture.ClientToServer || c.UnreachableFrame.Number != 0 {
		return
	}
	c.Unreachable, c.UnreachableFrame = e, f
}

// start makes a connection of a datagram that opens one: a client's
// Initial that decrypts with the keys of its Destination Connection ID,
// or a long header of a version that cannot be read, in a datagram as
// large as a client's first, to port 443 (then a Version Negotiation may
// follow).
func (t *Tracker) start(src, dst netip.AddrPort, payload []byte, f capture.Frame) *Conn {
	if len(payload) < minClientInitial || payload[0]&0x80 == 0 {
		return nil
	}
	h, _, err := ParseHeader(payload, 0)
	if err != nil || h.Version == 0 {
		return nil
	}
	c := &Conn{Client: src, Server: dst, First: f, Last: f, Version: h.Version, tracker: t}
	c.OriginalDCID = append([]byte(nil), h.DCID...)
	if h.Type == 0 {
		// A version this package does not know: some stacks lay it out
		// and protect it as an older one (ngtcp2 as draft-29, with its
		// salt), and tshark reads it so.
		for _, as := range []Version{Version1, VersionDraft29} {
			c.st.layout = as
			if hv, _, err := parseHeader(payload, 0, as); err == nil && hv.Type == PacketInitial &&
				c.newInitialKeys(h.Version, h.DCID) && t.opens(c, payload) {
				h.Type = PacketInitial
				break
			}
			c.st.layout = 0
			c.st.keys, c.st.keysDCID = [numLevels][2]*Keys{}, nil
		}
	}
	switch {
	case h.Type == PacketInitial:
		if c.st.keysDCID == nil && (!c.newInitialKeys(h.Version, h.DCID) || !t.opens(c, payload)) {
			return nil
		}
	case h.Type == 0 && dnsQuestion(payload):
		// DNS on port 443, as DNSCrypt resolvers serve it: a query ID
		// and flags can read as a long header of some version.
		return nil
	case h.Type == 0:
		// A version that cannot be read: a QUIC connection once the
		// server answers with Version Negotiation, or at once on
		// HTTP/3's port.
	default:
		return nil
	}
	if len(t.conns) >= t.opt.MaxConns {
		t.evict()
	}
	t.conns[pair(src, dst)] = c
	if h.Type == PacketInitial || dst.Port() == 443 {
		t.confirm(c)
	}
	return c
}

// dnsQuestion reports whether b reads as a DNS message asking one
// question.
func dnsQuestion(b []byte) bool {
	m, err := dnsparse.Parse(b)
	return err == nil && m.Counts[0] == 1 && len(m.Questions) == 1
}

// confirm makes c a connection to report, once it is known to be QUIC.
func (t *Tracker) confirm(c *Conn) {
	if c.confirmed {
		return
	}
	c.confirmed = true
	t.Stats.Conns++
	if t.opt.Open != nil {
		t.opt.Open(c)
	}
}

// opens reports whether the first packet of payload decrypts with c's
// client Initial keys.
func (t *Tracker) opens(c *Conn, payload []byte) bool {
	t.buf = append(t.buf[:0], payload...)
	h, size, err := parseHeader(t.buf, 0, c.st.layout)
	if err != nil {
		return false
	}
	_, _, err = Unprotect(t.buf[:size], &h, c.st.keys[LevelInitial][capture.ClientToServer], -1)
	return err == nil
}

// restarts reports whether a client datagram starts another connection
// on the same addresses: an Initial whose Destination Connection ID gives
// keys of its own (not the connection's, not a Retry's).
func (t *Tracker) restarts(c *Conn, payload []byte) bool {
	if len(payload) < minClientInitial || payload[0]&0x80 == 0 || c.Retry != nil || c.st.keysDCID == nil {
		return false
	}
	h, _, err := ParseHeader(payload, 0)
	if err != nil || h.Type != PacketInitial || string(h.DCID) == string(c.st.keysDCID) {
		return false
	}
	if c.VersionNegotiation != nil && c.Packets[capture.ServerToClient][LevelInitial] == 0 {
		// The client's second try after Version Negotiation keeps its
		// addresses and is the same attempt.
		return false
	}
	probe := &Conn{}
	if !probe.newInitialKeys(h.Version, h.DCID) {
		return false
	}
	return t.opens(probe, payload)
}

// touch moves c to the end of order.
func (t *Tracker) touch(c *Conn) {
	if n := len(t.order); n > 0 && t.order[n-1].c == c && t.order[n-1].n == c.touches {
		return
	}
	c.touches++
	t.order = append(t.order, orderEntry{c, c.touches})
	if len(t.order) > 4*len(t.conns)+64 {
		t.compact()
	}
}

// orderEntry is a place of c in order, current while n is c's last touch.
type orderEntry struct {
	c *Conn
	n int
}

func (e orderEntry) stale() bool { return e.c.finished || e.n != e.c.touches }

// compact drops stale entries from order.
func (t *Tracker) compact() {
	out := t.order[:0]
	for _, e := range t.order {
		if !e.stale() {
			out = append(out, e)
		}
	}
	clear(t.order[len(out):])
	t.order = out
}

// IdleTimeout is how long a connection lasts without a datagram: one
// whose last datagram was at t ends once the clock is past
// t+IdleTimeout. Negative means never.
func (t *Tracker) IdleTimeout() time.Duration { return t.opt.IdleTimeout }

// Expire ends the connections idle for longer than the timeout at now,
// the capture time: Datagram does with each datagram's time, and a caller
// that sees the clock move between datagrams can, for them to end when
// the capture's time passes their deadline.
func (t *Tracker) Expire(now time.Time) {
	if t.opt.IdleTimeout < 0 {
		return
	}
	for len(t.order) > 0 {
		e := t.order[0]
		if !e.stale() && now.Sub(e.c.Last.Time) <= t.opt.IdleTimeout {
			return
		}
		t.order = t.order[1:]
		if !e.stale() {
			t.end(e.c)
		}
	}
}

func (t *Tracker) evict() {
	t.compact()
	if len(t.order) > 0 {
		t.Stats.Evicted++
		c := t.order[0].c
		t.order = t.order[1:]
		t.end(c)
	}
}

func (t *Tracker) end(c *Conn) {
	if c.finished {
		return
	}
	c.finished = true
	delete(t.conns, pair(c.Client, c.Server))
	t.held -= c.st.held
	c.st = connState{}
	c.tracker = nil
	if t.done != nil && c.confirmed {
		t.done(c)
	}
}

// End ends every connection still open, in first-frame order.
func (t *Tracker) End() {
	t.compact()
	open := make([]*Conn, 0, len(t.conns))
	for _, c := range t.conns {
		open = append(open, c)
	}
	sortByFirst(open)
	for _, c := range open {
		t.end(c)
	}
	t.order = nil
}

func sortByFirst(cs []*Conn) {
	slices.SortFunc(cs, func(a, b *Conn) int {
		if a.First.Number != b.First.Number {
			return cmp.Compare(a.First.Number, b.First.Number)
		}
		if c := a.Client.Compare(b.Client); c != 0 {
			return c
		}
		return a.Server.Compare(b.Server)
	})
}
