package report

import (
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/internal/textsafe"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// csvHeader names the columns of the csv format. They are fixed, whatever
// the results, so that scripts can rely on them.
var csvHeader = []string{
	"index", "source", "client", "server", "sni", "version", "cipher",
	"verdict", "summary", "evidence_frames", "fix", "warnings", "ja3", "ja4",
	"community_id",
}

var csvFormat = formatSpec{
	name: FormatCSV,
	doc:  "a row per connection, after a header row",
	new:  func(*Stream) formatter { return &csvFormatter{} },
}

type csvFormatter struct {
	w *csv.Writer // nil until the header is written
}

func (f *csvFormatter) header(s *Stream) error {
	if f.w != nil {
		return nil
	}
	f.w = csv.NewWriter(s.w)
	return f.w.Write(csvHeader)
}

func (f *csvFormatter) connection(s *Stream, r pipeline.Result) error {
	if err := f.header(s); err != nil {
		return err
	}
	c := s.newConnection(r)
	frames := make([]string, len(c.Verdict.EvidenceFrames))
	for i, f := range c.Verdict.EvidenceFrames {
		frames[i] = strconv.FormatInt(f, 10)
	}
	row := []string{
		strconv.Itoa(s.n), c.Source, c.Client, c.Server, c.SNI, c.Version, c.Cipher,
		c.Verdict.Category, c.Verdict.Summary, strings.Join(frames, " "), c.Verdict.Fix,
		strings.Join(c.Verdict.Warnings, "; "), c.JA3, c.JA4, c.CommunityID,
	}
	for i := range row {
		row[i] = csvCell(row[i])
	}
	if err := f.w.Write(row); err != nil {
		return err
	}
	f.w.Flush()
	return f.w.Error()
}

func (f *csvFormatter) close(s *Stream, _ Summary) error {
	// No connections: the header alone still tells a script the columns.
	if err := f.header(s); err != nil {
		return err
	}
	f.w.Flush()
	return f.w.Error()
}

// csvCell makes a value safe for the programs that open a csv: a terminal
// gets it escaped (textsafe.Text, whole: the csv is for machines too, so
// nothing is cut), and a spreadsheet gets no formula. Excel and LibreOffice
// evaluate a cell that starts with =, +, - or @ (a TAB or CR before them
// is skipped), so such a cell gets a ' in front, OWASP's advice for CSV
// injection; plain numbers ("-1", "+3.5") are left as they are.
func csvCell(s string) string {
	if s == "" || isPlainNumber(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + textsafe.Text(s)
	}
	return textsafe.Text(s)
}

// isPlainNumber reports whether s is an optionally signed decimal number:
// digits with at most one decimal point among them.
func isPlainNumber(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}
