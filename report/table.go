package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/tlsparse"
)

// Widths of the wrapped text in the table format.
const (
	summaryWidth = 44 // the Summary column
	detailWidth  = 76 // fix, warnings and summaries under the table
	detailIndent = "   "
)

var wideFormat = formatSpec{
	name:    FormatWide,
	summary: true,
	doc:     "the wide table: a row per connection with its cipher and whole summary, then details and the summary tables (live: a block per connection as it ends)",
	new: func(s *Stream) formatter {
		if s.whole {
			return &tableFormatter{}
		}
		return cardFormatter{}
	},
}

// tableFormatter keeps Write's rows until Close, which lays out the table.
type tableFormatter struct {
	rows    [][]string
	details blocks       // evidence, fix and warnings of the connections that need them
	scratch bytes.Buffer // one connection's details, reused
}

// cardFormatter is the table format of a Stream, which cannot align
// columns it has not seen yet: one block of lines per connection.
type cardFormatter struct{}

func (cardFormatter) connection(s *Stream, r pipeline.Result) error {
	var b bytes.Buffer
	writeCard(&b, s, r)
	_, err := s.w.Write(b.Bytes())
	return err
}

// close writes the summary alone: what an empty table writes.
func (cardFormatter) close(s *Stream, sum Summary) error { return new(tableFormatter).close(s, sum) }

func (t *tableFormatter) connection(s *Stream, r pipeline.Result) error {
	c := s.newConnection(r)
	row := []string{strconv.Itoa(s.n)}
	if s.multiSource {
		row = append(row, dash(cleanName(c.Source)))
	}
	row = append(row,
		c.Client+"\n→ "+c.Server,
		dash(cleanName(c.SNI)),
		dash(c.Version),
		dash(shortCipher(c.Cipher)),
		clean(c.Verdict.Category),
		strings.Join(prose.Wrap(clean(c.Verdict.Summary), summaryWidth), "\n"),
	)
	t.rows = append(t.rows, row)
	if needsDetails(r) {
		t.scratch.Reset()
		if len(t.details) > 0 {
			t.scratch.WriteString("\n")
		}
		fmt.Fprintf(&t.scratch, "#%d %s\n", s.n, clean(string(r.Verdict.Category)))
		writeDetails(&t.scratch, r)
		t.details.append(t.scratch.Bytes())
	}
	return nil
}

// close writes through a buffer of its own: the table of thousands of
// connections, built whole in memory, took more time growing that memory
// than laying the table out.
func (t *tableFormatter) close(s *Stream, sum Summary) error {
	w := bufio.NewWriterSize(s.w, blockSize)
	if len(t.rows) > 0 {
		header := []string{"#"}
		if s.multiSource {
			header = append(header, "File")
		}
		header = append(header, "Client → Server", "SNI", "Version", "Cipher", "Verdict", "Summary")
		align := make([]tw.Align, len(header))
		align[0] = tw.AlignRight
		if err := renderTable(w, header, t.rows, align); err != nil {
			return err
		}
		if len(t.details) > 0 {
			w.WriteString("\n")
			for _, d := range t.details {
				w.Write(d)
			}
		}
		w.WriteString("\n")
	}
	var b bytes.Buffer
	if err := writeTextSummary(&b, sum); err != nil {
		return err
	}
	w.Write(b.Bytes())
	return w.Flush() // the first error of any write
}

// needsDetails reports whether a connection gets evidence, fix and
// warnings printed under the table: every failed one, and ok ones with
// warnings.
func needsDetails(r pipeline.Result) bool {
	return r.Verdict.Failed() || len(r.Verdict.Warnings) > 0
}

// writeCard writes one connection as the streaming table format shows it.
func writeCard(b *bytes.Buffer, s *Stream, r pipeline.Result) {
	c := s.newConnection(r)
	fmt.Fprintf(b, "#%d %s → %s", s.n, c.Client, c.Server)
	if c.Source != "" {
		fmt.Fprintf(b, " (%s)", cleanName(c.Source))
	}
	if c.SNI != "" {
		fmt.Fprintf(b, "  SNI %s", cleanName(c.SNI))
	}
	if c.Version != "" {
		fmt.Fprintf(b, "  %s %s", c.Version, shortCipher(c.Cipher))
	}
	b.WriteString("\n")
	writeWrapped(b, detailIndent, string(r.Verdict.Category)+": ", r.Verdict.Summary)
	writeDetails(b, r)
	b.WriteString("\n")
}

// writeDetails writes the evidence, fix and warnings of a verdict.
func writeDetails(b *bytes.Buffer, r pipeline.Result) {
	for _, d := range detailsOf(r) {
		writeWrapped(b, detailIndent, d.label, d.text)
	}
}

// detail is one labelled line (before wrapping) of a connection's details.
type detail struct{ label, text string }

// detailsOf lists the details of a connection: evidence, fix, warnings,
// the client's fingerprints, what the key log did, and the start of the
// application data each side sent.
func detailsOf(r pipeline.Result) []detail {
	var out []detail
	v := r.Verdict
	if len(v.Evidence) > 0 {
		out = append(out, detail{"evidence: ", frameList(v.Evidence)})
	}
	if v.Fix != "" {
		out = append(out, detail{"fix: ", v.Fix})
	}
	for _, w := range v.Warnings {
		out = append(out, detail{"warning: ", w})
	}
	if p := r.Conn.ProxyHeader(); p != nil {
		out = append(out, detail{"proxy protocol: ", proxyHeaderText(p)})
	}
	if fp := r.Conn.Fingerprints(); fp.JA4 != "" {
		out = append(out, detail{"client: ", "JA4 " + fp.JA4 + ", JA3 " + fp.JA3})
	}
	c := r.Conn
	if c.Decryption != analysis.DecryptionNone && c.Decryption != analysis.DecryptionDecrypted {
		out = append(out, detail{"key log: ", c.Decryption.String() + ": " + c.DecryptionReason()})
	} else if c.DecryptionReason() != "" {
		out = append(out, detail{"key log: ", c.DecryptionReason()})
	}
	for _, d := range []capture.Direction{capture.ClientToServer, capture.ServerToClient} {
		if h := c.AppDataHead(d); len(h) > 0 {
			out = append(out, detail{d.String() + " sent: ", strconv.Quote(string(h))})
		}
	}
	return out
}

// proxyHeaderText says what a PROXY protocol header named: the table's
// client is whoever wrote it (a load balancer, or a client such as curl
// --haproxy-protocol), the original connection is in the header.
func proxyHeaderText(p *analysis.ProxyHeader) string {
	s := fmt.Sprintf("version %d header (frame %d): ", p.Version, p.Frame.Number)
	switch {
	case p.Source.IsValid():
		s += fmt.Sprintf("it names the original connection %s → %s", p.Source, p.Destination)
	case p.Local:
		s += "LOCAL, the load balancer's own connection (a health check), naming no client"
	default:
		s += "naming no client"
	}
	if p.Malformed != "" {
		s += "; malformed: " + p.Malformed
	}
	return s
}

// writeWrapped writes label and text (cleaned) wrapped to detailWidth,
// continuation lines aligned under the text.
func writeWrapped(b *bytes.Buffer, indent, label, text string) {
	for i, line := range prose.Wrap(clean(text), detailWidth-len(label)) {
		b.WriteString(indent)
		if i == 0 {
			b.WriteString(label)
		} else {
			spaces(b, len(label))
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// frameList names frames: "frame 6", "frames 6, 8".
func frameList(fs []int64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = strconv.FormatInt(f, 10)
	}
	if len(fs) == 1 {
		return "frame " + parts[0]
	}
	return "frames " + strings.Join(parts, ", ")
}

// writeTextSummary writes the summary as small tables.
func writeTextSummary(b *bytes.Buffer, sum Summary) error {
	fmt.Fprintf(b, "Summary: %s\n", summaryLine(sum))
	if sum.Connections > 0 {
		for _, part := range sum.countTables(true) {
			if len(part.counts) == 0 {
				continue
			}
			b.WriteString("\n")
			if err := renderTable(b, part.header(), part.rows(clean), []tw.Align{tw.AlignLeft, tw.AlignRight}); err != nil {
				return err
			}
		}
		if len(sum.VersionMatrix) > 0 {
			header, rows := matrixTable(sum.VersionMatrix)
			align := make([]tw.Align, len(header))
			for i := range align[1:] {
				align[1+i] = tw.AlignRight
			}
			b.WriteString("\n")
			if err := renderTable(b, header, rows, align); err != nil {
				return err
			}
		}
	}
	if len(sum.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range sum.Notes {
			writeWrapped(b, "", "note: ", n)
		}
	}
	return nil
}

// countTable is one of the summary's tables of counts.
type countTable struct {
	title  string
	counts []Count
}

// countTables returns the summary's tables of counts in the order the
// text formats show them; the failures by JA4 last, when withJA4.
func (sum Summary) countTables(withJA4 bool) []countTable {
	t := []countTable{
		{"Verdict", sum.Verdicts},
		{"Version", sum.Versions},
		{"Cipher", sum.Ciphers},
	}
	if withJA4 {
		t = append(t, countTable{"Failed from JA4", sum.FailedByJA4})
	}
	return t
}

// header is the table's header row.
func (t countTable) header() []string { return []string{t.title, "Connections"} }

// rows are the table's rows, each name made safe by cell.
func (t countTable) rows(cell func(string) string) [][]string {
	rows := make([][]string, len(t.counts))
	for i, c := range t.counts {
		rows[i] = []string{cell(c.Name), strconv.Itoa(c.Count)}
	}
	return rows
}

// summaryLine is the one-line total: "6 connections, 4 failed".
func summaryLine(sum Summary) string {
	line := fmt.Sprintf("%s, %d failed", prose.Count(sum.Connections, "connection"), sum.Failed)
	if sum.NotJudged > 0 {
		line += fmt.Sprintf(", %d not judged (no handshake to read)", sum.NotJudged)
	}
	return line
}

// matrixTable lays the version matrix out as rows of offered ranges and
// columns of negotiated versions, both in the matrix's order.
func matrixTable(cells []MatrixCell) (header []string, rows [][]string) {
	var offered, negotiated []string
	index := func(list *[]string, s string) int {
		for i, x := range *list {
			if x == s {
				return i
			}
		}
		*list = append(*list, s)
		return len(*list) - 1
	}
	for _, c := range cells {
		index(&offered, c.Offered)
	}
	for _, n := range matrixColumns(cells) {
		index(&negotiated, n)
	}
	header = append([]string{"Offered \\ Negotiated"}, negotiated...)
	rows = make([][]string, len(offered))
	for i, o := range offered {
		rows[i] = make([]string, 1+len(negotiated))
		rows[i][0] = o
	}
	for _, c := range cells {
		rows[index(&offered, c.Offered)][1+index(&negotiated, c.Negotiated)] = strconv.Itoa(c.Count)
	}
	return header, rows
}

// matrixColumns orders the negotiated values of the matrix: known
// versions newest first, then any others as they appear, then rejected.
func matrixColumns(cells []MatrixCell) []string {
	seen := map[string]bool{}
	for _, c := range cells {
		seen[c.Negotiated] = true
	}
	var cols []string
	for _, v := range []tlsparse.Version{tlsparse.VersionTLS13, tlsparse.VersionTLS12, tlsparse.VersionTLS11, tlsparse.VersionTLS10, tlsparse.VersionSSL30, tlsparse.VersionSSL20} {
		if seen[v.String()] {
			cols = append(cols, v.String())
			delete(seen, v.String())
		}
	}
	for _, c := range cells {
		if seen[c.Negotiated] && c.Negotiated != Rejected {
			cols = append(cols, c.Negotiated)
			delete(seen, c.Negotiated)
		}
	}
	if seen[Rejected] {
		cols = append(cols, Rejected)
	}
	return cols
}

// renderTable draws a plain ASCII table: no colour, no box-drawing
// characters, headers as given and left-aligned, cells aligned as align
// says (left where it says nothing) and never rewrapped: cells are wrapped
// before, so the layout does not depend on tablewriter's heuristics.
func renderTable(w io.Writer, header []string, rows [][]string, align []tw.Align) error {
	for i, a := range align {
		if a == "" {
			align[i] = tw.AlignLeft
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: align}),
	)
	t.Header(header)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return fmt.Errorf("report: table row: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("report: rendering table: %w", err)
	}
	return nil
}

// shortCipher drops the "TLS_" that starts every IANA suite name, to keep
// the table narrow; the other formats keep the full name.
func shortCipher(name string) string {
	return strings.TrimPrefix(name, "TLS_")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
