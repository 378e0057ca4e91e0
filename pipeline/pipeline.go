// Package pipeline turns a packet source into diagnosed connection
// records.
//
// It is the one place where capture, analysis and diagnose are put
// together: reading capture files (Files), sniffing an interface (Live)
// and reading a whole source at once (Collect) differ only in how the
// connections leave the analysis. Commands configure it; they do not
// rebuild it.
package pipeline

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
)

// Result is one connection with its verdict.
type Result struct {
	Conn    *analysis.Connection
	Verdict diagnose.Verdict
	// Source names the capture file the connection came from; frame numbers
	// are relative to it. Empty for a single unnamed source.
	Source string
	// SourceStart is the time of the first frame of Source: the trace
	// shows times relative to it. When zero, the writer picks the start.
	SourceStart time.Time
}

// Config is what each step is given. The pipeline decides how connections
// leave the analysis: Analysis.Emit, Done and Early are its own and must
// be left unset.
type Config struct {
	Analysis analysis.Options
	Capture  capture.Options
	Diagnose diagnose.Config
	// Opened, when set, is called with each capture Files or Captures
	// opens, before it is read (to follow its progress).
	Opened func(Input)
}

// analysisOptions are the analysis's options: the caller's, with what the
// diagnosis tells it.
func (cfg Config) analysisOptions() analysis.Options {
	opt := cfg.Analysis
	// Only a connection whose verdict names the other names of its server
	// host waits for the capture's end to know them all.
	opt.NamesOtherNames = diagnose.NamesOtherNames
	return opt
}

// Collect reads src to its end and returns its connections with their
// verdicts, in first-frame order. It returns what was found before any
// error, and the error.
func Collect(ctx context.Context, src capture.Source, cfg Config) ([]Result, analysis.Stats, error) {
	conns, stats, err := analysis.Analyse(ctx, src, cfg.analysisOptions(), cfg.Capture, 0)
	verdicts := diagnose.All(conns, cfg.Diagnose, runtime.GOMAXPROCS(0))
	results := make([]Result, len(conns))
	for i, c := range conns {
		results[i] = Result{Conn: c, Verdict: verdicts[i]}
	}
	return results, stats, err
}

// liveQueue is how many decided connections may wait for their diagnosis
// and out: enough for the two goroutines to run side by side, few enough
// not to count in memory (a record with its certificates is some tens of
// kilobytes).
const liveQueue = 64

// Live hands each connection of a live capture to out, with its verdict,
// once its outcome is known: the handshake completed, an alert, a reset, a
// non-TLS answer, or no progress for Capture.IdleTimeout of capture time.
// The rest of a connection is then ignored. The capture may be split by
// connection between sources (the sockets of a fan-out group): each is
// read, reassembled and analysed on a goroutine of its own
// (capture.RunFanout). The connections come in the order of the capture
// time at which their outcomes became known (an idle one at its
// deadline), each as soon as no source can still show an earlier one: the
// same order for any number of sources. Calls to out are made on one
// goroutine, never concurrently. It returns when every source ended or
// ctx is done, once out returned for the last connection.
func Live(ctx context.Context, srcs []capture.SplitSource, cfg Config, out func(Result)) (analysis.Stats, error) {
	opt := cfg.Analysis
	opt.Early = true
	opt.IdleTimeout = cfg.Capture.IdleTimeout
	if opt.IdleTimeout == 0 {
		opt.IdleTimeout = capture.DefaultIdleTimeout
	}
	// Diagnosing and writing a connection are done on a goroutine of
	// their own: on the goroutine that read the socket they took a third
	// of its time (profile of 2 Gbit/s of handshakes), time in which
	// the kernel's ring fills. The connections go to it in the order
	// they are handed on; when liveQueue of them wait, the readers wait
	// too, as they did for the writing.
	decided := make(chan *analysis.Connection, liveQueue)
	var writer sync.WaitGroup
	writer.Go(func() {
		for c := range decided {
			out(Result{Conn: c, Verdict: diagnose.Diagnose(c, cfg.Diagnose)})
		}
	})
	opt.Done = func(c *analysis.Connection) { decided <- c }
	bs := analysis.NewBuilders(opt, len(srcs))
	hs := make([]capture.Handler, len(bs))
	for i, b := range bs {
		hs[i] = b
	}
	st, err := capture.RunFanout(ctx, srcs, hs, cfg.Capture)
	bs[0].Connections() // the connections open at the end
	close(decided)
	writer.Wait()
	return analysis.Stats{Stats: st, SequenceStats: bs[0].Stats()}, err
}
