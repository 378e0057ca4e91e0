package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
)

// The json format is written piece by piece, so that a Stream need not
// keep its connections, yet it is byte for byte what
// json.MarshalIndent(Document, "", "  ") would give.

func (s *Stream) jsonConnection(r Result) error {
	b := s.buf[:0]
	if !s.started {
		s.started = true
		b = append(b, "{\n  \"connections\": [\n    "...)
	} else {
		b = append(b, ",\n    "...)
	}
	b, err := s.appendConnection(b, r, "    ")
	if err != nil {
		return err
	}
	s.buf = b
	_, err = s.w.Write(b)
	return err
}

func (s *Stream) jsonClose(sum Summary) error {
	var b []byte
	if !s.started {
		b = append(b, "{\n  \"connections\": [],\n  \"summary\": "...)
	} else {
		b = append(b, "\n  ],\n  \"summary\": "...)
	}
	b, err := appendJSON(b, sum, "  ")
	if err != nil {
		return err
	}
	b = append(b, "\n}\n"...)
	_, err = s.w.Write(b)
	return err
}

func (s *Stream) ndjsonConnection(r Result) error {
	b, err := s.appendConnection(s.buf[:0], r, "")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	s.buf = b
	_, err = s.w.Write(b)
	return err
}

// appendConnection appends r's JSON: encoded ahead, or now.
func (s *Stream) appendConnection(b []byte, r Result, prefix string) ([]byte, error) {
	if e, ok := s.takeAhead(); ok {
		if e.err != nil {
			return b, e.err
		}
		return append(b, e.b...), nil
	}
	return appendJSON(b, s.newConnection(r), prefix)
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
