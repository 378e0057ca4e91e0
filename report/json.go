package report

import (
	"bytes"
	"encoding/json"
	"io"
)

// The json format is written piece by piece, so that a Stream need not
// keep its connections, yet it is byte for byte what
// json.MarshalIndent(Document, "", "  ") would give.

func (s *Stream) jsonConnection(r Result) error {
	var b bytes.Buffer
	if !s.started {
		s.started = true
		b.WriteString("{\n  \"connections\": [\n    ")
	} else {
		b.WriteString(",\n    ")
	}
	if e, ok := s.takeAhead(); ok {
		if e.err != nil {
			return e.err
		}
		b.Write(e.b)
	} else if err := encodeJSON(&b, s.newConnection(r), "    "); err != nil {
		return err
	}
	_, err := s.w.Write(b.Bytes())
	return err
}

func (s *Stream) jsonClose(sum Summary) error {
	var b bytes.Buffer
	if !s.started {
		b.WriteString("{\n  \"connections\": [],\n  \"summary\": ")
	} else {
		b.WriteString("\n  ],\n  \"summary\": ")
	}
	if err := encodeJSON(&b, sum, "  "); err != nil {
		return err
	}
	b.WriteString("\n}\n")
	_, err := s.w.Write(b.Bytes())
	return err
}

func (s *Stream) ndjsonConnection(r Result) error {
	var b bytes.Buffer
	if e, ok := s.takeAhead(); ok {
		if e.err != nil {
			return e.err
		}
		b.Write(e.b)
	} else if err := encodeJSON(&b, s.newConnection(r), ""); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := s.w.Write(b.Bytes())
	return err
}

// encodeJSON writes v without a trailing newline, indented by two spaces
// under prefix, or compact when prefix is "" and indent is off. HTML
// characters are kept as they are: a non-TLS peer's "<html>" should read
// as such.
func encodeJSON(w io.Writer, v any, prefix string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if prefix != "" {
		// What enc.SetIndent(prefix, "  ") would give, several times faster.
		out = appendIndent(make([]byte, 0, 2*len(out)), out, prefix, "  ")
	}
	_, err := w.Write(out)
	return err
}
