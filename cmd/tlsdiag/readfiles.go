package main

import (
	"runtime"
	"sync"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/report"
)

// fileResult is what analyseFile found in one capture.
type fileResult struct {
	results []report.Result
	stats   capture.Stats
	err     error
}

// analyseFiles analyses the captures concurrently, as many at once as there
// are cores, each with its share of them, and returns what each gave in the
// order of paths: the report is byte for byte the one of reading them one
// after the other.
func (p pipeline) analyseFiles(paths []string) []fileResult {
	out := make([]fileResult, len(paths))
	procs := runtime.GOMAXPROCS(0)
	atOnce := max(min(procs, len(paths)), 1)
	workers := max(procs/atOnce, 1)
	sem := make(chan struct{}, atOnce)
	var wg sync.WaitGroup
	for i, path := range paths {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			rs, st, err := p.analyseFile(path, workers)
			out[i] = fileResult{rs, st, err}
		})
	}
	wg.Wait()
	return out
}
