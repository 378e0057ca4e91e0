package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"

	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The json format is written piece by piece, so that a Stream need not
// keep its connections, yet it is byte for byte what
// json.MarshalIndent(Document, "", "  ") would give.

var jsonFormat = formatSpec{
	name:    FormatJSON,
	summary: true,
	doc:     `one document: {"connections": […], "summary": {…}}`,
	json:    true,
	new: func(*Stream) formatter {
		return &jsonFormatter{objects: objects{prefix: "    "}}
	},
}

type jsonFormatter struct {
	objects
	started bool // the document is opened
}

func (f *jsonFormatter) connection(s *Stream, r pipeline.Result) error {
	if !f.started {
		f.started = true
		return f.write(s, r, "{\n  \"connections\": [\n    ", "")
	}
	return f.write(s, r, ",\n    ", "")
}

func (f *jsonFormatter) close(s *Stream, sum Summary) error {
	var b []byte
	if !f.started {
		b = append(b, "{\n  \"connections\": [],\n  \"summary\": "...)
	} else {
		b = append(b, "\n  ],\n  \"summary\": "...)
	}
	b, err := appendJSON(b, sum, "  ")
	if err != nil {
		return err
	}
	if s.capture != nil {
		b = append(b, ",\n  \"capture\": "...)
		if b, err = appendJSON(b, s.capture, "  "); err != nil {
			return err
		}
	}
	b = append(b, "\n}\n"...)
	_, err = s.w.Write(b)
	return err
}

// scratch holds the buffers json.Encoder writes into before indenting.
var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// appendJSON appends v without a trailing newline, indented by two spaces
// under prefix, or compact when prefix is "" and indent is off. HTML
// characters are kept as they are: a non-TLS peer's "<html>" should read
// as such.
func appendJSON(dst []byte, v any, prefix string) ([]byte, error) {
	sb := scratch.Get().(*bytes.Buffer)
	defer scratch.Put(sb)
	sb.Reset()
	enc := json.NewEncoder(sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	out := bytes.TrimSuffix(sb.Bytes(), []byte("\n"))
	if prefix == "" {
		return append(dst, out...), nil
	}
	// What enc.SetIndent(prefix, "  ") would give, several times faster.
	return appendIndent(slices.Grow(dst, 2*len(out)), out, prefix, "  "), nil
}
