//go:debug cryptocustomrand=1

package pipeline

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

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

// Live over a capture split by flow between sources, each read on a
// goroutine of its own, reports the connections, frames and verdicts that
// Live over the whole capture does, in the same order (that of the capture
// time each outcome became known), however the goroutines interleave: on a
// generated capture of handshakes, with the default idle timeout and with
// one so short that most connections end idle and take their place at
// their deadline, and on the lab captures. The verdicts are those Collect
// (read) gives the same connections. Run it with -count to see the order
// hold.
func TestLiveSplitAsWhole(t *testing.T) {
	var gen bytes.Buffer
	if _, err := tlsgen.Generate(&gen, tlsgen.Config{Seed: 5, Size: 1e6, HandshakesOnly: true}); err != nil {
		t.Fatal(err)
	}
	type input struct {
		name string
		pcap []byte
		idle time.Duration
	}
	inputs := []input{{"generated", gen.Bytes(), 0}, {"generated, idle 2ms", gen.Bytes(), 2 * time.Millisecond}}
	for _, p := range labCaptures(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(p), b, 0})
	}
	total := 0
	for _, in := range inputs {
		cfg := Config{Capture: capture.Options{IdleTimeout: in.idle}}
		live := func(srcs []capture.SplitSource) []key {
			var got []key
			_, err := Live(context.Background(), srcs, cfg, func(r Result) { got = append(got, outcomeOf(r)) })
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		src, err := capture.NewReader(in.name, bytes.NewReader(in.pcap))
		if err != nil {
			t.Fatal(err)
		}
		want := live([]capture.SplitSource{capture.Unsplit(src)})
		total += len(want)
		for _, n := range []int{1, 2, 3} {
			if got := live(splitByFlow(t, in.pcap, n)); !slices.Equal(got, want) {
				t.Errorf("%s, %d sources: %d connections\n%v\nwhole capture: %d\n%v", in.name, n, len(got), got, len(want), want)
			}
		}
		if in.idle != 0 {
			continue
		}
		// The verdicts are read's.
		src, err = capture.NewReader(in.name, bytes.NewReader(in.pcap))
		if err != nil {
			t.Fatal(err)
		}
		read, _, err := Collect(context.Background(), src, cfg)
		if err != nil {
			t.Fatal(err)
		}
		byConn := map[string]key{}
		for _, r := range read {
			byConn[r.Conn.Client.String()+" "+r.Conn.Server.String()] = outcomeOf(r)
		}
		for _, k := range want {
			if r, ok := byConn[k.client+" "+k.server]; !ok || r.category != k.category {
				t.Errorf("%s: %s %s: live says %s, read %s", in.name, k.client, k.server, k.category, r.category)
			}
		}
		if len(byConn) != len(want) {
			t.Errorf("%s: live reports %d connections, read %d", in.name, len(want), len(byConn))
		}
	}
	if total < 100 {
		t.Fatalf("%d connections in all", total)
	}
}
