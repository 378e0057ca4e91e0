package analysis

import (
	"context"

	"github.com/tlsdiag/tlsdiag/capture"
)

// Stats are what reading a capture counted: capture's, and what the
// analysis ignored, held or moved.
type Stats struct {
	capture.Stats
	SequenceStats
}

// Analyse reads a whole capture and returns its connections as Connections
// does, or hands them to Options.Emit as they finish. With workers > 1 the
// capture is split between that many Builders by connection
// (capture.RunSharded) and the result is the same, order included, as
// with one. Options.Done and Early are for live captures and need
// workers = 1.
func Analyse(ctx context.Context, src capture.Source, opt Options, capOpt capture.Options, workers int) ([]*Connection, Stats, error) {
	if workers <= 1 || opt.Done != nil || opt.Early {
		b := NewBuilder(opt)
		st, err := capture.Run(ctx, src, b, capOpt)
		conns := b.Connections()
		return conns, Stats{st, b.Stats()}, err
	}
	var conns []*Connection
	emit := opt.Emit
	if emit == nil {
		emit = func(c *Connection) { conns = append(conns, c) }
	}
	seq := newSequencer(workers, opt, emit)
	hs := make([]capture.Handler, workers)
	for i := range hs {
		b := newBuilder(opt)
		b.seq, b.shard = seq, i
		hs[i] = b
	}
	st, err := capture.RunSharded(ctx, src, hs, capOpt)
	return conns, Stats{st, seq.end()}, err
}
