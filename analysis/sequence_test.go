package analysis

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestLateReasons checks why the sequencer lists a connection after a
// later one, as the notes tell it: the cap let the later one go first
// (Late), or the earlier one was nothing but SYNs until the later one had
// ended (AnsweredLate). One Builder, the frames read in order.
func TestLateReasons(t *testing.T) {
	conn := func(first int64) *Connection {
		return &Connection{
			First:  capture.Frame{Number: first},
			Client: netip.MustParseAddrPort(fmt.Sprintf("10.0.0.1:%d", 40000+first)),
			Server: netip.MustParseAddrPort("10.0.0.2:443"),
		}
	}
	t.Run("answered after a later one ended", func(t *testing.T) {
		var order []int64
		s := newSequencer(1, Options{}, func(c *Connection) { order = append(order, c.First.Number) })
		later := s.opened(20, 21)
		s.progress(0, 30)
		s.finished(conn(20), 30, later, 30)
		s.progress(0, 40) // frame 10's SYN still has no answer
		if !slices.Equal(order, []int64{20}) {
			t.Fatalf("by frame 40 emitted %v, want [20]: a connection of only SYNs holds nothing back", order)
		}
		earlier := s.opened(10, 50) // answered in frame 50
		s.finished(conn(10), 50, earlier, 50)
		s.progress(0, 60)
		st := s.end()
		if !slices.Equal(order, []int64{20, 10}) || st.AnsweredLate != 1 || st.Late != 0 {
			t.Errorf("order %v, %d answered late, %d late by the cap; want [20 10], 1, 0", order, st.AnsweredLate, st.Late)
		}
	})
	t.Run("let go beyond the cap", func(t *testing.T) {
		var order []int64
		s := newSequencer(1, Options{MaxPending: 1}, func(c *Connection) { order = append(order, c.First.Number) })
		open := s.opened(5, 6)
		a, b := s.opened(20, 21), s.opened(25, 26)
		s.progress(0, 29)
		s.finished(conn(20), 30, a, 30)
		s.finished(conn(25), 35, b, 35)
		s.progress(0, 40)
		if !slices.Equal(order, []int64{20}) {
			t.Fatalf("by frame 40 emitted %v, want [20]: two wait behind frame 5's connection, one more than the cap", order)
		}
		s.finished(conn(5), 60, open, 60)
		s.progress(0, 60)
		st := s.end()
		if !slices.Equal(order, []int64{20, 5, 25}) || st.Late != 1 || st.AnsweredLate != 0 {
			t.Errorf("order %v, %d late by the cap, %d answered late; want [20 5 25], 1, 0", order, st.Late, st.AnsweredLate)
		}
	})
}
