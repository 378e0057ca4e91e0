package analysis

import (
	"container/heap"
	"slices"
)

// waitingName indexes c, finished, among the connections waiting to be
// emitted that linkOtherNames looks through, and waitingChain among
// those linkOtherChains looks through; gone takes it out once emitted.
func (s *sequencer) waitingName(c *Connection) {
	if namedWaiting(c) {
		s.waitingNames.add(c.Server.Addr(), c.ClientHello.ServerName, c)
	}
}

func (s *sequencer) waitingChain(c *Connection) {
	if completedChain(c) {
		// The issuer is copied into a key once per group, not per
		// connection (a capture has few issuers).
		name, raw := c.ClientHello.ServerName, c.Certificates[0].X509.RawIssuer
		if h := s.waitingChains[name][string(raw)]; h != nil {
			h.push(c)
		} else {
			s.waitingChains.add(name, string(raw), c)
		}
	}
}

func (s *sequencer) gone(c *Connection) {
	if s.awaitingNames > 0 && namedWaiting(c) {
		s.waitingNames.remove(c.Server.Addr(), c.ClientHello.ServerName, c)
	}
	if completedChain(c) {
		name, raw := c.ClientHello.ServerName, c.Certificates[0].X509.RawIssuer
		groups := s.waitingChains[name]
		if h := groups[string(raw)]; h != nil {
			h.remove(c)
			if h.Len() == 0 {
				delete(groups, string(raw))
				if len(groups) == 0 {
					delete(s.waitingChains, name)
				}
			}
		}
	}
}

// waitingIndex groups the connections waiting to be emitted by two keys
// (a server host and a name, a name and an issuer), each group in the
// order its connections will be emitted, so that the first of each group
// is at hand. Looking through every waiting connection instead, for each
// connection that asked, was quadratic: while one connection is held for
// the capture's end, up to Options.MaxPending others wait behind it.
// It holds only waiting connections: as many as the sequencer holds.
type waitingIndex[K1, K2 comparable] map[K1]map[K2]*connHeap

// add puts c, which just began waiting, in the group (k1, k2).
func (x *waitingIndex[K1, K2]) add(k1 K1, k2 K2, c *Connection) {
	if *x == nil {
		*x = waitingIndex[K1, K2]{}
	}
	groups := (*x)[k1]
	if groups == nil {
		groups = map[K2]*connHeap{}
		(*x)[k1] = groups
	}
	h := groups[k2]
	if h == nil {
		h = new(connHeap)
		groups[k2] = h
	}
	h.push(c)
}

// remove takes c, emitted, out of the group (k1, k2).
func (x waitingIndex[K1, K2]) remove(k1 K1, k2 K2, c *Connection) {
	groups := x[k1]
	if h := groups[k2]; h != nil {
		h.remove(c)
		if h.Len() == 0 {
			delete(groups, k2)
			if len(groups) == 0 {
				delete(x, k1)
			}
		}
	}
}

// waitingConn is a waiting connection and its first frame, kept beside it
// for the order (comparing two records read both).
type waitingConn struct {
	first int64
	c     *Connection
}

// connHeap holds connections, the first in emission order (connLess) on
// top.
type connHeap []waitingConn

// first is the group's connection that will be emitted first.
func (h connHeap) first() *Connection { return h[0].c }

// push adds c. container/heap's Push and Pop would box each
// waitingConn: an allocation per call.
func (h *connHeap) push(c *Connection) {
	*h = append(*h, waitingConn{c.First.Number, c})
	heap.Fix(h, len(*h)-1)
}

// remove takes c out. The sequencer emits its first waiting connection,
// so c is its group's first.
func (h *connHeap) remove(c *Connection) {
	i := 0
	if (*h)[0].c != c {
		i = slices.IndexFunc(*h, func(w waitingConn) bool { return w.c == c })
		if i < 0 {
			return
		}
	}
	n := len(*h) - 1
	h.Swap(i, n)
	(*h)[n] = waitingConn{}
	*h = (*h)[:n]
	if i < n {
		heap.Fix(h, i)
	}
}

func (h connHeap) Len() int { return len(h) }
func (h connHeap) Less(i, j int) bool {
	if h[i].first != h[j].first {
		return h[i].first < h[j].first
	}
	return connLess(h[i].c, h[j].c)
}
func (h connHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *connHeap) Push(x any)   { *h = append(*h, x.(waitingConn)) }
func (h *connHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = waitingConn{}
	*h = old[:len(old)-1]
	return w
}

// sortConns sorts cs in emission order.
func sortConns(cs []*Connection) {
	slices.SortFunc(cs, func(a, b *Connection) int {
		if connLess(a, b) {
			return -1
		}
		return 1
	})
}
