package report

// The report of two captures aligned (read --vantage): pairs of records
// of the same connection and what changed or was lost between the two
// capture points. A document of its own, not a stream of connections, in
// the formats that can say it.

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tlsdiag/tlsdiag/analysis"
	"github.com/tlsdiag/tlsdiag/diagnose"
	"github.com/tlsdiag/tlsdiag/pipeline"
	"github.com/tlsdiag/tlsdiag/vantage"
)

// VantageFormats are the formats WriteVantage writes: table and wide as
// the same text.
var VantageFormats = []Format{FormatTable, FormatWide, FormatJSON, FormatMarkdown}

// VantageReport is two captures' results and their alignment.
type VantageReport struct {
	Names     [2]string
	Results   [2][]pipeline.Result
	Alignment vantage.Alignment
}

// WriteVantage writes r in format f, one of VantageFormats.
func WriteVantage(w io.Writer, f Format, r VantageReport) error {
	verdicts := map[*analysis.Connection]diagnose.Verdict{}
	for _, rs := range r.Results {
		for _, x := range rs {
			verdicts[x.Conn] = x.Verdict
		}
	}
	doc := vantageDoc(r, verdicts)
	switch f {
	case FormatJSON:
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(doc)
	case FormatMarkdown:
		return writeVantageMarkdown(w, doc)
	case FormatTable, FormatWide:
		return writeVantageText(w, doc)
	}
	return fmt.Errorf("report: --vantage writes %s, not %s", joinFormats(VantageFormats), f)
}

func joinFormats(fs []Format) string {
	var ss []string
	for _, f := range fs {
		ss = append(ss, string(f))
	}
	return strings.Join(ss, ", ")
}

// The JSON document; its field names are documented in README.md.
type vantageJSON struct {
	Captures        vantageCaptures `json:"captures"`
	ClientSide      string          `json:"client_side"`
	ClientSideBasis string          `json:"client_side_basis"`
	ClockOffsetMS   float64         `json:"clock_offset_ms"`
	Pairs           []vantagePair   `json:"pairs"`
}

type vantageCaptures struct {
	A string `json:"a"`
	B string `json:"b"`
}

type vantagePair struct {
	A           *vantageConn        `json:"a"`
	B           *vantageConn        `json:"b"`
	Match       string              `json:"match"`
	Differences []vantageDifference `json:"differences"`
}

type vantageConn struct {
	Connection int    `json:"connection"`
	Client     string `json:"client"`
	Server     string `json:"server"`
	SNI        string `json:"sni"`
	FirstFrame int64  `json:"first_frame"`
	LastFrame  int64  `json:"last_frame"`
	Verdict    string `json:"verdict"`
}

type vantageDifference struct {
	Kind    string  `json:"kind"`
	Summary string  `json:"summary"`
	AFrames []int64 `json:"a_frames"`
	BFrames []int64 `json:"b_frames"`
}

func vantageDoc(r VantageReport, verdicts map[*analysis.Connection]diagnose.Verdict) vantageJSON {
	al := r.Alignment
	doc := vantageJSON{
		Captures:        vantageCaptures{A: r.Names[0], B: r.Names[1]},
		ClientSide:      "a",
		ClientSideBasis: al.ClientSideBasis,
		ClockOffsetMS:   float64(al.Offset.Microseconds()) / 1000,
		Pairs:           []vantagePair{},
	}
	if al.ClientSideB {
		doc.ClientSide = "b"
	}
	conn := func(c *analysis.Connection, i int) *vantageConn {
		if c == nil {
			return nil
		}
		v := &vantageConn{Connection: i, Client: c.Client.String(), Server: c.Server.String(),
			FirstFrame: c.First.Number, LastFrame: c.Last.Number, Verdict: string(verdicts[c].Category)}
		if c.ClientHello != nil {
			v.SNI = c.ClientHello.ServerName
		}
		return v
	}
	for _, p := range al.Pairs {
		vp := vantagePair{A: conn(p.A, p.AIndex), B: conn(p.B, p.BIndex), Differences: []vantageDifference{}}
		if p.Match != 0 {
			vp.Match = p.Match.String()
		}
		for _, d := range p.Differences {
			vp.Differences = append(vp.Differences, vantageDifference{Kind: d.Kind.String(), Summary: d.Summary,
				AFrames: framesOrEmpty(d.AFrames), BFrames: framesOrEmpty(d.BFrames)})
		}
		doc.Pairs = append(doc.Pairs, vp)
	}
	return doc
}

// vantageCounts counts the pairs seen in both captures, in A only and in
// B only, and those with a difference.
func vantageCounts(doc vantageJSON) (both, onlyA, onlyB, differ int) {
	for _, p := range doc.Pairs {
		switch {
		case p.A != nil && p.B != nil:
			both++
		case p.A != nil:
			onlyA++
		default:
			onlyB++
		}
		if slices.ContainsFunc(p.Differences, func(d vantageDifference) bool { return d.Kind != vantage.NotSeen.String() }) {
			differ++
		}
	}
	return
}

func vantageHeader(doc vantageJSON) []string {
	near := map[bool]string{true: " (nearer the client)", false: ""}
	both, onlyA, onlyB, differ := vantageCounts(doc)
	return []string{
		fmt.Sprintf("A: %s%s", clean(doc.Captures.A), near[doc.ClientSide == "a"]),
		fmt.Sprintf("B: %s%s", clean(doc.Captures.B), near[doc.ClientSide == "b"]),
		"client side: " + doc.ClientSideBasis,
		fmt.Sprintf("clock: B reads %.3f ms later than A (median over the connections paired by addresses or hello)", doc.ClockOffsetMS),
		fmt.Sprintf("%d connections in both, %d only in A, %d only in B; %d with a difference", both, onlyA, onlyB, differ),
	}
}

func vantageConnText(side string, c *vantageConn) string {
	if c == nil {
		return side + " -"
	}
	sni := c.SNI
	if sni == "" {
		sni = "-"
	}
	return fmt.Sprintf("%s#%d %s → %s %s %s (frames %d-%d)", side, c.Connection, c.Client, c.Server, cleanName(sni), c.Verdict, c.FirstFrame, c.LastFrame)
}

func framesText(ns []int64) string {
	if len(ns) == 0 {
		return "-"
	}
	var ss []string
	for _, n := range ns {
		ss = append(ss, fmt.Sprint(n))
	}
	return strings.Join(ss, ", ")
}

func writeVantageText(w io.Writer, doc vantageJSON) error {
	var b strings.Builder
	for _, l := range vantageHeader(doc) {
		b.WriteString(l + "\n")
	}
	for i, p := range doc.Pairs {
		fmt.Fprintf(&b, "\n%d  %s\n   %s\n", i+1, vantageConnText("A", p.A), vantageConnText("B", p.B))
		if p.Match != "" {
			fmt.Fprintf(&b, "   matched: %s\n", p.Match)
		}
		if len(p.Differences) == 0 {
			b.WriteString("   no difference\n")
		}
		for _, d := range p.Differences {
			fmt.Fprintf(&b, "   %s: %s (A frames %s; B frames %s)\n", d.Kind, clean(d.Summary), framesText(d.AFrames), framesText(d.BFrames))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeVantageMarkdown(w io.Writer, doc vantageJSON) error {
	var b strings.Builder
	b.WriteString("# Two vantage points\n\n")
	for _, l := range vantageHeader(doc) {
		b.WriteString("- " + markdownCell(l) + "\n")
	}
	b.WriteString("\n| # | A | B | matched | differences |\n|---|---|---|---|---|\n")
	for i, p := range doc.Pairs {
		var ds []string
		for _, d := range p.Differences {
			ds = append(ds, fmt.Sprintf("`%s`: %s (A frames %s; B frames %s)", d.Kind, markdownCell(d.Summary), framesText(d.AFrames), framesText(d.BFrames)))
		}
		if len(ds) == 0 {
			ds = []string{"none"}
		}
		match := p.Match
		if match == "" {
			match = "-"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", i+1, markdownCell(vantageConnText("A", p.A)), markdownCell(vantageConnText("B", p.B)), match, strings.Join(ds, "<br>"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func framesOrEmpty(ns []int64) []int64 {
	if ns == nil {
		return []int64{}
	}
	return ns
}
