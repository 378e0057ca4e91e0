package capture

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// recorder is a Handler that keeps everything it is told, and checks the
// Stream contract as it goes (nothing after Close, Close once).
type recorder struct {
	t       testing.TB
	streams []*recStream
	quiet   bool // keep no call log (fuzzing)
}

func newRecorder(t testing.TB) *recorder { return &recorder{t: t} }

func (r *recorder) Open(c Conn) Stream {
	s := &recStream{t: r.t, conn: c, quiet: r.quiet}
	r.streams = append(r.streams, s)
	return s
}

// only returns the single stream, failing if there is not exactly one.
func (r *recorder) only() *recStream {
	r.t.Helper()
	if len(r.streams) != 1 {
		r.t.Fatalf("got %d connections, want 1", len(r.streams))
	}
	return r.streams[0]
}

type chunk struct {
	off   int64 // stream offset
	n     int
	frame int64
	gap   bool
}

type recStream struct {
	t         testing.TB
	conn      Conn
	data      [2]bytes.Buffer
	chunks    [2][]chunk
	off       [2]int64
	firstTime [2]time.Time
	events    []Event
	log       []string
	quiet     bool
	closed    bool
	reason    CloseReason
	last      Frame
}

// check fails the test if the stream was closed, and logs the call.
func (s *recStream) check(format string, args ...any) {
	s.t.Helper()
	if s.closed {
		s.t.Errorf("%s after Close", fmt.Sprintf(format, args...))
	}
	if !s.quiet {
		s.log = append(s.log, fmt.Sprintf(format, args...))
	}
}

func (s *recStream) Data(d Direction, b []byte, f Frame) {
	s.check("data %s %q #%d", d, b, f.Number)
	if len(b) == 0 {
		s.t.Errorf("empty Data call at frame %d", f.Number)
	}
	if s.data[d].Len() == 0 {
		s.firstTime[d] = f.Time
	}
	s.data[d].Write(b)
	s.chunks[d] = append(s.chunks[d], chunk{off: s.off[d], n: len(b), frame: f.Number})
	s.off[d] += int64(len(b))
}

func (s *recStream) Gap(d Direction, n int, f Frame) {
	s.check("gap %s %d #%d", d, n, f.Number)
	if n <= 0 {
		s.t.Errorf("Gap of %d bytes at frame %d", n, f.Number)
	}
	s.chunks[d] = append(s.chunks[d], chunk{off: s.off[d], n: n, frame: f.Number, gap: true})
	s.off[d] += int64(n)
}

func (s *recStream) Event(ev Event) {
	s.check("%s %s #%d", ev.Kind, ev.Dir, ev.Frame.Number)
	s.events = append(s.events, ev)
}

func (s *recStream) Close(reason CloseReason, last Frame, _ int64) {
	if s.closed {
		s.t.Errorf("second Close (%s)", reason)
	}
	s.check("close %s #%d", reason, last.Number)
	s.closed, s.reason, s.last = true, reason, last
}

// gaps returns the gaps of direction d as "offset+size@frame".
func (s *recStream) gaps(d Direction) string {
	var out []string
	for _, c := range s.chunks[d] {
		if c.gap {
			out = append(out, fmt.Sprintf("%d+%d@%d", c.off, c.n, c.frame))
		}
	}
	return strings.Join(out, " ")
}

// kinds returns the event kinds in order, as "syn syn_ack fin/client …".
func (s *recStream) kinds() string {
	var out []string
	for _, e := range s.events {
		out = append(out, e.Kind.String()+"/"+e.Dir.String())
	}
	return strings.Join(out, " ")
}

// frames returns which frame carried each delivered chunk of d.
func (s *recStream) frames(d Direction) string {
	var out []string
	for _, c := range s.chunks[d] {
		if !c.gap {
			out = append(out, fmt.Sprintf("%d:%d@%d", c.off, c.n, c.frame))
		}
	}
	return strings.Join(out, " ")
}

// segFeeder feeds hand-made segments to an Assembler, numbering frames
// and advancing time by 1 ms a segment unless told otherwise.
type segFeeder struct {
	a   *Assembler
	rec *recorder
	n   int64
	now time.Time
}

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:443")
)

func newFeeder(t testing.TB, opt Options) *segFeeder {
	rec := newRecorder(t)
	return &segFeeder{a: NewAssembler(rec, opt), rec: rec, now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// send feeds one segment. flags is a set of S, A, F, R.
func (f *segFeeder) send(src, dst netip.AddrPort, flags string, seq, ack uint32, payload string) int64 {
	f.n++
	f.now = f.now.Add(time.Millisecond)
	s := &Segment{Src: src, Dst: dst, Seq: seq, Ack: ack, Window: 1024, Payload: []byte(payload)}
	s.SYN = strings.Contains(flags, "S")
	s.ACK = strings.Contains(flags, "A")
	s.FIN = strings.Contains(flags, "F")
	s.RST = strings.Contains(flags, "R")
	f.a.Segment(s, Frame{Number: f.n, Time: f.now})
	return f.n
}

// c2s and s2c send from the client and the server.
func (f *segFeeder) c2s(flags string, seq, ack uint32, payload string) int64 {
	return f.send(cli, srv, flags, seq, ack, payload)
}

func (f *segFeeder) s2c(flags string, seq, ack uint32, payload string) int64 {
	return f.send(srv, cli, flags, seq, ack, payload)
}

// handshake sends SYN, SYN-ACK, ACK with client ISN ci and server ISN si.
func (f *segFeeder) handshake(ci, si uint32) {
	f.c2s("S", ci, 0, "")
	f.s2c("SA", si, ci+1, "")
	f.c2s("A", ci+1, si+1, "")
}
