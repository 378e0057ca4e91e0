package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/pipeline"
)

// Format is the name of an output format.
type Format string

// The names of the formats other packages choose by name.
const (
	FormatTable    Format = "table"
	FormatWide     Format = "wide"
	FormatJSON     Format = "json"
	FormatNDJSON   Format = "ndjson"
	FormatCSV      Format = "csv"
	FormatMarkdown Format = "markdown"
	FormatTrace    Format = "trace"
	FormatLadder   Format = "ladder"
	FormatMermaid  Format = "mermaid"
	FormatHTML     Format = "html"
)

// formats is every output format, in the order the usage text names them.
// A format is one file that defines its formatSpec, plus its line here:
// dispatch, validation and help text all read this list.
var formats = []*formatSpec{
	&tableFormat,
	&wideFormat,
	&jsonFormat,
	&ndjsonFormat,
	&csvFormat,
	&markdownFormat,
	&traceFormat,
	&ecsFormat,
	&zeekFormat,
	&zeekJSONFormat,
	&ladderFormat,
	&mermaidFormat,
	&htmlFormat,
}

// formatSpec describes one output format.
type formatSpec struct {
	name Format
	// doc says in a few words what the format writes, for help texts.
	doc string
	// frames: the format lists each connection's frames, which the
	// analysis keeps only when asked to.
	frames bool
	// summary: the format writes the summary and its notes (ndjson only
	// when closed with the capture's statistics, by CloseCapture).
	summary bool
	// json: the format is JSON, which escapes itself and keeps every
	// value whole (no terminal escaping, no cutting).
	json bool
	// files: the format writes log files through Options.OpenLog (into a
	// directory), not one stream.
	files bool
	// tabs: the format is tab-separated; a tab in a value is escaped, so
	// every raw tab is a separator.
	tabs bool
	// new makes the writer of one Stream. It is called once the Stream's
	// own fields (writer, options, whether it is whole) are set.
	new func(s *Stream) formatter
}

// formatter writes one format for a Stream: connection for each result in
// order (s.n is its 1-based index), then close once, with the summary of
// every connection written.
type formatter interface {
	connection(s *Stream, r pipeline.Result) error
	close(s *Stream, sum Summary) error
}

// aheadEncoder is a formatter that can prepare several connections at
// once, on every core, before they are written in order.
type aheadEncoder interface {
	encodeAhead(s *Stream, rs []pipeline.Result)
}

// Formats lists every format, in the order the usage text names them.
var Formats = func() []Format {
	out := make([]Format, len(formats))
	for i, f := range formats {
		out[i] = f.name
	}
	return out
}()

func lookupFormat(f Format) *formatSpec {
	i := slices.IndexFunc(formats, func(s *formatSpec) bool { return s.name == f })
	if i < 0 {
		return nil
	}
	return formats[i]
}

// ParseFormat returns the format called name.
func ParseFormat(name string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(name)))
	if lookupFormat(f) != nil {
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", name, strings.Join(formatNames(false), ", "))
}

// ListsFrames reports whether f lists each connection's frames: the
// analysis must then keep them, which a live capture does not.
func (f Format) ListsFrames() bool {
	s := lookupFormat(f)
	return s != nil && s.frames
}

// IsJSON reports whether f writes JSON, which escapes itself and keeps
// every value whole, for machines rather than terminals.
func (f Format) IsJSON() bool {
	s := lookupFormat(f)
	return s != nil && s.json
}

// WritesFiles reports whether f writes several log files, opened through
// Options.OpenLog, rather than one stream.
func (f Format) WritesFiles() bool {
	s := lookupFormat(f)
	return s != nil && s.files
}

// TabSeparated reports whether f separates its fields with tabs (and
// escapes any tab in a value).
func (f Format) TabSeparated() bool {
	s := lookupFormat(f)
	return s != nil && s.tabs
}

// WritesSummary reports whether f writes the summary, its notes and the
// capture's statistics given to CloseCapture; a live capture says them on
// standard error for the formats that do not (csv, ecs, zeek).
func (f Format) WritesSummary() bool {
	s := lookupFormat(f)
	return s != nil && s.summary
}

// Doc says in a few words what format f writes.
func (f Format) Doc() string {
	if s := lookupFormat(f); s != nil {
		return s.doc
	}
	return ""
}

// FormatNames names the formats, in usage order; with live, only those a
// live capture can write (the ones that do not list frames).
func FormatNames(live bool) []string { return formatNames(live) }

func formatNames(live bool) []string {
	var out []string
	for _, f := range formats {
		if live && f.frames {
			continue
		}
		out = append(out, string(f.name))
	}
	return out
}

// FormatHelp describes the formats for a flag's help text, one line
// each: "name: what it writes"; with live, only those a live capture can
// write.
func FormatHelp(live bool) string {
	var b strings.Builder
	for _, f := range formats {
		if live && f.frames {
			continue
		}
		fmt.Fprintf(&b, "\n  %s: %s", f.name, f.doc)
	}
	return b.String()
}
