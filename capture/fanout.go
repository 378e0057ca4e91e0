package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// A SplitSource is one of several sources that share one capture, split
// between them by connection — the sockets of a Linux AF_PACKET fan-out
// group, where the kernel hands every packet of a flow, both directions,
// to the same socket. Each frame comes with its number in the whole
// capture, so that frame numbers are unique across the sources (and, when
// the frames are also written to a file, are that file's).
type SplitSource interface {
	// ReadFrame returns the next frame of this source and its number. It
	// returns ErrNoFrame when none came for a while, with ci.Timestamp,
	// if not zero, a capture time before which it returned every frame
	// (that clock, or else the other sources', is then applied to this
	// source's connections), and io.EOF at the end.
	ReadFrame() (data []byte, ci gopacket.CaptureInfo, number int64, err error)
	LinkType() layers.LinkType
}

// ErrNoFrame is a SplitSource read that found no frame within its
// timeout: not an error, a chance to move the clock.
var ErrNoFrame = errors.New("capture: no frame within the read timeout")

// RunFanout reads each source of a split capture on a goroutine of its
// own, into an Assembler of its own driving the Handler of the same index,
// and closes every connection once all sources ended (or ctx was
// cancelled). Since a source has every frame of its connections, each
// connection gets the calls Run would make on the whole capture; Streams
// of different sources are called concurrently, so Handlers must not
// share state without locking.
//
// Each Assembler's clock is moved by the frames of its source. The
// capture clock, the latest frame time any source has read, is applied
// on ErrNoFrame, so that a source that stays quiet still ends its idle
// connections, and once every source ended, before the connections still
// open are closed: a connection then ends (idle or not) as in Run,
// however the sources' reads interleave. A Handler that is a Clocker is
// told its source's clock. Options.MaxConnections and MaxBufferedBytes are divided between the
// sources. The Stats are the sum of the sources' (Start the earliest,
// MaxBuffered the largest).
func RunFanout(ctx context.Context, srcs []SplitSource, hs []Handler, opt Options) (Stats, error) {
	if len(srcs) != len(hs) || len(srcs) == 0 {
		return Stats{}, fmt.Errorf("capture: %d sources for %d handlers", len(srcs), len(hs))
	}
	opt = opt.withDefaults()
	shardOpt := opt
	shardOpt.MaxConnections = max(opt.MaxConnections/len(hs), 1)
	shardOpt.MaxBufferedBytes = max(opt.MaxBufferedBytes/len(hs), opt.MaxBufferedBytesPerConn)

	var clock atomic.Int64
	clock.Store(-1 << 63)
	stats := make([]Stats, len(srcs))
	errs := make([]error, len(srcs))
	var wg, reading sync.WaitGroup
	reading.Add(len(srcs))
	for i := range srcs {
		wg.Go(func() {
			a := NewAssembler(hs[i], shardOpt)
			ck, _ := hs[i].(Clocker)
			errs[i] = a.readSplit(ctx, srcs[i], &clock, ck)
			// The connections still open end as of the whole capture's
			// last frame time, whichever source read it.
			reading.Done()
			reading.Wait()
			end := clock.Load()
			if ck != nil {
				ck.Clock(max(end, a.now), a.now)
			}
			a.tick(end)
			if ck != nil {
				ck.Clock(math.MaxInt64, a.now)
			}
			stats[i] = a.Close()
		})
	}
	wg.Wait()
	var st Stats
	for _, s := range stats {
		st.add(s)
	}
	for _, err := range errs {
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// A Clocker is a Handler that wants to know its source's clock in
// RunFanout, to order what its Streams report by capture time across the
// sources. Clock(now, done) says that the calls that follow are for a
// frame or an idle timeout at capture time now (Unix nanoseconds), and
// that every call for a time before done was made; neither decreases.
// now is math.MaxInt64 once the source ended: the calls that follow
// close the connections still open. A source that had no frame for its
// read timeout (ErrNoFrame) is done up to the time it gives, or the
// capture clock. Run and
// RunSharded do not call it.
type Clocker interface {
	Clock(now, done int64)
}

// readSplit reads src to its end into a. clock is the capture clock the
// sources of a split capture share (RunFanout), applied when src has no
// frame, and ck the Handler's Clocker, if any; both nil for a capture
// read whole (Run), whose own frames move its clock.
func (a *Assembler) readSplit(ctx context.Context, src SplitSource, clock *atomic.Int64, ck Clocker) error {
	a.splitSource = clock != nil
	done := ctx.Done()
	for i := 0; ; i++ {
		if done != nil && i%ctxCheckEvery == 0 {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		data, ci, n, err := src.ReadFrame()
		switch {
		case err == nil:
		case errors.Is(err, ErrNoFrame):
			if clock != nil {
				ns := clock.Load()
				if !ci.Timestamp.IsZero() {
					ns = ci.Timestamp.UnixNano()
				}
				ns = max(ns, a.now)
				if ck != nil {
					ck.Clock(ns, a.now)
				}
				a.tick(ns)
				if ck != nil {
					// Nothing came for a while: every frame before ns was read.
					ck.Clock(ns, ns)
				}
			}
			continue
		case err == io.EOF:
			return nil
		default:
			var re *ReadError
			if errors.As(err, &re) {
				return err
			}
			return fmt.Errorf("capture: %sframe %d: %w", sourceName(src), n, err)
		}
		if ck != nil && !ci.Timestamp.IsZero() {
			if ns := ci.Timestamp.UnixNano(); ns > a.now {
				ck.Clock(ns, a.now)
			}
		}
		a.several = severalInterfaces(src)
		if err := a.packet(n, data, ci, src.LinkType()); err != nil {
			return fmt.Errorf("capture: %sframe %d: %w", sourceName(src), n, err)
		}
		if a.progress != nil {
			a.endLingers(n)
			a.progress.Progress(n)
		}
		if clock != nil && !ci.Timestamp.IsZero() {
			ns := ci.Timestamp.UnixNano()
			for {
				cur := clock.Load()
				if ns <= cur || clock.CompareAndSwap(cur, ns) {
					break
				}
			}
		}
	}
}

// Unsplit returns src as the only SplitSource of a capture that is not
// split: its frames numbered from 1, in order.
func Unsplit(src Source) SplitSource { return &unsplit{src: src} }

type unsplit struct {
	src Source
	n   int64
}

func (u *unsplit) ReadFrame() ([]byte, gopacket.CaptureInfo, int64, error) {
	data, ci, err := u.src.ReadPacketData()
	if err != nil {
		return nil, ci, u.n + 1, err
	}
	u.n++
	return data, ci, u.n, nil
}

func (u *unsplit) LinkType() layers.LinkType { return u.src.LinkType() }

// Name is the source's name, for errors.
func (u *unsplit) Name() string { return strings.TrimSuffix(sourceName(u.src), ": ") }

// add sums the counts of one shard's Stats into st.
func (st *Stats) add(s Stats) {
	if st.Start.IsZero() || !s.Start.IsZero() && s.Start.Before(st.Start) {
		st.Start = s.Start
	}
	st.Frames += s.Frames
	st.Bytes += s.Bytes
	st.Truncated += s.Truncated
	st.NonIP += s.NonIP
	st.NonTCP += s.NonTCP
	st.UDP += s.UDP
	st.Malformed += s.Malformed
	st.ClockSteps += s.ClockSteps
	if s.ClockSteps > 0 && (s.ClockStepMax > st.ClockStepMax || s.ClockStepMax == st.ClockStepMax && s.ClockStepMaxFrame < st.ClockStepMaxFrame) {
		st.ClockStepMax, st.ClockStepMaxFrame = s.ClockStepMax, s.ClockStepMaxFrame
	}
	for k, n := range s.Skipped {
		if st.Skipped == nil {
			st.Skipped = make(map[Skip]int64)
		}
		if _, ok := st.Skipped[k]; !ok && len(st.Skipped) >= maxSkipKinds {
			k.What = "other"
		}
		st.Skipped[k] += n
	}
	if st.NATConns == 0 && s.NATConns > 0 {
		st.NATFrom, st.NATTo = s.NATFrom, s.NATTo
	}
	st.NATConns += s.NATConns
	st.NATCopies += s.NATCopies
	st.IPv4Fragments += s.IPv4Fragments
	st.IPv4Reassembled += s.IPv4Reassembled
	st.IPv4FragmentsDropped += s.IPv4FragmentsDropped
	st.IPv6Fragments += s.IPv6Fragments
	st.IPv6Reassembled += s.IPv6Reassembled
	st.IPv6FragmentsDropped += s.IPv6FragmentsDropped
	st.addAssembly(s)
}
