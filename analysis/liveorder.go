package analysis

import (
	"cmp"
	"container/heap"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// liveOrder hands the connections that the Builders of a split live
// capture (NewBuilders, capture.RunFanout) report to Options.Done in the
// order of the capture time at which their outcome became known, each
// once no source can still report an earlier one. The order is that of
// one Builder reading the whole capture, however the sources' reads
// interleave.
//
// A connection's time is that of the frame that decided it, or, when it
// went idle, its deadline: its last packet plus the idle timeout, whatever
// frame then moved the clock past it. Connections still open when the
// capture ends come last, by last frame time, then by address.
type liveOrder struct {
	done func(*Connection)
	// clocks are, by Builder, the capture time before which it reports
	// nothing more (capture.Clocker).
	clocks []atomic.Int64
	mu     sync.Mutex // guards waiting
	// waiting are the connections reported, not yet handed on; count is
	// their number, read without mu.
	waiting liveHeap
	count   atomic.Int32
	// deliver is held by the goroutine handing connections to done, one
	// at a time; dirty asks it to look again.
	deliver sync.Mutex
	dirty   atomic.Bool
	ended   bool // under mu
}

func newLiveOrder(builders int, done func(*Connection)) *liveOrder {
	o := &liveOrder{done: done, clocks: make([]atomic.Int64, builders)}
	for i := range o.clocks {
		o.clocks[i].Store(math.MinInt64)
	}
	return o
}

// liveConn is a reported connection and its place in the order.
type liveConn struct {
	c       *Connection
	at, sub int64 // capture time; at the end (at = MaxInt64), the last frame's
}

type liveHeap []liveConn

func (h liveHeap) Len() int { return len(h) }
func (h liveHeap) Less(i, j int) bool {
	x, y := &h[i], &h[j]
	if c := cmp.Compare(x.at, y.at); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(x.sub, y.sub); c != 0 {
		return c < 0
	}
	if c := x.c.Client.Compare(y.c.Client); c != 0 {
		return c < 0
	}
	return x.c.Server.Compare(y.c.Server) < 0
}
func (h liveHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *liveHeap) Push(x any)   { *h = append(*h, x.(liveConn)) }
func (h *liveHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = liveConn{}
	*h = old[:len(old)-1]
	return p
}

// clock says that Builder i reports nothing more before capture time ns.
func (o *liveOrder) clock(i int, ns int64) {
	if ns <= o.clocks[i].Load() {
		return
	}
	o.clocks[i].Store(ns)
	if o.count.Load() > 0 {
		o.release()
	}
}

// report takes a connection decided at capture time at.
func (o *liveOrder) report(c *Connection, at int64) {
	p := liveConn{c: c, at: at}
	if at == math.MaxInt64 {
		p.sub = timeNS(c.Last.Time)
	}
	o.mu.Lock()
	heap.Push(&o.waiting, p)
	o.count.Add(1)
	o.mu.Unlock()
	o.release()
}

// end hands on every connection left: the capture is over.
func (o *liveOrder) end() {
	o.mu.Lock()
	o.ended = true
	o.mu.Unlock()
	o.release()
}

// release hands on the connections no source can precede any more, on
// one goroutine at a time: another that finds it busy leaves it a note
// to look again.
func (o *liveOrder) release() {
	for {
		o.dirty.Store(true)
		if !o.deliver.TryLock() {
			return
		}
		o.dirty.Store(false)
		for {
			c := o.next()
			if c == nil {
				break
			}
			o.done(c)
		}
		o.deliver.Unlock()
		if !o.dirty.Load() {
			return
		}
	}
}

// next pops the first waiting connection if it can go.
func (o *liveOrder) next() *Connection {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.waiting) == 0 {
		return nil
	}
	if !o.ended {
		horizon := int64(math.MaxInt64)
		for i := range o.clocks {
			horizon = min(horizon, o.clocks[i].Load())
		}
		if o.waiting[0].at >= horizon {
			return nil
		}
	}
	o.count.Add(-1)
	return heap.Pop(&o.waiting).(liveConn).c
}

func timeNS(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}
