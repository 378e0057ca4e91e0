package pipeline

import (
	"context"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/diagnose"
)

// FileOutcome is what reading one capture file ended with.
type FileOutcome struct {
	Stats analysis.Stats
	Err   error
	// Reported counts the connections the file gave, before the caller's
	// filters.
	Reported int
}

// queued is how many connections a capture may run ahead of the output.
const queued = 256

// Files reads the capture files at paths ("-" is standard input) and
// hands their results to out, as Captures does, each file a capture of
// its own.
func Files(ctx context.Context, paths []string, cfg Config, out func([]Result) error) ([]FileOutcome, error) {
	captures := make([][]string, len(paths))
	for i, p := range paths {
		captures[i] = []string{p}
	}
	return Captures(ctx, captures, cfg, out)
}

// Captures reads captures, each one file ("-" is standard input) or
// several read as one (capture.OpenSet: a capture rotated into files),
// and hands their results to out, in batches diagnosed on every core:
// every connection of the first capture in first-frame order, then those
// of the second, and so on. As many captures as there are cores are read
// at once, each with its share of them; a capture after the one being
// written runs ahead until queued connections wait. After out fails,
// reading stops and its error is returned. The outcome of each capture is
// in the order of captures. A capture of several files is named by its
// first (Result.Source).
func Captures(ctx context.Context, paths [][]string, cfg Config, out func([]Result) error) ([]FileOutcome, error) {
	procs := runtime.GOMAXPROCS(0)
	atOnce := max(min(procs, len(paths)), 1)
	// Each capture's share of the cores: its reading goroutine takes one,
	// its shards the rest; with a core alone it is read on one goroutine.
	// A shard per core, the reader beside them, took 7–9 % more wall time
	// and CPU on 2 cores (100 MB of handshakes, 20 alternating runs; 500
	// MB of bulk data alike): most likely the goroutines contending for
	// the cores, and each shard's bytes decoded on the other core.
	shards := max(procs/atOnce, 1) - 1
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type file struct {
		results chan Result
		done    chan FileOutcome
	}
	files := make([]file, len(paths))
	for i := range files {
		files[i] = file{make(chan Result, queued), make(chan FileOutcome, 1)}
	}
	sem := make(chan struct{}, atOnce)
	go func() {
		for i, path := range paths {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				close(files[i].results)
				files[i].done <- FileOutcome{Err: ctx.Err()}
				continue
			}
			go func() {
				defer func() { <-sem }()
				st, err := analyseFile(ctx, path, cfg, shards, files[i].results)
				close(files[i].results)
				files[i].done <- FileOutcome{Stats: st, Err: err}
			}()
		}
	}()

	outcomes := make([]FileOutcome, len(paths))
	var outErr error
	batch := make([]Result, 0, queued)
	for i, f := range files {
		var judge diagnose.Capture // one per file: its batches break where the timing says
		for {
			batch = receive(f.results, batch[:0])
			if len(batch) == 0 {
				break
			}
			outcomes[i].Reported += len(batch)
			if outErr != nil {
				continue // drain, so that the reader sees the cancellation
			}
			conns := make([]*analysis.Connection, len(batch))
			for j, r := range batch {
				conns[j] = r.Conn
			}
			for j, v := range judge.All(conns, cfg.Diagnose, procs) {
				batch[j].Verdict = v
			}
			if outErr = out(batch); outErr != nil {
				cancel()
			}
		}
		reported := outcomes[i].Reported
		outcomes[i] = <-f.done
		outcomes[i].Reported = reported
	}
	return outcomes, outErr
}

// receive appends to batch the next result of ch, waiting for it, and
// those that are already there: as many as batch holds. It returns batch
// empty once ch is closed and drained.
func receive(ch <-chan Result, batch []Result) []Result {
	r, ok := <-ch
	if !ok {
		return batch
	}
	batch = append(batch, r)
	for len(batch) < cap(batch) {
		select {
		case r, ok := <-ch:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// Input is a capture file, or a set of them read as one.
type Input interface {
	capture.Source
	Name() string
	Start() time.Time
	Progress(func(read int64))
	Close() error
}

// openInput opens one capture file, or several as one continuous capture.
func openInput(files []string) (Input, error) {
	if len(files) == 1 {
		return capture.OpenFile(files[0])
	}
	return capture.OpenSet(files)
}

// analyseFile runs one capture through the analysis with shards
// goroutines beside the reading one, or on one goroutine when shards is
// 0 (analysis.Analyse: the result is the same), and sends its connections
// to results in first-frame order, as they are known, without their
// verdict. It returns what was found before any error.
func analyseFile(ctx context.Context, files []string, cfg Config, shards int, results chan<- Result) (analysis.Stats, error) {
	src, err := openInput(files)
	if err != nil {
		return analysis.Stats{}, err
	}
	defer src.Close()
	if cfg.Opened != nil {
		cfg.Opened(src)
	}
	path := files[0] // a set of files is named by its first
	var start time.Time
	opt := cfg.analysisOptions()
	// The ports the capture was filtered on were meant to be looked at.
	opt.TLSPorts = append(slices.Clip(opt.TLSPorts), filterPorts(path)...)
	opt.Emit = func(c *analysis.Connection) {
		if start.IsZero() {
			start = src.Start()
		}
		select {
		case results <- Result{Conn: c, Source: path, SourceStart: start}:
		case <-ctx.Done():
		}
	}
	_, stats, err := analysis.Analyse(ctx, src, opt, cfg.Capture, shards)
	return stats, err
}

// filterPorts returns the ports named by the capture filters a pcapng
// file records (if_filter). The reader learns an interface when its first
// frame comes, so this peeks at the first frame of a second reader; only
// a regular file can be read twice (not standard input, not a pipe).
func filterPorts(path string) []uint16 {
	if fi, err := os.Stat(path); path == "-" || err != nil || !fi.Mode().IsRegular() || capture.ClassicPcap(path) {
		return nil
	}
	src, err := capture.OpenFile(path)
	if err != nil {
		return nil
	}
	defer src.Close()
	if _, _, err := src.ReadPacketData(); err != nil {
		return nil
	}
	var ports []uint16
	for _, f := range src.Filters() {
		ports = append(ports, capture.FilterPorts(f)...)
	}
	return ports
}
