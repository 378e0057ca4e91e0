package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/tlsdiag/tlsdiag/report"
	"github.com/tlsdiag/tlsdiag/sink"
)

// output is where the records go: standard output, or a store.
type output struct {
	w       io.Writer
	sink    *sink.ES
	address string
	once    sync.Once
	err     error
	stop    func()
	files   []*os.File // logs opened in the log directory
}

// logDirFormat checks --zeek-dir against --format: the formats that write
// several logs need a directory, the others take none.
func logDirFormat(dir string, format report.Format) (string, string) {
	switch {
	case format.WritesFiles() && dir == "":
		return fmt.Sprintf("--format %s writes ssl.log and x509.log into a directory", format), "name it with --zeek-dir DIR"
	case !format.WritesFiles() && dir != "":
		return fmt.Sprintf("--zeek-dir is for --format zeek or zeek-json, not %s", format), "add --format zeek"
	}
	return "", ""
}

// openLog creates the named log in dir (created if needed), replacing one
// there; close closes it.
func (o *output) openLog(dir string) func(string) (io.Writer, error) {
	return func(name string) (io.Writer, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("--zeek-dir: %w", err)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("--zeek-dir: %w", err)
		}
		o.files = append(o.files, f)
		return f, nil
	}
}

// outputFormat checks --output against --format: a store takes ECS
// documents, so --format must be ecs or left out.
func outputFormat(address string, format report.Format, formatSet bool) (report.Format, string, string) {
	if address == "" {
		return format, "", ""
	}
	if formatSet && format != report.FormatECS {
		return format, fmt.Sprintf("--output sends ECS documents, not --format %s", format), "leave --format out, or use --format ecs"
	}
	return report.FormatECS, "", ""
}

// openOutput opens the store named by address, or returns stdout. With a
// store, Ctrl-C (SIGINT/SIGTERM) when interrupt is set closes it first, so
// that what it has not sent is written to its spool before the process
// ends.
func openOutput(address string, stdout, stderr io.Writer, interrupt bool) (*output, error) {
	o := &output{w: stdout, address: address, stop: func() {}}
	if address == "" {
		return o, nil
	}
	s, err := sink.Open(address, sink.Options{})
	if err != nil {
		return nil, fmt.Errorf("--output: %w", err)
	}
	o.w, o.sink = s, s
	if interrupt {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			select {
			case <-sigs:
				if err := o.close(stderr); err != nil {
					failure(stderr, err)
				}
				os.Exit(130)
			case <-done:
			}
		}()
		o.stop = func() { signal.Stop(sigs); close(done) }
	}
	return o, nil
}

// close sends what the store has not taken yet (or spools it) and says
// what was sent.
func (o *output) close(stderr io.Writer) error {
	for _, f := range o.files {
		if err := f.Close(); err != nil && o.err == nil {
			o.err = fmt.Errorf("--zeek-dir: %w", err)
		}
	}
	o.files = nil
	if o.sink == nil {
		return o.err
	}
	o.once.Do(func() {
		o.err = o.sink.Close()
		st := o.sink.Stats()
		say(stderr, "%d records sent to %s (%d spooled while it could not take them, %d replayed from the spool, %d refused, %d retries)",
			st.Sent, o.address, st.Spooled, st.Replayed, st.Rejected, st.Retries)
		if o.err != nil {
			o.err = fmt.Errorf("--output: %w", o.err)
		}
	})
	return o.err
}
