package report

import "github.com/tlsdiag/tlsdiag/pipeline"

var ndjsonFormat = formatSpec{
	name:    FormatNDJSON,
	summary: true,
	doc:     "one connection object per line (live: then a summary line)",
	json:    true,
	new: func(*Stream) formatter {
		return &ndjsonFormatter{objects{}}
	},
}

type ndjsonFormatter struct{ objects }

func (f *ndjsonFormatter) connection(s *Stream, r pipeline.Result) error { return f.writeLine(s, r) }

func (f *ndjsonFormatter) close(s *Stream, sum Summary) error {
	if s.capture == nil {
		return nil
	}
	b, err := appendJSON(f.buf[:0], ndjsonSummary{Type: "summary", Summary: sum, Capture: s.capture}, "")
	if err != nil {
		return err
	}
	f.buf = append(b, '\n')
	_, err = s.w.Write(f.buf)
	return err
}
