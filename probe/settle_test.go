package probe

import (
	"testing"
	"time"

	"github.com/tlsdiag/tlsdiag/capture/live"
)

// stalledReader is a capture whose kernel counted received packets that
// the reader, kept from running by a busy machine, reads only after
// stall.
type stalledReader struct {
	start    time.Time
	stall    time.Duration
	received int
	exact    bool
}

func (r *stalledReader) stats() (live.Stats, error) {
	s := live.Stats{Received: r.received, Exact: r.exact}
	if time.Since(r.start) >= r.stall {
		s.Read = int64(r.received)
	}
	return s, nil
}

func TestSettleWaitsForAStalledReader(t *testing.T) {
	const stall = 10 * settleQuiet
	r := &stalledReader{start: time.Now(), stall: stall, received: 16, exact: true}
	settle(r.stats)
	if waited := time.Since(r.start); waited < stall {
		t.Errorf("settle returned after %v with the reader stalled (%v): exact counts say 16 packets are unread", waited, stall)
	}
}

func TestSettleGivesUpOnInexactCounts(t *testing.T) {
	// libpcap on loopback: Received counts each packet twice, so Read
	// never reaches it; settle ends once Read stops moving.
	start := time.Now()
	settle(func() (live.Stats, error) { return live.Stats{Received: 32, Read: 16}, nil })
	if waited := time.Since(start); waited >= settleMax {
		t.Errorf("settle waited %v, the whole settleMax, on counts that cannot meet", waited)
	}
}

func TestSettleReturnsOnceCaughtUp(t *testing.T) {
	r := &stalledReader{start: time.Now(), received: 16, exact: true}
	settle(r.stats)
	if waited := time.Since(r.start); waited >= settleQuiet {
		t.Errorf("settle waited %v with every packet read", waited)
	}
}
