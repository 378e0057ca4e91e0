package capture

import (
	"bytes"
	"context"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// splitFrame is one frame of a capture split by flow, as a fan-out group
// of sockets gets it.
type splitFrame struct {
	data    []byte
	ci      gopacket.CaptureInfo
	lt      layers.LinkType
	n       int64
	several bool // the file describes several interfaces
}

// splitSource replays its share of a capture, with an ErrNoFrame between
// frames now and then, as a quiet socket returns.
type splitSource struct {
	frames  []splitFrame
	i       int
	lt      layers.LinkType
	several bool
	quiet   bool
}

func (s *splitSource) ReadFrame() ([]byte, gopacket.CaptureInfo, int64, error) {
	if s.quiet = !s.quiet; s.quiet && s.i%7 == 0 {
		return nil, gopacket.CaptureInfo{}, 0, ErrNoFrame
	}
	if s.i >= len(s.frames) {
		return nil, gopacket.CaptureInfo{}, 0, io.EOF
	}
	f := s.frames[s.i]
	s.i++
	s.lt, s.several = f.lt, f.several
	return f.data, f.ci, f.n, nil
}

func (s *splitSource) LinkType() layers.LinkType { return s.lt }

func (s *splitSource) severalInterfaces() bool { return s.several }

// splitByFlow deals the frames of a capture to n sources as the kernel's
// fan-out by flow hash does: every frame of a connection, both
// directions, to the same one (frames without one to the first).
func splitByFlow(t *testing.T, data []byte, n int) []SplitSource {
	t.Helper()
	src, err := NewReader("test", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	dec := newDecoder(&st)
	srcs := make([]*splitSource, n)
	for i := range srcs {
		srcs[i] = &splitSource{}
	}
	var seg Segment
	for num := int64(1); ; num++ {
		d, ci, err := src.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lt := src.LinkType()
		to := 0
		if kind, err := dec.decode(d, ci.Timestamp, lt, &seg); err == nil && (kind == kindTCP || kind == kindUDP) {
			to = int(flowHash(seg.Src, seg.Dst) % uint64(n))
		}
		srcs[to].frames = append(srcs[to].frames, splitFrame{bytes.Clone(d), ci, lt, num, severalInterfaces(src)})
	}
	out := make([]SplitSource, n)
	for i, s := range srcs {
		out[i] = s
	}
	return out
}

// TestRunFanoutMatchesRun checks that every Stream gets the same calls
// from RunFanout, over a capture split by flow between sources, as from
// Run over the whole capture: on the lab captures and a generated one
// with hundreds of interleaved connections, split two and five ways.
func TestRunFanoutMatchesRun(t *testing.T) {
	inputs := map[string][]byte{"bench": makeBenchCapture(t, 300, 8<<10).pcap}
	for _, path := range testCaptures(t) {
		inputs[path] = readFile(t, path)
	}
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		data := inputs[name]
		t.Run(name, func(t *testing.T) {
			want, wst := runLogged(t, data, Options{}, 0)
			for _, n := range []int{1, 2, 5} {
				l := &callLog{}
				hs := make([]Handler, n)
				for i := range hs {
					hs[i] = l
				}
				gst, err := RunFanout(context.Background(), splitByFlow(t, data, n), hs, Options{})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for k, b := range l.logs {
					got[k] = b.String()
				}
				if !maps.Equal(want, got) {
					t.Errorf("%d sources: streams differ from Run's: %s", n, firstLogDiff(want, got))
				}
				for _, c := range []struct {
					what      string
					got, want int64
				}{
					{"frames", gst.Frames, wst.Frames},
					{"bytes", gst.Bytes, wst.Bytes},
					{"segments", gst.Segments, wst.Segments},
					{"connections", gst.ConnsOpened, wst.ConnsOpened},
					{"closed", gst.ConnsClosed, wst.ConnsClosed},
					{"delivered bytes", gst.DeliveredBytes, wst.DeliveredBytes},
					{"gaps", gst.Gaps, wst.Gaps},
					{"UDP", gst.UDP, wst.UDP},
				} {
					if c.got != c.want {
						t.Errorf("%d sources: %s %d, Run's %d", n, c.what, c.got, c.want)
					}
				}
				if !gst.Start.Equal(wst.Start) {
					t.Errorf("%d sources: start %v, Run's %v", n, gst.Start, wst.Start)
				}
			}
		})
	}
}

// TestRunFanoutArguments: a source for each handler.
func TestRunFanoutArguments(t *testing.T) {
	for _, c := range [][2]int{{0, 0}, {1, 2}, {2, 1}} {
		srcs := make([]SplitSource, c[0])
		for i := range srcs {
			srcs[i] = &splitSource{}
		}
		if _, err := RunFanout(context.Background(), srcs, make([]Handler, c[1]), Options{}); err == nil {
			t.Errorf("%d sources, %d handlers: no error", c[0], c[1])
		}
	}
}
