package analysis_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"reflect"
	"syscall"
	"testing"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/fingerprint"
	"github.com/tlsdiag/tlsdiag/internal/tlsgen"
)

// A recording is what capture told a Handler about a capture's TCP
// connections, in order, so that the Builder's share of a read (records,
// hellos, fingerprints, the sequencer) can be timed without capture's.
type recording struct {
	conns      []capture.Conn
	calls      []call
	progressed int64 // the last Progress recorded
}

type callKind uint8

const (
	callData callKind = iota
	callGap
	callEvent
	callClose
	callAcked
	callFirstAcked
	callProgress
	callEnd
)

// call is one call of capture's on the Handler or one of its Streams
// (conn indexes recording.conns).
type call struct {
	kind     callKind
	conn     int
	dir      capture.Direction
	data     []byte
	n        int64
	frame    capture.Frame
	event    capture.Event
	reason   capture.CloseReason
	closedBy int64
}

// recorder is a capture.Handler that fills a recording.
type recorder struct{ r *recording }

// progressEvery is how many frames apart the recorder keeps capture's
// Progress calls. Run makes one per frame, RunSharded (what a read of a
// file uses) one per block of a few hundred frames; the order and the
// records do not depend on how often it comes (TestReplayMatchesRun).
const progressEvery = 400

func (h recorder) Open(c capture.Conn) capture.Stream {
	h.r.conns = append(h.r.conns, c)
	return recStream{h.r, len(h.r.conns) - 1}
}

func (h recorder) Progress(n int64) {
	if n < h.r.progressed+progressEvery && n != math.MaxInt64 {
		return
	}
	h.r.progressed = n
	h.r.calls = append(h.r.calls, call{kind: callProgress, n: n})
}

func (h recorder) CaptureEnd(last capture.Frame) {
	h.r.calls = append(h.r.calls, call{kind: callEnd, frame: last})
}

type recStream struct {
	r    *recording
	conn int
}

func (s recStream) add(c call) {
	c.conn = s.conn
	s.r.calls = append(s.r.calls, c)
}

func (s recStream) Data(d capture.Direction, b []byte, f capture.Frame) {
	s.add(call{kind: callData, dir: d, data: bytes.Clone(b), frame: f})
}

func (s recStream) Gap(d capture.Direction, n int, f capture.Frame) {
	s.add(call{kind: callGap, dir: d, n: int64(n), frame: f})
}

func (s recStream) Event(ev capture.Event) {
	ev.Payload = bytes.Clone(ev.Payload)
	s.add(call{kind: callEvent, event: ev})
}

func (s recStream) Close(reason capture.CloseReason, last capture.Frame, closedBy int64) {
	s.add(call{kind: callClose, reason: reason, frame: last, closedBy: closedBy})
}

func (s recStream) Acked(d capture.Direction, off int64, f capture.Frame) {
	s.add(call{kind: callAcked, dir: d, n: off, frame: f})
}

func (s recStream) FirstAcked(d capture.Direction, off int64, f capture.Frame) {
	s.add(call{kind: callFirstAcked, dir: d, n: off, frame: f})
}

// record reads pcap and records capture's calls.
func record(tb testing.TB, pcap []byte) *recording {
	tb.Helper()
	src, err := capture.NewReader("replay", bytes.NewReader(pcap))
	if err != nil {
		tb.Fatal(err)
	}
	r := &recording{}
	if _, err := capture.Run(context.Background(), src, recorder{r}, capture.Options{}); err != nil {
		tb.Fatal(err)
	}
	return r
}

// replay makes the calls of r on a new Builder and returns its
// connections.
func (r *recording) replay() []*analysis.Connection {
	b := analysis.NewBuilder(analysis.Options{})
	streams := make([]capture.Stream, len(r.conns))
	for i := range r.calls {
		c := &r.calls[i]
		switch c.kind {
		case callProgress:
			b.Progress(c.n)
			continue
		case callEnd:
			b.CaptureEnd(c.frame)
			continue
		}
		s := streams[c.conn]
		if s == nil {
			s = b.Open(r.conns[c.conn])
			streams[c.conn] = s
		}
		switch c.kind {
		case callData:
			s.Data(c.dir, c.data, c.frame)
		case callGap:
			s.Gap(c.dir, int(c.n), c.frame)
		case callEvent:
			s.Event(c.event)
		case callClose:
			s.Close(c.reason, c.frame, c.closedBy)
		case callAcked:
			if o, ok := s.(capture.AckObserver); ok {
				o.Acked(c.dir, c.n, c.frame)
			}
		case callFirstAcked:
			if o, ok := s.(capture.FirstAckObserver); ok {
				o.FirstAcked(c.dir, c.n, c.frame)
			}
		}
	}
	return b.Connections()
}

// TestReplayMatchesRun checks that a replayed recording gives the
// connections a read gives, so that BenchmarkReplay times the same work.
func TestReplayMatchesRun(t *testing.T) {
	pcap, _ := genCapture(t, tlsgen.Config{Seed: 3, Size: 2e6, HandshakesOnly: true})
	want := analyseBytes(t, pcap)
	got := record(t, pcap).replay()
	if len(got) != len(want) {
		t.Fatalf("replay: %d connections, a read %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("replay: connection %d (%s → %s) differs from a read's", i+1, want[i].Client, want[i].Server)
		}
	}
}

// BenchmarkReplay times the Builder alone (TLS parsing, records,
// fingerprints, the sequencer) on what capture told it of a generated
// capture, and of the capture $TLSDIAG_BENCH_PCAP names (one make bench
// leaves in testdata/bench) when set; ns/op divided by conns is the cost
// of one connection.
func BenchmarkReplay(b *testing.B) {
	run := func(b *testing.B, pcap []byte) {
		r := record(b, pcap)
		b.ReportAllocs()
		n := 0
		cpu := processCPU()
		for b.Loop() {
			n = len(r.replay())
		}
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(n), "conns")
	}
	for _, bc := range benchCaptures {
		b.Run(bc.name, func(b *testing.B) {
			pcap, _ := genCapture(b, bc.cfg)
			run(b, pcap)
		})
	}
	b.Run("file", func(b *testing.B) {
		name := os.Getenv("TLSDIAG_BENCH_PCAP")
		if name == "" {
			b.Skip("set TLSDIAG_BENCH_PCAP to a capture")
		}
		pcap, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		run(b, pcap)
	})
}

// processCPU returns the CPU time the process used so far, in
// nanoseconds, the garbage collector's included: on a machine that other
// work shares, it varies less than the time that passed.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestChainsShared checks that connections that got the same server
// Certificate message share one chain, which cannot be appended to in
// place (its capacity is its length).
func TestChainsShared(t *testing.T) {
	pcap, _ := genCapture(t, tlsgen.Config{Seed: 3, Size: 2e6, HandshakesOnly: true})
	byLeaf := map[string]*analysis.Connection{}
	shared := 0
	for _, c := range analyseBytes(t, pcap) {
		if len(c.Certificates) == 0 {
			continue
		}
		if cap(c.Certificates) != len(c.Certificates) {
			t.Fatalf("%s → %s: chain of %d with room for %d", c.Client, c.Server, len(c.Certificates), cap(c.Certificates))
		}
		leaf := string(c.Certificates[0].DER)
		if o := byLeaf[leaf]; o != nil && len(o.Certificates) == len(c.Certificates) {
			if &o.Certificates[0] == &c.Certificates[0] {
				shared++
			}
			continue
		}
		byLeaf[leaf] = c
	}
	if shared == 0 {
		t.Error("no connection shares the chain of an earlier one with the same certificates")
	}
}

// TestPrintsShared checks that connections with the same fingerprints
// share one Fingerprints, and that each still has its own hellos'.
func TestPrintsShared(t *testing.T) {
	pcap, _ := genCapture(t, tlsgen.Config{Seed: 3, Size: 2e6, HandshakesOnly: true})
	first := map[analysis.Fingerprints]*analysis.Fingerprints{}
	shared := 0
	for _, c := range analyseBytes(t, pcap) {
		if c.Prints == nil {
			continue
		}
		if c.ClientHello != nil {
			if want := fingerprint.JA4(c.ClientHello, fingerprint.TCP); c.Prints.JA4R != want.JA4R {
				t.Fatalf("%s → %s: JA4_r %q, its hello's %q", c.Client, c.Server, c.Prints.JA4R, want.JA4R)
			}
		}
		if p := first[*c.Prints]; p == nil {
			first[*c.Prints] = c.Prints
		} else if p == c.Prints {
			shared++
		}
	}
	if shared == 0 {
		t.Error("no connection shares the fingerprints of an earlier one with the same")
	}
}
