package report

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/tlsdiag/tlsdiag/pipeline"
)

// Fitting text to a terminal's width. Widths are display cells, not bytes
// or runes: a CJK server name takes two cells a character. The condition
// is fixed (not read from the locale) so that the output is the same
// everywhere.
var cells = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

const ellipsis = "…"

// width is the number of cells s takes: one a character when s is
// printable ASCII (most of what is written: measuring it through grapheme
// clusters was a tenth of the time the table format took).
func width(s string) int {
	for i := range len(s) {
		if s[i] < ' ' || s[i] > '~' {
			return cells.StringWidth(s)
		}
	}
	return len(s)
}

// cutRight cuts s to at most w cells, ending it with an ellipsis when it
// was cut. w ≤ 0 is no limit.
func cutRight(s string, w int) string {
	if w <= 0 || width(s) <= w {
		return s
	}
	return cells.Truncate(s, w, ellipsis)
}

// cutLeft cuts s to at most w cells from its start, beginning it with an
// ellipsis when it was cut: the end of an address (its port) stays.
func cutLeft(s string, w int) string {
	if w <= 0 || width(s) <= w {
		return s
	}
	if w == 1 {
		return ellipsis
	}
	rs := []rune(s)
	n := 0
	i := len(rs)
	for i > 0 && n+cells.RuneWidth(rs[i-1]) <= w-1 {
		i--
		n += cells.RuneWidth(rs[i])
	}
	return ellipsis + string(rs[i:])
}

// pad fills s with spaces to w cells.
func pad(s string, w int) string {
	if n := width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// padLeft fills s with spaces on the left to w cells.
func padLeft(s string, w int) string {
	if n := width(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return s
}

// wrapFit breaks text into lines of at most w cells at spaces; unlike
// prose.Wrap, a word longer than w is broken too, so no line passes w.
// w ≤ 0 is no limit: the text is one line, its runs of spaces one space.
func wrapFit(text string, w int) []string {
	if w <= 0 {
		return []string{oneLine(text)}
	}
	// The lines are written one after the other into all, then cut out
	// of it: building each line word by word made a string per word.
	all := make([]byte, 0, len(text))
	var ends []int    // where each line ends in all
	start, lw := 0, 0 // where the line being written starts, and its cells
	for word := range strings.FieldsSeq(text) {
		ww := width(word)
		if lw > 0 && lw+1+ww <= w {
			all = append(append(all, ' '), word...)
			lw += 1 + ww
			continue
		}
		if lw > 0 {
			ends = append(ends, len(all))
			start = len(all)
		}
		// A line that takes no cells (words of zero-width characters
		// only) gives way to this word.
		all = all[:start]
		for ww > w { // a word wider than the line: break it
			head := cells.Truncate(word, w, "")
			if head == "" { // one character wider than the line
				_, n := utf8.DecodeRuneInString(word)
				head = word[:n]
			}
			all = append(all, head...)
			ends = append(ends, len(all))
			start = len(all)
			word = word[len(head):]
			ww = width(word)
		}
		all = append(all, word...)
		lw = ww
	}
	ends = append(ends, len(all))
	text = string(all)
	lines := make([]string, len(ends))
	start = 0
	for i, end := range ends {
		lines[i] = text[start:end]
		start = end
	}
	return lines
}

// oneLine is the words of text joined by one space; text itself when it
// is that already, as nearly every summary and fix is.
func oneLine(text string) string {
	for i := 0; i < len(text); {
		c, n := rune(text[i]), 1
		if c >= utf8.RuneSelf {
			c, n = utf8.DecodeRuneInString(text[i:])
		}
		if c == ' ' && (i == 0 || i == len(text)-1 || text[i+1] == ' ') || c != ' ' && unicode.IsSpace(c) {
			return strings.Join(strings.Fields(text), " ")
		}
		i += n
	}
	return text
}

// tone is how a verdict is coloured on a terminal.
type tone int

const (
	toneOK   tone = iota // green: the handshake worked, nothing to say
	toneWarn             // yellow: worked with warnings, or not judged
	toneFail             // red: failed
)

func toneOf(r pipeline.Result) tone {
	switch {
	case r.Verdict.Failed():
		return toneFail
	case r.Verdict.NotJudged || len(r.Verdict.Warnings) > 0:
		return toneWarn
	}
	return toneOK
}

// ANSI SGR sequences: foreground red, yellow, green, and reset.
var toneColor = [...]string{toneOK: "\x1b[32m", toneWarn: "\x1b[33m", toneFail: "\x1b[31m"}

const colorReset = "\x1b[0m"

// paint colours s, which is already escaped and fitted: colour is added
// after escaping (the network's own escapes never reach the terminal) and
// takes no cells.
func paint(s string, t tone, on bool) string {
	if !on || s == "" {
		return s
	}
	return toneColor[t] + s + colorReset
}
