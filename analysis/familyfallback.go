package analysis

// A client with a name that has IPv6 and IPv4 addresses tries one family
// and, when its SYN goes unanswered or is refused, the other (Happy
// Eyeballs, RFC 8305: curl after 200 ms, Go after 300 ms, Node.js after
// 250 ms; Python's urllib3 once the first attempt failed). The failed
// attempt and the connection that replaced it are to different addresses,
// so only the server's port, the families and the timing tie them.

import (
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
)

// FamilyAttempt is a TCP connection to the same server port in the other
// IP family than a connection whose SYN got no SYN-ACK, begun close enough
// to it to be the same client's other attempt (Connection.OtherFamily).
type FamilyAttempt struct {
	Fallback
	// Later: it began after this connection's SYN (the client fell back
	// to it); else it began before, and this connection is the fallback.
	Later bool
	// Accepted: the server answered its SYN with a SYN-ACK.
	Accepted bool
	// Name is the SNI of its ClientHello, "" when none.
	Name string
	// Last is its last frame.
	Last capture.Frame
	// Shared: an earlier failed attempt was linked to the same later
	// connection first (a client that opens several connections at once,
	// as browsers do, has more attempts than fallbacks).
	Shared bool
}

// familyWindow is how long after an attempt's last frame (its last SYN,
// the reset or the ICMP error) another family's attempt may begin and
// still be read as its fallback: Happy Eyeballs clients start it within
// a few hundred milliseconds, clients that go through the addresses in
// turn as soon as the connect fails or times out.
const familyWindow = 5 * time.Second

// familyHoldFrames is how many frames past its end a connection refused
// by a reset waits for its fallback to finish: a request's connection
// over the other family, begun right after the reset, as a rule.
const familyHoldFrames = 2048

// maxFamilyRecent bounds the connections the sequencer remembers for
// linkOtherFamily once they were emitted.
const maxFamilyRecent = 256

// synFailed reports whether c is a TCP connection whose SYN got no
// SYN-ACK and that carried no hello: unanswered, reset or rejected.
func synFailed(c *Connection) bool {
	return !c.IsQUIC() && c.DNSFailure == nil && c.TCP.SYN.Number != 0 && c.TCP.SYNACK.Number == 0 && c.ClientHello == nil
}

// awaitsOtherFamily reports whether c is a TCP connection refused by a
// reset to its SYN: the sequencer holds it until every Builder read
// familyHoldFrames frames past its end, so that the other family's
// attempt, which begins right after the reset, has finished if it was
// short. (Connections rejected by ICMP are held to the capture's end for
// awaitsRetry, and unanswered ones are listed last; holding every refused
// connection to the end would hold every connection after it, past the
// memory a read may take.)
func awaitsOtherFamily(c *Connection) bool {
	return synFailed(c) && c.OtherFamily == nil && c.TCP.RST.Number != 0 && c.TCP.RSTFrom == capture.ServerToClient
}

// familyAttempt is what linkOtherFamily keeps of a connection.
func familyAttempt(c *Connection) FamilyAttempt {
	a := FamilyAttempt{Fallback: Fallback{Client: c.Client, Server: c.Server, First: c.First, Established: c.Established},
		Accepted: c.TCP.SYNACK.Number != 0, Last: c.Last}
	if c.ClientHello != nil {
		a.Name = c.ClientHello.ServerName // cloned by whoever keeps it
	}
	return a
}

// otherFamilyOf reports whether a, a connection that began at or after
// c's first frame (later) or before it, is c's attempt in the other
// family: the same server port, the other IP version at both ends, and
// the later one begun within familyWindow of the earlier one's end.
func otherFamilyOf(c *Connection, a FamilyAttempt, later bool) bool {
	if a.Server.Port() != c.Server.Port() || a.Server.Addr().Is4() == c.Server.Addr().Is4() ||
		a.Client.Addr().Is4() != a.Server.Addr().Is4() || c.Client.Addr().Is4() != c.Server.Addr().Is4() {
		return false
	}
	if later {
		return a.First.Number > c.First.Number && !a.First.Time.Before(c.First.Time) && a.First.Time.Sub(c.Last.Time) <= familyWindow
	}
	return a.First.Number < c.First.Number && !a.Accepted && !a.Established && c.First.Time.Sub(a.Last.Time) <= familyWindow
}

// linkOtherFamily sets c.OtherFamily when c's SYN got no SYN-ACK: the
// first connection to the same port in the other family that began after
// it (among those waiting to be emitted, those held for the end and the
// last ones emitted), or else the attempt in the other family it
// followed, which failed too. The sequencer's lock is held.
//
// Before the capture's end (a refused connection whose hold is over), only
// the waiting connections closed by familyHoldFrames past its end count,
// which every Builder has read past, so that the link does not depend on
// how far ahead some Builders are.
func (s *sequencer) linkOtherFamily(p pendingConn) {
	c := p.c
	if !synFailed(c) || c.OtherFamily != nil {
		return
	}
	horizon := int64(math.MaxInt64)
	if !s.ended {
		horizon = p.end + familyHoldFrames
	}
	if !s.onlyClient(c.Server.Port(), c.Client.Addr(), horizon) {
		// Another client of c's family: nothing is linked (checked once
		// here, not for each candidate: at a busy server, for each of
		// many failed attempts, it was a look at every connection).
		return
	}
	var best *FamilyAttempt
	// better ranks a over best: a later connection over an earlier one,
	// one no other attempt was linked to over a shared one, then the
	// nearest in time.
	better := func(a FamilyAttempt) bool {
		switch {
		case best == nil:
			return true
		case a.Later != best.Later:
			return a.Later
		case a.Shared != best.Shared:
			return !a.Shared
		case a.Later:
			return a.First.Number < best.First.Number
		}
		return a.First.Number > best.First.Number
	}
	consider := func(a FamilyAttempt, later bool) {
		if !otherFamilyOf(c, a, later) || !s.onlyClient(c.Server.Port(), a.Client.Addr(), horizon) {
			return
		}
		a.Later, a.Shared = later, later && s.familyClaimed[a.First.Number]
		if better(a) {
			best = &a
		}
	}
	for _, w := range s.pending {
		if t := w.c; t != c && w.closedBy <= horizon && !t.IsQUIC() && t.Server.Port() == c.Server.Port() && t.Server.Addr().Is4() != c.Server.Addr().Is4() {
			consider(familyAttempt(t), true)
		}
	}
	if !s.ended {
		// The unanswered connections are known whole at the end only.
		for _, a := range s.familyRecent {
			consider(a, a.First.Number > c.First.Number)
		}
		s.link(c, best)
		return
	}
	for i := range s.held {
		u := &s.held[i]
		last := u.lastSYN
		if u.last.Number > last.Number {
			last = u.last
		}
		consider(FamilyAttempt{Fallback: Fallback{Client: u.conn.Client, Server: u.conn.Server, First: u.conn.First}, Last: last}, u.conn.First.Number > c.First.Number)
	}
	for _, a := range s.familyEnd {
		if a.First != c.First {
			consider(a, a.First.Number > c.First.Number)
		}
	}
	for _, a := range s.familyRecent {
		consider(a, a.First.Number > c.First.Number)
	}
	s.link(c, best)
}

// link sets c's attempt in the other family to best (nil: none), with a
// name of its own, and notes the connection it was linked to.
func (s *sequencer) link(c *Connection, best *FamilyAttempt) {
	if best == nil {
		return
	}
	best.Name = strings.Clone(best.Name)
	c.OtherFamily = best
	if best.Later {
		if s.familyClaimed == nil || len(s.familyClaimed) >= maxFamilyRecent {
			s.familyClaimed = make(map[int64]bool)
		}
		s.familyClaimed[best.First.Number] = true
	}
}

// rememberFamily keeps what linkOtherFamily needs of c, an emitted TCP
// connection, among the last maxFamilyRecent.
func (s *sequencer) rememberFamily(c *Connection) {
	if c.DNSFailure != nil {
		return
	}
	if s.familyCensus == nil {
		s.familyCensus = make(map[uint16]*census)
	}
	k := s.familyCensus[c.Server.Port()]
	if k == nil {
		k = new(census)
		s.familyCensus[c.Server.Port()] = k
	}
	k.count(c.Client.Addr())
	if c.IsQUIC() || c.TCP.SYN.Number == 0 {
		return
	}
	a := familyAttempt(c)
	a.Name = strings.Clone(a.Name)
	// A ring: linkOtherFamily ranks them whatever their order.
	if len(s.familyRecent) < maxFamilyRecent {
		s.familyRecent = append(s.familyRecent, a)
	} else {
		s.familyRecent[s.familyNext] = a
		s.familyNext = (s.familyNext + 1) % maxFamilyRecent
	}
}

// census is, for a server port, the client address of each IP family that
// the emitted connections to it came from, and whether there were more.
type census [2]struct {
	addr netip.Addr
	many bool
}

// familyIndex is 0 for IPv4, 1 for IPv6.
func familyIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

// count adds a connection from client to the census.
func (k *census) count(client netip.Addr) {
	e := &k[familyIndex(client)]
	switch {
	case !e.addr.IsValid():
		e.addr = client
	case e.addr != client:
		e.many = true
	}
}

// onlyClient reports whether client is the only address of its family
// that connected to port, among the connections the sequencer knows of
// that began by frame horizon (all of them at the capture's end). Only
// then are two attempts over the two families read as one client's: at a
// server or a router, many clients' attempts follow each other, and
// nothing else ties an IPv6 address to an IPv4 one.
func (s *sequencer) onlyClient(port uint16, client netip.Addr, horizon int64) bool {
	if k := s.familyCensus[port]; k != nil {
		if e := k[familyIndex(client)]; e.many || e.addr.IsValid() && e.addr != client {
			return false
		}
	}
	other := func(first int64, c netip.Addr, server netip.AddrPort) bool {
		return first <= horizon && server.Port() == port && c.Is4() == client.Is4() && c != client
	}
	for _, e := range s.open {
		if e.at <= horizon && other(e.first, e.client, e.server) {
			return false
		}
	}
	for _, w := range s.pending {
		if w.closedBy <= horizon && other(w.first, w.c.Client.Addr(), w.c.Server) {
			return false
		}
	}
	if s.ended {
		for i := range s.held {
			if u := &s.held[i]; other(u.conn.First.Number, u.conn.Client.Addr(), u.conn.Server) {
				return false
			}
		}
		for _, e := range s.familyEnd {
			if other(e.First.Number, e.Client.Addr(), e.Server) {
				return false
			}
		}
	}
	return true
}
