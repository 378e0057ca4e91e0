package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// benchCapture is a pcap of many TLS-sized connections transferring bulk
// data at the same time: connections are interleaved segment by segment,
// the client acknowledges every second segment, and every connection ends
// with FINs. About 20 MB.
type benchCapture struct {
	pcap    []byte
	frames  [][]byte // the same frames, for the assembler-only benchmark
	times   []time.Time
	payload int64
}

var (
	benchOnce sync.Once
	benchCap  benchCapture
)

func getBenchCapture(tb testing.TB) *benchCapture {
	benchOnce.Do(func() { benchCap = makeBenchCapture(tb, 200, 100<<10) })
	return &benchCap
}

func makeBenchCapture(tb testing.TB, conns, respBytes int) benchCapture {
	const mss = 1448
	type connState struct {
		cli, srv      netip.AddrPort
		cseq, sseq    uint32
		sent, unacked int
		done          bool
	}
	srvAddr := netip.MustParseAddr("198.51.100.10")
	cs := make([]*connState, conns)
	for i := range cs {
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), uint16(40000+i))
		cs[i] = &connState{cli: cli, srv: netip.AddrPortFrom(srvAddr, 443), cseq: uint32(i) * 7919, sseq: 0xfffff000 + uint32(i)}
	}
	var bc benchCapture
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	payload := bytes.Repeat([]byte("tlsdiag benchmark payload "), mss/26+1)[:mss]
	emit := func(s tcpSeg) {
		ts = ts.Add(10 * time.Microsecond)
		f := ethernet(tb, tcpIP(tb, s))
		bc.frames = append(bc.frames, f)
		bc.times = append(bc.times, ts)
		bc.payload += int64(len(s.payload))
	}
	for _, c := range cs {
		emit(tcpSeg{src: c.cli, dst: c.srv, seq: c.cseq, syn: true, noACK: true})
		emit(tcpSeg{src: c.srv, dst: c.cli, seq: c.sseq, ack: c.cseq + 1, syn: true})
		c.cseq++
		c.sseq++
		emit(tcpSeg{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq})
		hello := payload[:300]
		emit(tcpSeg{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq, psh: true, payload: hello})
		c.cseq += uint32(len(hello))
	}
	for left := conns; left > 0; {
		for _, c := range cs {
			if c.done {
				continue
			}
			n := min(mss, respBytes-c.sent)
			emit(tcpSeg{src: c.srv, dst: c.cli, seq: c.sseq, ack: c.cseq, payload: payload[:n]})
			c.sseq += uint32(n)
			c.sent += n
			if c.unacked++; c.unacked == 2 {
				emit(tcpSeg{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq})
				c.unacked = 0
			}
			if c.sent == respBytes {
				emit(tcpSeg{src: c.srv, dst: c.cli, seq: c.sseq, ack: c.cseq, fin: true})
				emit(tcpSeg{src: c.cli, dst: c.srv, seq: c.cseq, ack: c.sseq + 1, fin: true})
				emit(tcpSeg{src: c.srv, dst: c.cli, seq: c.sseq + 1, ack: c.cseq + 1})
				c.done = true
				left--
			}
		}
	}
	recs := make([]pcapRec, len(bc.frames))
	for i, f := range bc.frames {
		recs[i] = pcapRec{data: f, ts: bc.times[i]}
	}
	bc.pcap = writePcap(layers.LinkTypeEthernet, binary.LittleEndian, true, recs)
	return bc
}

// byteCounter is a Handler whose Streams only count bytes, as cheap a
// consumer as there can be.
type byteCounter struct {
	bytes, conns int64
}

func (b *byteCounter) Open(Conn) Stream { b.conns++; return (*countStream)(b) }

type countStream byteCounter

func (s *countStream) Data(_ Direction, p []byte, _ Frame) { s.bytes += int64(len(p)) }
func (s *countStream) Gap(Direction, int, Frame)           {}
func (s *countStream) Event(Event)                         {}
func (s *countStream) Close(CloseReason, Frame, int64)     {}

// BenchmarkRun reads the generated pcap from memory through File (pcapgo's
// zero-copy reader), decodes and reassembles it.
func BenchmarkRun(b *testing.B) {
	bc := getBenchCapture(b)
	b.SetBytes(int64(len(bc.pcap)))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	for range b.N {
		f, err := NewReader("bench", bytes.NewReader(bc.pcap))
		if err != nil {
			b.Fatal(err)
		}
		h := &byteCounter{}
		st, err := Run(context.Background(), f, h, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if h.bytes != bc.payload || st.Gaps != 0 || h.conns != 200 {
			b.Fatalf("delivered %d of %d bytes, %d gaps, %d connections", h.bytes, bc.payload, st.Gaps, h.conns)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	pkts := float64(len(bc.frames)) * float64(b.N)
	b.ReportMetric(pkts/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/pkts, "allocs/pkt")
	b.ReportMetric(float64(bc.payload)*float64(b.N)/b.Elapsed().Seconds()/1e6, "payload-MB/s")
}

// BenchmarkAssembler feeds frames already in memory: decoding and
// reassembly alone.
func BenchmarkAssembler(b *testing.B) {
	bc := getBenchCapture(b)
	b.SetBytes(int64(len(bc.pcap)))
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	for range b.N {
		h := &byteCounter{}
		a := NewAssembler(h, Options{})
		for i, f := range bc.frames {
			a.Packet(f, gopacket.CaptureInfo{Timestamp: bc.times[i], CaptureLength: len(f), Length: len(f)}, layers.LinkTypeEthernet)
		}
		a.Close()
		if h.bytes != bc.payload {
			b.Fatalf("delivered %d of %d bytes", h.bytes, bc.payload)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	pkts := float64(len(bc.frames)) * float64(b.N)
	b.ReportMetric(pkts/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/pkts, "allocs/pkt")
}

// TestBenchCaptureIsSane runs the benchmark's capture once as a test, so
// that the generator cannot rot unnoticed.
func TestBenchCaptureIsSane(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 20 MB capture")
	}
	bc := makeBenchCapture(t, 20, 20<<10)
	f, err := NewReader("bench", bytes.NewReader(bc.pcap))
	if err != nil {
		t.Fatal(err)
	}
	h := &byteCounter{}
	st, err := Run(context.Background(), f, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h.bytes != bc.payload || h.conns != 20 || st.ConnsClosed != 20 || st.Gaps != 0 || st.OutOfOrderSegments != 0 || st.AfterClose != 20 {
		// AfterClose: the last ACK of each connection.
		t.Errorf("delivered %d of %d bytes, stats %+v", h.bytes, bc.payload, st)
	}
}

// BenchmarkRunShardedFile is BenchmarkRunSharded on the capture named by
// $TLSDIAG_BENCH_PCAP (one make bench leaves in testdata/bench), with
// Streams that only count bytes: the cost of reading, decoding and
// reassembling a real capture, without the analysis. Its shards are one
// fewer than the cores, as read's for a file alone.
func BenchmarkRunShardedFile(b *testing.B) {
	pcap := os.Getenv("TLSDIAG_BENCH_PCAP")
	if pcap == "" {
		b.Skip("set TLSDIAG_BENCH_PCAP to a capture")
	}
	fi, err := os.Stat(pcap)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	var st Stats
	cpu := startCPU()
	for b.Loop() {
		f, err := OpenFile(pcap)
		if err != nil {
			b.Fatal(err)
		}
		hs := make([]Handler, max(runtime.GOMAXPROCS(0)-1, 1))
		for i := range hs {
			hs[i] = &byteCounter{}
		}
		st, err = RunSharded(context.Background(), f, hs, Options{})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Frames)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	cpu.report(b, int(st.Frames), "frame")
}

// benchBlocks reads the capture named by $TLSDIAG_BENCH_PCAP into blocks
// in memory, decoded for shards shards, once per test binary: the input
// of BenchmarkDecodeBlocks and BenchmarkAssembleBlocks, which time the
// decoding and the reassembly without the reading.
func benchBlocks(b *testing.B, shards int) []*block {
	pcap := os.Getenv("TLSDIAG_BENCH_PCAP")
	if pcap == "" {
		b.Skip("set TLSDIAG_BENCH_PCAP to a capture")
	}
	f, err := OpenFile(pcap)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var blocks []*block
	fill := &copyFiller{src: f}
	for {
		bl := &block{buf: make([]byte, 0, blockSize), shardSegs: make([][]int32, shards)}
		err := fill.fill(bl)
		if len(bl.frames) > 0 {
			blocks = append(blocks, bl)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	r := newShardReader()
	r.shards = make([]*shard, shards)
	for _, bl := range blocks {
		if err := r.decodeBlock(bl, f); err != nil {
			b.Fatal(err)
		}
		bl.now, bl.last = r.now, r.frames
	}
	return blocks
}

// BenchmarkDecodeBlocks decodes the blocks of the capture named by
// $TLSDIAG_BENCH_PCAP, read into memory beforehand, for one shard (read's
// on two cores) and for two.
func BenchmarkDecodeBlocks(b *testing.B) {
	for _, shards := range []int{1, 2} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			blocks := benchBlocks(b, shards)
			b.ReportAllocs()
			frames := 0
			cpu := startCPU()
			for b.Loop() {
				r := newShardReader()
				r.shards = make([]*shard, shards)
				for _, bl := range blocks {
					bl.clocks = bl.clocks[:0]
					for i := range bl.shardSegs { // as fillAll leaves them
						bl.shardSegs[i] = bl.shardSegs[i][:0]
					}
					if err := r.decodeBlock(bl, nil); err != nil {
						b.Fatal(err)
					}
				}
				frames = int(r.frames)
			}
			cpu.report(b, frames, "frame")
		})
	}
}

// BenchmarkAssembleBlocks reassembles the segments of the capture named by
// $TLSDIAG_BENCH_PCAP, read and decoded into memory beforehand, in one
// shard and in two run one after the other, with Streams that only count
// bytes.
func BenchmarkAssembleBlocks(b *testing.B) {
	for _, shards := range []int{1, 2} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			blocks := benchBlocks(b, shards)
			b.ReportAllocs()
			segs := 0
			cpu := startCPU()
			for b.Loop() {
				segs = 0
				for i := range shards {
					s := &shard{a: NewAssembler(&byteCounter{}, Options{}), idx: i}
					for _, bl := range blocks {
						s.assemble(bl)
					}
					st := s.a.Close()
					segs += int(st.Segments)
				}
			}
			cpu.report(b, segs, "seg")
		})
	}
}

// cpuClock is the process's CPU time (user and system) at the start of a
// benchmark's loop: on a machine shared with other work, the wall clock
// of b.Elapsed counts their time too.
type cpuClock time.Duration

func startCPU() cpuClock { return cpuClock(processCPU()) }

// report adds the CPU time per op and per item (n items an op) as metrics.
func (c cpuClock) report(b *testing.B, n int, item string) {
	d := processCPU() - time.Duration(c)
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(d.Nanoseconds())/float64(n*b.N), "cpu-ns/"+item)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
