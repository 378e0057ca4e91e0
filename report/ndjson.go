package report

import "github.com/tlsdiag/tlsdiag/pipeline"

var ndjsonFormat = formatSpec{
	name: FormatNDJSON,
	doc:  "one connection object per line, no summary",
	json: true,
	new: func(*Stream) formatter {
		return &ndjsonFormatter{objects{object: connectionObject}}
	},
}

type ndjsonFormatter struct{ objects }

func (f *ndjsonFormatter) connection(s *Stream, r pipeline.Result) error { return f.writeLine(s, r) }

func (*ndjsonFormatter) close(*Stream, Summary) error { return nil }
