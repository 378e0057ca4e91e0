package report

import (
	"bytes"
	"fmt"
	"html"
	"slices"
	"strconv"
	"time"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The html format is one self-contained page: no request leaves it (its
// Content-Security-Policy forbids any), the styles, the script and the
// pictures (SVG) are inline. It opens with the summary and four charts
// (verdicts, versions, cipher suites, failures over time), then a table
// of the connections that sorts by any column and filters by text and
// verdict, then per connection its ladder as a picture, the verdict,
// evidence and fix, the certificate chain with each certificate's
// validity drawn against the capture's time, and the fingerprints.
//
// The page is written by pageWriter, whose printf escapes every string
// argument: text from the network lands only in element text and in
// double-quoted attribute values, where escaping &, <, >, " and ' is
// all it takes. No network text goes into a URL, a style or the script.
// (Not html/template: it finds fields and methods by reflection, and a
// program that can call a method by name keeps every exported method of
// every type it uses, which costs tlsdiag 2 MB of binary and 2 to 3 MiB
// of memory in every run, whatever the format.)

var htmlFormat = formatSpec{
	name:   FormatHTML,
	doc:    "one self-contained HTML page: charts, a sortable, filterable table, each connection's ladder and chain",
	frames: true,
	new:    func(*Stream) formatter { return &htmlFormatter{} },
}

// maxHTMLConnections bounds the connections the page holds: the page is
// kept until the end, to draw the charts above the table. The rest are
// counted in the summary and left out.
const maxHTMLConnections = 5000

type htmlFormatter struct {
	conns   []htmlConnection
	omitted int
	first   time.Time // the first connection's first frame
}

// htmlConnection is one connection as the page shows it.
type htmlConnection struct {
	N            int
	Connection   // the JSON view: names, versions, verdict
	Failed, Warn bool
	Status       string // ok, warning, failed, not judged
	Evidence     string
	Ladder       markup // the SVG, escaped while drawn
	Chain        []htmlCert
	At           time.Time // first frame
	StartText    string
	Fingerprints [][2]string
}

// htmlCert is a certificate of the chain, with its validity drawn as a
// bar: Left and Width in percent of the chain's span, Now where the
// capture's time falls.
type htmlCert struct {
	Certificate
	Left, Width, Now float64
	Valid            bool
}

func (f *htmlFormatter) connection(s *Stream, r pipeline.Result) error {
	if len(f.conns) >= maxHTMLConnections {
		f.omitted++
		return nil
	}
	if s.whole && !s.multiSource {
		r.Source = ""
	}
	start := s.opts.CaptureStart
	if !r.SourceStart.IsZero() {
		start = r.SourceStart
	}
	c := htmlView(NewConnection(r))
	v := r.Verdict
	hc := htmlConnection{
		N: s.n, Connection: c, Failed: v.Failed(), Warn: !v.Failed() && len(v.Warnings) > 0,
		At: r.Conn.First.Time, StartText: relativeTime(r.Conn.First.Time, start, false),
	}
	switch {
	case v.NotJudged:
		hc.Status = "not judged"
	case hc.Failed:
		hc.Status = "failed"
	case hc.Warn:
		hc.Status = "warning"
	default:
		hc.Status = "ok"
	}
	if len(v.Evidence) > 0 {
		hc.Evidence = frameList(v.Evidence)
	}
	for _, fp := range [][2]string{{"JA4", c.JA4}, {"JA4_r", c.JA4R}, {"JA3", c.JA3}, {"JA3S", c.JA3S}} {
		if fp[1] != "" {
			hc.Fingerprints = append(hc.Fingerprints, fp)
		}
	}
	hc.Chain = htmlChain(r, c.Certificates)
	var svg pageWriter
	ladderSVG(&svg, r, start)
	hc.Ladder = markup(svg.b.String())
	if f.first.IsZero() || hc.At.Before(f.first) {
		f.first = hc.At
	}
	f.conns = append(f.conns, hc)
	return nil
}

// htmlView cleans the text of c the page shows, as every human format
// does: pageWriter escapes markup, clean the rest (control and direction
// characters, 60 KB names).
func htmlView(c Connection) Connection {
	c.Source, c.SNI, c.Client, c.Server = cleanName(c.Source), cleanName(c.SNI), clean(c.Client), clean(c.Server)
	c.Version, c.Cipher = clean(c.Version), clean(c.Cipher)
	c.JA3, c.JA3S, c.JA4, c.JA4R = cleanName(c.JA3), cleanName(c.JA3S), cleanName(c.JA4), cleanName(c.JA4R)
	v := &c.Verdict
	v.Category, v.Summary, v.Fix = clean(v.Category), clean(v.Summary), clean(v.Fix)
	v.Warnings = slices.Clone(v.Warnings)
	for i, w := range v.Warnings {
		v.Warnings[i] = clean(w)
	}
	c.Certificates = slices.Clone(c.Certificates)
	for i := range c.Certificates {
		x := &c.Certificates[i]
		x.Subject, x.Issuer, x.ParseError = cleanName(x.Subject), cleanName(x.Issuer), clean(x.ParseError)
		x.NotBefore, x.NotAfter, x.SHA256 = clean(x.NotBefore), clean(x.NotAfter), clean(x.SHA256)
	}
	return c
}

// htmlChain places each certificate's validity on the span from the
// earliest NotBefore to the latest NotAfter of the chain.
func htmlChain(r pipeline.Result, certs []Certificate) []htmlCert {
	var out []htmlCert
	var lo, hi time.Time
	for _, c := range r.Conn.Certificates {
		if c.X509 == nil {
			continue
		}
		if lo.IsZero() || c.X509.NotBefore.Before(lo) {
			lo = c.X509.NotBefore
		}
		if c.X509.NotAfter.After(hi) {
			hi = c.X509.NotAfter
		}
	}
	now := r.Conn.First.Time
	if now.Before(lo) {
		lo = now
	}
	if now.After(hi) {
		hi = now
	}
	span := hi.Sub(lo).Seconds()
	pct := func(t time.Time) float64 {
		if span <= 0 {
			return 0
		}
		return float64(int(1000*t.Sub(lo).Seconds()/span)) / 10
	}
	for i, c := range r.Conn.Certificates {
		if i >= len(certs) {
			break
		}
		hc := htmlCert{Certificate: certs[i]}
		if x := c.X509; x != nil {
			hc.Left, hc.Width = pct(x.NotBefore), pct(x.NotAfter)-pct(x.NotBefore)
			hc.Now = pct(now)
			hc.Valid = !now.Before(x.NotBefore) && !now.After(x.NotAfter)
		}
		out = append(out, hc)
	}
	return out
}

func (f *htmlFormatter) close(s *Stream, sum Summary) error {
	if f.omitted > 0 {
		sum.Notes = append(sum.Notes, fmt.Sprintf("%s not shown on the page (it holds %d)", prose.Count(f.omitted, "connection"), maxHTMLConnections))
	}
	notes := make([]string, len(sum.Notes))
	for i, n := range sum.Notes {
		notes[i] = clean(n)
	}
	page := htmlPage{
		Summary: clean(summaryLine(sum)), Notes: notes, Conns: f.conns,
		Charts: []htmlChart{
			barChart("Verdicts", sum.Verdicts),
			barChart("Versions", sum.Versions),
			barChart("Cipher suites", sum.Ciphers),
			f.timeChart(),
		},
	}
	for _, v := range sum.Verdicts {
		page.Verdicts = append(page.Verdicts, clean(v.Name))
	}
	var w pageWriter
	w.page(page)
	_, err := s.w.Write(w.b.Bytes())
	return err
}

type htmlPage struct {
	Summary  string
	Notes    []string
	Charts   []htmlChart
	Verdicts []string
	Conns    []htmlConnection
}

// htmlChart is a bar chart: bars of Width percent, or, for the time
// chart, columns of Height percent.
type htmlChart struct {
	Title   string
	Bars    []htmlBar
	Columns bool
	Caption string
}

type htmlBar struct {
	Label       string
	Count, Fail int
	Size        float64 // percent of the largest
	Part        float64 // the failed share of the bar, in percent
}

// maxChartBars bounds a chart's bars; the rest are summed in one.
const maxChartBars = 10

func barChart(title string, counts []Count) htmlChart {
	ch := htmlChart{Title: title}
	most := 1
	for _, c := range counts {
		most = max(most, c.Count)
	}
	rest := 0
	for i, c := range counts {
		if i >= maxChartBars {
			rest += c.Count
			continue
		}
		ch.Bars = append(ch.Bars, htmlBar{Label: cleanName(c.Name), Count: c.Count, Size: percent(c.Count, most)})
	}
	if rest > 0 {
		ch.Bars = append(ch.Bars, htmlBar{Label: "others", Count: rest, Size: percent(min(rest, most), most)})
	}
	return ch
}

// timeChartColumns is the number of columns of the failures-over-time
// chart.
const timeChartColumns = 24

// timeChart counts the connections, and the failed ones, that began in
// each of timeChartColumns equal spans of the capture.
func (f *htmlFormatter) timeChart() htmlChart {
	ch := htmlChart{Title: "Failures over time", Columns: true}
	if len(f.conns) == 0 {
		return ch
	}
	last := f.first
	for _, c := range f.conns {
		if c.At.After(last) {
			last = c.At
		}
	}
	span := last.Sub(f.first)
	step := span/timeChartColumns + 1
	cols := make([]htmlBar, timeChartColumns)
	for _, c := range f.conns {
		i := min(int(c.At.Sub(f.first)/step), timeChartColumns-1)
		cols[i].Count++
		if c.Failed {
			cols[i].Fail++
		}
	}
	most := 1
	for _, c := range cols {
		most = max(most, c.Count)
	}
	for i := range cols {
		// The failed part is drawn inside its column: a share of it.
		cols[i].Size, cols[i].Part = percent(cols[i].Count, most), percent(cols[i].Fail, cols[i].Count)
		from := f.first.Add(time.Duration(i) * step).Sub(f.first)
		cols[i].Label = fmt.Sprintf("from %s s: %d connections, %d failed", strconv.FormatFloat(from.Seconds(), 'f', 3, 64), cols[i].Count, cols[i].Fail)
	}
	ch.Bars = cols
	ch.Caption = fmt.Sprintf("%s of capture in %d spans; red: failed", durationWords(span), timeChartColumns)
	return ch
}

func percent(n, of int) float64 { return float64(1000*n/max(of, 1)) / 10 }

// Ladder pictures: lifelines at ladderLeft and ladderRight, a row per step.
const (
	svgWidth    = 760
	ladderLeft  = 180
	ladderRight = 700
	rowHeight   = 30
)

// ladderSVG draws r's connection as an SVG sequence diagram.
func ladderSVG(w *pageWriter, r pipeline.Result, start time.Time) {
	steps := ladderSteps(r)
	nano := start.Nanosecond()%1000 != 0
	for _, s := range steps {
		nano = nano || s.frame.Time.Nanosecond()%1000 != 0
	}
	height := 50 + rowHeight*len(steps) // a row per step under the names
	const mid = (ladderLeft + ladderRight) / 2
	w.printf(`<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img">`+"\n", svgWidth, height, svgWidth, height)
	w.printf(`<text x="%d" y="16" text-anchor="middle" class="who">%s</text><text x="%d" dx="-4" y="16" text-anchor="end" class="who">%s</text>`+"\n",
		ladderLeft, clean("client "+r.Conn.Client.String()), svgWidth, clean("server "+r.Conn.Server.String()))
	w.printf(`<text x="8" y="36" class="col">frame</text><text x="60" y="36" class="col">time</text>` + "\n")
	w.printf(`<line x1="%d" y1="24" x2="%d" y2="%d" class="life"/><line x1="%d" y1="24" x2="%d" y2="%d" class="life"/>`+"\n",
		ladderLeft, ladderLeft, height, ladderRight, ladderRight, height)
	y := 50
	for _, s := range steps {
		label := clean(s.info)
		if s.isRemark() {
			w.printf(`<text x="%d" y="%d" text-anchor="middle" class="remark">%s</text>`+"\n", mid, y, label)
			y += rowHeight
			continue
		}
		x1, x2 := ladderLeft, ladderRight
		if s.dir == capture.ServerToClient {
			x1, x2 = ladderRight, ladderLeft
		}
		class := ""
		switch s.mark {
		case markEvidence:
			class = "evidence"
		case markFailing:
			class = "failing"
		}
		w.printf(`<g class="step %s"><text x="8" y="%d">%d</text><text x="60" y="%d">%s</text><text x="%d" y="%d" text-anchor="middle" class="label">%s</text><line x1="%d" y1="%d" x2="%d" y2="%d" marker-end="url(#arrow)"/></g>`+"\n",
			class, y, s.frame.Number, y, relativeTime(s.frame.Time, start, nano), mid, y, label, x1, y+6, x2, y+6)
		y += rowHeight
	}
	w.printf(`</svg>`)
}

// markup is HTML this file wrote itself: pageWriter passes it on as it is.
type markup string

// pageWriter builds the page. Its printf escapes every string argument
// (and anything else but numbers and markup) for HTML text and quoted
// attribute values; the format is the page's own markup.
type pageWriter struct{ b bytes.Buffer }

func (w *pageWriter) printf(format string, args ...any) {
	for i, a := range args {
		switch v := a.(type) {
		case markup:
			args[i] = string(v)
		case int, int64, float64:
		case string:
			args[i] = html.EscapeString(v)
		default:
			args[i] = html.EscapeString(fmt.Sprint(v))
		}
	}
	fmt.Fprintf(&w.b, format, args...)
}

// pct is a share in percent, for a CSS length.
func pct(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + "%" }

// page writes the whole page.
func (w *pageWriter) page(p htmlPage) {
	w.b.WriteString(htmlHead)
	w.printf(`<p id="summary">%s</p>`+"\n", p.Summary)
	if len(p.Notes) > 0 {
		w.printf(`<ul class="notes">`)
		for _, n := range p.Notes {
			w.printf(`<li>%s</li>`, n)
		}
		w.printf(`</ul>`)
	}
	w.printf("\n" + `<div class="charts">` + "\n")
	for _, ch := range p.Charts {
		w.chart(ch)
	}
	w.printf(`</div>` + "\n" + `<h2>Connections</h2>` + "\n")
	w.printf(`<div class="controls"><input id="filter" type="search" placeholder="filter: address, SNI, verdict…" aria-label="filter"><select id="verdict" aria-label="verdict"><option value="">every verdict</option>`)
	for _, v := range p.Verdicts {
		w.printf(`<option>%s</option>`, v)
	}
	w.printf(`</select><span id="shown"></span></div>` + "\n" + htmlTableHead)
	for _, c := range p.Conns {
		w.printf(`<tr class="%s" data-verdict="%s"><td><a href="#c%d">%d</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="verdict">%s</td><td>%s</td><td>%s</td></tr>`+"\n",
			c.Status, c.Verdict.Category, c.N, c.N, c.Client, c.Server, c.SNI, c.Version, c.Cipher, c.Verdict.Category, c.Verdict.Summary, c.StartText)
	}
	w.printf(`</tbody>` + "\n" + `</table>` + "\n" + `<h2>Each connection</h2>` + "\n")
	for _, c := range p.Conns {
		w.connection(c)
	}
	w.printf("\n")
	w.b.WriteString(htmlTail)
}

func (w *pageWriter) chart(ch htmlChart) {
	w.printf(`<div class="chart"><h3>%s</h3>`+"\n", ch.Title)
	switch {
	case ch.Columns:
		w.printf(`<div class="cols">`)
		for _, b := range ch.Bars {
			w.printf(`<div class="col" style="height:%s" title="%s"><div class="part" style="height:%s"></div></div>`, pct(b.Size), b.Label, pct(b.Part))
		}
		w.printf(`</div><div class="caption">%s</div>`+"\n", ch.Caption)
	case len(ch.Bars) == 0:
		w.printf(`<div class="caption">none</div>`)
	default:
		for _, b := range ch.Bars {
			w.printf(`<div class="bar"><span class="name" title="%s">%s</span><span class="track"><div class="fill" style="width:%s"></div></span><span>%d</span></div>`, b.Label, b.Label, pct(b.Size), b.Count)
		}
	}
	w.printf("\n" + `</div>` + "\n")
}

// connection writes the section of one connection: its ladder, verdict,
// evidence, fix, fingerprints and chain.
func (w *pageWriter) connection(c htmlConnection) {
	open := ""
	if c.Failed {
		open = " open"
	}
	sni := ""
	if c.SNI != "" {
		sni = " SNI " + c.SNI
	}
	w.printf(`<details id="c%d" class="%s"%s>`+"\n"+`<summary>#%d %s → %s%s: %s</summary>`+"\n", c.N, c.Status, markup(open), c.N, c.Client, c.Server, sni, c.Verdict.Category)
	w.printf("%s\n<dl>\n", c.Ladder)
	w.printf(`<dt>verdict</dt><dd>%s: %s</dd>`+"\n", c.Verdict.Category, c.Verdict.Summary)
	// An optional line that is absent leaves an empty line.
	w.item("evidence", c.Evidence)
	w.printf("\n")
	w.item("fix", c.Verdict.Fix)
	w.printf("\n")
	for _, warn := range c.Verdict.Warnings {
		w.item("warning", warn)
	}
	w.printf("\n")
	w.item("file", c.Source)
	w.printf("\n")
	if c.Version != "" {
		w.printf(`<dt>negotiated</dt><dd>%s %s</dd>`, c.Version, c.Cipher)
	}
	w.printf("\n")
	for _, fp := range c.Fingerprints {
		w.printf(`<dt>%s</dt><dd><code>%s</code></dd>`, fp[0], fp[1])
	}
	w.printf("\n</dl>\n")
	if len(c.Chain) > 0 {
		w.printf(`<h3>Certificate chain</h3>` + "\n")
		for i, x := range c.Chain {
			w.cert(i, x)
		}
	}
	w.printf(`</details>` + "\n")
}

// item writes a term of the connection's list, if it has a value.
func (w *pageWriter) item(term, value string) {
	if value != "" {
		w.printf(`<dt>%s</dt><dd>%s</dd>`, term, value)
	}
}

func (w *pageWriter) cert(i int, x htmlCert) {
	w.printf(`<div class="cert"><div><b>%d</b> %s`, i, x.Subject)
	if x.Issuer != "" {
		w.printf(` <span class="notes">issued by %s</span>`, x.Issuer)
	}
	w.printf(`</div>` + "\n")
	if x.NotAfter != "" {
		bad, invalid := markup(""), markup("")
		if !x.Valid {
			bad, invalid = " bad", ": not valid at the capture's time"
		}
		w.printf(`<div class="validity" title="valid %s to %s"><div class="span%s" style="left:%s;width:%s"></div><div class="now" style="left:%s" title="capture"></div></div>`+"\n",
			x.NotBefore, x.NotAfter, bad, pct(x.Left), pct(x.Width), pct(x.Now))
		w.printf(`<div class="notes">valid %s to %s%s`, x.NotBefore, x.NotAfter, invalid)
		if x.SHA256 != "" {
			w.printf(`; SHA-256 <code>%s</code>`, x.SHA256)
		}
		w.printf(`</div>`)
	}
	w.printf("\n")
	if x.ParseError != "" {
		w.printf(`<div class="notes">unreadable: %s</div>`, x.ParseError)
	}
	w.printf(`</div>` + "\n")
}

const htmlTableHead = `<table id="connections">
<thead><tr><th data-type="number">#</th><th>Client</th><th>Server</th><th>SNI</th><th>Version</th><th>Cipher</th><th>Verdict</th><th>Summary</th><th data-type="number">Start (s)</th></tr></thead>
<tbody>
`

// htmlHead is the page up to its title: styles, no network text.
const htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tlsdiag report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.2em 0 .4em}
.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;width:330px}
.chart h3{font-size:1em;margin:0 0 .4em}.bar{display:flex;align-items:center;gap:.4em;font-size:12px;margin:2px 0}
.bar .name{width:150px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bar .track{flex:1;background:#f1f1f1;height:12px}
.bar .fill{background:#4a7bd0;height:12px}.cols{display:flex;align-items:flex-end;height:110px;gap:2px}
.col{flex:1;background:#4a7bd0;position:relative;min-height:1px}.col .part{position:absolute;bottom:0;left:0;right:0;background:#c62828}
.caption{font-size:11px;color:#666}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e4e4e4;padding:4px 6px;text-align:left;vertical-align:top}
td:nth-child(6){overflow-wrap:anywhere;min-width:10em}td:nth-child(8){min-width:18em}
th{cursor:pointer;background:#fafafa;user-select:none}th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
tr.failed td.verdict{color:#c62828;font-weight:600}tr.warning td.verdict{color:#b26a00;font-weight:600}tr.ok td.verdict{color:#2e7d32}
.controls{margin:.5em 0;display:flex;gap:.6em;align-items:center}input,select{font:inherit;padding:2px 4px}
details{border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.4em .8em}summary{cursor:pointer;font-weight:600}
details.failed summary{color:#c62828}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 1em;margin:.5em 0}dt{color:#555}dd{margin:0}
svg.ladder{max-width:100%;height:auto;font:12px ui-monospace,monospace}svg.ladder .who{font-weight:600}svg.ladder .col{fill:#777}
svg.ladder .life{stroke:#999;stroke-dasharray:4 3}svg.ladder .step line{stroke:#333;stroke-width:1.4}
svg.ladder .evidence text,svg.ladder .evidence line{fill:#b26a00;stroke:#b26a00}svg.ladder .evidence text{stroke:none}
svg.ladder .failing text{fill:#c62828;font-weight:700}svg.ladder .failing line{stroke:#c62828;stroke-width:2.4}svg.ladder .remark{fill:#777;font-style:italic}
.validity{position:relative;height:10px;background:#f1f1f1;margin:3px 0 6px;width:100%;max-width:520px}.validity .span{position:absolute;top:0;bottom:0;background:#66bb6a}
.validity .span.bad{background:#e57373}.validity .now{position:absolute;top:-3px;bottom:-3px;width:2px;background:#222}
code{font:12px ui-monospace,monospace;word-break:break-all}.notes{color:#555}
</style>
</head>
<body>
<h1>tlsdiag report</h1>
`

// htmlTail ends the page: the arrow the ladders use, and the script that
// filters and sorts the table.
const htmlTail = `<svg width="0" height="0" style="position:absolute"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs></svg>
<script>
(function () {
  "use strict";
  var table = document.getElementById("connections");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById("filter");
  var verdict = document.getElementById("verdict");
  var shown = document.getElementById("shown");
  function apply() {
    var text = filter.value.trim().toLowerCase();
    var want = verdict.value;
    var n = 0;
    rows.forEach(function (r) {
      var ok = (!want || r.getAttribute("data-verdict") === want) && (!text || r.textContent.toLowerCase().indexOf(text) >= 0);
      r.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = n + " of " + rows.length + " shown";
  }
  filter.addEventListener("input", apply);
  verdict.addEventListener("change", apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    th.addEventListener("click", function () {
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      var number = th.getAttribute("data-type") === "number";
      rows.sort(function (a, b) {
        var x = a.cells[col].textContent, y = b.cells[col].textContent;
        var c = number ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return dir * (c || parseFloat(a.cells[0].textContent) - parseFloat(b.cells[0].textContent));
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  apply();
}());
</script>
</body>
</html>
`
