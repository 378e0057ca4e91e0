package analysis

import (
	"cmp"
	"container/heap"
	"math"
	"net/netip"
	"slices"
	"sync"

	"github.com/tlsdiag/tlsdiag/capture"
)

// DefaultMaxPending is the default of Options.MaxPending.
const DefaultMaxPending = 4096

// sequencer hands the finished connections of one capture to emit in
// first-frame order, each as soon as no earlier connection can still
// finish, so that a Builder need not keep them all. It is shared by the
// Builders of the shards of one capture (one Builder: Run; several:
// capture.RunSharded), and the order does not depend on how many there are
// nor on how their work interleaves: it takes the finished connections in
// the order of the frames that closed them (capture.Stream.Close's
// closedBy), each once every Builder has read that far, as one Builder
// reading the frames one by one would. What it then holds back, and
// which connections it lets go early when more than Options.MaxPending
// wait, is the same in every run.
//
// It also decides which connections without TLS are reported: those to a
// well-known or named TLS port, and those to a port on which the capture
// showed TLS before the connection's last frame. Ports a shard has not
// read that far yet cannot be known, so a decision waits until every
// shard has passed the connection's last frame.
type sequencer struct {
	mu   sync.Mutex
	emit func(*Connection)

	static   map[uint16]bool  // well-known and named TLS ports
	firstTLS map[uint16]int64 // port: the frame by which TLS was first seen on it
	// firstTLSHost is, by server address, the frame by which TLS was first
	// seen to it (on any port); at most maxTLSHosts addresses.
	firstTLSHost map[netip.Addr]int64

	open openFrames // first frames of the connections not taken yet
	// freeEntries are entries of open that were taken, for the next
	// connections (at most maxFreeEntries): one per connection was an
	// allocation.
	freeEntries []*openEntry
	// closing holds, by the frame that closed them, the finished
	// connections not taken yet: some Builder has not read that far.
	closing closingHeap
	pending pendingHeap
	marks   []int64 // by Builder: every frame up to this number was handed to it
	max     int     // pending connections held at most (Options.MaxPending)

	lastEmitted  int64 // first frame of the last connection emitted
	maxEmitted   int64 // … and the latest of them
	maxForced    int64 // … and the latest of those let go beyond the cap
	stats        SequenceStats
	ignoredNoTLS map[uint16]int // ignored connections by server port
	// held are the connections whose SYNs got no answer, to list at the
	// end: an unanswered SYN stays open until the idle timeout and would
	// hold back every connection after it.
	held []unansweredConn
	// undecided are unanswered connections to a port that a shard behind
	// may still show TLS on, before their end.
	undecided []unansweredConn
	ended     bool // end was called
	// namesOthers is Options.NamesOtherNames.
	namesOthers func(*Connection) bool
	// named are, by server host, the first names under which an emitted
	// connection's handshake completed (noteName).
	named map[netip.Addr][]OtherName
	// chains are, by name, the first leaf of each issuer among the
	// emitted connections whose handshake completed (noteChain).
	chains map[string][]chainOf
	// waitingNames are the pending connections whose handshake completed
	// after a ClientHello, by server host and name (linkOtherNames). Only
	// a connection that awaits other names reads it: it is kept only
	// while one is pending (awaitingNames counts them), not built and
	// taken down for each connection of a capture that has none.
	waitingNames  waitingIndex[netip.Addr, string]
	awaitingNames int
	// waitingChains are the pending connections whose handshake
	// completed with a visible chain under a name, by name and raw issuer
	// of the leaf (linkOtherChains).
	waitingChains waitingIndex[string, string]
	// live orders live mode's connections (NewBuilders with Done).
	live *liveOrder
	// dns holds the capture's DNS lookups.
	dns *dnsBook
	// familyRecent are the last TCP connections emitted, and familyEnd
	// the unanswered ones listed at the end, for linkOtherFamily.
	familyRecent, familyEnd []FamilyAttempt
	familyNext              int // the place in familyRecent of the next, once full
	// familyClaimed are the first frames of the connections a failed
	// attempt in the other family was linked to (bounded).
	familyClaimed map[int64]bool
	// familyCensus is, by server port, the client addresses of the
	// emitted connections (onlyClient): at most 65,536 entries.
	familyCensus map[uint16]*census
}

// SequenceStats says what the sequencer did that a report should mention.
type SequenceStats struct {
	// Ignored counts the connections without TLS that were not to a TLS
	// port.
	Ignored int
	// Late counts the connections reported after a later one: they were
	// still open while more than Options.MaxPending later connections
	// finished, and those were let go first.
	Late int
	// AnsweredLate counts the connections reported after a later one
	// because nothing but their SYNs came before that one had ended (the
	// SYN-ACK or the reset came later): until then they could have been
	// SYNs never answered, which hold nothing back.
	AnsweredLate int
	// MaxPending is the most finished connections held at once, waiting
	// for an earlier one.
	MaxPending int
	// Unanswered counts the connections whose SYNs got no answer that
	// are listed after later ones (they are all listed last);
	// UnansweredDropped those not listed because more than MaxHeldUnanswered were.
	Unanswered, UnansweredDropped int
	// FamilyFallbacks counts the connections whose SYN got no SYN-ACK
	// and after which the client's connection to the same port over the
	// other IP family completed its handshake (Connection.OtherFamily).
	FamilyFallbacks int
	// IgnoredBeforeTLS counts, by port, the connections without TLS that
	// are not reported because they ended before the capture first showed
	// TLS on their port; sorted by port.
	IgnoredBeforeTLS []PortCount
	// DNSNotKept counts the DNS queries, answers and names not kept
	// because a bound on the DNS the analysis holds was reached;
	// DNSMalformed the messages to or from port 53 that did not parse.
	DNSNotKept, DNSMalformed int
	// DTLS is the DTLS seen, which is not analysed.
	DTLS DTLSStats
	// IgnoredByPort counts, by server port, every connection that was
	// not reported because it carried no TLS and was not to a TLS port;
	// most connections first, then by port.
	IgnoredByPort []PortCount
}

// PortCount is a number of connections to one server port.
type PortCount struct {
	Port  uint16
	Count int
}

func newSequencer(builders int, opt Options, emit func(*Connection)) *sequencer {
	s := &sequencer{
		emit:         emit,
		static:       make(map[uint16]bool, len(wellKnownTLSPorts)+len(opt.TLSPorts)),
		firstTLS:     map[uint16]int64{},
		firstTLSHost: map[netip.Addr]int64{},
		ignoredNoTLS: map[uint16]int{},
		marks:        make([]int64, builders),
		max:          opt.MaxPending,
		namesOthers:  opt.NamesOtherNames,
		dns:          newDNSBook(),
	}
	if s.max <= 0 {
		s.max = DefaultMaxPending
	}
	for _, p := range wellKnownTLSPorts {
		s.static[p] = true
	}
	for _, p := range opt.TLSPorts {
		s.static[p] = true
	}
	return s
}

// opened registers a new connection by its first frame and the frame at
// which it was known to be more than unanswered SYNs; finished takes the
// entry back.
func (s *sequencer) opened(first, at int64) *openEntry {
	return s.openedBy(first, at, netip.AddrPort{}, netip.AddrPort{})
}

// openedBy is opened for a connection between client and server, which
// linkOtherFamily reads.
func (s *sequencer) openedBy(first, at int64, client, server netip.AddrPort) *openEntry {
	s.mu.Lock()
	var e *openEntry
	if n := len(s.freeEntries); n > 0 {
		e, s.freeEntries = s.freeEntries[n-1], s.freeEntries[:n-1]
	} else {
		e = new(openEntry)
	}
	*e = openEntry{first: first, at: at, client: client.Addr(), server: server}
	heap.Push(&s.open, e)
	s.mu.Unlock()
	return e
}

// maxFreeEntries bounds sequencer.freeEntries.
const maxFreeEntries = 64

// maxTLSHosts bounds sequencer.firstTLSHost.
const maxTLSHosts = 1 << 16

// sawTLS records that a connection to server showed TLS by frame n.
func (s *sequencer) sawTLS(server netip.AddrPort, n int64) {
	s.mu.Lock()
	port := server.Port()
	if f, ok := s.firstTLS[port]; !ok || n < f {
		s.firstTLS[port] = n
	}
	a := server.Addr()
	if f, ok := s.firstTLSHost[a]; ok && n < f || !ok && len(s.firstTLSHost) < maxTLSHosts {
		s.firstTLSHost[a] = n
	}
	s.mu.Unlock()
}

// finished takes a finalized connection whose frames end at end, closed
// by frame closedBy, and its entry from opened.
func (s *sequencer) finished(c *Connection, end int64, e *openEntry, closedBy int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing.push(closingConn{pendingConn{c: c, end: end, first: c.First.Number}, e, closedBy})
	s.take()
}

// take takes, in the order of the frames that closed them, the finished
// connections every Builder has read past the closing frame of: each
// stops being open and waits to be emitted, and those it held back may
// go. One Builder, reading the frames in order, would have finished them
// in that order.
func (s *sequencer) take() {
	mark := slices.Min(s.marks)
	for len(s.closing) > 0 && s.closing[0].closedBy <= mark {
		f := s.closing[0]
		s.closing.pop()
		heap.Remove(&s.open, f.open.index)
		if len(s.freeEntries) < maxFreeEntries {
			// Nothing refers to the entry any more: its tracker was
			// released at the connection's close.
			s.freeEntries = append(s.freeEntries, f.open)
		}
		f.awaitsNames = s.awaitsOtherNames(f.c)
		f.pendingConn.closedBy = f.closedBy
		s.pending.push(f.pendingConn)
		if f.awaitsNames {
			s.awaitingNames++
			if s.awaitingNames == 1 {
				// The index of the connections already waiting.
				for _, p := range s.pending {
					s.waitingName(p.c)
				}
			}
		} else if s.awaitingNames > 0 {
			s.waitingName(f.c)
		}
		s.waitingChain(f.c)
		s.stats.MaxPending = max(s.stats.MaxPending, len(s.pending))
		s.flush(f.closedBy)
	}
}

// unansweredConn is what a connection that only sent SYNs leaves: about
// 150 bytes.
type unansweredConn struct {
	conn    capture.Conn
	syns    int
	lastSYN capture.Frame
	reason  capture.CloseReason
	last    capture.Frame
	end     int64
}

// MaxHeldUnanswered caps the unanswered connections kept for the end:
// 65,536 of them take about 10 MiB.
const MaxHeldUnanswered = 1 << 16

// record is the connection's record.
func (u *unansweredConn) record() *Connection {
	c := newRecord(nil, u.conn, u.syns, u.lastSYN)
	c.TCP.Close = u.reason
	if u.last.Number > c.Last.Number {
		c.Last = u.last
	}
	return c
}

// unanswered takes a connection that ended with only its SYNs seen, to
// list at the end of the capture if it is reported.
func (s *sequencer) unanswered(u unansweredConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Min(s.marks) < u.end && !s.static[u.conn.Server.Port()] {
		// A shard behind may still show TLS on its port before its end.
		s.undecided = append(s.undecided, u)
		return
	}
	s.hold(u)
}

// hold keeps u for the end if it is reported; every shard has read up to
// its end.
func (s *sequencer) hold(u unansweredConn) {
	port := u.conn.Server.Port()
	if f, ok := s.firstTLS[port]; !s.static[port] && (!ok || f > u.end) {
		s.stats.Ignored++
		s.ignoredNoTLS[port]++
		return
	}
	if len(s.held) >= MaxHeldUnanswered {
		s.stats.UnansweredDropped++
		return
	}
	s.held = append(s.held, u)
}

// decide holds or ignores the undecided unanswered connections every shard
// has read past.
func (s *sequencer) decide() {
	mark := slices.Min(s.marks)
	kept := s.undecided[:0]
	for _, u := range s.undecided {
		if mark >= u.end {
			s.hold(u)
		} else {
			kept = append(kept, u)
		}
	}
	clear(s.undecided[len(kept):])
	s.undecided = kept
}

// progress says that Builder i was handed every frame up to n.
func (s *sequencer) progress(i int, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.marks[i] {
		s.marks[i] = n
		s.take()
		if len(s.undecided) > 0 {
			s.decide()
		}
	}
}

// end is called once the capture is over and every connection finished;
// later calls only return the statistics.
func (s *sequencer) end() SequenceStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return s.stats
	}
	for i := range s.marks {
		s.marks[i] = math.MaxInt64
	}
	// The connections closed by the end are taken as the capture goes on,
	// and only then does nothing wait for more.
	s.take()
	s.ended = true
	s.flush(math.MaxInt64)
	s.decide()
	recs := make([]pendingConn, len(s.held))
	for i := range s.held {
		recs[i] = pendingConn{c: s.held[i].record(), end: s.held[i].end}
	}
	for _, c := range s.dns.failures() {
		recs = append(recs, pendingConn{c: c, end: c.Last.Number})
	}
	s.stats.DNSNotKept, s.stats.DNSMalformed = s.dns.counts()
	s.held = nil
	for _, p := range recs {
		if p.c.DNSFailure == nil {
			s.familyEnd = append(s.familyEnd, familyAttempt(p.c))
		}
	}
	slices.SortFunc(recs, func(a, b pendingConn) int {
		if connLess(a.c, b.c) {
			return -1
		}
		return 1
	})
	listed := s.maxEmitted
	s.lastEmitted = 0 // listed last by rule, not late
	for _, p := range recs {
		if p.c.First.Number < listed && p.c.DNSFailure == nil && s.wanted(p.c, p.end) {
			s.stats.Unanswered++
		}
		s.release(p)
	}
	for port, n := range s.ignoredNoTLS {
		if _, ok := s.firstTLS[port]; ok {
			s.stats.IgnoredBeforeTLS = append(s.stats.IgnoredBeforeTLS, PortCount{port, n})
		}
	}
	slices.SortFunc(s.stats.IgnoredBeforeTLS, func(a, b PortCount) int { return cmp.Compare(a.Port, b.Port) })
	for port, n := range s.ignoredNoTLS {
		s.stats.IgnoredByPort = append(s.stats.IgnoredByPort, PortCount{port, n})
	}
	slices.SortFunc(s.stats.IgnoredByPort, func(a, b PortCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	return s.stats
}

// flush emits, once the connections closed by frame mark were taken, the
// pending connections that nothing earlier can precede any more, and the
// oldest ones beyond the cap whatever precedes them.
func (s *sequencer) flush(mark int64) {
	for len(s.pending) > 0 {
		p := s.pending[0]
		first := p.c.First.Number
		ready := mark >= p.end && !s.open.holdsBack(0, first, p.end) &&
			(s.ended || !awaitsFallback(p.c) && !awaitsRetry(p.c) && (!awaitsOtherFamily(p.c) || mark-p.end >= familyHoldFrames) && !p.awaitsNames)
		if !ready && len(s.pending) <= s.max {
			return
		}
		s.pending.pop()
		s.gone(p.c)
		s.release(p)
		if p.awaitsNames {
			if s.awaitingNames--; s.awaitingNames == 0 {
				s.waitingNames = nil
			}
		}
		if !ready {
			s.maxForced = max(s.maxForced, first)
		}
	}
}

func (s *sequencer) release(p pendingConn) {
	c := p.c
	if awaitsFallback(c) {
		s.linkFallback(c)
	}
	if awaitsRetry(c) {
		s.linkRetry(c)
	}
	s.linkOtherFamily(p)
	s.rememberFamily(c)
	if p.awaitsNames {
		s.linkOtherNames(c)
	}
	if wantsOtherChains(c) {
		s.linkOtherChains(c)
	}
	if !s.wanted(c, p.end) {
		s.stats.Ignored++
		if !s.static[c.Server.Port()] {
			s.ignoredNoTLS[c.Server.Port()]++
		}
		return
	}
	if c.First.Number < s.lastEmitted {
		if c.First.Number < s.maxForced {
			s.stats.Late++
		} else {
			s.stats.AnsweredLate++
		}
	}
	if o := c.OtherFamily; o != nil && o.Later && o.Established {
		s.stats.FamilyFallbacks++
	}
	s.lastEmitted = c.First.Number
	s.maxEmitted = max(s.maxEmitted, c.First.Number)
	s.dns.link(c)
	s.noteName(c)
	s.noteChain(c)
	s.emit(c)
}

// wanted reports whether a connection whose frames end at end is
// reported: it carried TLS or was meant to.
func (s *sequencer) wanted(c *Connection, end int64) bool {
	if c.IsQUIC() || c.DNSFailure != nil || c.CarriesTLS() || s.static[c.Server.Port()] || c.viaProxy(s.isStatic) {
		return true
	}
	if f, ok := s.firstTLSHost[c.Server.Addr()]; ok && f <= end && c.refused() {
		// A refused connection to a server that speaks TLS on another
		// port: most likely a client that has the wrong port, or a TLS
		// service that is down.
		return true
	}
	f, ok := s.firstTLS[c.Server.Port()]
	return ok && f <= end
}

func (s *sequencer) isStatic(port uint16) bool { return s.static[port] }

// pendingConn is a finished connection waiting for earlier ones.
type pendingConn struct {
	c   *Connection
	end int64
	// first is c.First.Number, kept beside it for the heap's order: up to
	// Options.MaxPending connections wait, and each comparison of two of
	// them read two records.
	first int64
	// awaitsNames is set when c waits for the capture's end to name the
	// other names of its server host (sequencer.awaitsOtherNames).
	awaitsNames bool
	// closedBy is the frame that closed c (closingConn.closedBy).
	closedBy int64
}

// pendingHeap orders pending connections by first frame.
type pendingHeap []pendingConn

// push and pop are heap.Push and heap.Pop without boxing each
// pendingConn in an interface (an allocation per call).
func (h *pendingHeap) push(p pendingConn) {
	*h = append(*h, p)
	heap.Fix(h, len(*h)-1)
}

func (h *pendingHeap) pop() {
	n := len(*h) - 1
	h.Swap(0, n)
	(*h)[n] = pendingConn{}
	*h = (*h)[:n]
	if n > 0 {
		heap.Fix(h, 0)
	}
}

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].first != h[j].first {
		return h[i].first < h[j].first
	}
	return connLess(h[i].c, h[j].c)
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(pendingConn)) }
func (h *pendingHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = pendingConn{}
	*h = old[:len(old)-1]
	return p
}

// closingConn is a finished connection not taken yet, its entry among the
// open ones, and the frame that closed it.
type closingConn struct {
	pendingConn
	open     *openEntry
	closedBy int64
}

// closingHeap orders finished connections by the frame that closed them,
// then as pendingHeap.
type closingHeap []closingConn

func (h *closingHeap) push(f closingConn) {
	*h = append(*h, f)
	heap.Fix(h, len(*h)-1)
}

func (h *closingHeap) pop() {
	n := len(*h) - 1
	h.Swap(0, n)
	(*h)[n] = closingConn{}
	*h = (*h)[:n]
	if n > 0 {
		heap.Fix(h, 0)
	}
}

func (h closingHeap) Len() int { return len(h) }
func (h closingHeap) Less(i, j int) bool {
	if h[i].closedBy != h[j].closedBy {
		return h[i].closedBy < h[j].closedBy
	}
	if h[i].first != h[j].first {
		return h[i].first < h[j].first
	}
	return connLess(h[i].c, h[j].c)
}
func (h closingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *closingHeap) Push(x any)   { *h = append(*h, x.(closingConn)) }
func (h *closingHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = closingConn{}
	*h = old[:len(old)-1]
	return f
}

// connLess orders connections by first frame, then by client and server
// address (connections of different captures can share a frame number).
func connLess(x, y *Connection) bool {
	if c := cmp.Compare(x.First.Number, y.First.Number); c != 0 {
		return c < 0
	}
	if c := x.Client.Compare(y.Client); c != 0 {
		return c < 0
	}
	return x.Server.Compare(y.Server) < 0
}

// openFrames holds the first frames of the open connections, smallest
// on top; each connection keeps its entry to remove it.
type openFrames []*openEntry

// openEntry is one open connection's place in openFrames.
type openEntry struct {
	first int64
	at    int64 // the frame at which it was opened
	index int
	// client and server are the connection's addresses, for
	// linkOtherFamily's look at the connections begun between two.
	client netip.Addr
	server netip.AddrPort
}

// holdsBack reports whether the subtree at i holds a connection that
// began before frame first and was opened by frame end: a connection
// that ended at end waits for those. One that opened later (its SYNs
// answered after end) does not, whichever Builder sees it first: the
// order is the same for any number of Builders.
func (h openFrames) holdsBack(i int, first, end int64) bool {
	if i >= len(h) || h[i].first >= first {
		return false
	}
	return h[i].at <= end || h.holdsBack(2*i+1, first, end) || h.holdsBack(2*i+2, first, end)
}

func (h openFrames) Len() int           { return len(h) }
func (h openFrames) Less(i, j int) bool { return h[i].first < h[j].first }
func (h openFrames) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *openFrames) Push(x any) {
	e := x.(*openEntry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *openFrames) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
