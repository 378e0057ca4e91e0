package report

import (
	"encoding/csv"
	"strconv"
	"strings"
)

// csvHeader names the columns of the csv format. They are fixed, whatever
// the results, so that scripts can rely on them.
var csvHeader = []string{
	"index", "source", "client", "server", "sni", "version", "cipher",
	"verdict", "summary", "evidence_frames", "fix", "warnings", "ja3", "ja4",
}

func (s *Stream) csvConnection(r Result) error {
	if s.csv == nil {
		s.csv = csv.NewWriter(s.w)
		if err := s.csv.Write(csvHeader); err != nil {
			return err
		}
	}
	c := s.newConnection(r)
	frames := make([]string, len(c.Verdict.EvidenceFrames))
	for i, f := range c.Verdict.EvidenceFrames {
		frames[i] = strconv.FormatInt(f, 10)
	}
	row := []string{
		strconv.Itoa(s.n), c.Source, c.Client, c.Server, c.SNI, c.Version, c.Cipher,
		c.Verdict.Category, c.Verdict.Summary, strings.Join(frames, " "), c.Verdict.Fix,
		strings.Join(c.Verdict.Warnings, "; "), c.JA3, c.JA4,
	}
	for i := range row {
		// A spreadsheet or a terminal shows the csv too: no control
		// characters from the wire.
		row[i] = clean(row[i])
	}
	if err := s.csv.Write(row); err != nil {
		return err
	}
	s.csv.Flush()
	return s.csv.Error()
}

func (s *Stream) csvClose() error {
	if s.csv == nil {
		// No connections: the header alone still tells a script the columns.
		s.csv = csv.NewWriter(s.w)
		if err := s.csv.Write(csvHeader); err != nil {
			return err
		}
	}
	s.csv.Flush()
	return s.csv.Error()
}
