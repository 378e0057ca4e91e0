package capture

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// TestClockSteps checks that a capture whose time goes back (an NTP step
// while capturing, two hosts' files joined with mergecap -a) is counted:
// the frames earlier than the frame before them, the largest step and its
// frame, alike by Run and RunSharded.
func TestClockSteps(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	stamps := []time.Time{
		t0,
		t0.Add(time.Second),
		t0.Add(time.Second - time.Microsecond), // frame 3: 1 µs back
		t0.Add(2 * time.Second),
		t0.Add(time.Second - time.Hour), // frame 5: an hour back
		t0.Add(2*time.Second - time.Hour),
		t0.Add(2*time.Second - time.Hour - time.Millisecond), // frame 7: 1 ms back
	}
	var recs []pcapRec
	for i, ts := range stamps {
		seg := tcpSeg{src: v4a, dst: v4b, seq: uint32(1 + i), ack: 1, psh: true, payload: []byte("x")}
		recs = append(recs, pcapRec{data: ethernet(t, tcpIP(t, seg)), ts: ts})
	}
	data := writePcap(layers.LinkTypeEthernet, binary.LittleEndian, false, recs)
	for _, shards := range []int{0, 1, 3} {
		_, st := runLogged(t, data, Options{}, shards)
		if st.ClockSteps != 3 || st.ClockStepMax != time.Hour+time.Second || st.ClockStepMaxFrame != 5 {
			t.Errorf("%d shards: ClockSteps %d, ClockStepMax %v, ClockStepMaxFrame %d; want 3, 1h0m1s, 5",
				shards, st.ClockSteps, st.ClockStepMax, st.ClockStepMaxFrame)
		}
	}
	_, st := runLogged(t, writePcap(layers.LinkTypeEthernet, binary.LittleEndian, false, recs[:2]), Options{}, 0)
	if st.ClockSteps != 0 || st.ClockStepMax != 0 || st.ClockStepMaxFrame != 0 {
		t.Errorf("time going forward: %+v, want no step", st)
	}
}
