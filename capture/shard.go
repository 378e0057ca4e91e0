package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// RunSharded is Run with the work split between goroutines, for captures
// too big for one core: this goroutine reads and decodes the frames, and
// one shard per Handler reassembles the connections whose addresses hash
// to it, each with an Assembler of its own. With one Handler the reading
// and the reassembly are a pipeline of two goroutines; with none, nothing
// is reassembled. Every Stream gets exactly the
// calls Run would make, in the same order, with the same frames; Streams
// of different shards are called concurrently, so Handlers must not share
// state without locking. Time is the capture's, as in Run: every shard
// sees the clock of every frame, so idle connections end as they would.
//
// Options.MaxConnections and MaxBufferedBytes are divided between the
// shards: only when those bounds are hit can the connections a shard
// evicts, or the holes it gives up, differ from Run's. The Stats are the
// sum of the shards' (MaxBuffered is the largest of theirs).
func RunSharded(ctx context.Context, src Source, hs []Handler, opt Options) (Stats, error) {
	if len(hs) == 0 {
		return Run(ctx, src, noStreams{}, opt)
	}
	opt = opt.withDefaults()
	shardOpt := opt
	shardOpt.MaxConnections = max(opt.MaxConnections/len(hs), 1)
	shardOpt.MaxBufferedBytes = max(opt.MaxBufferedBytes/len(hs), opt.MaxBufferedBytesPerConn)

	r := newShardReader()
	r.free = make(chan *block, blocksInFlight)
	var wg sync.WaitGroup
	for i, h := range hs {
		s := &shard{a: NewAssembler(h, shardOpt), idx: i, work: make(chan *block, blocksInFlight), free: r.free}
		s.progress, _ = h.(Progresser)
		r.shards = append(r.shards, s)
		wg.Go(s.run)
	}
	err := r.readAll(ctx, src)
	for _, s := range r.shards {
		close(s.work)
	}
	wg.Wait()
	st := r.stats
	for _, s := range r.shards {
		st.addAssembly(s.a.stats)
	}
	r.nat.addTo(&st)
	st.addFileFacts(src)
	return st, err
}

// addAssembly adds to st the reassembly counts of one shard's Stats: those
// an Assembler keeps itself (the frame counts are the reader's).
func (st *Stats) addAssembly(a Stats) {
	st.Segments += a.Segments
	st.ICMPErrors += a.ICMPErrors
	st.ICMPUnmatched += a.ICMPUnmatched
	st.PayloadBytes += a.PayloadBytes
	st.DeliveredBytes += a.DeliveredBytes
	st.ConnsOpened += a.ConnsOpened
	st.ConnsClosed += a.ConnsClosed
	st.ConnsIdle += a.ConnsIdle
	st.ConnsEvicted += a.ConnsEvicted
	st.ConnsReused += a.ConnsReused
	st.AfterClose += a.AfterClose
	st.InterfaceCopies += a.InterfaceCopies
	st.OutOfOrderSegments += a.OutOfOrderSegments
	st.OutOfOrderBytes += a.OutOfOrderBytes
	st.MaxBuffered = max(st.MaxBuffered, a.MaxBuffered)
	st.CapGaps += a.CapGaps
	st.CapGapBytes += a.CapGapBytes
	st.SnapGaps += a.SnapGaps
	st.SnapGapBytes += a.SnapGapBytes
	st.Gaps += a.Gaps
	st.GapBytes += a.GapBytes
	st.Retransmissions += a.Retransmissions
	st.RetransmittedBytes += a.RetransmittedBytes
	st.Conflicts += a.Conflicts
	st.KeepAlives += a.KeepAlives
}

// noStreams wants no connection.
type noStreams struct{}

func (noStreams) Open(Conn) Stream { return nil }

// newShardReader returns a reader with no shards yet and its books ready
// (a zero natBook cannot remember).
func newShardReader() *shardReader {
	r := &shardReader{now: -1 << 63, nat: newNATBook()}
	r.dec = newDecoder(&r.stats)
	return r
}

// shardReader reads blocks of frames, decodes them and deals the TCP
// segments out to the shards, which share the blocks.
type shardReader struct {
	dec    *decoder
	stats  Stats
	frames int64
	now    int64 // the capture clock: the latest frame time (ns)
	// prevTime is the previous frame's timestamp, to count steps back.
	prevTime time.Time
	shards   []*shard
	free     chan *block
	nat      natBook // connections seen on both sides of a NAT
	blocks   int     // blocks made
}

// blocksInFlight bounds the blocks read ahead of the slowest shard.
const blocksInFlight = 6

func (r *shardReader) readAll(ctx context.Context, src Source) error {
	// One goroutine reads blocks while this one decodes the last: reading
	// is the kernel copying the file, decoding is not, and a large capture
	// spends about as long in each. An error returns once the read in
	// progress does (at once from a file; from a pipe, when its writer
	// writes or closes it).
	filled := make(chan filledBlock, blocksInFlight)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { r.fillAll(fillerFor(src), filled, stop) })
	defer func() {
		close(stop)
		wg.Wait()
	}()
	done := ctx.Done()
	for fb := range filled {
		if done != nil {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		b, ferr := fb.b, fb.err
		derr := r.decodeBlock(b, src)
		r.send(b)
		switch {
		case derr != nil:
			return derr
		case ferr == io.EOF:
			return nil
		case ferr != nil:
			var re *ReadError
			if errors.As(ferr, &re) {
				return ferr
			}
			return fmt.Errorf("capture: %sframe %d: %w", sourceName(src), r.frames+1, ferr)
		}
	}
	return nil
}

// filledBlock is a block as fill left it, and fill's error.
type filledBlock struct {
	b   *block
	err error
}

// fillAll fills blocks, in order, until fill fails (io.EOF at the end) or
// stop is closed.
func (r *shardReader) fillAll(fill filler, filled chan<- filledBlock, stop <-chan struct{}) {
	defer close(filled)
	for {
		b := r.block(stop)
		if b == nil {
			return
		}
		b.buf, b.frames, b.clocks, b.segs = b.buf[:0], b.frames[:0], b.clocks[:0], b.segs[:0]
		for i := range b.shardSegs {
			b.shardSegs[i] = b.shardSegs[i][:0]
		}
		err := fill.fill(b)
		select {
		case filled <- filledBlock{b, err}:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// block returns a block the shards are done with, or a new one while
// fewer than blocksInFlight exist: a small capture needs one or two. It
// returns nil once stop is closed.
func (r *shardReader) block(stop <-chan struct{}) *block {
	select {
	case b := <-r.free:
		return b
	default:
	}
	if r.blocks < blocksInFlight {
		r.blocks++
		return &block{buf: make([]byte, 0, blockSize), shardSegs: make([][]int32, len(r.shards))}
	}
	select {
	case b := <-r.free:
		return b
	case <-stop:
		return nil
	}
}

// decodeBlock decodes the frames of b into segments dealt out to the
// shards, counting what is not TCP as Run does.
func (r *shardReader) decodeBlock(b *block, src Source) error {
	st := &r.stats
	b.first = r.frames + 1
	// Room for a segment per frame, so that each is decoded in place,
	// and for each shard's share of them and a margin. Blocks are
	// reused: this allocates only for the first few.
	b.segs = slices.Grow(b.segs[:0], len(b.frames))
	b.tunnels = b.tunnels[:0]
	if len(b.shardSegs) > 1 {
		share := len(b.frames)/len(b.shardSegs) + len(b.frames)/16
		for i := range b.shardSegs {
			b.shardSegs[i] = slices.Grow(b.shardSegs[i], share)
		}
	}
	for i := range b.frames {
		fr := &b.frames[i]
		ss := &b.segs[:len(b.segs)+1][len(b.segs)] // kept if the frame is a segment
		seg := &ss.seg
		r.frames++
		st.Frames = r.frames
		st.Bytes += int64(len(fr.data))
		if r.frames == 1 {
			st.Start = fr.ts
		}
		st.clock(r.frames, fr.ts, &r.prevTime)
		kind, err := r.dec.decode(fr.data, fr.ts, fr.lt, seg)
		if fr.capLen < fr.origLen || r.dec.truncated {
			st.Truncated++
		}
		if err != nil {
			b.frames = b.frames[:i+1]
			b.clocks = append(b.clocks, r.now)
			return fmt.Errorf("capture: %sframe %d: %w", sourceName(src), r.frames, err)
		}
		nat := kind == kindTCP
		if kind == kindUDP || kind == kindICMP {
			st.countOther(kind, r.dec)
			kind = kindTCP // dealt out as a segment, by addresses (an ICMP error by its quoted packet's)
		}
		if kind == kindTCP {
			if seg.Missing > 0 {
				seg.Snap = int(fr.capLen)
			}
			seg.Interface = frameInterface(fr.data, int(fr.ifIndex), fr.lt, fr.several)
			if nat && r.nat.wants(seg) && r.nat.see(seg, fr.ts.UnixNano()) {
				// A copy past a NAT, in a capture that does not say the
				// interface: dropped here, as an Assembler drops the rest.
				st.interfaceCopy(seg)
			} else {
				if seg.Tunnel != nil {
					seg.Tunnel = b.keepTunnel(seg.Tunnel)
				}
				ss.f, ss.clock = Frame{Number: r.frames, Time: fr.ts}, r.now
				if len(b.shardSegs) > 1 { // one shard takes every segment of segs: no hash, no list
					n := flowHash(seg.Src, seg.Dst) % uint64(len(b.shardSegs))
					b.shardSegs[n] = append(b.shardSegs[n], int32(len(b.segs)))
				}
				b.segs = b.segs[:len(b.segs)+1]
			}
		} else {
			st.countOther(kind, r.dec)
		}
		if ns := fr.ts.UnixNano(); ns > r.now && !fr.ts.IsZero() {
			r.now = ns
		}
		b.clocks = append(b.clocks, r.now)
	}
	return nil
}

// keepTunnel returns a copy of t, the decoder's, that lasts as long as
// the block.
func (b *block) keepTunnel(t *Tunnel) *Tunnel {
	if cap(b.tunnels) < len(b.frames) {
		b.tunnels = make([]Tunnel, 0, len(b.frames))
	}
	b.tunnels = append(b.tunnels, *t)
	return &b.tunnels[len(b.tunnels)-1]
}

// flowHash is the same for both directions of a connection: it picks the
// shard. It need not be a good hash, only a cheap and even one.
func flowHash(a, b netip.AddrPort) uint64 { return endHash(a) ^ endHash(b) }

// endHash hashes the address's 16 bytes (an IPv4 one as ::ffff:a.b.c.d)
// and the port. An IPv4 address is read with As4: it hashes the same,
// and costs half as much as As16, whose bytes the compiler copies
// through the stack.
func endHash(ap netip.AddrPort) uint64 {
	var h uint64
	if a := ap.Addr(); a.Is4() {
		// As16's first 8 bytes are zero, its last 00 00 ff ff a b c d.
		b := a.As4()
		h = uint64(binary.LittleEndian.Uint32(b[:]))<<32 | 0xffff0000
	} else {
		b := a.As16()
		h = binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:])
	}
	h = (h ^ uint64(ap.Port())) * 0xc2b2ae3d27d4eb4f
	return h ^ h>>32
}

// send hands b to every shard, even those without a segment in it: each
// moves its clock.
func (r *shardReader) send(b *block) {
	b.now, b.last = r.now, r.frames
	b.refs.Store(int32(len(r.shards)))
	for _, s := range r.shards {
		s.work <- b
	}
}

// shard is one Assembler and the blocks queued for it.
type shard struct {
	a        *Assembler
	progress Progresser // the Handler, if it is one
	idx      int
	work     chan *block
	free     chan *block
}

// shardSeg is a segment, its frame and the capture clock before the frame.
type shardSeg struct {
	seg   Segment
	f     Frame
	clock int64
}

func (s *shard) run() {
	for b := range s.work {
		s.assemble(b)
		last := b.last
		if b.refs.Add(-1) == 0 {
			s.free <- b
		}
		if s.progress != nil {
			s.progress.Progress(last)
		}
	}
	s.a.Close()
	if s.progress != nil {
		s.progress.Progress(math.MaxInt64)
	}
}

// assemble feeds the shard's segments of b to its Assembler and moves its
// clock to the end of b.
func (s *shard) assemble(b *block) {
	s.a.clocks, s.a.clocksFirst = b.clocks, b.first
	if len(b.shardSegs) == 1 {
		for i := range b.segs {
			s.a.feed(&b.segs[i])
		}
	} else {
		for _, i := range b.shardSegs[s.idx] {
			s.a.feed(&b.segs[i])
		}
	}
	s.a.tick(b.now)
	s.a.endLingers(b.last)
	s.a.clocks = nil
	s.a.frames = max(s.a.frames, b.last)
}

// feed hands a segment of a block to the Assembler, after the clock of
// the frames before it.
func (a *Assembler) feed(ss *shardSeg) {
	a.tick(ss.clock)
	switch {
	case ss.seg.ICMP != nil:
		a.icmp(&ss.seg, ss.f)
	case ss.seg.UDP:
		a.datagram(&ss.seg, ss.f)
	default:
		a.Segment(&ss.seg, ss.f)
	}
}

// Progresser is a Handler that wants to know how far RunSharded has read
// the capture, to tell which connections no frame can open any more: its
// shard calls Progress(n) once it handed its Streams every segment of the
// frames up to number n and closed every connection closed by frame n
// (Stream.Close's closedBy), and Progress(math.MaxInt64) after the last
// Close. Run calls it after every frame.
type Progresser interface {
	Progress(n int64)
}

// tick moves the Assembler's clock to ns (if later), as every frame of the
// capture does in Run.
func (a *Assembler) tick(ns int64) {
	if ns > a.now {
		a.advance(ns)
	}
}
