package capture

import (
	"context"
	"testing"
)

// TestStatsStart checks that Stats.Start is frame 1's timestamp, the zero of
// Wireshark's relative times, even when frame 1 is not TCP.
func TestStatsStart(t *testing.T) {
	f, err := OpenFile("../testdata/captures/connection_refused.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var first Frame
	h := handlerFunc(func(c Conn) Stream {
		if first.Number == 0 {
			first = c.First
		}
		return nopStream{}
	})
	st, err := Run(context.Background(), f, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Number != 1 || !st.Start.Equal(first.Time) || st.Start.IsZero() {
		t.Errorf("Stats.Start = %v, want frame 1's time %v (first connection starts at frame %d)", st.Start, first.Time, first.Number)
	}
}

type handlerFunc func(Conn) Stream

func (h handlerFunc) Open(c Conn) Stream { return h(c) }

type nopStream struct{}

func (nopStream) Data(Direction, []byte, Frame)   {}
func (nopStream) Gap(Direction, int, Frame)       {}
func (nopStream) Event(Event)                     {}
func (nopStream) Close(CloseReason, Frame, int64) {}
