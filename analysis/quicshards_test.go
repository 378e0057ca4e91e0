package analysis_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/fnv"
	"io"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/quic"
)

// TestQUICIdleShardsMatchOne checks that QUIC connections ending by their
// idle timeout in the middle of a capture are written in the same order,
// and let go early the same, with any number of Builders: each is closed
// by the frame at which the capture's time passed its deadline, whichever
// shard that frame went to. The capture is quic-go's handshake replayed
// 40 times, a second apart and from other client ports, behind a first
// connection kept open to the end by its server's datagram every 20 s:
// the 40 end a minute after their last datagram, at the first frame
// after that, and wait behind the first, more of them than MaxPending.
func TestQUICIdleShardsMatchOne(t *testing.T) {
	const copies = 40
	pcap := quicReplays(t, "../testdata/quic/quicgo_ok.pcap", copies)
	for _, maxPending := range []int{0, 16} {
		want := shardsMatchOne(t, pcap, maxPending, []int{1, 2, 2, 3, 7})
		if len(want) != copies+1 {
			t.Fatalf("MaxPending %d: %d connections, want %d", maxPending, len(want), copies+1)
		}
		for _, c := range want[1:] {
			if !c.IsQUIC() || c.QUIC.Datagrams[capture.ServerToClient] == 0 {
				t.Fatalf("connection %s → %s: not an answered QUIC connection", c.Client, c.Server)
			}
		}
	}
}

// TestQUICIdleLiveOrder checks live mode's order (Options.Done with
// NewBuilders over a capture split by flow, as sockets with fan-out get
// it) on the replays of TestQUICIdleShardsMatchOne: a QUIC connection
// that ended idle takes its place at its deadline, whichever source's
// frame or quiet read then moved its Builder's clock, so the order is the
// same with one, two or three sources.
func TestQUICIdleLiveOrder(t *testing.T) {
	const copies = 40
	pcap := quicReplays(t, "../testdata/quic/quicgo_ok.pcap", copies)
	order := func(n int) []string {
		var got []string
		opt := analysis.Options{Early: true, IdleTimeout: capture.DefaultIdleTimeout,
			Done: func(c *analysis.Connection) { got = append(got, c.Client.String()) }}
		bs := analysis.NewBuilders(opt, n)
		hs := make([]capture.Handler, n)
		for i, b := range bs {
			hs[i] = b
		}
		if _, err := capture.RunFanout(context.Background(), splitByPair(t, pcap, n), hs, capture.Options{}); err != nil {
			t.Fatal(err)
		}
		bs[0].Connections()
		return got
	}
	want := order(1)
	if len(want) != copies+1 {
		t.Fatalf("%d connections reported, want %d", len(want), copies+1)
	}
	for _, n := range []int{2, 3, 2, 3} {
		if got := order(n); !slices.Equal(got, want) {
			t.Errorf("%d sources: order\n%v\none source's:\n%v", n, got, want)
		}
	}
}

// TestQUICIdleLiveQuiet checks that live mode reports a QUIC connection
// once it has been idle for the timeout, while the capture goes on
// without a packet: a socket with nothing to read moves the clock.
func TestQUICIdleLiveQuiet(t *testing.T) {
	frames, lt := readFile(t, "../testdata/quic/quicgo_ok.pcap")
	q := &quietSource{frames: frames, lt: lt,
		quietAt: frames[len(frames)-1].ci.Timestamp.Add(quic.DefaultIdleTimeout + time.Second)}
	var reported []*analysis.Connection
	opt := analysis.Options{Early: true, IdleTimeout: capture.DefaultIdleTimeout,
		Done: func(c *analysis.Connection) { reported = append(reported, c) }}
	q.reported = func() int { return len(reported) }
	bs := analysis.NewBuilders(opt, 1)
	if _, err := capture.RunFanout(context.Background(), []capture.SplitSource{q}, []capture.Handler{bs[0]}, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	bs[0].Connections()
	if q.whileQuiet != 1 {
		t.Errorf("%d connections reported after a quiet minute, want the QUIC one", q.whileQuiet)
	}
	if len(reported) != 1 || !reported[0].IsQUIC() {
		t.Fatalf("reported %d connections, want the QUIC one", len(reported))
	}
}

// quietSource gives its frames, then one quiet read that says no frame
// came until quietAt, then notes how many connections were reported
// by then, and ends.
type quietSource struct {
	frames     []numberedFrame
	lt         layers.LinkType
	quietAt    time.Time
	quiet      bool
	reported   func() int
	whileQuiet int
}

func (q *quietSource) ReadFrame() ([]byte, gopacket.CaptureInfo, int64, error) {
	if len(q.frames) > 0 {
		f := q.frames[0]
		q.frames = q.frames[1:]
		return f.data, f.ci, f.n, nil
	}
	if !q.quiet {
		q.quiet = true
		return nil, gopacket.CaptureInfo{Timestamp: q.quietAt}, 0, capture.ErrNoFrame
	}
	q.whileQuiet = q.reported()
	return nil, gopacket.CaptureInfo{}, 0, io.EOF
}

func (q *quietSource) LinkType() layers.LinkType { return q.lt }

// splitByPair deals the frames of pcap to n sources by their pair of
// addresses, as the kernel's fan-out by flow does, each frame with its
// number in the whole capture. A source that has given all its frames
// is quiet (as a socket with nothing to read) until every other has: all
// sockets stop together, after the last frame.
func splitByPair(t *testing.T, pcap []byte, n int) []capture.SplitSource {
	t.Helper()
	src, err := capture.NewReader("split", bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	frames, lt := readFrames(t, src)
	busy := new(atomic.Int32)
	busy.Store(int32(n))
	srcs := make([]*pairSource, n)
	for i := range srcs {
		srcs[i] = &pairSource{lt: lt, busy: busy}
	}
	dec := capture.NewFlowDecoder()
	for _, fr := range frames {
		to := 0
		if fl, ok := dec.Flow(fr.data, fr.ci.Timestamp, lt); ok {
			a, b := fl.Src.String(), fl.Dst.String()
			if a > b {
				a, b = b, a
			}
			h := fnv.New32a()
			h.Write([]byte(a + b))
			to = int(h.Sum32() % uint32(n))
		}
		srcs[to].frames = append(srcs[to].frames, fr)
	}
	out := make([]capture.SplitSource, n)
	for i, s := range srcs {
		out[i] = s
	}
	return out
}

// numberedFrame is a frame of a capture and its number in it.
type numberedFrame struct {
	data []byte
	ci   gopacket.CaptureInfo
	n    int64
}

// readFrames reads every frame of src, numbered from 1, and the link type
// of the last.
func readFrames(t *testing.T, src capture.Source) ([]numberedFrame, layers.LinkType) {
	t.Helper()
	var frames []numberedFrame
	for n := int64(1); ; n++ {
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return frames, src.LinkType()
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, numberedFrame{bytes.Clone(data), ci, n})
	}
}

// readFile is readFrames of the capture file at path.
func readFile(t *testing.T, path string) ([]numberedFrame, layers.LinkType) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	return readFrames(t, src)
}

// pairSource is one source's share of a split capture; busy counts the
// sources with frames left.
type pairSource struct {
	frames []numberedFrame
	lt     layers.LinkType
	done   bool // its frames were read
	last   bool // its last quiet read was made
	busy   *atomic.Int32
}

func (s *pairSource) ReadFrame() ([]byte, gopacket.CaptureInfo, int64, error) {
	if len(s.frames) == 0 {
		if !s.done {
			s.done = true
			s.busy.Add(-1)
		}
		if s.busy.Load() > 0 || !s.last {
			// The last quiet read comes once every frame was read, at
			// the capture's final clock, as for sockets stopped later.
			s.last = s.busy.Load() == 0
			runtime.Gosched()
			return nil, gopacket.CaptureInfo{}, 0, capture.ErrNoFrame
		}
		return nil, gopacket.CaptureInfo{}, 0, io.EOF
	}
	f := s.frames[0]
	s.frames = s.frames[1:]
	return f.data, f.ci, f.n, nil
}

func (s *pairSource) LinkType() layers.LinkType { return s.lt }

// quicReplays returns a capture of the QUIC handshake of path (Ethernet,
// IPv4) and copies of it: the first kept open by its server's last short
// datagram sent again every 20 s for 200 s, and n copies starting a
// second apart, whose client port is one more each time.
func quicReplays(t *testing.T, path string, n int) []byte {
	t.Helper()
	frames, lt := readFile(t, path)
	if len(frames) < 10 || lt != layers.LinkTypeEthernet {
		t.Fatalf("%s: %d frames of link type %v", path, len(frames), lt)
	}
	start := frames[0].ci.Timestamp
	client := binary.BigEndian.Uint16(frames[0].data[14+20:])
	// keep is the server's last short-header datagram.
	var keep []byte
	for _, fr := range frames {
		udp := fr.data[14+20:]
		if binary.BigEndian.Uint16(udp) != client && udp[8]&0x80 == 0 {
			keep = fr.data
		}
	}
	if keep == nil {
		t.Fatalf("%s: no short-header datagram from the server", path)
	}
	var out []numberedFrame
	// withPort returns data with the client's port moved by d and no UDP
	// checksum (allowed over IPv4).
	withPort := func(data []byte, d uint16) []byte {
		b := bytes.Clone(data)
		udp := b[14+20:]
		for _, at := range []int{0, 2} {
			if p := binary.BigEndian.Uint16(udp[at:]); p == client {
				binary.BigEndian.PutUint16(udp[at:], p+d)
			}
		}
		binary.BigEndian.PutUint16(udp[6:], 0)
		return b
	}
	for i := 0; i <= n; i++ {
		at := time.Duration(i) * time.Second
		for _, fr := range frames {
			ci := fr.ci
			ci.Timestamp = start.Add(at + fr.ci.Timestamp.Sub(start))
			out = append(out, numberedFrame{data: withPort(fr.data, uint16(i)), ci: ci})
		}
	}
	for s := 20; s <= 200; s += 20 {
		ts := start.Add(time.Duration(s) * time.Second)
		out = append(out, numberedFrame{data: withPort(keep, 0), ci: gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(keep), Length: len(keep)}})
	}
	// In time order; frames of equal time keep theirs.
	slices.SortStableFunc(out, func(a, b numberedFrame) int { return a.ci.Timestamp.Compare(b.ci.Timestamp) })
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for _, fr := range out {
		if err := w.WritePacket(fr.ci, fr.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}
