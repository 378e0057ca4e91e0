package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tlsdiag/tlsdiag/capture"
)

// TestLadderArrowWidth draws arrows of every label length a diagram
// holds, both ways, with labels wrapped from long names and lists: every
// line must be exactly the diagram's width, start and end on a lifeline,
// point the right way, and keep every character of the label.
func TestLadderArrowWidth(t *testing.T) {
	for _, width := range []int{40, 61, 63} {
		d := ladderDiagram{width: width}
		labels := []string{
			"x",
			strings.Repeat("é", d.labelWidth()),
			strings.Repeat("a", 3*d.labelWidth()+5),
			"Server Hello, Certificate, Server Key Exchange, Server Hello Done, Certificate Request",
			"Alert (Level: Fatal, Description: Unknown CA)",
		}
		for _, label := range labels {
			lines := d.wrap(label)
			if got := strings.Join(lines, ""); strings.ReplaceAll(got, " ", "") != strings.ReplaceAll(label, " ", "") {
				t.Errorf("width %d: wrap(%q) lost characters: %q", width, label, lines)
			}
			for _, dir := range []capture.Direction{capture.ClientToServer, capture.ServerToClient} {
				for i, l := range lines {
					row := d.remark(l)
					if i == 0 {
						row = d.arrow(dir, l)
					}
					if n := utf8.RuneCountInString(row); n != width || row[0] != '|' || row[len(row)-1] != '|' {
						t.Errorf("width %d: row %q is %d wide", width, row, n)
					}
					if i == 0 && (dir == capture.ClientToServer) != strings.HasSuffix(row, "->|") {
						t.Errorf("width %d: arrow %q points the wrong way for %v", width, row, dir)
					}
				}
			}
		}
	}
	// Messages are kept whole on a line when they fit.
	d := ladderDiagram{width: 61}
	got := d.wrap("Server Hello, Certificate, Server Key Exchange, Server Hello Done")
	if want := []string{"Server Hello, Certificate, Server Key Exchange,", "Server Hello Done"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
}

// TestLadderColour: with Options.Color the failing step and the verdicts
// are coloured (red failed, green ok), without it there is no escape.
func TestLadderColour(t *testing.T) {
	rs := fixtures(t)
	var plain, colour strings.Builder
	if err := Write(&plain, FormatLadder, rs, Options{CaptureStart: captureStart}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&colour, FormatLadder, rs, Options{CaptureStart: captureStart, Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("the ladder has escapes without Color")
	}
	for _, want := range []string{"\x1b[31m✗\x1b[0m", "\x1b[31mverdict:\x1b[0m cert_expired", "\x1b[32mverdict:\x1b[0m ok"} {
		if !strings.Contains(colour.String(), want) {
			t.Errorf("the coloured ladder lacks %q", want)
		}
	}
}
