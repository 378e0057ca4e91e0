package analysis

import (
	"context"
	"maps"

	"github.com/tlsdiag/tlsdiag/capture"
)

// Analyse reads a whole capture and returns its connections as Connections
// does. With workers > 1 the capture is split between that many Builders
// by connection (capture.RunSharded) and the result is the same, order
// included, as with one: the TLS ports any of them found count for all
// (see MergeConnections). Options.Done and Early are for live captures
// and need workers = 1.
func Analyse(ctx context.Context, src capture.Source, opt Options, capOpt capture.Options, workers int) ([]*Connection, capture.Stats, error) {
	if workers <= 1 || opt.Done != nil || opt.Early {
		b := NewBuilder(opt)
		st, err := capture.Run(ctx, src, b, capOpt)
		return b.Connections(), st, err
	}
	bs := make([]*Builder, workers)
	hs := make([]capture.Handler, workers)
	for i := range bs {
		bs[i] = NewBuilder(opt)
		hs[i] = bs[i]
	}
	st, err := capture.RunSharded(ctx, src, hs, capOpt)
	return MergeConnections(bs...), st, err
}

// MergeConnections returns the connections of Builders that each saw some
// of the connections of one capture, as one Builder that saw them all
// would: whether a connection without TLS was meant to be TLS is decided
// with the TLS ports found by any of them, and the connections are in
// first-seen order. It calls Connections on each Builder.
func MergeConnections(bs ...*Builder) []*Connection {
	ports := map[uint16]bool{}
	for _, b := range bs {
		maps.Copy(ports, b.tlsPorts)
	}
	var all []*Connection
	for _, b := range bs {
		maps.Copy(b.tlsPorts, ports)
		all = append(all, b.Connections()...)
	}
	SortConnections(all)
	return all
}
