package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tlsdiag/tlsdiag/capture"
	"github.com/tlsdiag/tlsdiag/internal/prose"
	"github.com/tlsdiag/tlsdiag/pipeline"
)

// The mermaid format writes each connection as a Mermaid sequence diagram
// in a fenced ```mermaid block, under a Markdown heading naming the
// connection: pasted into a GitHub or GitLab issue, a merge request or a
// Markdown file, each block is drawn as a picture. The arrows are the
// ladder's (frame number, time since the capture's first frame, Wireshark's
// Info text), the failing step ends in a cross, and notes carry the
// verdict and the fix.
//
// Every text from the network goes through mermaidText, which leaves only
// letters, digits, spaces and punctuation Mermaid gives no meaning to;
// everything else becomes an entity code (#59; for ";"), which Mermaid
// draws as the character. A name cannot end a message (";", a line
// break), open a comment ("%%"), make an arrow ("-->>"), a directive or
// HTML.

var mermaidFormat = formatSpec{
	name:   FormatMermaid,
	doc:    "each connection as a Mermaid sequence diagram (for GitHub and GitLab issues)",
	frames: true,
	new:    func(*Stream) formatter { return mermaidFormatter{} },
}

type mermaidFormatter struct{}

func (mermaidFormatter) connection(s *Stream, r pipeline.Result) error {
	var b bytes.Buffer
	if s.n > 1 {
		b.WriteString("\n")
	}
	r, start := s.framesOf(r)
	c := r.Conn
	title := fmt.Sprintf("#%d %s → %s", s.n, c.Client, c.Server)
	if h := c.ShownClientHello(); h != nil && h.ServerName != "" {
		title += " SNI " + cleanName(h.ServerName)
	}
	if r.Source != "" {
		title += " (" + cleanName(r.Source) + ")"
	}
	b.WriteString("#### " + markdownCell(title) + "\n\n```mermaid\n")
	writeMermaid(&b, r, start)
	b.WriteString("```\n")
	_, err := s.w.Write(b.Bytes())
	return err
}

func (mermaidFormatter) close(s *Stream, sum Summary) error {
	var b bytes.Buffer
	if s.n > 0 {
		b.WriteString("\n")
	}
	b.WriteString("**Summary: " + markdownCell(summaryLine(sum)) + "**\n")
	for _, n := range sum.Notes {
		b.WriteString("\n- " + markdownCell(n))
	}
	if len(sum.Notes) > 0 {
		b.WriteString("\n")
	}
	_, err := s.w.Write(b.Bytes())
	return err
}

// mermaidNoteWidth is where a note's text is broken into lines: Mermaid
// draws a note one line wide however long it is.
const mermaidNoteWidth = 72

// writeMermaid writes r's connection as the body of a sequenceDiagram.
func writeMermaid(b *bytes.Buffer, r pipeline.Result, start time.Time) {
	c := r.Conn
	steps := ladderSteps(r)
	nano := start.Nanosecond()%1000 != 0
	for _, s := range steps {
		nano = nano || s.frame.Time.Nanosecond()%1000 != 0
	}
	b.WriteString("sequenceDiagram\n")
	b.WriteString("    participant C as " + mermaidAlias("client "+c.Client.String()) + "\n")
	b.WriteString("    participant S as " + mermaidAlias("server "+c.Server.String()) + "\n")
	if len(steps) == 0 {
		b.WriteString("    Note over C,S: " + mermaidText("no frames recorded") + "\n")
	}
	for _, s := range steps {
		if s.isRemark() {
			b.WriteString("    Note over C,S: " + mermaidText(clean(s.info)) + "\n")
			continue
		}
		from, to := "C", "S"
		if s.dir == capture.ServerToClient {
			from, to = "S", "C"
		}
		arrow, mark := "->>", ""
		switch s.mark {
		case markEvidence:
			mark = "• "
		case markFailing:
			arrow, mark = "-x", "✗ "
		}
		label := mark + strconv.FormatInt(s.frame.Number, 10) + " (" + relativeTime(s.frame.Time, start, nano) + " s) " + clean(s.info)
		b.WriteString("    " + from + arrow + to + ": " + mermaidText(label) + "\n")
	}
	v := r.Verdict
	mermaidNote(b, "verdict: "+string(v.Category)+": "+v.Summary)
	if len(v.Evidence) > 0 {
		mermaidNote(b, "evidence: "+frameList(v.Evidence))
	}
	if v.Fix != "" {
		mermaidNote(b, "fix: "+v.Fix)
	}
	for _, w := range v.Warnings {
		mermaidNote(b, "warning: "+w)
	}
}

// mermaidNote writes a note over both lifelines, its text broken into
// lines with <br/>, the one tag Mermaid reads in a note's text.
func mermaidNote(b *bytes.Buffer, text string) {
	lines := prose.Wrap(clean(text), mermaidNoteWidth)
	for i, l := range lines {
		lines[i] = mermaidText(l)
	}
	b.WriteString("    Note over C,S: " + strings.Join(lines, "<br/>") + "\n")
}

// mermaidText escapes s for a message or a note of a Mermaid sequence
// diagram: letters, digits, spaces, the ASCII punctuation below and every
// other printable character beyond ASCII stay, any other character
// becomes its entity code #N; (decimal), which Mermaid draws as the
// character. Mermaid ends a message at ";" or a line break, reads "#…;" as
// an entity, "%%" as a comment and "<…>" as HTML: none of ";", "#", "%",
// "<", ">", "&", a quote or a control character is left. Runs of spaces
// are one space, as Mermaid shows them.
func mermaidText(s string) string { return mermaidEscape(s, ".,:()[]/_=+'@?!*-") }

// mermaidAlias escapes s for a participant's alias, where Mermaid also
// reads "-", "+" and "," as its own (arrows, activation, a list).
func mermaidAlias(s string) string { return mermaidEscape(s, ".:()[]/_='@?!*") }

func mermaidEscape(s, keep string) string {
	var b strings.Builder
	space := true // no leading space
	for _, r := range s {
		switch {
		case r == ' ':
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(keep, r)):
			b.WriteRune(r)
		case r >= 0x80 && unicode.IsGraphic(r) && !unicode.IsSpace(r):
			b.WriteRune(r)
		default:
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		}
		space = false
	}
	return strings.TrimRight(b.String(), " ")
}
