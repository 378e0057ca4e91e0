package analysis

// DNS in the same capture: the lookups a client made before it connected.
// A connection's record names the answer that gave it its server address;
// a lookup that failed (an error code, or no answer) becomes a record of
// its own, as QUIC connections are records over UDP.

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/dnsparse"
)

// DNSPort is the port of DNS over UDP and TCP (RFC 1035, Section 4.2).
const DNSPort = 53

// DNSAnswer is the DNS answer in the capture that gave a connection its
// server address: the latest before the connection's first frame that
// mapped a name to the server's address, preferring the name in the SNI
// and answers to the connection's own client.
type DNSAnswer struct {
	// Name is the name the client asked for (a CNAME chain may lead from
	// it to the address).
	Name     string
	Resolver netip.AddrPort
	// QueryFrame is the query's first frame (zero when the capture missed
	// it); AnswerFrame the answer's.
	QueryFrame, AnswerFrame capture.Frame
}

// DNSFailure is a lookup of a name that got no address: every query of
// one client for the name that was answered with an error code, or never
// answered, and was not followed by a successful lookup of it. Its record
// has the asking host as Client, the resolver as Server, and nothing else
// but First and Last.
type DNSFailure struct {
	Name string
	// Types are the record types asked for (A, AAAA, HTTPS), in order.
	Types []dnsparse.Type
	// Answered is set when the resolver answered, with RCode (NXDOMAIN,
	// SERVFAIL or REFUSED: the first query's); otherwise no query got an
	// answer. OtherRCodes are the other codes the answers had (a
	// resolver may fail the A query one way and the AAAA another).
	Answered    bool
	RCode       dnsparse.RCode
	OtherRCodes []dnsparse.RCode
	// Queries and Answers are the frames of the queries (retransmissions
	// included) and of the error answers, at most maxDNSFrames each.
	Queries, Answers []capture.Frame
	// TCP is set when the lookup went over TCP.
	TCP bool
	// Unreachable is the first ICMP error about a query that got no
	// answer: the resolver's host saying nothing listens on port 53, or a
	// router that cannot reach it.
	Unreachable *ICMPReport
}

// TransportDNS is the transport of a DNSFailure's record.
const TransportDNS Transport = TransportQUIC + 1

// Bounds on what the DNS of a capture can make the analysis keep.
const (
	maxDNSPending  = 4096    // queries waiting for an answer
	maxDNSAddrs    = 1 << 16 // server addresses with answers
	maxDNSPerAddr  = 8       // answers kept per address, the latest
	maxDNSFailures = 1024    // failed queries
	maxDNSNames    = 1 << 16 // (client, name) pairs resolved or connected to
	maxDNSFrames   = 8       // frames kept per query and per failure
	maxDNSTypes    = 4
	maxTCPDNS      = 256 // messages read per TCP connection
)

type dnsKey struct {
	client, server netip.AddrPort
	id             uint16
	name           string // lower case
	qtype          dnsparse.Type
	tcp            bool
}

// dnsQuery is a query and, once it came, its answer.
type dnsQuery struct {
	key     dnsKey
	name    string // as asked
	queries []capture.Frame
	answer  capture.Frame
	rcode   dnsparse.RCode
	// seq is the order the book saw the transaction in: it orders the
	// messages one TCP segment carries, whose first frames are the same.
	seq uint64
	// icmp is the first ICMP error about the query.
	icmp *ICMPReport
}

type addrAnswer struct {
	DNSAnswer
	client netip.Addr
}

type clientName struct {
	client netip.Addr
	name   string // lower case
}

// sum is a 64-bit FNV-1a hash of the client and the name: the key under
// which the book keeps the connections made to a name (connected). A
// capture of many connections notes tens of thousands of them, most to
// no name any lookup failed for: eight bytes each instead of the name
// and the address. A collision could only hide a failed lookup: one
// lookup's key matches one of maxDNSNames others by chance about once in
// 2^48.
func (k clientName) sum() uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	a := k.client.As16()
	for _, b := range a {
		h = (h ^ uint64(b)) * prime
	}
	for i := range len(k.name) {
		h = (h ^ uint64(k.name[i])) * prime
	}
	return h
}

// dnsBook holds the DNS transactions of one capture, for all the Builders
// that share a sequencer.
type dnsBook struct {
	mu      sync.Mutex
	pending map[dnsKey]*dnsQuery
	// byAddr are, by address, the latest answers that gave it.
	byAddr map[netip.Addr][]addrAnswer
	failed []*dnsQuery
	// resolved is the last answer that gave a client an address for a
	// name; connected the first frame of its TLS connections named so
	// (SNI), by clientName.sum.
	resolved  map[clientName]capture.Frame
	connected map[uint64]int64
	// connectedLog holds, in order, what noteConnected was told until
	// connected is needed (settleConnected): only failures looks it up,
	// and a capture without DNS never needs it. Filling the map at every
	// connection was ~2% of a read of many short connections.
	// In blocks of connectedBlock, which, unlike one slice growing,
	// are never copied.
	connectedLog [][]connectedNote
	connectedLen int
	// dropped counts the queries, answers and names not kept because a
	// bound was reached; malformed the messages that did not parse.
	dropped, malformed int
	// ended is set once failures was called: they are listed once.
	ended bool
	// end is the capture's last frame, once it is over (the latest the
	// Builders saw): a lookup still unanswered then was open at its end.
	end capture.Frame
	// seen numbers the transactions (dnsQuery.seq).
	seen uint64
}

func newDNSBook() *dnsBook {
	return &dnsBook{
		pending:  map[dnsKey]*dnsQuery{},
		byAddr:   map[netip.Addr][]addrAnswer{},
		resolved: map[clientName]capture.Frame{},
	}
}

const connectedBlock = 512

type connectedNote struct {
	key uint64 // clientName.sum
	n   int64
}

// counts returns what was not kept, and the messages that did not parse.
func (k *dnsBook) counts() (dropped, malformed int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dropped, k.malformed
}

// isDNS reports whether a datagram or stream between the two is DNS.
func isDNS(src, dst netip.AddrPort) bool {
	return src.Port() == DNSPort || dst.Port() == DNSPort
}

// lookupType reports whether a query of type t is a lookup of a name's
// address: a failure to get one stops a connection.
func lookupType(t dnsparse.Type) bool {
	switch t {
	case dnsparse.TypeA, dnsparse.TypeAAAA, dnsparse.TypeHTTPS, dnsparse.TypeSVCB, dnsparse.TypeANY, dnsparse.TypeCNAME:
		return true
	}
	return false
}

// probeName reports whether a name is one that clients look up to
// discover a service that is normally absent: Web Proxy Auto-Discovery
// (wpad.DOMAIN, for every suffix of the search list) and ISATAP. Windows
// hosts ask for them all the time, and NXDOMAIN is the usual answer.
func probeName(name string) bool {
	first, _, _ := strings.Cut(name, ".")
	return first == "wpad" || first == "isatap"
}

func lower(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// message takes one DNS message from src to dst.
func (k *dnsBook) message(src, dst netip.AddrPort, b []byte, f capture.Frame, tcp bool) {
	m, err := dnsparse.Parse(b)
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil && (m == nil || len(m.Questions) == 0) {
		k.malformed++
		return
	}
	if len(m.Questions) == 0 || m.Opcode != 0 {
		return // not a standard query (RFC 1035, Section 4.1.1)
	}
	q := m.Questions[0]
	key := dnsKey{client: src, server: dst, id: m.ID, name: lower(q.Name), qtype: q.Type, tcp: tcp}
	if m.Response {
		key.client, key.server = dst, src
	}
	p := k.pending[key]
	if !m.Response {
		switch {
		case p != nil:
			if len(p.queries) < maxDNSFrames {
				p.queries = append(p.queries, f) // retransmission
			}
		case len(k.pending) >= maxDNSPending:
			k.dropped++
		default:
			k.seen++
			k.pending[key] = &dnsQuery{key: key, name: q.Name, queries: []capture.Frame{f}, seq: k.seen}
		}
		return
	}
	if p == nil {
		k.seen++
		p = &dnsQuery{key: key, name: q.Name, seq: k.seen}
	}
	delete(k.pending, key)
	p.answer, p.rcode = f, m.RCode
	switch m.RCode {
	case dnsparse.RCodeNoError:
		k.answered(p, m)
	case dnsparse.RCodeNXDomain, dnsparse.RCodeServFail, dnsparse.RCodeRefused:
		if lookupType(q.Type) && !probeName(key.name) {
			if len(k.failed) < maxDNSFailures {
				k.failed = append(k.failed, p)
			} else {
				k.dropped++
			}
		}
	}
}

// unreachable notes an ICMP error about a UDP query from client to
// server: ICMP quotes only the ports, so it is about every query pending
// between the two.
func (k *dnsBook) unreachable(client, server netip.AddrPort, r ICMPReport) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key, p := range k.pending {
		if key.client == client && key.server == server && !key.tcp && p.icmp == nil {
			p.icmp = &r
		}
	}
}

// answered keeps the addresses of a successful answer.
func (k *dnsBook) answered(p *dnsQuery, m *dnsparse.Message) {
	a := addrAnswer{DNSAnswer: DNSAnswer{Name: p.name, Resolver: p.key.server, AnswerFrame: p.answer}, client: p.key.client.Addr()}
	if len(p.queries) > 0 {
		a.QueryFrame = p.queries[0]
	}
	got := false
	for _, r := range m.Answers {
		if !r.Addr.IsValid() {
			continue
		}
		got = true
		addr := r.Addr.Unmap()
		list, ok := k.byAddr[addr]
		if !ok && len(k.byAddr) >= maxDNSAddrs {
			k.dropped++
			continue
		}
		if len(list) == maxDNSPerAddr {
			list = slices.Delete(list, 0, 1)
		}
		k.byAddr[addr] = append(list, a)
	}
	if got {
		key := clientName{a.client, p.key.name}
		if _, ok := k.resolved[key]; ok || len(k.resolved) < maxDNSNames {
			k.resolved[key] = p.answer
		} else {
			k.dropped++
		}
	}
}

// noteConnected keeps the first frame of a client's connection to name.
// It keeps the name's hash, not the name: the SNI it comes from points
// into its ClientHello, which it would keep alive for the rest of the
// capture.
func (k *dnsBook) noteConnected(name clientName, n int64) {
	key := name.sum()
	if k.connected == nil && k.connectedLen < maxDNSNames {
		last := len(k.connectedLog) - 1
		if last < 0 || len(k.connectedLog[last]) == connectedBlock {
			k.connectedLog = append(k.connectedLog, make([]connectedNote, 0, connectedBlock))
			last++
		}
		k.connectedLog[last] = append(k.connectedLog[last], connectedNote{key, n})
		k.connectedLen++
		return
	}
	k.settleConnected()
	k.putConnected(key, n)
}

// settleConnected puts what connectedLog holds in connected, in the order
// noteConnected was told it: the map and the names dropped are those
// noteConnected would have made straight away.
func (k *dnsBook) settleConnected() {
	if k.connected != nil {
		return
	}
	k.connected = make(map[uint64]int64, k.connectedLen)
	for _, block := range k.connectedLog {
		for _, e := range block {
			k.putConnected(e.key, e.n)
		}
	}
	k.connectedLog, k.connectedLen = nil, 0
}

func (k *dnsBook) putConnected(key uint64, n int64) {
	old, ok := k.connected[key]
	switch {
	case !ok && len(k.connected) >= maxDNSNames:
		k.dropped++
	case !ok || n < old:
		k.connected[key] = n
	}
}

// link sets c.DNS: the latest answer before c's first frame that gave its
// server address, for the name in its SNI if one did, to its own client
// if one was.
func (k *dnsBook) link(c *Connection) {
	if c.DNSFailure != nil {
		return
	}
	sni := ""
	if h := c.ShownClientHello(); h != nil {
		sni = lower(h.ServerName)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var best *addrAnswer
	rank := func(a *addrAnswer) int {
		r := 0
		if sni != "" && lower(a.Name) == sni {
			r += 2
		}
		if a.client == c.Client.Addr().Unmap() {
			r++
		}
		return r
	}
	list := k.byAddr[c.Server.Addr().Unmap()]
	for i := range list {
		a := &list[i]
		if a.AnswerFrame.Number >= c.First.Number {
			continue
		}
		if best == nil || rank(a) > rank(best) || rank(a) == rank(best) && a.AnswerFrame.Number > best.AnswerFrame.Number {
			best = a
		}
	}
	if best != nil {
		d := best.DNSAnswer
		c.DNS = &d
	}
	if sni != "" {
		k.noteConnected(clientName{c.Client.Addr().Unmap(), sni}, c.First.Number)
	}
}

// captureEnd notes the capture's last frame, as a Builder saw it.
func (k *dnsBook) captureEnd(f capture.Frame) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if f.Number > k.end.Number {
		k.end.Number = f.Number
	}
	if f.Time.After(k.end.Time) {
		k.end.Time = f.Time
	}
}

// failures returns, on its first call, once the capture is over, the
// records of the failed lookups: the queries of one client for one name that got an error code or
// no answer, unless the client got an address for the name after them or
// shortly before (from another resolver, over TCP after a truncated
// answer, or for another record type: a resolver with IPv4 addresses only
// may refuse AAAA queries), or for a shorter name it extends (a
// search-list suffix), or connected with the name in its SNI after them.
func (k *dnsBook) failures() []*Connection {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ended {
		return nil
	}
	k.ended = true
	all := slices.Clone(k.failed)
	for _, p := range k.pending {
		if lookupType(p.key.qtype) && !probeName(p.key.name) && len(p.queries) > 0 {
			all = append(all, p)
		}
	}
	// The pending ones come in the map's random order: the order must be
	// total.
	slices.SortFunc(all, func(a, b *dnsQuery) int {
		if c := cmpFrame(first(a), first(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	type group struct {
		key clientName
		c   *Connection
	}
	var groups []group
	for _, p := range all {
		key := clientName{p.key.client.Addr().Unmap(), p.key.name}
		if k.later(key, first(p)) {
			continue
		}
		i := slices.IndexFunc(groups, func(g group) bool { return g.key == key })
		if i < 0 {
			groups = append(groups, group{key, &Connection{Client: p.key.client, Server: p.key.server, First: first(p), Last: first(p),
				ClientCertificates: -1, DNSFailure: &DNSFailure{Name: p.name, TCP: p.key.tcp}}})
			i = len(groups) - 1
		}
		c := groups[i].c
		d := c.DNSFailure
		if !slices.Contains(d.Types, p.key.qtype) && len(d.Types) < maxDNSTypes {
			d.Types = append(d.Types, p.key.qtype)
		}
		if p.icmp != nil && p.answer.Number == 0 && (d.Unreachable == nil || p.icmp.Frame.Number < d.Unreachable.Frame.Number) {
			d.Unreachable = p.icmp
		}
		for _, f := range p.queries {
			if len(d.Queries) < maxDNSFrames {
				d.Queries = append(d.Queries, f)
			}
			c.Last = latest(c.Last, f)
		}
		if p.answer.Number != 0 {
			switch {
			case !d.Answered:
				d.Answered, d.RCode = true, p.rcode
			case p.rcode != d.RCode && !slices.Contains(d.OtherRCodes, p.rcode):
				d.OtherRCodes = append(d.OtherRCodes, p.rcode)
			}
			if len(d.Answers) < maxDNSFrames {
				d.Answers = append(d.Answers, p.answer)
			}
			c.Last = latest(c.Last, p.answer)
		}
	}
	out := make([]*Connection, len(groups))
	for i, g := range groups {
		d := g.c.DNSFailure
		// Over TCP one segment may carry several messages.
		slices.SortFunc(d.Queries, cmpFrame)
		d.Queries = slices.CompactFunc(d.Queries, sameFrame)
		slices.SortFunc(d.Answers, cmpFrame)
		d.Answers = slices.CompactFunc(d.Answers, sameFrame)
		if !d.Answered && k.end.Number > g.c.Last.Number {
			g.c.CaptureEnd = k.end
		}
		out[i] = g.c
	}
	return out
}

// resolvedWithin is how long before a failed query an answer with an
// address for the name still counts: the other record type's answer of
// the same lookup, a retry.
const resolvedWithin = 10 * time.Second

// later reports whether, after frame f (or within resolvedWithin before
// it), the client got an address for the name or for a name it extends,
// or connected to the name after it.
func (k *dnsBook) later(key clientName, f capture.Frame) bool {
	k.settleConnected()
	if n, ok := k.connected[key.sum()]; ok && n > f.Number {
		return true
	}
	for name := key.name; name != ""; {
		if a, ok := k.resolved[clientName{key.client, name}]; ok && (a.Number > f.Number || f.Time.Sub(a.Time) <= resolvedWithin) {
			return true
		}
		i := strings.LastIndexByte(name, '.')
		if i < 0 {
			break
		}
		name = name[:i]
	}
	return false
}

func first(p *dnsQuery) capture.Frame {
	if len(p.queries) > 0 {
		return p.queries[0]
	}
	return p.answer
}

func latest(a, b capture.Frame) capture.Frame {
	if b.Number > a.Number {
		return b
	}
	return a
}

func sameFrame(a, b capture.Frame) bool { return a.Number == b.Number }

func cmpFrame(a, b capture.Frame) int {
	switch {
	case a.Number < b.Number:
		return -1
	case a.Number > b.Number:
		return 1
	}
	return 0
}

// dnsStream reads the DNS messages of a TCP connection to port 53, each
// after its two-byte length (RFC 1035, Section 4.2.2). It makes no
// record: the connection carries no TLS.
type dnsStream struct {
	book           *dnsBook
	client, server netip.AddrPort
	buf            [2][]byte
	broken         [2]bool // a gap: the next length is unknown
	messages       int
	// swapped is set when capture took the resolver for the client (it
	// missed the SYN): its directions are the other way round.
	swapped bool
}

// Data implements capture.Stream.
func (s *dnsStream) Data(d capture.Direction, b []byte, f capture.Frame) {
	if s.swapped {
		d = d.Reverse()
	}
	if s.broken[d] || s.messages >= maxTCPDNS {
		return
	}
	s.buf[d] = append(s.buf[d], b...)
	for len(s.buf[d]) >= 2 {
		n := int(binary.BigEndian.Uint16(s.buf[d]))
		if len(s.buf[d]) < 2+n {
			return
		}
		src, dst := s.client, s.server
		if d == capture.ServerToClient {
			src, dst = dst, src
		}
		s.book.message(src, dst, s.buf[d][2:2+n], f, true)
		s.buf[d] = s.buf[d][2+n:]
		if s.messages++; s.messages >= maxTCPDNS {
			s.buf = [2][]byte{}
			return
		}
	}
	if len(s.buf[d]) == 0 {
		s.buf[d] = nil // let the backing array go
	}
}

// Gap implements capture.Stream.
func (s *dnsStream) Gap(d capture.Direction, n int, f capture.Frame) {
	if s.swapped {
		d = d.Reverse()
	}
	s.broken[d], s.buf[d] = true, nil
}

// Event implements capture.Stream.
func (s *dnsStream) Event(capture.Event) {}

// Close implements capture.Stream.
func (s *dnsStream) Close(capture.CloseReason, capture.Frame, int64) { s.buf = [2][]byte{} }
