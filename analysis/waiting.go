package analysis

import (
	"container/heap"
	"slices"
)

// waiting indexes c, finished, among the connections waiting to be
// emitted that linkOtherNames and linkOtherChains look through; gone
// takes it out once emitted.
func (s *sequencer) waiting(c *Connection) {
	if namedWaiting(c) {
		s.waitingNames.add(c.Server.Addr(), c.ClientHello.ServerName, c)
	}
	if completedChain(c) {
		s.waitingChains.add(c.ClientHello.ServerName, string(c.Certificates[0].X509.RawIssuer), c)
	}
}

func (s *sequencer) gone(c *Connection) {
	if namedWaiting(c) {
		s.waitingNames.remove(c.Server.Addr(), c.ClientHello.ServerName, c)
	}
	if completedChain(c) {
		s.waitingChains.remove(c.ClientHello.ServerName, string(c.Certificates[0].X509.RawIssuer), c)
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
	heap.Push(h, c)
}

// remove takes c, emitted, out of the group (k1, k2). The sequencer emits
// its first waiting connection, so c is its group's first.
func (x waitingIndex[K1, K2]) remove(k1 K1, k2 K2, c *Connection) {
	groups := x[k1]
	h := groups[k2]
	if h == nil {
		return
	}
	switch {
	case (*h)[0] == c:
		heap.Pop(h)
	default:
		for i, t := range *h {
			if t == c {
				heap.Remove(h, i)
				break
			}
		}
	}
	if h.Len() == 0 {
		delete(groups, k2)
		if len(groups) == 0 {
			delete(x, k1)
		}
	}
}

// connHeap holds connections, the first in emission order (connLess) on
// top.
type connHeap []*Connection

func (h connHeap) Len() int           { return len(h) }
func (h connHeap) Less(i, j int) bool { return connLess(h[i], h[j]) }
func (h connHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *connHeap) Push(x any)        { *h = append(*h, x.(*Connection)) }
func (h *connHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
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
