package report

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The markdown format is a GitHub table of the connections (the table
// format's columns plus evidence and fix), then the summary as small
// tables. It is written row by row, so a Stream looks the same as Write.

var markdownFormat = formatSpec{
	name:    FormatMarkdown,
	summary: true,
	doc:     "a GitHub table, then the summary tables",
	new:     func(*Stream) formatter { return &markdownFormatter{} },
}

type markdownFormatter struct {
	started bool // the header row is written
}

func (f *markdownFormatter) header(s *Stream, b *bytes.Buffer) {
	f.started = true
	cols := []string{"#"}
	align := []string{"--:"}
	if s.multiSource {
		cols, align = append(cols, "File"), append(align, "---")
	}
	cols = append(cols, "Client → Server", "SNI", "Version", "Cipher", "Verdict", "Summary", "Evidence", "Fix", "JA4", "Community ID")
	for range 10 {
		align = append(align, "---")
	}
	markdownRow(b, cols)
	markdownRow(b, align)
}

func (f *markdownFormatter) connection(s *Stream, r pipeline.Result) error {
	var b bytes.Buffer
	if !f.started {
		f.header(s, &b)
	}
	c := s.newConnection(r)
	evidence := make([]string, len(c.Verdict.EvidenceFrames))
	for i, f := range c.Verdict.EvidenceFrames {
		evidence[i] = strconv.FormatInt(f, 10)
	}
	row := []string{strconv.Itoa(s.n)}
	if s.multiSource {
		row = append(row, c.Source)
	}
	fix := c.Verdict.Fix
	for _, w := range c.Verdict.Warnings {
		fix = strings.TrimSpace(fix + " Warning: " + w)
	}
	row = append(row, c.Client+" → "+c.Server, c.SNI, c.Version, c.Cipher,
		c.Verdict.Category, c.Verdict.Summary, strings.Join(evidence, ", "), fix, c.JA4, c.CommunityID)
	markdownRow(&b, row)
	_, err := s.w.Write(b.Bytes())
	return err
}

func (f *markdownFormatter) close(s *Stream, sum Summary) error {
	var b bytes.Buffer
	if !f.started {
		b.WriteString("No connections.\n")
	}
	b.WriteString("\n**Summary: " + summaryLine(sum) + "**\n")
	for _, part := range sum.countTables(false) {
		if len(part.counts) == 0 {
			continue
		}
		b.WriteString("\n")
		markdownRow(&b, part.header())
		markdownRow(&b, []string{"---", "--:"})
		for _, r := range part.rows(func(s string) string { return s }) {
			markdownRow(&b, r)
		}
	}
	if len(sum.VersionMatrix) > 0 {
		header, rows := matrixTable(sum.VersionMatrix)
		b.WriteString("\n")
		markdownRow(&b, header)
		align := []string{"---"}
		for range header[1:] {
			align = append(align, "--:")
		}
		markdownRow(&b, align)
		for _, r := range rows {
			markdownRow(&b, r)
		}
	}
	if len(sum.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range sum.Notes {
			b.WriteString("- " + markdownCell(n) + "\n")
		}
	}
	_, err := s.w.Write(b.Bytes())
	return err
}

func markdownRow(b *bytes.Buffer, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + markdownCell(c) + " |")
	}
	b.WriteString("\n")
}

// markdownCell keeps a value inside its cell and shows it as text: it is
// escaped and cut like the other text formats (a line break would end the
// row), then every character that Markdown or GitHub's HTML could act on
// gets a backslash. A pipe would end the cell; < or & could open an HTML
// tag or an entity (&#x202e; is the override the escaping removed); a
// backtick opens code, "](" a link or an image ([x] alone is text: a
// reference needs a definition, which cannot be in a cell), * and ~
// emphasis. A backslash is doubled so that it cannot escape the pipe
// after it. The underscore is left alone: GitHub does not emphasise inside
// a word, and every cipher suite and verdict category has one.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "<", `\<`, ">", `\>`, "&", `\&`, "`", "\\`",
	"](", `]\(`, "*", `\*`, "~", `\~`,
)

func markdownCell(s string) string { return markdownEscaper.Replace(clean(s)) }
