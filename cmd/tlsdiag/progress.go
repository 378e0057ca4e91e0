package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// progressMin is the size of input from which reading shows progress: a
// smaller capture is read before anyone would look.
const progressMin = 100 << 20

// progressEvery is how often the progress line is redrawn.
const progressEvery = 250 * time.Millisecond

// progress draws one line on a terminal's standard error while captures
// are read: bytes read of the total, rate, time left. It is redrawn on a
// timer from counters the Files update as they fill their buffers, never
// per packet. A nil *progress draws nothing.
type progress struct {
	w     io.Writer
	total int64
	read  atomic.Int64
	start time.Time
	stop  chan struct{}
	done  sync.WaitGroup
	now   func() time.Time
}

// newProgress returns a progress line for reading paths, or nil when it
// should not be drawn: --no-progress, standard error not a terminal (a
// pipe, a file, a test), or less than progressMin to read.
func newProgress(stderr io.Writer, paths []string, disabled bool) *progress {
	f, ok := stderr.(*os.File)
	if disabled || !ok || !isTerminal(f) {
		return nil
	}
	var total int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			total += fi.Size()
		}
	}
	if total < progressMin {
		return nil
	}
	return &progress{w: stderr, total: total, now: time.Now}
}

// isTerminalWriter reports whether w is a terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlReadTermios)
	return err == nil
}

// watch counts what src reads. Files read concurrently add up.
func (p *progress) watch(src interface{ Progress(func(read int64)) }) {
	if p == nil {
		return
	}
	var last int64
	src.Progress(func(n int64) {
		p.read.Add(n - last)
		last = n
	})
}

// begin starts redrawing.
func (p *progress) begin() {
	if p == nil {
		return
	}
	p.start, p.stop = p.now(), make(chan struct{})
	p.done.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				fmt.Fprint(p.w, "\r\033[K") // leave the line empty for what follows
				return
			case <-t.C:
				fmt.Fprint(p.w, "\r\033[K"+p.line())
			}
		}
	})
}

// end erases the line.
func (p *progress) end() {
	if p == nil {
		return
	}
	close(p.stop)
	p.done.Wait()
}

// line is the text of the progress line:
// "tlsdiag: reading 1.2 GB of 4.0 GB (30%), 850 MB/s, 3s left".
func (p *progress) line() string {
	read := min(p.read.Load(), p.total)
	s := fmt.Sprintf("tlsdiag: reading %s of %s (%d%%)", size(read), size(p.total), read*100/p.total)
	if el := p.now().Sub(p.start); el > 0 && read > 0 {
		rate := float64(read) / el.Seconds()
		left := time.Duration(float64(p.total-read) / rate * float64(time.Second))
		s += fmt.Sprintf(", %s/s, %s left", size(int64(rate)), left.Round(time.Second))
	}
	return s
}

// size writes n bytes in decimal units, as ls -lh --si does.
func size(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
