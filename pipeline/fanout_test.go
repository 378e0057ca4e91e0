//go:debug cryptocustomrand=1

package pipeline

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

// frame is one frame of a capture split by flow.
type frame struct {
	data []byte
	ci   gopacket.CaptureInfo
	n    int64
}

// flowShare is one share of a capture split by flow, as a socket of a
// fan-out group gets it.
type flowShare struct {
	frames []frame
	lt     layers.LinkType
}

func (s *flowShare) ReadFrame() ([]byte, gopacket.CaptureInfo, int64, error) {
	if len(s.frames) == 0 {
		return nil, gopacket.CaptureInfo{}, 0, io.EOF
	}
	f := s.frames[0]
	s.frames = s.frames[1:]
	return f.data, f.ci, f.n, nil
}

func (s *flowShare) LinkType() layers.LinkType { return s.lt }

// splitByFlow deals the frames of a capture to n shares by a hash of their
// addresses that is the same both ways, as the kernel's fan-out does.
func splitByFlow(t *testing.T, pcap []byte, n int) []capture.SplitSource {
	t.Helper()
	src, err := capture.NewReader("split", bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	shares := make([]*flowShare, n)
	for i := range shares {
		shares[i] = &flowShare{lt: src.LinkType()}
	}
	for num := int64(1); ; num++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, src.LinkType(), gopacket.Default)
		var h uint64
		if nl := p.NetworkLayer(); nl != nil {
			h = nl.NetworkFlow().FastHash()
		}
		if tl := p.TransportLayer(); tl != nil {
			h ^= tl.TransportFlow().FastHash()
		}
		s := shares[h%uint64(n)]
		s.frames = append(s.frames, frame{bytes.Clone(data), ci, num})
	}
	out := make([]capture.SplitSource, n)
	for i, s := range shares {
		out[i] = s
	}
	return out
}

// Live over a capture split by flow between two sources, each read on a
// goroutine of its own, reports the connections, frames and verdicts that
// Live over the whole capture does (in the order their outcomes are
// known, which differs between the goroutines).
func TestLiveSplitAsWhole(t *testing.T) {
	var pcap bytes.Buffer
	if _, err := tlsgen.Generate(&pcap, tlsgen.Config{Seed: 5, Size: 1e6, HandshakesOnly: true}); err != nil {
		t.Fatal(err)
	}
	live := func(srcs []capture.SplitSource) []key {
		var got []key
		st, err := Live(context.Background(), srcs, Config{}, func(r Result) { got = append(got, outcomeOf(r)) })
		if err != nil {
			t.Fatal(err)
		}
		if st.Frames == 0 || st.ConnsOpened == 0 {
			t.Fatalf("statistics %+v", st.Stats)
		}
		slices.SortFunc(got, func(a, b key) int { return int(a.first - b.first) })
		return got
	}
	src, err := capture.NewReader("whole", bytes.NewReader(pcap.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := live([]capture.SplitSource{capture.Unsplit(src)})
	if len(want) < 50 {
		t.Fatalf("the generated capture gave %d connections", len(want))
	}
	for _, n := range []int{2, 3} {
		if got := live(splitByFlow(t, pcap.Bytes(), n)); !slices.Equal(got, want) {
			t.Errorf("%d sources: %d connections\n%v\nwhole capture: %d\n%v", n, len(got), got, len(want), want)
		}
	}
}
