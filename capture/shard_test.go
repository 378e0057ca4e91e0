package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsdiag/tlsdiag/internal/encap"
)

// callLog is a Handler that writes down every call each Stream gets, for
// comparing two runs; it may be shared by concurrent shards.
type callLog struct {
	mu   sync.Mutex
	logs map[string]*strings.Builder
}

func (l *callLog) Open(c Conn) Stream {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.logs == nil {
		l.logs = map[string]*strings.Builder{}
	}
	k := fmt.Sprintf("%d %s %s", c.First.Number, c.Client, c.Server)
	b := &strings.Builder{}
	fmt.Fprintf(b, "open known=%v %v tunnel %+v\n", c.ClientKnown, c.First.Time.UnixNano(), c.Tunnel)
	l.logs[k] = b
	return &logStream{b: b}
}

type logStream struct{ b *strings.Builder }

func (s *logStream) Data(d Direction, p []byte, f Frame) {
	fmt.Fprintf(s.b, "data %s %d %08x @%d/%d\n", d, len(p), crc32.ChecksumIEEE(p), f.Number, f.Time.UnixNano())
}
func (s *logStream) Gap(d Direction, n int, f Frame) {
	fmt.Fprintf(s.b, "gap %s %d @%d\n", d, n, f.Number)
}
func (s *logStream) Event(ev Event) {
	fmt.Fprintf(s.b, "event %s %s @%d\n", ev.Kind, ev.Dir, ev.Frame.Number)
}
func (s *logStream) Close(r CloseReason, last Frame, closedBy int64) {
	fmt.Fprintf(s.b, "close %s @%d/%d by %d\n", r, last.Number, last.Time.UnixNano(), closedBy)
}

// TestRunShardedMatchesRun checks that every Stream gets the same calls
// from RunSharded as from Run, closed by the same frame, on real captures,
// the public ones and a generated one with hundreds of interleaved
// connections, with the default idle timeout and with one short enough to
// end connections mid-capture.
func TestRunShardedMatchesRun(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	for _, path := range testCaptures(t) {
		inputs = append(inputs, input{path, readFile(t, path)})
	}
	if !testing.Short() {
		for _, path := range publicCaptures(t) {
			inputs = append(inputs, input{path, readFile(t, path)})
		}
	}
	inputs = append(inputs, input{"bench", makeBenchCapture(t, 300, 8<<10).pcap})
	for _, in := range inputs {
		for _, idle := range []time.Duration{0, 50 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/idle=%v", in.name, idle), func(t *testing.T) {
				opt := Options{IdleTimeout: idle}
				want, wst := runLogged(t, in.data, opt, 0)
				for _, shards := range []int{1, 2, 5} {
					got, gst := runLogged(t, in.data, opt, shards)
					if !maps.Equal(want, got) {
						t.Errorf("%d shards: streams differ from Run's: %s", shards, firstLogDiff(want, got))
					}
					gst.MaxBuffered, wst.MaxBuffered = 0, 0
					if !reflect.DeepEqual(gst, wst) {
						t.Errorf("%d shards: stats\n%+v\nRun:\n%+v", shards, gst, wst)
					}
				}
			})
		}
	}
}

// TestRunShardedTunnels checks that each connection of RunSharded has
// the tunnel of its first frame, as in Run, when the frames of a block
// came in different tunnels: the decoder keeps only the last frame's, and
// a shard reads a block's segments after all of them were decoded. The
// frames of a real capture go in VXLAN and GENEVE by turns.
func TestRunShardedTunnels(t *testing.T) {
	frames, lt := readFrames(t, filepath.Join("testdata", "lo-tls12-openssl.pcap"))
	if lt != layers.LinkTypeEthernet {
		t.Fatalf("link type %v, want Ethernet", lt)
	}
	ws := []*encap.Wrapper{{Kind: encap.VXLAN}, {Kind: encap.GENEVE, Outer6: true}}
	var recs []pcapRec
	for i, fr := range frames {
		data, err := ws[i%len(ws)].Wrap(fr.data)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, pcapRec{data: data, ts: fr.ci.Timestamp})
	}
	data := writePcap(layers.LinkTypeEthernet, binary.LittleEndian, true, recs)
	want, _ := runLogged(t, data, Options{}, 0)
	got, _ := runLogged(t, data, Options{}, 2)
	if !maps.Equal(want, got) {
		t.Errorf("streams differ from Run's: %s", firstLogDiff(want, got))
	}
	for _, l := range want {
		if !strings.Contains(l, "Type:vxlan") {
			t.Errorf("a connection whose first frame is in VXLAN opened with:\n%s", l)
		}
	}
}

// TestRunShardedErrors checks that a capture cut short, plain or
// gzipped, ends RunSharded with Run's error, after the same streams.
func TestRunShardedErrors(t *testing.T) {
	data := makeBenchCapture(t, 50, 4<<10).pcap
	ng := readFile(t, "testdata/two-interfaces.pcapng")
	type cutCase struct {
		data []byte
		cut  int
	}
	var cases []cutCase
	for _, cut := range []int{len(data) - 1, len(data) - 100, len(data) - 1500, len(data) / 2, 24 + 7, 24 + 16 + 3} {
		cases = append(cases, cutCase{data, cut})
	}
	for _, cut := range []int{len(ng) - 1, len(ng) - 60, len(ng) / 2} {
		cases = append(cases, cutCase{ng, cut})
	}
	for _, cc := range cases {
		for _, zip := range []bool{false, true} {
			cut := cc.cut
			in := cc.data[:cut]
			if zip {
				in = gz(in)
			}
			t.Run(fmt.Sprintf("cut=%d/gzip=%v", cut, zip), func(t *testing.T) {
				want, wst, werr := runLoggedErr(t, in, Options{}, 0)
				got, gst, gerr := runLoggedErr(t, in, Options{}, 3)
				if fmt.Sprint(werr) != fmt.Sprint(gerr) || werr == nil {
					t.Errorf("error %v, Run's %v", gerr, werr)
				}
				if !maps.Equal(want, got) {
					t.Errorf("streams differ from Run's: %s", firstLogDiff(want, got))
				}
				if gst.Frames != wst.Frames || gst.Segments != wst.Segments || gst.ConnsClosed != wst.ConnsClosed {
					t.Errorf("stats %+v\nRun's %+v", gst, wst)
				}
			})
		}
	}
}

// TestCompressedStreamCut reads gzipped captures whose compressed stream
// is cut short: in its trailer, after the last record (as a capture still
// being written, or a download cut off, leaves it), and inside a record.
// Run and RunSharded both stop with an error that says so, after the
// same streams: RunSharded read one cut in its trailer as complete.
func TestCompressedStreamCut(t *testing.T) {
	for _, name := range []string{"bench.pcap", "testdata/two-interfaces.pcapng"} {
		data := makeBenchCapture(t, 50, 4<<10).pcap
		if name != "bench.pcap" {
			data = readFile(t, name)
		}
		z := gz(data)
		for _, cut := range []int{len(z) - 3, len(z) - 8, len(z) / 2} {
			t.Run(fmt.Sprintf("%s/cut=%d", name, cut), func(t *testing.T) {
				want, _, werr := runLoggedErr(t, z[:cut], Options{}, 0)
				got, _, gerr := runLoggedErr(t, z[:cut], Options{}, 3)
				var re *ReadError
				if !errors.As(werr, &re) || !strings.Contains(werr.Error(), "gzip stream cut short") {
					t.Errorf("Run: error %v, want a ReadError saying the gzip stream is cut short", werr)
				}
				if fmt.Sprint(gerr) != fmt.Sprint(werr) {
					t.Errorf("RunSharded: error %v, Run's %v", gerr, werr)
				}
				if !maps.Equal(want, got) {
					t.Errorf("streams differ from Run's: %s", firstLogDiff(want, got))
				}
			})
		}
	}
}

func runLogged(t *testing.T, data []byte, opt Options, shards int) (map[string]string, Stats) {
	t.Helper()
	logs, st, err := runLoggedErr(t, data, opt, shards)
	if err != nil {
		t.Fatal(err)
	}
	return logs, st
}

func runLoggedErr(t *testing.T, data []byte, opt Options, shards int) (map[string]string, Stats, error) {
	t.Helper()
	src, err := NewReader("test", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	l := &callLog{}
	var st Stats
	if shards == 0 {
		st, err = Run(context.Background(), src, l, opt)
	} else {
		hs := make([]Handler, shards)
		for i := range hs {
			hs[i] = l
		}
		st, err = RunSharded(context.Background(), src, hs, opt)
	}
	out := map[string]string{}
	for k, b := range l.logs {
		out[k] = b.String()
	}
	return out, st, err
}

func firstDiff2(a, b string) string {
	i := firstDiff([]byte(a), []byte(b))
	lo := strings.LastIndexByte(a[:min(i, len(a))], '\n') + 1
	return fmt.Sprintf("at %q / %q", a[lo:min(len(a), i+80)], b[lo:min(len(b), i+80)])
}

func firstLogDiff(want, got map[string]string) string {
	keys := slices.Sorted(maps.Keys(want))
	for _, k := range keys {
		if g, ok := got[k]; !ok {
			return "missing stream " + k
		} else if g != want[k] {
			return "stream " + k + " " + firstDiff2(want[k], g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			return "extra stream " + k
		}
	}
	return ""
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkRunSharded is BenchmarkRun with one shard per CPU.
func BenchmarkRunSharded(b *testing.B) {
	bc := getBenchCapture(b)
	b.SetBytes(int64(len(bc.pcap)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := NewReader("bench", bytes.NewReader(bc.pcap))
		if err != nil {
			b.Fatal(err)
		}
		hs := make([]Handler, runtime.GOMAXPROCS(0))
		counters := make([]*byteCounter, len(hs))
		for i := range hs {
			counters[i] = &byteCounter{}
			hs[i] = counters[i]
		}
		if _, err := RunSharded(context.Background(), f, hs, Options{}); err != nil {
			b.Fatal(err)
		}
		var n int64
		for _, c := range counters {
			n += c.bytes
		}
		if n != bc.payload {
			b.Fatalf("delivered %d of %d bytes", n, bc.payload)
		}
	}
	b.ReportMetric(float64(len(bc.frames))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// TestFileProgress checks that a File reports the bytes of the file read,
// up to its size, once per buffer rather than per frame, with Run and
// RunSharded, plain and gzipped.
func TestFileProgress(t *testing.T) {
	bc := makeBenchCapture(t, 20, 100<<10)
	for _, zip := range []bool{false, true} {
		for _, shards := range []int{1, 3} {
			data := bc.pcap
			if zip {
				data = gz(data)
			}
			path := filepath.Join(t.TempDir(), "p.pcap")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var calls int
			var last int64
			f.Progress(func(n int64) {
				if n < last {
					t.Errorf("progress went back from %d to %d", last, n)
				}
				calls, last = calls+1, n
			})
			hs := make([]Handler, shards)
			for i := range hs {
				hs[i] = &byteCounter{}
			}
			if _, err := RunSharded(context.Background(), f, hs, Options{}); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if last != int64(len(data)) || calls == 0 || calls > len(data)/(1<<18)+4 {
				t.Errorf("gzip %v, %d shards: %d calls, last at %d of %d bytes", zip, shards, calls, last, len(data))
			}
		}
	}
}

// TestRunAndShardedCountFramesAlike feeds one frame of every kind the
// decoder tells apart (TCP, IPv4 fragments, an IPv6 fragment, ARP, UDP, a
// cut header) to Run and RunSharded: both count them the same way, each
// in its own counter.
func TestRunAndShardedCountFramesAlike(t *testing.T) {
	seg := tcpSeg{src: v4a, dst: v4b, seq: 1, ack: 1, psh: true, payload: []byte("\x16\x03\x01\x00\x05hello")}
	ip4 := tcpIP(t, seg)
	udp := bytes.Clone(ip4)
	udp[9] = byte(layers.IPProtocolUDP)
	arp := ethernet(t, ip4)
	arp[12], arp[13] = 0x08, 0x06
	// An IPv6 first fragment (RFC 8200, Section 4.5): next header 44, then
	// the Fragment header with the M flag set.
	ip6 := tcpIP(t, tcpSeg{src: v6a, dst: v6b, seq: 1, ack: 1, payload: []byte("x")})
	frag6 := append(bytes.Clone(ip6[:40]), 6, 0, 0, 1, 0, 0, 0, 7)
	frag6 = append(frag6, ip6[40:]...)
	frag6[6] = 44
	binary.BigEndian.PutUint16(frag6[4:], uint16(len(frag6)-40))

	frames := [][]byte{ethernet(t, ip4), arp, ethernet(t, udp), ethernet(t, ip4[:15]), ethernet(t, frag6)}
	for _, f := range fragmentIPv4(ip4, 16) {
		frames = append(frames, ethernet(t, f))
	}
	var recs []pcapRec
	for i, f := range frames {
		recs = append(recs, pcapRec{data: f, ts: time.Unix(1700000000, int64(i)*1e6)})
	}
	data := writePcap(layers.LinkTypeEthernet, binary.LittleEndian, false, recs)
	want, wst := runLogged(t, data, Options{}, 0)
	if wst.NonIP != 1 || wst.NonTCP != 1 || wst.Malformed != 1 || wst.Segments != 2 {
		t.Errorf("Run's stats: %+v; want one non-IP, one non-TCP, one malformed and two segments", wst)
	}
	got, gst := runLogged(t, data, Options{}, 3)
	gst.MaxBuffered, wst.MaxBuffered = 0, 0
	if !reflect.DeepEqual(gst, wst) {
		t.Errorf("RunSharded's stats\n%+v\nRun's\n%+v", gst, wst)
	}
	if !maps.Equal(want, got) {
		t.Errorf("streams differ: %s", firstLogDiff(want, got))
	}
}

// progressLog is a Handler and Progresser that writes down, in order, the
// frame that closed each of its Streams and each Progress.
type progressLog struct {
	events []progressEvent
}

type progressEvent struct {
	progress bool
	n        int64 // Progress's n, or the Stream's closedBy
}

func (l *progressLog) Open(Conn) Stream { return &progressStream{l} }
func (l *progressLog) Progress(n int64) {
	l.events = append(l.events, progressEvent{true, n})
}

type progressStream struct{ l *progressLog }

func (progressStream) Data(Direction, []byte, Frame) {}
func (progressStream) Gap(Direction, int, Frame)     {}
func (progressStream) Event(Event)                   {}
func (s progressStream) Close(_ CloseReason, _ Frame, closedBy int64) {
	s.l.events = append(s.l.events, progressEvent{false, closedBy})
}

// TestProgressAfterClosing checks the promise a Progresser relies on: by
// Progress(n), every connection closed by frame n or earlier was closed,
// so that whoever orders connections by the frame that closed them can
// take those up to n. Run and RunSharded, with connections ended by the
// clock (a short idle timeout) and by the end.
func TestProgressAfterClosing(t *testing.T) {
	data := makeBenchCapture(t, 300, 8<<10).pcap
	for _, idle := range []time.Duration{0, 50 * time.Millisecond, time.Millisecond} {
		for _, shards := range []int{1, 2, 5} {
			t.Run(fmt.Sprintf("idle=%v/shards=%d", idle, shards), func(t *testing.T) {
				src, err := NewReader("test", bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				logs := make([]*progressLog, shards)
				hs := make([]Handler, shards)
				for i := range hs {
					logs[i] = &progressLog{}
					hs[i] = logs[i]
				}
				opt := Options{IdleTimeout: idle}
				if shards == 1 {
					_, err = Run(context.Background(), src, hs[0], opt)
				} else {
					_, err = RunSharded(context.Background(), src, hs, opt)
				}
				if err != nil {
					t.Fatal(err)
				}
				progresses, closes := 0, 0
				for i, l := range logs {
					mark := int64(0)
					for _, e := range l.events {
						switch {
						case e.progress:
							mark = e.n
							progresses++
						case e.n <= mark:
							t.Fatalf("shard %d: a connection closed by frame %d came after Progress(%d)", i, e.n, mark)
						default:
							closes++
						}
					}
				}
				if progresses == 0 || closes == 0 {
					t.Fatalf("%d Progress calls, %d closes: nothing was checked", progresses, closes)
				}
			})
		}
	}
}

// TestLingerEndSameFrame reads a connection reset by its server, then
// more than resetLingerFrames frames of another connection, all in the
// other shard of two, then a jump of the clock past the reset's 3 s: the
// linger ended by count, at the same frame for Run and for the shard that
// sees the clock's jump before any frame of its own.
func TestLingerEndSameFrame(t *testing.T) {
	cli, srv := netip.MustParseAddrPort("10.1.0.1:5000"), netip.MustParseAddrPort("10.1.0.2:443")
	other := netip.MustParseAddrPort("10.1.0.2:443")
	var filler netip.AddrPort
	for port := uint16(6000); ; port++ {
		filler = netip.AddrPortFrom(netip.MustParseAddr("10.1.0.3"), port)
		if flowHash(filler, other)%2 != flowHash(cli, srv)%2 {
			break
		}
	}
	ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []pcapRec
	add := func(s tcpSeg, step time.Duration) {
		ts = ts.Add(step)
		recs = append(recs, pcapRec{data: ethernet(t, tcpIP(t, s)), ts: ts})
	}
	add(tcpSeg{src: cli, dst: srv, seq: 100, syn: true, noACK: true}, time.Millisecond)
	add(tcpSeg{src: srv, dst: cli, seq: 900, ack: 101, syn: true}, time.Millisecond)
	add(tcpSeg{src: cli, dst: srv, seq: 101, ack: 901}, time.Millisecond)
	add(tcpSeg{src: srv, dst: cli, seq: 901, ack: 101, rst: true}, time.Millisecond)
	add(tcpSeg{src: filler, dst: other, seq: 1, syn: true, noACK: true}, time.Millisecond)
	add(tcpSeg{src: other, dst: filler, seq: 500, ack: 2, syn: true}, time.Millisecond)
	seq := uint32(2)
	for range resetLingerFrames + 100 {
		add(tcpSeg{src: filler, dst: other, seq: seq, ack: 501, payload: []byte("x")}, 100*time.Microsecond)
		seq++
	}
	add(tcpSeg{src: filler, dst: other, seq: seq, ack: 501, payload: []byte("x")}, 10*time.Second)
	data := writePcap(layers.LinkTypeEthernet, binary.LittleEndian, false, recs)
	want, _ := runLogged(t, data, Options{}, 0)
	got, _ := runLogged(t, data, Options{}, 2)
	if !maps.Equal(want, got) {
		t.Errorf("2 shards: streams differ from Run's: %s", firstLogDiff(want, got))
	}
	k := fmt.Sprintf("1 %s %s", cli, srv)
	if !strings.Contains(want[k], fmt.Sprintf("by %d\n", 4+resetLingerFrames+1)) {
		t.Errorf("the reset connection's log:\n%s\nwant it closed by frame %d", want[k], 4+resetLingerFrames+1)
	}
}

// cancelOnOpen cancels a context at the first connection it sees.
type cancelOnOpen struct {
	cancel context.CancelFunc
	opens  atomic.Int64
}

func (h *cancelOnOpen) Open(Conn) Stream {
	h.opens.Add(1)
	h.cancel()
	return nil
}

// TestRunShardedStopsReading checks that RunSharded, stopped early while
// it reads ahead of the shards, returns the context's error without
// reading the rest of the capture, and leaves no goroutine behind
// (synctest fails a test whose goroutines outlive it).
func TestRunShardedStopsReading(t *testing.T) {
	data := makeBenchCapture(t, 200, 64<<10).pcap
	if n := len(data) / blockSize; n < 4*blocksInFlight {
		t.Fatalf("the capture fills %d blocks, want more than %d in flight", n, blocksInFlight)
	}
	synctest.Test(t, func(t *testing.T) {
		src, err := NewReader("test", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var read atomic.Int64
		src.Progress(func(n int64) { read.Store(n) })
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		h := &cancelOnOpen{cancel: cancel}
		st, err := RunSharded(ctx, src, []Handler{h, h}, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if h.opens.Load() == 0 || st.Frames == 0 {
			t.Errorf("%d connections opened in %d frames before it stopped", h.opens.Load(), st.Frames)
		}
		if n := read.Load(); n > int64(len(data))/2 {
			t.Errorf("read %d bytes of %d after it was stopped at the first connection", n, len(data))
		}
	})
}

// TestEndHashIPv4 checks that an IPv4 address, read with As4, hashes as
// its 16-byte form does: the shard a connection goes to did not change.
func TestEndHashIPv4(t *testing.T) {
	for _, s := range []string{"10.0.0.1:443", "192.0.2.255:0", "255.255.255.255:65535", "0.0.0.0:1"} {
		ap := netip.MustParseAddrPort(s)
		mapped := netip.AddrPortFrom(netip.AddrFrom16(ap.Addr().As16()), ap.Port())
		if endHash(ap) != endHash(mapped) {
			t.Errorf("%s hashes to %#x, as ::ffff:%[1]s to %#x", s, endHash(ap), endHash(mapped))
		}
	}
}
