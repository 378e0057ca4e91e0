package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The ladder format draws each connection as a sequence diagram in plain
// text, the client's lifeline on the left and the server's on the right:
// one arrow per frame that carried TLS or a TCP event, with the frame
// number and the time since the capture's first frame (Wireshark's
// columns), labelled with Wireshark's Info column as the trace words it.
// The verdict's evidence frames are marked "•" and the failing step "✗";
// the verdict, evidence and fix follow the diagram. Every line fits
// ladderWidth columns.

var ladderFormat = formatSpec{
	name:   FormatLadder,
	doc:    "each connection as a client | server sequence diagram in text, then its verdict",
	frames: true,
	new:    func(s *Stream) formatter { return ladderFormatter{colour: ladderColour(s)} },
}

// ladderWidth is the width every line of the ladder fits in.
const ladderWidth = 80

// ladderColour says whether the ladder colours its marks and verdict:
// the terminal's colour setting (red failed, yellow warned or not judged,
// green ok, as the table).
func ladderColour(s *Stream) bool { return s.opts.Color }

type ladderFormatter struct {
	colour bool
}

func (f ladderFormatter) connection(s *Stream, r pipeline.Result) error {
	var b bytes.Buffer
	if s.n > 1 {
		b.WriteString("\n")
	}
	r, start := s.framesOf(r)
	f.write(&b, s.n, r, start)
	_, err := s.w.Write(b.Bytes())
	return err
}

func (ladderFormatter) close(s *Stream, sum Summary) error {
	return traceFormatter{}.close(s, sum)
}

// ANSI colours for the marks and the verdict line.
const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiReset  = "\x1b[0m"
)

func (f ladderFormatter) paint(colour, s string) string {
	if !f.colour || s == "" {
		return s
	}
	return colour + s + ansiReset
}

func (f ladderFormatter) write(b *bytes.Buffer, n int, r pipeline.Result, start time.Time) {
	c := r.Conn
	title := fmt.Sprintf("#%d %s → %s", n, c.Client, c.Server)
	if h := c.ShownClientHello(); h != nil && h.ServerName != "" {
		title += "  SNI " + cleanName(h.ServerName)
	}
	if r.Source != "" {
		title += "  (" + cleanName(r.Source) + ")"
	}
	if utf8.RuneCountInString(title) > ladderWidth {
		title = strings.Join(prose.Wrap(title, ladderWidth), "\n")
	}
	b.WriteString(title + "\n")

	steps := ladderSteps(r)
	nano := start.Nanosecond()%1000 != 0
	numWidth, timeWidth := len("frame"), len("time")
	for _, s := range steps {
		nano = nano || s.frame.Time.Nanosecond()%1000 != 0
	}
	for _, s := range steps {
		if !s.isRemark() {
			numWidth = max(numWidth, len(strconv.FormatInt(s.frame.Number, 10)))
			timeWidth = max(timeWidth, len(relativeTime(s.frame.Time, start, nano)))
		}
	}
	// "M " mark, frame, time, two spaces, then the two lifelines.
	lead := 2 + numWidth + 1 + timeWidth + 2
	d := ladderDiagram{width: ladderWidth - lead}
	blank := strings.Repeat(" ", lead)

	head := fmt.Sprintf("  %*s %*s  ", numWidth, "frame", timeWidth, "time")
	b.WriteString(head + d.ends("client", "server") + "\n")
	cl, sv := clean(c.Client.String()), clean(c.Server.String())
	if utf8.RuneCountInString(cl)+1+utf8.RuneCountInString(sv) <= d.width {
		b.WriteString(blank + d.ends(cl, sv) + "\n")
	} else {
		b.WriteString(blank + d.ends(cl, "") + "\n")
		b.WriteString(blank + d.ends("", sv) + "\n")
	}
	if len(steps) == 0 {
		b.WriteString(blank + d.remark("no frames recorded") + "\n")
	}
	for _, s := range steps {
		if s.isRemark() {
			for _, line := range d.wrap(clean(s.info)) {
				b.WriteString(blank + d.remark(line) + "\n")
			}
			continue
		}
		mark := "  "
		switch s.mark {
		case markEvidence:
			mark = f.paint(ansiYellow, "•") + " "
		case markFailing:
			mark = f.paint(ansiRed, "✗") + " "
		}
		lines := d.wrap(clean(s.info))
		arrow := d.arrow(s.dir, lines[0])
		if s.mark == markFailing {
			arrow = f.paint(ansiRed, arrow)
		}
		fmt.Fprintf(b, "%s%*d %*s  %s\n", mark, numWidth, s.frame.Number,
			timeWidth, relativeTime(s.frame.Time, start, nano), arrow)
		for _, line := range lines[1:] {
			b.WriteString(blank + d.remark(line) + "\n")
		}
	}
	if s := afterHandshake(c); s != "" {
		writeWrapped(b, detailIndent, "after the handshake: ", s)
	}
	v := r.Verdict
	verdict := "verdict: "
	switch {
	case v.Failed():
		verdict = f.paint(ansiRed, "verdict:") + " "
	case len(v.Warnings) > 0 || v.NotJudged:
		verdict = f.paint(ansiYellow, "verdict:") + " "
	default:
		verdict = f.paint(ansiGreen, "verdict:") + " "
	}
	// The label's escape sequences take no columns: wrap as if plain.
	var vb bytes.Buffer
	writeWrapped(&vb, detailIndent, "verdict: ", string(v.Category)+": "+v.Summary)
	b.WriteString(strings.Replace(vb.String(), "verdict: ", verdict, 1))
	writeDetails(b, r)
}

// ladderDiagram lays out the two lifelines, width columns from the
// client's "|" to the server's.
type ladderDiagram struct {
	width int
}

// labelWidth is the longest label an arrow holds: "|-- " and " -->|".
func (d ladderDiagram) labelWidth() int { return d.width - 8 }

// wrap breaks a label into lines an arrow holds: between the messages of
// a frame ("Server Hello, Certificate, …") when they fit, else between
// words, cutting a word longer than a line (a name, an address) where the
// line ends.
func (d ladderDiagram) wrap(s string) []string {
	w := d.labelWidth()
	var lines []string
	line := ""
	for _, part := range strings.SplitAfter(s, ", ") {
		switch {
		case line == "":
			line = part
		case utf8.RuneCountInString(strings.TrimSpace(line+part)) <= w:
			line += part
		default:
			lines = append(lines, strings.TrimSpace(line))
			line = part
		}
	}
	lines = append(lines, strings.TrimSpace(line))
	var out []string
	for _, l := range lines {
		if utf8.RuneCountInString(l) <= w {
			out = append(out, l)
			continue
		}
		for _, wl := range prose.Wrap(l, w) {
			for utf8.RuneCountInString(wl) > w {
				i := 0
				for n := 0; n < w; n++ {
					_, size := utf8.DecodeRuneInString(wl[i:])
					i += size
				}
				out = append(out, wl[:i])
				wl = wl[i:]
			}
			out = append(out, wl)
		}
	}
	return out
}

// ends writes left at the client's lifeline and right ending at the
// server's.
func (d ladderDiagram) ends(left, right string) string {
	gap := d.width - utf8.RuneCountInString(left) - utf8.RuneCountInString(right)
	return strings.TrimRight(left+strings.Repeat(" ", max(gap, 1))+right, " ")
}

// arrow draws the arrow of one frame from the side dir sent it, its
// label centred on the shaft.
func (d ladderDiagram) arrow(dir capture.Direction, label string) string {
	inner := d.width - 2
	n := utf8.RuneCountInString(label)
	shaft := inner - n - 2 // the spaces around the label
	left := shaft / 2
	right := shaft - left
	if dir == capture.ClientToServer {
		return "|" + strings.Repeat("-", left) + " " + label + " " + strings.Repeat("-", right-1) + ">|"
	}
	return "|<" + strings.Repeat("-", left-1) + " " + label + " " + strings.Repeat("-", right) + "|"
}

// remark writes text centred between the lifelines.
func (d ladderDiagram) remark(text string) string {
	inner := d.width - 2
	n := utf8.RuneCountInString(text)
	left := (inner - n) / 2
	return "|" + strings.Repeat(" ", left) + text + strings.Repeat(" ", inner-n-left) + "|"
}
