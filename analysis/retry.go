package analysis

// A connection attempt rejected by an ICMP error and a later attempt to
// the same server from the same client: whether that one got through
// tells a lasting rejection from one that came and went.

import (
	"slices"

	"github.com/tlsdiag/tlsdiag/capture"
)

// awaitsRetry reports whether c is a TCP connection whose SYN got an
// ICMP error (other than "fragmentation needed") and no SYN-ACK: the
// sequencer holds it until the capture is over, so that a later attempt
// to the same server is known (linkRetry).
func awaitsRetry(c *Connection) bool {
	p := c.Path
	if c.IsQUIC() || p == nil || p.Retry != nil || len(p.ICMP) == 0 || c.TCP.SYN.Number == 0 || c.TCP.SYNACK.Number != 0 {
		return false
	}
	return slices.ContainsFunc(p.ICMP, func(r ICMPReport) bool {
		return r.About == capture.ClientToServer && r.Meaning() != capture.ICMPTooBig
	})
}

// linkRetry finds, among the finished connections waiting to be emitted,
// the first TCP connection from the same client host to the same server
// address and port that began after c and that the server accepted (its
// SYN got a SYN-ACK). The sequencer's lock is held.
func (s *sequencer) linkRetry(c *Connection) {
	var best *Connection
	for _, p := range s.pending {
		t := p.c
		if t.IsQUIC() || t.Server != c.Server || t.Client.Addr() != c.Client.Addr() || t.First.Number <= c.First.Number || t.TCP.SYNACK.Number == 0 {
			continue
		}
		if best == nil || t.First.Number < best.First.Number {
			best = t
		}
	}
	if best != nil {
		c.Path.Retry = &Fallback{Client: best.Client, Server: best.Server, First: best.First, Established: best.Established}
	}
}
