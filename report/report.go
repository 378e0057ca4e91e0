// Package report writes connection records and their verdicts as tables,
// JSON, NDJSON, CSV, Markdown or a Wireshark-style trace.
//
// It is the only package that knows how results look: the json tags, the
// table columns and the trace wording live here, in output types of their
// own (Connection, Summary), never on the analysis or diagnose types. It
// writes to the io.Writer it is given and never reads the clock: the same
// results give the same bytes.
package report

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/tlsdiag/tlsdiag/pipeline"
)

// Options tune the output.
type Options struct {
	// CaptureStart is the time of the capture's first frame: the trace
	// shows times relative to it, as Wireshark does. When zero, Write uses
	// the earliest first frame of the results and a Stream the first frame
	// of the first connection it is given.
	CaptureStart time.Time
	// OpenLog opens the named log file ("ssl.log") for the formats that
	// write several (zeek, zeek-json); cmd creates them in a directory.
	// Without it, such a format writes its main log to the Stream's writer.
	OpenLog func(name string) (io.Writer, error)
	// CommunityIDSeed seeds the Community ID of every connection; 0, the
	// spec's default, gives the IDs other tools give unless told otherwise.
	CommunityIDSeed uint16
	// Notes are capture-level remarks that Write adds to the summary, for
	// example "3 connections dropped by the connection cap".
	Notes []string
	// KeyLogSecrets, when set, returns the number of secrets the key log
	// held; the summary then notes what the key log did (connections
	// opened, those without a key).
	KeyLogSecrets func() int
	// Width is the terminal's width in cells, which the table format
	// fits its lines to; 0 is no limit (the output goes to a file or a
	// pipe).
	Width int
	// Color colours the table format's verdicts with ANSI escapes: red
	// failed, yellow warned or not judged, green ok.
	Color bool
	// Stats makes the table format write every summary table, also those
	// that say nothing a line does not (one row counting one connection).
	Stats bool
}

// Write writes results in format f. It sorts a copy of results by the time
// of their first frame, then source, frame number, client and server
// address, so the output does not depend on the order of results. The
// summary (for the formats that have one) covers exactly these results and
// carries opts.Notes.
func Write(w io.Writer, f Format, results []pipeline.Result, opts Options) error {
	rs := slices.Clone(results)
	SortResults(rs)
	if opts.CaptureStart.IsZero() {
		for _, r := range rs {
			if r.Conn != nil && !r.Conn.First.Time.IsZero() && (opts.CaptureStart.IsZero() || r.Conn.First.Time.Before(opts.CaptureStart)) {
				opts.CaptureStart = r.Conn.First.Time
			}
		}
	}
	s, err := newStream(w, f, opts, rs, true)
	if err != nil {
		return err
	}
	for len(rs) > 0 {
		chunk := rs[:min(aheadChunk, len(rs))]
		rs = rs[len(chunk):]
		if err := s.Connections(chunk); err != nil {
			return err
		}
	}
	return s.Close(opts.Notes)
}

// SortResults sorts results by the time of their first frame, then by
// source, first frame number, client and server address.
func SortResults(rs []pipeline.Result) {
	slices.SortStableFunc(rs, func(x, y pipeline.Result) int {
		if x.Conn == nil || y.Conn == nil {
			return cmp.Compare(boolInt(x.Conn != nil), boolInt(y.Conn != nil))
		}
		a, b := x.Conn, y.Conn
		if c := a.First.Time.Compare(b.First.Time); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Source, y.Source); c != 0 {
			return c
		}
		if c := cmp.Compare(a.First.Number, b.First.Number); c != 0 {
			return c
		}
		if c := a.Client.Compare(b.Client); c != 0 {
			return c
		}
		return a.Server.Compare(b.Server)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Stream writes connections one at a time, as live capture finishes them,
// in the order it is given them. Close ends the output with the summary of
// every connection written.
//
// The table format cannot align columns it has not seen yet, so a Stream
// writes each connection of the table format as a block of lines (the
// same details Write puts under its table); the other formats look exactly
// as Write makes them.
type Stream struct {
	w      io.Writer
	f      Format
	out    formatter
	opts   Options
	tally  tally
	n      int // connections written
	closed bool
	err    error // first write error; later calls return it

	multiSource bool // the table and markdown formats show a file column
	whole       bool // made by Write, which knows every result

	certs certMemo      // output forms of the certificates seen
	batch *bufio.Writer // what Connections writes through, reused

	capture *CaptureStats // given to CloseCapture
	sum     Summary       // what Close wrote
}

// NewStream starts writing format f to w.
func NewStream(w io.Writer, f Format, opts Options) (*Stream, error) {
	return newStream(w, f, opts, nil, false)
}

// NewWriter starts writing format f to w exactly as Write would write the
// results then given to Connection, in that order, without keeping them:
// only the table format keeps its rows (their text) to lay them out at
// Close. sources is the number of capture files the results come from:
// with more than one, the table and markdown formats name the file.
func NewWriter(w io.Writer, f Format, opts Options, sources int) (*Stream, error) {
	s, err := newStream(w, f, opts, nil, true)
	if err != nil {
		return nil, err
	}
	s.multiSource = sources > 1
	return s, nil
}

// newStream makes a Stream. When whole is set, all are every result that
// will be written: Write knows them up front and lays out a whole table.
func newStream(w io.Writer, f Format, opts Options, all []pipeline.Result, whole bool) (*Stream, error) {
	spec := lookupFormat(f)
	if spec == nil {
		return nil, fmt.Errorf("report: unknown format %q", string(f))
	}
	s := &Stream{w: w, f: f, opts: opts, whole: whole}
	if whole {
		for _, r := range all {
			if r.Source != all[0].Source {
				s.multiSource = true
				break
			}
		}
	}
	s.out = spec.new(s)
	return s, nil
}

// Connection writes one result.
func (s *Stream) Connection(r pipeline.Result) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errors.New("report: Connection after Close")
	}
	if r.Conn == nil {
		return fmt.Errorf("report: result %d has no connection", s.n+1)
	}
	if s.opts.CaptureStart.IsZero() {
		s.opts.CaptureStart = r.Conn.First.Time
	}
	s.n++
	s.tally.add(r)
	s.err = s.out.connection(s, r)
	return s.err
}

// Connections writes several results, as many calls of Connection
// would; the JSON formats encode them on every core first, and write them
// through a buffer (a write per connection was a system call each, a
// tenth of the time of reading a capture of short connections).
func (s *Stream) Connections(rs []pipeline.Result) error {
	e, ok := s.out.(aheadEncoder)
	if !ok || s.err != nil {
		for _, r := range rs {
			if err := s.Connection(r); err != nil {
				return err
			}
		}
		return nil
	}
	e.encodeAhead(s, rs)
	w := s.w
	if s.batch == nil {
		s.batch = bufio.NewWriterSize(w, batchBuffer)
	}
	s.batch.Reset(w)
	s.w = s.batch
	var err error
	for _, r := range rs {
		if err = s.Connection(r); err != nil {
			break
		}
	}
	s.w = w
	if ferr := s.batch.Flush(); ferr != nil && s.err == nil {
		s.err, err = ferr, ferr
	}
	return err
}

// batchBuffer is the size of the buffer Connections writes through.
const batchBuffer = 64 << 10

// Close ends the output: the closing of the JSON document and, for the
// formats that have one, the summary of every connection written, with
// notes appended to it.
func (s *Stream) Close(notes []string) error {
	if s.err != nil {
		return s.err
	}
	if s.closed {
		return errors.New("report: Close called twice")
	}
	s.closed = true
	sum := s.tally.summary()
	sum.Notes = append(sum.Notes, notes...)
	if s.opts.KeyLogSecrets != nil {
		sum.Notes = append(sum.Notes, s.tally.keyLogNotes(s.opts.KeyLogSecrets())...)
	}
	s.sum = sum
	s.err = s.out.close(s, sum)
	return s.err
}
