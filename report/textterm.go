package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The table format is the report for a person at a terminal: the summary
// first in a few lines, then one line per connection that fits the width
// (number, endpoints, SNI, version, verdict, a short reason), then the
// details (the whole summary, evidence, fix, warnings) of the connections
// that failed or warned, wrapped to the width, and the summary tables that
// say something. The wide format keeps the old wide table.
var tableFormat = formatSpec{
	name: FormatTable,
	doc:  "a line per connection fitted to the terminal, the summary first, details of those that failed or warned",
	new:  func(s *Stream) formatter { return &termFormatter{} },
}

// minWidth is the narrowest width the table format fits: narrower widths
// are laid out as this one.
const minWidth = 40

// termIndent starts the lines of a connection's details.
const termIndent = "   "

// The columns of a connection's line.
const (
	colNum = iota
	colEnds
	colSNI
	colVersion
	colVerdict
	colReason
	nCols
)

var termHeader = [nCols]string{"#", "Client → Server", "SNI", "TLS", "Verdict", "Reason"}

// streamWidths are the columns of a Stream's lines, which cannot be
// sized to connections not seen yet: an IPv4 address pair, a short name,
// the longest common category.
var streamWidths = [nCols]int{2, 33, 16, 3, 18, 60}

// termRow is one connection's line before it is fitted: every cell
// escaped, none cut.
type termRow struct {
	source         string
	client, server string
	cells          [nCols]string
	tone           tone
}

// termFormatter keeps the lines and details of Write's connections until
// Close, which writes the summary first; a Stream's connections are
// written as they come, the summary at the end.
type termFormatter struct {
	rows    []termRow
	details blocks
	scratch bytes.Buffer // one connection's details, reused
	// spaced: a Stream's last connection ended with an empty line.
	spaced bool
}

// newTermRow reads the few fields it shows from the connection as its
// Connection would say them: converting the whole Connection (its
// certificates, fingerprints, Community ID, …) was a fifth of the time
// the table format took on a capture of short connections.
func newTermRow(s *Stream, r pipeline.Result) termRow {
	c := r.Conn
	row := termRow{source: cleanName(r.Source), client: c.Client.String(), server: c.Server.String(), tone: toneOf(r)}
	row.cells = [nCols]string{
		colNum:     strconv.Itoa(s.n),
		colEnds:    row.client + " → " + row.server,
		colSNI:     dash(cleanName(sni(c))),
		colVersion: dash(strings.TrimPrefix(versionName(c.Version), "TLS ")),
		colVerdict: clean(string(r.Verdict.Category)),
		colReason:  reason(r.Verdict),
	}
	return row
}

// reason is the table's reason for a verdict: its headline, or its
// summary's first clause.
func reason(v diagnose.Verdict) string {
	if v.Headline != "" {
		return clean(v.Headline)
	}
	return shortReason(clean(v.Summary))
}

// shortReason is a summary's first clause: up to its first colon or
// semicolon, where the facts that back it begin.
func shortReason(summary string) string {
	cut := len(summary)
	for _, sep := range []string{": ", "; "} {
		if i := strings.Index(summary, sep); i >= 0 && i < cut {
			cut = i
		}
	}
	return summary[:cut]
}

func (t *termFormatter) connection(s *Stream, r pipeline.Result) error {
	row := newTermRow(s, r)
	if s.whole {
		t.rows = append(t.rows, row)
		if needsDetails(r) {
			t.scratch.Reset()
			t.scratch.WriteString("\n")
			writeTermDetails(&t.scratch, s, row, r)
			t.details.append(t.scratch.Bytes())
		}
		return nil
	}
	var b bytes.Buffer
	if s.n == 1 {
		writeTermLine(&b, s, fitColumns(streamWidths, termWidth(s)), termHeader, -1)
	}
	writeTermLine(&b, s, fitColumns(streamWidths, termWidth(s)), row.cells, row.tone)
	t.spaced = needsDetails(r)
	if t.spaced {
		writeTermDetails(&b, s, row, r)
		b.WriteString("\n")
	}
	_, err := s.w.Write(b.Bytes())
	return err
}

func (t *termFormatter) close(s *Stream, sum Summary) error {
	var b bytes.Buffer
	if !s.whole {
		if s.n > 0 && !t.spaced {
			b.WriteString("\n")
		}
		writeTermSummary(&b, s, sum)
		writeTermTables(&b, s, sum)
		_, err := s.w.Write(b.Bytes())
		return err
	}
	writeTermSummary(&b, s, sum)
	if len(t.rows) > 0 {
		b.WriteString("\n")
		widths := fitColumns(naturalWidths(t.rows), termWidth(s))
		if termWidth(s) > 0 {
			// Endpoints cut to their short form may leave the column
			// wider than any of them: the reason takes the rest.
			ends := width(termHeader[colEnds])
			for _, r := range t.rows {
				ends = max(ends, width(fitEndpoints(r.client, r.server, widths[colEnds])))
			}
			widths[colReason] += widths[colEnds] - ends
			widths[colEnds] = ends
		}
		writeTermLine(&b, s, widths, termHeader, -1)
		source := ""
		for i, row := range t.rows {
			if s.multiSource && (i == 0 || row.source != source) {
				source = row.source
				b.WriteString(cutRight("file "+dash(source), termWidth(s)) + "\n")
			}
			writeTermLine(&b, s, widths, row.cells, row.tone)
		}
	}
	if _, err := s.w.Write(b.Bytes()); err != nil {
		return err
	}
	for _, d := range t.details {
		if _, err := s.w.Write(d); err != nil {
			return err
		}
	}
	b.Reset()
	writeTermTables(&b, s, sum)
	_, err := s.w.Write(b.Bytes())
	return err
}

// blocks is text kept in blocks of blockSize bytes. The details of
// thousands of connections held in one buffer were copied again at each
// doubling of it, and into the output, and the fresh memory each copy
// took cost more still: about half the time the table format took on a
// capture of 2,201 failed connections.
type blocks [][]byte

const blockSize = 64 << 10

// append appends p, in the last block while it has room.
func (bs *blocks) append(p []byte) {
	if n := len(*bs); n > 0 && len((*bs)[n-1])+len(p) <= cap((*bs)[n-1]) {
		(*bs)[n-1] = append((*bs)[n-1], p...)
		return
	}
	*bs = append(*bs, append(make([]byte, 0, max(blockSize, len(p))), p...))
}

// termWidth is the width the Stream fits its lines to; 0 is no limit.
func termWidth(s *Stream) int {
	if s.opts.Width <= 0 {
		return 0
	}
	return max(s.opts.Width, minWidth)
}

// naturalWidths are the columns' widths when nothing is cut.
func naturalWidths(rows []termRow) [nCols]int {
	var w [nCols]int
	for i, h := range termHeader {
		w[i] = width(h)
	}
	for _, r := range rows {
		for i, c := range r.cells {
			w[i] = max(w[i], width(c))
		}
	}
	return w
}

// fitColumns narrows the columns until a line fits in total cells (0: no
// limit). The number and the verdict stay whole; the reason gives way
// first, then the endpoints and the server name, down to floors that keep
// them readable, then all of them further.
func fitColumns(w [nCols]int, total int) [nCols]int {
	if total <= 0 {
		return w
	}
	sum := func() int {
		n := nCols - 1 // the spaces between columns
		for _, x := range w {
			n += x
		}
		return n
	}
	for _, step := range []struct{ col, floor int }{
		{colReason, 30}, {colEnds, 25}, {colSNI, 16}, {colSNI, 12}, {colReason, 16},
		{colSNI, 10}, {colEnds, 18}, {colReason, 12}, {colSNI, 6}, {colVersion, 3},
		{colEnds, 8}, {colSNI, 1}, {colReason, 1},
	} {
		if over := sum() - total; over > 0 && w[step.col] > step.floor {
			w[step.col] -= min(over, w[step.col]-step.floor)
		}
	}
	return w
}

// fitEndpoints writes "client → server" in at most w cells: the client's
// address gives way first (its port stays), then the server's start.
func fitEndpoints(client, server string, w int) string {
	full := client + " → " + server
	if w <= 0 || width(full) <= w {
		return full
	}
	if i := strings.LastIndexByte(client, ':'); i >= 0 {
		if short := ellipsis + client[i:] + " → " + server; width(short) <= w {
			return short
		}
	}
	return ellipsis + " → " + cutLeft(server, w-width(ellipsis+" → "))
}

// writeTermLine writes one line: cells cut to widths, the verdict whole
// and coloured by tone (-1: the header, not coloured), the last column not
// padded. A line that still does not fit (a verdict wider than the
// terminal) is cut, uncoloured.
func writeTermLine(b *bytes.Buffer, s *Stream, widths [nCols]int, cells [nCols]string, t tone) {
	limit := termWidth(s) > 0
	out := make([]string, nCols)
	for i, c := range cells {
		switch {
		case !limit:
		case i == colVerdict:
		case i == colEnds && t >= 0:
			c = fitEndpoints(cellsEndpoints(cells[colEnds]), cellsServer(cells[colEnds]), widths[i])
		default:
			c = cutRight(c, widths[i])
		}
		switch i {
		case colNum:
			c = padLeft(c, widths[i])
		case colReason:
		default:
			c = pad(c, widths[i])
		}
		out[i] = c
	}
	line := strings.TrimRight(strings.Join(out, " "), " ")
	if w := termWidth(s); w > 0 && width(line) > w {
		b.WriteString(cutRight(line, w) + "\n")
		return
	}
	if t >= 0 && s.opts.Color {
		out[colVerdict] = paint(cells[colVerdict], t, true) + strings.Repeat(" ", max(0, widths[colVerdict]-width(cells[colVerdict])))
		line = strings.TrimRight(strings.Join(out, " "), " ")
	}
	b.WriteString(line + "\n")
}

// cellsEndpoints and cellsServer split an endpoints cell back into the
// client and the server ("client → server"; addresses hold no arrow).
func cellsEndpoints(cell string) string {
	client, _, _ := strings.Cut(cell, " → ")
	return client
}

func cellsServer(cell string) string {
	_, server, _ := strings.Cut(cell, " → ")
	return server
}

// writeTermDetails writes what a connection's line cannot hold: a heading
// (number, verdict, endpoints; a Stream writes the details right under the
// line, without it), the whole summary, then evidence, fix,
// warnings and what else the details hold, wrapped to the width.
func writeTermDetails(b *bytes.Buffer, s *Stream, row termRow, r pipeline.Result) {
	w := termWidth(s)
	if !s.whole { // the connection's line is right above
		writeFitted(b, w, termIndent, "", r.Verdict.Summary)
		for _, d := range detailsOf(r) {
			writeFitted(b, w, termIndent, d.label, d.text)
		}
		return
	}
	head := "#" + row.cells[colNum] + " " + row.cells[colVerdict]
	rest := row.client + " → " + row.server
	if s.multiSource {
		rest = dash(row.source) + ": " + rest
	}
	if row.cells[colSNI] != "-" {
		rest += "  SNI " + row.cells[colSNI]
	}
	if w > 0 {
		rest = cutRight(rest, w-width(head)-2)
	}
	line := head + "  " + rest
	if w > 0 && width(line) > w {
		b.WriteString(cutRight(line, w) + "\n")
	} else {
		b.WriteString(paint(head, row.tone, s.opts.Color) + "  " + rest + "\n")
	}
	writeFitted(b, w, termIndent, "", r.Verdict.Summary)
	for _, d := range detailsOf(r) {
		writeFitted(b, w, termIndent, d.label, d.text)
	}
}

// writeFitted writes label and text (cleaned) wrapped to w cells (0: one
// line), continuation lines aligned under the text.
func writeFitted(b *bytes.Buffer, w int, indent, label, text string) {
	avail := 0
	if w > 0 {
		avail = max(w-width(indent+label), 8)
	}
	for i, line := range wrapFit(clean(text), avail) {
		b.WriteString(indent)
		if i == 0 {
			b.WriteString(label)
		} else {
			spaces(b, width(label))
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// spaces writes n spaces.
func spaces(b *bytes.Buffer, n int) {
	for range n {
		b.WriteByte(' ')
	}
}

// writeList writes label and the items joined by commas, wrapped to w
// cells between items (an item is cut only when it alone is too wide).
func writeList(b *bytes.Buffer, w int, label string, items []string) {
	pad := strings.Repeat(" ", width(label))
	line := label
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		switch {
		case i == 0:
			line += it
		case w <= 0 || width(line)+1+width(it) <= w:
			line += " " + it
		default:
			b.WriteString(line + "\n")
			line = pad + it
		}
	}
	b.WriteString(cutRight(line, w) + "\n")
}

// writeTermSummary writes the summary in a few lines: the totals, the
// verdicts when there is more than one connection, and the notes.
func writeTermSummary(b *bytes.Buffer, s *Stream, sum Summary) {
	w := termWidth(s)
	writeFitted(b, w, "", "Summary: ", summaryLine(sum))
	if sum.Connections > 1 {
		parts := make([]string, len(sum.Verdicts))
		for i, c := range sum.Verdicts {
			parts[i] = fmt.Sprintf("%s %d", clean(c.Name), c.Count)
		}
		writeList(b, w, "Verdicts: ", parts)
	}
	for _, n := range sum.Notes {
		writeFitted(b, w, "", "note: ", n)
	}
}

// writeTermTables writes the summary's tables that say something (more
// than one row, or a row counting more than one connection; the verdicts
// are in the summary's first lines), or all of them when the options ask
// for statistics.
func writeTermTables(b *bytes.Buffer, s *Stream, sum Summary) {
	w := termWidth(s)
	if !s.opts.Stats {
		sum.Verdicts = nil // the summary's Verdicts line says it
	}
	for _, part := range sum.countTables(true) {
		if len(part.counts) == 0 || !s.opts.Stats && len(part.counts) == 1 && part.counts[0].Count == 1 {
			continue
		}
		b.WriteString("\n")
		writePlainTable(b, part.header(), part.rows(clean), w)
	}
	if m := sum.VersionMatrix; len(m) > 0 && (s.opts.Stats || len(m) > 1 || m[0].Count > 1) {
		header, rows := matrixTable(m)
		b.WriteString("\n")
		writePlainTable(b, header, rows, w)
	}
}

// writePlainTable writes a table without rules: the first column left
// aligned and cut to make the table fit w cells (0: no limit), the others
// right aligned.
func writePlainTable(b *bytes.Buffer, header []string, rows [][]string, w int) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = width(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], width(c))
		}
	}
	if w > 0 {
		total := 2 * (len(widths) - 1)
		for _, x := range widths {
			total += x
		}
		if over := total - w; over > 0 {
			widths[0] = max(widths[0]-over, 8)
		}
	}
	line := func(cells []string) {
		out := make([]string, len(cells))
		for i, c := range cells {
			if i == 0 {
				out[i] = pad(cutRight(c, widths[0]), widths[0])
			} else {
				out[i] = padLeft(c, widths[i])
			}
		}
		l := strings.TrimRight(strings.Join(out, "  "), " ")
		b.WriteString(cutRight(l, w) + "\n")
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}
